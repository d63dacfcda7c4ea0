// The GoTo admin API wire format for the "goto" target kind (DESIGN.md "Target kinds";
// the emulator's tools/target/emulator_goto.h documents the same shapes): encoders that write
// request bodies with JsonWriter, decoders that read answers with simdjson On-Demand into core
// types.
//
// Mapping (GoTo user ↔ core::Account / core::AccountSpec):
//   key (older emulator answers: userKey; a JSON number of any length or a string, kept as its
//   decimal text) ↔ id · email ↔ email and user_name (GoTo has no separate user name) · firstName,
//   lastName ↔ first_name, last_name · locale ↔ language · products[] ↔ products (canonical:
//   sorted, de-duplicated, comma-joined) · adminRoles[] ↔ admin_role and privileges
//   (io/goto/goto_roles.h: SUPER_USER ↔ "full"; a manager's privileges ↔ its adminRoles; none
//   ↔ []) · roleSets[] ids ↔ role_set (decoded as the ids, canonical list; the driver names
//   them; written by the driver's role-set requests, not by these bodies) · status
//   ACTIVE/SUSPENDED ↔ active · userGroup ↔ user_group · externalId ↔ external_id (the
//   directory id usersync writes) · version ↔ version (decimal text) · deviceGroups[] ↔
//   device_groups (canonical) and settingsTemplate ↔ settings_template: usersync's own shapes,
//   not in GoTo's public material (GOTO_SHAPES.md); a user without the key has the field
//   marked unreturned (core::Account::MarkUnreturned), so it is not compared.
//   GoTo holds no display name: decoded accounts carry "firstName lastName" there, which is
//   what a directory whose cn is "given sn" yields; a different display name is not written.
//
// Thread-safety: every function is thread-safe (decoders use one thread_local simdjson parser).
// Decoding is one pass; bodies with simdjson's padding in their capacity (HttpResponse bodies)
// are parsed in place.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/accounts.h"
#include "core/plan.h"
#include "io/http/http_util.h"
#include "io/target_api.h"

namespace usersync::io {

// --- Encoders -------------------------------------------------------------------------------

// The batch create body {"users": [member...], "licenseKeys"?: [key...], "suppressEmail": b}
// (GOTO_API_RESEARCH.md §3a; licenseKeys §3b: they apply to every member, so a batch holds
// members of one license set). A member holds email, firstName and lastName always;
// adminRoles, locale, externalId, userGroup, welcomeTemplate, deviceGroups and
// settingsTemplate when set; never products
// (GoTo has no member products field: products come from licenseKeys).
// `license_keys` are decimal texts of any length, written as JSON numbers (a key that is not
// all digits is written as a string); none: no "licenseKeys". REQUIRES: no null in `specs`.
std::string EncodeGotoCreateBatch(const std::vector<const core::AccountSpec*>& specs,
                                  bool suppress_email,
                                  const std::vector<std::string>& license_keys = {});

// A partial PUT body with one field per change that GoTo holds, its value taken from `spec`
// (the desired state): email/user_name → email, first_name, last_name, language → locale
// (null clears), products → licenseKeys (`license_keys`: the full resolved set for the desired
// products, GotoLicenseCatalog::KeysFor; written as JSON numbers; replace semantics are
// INFERRED, §5b), admin_role and privileges → adminRoles (once), user_group → userGroup
// (null: no group), device_groups → deviceGroups ([] clears), settings_template →
// settingsTemplate (null clears), external_id → externalId (null clears), active → status.
// display_name, role_set (the driver's own requests) and unknown fields are skipped. `status`, when
// given, sets "status" whatever the changes say (reactivate: ACTIVE, deactivate: SUSPENDED).
// Returns
// "" when there is nothing to send.
std::string EncodeGotoUpdate(const std::vector<core::Change>& changes,
                             const core::AccountSpec& spec, std::optional<bool> active,
                             const std::vector<std::string>& license_keys = {});

// `attribute eq "value"`, the value quoted as a JSON string (quotes and backslashes escaped).
// Not URL-encoded. The same filter syntax as SCIM's (io/http/http_util.h FilterEq).
inline std::string GotoFilterEq(std::string_view attribute, std::string_view value) {
  return FilterEq(attribute, value);
}

// The email GoTo holds for `spec`: its email, else its user name.
inline std::string_view GotoEmail(const core::AccountSpec& spec) {
  return spec.email.empty() ? spec.user_name : spec.email;
}

// "full" → "SUPER_USER", anything else → "" (a manager's adminRoles are its privileges).
std::string_view GotoAdminRole(std::string_view admin_role);

// --- Decoders -------------------------------------------------------------------------------

// Appends the users of a listing {"results": [user...], "total": N} to `out` (strings copied
// into out->arena) and sets *total (0 when absent). Errors: kDataLoss naming the field and
// index ("results[3].email: ..."); `out` may then hold part of the page: discard it.
absl::Status DecodeGotoUserList(const std::string& body, core::Accounts* out, int64_t* total);

// Appends one user object (GET /users/{userKey}, PUT answers) to `out`.
absl::Status DecodeGotoUser(const std::string& body, core::Accounts* out);

// One member's result in a batch create answer.
struct GotoMemberResult {
  // kListed: GoTo's documented answer, a bare array of {key, email} that holds created and
  // existing (conflicting) users alike, with nothing to tell them apart (GOTO_API_RESEARCH.md
  // §3a, open question 7). The others come from an object answer with a status per member.
  enum class Kind { kCreated, kConflict, kError, kListed, kUnknown };
  Kind kind = Kind::kUnknown;  // kUnknown: a status this driver does not know
  std::string email;
  std::string user_key;    // created: the new user; conflict: the existing holder of the email
  std::string error_code;  // "USER_EXISTS", "NO_SEAT", ...
  std::string product;     // NO_SEAT: the product without a free seat
  std::string message;
};
// The members of a batch answer: a bare array [{"key", "email"}...] (GoTo's documented shape:
// every entry kListed, keys of any length kept as their decimal text), or an object whose
// "results" carry a status each (201, or 409 when any member was refused), in order.
// Errors: kDataLoss (neither shape, or a malformed member).
absl::StatusOr<std::vector<GotoMemberResult>> DecodeGotoBatchResults(const std::string& body);

// One license of GET /licenses (GOTO_API_RESEARCH.md §5a).
struct GotoLicense {
  std::string key;  // decimal text of any length (a JSON number or string); "" in the older shape
  std::vector<std::string> products;  // the products it grants, all of them
  std::optional<int64_t> seats;       // nullopt: no seat count (unlimited)
  int64_t user_count = 0;
};

// The account's licenses, in listing order, and how a product resolves to one of them.
//
// Resolution rule: a product resolves to the license carrying it with the FEWEST products;
// ties go to the first in listing order. A multi-product license grants all its products
// (a Webinar license ["G2M","G2W"] also grants Meeting, §5a), so a user whose products are
// G2M and G2W, with licenses A ["G2M"] and B ["G2M","G2W"], gets keys A and B.
// [3P] EPI-USE resolves G2M to the single-product license likewise; the tie rule is ours.
struct GotoLicenseCatalog {
  std::vector<GotoLicense> licenses;

