#include "io/config/config.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace usersync::io {
namespace {

namespace fs = std::filesystem;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

// DESIGN.md "Configuration (TOML)", verbatim.
constexpr char kDesignExample[] = R"toml(
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

constexpr char kBaseDir[] = "/etc/usersync";

// A valid configuration with extra keys for [source] and [target] and extra sections after.
std::string Cfg(std::string_view source_extra = "", std::string_view target_extra = "",
                std::string_view tail = "") {
  return std::string("[source]\nurl = \"ldap://127.0.0.1:3389\"\n") + std::string(source_extra) +
         "\n[target]\nurl = \"http://127.0.0.1:8080/scim/v2\"\n" + std::string(target_extra) +
         "\n" + std::string(tail);
}

absl::StatusOr<Config> Parse(const std::string& text) {
  return ParseConfig(text, "usersync.toml", kBaseDir);
}

// The message of a rejected configuration; fails the test if it was accepted or if the code is
// not kInvalidArgument.
std::string Rejection(const std::string& text) {
  absl::StatusOr<Config> config = Parse(text);
  EXPECT_FALSE(config.ok()) << "accepted:\n" << text;
  if (config.ok()) return "";
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument) << config.status();
  EXPECT_THAT(std::string(config.status().message()), HasSubstr("usersync.toml"));
  return std::string(config.status().message());
}

void WriteFile(const std::string& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  ASSERT_TRUE(out.good()) << path;
}

std::string MakeTempDir(std::string_view name) {
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

TEST(Config, MinimalTakesDesignDefaults) {
  absl::StatusOr<Config> config = Parse(Cfg());
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->path, "usersync.toml");
  const SourceConfig& source = config->source;
  EXPECT_EQ(source.kind, "ldap");
  EXPECT_EQ(source.url, "ldap://127.0.0.1:3389");
  EXPECT_FALSE(source.start_tls);
  EXPECT_TRUE(source.tls_verify);
  EXPECT_EQ(source.page_size, 1000);
  EXPECT_EQ(source.connections, 1);  // measured: one stream is fastest on 2 cores
  EXPECT_EQ(source.network_timeout, std::chrono::seconds(10));
  EXPECT_EQ(source.timeout, std::chrono::seconds(120));
  EXPECT_EQ(source.path, "");
  EXPECT_EQ(source.ca_file, "");
  EXPECT_EQ(source.schema.flavor, DirectoryFlavor::kOpenLdap);
  EXPECT_EQ(source.schema.id, "entryUUID");
  EXPECT_EQ(source.schema.user_name, "uid");
  EXPECT_EQ(source.schema.email, "mail");
  EXPECT_EQ(source.schema.first_name, "givenName");
  EXPECT_EQ(source.schema.last_name, "sn");
  EXPECT_EQ(source.schema.display_name, "cn");
  EXPECT_EQ(source.schema.language, "preferredLanguage");
  EXPECT_EQ(source.schema.member, "member");
  EXPECT_EQ(source.schema.group_name, "cn");
  EXPECT_EQ(source.schema.user_filter, "(objectClass=inetOrgPerson)");
  EXPECT_EQ(source.schema.group_filter, "(objectClass=groupOfNames)");
  EXPECT_TRUE(source.schema.extra.empty());
  EXPECT_TRUE(config->scope_groups.empty());
  EXPECT_TRUE(config->validated_domains.empty());
  const TargetConfig& target = config->target;
  EXPECT_EQ(target.kind, "scim");
  EXPECT_EQ(target.token_env, "USERSYNC_TARGET_TOKEN");
  EXPECT_EQ(target.token_file, "");
  EXPECT_EQ(target.rate, 10);
  EXPECT_EQ(target.burst, 10);
  EXPECT_TRUE(target.adaptive);
  EXPECT_EQ(target.batch, 100);
  EXPECT_EQ(target.concurrency, 16);
  EXPECT_EQ(target.timeout, std::chrono::seconds(30));
  EXPECT_EQ(target.max_retries, 6);
  EXPECT_THAT(config->match_order, ElementsAre(core::MatchMethod::kLink, core::MatchMethod::kManual,
                                               core::MatchMethod::kEmail));
  EXPECT_EQ(config->deprovision.action, core::DeprovisionAction::kDeactivate);
  EXPECT_EQ(config->deprovision.max_changes, 500);
  EXPECT_EQ(config->deprovision.max_changes_percent, 5);
  EXPECT_TRUE(config->rules.empty());
  EXPECT_EQ(config->state_path, "/etc/usersync/usersync.db");
  EXPECT_EQ(config->logs_dir, "/etc/usersync/logs");
}

