// End-to-end delta cycles (issue 15 items 4 and 5): the real `usersync sync --delta` against the
// real `usersync-target`, with an LDIF source. A delta cycle plans only the users a change
// affects, looks their accounts up instead of listing the target, and leaves the target as a
// full cycle would (a full plan afterwards has nothing to do); a full cycle runs, and says why,
// when the delta cannot be trusted.
#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "io/state/directory_snapshot.h"
#include "tests/support/plan_json.h"
#include "tests/support/subprocess.h"
#include "tests/support/sync_world.h"

namespace usersync {
namespace {

using testing::Contains;
using testing::DirectoryUser;
using testing::NumberedUsers;
using testing::ParsePlanJson;
using testing::ProcessResult;
using testing::StaffDirectory;
using testing::SyncWorld;
using testing::TargetStats;
using testing::WorldConfig;

class DeltaIntegrationTest : public ::testing::Test {
 protected:
  // A full plan of the world as it is now plans nothing: the delta cycles left the target as a
  // full cycle would.
  void ExpectFullPlanIsEmpty(const std::string& when) {
    ProcessResult plan = world_.Usersync({"plan", "--format", "json"});
    ASSERT_EQ(plan.exit_code, 0) << plan.out << plan.err;
    const testing::PlanJson parsed = ParsePlanJson(plan.out);
    ASSERT_TRUE(parsed.parsed) << plan.out;
    EXPECT_TRUE(parsed.operations.empty()) << when << ": a full plan still has work:\n" << plan.out;
  }

  ProcessResult Delta() {
    ProcessResult sync = world_.Usersync({"sync", "--delta"});
    EXPECT_EQ(sync.exit_code, 0) << sync.out << sync.err;
    return sync;
  }

