#include "io/http/http_pipeline.h"

#include <curl/curl.h>

#include <algorithm>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "core/backoff.h"
#include "core/check.h"
#include "core/retry.h"
#include "core/str.h"
#include "core/token_bucket.h"
#include "io/clock.h"
#include "io/http/curl_transfer.h"

namespace usersync::io {
namespace {

using core::Duration;
using core::EqualsIgnoreCase;
using core::MonoTime;

// curl_multi_poll takes whole milliseconds and wakes a little late; tokens earned during that
// lateness are banked up to this much (see core/token_bucket.h), so the achieved rate stays the
// configured one even with burst 1.
constexpr Duration kTimerSlack = std::chrono::milliseconds(5);
// The loop wakes at least this often even when nothing is due (a safety net, not a need).
constexpr std::chrono::milliseconds kMaxPoll{1000};

double Seconds(Duration d) { return std::chrono::duration<double>(d).count(); }

// "scheme://user:pass@host:port/path?query#frag" → {"scheme://host:port", "/path"}: what may
// appear in a message (no credentials, no query string).
struct UrlParts {
  std::string origin;
  std::string path;
};
UrlParts SplitUrl(std::string_view url) {
  UrlParts parts;
  const size_t end = std::min(url.find('?'), url.find('#'));
  url = url.substr(0, std::min(end, url.size()));
  size_t authority = 0;
  const size_t scheme_end = url.find("://");
  if (scheme_end != std::string_view::npos) authority = scheme_end + 3;
  const size_t path_start = url.find('/', authority);
  std::string_view host =
      url.substr(authority, path_start == std::string_view::npos ? std::string_view::npos
                                                                 : path_start - authority);
  const size_t at = host.rfind('@');
  if (at != std::string_view::npos) host.remove_prefix(at + 1);
  parts.origin = absl::StrCat(Sv(url.substr(0, authority)), Sv(host));
  parts.path = path_start == std::string_view::npos ? "/" : std::string(url.substr(path_start));
  return parts;
}

// "90s", "1500ms": how durations read in messages (as in the configuration).
std::string DurationText(Duration d) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  return ms % 1000 == 0 ? absl::StrCat(ms / 1000, "s") : absl::StrCat(ms, "ms");
}

std::string TooLargeMessageFor(std::string_view method, const UrlParts& url, int64_t bound) {
  return absl::StrCat(Sv(method), " ", Sv(url.origin), Sv(url.path),
                      ": answer larger than target.max_response_bytes (", bound, " bytes)");
}

enum class Outcome {
  kSuccess,  // 2xx
  kFinal,    // an answer or an error that retrying does not change
  kRefused,  // the server did not act (429, 503, 408, nothing sent): retry any request
  kUnknown,  // the server may have acted (502, 504, timeout, reset): retry if idempotent
};

void GlobalInitOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace

struct HttpPipeline::Impl {
  // One request from Submit to its callback.
  struct Job {
    HttpRequest request;
    Callback done;
    std::function<void()> task;  // Post(): run on the pipeline thread instead of a request
    UrlParts url;
    int tries = 0;       // attempts started (what max_retries bounds)
    int attempts = 0;    // requests really sent (libcurl's own resends included)
    Duration waited{0};  // retry delays scheduled so far (what retry_budget bounds)
    // The attempt in flight.
    internal::CurlTransfer transfer;
    CURL* easy = nullptr;
    // The last failed attempt, reported if the request ends while waiting to retry.
    absl::Status last_status;
    int last_http_status = 0;
    // With options.access_tokens: the token of the attempt in flight and its header line.
    std::string token;
    std::string auth_header;
    bool renewed_after_401 = false;  // the one resend after a 401 was spent
  };

  explicit Impl(PipelineOptions opts)
      : options(std::move(opts)),
        clock(options.clock != nullptr ? *options.clock : RealClock()),
        bucket(options.rate, core::ClientBurst(options.burst), kTimerSlack),
        aimd(options.rate > 0 ? options.rate : 1,
             std::min(0.5, options.rate > 0 ? options.rate : 1)),
        rng(options.jitter_seed != 0 ? options.jitter_seed : std::random_device{}()) {
    {
      absl::MutexLock lock(&mu);
      stats.current_rate = options.rate;
    }
    limits.max_response_bytes = options.max_response_bytes;
    limits.timeout = options.timeout;
    limits.connect_timeout = options.connect_timeout;
    if (!options.bearer_token.empty()) {
      auth_header = absl::StrCat("Authorization: Bearer ", options.bearer_token);
    }
  }

