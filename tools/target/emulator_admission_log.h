// AdmissionLog: what the emulator measured of the requests its rate limit admitted, from its
// own clock readings, never from anything a client says. It records admission times only; it
// knows nothing of how admission was decided (emulator_rate_limit.h), so a limit that admits
// too much shows here. Pure: time comes in as an argument. Thread-compatible: one owner, or
// the caller's lock (the server holds one around it and its RateLimit).
//
// Figures (exact, not sampled):
//   admitted       requests recorded.
//   max_in_window  the most recorded within any window of `window` (1 s by default): any
//                  half-open (t − window, t]. Under a limit of rate R and burst B it is below
//                  B + R·window.
//   span           from the first recorded request to the last.
//   rate           (admitted − 1) / span: the average rate between the first and the last
//                  request; 0 with fewer than two requests or a zero span. Under the limit,
//                  admitted ≤ B + R·span, so rate ≤ R + (B − 1) / span: close to R for a long
//                  saturated run.
//
// Worked example (window 1 s): requests at 0, 0.2, 0.5, 1.0, 1.1, 3.0 s.
//   max_in_window 4: (0.1, 1.1] holds 0.2, 0.5, 1.0 and 1.1. (0, 1.0] holds only 3: a window
//   is open at its start, so the request at 0 is outside it.
//   span 3.0 s; rate (6 − 1) / 3.0 = 1.67/s.
// Memory: the times within the last window (at most max_in_window of them).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>

namespace usersync::io::emulator {

class AdmissionLog {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  struct Figures {
    int64_t admitted = 0;
    int64_t max_in_window = 0;
    double span_seconds = 0;
    double rate = 0;  // requests/s
  };

  // REQUIRES: window > 0.
  explicit AdmissionLog(std::chrono::nanoseconds window = std::chrono::seconds(1));

  // Records a request admitted at `at`. An `at` earlier than one recorded before is read as
  // that later time. Amortized O(1).
  void Record(TimePoint at);

  Figures figures() const;

 private:
  std::chrono::nanoseconds window_;
  int64_t admitted_ = 0;
  int64_t max_in_window_ = 0;
  TimePoint first_{};
  TimePoint last_{};
  std::deque<TimePoint> in_window_;  // the recorded times within (last_ − window_, last_]
};

}  // namespace usersync::io::emulator
