// The metrics file (issue 16 item 3) end to end: the real `usersync` against the real
// `usersync-target`, and `logs.dir/usersync.prom` read back with the Prometheus project's own
// parser (Debian's python3-prometheus-client, through tests/prom_parse.py): a sync that creates
// through 429s, one that holds deprovisioning (exit 3), one that cannot reach its target (exit
// 4), and a paused store.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/subprocess.h"
#include "tests/support/sync_world.h"

namespace usersync {
namespace {

using testing::DirectoryUser;
using testing::NumberedUsers;
using testing::ProcessResult;
using testing::SyncWorld;
using testing::WorldConfig;

// Debian's interpreter: python3-prometheus-client installs for it (tools/dev installs the
// package), whatever other python3 comes first on PATH.
constexpr char kSystemPython[] = "/usr/bin/python3";

// Sample → value, as prom_parse.py prints them: `name{label="v",...}` (labels sorted).
using Samples = std::map<std::string, double>;

class MetricsIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // The emulator admits 20 requests/s with a burst of 2; usersync is allowed 1000/s: 429s.
    ASSERT_TRUE(world_.StartTarget({"--rate", "20", "--burst", "2"}).ok());
    users_ = NumberedUsers(6);
    world_.WriteDirectory(users_);
    config_.deprovision = "max_changes = 1\nmax_changes_percent = 100\n";
    world_.WriteConfig(config_);
  }

  std::string PromPath() const { return world_.Path("logs/usersync.prom"); }

  // The file parsed by the Prometheus parser; a file that does not parse fails the test.
  Samples Parse() const {
    const ProcessResult parsed = testing::RunProcess(
        {kSystemPython, std::string(USERSYNC_SOURCE_DIR) + "/tests/prom_parse.py", PromPath()});
    EXPECT_EQ(parsed.exit_code, 0) << parsed.err << "\n" << world_.ReadFile("logs/usersync.prom");
    Samples samples;
    std::istringstream lines(parsed.out);
    for (std::string line; std::getline(lines, line);) {
      const size_t space = line.rfind(' ');
      if (space == std::string::npos) continue;
      samples[line.substr(0, space)] = std::strtod(line.c_str() + space + 1, nullptr);
    }
    return samples;
  }

  SyncWorld world_{"metrics"};
  std::vector<DirectoryUser> users_;
  WorldConfig config_;
};

constexpr char kConfig[] = R"(config="usersync")";

std::string Op(const std::string& kind, const std::string& outcome) {
  return "usersync_last_run_operations{" + std::string(kConfig) + ",kind=\"" + kind +
         "\",outcome=\"" + outcome + "\"}";
}
std::string Plain(const std::string& name) { return name + "{" + kConfig + "}"; }

TEST_F(MetricsIntegrationTest, EachRunReplacesTheFile) {
  // 1. Six creates through 429s: done, timed, counted.
  ProcessResult sync = world_.Usersync({"sync"});
  ASSERT_EQ(sync.exit_code, 0) << sync.out << sync.err;
  Samples m = Parse();
  EXPECT_EQ(m[Plain("usersync_last_run_exit_code")], 0);
  EXPECT_EQ(m[Plain("usersync_provisioning_paused")], 0);
  EXPECT_EQ(m[std::string("usersync_last_run_info{") + kConfig + ",mode=\"sync\"}"], 1);
  EXPECT_EQ(m[Op("create", "done")], 6);
  EXPECT_EQ(m[Op("create", "failed")], 0);
  EXPECT_EQ(m[Op("deactivate", "held")], 0);
  EXPECT_EQ(m[std::string("usersync_last_run_users{category=\"new\",") + kConfig + "}"], 6);
  EXPECT_GT(m[Plain("usersync_last_run_throttled_responses")], 0);
  EXPECT_EQ(m[Plain("usersync_last_run_requests")], world_.Stats().requests);
  EXPECT_EQ(m[Plain("usersync_held_operations")], 0);
  for (const char* phase : {"read_directory", "list_target", "plan", "apply"}) {
    const std::string name =
        std::string("usersync_last_run_phase_seconds{") + kConfig + ",phase=\"" + phase + "\"}";
    ASSERT_TRUE(m.contains(name)) << name;
    EXPECT_GE(m[name], 0);
  }
  const double success = m[Plain("usersync_last_success_timestamp_seconds")];
  EXPECT_GT(success, 1.7e9);
  EXPECT_NEAR(m[Plain("usersync_last_run_timestamp_seconds")], success, 1.0);
  struct stat info {};
  ASSERT_EQ(::stat(PromPath().c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0644u);  // readable by node_exporter

  // 2. Three departures beyond max_changes = 1: held (exit 3); the last success stays.
  for (int user_idx = 0; user_idx < 3; ++user_idx) users_[user_idx].in_scope = false;
  world_.WriteDirectory(users_);
  ProcessResult held = world_.Usersync({"sync"});
  ASSERT_EQ(held.exit_code, 3) << held.out << held.err;
  m = Parse();
  EXPECT_EQ(m[Plain("usersync_last_run_exit_code")], 3);
  EXPECT_EQ(m[Op("deactivate", "held")], 3);
  EXPECT_EQ(m[Op("deactivate", "done")], 0);
  EXPECT_EQ(m[Op("create", "done")], 0);
  EXPECT_EQ(m[Plain("usersync_held_operations")], 3);
  EXPECT_EQ(m[Plain("usersync_last_success_timestamp_seconds")], success);

  // 3. The target gone: exit 4, the phases it reached, no operations.
  world_.StopTarget();
  ProcessResult unreachable = world_.Usersync({"sync"});
  ASSERT_EQ(unreachable.exit_code, 4) << unreachable.out << unreachable.err;
  m = Parse();
  EXPECT_EQ(m[Plain("usersync_last_run_exit_code")], 4);
  EXPECT_TRUE(m.contains(std::string("usersync_last_run_phase_seconds{") + kConfig +
                         ",phase=\"read_directory\"}"));
  EXPECT_FALSE(
      m.contains(std::string("usersync_last_run_phase_seconds{") + kConfig + ",phase=\"apply\"}"));
  EXPECT_FALSE(m.contains(Op("create", "done")));
  EXPECT_EQ(m[Plain("usersync_last_success_timestamp_seconds")], success);

  // 4. Paused: the switch, the last success and the holds; no run took place.
  ASSERT_EQ(world_.Usersync({"pause"}).exit_code, 0);
  ASSERT_EQ(world_.Usersync({"sync"}).exit_code, 0);
  m = Parse();
  EXPECT_EQ(m[Plain("usersync_provisioning_paused")], 1);
  EXPECT_EQ(m[Plain("usersync_held_operations")], 3);
  EXPECT_FALSE(m.contains(Plain("usersync_last_run_exit_code")));

  // No temp file is left beside it.
  for (const auto& entry : std::filesystem::directory_iterator(world_.Path("logs"))) {
    EXPECT_EQ(entry.path().filename().string().find(".tmp-"), std::string::npos) << entry.path();
  }
}

}  // namespace
}  // namespace usersync