  ~Impl() {
    for (CURL* easy : all_easy) {
      curl_easy_cleanup(easy);
    }
    if (multi != nullptr) curl_multi_cleanup(multi);
  }

  // --- Any thread ---------------------------------------------------------------------------

  void Submit(HttpRequest request, Callback done) {
    auto job = std::make_unique<Job>();
    job->url = SplitUrl(request.url);
    job->request = std::move(request);
    job->done = std::move(done);
    bool wake = false;
    {
      absl::MutexLock lock(&mu);
      wake = incoming.empty();
      incoming.push_back(std::move(job));
      ++outstanding;
      ++stats.submitted;
    }
    // The loop takes the whole queue at once: only the push onto an empty queue must wake it.
    if (wake) curl_multi_wakeup(multi);
  }

  void Post(std::function<void()> task) {
    auto job = std::make_unique<Job>();
    job->task = std::move(task);
    bool wake = false;
    {
      absl::MutexLock lock(&mu);
      wake = incoming.empty();
      incoming.push_back(std::move(job));
      ++outstanding;
    }
    if (wake) curl_multi_wakeup(multi);
  }

  void WakeWith(bool Impl::*flag) {
    {
      absl::MutexLock lock(&mu);
      this->*flag = true;
    }
    curl_multi_wakeup(multi);
  }

  // --- Pipeline thread ----------------------------------------------------------------------

  void Loop() {
    while (true) {
      bool cancel_now = false;
      bool stop_now = false;
      std::vector<std::unique_ptr<Job>> tasks;
      {
        absl::MutexLock lock(&mu);
        for (auto& job : incoming) {
          if (job->task) {
            tasks.push_back(std::move(job));
          } else {
            ready.push_back(std::move(job));
          }
        }
        incoming.clear();
        cancel_now = cancelled;
        stop_now = stop && outstanding == 0;
      }
      if (stop_now) break;
      for (auto& task : tasks) {
        task->task();
        task.reset();
        absl::MutexLock lock(&mu);
        --outstanding;
      }
      if (cancel_now) CancelWaiting();

      MonoTime now = clock.Now();
      PromoteDueTimers(now);
      const Duration bucket_wait = StartReady(now);

      int running = 0;
      curl_multi_perform(multi, &running);
      if (ReapDone() > 0) continue;  // slots freed: start the next requests right away

      // Sleep until the earliest of: a token for the next ready request, a retry timer, curl's
      // own timeout (curl_multi_poll also applies it), new work (curl_multi_wakeup).
      Duration wait = kMaxPoll;
      if (bucket_wait > Duration::zero()) wait = std::min(wait, bucket_wait);
      if (!timers.empty()) {
        wait = std::min(wait, std::max(Duration::zero(), timers.begin()->first.first - now));
      }
      long curl_timeout_ms = -1;
      curl_multi_timeout(multi, &curl_timeout_ms);
      if (curl_timeout_ms >= 0) {
        wait = std::min<Duration>(wait, std::chrono::milliseconds(curl_timeout_ms));
      }
      const auto wait_ms = std::chrono::ceil<std::chrono::milliseconds>(wait).count();
      if (wait_ms <= 0) continue;
      curl_multi_poll(multi, nullptr, 0, static_cast<int>(wait_ms), nullptr);
    }
  }

  // Starts ready requests while there are free slots and tokens. Returns how long the first
  // request held by the token bucket must wait (0 when none is held).
  Duration StartReady(MonoTime now) {
    while (!ready.empty() && static_cast<int>(in_flight.size()) < options.concurrency) {
      const Duration wait = bucket.Acquire(now);
      if (wait > Duration::zero()) {
        if (!blocked_since) blocked_since = now;
        return wait;
      }
      if (blocked_since) {
        AddStat([&](PipelineStats& s) { s.rate_wait_seconds += Seconds(now - *blocked_since); });
        blocked_since.reset();
      }
      std::unique_ptr<Job> job = std::move(ready.front());
      ready.pop_front();
      StartAttempt(std::move(job), now);
    }
    if (blocked_since && ready.empty()) {
      AddStat([&](PipelineStats& s) { s.rate_wait_seconds += Seconds(now - *blocked_since); });
      blocked_since.reset();
    }
    return Duration::zero();
  }

