#include "tools/target/emulator_rate_limit.h"

#include <algorithm>
#include <cmath>

namespace usersync::io::emulator {
namespace {

constexpr long double kNanosPerSecond = 1e9L;

}  // namespace

RateLimit::RateLimit(double rate_per_s, double burst)
    : rate_(rate_per_s), burst_(std::max(1.0, burst)) {}

RateLimit::Decision RateLimit::Admit(TimePoint now) {
  if (rate_ <= 0) return {.admitted = true};
  if (started_) now = std::max(now, last_now_);
  last_now_ = now;
  if (!started_) {
    started_ = true;
    anchor_ = now;
    admitted_since_anchor_ = 1;
    return {.admitted = true};
  }
  // Both sides in nanoseconds × rate, so that with an integral rate and burst the comparison
  // is exact: a client at exactly the rate is at the boundary, where rounding must not refuse
  // it. `elapsed` = R·(now − anchor) in ns-intervals; `tat` = R·(TAT − anchor) = n·1e9.
  const long double elapsed =
      static_cast<long double>(rate_) * static_cast<long double>((now - anchor_).count());
  const long double tat = static_cast<long double>(admitted_since_anchor_) * kNanosPerSecond;
  const long double tolerance = (static_cast<long double>(burst_) - 1) * kNanosPerSecond;
  if (tat - tolerance > elapsed) {
    const long double wait_ns = std::ceil((tat - tolerance - elapsed) / rate_);
    return {.admitted = false,
            .wait = std::chrono::nanoseconds(std::max<int64_t>(1, static_cast<int64_t>(wait_ns)))};
  }
  if (tat <= elapsed) {
    // TAT is in the past: the server was idle; the next TAT counts from this arrival.
    anchor_ = now;
    admitted_since_anchor_ = 1;
  } else {
    ++admitted_since_anchor_;
  }
  return {.admitted = true};
}

}  // namespace usersync::io::emulator
