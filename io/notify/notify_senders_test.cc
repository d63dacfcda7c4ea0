// The webhook against a loopback httplib server (retries on 503 with the backoff slept on a
// FakeClock, no retry on 400) and the command hook through /bin/sh scripts.
#include "io/notify/notify_senders.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <string>

#include "io/http/testing/fake_target_server.h"

namespace usersync::io {
namespace {

using http_testing::FakeTargetServer;

class NotifyWebhookTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.server().Post("/hook",
                          [this](const httplib::Request& request, httplib::Response& response) {
                            const int count = ++calls_;
                            if (count <= failures_) {
                              response.status = status_;
                              return;
                            }
                            server_.RecordPost(request.body);
                            response.status = 200;
                          });
    server_.Start();
    notify_.webhook = server_.base("/hook");
    notify_.timeout = std::chrono::seconds(5);
  }

  FakeTargetServer server_;
  std::atomic<int> calls_{0};
  int failures_ = 0;
  int status_ = 503;
  NotifyConfig notify_;
  FakeClock clock_;
};

TEST_F(NotifyWebhookTest, RetriesUnavailableWithBackoffThenDelivers) {
  failures_ = 2;
  ASSERT_TRUE(PostWebhook(notify_, R"({"a":1})", clock_).ok());
  EXPECT_EQ(calls_.load(), 3);
  ASSERT_EQ(server_.posts().size(), 1u);
  EXPECT_EQ(server_.posts()[0], R"({"a":1})");
  // 1 s after the first attempt, 2 s after the second.
  EXPECT_EQ(clock_.Now() - FakeClock().Now(), std::chrono::seconds(3));
}

TEST_F(NotifyWebhookTest, GivesUpAfterTheConfiguredAttempts) {
  failures_ = 100;
  notify_.webhook_attempts = 2;
  const absl::Status status = PostWebhook(notify_, "{}", clock_);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(std::string(status.message()), "webhook 127.0.0.1: HTTP 503 (after 2 attempts)");
  EXPECT_EQ(calls_.load(), 2);
}

TEST_F(NotifyWebhookTest, DoesNotRetryARefusal) {
  failures_ = 100;
  status_ = 400;
  const absl::Status status = PostWebhook(notify_, "{}", clock_);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(calls_.load(), 1);
}

std::string Script(const std::string& name, const std::string& body) {
  const std::string path = ::testing::TempDir() + "/" + name;
  {
    std::ofstream out(path, std::ios::trunc);
    out << "#!/bin/sh\n" << body;
  }
  EXPECT_EQ(::chmod(path.c_str(), 0755), 0);
  return path;
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

TEST(NotifyCommand, GetsTheJsonOnStdinAndArguments) {
  const std::string out = ::testing::TempDir() + "/notify_stdin.json";
  NotifyConfig notify;
  notify.command = {Script("notify_cat.sh", "cat > \"$1\"\n"), out};
  ASSERT_TRUE(RunNotifyCommand(notify, R"({"event":"failure"})").ok());
  EXPECT_EQ(Slurp(out), R"({"event":"failure"})");
}

TEST(NotifyCommand, ReportsExitStatusAndStartFailure) {
  NotifyConfig notify;
  notify.command = {Script("notify_exit3.sh", "exit 3\n")};
  const absl::Status status = RunNotifyCommand(notify, "{}");
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(std::string(status.message()).find(": exit status 3"), std::string::npos) << status;

  notify.command = {::testing::TempDir() + "/no-such-hook"};
  const absl::Status missing = RunNotifyCommand(notify, "{}");
  EXPECT_NE(std::string(missing.message()).find("cannot start"), std::string::npos) << missing;
}

// A hook that ignores its stdin and hangs: killed at notify.timeout, and a JSON larger than
// any pipe buffer does not block usersync.
TEST(NotifyCommand, KilledAfterTheTimeout) {
  NotifyConfig notify;
  notify.command = {Script("notify_hang.sh", "exec sleep 60\n")};
  notify.timeout = std::chrono::milliseconds(300);
  const absl::Status status = RunNotifyCommand(notify, std::string(1 << 20, 'x'));
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(std::string(status.message()).find("killed"), std::string::npos) << status;
}

}  // namespace
}  // namespace usersync::io
