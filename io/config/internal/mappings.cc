#include "io/config/internal/mappings.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/expression.h"
#include "core/str.h"
#include "io/scim/scim_attributes.h"

namespace usersync::io::internal {
namespace {

using core::Field;

struct BuiltIn {
  std::string_view target;
  Field field;
};

// The built-in fields a mapping may replace, by the target's own name for them.
constexpr BuiltIn kScimBuiltIns[] = {{"externalId", Field::kExternalId},
                                     {"name.givenName", Field::kFirstName},
                                     {"name.familyName", Field::kLastName},
                                     {"displayName", Field::kDisplayName},
                                     {"preferredLanguage", Field::kLanguage}};
// GoTo's user fields (GOTO_API_RESEARCH.md §3, io/goto/GOTO_SHAPES.md): email, firstName,
// lastName and locale are what usersync writes; timeZone is seen in listings and sent by one
// third-party client, but is not offered (not written by usersync's GoTo driver).
constexpr BuiltIn kGotoBuiltIns[] = {
    {"firstName", Field::kFirstName}, {"lastName", Field::kLastName}, {"locale", Field::kLanguage}};

// Targets that exist but are not usersync's to map, and why.
struct Refused {
  std::string_view target;
  std::string_view why;
};
constexpr Refused kRefusedTargets[] = {
    {"userName", "is the normalized email (source.attributes.email)"},
    {"emails", "is the email (source.attributes.email)"},
    {"email", "is the email (source.attributes.email)"},
    {"active", "follows scope and the directory's disabled flag"},
    {"entitlements", "holds the rule's products"},
    {"roles", "holds the rule's admin role"},
    {"groups", "holds the rule's user group"},
    {"adminRoles", "holds the rule's admin role"},
    {"licenseKeys", "holds the rule's products"},
};

std::string TargetList(bool goto_target) {
  std::vector<std::string> names;
  for (const BuiltIn& built_in : goto_target ? std::span<const BuiltIn>(kGotoBuiltIns)
                                             : std::span<const BuiltIn>(kScimBuiltIns)) {
    names.emplace_back(built_in.target);
  }
  if (!goto_target) {
    for (std::string_view path : kScimMappedAttributes) {
      names.emplace_back(SplitScimPath(path).schema.empty()
                             ? std::string(path)
                             : absl::StrCat("urn:...:enterprise:2.0:User:",
                                            Sv(path.substr(kEnterpriseUserUrn.size() + 1))));
    }
  }
  return absl::StrJoin(names, ", ");
}

// The field `target` replaces (kAttribute for an attribute of its own); an error naming the
// allowed targets for an unknown or unsupported one.
absl::StatusOr<Field> ResolveTarget(const Section& section, const std::string& target,
                                    bool goto_target) {
  for (const BuiltIn& built_in : goto_target ? std::span<const BuiltIn>(kGotoBuiltIns)
                                             : std::span<const BuiltIn>(kScimBuiltIns)) {
    if (built_in.target == target) return built_in.field;
  }
  if (!goto_target && IsScimMappedAttribute(target)) return Field::kAttribute;
  const std::string_view kind = goto_target ? "goto" : "scim";
  for (const Refused& refused : kRefusedTargets) {
    if (refused.target == target) {
      return section.ValueError(
          "target", absl::StrCat("= \"", target, "\" cannot be mapped: it ", Sv(refused.why)));
    }
  }
  std::string hint;
  if (goto_target && IsScimMappedAttribute(target)) {
    hint = "; GoTo's public API shows no such user field (io/goto/GOTO_SHAPES.md)";
  } else if (target.find(':') == std::string::npos && !goto_target &&
             IsScimMappedAttribute(absl::StrCat(Sv(kEnterpriseUserUrn), ":", target))) {
    hint = absl::StrCat("; the enterprise extension's attributes take their full path: \"",
                        Sv(kEnterpriseUserUrn), ":", target, "\"");
  }
  return section.ValueError(
      "target", absl::StrCat("= \"", target,
                             "\" is not a target attribute usersync maps for "
                             "target.kind = \"",
                             Sv(kind), "\"", hint, " (targets: ", TargetList(goto_target), ")"));
}

// An LDAP attribute description: a name (letters, digits, '-') or an OID, with options.
bool IsAttributeName(std::string_view name) {
  if (name.empty() || !absl::ascii_isalnum(static_cast<unsigned char>(name[0]))) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.' && c != ';') {
      return false;
    }
  }
  return true;
}

