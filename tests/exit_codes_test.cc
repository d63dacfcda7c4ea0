// The exit code of every kind of failure, end to end: one test per row of the README's
// failure → exit code table (DESIGN.md: 0 all done; 1 some operations failed; 2 bad usage,
// configuration or input, nothing done; 3 deprovisioning held by the threshold; 4 a source or
// target unreachable or answering garbage, or another run holding the state store; 5 `apply`
// of a plan that drifted). Each checks the exact code, the part of stderr (or stdout) that
// tells a person what happened, and, when the run fails before it changes anything, that the
// emulator counted no write.
#include <gtest/gtest.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "tests/support/slapd_fixture.h"
#include "tests/support/subprocess.h"
#include "tests/support/sync_world.h"

namespace usersync {
namespace {

using testing::Contains;
using testing::HeldFileLock;
using testing::kTargetTokenEnv;
using testing::Lacks;
using testing::NumberedUsers;
using testing::ProcessResult;
using testing::SyncWorld;
using testing::TargetStats;
using testing::WorldConfig;

constexpr int kExitOk = 0;
constexpr int kExitSomeFailed = 1;
constexpr int kExitUsage = 2;
constexpr int kExitHeld = 3;
constexpr int kExitUnreachable = 4;
constexpr int kExitDrift = 5;

// An LDIF whose fourth line is not "name: value".
constexpr char kBrokenLdif[] =
    "version: 1\n\ndn: uid=a,dc=example,dc=com\nthis line has no colon\n";

// A URL on a loopback port nothing listens on (it was free a moment ago).
std::string UnreachableUrl(const std::string& scheme, const std::string& path = "") {
  absl::StatusOr<int> port = testing::FreeLoopbackPort();
  EXPECT_TRUE(port.ok()) << port.status();
  return absl::StrCat(scheme, "://127.0.0.1:", port.ok() ? *port : 1, path);
}

// A world with an emulator, three users in scope and a configuration that syncs them.
class ExitCodesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(world_.StartTarget().ok());
    world_.WriteDirectory(NumberedUsers(3));
    world_.WriteConfig();
  }

  // For runs that must fail before they change anything at the target.
  void ExpectNothingWritten() {
    const TargetStats stats = world_.Stats();
    EXPECT_EQ(stats.writes(), 0) << "creates " << stats.creates << ", updates " << stats.updates;
    EXPECT_EQ(stats.users, 0);
  }

  SyncWorld world_{"exit"};
};

// Bad usage: an unknown subcommand, an unknown flag, a command without -c.
TEST_F(ExitCodesTest, BadUsageExits2) {
  ProcessResult unknown_command = world_.UsersyncArgs({"frobnicate"});
  EXPECT_EQ(unknown_command.exit_code, kExitUsage) << unknown_command.err;
  EXPECT_TRUE(Contains(unknown_command.err, "subcommand"));

  ProcessResult unknown_flag = world_.Usersync({"sync", "--frobnicate"});
  EXPECT_EQ(unknown_flag.exit_code, kExitUsage) << unknown_flag.err;
  EXPECT_TRUE(Contains(unknown_flag.err, "--frobnicate"));

  ProcessResult no_config = world_.UsersyncArgs({"sync"});
  EXPECT_EQ(no_config.exit_code, kExitUsage) << no_config.err;
  EXPECT_TRUE(Contains(no_config.err, "--config is required"));
  ExpectNothingWritten();
}

