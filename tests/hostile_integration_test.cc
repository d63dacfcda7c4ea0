// A hostile SCIM server (issue 12, item 9): usersync against a HostileProxy in front of the
// emulator, one test per fault. Each test asserts the exit code and what really happened on
// the target (the emulator's counters and accounts, the requests the proxy forwarded): no
// duplicate, nothing lost, nothing written when the input is refused.
//
// The runs that could grow without bound on a usersync that trusts the server (a listing
// lie, an endless or huge body) run under a watchdog that kills the child past 512 MiB of
// resident memory, so that a regression fails the test instead of the machine.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "tests/support/emulator_process.h"
#include "tests/support/hostile_proxy.h"
#include "tests/support/http_client.h"
#include "tests/support/subprocess.h"
#include "tests/support/sync_world.h"

namespace usersync {
namespace {

using testing::Contains;
using testing::Fault;
using testing::HostileProxy;
using testing::Lacks;
using testing::NumberedUsers;
using testing::ProcessResult;
using testing::ScimAccount;
using testing::SyncWorld;
using testing::TargetStats;
using testing::WorldConfig;

constexpr int kExitOk = 0;
constexpr int kExitSomeFailed = 1;
constexpr int kExitUnreachable = 4;
// The issue's bound on usersync's peak RSS. Under AddressSanitizer (usersync is built the same
// way as this test) freed memory waits in ASan's quarantine, 256 MiB by default: the bound
// holds the same program with that on top.
#if defined(__SANITIZE_ADDRESS__)
constexpr int64_t kRssLimitKb = (300 + 256) * 1024;
#else
constexpr int64_t kRssLimitKb = 300 * 1024;
#endif
constexpr int64_t kWatchdogRssKb = 512 * 1024;  // beyond this the child is killed
constexpr char kUsersPath[] = "/scim/v2/Users";
constexpr int kUsers = 5;

HostileProxy::Rule MakeRule(std::string pattern, Fault fault) {
  HostileProxy::Rule rule;
  rule.pattern = std::move(pattern);
  rule.fault = fault;
  return rule;
}

// A rule on the listing (GET /Users?startIndex=...), not on look-ups by filter.
HostileProxy::Rule OnListing(Fault fault, int64_t times = -1) {
  HostileProxy::Rule rule = MakeRule("GET /scim/v2/Users", fault);
  rule.query_contains = "startIndex";
  rule.times = times;
  return rule;
}

HostileProxy::Rule OnCreate(Fault fault) { return MakeRule("POST /scim/v2/Users", fault); }

// What a run under the watchdog ended with.
struct GuardedRun {
  int exit_code = -1;  // -1: killed (time or memory)
  std::string out;
  std::string err;
  int64_t max_rss_kb = 0;
  bool killed_for_memory = false;
};

// The resident set of `pid` now, in KiB (0 when unreadable).
int64_t CurrentRssKb(pid_t pid) {
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) != 0) continue;
    int64_t kb = 0;
    std::string digits;
    for (char c : line) {
      if (c >= '0' && c <= '9') digits.push_back(c);
    }
    return absl::SimpleAtoi(digits, &kb) ? kb : 0;
  }
  return 0;
}

class HostileTest : public ::testing::Test {
 protected:
  // Starts the emulator with `emulator_args`, the proxy in front of it with `rules`, and
  // writes `users` numbered users and a configuration pointing at the proxy.
  void Start(std::vector<HostileProxy::Rule> rules, int users = kUsers,
             std::vector<std::string> emulator_args = {"--no-bulk"}) {
    ASSERT_TRUE(world_.StartTarget(std::move(emulator_args)).ok());
    absl::StatusOr<std::unique_ptr<HostileProxy>> proxy =
        HostileProxy::Start(world_.target().port(), std::move(rules));
    ASSERT_TRUE(proxy.ok()) << proxy.status();
    proxy_ = *std::move(proxy);
    world_.WriteDirectory(NumberedUsers(users));
    WriteProxiedConfig();
  }

  // usersync.toml through the proxy, with `more_target_keys` in [target].
  void WriteProxiedConfig(const std::string& more_target_keys = "") {
    proxied_keys_ = more_target_keys;
    WorldConfig config;
    config.target_url = proxy_->scim_url();
    config.target_keys += more_target_keys;
    world_.WriteConfig(config);
  }

