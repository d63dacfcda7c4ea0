// End-to-end: the real `usersync` binary against the real `usersync-target` emulator over real
// HTTP on loopback. Each test gets its own emulator (port 0), temp dir, state and logs.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <simdjson.h>
#include <sys/file.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "tests/support/emulator_process.h"
#include "tests/support/http_client.h"
#include "tests/support/subprocess.h"

namespace usersync {
namespace {

namespace fs = std::filesystem;
using testing::EmulatorProcess;
using testing::HttpGet;
using testing::ProcessResult;
using testing::RunProcess;

constexpr char kTokenEnv[] = "USERSYNC_TEST_TARGET_TOKEN";

struct AccountView {
  std::string id;
  std::string user_name;
  std::string external_id;
  std::string family_name;
  bool active = true;
};

// Every account of the emulator, by userName.
std::map<std::string, AccountView> ListAccounts(const EmulatorProcess& target) {
  std::map<std::string, AccountView> out;
  simdjson::ondemand::parser parser;
  for (int start = 1;; start += 1000) {
    testing::HttpResult page = HttpGet(
        target.scim_url() + "/Users?startIndex=" + std::to_string(start) + "&count=1000",
        target.token());
    EXPECT_EQ(page.status, 200) << page.body;
    if (page.status != 200) return out;
    simdjson::padded_string json(page.body);
    simdjson::ondemand::document doc = parser.iterate(json);
    int64_t total = doc["totalResults"].get_int64().value();
    size_t seen = 0;
    for (auto resource : doc["Resources"].get_array()) {
      AccountView account;
      simdjson::ondemand::object user = resource.get_object();
      for (auto field : user) {
        std::string_view key = field.unescaped_key().value();
        if (key == "id") account.id = std::string(field.value().get_string().value());
        if (key == "userName") account.user_name = std::string(field.value().get_string().value());
        if (key == "externalId") {
          account.external_id = std::string(field.value().get_string().value());
        }
        if (key == "active") account.active = field.value().get_bool().value();
        if (key == "name") {
          for (auto part : field.value().get_object()) {
            if (part.unescaped_key().value() == "familyName") {
              account.family_name = std::string(part.value().get_string().value());
            }
          }
        }
      }
      EXPECT_FALSE(out.contains(account.user_name)) << "two accounts for " << account.user_name;
      out[account.user_name] = account;
      ++seen;
    }
    if (seen == 0 || start + 1000 > total) break;
  }
  return out;
}

std::map<std::string, int64_t> Stats(const EmulatorProcess& target) {
  testing::HttpResult result = HttpGet(target.base_url() + "/_emulator/stats", target.token());
  EXPECT_EQ(result.status, 200) << result.body;
  std::map<std::string, int64_t> out;
  simdjson::ondemand::parser parser;
  simdjson::padded_string json(result.body);
  simdjson::ondemand::document doc = parser.iterate(json);
  for (auto field : doc.get_object()) {
    out[std::string(field.unescaped_key().value())] = field.value().get_int64().value();
  }
  return out;
}

struct DirectoryUser {
  std::string uid;
  std::string sn;
  bool in_scope = true;
};

std::string Ldif(const std::vector<DirectoryUser>& users) {
  std::string out =
      "version: 1\n\n"
      "dn: dc=example,dc=com\nobjectClass: domain\ndc: example\n\n";
  for (const DirectoryUser& user : users) {
    out += "dn: uid=" + user.uid + ",ou=people,dc=example,dc=com\n";
    out += "objectClass: inetOrgPerson\nuid: " + user.uid + "\n";
    out += "entryUUID: uuid-" + user.uid + "\n";
    out += "cn: First " + user.sn + "\ngivenName: First\nsn: " + user.sn + "\n";
    out += "mail: " + user.uid + "@Example.com\n\n";
  }
  out += "dn: cn=staff,ou=groups,dc=example,dc=com\nobjectClass: groupOfNames\ncn: staff\n";
  for (const DirectoryUser& user : users) {
    if (user.in_scope) out += "member: uid=" + user.uid + ",ou=people,dc=example,dc=com\n";
  }
  return out;
}

class SyncIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           ("sync-" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }

  void StartTarget(std::vector<std::string> args = {}) {
    auto target = EmulatorProcess::Start(std::move(args));
    ASSERT_TRUE(target.ok()) << target.status();
    target_ = *std::move(target);
  }

  void WriteFile(const std::string& name, const std::string& content) {
    std::ofstream(dir_ / name) << content;
  }

