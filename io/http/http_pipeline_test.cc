#include "io/http/http_pipeline.h"

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "io/clock.h"
#include "io/http/testing/pipeline_test_util.h"

namespace usersync::io {
namespace {

using http_testing::FastOptions;
using http_testing::Get;
using http_testing::StartPipeline;
using http_testing::TestServer;

using std::chrono::milliseconds;

// Serves GET /x: the first `failures` hits answer `status` (with Retry-After when given), the
// rest 200 with `body`. `hits` counts them.
void FailThenServe(TestServer& server, std::atomic<int>& hits, int failures, int status,
                   std::string retry_after = {}, std::string body = "done",
                   std::string content_type = "text/plain") {
  server.server().Get("/x", [&hits, failures, status, retry_after, body, content_type](
                                const httplib::Request&, httplib::Response& res) {
    if (++hits <= failures) {
      res.status = status;
      if (!retry_after.empty()) res.set_header("Retry-After", retry_after);
      return;
    }
    res.set_content(body, content_type);
  });
}

TEST(HttpPipeline, RetriesOn503ThenSucceeds) {
  TestServer server;
  std::atomic<int> hits{0};
  FailThenServe(server, hits, 2, 503, "", R"({"ok":true})", "application/json");
  server.Start();
  auto pipeline = StartPipeline(FastOptions());
  HttpResponse response = pipeline->Call(Get(server.Url("/x")));
  EXPECT_TRUE(response.status.ok()) << response.status;
  EXPECT_EQ(response.http_status, 200);
  EXPECT_EQ(response.attempts, 3);
  EXPECT_EQ(response.body, R"({"ok":true})");
  EXPECT_GE(response.body.capacity(), response.body.size() + kResponsePadding);
  EXPECT_EQ(hits.load(), 3);
  const PipelineStats stats = pipeline->stats();
  EXPECT_EQ(stats.requests, 3);
  EXPECT_EQ(stats.retries, 2);
  EXPECT_EQ(stats.server_errors, 2);
}

TEST(HttpPipeline, GivesUpAfterMaxRetries) {
  TestServer server;
  std::atomic<int> hits{0};
  server.server().Get("/x", [&](const httplib::Request&, httplib::Response& res) {
    ++hits;
    res.status = 502;
  });
  server.Start();
  PipelineOptions options = FastOptions();
  options.max_retries = 3;
  auto pipeline = StartPipeline(options);
  HttpResponse response = pipeline->Call(Get(server.Url("/x")));
  EXPECT_EQ(response.status.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(response.attempts, 4);
  EXPECT_EQ(hits.load(), 4);
  EXPECT_FALSE(response.ambiguous);
}

// The delay before the retry comes from Retry-After (1s), not from the 1ms backoff.
TEST(HttpPipeline, HonoursRetryAfter) {
  TestServer server;
  std::atomic<int> hits{0};
  FailThenServe(server, hits, 1, 429, "1");
  server.Start();
  PipelineOptions options = FastOptions();
  options.rate = 100;
  auto pipeline = StartPipeline(options);
  const auto start = std::chrono::steady_clock::now();
  HttpResponse response = pipeline->Call(Get(server.Url("/x")));
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(response.status.ok()) << response.status;
  EXPECT_EQ(response.attempts, 2);
  EXPECT_GE(elapsed, milliseconds(1000));
  const PipelineStats stats = pipeline->stats();
  EXPECT_EQ(stats.throttled, 1);
  EXPECT_EQ(stats.current_rate, 100);  // a 429 with Retry-After does not cut the rate
}

// The pipeline reads time through the injected Clock: a Retry-After date 3 s after the fake
// clock's wall time (2024-01-01T00:00:00Z) is a 3 s delay, which passes only when the fake
// clock is advanced (by the real clock that date is long past: no wait at all).
TEST(HttpPipeline, ReadsTimeThroughTheInjectedClock) {
  TestServer server;
  std::atomic<int> hits{0};
  FailThenServe(server, hits, 1, 503, "Mon, 01 Jan 2024 00:00:03 GMT");
  server.Start();
  FakeClock clock;
  PipelineOptions options = FastOptions();
  options.clock = &clock;
  auto pipeline = StartPipeline(options);
  absl::Notification finished;
  HttpResponse response;
  pipeline->Submit(Get(server.Url("/x")), [&](HttpResponse r) {
    response = std::move(r);
    finished.Notify();
  });
  // A readiness poll, not a timing: wait until the retry is scheduled.
  while (pipeline->stats().backoff_wait_seconds == 0) std::this_thread::yield();
  EXPECT_FALSE(finished.HasBeenNotified());
  EXPECT_EQ(hits.load(), 1);
  clock.Advance(std::chrono::seconds(3));
  finished.WaitForNotification();
  EXPECT_TRUE(response.status.ok()) << response.status;
  EXPECT_EQ(response.attempts, 2);
  EXPECT_EQ(pipeline->stats().backoff_wait_seconds, 3.0);
}

// A 429 storm without Retry-After: the rate is cut (AIMD) and still every request succeeds.
TEST(HttpPipeline, ThrottleStormCutsRateYetAllSucceed) {
  TestServer server;
  std::atomic<int> hits{0};
  server.server().Get("/x", [&](const httplib::Request&, httplib::Response& res) {
    const int hit = ++hits;
    if (hit <= 30 && hit % 2 == 1) {
      res.status = 429;
      return;
    }
    res.set_content("ok", "text/plain");
  });
  server.Start();
  PipelineOptions options = FastOptions();
  options.rate = 400;
  options.burst = 20;
  options.max_retries = 20;
  auto pipeline = StartPipeline(options);
  std::atomic<int> ok{0};
  for (int i = 0; i < 40; ++i) {
    pipeline->Submit(Get(server.Url("/x")), [&](HttpResponse r) {
      if (r.status.ok()) ++ok;
    });
  }
  pipeline->Drain();
  EXPECT_EQ(ok.load(), 40);
  const PipelineStats stats = pipeline->stats();
  EXPECT_EQ(stats.throttled, 15);
  EXPECT_LT(stats.current_rate, 400);
  EXPECT_GE(stats.current_rate, 0.5);
}

// A POST whose answer does not come in time may have been processed: not repeated, ambiguous.
TEST(HttpPipeline, PostTimeoutIsAmbiguousAndNotRetried) {
  TestServer server;
  std::atomic<int> hits{0};
  absl::Notification release;
  server.server().Post("/Users", [&](const httplib::Request&, httplib::Response& res) {
    ++hits;
    release.WaitForNotificationWithTimeout(absl::Seconds(10));
    res.status = 201;
  });
  server.Start();
  PipelineOptions options = FastOptions();
  options.timeout = milliseconds(200);
  auto pipeline = StartPipeline(options);
  HttpRequest request;
  request.method = "POST";
  request.url = server.Url("/Users");
  request.body = R"({"userName":"a@example.com"})";
  request.idempotent = false;
  HttpResponse response = pipeline->Call(request);
  release.Notify();
  EXPECT_EQ(response.status.code(), absl::StatusCode::kUnavailable) << response.status;
  EXPECT_TRUE(response.ambiguous);
  EXPECT_EQ(response.attempts, 1);
  EXPECT_EQ(response.http_status, 0);
  EXPECT_EQ(hits.load(), 1);
  EXPECT_EQ(pipeline->stats().ambiguous, 1);
}

// The same timeout on an idempotent GET is retried.
TEST(HttpPipeline, GetTimeoutIsRetried) {
  TestServer server;
  std::atomic<int> hits{0};
  absl::Notification release;
  server.server().Get("/x", [&](const httplib::Request&, httplib::Response& res) {
    if (++hits == 1) release.WaitForNotificationWithTimeout(absl::Seconds(10));
    res.set_content("late", "text/plain");
  });
  server.Start();
  PipelineOptions options = FastOptions();
  options.timeout = milliseconds(200);
  auto pipeline = StartPipeline(options);
  HttpResponse response = pipeline->Call(Get(server.Url("/x")));
  release.Notify();
  EXPECT_TRUE(response.status.ok()) << response.status;
  EXPECT_EQ(response.attempts, 2);
  EXPECT_FALSE(response.ambiguous);
  EXPECT_EQ(pipeline->stats().transport_errors, 1);
}

// 503 means the server refused before acting: a POST is retried; 502 means unknown: it is not.
TEST(HttpPipeline, PostRetriedOn503ButAmbiguousOn502) {
  TestServer server;
  std::atomic<int> hits_503{0};
  std::atomic<int> hits_502{0};
  server.server().Post("/a", [&](const httplib::Request&, httplib::Response& res) {
    res.status = ++hits_503 == 1 ? 503 : 201;
  });
  server.server().Post("/b", [&](const httplib::Request&, httplib::Response& res) {
    ++hits_502;
    res.status = 502;
  });
  server.Start();
  auto pipeline = StartPipeline(FastOptions());
  HttpRequest request;
  request.method = "POST";
  request.body = "{}";
  request.idempotent = false;
  request.url = server.Url("/a");
  HttpResponse a = pipeline->Call(request);
  EXPECT_TRUE(a.status.ok()) << a.status;
  EXPECT_EQ(a.attempts, 2);
  request.url = server.Url("/b");
  HttpResponse b = pipeline->Call(request);
  EXPECT_EQ(b.status.code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(b.ambiguous);
  EXPECT_EQ(b.http_status, 502);
  EXPECT_EQ(hits_502.load(), 1);
}

TEST(HttpPipeline, UnauthorizedIsNotRetriedAndTokenStaysSecret) {
  TestServer server;
  std::atomic<int> hits{0};
  std::string seen_auth;
  absl::Mutex mu;
  server.server().Get("/Users", [&](const httplib::Request& req, httplib::Response& res) {
    ++hits;
    absl::MutexLock lock(&mu);
    seen_auth = req.get_header_value("Authorization");
    res.status = 401;
  });
  server.Start();
  PipelineOptions options = FastOptions();
  options.bearer_token = "s3cret-t0ken";
  auto pipeline = StartPipeline(options);
  HttpResponse response = pipeline->Call(Get(server.Url("/Users?filter=secret-query")));
  EXPECT_EQ(response.status.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(response.status.message(), "GET /Users: HTTP 401");
  EXPECT_EQ(response.attempts, 1);
  EXPECT_EQ(hits.load(), 1);
  absl::MutexLock lock(&mu);
  EXPECT_EQ(seen_auth, "Bearer s3cret-t0ken");
}

TEST(HttpPipeline, FinalStatusNamesMethodAndPath) {
  TestServer server;
  server.server().Delete("/Users/7",
                         [](const httplib::Request&, httplib::Response& res) { res.status = 404; });
  server.Start();
  auto pipeline = StartPipeline(FastOptions());
  HttpRequest request;
  request.method = "DELETE";
  request.url = server.Url("/Users/7?x=1");
  HttpResponse response = pipeline->Call(request);
  EXPECT_EQ(response.status.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(response.status.message(), "DELETE /Users/7: HTTP 404");
  EXPECT_EQ(response.http_status, 404);
}

// Methods, bodies, content types and the Location header travel both ways.
TEST(HttpPipeline, MethodsAndBodies) {
  TestServer server;
  auto echo = [](const httplib::Request& req, httplib::Response& res) {
    res.set_header("Location", "/Users/42");
    res.set_content(req.method + " " + req.get_header_value("Content-Type") + " " + req.body,
                    "text/plain");
  };
  server.server().Post("/r", echo);
  server.server().Put("/r", echo);
  server.server().Patch("/r", echo);
  server.Start();
  auto pipeline = StartPipeline(FastOptions());
  // Idempotent or not (only libcurl's own resend differs), the same bytes arrive.
  for (const bool idempotent : {true, false}) {
    for (const char* method : {"POST", "PUT", "PATCH"}) {
      HttpRequest request;
      request.method = method;
      request.url = server.Url("/r");
      request.body = R"({"a":1})";
      request.idempotent = idempotent;
      HttpResponse response = pipeline->Call(request);
      ASSERT_TRUE(response.status.ok()) << response.status;
      EXPECT_EQ(response.body, std::string(method) + R"( application/scim+json {"a":1})");
      EXPECT_EQ(response.location, "/Users/42");
      EXPECT_EQ(response.attempts, 1);
    }
  }
}

TEST(HttpPipeline, ConnectionRefusedIsUnavailableAndNamesTheUrl) {
  int port = 0;
  {
    TestServer closed;
    closed.Start();
    port = closed.port();
  }  // nothing listens on `port` any more
  PipelineOptions options = FastOptions();
  options.max_retries = 1;
  auto pipeline = StartPipeline(options);
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/scim/v2/Users";
  HttpResponse response = pipeline->Call(Get(url + "?count=1"));
  EXPECT_EQ(response.status.code(), absl::StatusCode::kUnavailable) << response.status;
  EXPECT_NE(response.status.message().find(url), absl::string_view::npos) << response.status;
  EXPECT_EQ(response.status.message().find("count=1"), absl::string_view::npos);
  EXPECT_NE(response.status.message().find("gave up after 2 attempts"), absl::string_view::npos);
  EXPECT_EQ(response.attempts, 0);  // no connection came up: nothing was sent
  EXPECT_EQ(pipeline->stats().requests, 0);
  EXPECT_FALSE(response.ambiguous);
}

// Credentials in the URL's user-info (and a token in its query) never reach a status: the
// message names the origin and path only.
TEST(HttpPipeline, UrlCredentialsStayOutOfTheStatus) {
  int port = 0;
  {
    TestServer closed;
    closed.Start();
    port = closed.port();
  }  // nothing listens on `port` any more
  PipelineOptions options = FastOptions();
  options.max_retries = 0;
  auto pipeline = StartPipeline(options);
  const std::string origin = "http://127.0.0.1:" + std::to_string(port);
  HttpResponse response =
      pipeline->Call(Get("http://usersync:s3cret-t0ken@127.0.0.1:" + std::to_string(port) +
                         "/scim/v2/Users?access_token=q-t0ken"));
  EXPECT_EQ(response.status.code(), absl::StatusCode::kUnavailable) << response.status;
  const std::string message(response.status.message());
  EXPECT_NE(message.find(origin + "/scim/v2/Users"), std::string::npos) << message;
  EXPECT_EQ(message.find("s3cret-t0ken"), std::string::npos) << message;
  EXPECT_EQ(message.find("usersync:"), std::string::npos) << message;
  EXPECT_EQ(message.find("q-t0ken"), std::string::npos) << message;
}

// The server counts requests in progress; every handler waits until K are in progress at once
// (or 10s pass), so a pipeline that kept fewer in flight would show it, and one that kept
// more would exceed K.
TEST(HttpPipeline, ConcurrencyBoundRespected) {
  constexpr int kConcurrency = 4;
  TestServer server;
  absl::Mutex mu;
  int current = 0;
  int max_seen = 0;
  server.server().Get("/x", [&](const httplib::Request&, httplib::Response& res) {
    absl::MutexLock lock(&mu);
    ++current;
    max_seen = std::max(max_seen, current);
    mu.AwaitWithTimeout(absl::Condition(
                            +[](int* seen) { return *seen >= kConcurrency; }, &max_seen),
                        absl::Seconds(10));
    --current;
    res.set_content("ok", "text/plain");
  });
  server.Start();
  PipelineOptions options = FastOptions();
  options.concurrency = kConcurrency;
  auto pipeline = StartPipeline(options);
  std::atomic<int> ok{0};
  for (int i = 0; i < 40; ++i) {
    pipeline->Submit(Get(server.Url("/x")), [&](HttpResponse r) {
      if (r.status.ok()) ++ok;
    });
  }
  pipeline->Drain();
  EXPECT_EQ(ok.load(), 40);
  absl::MutexLock lock(&mu);
  EXPECT_EQ(max_seen, kConcurrency);
  EXPECT_LE(pipeline->stats().max_in_flight, kConcurrency);
}

// 200 requests over K=4: the server sees at most 4 connections (client ports).
TEST(HttpPipeline, KeepAliveReusesConnections) {
  TestServer server;
  absl::Mutex mu;
  std::set<int> ports;
  server.server().Get("/x", [&](const httplib::Request& req, httplib::Response& res) {
    absl::MutexLock lock(&mu);
    ports.insert(req.remote_port);
    res.set_content("ok", "text/plain");
  });
  server.Start();
  auto pipeline = StartPipeline(FastOptions());
  for (int i = 0; i < 200; ++i) pipeline->Submit(Get(server.Url("/x")), [](HttpResponse) {});
  pipeline->Drain();
  absl::MutexLock lock(&mu);
  EXPECT_GE(ports.size(), 1u);
  EXPECT_LE(ports.size(), 4u);
  EXPECT_LE(pipeline->stats().connections_opened, 4);
  EXPECT_EQ(pipeline->stats().completed, 200);
}

// Callbacks that submit more: Drain waits for the whole tree (5 × (1 + 2 + 4) requests).
TEST(HttpPipeline, DrainWaitsForRequestsSubmittedByCallbacks) {
  TestServer server;
  std::atomic<int> hits{0};
  server.server().Get("/x", [&](const httplib::Request&, httplib::Response& res) {
    ++hits;
    res.set_content("ok", "text/plain");
  });
  server.Start();
  auto pipeline = StartPipeline(FastOptions());
  std::atomic<int> done{0};
  std::function<void(int)> submit = [&](int depth) {
    pipeline->Submit(Get(server.Url("/x")), [&, depth](HttpResponse r) {
      EXPECT_TRUE(pipeline->OnPipelineThread());
      if (r.status.ok()) ++done;
      if (depth < 2) {
        submit(depth + 1);
        submit(depth + 1);
      }
    });
  };
  for (int i = 0; i < 5; ++i) submit(0);
  pipeline->Drain();
  EXPECT_EQ(done.load(), 35);
  EXPECT_EQ(hits.load(), 35);
}

// K=1: the first request is in flight (held by the server) when Cancel comes; it finishes,
// the queued ones and any submitted later complete with kCancelled without reaching the server.
TEST(HttpPipeline, CancelCompletesQueuedRequests) {
  TestServer server;
  std::atomic<int> hits{0};
  absl::Notification arrived;
  absl::Notification release;
  server.server().Get("/x", [&](const httplib::Request&, httplib::Response& res) {
    if (++hits == 1) {
      arrived.Notify();
      release.WaitForNotificationWithTimeout(absl::Seconds(10));
    }
    res.set_content("ok", "text/plain");
  });
  server.Start();
  PipelineOptions options = FastOptions();
  options.concurrency = 1;
  auto pipeline = StartPipeline(options);
  absl::Mutex mu;
  std::vector<absl::StatusCode> codes(11, absl::StatusCode::kUnknown);
  for (int i = 0; i < 10; ++i) {
    pipeline->Submit(Get(server.Url("/x")), [&, i](HttpResponse r) {
      absl::MutexLock lock(&mu);
      codes[i] = r.status.code();
    });
  }
  arrived.WaitForNotification();
  pipeline->Cancel();
  pipeline->Submit(Get(server.Url("/x")), [&](HttpResponse r) {
    absl::MutexLock lock(&mu);
    codes[10] = r.status.code();
  });
  release.Notify();
  pipeline->Drain();
  absl::MutexLock lock(&mu);
  EXPECT_EQ(codes[0], absl::StatusCode::kOk);
  for (int i = 1; i < 11; ++i) EXPECT_EQ(codes[i], absl::StatusCode::kCancelled) << i;
  EXPECT_EQ(hits.load(), 1);
}

// The token bucket paces sends: N requests at rate R with burst B take at least (N - B)/R
// (less the 5ms timer slack the pipeline banks). Only a lower bound: safe on a loaded machine.
TEST(HttpPipeline, RateLimitPacesRequests) {
  TestServer server;
  server.server().Get("/x", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok", "text/plain");
  });
  server.Start();
  PipelineOptions options = FastOptions();
  options.rate = 50;
  options.burst = 1;
  auto pipeline = StartPipeline(options);
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 26; ++i) pipeline->Submit(Get(server.Url("/x")), [](HttpResponse) {});
  pipeline->Drain();
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_GE(elapsed, (26 - 1.25) / 50.0);
  const PipelineStats stats = pipeline->stats();
  EXPECT_EQ(stats.requests, 26);
  EXPECT_GT(stats.rate_wait_seconds, 0);
  EXPECT_GT(stats.achieved_rps, 0);
}

TEST(HttpPipeline, RejectsBadOptions) {
  PipelineOptions options;
  options.concurrency = 0;
  EXPECT_EQ(HttpPipeline::Start(options).status().code(), absl::StatusCode::kInvalidArgument);
  options.concurrency = 1;
  options.rate = -1;
  EXPECT_EQ(HttpPipeline::Start(options).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace usersync::io
