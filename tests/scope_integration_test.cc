// End-to-end for issue 14 item 4, assignments, and the SCIM half of item 5: the real `usersync`
// binary against the real `usersync-target`, on both faces where the face matters.
//  - scope.users: a user in no scoped group, named directly, is provisioned; a named user the
//    directory does not hold refuses the plan (exit 2), as a missing scope group does.
//  - scope.filter: a user the filter selects is provisioned beside the group's members.
//  - scope.require_rule: a user no rule covers gets no account; the users page lists it as
//    invalid with the reason, and explain says why.
//  - target.products on a SCIM target: a product typo exits 2 from `check` and `plan`, naming
//    the rule and the product, and nothing is sent.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "tests/support/subprocess.h"
#include "tests/support/sync_world.h"

namespace usersync {
namespace {

using testing::Contains;
using testing::DirectoryUser;
using testing::kStaffGroup;
using testing::kTeamGroup;
using testing::ProcessResult;
using testing::RuleToml;
using testing::StaffDirectory;
using testing::SyncWorld;
using testing::WorldConfig;

constexpr int kExitUsage = 2;

// The userNames the emulator holds (one store behind both faces).
std::vector<std::string> UserNames(const SyncWorld& world) {
  std::vector<std::string> out;
  for (const auto& [id, account] : world.ScimAccounts()) out.push_back(account.user_name);
  std::sort(out.begin(), out.end());
  return out;
}

// The line of `csv` whose text holds `part`, or "" when none does.
std::string LineWith(const std::string& csv, const std::string& part) {
  for (absl::string_view line : absl::StrSplit(csv, '\n')) {
    if (line.find(part) != absl::string_view::npos) return std::string(line);
  }
  return "";
}

class ScopeIntegrationTest : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override { ASSERT_TRUE(world_.StartTarget().ok()); }

  // user1 is in cn=staff; user2 and user3 are in no group.
  void WriteThreeUsers() {
    const std::vector<DirectoryUser> users = {
        {"user1", "Sn1", true}, {"user2", "Sn2", false}, {"user3", "Sn3", false}};
    world_.WriteDirectory(users);
  }

  WorldConfig Config(const std::string& scope_keys) const {
    WorldConfig config;
    config.target_kind = GetParam();
    config.scope_keys = scope_keys;
    return config;
  }