  void WriteConfig(const std::string& target_keys = "rate = 1000\nburst = 100\n") {
    WriteFile("usersync.toml",
              "[source]\nkind = \"ldif\"\npath = \"directory.ldif\"\n"
              "[scope]\ngroups = [\"cn=staff,ou=groups,dc=example,dc=com\"]\n"
              "validated_domains = [\"example.com\"]\n"
              "[target]\nkind = \"scim\"\nurl = \"" + target_->scim_url() + "\"\n"
              "token_env = \"" + kTokenEnv + "\"\n" + target_keys +
              "[deprovision]\nmax_changes_percent = 100\n"
              "[[rules]]\nname = \"Staff\"\npriority = 1\n"
              "group = \"cn=staff,ou=groups,dc=example,dc=com\"\nproducts = [\"G2M\"]\n"
              "[state]\npath = \"state.db\"\n[logs]\ndir = \"logs\"\n");
  }

  ProcessResult Usersync(std::vector<std::string> args) {
    args.insert(args.begin(), USERSYNC_BINARY);
    return RunProcess(args, {{kTokenEnv, target_ ? target_->token() : ""}}, dir_.string());
  }

  std::string Config() const { return (dir_ / "usersync.toml").string(); }

  fs::path dir_;
  std::unique_ptr<EmulatorProcess> target_;
};

std::vector<DirectoryUser> TenUsers() {
  std::vector<DirectoryUser> users;
  for (int i = 1; i <= 10; ++i) users.push_back({"user" + std::to_string(i), "Sn" + std::to_string(i)});
  return users;
}

// The loop: a first sync provisions the scoped users; an edit of the directory (a user out of
// the group, a changed last name, a new user) makes exactly one deactivation, one update and one
// create; a third run plans nothing.
TEST_F(SyncIntegrationTest, FirstSyncThenEditMakesExactlyOneOfEach) {
  StartTarget();
  std::vector<DirectoryUser> users = TenUsers();
  users.push_back({"outsider", "Out", /*in_scope=*/false});
  WriteFile("directory.ldif", Ldif(users));
  WriteConfig();

  ProcessResult first = Usersync({"sync", "-c", Config()});
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  std::map<std::string, AccountView> accounts = ListAccounts(*target_);
  ASSERT_EQ(accounts.size(), 10u);
  EXPECT_FALSE(accounts.contains("outsider@example.com"));
  EXPECT_EQ(accounts["user3@example.com"].external_id, "uuid-user3");
  EXPECT_EQ(accounts["user3@example.com"].family_name, "Sn3");
  const std::map<std::string, int64_t> before = Stats(*target_);
  EXPECT_EQ(before.at("creates"), 10);

  users[0].in_scope = false;  // user1 leaves the scoped group
  users[1].sn = "Renamed";    // user2 changes last name
  users.push_back({"user11", "Sn11"});
  WriteFile("directory.ldif", Ldif(users));

  ProcessResult plan = Usersync({"plan", "-c", Config(), "--format", "json"});
  ASSERT_EQ(plan.exit_code, 0) << plan.err;
  simdjson::ondemand::parser parser;
  simdjson::padded_string plan_json(plan.out);
  simdjson::ondemand::document doc = parser.iterate(plan_json);
  std::multiset<std::string> ops;
  for (auto op : doc["operations"].get_array()) {
    simdjson::ondemand::object object = op.get_object();
    std::string kind(object["op"].get_string().value());
    std::string email(object["email"].get_string().value());
    ops.insert(kind + " " + email);
  }
  EXPECT_EQ(ops, (std::multiset<std::string>{"deactivate user1@example.com",
                                              "update user2@example.com",
                                              "create user11@example.com"}));

  ProcessResult second = Usersync({"sync", "-c", Config()});
  ASSERT_EQ(second.exit_code, 0) << second.out << second.err;
  const std::map<std::string, int64_t> after = Stats(*target_);
  EXPECT_EQ(after.at("creates") - before.at("creates"), 1);
  EXPECT_EQ(after.at("updates") - before.at("updates"), 2);  // the rename and the deactivation
  EXPECT_EQ(after.at("deletes") - before.at("deletes"), 0);
  accounts = ListAccounts(*target_);
  ASSERT_EQ(accounts.size(), 11u);
  EXPECT_FALSE(accounts["user1@example.com"].active);
  EXPECT_EQ(accounts["user2@example.com"].family_name, "Renamed");
  EXPECT_TRUE(accounts["user11@example.com"].active);
  int inactive = 0;
  for (const auto& [name, account] : accounts) inactive += !account.active;
  EXPECT_EQ(inactive, 1);

  ProcessResult third = Usersync({"plan", "-c", Config()});
  ASSERT_EQ(third.exit_code, 0) << third.err;
  EXPECT_NE(third.out.find("No changes"), std::string::npos) << third.out;
}

// A rate-limited target that also fails 10% of requests with 503: every user is created once,
// none twice, and the run ends with exit 0.
TEST_F(SyncIntegrationTest, FlakyRateLimitedTargetGetsEveryUserExactlyOnce) {
  // --no-bulk: one request per create, so the injected faults hit creates (Bulk is tested in
  // tests/goto_integration_test.cc).
  StartTarget({"--rate", "20", "--fail-rate", "0.1", "--no-bulk"});
  std::vector<DirectoryUser> users;
  for (int i = 0; i < 500; ++i) users.push_back({"bulk" + std::to_string(i), "Sn"});
  WriteFile("directory.ldif", Ldif(users));
  WriteConfig("rate = 20\nburst = 20\nmax_retries = 12\n");

  ProcessResult sync = Usersync({"sync", "-c", Config()});
  ASSERT_EQ(sync.exit_code, 0) << sync.out << sync.err;
  std::map<std::string, AccountView> accounts = ListAccounts(*target_);
  EXPECT_EQ(accounts.size(), 500u);
  const std::map<std::string, int64_t> stats = Stats(*target_);
  EXPECT_EQ(stats.at("users"), 500);
  EXPECT_EQ(stats.at("creates"), 500);
  EXPECT_GT(stats.at("injected_failures"), 0);  // the faults did happen

  ProcessResult again = Usersync({"plan", "-c", Config()});
  EXPECT_NE(again.out.find("No changes"), std::string::npos) << again.out;
}

TEST_F(SyncIntegrationTest, DemoShowsEveryCategoryThenNoChange) {
  ProcessResult demo = RunProcess({USERSYNC_BINARY, "demo", "--fixtures",
                                   std::string(USERSYNC_SOURCE_DIR) + "/fixtures"},
                                  {}, dir_.string());
  ASSERT_EQ(demo.exit_code, 0) << demo.out << demo.err;
  const size_t second_run = demo.out.find("== Second run");
  ASSERT_NE(second_run, std::string::npos) << demo.out;
  const std::string first = demo.out.substr(0, second_run);
  for (const char* category : {"matched", "update", "new", "invalid", "account-only", "departed"}) {
    EXPECT_EQ(first.find(std::string(category) + " 0"), std::string::npos)
        << category << " is empty in the first run:\n" << first;
    EXPECT_NE(first.find(std::string(category) + " "), std::string::npos) << category;
  }
  EXPECT_NE(demo.out.find("No changes", second_run), std::string::npos) << demo.out;
}

TEST_F(SyncIntegrationTest, BadConfigurationExits2) {
  StartTarget();
  WriteFile("usersync.toml", "[source]\nkind = \"ldif\"\npath = \"x.ldif\"\n[target]\nrat = 5\n");
  ProcessResult result = Usersync({"plan", "-c", Config()});
  EXPECT_EQ(result.exit_code, 2) << result.out << result.err;
  EXPECT_NE(result.err.find("rat"), std::string::npos) << result.err;
}

TEST_F(SyncIntegrationTest, UnreachableTargetExits4) {
  StartTarget();
  WriteFile("directory.ldif", Ldif(TenUsers()));
  WriteConfig();
  const std::string url = target_->scim_url();
  target_.reset();  // stop it: the port is now closed
  ProcessResult result = RunProcess({USERSYNC_BINARY, "sync", "-c", Config()},
                                    {{kTokenEnv, "whatever"}}, dir_.string());
  EXPECT_EQ(result.exit_code, 4) << result.out << result.err;
}

TEST_F(SyncIntegrationTest, WrongTokenExits4AndNeverPrintsIt) {
  StartTarget();
  WriteFile("directory.ldif", Ldif(TenUsers()));
  WriteConfig();
  const std::string secret = "wrong-secret-token-123";
  ProcessResult result =
      RunProcess({USERSYNC_BINARY, "sync", "-c", Config()}, {{kTokenEnv, secret}}, dir_.string());
  EXPECT_EQ(result.exit_code, 4) << result.out << result.err;
  EXPECT_EQ(result.out.find(secret), std::string::npos);
  EXPECT_EQ(result.err.find(secret), std::string::npos);
}

TEST_F(SyncIntegrationTest, MissingTokenExits2NamingTheVariable) {
  StartTarget();
  WriteFile("directory.ldif", Ldif(TenUsers()));
  WriteConfig();
  ProcessResult result = RunProcess({USERSYNC_BINARY, "plan", "-c", Config()}, {{kTokenEnv, ""}},
                                    dir_.string());
  EXPECT_EQ(result.exit_code, 2) << result.out << result.err;
  EXPECT_NE(result.err.find(kTokenEnv), std::string::npos) << result.err;
}

TEST_F(SyncIntegrationTest, MalformedLdifNamesFileAndLine) {
  StartTarget();
  WriteFile("directory.ldif", "version: 1\n\ndn: uid=a,dc=example,dc=com\nthis line has no colon\n");
  WriteConfig();
  ProcessResult result = Usersync({"plan", "-c", Config()});
  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.err.find("directory.ldif:4"), std::string::npos) << result.err;
}