  CURL* TakeEasy() {
    if (!idle_easy.empty()) {
      CURL* easy = idle_easy.back();
      idle_easy.pop_back();
      curl_easy_reset(easy);  // forgets options, keeps the multi's connection cache
      return easy;
    }
    CURL* easy = curl_easy_init();
    if (easy != nullptr) all_easy.push_back(easy);
    return easy;
  }

  void StartAttempt(std::unique_ptr<Job> job, MonoTime now) {
    if (options.access_tokens != nullptr) {
      absl::StatusOr<std::string> token = options.access_tokens->Token();
      if (!token.ok()) {
        absl::Status status = TokenError(*job, token.status());
        Complete(std::move(job), std::move(status), 0, false);
        return;
      }
      if (*token != job->token) {
        job->auth_header = absl::StrCat("Authorization: Bearer ", *token);
        job->token = *std::move(token);
      }
    }
    CURL* easy = TakeEasy();
    if (easy == nullptr) {
      absl::Status status = absl::InternalError(
          absl::StrCat(Sv(job->request.method), " ", Sv(job->url.path), ": curl_easy_init failed"));
      Complete(std::move(job), std::move(status), 0, false);
      return;
    }
    job->easy = easy;
    ++job->tries;
    curl_easy_setopt(easy, CURLOPT_PRIVATE, job.get());
    job->transfer.Configure(easy, job->request,
                            options.access_tokens != nullptr ? job->auth_header : auth_header,
                            limits);

    if (curl_multi_add_handle(multi, easy) != CURLM_OK) {
      ReleaseEasy(job.get());
      absl::Status status = absl::InternalError(absl::StrCat(
          Sv(job->request.method), " ", Sv(job->url.path), ": curl_multi_add_handle failed"));
      Complete(std::move(job), std::move(status), 0, false);
      return;
    }
    const int in_flight_now = static_cast<int>(in_flight.size()) + 1;
    {
      absl::MutexLock lock(&mu);
      if (!any_send) first_send = now;
      any_send = true;
      last_send = now;
      stats.max_in_flight = std::max(stats.max_in_flight, in_flight_now);
    }
    in_flight.push_back(std::move(job));
  }

  void ReleaseEasy(Job* job) {
    job->transfer.ReleaseHeaders();
    if (job->easy != nullptr) {
      idle_easy.push_back(job->easy);
      job->easy = nullptr;
    }
  }

  // Handles every finished transfer. Returns how many finished.
  int ReapDone() {
    int finished = 0;
    int queued = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi, &queued)) {
      if (msg->msg != CURLMSG_DONE) continue;
      CURL* easy = msg->easy_handle;
      const CURLcode code = msg->data.result;
      Job* raw = nullptr;
      curl_easy_getinfo(easy, CURLINFO_PRIVATE, reinterpret_cast<char**>(&raw));
      long http_status = 0;
      curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &http_status);
      long request_size = 0;
      curl_easy_getinfo(easy, CURLINFO_REQUEST_SIZE, &request_size);
      long connects = 0;
      curl_easy_getinfo(easy, CURLINFO_NUM_CONNECTS, &connects);
      curl_multi_remove_handle(multi, easy);

