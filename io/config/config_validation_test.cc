// The configuration is refused with the file, line, key and reason: unknown keys, wrong types,
// values out of range, secrets in the file, missing locations.
#include <stdlib.h>

#include <filesystem>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "io/config/config.h"
#include "io/config/config_test_util.h"
#include "io/config/transport_check.h"

namespace usersync::io {
namespace {

using namespace config_test;  // NOLINT: the shared test helpers
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

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
  EXPECT_THAT(Rejection(Cfg("kind = \"ldapp\"\n")),
              AllOf(HasSubstr("source.kind"), HasSubstr("\"ldap\", \"ldif\" or \"entra\""),
                    HasSubstr("ldapp")));
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
  EXPECT_THAT(Rejection(Cfg("", "kind = \"goto\"\naccount_key = \"1\"\nbatch = 1001\n")),
              AllOf(HasSubstr("target.batch"), HasSubstr("at most 1000")));
  EXPECT_THAT(Rejection(Cfg("", "max_retries = -1\n")), HasSubstr("target.max_retries"));
  EXPECT_THAT(Rejection(Cfg("", "max_accounts = 0\n")), HasSubstr("target.max_accounts"));
  EXPECT_THAT(Rejection(Cfg("page_size = 0\n")), HasSubstr("source.page_size"));
  EXPECT_THAT(Rejection(Cfg("connections = 0\n")), HasSubstr("source.connections"));
  EXPECT_THAT(Rejection(Cfg("max_shrink_percent = 101\n")), HasSubstr("source.max_shrink_percent"));
  EXPECT_THAT(Rejection(Cfg("max_shrink_percent = -1\n")), HasSubstr("source.max_shrink_percent"));
  EXPECT_THAT(Rejection(Cfg("max_shrink_percent = \"20\"\n")),
              HasSubstr("source.max_shrink_percent"));
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
  config = Parse(Cfg("max_shrink_percent = 0\n"));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->source.max_shrink_percent, 0);
  config = Parse(Cfg("max_shrink_percent = 100\n"));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->source.max_shrink_percent, 100);
  EXPECT_EQ(Parse(Cfg())->source.max_shrink_percent, 20);
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

// A goto target's admin settings (io/config/internal/rule_roles.h): refused at load with the
// file's line and a hint.
TEST(Config, GotoManagerRolesAreValidated) {
  const std::string goto_target = "kind = \"goto\"\naccount_key = \"1\"\n";
  const auto rule = [&](const std::string& keys) {
    return Cfg("", goto_target,
               absl::StrCat("[[rules]]\ngroup = \"cn=a\"\nadmin = \"manager\"\n", keys));
  };
  EXPECT_THAT(Rejection(rule("privileges = [\"MANAGE_USERS\", \"BOSS\"]\n")),
              AllOf(HasSubstr("usersync.toml:12:"), HasSubstr("rules[0].privileges"),
                    HasSubstr("\"BOSS\""), HasSubstr("RUN_REPORTS")));
  EXPECT_THAT(Rejection(rule("")), AllOf(HasSubstr("rules[0].admin"), HasSubstr("role_set")));
  EXPECT_THAT(Rejection(rule("privileges = [\"RUN_REPORTS\"]\nmanaged_groups = [\"Sales\"]\n")),
              AllOf(HasSubstr("rules[0].managed_groups"), HasSubstr("role_set")));
  EXPECT_THAT(Rejection(rule("privileges = [\"RUN_REPORTS\"]\nrole_set = \"Helpdesk\"\n")),
              HasSubstr("rules[0].role_set"));
  absl::StatusOr<Config> config = Parse(rule("role_set = \" Helpdesk \"\n"));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->rules[0].role_set, "Helpdesk");
  // role_set is GoTo's; a SCIM target takes any privileges (written to usersync's extension).
  EXPECT_THAT(Rejection(Cfg("", "",
                            "[[rules]]\ngroup = \"cn=a\"\nadmin = \"manager\"\n"
                            "role_set = \"Helpdesk\"\n")),
              AllOf(HasSubstr("rules[0].role_set"), HasSubstr("goto")));
  config = Parse(Cfg("", "",
                     "[[rules]]\ngroup = \"cn=a\"\nadmin = \"manager\"\n"
                     "privileges = [\"anything\"]\n"));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(ToPlanConfig(*config).rules[0].privileges, std::vector<std::string>{"anything"});
}

// A rule's lists of names are trimmed; an empty name, or one with a comma (usersync compares a
// list as one comma-joined string), is refused naming the key.
TEST(Config, RuleNameListsAreChecked) {
  const auto rule = [](const std::string& keys) {
    return Cfg("", "", absl::StrCat("[[rules]]\ngroup = \"cn=a\"\nadmin = \"manager\"\n", keys));
  };
  absl::StatusOr<Config> config =
      Parse(rule("managed_groups = [\" Sales \"]\ndevice_groups = [\"Kiosks \"]\n"
                 "settings_template = \"Standard\"\n"));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->rules[0].managed_groups, std::vector<std::string>{"Sales"});
  EXPECT_EQ(config->rules[0].device_groups, std::vector<std::string>{"Kiosks"});
  EXPECT_THAT(
      Rejection(rule("device_groups = [\"Kiosks,Laptops\"]\n")),
      AllOf(HasSubstr("usersync.toml:"), HasSubstr("rules[0].device_groups"), HasSubstr("comma")));
  EXPECT_THAT(Rejection(rule("managed_groups = [\"  \"]\n")),
              AllOf(HasSubstr("rules[0].managed_groups"), HasSubstr("empty")));
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