TEST(Config, DesignExampleParses) {
  // An input path missing beside the config file is looked for in the working directory: run
  // from one without fixtures/, so the answer does not depend on where the test is started.
  const ScopedCwd cwd(MakeTempDir("design-example"));
  absl::StatusOr<Config> config = Parse(kDesignExample);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->source.bind_dn, "cn=admin,dc=example,dc=com");
  EXPECT_EQ(config->source.bind_password_env, "USERSYNC_LDAP_PASSWORD");
  EXPECT_EQ(config->source.base_dn, "dc=example,dc=com");
  EXPECT_EQ(config->source.path, "/etc/usersync/fixtures/demo.ldif");
  EXPECT_THAT(config->source.schema.extra,
              ElementsAre("departmentNumber", "title", "employeeNumber"));
  EXPECT_THAT(config->scope_groups, ElementsAre("cn=goto-users,ou=groups,dc=example,dc=com"));
  EXPECT_THAT(config->validated_domains, ElementsAre("example.com"));
  EXPECT_EQ(config->target.url, "http://127.0.0.1:8080/scim/v2");
  EXPECT_EQ(config->target.timeout, std::chrono::seconds(30));
  ASSERT_EQ(config->rules.size(), 1u);
  const core::Rule& rule = config->rules[0];
  EXPECT_EQ(rule.name, "Organizers");
  EXPECT_EQ(rule.priority, 1);
  EXPECT_EQ(rule.group, "cn=organizers,ou=groups,dc=example,dc=com");
  EXPECT_THAT(rule.products, ElementsAre("G2M", "G2W"));
  EXPECT_EQ(rule.admin, core::AdminRole::kNone);
  EXPECT_EQ(rule.language, "en_US");
  EXPECT_EQ(rule.user_group, "Sales");
  EXPECT_EQ(rule.welcome_template, "default");
  EXPECT_EQ(rule.settings_template, "Default");
  EXPECT_EQ(config->state_path, "/etc/usersync/usersync.db");
  EXPECT_EQ(config->logs_dir, "/etc/usersync/logs");
}

TEST(Config, EveryKeyIsRead) {
  const std::string text = R"toml(
[source]
kind = "ldap"
url = "ldap://ldap.example.com"
start_tls = true
ca_file = "/etc/ssl/ca.pem"
tls_verify = false
bind_dn = "cn=sync,dc=example,dc=com"
bind_password_file = "/run/secrets/ldap"
base_dn = "dc=example,dc=com"
user_filter = "(objectClass=person)"
group_filter = "(objectClass=groupOfUniqueNames)"
page_size = 500
connections = 8
network_timeout = "5s"
timeout = "10m"

[source.attributes]
id = "uuid"
user_name = "login"
email = "mailPrimaryAddress"
first_name = "gn"
last_name = "surname"
display_name = "displayName"
language = "lang"
member = "uniqueMember"
group_name = "ou"
extra = ["title"]

[scope]
groups = [" cn=a,dc=example,dc=com ", "cn=b,dc=example,dc=com"]
validated_domains = [" Example.COM ", "@Sub.Example.com", "example.com"]

[target]
kind = "goto"
url = "https://api.getgo.com/admin/rest/v1"
account_key = "1234"
token_file = "/run/secrets/goto"
rate = 2.5
burst = 3
adaptive = false
batch = 50
concurrency = 4
timeout = 90
max_retries = 0

[matching]
order = ["email", "link"]

[deprovision]
action = "none"
max_changes = 0
max_changes_percent = 12.5

[[rules]]
name = "Managers"
priority = 5
group = "cn=managers,dc=example,dc=com"
products = ["G2M"]
admin = "manager"
privileges = ["USERS"]
managed_groups = ["Sales"]
device_groups = ["rooms"]

[[rules]]
name = "Admins"
priority = 2
group = "cn=admins,dc=example,dc=com"
admin = "full"

[state]
path = "/var/lib/usersync/state.db"

[logs]
dir = "/var/log/usersync"
)toml";
  absl::StatusOr<Config> config = Parse(text);
  ASSERT_TRUE(config.ok()) << config.status();
  const SourceConfig& source = config->source;
  EXPECT_TRUE(source.start_tls);
  EXPECT_EQ(source.ca_file, "/etc/ssl/ca.pem");
  EXPECT_FALSE(source.tls_verify);
  EXPECT_EQ(source.bind_password_file, "/run/secrets/ldap");
  EXPECT_EQ(source.schema.user_filter, "(objectClass=person)");
  EXPECT_EQ(source.schema.group_filter, "(objectClass=groupOfUniqueNames)");
  EXPECT_EQ(source.page_size, 500);
  EXPECT_EQ(source.connections, 8);
  EXPECT_EQ(source.network_timeout, std::chrono::seconds(5));
  EXPECT_EQ(source.timeout, std::chrono::minutes(10));
  EXPECT_EQ(source.schema.id, "uuid");
  EXPECT_EQ(source.schema.user_name, "login");
  EXPECT_EQ(source.schema.email, "mailPrimaryAddress");
  EXPECT_EQ(source.schema.first_name, "gn");
  EXPECT_EQ(source.schema.last_name, "surname");
  EXPECT_EQ(source.schema.display_name, "displayName");
  EXPECT_EQ(source.schema.language, "lang");
  EXPECT_EQ(source.schema.member, "uniqueMember");
  EXPECT_EQ(source.schema.group_name, "ou");
  EXPECT_THAT(source.schema.extra, ElementsAre("title"));
  EXPECT_THAT(config->scope_groups,
              ElementsAre("cn=a,dc=example,dc=com", "cn=b,dc=example,dc=com"));
  // Lower-cased, trimmed, '@' dropped, duplicates removed.
  EXPECT_THAT(config->validated_domains, ElementsAre("example.com", "sub.example.com"));
  const TargetConfig& target = config->target;
  EXPECT_EQ(target.kind, "goto");
  EXPECT_EQ(target.account_key, "1234");
  EXPECT_EQ(target.token_file, "/run/secrets/goto");
  EXPECT_EQ(target.token_env, "");  // the file replaces the default variable
  EXPECT_EQ(target.rate, 2.5);
  EXPECT_EQ(target.burst, 3);
  EXPECT_FALSE(target.adaptive);
  EXPECT_EQ(target.batch, 50);
  EXPECT_EQ(target.concurrency, 4);
  EXPECT_EQ(target.timeout, std::chrono::seconds(90));
  EXPECT_EQ(target.max_retries, 0);
  EXPECT_THAT(config->match_order,
              ElementsAre(core::MatchMethod::kEmail, core::MatchMethod::kLink));
  EXPECT_EQ(config->deprovision.action, core::DeprovisionAction::kNone);
  EXPECT_EQ(config->deprovision.max_changes, 0);
  EXPECT_EQ(config->deprovision.max_changes_percent, 12.5);
  // File order is kept; the core sorts by priority.
  ASSERT_EQ(config->rules.size(), 2u);
  EXPECT_EQ(config->rules[0].name, "Managers");
  EXPECT_EQ(config->rules[0].priority, 5);
  EXPECT_EQ(config->rules[0].admin, core::AdminRole::kManager);
  EXPECT_THAT(config->rules[0].privileges, ElementsAre("USERS"));
  EXPECT_THAT(config->rules[0].managed_groups, ElementsAre("Sales"));
  EXPECT_THAT(config->rules[0].device_groups, ElementsAre("rooms"));
  EXPECT_EQ(config->rules[1].name, "Admins");
  EXPECT_EQ(config->rules[1].admin, core::AdminRole::kFull);
  EXPECT_TRUE(config->rules[1].products.empty());
  EXPECT_EQ(config->state_path, "/var/lib/usersync/state.db");
  EXPECT_EQ(config->logs_dir, "/var/log/usersync");
}

