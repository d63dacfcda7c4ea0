// SyncWorld: everything an end-to-end test of the `usersync` binary sets up, in one object.
//
// A world is a fresh temp dir (::testing::TempDir()/PREFIX-TEST_NAME, emptied first), an
// optional target emulator (an EmulatorProcess started with the test's flags), a directory
// file (StaffDirectory, an LDIF of users in cn=staff), a configuration (WorldConfig, written
// as TOML with the target's URL, the token's variable, state and logs inside the dir), and
// the commands: Usersync() runs the binary in the dir with the target's token in
// kTargetTokenEnv, and Stats() / ScimAccounts() read what the emulator holds.
//
//   SyncWorld world("sync");
//   ASSERT_TRUE(world.StartTarget({"--no-bulk"}).ok());
//   world.WriteDirectory(NumberedUsers(10));
//   world.WriteConfig();
//   ProcessResult sync = world.Usersync({"sync"});  // usersync sync -c DIR/usersync.toml
//   EXPECT_EQ(world.Stats().creates, 10);
//
// Thread-compatible. The emulator is killed (SIGKILL) when the world is destroyed; the temp
// dir stays for a post-mortem.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tests/support/emulator_process.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_files.h"

namespace usersync::testing {

// The environment variable that carries the target's token to `usersync` (token_env).
inline constexpr char kTargetTokenEnv[] = "USERSYNC_TEST_TARGET_TOKEN";
inline constexpr char kStaffGroup[] = "cn=staff,ou=groups,dc=example,dc=com";
inline constexpr char kTeamGroup[] = "cn=team,ou=groups,dc=example,dc=com";

// ---- Small helpers ------------------------------------------------------------------------

// Whether `text` holds `part` (or not), with both (the text cut at 4,000 characters) in the
// message: this binary links no gmock.
::testing::AssertionResult Contains(const std::string& text, const std::string& part);
::testing::AssertionResult Lacks(const std::string& text, const std::string& part);

// An exclusive flock(2) on `path` (created if need be) holding `contents`, as another process
// holding the state store's run lock would; released by the destructor.
class HeldFileLock {
 public:
  // Errors: Internal when the file cannot be opened, FailedPrecondition when it is locked.
  static absl::StatusOr<std::unique_ptr<HeldFileLock>> Hold(const std::string& path,
                                                            std::string_view contents);
  ~HeldFileLock();
  HeldFileLock(const HeldFileLock&) = delete;
  HeldFileLock& operator=(const HeldFileLock&) = delete;

 private:
  explicit HeldFileLock(int fd) : fd_(fd) {}
  int fd_;
};

// ---- The directory file -------------------------------------------------------------------

struct DirectoryUser {
  std::string uid;
  std::string sn;        // also in cn ("First SN"); givenName is "First"
  bool in_scope = true;  // a member of cn=staff
};

// user1..userN with sn Sn1..SnN, all in scope.
std::vector<DirectoryUser> NumberedUsers(int count);

// An LDIF directory: dc=example,dc=com; each user as uid=UID,ou=people with entryUUID
// uuid-UID and mail UID@MAIL_DOMAIN; cn=staff holding the users in scope. With `team_group`,
// cn=staff also holds the nested group cn=team, whose members are the `team` users (sn Team).
struct StaffDirectory {
  StaffDirectory() = default;
  explicit StaffDirectory(std::vector<DirectoryUser> staff) : users(std::move(staff)) {}

  std::vector<DirectoryUser> users;
  bool team_group = false;
  std::vector<std::string> team;  // uids; REQUIRES: team_group when not empty
  std::string mail_domain = "Example.com";

  std::string Ldif() const;
};

// ---- The configuration --------------------------------------------------------------------

// A [[rules]] table: name, priority, group, products as a TOML array body ("\"G2M\""), then
// `more_keys` ("user_group = \"Staff\"\n").
std::string RuleToml(const std::string& name, int priority, const std::string& group,
                     const std::string& products = "\"G2M\"", const std::string& more_keys = "");

// The usersync.toml of a world. Every string is the body of its section (lines "key = value\n").
struct WorldConfig {
  std::string source = "kind = \"ldif\"\npath = \"directory.ldif\"\n";
  std::string scope_group = kStaffGroup;
  std::string scope_keys;  // more [scope] lines ("users = [...]\n", "require_rule = true\n")
  std::string target_kind = "scim";  // "scim" or "goto" (account_key "demo" on the GoTo face)
  std::string target_url;            // empty: the world's emulator, on target_kind's face
  std::string target_keys = "rate = 1000\nburst = 100\n";  // after kind, url and token_env
  // Non-empty: replaces the token_env line (e.g. auth = "oauth2" and its keys).
  std::string target_auth;
  std::string deprovision = "max_changes_percent = 100\n";
  std::string rules = RuleToml("Staff", 1, kStaffGroup);  // [[rules]] tables, or none
  std::string extra;                                      // sections after the rules
  std::string state_path = "state.db";
  std::string logs_dir = "logs";
};

// ---- The emulator's counters --------------------------------------------------------------

// GET /_emulator/stats, member for member.
struct TargetStats {
  int64_t users = 0;
  int64_t active_users = 0;
  int64_t groups = 0;
  int64_t requests = 0;
  int64_t throttled = 0;
  int64_t injected_failures = 0;
  int64_t creates = 0;
  int64_t create_conflicts = 0;
  int64_t updates = 0;
  int64_t deletes = 0;
  int64_t group_creates = 0;
  int64_t group_updates = 0;
  int64_t group_deletes = 0;
  int64_t batch_creates = 0;
  int64_t batch_members = 0;
  int64_t suspensions = 0;
  int64_t seat_denials = 0;
  int64_t welcome_emails = 0;
  int64_t user_reads = 0;    // GoTo GET /users/{key}
  int64_t user_filters = 0;  // GoTo GET /users?filter=...
  int64_t bulk_requests = 0;
  int64_t bulk_operations = 0;
  // What the emulator measured of the requests its rate limit admitted, on its own clock
  // (tools/target/emulator_admission_log.h).
  int64_t admitted = 0;
  int64_t admitted_max_in_window = 0;  // the most admitted within any 1 s
  double measured_span_s = 0;          // first admitted request to the last
  double measured_rate = 0;            // (admitted − 1) / measured_span_s

