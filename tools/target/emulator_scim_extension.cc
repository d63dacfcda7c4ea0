// The SCIM face's side of usersync's extension schema (io/scim_extension.h): a User's rule
// settings decoded from POST/PUT bodies, PATCHed by "<URN>:<attribute>" paths and written in
// answers. Stored as the store's RuleSettings.
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "core/str.h"
#include "io/scim_extension.h"
#include "tools/target/emulator_scim_internal.h"

namespace usersync::io::emulator::scim_internal {
namespace {

using Kind = PatchOp::Kind;

// An array of strings (null: empty; one string alone: a list of it), duplicates dropped.
absl::StatusOr<std::vector<std::string>> StringList(const JsonValue& value,
                                                    std::string_view attribute) {
  std::vector<std::string> list;
  if (value.is_null()) return list;
  if (value.is_string()) {
    if (!value.string.empty()) list.push_back(value.string);
    return list;
  }
  if (!value.is_array()) {
    return InvalidValue(absl::StrCat(Sv(attribute), " must be an array of strings"));
  }
  for (const JsonValue& item : value.items) {
    if (!item.is_string()) {
      return InvalidValue(absl::StrCat(Sv(attribute), " must be an array of strings"));
    }
    if (!item.string.empty()) AddUnique(&list, item.string);
  }
  return list;
}

// The setting of a lower-cased attribute name: a list, or a string; both null when unknown.
struct Slot {
  std::vector<std::string>* list = nullptr;
  std::string* text = nullptr;
};
Slot SlotOf(std::string_view lower_name, RuleSettings& settings) {
  for (const auto& [name, list] : settings.Lists()) {
    if (EqualsIgnoreCase(name, lower_name)) {
      return {settings.MutableList(name), nullptr};
    }
  }
  if (EqualsIgnoreCase(lower_name, kExtSettingsTemplate)) {
    return {nullptr, &settings.settings_template};
  }
  if (EqualsIgnoreCase(lower_name, kExtWelcomeTemplate)) {
    return {nullptr, &settings.welcome_template};
  }
  return {};
}

// Sets (add/replace) one attribute from `value`; unknown attributes are an error.
absl::Status SetAttribute(Kind kind, std::string_view name, const JsonValue& value,
                          RuleSettings& settings) {
  const Slot slot = SlotOf(name, settings);
  if (slot.text != nullptr) {
    absl::StatusOr<std::string> text = StringValue(value, name);
    if (!text.ok()) return text.status();
    *slot.text = *std::move(text);
    return absl::OkStatus();
  }
  if (slot.list == nullptr) {
    return InvalidPath(
        absl::StrCat("unknown attribute \"", Sv(name), "\" of ", Sv(kRuleSettingsUrn)));
  }
  absl::StatusOr<std::vector<std::string>> values = StringList(value, name);
  if (!values.ok()) return values.status();
  if (kind == Kind::kReplace) slot.list->clear();
  for (const std::string& item : *values) AddUnique(slot.list, item);
  return absl::OkStatus();
}

}  // namespace

std::optional<std::string_view> StripRuleSettingsUrn(std::string_view path) {
  if (!StartsWithIgnoreCase(path, kRuleSettingsUrn)) return std::nullopt;
  std::string_view rest = path.substr(kRuleSettingsUrn.size());
  if (rest.empty()) return rest;
  if (rest.front() != ':') return std::nullopt;
  return rest.substr(1);
}

absl::Status DecodeRuleSettings(const JsonValue& value, RuleSettings* settings) {
  *settings = RuleSettings();
  if (value.is_null()) return absl::OkStatus();
  if (!value.is_object()) {
    return InvalidValue(absl::StrCat(Sv(kRuleSettingsUrn), " must be an object"));
  }
  for (const auto& [key, member] : value.members) {
    // Unknown attributes of the extension are ignored, as the core schema's are.
    if (SlotOf(key, *settings).list == nullptr && SlotOf(key, *settings).text == nullptr) continue;
    USERSYNC_RETURN_IF_ERROR(SetAttribute(Kind::kReplace, key, member, *settings));
  }
  return absl::OkStatus();
}

absl::Status ApplyRuleSettingsPatch(Kind kind, const PatchPath& path, const JsonValue* value,
                                    RuleSettings& settings) {
  if (path.filter.has_value() || !path.sub_attribute.empty()) {
    return InvalidPath(absl::StrCat("\"", path.text, "\" has no sub-attributes"));
  }
  if (path.attribute.empty()) {  // the extension as a whole
    if (kind == Kind::kRemove) {
      settings = RuleSettings();
      return absl::OkStatus();
    }
    if (value == nullptr || !value->is_object()) {
      return InvalidValue(absl::StrCat(Sv(kRuleSettingsUrn), " needs an object value"));
    }
    for (const auto& [key, member] : value->members) {
      USERSYNC_RETURN_IF_ERROR(SetAttribute(kind, key, member, settings));
    }
    return absl::OkStatus();
  }
  if (kind != Kind::kRemove) {
    if (value == nullptr) {
      return InvalidValue(absl::StrCat("operation on \"", path.text, "\" needs a value"));
    }
    return SetAttribute(kind, path.attribute, *value, settings);
  }
  const Slot slot = SlotOf(path.attribute, settings);
  if (slot.text != nullptr) {
    slot.text->clear();
  } else if (slot.list == nullptr) {
    return InvalidPath(absl::StrCat("unknown attribute \"", path.text, "\""));
  } else if (value == nullptr) {
    slot.list->clear();
  } else {
    absl::StatusOr<std::vector<std::string>> values = StringList(*value, path.attribute);
    if (!values.ok()) return values.status();
    for (const std::string& item : *values) {
      slot.list->erase(std::remove(slot.list->begin(), slot.list->end(), item), slot.list->end());
    }
  }
  return absl::OkStatus();
}

bool HasRuleSettings(const RuleSettings& settings) { return !(settings == RuleSettings()); }

void WriteRuleSettings(const RuleSettings& settings, JsonWriter* writer) {
  if (!HasRuleSettings(settings)) return;
  writer->Key(kRuleSettingsUrn).BeginObject();
  for (const auto& [name, list] : settings.Lists()) {
    if (list->empty()) continue;
    writer->Key(name).BeginArray();
    for (const std::string& item : *list) writer->String(item);
    writer->EndArray();
  }
  if (!settings.settings_template.empty()) {
    writer->Field(kExtSettingsTemplate, settings.settings_template);
  }
  if (!settings.welcome_template.empty()) {
    writer->Field(kExtWelcomeTemplate, settings.welcome_template);
  }
  writer->EndObject();
}

}  // namespace usersync::io::emulator::scim_internal