// Whether a fixed column of `schema` reads attribute `name` already.
bool ReadByFixedColumn(const DirectorySchema& schema, std::string_view name) {
  for (const std::string* column :
       {&schema.id, &schema.user_name, &schema.email, &schema.first_name, &schema.last_name,
        &schema.display_name, &schema.language}) {
    if (core::EqualsIgnoreCase(*column, name)) return true;
  }
  return false;
}

// An expression's parse error ("column N: why") placed in the file: the value's line and the
// column of the expression's N-th byte on it. Exact for a one-line string without escapes;
// otherwise the column of the value itself.
absl::Status ExpressionError(const Ctx& ctx, const toml::node& node, std::string_view text,
                             const absl::Status& error) {
  std::string_view message = StdSv(error.message());
  const toml::source_position& begin = node.source().begin;
  const toml::source_position& end = node.source().end;
  int64_t column = begin.column;
  constexpr std::string_view kColumn = "column ";
  const size_t colon = message.find(": ");
  int64_t offset = 0;
  if (message.substr(0, kColumn.size()) == kColumn && colon != std::string_view::npos &&
      absl::SimpleAtoi(Sv(message.substr(kColumn.size(), colon - kColumn.size())), &offset)) {
    message.remove_prefix(colon + 2);
    const int64_t span = static_cast<int64_t>(end.column) - static_cast<int64_t>(begin.column);
    const int64_t quotes = span - static_cast<int64_t>(text.size());  // opening + closing
    if (end.line == begin.line && text.find('\\') == std::string_view::npos && quotes >= 2) {
      column = begin.column + quotes / 2 + offset - 1;
    }
  }
  return absl::InvalidArgumentError(
      absl::StrCat(ctx.origin(), ":", begin.line, ":", column, ": key 'expression': ", Sv(message),
                   " (Entra's expression syntax: README \"Attribute mappings\")"));
}

absl::Status ParseMapping(const Ctx& ctx, const toml::table& table, size_t mapping_idx,
                          bool goto_target, core::AttributeMapping* mapping) {
  static constexpr std::string_view kKeys[] = {"target", "source", "constant", "expression",
                                               "default"};
  const std::string prefix = absl::StrCat("mappings[", mapping_idx, "]");
  USERSYNC_RETURN_IF_ERROR(CheckKeys(ctx, table, prefix, kKeys));
  const Section section(ctx, &table, prefix);
  USERSYNC_RETURN_IF_ERROR(section.String("target", &mapping->target));
  absl::StripAsciiWhitespace(&mapping->target);
  if (mapping->target.empty()) {
    return ctx.Error(section.Has("target") ? section.Node("target") : &table,
                     absl::StrCat(prefix,
                                  ": missing required key 'target' (the target attribute "
                                  "to fill, e.g. \"title\")"));
  }
  USERSYNC_ASSIGN_OR_RETURN(mapping->field, ResolveTarget(section, mapping->target, goto_target));
  const int given = section.Has("source") + section.Has("constant") + section.Has("expression");
  if (given != 1) {
    return ctx.Error(&table, absl::StrCat(prefix, " (target \"", mapping->target, "\") ",
                                          given == 0 ? "gives none" : "gives more than one",
                                          " of 'source', 'constant' and 'expression': give "
                                          "exactly one"));
  }
  USERSYNC_RETURN_IF_ERROR(section.String("default", &mapping->default_value));
  if (section.Has("source")) {
    mapping->kind = core::MappingSourceKind::kSource;
    USERSYNC_RETURN_IF_ERROR(section.String("source", &mapping->source));
    absl::StripAsciiWhitespace(&mapping->source);
    if (!IsAttributeName(mapping->source)) {
      return section.ValueError(
          "source",
          absl::StrCat("= \"", mapping->source,
                       "\" is not a directory attribute name (e.g. \"departmentNumber\")"));
    }
  } else if (section.Has("constant")) {
    mapping->kind = core::MappingSourceKind::kConstant;
    USERSYNC_RETURN_IF_ERROR(section.String("constant", &mapping->constant));
  } else {
    mapping->kind = core::MappingSourceKind::kExpression;
    std::string text;
    USERSYNC_RETURN_IF_ERROR(section.String("expression", &text));
    absl::StatusOr<core::Expression> expression = core::Expression::Parse(text);
    if (!expression.ok()) {
      return ExpressionError(ctx, *section.Node("expression"), text, expression.status());
    }
    mapping->expression = std::make_shared<const core::Expression>(*std::move(expression));
  }
  return absl::OkStatus();
}