TEST(Config, LdifSourceNeedsOnlyAPath) {
  absl::StatusOr<Config> config = Parse(
      "[source]\nkind = \"ldif\"\npath = \"/data/export.ldif\"\n"
      "[target]\nurl = \"http://127.0.0.1:1/scim/v2\"\n");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->source.kind, "ldif");
  EXPECT_EQ(config->source.path, "/data/export.ldif");
}

TEST(Config, RuleWithoutNameIsNamedByItsGroup) {
  absl::StatusOr<Config> config = Parse(Cfg("", "", "[[rules]]\ngroup = \"cn=x,dc=y\"\n"));
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_EQ(config->rules.size(), 1u);
  EXPECT_EQ(config->rules[0].name, "cn=x,dc=y");
  EXPECT_EQ(config->rules[0].priority, 1000);
}

TEST(Config, AdFlavorChangesAttributeDefaults) {
  absl::StatusOr<Config> config = Parse(Cfg("flavor = \"ad\"\n"));
  ASSERT_TRUE(config.ok()) << config.status();
  const DirectorySchema& schema = config->source.schema;
  EXPECT_EQ(schema.flavor, DirectoryFlavor::kAd);
  EXPECT_EQ(schema.id, "objectGUID");
  EXPECT_EQ(schema.user_name, "userPrincipalName");
  EXPECT_EQ(schema.user_filter, "(&(objectClass=user)(objectCategory=person))");
  EXPECT_EQ(schema.group_filter, "(objectClass=group)");
  EXPECT_EQ(schema.email, "mail");
  EXPECT_EQ(schema.member, "member");
}

TEST(Config, AdFlavorExplicitKeysWin) {
  absl::StatusOr<Config> config =
      Parse(Cfg("flavor = \"ad\"\nuser_filter = \"(objectClass=user)\"\n"
                "[source.attributes]\nuser_name = \"sAMAccountName\"\n"));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->source.schema.user_name, "sAMAccountName");
  EXPECT_EQ(config->source.schema.user_filter, "(objectClass=user)");
  EXPECT_EQ(config->source.schema.id, "objectGUID");
  EXPECT_EQ(config->source.schema.group_filter, "(objectClass=group)");
}

