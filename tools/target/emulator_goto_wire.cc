#include "tools/target/emulator_goto_wire.h"

#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/str.h"
#include "io/goto/goto_roles.h"

namespace usersync::io::emulator::goto_internal {
namespace {

// Store role ↔ GoTo admin role: the store (and so the SCIM face) calls a super user "full";
// the other system roles (io/goto/goto_roles.h) are stored by their GoTo name.
constexpr std::string_view kStoreFull = "full";

// The GoTo name of a stored role; "" for one GoTo does not show (a SCIM "manager").
std::string_view GotoRoleName(std::string_view store_role) {
  if (store_role == kStoreFull) return kGotoSuperUser;
  return CanonicalGotoPrivilege(store_role).value_or(std::string_view());
}

// A string, or null (→ nullopt when `null_ok`, else an error).
absl::StatusOr<std::optional<std::string>> OptionalString(const JsonValue& value,
                                                          std::string_view field, bool null_ok) {
  if (value.is_string()) return std::optional<std::string>(value.string);
  if (value.is_null() && null_ok) return std::optional<std::string>();
  return Invalid(field, null_ok ? "must be a string or null" : "must be a string");
}

absl::StatusOr<std::string> RequiredName(const JsonValue& value, std::string_view field) {
  if (!value.is_string() || value.string.empty()) {
    return Invalid(field, "must be a non-empty string");
  }
  return value.string;
}

absl::StatusOr<std::string> Email(const JsonValue& value, std::string_view field) {
  absl::StatusOr<std::string> email = RequiredName(value, field);
  if (!email.ok()) return email;
  if (email->find('@') == std::string::npos) return Invalid(field, "is not an email address");
  return email;
}

// An array of strings (null: empty), duplicates dropped, order kept.
absl::StatusOr<std::vector<std::string>> StringList(const JsonValue& value,
                                                    std::string_view field) {
  std::vector<std::string> list;
  if (value.is_null()) return list;
  if (!value.is_array()) return Invalid(field, "must be an array of strings");
  for (const JsonValue& item : value.items) {
    if (!item.is_string() || item.string.empty()) {
      return Invalid(field, "must be an array of non-empty strings");
    }
    if (std::find(list.begin(), list.end(), item.string) == list.end()) {
      list.push_back(item.string);
    }
  }
  return list;
}

absl::StatusOr<std::vector<std::string>> AdminRoles(const JsonValue& value,
                                                    std::string_view field) {
  absl::StatusOr<std::vector<std::string>> names = StringList(value, field);
  if (!names.ok()) return names.status();
  std::vector<std::string> roles;
  for (const std::string& name : *names) {
    std::optional<std::string_view> role = CanonicalGotoPrivilege(name);
    if (absl::EqualsIgnoreCase(Sv(name), Sv(kGotoSuperUser))) role = kStoreFull;
    if (!role) {
      return Invalid(field, absl::StrCat("unknown admin role \"", name, "\" (expected ",
                                         Sv(kGotoSuperUser), ", ", GotoPrivilegeList(), ")"));
    }
    if (std::find(roles.begin(), roles.end(), *role) == roles.end()) roles.emplace_back(*role);
  }
  return roles;
}

absl::StatusOr<bool> Active(const JsonValue& value, std::string_view field) {
  if (value.is_string() && absl::EqualsIgnoreCase(value.string, "ACTIVE")) return true;
  if (value.is_string() && absl::EqualsIgnoreCase(value.string, "SUSPENDED")) return false;
  return Invalid(field, "must be \"ACTIVE\" or \"SUSPENDED\"");
}

}  // namespace

absl::StatusOr<std::vector<std::string>> LicenseKeyList(const JsonValue& value,
                                                        std::string_view field) {
  std::vector<std::string> keys;
  if (!value.is_array()) return Invalid(field, "must be an array of license keys");
  for (size_t key_idx = 0; key_idx < value.items.size(); ++key_idx) {
    const JsonValue& item = value.items[key_idx];
    // A number keeps its text (JsonValue::string), so a 19-digit key is not rounded.
    if ((!item.is_number() && !item.is_string()) || item.string.empty()) {
      return Invalid(absl::StrCat(Sv(field), "[", key_idx, "]"), "must be a number or a string");
    }
    if (std::find(keys.begin(), keys.end(), item.string) == keys.end()) {
      keys.push_back(item.string);
    }
  }
  return keys;
}

absl::Status Invalid(std::string_view field, std::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(Sv(field), ": ", Sv(what)));
}

