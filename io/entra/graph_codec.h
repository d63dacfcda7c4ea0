// Microsoft Graph v1.0 collection pages (io/entra/GRAPH_SHAPES.md): the JSON of one page of
// /users, /groups, /groups/{id}/members and /servicePrincipals/{id}/appRoleAssignedTo, decoded
// into plain values. No HTTP, no configuration: the entra source (entra_directory.h) fetches
// the pages and maps the objects onto core::DirectoryBuilder.
//
// Thread-safety: every function is thread-safe (simdjson's per-thread parser, json_util.h).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace usersync::io {

// A member of a group's "members@delta" (delta queries, GRAPH_SHAPES.md [delta-groups]): its
// id and @odata.type; `removed` when it carries "@removed" (it left the group).
struct GraphMemberDelta {
  std::string id;
  std::string odata_type;
  bool removed = false;
};

// One object of a collection: its scalar properties as text, in the order the page gave them.
// A string is its value, a boolean "true" / "false", a number its digits, null "". Arrays and
// objects (e.g. businessPhones) are not kept, except the delta query's: "@removed" (the object
// is gone: `removed`, with its "reason") and a group's "members@delta". "@odata.type" is a
// property like the others.
struct GraphObject {
  std::vector<std::pair<std::string, std::string>> properties;
  bool removed = false;
  std::string removed_reason;  // "changed" (soft-deleted) or "deleted"
  bool has_members_delta = false;
  std::vector<GraphMemberDelta> members_delta;
  // The value of property `name` (ASCII case-insensitive), or "" when absent.
  std::string_view Get(std::string_view name) const;
  // Whether the property is present (even when null).
  bool Has(std::string_view name) const;
};

struct GraphPage {
  std::vector<GraphObject> objects;  // "value"
  std::string next_link;             // "@odata.nextLink", "" on the last page
  std::string delta_link;            // "@odata.deltaLink" (a delta query's last page), or ""
};

// Longest page accepted, objects counted: Graph's $top maximum is 999.
inline constexpr size_t kMaxGraphPageObjects = 5000;

// Decodes one page: a JSON object with a "value" array of objects and an optional
// "@odata.nextLink" string. Errors (kDataLoss, naming `what` and where): not JSON, no "value",
// an element that is not an object, more than kMaxGraphPageObjects objects. A Graph error
// answer ({"error":{"code":..,"message":..}}) is kDataLoss naming the error code.
absl::StatusOr<GraphPage> DecodeGraphPage(const std::string& body, std::string_view what);

// The kind of a directory object as @odata.type names it ("#microsoft.graph.user" → kUser).
enum class GraphObjectKind { kUser, kGroup, kOther };
GraphObjectKind KindOfODataType(std::string_view odata_type);

// appRoleAssignment.principalType ("User", "Group", "ServicePrincipal") → the same kinds.
GraphObjectKind KindOfPrincipalType(std::string_view principal_type);

}  // namespace usersync::io
