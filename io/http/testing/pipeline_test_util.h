// Test support for the HttpPipeline unit tests (http_pipeline_test.cc,
// http_pipeline_limits_test.cc): an in-process HTTP server each test scripts, fast pipeline
// options and request helpers. Test-only (links httplib and gtest). Thread-safety: the
// server's handlers run on its own thread pool; the rest is for the test's thread.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <utility>

#include "gtest/gtest.h"
#include "httplib.h"
#include "io/http/http_pipeline.h"

namespace usersync::io::http_testing {

// An in-process HTTP server on 127.0.0.1, port 0, whose handlers each test scripts.
class TestServer {
 public:
  TestServer() {
    server_.new_task_queue = [] { return new httplib::ThreadPool(40); };
    server_.set_keep_alive_max_count(1'000'000);
    server_.set_tcp_nodelay(true);
  }
  ~TestServer() { Stop(); }

  httplib::Server& server() { return server_; }

  void Start() {
    port_ = server_.bind_to_any_port("127.0.0.1");
    ASSERT_GT(port_, 0);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // stop() is a no-op until listen has begun: wait for it (a readiness poll, not a timing).
    while (!server_.is_running()) std::this_thread::yield();
  }

  void Stop() {
    if (thread_.joinable()) {
      server_.stop();
      thread_.join();
    }
  }

  std::string Url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  int port() const { return port_; }

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
};

inline PipelineOptions FastOptions() {
  PipelineOptions options;
  options.rate = 0;  // unlimited unless the test is about the rate
  options.concurrency = 4;
  options.backoff_base = std::chrono::milliseconds(1);
  options.backoff_cap = std::chrono::milliseconds(10);
  options.timeout = std::chrono::milliseconds(10000);
  options.jitter_seed = 42;
  return options;
}

inline std::unique_ptr<HttpPipeline> StartPipeline(PipelineOptions options) {
  auto pipeline = HttpPipeline::Start(std::move(options));
  EXPECT_TRUE(pipeline.ok()) << pipeline.status();
  return std::move(pipeline).value();
}

inline HttpRequest Get(const std::string& url) {
  HttpRequest request;
  request.method = "GET";
  request.url = url;
  return request;
}

}  // namespace usersync::io::http_testing