absl::StatusOr<NewMember> DecodeMember(const JsonValue& item, size_t index) {
  const std::string at = absl::StrCat("users[", index, "]");
  if (!item.is_object()) return Invalid(at, "must be an object");
  NewMember member;
  EmulatorUser& user = member.user;
  bool has_email = false;
  bool has_first = false;
  bool has_last = false;
  for (const auto& [key, value] : item.members) {
    std::string field = absl::StrCat(at, ".", key);
    auto take = [&](absl::StatusOr<std::string> text, std::string* out) -> absl::Status {
      if (!text.ok()) return text.status();
      *out = *std::move(text);
      return absl::OkStatus();
    };
    absl::Status status;
    if (absl::EqualsIgnoreCase(key, "email")) {
      status = take(Email(value, field), &user.user_name);
      user.email = user.user_name;
      has_email = true;
    } else if (absl::EqualsIgnoreCase(key, "firstName")) {
      status = take(RequiredName(value, field), &user.first_name);
      has_first = true;
    } else if (absl::EqualsIgnoreCase(key, "lastName")) {
      status = take(RequiredName(value, field), &user.last_name);
      has_last = true;
    } else if (absl::EqualsIgnoreCase(key, "locale") || absl::EqualsIgnoreCase(key, "externalId") ||
               absl::EqualsIgnoreCase(key, "userGroup") ||
               absl::EqualsIgnoreCase(key, "welcomeTemplate")) {
      absl::StatusOr<std::optional<std::string>> text = OptionalString(value, field, true);
      if (!text.ok()) return text.status();
      std::string* out = absl::EqualsIgnoreCase(key, "locale")       ? &user.language
                         : absl::EqualsIgnoreCase(key, "externalId") ? &user.external_id
                         : absl::EqualsIgnoreCase(key, "userGroup")  ? &member.user_group
                                                                     : &member.welcome_template;
      *out = text->value_or("");
    } else if (absl::EqualsIgnoreCase(key, "products")) {
      return Invalid(field, kNoMemberProducts);
    } else if (absl::EqualsIgnoreCase(key, "adminRoles")) {
      absl::StatusOr<std::vector<std::string>> roles = AdminRoles(value, field);
      if (!roles.ok()) return roles.status();
      user.roles = *std::move(roles);
    } else if (absl::EqualsIgnoreCase(key, "deviceGroups")) {
      absl::StatusOr<std::vector<std::string>> groups = StringList(value, field);
      if (!groups.ok()) return groups.status();
      user.rule_settings.device_groups = *std::move(groups);
    } else if (absl::EqualsIgnoreCase(key, "settingsTemplate")) {
      absl::StatusOr<std::optional<std::string>> text = OptionalString(value, field, true);
      if (!text.ok()) return text.status();
      user.rule_settings.settings_template = text->value_or("");
    }
    // Anything else is ignored, as a client may send more than the emulator keeps.
    if (!status.ok()) return status;
  }
  if (!has_email) return Invalid(absl::StrCat(at, ".email"), "is required");
  if (!has_first) return Invalid(absl::StrCat(at, ".firstName"), "is required");
  if (!has_last) return Invalid(absl::StrCat(at, ".lastName"), "is required");
  user.display_name = absl::StrCat(user.first_name, " ", user.last_name);
  user.active = true;
  user.rule_settings.welcome_template = member.welcome_template;
  return member;
}

