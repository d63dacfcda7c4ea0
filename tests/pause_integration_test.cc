// Provisioning on/off (issue 16 item 5) end to end, through the real `usersync` binary against
// the real `usersync-target`: a paused state store makes sync, apply, release and each `run`
// round send nothing (the emulator's request counter does not move) and exit 0 saying so, while
// plan and status still work; resume lets the next sync apply.
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <string>

#include "absl/status/statusor.h"
#include "tests/support/subprocess.h"
#include "tests/support/sync_world.h"

namespace usersync {
namespace {

using testing::ChildProcess;
using testing::Contains;
using testing::Lacks;
using testing::NumberedUsers;
using testing::ProcessResult;
using testing::SyncWorld;
using testing::TargetStats;

constexpr int kExitOk = 0;
constexpr char kPausedLine[] = "usersync: provisioning is paused since ";

class PauseIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(world_.StartTarget().ok());
    world_.WriteDirectory(NumberedUsers(3));
    world_.WriteConfig();
  }

  // Runs `usersync ARGS -c CONFIG` and checks it exited 0 saying provisioning is paused,
  // without a single request reaching the target.
  void ExpectPausedNoOp(const std::vector<std::string>& args) {
    const int64_t requests = world_.Stats().requests;
    ProcessResult result = world_.Usersync(args);
    EXPECT_EQ(result.exit_code, kExitOk) << args[0] << "\n" << result.out << result.err;
    EXPECT_TRUE(Contains(result.out, kPausedLine)) << args[0];
    EXPECT_TRUE(Contains(result.out, "(HR migration): `usersync resume -c "));
    EXPECT_TRUE(Contains(result.out, "Nothing was read or sent."));
    EXPECT_EQ(world_.Stats().requests, requests) << args[0] << " sent requests while paused";
  }

  SyncWorld world_{"pause"};
};

// pause → sync, apply and release send nothing and exit 0; plan and status still work and
// status shows the pause; resume → sync applies.
TEST_F(PauseIntegrationTest, PausedStoreSendsNothingUntilResumed) {
  ProcessResult pause = world_.Usersync({"pause", "--reason", "HR migration"});
  ASSERT_EQ(pause.exit_code, kExitOk) << pause.out << pause.err;
  EXPECT_TRUE(Contains(pause.out, "Provisioning paused since "));

  ExpectPausedNoOp({"sync"});
  EXPECT_EQ(world_.Stats().users, 0);

  // plan still reads both sides (that is all it does) and writes a plan for apply.
  ProcessResult plan = world_.Usersync({"plan", "--out", world_.Path("plan.json")});
  ASSERT_EQ(plan.exit_code, kExitOk) << plan.out << plan.err;
  EXPECT_TRUE(Contains(plan.out, "new 3"));
  EXPECT_EQ(world_.Stats().writes(), 0);
  ExpectPausedNoOp({"apply", "--plan", world_.Path("plan.json")});
  ExpectPausedNoOp({"release", "--all"});

  ProcessResult status = world_.Usersync({"status"});
  ASSERT_EQ(status.exit_code, kExitOk) << status.out << status.err;
  EXPECT_TRUE(Contains(status.out, "Provisioning: PAUSED: provisioning is paused since "));
  EXPECT_TRUE(Contains(status.out, "(HR migration)"));
  // A paused command records no run.
  EXPECT_TRUE(Contains(status.out, "No runs yet."));
  ProcessResult json = world_.Usersync({"status", "--format", "json"});
  ASSERT_EQ(json.exit_code, kExitOk) << json.out << json.err;
  EXPECT_TRUE(Contains(json.out, R"("reason":"HR migration")"));

  ProcessResult resume = world_.Usersync({"resume"});
  ASSERT_EQ(resume.exit_code, kExitOk) << resume.out << resume.err;
  EXPECT_TRUE(Contains(resume.out, "Provisioning resumed (it was paused since "));

  ProcessResult sync = world_.Usersync({"sync"});
  ASSERT_EQ(sync.exit_code, kExitOk) << sync.out << sync.err;
  EXPECT_TRUE(Lacks(sync.out, kPausedLine));
  EXPECT_TRUE(Contains(sync.out, "Result: 3 done (3 create), 0 failed"));
  EXPECT_EQ(world_.Stats().creates, 3);
  status = world_.Usersync({"status", "--format", "json"});
  EXPECT_TRUE(Contains(status.out, R"("paused":null)"));
  ProcessResult again = world_.Usersync({"resume"});
  EXPECT_EQ(again.exit_code, kExitOk);
  EXPECT_TRUE(Contains(again.out, "Provisioning was not paused; nothing changed."));
}

// Pausing an already paused store keeps when it stopped; a second pause without a reason
// changes nothing.
TEST_F(PauseIntegrationTest, PausingTwiceKeepsTheFirstTime) {
  ASSERT_EQ(world_.Usersync({"pause", "--reason", "HR migration"}).exit_code, kExitOk);
  ProcessResult twice = world_.Usersync({"pause"});
  ASSERT_EQ(twice.exit_code, kExitOk) << twice.out << twice.err;
  EXPECT_TRUE(Contains(twice.out, "Provisioning was already paused since "));
  EXPECT_TRUE(Contains(twice.out, "(HR migration); nothing changed."));
}

// Each `run --every` round of a paused store does nothing and exits 0; the loop goes on.
TEST_F(PauseIntegrationTest, EveryPollingRoundSendsNothing) {
  ASSERT_EQ(world_.Usersync({"pause", "--reason", "HR migration"}).exit_code, kExitOk);
  ChildProcess poller;
  ASSERT_TRUE(world_.StartUsersync(poller, {"run", "--every", "1s"}).ok());
  std::string output;
  int rounds_ended = 0;
  while (rounds_ended < 2) {
    absl::StatusOr<std::string> line = poller.ReadStdoutLine(std::chrono::seconds(60));
    ASSERT_TRUE(line.ok()) << line.status() << "\n" << output << poller.stderr_output();
    output += *line + "\n";
    if (line->starts_with("== run ") && Contains(*line, " exit ")) {
      ++rounds_ended;
      EXPECT_TRUE(Contains(*line, " exit 0; next run at "));
    }
  }
  poller.Signal(SIGTERM);
  EXPECT_EQ(poller.Wait(), kExitOk);
  EXPECT_TRUE(Contains(output, kPausedLine));
  const TargetStats stats = world_.Stats();
  EXPECT_EQ(stats.requests, 0);
  EXPECT_EQ(stats.users, 0);
}

}  // namespace
}  // namespace usersync
