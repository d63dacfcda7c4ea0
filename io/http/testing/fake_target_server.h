// Test support shared by the HTTP drivers' unit tests (io/scim, io/goto): a scripted loopback
// HTTP server, pipeline options for fast tests, and helpers that run operations through a
// TargetApi and wait for their outcomes. Test users and operations: test_accounts.h.
//
// Test-only (links httplib and gtest). Thread-safety: FakeTargetServer's handlers run on its
// own thread pool; RecordPost/posts are thread-safe; the rest is for the test's thread.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "core/plan.h"
#include "core/str.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "io/http/http_pipeline.h"
#include "io/http/testing/test_accounts.h"
#include "io/target_api.h"

namespace usersync::io::http_testing {

inline constexpr char kTestToken[] = "test-token";

// No pacing, quick backoff, 2 retries, a fixed jitter seed and kTestToken.
inline PipelineOptions FastPipeline() {
  PipelineOptions options;
  options.rate = 0;
  options.concurrency = 8;
  options.backoff_base = std::chrono::milliseconds(1);
  options.backoff_cap = std::chrono::milliseconds(10);
  options.max_retries = 2;
  options.jitter_seed = 7;
  options.bearer_token = kTestToken;
  return options;
}

// A scripted HTTP server on a free loopback port: register handlers on server(), then
// Start(). Handlers that must outlive a client timeout wait on release(), which the
// destructor notifies before stopping the server.
class FakeTargetServer {
 public:
  FakeTargetServer() {
    server_.set_tcp_nodelay(true);
    server_.new_task_queue = [] { return new httplib::ThreadPool(16); };
  }
  ~FakeTargetServer() {
    release_.Notify();
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }
  FakeTargetServer(const FakeTargetServer&) = delete;
  FakeTargetServer& operator=(const FakeTargetServer&) = delete;

  httplib::Server& server() { return server_; }
  void Start() {
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::yield();
  }
  // "http://127.0.0.1:<port><path>", e.g. base("/scim/v2").
  std::string base(std::string_view path) const {
    return absl::StrCat("http://127.0.0.1:", port_, Sv(path));
  }
  absl::Notification& release() { return release_; }

  // Records a POST body; returns how many were recorded so far (this one included).
  int RecordPost(const std::string& body) {
    absl::MutexLock lock(&mu_);
    posts_.push_back(body);
    return static_cast<int>(posts_.size());
  }
  std::vector<std::string> posts() {
    absl::MutexLock lock(&mu_);
    return posts_;
  }

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  absl::Notification release_;
  absl::Mutex mu_;
  std::vector<std::string> posts_ ABSL_GUARDED_BY(mu_);
};

// Runs every operation at once (as the executor does) and waits for all outcomes;
// `before_wait`, when given, runs once every operation has been started.
inline std::vector<OpOutcome> ExecuteAll(TargetApi& target, const std::vector<core::Operation>& ops,
                                         const std::function<void()>& before_wait = nullptr) {
  std::vector<OpOutcome> outcomes(ops.size());
  absl::Mutex mu;
  size_t remaining = ops.size();
  for (size_t op_idx = 0; op_idx < ops.size(); ++op_idx) {
    target.Execute(ops[op_idx], [&, op_idx](OpOutcome outcome) {
      absl::MutexLock lock(&mu);
      outcomes[op_idx] = std::move(outcome);
      --remaining;
    });
  }
  if (before_wait) before_wait();
  absl::MutexLock lock(&mu);
  mu.Await(absl::Condition(
      +[](size_t* left) { return *left == 0; }, &remaining));
  return outcomes;
}

inline OpOutcome ExecuteOne(TargetApi& target, const core::Operation& op) {
  return ExecuteAll(target, {op})[0];
}

// Starts every operation, then Drain()s the target; returns how many succeeded.
inline int ExecuteAndDrain(TargetApi& target, const std::vector<core::Operation>& ops) {
  std::atomic<int> ok{0};
  for (const core::Operation& op : ops) {
    target.Execute(op, [&ok](OpOutcome outcome) {
      if (outcome.status.ok()) ++ok;
    });
  }
  target.Drain();
  return ok.load();
}

// The values of every "key":"..." string in a JSON body, in order (emails of a batch, userNames
// of a /Bulk request).
inline std::vector<std::string> StringsIn(const std::string& body, std::string_view key) {
  std::vector<std::string> values;
  const std::string quoted = absl::StrCat("\"", Sv(key), "\":\"");
  for (size_t at = body.find(quoted); at != std::string::npos; at = body.find(quoted, at)) {
    at += quoted.size();
    values.push_back(body.substr(at, body.find('"', at) - at));
  }
  return values;
}

// A loopback port nothing listens on: bound to learn a free one, then closed.
inline int ClosedPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  EXPECT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  close(fd);
  return ntohs(addr.sin_port);
}

}  // namespace usersync::io::http_testing
