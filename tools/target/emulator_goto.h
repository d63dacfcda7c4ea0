// GotoFace: the GoTo admin API shape of usersync-target, served under
// http://127.0.0.1:P/admin/rest/v1 on the same EmulatorStore as the SCIM face.
//
// Thread-safety: every method is thread-safe (the store is; counters are atomics; the outbox
// has its own lock). The face does not own the store, which must outlive it.
//
// Admission is the server's (EmulatorServer): every request under /admin/rest/v1 passes, in
// order, --latency-ms, the server-wide token bucket shared with SCIM (empty → 429 WITHOUT
// Retry-After, always, as GoTo documents it, whatever --no-retry-after says), --fail-rate
// (503), the bearer token (401), then GotoFace::Handle. Every error answers
//   {"errorCode": "CODE", "message": "text"}        Content-Type: application/json
// with extra members where noted. Codes: 400 INVALID_REQUEST / INVALID_FILTER, 401
// UNAUTHORIZED, 404 NOT_FOUND (unknown account key, user, path), 405 METHOD_NOT_ALLOWED,
// 409 USER_EXISTS / NO_SEAT / GROUP_EXISTS, 412 VERSION_MISMATCH, 429 TOO_MANY_REQUESTS,
// 500 INTERNAL, 503 SERVICE_UNAVAILABLE. Only the account --account-key (default "demo")
// exists: /accounts/{any other key}/... answers 404 NOT_FOUND.
//
// Where each shape comes from: io/goto/GOTO_SHAPES.md (sections of GOTO_API_RESEARCH.md).
// Attribute mappings ([[mappings]]) reach this face only as firstName, lastName and locale:
// the public material shows no other writable user field, so the face stores none (the
// attributes the SCIM face keeps for mappings, EmulatorUser::attributes, are not shown here).
//
// ---- The user object (every field always present) ----
//   {"key": "1b9d6bcd-...",            GoTo's field name ([DOC] §3a, [3P] §2c); the value is
//                                      an opaque string, the store's id (= the SCIM id; GoTo's
//                                      are decimal numbers: kept as before)
//    "email": "ann@example.com",       unique, compared case-insensitively (= SCIM userName)
//    "firstName": "Ann", "lastName": "Lee",
//    "locale": "en_US" | null,         (= SCIM preferredLanguage)
//    "licenseKeys": [7902142105473202101, ...],  JSON numbers; DERIVED from the products: for
//                                      each product, the license it resolves to (the one
//                                      carrying it with the fewest products, first listed on
//                                      a tie; emulator_licenses.h), in catalog order. A user
//                                      granted a multi-product license whose products also
//                                      have single-product licenses shows those instead
//                                      (the store keeps products, not grants: a face shortcut)
//    "products": ["G2M", "G2W"],       read-only, derived from the licenses (= SCIM
//                                      entitlements); ExclamationLabs' model has both fields
//                                      ([3P] §2d)
//    "adminRoles": ["SUPER_USER" | "MANAGE_USERS" | "MANAGE_SEATS" | "MANAGE_SETTINGS" |
//                   "MANAGE_GROUPS" | "RUN_REPORTS" | "MANAGE_ACCOUNT"],   GoTo's system roles
//                                      ([3P] §4a; io/goto/goto_roles.h), in the order given.
//                                      SCIM role "full" ↔ SUPER_USER; the others are stored
//                                      under their GoTo name (SCIM shows them as roles); other
//                                      SCIM roles ("manager") are not shown
//    "roleSets": [1001] | [],           the role set (custom role) the user holds, by id
//                                      (emulator_goto_rolesets.h; not on the SCIM face)
//    "status": "ACTIVE" | "SUSPENDED", (= SCIM active)
//    "groupKey": "..." | null, "userGroup": "Sales" | null,   the user's first group
//    "externalId": "dir-42" | null,    kept as given (usersync stores the directory id there)
//    "deviceGroups": ["Kiosks"],       a User Sync rule's device groups, in the order given,
//                                      each once (= the SCIM face's extension deviceGroups)
//    "settingsTemplate": "Std" | null, a User Sync rule's settings template. Both are NOT IN
//                                      GoTo's public material: usersync's own shapes until
//                                      confirmed on a real account (io/goto/GOTO_SHAPES.md);
//                                      at most 100 values / 256 bytes each (emulator_store.h)
//    "version": 3}                     +1 on every change (= the SCIM ETag's number)
// A GoTo write of "email" sets both the store's user name and its email.
//
// ---- Endpoints ({k} = the account key) ----
// GET  /me → 200 {"accountKey": k, "accounts": [{"key": k, "name": "usersync-target"}]}: the
//   accounts of the token's user ([DOC] §1a, with [3P] §1b's root accountKey); k is written
//   as given (a string). usersync check reads it.
// GET  /accounts/{k} → 200 {"accountKey": k, "name": "usersync-target"} (not documented by GoTo,
//   §1e; kept as before).
//
// GET  /accounts/{k}/users?pageSize=&offset=&filter=
//   → 200 {"results": [user...], "total": N}. Creation order; offset 0-based (default 0);
//   pageSize default 100, above 1000 → 1000, 0 → no results (just the total); a negative or
//   non-integer value → 400 INVALID_REQUEST. O(page). filter: `email eq "x"` (case-insensitive),
//   `key eq "x"` (or `userKey eq "x"`), `externalId eq "x"` (exact); anything else → 400
//   INVALID_FILTER. With a
//   filter, total counts the matches. A '+' in the raw filter (a space encoded the form way)
//   → 400 INVALID_FILTER: spaces must be %20 ([3P] GOTO_API_RESEARCH.md §2b; no official
//   source says so). Paging by offset/pageSize is GoTo's documented one ([DOC] §2a); the
//   envelope {"results", "total"} follows §2c without fromIndex/toIndex (kept as before).
//
// GET  /accounts/{k}/users/{key} → 200 user | 404 NOT_FOUND.
//
// POST /accounts/{k}/users   a batch create:
//   {"users": [{"email", "firstName", "lastName",            required, non-empty strings
//               "locale"?, "adminRoles"? (system roles, above),
//               "externalId"?, "userGroup"? (a group name: created on demand),
//               "welcomeTemplate"? (default "default"; also kept on the user, shown by the
//               SCIM face), "deviceGroups"? ([string]), "settingsTemplate"? (string | null)
//               (these three: usersync's own shapes, GOTO_SHAPES.md)}, ...],
//    "licenseKeys": [7902142105473202101, "7902142105473202103"]?   numbers or strings
//    "suppressEmail": false}                                  optional, default false
//   suppressEmail ([DOC] §3a: "controls whether a welcome email is sent") holds for EVERY
//   member of the batch, as licenseKeys do; a per-member flag is not documented and is ignored
//   like any unknown member field.
//   licenseKeys ([3P] §3b) apply to EVERY member of the batch: each gets the products of
//   those licenses (none: no products). 1 to 1000 users; unknown fields are ignored. A
//   malformed request (not JSON, no "users" array, 0 or more than 1000 users, a member missing
//   email/firstName/lastName, an email without '@', a field of the wrong type, an unknown
//   admin role, a member "products" field: GoTo has none, products come from licenseKeys, an
//   unknown license key: "licenseKeys[1]: no license K in this account") → 400
//   INVALID_REQUEST naming the member or key ("users[3].email: ..."), and NOTHING is created.
//   Otherwise each member is created or refused on its own, in request order (a member
//   refused does not stop the others; new users are ACTIVE). The HTTP status is kept as
//   before (201, or 409 if any member was refused; GoTo's is not documented). The answer is
//   GoTo's documented bare array ([DOC] GOTO_API_RESEARCH.md §3a), in request order:
//     created member                   {"key": k, "email": e}
//     email taken (case-insensitively, by user `existing`, possibly an earlier member of the
//     same batch)                      {"key": existing, "email": e}
//     no free seat (NO_SEAT)           nothing: the member is absent from the answer (it has
//                                      no key; what GoTo answers here is not documented)
//   so, as with GoTo, nothing tells a created user from an existing one.
//   With --goto-member-status (this face's own addition, not GoTo's: for tests that need the
//   details) every member has an entry carrying "status" and, when refused, a human-readable
//   "message":
//       {"key": k, "email": e, "status": "created"}
//       {"key": existing, "email": e, "status": "conflict", "errorCode": "USER_EXISTS"}
//       {"email": e, "status": "error", "errorCode": "NO_SEAT", "product": "G2W"}
//           (the first product of the member that has no free seat)
//   Each created member, unless suppressEmail is true, records one welcome email in the
//   outbox (below).
//
// PUT  /accounts/{k}/users/{key}   a partial update: the fields present are replaced,
//   the others kept: {"email"?, "firstName"?, "lastName"?, "locale"? (null clears),
//   "licenseKeys"? ([number|string]: the user's licenses become EXACTLY these, so its products
//   become theirs; replace, not add, is INFERRED: §5b open question 5; an unknown key → 400
//   naming licenseKeys[i]; "products" → 400: GoTo has no such field),
//   "adminRoles"? (replaced; [] clears; a name that is not a system role above, any case →
//   400 INVALID_REQUEST), "status"? ("ACTIVE" | "SUSPENDED"),
//   "userGroup"? (name: the user's only group from now on, created on demand; null: no group),
//   "externalId"? (null clears), "deviceGroups"? ([string]; [] or null clears),
//   "settingsTemplate"? (null clears)}. Optional header If-Match: "N" or W/"N" (the version).
//   → 200 with the updated user. Errors: 400 INVALID_REQUEST, 404 NOT_FOUND, 409 USER_EXISTS
//   (+ "userKey" of the holder: the new email is taken; error bodies kept as before), 409 NO_SEAT
//   (+ "product": the change adds a product with no free seat, or reactivates a user holding one),
//   412 VERSION_MISMATCH. A refused PUT changes nothing (usersync sends a PUT refused NO_SEAT
//   once more without licenseKeys, so its other fields apply; what GoTo answers a PUT lacking
//   a seat is not in the public material). Deprovisioning is "status": "SUSPENDED"
//   (suspended users keep their products but use no seats); GoTo users are never deleted.
//
// GET  /accounts/{k}/licenses → 200 GoTo's documented shape ([3P] §5a, the Admin reference's
//   sample fields; the others of that sample are not written):
//   {"results": [{"key": 7902142105473202101 (a JSON number), "description": "G2M",
//                 "type": "STANDARD", "enabled": true, "seats": N, "userCount": U,
//                 "products": ["G2M"]}, ...], "total": n}
//   in catalog order (emulator_licenses.h: default one unlimited license per G2M, G2T, G2W,
//   OPENVOICE, keys 7902142105473202101..104; --license KEY=PRODUCT[+PRODUCT...][:SEATS]
//   replaces it). An UNLIMITED license has no "seats" member (our representation: GoTo's is
//   not documented). userCount = active users holding a product that resolves to the license
//   (for a license of several products, the largest per-product count: the store counts
//   seats per product). "userKeys" is not written.
//
// GET  /accounts/{k}/rolesets, PUT /accounts/{k}/rolesets/{id}/users?filter=email eq "x",
// DELETE /accounts/{k}/users/rolesets?filter=email eq "x": role sets (custom roles), shapes
// and errors in emulator_goto_rolesets.h (--role-set ID=NAME; default 1001=Helpdesk,
// 1002=Sales managers). [3P] only (GOTO_API_RESEARCH.md §6); PUT is inferred.
//
// GET  /accounts/{k}/groups → 200 {"results": [{"groupKey", "name", "userCount"}...],
//   "total": N}, every group in creation order (no paging). A store group is a user group
//   (SCIM Groups show here too).
// POST /accounts/{k}/groups {"name": "Sales"} → 201 {"groupKey", "name", "userCount": 0};
//   the name taken (case-insensitively) → 409 GROUP_EXISTS + "groupKey" of the existing one.
//
// ---- Seats ---- (--seats PRODUCT=N sets the seats of the license PRODUCT resolves to; a
// license's seats become a per-product limit of each product resolving to it, which the store
// enforces on both faces, see emulator_store.h): a batch member or PUT that needs a seat that is
// not free is refused with NO_SEAT as above; SCIM answers 409 "NO_SEAT: ..." (emulator_scim.h).
//
// ---- Welcome email outbox ---- (test hook, not GoTo API)
// GET /_emulator/outbox (token required; not rate limited, not counted, no fault injection)
//   → 200 {"results": [{"email", "userKey", "template", "language", "time"}...]} in the order
//   sent: template = the member's welcomeTemplate or "default"; language = its locale or
//   "en_US"; time = RFC 3339 UTC with milliseconds. Only GoTo batch creates with
//   suppressEmail false send them; SCIM creates send none. In memory only (a restart with
//   --db starts an empty outbox).
//
// ---- Stats ---- /_emulator/stats adds: batch_creates (batch requests that passed
// validation), batch_members (their members), suspensions (GoTo PUTs turning an ACTIVE user
// SUSPENDED), seat_denials (creates/updates refused for NO_SEAT, both faces),
// welcome_emails, user_reads (GET /users/{key}), user_filters (GET /users with a filter: the
// look-ups a client makes one user at a time); GoTo creates/conflicts/updates/new groups also
// count in creates,
// create_conflicts, updates and group_creates.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "tools/target/emulator_licenses.h"
#include "tools/target/emulator_goto_rolesets.h"
#include "tools/target/emulator_store.h"

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace usersync::io::emulator {

inline constexpr std::string_view kGotoPrefix = "/admin/rest/v1";

// One welcome email the emulator would have sent.
struct OutboxEntry {
  std::string email;
  std::string user_key;
  std::string template_name;
  std::string language;
  int64_t time_ms = 0;  // Unix time, milliseconds
};

// What the GoTo face counted since it started.
struct GotoStats {
  int64_t creates = 0;           // users created by batch members
  int64_t create_conflicts = 0;  // members refused with USER_EXISTS
  int64_t updates = 0;           // successful PUTs
  int64_t batch_creates = 0;
  int64_t batch_members = 0;
  int64_t suspensions = 0;
  int64_t seat_denials = 0;
  int64_t welcome_emails = 0;
  int64_t group_creates = 0;  // POST /groups and groups created on demand
  int64_t user_reads = 0;     // GET /users/{key} (answered 200 or 404)
  int64_t user_filters = 0;   // GET /users with a filter (look-ups by email, key, externalId)
};

// {"errorCode": `error_code`, "message": `message`}.
std::string GotoErrorBody(std::string_view error_code, std::string_view message);

class GotoFace {
 public:
  // REQUIRES: `store` outlives the face.
  // `licenses`: the account's license catalog; `member_status`: batch create answers carry the
  // face's own per-entry status (see above); `role_sets`: --role-set (none: DefaultRoleSets()).
  GotoFace(EmulatorStore* store, std::string account_key, LicenseCatalog licenses = {},
           bool member_status = false, RoleSetList role_sets = {});

  GotoFace(const GotoFace&) = delete;
  GotoFace& operator=(const GotoFace&) = delete;

  // Serves one admitted request; `path` is the part after kGotoPrefix ("/accounts/demo/users").
  void Handle(std::string_view path, const httplib::Request& req, httplib::Response& res);

  GotoStats stats() const;
  // A copy of the outbox, in the order the emails were sent. O(entries).
  std::vector<OutboxEntry> outbox() const;
  // The outbox as the /_emulator/outbox JSON body.
  std::string OutboxJson() const;

 private:
  void ListUsers(const httplib::Request& req, httplib::Response& res);
  void CreateUsers(const httplib::Request& req, httplib::Response& res);
  void GetUser(std::string_view user_key, httplib::Response& res);
  void UpdateUser(std::string_view user_key, const httplib::Request& req, httplib::Response& res);
  void Licenses(httplib::Response& res);
  void Me(httplib::Response& res) const;
  void ListGroups(httplib::Response& res);
  void CreateGroup(const httplib::Request& req, httplib::Response& res);

  // The group named `name` (case-insensitively), created if missing.
  absl::StatusOr<GroupPtr> EnsureGroup(const std::string& name);
  // Makes `group` (null: none) the only group of user `user_id`.
  absl::Status SetUserGroup(const std::string& user_id, const GroupPtr& group);

  EmulatorStore* const store_;
  const std::string account_key_;
  const LicenseCatalog licenses_;
  const bool member_status_;
  GotoRoleSets role_sets_;

  std::atomic<int64_t> creates_{0};
  std::atomic<int64_t> create_conflicts_{0};
  std::atomic<int64_t> updates_{0};
  std::atomic<int64_t> batch_creates_{0};
  std::atomic<int64_t> batch_members_{0};
  std::atomic<int64_t> suspensions_{0};
  std::atomic<int64_t> seat_denials_{0};
  std::atomic<int64_t> group_creates_{0};
  std::atomic<int64_t> user_reads_{0};
  std::atomic<int64_t> user_filters_{0};

  mutable absl::Mutex outbox_mu_;
  std::vector<OutboxEntry> outbox_ ABSL_GUARDED_BY(outbox_mu_);
};

}  // namespace usersync::io::emulator