      auto it = std::find_if(in_flight.begin(), in_flight.end(),
                             [raw](const std::unique_ptr<Job>& j) { return j.get() == raw; });
      USERSYNC_CHECK(it != in_flight.end());
      std::unique_ptr<Job> job = std::move(*it);
      in_flight.erase(it);
      ReleaseEasy(job.get());
      ++finished;
      // What really went out: libcurl's own resends on a fresh connection count too.
      const int sends = job->transfer.sends();
      job->attempts += sends;
      AddStat([&](PipelineStats& s) {
        s.connections_opened += connects;
        s.requests += sends;
        s.retries += std::max(0, sends - 1);
      });
      HandleAttempt(std::move(job), code, static_cast<int>(http_status), request_size > 0);
    }
    return finished;
  }

  std::string TooLargeMessage(const Job& job) const {
    return TooLargeMessageFor(job.request.method, job.url, options.max_response_bytes);
  }

  // "METHOD /path: getting an access token: <why>", keeping the token source's code.
  static absl::Status TokenError(const Job& job, const absl::Status& status) {
    return absl::Status(status.code(), absl::StrCat(Sv(job.request.method), " ", Sv(job.url.path),
                                                    ": getting an access token: ",
                                                    status.message()));
  }

  // A 401 with a renewable token: renew it (once per request) and queue the request again.
  // Returns false when the 401 is final.
  bool RenewAndResend(std::unique_ptr<Job>& job) {
    if (options.access_tokens == nullptr || job->renewed_after_401) return false;
    job->renewed_after_401 = true;
    absl::StatusOr<std::string> token = options.access_tokens->RenewAfterRejection(job->token);
    if (!token.ok()) {
      absl::Status status = TokenError(*job, token.status());
      Complete(std::move(job), std::move(status), 0, false);
      return true;
    }
    --job->tries;  // the resend is not a retry of a failure the server may repeat
    ready.push_back(std::move(job));
    return true;
  }

  void HandleAttempt(std::unique_ptr<Job> job, CURLcode code, int http_status, bool sent) {
    if (code == CURLE_OK && http_status == 401 && RenewAndResend(job)) return;
    const MonoTime now = clock.Now();
    const HttpRequest& req = job->request;
    Outcome outcome = Outcome::kFinal;
    absl::Status status;
    bool honour_retry_after = false;
    if (code != CURLE_OK) {
      http_status = 0;
      AddStat([](PipelineStats& s) { ++s.transport_errors; });
      const char* errbuf = job->transfer.error_text();
      const std::string detail =
          errbuf[0] != '\0' ? std::string(errbuf) : std::string(curl_easy_strerror(code));
      const std::string message =
          absl::StrCat(Sv(req.method), " ", Sv(job->url.origin), Sv(job->url.path), ": ", detail);
      switch (code) {
        case CURLE_WRITE_ERROR:
        case CURLE_FILESIZE_EXCEEDED:
          // The answer passed the bound (our write callback, or its Content-Length): final.
          status = code == CURLE_FILESIZE_EXCEEDED || job->transfer.too_large()
                       ? absl::ResourceExhaustedError(TooLargeMessage(*job))
                       : absl::InternalError(message);
          job->transfer.body() = std::string();  // a part of an answer is no answer
          break;
        case CURLE_SEND_FAIL_REWIND:
        case CURLE_ABORTED_BY_CALLBACK:
          // libcurl wanted to send a non-idempotent request again by itself (a reused
          // connection died before the answer) and was refused: the first copy may have acted.
          status = absl::UnavailableError(
              absl::StrCat(message,
                           " (the reused connection died before an answer; libcurl's own resend "
                           "refused)"));
          outcome = job->transfer.resend_refused() ? Outcome::kUnknown : Outcome::kFinal;
          break;
        case CURLE_UNSUPPORTED_PROTOCOL:
        case CURLE_URL_MALFORMAT:
          status = absl::InvalidArgumentError(message);
          break;
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_CIPHER:
          status = absl::FailedPreconditionError(message);
          break;
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_RESOLVE_PROXY:
        case CURLE_COULDNT_CONNECT:
          status = absl::UnavailableError(message);
          outcome = Outcome::kRefused;
          break;
        default:  // timeouts, resets, empty replies, truncated bodies, TLS hiccups
          status = absl::UnavailableError(message);
          outcome = sent ? Outcome::kUnknown : Outcome::kRefused;
          break;
      }
    } else if (http_status >= 200 && http_status <= 299) {
      outcome = Outcome::kSuccess;
    } else {
      status = core::StatusFromHttp(
          http_status,
          absl::StrCat(Sv(req.method), " ", Sv(job->url.path), ": HTTP ", http_status));
      if (http_status >= 500) AddStat([](PipelineStats& s) { ++s.server_errors; });
      if (http_status == 429) AddStat([](PipelineStats& s) { ++s.throttled; });
      if (http_status == 429 || http_status == 503 || http_status == 408) {
        outcome = Outcome::kRefused;
        honour_retry_after = http_status != 408;
      } else if (http_status == 502 || http_status == 504) {
        outcome = Outcome::kUnknown;
      }
    }

    std::optional<Duration> retry_after;
    if (honour_retry_after && !job->transfer.retry_after().empty()) {
      retry_after = core::ParseRetryAfter(job->transfer.retry_after(), clock.WallNow());
    }
    if (options.adaptive && options.rate > 0) {
      double rate = bucket.rate();
      if (http_status == 429 && !retry_after) {
        rate = aimd.OnThrottled(now);
      } else if (outcome == Outcome::kSuccess) {
        rate = aimd.OnSuccess(now);
      }
      if (rate != bucket.rate()) {
        bucket.SetRate(rate, now);
        AddStat([rate](PipelineStats& s) { s.current_rate = rate; });
      }
    }

    if (outcome == Outcome::kSuccess) {
      Complete(std::move(job), absl::OkStatus(), http_status, false);
      return;
    }
    const bool may_repeat =
        outcome == Outcome::kRefused || (outcome == Outcome::kUnknown && req.idempotent);
    bool is_cancelled = false;
    {
      absl::MutexLock lock(&mu);
      is_cancelled = cancelled;
    }
    if (!may_repeat || job->tries > options.max_retries || is_cancelled) {
      const bool ambiguous = outcome == Outcome::kUnknown && !req.idempotent;
      if (ambiguous) {
        status = absl::UnavailableError(absl::StrCat(
            status.message(), " (outcome unknown; not repeated: the request is not idempotent)"));
        AddStat([](PipelineStats& s) { ++s.ambiguous; });
      } else if (may_repeat && job->tries > options.max_retries) {
        status = absl::Status(status.code(), absl::StrCat(status.message(), " (gave up after ",
                                                          job->tries, " attempts)"));
      }
      Complete(std::move(job), std::move(status), http_status, ambiguous);
      return;
    }

    Duration delay;
    if (retry_after) {
      delay = std::min<Duration>(*retry_after, options.max_retry_after);
    } else {
      delay =
          core::BackoffDelay(job->tries - 1, options.backoff_base, options.backoff_cap, unit(rng));
    }
    if (job->waited + delay > options.retry_budget) {
      // Waiting again would pass the request's retry budget: end with the last error.
      status = absl::Status(
          status.code(),
          absl::StrCat(status.message(), " (retry budget spent: waited ", DurationText(job->waited),
                       " over ", job->tries, " attempts; the next wait of ", DurationText(delay),
                       " would pass target.retry_budget = ", DurationText(options.retry_budget),
                       ")"));
      Complete(std::move(job), std::move(status), http_status, false);
      return;
    }
    job->waited += delay;
    AddStat([&](PipelineStats& s) {
      ++s.retries;
      s.backoff_wait_seconds += Seconds(delay);
    });
    job->last_status = std::move(status);
    job->last_http_status = http_status;
    timers.emplace(std::make_pair(now + delay, next_timer_seq++), std::move(job));
  }

  void PromoteDueTimers(MonoTime now) {
    // Due retries go to the front: older requests finish first, memory stays bounded.
    std::vector<std::unique_ptr<Job>> due;
    while (!timers.empty() && timers.begin()->first.first <= now) {
      due.push_back(std::move(timers.begin()->second));
      timers.erase(timers.begin());
    }
    for (auto it = due.rbegin(); it != due.rend(); ++it) ready.push_front(std::move(*it));
  }

  void CancelWaiting() {
    std::vector<std::unique_ptr<Job>> victims;
    for (auto& job : ready) victims.push_back(std::move(job));
    ready.clear();
    for (auto& [key, job] : timers) victims.push_back(std::move(job));
    timers.clear();
    for (auto& job : victims) {
      std::string message = absl::StrCat(Sv(job->request.method), " ", Sv(job->url.path),
                                         ": cancelled before it was sent");
      if (!job->last_status.ok()) {
        absl::StrAppend(&message, " again (last attempt: ", job->last_status.message(), ")");
      }
      const int http_status = job->last_http_status;
      Complete(std::move(job), absl::CancelledError(message), http_status, false);
    }
  }

  void Complete(std::unique_ptr<Job> job, absl::Status status, int http_status, bool ambiguous) {
    HttpResponse response;
    response.status = std::move(status);
    response.http_status = http_status;
    response.body = std::move(job->transfer.body());
    if (response.body.capacity() < response.body.size() + kResponsePadding) {
      response.body.reserve(response.body.size() + kResponsePadding);
    }
    response.attempts = job->attempts;
    response.ambiguous = ambiguous;
    response.location = std::move(job->transfer.location());
    Callback done = std::move(job->done);
    job.reset();
    done(std::move(response));
    absl::MutexLock lock(&mu);
    --outstanding;
    ++stats.completed;
  }

  bool Idle() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return outstanding == 0; }

  template <typename F>
  void AddStat(F&& update) {
    absl::MutexLock lock(&mu);
    update(stats);
  }

  PipelineOptions options;
  const Clock& clock;
  CURLM* multi = nullptr;
  std::thread thread;

  mutable absl::Mutex mu;
  std::deque<std::unique_ptr<Job>> incoming ABSL_GUARDED_BY(mu);
  int64_t outstanding ABSL_GUARDED_BY(mu) = 0;  // submitted, callback not yet returned
  bool cancelled ABSL_GUARDED_BY(mu) = false;
  bool stop ABSL_GUARDED_BY(mu) = false;
  PipelineStats stats ABSL_GUARDED_BY(mu);
  bool any_send ABSL_GUARDED_BY(mu) = false;
  MonoTime first_send ABSL_GUARDED_BY(mu){};
  MonoTime last_send ABSL_GUARDED_BY(mu){};

  // Pipeline thread only.
  std::string auth_header;
  internal::TransferLimits limits;
  core::TokenBucket bucket;
  core::AdaptiveRate aimd;
  std::mt19937_64 rng;
  std::uniform_real_distribution<double> unit{0.0, 1.0};
  std::deque<std::unique_ptr<Job>> ready;
  std::map<std::pair<MonoTime, uint64_t>, std::unique_ptr<Job>> timers;  // (due, seq) → job
  uint64_t next_timer_seq = 0;
  std::vector<std::unique_ptr<Job>> in_flight;
  std::vector<CURL*> idle_easy;
  std::vector<CURL*> all_easy;
  std::optional<MonoTime> blocked_since;  // a ready request has been held by the bucket since
};

