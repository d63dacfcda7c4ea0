// HttpPipeline against servers that misbehave: endless or oversized answers, Retry-After
// extremes, and a connection that dies after the server stored a POST (no hidden resend).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "io/clock.h"
#include "io/http/http_pipeline.h"
#include "io/http/testing/pipeline_test_util.h"

namespace usersync::io {
namespace {

using http_testing::FastOptions;
using http_testing::Get;
using http_testing::StartPipeline;
using http_testing::TestServer;
using std::chrono::seconds;

constexpr int64_t kBound = 1 << 20;

bool Contains(const absl::Status& status, const std::string& text) {
  return std::string(status.message()).find(text) != std::string::npos;
}

// A server streaming spaces forever (chunked): the transfer stops at the bound, once.
TEST(HttpPipelineLimits, EndlessBodyStopsAtTheBound) {
  TestServer server;
  std::atomic<int> hits{0};
  std::atomic<int64_t> streamed{0};
  server.server().Get("/endless", [&](const httplib::Request&, httplib::Response& res) {
    ++hits;
    res.set_chunked_content_provider("application/json", [&](size_t, httplib::DataSink& sink) {
      const std::string spaces(64 * 1024, ' ');
      streamed += static_cast<int64_t>(spaces.size());
      return sink.write(spaces.data(), spaces.size());  // false once the client has gone
    });
  });
  server.Start();
  PipelineOptions options = FastOptions();
  options.max_response_bytes = kBound;
  auto pipeline = StartPipeline(options);
  HttpResponse response = pipeline->Call(Get(server.Url("/endless?token=secret")));
  EXPECT_EQ(response.status.code(), absl::StatusCode::kResourceExhausted) << response.status;
  EXPECT_TRUE(Contains(response.status,
                       "GET " + server.Url("/endless") +
                           ": answer larger than target.max_response_bytes (1048576 bytes)"))
      << response.status;
  EXPECT_FALSE(Contains(response.status, "secret"));
  EXPECT_TRUE(response.body.empty());  // a part of an answer is no answer
  EXPECT_EQ(response.attempts, 1);
  EXPECT_EQ(hits.load(), 1);  // not retried
  EXPECT_FALSE(response.ambiguous);
}

// The same at the default bound (64 MiB): the answer is dropped, the pipeline keeps working.
TEST(HttpPipelineLimits, EndlessBodyStopsAtTheDefaultBound) {
  TestServer server;
  server.server().Get("/endless", [](const httplib::Request&, httplib::Response& res) {
    res.set_chunked_content_provider("application/json", [](size_t, httplib::DataSink& sink) {
      const std::string spaces(256 * 1024, ' ');
      return sink.write(spaces.data(), spaces.size());
    });
  });
  server.server().Get("/small", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("{}", "application/json");
  });
  server.Start();
  auto pipeline = StartPipeline(FastOptions());
  HttpResponse response = pipeline->Call(Get(server.Url("/endless")));
  EXPECT_EQ(response.status.code(), absl::StatusCode::kResourceExhausted) << response.status;
  EXPECT_TRUE(Contains(response.status, "(67108864 bytes)")) << response.status;
  EXPECT_TRUE(response.body.empty());
  EXPECT_TRUE(pipeline->Call(Get(server.Url("/small"))).status.ok());
}

// A Content-Length above the bound is refused before the body is read.
TEST(HttpPipelineLimits, AnnouncedLengthAboveTheBoundIsRefused) {
  TestServer server;
  std::atomic<int> hits{0};
  server.server().Get("/huge", [&](const httplib::Request&, httplib::Response& res) {
    ++hits;
    res.set_content_provider(int64_t{1} << 34, "application/json",
                             [](size_t, size_t, httplib::DataSink& sink) {
                               const std::string spaces(64 * 1024, ' ');
                               return sink.write(spaces.data(), spaces.size());
                             });
  });
  server.Start();
  PipelineOptions options = FastOptions();
  options.max_response_bytes = kBound;
  auto pipeline = StartPipeline(options);
  HttpResponse response = pipeline->Call(Get(server.Url("/huge")));
  EXPECT_EQ(response.status.code(), absl::StatusCode::kResourceExhausted) << response.status;
  EXPECT_TRUE(Contains(response.status, "answer larger than target.max_response_bytes"));
  EXPECT_TRUE(response.body.empty());
  EXPECT_EQ(hits.load(), 1);
}

// An answer exactly at the bound is accepted.
TEST(HttpPipelineLimits, AnswerAtTheBoundIsAccepted) {
  TestServer server;
  server.server().Get("/full", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(std::string(kBound, 'x'), "text/plain");
  });
  server.Start();
  PipelineOptions options = FastOptions();
  options.max_response_bytes = kBound;
  auto pipeline = StartPipeline(options);
  HttpResponse response = pipeline->Call(Get(server.Url("/full")));
  EXPECT_TRUE(response.status.ok()) << response.status;
  EXPECT_EQ(static_cast<int64_t>(response.body.size()), kBound);
}

