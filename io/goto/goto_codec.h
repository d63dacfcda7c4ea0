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
//   directory id usersync writes) · version ↔ version (decimal text).
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
// (GOTO_API_RESEARCH.md §3a; licenseKeys §3b). A member holds email, firstName and lastName
// always; products, adminRoles, locale, externalId, userGroup and welcomeTemplate when set.
// `license_keys` are decimal texts of any length, written as JSON numbers (a key that is not
// all digits is written as a string); none: no "licenseKeys". REQUIRES: no null in `specs`.
std::string EncodeGotoCreateBatch(const std::vector<const core::AccountSpec*>& specs,
                                  bool suppress_email,
                                  const std::vector<std::string>& license_keys = {});

// A partial PUT body with one field per change that GoTo holds, its value taken from `spec`
// (the desired state): email/user_name → email, first_name, last_name, language → locale
// (null clears), products, admin_role and privileges → adminRoles (once), user_group →
// userGroup (null: no group), external_id → externalId (null clears), active → status.
// display_name, role_set (the driver's own requests) and unknown fields are skipped.
// `status`, when given, sets "status" whatever the changes say (reactivate: ACTIVE,
// deactivate: SUSPENDED). Returns "" when there is nothing to send.
std::string EncodeGotoUpdate(const std::vector<core::Change>& changes,
                             const core::AccountSpec& spec, std::optional<bool> active);

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

// GET /licenses → the products with a seat count: (product, free seats). GoTo's documented
// license {"key", "products": [...], "seats", "userCount"} gives each of its products
// seats - userCount (§5a); the older {"product", "free"} gives free, and is left out when free
// is null (unlimited). Errors: kDataLoss.
absl::StatusOr<FreeSeatList> DecodeGotoLicenses(const std::string& body);

// GET /me → the account keys the token's user belongs to, as text: the root "accountKey"
// first when present ([3P] GOTO_API_RESEARCH.md §1b), then each "accounts"[].key ([DOC] §1a),
// without repeats. Keys may be strings or numbers of any length. Errors: kDataLoss.
absl::StatusOr<std::vector<std::string>> DecodeGotoAccountKeys(const std::string& body);

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
