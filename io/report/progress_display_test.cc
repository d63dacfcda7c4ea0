#include "io/report/progress_display.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace usersync::io {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(ProgressMode, AutoFollowsTheTerminal) {
  std::chrono::milliseconds every{0};
  EXPECT_EQ(*ParseProgressMode("auto", /*err_is_terminal=*/true, &every), ProgressMode::kTerminal);
  EXPECT_EQ(*ParseProgressMode("auto", false, &every), ProgressMode::kOff);
  EXPECT_EQ(*ParseProgressMode("off", true, &every), ProgressMode::kOff);
  EXPECT_EQ(*ParseProgressMode("tty", false, &every), ProgressMode::kTerminal);
}

TEST(ProgressMode, PlainTakesAnInterval) {
  std::chrono::milliseconds every{0};
  EXPECT_EQ(*ParseProgressMode("plain", false, &every), ProgressMode::kPlain);
  EXPECT_EQ(every, std::chrono::seconds(10));
  EXPECT_EQ(*ParseProgressMode("plain:30s", false, &every), ProgressMode::kPlain);
  EXPECT_EQ(every, std::chrono::seconds(30));
  EXPECT_FALSE(ParseProgressMode("plain:100ms", false, &every).ok());  // under a second
  EXPECT_FALSE(ParseProgressMode("fancy", false, &every).ok());
}

TEST(ProgressLine, ApplyShowsDoneTotalRatesThrottlingAndEta) {
  const std::string line = ProgressLine({.phase = "applying",
                                         .phase_seconds = 10,
                                         .done = 500,
                                         .total = 10'000,
                                         .requests = 40,
                                         .throttled = 3});
  EXPECT_EQ(line,
            "applying: 500/10000 (5.0%) · 50.0 ops/s · 4.0 requests/s · 3 × 429 · ETA 3m10s · "
            "10.0s");
}

TEST(ProgressLine, NoEtaBeforeAnythingIsDone) {
  const std::string line = ProgressLine({.phase = "applying", .phase_seconds = 1, .total = 9});
  EXPECT_THAT(line, Not(HasSubstr("ETA")));
  EXPECT_EQ(ProgressLine({.phase = "reading the directory", .phase_seconds = 3.25}),
            "reading the directory … 3.2s");
}

// The status file: written by the display's thread, read by `usersync status`, gone at the end.
TEST(ProgressDisplay, StatusFileShowsThePhaseAndIsRemovedAtTheEnd) {
  const std::string path = ::testing::TempDir() + "/run-progress-test";
  std::remove(path.c_str());
  {
    ProgressOptions options;
    options.interval = std::chrono::milliseconds(10);
    options.status_every = std::chrono::milliseconds(10);
    options.status_path = path;
    options.started_at = "2026-12-07T13:00:00Z";
    ProgressDisplay display(options);
    display.BeginPhase("applying", 4);
    display.settled()->fetch_add(3);
    absl::StatusOr<RunProgress> progress;
    for (int attempt = 0; attempt < 500; ++attempt) {  // until the thread wrote the count
      progress = ReadRunProgress(path);
      if (progress.ok() && progress->done == 3) break;
      usleep(10'000);
    }
    ASSERT_TRUE(progress.ok()) << progress.status();
    EXPECT_EQ(progress->pid, getpid());
    EXPECT_EQ(progress->phase, "applying");
    EXPECT_EQ(progress->done, 3);
    EXPECT_EQ(progress->total, 4);
    EXPECT_EQ(progress->started_at, "2026-12-07T13:00:00Z");
  }
  EXPECT_EQ(ReadRunProgress(path).status().code(), absl::StatusCode::kNotFound);
}

// Plain mode prints whole lines (no carriage return), each phase's summary included.
TEST(ProgressDisplay, PlainPrintsLines) {
  std::FILE* err = std::tmpfile();
  ASSERT_NE(err, nullptr);
  {
    ProgressOptions options;
    options.mode = ProgressMode::kPlain;
    options.err = err;
    options.interval = std::chrono::milliseconds(10);
    ProgressDisplay display(options);
    display.BeginPhase("reading the directory");
    display.EndPhase("· read 3 users in 0.01s");
  }
  std::rewind(err);
  std::string text(4096, '\0');
  text.resize(std::fread(text.data(), 1, text.size(), err));
  std::fclose(err);
  EXPECT_THAT(text, HasSubstr("· read 3 users in 0.01s\n"));
  EXPECT_THAT(text, Not(HasSubstr("\r")));
}

}  // namespace
}  // namespace usersync::io