TEST(Config, Durations) {
  struct Case {
    std::string text;
    std::chrono::milliseconds expected;
  };
  const Case cases[] = {
      {"\"30s\"", std::chrono::seconds(30)},   {"\"500ms\"", std::chrono::milliseconds(500)},
      {"\"2m\"", std::chrono::minutes(2)},     {"\"1h\"", std::chrono::hours(1)},
      {"\"1m30s\"", std::chrono::seconds(90)}, {"\"1.5s\"", std::chrono::milliseconds(1500)},
      {"45", std::chrono::seconds(45)},        {"\" 3s \"", std::chrono::seconds(3)},
  };
  for (const Case& test_case : cases) {
    absl::StatusOr<Config> config = Parse(Cfg("", "timeout = " + test_case.text + "\n"));
    ASSERT_TRUE(config.ok()) << test_case.text << ": " << config.status();
    EXPECT_EQ(config->target.timeout, test_case.expected) << test_case.text;
  }
}

TEST(Config, BadDurationsAreRejected) {
  EXPECT_THAT(Rejection(Cfg("", "timeout = \"30\"\n")),
              AllOf(HasSubstr("target.timeout"), HasSubstr("unit")));
  EXPECT_THAT(Rejection(Cfg("", "timeout = \"5x\"\n")),
              AllOf(HasSubstr("target.timeout"), HasSubstr("unknown unit 'x'")));
  EXPECT_THAT(Rejection(Cfg("", "timeout = \"soon\"\n")),
              AllOf(HasSubstr("target.timeout"), HasSubstr("not a duration")));
  EXPECT_THAT(Rejection(Cfg("", "timeout = true\n")),
              AllOf(HasSubstr("target.timeout"), HasSubstr("duration"), HasSubstr("boolean")));
  EXPECT_THAT(Rejection(Cfg("", "timeout = \"0s\"\n")),
              AllOf(HasSubstr("target.timeout"), HasSubstr("longer than 0")));
  EXPECT_THAT(Rejection(Cfg("network_timeout = -1\n")), HasSubstr("source.network_timeout"));
}

TEST(Config, UnknownKeySuggestsTheNearestOne) {
  const std::string message = Rejection(Cfg("", "rat = 5\n"));
  EXPECT_THAT(message, HasSubstr("unknown key 'target.rat'"));
  EXPECT_THAT(message, HasSubstr("did you mean 'rate'?"));
  // The line of the offending key: [source] 1, url 2, blank 3, [target] 4, url 5, rat 6.
  EXPECT_THAT(message, HasSubstr("usersync.toml:6:"));
}

TEST(Config, UnknownKeysAndSectionsAreRejected) {
  EXPECT_THAT(Rejection(Cfg("colour = \"blue\"\n")), HasSubstr("unknown key 'source.colour'"));
  EXPECT_THAT(Rejection(Cfg("", "", "[targets]\nx = 1\n")),
              AllOf(HasSubstr("unknown section 'targets'"), HasSubstr("did you mean 'target'?")));
  EXPECT_THAT(Rejection(Cfg("[source.attributes]\nmial = \"mail\"\n")),
              AllOf(HasSubstr("source.attributes.mial"), HasSubstr("did you mean 'email'?")));
  EXPECT_THAT(Rejection(Cfg("", "", "[[rules]]\ngroup = \"cn=a\"\nproduct = [\"G2M\"]\n")),
              AllOf(HasSubstr("rules[0].product"), HasSubstr("did you mean 'products'?")));
  EXPECT_THAT(Rejection(Cfg("", "", "[state]\npaht = \"x.db\"\n")),
              HasSubstr("unknown key 'state.paht'"));
  EXPECT_THAT(Rejection(Cfg("", "", "[logs]\ndirectory = \"x\"\n")),
              HasSubstr("unknown key 'logs.directory'"));
  EXPECT_THAT(Rejection(Cfg("", "", "[matching]\norder = [\"link\"]\nfuzzy = true\n")),
              HasSubstr("unknown key 'matching.fuzzy'"));
  EXPECT_THAT(Rejection(Cfg("", "", "[deprovision]\nmax = 3\n")),
              HasSubstr("unknown key 'deprovision.max'"));
  EXPECT_THAT(Rejection(Cfg("", "", "[scope]\ndomains = []\n")),
              HasSubstr("unknown key 'scope.domains'"));
  // Far from every key: no suggestion.
  EXPECT_THAT(Rejection(Cfg("", "zzzzzzzz = 1\n")), Not(HasSubstr("did you mean")));
}