// The directory attributes `mapping` reads.
std::vector<std::string> ReadAttributes(const core::AttributeMapping& mapping) {
  if (mapping.kind == core::MappingSourceKind::kSource) return {mapping.source};
  if (mapping.kind == core::MappingSourceKind::kExpression) return mapping.expression->attributes();
  return {};
}

// Adds the attributes the mappings read to schema->extra, and warns of an extra attribute no
// mapping reads.
void CompleteExtra(const Ctx& ctx, const toml::node* extra_node,
                   const std::vector<core::AttributeMapping>& mappings, DirectorySchema* schema,
                   std::vector<std::string>* warnings) {
  std::vector<std::string> read;
  for (const core::AttributeMapping& mapping : mappings) {
    for (std::string& name : ReadAttributes(mapping)) read.push_back(std::move(name));
  }
  auto contains = [](const std::vector<std::string>& names, std::string_view name) {
    return std::any_of(names.begin(), names.end(),
                       [&](const std::string& item) { return core::EqualsIgnoreCase(item, name); });
  };
  for (const std::string& extra : schema->extra) {
    if (!contains(read, extra)) {
      warnings->push_back(std::string(
          ctx.Error(extra_node, absl::StrCat("warning: source.attributes.extra names \"", extra,
                                             "\", which no [[mappings]] entry "
                                             "reads: it is read and sent nowhere (extra attributes "
                                             "reach the target only through a "
                                             "mapping: add one, e.g. source = \"",
                                             extra, "\", or remove it from extra)"))
              .message()));
    }
  }
  for (const std::string& name : read) {
    if (!ReadByFixedColumn(*schema, name) && !contains(schema->extra, name)) {
      schema->extra.push_back(name);
    }
  }
}

}  // namespace

absl::StatusOr<core::MatchAttribute> ResolveMatchAttribute(
    std::string_view name, bool goto_target, const std::vector<core::AttributeMapping>& mappings) {
  for (const BuiltIn& built_in : goto_target ? std::span<const BuiltIn>(kGotoBuiltIns)
                                             : std::span<const BuiltIn>(kScimBuiltIns)) {
    if (built_in.target == name) return core::MatchAttribute{std::string(name), built_in.field};
  }
  const std::string enterprise = absl::StrCat(Sv(kEnterpriseUserUrn), ":", Sv(name));
  for (const core::AttributeMapping& mapping : mappings) {
    if (mapping.field == Field::kAttribute &&
        (mapping.target == name || mapping.target == enterprise)) {
      return core::MatchAttribute{mapping.target, Field::kAttribute};
    }
  }
  if (!goto_target && (IsScimMappedAttribute(name) || IsScimMappedAttribute(enterprise))) {
    return absl::InvalidArgumentError(
        absl::StrCat("holds \"", Sv(name),
                     "\", which no [[mappings]] entry fills: add one with "
                     "that target, so that each user has a value to match on"));
  }
  return absl::InvalidArgumentError(
      absl::StrCat("holds \"", Sv(name),
                   "\"; methods are \"link\", \"manual\", \"email\", or a mapped target "
                   "attribute (a built-in one: ",
                   goto_target ? "firstName, lastName, locale"
                               : "externalId, name.givenName, name.familyName, "
                                 "displayName, preferredLanguage",
                   "; or a [[mappings]] target, the enterprise extension's by its last part: "
                   "\"employeeNumber\")"));
}