// The audit log has one JSON line per operation, and no secret anywhere in the logs.
TEST_F(SyncIntegrationTest, AuditLogHasOneLinePerOperationAndNoSecrets) {
  StartTarget();
  WriteFile("directory.ldif", Ldif(TenUsers()));
  WriteConfig();
  ProcessResult result = Usersync({"sync", "-c", Config()});
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  std::ifstream audit(dir_ / "logs" / "audit.jsonl");
  std::string line;
  int lines = 0;
  simdjson::ondemand::parser parser;
  while (std::getline(audit, line)) {
    ++lines;
    simdjson::padded_string json(line);
    simdjson::ondemand::document doc = parser.iterate(json);
    EXPECT_EQ(std::string_view(doc["op"].get_string().value()), "create");
    EXPECT_EQ(std::string_view(doc["outcome"].get_string().value()), "done");
    EXPECT_EQ(line.find(target_->token()), std::string::npos);
  }
  EXPECT_EQ(lines, 10);
  EXPECT_EQ(result.out.find(target_->token()), std::string::npos);
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
  StartTarget();
  std::vector<DirectoryUser> users = TenUsers();
  WriteFile("directory.ldif", Ldif(users));
  WriteConfig();

  testing::ChildProcess poller;
  ASSERT_TRUE(poller
                  .Start({USERSYNC_BINARY, "run", "-c", Config(), "--every", "1s"},
                         {{kTokenEnv, target_->token()}})
                  .ok());
  // The next "== run N exit CODE; ..." line: the round's number and exit code.
  auto next_round = [&poller]() -> std::pair<int, int> {
    while (true) {
      absl::StatusOr<std::string> line = poller.ReadStdoutLine(std::chrono::seconds(60));
      if (!line.ok()) {
        ADD_FAILURE() << line.status() << "\n" << poller.stderr_output();
        return {-1, -1};
      }
      int round = 0, code = 0;
      if (std::sscanf(line->c_str(), "== run %d exit %d;", &round, &code) == 2) {
        return {round, code};
      }
    }
  };
  auto [first_round, first_exit] = next_round();
  ASSERT_EQ(first_round, 1);
  EXPECT_EQ(first_exit, 0);
  EXPECT_EQ(ListAccounts(*target_).size(), 10u);

  users.push_back({"user11", "Sn11"});
  WriteFile("directory.ldif", Ldif(users));
  // The round already reading the old file (if any) leaves user11 to the one after it.
  int rounds = 1;
  while (ListAccounts(*target_).size() < 11 && rounds < 6) {
    auto [round, code] = next_round();
    ASSERT_EQ(round, rounds + 1);
    EXPECT_EQ(code, 0);
    rounds = round;
  }
  ASSERT_EQ(ListAccounts(*target_).size(), 11u) << "after " << rounds << " rounds";
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
    rest += *line + "\n";
  }
  EXPECT_EQ(poller.Wait(), 0) << rest << poller.stderr_output();
  EXPECT_NE(rest.find("== stopped by a signal; the last run exited 0"), std::string::npos) << rest;

  ProcessResult status = Usersync({"status", "-c", Config(), "--format", "json"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  const StatusView view = ParseStatus(status.out);
  EXPECT_GE(view.runs, rounds);  // a round may have run between the last read and the signal
  EXPECT_EQ(view.ok_runs, view.runs) << status.out;
  EXPECT_EQ(view.done, 11) << status.out;  // 10 creates, then user11; later rounds: nothing
  EXPECT_EQ(view.failed, 0);
  ProcessResult table = Usersync({"status", "-c", Config()});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("10 done, 0 failed, 0 held of 10 operations"), std::string::npos)
      << table.out;
  EXPECT_NE(table.out.find("nothing to do"), std::string::npos) << table.out;
}

