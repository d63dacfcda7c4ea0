// The target emulator's SCIM 2.0 codec (RFC 7643 resources, RFC 7644 filters and PatchOp):
// decoding request bodies (as JsonValue trees) into store records and changes, and rendering
// store views as SCIM JSON. Pure functions over their arguments; thread-safe.
//
// SCIM errors travel as absl::Status whose code is the policy (InvalidArgument → 400,
// NotFound → 404, AlreadyExists → 409, FailedPrecondition → 412) and whose payload carries the
// RFC 7644 §3.12 scimType ("invalidValue", "invalidPath", "invalidFilter", "invalidSyntax",
// "mutability", "noTarget", "uniqueness"); see ScimError / ScimTypeOf.
//
// Seats: a create, PUT or PATCH that would need a seat of a product with none free (the
// store's NoSeatError: an entitlement added, or a user holding one reactivated) is answered
// 409 with no scimType and a detail that starts with "NO_SEAT: ", e.g. "NO_SEAT: no free seat
// for product G2W (3 of 3 in use)"; a user name conflict is 409 with scimType "uniqueness".
// Nothing changes. SCIM creates send no welcome email (only the GoTo face does).
//
// usersync's extension schema (io/scim_extension.h, URN
// "urn:usersync:params:scim:schemas:extension:goto:2.0:User"): a User's "privileges",
// "managedGroups", "deviceGroups" (arrays of strings), "settingsTemplate" and "welcomeTemplate"
// (strings) are stored as the store's RuleSettings (bounded there: more than 100 values, or a
// value over 256 bytes → 400) and returned in the URN's object, the URN then in "schemas"
// (left out when none is set). PATCH reaches them by "<URN>:<attribute>", by the URN alone
// (an object value; remove clears all) and by a path-less value holding the URN's object; an
// attribute it does not define → 400 invalidPath. Other extensions' attributes are ignored.
// The extension's privileges are kept apart from the GoTo face's adminRoles (a face shortcut).
// No /Schemas or /ResourceTypes endpoint is served.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "io/json_writer.h"
#include "tools/target/emulator_json.h"
#include "tools/target/emulator_store.h"