TEST(Config, WrongTypesAreRejected) {
  EXPECT_THAT(Rejection(Cfg("page_size = \"1000\"\n")),
              AllOf(HasSubstr("source.page_size"), HasSubstr("must be an integer, not a string")));
  EXPECT_THAT(Rejection(Cfg("page_size = 10.5\n")),
              AllOf(HasSubstr("source.page_size"), HasSubstr("integer")));
  EXPECT_THAT(Rejection(Cfg("start_tls = \"yes\"\n")),
              AllOf(HasSubstr("source.start_tls"), HasSubstr("boolean")));
  EXPECT_THAT(Rejection(Cfg("base_dn = 5\n")),
              AllOf(HasSubstr("source.base_dn"), HasSubstr("must be a string, not an integer")));
  EXPECT_THAT(Rejection(Cfg("", "rate = \"fast\"\n")),
              AllOf(HasSubstr("target.rate"), HasSubstr("number")));
  EXPECT_THAT(Rejection(Cfg("", "", "[scope]\ngroups = \"cn=a\"\n")),
              AllOf(HasSubstr("scope.groups"), HasSubstr("array of strings")));
  EXPECT_THAT(Rejection(Cfg("", "", "[scope]\ngroups = [\"cn=a\", 5]\n")),
              AllOf(HasSubstr("scope.groups"), HasSubstr("item 1 is an integer")));
  EXPECT_THAT(Rejection(Cfg("attributes = \"mail\"\n")),
              AllOf(HasSubstr("source.attributes"), HasSubstr("table")));
  EXPECT_THAT(Rejection("source = 5\n[target]\nurl = \"http://x\"\n"),
              HasSubstr("'source' must be a section"));
  EXPECT_THAT(Rejection(Cfg("", "", "[rules]\ngroup = \"cn=a\"\n")), HasSubstr("[[rules]]"));
  EXPECT_THAT(Rejection(Cfg("page_size = 3000000000\n")),
              AllOf(HasSubstr("source.page_size"), HasSubstr("out of range")));
}

TEST(Config, KindsMustBeKnown) {
  EXPECT_THAT(
      Rejection(Cfg("kind = \"ldapp\"\n")),
      AllOf(HasSubstr("source.kind"), HasSubstr("\"ldap\" or \"ldif\""), HasSubstr("ldapp")));
  EXPECT_THAT(Rejection(Cfg("flavor = \"openldap2\"\n")), HasSubstr("source.flavor"));
  EXPECT_THAT(Rejection(Cfg("", "kind = \"rest\"\n")),
              AllOf(HasSubstr("target.kind"), HasSubstr("\"scim\" or \"goto\"")));
}

TEST(Config, NumericLimits) {
  EXPECT_THAT(Rejection(Cfg("", "rate = 0\n")), HasSubstr("target.rate"));
  EXPECT_THAT(Rejection(Cfg("", "rate = -2.5\n")), HasSubstr("target.rate"));
  EXPECT_THAT(Rejection(Cfg("", "burst = 0.5\n")), HasSubstr("target.burst"));
  EXPECT_THAT(Rejection(Cfg("", "concurrency = 0\n")), HasSubstr("target.concurrency"));
  EXPECT_THAT(Rejection(Cfg("", "batch = 0\n")), HasSubstr("target.batch"));
  EXPECT_THAT(Rejection(Cfg("", "max_retries = -1\n")), HasSubstr("target.max_retries"));
  EXPECT_THAT(Rejection(Cfg("page_size = 0\n")), HasSubstr("source.page_size"));
  EXPECT_THAT(Rejection(Cfg("connections = 0\n")), HasSubstr("source.connections"));
  EXPECT_THAT(Rejection(Cfg("", "", "[deprovision]\nmax_changes = -1\n")),
              HasSubstr("deprovision.max_changes"));
  EXPECT_THAT(Rejection(Cfg("", "", "[deprovision]\nmax_changes_percent = 101\n")),
              HasSubstr("deprovision.max_changes_percent"));
  EXPECT_THAT(Rejection(Cfg("", "", "[deprovision]\nmax_changes_percent = -0.5\n")),
              HasSubstr("deprovision.max_changes_percent"));
  // The edges themselves are fine.
  absl::StatusOr<Config> config =
      Parse(Cfg("page_size = 1\nconnections = 1\n", "burst = 1\nconcurrency = 1\nrate = 0.1\n",
                "[deprovision]\nmax_changes = 0\nmax_changes_percent = 100\n"));
  EXPECT_TRUE(config.ok()) << config.status();
  config = Parse(Cfg("", "", "[deprovision]\nmax_changes_percent = 0\n"));
  EXPECT_TRUE(config.ok()) << config.status();
}

