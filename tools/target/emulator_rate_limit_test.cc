#include "tools/target/emulator_rate_limit.h"

#include <chrono>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace usersync::io::emulator {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using std::chrono::seconds;
using TimePoint = RateLimit::TimePoint;

const TimePoint kT0 = TimePoint() + std::chrono::hours(1);

bool Admits(RateLimit& limit, TimePoint at) { return limit.Admit(at).admitted; }

// The header's worked example, step by step.
TEST(RateLimit, HeaderExample) {
  RateLimit limit(10, 3);
  for (int request = 0; request < 3; ++request) EXPECT_TRUE(Admits(limit, kT0));
  RateLimit::Decision fourth = limit.Admit(kT0);
  EXPECT_FALSE(fourth.admitted);
  EXPECT_EQ(fourth.wait, milliseconds(100));
  EXPECT_TRUE(Admits(limit, kT0 + milliseconds(100)));
  EXPECT_EQ(limit.Admit(kT0 + milliseconds(100)).wait, milliseconds(100));
  EXPECT_TRUE(Admits(limit, kT0 + milliseconds(350)));
  EXPECT_TRUE(Admits(limit, kT0 + milliseconds(350)));
  EXPECT_EQ(limit.Admit(kT0 + milliseconds(350)).wait, milliseconds(50));
  for (int request = 0; request < 3; ++request) EXPECT_TRUE(Admits(limit, kT0 + seconds(9)));
  EXPECT_FALSE(Admits(limit, kT0 + seconds(9)));
}

TEST(RateLimit, ZeroRateIsUnlimited) {
  RateLimit limit(0, 1);
  for (int request = 0; request < 1000; ++request) ASSERT_TRUE(Admits(limit, kT0));
}

TEST(RateLimit, BurstBelowOneActsAsOne) {
  RateLimit limit(10, 0);
  EXPECT_TRUE(Admits(limit, kT0));
  EXPECT_EQ(limit.Admit(kT0).wait, milliseconds(100));
  EXPECT_TRUE(Admits(limit, kT0 + milliseconds(100)));
}

// The header's counter-example to a fixed sliding window: a full burst, then one request per
// interval, is all admitted.
TEST(RateLimit, BurstThenExactRateIsNeverRefused) {
  RateLimit limit(10, 3);
  for (int request = 0; request < 3; ++request) ASSERT_TRUE(Admits(limit, kT0));
  for (int step = 1; step <= 10'000; ++step) {
    ASSERT_TRUE(Admits(limit, kT0 + milliseconds(100) * step)) << "step " << step;
  }
}

