// [schedule]: full_every (io/config/internal/schedule.h).
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "io/config/config_test_util.h"

namespace usersync::io {
namespace {

using namespace config_test;  // NOLINT: the shared test helpers
using ::testing::HasSubstr;

TEST(ConfigSchedule, DefaultsToADayAndTakesADuration) {
  absl::StatusOr<Config> defaults = Parse(Cfg());
  ASSERT_TRUE(defaults.ok()) << defaults.status();
  EXPECT_EQ(defaults->full_every, std::chrono::hours(24));
  absl::StatusOr<Config> set = Parse(Cfg("", "", "[schedule]\nfull_every = \"90m\"\n"));
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->full_every, std::chrono::minutes(90));
}

// Refused with the file, line and key.
TEST(ConfigSchedule, BadValuesNameTheKeyAndLine) {
  EXPECT_THAT(Rejection(Cfg("", "", "[schedule]\nfull_every = \"10s\"\n")),
              HasSubstr("full_every"));
  EXPECT_THAT(Rejection(Cfg("", "", "[schedule]\nfull_every = \"soon\"\n")),
              HasSubstr("full_every"));
  EXPECT_THAT(Rejection(Cfg("", "", "[schedule]\nfull_evry = \"1h\"\n")),
              HasSubstr("did you mean"));
  EXPECT_THAT(Rejection(Cfg("", "", "[schedule]\nfull_every = \"1s\"\n")),
              HasSubstr("at least 1 minute"));
}

}  // namespace
}  // namespace usersync::io
