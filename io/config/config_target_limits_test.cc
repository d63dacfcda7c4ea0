// The [target] limits on a misbehaving target: max_response_bytes, max_retry_after and
// retry_budget (README's configuration table): defaults, values read, refusals with file:line.
#include <chrono>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "io/config/config.h"
#include "io/config/config_test_util.h"

namespace usersync::io {
namespace {

using namespace config_test;  // NOLINT: the shared test helpers
using ::testing::AllOf;
using ::testing::HasSubstr;

TEST(ConfigTargetLimits, Defaults) {
  absl::StatusOr<Config> config = Parse(Cfg());
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->target.max_response_bytes, 67108864);
  EXPECT_EQ(config->target.max_retry_after, std::chrono::seconds(60));
  EXPECT_EQ(config->target.retry_budget, std::chrono::minutes(10));
}

TEST(ConfigTargetLimits, ValuesAreRead) {
  absl::StatusOr<Config> config = Parse(
      Cfg("", "max_response_bytes = 1048576\nmax_retry_after = \"5s\"\nretry_budget = \"2m\"\n"));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->target.max_response_bytes, 1048576);
  EXPECT_EQ(config->target.max_retry_after, std::chrono::seconds(5));
  EXPECT_EQ(config->target.retry_budget, std::chrono::minutes(2));
}

TEST(ConfigTargetLimits, OutOfRangeIsRefusedWithTheLine) {
  // [source] 1, url 2, blank 3, [target] 4, url 5, the key 6.
  EXPECT_THAT(Rejection(Cfg("", "max_response_bytes = 65535\n")),
              AllOf(HasSubstr("usersync.toml:6:"), HasSubstr("target.max_response_bytes"),
                    HasSubstr("65536")));
  EXPECT_THAT(Rejection(Cfg("", "max_response_bytes = 1073741825\n")),
              HasSubstr("target.max_response_bytes"));
  EXPECT_THAT(Rejection(Cfg("", "max_response_bytes = \"64MB\"\n")),
              HasSubstr("target.max_response_bytes"));
  EXPECT_THAT(Rejection(Cfg("", "max_retry_after = \"0s\"\n")),
              AllOf(HasSubstr("usersync.toml:6:"), HasSubstr("target.max_retry_after")));
  EXPECT_THAT(Rejection(Cfg("", "max_retry_after = \"soon\"\n")),
              HasSubstr("target.max_retry_after"));
  EXPECT_THAT(Rejection(Cfg("", "max_retry_after = \"2m\"\nretry_budget = \"1m\"\n")),
              AllOf(HasSubstr("usersync.toml:7:"), HasSubstr("target.retry_budget"),
                    HasSubstr("max_retry_after")));
}

}  // namespace
}  // namespace usersync::io
