// The commands no other test runs end to end, through the real `usersync` binary against the
// real `usersync-target`: `users` in every format (issue 11: the page from the command, not
// only in-process), `check` (healthy, refused token, unreachable target, unknown GoTo account
// key), `run --every` (the configuration read again each round, a failed round then a good one,
// SIGTERM during the wait) and `sync --dry-run` (the emulator counts no write).
#include <gtest/gtest.h>
#include <simdjson.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tests/support/slapd_fixture.h"
#include "tests/support/subprocess.h"
#include "tests/support/sync_world.h"

namespace usersync {
namespace {

namespace fs = std::filesystem;
using testing::ChildProcess;
using testing::Contains;
using testing::DirectoryUser;
using testing::kTargetTokenEnv;
using testing::Lacks;
using testing::NumberedUsers;
using testing::ProcessResult;
using testing::ScimAccount;
using testing::StaffDirectory;
using testing::SyncWorld;
using testing::TargetStats;
using testing::WorldConfig;

constexpr int kExitOk = 0;
constexpr int kExitUsage = 2;
constexpr int kExitUnreachable = 4;

// A URL on a loopback port nothing listens on (it was free a moment ago).
std::string DeadScimUrl() {
  absl::StatusOr<int> port = testing::FreeLoopbackPort();
  EXPECT_TRUE(port.ok()) << port.status();
  return absl::StrCat("http://127.0.0.1:", port.ok() ? *port : 1, "/scim/v2");
}

// An account no directory user matches, seeded into the emulator.
constexpr char kStrangerJsonl[] =
    R"({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], )"
    R"("userName": "stranger@example.com", "name": {"givenName": "Stan", "familyName": )"
    R"("Stranger"}, "displayName": "Stan Stranger", "emails": [{"value": )"
    R"("stranger@example.com", "type": "work", "primary": true}], "active": true})"
    "\n";

// `directory`'s LDIF with user `uid`'s mail line left out (an invalid user: no email).
std::string LdifWithoutMail(const StaffDirectory& directory, const std::string& uid) {
  std::string ldif = directory.Ldif();
  const std::string line = absl::StrCat("mail: ", uid, "@", directory.mail_domain, "\n");
  const size_t at = ldif.find(line);
  EXPECT_NE(at, std::string::npos) << ldif;
  if (at != std::string::npos) ldif.erase(at, line.size());
  return ldif;
}

// One row of the users page, as `users --format json` gives it.
struct UserRowView {
  std::string category, directory_id, dn, email, account_id, products, rule, reason;
  bool operator==(const UserRowView&) const = default;
};

std::ostream& operator<<(std::ostream& out, const UserRowView& row) {
  return out << "{" << row.category << ", " << row.directory_id << ", " << row.dn << ", "
             << row.email << ", " << row.account_id << ", " << row.products << ", " << row.rule
             << ", " << row.reason << "}";
}

// Fails the test (and returns what it read so far) when `json` is not an array of row objects.
std::vector<UserRowView> ParseUsersJson(const std::string& json) {
  std::vector<UserRowView> rows;
  simdjson::ondemand::parser parser;
  simdjson::padded_string padded(json);
  simdjson::ondemand::document doc;
  simdjson::ondemand::array array;
  if (parser.iterate(padded).get(doc) != simdjson::SUCCESS ||
      doc.get_array().get(array) != simdjson::SUCCESS) {
    ADD_FAILURE() << "not a JSON array: " << json;
    return rows;
  }
  for (auto element : array) {
    simdjson::ondemand::object object;
    if (element.get_object().get(object) != simdjson::SUCCESS) {
      ADD_FAILURE() << "a row is not an object: " << json;
      return rows;
    }
    UserRowView row;
    const std::pair<const char*, std::string*> members[] = {{"category", &row.category},
                                                            {"directory_id", &row.directory_id},
                                                            {"dn", &row.dn},
                                                            {"email", &row.email},
                                                            {"account_id", &row.account_id},
                                                            {"products", &row.products},
                                                            {"rule", &row.rule},
                                                            {"reason", &row.reason}};
    for (const auto& [name, value] : members) {
      std::string_view text;
      if (object[name].get_string().get(text) != simdjson::SUCCESS) {
        ADD_FAILURE() << "row member " << name << " is not a string: " << json;
        return rows;
      }
      *value = std::string(text);
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

// ---- users ------------------------------------------------------------------------------------

// A world with one user in each category: user1..user5 and user6 (no email) synced, the
// seeded stranger@example.com never touched; then user1 leaves the group (departed), user2 is
// renamed (update), user7 joins (new); user3..user5 stay as they were (matched).
class UsersCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    world_.WriteFile("seed.jsonl", kStrangerJsonl);
    ASSERT_TRUE(world_.StartTarget({"--seed-accounts", world_.Path("seed.jsonl")}).ok());
    StaffDirectory directory(NumberedUsers(6));
    world_.WriteLdif(LdifWithoutMail(directory, "user6"));
    world_.WriteConfig();
    ProcessResult sync = world_.Usersync({"sync"});
    ASSERT_EQ(sync.exit_code, kExitOk) << sync.out << sync.err;
    ASSERT_TRUE(Contains(sync.out, "Result: 5 done (5 create), 0 failed"));

    directory.users[0].in_scope = false;
    directory.users[1].sn = "Renamed";
    directory.users.push_back({"user7", "Sn7"});
    world_.WriteLdif(LdifWithoutMail(directory, "user6"));
    accounts_ = world_.ScimAccounts();
    ASSERT_EQ(accounts_.size(), 6u);
    writes_before_ = world_.Stats().writes();
  }

  std::string Id(const std::string& email) {
    auto it = accounts_.find(email);
    EXPECT_NE(it, accounts_.end()) << email;
    return it == accounts_.end() ? "" : it->second.id;
  }

  // The page's rows in the order the plan lists them: directory order, then the departed,
  // then the accounts no user matches.
  std::vector<UserRowView> ExpectedRows() {
    auto dn = [](const std::string& uid) {
      return absl::StrCat("uid=", uid, ",ou=people,dc=example,dc=com");
    };
    const std::string in_sync = "linked, in sync";
    return {
        {"update", "uuid-user2", dn("user2"), "user2@example.com", Id("user2@example.com"), "G2M",
         "Staff", "linked; changed: last_name, display_name"},
        {"matched", "uuid-user3", dn("user3"), "user3@example.com", Id("user3@example.com"), "G2M",
         "Staff", in_sync},
        {"matched", "uuid-user4", dn("user4"), "user4@example.com", Id("user4@example.com"), "G2M",
         "Staff", in_sync},
        {"matched", "uuid-user5", dn("user5"), "user5@example.com", Id("user5@example.com"), "G2M",
         "Staff", in_sync},
        {"invalid", "uuid-user6", dn("user6"), "", "", "", "", "no email"},
        {"new", "uuid-user7", dn("user7"), "user7@example.com", "", "G2M", "Staff",
         "in scope, no account; rule Staff"},
        {"departed", "uuid-user1", dn("user1"), "user1@example.com", Id("user1@example.com"), "G2M",
         "", "departed: no longer in a scoped group"},
        {"account_only", "", "", "stranger@example.com", Id("stranger@example.com"), "", "",
         "no directory user matches this account; left untouched"},
    };
  }

  // `users` only reads: the emulator counted no write since the set-up.
  void ExpectNothingWritten() { EXPECT_EQ(world_.Stats().writes(), writes_before_); }

  SyncWorld world_{"users"};
  std::map<std::string, ScimAccount> accounts_;
  int64_t writes_before_ = 0;
};

// The table (the default format): a header, one line per user with its category, email,
// products, account and reason, and the summary line with every category's count.
TEST_F(UsersCommandTest, TableShowsEveryUserAndTheCounts) {
  ProcessResult table = world_.Usersync({"users"});
  ASSERT_EQ(table.exit_code, kExitOk) << table.out << table.err;
  EXPECT_TRUE(Contains(table.out, "CATEGORY "));
  for (const UserRowView& row : ExpectedRows()) {
    SCOPED_TRACE(::testing::Message() << row);
    // The table's label of account_only is "account-only".
    const std::string label = row.category == "account_only" ? "account-only" : row.category;
    const std::string shown = row.email.empty() ? row.dn : row.email;
    const size_t at = table.out.find(absl::StrCat("\n", label, " "));
    ASSERT_NE(at, std::string::npos) << table.out;
    // The row of this user: the line holding its email (or DN) under that label.
    const size_t line = table.out.find(absl::StrCat(" ", shown, " "));
    ASSERT_NE(line, std::string::npos) << table.out;
    const size_t start = table.out.rfind('\n', line) + 1;
    const std::string text = table.out.substr(start, table.out.find('\n', line) - start);
    EXPECT_TRUE(text.starts_with(label + " ")) << text;
    EXPECT_TRUE(Contains(text, row.reason));
    if (!row.account_id.empty()) {
      EXPECT_TRUE(Contains(text, row.account_id));
    }
  }
  EXPECT_TRUE(Contains(table.out,
                       "\nmatched 3 \xc2\xb7 update 1 \xc2\xb7 new 1 \xc2\xb7 invalid 1 \xc2\xb7 "
                       "account-only 1 \xc2\xb7 departed 1\n"));
  EXPECT_EQ(table.err, "");
  ExpectNothingWritten();
}

// CSV (RFC 4180: CRLF line ends): the header and exactly one line per user, quoted where a
// value holds a comma.
TEST_F(UsersCommandTest, CsvListsEveryUserExactly) {
  ProcessResult csv = world_.Usersync({"users", "--format", "csv"});
  ASSERT_EQ(csv.exit_code, kExitOk) << csv.out << csv.err;
  auto quoted = [](const std::string& value) {
    return value.find(',') == std::string::npos ? value : absl::StrCat("\"", value, "\"");
  };
  std::string expected = "category,directory_id,dn,email,account_id,products,rule,reason\r\n";
  for (const UserRowView& row : ExpectedRows()) {
    absl::StrAppend(&expected,
                    absl::StrJoin({row.category, row.directory_id, quoted(row.dn), row.email,
                                   row.account_id, row.products, row.rule, quoted(row.reason)},
                                  ","),
                    "\r\n");
  }
  EXPECT_EQ(csv.out, expected);
  ExpectNothingWritten();
}

// JSON: an array of one object per user, member for member.
TEST_F(UsersCommandTest, JsonListsEveryUserExactly) {
  ProcessResult json = world_.Usersync({"users", "--format", "json"});
  ASSERT_EQ(json.exit_code, kExitOk) << json.out << json.err;
  EXPECT_EQ(ParseUsersJson(json.out), ExpectedRows());
  ExpectNothingWritten();
}

// --out writes the page to the file and says so; stdout holds nothing else. (The file's page
// in Chromium: UsersPageTest.PageWrittenByTheCommandRendersItsUsers.)
TEST_F(UsersCommandTest, OutWritesEachFormatToTheFile) {
  ProcessResult json = world_.Usersync({"users", "--format", "json"});
  ASSERT_EQ(json.exit_code, kExitOk) << json.err;
  for (const char* format : {"json", "html"}) {
    SCOPED_TRACE(format);
    const std::string file = world_.Path(absl::StrCat("users.", format));
    ProcessResult out = world_.Usersync({"users", "--format", format, "--out", file});
    ASSERT_EQ(out.exit_code, kExitOk) << out.out << out.err;
    EXPECT_EQ(out.out, absl::StrCat("Users page written to ", file, "\n"));
    const std::string page = world_.ReadFile(absl::StrCat("users.", format));
    if (std::string(format) == "json") {
      EXPECT_EQ(page, json.out);
    } else {
      EXPECT_TRUE(page.starts_with("<!DOCTYPE html>")) << page.substr(0, 200);
      EXPECT_TRUE(Contains(page, "stranger@example.com"));
      EXPECT_TRUE(Contains(page, absl::StrCat("usersync users: ", world_.target().scim_url())));
    }
  }
  ExpectNothingWritten();
}

// An unknown format is bad usage, and nothing is read or written.
TEST_F(UsersCommandTest, UnknownFormatExits2) {
  ProcessResult pdf = world_.Usersync({"users", "--format", "pdf"});
  EXPECT_EQ(pdf.exit_code, kExitUsage) << pdf.out << pdf.err;
  EXPECT_TRUE(Contains(pdf.err, "--format"));
  EXPECT_TRUE(Contains(pdf.err, "pdf"));
  EXPECT_EQ(pdf.out, "");
  ExpectNothingWritten();
}

// ---- check ------------------------------------------------------------------------------------

// A world with an emulator, three users in scope and a configuration that points at it. Every
// check only reads: the emulator never counts a write.
class CheckCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(world_.StartTarget().ok());
    world_.WriteDirectory(NumberedUsers(3));
    world_.WriteConfig();
  }