// 3/s: the interval is 333333333.3ns, not a whole number of nanoseconds; over an hour, neither
// of two clients at the rate is refused by rounding.
TEST(RateLimit, ExactRateWithAFractionalIntervalIsNeverRefused) {
  // Burst 1: every gap must be at least the interval; this client rounds it up to the ns.
  RateLimit one(3, 1);
  for (int64_t request = 0; request < 3 * 3600; ++request) {
    ASSERT_TRUE(Admits(one, kT0 + nanoseconds(333'333'334) * request)) << "request " << request;
  }
  // Burst 2: request k at the first whole ns not before k/3 s, an average of exactly 3/s whose
  // gaps are 0.67ns short or 0.33ns long (the spare request of the burst absorbs that).
  RateLimit two(3, 2);
  for (int64_t request = 0; request < 3 * 3600; ++request) {
    const int64_t at_ns = (request * 1'000'000'000 + 2) / 3;  // ⌈request·1e9 / 3⌉
    ASSERT_TRUE(Admits(two, kT0 + nanoseconds(at_ns))) << "request " << request;
  }
}

// 1% faster than 10/s with burst 5: request k arrives at k·99ms; it may come at the earliest
// at its theoretical time less the burst's 4 spare intervals, (k − 4)·100ms. The first to come
// earlier is k = 401 (401·99ms = 39.699s < 39.7s); by the definition, [0, 39.699s] would
// hold 402 > 5 + 10·39.699 = 401.99 requests.
TEST(RateLimit, SlightlyFasterThanTheRateIsRefusedWhenTheBurstIsSpent) {
  RateLimit limit(10, 5);
  int first_refused = -1;
  for (int request = 0; request < 1000 && first_refused < 0; ++request) {
    if (!Admits(limit, kT0 + milliseconds(99) * request)) first_refused = request;
  }
  EXPECT_EQ(first_refused, 401);
}

TEST(RateLimit, WaitIsTheTimeUntilAdmission) {
  RateLimit limit(3, 2);
  ASSERT_TRUE(Admits(limit, kT0));
  ASSERT_TRUE(Admits(limit, kT0));
  RateLimit::Decision refused = limit.Admit(kT0 + milliseconds(10));
  ASSERT_FALSE(refused.admitted);
  EXPECT_EQ(refused.wait, nanoseconds(333'333'334) - milliseconds(10));  // rounded up
  RateLimit early = limit;
  EXPECT_FALSE(Admits(early, kT0 + milliseconds(10) + refused.wait - nanoseconds(1)));
  EXPECT_TRUE(Admits(limit, kT0 + milliseconds(10) + refused.wait));
}

TEST(RateLimit, TimeGoingBackwardsIsReadAsNoTimePassing) {
  RateLimit limit(10, 1);
  ASSERT_TRUE(Admits(limit, kT0 + seconds(5)));
  EXPECT_FALSE(Admits(limit, kT0));
  EXPECT_TRUE(Admits(limit, kT0 + seconds(5) + milliseconds(100)));
}

// The definition in the header, by brute force: a request at t may be admitted when, for every
// admitted request i, the admitted requests in [t_i, t] plus this one are at most
// B + R·(t − t_i). Exact in long double for the rates and bursts below (binary fractions).
bool ConformsWith(const std::vector<int64_t>& admitted_ns, int64_t at_ns, double rate,
                  double burst) {
  const long double b = std::max(1.0, burst);  // as the header says of a burst below 1
  for (size_t first_idx = 0; first_idx < admitted_ns.size(); ++first_idx) {
    const long double in_interval = static_cast<long double>(admitted_ns.size() - first_idx) + 1;
    const long double allowance =
        b * 1e9L +
        static_cast<long double>(rate) * static_cast<long double>(at_ns - admitted_ns[first_idx]);
    if (in_interval * 1e9L > allowance) return false;
  }
  return true;
}

// Random arrivals (bursts of simultaneous requests, short and long gaps), several limits: every
// decision is the definition's, and every wait leads to an admission (1µs earlier, none).
TEST(RateLimit, MatchesTheDefinitionOnRandomArrivals) {
  struct Limit {
    double rate;
    double burst;
  };
  const Limit kLimits[] = {{10, 1}, {10, 3}, {20, 20}, {7, 4}, {2.5, 1.5}, {0.25, 2}, {1000, 50}};
  std::mt19937_64 rng(20261207);
  for (const Limit& config : kLimits) {
    SCOPED_TRACE(::testing::Message() << "rate " << config.rate << " burst " << config.burst);
    RateLimit limit(config.rate, config.burst);
    std::vector<int64_t> admitted_ns;
    const int64_t interval_ns = static_cast<int64_t>(1e9 / config.rate);
    int64_t at_ns = 0;
    int refused = 0;
    for (int request = 0; request < 2000; ++request) {
      // On average a little faster than the rate (0.8 interval), so that even the large
      // bursts are spent now and then.
      switch (rng() % 8) {
        case 0:
        case 1:  // simultaneous
          break;
        case 2:
        case 3:
        case 4:  // a small fraction of the interval
          at_ns += static_cast<int64_t>(rng() % static_cast<uint64_t>(interval_ns / 4 + 1));
          break;
        case 5:
        case 6:  // about the interval
          at_ns += static_cast<int64_t>(rng() % static_cast<uint64_t>(2 * interval_ns + 1));
          break;
        default:  // idle for a while
          at_ns += static_cast<int64_t>(rng() % static_cast<uint64_t>(8 * interval_ns + 1));
      }
      const bool expected = ConformsWith(admitted_ns, at_ns, config.rate, config.burst);
      RateLimit before = limit;
      RateLimit::Decision decision = limit.Admit(kT0 + nanoseconds(at_ns));
      ASSERT_EQ(decision.admitted, expected) << "request " << request << " at " << at_ns << "ns";
      if (decision.admitted) {
        admitted_ns.push_back(at_ns);
        continue;
      }
      ++refused;
      ASSERT_GT(decision.wait, nanoseconds(0));
      const int64_t due_ns = at_ns + decision.wait.count();
      EXPECT_TRUE(ConformsWith(admitted_ns, due_ns, config.rate, config.burst)) << request;
      EXPECT_FALSE(ConformsWith(admitted_ns, due_ns - 1000, config.rate, config.burst)) << request;
      RateLimit probe = before;
      EXPECT_TRUE(probe.Admit(kT0 + nanoseconds(due_ns)).admitted) << request;
    }
    // Both outcomes happened, or the sequence tested little.
    EXPECT_GT(refused, 100);
    EXPECT_GT(admitted_ns.size(), 100u);
  }
}

}  // namespace
}  // namespace usersync::io::emulator
