#include "core/rules.h"

#include <algorithm>

#include "core/group_closure.h"

namespace usersync::core {

std::string_view AdminRoleName(AdminRole role) {
  switch (role) {
    case AdminRole::kNone:
      return "";
    case AdminRole::kFull:
      return "full";
    case AdminRole::kManager:
      return "manager";
  }
  return "";
}

std::string CanonicalList(std::vector<std::string> values) {
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  std::string out;
  for (const std::string& value : values) {
    if (value.empty()) continue;
    if (!out.empty()) out.push_back(',');
    out.append(value);
  }
  return out;
}

RuleAssignment AssignRules(const Directory& dir, std::vector<Rule> rules) {
  RuleAssignment out;
  std::stable_sort(rules.begin(), rules.end(),
                   [](const Rule& a, const Rule& b) { return a.priority < b.priority; });
  out.rules = std::move(rules);
  out.rule_of_user.assign(dir.user_count(), kNoRule);
  out.rule_group.assign(out.rules.size(), -1);
  out.canonical_products.reserve(out.rules.size());

  const bool any_device_groups =
      std::any_of(out.rules.begin(), out.rules.end(),
                  [](const Rule& rule) { return !rule.device_groups.empty(); });
  std::vector<std::vector<std::string>> device_groups;
  if (any_device_groups) device_groups.resize(dir.user_count());

  for (size_t rule_idx = 0; rule_idx < out.rules.size(); ++rule_idx) {
    const Rule& rule = out.rules[rule_idx];
    out.canonical_products.push_back(CanonicalList(rule.products));
    std::optional<uint32_t> group = dir.FindGroupByDn(rule.group);
    if (!group) {
      out.missing_groups.push_back(rule.group);
      continue;
    }
    out.rule_group[rule_idx] = *group;
    const uint32_t root = *group;
    ClosureResult closure = GroupClosure(dir, std::span<const uint32_t>(&root, 1));
    for (size_t user_idx = 0; user_idx < dir.user_count(); ++user_idx) {
      if (!closure.user_in[user_idx]) continue;
      if (out.rule_of_user[user_idx] == kNoRule) {
        out.rule_of_user[user_idx] = static_cast<int32_t>(rule_idx);
      }
      if (any_device_groups) {
        auto& merged = device_groups[user_idx];
        merged.insert(merged.end(), rule.device_groups.begin(), rule.device_groups.end());
      }
    }
  }
  if (any_device_groups) {
    out.merged_device_groups.resize(dir.user_count());
    for (size_t user_idx = 0; user_idx < dir.user_count(); ++user_idx) {
      out.merged_device_groups[user_idx] = CanonicalList(std::move(device_groups[user_idx]));
    }
  }
  return out;
}

}  // namespace usersync::core
