// Progress and the plan's estimate (issue 16 item 2) end to end, through the real `usersync`
// binary and the real `usersync-target`: in a pseudo-terminal (forkpty) the phases and the live
// apply line appear on stderr; with stdout and stderr on pipes nothing of it does; `--progress
// plain:1s` prints whole lines for a log; `plan --format json` carries the estimate and stays
// one JSON document; `status` shows a sync in progress.
#include <gtest/gtest.h>
#include <pty.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

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
using testing::WorldConfig;

// Runs `usersync ARGS -c CONFIG` in the world's dir with stdin, stdout and stderr on a
// pseudo-terminal; returns its exit code and everything it wrote to the terminal.
ProcessResult RunInPty(const SyncWorld& world, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {USERSYNC_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.insert(argv.begin() + 2, {"-c", world.config()});
  std::vector<std::string> env = {std::string(testing::kTargetTokenEnv) + "=" + world.token(),
                                  "TERM=xterm", "PATH=/usr/bin:/bin"};
  std::vector<char*> argv_c;
  for (std::string& arg : argv) argv_c.push_back(arg.data());
  argv_c.push_back(nullptr);
  std::vector<char*> env_c;
  for (std::string& var : env) env_c.push_back(var.data());
  env_c.push_back(nullptr);
  const std::string dir = world.dir().string();

  ProcessResult result;
  int master = -1;
  const pid_t pid = forkpty(&master, nullptr, nullptr, nullptr);
  if (pid == 0) {  // the child: only async-signal-safe calls until exec
    if (chdir(dir.c_str()) != 0) _exit(126);
    execve(argv_c[0], argv_c.data(), env_c.data());
    _exit(127);
  }
  if (pid < 0) {
    ADD_FAILURE() << "forkpty: " << errno;
    return result;
  }
  char buffer[4096];
  for (;;) {
    const ssize_t got = read(master, buffer, sizeof(buffer));
    if (got > 0) {
      result.out.append(buffer, static_cast<size_t>(got));
    } else if (got < 0 && errno == EINTR) {
      continue;
    } else {
      break;  // EIO: the child closed the terminal
    }
  }
  close(master);
  int status = 0;
  waitpid(pid, &status, 0);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

class ProgressIntegrationTest : public ::testing::Test {
 protected:
  // 12 users, creates one by one (no /Bulk) at 8 requests/s: the apply takes over a second,
  // long enough for the display's thread (4 redraws a second) to draw the live line.
  void SetUp() override {
    ASSERT_TRUE(world_.StartTarget({"--no-bulk"}).ok());
    world_.WriteDirectory(NumberedUsers(12));
    WorldConfig config;
    config.target_keys = "rate = 8\nburst = 1\n";
    world_.WriteConfig(config);
  }

  SyncWorld world_{"progress"};
};

TEST_F(ProgressIntegrationTest, TerminalShowsPhasesAndTheLiveApplyLine) {
  const ProcessResult sync = RunInPty(world_, {"sync"});
  ASSERT_EQ(sync.exit_code, 0) << sync.out;
  EXPECT_TRUE(Contains(sync.out, "· read 12 users in "));
  EXPECT_TRUE(Contains(sync.out, "· listed 0 accounts in "));
  EXPECT_TRUE(Contains(sync.out, "· planned 12 operations in "));
  EXPECT_TRUE(Contains(sync.out, "\r\033[Kapplying: "));  // redrawn in place
  EXPECT_TRUE(Contains(sync.out, "/12 ("));
  EXPECT_TRUE(Contains(sync.out, "· applied 12 operations in "));
  // The estimate before applying, and beside the result.
  EXPECT_TRUE(Contains(sync.out, "Applying: at most 12 requests at 8/s, burst 1: about 1.4s"));
  EXPECT_TRUE(Contains(sync.out, "Estimate: 12 requests in about 1.4s; actual: "));
}

TEST_F(ProgressIntegrationTest, PipesGetNoProgress) {
  const ProcessResult sync = world_.Usersync({"sync"});
  ASSERT_EQ(sync.exit_code, 0) << sync.out << sync.err;
  EXPECT_TRUE(Lacks(sync.err, "· read"));
  EXPECT_TRUE(Lacks(sync.err, "applying"));
  EXPECT_TRUE(Lacks(sync.err + sync.out, "\r"));
  EXPECT_TRUE(Contains(sync.out, "Applying: at most 12 requests"));  // the estimate is output
}

TEST_F(ProgressIntegrationTest, QuietTerminalGetsNoProgress) {
  const ProcessResult sync = RunInPty(world_, {"sync", "--quiet"});
  ASSERT_EQ(sync.exit_code, 0) << sync.out;
  EXPECT_TRUE(Lacks(sync.out, "· read"));
  EXPECT_TRUE(Lacks(sync.out, "\033[K"));
}

// For journald and CI: whole lines, no escape sequences, on stderr only.
TEST_F(ProgressIntegrationTest, PlainProgressPrintsLines) {
  const ProcessResult sync = world_.Usersync({"sync", "--progress", "plain:1s"});
  ASSERT_EQ(sync.exit_code, 0) << sync.out << sync.err;
  EXPECT_TRUE(Contains(sync.err, "· planned 12 operations in "));
  EXPECT_TRUE(Contains(sync.err, "· applied 12 operations in "));
  EXPECT_TRUE(Lacks(sync.err, "\033"));
  EXPECT_TRUE(Lacks(sync.out, "· applied"));
  const ProcessResult bad = world_.Usersync({"sync", "--progress", "plain:1ms"});
  EXPECT_EQ(bad.exit_code, 2) << bad.out << bad.err;
  EXPECT_EQ(world_.Stats().creates, 12);  // the bad flag sent nothing more
}

// `plan --format json` on a terminal: one JSON document with the estimate, no progress.
TEST_F(ProgressIntegrationTest, PlanJsonCarriesTheEstimate) {
  const ProcessResult plan = world_.Usersync({"plan", "--format", "json"});
  ASSERT_EQ(plan.exit_code, 0) << plan.out << plan.err;
  EXPECT_TRUE(Contains(plan.out, R"("estimate":{"operations":12,"requests":12,)"));
  EXPECT_TRUE(Contains(plan.out, R"("upper_bound":true})"));
  EXPECT_EQ(plan.out.front(), '{');
}

// While a sync applies, `status` names its phase and done/total; after it, nothing.
TEST_F(ProgressIntegrationTest, StatusShowsARunInProgress) {
  world_.WriteDirectory(NumberedUsers(40));  // 40 creates at 8/s: about 5 s
  ChildProcess sync;
  ASSERT_TRUE(world_.StartUsersync(sync, {"sync", "--quiet"}).ok());
  std::string seen;
  for (int attempt = 0; attempt < 200 && !Contains(seen, "/40 operations"); ++attempt) {
    seen = world_.Usersync({"status"}).out;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(Contains(seen, "Running now: the run started "));
  EXPECT_TRUE(Contains(seen, "/40 operations"));
  ASSERT_EQ(sync.Wait(), 0);
  const ProcessResult after = world_.Usersync({"status", "--format", "json"});
  EXPECT_TRUE(Contains(after.out, R"("running":null)"));
}

}  // namespace
}  // namespace usersync
