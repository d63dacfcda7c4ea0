#include <gtest/gtest.h>

#include "io/clock.h"
#include "io/commands/commands.h"

namespace usersync::io {
namespace {

TEST(ParseInterval, AcceptsDurationsOfASecondOrMore) {
  EXPECT_EQ(ParseInterval("15m").value(), absl::Minutes(15));
  EXPECT_EQ(ParseInterval("1h30m").value(), absl::Minutes(90));
  EXPECT_EQ(ParseInterval("1s").value(), absl::Seconds(1));
  EXPECT_EQ(ParseInterval("24h").value(), absl::Hours(24));
}

TEST(ParseInterval, RefusesWhatCannotBeAnInterval) {
  for (const char* text : {"", "15", "soon", "0s", "999ms", "-5m", "inf", "15 m"}) {
    absl::StatusOr<absl::Duration> every = ParseInterval(text);
    ASSERT_FALSE(every.ok()) << text;
    EXPECT_EQ(every.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(every.status().message().find(std::string("'") + text + "'"), std::string::npos)
        << every.status();
  }
}

// The next round starts one interval after the last one started, or at once if it overran.
TEST(NextRoundAt, OneIntervalAfterTheStartOrAtOnceWhenOverrun) {
  FakeClock clock;
  const core::MonoTime start = clock.Now();
  clock.Advance(std::chrono::seconds(20));
  EXPECT_EQ(NextRoundAt(start, absl::Minutes(1), clock.Now()), start + std::chrono::minutes(1));
  clock.Advance(std::chrono::seconds(50));  // the round took 70 s
  EXPECT_EQ(NextRoundAt(start, absl::Minutes(1), clock.Now()), clock.Now());
}

}  // namespace
}  // namespace usersync::io
