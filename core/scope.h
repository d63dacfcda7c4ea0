// Scope: which directory users usersync keeps accounts for (DESIGN.md [scope], README "Scope").
//
// A user is selected by any of three assignments (a union):
//   - scope.groups: a member of a scoped group, directly or nested (GroupClosure);
//   - scope.users:  named directly, by DN or by directory id ("assign a single user");
//   - scope.filter: an RFC 4515 filter on users, evaluated here on the directory snapshot (never
//     sent to an LDAP server), against the fixed user columns under their configured attribute
//     names and the extra attributes the source read. The snapshot holds one value of each
//     attribute (the first), so a multi-valued attribute is seen by its first value only.
// With none of the three configured every user is selected. A selected user is in scope unless
// disabled in the directory; with scope.require_rule, a user in scope that no rule covers is
// left out too (LeaveOutUncovered), and remembered so the plan can show why.
//
// Example: groups = [cn=staff], users = ["uid=eve,ou=people,..."], filter = "(title=Contractor)":
// ann (in cn=staff), eve (named) and carl (title Contractor) are selected; dan (none of these)
// is not; eve disabled in the directory is selected and out of scope.
//
// Pure; thread-compatible. Cost: one closure walk, one DN/id look-up per scope.users entry and
// one filter evaluation per user (O(users * filter nodes)).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/directory.h"
#include "core/group_closure.h"
#include "core/ldap_filter.h"
#include "core/rules.h"

namespace usersync::core {

// The directory attribute behind each fixed user column (source.attributes), so that a filter
// naming "mail" reads the email column. An empty name reads nothing.
struct UserColumnNames {
  std::string id{};
  std::string user_name{};
  std::string email{};
  std::string first_name{};
  std::string last_name{};
  std::string display_name{};
  std::string language{};

  // Whether one of the names is `attribute` (ASCII case-insensitively).
  bool Holds(std::string_view attribute) const;
};

// scope.filter, parsed when the configuration loads.
struct ScopeFilter {
  std::string text;  // as configured, for explain and messages
  LdapFilter filter;
  // Attributes the filter names that are not among these are read from the directory's extra
  // columns (Directory::extra_names, ASCII case-insensitively); one in neither is absent.
  UserColumnNames columns;
};

// Why a user is selected: a bit set (a user may be selected several ways).
inline constexpr uint8_t kSelectedByEveryone = 1;  // no assignment is configured
inline constexpr uint8_t kSelectedByGroup = 2;     // scope.groups
inline constexpr uint8_t kSelectedByUser = 4;      // scope.users
inline constexpr uint8_t kSelectedByFilter = 8;    // scope.filter

struct ScopeResult {
  std::vector<uint8_t> in_scope;     // per user: 1 = selected, enabled (and covered, see below)
  std::vector<uint8_t> selected_by;  // per user: kSelectedBy* bits; 0 = not selected
  // Per user: 1 = selected and enabled but left out by scope.require_rule (LeaveOutUncovered).
  // Empty until LeaveOutUncovered runs.
  std::vector<uint8_t> no_rule;
  ClosureResult groups;  // the scoped groups' closure; empty when scope.groups is
  // scope.groups / scope.users entries the directory does not hold, as configured.
  std::vector<std::string> missing_groups;
  std::vector<std::string> missing_users;
};

// The reason a user left out by scope.require_rule shows on the users page and in explain.
inline constexpr std::string_view kNoRuleReason = "no rule covers this user (scope.require_rule)";

// Selects the users in scope. `users` holds DNs (compared as DNs, NormalizeDn) or directory ids
// (exact); a DN is tried first. `filter` may be null (no scope.filter).
ScopeResult ComputeScope(const Directory& dir, std::span<const std::string> groups,
                         std::span<const std::string> users, const ScopeFilter* filter);

// scope.require_rule: every user in scope whose rule_of_user is kNoRule leaves the scope and is
// marked in `scope.no_rule`. REQUIRES: `rules` was assigned on the same directory.
void LeaveOutUncovered(const RuleAssignment& rules, ScopeResult& scope);

// Every attribute `filter` names, once each (ASCII case-insensitively), in first-seen order.
std::vector<std::string> FilterAttributes(const LdapFilter& filter);

}  // namespace usersync::core