absl::StatusOr<UserChange> DecodeChange(const JsonValue& body) {
  if (!body.is_object()) return absl::InvalidArgumentError("the body must be a JSON object");
  UserChange change;
  for (const auto& [key, value] : body.members) {
    const std::string& field = key;
    if (absl::EqualsIgnoreCase(key, "email")) {
      absl::StatusOr<std::string> email = Email(value, field);
      if (!email.ok()) return email.status();
      change.email = *std::move(email);
    } else if (absl::EqualsIgnoreCase(key, "firstName") ||
               absl::EqualsIgnoreCase(key, "lastName")) {
      absl::StatusOr<std::string> name = RequiredName(value, field);
      if (!name.ok()) return name.status();
      (absl::EqualsIgnoreCase(key, "firstName") ? change.first_name : change.last_name) =
          *std::move(name);
    } else if (absl::EqualsIgnoreCase(key, "locale") || absl::EqualsIgnoreCase(key, "externalId") ||
               absl::EqualsIgnoreCase(key, "userGroup")) {
      absl::StatusOr<std::optional<std::string>> text = OptionalString(value, field, true);
      if (!text.ok()) return text.status();
      std::optional<std::string>& out = absl::EqualsIgnoreCase(key, "locale") ? change.language
                                        : absl::EqualsIgnoreCase(key, "externalId")
                                            ? change.external_id
                                            : change.user_group;
      out = text->value_or("");
    } else if (absl::EqualsIgnoreCase(key, "products")) {
      return Invalid(field, kNoMemberProducts);
    } else if (absl::EqualsIgnoreCase(key, "licenseKeys")) {
      absl::StatusOr<std::vector<std::string>> keys = LicenseKeyList(value, field);
      if (!keys.ok()) return keys.status();
      change.license_keys = *std::move(keys);
    } else if (absl::EqualsIgnoreCase(key, "adminRoles")) {
      absl::StatusOr<std::vector<std::string>> roles = AdminRoles(value, field);
      if (!roles.ok()) return roles.status();
      change.roles = *std::move(roles);
    } else if (absl::EqualsIgnoreCase(key, "status")) {
      absl::StatusOr<bool> active = Active(value, field);
      if (!active.ok()) return active.status();
      change.active = *active;
    } else if (absl::EqualsIgnoreCase(key, "deviceGroups")) {
      absl::StatusOr<std::vector<std::string>> groups = StringList(value, field);
      if (!groups.ok()) return groups.status();
      change.device_groups = *std::move(groups);
    } else if (absl::EqualsIgnoreCase(key, "settingsTemplate")) {
      absl::StatusOr<std::optional<std::string>> text = OptionalString(value, field, true);
      if (!text.ok()) return text.status();
      change.settings_template = text->value_or("");
    }
  }
  return change;
}

namespace {

void StringOrNull(std::string_view key, const std::string& value, JsonWriter* writer) {
  writer->Key(key);
  if (value.empty()) {
    writer->Null();
  } else {
    writer->String(value);
  }
}

}  // namespace

void WriteGotoKey(std::string_view id, JsonWriter* writer) { WriteGotoId("key", id, writer); }

void WriteGotoId(std::string_view name, std::string_view id, JsonWriter* writer) {
  writer->Key(name);
  WriteGotoIdValue(id, writer);
}

void WriteGotoIdValue(std::string_view id, JsonWriter* writer) {
  const bool digits =
      !id.empty() && id.size() <= 64 &&
      std::all_of(id.begin(), id.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (digits) {
    writer->Raw(id);
  } else {
    writer->String(id);
  }
}

void WriteGotoUser(const UserView& view, const LicenseCatalog& licenses, JsonWriter* writer,
                   const std::vector<std::string>& role_set_ids) {
  const EmulatorUser& user = *view.user;
  writer->BeginObject();
  WriteGotoKey(user.id, writer);
  writer->Field("email", user.user_name);
  writer->Field("firstName", user.first_name);
  writer->Field("lastName", user.last_name);
  StringOrNull("locale", user.language, writer);
  writer->Key("licenseKeys").BeginArray();
  for (const std::string& key : licenses.LicenseKeysOf(user.products)) writer->Raw(key);
  writer->EndArray();
  writer->Key("products").BeginArray();
  for (const std::string& product : user.products) writer->String(product);
  writer->EndArray();
  writer->Key("adminRoles").BeginArray();
  for (const std::string& role : user.roles) {
    const std::string_view goto_role = GotoRoleName(role);
    if (!goto_role.empty()) writer->String(goto_role);
  }
  writer->EndArray();
  writer->Key("roleSets").BeginArray();
  for (const std::string& id : role_set_ids) WriteGotoIdValue(id, writer);
  writer->EndArray();
  writer->Field("status", user.active ? "ACTIVE" : "SUSPENDED");
  if (view.groups.empty()) {
    writer->Key("groupKey").Null();
    writer->Key("userGroup").Null();
  } else {
    writer->Field("groupKey", view.groups[0]->id);
    writer->Field("userGroup", view.groups[0]->display_name);
  }
  StringOrNull("externalId", user.external_id, writer);
  // usersync's own fields (io/goto/GOTO_SHAPES.md: not in GoTo's public material).
  writer->Key("deviceGroups").BeginArray();
  for (const std::string& group : user.rule_settings.device_groups) writer->String(group);
  writer->EndArray();
  StringOrNull("settingsTemplate", user.rule_settings.settings_template, writer);
  writer->Key("version").Int(user.version);
  writer->EndObject();
}

void WriteGroupSummary(const GroupView& view, JsonWriter* writer) {
  writer->BeginObject();
  writer->Field("groupKey", view.group->id);
  writer->Field("name", view.group->display_name);
  writer->Key("userCount").Int(view.member_count);
  writer->EndObject();
}

}  // namespace usersync::io::emulator::goto_internal
