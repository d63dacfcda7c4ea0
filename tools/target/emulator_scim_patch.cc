// The SCIM PATCH operations (RFC 7644 §3.5.2) applied: to a user (attribute by attribute,
// on a copy the store installs) and, for a group, turned into a GroupChange. Decoding the
// PatchOp body and the paths is in emulator_scim.cc.
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "core/str.h"
#include "tools/target/emulator_scim.h"
#include "tools/target/emulator_scim_internal.h"

namespace usersync::io::emulator {
namespace {

using namespace scim_internal;  // NOLINT(build/namespaces): the SCIM files' shared helpers
using Kind = PatchOp::Kind;

// ---- user patch ----

absl::Status ApplyToUser(Kind kind, const PatchPath& path, const JsonValue* value,
                         EmulatorUser& user);

absl::Status RequireValue(const JsonValue* value, const PatchPath& path) {
  if (value == nullptr) {
    return InvalidValue(absl::StrCat("operation on \"", path.text, "\" needs a value"));
  }
  return absl::OkStatus();
}

absl::Status NoFilterOrSub(const PatchPath& path) {
  if (path.filter.has_value() || !path.sub_attribute.empty()) {
    return InvalidPath(absl::StrCat("\"", path.text, "\" has no sub-attributes"));
  }
  return absl::OkStatus();
}

absl::Status ApplyString(Kind kind, const PatchPath& path, const JsonValue* value,
                         std::string* field) {
  USERSYNC_RETURN_IF_ERROR(NoFilterOrSub(path));
  if (kind == Kind::kRemove) {
    field->clear();
    return absl::OkStatus();
  }
  USERSYNC_RETURN_IF_ERROR(RequireValue(value, path));
  absl::StatusOr<std::string> text = StringValue(*value, path.text);
  if (!text.ok()) return text.status();
  *field = *std::move(text);
  return absl::OkStatus();
}

// A mapped attribute (canonical `mapped`) set from `value` (a string; null or remove clears).
absl::Status ApplyMapped(Kind kind, const PatchPath& path, const JsonValue* value,
                         std::string_view mapped, EmulatorUser& user) {
  if (path.filter.has_value()) return InvalidPath(absl::StrCat(Sv(mapped), " takes no filter"));
  if (kind == Kind::kRemove || value == nullptr) {
    SetMappedAttribute(user, mapped, "");
    return absl::OkStatus();
  }
  absl::StatusOr<std::string> text = StringValue(*value, mapped);
  if (!text.ok()) return text.status();
  SetMappedAttribute(user, mapped, *std::move(text));
  return absl::OkStatus();
}

// A path under the enterprise extension: "department", "manager.value", "manager" ({"value"}).
absl::Status ApplyEnterprise(Kind kind, const PatchPath& path, const JsonValue* value,
                             EmulatorUser& user) {
  const bool manager = path.attribute == "manager";
  if (manager && path.sub_attribute.empty() && value != nullptr && value->is_object()) {
    value = value->Find("value");
  }
  const std::string_view mapped = FindScimMappedAttribute(
      kEnterpriseUserUrn, manager ? "manager" : "", manager ? "value" : path.attribute);
  if (mapped.empty() || (manager && !path.sub_attribute.empty() && path.sub_attribute != "value")) {
    return InvalidPath(absl::StrCat("unknown attribute \"", path.text, "\""));
  }
  if (kind != Kind::kRemove) USERSYNC_RETURN_IF_ERROR(RequireValue(value, path));
  return ApplyMapped(kind, path, value, mapped, user);
}

absl::Status ApplyName(Kind kind, const PatchPath& path, const JsonValue* value,
                       EmulatorUser& user) {
  if (path.filter.has_value()) return InvalidPath("name takes no filter");
  auto set_sub = [&](std::string_view sub, const JsonValue* sub_value) -> absl::Status {
    std::string* field = nullptr;
    if (sub == "givenname") {
      field = &user.first_name;
    } else if (sub == "familyname") {
      field = &user.last_name;
    } else if (const std::string_view mapped = FindScimMappedAttribute("", "name", sub);
               !mapped.empty()) {
      return ApplyMapped(kind, path, sub_value, mapped, user);
    } else if (sub == "formatted") {
      return absl::OkStatus();  // accepted, not stored
    } else {
      return InvalidPath(absl::StrCat("unknown attribute name.", Sv(sub)));
    }
    if (kind == Kind::kRemove || sub_value == nullptr) {
      field->clear();
      return absl::OkStatus();
    }
    absl::StatusOr<std::string> text = StringValue(*sub_value, absl::StrCat("name.", Sv(sub)));
    if (!text.ok()) return text.status();
    *field = *std::move(text);
    return absl::OkStatus();
  };
  if (!path.sub_attribute.empty()) {
    if (kind != Kind::kRemove) USERSYNC_RETURN_IF_ERROR(RequireValue(value, path));
    return set_sub(path.sub_attribute, value);
  }
  if (kind == Kind::kRemove) {
    user.first_name.clear();
    user.last_name.clear();
    return absl::OkStatus();
  }
  USERSYNC_RETURN_IF_ERROR(RequireValue(value, path));
  if (value->is_null()) {
    user.first_name.clear();
    user.last_name.clear();
    return absl::OkStatus();
  }
  if (!value->is_object()) return InvalidValue("name must be an object");
  // Sub-attributes not in the value stay as they are (RFC 7644 §3.5.2.1 and .3).
  for (const auto& [key, sub_value] : value->members) {
    USERSYNC_RETURN_IF_ERROR(set_sub(Lower(key), &sub_value));
  }
  return absl::OkStatus();
}

absl::Status ApplyEmails(Kind kind, const PatchPath& path, const JsonValue* value,
                         EmulatorUser& user) {
  // The store keeps one email, served as {"type": "work", "primary": true}.
  if (!path.sub_attribute.empty() && path.sub_attribute != "value") {
    if (path.sub_attribute == "type" || path.sub_attribute == "primary" ||
        path.sub_attribute == "display") {
      return absl::OkStatus();  // accepted, not stored
    }
    return InvalidPath(absl::StrCat("unknown attribute emails.", path.sub_attribute));
  }
  if (path.filter.has_value()) {
    const ScimFilter& filter = *path.filter;
    bool matches;
    if (filter.attribute == "type") {
      // The work slot exists even when empty, so "replace emails[type eq "work"].value" sets it.
      matches = EqualsIgnoreCase(filter.value, "work");
    } else if (filter.attribute == "value") {
      matches = !user.email.empty() && EqualsIgnoreCase(filter.value, user.email);
    } else {
      return InvalidFilter(absl::StrCat("emails cannot be filtered by ", filter.attribute));
    }
    if (!matches) {
      if (kind == Kind::kRemove) return absl::OkStatus();
      return NoTarget(absl::StrCat("no email matches \"", path.text, "\""));
    }
    if (kind == Kind::kRemove) {
      user.email.clear();
      return absl::OkStatus();
    }
    USERSYNC_RETURN_IF_ERROR(RequireValue(value, path));
    absl::StatusOr<std::string> email =
        path.sub_attribute.empty() ? PickEmail(*value) : StringValue(*value, path.text);
    if (!email.ok()) return email.status();
    user.email = *std::move(email);
    return absl::OkStatus();
  }
  if (!path.sub_attribute.empty()) {  // "emails.value"
    if (kind == Kind::kRemove) {
      user.email.clear();
      return absl::OkStatus();
    }
    USERSYNC_RETURN_IF_ERROR(RequireValue(value, path));
    absl::StatusOr<std::string> email = StringValue(*value, path.text);
    if (!email.ok()) return email.status();
    user.email = *std::move(email);
    return absl::OkStatus();
  }
  if (kind == Kind::kRemove) {
    if (value == nullptr) {
      user.email.clear();
      return absl::OkStatus();
    }
    // Remove the listed addresses only.
    absl::StatusOr<std::vector<std::string>> listed = ValueList(*value, "emails");
    if (!listed.ok()) return listed.status();
    for (const std::string& address : *listed) {
      if (EqualsIgnoreCase(address, user.email)) user.email.clear();
    }
    return absl::OkStatus();
  }
  USERSYNC_RETURN_IF_ERROR(RequireValue(value, path));
  absl::StatusOr<std::string> email = PickEmail(*value);
  if (!email.ok()) return email.status();
  user.email = *std::move(email);
  return absl::OkStatus();
}

absl::Status ApplyValueList(Kind kind, const PatchPath& path, const JsonValue* value,
                            std::vector<std::string>* list) {
  const std::string& name = path.attribute;
  if (!path.sub_attribute.empty() && path.sub_attribute != "value") {
    if (path.sub_attribute == "display" || path.sub_attribute == "type" ||
        path.sub_attribute == "primary") {
      return absl::OkStatus();  // accepted, not stored
    }
    return InvalidPath(absl::StrCat("unknown attribute ", name, ".", path.sub_attribute));
  }
  if (path.filter.has_value()) {
    if (path.filter->attribute != "value") {
      return InvalidFilter(absl::StrCat(name, " can only be filtered by value"));
    }
    if (kind == Kind::kAdd) {
      return InvalidPath(absl::StrCat("add takes no filter: \"", path.text, "\""));
    }
    auto it = std::find(list->begin(), list->end(), path.filter->value);
    if (kind == Kind::kRemove) {
      if (it != list->end()) list->erase(it);
      return absl::OkStatus();
    }
    if (it == list->end()) return NoTarget(absl::StrCat("no value matches \"", path.text, "\""));
    USERSYNC_RETURN_IF_ERROR(RequireValue(value, path));
    absl::StatusOr<std::vector<std::string>> values = ValueList(*value, name);
    if (!values.ok()) return values.status();
    if (values->size() != 1) return InvalidValue(absl::StrCat(name, ": replace one value"));
    *it = (*values)[0];
    *list = Deduplicated(std::move(*list));
    return absl::OkStatus();
  }
  if (kind == Kind::kRemove) {
    if (value == nullptr) {
      list->clear();
      return absl::OkStatus();
    }
    absl::StatusOr<std::vector<std::string>> values = ValueList(*value, name);
    if (!values.ok()) return values.status();
    for (const std::string& item : *values) {
      list->erase(std::remove(list->begin(), list->end(), item), list->end());
    }
    return absl::OkStatus();
  }
  USERSYNC_RETURN_IF_ERROR(RequireValue(value, path));
  absl::StatusOr<std::vector<std::string>> values = ValueList(*value, name);
  if (!values.ok()) return values.status();
  if (kind == Kind::kReplace) list->clear();
  for (const std::string& item : *values) AddUnique(list, item);
  return absl::OkStatus();
}

absl::Status ApplyToUser(Kind kind, const PatchPath& path, const JsonValue* value,
                         EmulatorUser& user) {
  if (path.extension) return ApplyRuleSettingsPatch(kind, path, value, user.rule_settings);
  const std::string& attribute = path.attribute;
  if (path.enterprise) return ApplyEnterprise(kind, path, value, user);
  if (const std::string_view mapped = FindScimMappedAttribute("", "", attribute); !mapped.empty()) {
    if (kind != Kind::kRemove) USERSYNC_RETURN_IF_ERROR(RequireValue(value, path));
    return ApplyMapped(kind, path, value, mapped, user);
  }
  if (attribute == "username") {
    if (kind == Kind::kRemove) return InvalidValue("userName cannot be removed");
    USERSYNC_RETURN_IF_ERROR(NoFilterOrSub(path));
    USERSYNC_RETURN_IF_ERROR(RequireValue(value, path));
    if (!value->is_string() || value->string.empty()) {
      return InvalidValue("userName must be a non-empty string");
    }
    user.user_name = value->string;
    return absl::OkStatus();
  }
  if (attribute == "externalid") return ApplyString(kind, path, value, &user.external_id);
  if (attribute == "displayname") return ApplyString(kind, path, value, &user.display_name);
  if (attribute == "preferredlanguage") return ApplyString(kind, path, value, &user.language);
  if (attribute == "active") {
    if (kind == Kind::kRemove) return InvalidValue("active cannot be removed");
    USERSYNC_RETURN_IF_ERROR(NoFilterOrSub(path));
    USERSYNC_RETURN_IF_ERROR(RequireValue(value, path));
    absl::StatusOr<bool> active = BoolValue(*value, "active");
    if (!active.ok()) return active.status();
    user.active = *active;
    return absl::OkStatus();
  }
  if (attribute == "name") return ApplyName(kind, path, value, user);
  if (attribute == "emails") return ApplyEmails(kind, path, value, user);
  if (attribute == "entitlements") return ApplyValueList(kind, path, value, &user.products);
  if (attribute == "roles") return ApplyValueList(kind, path, value, &user.roles);
  if (attribute == "groups") {
    return Mutability("groups is read-only: change the Group's members instead");
  }
  if (attribute == "id" || attribute == "meta") {
    if (attribute == "id" && value != nullptr && value->is_string() && value->string == user.id) {
      return absl::OkStatus();
    }
    return Mutability(absl::StrCat(attribute, " is read-only"));
  }
  if (attribute == "schemas") return absl::OkStatus();
  return InvalidPath(absl::StrCat("unknown attribute \"", path.text, "\""));
}

}  // namespace

absl::Status ApplyUserPatch(const std::vector<PatchOp>& ops, EmulatorUser& user) {
  for (const PatchOp& op : ops) {
    const JsonValue* value = op.value.has_value() ? &*op.value : nullptr;
    if (op.path.has_value()) {
      USERSYNC_RETURN_IF_ERROR(ApplyToUser(op.kind, *op.path, value, user));
      continue;
    }
    // No path: each member of the value object is an attribute (possibly "name.givenName"
    // or URN-prefixed) to add or replace.
    for (const auto& [key, member_value] : value->members) {
      absl::StatusOr<PatchPath> path = ParsePath(key, kScimUserSchema);
      if (!path.ok()) return path.status();
      USERSYNC_RETURN_IF_ERROR(ApplyToUser(op.kind, *path, &member_value, user));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<GroupChange> GroupPatchToChange(const std::vector<PatchOp>& ops) {
  GroupChange change;
  using MemberKind = GroupChange::MemberOp::Kind;
  auto member_op = [&](MemberKind kind, std::string user_id) {
    change.member_ops.push_back(GroupChange::MemberOp{kind, std::move(user_id)});
  };
  auto apply = [&](Kind kind, const PatchPath& path, const JsonValue* value) -> absl::Status {
    if (path.attribute == "displayname" || path.attribute == "externalid") {
      USERSYNC_RETURN_IF_ERROR(NoFilterOrSub(path));
      bool display = path.attribute == "displayname";
      if (kind == Kind::kRemove) {
        if (display) return InvalidValue("displayName cannot be removed");
        change.external_id = std::string();
        return absl::OkStatus();
      }
      USERSYNC_RETURN_IF_ERROR(RequireValue(value, path));
      absl::StatusOr<std::string> text = StringValue(*value, path.text);
      if (!text.ok()) return text.status();
      (display ? change.display_name : change.external_id) = *std::move(text);
      return absl::OkStatus();
    }
    if (path.attribute == "members") {
      if (!path.sub_attribute.empty() && path.sub_attribute != "value") {
        return InvalidPath(absl::StrCat("unknown attribute members.", path.sub_attribute));
      }
      std::vector<std::string> ids;
      if (value != nullptr) {
        absl::StatusOr<std::vector<std::string>> listed = ValueList(*value, "members");
        if (!listed.ok()) return listed.status();
        ids = *std::move(listed);
      }
      if (path.filter.has_value()) {
        if (path.filter->attribute != "value") {
          return InvalidFilter("members can only be filtered by value");
        }
        if (kind == Kind::kAdd) return InvalidPath("add takes no filter on members");
        member_op(MemberKind::kRemove, path.filter->value);
        if (kind == Kind::kReplace) {
          for (std::string& id : ids) member_op(MemberKind::kAdd, std::move(id));
        }
        return absl::OkStatus();
      }
      if (kind == Kind::kRemove) {
        if (value == nullptr) {
          member_op(MemberKind::kRemoveAll, "");
        } else {
          for (std::string& id : ids) member_op(MemberKind::kRemove, std::move(id));
        }
        return absl::OkStatus();
      }
      USERSYNC_RETURN_IF_ERROR(RequireValue(value, path));
      if (kind == Kind::kReplace) member_op(MemberKind::kRemoveAll, "");
      for (std::string& id : ids) member_op(MemberKind::kAdd, std::move(id));
      return absl::OkStatus();
    }
    if (path.attribute == "id" || path.attribute == "meta") {
      return Mutability(absl::StrCat(path.attribute, " is read-only"));
    }
    if (path.attribute == "schemas") return absl::OkStatus();
    return InvalidPath(absl::StrCat("unknown attribute \"", path.text, "\""));
  };
  for (const PatchOp& op : ops) {
    const JsonValue* value = op.value.has_value() ? &*op.value : nullptr;
    if (op.path.has_value()) {
      USERSYNC_RETURN_IF_ERROR(apply(op.kind, *op.path, value));
      continue;
    }
    for (const auto& [key, member_value] : value->members) {
      absl::StatusOr<PatchPath> path = ParsePath(key, kScimGroupSchema);
      if (!path.ok()) return path.status();
      USERSYNC_RETURN_IF_ERROR(apply(op.kind, *path, &member_value));
    }
  }
  return change;
}

}  // namespace usersync::io::emulator
