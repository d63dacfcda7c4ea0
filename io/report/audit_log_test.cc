#include "io/report/audit_log.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "io/clock.h"
#include "io/secrets.h"

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

// A full disk (/dev/full answers ENOSPC to every write) is kept as the logs' status, naming
// the file and the reason; the other log goes on, and Close reports the first failure.
TEST(RunLogs, FailedWriteIsKeptWithThePathAndTheReason) {
  const std::filesystem::path dir =
      std::filesystem::path(::testing::TempDir()) / "audit_log_test_full";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::filesystem::create_symlink("/dev/full", dir / "audit.jsonl");
  FakeClock clock;
  absl::StatusOr<std::unique_ptr<RunLogs>> logs = RunLogs::Open(dir.string(), clock);
  ASSERT_TRUE(logs.ok()) << logs.status();
  EXPECT_TRUE((*logs)->status().ok());
  AuditRecord record;
  record.op = "create";
  (*logs)->Audit(record);
  const absl::Status failed = (*logs)->status();
  EXPECT_EQ(failed.code(), absl::StatusCode::kInternal);
  EXPECT_THAT(std::string(failed.message()),
              HasSubstr((dir / "audit.jsonl").string() + ": No space left on device"));
  (*logs)->Error("still written");
  EXPECT_THAT(Slurp((*logs)->error_path()), HasSubstr("still written"));
  EXPECT_EQ((*logs)->Close(), failed);
}

TEST(RunLogs, CloseOfHealthyLogsIsOk) {
  const std::filesystem::path dir =
      std::filesystem::path(::testing::TempDir()) / "audit_log_test_close";
  std::filesystem::remove_all(dir);
  absl::StatusOr<std::unique_ptr<RunLogs>> logs = RunLogs::Open(dir.string());
  ASSERT_TRUE(logs.ok()) << logs.status();
  (*logs)->Error("one line");
  EXPECT_TRUE((*logs)->Close().ok());
  EXPECT_TRUE((*logs)->Close().ok());  // idempotent
}

// An error a server echoed with the token in it reaches neither file.
TEST(RunLogs, RedactsRegisteredSecrets) {
  ClearSecretsForTest();
  RegisterSecret("tok-0123456789");
  const std::filesystem::path dir =
      std::filesystem::path(::testing::TempDir()) / "audit_log_test_redact";
  std::filesystem::remove_all(dir);
  absl::StatusOr<std::unique_ptr<RunLogs>> logs = RunLogs::Open(dir.string());
  ASSERT_TRUE(logs.ok()) << logs.status();
  AuditRecord record;
  record.op = "create";
  record.error = "HTTP 400: bad header Authorization: Bearer tok-0123456789";
  (*logs)->Audit(record);
  (*logs)->Error("create a@example.com: HTTP 400: Bearer tok-0123456789");
  ClearSecretsForTest();
  const std::string audit = Slurp((*logs)->audit_path());
  const std::string errors = Slurp((*logs)->error_path());
  EXPECT_THAT(audit, HasSubstr("Bearer [redacted]"));
  EXPECT_THAT(errors, HasSubstr("Bearer [redacted]"));
  EXPECT_EQ(audit.find("tok-0123456789"), std::string::npos);
  EXPECT_EQ(errors.find("tok-0123456789"), std::string::npos);
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
