// The SCIM face's resources: Users and Groups decoded from requests and written as answers
// (RFC 7643 §4.1, §4.2; usersync's extension, io/scim_extension.h), and the timestamps of their
// meta. The protocol around them (paths, filters, errors, versions) is in emulator_scim.cc.
#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "core/str.h"
#include "io/scim_extension.h"
#include "tools/target/emulator_scim.h"
#include "tools/target/emulator_scim_internal.h"

namespace usersync::io::emulator {
namespace {

using namespace scim_internal;  // NOLINT(build/namespaces): the SCIM face's own helpers
using Kind = PatchOp::Kind;

// ---- rendering ----

void WriteMeta(std::string_view resource_type, int64_t created_ms, int64_t last_modified_ms,
               int64_t version, std::string_view location, JsonWriter* writer) {
  writer->Key("meta").BeginObject();
  writer->Field("resourceType", resource_type);
  writer->Field("created", FormatTimestamp(created_ms));
  writer->Field("lastModified", FormatTimestamp(last_modified_ms));
  writer->Field("version", VersionTag(version));
  writer->Field("location", location);
  writer->EndObject();
}

void WriteValueList(std::string_view key, const std::vector<std::string>& values,
                    JsonWriter* writer) {
  if (values.empty()) return;
  writer->Key(key).BeginArray();
  for (const std::string& value : values) writer->BeginObject().Field("value", value).EndObject();
  writer->EndArray();
}

// Days since 1970-01-01 → civil date (H. Hinnant's algorithm).
void CivilFromDays(int64_t days, int64_t* year, unsigned* month, unsigned* day) {
  days += 719468;
  int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  unsigned doe = static_cast<unsigned>(days - era * 146097);
  unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = static_cast<int64_t>(yoe) + era * 400;
  unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  unsigned mp = (5 * doy + 2) / 153;
  *day = doy - (153 * mp + 2) / 5 + 1;
  *month = mp < 10 ? mp + 3 : mp - 9;
  *year = y + (*month <= 2 ? 1 : 0);
}

}  // namespace

// ---- users ----

absl::StatusOr<EmulatorUser> DecodeUser(const JsonValue& resource, bool keep_id) {
  if (!resource.is_object()) return InvalidValue("a User must be a JSON object");
  EmulatorUser user;
  for (const auto& [raw_key, value] : resource.members) {
    if (EqualsIgnoreCase(raw_key, kEnterpriseUserUrn)) {
      USERSYNC_RETURN_IF_ERROR(DecodeEnterprise(value, user));
      continue;
    }
    if (std::optional<std::string_view> rest = StripRuleSettingsUrn(raw_key)) {
      if (!rest->empty()) continue;  // "<URN>:attr" as a top-level key: not a resource's form
      USERSYNC_RETURN_IF_ERROR(DecodeRuleSettings(value, &user.rule_settings));
      continue;
    }
    absl::StatusOr<std::string_view> stripped = StripSchema(raw_key, kScimUserSchema);
    if (!stripped.ok()) continue;  // another extension's attributes: not stored
    std::string key = Lower(*stripped);
    absl::Status status;
    if (key == "username") {
      if (!value.is_string()) return InvalidValue("userName must be a string");
      user.user_name = value.string;
    } else if (key == "id") {
      if (!keep_id) continue;
      if (!value.is_string() || value.string.empty()) {
        return InvalidValue("id must be a non-empty string");
      }
      user.id = value.string;
    } else if (key == "externalid") {
      absl::StatusOr<std::string> text = StringValue(value, "externalId");
      if (!text.ok()) return text.status();
      user.external_id = *std::move(text);
    } else if (key == "displayname") {
      absl::StatusOr<std::string> text = StringValue(value, "displayName");
      if (!text.ok()) return text.status();
      user.display_name = *std::move(text);
    } else if (key == "preferredlanguage") {
      absl::StatusOr<std::string> text = StringValue(value, "preferredLanguage");
      if (!text.ok()) return text.status();
      user.language = *std::move(text);
    } else if (key == "name") {
      if (value.is_null()) continue;
      if (!value.is_object()) return InvalidValue("name must be an object");
      for (const auto& [sub_key, sub_value] : value.members) {
        std::string sub = Lower(sub_key);
        std::string* field = sub == "givenname"    ? &user.first_name
                             : sub == "familyname" ? &user.last_name
                                                   : nullptr;
        if (const std::string_view mapped = FindScimMappedAttribute("", "name", sub_key);
            !mapped.empty()) {
          absl::StatusOr<std::string> text = StringValue(sub_value, mapped);
          if (!text.ok()) return text.status();
          SetMappedAttribute(user, mapped, *std::move(text));
        }
        if (field == nullptr) continue;
        absl::StatusOr<std::string> text = StringValue(sub_value, absl::StrCat("name.", sub));
        if (!text.ok()) return text.status();
        *field = *std::move(text);
      }
    } else if (key == "emails") {
      absl::StatusOr<std::string> email = PickEmail(value);
      if (!email.ok()) return email.status();
      user.email = *std::move(email);
    } else if (key == "active") {
      if (value.is_null()) continue;
      absl::StatusOr<bool> active = BoolValue(value, "active");
      if (!active.ok()) return active.status();
      user.active = *active;
    } else if (key == "entitlements" || key == "roles") {
      absl::StatusOr<std::vector<std::string>> values = ValueList(value, key);
      if (!values.ok()) return values.status();
      (key == "roles" ? user.roles : user.products) = Deduplicated(*std::move(values));
    } else if (const std::string_view mapped = FindScimMappedAttribute("", "", *stripped);
               !mapped.empty()) {
      absl::StatusOr<std::string> text = StringValue(value, mapped);
      if (!text.ok()) return text.status();
      SetMappedAttribute(user, mapped, *std::move(text));
    }
    // Anything else (schemas, meta, groups, attributes the emulator does not keep): ignored.
  }
  if (user.user_name.empty()) return InvalidValue("userName is required");
  return user;
}

absl::StatusOr<std::vector<PatchOp>> DecodePatch(const JsonValue& body,
                                                 std::string_view resource_schema) {
  if (!body.is_object()) {
    return ScimError(absl::StatusCode::kInvalidArgument, "invalidSyntax",
                     "a PatchOp must be a JSON object");
  }
  const JsonValue* operations = body.Find("Operations");
  if (operations == nullptr || !operations->is_array()) {
    return ScimError(absl::StatusCode::kInvalidArgument, "invalidSyntax",
                     "a PatchOp needs an \"Operations\" array");
  }
  std::vector<PatchOp> ops;
  ops.reserve(operations->items.size());
  for (const JsonValue& item : operations->items) {
    if (!item.is_object()) return InvalidValue("each operation must be an object");
    PatchOp op;
    const JsonValue* name = item.Find("op");
    if (name == nullptr || !name->is_string()) return InvalidValue("an operation needs \"op\"");
    if (EqualsIgnoreCase(name->string, "add")) {
      op.kind = Kind::kAdd;
    } else if (EqualsIgnoreCase(name->string, "replace")) {
      op.kind = Kind::kReplace;
    } else if (EqualsIgnoreCase(name->string, "remove")) {
      op.kind = Kind::kRemove;
    } else {
      return InvalidValue(absl::StrCat("unknown op \"", name->string, "\""));
    }
    const JsonValue* path = item.Find("path");
    if (path != nullptr && !path->is_null()) {
      if (!path->is_string()) return InvalidPath("path must be a string");
      if (!TrimSpaces(path->string).empty()) {
        absl::StatusOr<PatchPath> parsed = ParsePath(path->string, resource_schema);
        if (!parsed.ok()) return parsed.status();
        op.path = *std::move(parsed);
      }
    }
    const JsonValue* value = item.Find("value");
    if (value != nullptr) op.value = *value;
    if (op.kind == Kind::kRemove && !op.path.has_value()) {
      return NoTarget("remove needs a path");
    }
    if (op.kind != Kind::kRemove && !op.value.has_value()) {
      return InvalidValue(absl::StrCat(Sv(name->string), " needs a value"));
    }
    if (!op.path.has_value() && !op.value->is_object()) {
      return InvalidValue("an operation without a path needs an object value");
    }
    ops.push_back(std::move(op));
  }
  return ops;
}

// The user's mapped attributes of `schema` whose complex parent is `parent`, as members.
void WriteMappedMembers(const EmulatorUser& user, std::string_view schema, std::string_view parent,
                        JsonWriter* writer) {
  for (const auto& [path, value] : user.attributes) {
    const ScimPath split = SplitScimPath(path);
    if (split.schema == schema && split.parent == parent) writer->Field(split.name, value);
  }
}

void WriteUser(const UserView& view, std::string_view base_url, bool with_groups,
               JsonWriter* writer) {
  const EmulatorUser& user = *view.user;
  writer->BeginObject();
  const bool enterprise =
      std::any_of(user.attributes.begin(), user.attributes.end(),
                  [](const auto& item) { return !SplitScimPath(item.first).schema.empty(); });
  writer->Key("schemas").BeginArray().String(kScimUserSchema);
  if (enterprise) writer->String(kEnterpriseUserUrn);
  if (HasRuleSettings(user.rule_settings)) writer->String(kRuleSettingsUrn);
  writer->EndArray();
  writer->Field("id", user.id);
  if (!user.external_id.empty()) writer->Field("externalId", user.external_id);
  writer->Field("userName", user.user_name);
  if (!user.first_name.empty() || !user.last_name.empty()) {
    writer->Key("name").BeginObject();
    if (!user.first_name.empty()) writer->Field("givenName", user.first_name);
    if (!user.last_name.empty()) writer->Field("familyName", user.last_name);
    WriteMappedMembers(user, "", "name", writer);
    writer->EndObject();
  }
  if (!user.display_name.empty()) writer->Field("displayName", user.display_name);
  if (!user.email.empty()) {
    writer->Key("emails").BeginArray().BeginObject();
    writer->Field("value", user.email).Field("type", "work").Key("primary").Bool(true);
    writer->EndObject().EndArray();
  }
  writer->Key("active").Bool(user.active);
  if (!user.language.empty()) writer->Field("preferredLanguage", user.language);
  WriteValueList("entitlements", user.products, writer);
  WriteValueList("roles", user.roles, writer);
  WriteMappedMembers(user, "", "", writer);
  if (enterprise) {
    writer->Key(kEnterpriseUserUrn).BeginObject();
    WriteMappedMembers(user, kEnterpriseUserUrn, "", writer);
    const std::string_view manager =
        FindScimMappedAttribute(kEnterpriseUserUrn, "manager", "value");
    if (std::any_of(user.attributes.begin(), user.attributes.end(),
                    [&](const auto& item) { return item.first == manager; })) {
      writer->Key("manager").BeginObject();
      WriteMappedMembers(user, kEnterpriseUserUrn, "manager", writer);
      writer->EndObject();
    }
    writer->EndObject();
  }
  WriteRuleSettings(user.rule_settings, writer);
  if (with_groups && !view.groups.empty()) {
    writer->Key("groups").BeginArray();
    for (const GroupPtr& group : view.groups) {
      writer->BeginObject();
      writer->Field("value", group->id);
      writer->Field("display", group->display_name);
      writer->Field("$ref", absl::StrCat(Sv(base_url), "/Groups/", group->id));
      writer->Field("type", "direct");
      writer->EndObject();
    }
    writer->EndArray();
  }
  WriteMeta("User", user.created_ms, user.last_modified_ms, user.version,
            absl::StrCat(Sv(base_url), "/Users/", user.id), writer);
  writer->EndObject();
}

// ---- groups ----

absl::StatusOr<DecodedGroup> DecodeGroup(const JsonValue& resource) {
  if (!resource.is_object()) return InvalidValue("a Group must be a JSON object");
  DecodedGroup decoded;
  for (const auto& [raw_key, value] : resource.members) {
    absl::StatusOr<std::string_view> stripped = StripSchema(raw_key, kScimGroupSchema);
    if (!stripped.ok()) continue;
    std::string key = Lower(*stripped);
    if (key == "displayname") {
      if (!value.is_string()) return InvalidValue("displayName must be a string");
      decoded.group.display_name = value.string;
    } else if (key == "externalid") {
      absl::StatusOr<std::string> text = StringValue(value, "externalId");
      if (!text.ok()) return text.status();
      decoded.group.external_id = *std::move(text);
    } else if (key == "members") {
      absl::StatusOr<std::vector<std::string>> ids = ValueList(value, "members");
      if (!ids.ok()) return ids.status();
      decoded.member_ids = *std::move(ids);
    }
  }
  if (decoded.group.display_name.empty()) return InvalidValue("displayName is required");
  return decoded;
}

void WriteGroup(const GroupView& view, std::string_view base_url, bool with_members,
                JsonWriter* writer) {
  const EmulatorGroup& group = *view.group;
  writer->BeginObject();
  writer->Key("schemas").BeginArray().String(kScimGroupSchema).EndArray();
  writer->Field("id", group.id);
  if (!group.external_id.empty()) writer->Field("externalId", group.external_id);
  writer->Field("displayName", group.display_name);
  if (with_members) {
    writer->Key("members").BeginArray();
    for (const UserPtr& member : view.members) {
      writer->BeginObject();
      writer->Field("value", member->id);
      writer->Field("display",
                    member->display_name.empty() ? member->user_name : member->display_name);
      writer->Field("$ref", absl::StrCat(Sv(base_url), "/Users/", member->id));
      writer->Field("type", "User");
      writer->EndObject();
    }
    writer->EndArray();
  }
  WriteMeta("Group", group.created_ms, group.last_modified_ms, group.version,
            absl::StrCat(Sv(base_url), "/Groups/", group.id), writer);
  writer->EndObject();
}

std::string FormatTimestamp(int64_t unix_ms) {
  int64_t days = unix_ms >= 0 ? unix_ms / 86400000 : (unix_ms - 86399999) / 86400000;
  int64_t ms_of_day = unix_ms - days * 86400000;
  int64_t year;
  unsigned month;
  unsigned day;
  CivilFromDays(days, &year, &month, &day);
  if (year < 0 || year > 9999) return "0000-01-01T00:00:00.000Z";
  // Hand-formatted: this runs twice per user in every listing, and snprintf showed in profiles.
  std::string out = "0000-00-00T00:00:00.000Z";
  auto put = [&out](size_t pos, int64_t value, int digits) {
    for (int digit = digits - 1; digit >= 0; --digit) {
      out[pos + static_cast<size_t>(digit)] = static_cast<char>('0' + value % 10);
      value /= 10;
    }
  };
  put(0, year, 4);
  put(5, month, 2);
  put(8, day, 2);
  put(11, ms_of_day / 3600000, 2);
  put(14, ms_of_day / 60000 % 60, 2);
  put(17, ms_of_day / 1000 % 60, 2);
  put(20, ms_of_day % 1000, 3);
  return out;
}

}  // namespace usersync::io::emulator
