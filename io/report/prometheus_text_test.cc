#include "io/report/prometheus_text.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>

namespace usersync::io {
namespace {

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

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

// The file is replaced whole, 0644 whatever the umask, with no temp file left behind; its
// directory is created.
TEST(PrometheusText, WritesAtomically) {
  const std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) / "prom-atomic";
  std::filesystem::remove_all(dir);
  const std::string path = (dir / "sub" / "usersync.prom").string();
  const mode_t old_umask = ::umask(0077);
  ASSERT_TRUE(WriteFileAtomically(path, "first\n").ok());
  ASSERT_TRUE(WriteFileAtomically(path, "second\n").ok());
  ::umask(old_umask);
  EXPECT_EQ(Slurp(path), "second\n");
  struct stat info {};
  ASSERT_EQ(::stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0644u);
  int entries = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir / "sub")) {
    ++entries;
    EXPECT_EQ(entry.path().filename(), "usersync.prom");
  }
  EXPECT_EQ(entries, 1);
}

// A path that cannot be written fails naming it, and leaves nothing behind.
TEST(PrometheusText, UnwritableIsAnError) {
  const absl::Status status = WriteFileAtomically("/proc/usersync-test/usersync.prom", "x\n");
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find("/proc/usersync-test/usersync.prom"), std::string::npos)
      << status.message();
}

}  // namespace
}  // namespace usersync::io