// A sync that cannot reach its target is recorded as a run, so `status` (and a person reading
// it the morning after a failed nightly run) sees the failure and its reason.
TEST_F(SyncIntegrationTest, StatusShowsASyncThatCouldNotReachTheTarget) {
  StartTarget();
  WriteFile("directory.ldif", Ldif(TenUsers()));
  WriteConfig();
  ProcessResult before = Usersync({"status", "-c", Config()});
  EXPECT_EQ(before.exit_code, 0) << before.err;
  EXPECT_NE(before.out.find("does not exist yet"), std::string::npos) << before.out;
  EXPECT_FALSE(fs::exists(dir_ / "state.db"));  // status never creates a store

  ASSERT_EQ(Usersync({"sync", "-c", Config()}).exit_code, 0);
  const std::string token = target_->token();
  target_.reset();  // stop it: the port is now closed
  ProcessResult failed =
      RunProcess({USERSYNC_BINARY, "sync", "-c", Config()}, {{kTokenEnv, token}}, dir_.string());
  ASSERT_EQ(failed.exit_code, 4) << failed.out << failed.err;

  ProcessResult status = RunProcess({USERSYNC_BINARY, "status", "-c", Config(), "--format", "json"},
                                    {}, dir_.string());
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
  StartTarget();
  WriteFile("directory.ldif", Ldif(TenUsers()));
  WriteConfig();
  for (const char* every : {"0s", "500ms", "-5m", "15", "soon"}) {
    ProcessResult result = Usersync({"run", "-c", Config(), "--every", every});
    EXPECT_EQ(result.exit_code, 2) << every << ": " << result.out << result.err;
    EXPECT_NE(result.err.find("--every"), std::string::npos) << result.err;
  }
  WriteFile("usersync.toml", "[source]\nkind = \"ldif\"\npath = \"x.ldif\"\n[target]\nrat = 5\n");
  ProcessResult bad = Usersync({"run", "-c", Config(), "--every", "1h"});
  EXPECT_EQ(bad.exit_code, 2) << bad.out << bad.err;
  EXPECT_NE(bad.err.find("rat"), std::string::npos) << bad.err;
}

