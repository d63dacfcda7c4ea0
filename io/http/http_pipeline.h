// HttpPipeline: every HTTP request of a target driver goes through one libcurl multi loop that
// keeps K requests in flight over kept-alive connections, gates every send (retries included)
// with a token bucket, and retries transient failures with exponential backoff and full jitter.
//
// Threading and ownership (STYLE.md §2): Start() spawns one thread that owns the CURLM and
// every easy handle; nothing curl is shared with other threads. Submit() is thread-safe: it
// queues the request under a mutex and wakes the loop with curl_multi_wakeup. Completion
// callbacks run on the pipeline thread, one at a time, and must not block (no Call(), no
// Drain() from inside a callback); they may Submit() more requests. The pipeline owns each
// request from Submit() until its callback has returned.
//
// Policy:
//   - Sends are paced by a TokenBucket(rate, core::ClientBurst(burst)): `burst` is the server's,
//     and one token of it is kept in reserve against latency jitter (core/token_bucket.h);
//     rate 0 = unlimited.
//   - 429, 503 and 408 (the server refused before doing anything) and connection failures
//     before any byte was sent are retried for every request; 502, 504, timeouts and resets
//     after the request was sent (the outcome is unknown) are retried only when
//     `idempotent`. A non-idempotent request ending that way is not retried: it completes
//     with kUnavailable and ambiguous = true, so the caller can look the resource up first.
//   - Retry-After (delta-seconds or HTTP-date) on 429/503 sets the delay (capped by
//     max_retry_after); otherwise the delay is BackoffDelay(retry, backoff_base, backoff_cap).
//   - The delays one request waits add up to at most retry_budget: when the next delay would
//     pass it, the request completes with its last error, and the message says the budget was
//     spent. E.g. max_retry_after 60s, budget 10m, a server always answering 429 with
//     Retry-After: 999999: 10 retries of 60 s each, then the 11th failure ends the request
//     (unless max_retries ends it first).
//   - An answer's body longer than max_response_bytes (read so far, or announced by
//     Content-Length) ends the transfer at once: kResourceExhausted, "METHOD scheme://host/path:
//     answer larger than target.max_response_bytes (N bytes)", not retried. Memory per request
//     stays under the bound whatever the server sends.
//   - libcurl's own silent resend of a request on a fresh connection (a reused keep-alive
//     connection died before any answer byte) is refused for non-idempotent requests (see
//     io/http/curl_transfer.h): such a request completes ambiguous instead of being sent twice.
//   - A 429 without Retry-After, with `adaptive`, halves the rate (AIMD, core::AdaptiveRate);
//     each second of successes then adds back rate/10, up to the configured rate.
//   - At most max_retries retries (1 + max_retries sends) per request.
//   - The final status is OK for 2xx, else core::StatusFromHttp with the message
//     "METHOD /path: HTTP nnn" (no query string, no token). Transport errors read
//     "METHOD scheme://host/path: <curl error>". The bearer token never appears in a status.
//   - With options.access_tokens (OAuth 2.0), a 401 renews the token and resends the request
//     once (the server refused it before acting, so a POST is safe to send again).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "io/clock.h"
#include "io/http/access_token_source.h"