  // A clean first run (straight to the emulator) creates the directory's users; then one
  // more user joins, so a run that accepts a broken listing would write. The proxied
  // configuration is written again (with the same keys) and the counters are the baseline of
  // ExpectNothingWritten.
  void SeedThenAddOne(int users = kUsers) {
    const std::string keys = proxied_keys_;
    WriteDirectConfig();
    ProcessResult seed = world_.Usersync({"sync"}, {}, std::chrono::seconds(60));
    ASSERT_EQ(seed.exit_code, kExitOk) << seed.out << seed.err;
    baseline_ = world_.Stats();
    ASSERT_EQ(baseline_.users, users);
    world_.WriteDirectory(NumberedUsers(users + 1));
    WriteProxiedConfig(keys);
  }

  // usersync.toml straight to the emulator (the proxy is out of the way).
  void WriteDirectConfig() { world_.WriteConfig(WorldConfig()); }

  // `usersync sync` (or ARGS) with a watchdog: killed after `timeout` or past 512 MiB RSS.
  GuardedRun RunGuarded(std::vector<std::string> args = {"sync"},
                        std::chrono::seconds timeout = std::chrono::seconds(60)) {
    GuardedRun run;
    testing::ChildProcess child;
    absl::Status started = world_.StartUsersync(child, std::move(args));
    EXPECT_TRUE(started.ok()) << started;
    if (!started.ok()) return run;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      // Drain stdout so that a chatty child never blocks on a full pipe.
      while (true) {
        absl::StatusOr<std::string> line = child.ReadStdoutLine(std::chrono::milliseconds(1));
        if (!line.ok()) break;
        absl::StrAppend(&run.out, *line, "\n");
      }
      absl::StatusOr<int> code = child.WaitFor(std::chrono::milliseconds(20));
      if (code.ok()) {
        run.exit_code = *code;
        break;
      }
      if (CurrentRssKb(child.pid()) > kWatchdogRssKb) {
        run.killed_for_memory = true;
        child.Signal(SIGKILL);
      } else if (std::chrono::steady_clock::now() > deadline) {
        child.Signal(SIGKILL);
      }
    }
    if (run.killed_for_memory || run.exit_code == 128 + SIGKILL) run.exit_code = -1;
    while (true) {
      absl::StatusOr<std::string> line = child.ReadStdoutLine(std::chrono::milliseconds(100));
      if (!line.ok()) break;
      absl::StrAppend(&run.out, *line, "\n");
    }
    run.err = child.stderr_output();
    run.max_rss_kb = child.max_rss_kb();
    return run;
  }

  // The run refused the answer before anything was written (since the baseline).
  void ExpectNothingWritten() {
    const TargetStats stats = world_.Stats();
    EXPECT_EQ(stats.writes(), baseline_.writes())
        << "creates " << stats.creates << ", updates " << stats.updates << "\n"
        << proxy_->Describe();
    EXPECT_EQ(stats.users, baseline_.users);
    EXPECT_EQ(proxy_->Count("POST", "/scim/v2/*"), 0) << proxy_->Describe();
    EXPECT_EQ(proxy_->Count("PATCH", "/scim/v2/*"), 0) << proxy_->Describe();
    EXPECT_EQ(proxy_->Count("PUT", "/scim/v2/*"), 0) << proxy_->Describe();
  }

  // Exactly one active account per directory user (user1..userN), and no other.
  void ExpectOneAccountPerUser(int users = kUsers) {
    const TargetStats stats = world_.Stats();
    EXPECT_EQ(stats.users, users) << proxy_->Describe();
    std::map<std::string, ScimAccount> accounts = world_.ScimAccounts();
    EXPECT_EQ(accounts.size(), static_cast<size_t>(users));
    for (int index = 1; index <= users; ++index) {
      const std::string name = absl::StrCat("user", index, "@example.com");
      EXPECT_TRUE(accounts.contains(name)) << name << " is missing";
    }
  }

  // Runs a sync whose listing gets `fault`: exit 4 and nothing written.
  void ExpectBrokenListingRefused(Fault fault) {
    ASSERT_NO_FATAL_FAILURE(Start({OnListing(fault)}));
    ASSERT_NO_FATAL_FAILURE(SeedThenAddOne());
    ProcessResult run = world_.Usersync({"sync"}, {}, std::chrono::seconds(60));
    EXPECT_EQ(run.exit_code, kExitUnreachable) << run.out << run.err;
    EXPECT_GT(proxy_->applied(0), 0);
    ExpectNothingWritten();
  }

  // Runs a sync whose creates (stored by the target) get `fault` as their answer: the failure
  // is recorded (exit 1 or 4, errors.log), and a clean second run converges with exactly one
  // account per user and no create sent for a stored user.
  void ExpectBrokenCreateAnswerConverges(Fault fault) {
    ASSERT_NO_FATAL_FAILURE(Start({OnCreate(fault)}));
    ProcessResult run = world_.Usersync({"sync"}, {}, std::chrono::seconds(60));
    EXPECT_TRUE(run.exit_code == kExitSomeFailed || run.exit_code == kExitUnreachable)
        << run.exit_code << "\n"
        << run.out << run.err;
    EXPECT_GT(proxy_->applied(0), 0);
    EXPECT_TRUE(Contains(world_.ReadFile("logs/errors.log"), "user"));

    WriteDirectConfig();
    ProcessResult clean = world_.Usersync({"sync"}, {}, std::chrono::seconds(60));
    EXPECT_EQ(clean.exit_code, kExitOk) << clean.out << clean.err;
    ExpectOneAccountPerUser();
    EXPECT_EQ(world_.Stats().create_conflicts, 0) << "a create was sent for a stored user";
  }

  // A listing answered with `fault` (an oversized body) under the proxied [target] `keys`, after a
  // clean seeding run: exit 4, nothing written, the peak RSS under the bound (recorded).
  void ExpectListingRefusedWithBoundedMemory(Fault fault, const std::string& keys) {
    ASSERT_NO_FATAL_FAILURE(Start({OnListing(fault)}));
    WriteProxiedConfig(keys);
    ASSERT_NO_FATAL_FAILURE(SeedThenAddOne());
    GuardedRun run = RunGuarded();
    EXPECT_FALSE(run.killed_for_memory);
    EXPECT_EQ(run.exit_code, kExitUnreachable) << run.out << run.err;
    EXPECT_LT(run.max_rss_kb, kRssLimitKb);
    EXPECT_GT(proxy_->applied(0), 0);
    ExpectNothingWritten();
    RecordProperty("peak_rss_kb", std::to_string(run.max_rss_kb));
  }

  // Every file under the world's dir, as one string per file (name, then bytes).
  std::vector<std::pair<std::string, std::string>> WorldFiles() const {
    std::vector<std::pair<std::string, std::string>> files;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(world_.dir())) {
      if (!entry.is_regular_file()) continue;
      std::ifstream in(entry.path(), std::ios::binary);
      files.emplace_back(entry.path().string(), std::string(std::istreambuf_iterator<char>(in),
                                                            std::istreambuf_iterator<char>()));
    }
    return files;
  }

  SyncWorld world_{"hostile"};
  std::unique_ptr<HostileProxy> proxy_;
  std::string proxied_keys_;  // the [target] keys of the last proxied configuration
  TargetStats baseline_;      // zeros unless SeedThenAddOne ran
};