absl::Status ParseMappings(const Ctx& ctx, const toml::node* node, const toml::node* extra_node,
                           bool goto_target, DirectorySchema* schema,
                           std::vector<core::AttributeMapping>* mappings,
                           std::vector<std::string>* warnings) {
  if (node == nullptr) {
    CompleteExtra(ctx, extra_node, *mappings, schema, warnings);
    return absl::OkStatus();
  }
  const toml::array* array = node->as_array();
  if (array == nullptr) {
    return ctx.Error(node, absl::StrCat("'mappings' must be an array of tables ([[mappings]]), "
                                        "not ",
                                        Sv(TypeName(*node))));
  }
  std::vector<const toml::table*> tables;
  for (size_t mapping_idx = 0; mapping_idx < array->size(); ++mapping_idx) {
    const toml::node& item = *array->get(mapping_idx);
    const toml::table* table = item.as_table();
    if (table == nullptr) {
      return ctx.Error(&item, absl::StrCat("mappings[", mapping_idx, "] must be a table, not ",
                                           Sv(TypeName(item))));
    }
    core::AttributeMapping mapping;
    USERSYNC_RETURN_IF_ERROR(ParseMapping(ctx, *table, mapping_idx, goto_target, &mapping));
    for (size_t earlier = 0; earlier < mappings->size(); ++earlier) {
      const core::AttributeMapping& other = (*mappings)[earlier];
      if (other.target == mapping.target ||
          (other.field != Field::kAttribute && other.field == mapping.field)) {
        const toml::source_position& pos = tables[earlier]->source().begin;
        return ctx.Error(table->get("target"),
                         absl::StrCat("mappings[", mapping_idx, "] maps target \"", mapping.target,
                                      "\", which mappings[", earlier, "] (line ", pos.line,
                                      ") maps already: one mapping per target"));
      }
    }
    mappings->push_back(std::move(mapping));
    tables.push_back(table);
  }
  CompleteExtra(ctx, extra_node, *mappings, schema, warnings);
  return absl::OkStatus();
}

absl::Status ParseMatching(const Ctx& ctx, const toml::table* table, Config* config) {
  if (table == nullptr) return absl::OkStatus();
  static constexpr std::string_view kKeys[] = {"order"};
  USERSYNC_RETURN_IF_ERROR(CheckKeys(ctx, *table, "matching", kKeys));
  const Section section(ctx, table, "matching");
  if (!section.Has("order")) return absl::OkStatus();
  std::vector<std::string> names;
  USERSYNC_RETURN_IF_ERROR(section.StringArray("order", &names));
  if (names.empty()) {
    return section.ValueError("order", "must list at least one of \"link\", \"manual\", \"email\"");
  }
  std::vector<core::MatchMethod> order;
  std::vector<core::MatchAttribute> attributes;
  for (const std::string& name : names) {
    core::MatchMethod method = core::MatchMethod::kNone;
    if (name == "link") {
      method = core::MatchMethod::kLink;
    } else if (name == "manual") {
      method = core::MatchMethod::kManual;
    } else if (name == "email") {
      method = core::MatchMethod::kEmail;
    } else {
      absl::StatusOr<core::MatchAttribute> attribute = ResolveMatchAttribute(
          name, config->target.kind == TargetKind::kGoto, config->mappings);
      if (!attribute.ok()) return section.ValueError("order", StdSv(attribute.status().message()));
      for (const core::MatchAttribute& earlier : attributes) {
        if (earlier.path == attribute->path) {
          return section.ValueError("order", absl::StrCat("lists \"", name, "\" twice"));
        }
      }
      attributes.push_back(*std::move(attribute));
      order.push_back(core::MatchMethod::kAttribute);
      continue;
    }
    if (std::find(order.begin(), order.end(), method) != order.end()) {
      return section.ValueError("order", absl::StrCat("lists \"", name, "\" twice"));
    }
    order.push_back(method);
  }
  config->match_order = std::move(order);
  config->match_attributes = std::move(attributes);
  return absl::OkStatus();
}

}  // namespace usersync::io::internal