  SyncWorld world_{"scope"};
};

TEST_P(ScopeIntegrationTest, ADirectlyAssignedUserIsProvisioned) {
  WriteThreeUsers();
  world_.WriteConfig(Config("users = [\"uid=user2,ou=people,dc=example,dc=com\"]\n"));
  ProcessResult sync = world_.Usersync({"sync"});
  ASSERT_EQ(sync.exit_code, 0) << sync.out << sync.err;
  EXPECT_EQ(UserNames(world_),
            (std::vector<std::string>{"user1@example.com", "user2@example.com"}));

  ProcessResult explain = world_.Usersync({"explain", "uuid-user2"});
  ASSERT_EQ(explain.exit_code, 0) << explain.err;
  EXPECT_TRUE(Contains(explain.out, "In scope: directly assigned (scope.users)"));
}

// The filter reads a fixed column (sn, the last name) and an attribute no column holds
// (employeeType, which the source then reads as an extra attribute).
TEST_P(ScopeIntegrationTest, UsersTheFilterSelectsAreProvisioned) {
  std::string ldif =
      StaffDirectory({{"user1", "Sn1", true}, {"user2", "Sn2", false}, {"user3", "Sn3", false}})
          .Ldif();
  const std::string user2 = "dn: uid=user2,ou=people,dc=example,dc=com\n";
  ASSERT_NE(ldif.find(user2), std::string::npos);
  ldif.insert(ldif.find(user2) + user2.size(), "employeeType: Contractor\n");
  world_.WriteLdif(ldif);
  world_.WriteConfig(Config("filter = \"(|(sn=SN3)(employeeType=contractor))\"\n"));
  ProcessResult sync = world_.Usersync({"sync"});
  ASSERT_EQ(sync.exit_code, 0) << sync.out << sync.err;
  EXPECT_EQ(UserNames(world_), (std::vector<std::string>{"user1@example.com", "user2@example.com",
                                                         "user3@example.com"}));

  ProcessResult explain = world_.Usersync({"explain", "uuid-user2"});
  ASSERT_EQ(explain.exit_code, 0) << explain.err;
  EXPECT_TRUE(
      Contains(explain.out, "In scope: matches scope.filter (|(sn=SN3)(employeeType=contractor))"));
}

// Like a missing scope group: refused before anything is sent, naming the entry.
TEST_P(ScopeIntegrationTest, ADirectlyAssignedUserTheDirectoryLacksExits2) {
  WriteThreeUsers();
  world_.WriteConfig(Config("users = [\"uid=gone,ou=people,dc=example,dc=com\"]\n"));
  const int64_t writes_before = world_.Stats().writes();
  ProcessResult plan = world_.Usersync({"plan"});
  EXPECT_EQ(plan.exit_code, kExitUsage) << plan.out << plan.err;
  EXPECT_TRUE(Contains(plan.err,
                       "scope user \"uid=gone,ou=people,dc=example,dc=com\" "
                       "(scope.users) is not in the directory"));
  EXPECT_EQ(world_.Stats().writes(), writes_before);
}

// cn=staff holds user1 and the nested cn=team (ann); the one rule covers cn=team only.
TEST_P(ScopeIntegrationTest, RequireRuleLeavesAnUncoveredUserOutWithItsReason) {
  StaffDirectory directory({{"user1", "Sn1", true}});
  directory.team_group = true;
  directory.team = {"ann"};
  world_.WriteDirectory(directory);
  WorldConfig config = Config("require_rule = true\n");
  config.rules = RuleToml("Team", 1, kTeamGroup);
  world_.WriteConfig(config);

  ProcessResult sync = world_.Usersync({"sync"});
  ASSERT_EQ(sync.exit_code, 0) << sync.out << sync.err;
  EXPECT_EQ(UserNames(world_), std::vector<std::string>{"ann@example.com"});

  ProcessResult csv = world_.Usersync({"users", "--format", "csv"});
  ASSERT_EQ(csv.exit_code, 0) << csv.err;
  const std::string user1 = LineWith(csv.out, "uuid-user1");
  EXPECT_TRUE(Contains(user1, "invalid,uuid-user1,"));
  EXPECT_TRUE(Contains(user1, "no rule covers this user (scope.require_rule)"));
  EXPECT_TRUE(Contains(LineWith(csv.out, "uuid-ann"), "matched,uuid-ann,"));

  ProcessResult table = world_.Usersync({"users"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_TRUE(Contains(table.out, "no rule covers this user (scope.require_rule)"));

  ProcessResult explain = world_.Usersync({"explain", "uuid-user1"});
  ASSERT_EQ(explain.exit_code, 0) << explain.err;
  EXPECT_TRUE(Contains(explain.out, "Out of scope: no rule covers this user (scope.require_rule)"));
}

INSTANTIATE_TEST_SUITE_P(Faces, ScopeIntegrationTest, ::testing::Values("scim", "goto"),
                         [](const ::testing::TestParamInfo<const char*>& param) {
                           return std::string(param.param);
                         });

// A SCIM target has no /licenses: target.products lists what it offers, and a typo is refused
// at load, by `check` and by `plan`, before anything reaches the target. (On a goto target the
// account's licenses are the list: GotoIntegrationTest.AProductNoLicenseCarriesExits2.)
TEST(ScopeProductsTest, AProductTypoOnAScimTargetExits2NamingTheRuleAndTheProduct) {
  SyncWorld world("scope-products");
  ASSERT_TRUE(world.StartTarget().ok());
  world.WriteDirectory(testing::NumberedUsers(2));
  WorldConfig config;
  config.target_keys = "rate = 1000\nburst = 100\nproducts = [\"G2M\", \"G2W\", \"G2T\"]\n";
  config.rules = RuleToml("Organizers", 1, kStaffGroup, "\"G2W\"");
  world.WriteConfig(config);
  ProcessResult saved = world.Usersync({"plan", "--out", "plan.json"});
  ASSERT_EQ(saved.exit_code, 0) << saved.out << saved.err;

  config.rules = RuleToml("Organizers", 1, kStaffGroup, "\"G2W\", \"GTM\"");
  world.WriteConfig(config);
  const std::vector<std::vector<std::string>> commands = {
      {"check"}, {"plan"}, {"sync"}, {"apply", "--plan", "plan.json"}};
  for (const std::vector<std::string>& args : commands) {
    SCOPED_TRACE(args[0]);
    ProcessResult result = world.Usersync(args);
    EXPECT_EQ(result.exit_code, kExitUsage) << result.out << result.err;
    EXPECT_TRUE(Contains(result.err,
                         "rules[0] 'Organizers' names product \"GTM\", which is not "
                         "in target.products (G2M, G2W, G2T)"));
  }
  EXPECT_EQ(world.Stats().writes(), 0);

  // Fixed, the same configuration syncs.
  config.rules = RuleToml("Organizers", 1, kStaffGroup, "\"G2W\", \"G2M\"");
  world.WriteConfig(config);
  ProcessResult sync = world.Usersync({"sync"});
  EXPECT_EQ(sync.exit_code, 0) << sync.out << sync.err;
  EXPECT_EQ(UserNames(world), (std::vector<std::string>{"user1@example.com", "user2@example.com"}));
}

}  // namespace
}  // namespace usersync
