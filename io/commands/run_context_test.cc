#include "io/commands/run_context.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "io/clock.h"
#include "io/commands/exit_code.h"
#include "io/commands/progress_run.h"
#include "io/executor.h"
#include "io/output.h"
#include "io/secrets.h"

namespace usersync::io {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

class RunContextTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) / "run_context_test" /
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ / "u.toml") << "[source]\nkind = \"ldif\"\npath = \"d.ldif\"\n"
                                      "[target]\nurl = \"http://127.0.0.1:9/scim/v2\"\n"
                                      "[state]\npath = \"state.db\"\n";
    options_.config_path = (dir_ / "u.toml").string();
    options_.clock = &clock_;
  }

  void WriteLdif(const std::string& text) { std::ofstream(dir_ / "d.ldif") << text; }

  std::filesystem::path dir_;
  FakeClock clock_;
  CommandOptions options_;
};

TEST_F(RunContextTest, ConfigTakesTheOptionsOverrides) {
  options_.target_url = "http://127.0.0.1:1/other";
  options_.logs_dir = (dir_ / "elsewhere").string();
  Session session(options_);
  ASSERT_TRUE(LoadSessionConfig(session).ok());
  EXPECT_EQ(session.config.target.url, "http://127.0.0.1:1/other");
  EXPECT_EQ(session.config.logs_dir, (dir_ / "elsewhere").string());
  EXPECT_EQ(session.config.state_path, (dir_ / "state.db").string());
  EXPECT_EQ(&session.clock, &clock_);
}

// A syntax error in the directory file is bad input (exit 2), named by file and line, whatever
// the command that reads it.
TEST_F(RunContextTest, MalformedDirectoryFileIsInvalidArgument) {
  WriteLdif("version: 1\n\ndn: uid=a,dc=example,dc=com\nthis line has no colon\n");
  Session session(options_);
  ASSERT_TRUE(LoadSessionConfig(session).ok());
  const absl::Status status = ReadDirectory(session);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_THAT(std::string(status.message()), StartsWith("reading the directory: "));
  EXPECT_THAT(std::string(status.message()), HasSubstr("d.ldif:4: "));
  EXPECT_EQ(ExitCodeFor(status), kExitUsage);
}

TEST_F(RunContextTest, MissingDirectoryFileIsNotFound) {
  Session session(options_);
  ASSERT_TRUE(LoadSessionConfig(session).ok());
  const absl::Status status = ReadDirectory(session);
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound) << status;
  EXPECT_EQ(ExitCodeFor(status), kExitUsage);
}

// Reading takes the clock's time: the fake clock does not move, so 0 s.
TEST_F(RunContextTest, ReadsTheDirectoryTimedOnTheClock) {
  WriteLdif("version: 1\n\ndn: uid=a,dc=example,dc=com\nobjectClass: inetOrgPerson\nuid: a\n");
  Session session(options_);
  ASSERT_TRUE(LoadSessionConfig(session).ok());
  ASSERT_TRUE(ReadDirectory(session).ok());
  EXPECT_EQ(session.directory.user_count(), 1u);
  EXPECT_EQ(session.read_seconds, 0.0);
  const core::MonoTime start = clock_.Now();
  clock_.Advance(std::chrono::milliseconds(1500));
  EXPECT_EQ(SecondsSince(clock_, start), 1.5);
  EXPECT_EQ(NowStamp(clock_), "2024-01-01T00:00:01.500Z");
}

// Another run holding the state store is a passing condition, like an unreachable server: 4.
TEST_F(RunContextTest, SecondRunLockIsUnavailable) {
  Session first(options_);
  ASSERT_TRUE(LoadSessionConfig(first).ok());
  ASSERT_TRUE(AcquireRunLock(first).ok());
  Session second(options_);
  ASSERT_TRUE(LoadSessionConfig(second).ok());
  const absl::Status status = AcquireRunLock(second);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  EXPECT_EQ(ExitCodeFor(status), kExitUnreachable);
}

TEST(RunContext, DescribesOperationsAndCountsByKind) {
  core::Operation op;
  op.kind = core::OpKind::kUpdate;
  op.email = "bob@example.com";
  op.account_id = "acc-7";
  EXPECT_EQ(DescribeOp(op), "update bob@example.com (account acc-7)");
  op.kind = core::OpKind::kCreate;
  op.email.clear();
  op.account_id.clear();
  EXPECT_EQ(DescribeOp(op), "create -");
  ApplyTotals totals;
  totals.done_by_kind["update"] = 1;
  totals.done_by_kind["create"] = 3;
  EXPECT_EQ(DoneByKind(totals), "3 create, 1 update");
}

// A plan or a report that carries an echoed token (a server's value in an account) is written
// redacted; so is what goes to stdout and stderr.
TEST_F(RunContextTest, WriteFileAndPrintRedactSecrets) {
  ClearSecretsForTest();
  RegisterSecret("tok-in-a-plan-0123456789");
  const std::string path = (dir_ / "plan.json").string();
  ASSERT_TRUE(WriteFile(path, R"({"display_name":"tok-in-a-plan-0123456789"})").ok());
  std::FILE* out = std::tmpfile();
  ASSERT_NE(out, nullptr);
  Print(out, "usersync: HTTP 400: Bearer tok-in-a-plan-0123456789\n");
  std::rewind(out);
  char printed[256] = {};
  const size_t printed_size = std::fread(printed, 1, sizeof(printed) - 1, out);
  std::fclose(out);
  ClearSecretsForTest();
  std::ifstream in(path);
  const std::string written((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(written, R"({"display_name":"[redacted]"})");
  EXPECT_EQ(std::string(printed, printed_size), "usersync: HTTP 400: Bearer [redacted]\n");
}

// Read-only commands open the store read-only: a missing one is read as empty, not created.
TEST_F(RunContextTest, ReadOnlyAccessCreatesNoStateStore) {
  Session session(options_);
  ASSERT_TRUE(LoadSessionConfig(session).ok());
  ASSERT_TRUE(OpenStateStore(session, Access::kReadOnly).ok());
  EXPECT_FALSE(std::filesystem::exists(dir_ / "state.db"));
  ASSERT_TRUE(OpenStateStore(session, Access::kRecord).ok());
  EXPECT_TRUE(std::filesystem::exists(dir_ / "state.db"));
}

// target.batch unset: a GoTo estimate counts GoTo's largest batch, as the driver sends it; a
// SCIM target's creates are one request each (its /Bulk is learned from the server).
TEST(CostModelFor, UnsetBatchIsTheLargestTheTargetTakes) {
  TargetConfig target;
  target.kind = TargetKind::kGoto;
  EXPECT_EQ(CostModelFor(target).create_batch, kGotoMaxBatch);
  target.batch = 100;
  EXPECT_EQ(CostModelFor(target).create_batch, 100);
  target.kind = TargetKind::kScim;
  EXPECT_EQ(CostModelFor(target).create_batch, 1);
}

}  // namespace
}  // namespace usersync::io
