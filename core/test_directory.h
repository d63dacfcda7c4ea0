// Test-only helpers to build small directories and account snapshots by hand.
// Used by core/*_test.cc and bench/; not part of usersync_core's API.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/accounts.h"
#include "core/directory.h"

namespace usersync::core::testing {

// A user "uid=NAME,ou=people,dc=example,dc=com" with id "id-NAME", email NAME@example.com,
// first name "First-NAME" and last name "Last-NAME" unless overridden.
struct TestUser {
  std::string name;
  std::string email = "<default>";
  std::string first_name = "<default>";
  std::string last_name = "<default>";
  bool disabled = false;
  std::string language{};
  std::vector<std::string> extra{};  // values of the builder's extra attributes, in order
};

inline std::string UserDn(std::string_view name) {
  return "uid=" + std::string(name) + ",ou=people,dc=example,dc=com";
}
inline std::string GroupDn(std::string_view name) {
  return "cn=" + std::string(name) + ",ou=groups,dc=example,dc=com";
}

inline void AddTestUser(DirectoryBuilder& builder, const TestUser& user) {
  std::string dn = UserDn(user.name);
  std::string id = "id-" + user.name;
  std::string email = user.email == "<default>" ? user.name + "@example.com" : user.email;
  std::string first = user.first_name == "<default>" ? "First-" + user.name : user.first_name;
  std::string last = user.last_name == "<default>" ? "Last-" + user.name : user.last_name;
  std::string display = first + " " + last;
  UserRecord record;
  record.dn = dn;
  record.id = id;
  record.user_name = user.name;
  record.email = email;
  record.first_name = first;
  record.last_name = last;
  record.display_name = display;
  record.language = user.language;
  record.disabled = user.disabled;
  record.extra.assign(user.extra.begin(), user.extra.end());
  builder.AddUser(record);
}

// Adds group `name` whose members are the given names: "g:NAME" for a group, else a user.
inline void AddTestGroup(DirectoryBuilder& builder, std::string_view name,
                         const std::vector<std::string>& members) {
  builder.AddGroup(GroupDn(name), name);
  for (const std::string& member : members) {
    if (member.rfind("g:", 0) == 0) {
      builder.AddMember(GroupDn(member.substr(2)));
    } else {
      builder.AddMember(UserDn(member));
    }
  }
}

// An account in sync with TestUser{name} under no rule.
inline Account SyncedAccount(Accounts& accounts, std::string_view name, std::string_view id) {
  Account account;
  std::string n(name);
  account.id = accounts.Store(id);
  account.user_name = accounts.Store(n + "@example.com");
  account.email = account.user_name;
  account.external_id = accounts.Store("id-" + n);
  account.first_name = accounts.Store("First-" + n);
  account.last_name = accounts.Store("Last-" + n);
  account.display_name = accounts.Store("First-" + n + " Last-" + n);
  account.active = true;
  return account;
}

}  // namespace usersync::core::testing
