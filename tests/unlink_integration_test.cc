// End-to-end tests of unlinking (issue 14 item 8): `usersync match --unlink` forgets a stored
// link so that the next plan creates the account again, refuses an unknown id (exit 2, nothing
// changed), takes a CSV file all or nothing; and a state store whose links mostly name accounts
// the target does not hold (an emptied target, another tenant) makes the plan exit 2 with the
// reason, sending nothing. The real `usersync` binary runs against the real `usersync-target`
// emulator over loopback HTTP.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "tests/support/http_client.h"
#include "tests/support/plan_json.h"
#include "tests/support/subprocess.h"
#include "tests/support/sync_world.h"

namespace usersync {
namespace {

using testing::Contains;
using testing::Lacks;
using testing::NumberedUsers;
using testing::PlanJson;
using testing::ProcessResult;
using testing::SyncWorld;

class UnlinkIntegrationTest : public ::testing::Test {
 protected:
  // `users` numbered users synced to a fresh emulator on the face `kind`: every one linked.
  void SyncUsers(int users, const std::string& kind = "scim") {
    ASSERT_TRUE(world_.StartTarget().ok());
    world_.WriteDirectory(NumberedUsers(users));
    testing::WorldConfig config;
    config.target_kind = kind;
    world_.WriteConfig(config);
    ProcessResult sync = world_.Usersync({"sync"});
    ASSERT_EQ(sync.exit_code, 0) << sync.out << sync.err;
  }

  PlanJson Plan() {
    ProcessResult plan = world_.Usersync({"plan", "--format", "json"});
    EXPECT_EQ(plan.exit_code, 0) << plan.err;
    return testing::ParsePlanJson(plan.out);
  }

  // The emulator's account of `email`, deleted behind usersync's back.
  void DeleteAtTarget(const std::string& email) {
    const std::string id = world_.ScimAccounts().at(email).id;
    testing::HttpResult deleted =
        testing::HttpDelete(world_.target().scim_url() + "/Users/" + id, world_.token());
    ASSERT_EQ(deleted.status, 204) << deleted.body;
  }

