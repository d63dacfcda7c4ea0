#include "io/config/internal/target_products.h"

#include <algorithm>
#include <string_view>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/status_macros.h"
#include "core/str.h"

namespace usersync::io::internal {
namespace {

// The node of rules[rule_idx].products[product_idx], or the rule's table, for the error's line.
const toml::node* ProductNode(const toml::node* rules_node, size_t rule_idx, size_t product_idx) {
  const toml::array* rules = rules_node == nullptr ? nullptr : rules_node->as_array();
  const toml::node* rule = rules == nullptr ? nullptr : rules->get(rule_idx);
  const toml::table* table = rule == nullptr ? nullptr : rule->as_table();
  if (table == nullptr) return rule;
  const toml::node* products = table->get("products");
  const toml::array* array = products == nullptr ? nullptr : products->as_array();
  const toml::node* item = array == nullptr ? nullptr : array->get(product_idx);
  return item != nullptr ? item : rule;
}

}  // namespace

absl::Status ReadTargetProducts(const Section& section, TargetConfig* target) {
  if (!section.Has("products")) return absl::OkStatus();
  if (target->kind == TargetKind::kGoto) {
    return section.ValueError(
        "products",
        "applies to a SCIM target only: a GoTo account's products come from its licenses "
        "(GET /licenses), which usersync checks the rules against before each plan and in "
        "`usersync check`; remove the key");
  }
  std::vector<std::string> products;
  USERSYNC_RETURN_IF_ERROR(section.StringArray("products", &products));
  if (products.empty()) {
    return section.ValueError("products",
                              "is empty: list the products the SCIM server offers (e.g. [\"G2M\", "
                              "\"G2W\"]), or leave the key out to accept any product");
  }
  target->products.clear();
  for (std::string& product : products) {
    absl::StripAsciiWhitespace(&product);
    if (product.empty()) return section.ValueError("products", "holds an empty product name");
    if (std::find(target->products.begin(), target->products.end(), product) ==
        target->products.end()) {
      target->products.push_back(std::move(product));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckRuleProducts(const Ctx& ctx, const toml::node* rules_node,
                               const std::vector<core::Rule>& rules,
                               const std::vector<std::string>& offered) {
  if (offered.empty()) return absl::OkStatus();
  for (size_t rule_idx = 0; rule_idx < rules.size(); ++rule_idx) {
    const core::Rule& rule = rules[rule_idx];
    for (size_t product_idx = 0; product_idx < rule.products.size(); ++product_idx) {
      const std::string& product = rule.products[product_idx];
      if (std::find(offered.begin(), offered.end(), product) != offered.end()) continue;
      auto same_but_case = std::find_if(offered.begin(), offered.end(), [&](const std::string& o) {
        return core::EqualsIgnoreCase(o, product);
      });
      return ctx.Error(
          ProductNode(rules_node, rule_idx, product_idx),
          absl::StrCat("rules[", rule_idx, "] '", rule.name, "' names product \"", product,
                       "\", which is not in target.products (", absl::StrJoin(offered, ", "), ")",
                       same_but_case == offered.end()
                           ? std::string()
                           : absl::StrCat(": did you mean \"", *same_but_case, "\"?")));
    }
  }
  return absl::OkStatus();
}

}  // namespace usersync::io::internal