TEST(Config, RulesAreValidated) {
  EXPECT_THAT(
      Rejection(Cfg("", "", "[[rules]]\nname = \"A\"\ngroup = \"cn=a\"\nadmin = \"root\"\n")),
      AllOf(HasSubstr("rules[0].admin"), HasSubstr("\"none\", \"full\" or \"manager\"")));
  EXPECT_THAT(Rejection(Cfg("", "", "[[rules]]\nname = \"A\"\nproducts = [\"G2M\"]\n")),
              AllOf(HasSubstr("rules[0] 'A'"), HasSubstr("missing required key 'group'")));
  EXPECT_THAT(Rejection(Cfg("", "", "[[rules]]\nname = \"A\"\ngroup = \"  \"\n")),
              HasSubstr("'group'"));
  EXPECT_THAT(Rejection(Cfg("", "",
                            "[[rules]]\nname = \"A\"\ngroup = \"cn=a\"\n"
                            "[[rules]]\nname = \"A\"\ngroup = \"cn=b\"\n")),
              HasSubstr("duplicate rule name 'A'"));
  EXPECT_THAT(Rejection(Cfg("", "", "[[rules]]\ngroup = \"cn=a\"\npriority = 0\n")),
              HasSubstr("rules[0].priority"));
  EXPECT_THAT(Rejection(Cfg("", "", "[[rules]]\ngroup = \"cn=a\"\nprivileges = [\"USERS\"]\n")),
              AllOf(HasSubstr("rules[0].privileges"), HasSubstr("manager")));
  EXPECT_THAT(
      Rejection(
          Cfg("", "", "[[rules]]\ngroup = \"cn=a\"\nadmin = \"full\"\nmanaged_groups = [\"x\"]\n")),
      HasSubstr("rules[0].managed_groups"));
}

TEST(Config, MatchingOrderIsValidated) {
  EXPECT_THAT(Rejection(Cfg("", "", "[matching]\norder = [\"link\", \"fuzzy\"]\n")),
              AllOf(HasSubstr("matching.order"), HasSubstr("fuzzy")));
  EXPECT_THAT(Rejection(Cfg("", "", "[matching]\norder = [\"email\", \"link\", \"email\"]\n")),
              AllOf(HasSubstr("matching.order"), HasSubstr("twice")));
  EXPECT_THAT(Rejection(Cfg("", "", "[matching]\norder = []\n")), HasSubstr("matching.order"));
}

TEST(Config, DeprovisionActionIsValidated) {
  EXPECT_THAT(Rejection(Cfg("", "", "[deprovision]\naction = \"suspend\"\n")),
              AllOf(HasSubstr("deprovision.action"), HasSubstr("suspend")));
  absl::StatusOr<Config> config = Parse(Cfg("", "", "[deprovision]\naction = \"none\"\n"));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->deprovision.action, core::DeprovisionAction::kNone);
}

TEST(Config, LocationsAreRequired) {
  EXPECT_THAT(Rejection("[target]\nurl = \"http://127.0.0.1:1\"\n"), HasSubstr("[source]"));
  EXPECT_THAT(Rejection("[source]\nkind = \"ldap\"\n[target]\nurl = \"http://127.0.0.1:1\"\n"),
              HasSubstr("'source.url'"));
  EXPECT_THAT(Rejection("[source]\nkind = \"ldif\"\n[target]\nurl = \"http://127.0.0.1:1\"\n"),
              HasSubstr("'source.path'"));
  EXPECT_THAT(Rejection("[source]\nurl = \"ldap://h\"\n"), HasSubstr("[target]"));
  EXPECT_THAT(Rejection("[source]\nurl = \"ldap://h\"\n[target]\nkind = \"scim\"\n"),
              HasSubstr("'target.url'"));
  EXPECT_THAT(Rejection(Cfg("", "kind = \"goto\"\n")), HasSubstr("'target.account_key'"));
}

TEST(Config, UrlsAreChecked) {
  EXPECT_THAT(Rejection("[source]\nurl = \"http://ldap\"\n[target]\nurl = \"http://x\"\n"),
              HasSubstr("source.url"));
  EXPECT_THAT(Rejection("[source]\nurl = \"ldap://h\"\n[target]\nurl = \"ftp://x\"\n"),
              HasSubstr("target.url"));
  EXPECT_THAT(Rejection("[source]\nurl = \"ldaps://h\"\nstart_tls = true\n"
                        "[target]\nurl = \"http://x\"\n"),
              HasSubstr("source.start_tls"));
}