// A password inside a URL is a secret in the file: refused with the line, never echoed.
TEST(Config, PasswordInsideAUrlIsRejected) {
  const std::string target = Rejection(
      "[source]\nurl = \"ldap://127.0.0.1\"\n[target]\nurl = "
      "\"https://svc:hunter2@scim.example.com\"\n");
  EXPECT_THAT(target,
              AllOf(HasSubstr("usersync.toml:4:"), HasSubstr("target.url"), HasSubstr("password"),
                    HasSubstr("token_file"), Not(HasSubstr("hunter2"))));
  // Even where the URL's scheme is wrong too: the password check comes first.
  EXPECT_THAT(
      Rejection("[source]\nurl = \"ldap://127.0.0.1\"\n[target]\nurl = \"ftp://u:hunter2@h\"\n"),
      Not(HasSubstr("hunter2")));
  const std::string source = Rejection(
      "[source]\nurl = \"ldaps://cn=admin:hunter2@ldap.example.com\"\n[target]\n"
      "url = \"https://scim.example.com\"\n");
  EXPECT_THAT(source, AllOf(HasSubstr("usersync.toml:2:"), HasSubstr("source.url"),
                            HasSubstr("bind_password_file"), Not(HasSubstr("hunter2"))));
  // A user name alone is no secret.
  EXPECT_TRUE(Parse("[source]\nurl = \"ldap://127.0.0.1\"\n[target]\n"
                    "url = \"https://svc@scim.example.com\"\n")
                  .ok());
}

// A credential that would cross the network in clear is refused, unless allow_insecure says so.
TEST(Config, CredentialsInClearAreRejected) {
  const std::string target = Rejection(
      "[source]\nurl = \"ldap://127.0.0.1\"\n[target]\nurl = \"http://scim.example.com/v2\"\n");
  EXPECT_THAT(target,
              AllOf(HasSubstr("usersync.toml:4:"), HasSubstr("target.url"), HasSubstr("in clear"),
                    HasSubstr("https://"), HasSubstr("target.allow_insecure = true")));
  const std::string source = Rejection(
      "[source]\nurl = \"ldap://ldap.example.com\"\nbind_dn = \"cn=sync\"\n[target]\n"
      "url = \"https://scim.example.com\"\n");
  EXPECT_THAT(source, AllOf(HasSubstr("usersync.toml:2:"), HasSubstr("source.url"),
                            HasSubstr("start_tls = true"), HasSubstr("source.allow_insecure")));
}

TEST(Config, CredentialsInClearAllowedOnLoopbackWithTlsOrWhenAllowed) {
  for (const char* host : {"127.0.0.1", "127.8.9.10", "localhost", "LOCALHOST", "[::1]"}) {
    const std::string text = absl::StrCat(
        "[source]\nurl = \"ldap://", host,
        ":389\"\nbind_dn = \"cn=sync\"\n[target]\nurl = \"http://", host, ":8080/scim/v2\"\n");
    EXPECT_TRUE(Parse(text).ok()) << text << Parse(text).status();
  }
  absl::StatusOr<Config> allowed = Parse(
      "[source]\nurl = \"ldap://ldap.example.com\"\nbind_dn = \"cn=sync\"\n"
      "allow_insecure = true\n[target]\nurl = \"http://scim.example.com\"\n"
      "allow_insecure = true\n");
  ASSERT_TRUE(allowed.ok()) << allowed.status();
  EXPECT_TRUE(allowed->source.allow_insecure);
  EXPECT_TRUE(allowed->target.allow_insecure);
  EXPECT_EQ(InsecureTransportWarnings(*allowed).size(), 2u);
  // StartTLS, or no bind_dn (an anonymous read): no password in clear.
  EXPECT_TRUE(Parse("[source]\nurl = \"ldap://ldap.example.com\"\nbind_dn = \"cn=s\"\n"
                    "start_tls = true\n[target]\nurl = \"https://scim.example.com\"\n")
                  .ok());
  EXPECT_TRUE(Parse("[source]\nurl = \"ldap://ldap.example.com\"\n[target]\n"
                    "url = \"https://scim.example.com\"\n")
                  .ok());
  // Not loopback, whatever the name suggests.
  EXPECT_FALSE(Parse("[source]\nurl = \"ldap://127.0.0.1\"\n[target]\n"
                     "url = \"http://127.0.0.1.example.com\"\n")
                   .ok());
  EXPECT_THAT(Rejection("[source]\nurl = \"ldap://127.0.0.1\"\n[target]\nurl = \"http://x\"\n"
                        "allow_insecure = \"yes\"\n"),
              AllOf(HasSubstr("usersync.toml:5:"), HasSubstr("target.allow_insecure")));
}

TEST(Config, UrlHostsAndLoopback) {
  EXPECT_EQ(UrlHost("ldap://[::1]:389/dc=x"), "::1");
  EXPECT_EQ(UrlHost("https://u:p@Scim.Example.com:8443/v2?x=1"), "scim.example.com");
  EXPECT_TRUE(IsLoopbackUrl("http://127.0.0.1"));
  EXPECT_FALSE(IsLoopbackUrl("http://128.0.0.1"));
  EXPECT_FALSE(IsLoopbackUrl("http://127.0.0.256"));
  EXPECT_TRUE(UrlHasPassword("https://a:b@h/x"));
  EXPECT_FALSE(UrlHasPassword("https://h/x?u=a:b@c"));
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

}  // namespace
}  // namespace usersync::io
