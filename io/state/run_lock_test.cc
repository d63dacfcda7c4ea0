#include "io/state/run_lock.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

namespace usersync::io {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

std::string StatePath(const std::string& name) {
  const fs::path dir = fs::path(::testing::TempDir()) / "run_lock_test" / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return (dir / "state.db").string();
}

// flock(2) locks belong to an open file description, so a second Acquire in this same process
// conflicts just as another process would.
TEST(RunLock, SecondAcquireIsRefusedNamingTheHolderUntilTheFirstEnds) {
  const std::string path = StatePath("second");
  {
    absl::StatusOr<RunLock> first = RunLock::Acquire(path);
    ASSERT_TRUE(first.ok()) << first.status();
    EXPECT_TRUE(first->held());

    absl::StatusOr<RunLock> second = RunLock::Acquire(path);
    ASSERT_FALSE(second.ok());
    EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
    EXPECT_THAT(
        std::string(second.status().message()),
        testing::AllOf(HasSubstr(path + ".lock"), HasSubstr("by pid " + std::to_string(::getpid())),
                       HasSubstr("nothing was done")));

    RunLock moved = *std::move(first);  // the lock moves with it
    EXPECT_TRUE(moved.held());
    EXPECT_FALSE(RunLock::Acquire(path).ok());
  }
  absl::StatusOr<RunLock> after = RunLock::Acquire(path);
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_TRUE(after->held());
}

TEST(RunLock, InMemoryStoreTakesNoLock) {
  absl::StatusOr<RunLock> first = RunLock::Acquire(":memory:");
  absl::StatusOr<RunLock> second = RunLock::Acquire(":memory:");
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_FALSE(first->held());
}

TEST(RunLock, MissingDirectoryIsAPreconditionNamingTheFile) {
  const std::string path = StatePath("missing") + ".d/nowhere/state.db";
  absl::StatusOr<RunLock> lock = RunLock::Acquire(path);
  ASSERT_FALSE(lock.ok());
  EXPECT_EQ(lock.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(lock.status().message()), HasSubstr(path + ".lock"));
}

}  // namespace
}  // namespace usersync::io