  // The license `product` resolves to, or nullptr (no license carries it).
  const GotoLicense* Resolve(std::string_view product) const;
  // The keys of the licenses the products of `products` (a canonical comma list, "G2M,G2W")
  // resolve to, each once, in listing order. Errors: kFailedPrecondition naming the first
  // product no license carries and the products the licenses do offer.
  absl::StatusOr<std::vector<std::string>> KeysFor(std::string_view products) const;
  // Every product some license carries, sorted, each once.
  std::vector<std::string> Products() const;
  // Free seats per product: seats - userCount of the license it resolves to (never below 0);
  // products whose license has no seat count are left out (unlimited). Listing order.
  FreeSeatList FreeSeats() const;
};

// GET /licenses → the catalog. GoTo's documented license {"key", "products": [...], "seats",
// "userCount", ...} (§5a; other fields skipped); the emulator's older {"product", "free"} is
// still read (a license of one product, free as its seats, no key). Errors: kDataLoss naming
// the field ("results[2].key: ...").
absl::StatusOr<GotoLicenseCatalog> DecodeGotoLicenseCatalog(const std::string& body);

// GET /licenses → the products with a seat count (DecodeGotoLicenseCatalog(body).FreeSeats()).
absl::StatusOr<FreeSeatList> DecodeGotoLicenses(const std::string& body);

// One account of GET /me: its key as text (a string or a number of any length) and its name
// ("" when absent; at most 200 bytes kept).
struct GotoAccountRef {
  std::string key;
  std::string name;
};
inline constexpr size_t kMaxMeAccounts = 10000;  // an answer listing more is refused
// GET /me → the accounts the token's user belongs to: the root "accountKey" first when present
// ([3P] GOTO_API_RESEARCH.md §1b; named when accounts[] lists it too), then each
// "accounts"[] entry ([DOC] §1a), without repeats. Errors: kDataLoss (no key at all, a
// malformed key, more than kMaxMeAccounts accounts).
absl::StatusOr<std::vector<GotoAccountRef>> DecodeGotoMe(const std::string& body);

// A GoTo error body {"errorCode", "message", "userKey"?, "product"?}; fields left empty when
// the body is not one.
struct GotoError {
  std::string code;
  std::string message;  // at most 200 bytes
  std::string user_key;
  std::string product;
};
GotoError DecodeGotoError(const std::string& body);

}  // namespace usersync::io