  SyncWorld world_{"delta"};
};

// The case on the GoTo face: a first cycle is full (no snapshot); three changes (a new
// user, a changed last name, a user out of scope) make a delta cycle that plans those three
// users, looks up their accounts (no listing) and makes one create, one update, one suspension.
TEST_F(DeltaIntegrationTest, ThreeChangesMakeADeltaOfExactlyThose) {
  ASSERT_TRUE(world_.StartTarget().ok());
  StaffDirectory directory(NumberedUsers(10));
  world_.WriteDirectory(directory);
  WorldConfig config;
  config.target_kind = "goto";
  world_.WriteConfig(config);
  ProcessResult first = Delta();
  EXPECT_TRUE(Contains(first.out, "Cycle: full (no snapshot of an earlier cycle"));
  EXPECT_EQ(world_.Stats().active_users, 10);

  directory.users[2].sn = "Renamed";              // user3: an update
  directory.users[4].in_scope = false;            // user5: out of scope, suspended
  directory.users.push_back({"user11", "Sn11"});  // a create
  world_.WriteDirectory(directory);
  const TargetStats before = world_.Stats();
  ProcessResult second = Delta();
  EXPECT_TRUE(Contains(second.out,
                       "Cycle: delta (read 12 directory entries, 3 changed; 3 users "
                       "planned; 5 ids and emails looked up"));
  const TargetStats after = world_.Stats();
  EXPECT_EQ(after.creates - before.creates, 1);
  EXPECT_EQ(after.suspensions - before.suspensions, 1);
  EXPECT_EQ(after.active_users, 10);
  // Look-ups of the three users' emails and the two linked accounts (user11 has none yet),
  // instead of a listing.
  EXPECT_EQ(after.user_filters - before.user_filters, 3);
  EXPECT_TRUE(Contains(second.out, "looked up 2 accounts"));
  ExpectFullPlanIsEmpty("after the delta");

  // Nothing changed: a delta that plans nobody and writes nothing.
  const TargetStats quiet_before = world_.Stats();
  ProcessResult third = Delta();
  EXPECT_TRUE(Contains(third.out, "0 changed; 0 users planned"));
  EXPECT_EQ(world_.Stats().writes(), quiet_before.writes());
}

// A delta cannot be trusted: the configuration changed, the snapshot is damaged, the last full
// cycle is older than schedule.full_every, or the snapshot is gone after `match --unlink`. Each
// time a full cycle runs and says why.
TEST_F(DeltaIntegrationTest, UntrustedSnapshotFallsBackToAFullCycle) {
  ASSERT_TRUE(world_.StartTarget().ok());
  world_.WriteDirectory(NumberedUsers(5));
  WorldConfig config;
  world_.WriteConfig(config);
  Delta();
  EXPECT_TRUE(Contains(Delta().out, "Cycle: delta"));

  config.extra = "# a comment is a change too\n";
  world_.WriteConfig(config);
  EXPECT_TRUE(Contains(Delta().out, "Cycle: full (the configuration changed since the last cycle"));

  std::string snapshot = world_.ReadFile("state.db.snapshot");
  ASSERT_GT(snapshot.size(), 40u);
  snapshot[snapshot.size() / 2] ^= 0x20;
  world_.WriteFile("state.db.snapshot", snapshot);
  ProcessResult damaged = Delta();
  EXPECT_TRUE(Contains(damaged.out, "Cycle: full (the snapshot is damaged"));
  EXPECT_TRUE(Contains(Delta().out, "Cycle: delta"));

  // The last full cycle two days ago: schedule.full_every (24h) has passed.
  absl::StatusOr<io::DirectorySnapshot> stored =
      io::ReadDirectorySnapshot(world_.Path("state.db.snapshot"));
  ASSERT_TRUE(stored.ok()) << stored.status();
  stored->header.full_at -= 2 * 24 * 3600;
  ASSERT_TRUE(io::WriteDirectorySnapshot(world_.Path("state.db.snapshot"), stored->header,
                                         stored->directory)
                  .ok());
  EXPECT_TRUE(Contains(Delta().out, "Cycle: full (schedule.full_every (24h) has passed"));
  EXPECT_TRUE(Contains(Delta().out, "Cycle: delta"));

  ProcessResult unlink = world_.Usersync({"match", "--unlink", "uuid-user1"});
  ASSERT_EQ(unlink.exit_code, 0) << unlink.out << unlink.err;
  EXPECT_TRUE(Contains(Delta().out, "Cycle: full (no snapshot of an earlier cycle"));
}

// The randomized end-to-end variant: 10 rounds of random changes (last names, scope, the nested
// team group, users added and removed) through `sync --delta` on the SCIM face; after each, a
// full plan has nothing to do.
TEST_F(DeltaIntegrationTest, RandomRoundsLeaveNothingForAFullPlan) {
  ASSERT_TRUE(world_.StartTarget().ok());
  StaffDirectory directory(NumberedUsers(12));
  directory.team_group = true;
  directory.team = {"team1", "team2"};
  world_.WriteDirectory(directory);
  WorldConfig config;
  // Rounds that remove a few of a dozen users would trip the shrink guard (held in both kinds
  // of cycle alike, but then a full plan is not empty).
  config.source += "max_shrink_percent = 100\n";
  world_.WriteConfig(config);
  Delta();
  std::mt19937 rng(15);
  int next_user = 13;
  for (int round = 0; round < 10; ++round) {
    for (int change = 0; change < 3; ++change) {
      std::vector<DirectoryUser>& users = directory.users;
      switch (rng() % 5) {
        case 0:
          users[rng() % users.size()].sn = "Sn" + std::to_string(rng() % 100);
          break;
        case 1:
          users[rng() % users.size()].in_scope ^= true;
          break;
        case 2:
          users.push_back({"user" + std::to_string(next_user++), "New"});
          break;
        case 3:
          if (users.size() > 3)
            users.erase(users.begin() + static_cast<long>(rng() % users.size()));
          break;
        default:
          if (directory.team.size() > 1 && rng() % 2 == 0) {
            directory.team.pop_back();
          } else {
            directory.team.push_back("team" + std::to_string(next_user++));
          }
      }
    }
    world_.WriteDirectory(directory);
    ProcessResult sync = Delta();
    EXPECT_TRUE(Contains(sync.out, "Cycle: delta")) << "round " << round;
    ExpectFullPlanIsEmpty("round " + std::to_string(round));
  }
}

}  // namespace
}  // namespace usersync