TEST(Config, SecretsInTheFileAreRejected) {
  const std::string source_message = Rejection(Cfg("bind_password = \"hunter2\"\n"));
  EXPECT_THAT(source_message,
              AllOf(HasSubstr("source.bind_password"), HasSubstr("bind_password_env"),
                    HasSubstr("bind_password_file"), Not(HasSubstr("hunter2"))));
  const std::string target_message = Rejection(Cfg("", "token = \"s3cr3t-token\"\n"));
  EXPECT_THAT(target_message, AllOf(HasSubstr("target.token"), HasSubstr("token_env"),
                                    HasSubstr("token_file"), Not(HasSubstr("s3cr3t"))));
  EXPECT_THAT(Rejection(Cfg("password = \"x\"\n")), HasSubstr("_env"));
  EXPECT_THAT(Rejection(Cfg("", "api_key = \"x\"\n")), HasSubstr("secret"));
  EXPECT_THAT(Rejection(Cfg("", "", "[state]\npath = \"a\"\ndb_password = \"x\"\n")),
              AllOf(HasSubstr("state.db_password"), HasSubstr("_env")));
}

// A secret pasted where the variable's name belongs is rejected without echoing it.
TEST(Config, EnvKeysMustNameAVariable) {
  const std::string message = Rejection(Cfg("bind_password_env = \"pa ss-w0rd!\"\n"));
  EXPECT_THAT(message, AllOf(HasSubstr("source.bind_password_env"), Not(HasSubstr("w0rd"))));
  EXPECT_THAT(Rejection(Cfg("", "token_env = \"eyJhbGciOi.x.y\"\n")),
              AllOf(HasSubstr("target.token_env"), Not(HasSubstr("eyJ"))));
}

TEST(Config, OneSecretSourceAtATime) {
  EXPECT_THAT(Rejection(Cfg("bind_password_env = \"A\"\nbind_password_file = \"/x\"\n")),
              HasSubstr("source.bind_password_file"));
  EXPECT_THAT(Rejection(Cfg("", "token_env = \"T\"\ntoken_file = \"/x\"\n")),
              HasSubstr("target.token_file"));
}

TEST(Config, SyntaxErrorsCarryLineAndColumn) {
  absl::StatusOr<Config> config = Parse("[source]\nurl = \"ldap://h\"\npage_size = = 3\n");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(config.status().message()),
              AllOf(HasSubstr("usersync.toml:3:"), HasSubstr("syntax")));
  // A key given twice is a TOML error too.
  EXPECT_THAT(Rejection("[source]\nurl = \"ldap://h\"\nurl = \"ldap://i\"\n"),
              HasSubstr("usersync.toml:3:"));
}

TEST(Config, ValidationErrorsCarryLineAndColumn) {
  EXPECT_THAT(Rejection(Cfg("page_size = 0\n")), HasSubstr("usersync.toml:3:13:"));
}

TEST(Config, ToPlanConfigCopiesTheCoreSettings) {
  absl::StatusOr<Config> config = Parse(kDesignExample);
  ASSERT_TRUE(config.ok()) << config.status();
  config->deprovision.max_changes = 7;
  const core::PlanConfig plan = ToPlanConfig(*config);
  EXPECT_EQ(plan.scope_groups, config->scope_groups);
  EXPECT_EQ(plan.validated_domains, config->validated_domains);
  ASSERT_EQ(plan.rules.size(), 1u);
  EXPECT_EQ(plan.rules[0].name, "Organizers");
  EXPECT_EQ(plan.match_order, config->match_order);
  EXPECT_EQ(plan.deprovision.max_changes, 7);
  EXPECT_EQ(plan.deprovision.max_changes_percent, 5);
}

TEST(Config, RelativePathsResolveBesideTheConfigFile) {
  const std::string dir = MakeTempDir("beside");
  fs::create_directories(fs::path(dir) / "etc");
  WriteFile(dir + "/etc/demo.ldif", "");
  WriteFile(dir + "/etc/ca.pem", "");
  WriteFile(dir + "/etc/usersync.toml",
            "[source]\nkind = \"ldif\"\npath = \"demo.ldif\"\nca_file = \"ca.pem\"\n"
            "[target]\nurl = \"http://127.0.0.1:1\"\ntoken_file = \"token.txt\"\n"
            "[state]\npath = \"state/usersync.db\"\n");
  absl::StatusOr<Config> config = LoadConfig(dir + "/etc/usersync.toml");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->path, dir + "/etc/usersync.toml");
  EXPECT_EQ(config->source.path, dir + "/etc/demo.ldif");
  EXPECT_EQ(config->source.ca_file, dir + "/etc/ca.pem");
  // Exists nowhere: reported later, under the config file's directory.
  EXPECT_EQ(config->target.token_file, dir + "/etc/token.txt");
  // Outputs that need not exist yet: always beside the config file.
  EXPECT_EQ(config->state_path, dir + "/etc/state/usersync.db");
  EXPECT_EQ(config->logs_dir, dir + "/etc/logs");
}

