#include "core/attribute_mapping.h"

#include "absl/strings/str_cat.h"
#include "core/expression.h"
#include "core/str.h"

namespace usersync::core {
namespace {

// The column holding directory attribute `name`: the fixed columns by the source attribute
// configured for them, then the extra attributes; nullptr when the directory does not read it.
const std::vector<std::string_view>* FindColumn(const Directory& dir, std::string_view name) {
  const ColumnNames& names = dir.column_names;
  const std::pair<const std::string*, const std::vector<std::string_view>*> fixed[] = {
      {&names.id, &dir.user_id},
      {&names.email, &dir.email},
      {&names.first_name, &dir.first_name},
      {&names.last_name, &dir.last_name},
      {&names.display_name, &dir.display_name},
      {&names.user_name, &dir.user_name},
      {&names.language, &dir.language}};
  for (size_t extra_idx = 0; extra_idx < dir.extra_names.size(); ++extra_idx) {
    if (EqualsIgnoreCase(dir.extra_names[extra_idx], name)) return &dir.extra[extra_idx];
  }
  for (const auto& [column_name, column] : fixed) {
    if (EqualsIgnoreCase(*column_name, name)) return column;
  }
  return nullptr;
}

}  // namespace

std::string AttributeMapping::Describe() const {
  switch (kind) {
    case MappingSourceKind::kSource:
      return absl::StrCat("attribute ", source);
    case MappingSourceKind::kConstant:
      return absl::StrCat("constant \"", constant, "\"");
    case MappingSourceKind::kExpression:
      return absl::StrCat("expression ", Sv(expression->text()));
  }
  return std::string();
}

ResolvedMappings::ResolvedMappings(const Directory& dir,
                                   const std::vector<AttributeMapping>& mappings) {
  mappings_.reserve(mappings.size());
  for (const AttributeMapping& mapping : mappings) {
    Entry entry{&mapping, {}};
    if (mapping.kind == MappingSourceKind::kSource) {
      entry.columns.push_back(FindColumn(dir, mapping.source));
    } else if (mapping.kind == MappingSourceKind::kExpression) {
      for (const std::string& name : mapping.expression->attributes()) {
        entry.columns.push_back(FindColumn(dir, name));
      }
    }
    mappings_.push_back(std::move(entry));
  }
}

std::string_view ResolvedMappings::Evaluate(size_t idx, uint32_t user, Scratch* scratch,
                                            bool* used_default) const {
  const Entry& entry = mappings_[idx];
  const AttributeMapping& mapping = *entry.mapping;
  std::string_view value;
  switch (mapping.kind) {
    case MappingSourceKind::kSource:
      if (entry.columns[0] != nullptr) value = (*entry.columns[0])[user];
      break;
    case MappingSourceKind::kConstant:
      value = mapping.constant;
      break;
    case MappingSourceKind::kExpression:
      scratch->values.resize(entry.columns.size());
      for (size_t attr_idx = 0; attr_idx < entry.columns.size(); ++attr_idx) {
        const std::vector<std::string_view>* column = entry.columns[attr_idx];
        scratch->values[attr_idx] = column != nullptr ? (*column)[user] : std::string_view();
      }
      mapping.expression->Evaluate(scratch->values, &scratch->out);
      value = scratch->out;
      break;
  }
  *used_default = value.empty() && !mapping.default_value.empty();
  if (*used_default) value = mapping.default_value;
  return value;
}

}  // namespace usersync::core
