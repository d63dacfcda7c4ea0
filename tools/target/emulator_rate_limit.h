// RateLimit: the emulator's server-wide rate limit (--rate R --burst B), the referee of a
// client's pacing. Written apart from core::TokenBucket, the class the client paces itself with,
// so that a mistake in one is not repeated by the other: it keeps times, not tokens. Pure: time
// comes in as an argument. Thread-compatible: one owner, or the caller's lock (the server holds
// one around it and its AdmissionLog, emulator_admission_log.h).
//
// What it admits. A sequence of request times CONFORMS to (rate R, burst B) when every closed
// interval [s, t] holds at most B + R·(t − s) of them: B at once, then one per 1/R on average.
// This is what a client pacing with a token bucket of rate R and burst B (started full) sends.
// Admit() admits a request exactly when the requests admitted so far plus this one still
// conform; otherwise it refuses it and says how long until it would be admitted. So:
//   - a conforming client is never refused (as seen at the server: see "Jitter" below);
//   - a faster client is, as soon as its requests would make any interval hold more than
//     B + R·length, and what the server admits from it still conforms.
// The algorithm is GCRA (the "virtual scheduling" algorithm of ITU-T I.371): the theoretical
// arrival time TAT of the next request advances by the emission interval T = 1/R per admitted
// request, from the arrival time when the server was idle (TAT in the past); a request at t is
// admitted when t >= TAT − (B − 1)·T, i.e. at most B − 1 intervals early.
// tools/target/emulator_rate_limit_test.cc checks Admit() against the definition above by
// brute force (every interval of the admitted log) on random arrival sequences.
//
// Worked example (rate 10/s, burst 3: T = 100ms, tolerance (B − 1)·T = 200ms):
//   t=0.000  admitted three times (TAT 0.1, 0.2, 0.3); the 4th is refused: it may come at
//            TAT − 200ms = 0.100, wait 100ms.
//   t=0.100  admitted (TAT 0.4); another one is refused, wait 100ms.
//   t=0.350  admitted (TAT 0.5: 0.350 >= 0.4 − 0.2), admitted (TAT 0.6: 0.350 >= 0.3),
//            the 3rd is refused, wait 50ms (0.6 − 0.2 − 0.35). Check by the definition:
//            [0, 0.35] would hold 3 + 1 + 2 + 1 = 7 > 3 + 10·0.35 = 6.5.
//   t=9.000  idle since: TAT (0.6) is in the past; three at once again, never four.
// Why not "at most B requests in any window of B/R seconds" (a fixed sliding window): it
// refuses a conforming client. With R 10/s and B 3, a client's burst of 3 at t=0 followed by
// one request per 100ms conforms, but its request at t=0.1 would be the 4th within 300ms.
//
// Jitter: conformance is judged at arrival. A client that paces at exactly R with exactly the
// server's B can see its requests arrive bunched up by a few ms (network, scheduling) and get
// an occasional refusal; a client that wants none leaves itself a margin (a smaller burst).
#pragma once

#include <chrono>
#include <cstdint>

namespace usersync::io::emulator {

class RateLimit {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  struct Decision {
    bool admitted = false;
    // When refused: how long until a request would be admitted, rounded up to the nanosecond
    // (at least 1ns). Zero when admitted.
    std::chrono::nanoseconds wait{0};
  };

  // `rate_per_s` requests per second on average, `burst` at once (a burst below 1 is read as
  // 1: a limit that can never admit one request would admit none). rate 0 = unlimited: every
  // request is admitted. REQUIRES: rate_per_s >= 0 and finite, burst finite.
  RateLimit(double rate_per_s, double burst);

  // Admits (and counts) or refuses (and counts nothing) a request arriving at `now`. A `now`
  // earlier than one seen before is read as that later time. O(1).
  Decision Admit(TimePoint now);

  double rate() const { return rate_; }
  double burst() const { return burst_; }

 private:
  double rate_;
  double burst_;
  bool started_ = false;
  TimePoint last_now_{};
  // TAT = anchor_ + admitted_since_anchor_ · T: the anchor is the arrival of the request that
  // found the server idle (TAT in the past), so TAT is one multiplication away from an exact
  // time, whatever the run's length (no sum of rounded intervals).
  TimePoint anchor_{};
  int64_t admitted_since_anchor_ = 0;
};

}  // namespace usersync::io::emulator
