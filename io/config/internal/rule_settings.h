// Two checks of the rules' configuration at load (README "Rules"), beside config.cc's parsers:
//
// - suppress_welcome (target.suppress_welcome and a rule's): a boolean, read only for a goto
//   target, whose batch create sends it as "suppressEmail". A SCIM target refuses the key with
//   a hint: usersync's SCIM face sends no welcome email, so there is nothing to suppress (what
//   a SCIM server sends of its own accord is that server's setting).
// - priorities: a rule without `priority` ranks as its 1-based position among the [[rules]]
//   tables (the third table ranks 3), and no two rules may share a priority, written or
//   implied: the refusal names both rules with their file:line.
//
// - the rule's lists of names (privileges, managed_groups, device_groups): each name is trimmed
//   and must be non-empty and hold no comma (usersync keeps a list as one comma-joined string,
//   "Kiosks,Laptops", to compare it with what the target holds).
//
// Errors are kInvalidArgument "<file>:<line>:<col>: ..." through `section` / `ctx`.
// Thread-compatible; no state.
#pragma once

#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/rules.h"
#include "io/config/internal/toml_section.h"

namespace usersync::io::internal {

// `section`'s suppress_welcome: nullopt when absent. Refused (with a hint) when present and
// `goto_target` is false; a non-boolean is a type error.
absl::StatusOr<std::optional<bool>> ReadSuppressWelcome(const Section& section, bool goto_target);

// Trims the names of `rule`'s privileges, managed_groups and device_groups and refuses an
// empty one or one holding a comma, naming the key. REQUIRES: `rule` was read from `section`.
absl::Status CheckRuleNameLists(const Section& section, core::Rule* rule);

// One rule as the file gave it, for CheckRulePriorities.
struct RuleSource {
  const toml::table* table = nullptr;         // the [[rules]] table (its line names the rule)
  const toml::node* priority_node = nullptr;  // nullptr: no `priority` key
};

// The priority a rule without one takes: its 1-based position among the [[rules]] tables.
int ImplicitPriority(size_t rule_idx);

// Refuses two rules with one priority, naming both (file:line). REQUIRES: `rules` and
// `sources` are parallel, in file order, and each rule's priority is already set (explicit or
// ImplicitPriority). Cost: O(n log n).
absl::Status CheckRulePriorities(const Ctx& ctx, const std::vector<core::Rule>& rules,
                                 const std::vector<RuleSource>& sources);

}  // namespace usersync::io::internal