TEST(Config, RelativeInputFallsBackToTheWorkingDirectory) {
  const std::string dir = MakeTempDir("cwd");
  fs::create_directories(fs::path(dir) / "fixtures");
  fs::create_directories(fs::path(dir) / "conf");
  WriteFile(dir + "/fixtures/demo.ldif", "");
  WriteFile(dir + "/conf/usersync.toml",
            "[source]\nkind = \"ldif\"\npath = \"fixtures/demo.ldif\"\n"
            "[target]\nurl = \"http://127.0.0.1:1\"\n[logs]\ndir = \"out\"\n");
  ScopedCwd cwd(dir);
  absl::StatusOr<Config> config = LoadConfig("conf/usersync.toml");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(fs::path(config->source.path), fs::canonical(dir + "/fixtures/demo.ldif"));
  EXPECT_EQ(fs::path(config->logs_dir), fs::canonical(dir) / "conf" / "out");
}

TEST(Config, AbsolutePathsAndMemoryStateStayAsGiven) {
  absl::StatusOr<Config> config =
      Parse(Cfg("ca_file = \"/opt/ca.pem\"\n", "", "[state]\npath = \":memory:\"\n"));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->source.ca_file, "/opt/ca.pem");
  EXPECT_EQ(config->state_path, ":memory:");
}

TEST(Config, LoadConfigMissingFile) {
  absl::StatusOr<Config> config = LoadConfig(MakeTempDir("missing") + "/nope.toml");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(config.status().message()), HasSubstr("nope.toml"));
}

TEST(Config, LoadConfigNamesTheFileInErrors) {
  const std::string path = MakeTempDir("named") + "/broken.toml";
  WriteFile(path, Cfg("", "rat = 1\n"));
  absl::StatusOr<Config> config = LoadConfig(path);
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(config.status().message()),
              AllOf(HasSubstr(path + ":6:"), HasSubstr("target.rat")));
}

TEST(Config, ReadSecretFromEnvironment) {
  ASSERT_EQ(setenv("USERSYNC_TEST_SECRET", "t0ken-value", 1), 0);
  absl::StatusOr<std::string> secret = ReadSecret("USERSYNC_TEST_SECRET", "", "target token");
  ASSERT_TRUE(secret.ok()) << secret.status();
  EXPECT_EQ(*secret, "t0ken-value");

  ASSERT_EQ(setenv("USERSYNC_TEST_SECRET", "", 1), 0);
  secret = ReadSecret("USERSYNC_TEST_SECRET", "", "target token");
  ASSERT_FALSE(secret.ok());
  EXPECT_THAT(
      std::string(secret.status().message()),
      AllOf(HasSubstr("USERSYNC_TEST_SECRET"), HasSubstr("target token"), HasSubstr("empty")));

  ASSERT_EQ(unsetenv("USERSYNC_TEST_SECRET"), 0);
  secret = ReadSecret("USERSYNC_TEST_SECRET", "", "LDAP bind password");
  ASSERT_FALSE(secret.ok());
  EXPECT_THAT(std::string(secret.status().message()),
              AllOf(HasSubstr("USERSYNC_TEST_SECRET"), HasSubstr("LDAP bind password"),
                    HasSubstr("not set")));
}

TEST(Config, ReadSecretFromFile) {
  const std::string dir = MakeTempDir("secret");
  WriteFile(dir + "/token", "file-s3cret\r\n\n");
  absl::StatusOr<std::string> secret = ReadSecret("", dir + "/token", "target token");
  ASSERT_TRUE(secret.ok()) << secret.status();
  EXPECT_EQ(secret.value(), "file-s3cret");

  WriteFile(dir + "/empty", "\n");
  secret = ReadSecret("", dir + "/empty", "target token");
  ASSERT_FALSE(secret.ok());
  EXPECT_THAT(std::string(secret.status().message()),
              AllOf(HasSubstr(dir + "/empty"), HasSubstr("empty"), HasSubstr("target token")));

  secret = ReadSecret("", dir + "/absent", "target token");
  ASSERT_FALSE(secret.ok());
  EXPECT_THAT(std::string(secret.status().message()),
              AllOf(HasSubstr(dir + "/absent"), HasSubstr("target token")));

  secret = ReadSecret("", "", "target token");
  ASSERT_FALSE(secret.ok());
  EXPECT_THAT(std::string(secret.status().message()), HasSubstr("target token"));
}

// GoTo suspends and offers no delete: a config asking for deletion there is refused up front.
TEST(Config, DeleteIsRefusedForGotoTargets) {
  absl::StatusOr<Config> config = ParseConfig(
      "[source]\nkind = \"ldif\"\npath = \"/x.ldif\"\n"
      "[target]\nkind = \"goto\"\nurl = \"http://127.0.0.1:1/admin/rest/v1\"\n"
      "account_key = \"demo\"\n[deprovision]\naction = \"delete\"\n",
      "goto.toml", "/");
  ASSERT_FALSE(config.ok());
  EXPECT_NE(std::string(config.status().message()).find("GoTo suspends"), std::string::npos)
      << config.status();
}

}  // namespace
}  // namespace usersync::io
