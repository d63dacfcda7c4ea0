// GoTo role sets (custom roles) for GotoTarget: the listing GET /accounts/{k}/rolesets, a
// name ↔ id table, and the requests that assign or remove a user's role set
// (GOTO_API_RESEARCH.md §6, third-party only: GoTo Connect's PowerShell wizard):
//
//   GET    .../rolesets                            → {"results": [{"id", "name"}, ...]}
//   PUT    .../rolesets/{id}/users?filter=email%20eq%20%22EMAIL%22   body {}   (assign)
//   DELETE .../users/rolesets?filter=email%20eq%20%22EMAIL%22                  (remove)
//
// The method of the assign is PUT only because the script never changes its default; no
// source states it. Whether a user may hold system roles (adminRoles) and a role set at once
// is not documented: usersync refuses a rule that names both (io/config/internal/rule_roles.h)
// and, when a manager moves from privileges to a role set, clears adminRoles (the user PUT)
// before assigning the role set, as the script does. Assigning a role set to a user who holds
// another is assumed to replace it (not documented).
//
// Thread-safety: RoleSetTable is immutable once built; the functions are pure.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace usersync::io {

struct GotoRoleSet {
  std::string id;  // a JSON string or a number of any length, kept as text
  std::string name;
};

// The role sets of a GET /rolesets answer, in order. Errors: kDataLoss naming the field.
absl::StatusOr<std::vector<GotoRoleSet>> DecodeGotoRoleSets(const std::string& body);

class RoleSetTable {
 public:
  RoleSetTable() = default;
  explicit RoleSetTable(std::vector<GotoRoleSet> role_sets) : role_sets_(std::move(role_sets)) {}

  // The id of the role set named `name`, compared exactly (a name in another case would
  // differ from the listed one in every plan); "" when none.
  std::string_view IdOf(std::string_view name) const;
  // The name of role set `id`; `id` itself when the table has no such id.
  std::string_view NameOf(std::string_view id) const;
  // "Helpdesk, Sales managers" (for messages); "none" when empty.
  std::string Names() const;
  // A canonical list of ids ("12,77") as a canonical list of names.
  std::string NamesOf(std::string_view ids) const;

 private:
  std::vector<GotoRoleSet> role_sets_;
};

// "/rolesets/{id}/users?filter=email%20eq%20%22EMAIL%22" (assign) and
// "/users/rolesets?filter=..." (remove), relative to the account path.
std::string GotoAssignRoleSetPath(std::string_view id, std::string_view email);
std::string GotoRemoveRoleSetPath(std::string_view email);

}  // namespace usersync::io
