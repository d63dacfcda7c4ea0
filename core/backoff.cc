#include "core/backoff.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>

#include "core/str.h"

namespace usersync::core {
namespace {

constexpr int64_t kMaxDeltaSeconds = 1'000'000'000;

// A cursor over the header value for the hand-written HTTP-date grammar.
class Cursor {
 public:
  explicit Cursor(std::string_view s) : s_(s) {}
  bool done() const { return pos_ >= s_.size(); }
  char peek() const { return done() ? '\0' : s_[pos_]; }
  bool Eat(char c) {
    if (peek() != c) return false;
    ++pos_;
    return true;
  }
  void SkipSpaces() {
    while (peek() == ' ') ++pos_;
  }
  std::string_view Letters() {
    const size_t start = pos_;
    while ((peek() >= 'A' && peek() <= 'Z') || (peek() >= 'a' && peek() <= 'z')) ++pos_;
    return s_.substr(start, pos_ - start);
  }
  // Exactly `min_digits`..`max_digits` decimal digits.
  bool Number(int min_digits, int max_digits, int* out) {
    int value = 0;
    int count = 0;
    while (count < max_digits && peek() >= '0' && peek() <= '9') {
      value = value * 10 + (peek() - '0');
      ++pos_;
      ++count;
    }
    *out = value;
    return count >= min_digits;
  }

 private:
  std::string_view s_;
  size_t pos_ = 0;
};

int MonthNumber(std::string_view name) {
  static constexpr std::array<std::string_view, 12> kMonths = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  for (size_t i = 0; i < kMonths.size(); ++i) {
    if (EqualsIgnoreCase(name, kMonths[i])) return static_cast<int>(i) + 1;
  }
  return 0;
}

bool ParseClock(Cursor& c, int* hour, int* minute, int* second) {
  return c.Number(2, 2, hour) && c.Eat(':') && c.Number(2, 2, minute) && c.Eat(':') &&
         c.Number(2, 2, second) && *hour <= 23 && *minute <= 59 && *second <= 60;
}

std::optional<WallTime> ToTime(int year, int month, int day, int hour, int minute, int second) {
  const std::chrono::year_month_day ymd{std::chrono::year{year},
                                        std::chrono::month{static_cast<unsigned>(month)},
                                        std::chrono::day{static_cast<unsigned>(day)}};
  if (!ymd.ok()) return std::nullopt;
  return std::chrono::time_point_cast<WallTime::duration>(
      std::chrono::sys_days{ymd} + std::chrono::hours{hour} + std::chrono::minutes{minute} +
      std::chrono::seconds{second});
}

std::optional<WallTime> ParseHttpDate(std::string_view value, WallTime now) {
  Cursor c(value);
  if (c.Letters().size() < 3) return std::nullopt;  // day name: not checked against the date
  int day = 0, month = 0, year = 0, hour = 0, minute = 0, second = 0;
  if (c.Eat(',')) {
    c.SkipSpaces();
    if (!c.Number(1, 2, &day)) return std::nullopt;
    if (c.Eat('-')) {
      // RFC 850: 06-Nov-94 08:49:37 GMT
      month = MonthNumber(c.Letters());
      if (month == 0 || !c.Eat('-') || !c.Number(2, 2, &year)) return std::nullopt;
      // RFC 9110: a two-digit year more than 50 years in the future is in the past century.
      const int now_year = static_cast<int>(
          std::chrono::year_month_day{std::chrono::floor<std::chrono::days>(now)}.year());
      const int century = now_year / 100 * 100;
      year += century;
      if (year > now_year + 50) year -= 100;
    } else {
      // IMF-fixdate: 06 Nov 1994 08:49:37 GMT
      c.SkipSpaces();
      month = MonthNumber(c.Letters());
      c.SkipSpaces();
      if (month == 0 || !c.Number(4, 4, &year)) return std::nullopt;
    }
    c.SkipSpaces();
    if (!ParseClock(c, &hour, &minute, &second)) return std::nullopt;
    c.SkipSpaces();
    if (!EqualsIgnoreCase(c.Letters(), "GMT")) return std::nullopt;
  } else {
    // asctime: Sun Nov  6 08:49:37 1994
    c.SkipSpaces();
    month = MonthNumber(c.Letters());
    c.SkipSpaces();
    if (month == 0 || !c.Number(1, 2, &day)) return std::nullopt;
    c.SkipSpaces();
    if (!ParseClock(c, &hour, &minute, &second)) return std::nullopt;
    c.SkipSpaces();
    if (!c.Number(4, 4, &year)) return std::nullopt;
  }
  c.SkipSpaces();
  if (!c.done()) return std::nullopt;
  return ToTime(year, month, day, hour, minute, second);
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

}  // namespace

Duration BackoffDelay(int attempt, Duration base, Duration cap, double unit_random) {
  if (base <= Duration::zero() || cap <= Duration::zero()) return Duration::zero();
  attempt = std::clamp(attempt, 0, 62);
  // Double the window until it reaches the cap; stops early, so no overflow.
  Duration window = base;
  for (int i = 0; i < attempt && window < cap; ++i) {
    window = window > cap / 2 ? cap : window * 2;
  }
  window = std::min(window, cap);
  if (!(unit_random >= 0)) unit_random = 0;  // also catches NaN
  unit_random = std::min(unit_random, std::nextafter(1.0, 0.0));
  return Duration(static_cast<Duration::rep>(static_cast<double>(window.count()) * unit_random));
}

std::optional<Duration> ParseRetryAfter(std::string_view value, WallTime now) {
  value = Trim(value);
  if (value.empty()) return std::nullopt;
  if (value.front() >= '0' && value.front() <= '9') {
    int64_t seconds = 0;
    for (char ch : value) {
      if (ch < '0' || ch > '9') return std::nullopt;
      seconds = std::min(kMaxDeltaSeconds, seconds * 10 + (ch - '0'));
    }
    return std::chrono::seconds(seconds);
  }
  const std::optional<WallTime> when = ParseHttpDate(value, now);
  if (!when) return std::nullopt;
  if (*when <= now) return Duration::zero();
  return std::chrono::duration_cast<Duration>(*when - now);
}

}  // namespace usersync::core