// While another process holds the state store's run lock (here: the test, as pid 4242 says),
// the commands that change the target refuse with exit 4 and the holder named, having read
// nothing and recorded nothing; read-only commands go on; once the lock is released, sync runs.
TEST_F(SyncIntegrationTest, ASecondApplyingRunIsRefusedWhileTheFirstHoldsTheLock) {
  StartTarget();
  WriteFile("directory.ldif", Ldif(TenUsers()));
  WriteConfig();
  const std::string lock_path = (dir_ / "state.db.lock").string();
  const int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);
  ASSERT_EQ(::write(fd, "4242\n", 5), 5);

  ProcessResult refused = Usersync({"sync", "-c", Config()});
  EXPECT_EQ(refused.exit_code, 4) << refused.out << refused.err;
  EXPECT_NE(refused.err.find("another usersync run"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("by pid 4242"), std::string::npos) << refused.err;
  EXPECT_EQ(Stats(*target_).at("creates"), 0);
  ProcessResult release = Usersync({"release", "-c", Config(), "--all"});
  EXPECT_EQ(release.exit_code, 4) << release.out << release.err;
  EXPECT_EQ(Usersync({"plan", "-c", Config()}).exit_code, 0);
  EXPECT_EQ(Usersync({"sync", "-c", Config(), "--dry-run"}).exit_code, 0);
  ProcessResult status = Usersync({"status", "-c", Config(), "--format", "json"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_EQ(ParseStatus(status.out).runs, 0) << status.out;  // the refused runs left no trace

  ::close(fd);  // releases the lock
  ProcessResult sync = Usersync({"sync", "-c", Config()});
  EXPECT_EQ(sync.exit_code, 0) << sync.out << sync.err;
  EXPECT_EQ(Stats(*target_).at("creates"), 10);
}

}  // namespace
}  // namespace usersync
