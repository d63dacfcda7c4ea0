// GoTo admin roles: the mapping from a rule's `admin` / `privileges` / `role_set` to GoTo's
// system roles (a user's "adminRoles") and custom roles ("role sets"), written down once for
// the config loader, the codec and the emulator (io/goto/GOTO_SHAPES.md, README "Rules").
//
//   admin = "none"     → adminRoles []  (a PUT with [] clears them, GOTO_API_RESEARCH.md §4a)
//   admin = "full"     → adminRoles ["SUPER_USER"]
//   admin = "manager"  → adminRoles = the rule's privileges (the closed list below), and/or
//                        the role set the rule names (role_set; §6). A manager needs at least
//                        one of the two.
// Decoding a GoTo user: SUPER_USER among its adminRoles → "full" (its other roles are not kept:
// a super user holds every admin role, §4a); otherwise any listed role, or any role set →
// "manager" with those privileges and that role set; otherwise "" (a member).
//
// The privilege names are [3P] only: SailPoint's connector documents SUPER_USER, MANAGE_USERS,
// MANAGE_SEATS, MANAGE_SETTINGS, MANAGE_GROUPS and RUN_REPORTS; GoTo Connect's PowerShell
// script sends MANAGE_ACCOUNT. No GoTo document lists them. Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace usersync::io {

// The GoTo system role that makes a user a super admin ("full").
inline constexpr std::string_view kGotoSuperUser = "SUPER_USER";

// The system roles a manager may be given, in canonical (upper-case, sorted) spelling.
inline constexpr std::string_view kGotoPrivileges[] = {"MANAGE_ACCOUNT", "MANAGE_GROUPS",
                                                       "MANAGE_SEATS",   "MANAGE_SETTINGS",
                                                       "MANAGE_USERS",   "RUN_REPORTS"};

// `name`'s canonical spelling when it is one of kGotoPrivileges (compared case-insensitively,
// surrounding spaces ignored); nullopt otherwise.
std::optional<std::string_view> CanonicalGotoPrivilege(std::string_view name);

// "MANAGE_ACCOUNT, MANAGE_GROUPS, …": the list for error messages and hints.
std::string GotoPrivilegeList();

}  // namespace usersync::io