  // The first two lines every check prints, whatever the target does.
  std::string ConfigAndSourceLines(const std::string& config) {
    return absl::StrCat("config: ", config, " OK\nsource: ldif OK (3 users, 1 groups)\n");
  }

  void ExpectNothingWritten() {
    const TargetStats stats = world_.Stats();
    EXPECT_EQ(stats.writes(), 0);
    EXPECT_EQ(stats.users, 0);
  }

  SyncWorld world_{"check"};
};

TEST_F(CheckCommandTest, HealthyConnectionsExit0) {
  ProcessResult check = world_.Usersync({"check"});
  EXPECT_EQ(check.exit_code, kExitOk) << check.out << check.err;
  EXPECT_EQ(check.out,
            absl::StrCat(ConfigAndSourceLines(world_.config()), "target: ",
                         world_.target().scim_url(), " OK\n",
                         "  accounts: 0 at the target (a page of 0 read and decoded, nothing "
                         "changed)\n"));
  EXPECT_EQ(check.err, "");
  ExpectNothingWritten();
}

// The GoTo face, as an administrator would first try a real account: check reads GET /me
// (the account key is the token's user's), one page of users and the licenses, says what it
// found, and changes nothing (the emulator's write counters and its users are the same
// afterwards).
TEST_F(CheckCommandTest, HealthyGotoTargetReportsWhatItReadAndChangesNothing) {
  WorldConfig config;
  config.target_kind = "goto";
  const std::string path = world_.WriteConfig(config, "goto");
  ProcessResult sync = world_.UsersyncArgs({"sync", "-c", path});
  ASSERT_EQ(sync.exit_code, kExitOk) << sync.out << sync.err;
  const TargetStats before = world_.Stats();
  ASSERT_EQ(before.users, 3);

  ProcessResult check = world_.UsersyncArgs({"check", "-c", path});
  EXPECT_EQ(check.exit_code, kExitOk) << check.out << check.err;
  EXPECT_EQ(check.out,
            absl::StrCat(ConfigAndSourceLines(path), "target: ", world_.target().base_url(),
                         "/admin/rest/v1 OK\n",
                         "  account: demo \"usersync-target\" (GET /me: the token's user belongs "
                         "to 1 account)\n",
                         "  accounts: 3 at the target (a page of 3 read and decoded, nothing "
                         "changed)\n",
                         "  licenses: 4 (GET /accounts/demo/licenses)\n",
                         "    7902142105473202101 G2M: no seat count, 3 used\n",
                         "    7902142105473202102 G2T: no seat count, 0 used\n",
                         "    7902142105473202103 G2W: no seat count, 0 used\n",
                         "    7902142105473202104 OPENVOICE: no seat count, 0 used\n"));
  const TargetStats after = world_.Stats();
  EXPECT_EQ(after.writes(), before.writes());
  EXPECT_EQ(after.users, 3);
  EXPECT_EQ(after.requests - before.requests, 3);  // GET /me, one page, /licenses
}

TEST_F(CheckCommandTest, RefusedTokenExits4) {
  const std::string wrong = "not-the-token-5309";
  ProcessResult check = world_.Usersync({"check"}, {{kTargetTokenEnv, wrong}});
  EXPECT_EQ(check.exit_code, kExitUnreachable) << check.out << check.err;
  EXPECT_TRUE(check.out.starts_with(ConfigAndSourceLines(world_.config()))) << check.out;
  EXPECT_TRUE(
      Contains(check.out, absl::StrCat("target: FAILED: the SCIM target at ",
                                       world_.target().scim_url(), " rejected the bearer token")));
  EXPECT_TRUE(Contains(check.out, "HTTP 401"));
  EXPECT_TRUE(Lacks(check.out + check.err, wrong));
  ExpectNothingWritten();
}

// A target nobody listens on: exit 4 naming the URL (the source still checked).
TEST_F(CheckCommandTest, UnreachableTargetExits4) {
  const std::string url = DeadScimUrl();
  WorldConfig config;
  config.target_url = url;
  config.target_keys = "max_retries = 0\n";  // refused at once; no back-off to wait for
  world_.WriteConfig(config);
  ProcessResult check = world_.Usersync({"check"});
  EXPECT_EQ(check.exit_code, kExitUnreachable) << check.out << check.err;
  EXPECT_TRUE(check.out.starts_with(ConfigAndSourceLines(world_.config()))) << check.out;
  EXPECT_TRUE(
      Contains(check.out, absl::StrCat("target: FAILED: cannot reach the SCIM target at ", url)));
  ExpectNothingWritten();
}

// A GoTo account key the target does not know is a configuration error (exit 2) that names
// the key and the setting to fix.
TEST_F(CheckCommandTest, UnknownGotoAccountKeyExits2) {
  WorldConfig config;
  config.target_kind = "goto";
  const std::string path = world_.WriteConfig(config, "goto");
  std::string toml = world_.ReadFile("goto.toml");
  const size_t at = toml.find("account_key = \"demo\"");
  ASSERT_NE(at, std::string::npos) << toml;
  toml.replace(at, 20, "account_key = \"nope\"");
  world_.WriteFile("goto.toml", toml);
  ProcessResult check = world_.UsersyncArgs({"check", "-c", path});
  EXPECT_EQ(check.exit_code, kExitUsage) << check.out << check.err;
  EXPECT_TRUE(check.out.starts_with(ConfigAndSourceLines(path))) << check.out;
  EXPECT_TRUE(Contains(
      check.out, absl::StrCat("target: FAILED: the GoTo target at ", world_.target().base_url(),
                              "/admin/rest/v1 has no account \"nope\" for this token; check "
                              "target.account_key: GET /me lists demo (usersync-target)")));
  ExpectNothingWritten();
}

// ---- run --every ------------------------------------------------------------------------------

// What `run --every` printed, line by line: "== run N at TIME", "== run N exit CODE; next run
// at TIME", "== stopped by a signal; the last run exited CODE" (and each round's sync output).
class PollingTest : public ::testing::Test {
 protected:
  struct Round {
    int number = -1;
    int exit_code = -1;
  };

