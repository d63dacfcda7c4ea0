// [logs]: the directory and the rotation keys (io/config/internal/logs.h).
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "io/config/config_test_util.h"

namespace usersync::io {
namespace {

using namespace config_test;  // NOLINT: the shared test helpers
using ::testing::HasSubstr;

TEST(ConfigLogs, DefaultsAndOverrides) {
  absl::StatusOr<Config> defaults = Parse(Cfg());
  ASSERT_TRUE(defaults.ok()) << defaults.status();
  EXPECT_EQ(defaults->logs.max_size_bytes, 64 << 20);
  EXPECT_EQ(defaults->logs.keep, 5);
  EXPECT_EQ(defaults->logs.keep_days, 90);
  absl::StatusOr<Config> set = Parse(
      Cfg("", "", "[logs]\ndir = \"/var/log/u\"\nmax_size = 1000\nkeep = 2\nkeep_days = 0\n"));
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->logs_dir, "/var/log/u");
  EXPECT_EQ(set->logs.max_size_bytes, 1000);
  EXPECT_EQ(set->logs.keep, 2);
  EXPECT_EQ(set->logs.keep_days, 0);
}

TEST(ConfigLogs, BadValuesNameTheKey) {
  EXPECT_THAT(Rejection(Cfg("", "", "[logs]\nkeep = 0\n")), HasSubstr("keep"));
  EXPECT_THAT(Rejection(Cfg("", "", "[logs]\nmax_size = -1\n")), HasSubstr("max_size"));
  EXPECT_THAT(Rejection(Cfg("", "", "[logs]\nkeep_days = -3\n")), HasSubstr("keep_days"));
  EXPECT_THAT(Rejection(Cfg("", "", "[logs]\nmax_sise = 5\n")), HasSubstr("did you mean"));
  EXPECT_THAT(Rejection(Cfg("", "", "[logs]\ndir = \"\"\n")), HasSubstr("must not be empty"));
}

}  // namespace
}  // namespace usersync::io
