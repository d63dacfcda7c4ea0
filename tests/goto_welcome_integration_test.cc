// End-to-end for issue 14 item 9 (welcome emails): the real `usersync` binary against the real
// `usersync-target` on its GoTo face. target.suppress_welcome and a rule's suppress_welcome
// reach the batch create as "suppressEmail", so the emulator's outbox (/_emulator/outbox, the
// emails GoTo would have sent) holds exactly the users whose setting sends one; the SCIM face,
// which sends no welcome email, refuses the key at load.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "tests/support/http_client.h"
#include "tests/support/json_view.h"
#include "tests/support/subprocess.h"
#include "tests/support/sync_world.h"

namespace usersync {
namespace {

using testing::kStaffGroup;
using testing::kTeamGroup;
using testing::RuleToml;
using Strings = std::vector<std::string>;

class GotoWelcomeTest : public ::testing::Test {
 protected:
  // user1 and user2 in cn=staff; team1 and team2 in cn=team, nested in cn=staff.
  void SetUp() override {
    ASSERT_TRUE(world_.StartTarget().ok());
    testing::StaffDirectory directory({{"user1", "Sn-user1"}, {"user2", "Sn-user2"}});
    directory.team_group = true;
    directory.team = {"team1", "team2"};
    directory.mail_domain = "example.com";
    world_.WriteLdif(directory.Ldif());
  }

  // A goto target with `target_keys`, then `rules`.
  void WriteConfig(const std::string& target_keys, const std::string& rules) {
    testing::WorldConfig config;
    config.target_kind = "goto";
    config.target_keys += target_keys;
    config.rules = rules;
    world_.WriteConfig(config);
  }

  // A sync that must create all four users.
  void Sync() {
    testing::ProcessResult run = world_.Usersync({"sync"});
    ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
    EXPECT_EQ(world_.Stats().creates, 4);
  }

  // The emails of the outbox's entries, sorted.
  Strings Welcomed() const {
    testing::HttpResult outbox =
        testing::HttpGet(world_.target().base_url() + "/_emulator/outbox", world_.token());
    EXPECT_EQ(outbox.status, 200) << outbox.body;
    testing::JsonView entries(outbox.body);
    Strings emails;
    for (int64_t idx = 0; idx < entries.Size("/results"); ++idx) {
      emails.push_back(entries.Str("/results/" + std::to_string(idx) + "/email"));
    }
    std::sort(emails.begin(), emails.end());
    return emails;
  }

  testing::SyncWorld world_{"goto_welcome"};
};

const Strings kEveryone = {"team1@example.com", "team2@example.com", "user1@example.com",
                           "user2@example.com"};

TEST_F(GotoWelcomeTest, WithoutTheSettingEachCreatedUserGetsOneEmail) {
  WriteConfig("", RuleToml("Staff", 1, kStaffGroup));
  Sync();
  EXPECT_EQ(Welcomed(), kEveryone);
}

TEST_F(GotoWelcomeTest, TargetSuppressWelcomeLeavesTheOutboxEmpty) {
  WriteConfig("suppress_welcome = true\n", RuleToml("Staff", 1, kStaffGroup));
  Sync();
  EXPECT_EQ(Welcomed(), Strings());
  EXPECT_EQ(world_.Stats().welcome_emails, 0);
}

// The rule that gives a user its settings (the first by priority) decides; a rule that does not
// say leaves it to the target's setting.
TEST_F(GotoWelcomeTest, ARulesSettingWinsForItsUsers) {
  WriteConfig("", RuleToml("Team", 1, kTeamGroup, "\"G2M\"", "suppress_welcome = true\n") +
                      RuleToml("Staff", 2, kStaffGroup));
  Sync();
  EXPECT_EQ(Welcomed(), Strings({"user1@example.com", "user2@example.com"}));
}

TEST_F(GotoWelcomeTest, ARuleCanSendWhereTheTargetSuppresses) {
  WriteConfig("suppress_welcome = true\n",
              RuleToml("Team", 1, kTeamGroup, "\"G2M\"", "suppress_welcome = false\n") +
                  RuleToml("Staff", 2, kStaffGroup));
  Sync();
  EXPECT_EQ(Welcomed(), Strings({"team1@example.com", "team2@example.com"}));
}

// The plan says what each create will do: a plan file carries the setting to `apply --plan`.
TEST_F(GotoWelcomeTest, ThePlanFileCarriesTheSetting) {
  WriteConfig("suppress_welcome = true\n", RuleToml("Staff", 1, kStaffGroup));
  testing::ProcessResult plan = world_.Usersync({"plan", "--out", "plan.json"});
  ASSERT_EQ(plan.exit_code, 0) << plan.out << plan.err;
  EXPECT_NE(world_.ReadFile("plan.json").find(R"("suppress_welcome":true)"), std::string::npos);
  testing::ProcessResult apply = world_.Usersync({"apply", "--plan", "plan.json"});
  ASSERT_EQ(apply.exit_code, 0) << apply.out << apply.err;
  EXPECT_EQ(world_.Stats().creates, 4);
  EXPECT_EQ(Welcomed(), Strings());
}

// A plan file whose creates the configuration now wants with another welcome setting: apply
// refuses them as drifted (exit 5) and creates nothing.
TEST_F(GotoWelcomeTest, ApplyRefusesACreateWhoseSettingChangedSinceThePlan) {
  WriteConfig("suppress_welcome = true\n", RuleToml("Staff", 1, kStaffGroup));
  ASSERT_EQ(world_.Usersync({"plan", "--out", "plan.json"}).exit_code, 0);
  WriteConfig("", RuleToml("Staff", 1, kStaffGroup));
  testing::ProcessResult apply = world_.Usersync({"apply", "--plan", "plan.json"});
  EXPECT_EQ(apply.exit_code, 5) << apply.out << apply.err;
  EXPECT_NE((apply.out + apply.err).find("suppress_welcome should now be"), std::string::npos)
      << apply.out << apply.err;
  EXPECT_EQ(world_.Stats().creates, 0);
}

TEST_F(GotoWelcomeTest, AScimTargetRefusesTheSettingAtLoad) {
  testing::WorldConfig config;
  config.target_keys += "suppress_welcome = true\n";
  world_.WriteConfig(config);
  testing::ProcessResult run = world_.Usersync({"sync"});
  EXPECT_EQ(run.exit_code, 2) << run.out << run.err;
  EXPECT_NE(run.err.find("target.suppress_welcome"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("sends no welcome email"), std::string::npos) << run.err;
  EXPECT_EQ(world_.Stats().creates, 0);
}

}  // namespace
}  // namespace usersync