// "(N requests" of the Result line: every request the run sent; -1 when absent.
int64_t ReportedRequests(const std::string& out) {
  std::smatch match;
  if (!std::regex_search(out, match, std::regex("\\(([0-9]+) requests"))) return -1;
  int64_t count = -1;
  return absl::SimpleAtoi(match[1].str(), &count) ? count : -1;
}

// ---- Bounded resources ------------------------------------------------------------------

// totalResults 1e12 with one user per page: a clear error, exit 4, no write, bounded memory.
TEST_F(HostileTest, ListingLieExits4WithBoundedMemory) {
  ASSERT_NO_FATAL_FAILURE(Start({OnListing(Fault::kPagingLie)}, 10));
  ASSERT_NO_FATAL_FAILURE(SeedThenAddOne(10));
  GuardedRun run = RunGuarded();
  EXPECT_FALSE(run.killed_for_memory) << "over 512 MiB; " << proxy_->matched(0) << " pages asked";
  EXPECT_EQ(run.exit_code, kExitUnreachable) << run.out << run.err;
  EXPECT_LT(run.max_rss_kb, kRssLimitKb);
  EXPECT_GT(proxy_->applied(0), 0);
  ExpectNothingWritten();
  RecordProperty("peak_rss_kb", std::to_string(run.max_rss_kb));
}

