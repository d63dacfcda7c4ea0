// SCIM 2.0 (RFC 7643/7644) wire format for the "scim" target kind (DESIGN.md "SCIM mapping"):
// encoders that write request bodies with JsonWriter, and decoders that read responses with
// simdjson On-Demand into core types.
//
// Mapping: userName = normalized email, externalId = directory id, name.givenName/familyName,
// displayName, emails[0] {value, type "work", primary true}, active, preferredLanguage,
// products ↔ entitlements[].value, admin role ↔ roles[].value, user group ↔ membership of the
// SCIM Group with that displayName (read back from the user's groups[0].display);
// privileges, managed_groups, device_groups, settings_template (and, on create only, the
// welcome template) ↔ usersync's extension schema (io/scim_extension.h), in "schemas" and as
// its object when any is set, PATCHed by "<URN>:<attribute>" paths. A User without the
// extension object has those fields marked unreturned (core::Account::MarkUnreturned): a server
// that does not keep them is not asked for them again on every run.
//
// Encoders live in scim_codec.cc, decoders in scim_decode.cc (the only one of the two that
// compiles simdjson).
//
// Thread-safety: every function is thread-safe. Decoders use one simdjson parser per thread
// (thread_local, reused across calls). Cost: decoding is a single pass over the bytes; a body
// whose capacity holds simdjson's padding (HttpResponse bodies do) is parsed in place,
// otherwise it is copied once.
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

namespace usersync::io {

// --- Encoders (request bodies) ------------------------------------------------------------

// A full User resource for POST /Users and PUT /Users/{id}. entitlements and roles are always
// present (an empty array clears them on PUT); externalId, displayName, emails,
// preferredLanguage and the rule-settings extension (with its URN in "schemas") only when set.
std::string EncodeUser(const core::AccountSpec& spec);

// A PatchOp (RFC 7644 §3.5.2) with one "replace" operation per changed user attribute, its
// value taken from `spec` (the desired state); an attribute that becomes empty is "remove"d
// instead. "user_group" is not a user attribute in SCIM (it is group membership) and unknown
// fields are skipped. Returns "" when no change touches a user attribute.
std::string EncodePatch(const std::vector<core::Change>& changes, const core::AccountSpec& spec);

// A PatchOp that sets active to `active` (deactivate, reactivate).
std::string EncodeActivePatch(bool active);

// A Group resource for POST /Groups.
std::string EncodeGroup(std::string_view display_name);

// A PatchOp adding `user_id` to a group's members, or removing it (path
// `members[value eq "<id>"]`).
std::string EncodeGroupMembershipPatch(std::string_view user_id, bool add);

// FilterEq (a SCIM filter `attribute eq "value"`) and UrlEncode: io/http/http_util.h.

// A BulkRequest (RFC 7644 §3.7) creating one User per spec, in order: operation i is
// {"method": "POST", "path": "/Users", "bulkId": "<i>", "data": EncodeUser(*specs[i])}.
// failOnErrors is left out, so the server attempts every operation.
// REQUIRES: no null pointer in `specs`.
std::string EncodeBulkCreate(const std::vector<const core::AccountSpec*>& specs);

// --- Decoders (response bodies) -----------------------------------------------------------

// Appends the users of a ListResponse to `out` (strings copied into out->arena) and sets
// *total_results (0 when absent). Products are canonical (entitlement values sorted,
// de-duplicated, comma-joined), admin_role is the first roles[].value, user_group
// groups[0].display, version meta.version, email the primary emails[].value (else the first).
// Errors (kDataLoss: the target answered something that is not a ListResponse) name the field
// and the resource index, e.g. "Resources[3].emails[0].value: ...". On error, `out` may hold
// some of the page's users: discard it. Attribute names match case-insensitively (RFC 7643).
absl::Status DecodeListResponse(const std::string& body, core::Accounts* out,
                                int64_t* total_results);

// Appends one User resource (a POST/PUT/GET answer) to `out`.
absl::Status DecodeUser(const std::string& body, core::Accounts* out);

// What a server's /ServiceProviderConfig says it supports.
struct ScimServiceConfig {
  bool patch = true;
  bool bulk = false;
  int64_t bulk_max_operations = 0;
  int64_t bulk_max_payload_bytes = 0;
  bool filter = true;
  int64_t filter_max_results = 0;
  bool etag = false;
};
absl::StatusOr<ScimServiceConfig> DecodeServiceProviderConfig(const std::string& body);

struct ScimGroup {
  std::string id;
  std::string display_name;
  bool has_members = false;             // the resource carried "members" (even empty)
  std::vector<std::string> member_ids;  // members[].value, in the order given
};
// Appends the groups of a ListResponse of Groups, with their members when the answer holds
// them (a listing with excludedAttributes=members leaves member_ids empty).
absl::Status DecodeGroupList(const std::string& body, std::vector<ScimGroup>* out,
                             int64_t* total_results);
absl::StatusOr<ScimGroup> DecodeGroup(const std::string& body);

// One operation's answer in a BulkResponse.
struct ScimBulkResult {
  std::string bulk_id;
  int status = 0;        // the operation's HTTP status; 0 when absent or not a number
  std::string location;  // the created resource's URL, if given
  std::string id;        // response.id, else the last path segment of `location`, else ""
  std::string detail;    // "scimType: detail" of an error response (as ErrorDetail), else ""
};
// Reads the Operations of a BulkResponse, in the order given. status may be a number, a string
// ("201", as RFC 7644's examples write it) or an object {"code": ...}. Errors: kDataLoss (not
// a BulkResponse, with the field and index).
absl::StatusOr<std::vector<ScimBulkResult>> DecodeBulkResponse(const std::string& body);

// "scimType: detail" from a SCIM Error body (RFC 7644 §3.12), either part alone if the other
// is missing, "" when the body is not a SCIM error. At most 200 bytes.
std::string ErrorDetail(const std::string& body);

// When `body` is a SCIM Error (its top-level "schemas" holds
// "urn:ietf:params:scim:api:messages:2.0:Error"): what it says, e.g. "status 400,
// invalidValue: bad email" (at most 200 bytes of detail). nullopt otherwise. A body without the
// URN anywhere costs one substring search.
std::optional<std::string> ScimErrorIn(const std::string& body);

}  // namespace usersync::io
