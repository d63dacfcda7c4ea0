#include "io/report/audit_log.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "io/clock.h"

namespace usersync::io {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Both logs stamp their lines with the clock they were given, not the process's own.
TEST(RunLogs, StampsLinesWithItsClock) {
  const std::filesystem::path dir =
      std::filesystem::path(::testing::TempDir()) / "audit_log_test_stamps";
  std::filesystem::remove_all(dir);
  FakeClock clock;
  clock.Advance(std::chrono::milliseconds(1500));
  absl::StatusOr<std::unique_ptr<RunLogs>> logs = RunLogs::Open(dir.string(), clock);
  ASSERT_TRUE(logs.ok()) << logs.status();
  AuditRecord record;
  record.run_id = 7;
  record.op = "create";
  record.outcome = "done";
  record.http_status = 201;
  (*logs)->Audit(record);
  (*logs)->Error("create ann@example.com: HTTP 409");
  EXPECT_THAT(Slurp((*logs)->audit_path()),
              StartsWith(R"({"time":"2024-01-01T00:00:01.500Z","run":7,"op":"create")"));
  EXPECT_EQ(Slurp((*logs)->error_path()),
            "2024-01-01T00:00:01.500Z create ann@example.com: HTTP 409\n");
}

// A wait on a fake clock moves it instead of blocking.
TEST(FakeClock, SleepForAdvances) {
  FakeClock clock;
  const core::MonoTime before = clock.Now();
  clock.SleepFor(std::chrono::hours(2));
  EXPECT_EQ(clock.Now() - before, std::chrono::hours(2));
}

}  // namespace
}  // namespace usersync::io
