// Shared by the configuration tests: the DESIGN.md example, a minimal valid configuration
// (Cfg), parsing and rejection helpers and temporary files. Test-only; header-only.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "io/config/config.h"

namespace usersync::io::config_test {
namespace fs = std::filesystem;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

// DESIGN.md "Configuration (TOML)", verbatim.
inline constexpr char kDesignExample[] = R"toml(
[source]
kind = "ldap"                    # "ldap" | "ldif"
flavor = "openldap"              # "openldap" | "ad": default attribute names below
url = "ldap://127.0.0.1:3389"    # ldap:// (start_tls = true) or ldaps://
bind_dn = "cn=admin,dc=example,dc=com"
bind_password_env = "USERSYNC_LDAP_PASSWORD"   # or bind_password_file
base_dn = "dc=example,dc=com"
user_filter = "(objectClass=inetOrgPerson)"
group_filter = "(objectClass=groupOfNames)"
page_size = 1000
connections = 4
path = "fixtures/demo.ldif"      # kind = "ldif" only

[source.attributes]              # which directory attribute feeds which field
id = "entryUUID"                 # AD: objectGUID
user_name = "uid"                # AD: userPrincipalName
email = "mail"
first_name = "givenName"
last_name = "sn"
display_name = "cn"
language = "preferredLanguage"
extra = ["departmentNumber", "title", "employeeNumber"]

[scope]
groups = ["cn=goto-users,ou=groups,dc=example,dc=com"]  # nested members count
validated_domains = ["example.com"]

[target]
kind = "scim"                    # "scim" (SCIM 2.0) | "goto" (GoTo admin API shape)
url = "http://127.0.0.1:8080/scim/v2"   # goto: http://HOST/admin/rest/v1
account_key = ""                 # goto only
token_env = "USERSYNC_TARGET_TOKEN"
rate = 10                        # requests per second, token bucket (GoTo's default limit)
burst = 10
adaptive = true                  # on 429 without Retry-After: slow down, then probe back up
batch = 100                      # users per request where the target takes batches
concurrency = 16
timeout = "30s"
max_retries = 6

[matching]
order = ["link", "manual", "email"]

[deprovision]
action = "deactivate"            # "deactivate" | "delete" | "none"
max_changes = 500                # more deactivations/deletions than this: held, exit 3
max_changes_percent = 5

# A user in scope that no rule names gets an account with no products.
[[rules]]                        # first by priority (1 = highest) wins
name = "Organizers"
priority = 1
group = "cn=organizers,ou=groups,dc=example,dc=com"
products = ["G2M", "G2W"]
admin = "none"                   # "none" | "full" | "manager"
privileges = []                  # manager only
managed_groups = []              # manager only
language = "en_US"
user_group = "Sales"
welcome_template = "default"
settings_template = "Default"
device_groups = []

[state]
path = "usersync.db"

[logs]
dir = "logs"
)toml";

inline constexpr char kBaseDir[] = "/etc/usersync";

// A valid configuration with extra keys for [source] and [target] and extra sections after.
inline std::string Cfg(std::string_view source_extra = "", std::string_view target_extra = "",
                       std::string_view tail = "") {
  return std::string("[source]\nurl = \"ldap://127.0.0.1:3389\"\n") + std::string(source_extra) +
         "\n[target]\nurl = \"http://127.0.0.1:8080/scim/v2\"\n" + std::string(target_extra) +
         "\n" + std::string(tail);
}

inline absl::StatusOr<Config> Parse(const std::string& text) {
  return ParseConfig(text, "usersync.toml", kBaseDir);
}

// The message of a rejected configuration; fails the test if it was accepted or if the code is
// not kInvalidArgument.
inline std::string Rejection(const std::string& text) {
  absl::StatusOr<Config> config = Parse(text);
  EXPECT_FALSE(config.ok()) << "accepted:\n" << text;
  if (config.ok()) return "";
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument) << config.status();
  EXPECT_THAT(std::string(config.status().message()), HasSubstr("usersync.toml"));
  return std::string(config.status().message());
}

inline void WriteFile(const std::string& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  ASSERT_TRUE(out.good()) << path;
}

inline std::string MakeTempDir(std::string_view name) {
  const fs::path dir = fs::path(::testing::TempDir()) / "config_test" / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

// Changes the working directory for the scope of a test.
class ScopedCwd {
 public:
  explicit ScopedCwd(const fs::path& dir) : saved_(fs::current_path()) { fs::current_path(dir); }
  ~ScopedCwd() { fs::current_path(saved_); }

 private:
  fs::path saved_;
};

}  // namespace usersync::io::config_test
