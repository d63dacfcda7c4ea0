// Rate limiting arithmetic: a token bucket (TokenBucket) and an AIMD controller of its rate
// (AdaptiveRate). Pure: time comes in as an argument, nothing here reads a clock or sleeps.
// Thread-compatible: one owner (the HTTP pipeline thread) calls every method; no locking.
//
// TokenBucket worked example (rate 10/s, burst 3, timer_slack 0):
//   t=0.000  Acquire → 0 three times (the bucket starts full: 3 tokens), the 4th → 100ms.
//   t=0.100  Acquire → 0 (1 token refilled in 100ms), another Acquire → 100ms.
//   t=0.350  Acquire → 0, Acquire → 0 (2.5 tokens refilled, 0.5 left), Acquire → 50ms.
//   t=9.000  idle for a long time: the bucket holds 3 tokens again, never more.
//
// Why timer_slack: the caller sleeps on a timer with coarse granularity (curl_multi_poll
// takes milliseconds) and wakes a little late. With burst 1 the tokens earned while oversleeping
// would spill over the cap and be lost: at 100 req/s a 1 ms late wake-up per request costs 10%
// of the rate. A slack of S lets the bucket hold burst + rate×S tokens, so the late time is
// credited to the next request and the long-run rate stays the configured one; the only extra
// burst is rate×S (0.05 of a request at 10 req/s with S = 5ms).
#pragma once

#include <algorithm>

#include "core/time.h"

namespace usersync::core {

class TokenBucket {
 public:
  // `rate_per_s` tokens are added per second, up to `burst` (+ rate×timer_slack) tokens.
  // rate 0 means unlimited: Acquire always answers 0. A burst below 1 is treated as 1 (a
  // bucket that can never hold one token would never let anything through).
  // The bucket starts full at the time of the first Acquire.
  TokenBucket(double rate_per_s, double burst, Duration timer_slack = Duration::zero());

  // Takes `tokens` if the bucket holds them at `now` and returns 0; otherwise takes nothing and
  // returns how long to wait before the bucket will hold them (rounded up to the microsecond,
  // at least 1µs): ask again then. `now` must not go backwards (an earlier time is read as no
  // time passing). O(1).
  Duration Acquire(MonoTime now, double tokens = 1);

  // Changes the rate from `now` on: tokens earned until `now` are credited at the old rate.
  // rate 0 = unlimited.
  void SetRate(double rate_per_s, MonoTime now);

  double rate() const { return rate_; }
  double burst() const { return burst_; }
  // Tokens held at the last Acquire/SetRate (for tests and stats).
  double tokens() const { return tokens_; }

 private:
  void Refill(MonoTime now);
  double capacity() const;

  double rate_;
  double burst_;
  Duration timer_slack_;
  double tokens_;
  MonoTime last_{};
  bool started_ = false;
};

// AIMD control of a request rate (as TCP does for its window): multiplicative decrease on a
// throttling signal, additive increase while none comes.
//
// Worked example (max 10/s, floor 0.5/s, increase max/10 = 1/s per second, cooldown 1s):
//   t=0    rate 10.
//   t=0.2  OnThrottled → 5. Another 429 at t=0.5 answers 5 still: within the cooldown the first
//          cut already reacts to the same overload (all K requests in flight see it at once).
//   t=1.3  OnThrottled → 2.5 (the cooldown has passed).
//   t=2.3  OnSuccess → 3.5 (one full second without 429), t=4.3 OnSuccess → 5.5, ... and never
//          above 10.
class AdaptiveRate {
 public:
  // REQUIRES: max_rate > 0, 0 < min_rate <= max_rate.
  explicit AdaptiveRate(double max_rate, double min_rate = 0.5,
                        Duration cooldown = std::chrono::seconds(1));

  // A throttling answer (429 without Retry-After) arrived at `now`. Halves the rate (not below
  // min_rate) unless the last cut is less than `cooldown` old (increases do not restart the
  // cooldown). Returns the rate in force.
  double OnThrottled(MonoTime now);

  // A successful answer arrived at `now`. For every whole second since the last change without
  // a throttling answer, adds max_rate/10 (not above max_rate). Returns the rate in force.
  double OnSuccess(MonoTime now);

  double rate() const { return rate_; }
  double max_rate() const { return max_rate_; }

 private:
  double max_rate_;
  double min_rate_;
  Duration cooldown_;
  double rate_;
  MonoTime last_change_{};  // last cut or increase: increases count whole seconds from here
  MonoTime last_cut_{};     // the cooldown counts from here
  bool cut_ = false;        // false until the first cut: no increase is due before it
};

// The burst a client paces itself with against a server that limits it to `server_burst`: one
// token less when the server's burst allows it. Why: the server's bucket starts draining when
// the first request of a burst reaches it, the client's when that request leaves; a later
// request that reaches the server sooner after leaving than the first one did (the first waits
// for its connection; the later ones reuse it) finds the server's bucket one token short, and
// the answer is a 429 that a client pacing at exactly the server's rate never needed (at 10/s a
// 429 without Retry-After halves the rate for seconds: 26% on a 9 s migration, measured). The
// token in reserve absorbs up to 1/rate of such latency difference (100 ms at 10/s) and costs
// one request's time once per burst. A burst below 2 has no token to spare: returned as is.
// Example: ClientBurst(10) = 9, ClientBurst(1.5) = 1.5.
constexpr double ClientBurst(double server_burst) {
  return server_burst >= 2 ? server_burst - 1 : server_burst;
}

}  // namespace usersync::core
