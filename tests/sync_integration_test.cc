// End-to-end: the real `usersync` binary against the real `usersync-target` emulator over real
// HTTP on loopback. Each test gets its own emulator (port 0), temp dir, state and logs.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "tests/support/plan_json.h"
#include "tests/support/subprocess.h"
#include "tests/support/sync_world.h"

namespace usersync {
namespace {

namespace fs = std::filesystem;
using testing::Contains;
using testing::DirectoryUser;
using testing::HeldFileLock;
using testing::kTargetTokenEnv;
using testing::NumberedUsers;
using testing::ParsePlanJson;
using testing::PlannedOperation;
using testing::ProcessResult;
using testing::ScimAccount;
using testing::SyncWorld;
using testing::TargetStats;
using testing::WorldConfig;

class SyncIntegrationTest : public ::testing::Test {
 protected:
  // The common world: an emulator, user1..user10 in scope, the default configuration.
  void StartWithTenUsers() {
    ASSERT_TRUE(world_.StartTarget().ok());
    world_.WriteDirectory(NumberedUsers(10));
    world_.WriteConfig();
  }

  SyncWorld world_{"sync"};
};

// Creates sent through SCIM /Bulk are audited as they happened: each with its own status from
// the BulkResponse (201) and one send, not the status of a later step (it once read "204,
// attempts 2").
TEST_F(SyncIntegrationTest, BulkCreatesAreAuditedWithTheirOwnStatusAndSends) {
  ASSERT_TRUE(world_.StartTarget().ok());
  world_.WriteDirectory(NumberedUsers(10));
  world_.WriteConfig();
  ProcessResult sync = world_.Usersync({"sync"});
  ASSERT_EQ(sync.exit_code, 0) << sync.out << sync.err;
  const TargetStats stats = world_.Stats();
  ASSERT_GT(stats.bulk_requests, 0) << "the creates did not go through /Bulk";
  std::ifstream audit(world_.Path("logs/audit.jsonl"));
  std::string line;
  int creates = 0;
  while (std::getline(audit, line)) {
    if (line.find("\"op\":\"create\"") == std::string::npos) continue;
    ++creates;
    EXPECT_TRUE(Contains(line, "\"http_status\":201,\"attempts\":1")) << line;
  }
  EXPECT_EQ(creates, 10);
}

// The loop: a first sync provisions the scoped users; an edit of the directory (a user out of
// the group, a changed last name, a new user) makes exactly one deactivation, one update and one
// create; a third run plans nothing.
TEST_F(SyncIntegrationTest, FirstSyncThenEditMakesExactlyOneOfEach) {
  ASSERT_TRUE(world_.StartTarget().ok());
  std::vector<DirectoryUser> users = NumberedUsers(10);
  users.push_back({"outsider", "Out", /*in_scope=*/false});
  world_.WriteDirectory(users);
  world_.WriteConfig();

  ProcessResult first = world_.Usersync({"sync"});
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  std::map<std::string, ScimAccount> accounts = world_.ScimAccounts();
  ASSERT_EQ(accounts.size(), 10u);
  EXPECT_FALSE(accounts.contains("outsider@example.com"));
  EXPECT_EQ(accounts["user3@example.com"].external_id, "uuid-user3");
  EXPECT_EQ(accounts["user3@example.com"].family_name, "Sn3");
  const TargetStats before = world_.Stats();
  EXPECT_EQ(before.creates, 10);

  users[0].in_scope = false;  // user1 leaves the scoped group
  users[1].sn = "Renamed";    // user2 changes last name
  users.push_back({"user11", "Sn11"});
  world_.WriteDirectory(users);

  ProcessResult plan = world_.Usersync({"plan", "--format", "json"});
  ASSERT_EQ(plan.exit_code, 0) << plan.err;
  std::multiset<std::string> ops;
  for (const PlannedOperation& op : ParsePlanJson(plan.out).operations) {
    ops.insert(op.op + " " + op.email);
  }
  EXPECT_EQ(ops,
            (std::multiset<std::string>{"deactivate user1@example.com", "update user2@example.com",
                                        "create user11@example.com"}));

  ProcessResult second = world_.Usersync({"sync"});
  ASSERT_EQ(second.exit_code, 0) << second.out << second.err;
  const TargetStats after = world_.Stats();
  EXPECT_EQ(after.creates - before.creates, 1);
  EXPECT_EQ(after.updates - before.updates, 2);  // the rename and the deactivation
  EXPECT_EQ(after.deletes - before.deletes, 0);
  accounts = world_.ScimAccounts();
  ASSERT_EQ(accounts.size(), 11u);
  EXPECT_FALSE(accounts["user1@example.com"].active);
  EXPECT_EQ(accounts["user2@example.com"].family_name, "Renamed");
  EXPECT_TRUE(accounts["user11@example.com"].active);
  int inactive = 0;
  for (const auto& [name, account] : accounts) inactive += !account.active;
  EXPECT_EQ(inactive, 1);

  ProcessResult third = world_.Usersync({"plan"});
  ASSERT_EQ(third.exit_code, 0) << third.err;
  EXPECT_NE(third.out.find("No changes"), std::string::npos) << third.out;
}

// A rate-limited target that also fails 10% of requests with 503: every user is created once,
// none twice, and the run ends with exit 0.
TEST_F(SyncIntegrationTest, FlakyRateLimitedTargetGetsEveryUserExactlyOnce) {
  // --no-bulk: one request per create, so the injected faults hit creates (Bulk is tested in
  // tests/goto_integration_test.cc).
  ASSERT_TRUE(world_.StartTarget({"--rate", "20", "--fail-rate", "0.1", "--no-bulk"}).ok());
  std::vector<DirectoryUser> users;
  for (int i = 0; i < 500; ++i) users.push_back({"bulk" + std::to_string(i), "Sn"});
  world_.WriteDirectory(users);
  WorldConfig config;
  config.target_keys = "rate = 20\nburst = 20\nmax_retries = 12\n";
  world_.WriteConfig(config);

  ProcessResult sync = world_.Usersync({"sync"});
  ASSERT_EQ(sync.exit_code, 0) << sync.out << sync.err;
  // Read before listing the accounts: the listing would be measured too.
  const TargetStats stats = world_.Stats();
  std::map<std::string, ScimAccount> accounts = world_.ScimAccounts();
  EXPECT_EQ(accounts.size(), 500u);
  EXPECT_EQ(stats.users, 500);
  EXPECT_EQ(stats.creates, 500);
  EXPECT_GT(stats.injected_failures, 0);  // the faults did happen
  // The rate the emulator measured: never above its limit (20/s, burst 20), and, over the
  // ~28 s of 550-odd requests paced at 20/s by usersync, near it: the 0.75 floor leaves room
  // for a loaded machine; a client that paced at half the rate would fall below it.
  EXPECT_TRUE(stats.AdmittedWithin(20, 20));
  EXPECT_GE(stats.measured_rate, 20 * 0.75) << stats.AdmittedWithin(20, 20).message();

  ProcessResult again = world_.Usersync({"plan"});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("No changes"), std::string::npos) << again.out;
}

// The demo's fixtures (fixtures/demo.ldif, demo.toml, demo-accounts.jsonl) are fixed, so its
// counts are too: the first run shows every category and applies 41 operations, the second
// finds everything matched and changes nothing.
TEST_F(SyncIntegrationTest, DemoShowsEveryCategoryThenNoChange) {
  ProcessResult demo =
      world_.UsersyncArgs({"demo", "--fixtures", std::string(USERSYNC_SOURCE_DIR) + "/fixtures"});
  ASSERT_EQ(demo.exit_code, 0) << demo.out << demo.err;
  const size_t second_run = demo.out.find("== Second run");
  ASSERT_NE(second_run, std::string::npos) << demo.out;
  const std::string first = demo.out.substr(0, second_run);
  const std::string second = demo.out.substr(second_run);
  EXPECT_TRUE(testing::Contains(first,
                                "\nPlan: matched 8 \xc2\xb7 update 4 \xc2\xb7 new 28 \xc2\xb7 "
                                "invalid 5 \xc2\xb7 account-only 3 \xc2\xb7 departed 1\n"));
  EXPECT_TRUE(testing::Contains(first, "\n41 operation(s):\n"));
  EXPECT_TRUE(testing::Contains(
      first, "\nResult: 41 done (28 create, 12 link, 1 deactivate), 0 failed, 0 held in "));
  // The second run: the 28 created and 4 updated users matched now; the invalid users, the
  // accounts no user matches and the departed one stay as they were.
  EXPECT_TRUE(testing::Contains(second,
                                "\nPlan: matched 40 \xc2\xb7 update 0 \xc2\xb7 new 0 \xc2\xb7 "
                                "invalid 5 \xc2\xb7 account-only 3 \xc2\xb7 departed 1\n"));
  EXPECT_TRUE(
      testing::Contains(second, "\nNo changes: the target is in step with the directory.\n"));
  EXPECT_TRUE(testing::Contains(second, "\nResult: nothing to do.\n"));
}

TEST_F(SyncIntegrationTest, BadConfigurationExits2) {
  ASSERT_TRUE(world_.StartTarget().ok());
  world_.WriteFile("usersync.toml",
                   "[source]\nkind = \"ldif\"\npath = \"x.ldif\"\n[target]\nrat = 5\n");
  ProcessResult result = world_.Usersync({"plan"});
  EXPECT_EQ(result.exit_code, 2) << result.out << result.err;
  EXPECT_NE(result.err.find("rat"), std::string::npos) << result.err;
}

TEST_F(SyncIntegrationTest, UnreachableTargetExits4) {
  ASSERT_NO_FATAL_FAILURE(StartWithTenUsers());
  const std::string url = world_.target().scim_url();
  world_.StopTarget();  // the port is now closed
  ProcessResult result = world_.Usersync({"sync"});
  EXPECT_EQ(result.exit_code, 4) << result.out << result.err;
  EXPECT_NE(result.err.find("cannot reach the SCIM target at " + url), std::string::npos)
      << result.err;
  EXPECT_EQ(result.out.find("Result:"), std::string::npos) << result.out;  // nothing applied
}

TEST_F(SyncIntegrationTest, WrongTokenExits4AndNeverPrintsIt) {
  ASSERT_NO_FATAL_FAILURE(StartWithTenUsers());
  const std::string secret = "wrong-secret-token-123";
  ProcessResult result = world_.Usersync({"sync"}, {{kTargetTokenEnv, secret}});
  EXPECT_EQ(result.exit_code, 4) << result.out << result.err;
  EXPECT_NE(result.err.find("rejected the bearer token"), std::string::npos) << result.err;
  EXPECT_EQ(world_.Stats().writes(), 0);
  EXPECT_EQ(result.out.find(secret), std::string::npos);
  EXPECT_EQ(result.err.find(secret), std::string::npos);
}

TEST_F(SyncIntegrationTest, MissingTokenExits2NamingTheVariable) {
  ASSERT_NO_FATAL_FAILURE(StartWithTenUsers());
  ProcessResult result = world_.Usersync({"plan"}, {{kTargetTokenEnv, ""}});
  EXPECT_EQ(result.exit_code, 2) << result.out << result.err;
  EXPECT_NE(result.err.find(kTargetTokenEnv), std::string::npos) << result.err;
}

TEST_F(SyncIntegrationTest, MalformedLdifNamesFileAndLine) {
  ASSERT_TRUE(world_.StartTarget().ok());
  world_.WriteFile("directory.ldif",
                   "version: 1\n\ndn: uid=a,dc=example,dc=com\nthis line has no colon\n");
  world_.WriteConfig();
  ProcessResult result = world_.Usersync({"plan"});
  EXPECT_EQ(result.exit_code, 2) << result.out << result.err;
  EXPECT_NE(result.err.find("directory.ldif:4"), std::string::npos) << result.err;
  EXPECT_EQ(world_.Stats().requests, 0);  // bad input: the target was never asked
}

// The audit log has one JSON line per operation, and no secret anywhere in the logs.
TEST_F(SyncIntegrationTest, AuditLogHasOneLinePerOperationAndNoSecrets) {
  ASSERT_NO_FATAL_FAILURE(StartWithTenUsers());
  ProcessResult result = world_.Usersync({"sync"});
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  std::ifstream audit(world_.dir() / "logs" / "audit.jsonl");
  std::string line;
  int lines = 0;
  simdjson::ondemand::parser parser;
  while (std::getline(audit, line)) {
    ++lines;
    simdjson::padded_string json(line);
    simdjson::ondemand::document doc = parser.iterate(json);
    EXPECT_EQ(std::string_view(doc["op"].get_string().value()), "create");
    EXPECT_EQ(std::string_view(doc["outcome"].get_string().value()), "done");
    EXPECT_EQ(line.find(world_.token()), std::string::npos);
  }
  EXPECT_EQ(lines, 10);
  EXPECT_EQ(result.out.find(world_.token()), std::string::npos);
}

// The JSON of `usersync status --format json`: the last 24 hours' counts and the recent runs.
struct StatusView {
  int64_t runs = 0;
  int64_t ok_runs = 0;
  int64_t done = 0;
  int64_t failed = 0;
  std::vector<int64_t> recent_exit_codes;  // newest first; -1 for an unfinished run
  std::string newest_error;                // the newest run's summary "error", if any
};

StatusView ParseStatus(const std::string& out) {
  StatusView view;
  simdjson::ondemand::parser parser;
  simdjson::padded_string json(out);
  simdjson::ondemand::document doc = parser.iterate(json);
  simdjson::ondemand::object period = doc["last_24_hours"].get_object();
  view.runs = period["runs"].get_int64().value();
  for (auto field : period["by_exit_code"].get_object()) {
    if (field.unescaped_key().value() == "0") view.ok_runs = field.value().get_int64().value();
  }
  view.done = period["done"].get_int64().value();
  view.failed = period["failed"].get_int64().value();
  bool newest = true;
  for (auto run : doc["runs"].get_array()) {
    simdjson::ondemand::object object = run.get_object();
    int64_t code = -1;
    if (object["exit_code"].get_int64().get(code) != simdjson::SUCCESS) code = -1;
    view.recent_exit_codes.push_back(code);
    simdjson::ondemand::object summary;
    std::string_view error;
    if (newest && object["summary"].get_object().get(summary) == simdjson::SUCCESS &&
        summary["error"].get_string().get(error) == simdjson::SUCCESS) {
      view.newest_error = std::string(error);
    }
    newest = false;
  }
  return view;
}

// Polling mode: `run --every 1s` syncs, then again each second; a user added to the directory
// while it polls is created by a later round; SIGTERM during a wait ends the loop with the last
// run's exit code. `status` then counts every round and what they did.
TEST_F(SyncIntegrationTest, PollingModeSyncsEachIntervalUntilSignalled) {
  ASSERT_TRUE(world_.StartTarget().ok());
  std::vector<DirectoryUser> users = NumberedUsers(10);
  world_.WriteDirectory(users);
  world_.WriteConfig();

  testing::ChildProcess poller;
  ASSERT_TRUE(world_.StartUsersync(poller, {"run", "--every", "1s"}).ok());
  // The next "== run N exit CODE; ..." line: the round's number and exit code.
  // The number of the last round that started ("== run N at TIME").
  int started = 0;
  auto note_start = [&started](const std::string& line) {
    int round = 0;
    char stamp[64];
    if (std::sscanf(line.c_str(), "== run %d at %63s", &round, stamp) == 2) started = round;
  };
  auto next_round = [&poller, &note_start]() -> std::pair<int, int> {
    while (true) {
      absl::StatusOr<std::string> line = poller.ReadStdoutLine(std::chrono::seconds(60));
      if (!line.ok()) {
        ADD_FAILURE() << line.status() << "\n" << poller.stderr_output();
        return {-1, -1};
      }
      note_start(*line);
      int round = 0, code = 0;
      if (std::sscanf(line->c_str(), "== run %d exit %d;", &round, &code) == 2) {
        return {round, code};
      }
    }
  };
  auto [first_round, first_exit] = next_round();
  ASSERT_EQ(first_round, 1);
  EXPECT_EQ(first_exit, 0);
  EXPECT_EQ(world_.ScimAccounts().size(), 10u);

  users.push_back({"user11", "Sn11"});
  world_.WriteDirectory(users);
  // The round already reading the old file (if any) leaves user11 to the one after it.
  int rounds = 1;
  while (world_.ScimAccounts().size() < 11 && rounds < 6) {
    auto [round, code] = next_round();
    ASSERT_EQ(round, rounds + 1);
    EXPECT_EQ(code, 0);
    rounds = round;
  }
  ASSERT_EQ(world_.ScimAccounts().size(), 11u) << "after " << rounds << " rounds";
  // One more round, with nothing left to do.
  auto [last_round, last_exit] = next_round();
  EXPECT_EQ(last_round, rounds + 1);
  EXPECT_EQ(last_exit, 0);
  rounds = last_round;

  poller.Signal(SIGTERM);
  std::string rest;
  while (true) {
    absl::StatusOr<std::string> line = poller.ReadStdoutLine(std::chrono::seconds(60));
    if (!line.ok()) break;  // stdout closed: the process is ending
    note_start(*line);
    rest += *line + "\n";
  }
  EXPECT_EQ(poller.Wait(), 0) << rest << poller.stderr_output();
  EXPECT_NE(rest.find("== stopped by a signal; the last run exited 0"), std::string::npos) << rest;

  ProcessResult status = world_.Usersync({"status", "--format", "json"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  const StatusView view = ParseStatus(status.out);
  // Every round that started, including one that may have started between the last read and
  // the signal.
  EXPECT_GE(started, rounds);
  EXPECT_EQ(view.runs, started) << status.out;
  EXPECT_EQ(view.ok_runs, view.runs) << status.out;
  EXPECT_EQ(view.done, 11) << status.out;  // 10 creates, then user11; later rounds: nothing
  EXPECT_EQ(view.failed, 0);
  ProcessResult table = world_.Usersync({"status"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("10 done, 0 failed, 0 held of 10 operations"), std::string::npos)
      << table.out;
  EXPECT_NE(table.out.find("nothing to do"), std::string::npos) << table.out;
}

// A sync that cannot reach its target is recorded as a run, so `status` (and a person reading
// it the morning after a failed nightly run) sees the failure and its reason.
TEST_F(SyncIntegrationTest, StatusShowsASyncThatCouldNotReachTheTarget) {
  ASSERT_NO_FATAL_FAILURE(StartWithTenUsers());
  ProcessResult before = world_.Usersync({"status"});
  EXPECT_EQ(before.exit_code, 0) << before.err;
  EXPECT_NE(before.out.find("does not exist yet"), std::string::npos) << before.out;
  EXPECT_FALSE(fs::exists(world_.dir() / "state.db"));  // status never creates a store

  ASSERT_EQ(world_.Usersync({"sync"}).exit_code, 0);
  const std::string token = world_.token();
  world_.StopTarget();  // the port is now closed
  ProcessResult failed = world_.Usersync({"sync"});
  ASSERT_EQ(failed.exit_code, 4) << failed.out << failed.err;

  // status reads the state store alone: it needs no token.
  ProcessResult status = world_.Usersync({"status", "--format", "json"}, {{kTargetTokenEnv, ""}});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  const StatusView view = ParseStatus(status.out);
  EXPECT_EQ(view.runs, 2);
  EXPECT_EQ(view.ok_runs, 1);
  EXPECT_EQ(view.recent_exit_codes, (std::vector<int64_t>{4, 0}));
  EXPECT_NE(view.newest_error.find("listing the target's accounts"), std::string::npos)
      << status.out;
  EXPECT_EQ(status.out.find(token), std::string::npos);
}

// `run` refuses an interval it cannot honour, and a configuration that is wrong from the first
// round, with exit 2 at once (no polling).
TEST_F(SyncIntegrationTest, PollingModeRefusesABadIntervalOrConfiguration) {
  ASSERT_NO_FATAL_FAILURE(StartWithTenUsers());
  for (const char* every : {"0s", "500ms", "-5m", "15", "soon"}) {
    ProcessResult result = world_.Usersync({"run", "--every", every});
    EXPECT_EQ(result.exit_code, 2) << every << ": " << result.out << result.err;
    EXPECT_NE(result.err.find("--every"), std::string::npos) << result.err;
  }
  world_.WriteFile("usersync.toml",
                   "[source]\nkind = \"ldif\"\npath = \"x.ldif\"\n[target]\nrat = 5\n");
  ProcessResult bad = world_.Usersync({"run", "--every", "1h"});
  EXPECT_EQ(bad.exit_code, 2) << bad.out << bad.err;
  EXPECT_NE(bad.err.find("rat"), std::string::npos) << bad.err;
}

// While another process holds the state store's run lock (here: the test, as pid 4242 says),
// the commands that change the target refuse with exit 4 and the holder named, having read
// nothing and recorded nothing; read-only commands go on; once the lock is released, sync runs.
TEST_F(SyncIntegrationTest, ASecondApplyingRunIsRefusedWhileTheFirstHoldsTheLock) {
  ASSERT_NO_FATAL_FAILURE(StartWithTenUsers());
  absl::StatusOr<std::unique_ptr<HeldFileLock>> lock =
      HeldFileLock::Hold(world_.Path("state.db.lock"), "4242\n");
  ASSERT_TRUE(lock.ok()) << lock.status();

  ProcessResult refused = world_.Usersync({"sync"});
  EXPECT_EQ(refused.exit_code, 4) << refused.out << refused.err;
  EXPECT_NE(refused.err.find("another usersync run"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("by pid 4242"), std::string::npos) << refused.err;
  EXPECT_EQ(world_.Stats().creates, 0);
  ProcessResult release = world_.Usersync({"release", "--all"});
  EXPECT_EQ(release.exit_code, 4) << release.out << release.err;
  EXPECT_NE(release.err.find("by pid 4242"), std::string::npos) << release.err;
  ProcessResult plan = world_.Usersync({"plan"});
  EXPECT_EQ(plan.exit_code, 0) << plan.err;
  EXPECT_NE(plan.out.find("new 10"), std::string::npos) << plan.out;
  ProcessResult dry_run = world_.Usersync({"sync", "--dry-run"});
  EXPECT_EQ(dry_run.exit_code, 0) << dry_run.err;
  EXPECT_NE(dry_run.out.find("Dry run: nothing was changed."), std::string::npos) << dry_run.out;
  EXPECT_EQ(world_.Stats().writes(), 0);
  ProcessResult status = world_.Usersync({"status", "--format", "json"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_EQ(ParseStatus(status.out).runs, 0) << status.out;  // the refused runs left no trace

  lock->reset();  // releases the lock
  ProcessResult sync = world_.Usersync({"sync"});
  EXPECT_EQ(sync.exit_code, 0) << sync.out << sync.err;
  EXPECT_EQ(world_.Stats().creates, 10);
}

}  // namespace
// The shrink guard (source.max_shrink_percent, default 20): 10 users synced, then a directory
// of 7 (30% fewer in scope): the 3 deactivations are held (exit 3) and nothing is sent for them;
// `release --all` sends them; the next sync records 7 as the new baseline and holds nothing.
TEST_F(SyncIntegrationTest, DirectoryThatShrankHoldsItsDeactivationsUntilRelease) {
  StartWithTenUsers();
  ProcessResult first = world_.Usersync({"sync"});
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  world_.WriteDirectory(NumberedUsers(7));
  const TargetStats before = world_.Stats();
  ProcessResult held = world_.Usersync({"sync"});
  ASSERT_EQ(held.exit_code, 3) << held.out << held.err;
  EXPECT_TRUE(Contains(held.out,
                       "HELD: the directory shrank from 10 to 7 users in scope (30% > "
                       "source.max_shrink_percent 20) since the last successful run"))
      << held.out;
  EXPECT_EQ(world_.Stats().writes(), before.writes());
  std::map<std::string, ScimAccount> accounts = world_.ScimAccounts();
  for (const char* name : {"user8@example.com", "user9@example.com", "user10@example.com"}) {
    EXPECT_TRUE(accounts[name].active) << name;
  }

  ProcessResult released = world_.Usersync({"release", "--all"});
  ASSERT_EQ(released.exit_code, 0) << released.out << released.err;
  EXPECT_TRUE(Contains(released.out, "Released 3 held operation(s): 3 done")) << released.out;
  accounts = world_.ScimAccounts();
  for (const char* name : {"user8@example.com", "user9@example.com", "user10@example.com"}) {
    EXPECT_FALSE(accounts[name].active) << name;
  }
  EXPECT_TRUE(accounts["user7@example.com"].active);

  ProcessResult settled = world_.Usersync({"sync"});
  EXPECT_EQ(settled.exit_code, 0) << settled.out << settled.err;
  EXPECT_TRUE(Contains(settled.out, "Result: nothing to do.")) << settled.out;
  // 7 is the baseline now: one more departure of 7 (14%) goes through.
  world_.WriteDirectory(NumberedUsers(6));
  ProcessResult small = world_.Usersync({"sync"});
  EXPECT_EQ(small.exit_code, 0) << small.out << small.err;
  EXPECT_FALSE(world_.ScimAccounts()["user7@example.com"].active);
}

// A name that is not UTF-8 (a base64 LDIF value) makes its user invalid, named by attribute and
// offset, and that user is never sent; the others are created.
TEST_F(SyncIntegrationTest, InvalidUtf8NameMakesTheUserInvalidAndIsNeverSent) {
  StartWithTenUsers();
  std::string ldif = testing::StaffDirectory(NumberedUsers(2)).Ldif();
  // "givenName: First" of user1 becomes the bytes "Ren\xC3" ("UmVuww==").
  const size_t at = ldif.find("givenName: First");
  ASSERT_NE(at, std::string::npos) << ldif;
  ldif.replace(at, std::string("givenName: First").size(), "givenName:: UmVuww==");
  world_.WriteLdif(ldif);
  ProcessResult sync = world_.Usersync({"sync"});
  EXPECT_EQ(sync.exit_code, 0) << sync.out << sync.err;
  ProcessResult users = world_.Usersync({"users", "--format", "csv"});
  EXPECT_TRUE(Contains(users.out, "givenName is not valid UTF-8 (byte 0xC3 at offset 3)"))
      << users.out << users.err;
  std::map<std::string, ScimAccount> accounts = world_.ScimAccounts();
  EXPECT_EQ(accounts.count("user1@example.com"), 0u);
  EXPECT_EQ(accounts.count("user2@example.com"), 1u);
  EXPECT_EQ(world_.Stats().creates, 1);
}

}  // namespace usersync