// A 200 streaming spaces forever: the body bound (max_response_bytes) ends it, exit 4.
TEST_F(HostileTest, EndlessBodyExits4WithBoundedMemory) {
  // The default target.max_response_bytes (64 MiB): the bound a real run has.
  ExpectListingRefusedWithBoundedMemory(Fault::kEndlessBody,
                                        "timeout = \"30s\"\nmax_retries = 1\n");
}

// Content-Length: 2147483648 announced: refused, exit 4.
TEST_F(HostileTest, HugeContentLengthExits4) {
  ExpectListingRefusedWithBoundedMemory(
      Fault::kHugeBody, "timeout = \"5s\"\nmax_retries = 1\nmax_response_bytes = 1048576\n");
}

// ---- Broken answers ---------------------------------------------------------------------

// Random bytes with 200 and application/scim+json as the listing.
TEST_F(HostileTest, GarbageListingExits4) { ExpectBrokenListingRefused(Fault::kGarbageBody); }

// The real listing cut in half (Content-Length matching the cut).
TEST_F(HostileTest, TruncatedListingExits4) { ExpectBrokenListingRefused(Fault::kTruncatedJson); }

// A SCIM Error ("status": "500") inside a 200 as the listing.
TEST_F(HostileTest, ErrorInside200ListingExits4) { ExpectBrokenListingRefused(Fault::kErrorIn200); }

// HTTP 500 on every listing page: the target could not be read, exit 4 (was 1, "some
// operations failed", though none was attempted).
TEST_F(HostileTest, ServerErrorListingExits4) { ExpectBrokenListingRefused(Fault::kServerError); }

TEST_F(HostileTest, GarbageCreateAnswerThenCleanRunConverges) {
  ExpectBrokenCreateAnswerConverges(Fault::kGarbageBody);
}

TEST_F(HostileTest, TruncatedCreateAnswerThenCleanRunConverges) {
  ExpectBrokenCreateAnswerConverges(Fault::kTruncatedJson);
}

// A SCIM Error inside a 200 to an update: that operation failed (exit 1) and the target is
// unchanged; the next clean run applies it.
TEST_F(HostileTest, ErrorInside200OnUpdateFailsThatOperation) {
  ASSERT_NO_FATAL_FAILURE(Start({MakeRule("PATCH /scim/v2/Users/*", Fault::kErrorIn200),
                                 MakeRule("PUT /scim/v2/Users/*", Fault::kErrorIn200)}));
  WriteDirectConfig();
  ProcessResult first = world_.Usersync({"sync"}, {}, std::chrono::seconds(60));
  ASSERT_EQ(first.exit_code, kExitOk) << first.out << first.err;
  std::vector<testing::DirectoryUser> users = NumberedUsers(kUsers);
  users[1].sn = "Renamed";  // user2
  world_.WriteDirectory(users);

  WriteProxiedConfig();
  ProcessResult hostile = world_.Usersync({"sync"}, {}, std::chrono::seconds(60));
  EXPECT_EQ(hostile.exit_code, kExitSomeFailed) << hostile.out << hostile.err;
  EXPECT_EQ(proxy_->applied(0) + proxy_->applied(1), 1) << proxy_->Describe();
  EXPECT_EQ(world_.ScimAccounts()["user2@example.com"].family_name, "Sn2");

  WriteDirectConfig();
  ProcessResult clean = world_.Usersync({"sync"}, {}, std::chrono::seconds(60));
  EXPECT_EQ(clean.exit_code, kExitOk) << clean.out << clean.err;
  EXPECT_EQ(world_.ScimAccounts()["user2@example.com"].family_name, "Renamed");
  ExpectOneAccountPerUser();
}

// ---- Paging semantics -------------------------------------------------------------------

