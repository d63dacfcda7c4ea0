#include "core/backoff.h"

#include <chrono>

#include "gtest/gtest.h"

namespace usersync::core {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(BackoffDelay, WindowDoublesUpToTheCap) {
  const Duration base = milliseconds(100);
  const Duration cap = seconds(30);
  const double almost_one = 0.999999999;
  EXPECT_EQ(BackoffDelay(0, base, cap, 0.5), milliseconds(50));
  EXPECT_EQ(BackoffDelay(1, base, cap, 0.5), milliseconds(100));
  EXPECT_EQ(BackoffDelay(3, base, cap, 0.5), milliseconds(400));
  EXPECT_EQ(BackoffDelay(8, base, cap, 0.5), milliseconds(12800));
  EXPECT_EQ(BackoffDelay(9, base, cap, 0.5), seconds(15));  // 51.2s capped at 30s
  EXPECT_LT(BackoffDelay(9, base, cap, almost_one), cap);
  EXPECT_GT(BackoffDelay(9, base, cap, almost_one), seconds(29));
}

TEST(BackoffDelay, FullJitterCoversZeroToWindow) {
  EXPECT_EQ(BackoffDelay(2, milliseconds(100), seconds(30), 0.0), Duration::zero());
  EXPECT_EQ(BackoffDelay(2, milliseconds(100), seconds(30), 0.25), milliseconds(100));
}

TEST(BackoffDelay, OutOfRangeInputsAreClamped) {
  EXPECT_EQ(BackoffDelay(-3, milliseconds(100), seconds(30), 0.5), milliseconds(50));
  EXPECT_EQ(BackoffDelay(1'000'000, milliseconds(100), seconds(30), 0.5), seconds(15));
  EXPECT_LT(BackoffDelay(1, milliseconds(100), seconds(30), 7.0), milliseconds(200));
  EXPECT_EQ(BackoffDelay(1, milliseconds(100), seconds(30), -1.0), Duration::zero());
  EXPECT_EQ(BackoffDelay(1, Duration::zero(), seconds(30), 0.5), Duration::zero());
}

// Base above the cap: the window is the cap from the start.
TEST(BackoffDelay, BaseAboveCap) {
  EXPECT_EQ(BackoffDelay(0, seconds(10), seconds(4), 0.5), seconds(2));
}

// Sun, 06 Nov 1994 08:49:37 GMT
const WallTime kDate = std::chrono::sys_days{std::chrono::year{1994} / 11 / 6} +
                       std::chrono::hours(8) + std::chrono::minutes(49) + seconds(37);

TEST(RetryAfter, DeltaSeconds) {
  EXPECT_EQ(ParseRetryAfter("120", kDate), seconds(120));
  EXPECT_EQ(ParseRetryAfter(" 0 ", kDate), Duration::zero());
  EXPECT_EQ(ParseRetryAfter("99999999999999999999", kDate), seconds(1'000'000'000));
}

TEST(RetryAfter, ImfFixdate) {
  EXPECT_EQ(ParseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", kDate - seconds(5)), seconds(5));
  EXPECT_EQ(ParseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", kDate + seconds(5)),
            Duration::zero());  // in the past
  EXPECT_EQ(ParseRetryAfter("Mon, 07 Nov 1994 00:00:00 GMT", kDate),
            std::chrono::hours(15) + std::chrono::minutes(10) + seconds(23));
}

TEST(RetryAfter, ObsoleteDateForms) {
  EXPECT_EQ(ParseRetryAfter("Sunday, 06-Nov-94 08:49:37 GMT", kDate - seconds(3)), seconds(3));
  EXPECT_EQ(ParseRetryAfter("Sun Nov  6 08:49:37 1994", kDate - seconds(7)), seconds(7));
}

TEST(RetryAfter, Rejects) {
  for (const char* value : {"", "  ", "-5", "1.5", "12abc", "soon", "Sun, 31 Feb 1994 08:49:37 GMT",
                            "Sun, 06 Foo 1994 08:49:37 GMT", "Sun, 06 Nov 1994 25:49:37 GMT",
                            "Sun, 06 Nov 1994 08:49:37 PST", "Sun, 06 Nov 1994 08:49:37 GMT x"}) {
    EXPECT_EQ(ParseRetryAfter(value, kDate), std::nullopt) << value;
  }
}

}  // namespace
}  // namespace usersync::core
