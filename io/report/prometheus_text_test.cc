#include "io/report/prometheus_text.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

namespace usersync::io {
namespace {

TEST(PrometheusText, FamilyAndSamples) {
  PrometheusText text;
  text.Family("usersync_x", "What x is.", "gauge");
  text.Sample("usersync_x", {{"config", "acme"}, {"kind", "create"}}, 3);
  text.Sample("usersync_x", {}, 0.25);
  EXPECT_EQ(text.text(),
            "# HELP usersync_x What x is.\n"
            "# TYPE usersync_x gauge\n"
            "usersync_x{config=\"acme\",kind=\"create\"} 3\n"
            "usersync_x 0.25\n");
}

// Label values escape backslash, quote and newline; HELP escapes backslash and newline only.
TEST(PrometheusText, Escapes) {
  PrometheusText text;
  text.Family("usersync_y", "a \\ b\nc \"d\"", "gauge");
  text.Sample("usersync_y", {{"config", "a\\b\"c\nd"}}, -1);
  EXPECT_EQ(text.text(),
            "# HELP usersync_y a \\\\ b\\nc \"d\"\n"
            "# TYPE usersync_y gauge\n"
            "usersync_y{config=\"a\\\\b\\\"c\\nd\"} -1\n");
}

// Values: integers without a point, the shortest exact text otherwise, Prometheus's NaN/Inf.
TEST(PrometheusText, Values) {
  PrometheusText text;
  text.Sample("a", {}, 1796646956.934);
  text.Sample("b", {}, 0.000641432);
  text.Sample("c", {}, std::numeric_limits<double>::quiet_NaN());
  text.Sample("d", {}, -std::numeric_limits<double>::infinity());
  text.Sample("e", {}, 1e20);
  EXPECT_EQ(text.text(), "a 1796646956.934\nb 0.000641432\nc NaN\nd -Inf\ne 1e+20\n");
}

}  // namespace
}  // namespace usersync::io