// An invalid configuration: a TOML syntax error, an unknown key, a value of the wrong type;
// each named with its file and line.
TEST_F(ExitCodesTest, InvalidConfigurationExits2) {
  world_.WriteFile("syntax.toml", "[source\nkind = \"ldif\"\n");
  ProcessResult syntax = world_.UsersyncArgs({"sync", "-c", world_.Path("syntax.toml")});
  EXPECT_EQ(syntax.exit_code, kExitUsage) << syntax.err;
  EXPECT_TRUE(Contains(syntax.err, "syntax.toml:1:"));
  EXPECT_TRUE(Contains(syntax.err, "TOML syntax error"));

  // NAME.toml with TARGET_KEYS in [target] → MESSAGE.
  const std::vector<std::array<std::string, 3>> bad_keys = {
      {"unknown", "rat = 1000\n", "unknown key 'target.rat'"},
      {"bad-value", "rate = \"fast\"\n", "'target.rate' must be a number"}};
  for (const auto& [name, target_keys, message] : bad_keys) {
    SCOPED_TRACE(name);
    WorldConfig config;
    config.target_keys = target_keys;
    ProcessResult result = world_.UsersyncArgs({"sync", "-c", world_.WriteConfig(config, name)});
    EXPECT_EQ(result.exit_code, kExitUsage) << result.err;
    EXPECT_TRUE(Contains(result.err, name + ".toml:"));
    EXPECT_TRUE(Contains(result.err, message));
  }
  ExpectNothingWritten();
}

// A secret that is not there: the token's variable empty, the token's file missing.
TEST_F(ExitCodesTest, MissingSecretExits2) {
  ProcessResult no_variable = world_.Usersync({"sync"}, {{kTargetTokenEnv, ""}});
  EXPECT_EQ(no_variable.exit_code, kExitUsage) << no_variable.err;
  EXPECT_TRUE(Contains(no_variable.err, kTargetTokenEnv));
  EXPECT_TRUE(Contains(no_variable.err, "the target bearer token is read from environment"));
  EXPECT_TRUE(Lacks(no_variable.err, "the the"));

  // token_file instead of token_env: the WorldConfig's token_env line is replaced.
  std::string toml = world_.ReadFile("usersync.toml");
  const std::string token_env = absl::StrCat("token_env = \"", kTargetTokenEnv, "\"\n");
  const size_t at = toml.find(token_env);
  ASSERT_NE(at, std::string::npos) << toml;
  toml.replace(at, token_env.size(), "token_file = \"no-such-token.txt\"\n");
  world_.WriteFile("token-file.toml", toml);
  ProcessResult no_file = world_.UsersyncArgs({"sync", "-c", world_.Path("token-file.toml")});
  EXPECT_EQ(no_file.exit_code, kExitUsage) << no_file.err;
  EXPECT_TRUE(Contains(no_file.err, "no-such-token.txt"));
  ExpectNothingWritten();
}

// A syntax error in the LDIF directory file is bad input, named by file and line, from every
// command that reads the directory.
TEST_F(ExitCodesTest, LdifSyntaxErrorExits2FromPlanSyncAndCheck) {
  world_.WriteLdif(kBrokenLdif);
  for (const char* command : {"plan", "sync", "check"}) {
    SCOPED_TRACE(command);
    ProcessResult result = world_.Usersync({command});
    EXPECT_EQ(result.exit_code, kExitUsage) << result.out << result.err;
    EXPECT_TRUE(Contains(result.out + result.err, "directory.ldif:4"));
  }
  ExpectNothingWritten();
}

// A directory file cut off mid-line, or one that holds no users: refused before anything is
// sent, so a broken export cannot deactivate the accounts it no longer lists.
TEST_F(ExitCodesTest, TruncatedOrEmptyDirectoryExits2) {
  ProcessResult first = world_.Usersync({"sync"});
  ASSERT_EQ(first.exit_code, kExitOk) << first.out << first.err;
  const TargetStats before = world_.Stats();
  std::string ldif = world_.ReadFile("directory.ldif");
  ASSERT_GT(ldif.size(), 10u);
  world_.WriteLdif(ldif.substr(0, ldif.size() - 5));
  ProcessResult truncated = world_.Usersync({"sync"});
  EXPECT_EQ(truncated.exit_code, kExitUsage) << truncated.out << truncated.err;
  EXPECT_TRUE(Contains(truncated.err, "directory.ldif:"));
  EXPECT_TRUE(Contains(truncated.err, "looks truncated"));
  EXPECT_EQ(world_.Stats().requests, before.requests) << "a request reached the target";

  world_.WriteLdif("version: 1\n");
  ProcessResult empty = world_.Usersync({"sync"});
  EXPECT_EQ(empty.exit_code, kExitUsage) << empty.out << empty.err;
  EXPECT_TRUE(Contains(empty.err, "it holds no users; refusing to plan"));
  EXPECT_EQ(world_.Stats().writes(), before.writes());
  EXPECT_EQ(world_.Stats().requests, before.requests) << "a request reached the target";
}

