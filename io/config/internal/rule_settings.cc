#include "io/config/internal/rule_settings.h"

#include <algorithm>
#include <numeric>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace usersync::io::internal {
namespace {

// Where a rule's priority comes from: its `priority` key, else the [[rules]] table.
const toml::node* PriorityNode(const RuleSource& source) {
  if (source.priority_node != nullptr) return source.priority_node;
  return source.table;
}

// "rules[0] 'Staff' (priority = 2 at demo.toml:12)" or "... (no priority: its position, 3, at
// demo.toml:20)": which rule, and where its number comes from.
std::string Describe(const Ctx& ctx, const core::Rule& rule, size_t rule_idx,
                     const RuleSource& source) {
  const toml::node* where = PriorityNode(source);
  const std::string at = where != nullptr && where->source().begin.line > 0
                             ? absl::StrCat(" at ", ctx.origin(), ":", where->source().begin.line)
                             : std::string();
  const std::string origin =
      source.priority_node != nullptr
          ? absl::StrCat("priority = ", rule.priority)
          : absl::StrCat("no priority: its position in the file, ", rule.priority);
  return absl::StrCat("rules[", rule_idx, "] '", rule.name, "' (", origin, at, ")");
}

}  // namespace

absl::Status CheckRuleNameLists(const Section& section, core::Rule* rule) {
  for (const auto& [key, names] :
       {std::pair<std::string_view, std::vector<std::string>*>{"privileges", &rule->privileges},
        {"managed_groups", &rule->managed_groups},
        {"device_groups", &rule->device_groups}}) {
    for (std::string& name : *names) {
      absl::StripAsciiWhitespace(&name);
      if (name.empty()) return section.ValueError(key, "holds an empty name");
      if (name.find(',') != std::string::npos) {
        return section.ValueError(
            key, absl::StrCat("holds \"", name,
                              "\", which has a comma: give each name as its own string"));
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<bool>> ReadSuppressWelcome(const Section& section, bool goto_target) {
  if (!section.Has("suppress_welcome")) return std::nullopt;
  bool value = false;
  USERSYNC_RETURN_IF_ERROR(section.Bool("suppress_welcome", &value));
  if (!goto_target) {
    return section.ValueError(
        "suppress_welcome",
        "applies only to target.kind = \"goto\" (GoTo's batch create sends the welcome email "
        "unless told not to); usersync's SCIM face sends no welcome email, so there is nothing "
        "to suppress: remove the key (a SCIM server's own invitations are set at that server)");
  }
  return value;
}

int ImplicitPriority(size_t rule_idx) { return static_cast<int>(rule_idx) + 1; }

absl::Status CheckRulePriorities(const Ctx& ctx, const std::vector<core::Rule>& rules,
                                 const std::vector<RuleSource>& sources) {
  std::vector<size_t> order(rules.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return rules[a].priority < rules[b].priority; });
  for (size_t pos = 1; pos < order.size(); ++pos) {
    const size_t earlier = std::min(order[pos - 1], order[pos]);
    const size_t later = std::max(order[pos - 1], order[pos]);
    if (rules[earlier].priority != rules[later].priority) continue;
    const RuleSource& source = sources[later];
    return ctx.Error(
        PriorityNode(source),
        absl::StrCat("two rules have priority ", rules[later].priority, ": ",
                     Describe(ctx, rules[earlier], earlier, sources[earlier]), " and ",
                     Describe(ctx, rules[later], later, source),
                     ". Each rule needs its own priority (1 = highest); a rule without one "
                     "ranks as its position among the [[rules]] tables: give one of them "
                     "another priority"));
  }
  return absl::OkStatus();
}

}  // namespace usersync::io::internal
