// usersync's SCIM extension schema: the User Sync rule settings that have no core SCIM
// attribute (RFC 7643 §3.3), as the SCIM codec (io/scim/) writes and reads them and as the
// emulator's SCIM face (tools/target/emulator_scim*) stores and returns them. README "Rules"
// documents it for administrators.
//
//   "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User",
//               "urn:usersync:params:scim:schemas:extension:goto:2.0:User"],
//   "urn:usersync:params:scim:schemas:extension:goto:2.0:User": {
//     "privileges": ["MANAGE_USERS"],        a manager's privileges (strings, canonical order)
//     "managedGroups": ["Sales"],            the groups a manager manages
//     "deviceGroups": ["Kiosks", "Laptops"], device groups, merged across the matching rules
//     "settingsTemplate": "Standard",        the settings template's name
//     "welcomeTemplate": "onboarding"}       create only: written on POST, never compared
//
// The URN is ours, not under urn:ietf (IANA's registry, RFC 7643 §10.2). Multi-valued
// attributes are arrays of strings. An attribute with no value is left out. PATCH paths are
// "<URN>:<attribute>" (RFC 7644 §3.5.2, §3.10). Header-only constants; thread-safe.
#pragma once

#include <string_view>

#include "core/accounts.h"

namespace usersync::io {

inline constexpr std::string_view kRuleSettingsUrn =
    "urn:usersync:params:scim:schemas:extension:goto:2.0:User";

inline constexpr std::string_view kExtPrivileges = "privileges";
inline constexpr std::string_view kExtManagedGroups = "managedGroups";
inline constexpr std::string_view kExtDeviceGroups = "deviceGroups";
inline constexpr std::string_view kExtSettingsTemplate = "settingsTemplate";
inline constexpr std::string_view kExtWelcomeTemplate = "welcomeTemplate";

// The compared fields the extension carries, with their attribute and whether multi-valued.
struct RuleSettingAttribute {
  core::Field field;
  std::string_view name;
  bool multi_valued;
};
inline constexpr RuleSettingAttribute kRuleSettingAttributes[] = {
    {core::Field::kPrivileges, kExtPrivileges, true},
    {core::Field::kManagedGroups, kExtManagedGroups, true},
    {core::Field::kDeviceGroups, kExtDeviceGroups, true},
    {core::Field::kSettingsTemplate, kExtSettingsTemplate, false}};

// The extension's attribute for `field`; nullptr when the extension does not carry it.
constexpr const RuleSettingAttribute* RuleSettingOf(core::Field field) {
  for (const RuleSettingAttribute& attribute : kRuleSettingAttributes) {
    if (attribute.field == field) return &attribute;
  }
  return nullptr;
}

}  // namespace usersync::io