absl::StatusOr<std::unique_ptr<HttpPipeline>> HttpPipeline::Start(PipelineOptions options) {
  if (options.concurrency < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("http pipeline: concurrency must be at least 1, got ", options.concurrency));
  }
  if (options.rate < 0 || options.burst < 0) {
    return absl::InvalidArgumentError("http pipeline: rate and burst must not be negative");
  }
  if (options.max_retries < 0) {
    return absl::InvalidArgumentError("http pipeline: max_retries must not be negative");
  }
  if (options.max_response_bytes < 1) {
    return absl::InvalidArgumentError("http pipeline: max_response_bytes must be at least 1");
  }
  if (options.max_retry_after.count() < 0 || options.retry_budget.count() < 0) {
    return absl::InvalidArgumentError(
        "http pipeline: max_retry_after and retry_budget must not be negative");
  }
  GlobalInitOnce();
  auto impl = std::make_unique<Impl>(std::move(options));
  impl->multi = curl_multi_init();
  if (impl->multi == nullptr) return absl::InternalError("http pipeline: curl_multi_init failed");
  const long k = impl->options.concurrency;
  curl_multi_setopt(impl->multi, CURLMOPT_MAX_HOST_CONNECTIONS, k);
  curl_multi_setopt(impl->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, k);
  curl_multi_setopt(impl->multi, CURLMOPT_MAXCONNECTS, k);
  Impl* raw = impl.get();
  raw->thread = std::thread([raw] { raw->Loop(); });
  return std::unique_ptr<HttpPipeline>(new HttpPipeline(std::move(impl)));
}