// A scope group the directory does not hold would put no one in scope: refused before anything
// is sent, naming the group's DN.
TEST_F(ExitCodesTest, MissingScopeGroupExits2) {
  WorldConfig config;
  config.scope_group = "cn=No Such Group,ou=groups,dc=example,dc=com";
  world_.WriteConfig(config);
  for (const char* command : {"plan", "sync"}) {
    SCOPED_TRACE(command);
    ProcessResult result = world_.Usersync({command});
    EXPECT_EQ(result.exit_code, kExitUsage) << result.out << result.err;
    EXPECT_TRUE(Contains(result.err, "scope group \"cn=No Such Group,ou=groups,dc=example,dc=com\" "
                                     "(scope.groups) is not in the directory"));
  }
  ExpectNothingWritten();
}

// A directory file that does not exist is bad input too.
TEST_F(ExitCodesTest, MissingDirectoryFileExits2FromPlanAndSync) {
  WorldConfig config;
  config.source = "kind = \"ldif\"\npath = \"no-such-directory.ldif\"\n";
  world_.WriteConfig(config);
  for (const char* command : {"plan", "sync"}) {
    SCOPED_TRACE(command);
    ProcessResult result = world_.Usersync({command});
    EXPECT_EQ(result.exit_code, kExitUsage) << result.out << result.err;
    EXPECT_TRUE(Contains(result.err, "no-such-directory.ldif"));
  }
  ExpectNothingWritten();
}

// A listing that claims more accounts than target.max_accounts is refused before it is read:
// the key reaches the driver.
TEST_F(ExitCodesTest, ListingAboveMaxAccountsExits4) {
  ProcessResult first = world_.Usersync({"sync"});
  ASSERT_EQ(first.exit_code, kExitOk) << first.out << first.err;
  WorldConfig config;
  config.target_keys += "max_accounts = 2\n";
  world_.WriteConfig(config);
  ProcessResult plan = world_.Usersync({"plan"});
  EXPECT_EQ(plan.exit_code, kExitUnreachable) << plan.out << plan.err;
  EXPECT_TRUE(Contains(plan.err, "above the cap of 2 accounts (target.max_accounts)"));
}

// A state store that is not a database: refused before anything is read or sent, with the way
// out, from every command that opens it.
TEST_F(ExitCodesTest, DamagedStateStoreExits2) {
  world_.WriteFile("state.db", std::string(8192, 'x'));
  for (const char* command : {"plan", "sync"}) {
    SCOPED_TRACE(command);
    ProcessResult result = world_.Usersync({command});
    EXPECT_EQ(result.exit_code, kExitUsage) << result.out << result.err;
    EXPECT_TRUE(Contains(result.err, "state.db"));
    EXPECT_TRUE(Contains(result.err, "restore it from a backup"));
  }
  ExpectNothingWritten();
}

