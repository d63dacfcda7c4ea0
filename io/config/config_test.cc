#include "io/config/config.h"

#include <stdlib.h>

#include <filesystem>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "io/config/config_test_util.h"

namespace usersync::io {
namespace {

using namespace config_test;  // NOLINT: the shared test helpers
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

TEST(Config, MinimalTakesDesignDefaults) {
  absl::StatusOr<Config> config = Parse(Cfg());
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->path, "usersync.toml");
  const SourceConfig& source = config->source;
  EXPECT_EQ(source.kind, SourceKind::kLdap);
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
  EXPECT_EQ(target.kind, TargetKind::kScim);
  EXPECT_EQ(target.token_env, "USERSYNC_TARGET_TOKEN");
  EXPECT_EQ(target.token_file, "");
  EXPECT_EQ(target.rate, 10);
  EXPECT_EQ(target.burst, 10);
  EXPECT_TRUE(target.adaptive);
  EXPECT_EQ(target.batch, 0);  // the largest the target accepts
  EXPECT_EQ(target.concurrency, 16);
  EXPECT_EQ(target.timeout, std::chrono::seconds(30));
  EXPECT_EQ(target.max_retries, 6);
  EXPECT_EQ(target.max_accounts, 50'000'000);
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
max_accounts = 2500

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
privileges = ["manage_users", "Run_Reports"]
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
  EXPECT_EQ(target.kind, TargetKind::kGoto);
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
  EXPECT_EQ(target.max_accounts, 2500);
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
  // GoTo's system roles, in their canonical spelling (io/goto/goto_roles.h).
  EXPECT_THAT(config->rules[0].privileges, ElementsAre("MANAGE_USERS", "RUN_REPORTS"));
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
  EXPECT_EQ(config->source.kind, SourceKind::kLdif);
  EXPECT_EQ(config->source.path, "/data/export.ldif");
}

TEST(Config, RuleWithoutNameIsNamedByItsGroup) {
  absl::StatusOr<Config> config = Parse(Cfg("", "", "[[rules]]\ngroup = \"cn=x,dc=y\"\n"));
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_EQ(config->rules.size(), 1u);
  EXPECT_EQ(config->rules[0].name, "cn=x,dc=y");
  EXPECT_EQ(config->rules[0].priority, 1);  // no priority: its position in the file
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
