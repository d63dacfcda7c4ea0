#include "core/token_bucket.h"

#include <chrono>

#include "gtest/gtest.h"

namespace usersync::core {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::seconds;

const MonoTime kT0 = MonoTime() + std::chrono::hours(1);

// The header's worked example, step by step.
TEST(TokenBucket, HeaderExample) {
  TokenBucket bucket(10, 3);
  EXPECT_EQ(bucket.Acquire(kT0), Duration::zero());
  EXPECT_EQ(bucket.Acquire(kT0), Duration::zero());
  EXPECT_EQ(bucket.Acquire(kT0), Duration::zero());
  EXPECT_EQ(bucket.Acquire(kT0), milliseconds(100));
  EXPECT_EQ(bucket.Acquire(kT0 + milliseconds(100)), Duration::zero());
  EXPECT_EQ(bucket.Acquire(kT0 + milliseconds(100)), milliseconds(100));
  EXPECT_EQ(bucket.Acquire(kT0 + milliseconds(350)), Duration::zero());
  EXPECT_EQ(bucket.Acquire(kT0 + milliseconds(350)), Duration::zero());
  EXPECT_EQ(bucket.Acquire(kT0 + milliseconds(350)), milliseconds(50));
  // Idle: refills up to the burst, never more.
  for (int i = 0; i < 3; ++i) EXPECT_EQ(bucket.Acquire(kT0 + seconds(9)), Duration::zero());
  EXPECT_GT(bucket.Acquire(kT0 + seconds(9)), Duration::zero());
}

TEST(TokenBucket, ZeroRateIsUnlimited) {
  TokenBucket bucket(0, 1);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(bucket.Acquire(kT0), Duration::zero());
}

TEST(TokenBucket, WaitIsRoundedUpToTheMicrosecond) {
  TokenBucket bucket(3, 1);  // one token every 333333.33µs
  EXPECT_EQ(bucket.Acquire(kT0), Duration::zero());
  const Duration wait = bucket.Acquire(kT0);
  EXPECT_EQ(wait, microseconds(333334));
  // Waiting exactly the answer suffices.
  EXPECT_EQ(bucket.Acquire(kT0 + wait), Duration::zero());
}

TEST(TokenBucket, AskingEarlyTakesNothing) {
  TokenBucket bucket(10, 1);
  EXPECT_EQ(bucket.Acquire(kT0), Duration::zero());
  EXPECT_EQ(bucket.Acquire(kT0 + milliseconds(40)), milliseconds(60));
  EXPECT_EQ(bucket.Acquire(kT0 + milliseconds(70)), milliseconds(30));
  EXPECT_EQ(bucket.Acquire(kT0 + milliseconds(100)), Duration::zero());
}

TEST(TokenBucket, MultipleTokens) {
  TokenBucket bucket(10, 5);
  EXPECT_EQ(bucket.Acquire(kT0, 4), Duration::zero());
  EXPECT_EQ(bucket.Acquire(kT0, 4), milliseconds(300));  // holds 1, needs 3 more
}

TEST(TokenBucket, BurstBelowOneActsAsOne) {
  TokenBucket bucket(10, 0);
  EXPECT_EQ(bucket.burst(), 1);
  EXPECT_EQ(bucket.Acquire(kT0), Duration::zero());
}

TEST(TokenBucket, TimeGoingBackwardsAddsNothing) {
  TokenBucket bucket(10, 1);
  EXPECT_EQ(bucket.Acquire(kT0), Duration::zero());
  EXPECT_EQ(bucket.Acquire(kT0 - seconds(5)), milliseconds(100));
}

// A caller whose timer wakes 1ms late every time: without slack the rate drops (burst 1 cannot
// bank the late time); with 5ms of slack it stays the configured one.
TEST(TokenBucket, TimerSlackKeepsTheRateDespiteLateWakeups) {
  auto run = [](Duration slack) {
    TokenBucket bucket(100, 1, slack);
    MonoTime now = kT0;
    int sent = 0;
    while (now < kT0 + seconds(10)) {
      const Duration wait = bucket.Acquire(now);
      if (wait == Duration::zero()) {
        ++sent;
      } else {
        // Timer granularity: milliseconds rounded up, plus 1ms late.
        now += std::chrono::ceil<milliseconds>(wait) + milliseconds(1);
      }
    }
    return sent;
  };
  EXPECT_LT(run(Duration::zero()), 920);  // ~ 1000 × 10/11
  EXPECT_GE(run(milliseconds(5)), 995);   // ~ 1000
  EXPECT_LE(run(milliseconds(5)), 1001);  // plus the initial token
}

TEST(TokenBucket, SetRateCreditsTokensAtTheOldRate) {
  TokenBucket bucket(10, 10);
  for (int i = 0; i < 10; ++i) ASSERT_EQ(bucket.Acquire(kT0), Duration::zero());
  bucket.SetRate(1, kT0 + milliseconds(500));  // 5 tokens earned at 10/s
  EXPECT_DOUBLE_EQ(bucket.tokens(), 5);
  EXPECT_EQ(bucket.rate(), 1);
  for (int i = 0; i < 5; ++i) ASSERT_EQ(bucket.Acquire(kT0 + milliseconds(500)), Duration::zero());
  EXPECT_EQ(bucket.Acquire(kT0 + milliseconds(500)), seconds(1));
}

TEST(TokenBucket, SetRateToZeroIsUnlimitedAndBack) {
  TokenBucket bucket(1, 1);
  EXPECT_EQ(bucket.Acquire(kT0), Duration::zero());
  bucket.SetRate(0, kT0);
  EXPECT_EQ(bucket.Acquire(kT0), Duration::zero());
  bucket.SetRate(1, kT0);
  EXPECT_EQ(bucket.Acquire(kT0), seconds(1));
}

// The header's worked example for AIMD.
TEST(AdaptiveRate, HeaderExample) {
  AdaptiveRate aimd(10);
  EXPECT_EQ(aimd.rate(), 10);
  EXPECT_EQ(aimd.OnSuccess(kT0), 10);
  EXPECT_EQ(aimd.OnThrottled(kT0 + milliseconds(200)), 5);
  EXPECT_EQ(aimd.OnThrottled(kT0 + milliseconds(500)), 5);  // within the cooldown
  EXPECT_EQ(aimd.OnThrottled(kT0 + milliseconds(1300)), 2.5);
  EXPECT_EQ(aimd.OnSuccess(kT0 + milliseconds(1800)), 2.5);  // not a whole second yet
  EXPECT_EQ(aimd.OnSuccess(kT0 + milliseconds(2300)), 3.5);
  EXPECT_EQ(aimd.OnSuccess(kT0 + milliseconds(4300)), 5.5);
  EXPECT_EQ(aimd.OnSuccess(kT0 + seconds(60)), 10);  // capped at the max
  EXPECT_EQ(aimd.OnSuccess(kT0 + seconds(70)), 10);
}

TEST(AdaptiveRate, NeverBelowTheFloor) {
  AdaptiveRate aimd(4, 0.5);
  MonoTime now = kT0;
  for (int i = 0; i < 20; ++i) {
    aimd.OnThrottled(now);
    now += seconds(2);
  }
  EXPECT_EQ(aimd.rate(), 0.5);
}

// An increase does not restart the cooldown: a 429 right after a probe up is acted on.
TEST(AdaptiveRate, CutRightAfterAnIncrease) {
  AdaptiveRate aimd(10);
  aimd.OnThrottled(kT0);                                     // 5
  EXPECT_EQ(aimd.OnSuccess(kT0 + seconds(1)), 6);            // +1
  EXPECT_EQ(aimd.OnThrottled(kT0 + milliseconds(1100)), 3);  // cut again
}

// A client keeps one token of the server's burst in reserve, when there is one to spare.
TEST(ClientBurst, KeepsOneTokenInReserve) {
  static_assert(ClientBurst(10) == 9);
  EXPECT_EQ(ClientBurst(2), 1);
  EXPECT_EQ(ClientBurst(1.5), 1.5);
  EXPECT_EQ(ClientBurst(1), 1);
}

}  // namespace
}  // namespace usersync::core
