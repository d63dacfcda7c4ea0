#include "io/scim/scim_codec.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/str.h"
#include "io/http/http_util.h"
#include "io/json_writer.h"
#include "io/scim/scim_attributes.h"
#include "io/scim_extension.h"

// The encoders of scim_codec.h (request bodies); the decoders are in scim_decode.cc.

namespace usersync::io {
namespace {

constexpr std::string_view kUserSchema = "urn:ietf:params:scim:schemas:core:2.0:User";
constexpr std::string_view kGroupSchema = "urn:ietf:params:scim:schemas:core:2.0:Group";
constexpr std::string_view kPatchSchema = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
constexpr std::string_view kBulkRequestSchema = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";

void WriteSchema(JsonWriter& w, std::string_view schema) {
  w.Key("schemas").BeginArray().String(schema).EndArray();
}

// "G2M,G2W" → [{"value":"G2M"},{"value":"G2W"}]
void WriteValueList(JsonWriter& w, std::string_view comma_list) {
  w.BeginArray();
  while (!comma_list.empty()) {
    const size_t comma = comma_list.find(',');
    const std::string_view item = comma_list.substr(0, comma);
    if (!item.empty()) w.BeginObject().Field("value", item).EndObject();
    if (comma == std::string_view::npos) break;
    comma_list.remove_prefix(comma + 1);
  }
  w.EndArray();
}

// The spec's mapped attributes (non-empty values) of `schema` whose parent is `parent`, as
// members of the object being written; a sub-attribute of a complex one (manager.value) when
// `parent` is "" goes into its own object.
void WriteMapped(JsonWriter& w, const core::AccountSpec& spec, std::string_view schema,
                 std::string_view parent) {
  std::string_view open_parent;
  for (const auto& [path, value] : spec.attributes) {
    if (value.empty()) continue;
    const ScimPath split = SplitScimPath(path);
    if (split.schema != schema) continue;
    if (!parent.empty()) {
      if (split.parent == parent) w.Field(split.name, value);
      continue;
    }
    // Core complex attributes (name) are written by their owner's object.
    if (schema.empty() && !split.parent.empty()) continue;
    if (open_parent != split.parent) {
      if (!open_parent.empty()) w.EndObject();
      open_parent = split.parent;
      if (!open_parent.empty()) w.Key(open_parent).BeginObject();
    }
    w.Field(split.name, value);
  }
  if (!open_parent.empty()) w.EndObject();
}

bool HasEnterprise(const core::AccountSpec& spec) {
  for (const auto& [path, value] : spec.attributes) {
    if (!value.empty() && !SplitScimPath(path).schema.empty()) return true;
  }
  return false;
}

// "G2M,G2W" → ["G2M","G2W"] (the extension's multi-valued attributes are plain strings).
void WriteStringList(JsonWriter& w, std::string_view comma_list) {
  w.BeginArray();
  for (const absl::string_view item : absl::StrSplit(Sv(comma_list), ',', absl::SkipEmpty())) {
    w.String(StdSv(item));
  }
  w.EndArray();
}

bool HasRuleSettings(const core::AccountSpec& spec) {
  for (const RuleSettingAttribute& attribute : kRuleSettingAttributes) {
    if (!spec.Get(attribute.field).empty()) return true;
  }
  return !spec.welcome_template.empty();
}

// The extension object (io/scim_extension.h): the attributes with a value.
void WriteRuleSettings(JsonWriter& w, const core::AccountSpec& spec) {
  w.Key(kRuleSettingsUrn).BeginObject();
  for (const RuleSettingAttribute& attribute : kRuleSettingAttributes) {
    const std::string_view value = spec.Get(attribute.field);
    if (value.empty()) continue;
    if (attribute.multi_valued) {
      w.Key(attribute.name);
      WriteStringList(w, value);
    } else {
      w.Field(attribute.name, value);
    }
  }
  if (!spec.welcome_template.empty()) w.Field(kExtWelcomeTemplate, spec.welcome_template);
  w.EndObject();
}

// A PatchOp operation on an extension attribute: "replace" with the value, "remove" when empty.
void RuleSettingPatchOp(JsonWriter& w, const RuleSettingAttribute& attribute,
                        std::string_view value) {
  const std::string path = absl::StrCat(Sv(kRuleSettingsUrn), ":", Sv(attribute.name));
  w.BeginObject();
  if (value.empty()) {
    w.Field("op", "remove").Field("path", path);
  } else if (attribute.multi_valued) {
    w.Field("op", "replace").Field("path", path).Key("value");
    WriteStringList(w, value);
  } else {
    w.Field("op", "replace").Field("path", path).Field("value", value);
  }
  w.EndObject();
}

void WriteEmails(JsonWriter& w, std::string_view email) {
  w.BeginArray().BeginObject();
  w.Field("value", email).Field("type", "work").Key("primary").Bool(true);
  w.EndObject().EndArray();
}

void PatchOp(JsonWriter& w, std::string_view path, std::string_view value_if_set,
             bool remove_if_empty) {
  w.BeginObject();
  if (value_if_set.empty() && remove_if_empty) {
    w.Field("op", "remove").Field("path", path);
  } else {
    w.Field("op", "replace").Field("path", path).Field("value", value_if_set);
  }
  w.EndObject();
}

// The one place that maps a change's field to a SCIM PatchOp operation, its value taken from
// `spec`. False (nothing written): user_group (group membership) and fields SCIM does not hold.
bool AddPatchOp(JsonWriter& w, core::Field field, const core::AccountSpec& spec) {
  if (field == core::Field::kFirstName) {
    PatchOp(w, "name.givenName", spec.first_name, true);
  } else if (field == core::Field::kLastName) {
    PatchOp(w, "name.familyName", spec.last_name, true);
  } else if (field == core::Field::kDisplayName) {
    PatchOp(w, "displayName", spec.display_name, true);
  } else if (field == core::Field::kUserName) {
    PatchOp(w, "userName", spec.user_name, false);
  } else if (field == core::Field::kExternalId) {
    PatchOp(w, "externalId", spec.external_id, true);
  } else if (field == core::Field::kLanguage) {
    PatchOp(w, "preferredLanguage", spec.language, true);
  } else if (field == core::Field::kEmail) {
    w.BeginObject().Field("op", "replace").Field("path", "emails").Key("value");
    WriteEmails(w, spec.email);
    w.EndObject();
  } else if (field == core::Field::kProducts || field == core::Field::kAdminRole) {
    const std::string_view path = field == core::Field::kProducts ? "entitlements" : "roles";
    const core::CompactString& values =
        field == core::Field::kProducts ? spec.products : spec.admin_role;
    w.BeginObject();
    if (values.empty()) {
      w.Field("op", "remove").Field("path", path);
    } else {
      w.Field("op", "replace").Field("path", path).Key("value");
      WriteValueList(w, values);
    }
    w.EndObject();
  } else if (field == core::Field::kActive) {
    w.BeginObject().Field("op", "replace").Field("path", "active").Key("value");
    w.Bool(spec.active).EndObject();
  } else if (const RuleSettingAttribute* attribute = RuleSettingOf(field)) {
    RuleSettingPatchOp(w, *attribute, spec.Get(field));
  } else {
    return false;
  }
  return true;
}

// A mapped attribute's operation: its path as RFC 7644 §3.5.2 writes it (the enterprise
// extension's with its URN prefix), "remove" when its value becomes "".
void AddAttributePatchOp(JsonWriter& w, const core::Change& change) {
  PatchOp(w, change.path, change.after, /*remove_if_empty=*/true);
}

}  // namespace

std::string EncodeUser(const core::AccountSpec& spec) {
  JsonWriter w;
  w.BeginObject();
  const bool enterprise = HasEnterprise(spec);
  const bool rule_settings = HasRuleSettings(spec);
  if (enterprise || rule_settings) {
    w.Key("schemas").BeginArray().String(kUserSchema);
    if (enterprise) w.String(kEnterpriseUserUrn);
    if (rule_settings) w.String(kRuleSettingsUrn);
    w.EndArray();
  } else {
    WriteSchema(w, kUserSchema);
  }
  w.Field("userName", spec.user_name);
  if (!spec.external_id.empty()) w.Field("externalId", spec.external_id);
  w.Key("name").BeginObject();
  w.Field("givenName", spec.first_name).Field("familyName", spec.last_name);
  WriteMapped(w, spec, "", "name");
  w.EndObject();
  if (!spec.display_name.empty()) w.Field("displayName", spec.display_name);
  if (!spec.email.empty()) {
    w.Key("emails");
    WriteEmails(w, spec.email);
  }
  w.Key("active").Bool(spec.active);
  if (!spec.language.empty()) w.Field("preferredLanguage", spec.language);
  w.Key("entitlements");
  WriteValueList(w, spec.products);
  w.Key("roles");
  WriteValueList(w, spec.admin_role);
  WriteMapped(w, spec, "", "");
  if (enterprise) {
    w.Key(kEnterpriseUserUrn).BeginObject();
    WriteMapped(w, spec, kEnterpriseUserUrn, "");
    w.EndObject();
  }
  if (rule_settings) WriteRuleSettings(w, spec);
  w.EndObject();
  return w.Release();
}

std::string EncodePatch(const std::vector<core::Change>& changes, const core::AccountSpec& spec) {
  JsonWriter w;
  w.BeginObject();
  WriteSchema(w, kPatchSchema);
  w.Key("Operations").BeginArray();
  int ops = 0;
  for (const core::Change& change : changes) {
    if (change.field == core::Field::kAttribute) {
      AddAttributePatchOp(w, change);
      ++ops;
    } else if (AddPatchOp(w, change.field, spec)) {
      ++ops;
    }
  }
  if (ops == 0) return std::string();
  w.EndArray().EndObject();
  return w.Release();
}

std::string EncodeActivePatch(bool active) {
  JsonWriter w;
  w.BeginObject();
  WriteSchema(w, kPatchSchema);
  w.Key("Operations").BeginArray().BeginObject();
  w.Field("op", "replace").Field("path", "active").Key("value").Bool(active);
  w.EndObject().EndArray().EndObject();
  return w.Release();
}

std::string EncodeGroup(std::string_view display_name) {
  JsonWriter w;
  w.BeginObject();
  WriteSchema(w, kGroupSchema);
  w.Field("displayName", display_name);
  w.Key("members").BeginArray().EndArray();
  w.EndObject();
  return w.Release();
}

std::string EncodeGroupMembershipPatch(std::string_view user_id, bool add) {
  JsonWriter w;
  w.BeginObject();
  WriteSchema(w, kPatchSchema);
  w.Key("Operations").BeginArray().BeginObject();
  if (add) {
    w.Field("op", "add").Field("path", "members").Key("value").BeginArray();
    w.BeginObject().Field("value", user_id).EndObject().EndArray();
  } else {
    w.Field("op", "remove")
        .Field("path", absl::StrCat("members[", FilterEq("value", user_id), "]"));
  }
  w.EndObject().EndArray().EndObject();
  return w.Release();
}

std::string EncodeBulkCreate(const std::vector<const core::AccountSpec*>& specs) {
  JsonWriter w;
  w.BeginObject();
  WriteSchema(w, kBulkRequestSchema);
  w.Key("Operations").BeginArray();
  for (size_t spec_idx = 0; spec_idx < specs.size(); ++spec_idx) {
    w.BeginObject().Field("method", "POST").Field("path", "/Users");
    w.Field("bulkId", absl::StrCat(spec_idx));
    w.Key("data").Raw(EncodeUser(*specs[spec_idx]));
    w.EndObject();
  }
  w.EndArray().EndObject();
  return w.Release();
}

}  // namespace usersync::io
