#include "tools/target/emulator_admission_log.h"

#include <chrono>

#include "gtest/gtest.h"
#include "tools/target/emulator_rate_limit.h"

namespace usersync::io::emulator {
namespace {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using std::chrono::seconds;
using TimePoint = AdmissionLog::TimePoint;

const TimePoint kT0 = TimePoint() + std::chrono::hours(1);

// The header's worked example.
TEST(AdmissionLog, HeaderExample) {
  AdmissionLog log;
  for (int ms : {0, 200, 500, 1000, 1100, 3000}) log.Record(kT0 + milliseconds(ms));
  const AdmissionLog::Figures figures = log.figures();
  EXPECT_EQ(figures.admitted, 6);
  EXPECT_EQ(figures.max_in_window, 4);
  EXPECT_DOUBLE_EQ(figures.span_seconds, 3.0);
  EXPECT_DOUBLE_EQ(figures.rate, 5.0 / 3.0);
}

TEST(AdmissionLog, NothingOrOneRequestHasNoRate) {
  AdmissionLog log;
  EXPECT_EQ(log.figures().admitted, 0);
  EXPECT_EQ(log.figures().max_in_window, 0);
  EXPECT_EQ(log.figures().rate, 0);
  log.Record(kT0);
  log.Record(kT0);  // two at once: a zero span
  EXPECT_EQ(log.figures().admitted, 2);
  EXPECT_EQ(log.figures().max_in_window, 2);
  EXPECT_EQ(log.figures().span_seconds, 0);
  EXPECT_EQ(log.figures().rate, 0);
}

// A window is (t − 1s, t]: requests exactly 1 s apart are never in one window; 1ns less, and
// they are.
TEST(AdmissionLog, WindowIsOpenAtItsStart) {
  AdmissionLog apart;
  for (int second = 0; second < 5; ++second) apart.Record(kT0 + seconds(second));
  EXPECT_EQ(apart.figures().max_in_window, 1);
  AdmissionLog close;
  close.Record(kT0);
  close.Record(kT0 + seconds(1) - nanoseconds(1));
  EXPECT_EQ(close.figures().max_in_window, 2);
}

TEST(AdmissionLog, TheBusiestWindowAnywhereInTheRun) {
  AdmissionLog log(milliseconds(100));
  for (int ms = 0; ms < 1000; ms += 50) log.Record(kT0 + milliseconds(ms));  // 2 per window
  for (int request = 0; request < 7; ++request) log.Record(kT0 + milliseconds(1020));
  for (int ms = 1100; ms < 3000; ms += 50) log.Record(kT0 + milliseconds(ms));
  // (0.95, 1.05] holds the one at 1000 and the 7 at 1020.
  EXPECT_EQ(log.figures().max_in_window, 8);
}

// The two pieces together, as the server runs them: a client asking every millisecond for
// 10 s against 20/s with burst 5 gets what the limit allows, and the log measures it
// independently: below B + R in any second, at most B + R·span in all, close to R on average.
TEST(AdmissionLog, MeasuresASaturatedLimit) {
  RateLimit limit(20, 5);
  AdmissionLog log;
  for (int ms = 0; ms < 10'000; ++ms) {
    const TimePoint now = kT0 + milliseconds(ms);
    if (limit.Admit(now).admitted) log.Record(now);
  }
  const AdmissionLog::Figures figures = log.figures();
  EXPECT_EQ(figures.max_in_window, 24);  // 5 + 20·(1s − 1ms), whole requests
  EXPECT_LE(figures.admitted, 5 + 20 * figures.span_seconds);
  EXPECT_EQ(figures.admitted, 5 + 20 * 10 - 1);  // the burst, then one per 50ms until 9.95s
  EXPECT_NEAR(figures.rate, 20, 0.5);
}

}  // namespace
}  // namespace usersync::io::emulator
