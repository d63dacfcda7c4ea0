// core::Accounts: a snapshot of the target's accounts, as the target driver decoded it.
//
// Each Account holds views into the snapshot's own StringArena. Multi-valued settings are kept
// in canonical form (sorted, de-duplicated, comma-joined: "G2M,G2W") so that comparing desired
// and actual is one string compare. Thread-safety: immutable once built; readable from any
// thread. Views live as long as the Accounts object.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "core/string_arena.h"

namespace usersync::core {

// An attribute usersync writes to an account: what a plan's Change names, what AccountSpec and
// Account hold, and, by FieldName, the key the plan JSON, the journal and the reports write.
// kActive's value is "true" or "false". kAttribute is a mapped target attribute beyond the
// fixed fields ([[mappings]]): a Change naming it carries the attribute's path, and it is in no
// list of fixed fields (kAllFields) since it stands for many.
enum class Field : uint8_t {
  kUserName,
  kEmail,
  kExternalId,
  kFirstName,
  kLastName,
  kDisplayName,
  kLanguage,
  kProducts,
  kAdminRole,
  kPrivileges,
  kRoleSet,
  kUserGroup,
  kManagedGroups,
  kDeviceGroups,
  kSettingsTemplate,
  kActive,
  kAttribute,
};

// Every field, in the order plans compare and write them.
inline constexpr Field kAllFields[] = {
    Field::kUserName,      Field::kEmail,        Field::kExternalId,       Field::kFirstName,
    Field::kLastName,      Field::kDisplayName,  Field::kLanguage,         Field::kProducts,
    Field::kAdminRole,     Field::kPrivileges,   Field::kRoleSet,          Field::kUserGroup,
    Field::kManagedGroups, Field::kDeviceGroups, Field::kSettingsTemplate, Field::kActive};

// "user_name", "email", "external_id", "first_name", "last_name", "display_name", "language",
// "products", "admin_role", "privileges", "role_set", "user_group", "managed_groups",
// "device_groups", "settings_template", "active".
constexpr std::string_view FieldName(Field field) {
  switch (field) {
    case Field::kUserName:
      return "user_name";
    case Field::kEmail:
      return "email";
    case Field::kExternalId:
      return "external_id";
    case Field::kFirstName:
      return "first_name";
    case Field::kLastName:
      return "last_name";
    case Field::kDisplayName:
      return "display_name";
    case Field::kLanguage:
      return "language";
    case Field::kProducts:
      return "products";
    case Field::kAdminRole:
      return "admin_role";
    case Field::kPrivileges:
      return "privileges";
    case Field::kRoleSet:
      return "role_set";
    case Field::kUserGroup:
      return "user_group";
    case Field::kManagedGroups:
      return "managed_groups";
    case Field::kDeviceGroups:
      return "device_groups";
    case Field::kSettingsTemplate:
      return "settings_template";
    case Field::kActive:
      return "active";
    case Field::kAttribute:
      return "attribute";
  }
  return "";
}

// The fixed field FieldName gives `name`; nullopt for a name no fixed field has.
constexpr std::optional<Field> ParseField(std::string_view name) {
  for (Field field : kAllFields) {
    if (FieldName(field) == name) return field;
  }
  return std::nullopt;
}

// "true" / "false": how a Change and the plan JSON's field maps write the active flag.
constexpr std::string_view BoolText(bool value) { return value ? "true" : "false"; }

struct Account {
  std::string_view id;           // the target's id (SCIM id, GoTo userKey)
  std::string_view user_name;    // SCIM userName
  std::string_view email;        // primary email as the target holds it (not normalized)
  std::string_view external_id;  // SCIM externalId: the directory id usersync wrote
  std::string_view first_name;
  std::string_view last_name;
  std::string_view display_name;
  std::string_view language;
  std::string_view products;    // canonical list, e.g. "G2M,G2W"
  std::string_view admin_role;  // "", "full" or "manager"
  std::string_view privileges;  // a manager's system roles, canonical: "MANAGE_USERS,RUN_REPORTS"
  std::string_view role_set;    // the custom role (GoTo role set) by name, "" for none
  std::string_view user_group;  // name of the user group, "" for none
  // The rule settings of a User Sync rule that only usersync's own shapes carry (README
  // "Rules"): a manager's groups (SCIM only), device groups (canonical list) and the settings
  // template's name.
  std::string_view managed_groups;
  std::string_view device_groups;
  std::string_view settings_template;
  std::string_view version;  // meta.version / ETag, "" when the target gives none
  bool active = true;
  // Mapped attributes the target holds (path, value), sorted by path, each path once; only
  // those the target driver knows how to read (a value "" is left out).
  std::vector<std::pair<std::string_view, std::string_view>> attributes;
  // Bit i set: the target's answer did not carry Field i at all (a SCIM server without
  // usersync's extension, a GoTo answer without deviceGroups), so the field is not compared:
  // comparing it would plan the same update on every run. Decoders set it (MarkUnreturned).
  uint32_t unreturned = 0;

  void MarkUnreturned(Field field) { unreturned |= 1u << static_cast<unsigned>(field); }
  bool Returned(Field field) const {
    return (unreturned & (1u << static_cast<unsigned>(field))) == 0;
  }

  // The value of mapped attribute `path`, "" when the account holds none.
  std::string_view Attribute(std::string_view path) const {
    for (const auto& [name, value] : attributes) {
      if (name == path) return value;
    }
    return {};
  }

  // The account's value of `field` (kActive: "true" / "false"; kAttribute: "", see
  // Attribute). Lives as long as the views.
  std::string_view Get(Field field) const {
    if (field == Field::kAttribute) return {};
    // Indexed by Field; kActive is the bool.
    static constexpr std::string_view Account::*kValues[] = {
        &Account::user_name,      &Account::email,         &Account::external_id,
        &Account::first_name,     &Account::last_name,     &Account::display_name,
        &Account::language,       &Account::products,      &Account::admin_role,
        &Account::privileges,     &Account::role_set,      &Account::user_group,
        &Account::managed_groups, &Account::device_groups, &Account::settings_template};
    static_assert(std::size(kValues) == static_cast<size_t>(Field::kActive));
    return field == Field::kActive ? BoolText(active) : this->*kValues[static_cast<size_t>(field)];
  }
};

struct Accounts {
  StringArena arena;
  std::vector<Account> items;

  // Copies `value` into the arena (convenience for decoders and tests).
  std::string_view Store(std::string_view value) { return arena.Store(value); }
};

}  // namespace usersync::core