namespace usersync::io::emulator {

inline constexpr std::string_view kScimUserSchema = "urn:ietf:params:scim:schemas:core:2.0:User";
inline constexpr std::string_view kScimGroupSchema = "urn:ietf:params:scim:schemas:core:2.0:Group";
inline constexpr std::string_view kScimListSchema =
    "urn:ietf:params:scim:api:messages:2.0:ListResponse";
inline constexpr std::string_view kScimErrorSchema = "urn:ietf:params:scim:api:messages:2.0:Error";
inline constexpr std::string_view kScimPatchSchema =
    "urn:ietf:params:scim:api:messages:2.0:PatchOp";
inline constexpr std::string_view kScimServiceProviderConfigSchema =
    "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";

// ---- Errors ----

// A Status with `code`, message `detail` and the scimType `scim_type` ("" for none).
absl::Status ScimError(absl::StatusCode code, std::string_view scim_type, std::string_view detail);
// The scimType carried by `status`; for AlreadyExists without one, "uniqueness"; else "".
std::string ScimTypeOf(const absl::Status& status);
// The HTTP status a SCIM server answers `status` with (OK → 200, a NoSeatError → 409, unknown
// codes → 500).
int HttpStatusOf(const absl::Status& status);
// The RFC 7644 §3.12 error body for `status`.
std::string ErrorBody(const absl::Status& status);
// The same from its parts (`scim_type` "" for none).
std::string ErrorBody(int http_status, std::string_view scim_type, std::string_view detail);

// ---- Versions (ETags) ----

// W/"3" for version 3.
std::string VersionTag(int64_t version);
// The version in an If-Match value (W/"3" or "3"); 0 for "*" or an empty value; -1 when it
// is no version this server issued (never matches).
int64_t ParseIfMatch(std::string_view value);

// ---- Filters ----

// `attribute eq "value"`, the one filter form the emulator serves (RFC 7644 §3.4.2.2).
struct ScimFilter {
  std::string attribute;  // lower-cased, schema URN stripped: "username", "name.givenname"
  std::string value;      // unescaped
};
// Parses `text`; anything else (other operators, and/or, unquoted values) is
// InvalidArgument with scimType invalidFilter.
absl::StatusOr<ScimFilter> ParseFilter(std::string_view text);

// The key that `attribute` (a ScimFilter's, lower-cased) names in `keys`, or nullopt when it
// names none: FilterKey<UserKey>(filter.attribute, {{"username", UserKey::kUserName}}).
template <typename Key>
std::optional<Key> FilterKey(std::string_view attribute,
                             std::initializer_list<std::pair<std::string_view, Key>> keys) {
  for (const auto& [name, key] : keys) {
    if (attribute == name) return key;
  }
  return std::nullopt;
}

// ---- Users ----

// Decodes a User resource (POST, PUT, seed lines). `keep_id`: take "id" (seed files); else it
// is ignored, like "meta" and "groups" (read-only). Unknown attributes are ignored. Errors:
// InvalidArgument/invalidValue (missing userName, a value of the wrong type).
absl::StatusOr<EmulatorUser> DecodeUser(const JsonValue& resource, bool keep_id);

// One operation of a PatchOp request (RFC 7644 §3.5.2), with its path parsed.
struct PatchPath {
  std::string attribute;             // lower-cased, schema URN stripped: "emails"
  bool enterprise = false;           // prefixed with the enterprise extension's URN
  std::string sub_attribute;         // lower-cased: "value"; empty when none
  std::optional<ScimFilter> filter;  // the [ ... ] value filter, if any
  std::string text;                  // the path as sent, for messages
  bool extension = false;            // under usersync's extension URN (io/scim_extension.h)
};
struct PatchOp {
  enum class Kind { kAdd, kReplace, kRemove };
  Kind kind = Kind::kAdd;
  std::optional<PatchPath> path;  // nullopt: no path (value is an object of attributes)
  std::optional<JsonValue> value;
};

// Decodes a PatchOp body. `resource_schema` (kScimUserSchema or kScimGroupSchema) is the URN
// a path may be prefixed with. Errors: invalidSyntax (no Operations array), invalidValue
// (unknown op, missing value), invalidPath (path syntax), invalidFilter, noTarget (remove
// without a path).
absl::StatusOr<std::vector<PatchOp>> DecodePatch(const JsonValue& body,
                                                 std::string_view resource_schema);

// Applies `ops` in order to `user` (a copy the store will install). Paths: userName,
// externalId, displayName, active, preferredLanguage, name, name.givenName, name.familyName,
// emails, emails[type eq "work"], emails[...].value, entitlements, entitlements[value eq "x"],
// roles, roles[value eq "x"]. Errors: invalidPath (unknown path), mutability (id, meta,
// groups), invalidValue (wrong type, removing userName or active), noTarget.
absl::Status ApplyUserPatch(const std::vector<PatchOp>& ops, EmulatorUser& user);

// Renders `view` as a SCIM User resource; `base_url` is ".../scim/v2". `with_groups`: the
// read-only "groups" attribute (RFC 7643 §4.1.2) when the user is in a group; false leaves it
// out, as servers that do not compute it do (SCIMMY; --no-user-groups).
void WriteUser(const UserView& view, std::string_view base_url, bool with_groups,
               JsonWriter* writer);

// ---- Groups ----

struct DecodedGroup {
  EmulatorGroup group;
  std::vector<std::string> member_ids;
};
// Decodes a Group resource (POST, PUT). Errors: invalidValue (missing displayName, members
// not an array of {"value": id}).
absl::StatusOr<DecodedGroup> DecodeGroup(const JsonValue& resource);

// Translates PatchOp operations on a Group (displayName, externalId, members,
// members[value eq "id"]) into a store change.
absl::StatusOr<GroupChange> GroupPatchToChange(const std::vector<PatchOp>& ops);

// Renders `view`; the members array only when `with_members`.
void WriteGroup(const GroupView& view, std::string_view base_url, bool with_members,
                JsonWriter* writer);

// ---- Misc ----

// Unix milliseconds as RFC 3339 UTC with milliseconds: "2024-05-01T12:00:00.123Z".
std::string FormatTimestamp(int64_t unix_ms);

}  // namespace usersync::io::emulator