// Answers 429 with `retry_after` to the first `failures` hits of GET /x, then 200.
void ThrottleThenServe(TestServer& server, std::atomic<int>& hits, int failures,
                       std::string retry_after) {
  server.server().Get(
      "/x", [&hits, failures, retry_after](const httplib::Request&, httplib::Response& res) {
        if (++hits <= failures) {
          res.status = 429;
          res.set_header("Retry-After", retry_after);
          return;
        }
        res.set_content("done", "text/plain");
      });
}

// Waits (a readiness poll, not a timing) until the pipeline has scheduled `total` seconds of
// retry delays.
void AwaitScheduledWait(HttpPipeline& pipeline, double total) {
  while (pipeline.stats().backoff_wait_seconds < total) std::this_thread::yield();
}

// Retry-After: 999999 waits max_retry_after (60 s on the fake clock), not 11 days.
TEST(HttpPipelineLimits, RetryAfterIsCutToMaxRetryAfter) {
  TestServer server;
  std::atomic<int> hits{0};
  ThrottleThenServe(server, hits, 1, "999999");
  server.Start();
  FakeClock clock;
  PipelineOptions options = FastOptions();
  options.clock = &clock;
  options.max_retry_after = seconds(60);
  auto pipeline = StartPipeline(options);
  absl::Notification finished;
  HttpResponse response;
  pipeline->Submit(Get(server.Url("/x")), [&](HttpResponse r) {
    response = std::move(r);
    finished.Notify();
  });
  AwaitScheduledWait(*pipeline, 1);
  EXPECT_EQ(pipeline->stats().backoff_wait_seconds, 60.0);
  clock.Advance(seconds(60));
  finished.WaitForNotification();
  EXPECT_TRUE(response.status.ok()) << response.status;
  EXPECT_EQ(response.attempts, 2);
}

// The default cap is 60 s.
TEST(HttpPipelineLimits, DefaultRetryLimits) {
  const PipelineOptions options;
  EXPECT_EQ(options.max_retry_after, seconds(60));
  EXPECT_EQ(options.retry_budget, seconds(600));
  EXPECT_EQ(options.max_response_bytes, 64 << 20);
}

// Budget 150 s, each wait 60 s: after two waits (120 s) a third would pass the budget, so the
// third 429 ends the request, although max_retries would allow more.
TEST(HttpPipelineLimits, RetryBudgetEndsTheRequest) {
  TestServer server;
  std::atomic<int> hits{0};
  ThrottleThenServe(server, hits, 1000, "60");
  server.Start();
  FakeClock clock;
  PipelineOptions options = FastOptions();
  options.clock = &clock;
  options.max_retries = 10;
  options.max_retry_after = seconds(60);
  options.retry_budget = seconds(150);
  auto pipeline = StartPipeline(options);
  absl::Notification finished;
  HttpResponse response;
  pipeline->Submit(Get(server.Url("/x")), [&](HttpResponse r) {
    response = std::move(r);
    finished.Notify();
  });
  AwaitScheduledWait(*pipeline, 60);
  clock.Advance(seconds(60));
  AwaitScheduledWait(*pipeline, 120);
  clock.Advance(seconds(60));
  finished.WaitForNotification();
  EXPECT_EQ(response.http_status, 429);
  EXPECT_FALSE(response.status.ok());
  EXPECT_TRUE(Contains(response.status, "retry budget spent: waited 120s over 3 attempts"))
      << response.status;
  EXPECT_TRUE(Contains(response.status, "target.retry_budget = 150s")) << response.status;
  EXPECT_EQ(response.attempts, 3);
  EXPECT_EQ(hits.load(), 3);
  EXPECT_EQ(pipeline->stats().retries, 2);
}

}  // namespace
}  // namespace usersync::io
