// The rules' priorities and the welcome-email setting at load (io/config/internal/
// rule_settings.h, README "Rules"): a rule without `priority` ranks as its position in the
// file, two rules with one priority are refused naming both, and suppress_welcome is read for
// a goto target and refused with a hint for a SCIM one.
#include "absl/strings/str_cat.h"
#include "core/plan.h"
#include "io/config/config_test_util.h"

namespace usersync::io::config_test {
namespace {

constexpr char kGotoTarget[] = "kind = \"goto\"\naccount_key = \"1\"\n";

// A [[rules]] table named `name` on group cn=`name`, then `keys`.
std::string Rule(const std::string& name, const std::string& keys = "") {
  return absl::StrCat("[[rules]]\nname = \"", name, "\"\ngroup = \"cn=", name, "\"\n", keys);
}

// The rules' priorities in file order, or the status when refused.
std::vector<int> Priorities(const std::string& rules) {
  absl::StatusOr<Config> config = Parse(Cfg("", "", rules));
  EXPECT_TRUE(config.ok()) << config.status();
  std::vector<int> out;
  if (!config.ok()) return out;
  for (const core::Rule& rule : config->rules) out.push_back(rule.priority);
  return out;
}

TEST(ConfigRules, RuleWithoutPriorityRanksAsItsPositionInTheFile) {
  EXPECT_THAT(Priorities(Rule("A") + Rule("B") + Rule("C")), ElementsAre(1, 2, 3));
  // Explicit priorities that leave the positions free mix with implicit ones.
  EXPECT_THAT(Priorities(Rule("A", "priority = 10\n") + Rule("B") + Rule("C", "priority = 5\n")),
              ElementsAre(10, 2, 5));
}

// Before issue 14 a rule without priority got 1000 and lost to every later rule with one.
TEST(ConfigRules, AnUnprioritizedFirstRuleNoLongerLosesToALaterOne) {
  EXPECT_THAT(Priorities(Rule("First") + Rule("Second", "priority = 7\n")), ElementsAre(1, 7));
}

TEST(ConfigRules, TwoRulesWithOnePriorityAreRefusedNamingBoth) {
  // Lines: [source] 1-2, [target] 4-5, then rule A 7-10 (priority at 10), rule B 11-14.
  const std::string message =
      Rejection(Cfg("", "", Rule("A", "priority = 3\n") + Rule("B", "priority = 3\n")));
  EXPECT_THAT(message, AllOf(HasSubstr("usersync.toml:14:"), HasSubstr("two rules have priority 3"),
                             HasSubstr("rules[0] 'A' (priority = 3 at usersync.toml:10)"),
                             HasSubstr("rules[1] 'B' (priority = 3 at usersync.toml:14)")));
}

TEST(ConfigRules, AnImplicitPositionCollidingWithAnExplicitPriorityIsRefused) {
  // B (second in the file, no priority) ranks 2, which A claims explicitly.
  EXPECT_THAT(Rejection(Cfg("", "", Rule("A", "priority = 2\n") + Rule("B"))),
              AllOf(HasSubstr("two rules have priority 2"),
                    HasSubstr("rules[0] 'A' (priority = 2 at usersync.toml:10)"),
                    HasSubstr("rules[1] 'B' (no priority: its position in the file, 2 at "
                              "usersync.toml:11)")));
  // The explicit one later in the file: the message points at its line.
  EXPECT_THAT(Rejection(Cfg("", "", Rule("A") + Rule("B", "priority = 1\n"))),
              AllOf(HasSubstr("usersync.toml:13:"), HasSubstr("rules[0] 'A' (no priority"),
                    HasSubstr("rules[1] 'B' (priority = 1")));
}

TEST(ConfigRules, SuppressWelcomeReachesThePlanOnAGotoTarget) {
  absl::StatusOr<Config> config =
      Parse(Cfg("", absl::StrCat(kGotoTarget, "suppress_welcome = true\n"),
                Rule("A", "suppress_welcome = false\n") + Rule("B")));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_TRUE(config->target.suppress_welcome);
  ASSERT_EQ(config->rules.size(), 2u);
  EXPECT_EQ(config->rules[0].suppress_welcome, std::optional<bool>(false));
  EXPECT_EQ(config->rules[1].suppress_welcome, std::nullopt);  // the target's decides
  EXPECT_TRUE(ToPlanConfig(*config).suppress_welcome);

  config = Parse(Cfg("", kGotoTarget));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_FALSE(config->target.suppress_welcome);  // default: GoTo sends the welcome emails
}

TEST(ConfigRules, SuppressWelcomeIsRefusedForScimWithAHint) {
  EXPECT_THAT(Rejection(Cfg("", "suppress_welcome = true\n")),
              AllOf(HasSubstr("usersync.toml:6:"), HasSubstr("target.suppress_welcome"),
                    HasSubstr("SCIM face sends no welcome email")));
  EXPECT_THAT(Rejection(Cfg("", "", Rule("A", "suppress_welcome = true\n"))),
              AllOf(HasSubstr("rules[0].suppress_welcome"), HasSubstr("goto")));
  EXPECT_THAT(Rejection(Cfg("", kGotoTarget, Rule("A", "suppress_welcome = \"yes\"\n"))),
              HasSubstr("a boolean"));
}

}  // namespace
}  // namespace usersync::io::config_test