  // Reads the poller's stdout up to the next "== run N exit CODE" line, checking that the
  // round's "== run N at" line came first. {-1, -1} (and a test failure) when none came within
  // a minute.
  Round NextRound(ChildProcess& poller) {
    int started = -1;
    while (true) {
      absl::StatusOr<std::string> line = poller.ReadStdoutLine(std::chrono::seconds(60));
      if (!line.ok()) {
        ADD_FAILURE() << line.status() << "\n" << poller.stderr_output();
        return {};
      }
      output_ += *line + "\n";
      int number = 0, code = 0;
      char stamp[64];
      if (std::sscanf(line->c_str(), "== run %d exit %d;", &number, &code) == 2) {
        EXPECT_EQ(number, started) << output_;
        return {number, code};
      }
      if (std::sscanf(line->c_str(), "== run %d at %63s", &number, stamp) == 2) {
        EXPECT_EQ(started, -1) << "a round started before the last one ended:\n" << output_;
        started = number;
      }
    }
  }

  // Sends SIGTERM and returns what the poller wrote from then on; the exit code in `exit_code`
  // (-1 when it did not exit within 5 s).
  std::string Terminate(ChildProcess& poller, int& exit_code) {
    poller.Signal(SIGTERM);
    absl::StatusOr<int> exited = poller.WaitFor(std::chrono::seconds(5));
    EXPECT_TRUE(exited.ok()) << "still running 5 s after SIGTERM:\n" << output_;
    if (!exited.ok()) {
      poller.Signal(SIGKILL);
      poller.Wait();
    }
    exit_code = exited.ok() ? *exited : -1;
    std::string rest;
    while (true) {
      absl::StatusOr<std::string> line = poller.ReadStdoutLine(std::chrono::seconds(5));
      if (!line.ok()) break;  // stdout closed
      rest += *line + "\n";
    }
    return rest;
  }

