// Retry timing arithmetic: exponential backoff with full jitter, and the HTTP Retry-After
// header. Pure functions (the randomness and the current time are arguments); thread-safe.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

#include "core/time.h"

namespace usersync::core {

// Wall-clock time, needed only to read an HTTP-date relative to "now".
using WallTime = std::chrono::system_clock::time_point;

// The delay before retry number `attempt` (0 for the first retry) with "full jitter" (AWS
// Architecture Blog, "Exponential Backoff And Jitter"):
//   delay = unit_random × min(cap, base × 2^attempt)
// `unit_random` is a uniform draw from [0, 1) (clamped into it). Full jitter spreads clients
// that failed together across the whole window, which beats both no jitter and "equal jitter"
// in total work and completion time.
// Example (base 100ms, cap 30s): attempt 0 → [0, 100ms), 1 → [0, 200ms), 3 → [0, 800ms),
// 9 → [0, 30s) (51.2s capped). A negative attempt counts as 0; huge ones do not overflow.
Duration BackoffDelay(int attempt, Duration base, Duration cap, double unit_random);

// Parses the value of a Retry-After header (RFC 9110 §10.2.3): either delta-seconds ("120") or
// an HTTP-date (IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT", and the obsolete RFC 850
// "Sunday, 06-Nov-94 08:49:37 GMT" and asctime "Sun Nov  6 08:49:37 1994" forms), taken
// relative to `now`. Returns how long to wait (0 for a date in the past), or nullopt when the
// value is neither form. Surrounding white space is ignored. Delta-seconds above 10^9 are read
// as 10^9 (no overflow).
std::optional<Duration> ParseRetryAfter(std::string_view value, WallTime now);

}  // namespace usersync::core
