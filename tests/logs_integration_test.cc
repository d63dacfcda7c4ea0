// Logs (issue 16 item 4) end to end, through the real `usersync` binary and the real
// `usersync-target`: a run that cannot reach its target leaves a line in errors.log, and every
// run appends its line and the day's running summary to logs.dir/status-DAY.log.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "tests/support/subprocess.h"
#include "tests/support/sync_world.h"

namespace usersync {
namespace {

using testing::Contains;
using testing::NumberedUsers;
using testing::ProcessResult;
using testing::SyncWorld;

// The one status-*.log of the world's logs (the test runs within one UTC day but for a run at
// midnight, which would show as two files: then the later one).
std::string StatusLog(const SyncWorld& world) {
  std::string last;
  for (const auto& entry : std::filesystem::directory_iterator(world.Path("logs"))) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with("status-") && name > last) last = name;
  }
  return last.empty() ? std::string() : world.ReadFile("logs/" + last);
}

TEST(LogsIntegrationTest, RunLevelFailureInErrorsLogAndDailyStatus) {
  SyncWorld world("logs");
  ASSERT_TRUE(world.StartTarget().ok());
  world.WriteDirectory(NumberedUsers(4));
  world.WriteConfig();
  ASSERT_EQ(world.Usersync({"sync"}).exit_code, 0);

  world.StopTarget();  // the next run cannot list the target
  const ProcessResult down = world.Usersync({"sync"});
  ASSERT_EQ(down.exit_code, 4) << down.out << down.err;
  const std::string errors = world.ReadFile("logs/errors.log");
  EXPECT_TRUE(Contains(errors, "sync run 2 stopped before applying anything (exit 4): "));
  EXPECT_TRUE(Contains(errors, "listing the target's accounts"));

  const std::string status = StatusLog(world);
  EXPECT_TRUE(Contains(status, " run mode=sync exit=0 matched=0 update=0 new=4 "));
  EXPECT_TRUE(Contains(status, " create=4 failed=0 held=0 requests="));
  EXPECT_TRUE(Contains(status, " run mode=sync exit=4\n"));
  // The day's line after the second run sums both.
  EXPECT_TRUE(Contains(status, " runs=2 exit_0=1 matched=0 update=0 new=4 "));
  EXPECT_TRUE(Contains(status, " exit_4=1"));
}

}  // namespace
}  // namespace usersync