HttpPipeline::HttpPipeline(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpPipeline::~HttpPipeline() {
  USERSYNC_CHECK(!OnPipelineThread());
  impl_->WakeWith(&Impl::stop);
  impl_->thread.join();
}

void HttpPipeline::Submit(HttpRequest request, Callback done) {
  impl_->Submit(std::move(request), std::move(done));
}

void HttpPipeline::Post(std::function<void()> task) { impl_->Post(std::move(task)); }

HttpResponse HttpPipeline::Call(HttpRequest request) {
  USERSYNC_CHECK(!OnPipelineThread());
  HttpResponse response;
  absl::Notification finished;
  Submit(std::move(request), [&response, &finished](HttpResponse r) {
    response = std::move(r);
    finished.Notify();
  });
  finished.WaitForNotification();
  return response;
}

void HttpPipeline::Drain() {
  USERSYNC_CHECK(!OnPipelineThread());
  Impl* impl = impl_.get();
  absl::MutexLock lock(&impl->mu);
  impl->mu.Await(absl::Condition(impl, &Impl::Idle));
}

void HttpPipeline::Cancel() { impl_->WakeWith(&Impl::cancelled); }

PipelineStats HttpPipeline::stats() const {
  absl::MutexLock lock(&impl_->mu);
  PipelineStats s = impl_->stats;
  if (s.requests > 1 && impl_->last_send > impl_->first_send) {
    s.achieved_rps = static_cast<double>(s.requests - 1) /
                     std::chrono::duration<double>(impl_->last_send - impl_->first_send).count();
  }
  return s;
}

bool HttpPipeline::OnPipelineThread() const {
  return std::this_thread::get_id() == impl_->thread.get_id();
}

}  // namespace usersync::io