  // Success when what the emulator admitted conforms to `rate` and `burst` as far as its
  // figures show: fewer than burst + rate within any second, and at most burst + rate × span
  // from the first request to the last. The message shows the figures either way.
  ::testing::AssertionResult AdmittedWithin(double rate, double burst) const;

  // Every write the emulator counted, accepted or refused (creates, conflicts, updates,
  // deletes, group changes, batches, bulks, suspensions, seat denials): 0 when nothing was
  // sent to change it.
  int64_t writes() const;
};

// Errors: InvalidArgument when `json` is not an object holding every counter as an integer
// and every measured figure as a number.
absl::StatusOr<TargetStats> ParseTargetStats(std::string_view json);

// An account on the SCIM face.
struct ScimAccount {
  std::string id;
  std::string user_name;
  std::string external_id;
  std::string family_name;
  bool active = true;
};

// ---- The world ----------------------------------------------------------------------------

class SyncWorld {
 public:
  // A fresh dir ::testing::TempDir()/PREFIX-TEST_NAME; no emulator yet. A dir that cannot be
  // created fails the test (ADD_FAILURE) and leaves ok() false.
  explicit SyncWorld(const std::string& prefix);
  SyncWorld(const SyncWorld&) = delete;
  SyncWorld& operator=(const SyncWorld&) = delete;

  bool ok() const { return ok_; }
  const std::filesystem::path& dir() const { return dir_; }
  std::string Path(std::string_view name) const { return (dir_ / name).string(); }

  // (Re)starts the emulator (the running one, if any, is killed first) with `args`, with the
  // world's token. Errors: as EmulatorProcess::Start, also reported to the test (ADD_FAILURE),
  // so that `ASSERT_TRUE(world.StartTarget().ok())` shows why.
  absl::Status StartTarget(std::vector<std::string> args = {});
  // Kills the emulator (SIGKILL): its port refuses connections from now on.
  void StopTarget() { target_.reset(); }
  bool has_target() const { return target_ != nullptr; }
  // REQUIRES: has_target().
  EmulatorProcess& target() const { return *target_; }
  // The token the emulator wants (also after StopTarget()).
  const std::string& token() const { return token_; }

  // Files in the world's dir.
  void WriteFile(std::string_view name, std::string_view contents) const;
  std::string ReadFile(std::string_view name) const;
  // directory.ldif.
  void WriteDirectory(const StaffDirectory& directory) const;
  void WriteDirectory(std::vector<DirectoryUser> users) const {
    WriteDirectory(StaffDirectory(std::move(users)));
  }
  void WriteLdif(std::string_view ldif) const { WriteFile("directory.ldif", ldif); }

  // Writes NAME.toml and returns its path. REQUIRES: has_target() unless config.target_url is
  // set.
  std::string WriteConfig(const WorldConfig& config = {}, const std::string& name = "usersync");
  // The path of usersync.toml (written or not).
  std::string config() const { return Path("usersync.toml"); }

  // Runs `usersync ARGS[0] -c config() ARGS[1..]` in dir() with the token in kTargetTokenEnv,
  // then `env` (which wins over the token). Killed after `timeout` (exit_code -1).
  ProcessResult Usersync(std::vector<std::string> args, const EnvList& env = {},
                         std::chrono::seconds timeout = std::chrono::seconds(300)) const;
  // The same with ARGS exactly as given (no -c).
  ProcessResult UsersyncArgs(std::vector<std::string> args, const EnvList& env = {},
                             std::chrono::seconds timeout = std::chrono::seconds(300)) const;
  // Starts `usersync ARGS[0] -c config() ARGS[1..]` in the background (as Usersync).
  absl::Status StartUsersync(ChildProcess& child, std::vector<std::string> args,
                             const EnvList& env = {}) const;

  // The emulator's counters. Stats() fails the test (ADD_FAILURE) when they cannot be read
  // and returns zeros then. REQUIRES: has_target().
  absl::StatusOr<TargetStats> TryStats() const;
  TargetStats Stats() const;

  // Every account on the emulator's SCIM face, by userName; a userName seen twice fails the
  // test. REQUIRES: has_target().
  std::map<std::string, ScimAccount> ScimAccounts() const;

 private:
  EnvList Environment(const EnvList& env) const;
  std::vector<std::string> WithConfig(std::vector<std::string> args) const;

  std::filesystem::path dir_;
  bool ok_ = false;
  // Distinctive, so that a leak check finds it and nothing else.
  std::string token_ = "usersync-test-token-7f3a9c51";
  std::unique_ptr<EmulatorProcess> target_;
};

}  // namespace usersync::testing
