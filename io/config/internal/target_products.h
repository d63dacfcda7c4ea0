// target.products (README "Target products"): the products a SCIM target offers, and the check
// of the rules' products against them. Used by io/config/config.cc; not a public API.
//
// A SCIM server has no /licenses to read, so without the list any product is accepted (the
// default, so existing configurations load as before) and a typo ("GTM") would replace G2M on
// every user of the rule. With the list, a rule naming another product is refused at load (and
// so by `usersync check`). A goto target refuses the key: its products come from the account's
// licenses (GET /licenses), checked before each plan and by `check`.
//
// Errors are kInvalidArgument "<file>:<line>:<col>: ...". Thread-compatible; no state.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "core/rules.h"
#include "io/config/config.h"
#include "io/config/internal/toml_section.h"

namespace usersync::io::internal {

// Reads target.products into target->products: trimmed, each once, in file order. Refused: a
// goto target, an empty list (leave the key out to accept any product), an empty name.
// REQUIRES: target->kind was read.
absl::Status ReadTargetProducts(const Section& section, TargetConfig* target);

// Refuses the first rule product not in `offered` (none when `offered` is empty), naming the
// rule, the product and the list, at the product's file:line:col:
//   usersync.toml:12:13: rules[0] 'Staff' names product "GTM", which is not in
//   target.products (G2M, G2W, G2T, OPENVOICE)
// REQUIRES: `rules_node` is the [[rules]] array `rules` was parsed from (same order).
absl::Status CheckRuleProducts(const Ctx& ctx, const toml::node* rules_node,
                               const std::vector<core::Rule>& rules,
                               const std::vector<std::string>& offered);

}  // namespace usersync::io::internal