// Random bytes in the middle of a store that was in use: the integrity check at open refuses it
// (the path and the way out), before anything is read from or sent to the target.
TEST_F(ExitCodesTest, StateStoreDamagedMidFileExits2) {
  world_.WriteDirectory(NumberedUsers(300));
  ASSERT_EQ(world_.Usersync({"sync"}).exit_code, kExitOk);
  ASSERT_FALSE(std::filesystem::exists(world_.Path("state.db-wal")));
  std::string bytes = world_.ReadFile("state.db");
  ASSERT_GT(bytes.size(), 32u * 1024);
  std::mt19937 rng(7);
  for (size_t byte_idx = bytes.size() / 2; byte_idx < bytes.size() / 2 + 4096; ++byte_idx) {
    bytes[byte_idx] = static_cast<char>(rng());
  }
  world_.WriteFile("state.db", bytes);
  world_.WriteDirectory(NumberedUsers(310));  // ten more to create, if it went on
  const TargetStats before = world_.Stats();
  ProcessResult sync = world_.Usersync({"sync"});
  EXPECT_EQ(sync.exit_code, kExitUsage) << sync.out << sync.err;
  EXPECT_TRUE(Contains(sync.err, world_.Path("state.db")));
  EXPECT_TRUE(Contains(sync.err, "is damaged"));
  EXPECT_TRUE(Contains(sync.err, "restore it from a backup"));
  EXPECT_EQ(world_.Stats().writes(), before.writes());
}

// The audit log on a full disk (logs/audit.jsonl → /dev/full): the run stops before it sends
// the next batch, exit 1, naming the file; the journal kept every outcome, so the next run
// (with a writable log) finishes the job without a duplicate.
TEST_F(ExitCodesTest, AuditLogOnAFullDiskStopsTheRunWithExit1) {
  ASSERT_TRUE(world_.StartTarget({"--no-bulk"}).ok());  // one create per request
  world_.WriteConfig();
  constexpr int kUsers = 600;
  world_.WriteDirectory(NumberedUsers(kUsers));
  std::filesystem::create_directories(world_.Path("logs"));
  std::filesystem::create_symlink("/dev/full", world_.Path("logs/audit.jsonl"));
  ProcessResult sync = world_.Usersync({"sync"});
  EXPECT_EQ(sync.exit_code, kExitSomeFailed) << sync.out << sync.err;
  EXPECT_TRUE(Contains(sync.err, "logs/audit.jsonl: No space left on device; the run stopped"))
      << sync.err;
  const TargetStats stopped = world_.Stats();
  EXPECT_GT(stopped.creates, 0);
  EXPECT_LE(stopped.creates, 128) << "more than the batch in flight was sent";

  std::filesystem::remove(world_.Path("logs/audit.jsonl"));
  ProcessResult again = world_.Usersync({"sync"});
  EXPECT_EQ(again.exit_code, kExitOk) << again.out << again.err;
  EXPECT_EQ(world_.Stats().creates, kUsers);
  EXPECT_EQ(world_.ScimAccounts().size(), static_cast<size_t>(kUsers));
}

