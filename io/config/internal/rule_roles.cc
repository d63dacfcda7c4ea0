#include "io/config/internal/rule_roles.h"

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "io/goto/goto_roles.h"

namespace usersync::io::internal {
namespace {

absl::Status CheckGotoManager(const Section& section, core::Rule* rule) {
  for (std::string& privilege : rule->privileges) {
    const std::optional<std::string_view> canonical = CanonicalGotoPrivilege(privilege);
    if (!canonical) {
      return section.ValueError(
          "privileges",
          absl::StrCat("holds \"", privilege, "\", which is not a GoTo system role; use one of ",
                       GotoPrivilegeList(), " (any case)"));
    }
    privilege = std::string(*canonical);
  }
  if (!rule->managed_groups.empty()) {
    return section.ValueError(
        "managed_groups",
        "cannot be set for target.kind = \"goto\": GoTo has no public API for a manager's "
        "groups; define a custom role (role set) in GoTo Admin that scopes them, and name it "
        "with role_set = \"NAME\"");
  }
  if (rule->privileges.empty() && rule->role_set.empty()) {
    return section.ValueError(
        "admin",
        absl::StrCat("= \"manager\" needs privileges (one or more of ", GotoPrivilegeList(),
                     ") or role_set = \"NAME\" (a custom role defined in GoTo Admin) "
                     "for target.kind = \"goto\""));
  }
  if (!rule->privileges.empty() && !rule->role_set.empty()) {
    return section.ValueError(
        "role_set",
        "cannot be combined with privileges for target.kind = \"goto\": a GoTo user holds "
        "either system roles or a custom role; give the custom role those permissions in GoTo "
        "Admin, or drop role_set");
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckRuleRoles(const Section& section, bool goto_target, core::Rule* rule) {
  if (!rule->role_set.empty() && !goto_target) {
    return section.ValueError("role_set",
                              "applies only to target.kind = \"goto\" (GoTo's custom roles, "
                              "called role sets); remove it for this target");
  }
  if (!rule->role_set.empty() && rule->admin != core::AdminRole::kManager) {
    return section.ValueError("role_set", "applies only to admin = \"manager\"");
  }
  if (goto_target && rule->admin == core::AdminRole::kManager) {
    return CheckGotoManager(section, rule);
  }
  return absl::OkStatus();
}

std::vector<std::string> RoleSetNames(const std::vector<core::Rule>& rules) {
  std::vector<std::string> names;
  for (const core::Rule& rule : rules) {
    if (!rule.role_set.empty()) names.push_back(rule.role_set);
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

}  // namespace usersync::io::internal
