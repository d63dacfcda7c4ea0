// [[mappings]] (README "Attribute mappings"): each entry's target checked against the target
// kind, exactly one of source / constant / expression, an optional default; the directory
// attributes the mappings read are added to the ones the sources read (DirectorySchema::extra)
// unless a fixed column reads them already, and an `extra` attribute no mapping reads gives a
// warning (extra values flow only through mappings; still read, as before). Errors name
// file:line:column through `ctx` with a hint. Thread-compatible.
#pragma once

#include <toml++/toml.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/attribute_mapping.h"
#include "core/match.h"
#include "io/config/config.h"
#include "io/config/internal/toml_section.h"
#include "io/directory/directory_source.h"

namespace usersync::io::internal {

// Parses the top-level `mappings` node (nullptr: none) into `mappings`, in file order, and
// completes `schema->extra`; `extra_node` (source.attributes.extra, nullptr when absent) is
// where the warning about an unused extra attribute points ("FILE:LINE:COL: warning: ...",
// appended to `warnings`). REQUIRES: `schema` holds source.attributes.
absl::Status ParseMappings(const Ctx& ctx, const toml::node* node, const toml::node* extra_node,
                           bool goto_target, DirectorySchema* schema,
                           std::vector<core::AttributeMapping>* mappings,
                           std::vector<std::string>* warnings);

// The target attribute a `matching.order` entry `name` names: a built-in target of the kind
// ("externalId"), or the target of one of `mappings` (its full path, or for the enterprise
// extension its last part: "employeeNumber"). Errors (a message to prefix with the key): a name
// that is neither, or an attribute no mapping fills.
absl::StatusOr<core::MatchAttribute> ResolveMatchAttribute(
    std::string_view name, bool goto_target, const std::vector<core::AttributeMapping>& mappings);

// Reads [matching] (`table` may be null: the default order) into config->match_order and
// config->match_attributes. REQUIRES: config->mappings and config->target.kind are read (an
// entry may name a mapped target attribute, resolved by ResolveMatchAttribute).
absl::Status ParseMatching(const Ctx& ctx, const toml::table* table, Config* config);

}  // namespace usersync::io::internal
