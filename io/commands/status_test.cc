#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "io/clock.h"
#include "io/commands/commands.h"
#include "io/state/state_store.h"

namespace usersync::io {
namespace {

using ::testing::HasSubstr;

std::string ReadAll(std::FILE* file) {
  std::rewind(file);
  std::string text;
  char buffer[4096];
  size_t got = 0;
  while ((got = std::fread(buffer, 1, sizeof(buffer), file)) > 0) text.append(buffer, got);
  return text;
}

// "The last 24 hours" are the clock's: with the fake clock at 2024-01-01T00:00:00Z, a run of
// 2023-12-31 counts and one of 2023-12-30 does not, whatever the real date.
TEST(StatusCommand, CountsTheLast24HoursOfTheClock) {
  const std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) / "status_test";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string state_path = (dir / "state.db").string();
  {
    std::unique_ptr<StateStore> state = *StateStore::Open(state_path);
    const int64_t old_run = *state->BeginRun("sync", "2023-12-30T12:00:00.000Z");
    ASSERT_TRUE(state->FinishRun(old_run, 1, "{}", "2023-12-30T12:00:01.000Z").ok());
    const int64_t recent = *state->BeginRun("sync", "2023-12-31T12:00:00.000Z");
    ASSERT_TRUE(state->FinishRun(recent, 3, "{}", "2023-12-31T12:00:01.000Z").ok());
  }
  std::ofstream(dir / "u.toml") << "[source]\nkind = \"ldif\"\npath = \"d.ldif\"\n"
                                   "[target]\nurl = \"http://127.0.0.1:9/scim/v2\"\n";
  FakeClock clock;
  CommandOptions options;
  options.config_path = (dir / "u.toml").string();
  options.state_path = state_path;
  options.clock = &clock;
  options.out = std::tmpfile();
  options.err = std::tmpfile();
  ASSERT_EQ(RunStatusCommand(options), kExitOk) << ReadAll(options.err);
  const std::string out = ReadAll(options.out);
  EXPECT_THAT(out, HasSubstr("Last 24 hours (since 2023-12-31T00:00:00.000Z): 1 run(s): 1 "
                             "deprovisioning held (exit 3)"));
  std::fclose(options.out);
  std::fclose(options.err);
}

}  // namespace
}  // namespace usersync::io