namespace usersync::io {

// Response bodies keep this many spare bytes of capacity after their end, so that simdjson
// (SIMDJSON_PADDING = 64) parses them in place without a copy.
inline constexpr size_t kResponsePadding = 64;

struct HttpRequest {
  std::string method;  // "GET", "POST", "PUT", "PATCH", "DELETE"
  std::string url;     // absolute, query string included
  std::string body;    // sent when non-empty (always for POST/PUT/PATCH)
  std::string content_type = "application/scim+json";
  bool idempotent = true;  // false: never repeated once the server may have acted on it
};

struct HttpResponse {
  absl::Status status;     // OK for 2xx; see the header comment for the rest
  int http_status = 0;     // last HTTP status seen, 0 if the last attempt got no answer
  std::string body;        // last answer's body; capacity() >= size() + kResponsePadding
  int attempts = 0;        // requests really sent, retries and libcurl's own resends included (0:
                           // cancelled, or no connection could be made)
  bool ambiguous = false;  // non-idempotent request with an unknown outcome (not retried)
  std::string location;    // Location header of the last answer, if any
};

struct PipelineOptions {
  int concurrency = 16;  // K requests in flight (and at most K connections)
  double rate = 10;      // requests per second, 0 = unlimited
  double burst = 10;
  bool adaptive = true;  // AIMD on 429 without Retry-After
  int max_retries = 6;
  std::chrono::milliseconds timeout{30000};  // per attempt, connection included
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds backoff_base{100};
  std::chrono::milliseconds backoff_cap{30000};
  std::chrono::milliseconds max_retry_after{60000};  // a longer Retry-After is cut to this
  // The sum of the retry delays of one request may not pass this (see the header comment).
  std::chrono::milliseconds retry_budget{600000};
  // A longer answer body is refused (kResourceExhausted); see the header comment.
  int64_t max_response_bytes = 64 << 20;
  std::string bearer_token;  // sent as "Authorization: Bearer ..." when non-empty
  // When set, replaces bearer_token: asked for the token before every attempt; after a 401 the
  // request is sent once more with a renewed token (that extra send counts against neither
  // max_retries nor the retry budget). Null keeps the fixed bearer_token (no lock per send).
  std::shared_ptr<AccessTokenSource> access_tokens;
  std::string token_source = "the variable named by target.token_env";  // a 401's advice
  uint64_t jitter_seed = 0;  // 0: seeded from std::random_device
  // Where the pipeline reads the time (pacing, backoff timers, Retry-After dates, stats); null
  // means RealClock(). REQUIRES: outlives the pipeline. A FakeClock stalls timers until it is
  // advanced (the loop still wakes at least once a second to look).
  const Clock* clock = &RealClock();
};

struct PipelineStats {
  int64_t submitted = 0;
  int64_t completed = 0;         // callbacks run
  int64_t requests = 0;          // requests really sent, retries and libcurl's resends included
  int64_t retries = 0;           // sends beyond each request's first (ours and libcurl's)
  int64_t throttled = 0;         // 429 answers
  int64_t server_errors = 0;     // 5xx answers
  int64_t transport_errors = 0;  // no HTTP answer (timeout, reset, refused, ...)
  int64_t ambiguous = 0;         // non-idempotent requests completed with an unknown outcome
  int64_t connections_opened = 0;
  int max_in_flight = 0;
  double rate_wait_seconds = 0;     // time requests were ready but held by the token bucket
  double backoff_wait_seconds = 0;  // sum of the retry delays scheduled (per request)
  double achieved_rps = 0;          // (requests - 1) / (last send - first send)
  double current_rate = 0;          // the token bucket's rate now (AIMD may have lowered it)
};

class HttpPipeline {
 public:
  using Callback = std::function<void(HttpResponse)>;

  // Initializes libcurl (once per process) and starts the pipeline thread. Fails with
  // kInvalidArgument on bad options (concurrency < 1, negative rate, retries or durations,
  // max_response_bytes < 1) and kInternal
  // when curl cannot be initialized.
  static absl::StatusOr<std::unique_ptr<HttpPipeline>> Start(PipelineOptions options);

  HttpPipeline(const HttpPipeline&) = delete;
  HttpPipeline& operator=(const HttpPipeline&) = delete;

  // Drains (every submitted request completes and its callback runs), then joins the thread.
  ~HttpPipeline();

  // Queues `request`; `done` runs exactly once on the pipeline thread with the final response.
  // Thread-safe, never blocks on the network; may be called from inside a callback. After
  // Cancel(), the request completes with kCancelled without being sent.
  void Submit(HttpRequest request, Callback done);

  // Runs `task` on the pipeline thread, in order with completion callbacks (so a caller can
  // complete something "as if from a callback"). Counted by Drain; runs even after Cancel().
  // Thread-safe.
  void Post(std::function<void()> task);

  // Submit and wait for the response. REQUIRES: not called on the pipeline thread.
  HttpResponse Call(HttpRequest request);

  // Blocks until every submitted request, and every request submitted by their callbacks, has
  // completed. REQUIRES: not called on the pipeline thread.
  void Drain();

  // Queued requests, those waiting for a retry and those submitted from now on complete with
  // kCancelled; requests in flight finish (without further retries). Thread-safe, idempotent.
  void Cancel();

  // A consistent snapshot; thread-safe.
  PipelineStats stats() const;

  // True when called on the pipeline thread (from inside a callback).
  bool OnPipelineThread() const;

 private:
  struct Impl;
  explicit HttpPipeline(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace usersync::io