  SyncWorld world_{"poll"};
  std::string output_;  // stdout read so far
};

// The configuration is read again each round: the first rounds point at a dead port and fail
// (exit 4, the loop goes on); the file is then replaced by one pointing at the emulator, and a
// later round syncs every user (exit 0).
TEST_F(PollingTest, RereadsTheConfigurationAndRecoversFromAFailedRound) {
  ASSERT_TRUE(world_.StartTarget().ok());
  world_.WriteDirectory(NumberedUsers(3));
  const std::string dead = DeadScimUrl();
  WorldConfig config;
  config.target_url = dead;
  config.target_keys = "rate = 1000\nburst = 100\nmax_retries = 0\n";
  world_.WriteConfig(config);

  ChildProcess poller;
  ASSERT_TRUE(world_.StartUsersync(poller, {"run", "--every", "1s"}).ok());
  const Round first = NextRound(poller);
  ASSERT_EQ(first.number, 1) << output_;
  EXPECT_EQ(first.exit_code, kExitUnreachable) << output_ << poller.stderr_output();
  EXPECT_EQ(world_.Stats().requests, 0);

  // Replaced whole (a rename), so that no round reads a half-written file.
  config.target_url = "";
  world_.WriteConfig(config, "next");
  fs::rename(world_.Path("next.toml"), world_.config());

  // A round that had already read the old file (if any) fails too; then one succeeds. (The
  // bound only keeps a loop that never reads the file again from running for ever.)
  Round round = first;
  while (round.exit_code != kExitOk && round.number < 30) {
    const Round next = NextRound(poller);
    ASSERT_EQ(next.number, round.number + 1) << output_;
    if (next.exit_code != kExitOk) {
      EXPECT_EQ(next.exit_code, kExitUnreachable) << output_ << poller.stderr_output();
    }
    round = next;
  }
  ASSERT_EQ(round.exit_code, kExitOk) << output_ << poller.stderr_output();
  EXPECT_TRUE(Contains(output_, "Result: 3 done (3 create), 0 failed"));
  EXPECT_EQ(world_.ScimAccounts().size(), 3u);
  EXPECT_EQ(world_.Stats().creates, 3);
  // The failed rounds said what failed.
  EXPECT_TRUE(
      Contains(poller.stderr_output(), absl::StrCat("cannot reach the SCIM target at ", dead)));

  int exit_code = -1;
  const std::string rest = Terminate(poller, exit_code);
  EXPECT_EQ(exit_code, kExitOk) << rest << poller.stderr_output();
  EXPECT_TRUE(Contains(rest, "== stopped by a signal; the last run exited 0\n"));
}

// SIGTERM while the loop waits for its next round (an hour away) ends it at once, with the
// last round's exit code and no further round: exiting before a 5 s deadline shows the wait
// was cut short.
TEST_F(PollingTest, SigtermDuringTheWaitStopsAtOnce) {
  ASSERT_TRUE(world_.StartTarget().ok());
  world_.WriteDirectory(NumberedUsers(3));
  world_.WriteConfig();

  ChildProcess poller;
  ASSERT_TRUE(world_.StartUsersync(poller, {"run", "--every", "1h"}).ok());
  const Round first = NextRound(poller);
  ASSERT_EQ(first.number, 1) << output_;
  EXPECT_EQ(first.exit_code, kExitOk) << output_ << poller.stderr_output();
  EXPECT_EQ(world_.Stats().creates, 3);

  int exit_code = -1;
  const std::string rest = Terminate(poller, exit_code);
  EXPECT_EQ(exit_code, kExitOk) << rest << poller.stderr_output();
  EXPECT_EQ(rest, "== stopped by a signal; the last run exited 0\n");
  EXPECT_EQ(world_.Stats().creates, 3);
}

// A round that fails after the first leaves its code as the loop's when it is stopped: the
// target goes away, the next round exits 4, SIGTERM, exit 4.
TEST_F(PollingTest, StoppedAfterAFailedRoundExitsWithItsCode) {
  ASSERT_TRUE(world_.StartTarget().ok());
  world_.WriteDirectory(NumberedUsers(3));
  WorldConfig config;
  config.target_keys = "rate = 1000\nburst = 100\nmax_retries = 0\n";
  world_.WriteConfig(config);

  ChildProcess poller;
  ASSERT_TRUE(world_.StartUsersync(poller, {"run", "--every", "1s"}).ok());
  const Round first = NextRound(poller);
  ASSERT_EQ(first.number, 1) << output_;
  EXPECT_EQ(first.exit_code, kExitOk) << output_ << poller.stderr_output();

  world_.StopTarget();  // the port now refuses connections
  Round round = first;
  while (round.exit_code == kExitOk && round.number < 4) {
    const Round next = NextRound(poller);
    ASSERT_EQ(next.number, round.number + 1) << output_;
    round = next;
  }
  ASSERT_EQ(round.exit_code, kExitUnreachable) << output_ << poller.stderr_output();

  int exit_code = -1;
  const std::string rest = Terminate(poller, exit_code);
  // The signal may land in a later round, which fails the same way.
  EXPECT_EQ(exit_code, kExitUnreachable) << rest << poller.stderr_output();
  EXPECT_TRUE(Contains(rest, "== stopped by a signal; the last run exited 4\n"));
}

// ---- sync --dry-run -----------------------------------------------------------------------------

// `sync --dry-run` prints the plan and sends no write: neither the first time (everything to
// create) nor after edits (an update, a deactivation, a create); the real sync then does it all.
TEST(DryRunTest, SendsNoWriteThenTheRealSyncDoes) {
  SyncWorld world("dry-run");
  ASSERT_TRUE(world.StartTarget().ok());
  std::vector<DirectoryUser> users = NumberedUsers(3);
  world.WriteDirectory(users);
  world.WriteConfig();

  ProcessResult dry = world.Usersync({"sync", "--dry-run"});
  ASSERT_EQ(dry.exit_code, kExitOk) << dry.out << dry.err;
  EXPECT_TRUE(Contains(dry.out, "new 3"));
  EXPECT_TRUE(Contains(dry.out, "create     user1@example.com"));
  EXPECT_TRUE(Contains(dry.out, "Dry run: nothing was changed."));
  EXPECT_TRUE(Lacks(dry.out, "Result: 3 done"));
  TargetStats stats = world.Stats();
  EXPECT_EQ(stats.writes(), 0);
  EXPECT_EQ(stats.users, 0);

  ProcessResult sync = world.Usersync({"sync"});
  ASSERT_EQ(sync.exit_code, kExitOk) << sync.out << sync.err;
  EXPECT_TRUE(Contains(sync.out, "Result: 3 done (3 create), 0 failed"));
  const TargetStats synced = world.Stats();
  EXPECT_EQ(synced.creates, 3);

  users[0].in_scope = false;
  users[1].sn = "Renamed";
  users.push_back({"user4", "Sn4"});
  world.WriteDirectory(users);
  ProcessResult dry_edit = world.Usersync({"sync", "--dry-run"});
  ASSERT_EQ(dry_edit.exit_code, kExitOk) << dry_edit.out << dry_edit.err;
  EXPECT_TRUE(Contains(dry_edit.out, "deactivate user1@example.com"));
  EXPECT_TRUE(Contains(dry_edit.out, "update     user2@example.com"));
  EXPECT_TRUE(Contains(dry_edit.out, "create     user4@example.com"));
  EXPECT_TRUE(Contains(dry_edit.out, "Dry run: nothing was changed."));
  stats = world.Stats();
  EXPECT_EQ(stats.writes(), synced.writes());
  EXPECT_EQ(stats.users, 3);
  for (const auto& [name, account] : world.ScimAccounts()) EXPECT_TRUE(account.active) << name;

  ProcessResult edit = world.Usersync({"sync"});
  ASSERT_EQ(edit.exit_code, kExitOk) << edit.out << edit.err;
  stats = world.Stats();
  EXPECT_EQ(stats.creates, 4);
  EXPECT_EQ(stats.updates - synced.updates, 2);  // the rename and the deactivation
  EXPECT_FALSE(world.ScimAccounts()["user1@example.com"].active);
}

}  // namespace
}  // namespace usersync