// The first page whatever startIndex is asked (two users a page): exit 4, nothing written.
TEST_F(HostileTest, RepeatedPageExits4) {
  ASSERT_NO_FATAL_FAILURE(Start({OnListing(Fault::kRepeatedPage)}, 10));
  ASSERT_NO_FATAL_FAILURE(SeedThenAddOne(10));
  GuardedRun run = RunGuarded();
  EXPECT_EQ(run.exit_code, kExitUnreachable) << run.out << run.err;
  EXPECT_GT(proxy_->applied(0), 0);
  ExpectNothingWritten();
}

// A listing page holding its first resource twice: exit 4, nothing written.
TEST_F(HostileTest, DuplicateIdsInListingExit4) {
  ASSERT_NO_FATAL_FAILURE(Start({OnListing(Fault::kDuplicateIds)}));
  ASSERT_NO_FATAL_FAILURE(SeedThenAddOne());  // the duplicate is one of the seeded users
  ProcessResult run = world_.Usersync({"sync"}, {}, std::chrono::seconds(60));
  EXPECT_EQ(run.exit_code, kExitUnreachable) << run.out << run.err;
  EXPECT_GT(proxy_->applied(0), 0);
  ExpectNothingWritten();
}

// ---- No duplicate from a resend ---------------------------------------------------------

// The target stores each create, then resets the kept-alive connection without answering:
// on a target that accepts duplicate userNames, exactly one account per user, now and after
// a second run; the run's report counts the requests that really reached the server (the
// look-up after each reset included, no hidden resend), and the audit the sends of each create.
TEST_F(HostileTest, ResetAfterStoringLeavesExactlyOneAccount) {
  ASSERT_NO_FATAL_FAILURE(Start({OnCreate(Fault::kResetAfterStore)}, kUsers,
                                {"--no-bulk", "--allow-duplicate-user-names"}));
  WriteProxiedConfig("concurrency = 1\n");  // one connection, reused for every request
  ProcessResult run = world_.Usersync({"sync"}, {}, std::chrono::seconds(60));
  EXPECT_EQ(run.exit_code, kExitOk) << run.out << run.err;
  EXPECT_GT(proxy_->applied(0), 0) << proxy_->Describe();
  for (int index = 1; index <= kUsers; ++index) {
    const std::string name = absl::StrCat("\"user", index, "@example.com\"");
    EXPECT_EQ(proxy_->Count("POST", kUsersPath, /*forwarded_only=*/true, name), 1)
        << name << " reached the target more than once:\n"
        << proxy_->Describe();
  }
  EXPECT_EQ(world_.Stats().creates, kUsers);
  int64_t apply_requests = 0;  // the Result line counts the apply: all but the listing pages
  for (const HostileProxy::Seen& seen : proxy_->requests()) {
    apply_requests += seen.target.find("startIndex=") == std::string::npos;
  }
  EXPECT_EQ(ReportedRequests(run.out), apply_requests) << run.out << proxy_->Describe();
  // A reset create: its POST and the look-up that found the stored account.
  EXPECT_TRUE(Contains(world_.ReadFile("logs/audit.jsonl"),
                       "\"outcome\":\"done\",\"http_status\":200,\"attempts\":2"));

  WriteDirectConfig();
  ProcessResult second = world_.Usersync({"sync"}, {}, std::chrono::seconds(60));
  EXPECT_EQ(second.exit_code, kExitOk) << second.out << second.err;
  EXPECT_EQ(world_.Stats().creates, kUsers);
  ExpectOneAccountPerUser();
}

// ---- Secrets ----------------------------------------------------------------------------

// A 400 that repeats the Authorization header, to every create and then to the listing of a
// plan: the token is nowhere (output, logs, state store, plan file).
TEST_F(HostileTest, EchoedAuthorizationIsNeverWritten) {
  ASSERT_NO_FATAL_FAILURE(Start({OnCreate(Fault::kEchoAuthorization)}));
  const std::string token = world_.token();
  ProcessResult sync = world_.Usersync({"sync"}, {}, std::chrono::seconds(60));
  EXPECT_EQ(sync.exit_code, kExitSomeFailed) << sync.out << sync.err;
  EXPECT_GT(proxy_->applied(0), 0);
  EXPECT_TRUE(Lacks(sync.out, token));
  EXPECT_TRUE(Lacks(sync.err, token));

  proxy_->SetRules({OnListing(Fault::kEchoAuthorization)});
  ProcessResult plan =
      world_.Usersync({"plan", "--out", world_.Path("plan.json")}, {}, std::chrono::seconds(60));
  EXPECT_NE(plan.exit_code, kExitOk) << plan.out << plan.err;
  EXPECT_GT(proxy_->applied(0), 0);
  EXPECT_TRUE(Lacks(plan.out, token));
  EXPECT_TRUE(Lacks(plan.err, token));

  bool saw_errors_log = false;
  for (const auto& [path, bytes] : WorldFiles()) {
    SCOPED_TRACE(path);
    saw_errors_log |= path.ends_with("errors.log") && !bytes.empty();
    EXPECT_TRUE(Lacks(bytes, token));
  }
  EXPECT_TRUE(saw_errors_log) << "the failed creates were not logged";
}

