#include "io/commands/status_log.h"

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace usersync::io {
namespace {

// The day line adds each run to the previous day line; exit codes are counted per code and
// the rate comes from the day's requests over its apply time.
TEST(StatusLog, DayLineSumsRuns) {
  const StatusFields first = {
      {"exit", 0}, {"new", 4}, {"create", 4}, {"requests", 10}, {"apply_ms", 1000}};
  const std::string day1 = FormatStatusFields(AddToDay("", first));
  EXPECT_EQ(day1, "runs=1 exit_0=1 new=4 create=4 requests=10 apply_ms=1000 rate=10.0");
  const StatusFields second = {{"exit", 4}};
  const std::string day2 = FormatStatusFields(
      AddToDay(absl::StrCat("2026-12-07T13:00:00.000Z day 2026-12-07 ", day1), second));
  EXPECT_EQ(day2, "runs=2 exit_0=1 new=4 create=4 requests=10 apply_ms=1000 exit_4=1 rate=10.0");
}

}  // namespace
}  // namespace usersync::io
