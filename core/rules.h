// Group rules: which settings a user in scope gets (DESIGN.md [[rules]]).
//
// Rules are ordered by priority (1 = highest; ties keep configuration order). For single-valued
// settings the first rule whose group (nested) holds the user wins; device groups are merged
// across every matching rule. Pure and thread-compatible.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/directory.h"

namespace usersync::core {

enum class AdminRole { kNone, kFull, kManager };

std::string_view AdminRoleName(AdminRole role);  // "" for kNone, "full", "manager"

struct Rule {
  std::string name;
  int priority = 1000;
  std::string group;  // group DN
  std::vector<std::string> products;
  AdminRole admin = AdminRole::kNone;
  std::vector<std::string> privileges;      // manager only
  std::vector<std::string> managed_groups;  // manager only
  std::string role_set;                     // manager only: a custom role (GoTo role set)
  std::string language;
  std::string user_group;
  std::string welcome_template;
  // true: GoTo sends the users this rule creates no welcome email; unset: the target's
  // setting (PlanConfig::suppress_welcome) decides.
  std::optional<bool> suppress_welcome;
  std::string settings_template;
  std::vector<std::string> device_groups;
};

constexpr int32_t kNoRule = -1;

struct RuleAssignment {
  // Rules sorted by priority (stable); indices below refer to this order.
  std::vector<Rule> rules;
  // Per user: index of the winning rule, or kNoRule. Only meaningful for users in scope.
  std::vector<int32_t> rule_of_user;
  // Per rule: the group's index in the directory, or -1 when the group is not there.
  std::vector<int64_t> rule_group;
  // Per rule: the canonical product list ("G2M,G2W"), precomputed once.
  std::vector<std::string> canonical_products;
  // Rules whose group is missing from the directory (reported, not fatal).
  std::vector<std::string> missing_groups;
  // Per user: the device groups of every matching rule, merged (canonical list). Left empty
  // (size 0) when no rule names device groups.
  std::vector<std::string> merged_device_groups;
};

// Assigns rules to users. Cost: one nested-closure walk per rule, O(rules * (groups + edges)).
RuleAssignment AssignRules(const Directory& dir, std::vector<Rule> rules);

// Canonical form of a multi-valued setting: sorted, de-duplicated, comma-joined.
std::string CanonicalList(std::vector<std::string> values);

}  // namespace usersync::core