// Read-only commands on a read-only state directory: they work, and nothing in the directory is
// created, written or modified, not even for a moment (no -wal, no -shm, no lock file): inotify
// watches it, because as root chmod does not stop a write.
TEST_F(ExitCodesTest, ReadOnlyCommandsWorkOnAReadOnlyStateDirectory) {
  std::filesystem::create_directories(world_.Path("state"));
  WorldConfig config;
  config.state_path = "state/state.db";
  world_.WriteConfig(config);
  ASSERT_EQ(world_.Usersync({"sync"}).exit_code, kExitOk);
  const std::string before = world_.ReadFile("state/state.db");
  const auto mtime = std::filesystem::last_write_time(world_.Path("state/state.db"));
  auto listing = [&] {
    std::vector<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(world_.Path("state"))) {
      names.push_back(entry.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
  };
  const std::vector<std::string> files = listing();
  const int watch = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  ASSERT_GE(watch, 0);
  ASSERT_GE(inotify_add_watch(watch, world_.Path("state").c_str(),
                              IN_CREATE | IN_MODIFY | IN_DELETE | IN_MOVED_TO),
            0);
  std::filesystem::permissions(world_.Path("state"), std::filesystem::perms(0555));
  for (const char* command : {"status", "plan", "users", "release"}) {
    SCOPED_TRACE(command);
    ProcessResult result = world_.Usersync({command});
    EXPECT_EQ(result.exit_code, kExitOk) << result.out << result.err;
  }
  ProcessResult status = world_.Usersync({"status"});
  EXPECT_TRUE(Contains(status.out, "sync")) << status.out;
  std::filesystem::permissions(world_.Path("state"), std::filesystem::perms(0755));
  std::array<char, 4096> events;
  const ssize_t event_bytes = read(watch, events.data(), events.size());
  EXPECT_EQ(event_bytes, -1) << "the state directory was changed: "
                             << (event_bytes > 0
                                     ? reinterpret_cast<inotify_event*>(events.data())->name
                                     : "");
  close(watch);
  EXPECT_EQ(listing(), files);
  EXPECT_EQ(world_.ReadFile("state/state.db"), before);
  EXPECT_EQ(std::filesystem::last_write_time(world_.Path("state/state.db")), mtime);
}

// `apply --plan` of a file that is not a plan, or a plan edited after it was made.
TEST_F(ExitCodesTest, MalformedOrEditedPlanFileExits2) {
  world_.WriteFile("truncated.json", "{\"plan_id\":");
  ProcessResult truncated = world_.Usersync({"apply", "--plan", "truncated.json"});
  EXPECT_EQ(truncated.exit_code, kExitUsage) << truncated.out << truncated.err;
  EXPECT_TRUE(Contains(truncated.err, "truncated.json"));
  EXPECT_TRUE(Contains(truncated.err, "malformed JSON"));

  ProcessResult plan = world_.Usersync({"plan", "--out", "plan.json"});
  ASSERT_EQ(plan.exit_code, kExitOk) << plan.err;
  std::string json = world_.ReadFile("plan.json");
  const size_t at = json.find("\"Sn1\"");
  ASSERT_NE(at, std::string::npos) << json;
  world_.WriteFile("edited.json", json.replace(at, 5, "\"Sx1\""));
  ProcessResult edited = world_.Usersync({"apply", "--plan", "edited.json"});
  EXPECT_EQ(edited.exit_code, kExitUsage) << edited.out << edited.err;
  EXPECT_TRUE(Contains(edited.err, "edited after"));
  ExpectNothingWritten();
}

// An LDAP server nobody listens on, named by its URL.
TEST_F(ExitCodesTest, UnreachableLdapServerExits4) {
  const std::string url = UnreachableUrl("ldap");
  WorldConfig config;
  config.source = absl::StrCat("kind = \"ldap\"\nurl = \"", url,
                               "\"\nbind_dn = \"cn=admin,dc=example,dc=com\"\n"
                               "bind_password_env = \"USERSYNC_TEST_LDAP_PASSWORD\"\n"
                               "base_dn = \"dc=example,dc=com\"\nnetwork_timeout = \"3s\"\n");
  world_.WriteConfig(config);
  ProcessResult plan = world_.Usersync({"plan"}, {{"USERSYNC_TEST_LDAP_PASSWORD", "secret"}},
                                       std::chrono::seconds(120));
  EXPECT_EQ(plan.exit_code, kExitUnreachable) << plan.out << plan.err;
  EXPECT_TRUE(Contains(plan.err, url));
  ExpectNothingWritten();
}

// A target nobody listens on, named by its URL, from `plan` and from `sync`.
TEST_F(ExitCodesTest, UnreachableTargetExits4FromPlanAndSync) {
  const std::string url = UnreachableUrl("http", "/scim/v2");
  WorldConfig config;
  config.target_url = url;
  world_.WriteConfig(config);
  for (const char* command : {"plan", "sync"}) {
    SCOPED_TRACE(command);
    ProcessResult result = world_.Usersync({command});
    EXPECT_EQ(result.exit_code, kExitUnreachable) << result.out << result.err;
    EXPECT_TRUE(Contains(result.err, url));
  }
}

// Credentials that would leave in the open: a password inside the target's URL, the token over
// http:// to a host that is not loopback, an LDAP bind without TLS to one. Each is refused at
// load (exit 2) before anything is sent, and the password never appears in the output.
TEST_F(ExitCodesTest, CredentialsInAUrlOrInClearAreRefused) {
  const std::string base = world_.ReadFile("usersync.toml");
  const size_t url_at = base.find("url = \"http://127.0.0.1:");
  ASSERT_NE(url_at, std::string::npos) << base;
  const size_t url_end = base.find('\n', url_at);
  const std::string url_line = base.substr(url_at, url_end - url_at);
  struct Case {
    std::string name;
    std::string toml;
    std::string expect;
  };
  std::vector<Case> cases = {
      {"password in the url",
       absl::StrReplaceAll(base, {{"http://127.0.0.1:", "http://admin:s3cr3t-in-url@127.0.0.1:"}}),
       "target.url"},
      {"token over http to another host",
       absl::StrReplaceAll(base, {{url_line, "url = \"http://scim.example.com/scim/v2\""}}),
       "target.allow_insecure"},
      {"ldap bind in clear",
       absl::StrReplaceAll(base, {{"kind = \"ldif\"\npath = \"directory.ldif\"\n",
                                   "kind = \"ldap\"\nurl = \"ldap://ldap.example.com\"\n"
                                   "bind_dn = \"cn=admin,dc=example,dc=com\"\n"
                                   "bind_password_env = \"USERSYNC_TEST_BIND\"\n"
                                   "base_dn = \"dc=example,dc=com\"\n"}}),
       "source.allow_insecure"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    ASSERT_NE(c.toml, base);
    world_.WriteFile("insecure.toml", c.toml);
    ProcessResult sync = world_.UsersyncArgs({"sync", "-c", world_.Path("insecure.toml")},
                                             {{"USERSYNC_TEST_BIND", "bind-password-9d2e"}});
    EXPECT_EQ(sync.exit_code, kExitUsage) << sync.out << sync.err;
    EXPECT_TRUE(Contains(sync.err, "insecure.toml:"));
    EXPECT_TRUE(Contains(sync.err, c.expect));
    EXPECT_TRUE(Lacks(sync.out + sync.err, "s3cr3t-in-url"));
    EXPECT_TRUE(Lacks(sync.out + sync.err, "bind-password-9d2e"));
  }
  ExpectNothingWritten();
}

// A target that answers 401 to the token.
TEST_F(ExitCodesTest, RefusedTokenExits4) {
  ProcessResult sync = world_.Usersync({"sync"}, {{kTargetTokenEnv, "not-the-token"}});
  EXPECT_EQ(sync.exit_code, kExitUnreachable) << sync.out << sync.err;
  EXPECT_TRUE(Contains(sync.err, "rejected the bearer token"));
  EXPECT_TRUE(Contains(sync.err, "401"));
  EXPECT_TRUE(Contains(sync.err, "target.token_env"));
  ExpectNothingWritten();

  // With token_file, the advice names the file's key, not token_env.
  std::string toml = world_.ReadFile("usersync.toml");
  const std::string token_env = absl::StrCat("token_env = \"", kTargetTokenEnv, "\"\n");
  const size_t at = toml.find(token_env);
  ASSERT_NE(at, std::string::npos) << toml;
  toml.replace(at, token_env.size(), "token_file = \"wrong-token.txt\"\n");
  world_.WriteFile("token-file.toml", toml);
  world_.WriteFile("wrong-token.txt", "not-the-token\n");
  ProcessResult from_file = world_.UsersyncArgs({"sync", "-c", world_.Path("token-file.toml")});
  EXPECT_EQ(from_file.exit_code, kExitUnreachable) << from_file.err;
  EXPECT_TRUE(Contains(from_file.err, "target.token_file"));
  EXPECT_TRUE(Lacks(from_file.err, "token_env"));
  ExpectNothingWritten();
}

// Another run holds the state store's lock.
TEST_F(ExitCodesTest, HeldStateStoreExits4) {
  absl::StatusOr<std::unique_ptr<HeldFileLock>> lock =
      HeldFileLock::Hold(world_.Path("state.db.lock"), "4242\n");
  ASSERT_TRUE(lock.ok()) << lock.status();
  ProcessResult sync = world_.Usersync({"sync"});
  EXPECT_EQ(sync.exit_code, kExitUnreachable) << sync.out << sync.err;
  EXPECT_TRUE(Contains(sync.err, "another usersync run"));
  EXPECT_TRUE(Contains(sync.err, "by pid 4242"));
  ExpectNothingWritten();
}

// Operations that fail at the target: no seat left for the product, so every create is
// refused (the SCIM face checks seats when it creates; nothing is retried).
TEST_F(ExitCodesTest, FailedOperationsExit1) {
  ASSERT_TRUE(world_.StartTarget({"--seats", "G2M=0"}).ok());
  world_.WriteConfig();
  ProcessResult sync = world_.Usersync({"sync"});
  EXPECT_EQ(sync.exit_code, kExitSomeFailed) << sync.out << sync.err;
  EXPECT_TRUE(Contains(sync.out, "Result: 0 done, 3 failed"));
  EXPECT_TRUE(Contains(world_.ReadFile("logs/errors.log"), "user1@example.com"));
  const TargetStats stats = world_.Stats();
  EXPECT_EQ(stats.creates, 0);
  EXPECT_EQ(stats.seat_denials, 3);  // each create refused once, none retried
}

// More departures than max_changes: the deactivations are held.
TEST_F(ExitCodesTest, HeldDeprovisioningExits3) {
  WorldConfig config;
  config.deprovision = "max_changes = 1\nmax_changes_percent = 100\n";
  world_.WriteConfig(config);
  ASSERT_EQ(world_.Usersync({"sync"}).exit_code, kExitOk);
  std::vector<testing::DirectoryUser> users = NumberedUsers(3);
  users[0].in_scope = false;
  users[1].in_scope = false;
  world_.WriteDirectory(users);
  ProcessResult held = world_.Usersync({"sync"});
  EXPECT_EQ(held.exit_code, kExitHeld) << held.out << held.err;
  EXPECT_TRUE(Contains(held.out, "HELD: 2 deactivations/deletions exceed"));
  EXPECT_EQ(world_.Stats().updates, 0);
}

// `apply` of a plan whose operations the target has since seen done.
TEST_F(ExitCodesTest, DriftedPlanExits5) {
  ASSERT_EQ(world_.Usersync({"plan", "--out", "plan.json"}).exit_code, kExitOk);
  ASSERT_EQ(world_.Usersync({"sync"}).exit_code, kExitOk);
  const TargetStats before = world_.Stats();
  ProcessResult apply = world_.Usersync({"apply", "--plan", "plan.json"});
  EXPECT_EQ(apply.exit_code, kExitDrift) << apply.out << apply.err;
  EXPECT_TRUE(Contains(apply.out, "DRIFT: 3 operation(s) refused"));
  EXPECT_EQ(world_.Stats().writes(), before.writes());
}

// Everything done.
TEST_F(ExitCodesTest, AllDoneExits0) {
  ProcessResult sync = world_.Usersync({"sync"});
  EXPECT_EQ(sync.exit_code, kExitOk) << sync.out << sync.err;
  EXPECT_TRUE(Contains(sync.out, "Result: 3 done"));
  EXPECT_TRUE(Contains(sync.out, ", 0 failed"));
  EXPECT_EQ(world_.Stats().creates, 3);
}

}  // namespace
}  // namespace usersync
