#include "io/commands/log_rotation.h"

#include <filesystem>
#include <fstream>
#include <string>

#include "gtest/gtest.h"

namespace usersync::io {
namespace {

namespace fs = std::filesystem;

void Write(const fs::path& path, size_t bytes) { std::ofstream(path) << std::string(bytes, 'x'); }

class LogRotationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // One directory per test: ctest runs the tests of this suite in parallel.
    dir_ = fs::path(::testing::TempDir()) / "log-rotation" /
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  fs::path dir_;
  const absl::Time now_ = absl::FromCivil(absl::CivilDay(2026, 12, 7), absl::UTCTimeZone());
};

// A log at max_size moves to .1, the older ones shift, the one past `keep` is dropped; a
// smaller log stays.
TEST_F(LogRotationTest, SizeShiftsGenerations) {
  Write(dir_ / "audit.jsonl", 100);
  Write(dir_ / "audit.jsonl.1", 1);
  Write(dir_ / "audit.jsonl.2", 2);
  Write(dir_ / "errors.log", 99);
  ASSERT_TRUE(
      RotateLogs(dir_.string(), {.max_size_bytes = 100, .keep = 2, .keep_days = 0}, now_).ok());
  EXPECT_FALSE(fs::exists(dir_ / "audit.jsonl"));
  EXPECT_EQ(fs::file_size(dir_ / "audit.jsonl.1"), 100u);
  EXPECT_EQ(fs::file_size(dir_ / "audit.jsonl.2"), 1u);  // the old .2 was replaced
  EXPECT_FALSE(fs::exists(dir_ / "audit.jsonl.3"));
  EXPECT_EQ(fs::file_size(dir_ / "errors.log"), 99u);
}

TEST_F(LogRotationTest, AgeDeletesOldDailyStatusLogs) {
  Write(dir_ / "status-2026-09-07.log", 1);  // 91 days before
  Write(dir_ / "status-2026-09-08.log", 1);  // 90 days before: kept
  Write(dir_ / "status-2026-12-07.log", 1);
  Write(dir_ / "usersync.prom", 1);
  ASSERT_TRUE(
      RotateLogs(dir_.string(), {.max_size_bytes = 0, .keep = 5, .keep_days = 90}, now_).ok());
  EXPECT_FALSE(fs::exists(dir_ / "status-2026-09-07.log"));
  EXPECT_TRUE(fs::exists(dir_ / "status-2026-09-08.log"));
  EXPECT_TRUE(fs::exists(dir_ / "status-2026-12-07.log"));
  EXPECT_TRUE(fs::exists(dir_ / "usersync.prom"));
}

}  // namespace
}  // namespace usersync::io
