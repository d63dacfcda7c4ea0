// A rule's admin settings checked against the target kind at load (README "Rules"): for a
// goto target, a manager's `privileges` must be GoTo system roles (io/goto/goto_roles.h; stored
// canonical, upper case), `role_set` names a custom role, `managed_groups` is refused (GoTo has
// no public API for a manager's groups: they are scoped in a custom role), and a manager needs
// privileges or a role set, not both (GoTo's scripts treat them as exclusive). For other
// targets `role_set` is refused. Errors name file:line:col through `section`. Thread-compatible.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "core/rules.h"
#include "io/config/internal/toml_section.h"

namespace usersync::io::internal {

// REQUIRES: `rule` was read from `section`'s table (admin, privileges, managed_groups, role_set).
absl::Status CheckRuleRoles(const Section& section, bool goto_target, core::Rule* rule);

// The role sets `rules` name, sorted, each once.
std::vector<std::string> RoleSetNames(const std::vector<core::Rule>& rules);

}  // namespace usersync::io::internal