  SyncWorld world_{"unlink"};
};

// The Done-when of issue 14: an account deleted at the target leaves its user invalid until
// `--unlink`; then the plan creates the account again, and the sync does. On both faces (one
// store behind them: the account is deleted through the SCIM face either way).
class UnlinkOnEachFaceTest : public UnlinkIntegrationTest,
                             public ::testing::WithParamInterface<const char*> {};

TEST_P(UnlinkOnEachFaceTest, UnlinkThenPlanCreatesTheAccountAgain) {
  SyncUsers(2, GetParam());
  DeleteAtTarget("user1@example.com");
  PlanJson stuck = Plan();
  ASSERT_EQ(stuck.invalid.size(), 1u);
  EXPECT_TRUE(Contains(stuck.invalid[0].reason, "no longer exists at the target"));
  EXPECT_TRUE(stuck.operations.empty());

  ProcessResult unlink = world_.Usersync({"match", "--unlink", "uuid-user1"});
  ASSERT_EQ(unlink.exit_code, 0) << unlink.out << unlink.err;
  EXPECT_TRUE(Contains(unlink.out, "Unlinked uuid-user1: forgot the link to account"));
  PlanJson again = Plan();
  EXPECT_TRUE(again.invalid.empty());
  ASSERT_EQ(again.operations.size(), 1u);
  EXPECT_EQ(again.operations[0].op, "create");
  EXPECT_EQ(again.operations[0].email, "user1@example.com");

  ProcessResult sync = world_.Usersync({"sync"});
  ASSERT_EQ(sync.exit_code, 0) << sync.out << sync.err;
  EXPECT_EQ(world_.ScimAccounts().count("user1@example.com"), 1u);
  EXPECT_TRUE(Plan().operations.empty());
  // The unlinking is on record as a run of its own.
  EXPECT_TRUE(Contains(world_.Usersync({"status"}).out, "unlink"));
}

INSTANTIATE_TEST_SUITE_P(Faces, UnlinkOnEachFaceTest, ::testing::Values("scim", "goto"),
                         [](const ::testing::TestParamInfo<const char*>& param) {
                           return std::string(param.param);
                         });

// An id with no stored link is named, exit 2, and nothing is forgotten: not even the good id
// given beside it.
TEST_F(UnlinkIntegrationTest, UnknownIdExits2AndChangesNothing) {
  SyncUsers(2);
  ProcessResult unknown = world_.Usersync({"match", "--unlink", "uuid-user1", "uuid-nobody"});
  EXPECT_EQ(unknown.exit_code, 2) << unknown.out << unknown.err;
  EXPECT_TRUE(Contains(unknown.err, "nothing was changed"));
  EXPECT_TRUE(
      Contains(unknown.err, "no stored link or manual match for directory id 'uuid-nobody'"));
  EXPECT_TRUE(Lacks(unknown.err, "'uuid-user1'"));
  EXPECT_TRUE(Plan().operations.empty());  // uuid-user1 is still linked: no create

  ProcessResult neither = world_.Usersync({"match", "--unlink"});
  EXPECT_EQ(neither.exit_code, 2);
  EXPECT_TRUE(Contains(neither.err, "match --unlink needs DIRECTORY_ID... or --csv FILE"));
}

// The CSV form is all or nothing: a bad line or an unknown id names its line and forgets none.
TEST_F(UnlinkIntegrationTest, CsvFormIsAllOrNothing) {
  SyncUsers(3);
  DeleteAtTarget("user1@example.com");
  DeleteAtTarget("user2@example.com");
  world_.WriteFile("unlink.csv", "source_id\r\nuuid-user1\r\nuuid-ghost\r\nuuid-user2,x\r\n");
  ProcessResult bad = world_.Usersync({"match", "--unlink", "--csv", "unlink.csv"});
  EXPECT_EQ(bad.exit_code, 2) << bad.out << bad.err;
  EXPECT_TRUE(Contains(bad.err, "unlink.csv: 2 bad line(s); nothing was changed"));
  EXPECT_TRUE(Contains(
      bad.err, "unlink.csv:3: no stored link or manual match for directory id 'uuid-ghost'"));
  EXPECT_TRUE(Contains(bad.err, "unlink.csv:4: expected 1 field (source_id), found 2"));
  EXPECT_EQ(Plan().invalid.size(), 2u);

  world_.WriteFile("unlink.csv", "source_id\nuuid-user1\n\"uuid-user2\"\n");
  ProcessResult good = world_.Usersync({"match", "--unlink", "--csv", "unlink.csv"});
  ASSERT_EQ(good.exit_code, 0) << good.out << good.err;
  EXPECT_TRUE(Contains(good.out, "Forgot 2 directory id(s)"));
  PlanJson plan = Plan();
  EXPECT_TRUE(plan.invalid.empty());
  ASSERT_EQ(plan.operations.size(), 2u);
  for (const testing::PlannedOperation& op : plan.operations) EXPECT_EQ(op.op, "create");
}

// A state store pointed at an emptied target (here: a fresh emulator on the same config): the
// plan and the sync exit 2 with the counts and the fixes, and send nothing; unlinking every id
// lets the next sync create the accounts again.
TEST_F(UnlinkIntegrationTest, EmptiedTargetRefusesThePlanAndSendsNothing) {
  SyncUsers(12);
  ASSERT_TRUE(world_.StartTarget().ok());  // a new, empty store
  world_.WriteConfig();                    // its port
  for (const char* command : {"plan", "sync"}) {
    ProcessResult refused = world_.Usersync({command});
    EXPECT_EQ(refused.exit_code, 2) << command << ": " << refused.out << refused.err;
    EXPECT_TRUE(Contains(refused.err,
                         "refusing to plan: 12 of 12 stored links (100%) name "
                         "accounts the target does not list"));
    EXPECT_TRUE(Contains(refused.err, "another tenant, or the target was emptied"));
    EXPECT_TRUE(Contains(refused.err, "Check target.url"));
    EXPECT_TRUE(Contains(refused.err, "--unlink"));
  }
  EXPECT_EQ(world_.Stats().writes(), 0);

  std::string csv = "source_id\n";
  for (int user_idx = 1; user_idx <= 12; ++user_idx) {
    csv += "uuid-user" + std::to_string(user_idx) + "\n";
  }
  world_.WriteFile("all.csv", csv);
  ProcessResult unlink = world_.Usersync({"match", "--unlink", "--csv", "all.csv"});
  ASSERT_EQ(unlink.exit_code, 0) << unlink.out << unlink.err;
  ProcessResult sync = world_.Usersync({"sync"});
  ASSERT_EQ(sync.exit_code, 0) << sync.out << sync.err;
  EXPECT_EQ(world_.Stats().creates, 12);
}

}  // namespace
}  // namespace usersync