// ---- Time -------------------------------------------------------------------------------

// A target that accepts the listing request and never answers: with a 2 s timeout and one
// retry, exit 4 well before the test's own limit.
TEST_F(HostileTest, HangingTargetExits4InBoundedTime) {
  ASSERT_NO_FATAL_FAILURE(Start({OnListing(Fault::kHang)}));
  WriteProxiedConfig("timeout = \"2s\"\nmax_retries = 1\n");
  ASSERT_NO_FATAL_FAILURE(SeedThenAddOne());
  ProcessResult run = world_.Usersync({"sync"}, {}, std::chrono::seconds(60));
  EXPECT_EQ(run.exit_code, kExitUnreachable) << "(-1: killed after 60 s)\n" << run.out << run.err;
  EXPECT_GT(proxy_->applied(0), 0);
  ExpectNothingWritten();
}

// 429 with Retry-After: 999999 twice, capped by max_retry_after = 1s: the run completes.
TEST_F(HostileTest, HugeRetryAfterIsCapped) {
  ASSERT_NO_FATAL_FAILURE(Start({OnListing(Fault::kRetryAfterHuge, /*times=*/2)}));
  WriteProxiedConfig("max_retry_after = \"1s\"\n");
  ProcessResult run = world_.Usersync({"sync"}, {}, std::chrono::seconds(60));
  EXPECT_EQ(run.exit_code, kExitOk) << "(-1: killed after 60 s)\n" << run.out << run.err;
  EXPECT_EQ(proxy_->applied(0), 2);
  ExpectOneAccountPerUser();
}

// 429 with Retry-After: 0, three times: retried at once, the run completes.
TEST_F(HostileTest, ZeroRetryAfterCompletes) {
  ASSERT_NO_FATAL_FAILURE(Start({OnListing(Fault::kRetryAfterZero, /*times=*/3)}));
  ProcessResult run = world_.Usersync({"sync"}, {}, std::chrono::seconds(60));
  EXPECT_EQ(run.exit_code, kExitOk) << run.out << run.err;
  EXPECT_EQ(proxy_->applied(0), 3);
  ExpectOneAccountPerUser();
}

// The emulator's --allow-duplicate-user-names: a second create of a taken userName stores a
// second account (201), and a look-up by userName finds both; without it, 409.
TEST(HostileEmulator, AllowDuplicateUserNamesStoresASecondAccount) {
  const std::string body =
      R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ann@example.com",)"
      R"("name":{"givenName":"Ann","familyName":"Lee"},"active":true})";
  for (bool allow : {false, true}) {
    SCOPED_TRACE(allow ? "allowed" : "refused");
    std::vector<std::string> args;
    if (allow) args.push_back("--allow-duplicate-user-names");
    absl::StatusOr<std::unique_ptr<testing::EmulatorProcess>> emulator =
        testing::EmulatorProcess::Start(args);
    ASSERT_TRUE(emulator.ok()) << emulator.status();
    const std::string users = (*emulator)->scim_url() + "/Users";
    const std::string& token = (*emulator)->token();
    EXPECT_EQ(testing::HttpPost(users, token, body).status, 201);
    testing::HttpResult second = testing::HttpPost(users, token, body);
    EXPECT_EQ(second.status, allow ? 201 : 409) << second.body;
    testing::HttpResult found = testing::HttpGet(
        users + "?filter=" + testing::UrlEncode(R"(userName eq "ANN@example.com")"), token);
    EXPECT_TRUE(Contains(found.body, allow ? "\"totalResults\":2" : "\"totalResults\":1"));
  }
}

}  // namespace
}  // namespace usersync
