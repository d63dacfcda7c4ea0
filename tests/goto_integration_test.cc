// End-to-end for issue 5's target side: the real `usersync` binary against the real
// `usersync-target` over loopback HTTP, on the GoTo face (batch creates with a 409 in the
// middle, seats running out, suspension, a 429 storm without Retry-After) and on the SCIM face
// (/Bulk creates when the ServiceProviderConfig offers them, single POSTs with --no-bulk).
// Each test gets its own emulator (port 0), temp dir, state and logs.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "io/state/state_store.h"
#include "tests/support/emulator_process.h"
#include "tests/support/http_client.h"
#include "tests/support/plan_json.h"
#include "tests/support/subprocess.h"
#include "tests/support/sync_world.h"

namespace usersync {
namespace {

using testing::DirectoryUser;
using testing::EmulatorProcess;
using testing::HttpGet;
using testing::kStaffGroup;
using testing::ProcessResult;
using testing::RuleToml;
using testing::StaffDirectory;
using testing::SyncWorld;
using testing::TargetStats;
using testing::WorldConfig;

struct GotoUser {
  std::string key;
  std::string email;
  std::string external_id;
  std::string status;
  std::vector<std::string> products;
  std::vector<std::string> license_keys;  // as the JSON number text the face wrote
};

std::string GotoBase(const EmulatorProcess& target) {
  return target.base_url() + "/admin/rest/v1/accounts/demo";
}

// Every user of the GoTo face, by email. Fails the test on a duplicate email.
std::map<std::string, GotoUser> ListGotoUsers(const EmulatorProcess& target) {
  std::map<std::string, GotoUser> out;
  simdjson::ondemand::parser parser;
  for (int offset = 0;; offset += 1000) {
    testing::HttpResult page = HttpGet(
        GotoBase(target) + "/users?pageSize=1000&offset=" + std::to_string(offset), target.token());
    EXPECT_EQ(page.status, 200) << page.body;
    if (page.status != 200) return out;
    simdjson::padded_string json(page.body);
    simdjson::ondemand::document doc = parser.iterate(json);
    size_t seen = 0;
    int64_t total = 0;
    for (auto field : doc.get_object()) {
      std::string_view key = field.unescaped_key().value();
      if (key == "total") total = field.value().get_int64().value();
      if (key != "results") continue;
      for (auto item : field.value().get_array()) {
        GotoUser user;
        for (auto f : item.get_object()) {
          std::string_view name = f.unescaped_key().value();
          simdjson::ondemand::value v = f.value();
          if (v.is_null()) continue;
          if (name == "key") {  // a number of any length (GoTo's shape) or a string
            user.key = v.type().value() == simdjson::ondemand::json_type::number
                           ? std::string(v.raw_json_token())
                           : std::string(v.get_string().value());
          }
          if (name == "email") user.email = std::string(v.get_string().value());
          if (name == "externalId") user.external_id = std::string(v.get_string().value());
          if (name == "status") user.status = std::string(v.get_string().value());
          if (name == "products") {
            for (auto p : v.get_array()) user.products.emplace_back(p.get_string().value());
          }
          if (name == "licenseKeys") {
            for (auto k : v.get_array()) user.license_keys.emplace_back(k.raw_json_token().value());
          }
        }
        EXPECT_FALSE(out.contains(user.email)) << "two accounts for " << user.email;
        out[user.email] = user;
        ++seen;
      }
    }
    if (seen == 0 || offset + 1000 >= total) break;
  }
  return out;
}

// user1..userN with sn Sn-UID, all in scope.
std::vector<DirectoryUser> Users(int count) {
  std::vector<DirectoryUser> users;
  for (int i = 1; i <= count; ++i) {
    const std::string uid = "user" + std::to_string(i);
    users.push_back({uid, "Sn-" + uid});
  }
  return users;
}

// The users with mail UID@example.com.
std::string Ldif(const std::vector<DirectoryUser>& users) {
  StaffDirectory directory(users);
  directory.mail_domain = "example.com";
  return directory.Ldif();
}

// "…achieved 19.8 requests/s (19.2/s not throttled; …" → {19.8, 19.2}; {-1, -1} if absent.
std::pair<double, double> AchievedRates(const std::string& output) {
  std::smatch match;
  static const std::regex kRates(R"(achieved ([0-9.]+) requests/s \(([0-9.]+)/s not throttled)");
  if (!std::regex_search(output, match, kRates)) return {-1, -1};
  return {std::stod(match[1]), std::stod(match[2])};
}

class GotoIntegrationTest : public ::testing::Test {
 protected:
  // `face`: "goto" or "scim". `target_keys` and `extra` are appended to [target] and after the
  // rule (e.g. a [matching] section).
  void WriteConfig(const std::string& face, const std::string& target_keys,
                   const std::string& products = "\"G2M\"", const std::string& extra = "") {
    WorldConfig config;
    config.target_kind = face;
    config.target_keys = target_keys;
    config.rules = RuleToml("Staff", 1, kStaffGroup, products,
                            "language = \"de_DE\"\nwelcome_template = \"staff-welcome\"\n");
    config.extra = extra;
    world_.WriteConfig(config);
  }

  // 30 users synced over the SCIM face, in batches of 10, by an emulator started with
  // `target_args`: the emulator's counters after the run (which must exit 0).
  TargetStats SyncThirtyUsersOverScim(std::vector<std::string> target_args) {
    EXPECT_TRUE(world_.StartTarget(std::move(target_args)).ok());
    if (!world_.has_target()) return TargetStats();
    world_.WriteLdif(Ldif(Users(30)));
    WriteConfig("scim", "rate = 1000\nburst = 100\nbatch = 10\n");
    ProcessResult run = world_.Usersync({"sync"});
    EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
    return world_.Stats();
  }

  std::string ReadLogs(const std::string& name) const { return world_.ReadFile("logs/" + name); }

  SyncWorld world_{"goto"};
};

// A batch of 10 creates with a taken email in the middle (an account someone else holds,
// not matched because matching goes by stored link only): the other 9 are created in one batch
// request, nobody twice, and the conflict is reported with the holder. Welcome emails carry the
// rule's template and language.
TEST_F(GotoIntegrationTest, BatchCreateWithAConflictInTheMiddle) {
  world_.WriteFile("seed.jsonl",
                   R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],)"
                   R"("userName":"user6@example.com","externalId":"someone-else",)"
                   R"("name":{"givenName":"Other","familyName":"Person"},)"
                   R"("emails":[{"value":"user6@example.com","primary":true}],"active":true})"
                   "\n");
  // Each answer comes 100 ms late, so the creates queued behind the first batch (a batch of 1
  // or a few: the queue sends as soon as it is idle) gather while it is in flight, however
  // loaded the machine is; without the delay a slow executor could send each user alone.
  ASSERT_TRUE(
      world_.StartTarget({"--seed-accounts", world_.Path("seed.jsonl"), "--latency-ms", "100"})
          .ok());
  world_.WriteLdif(Ldif(Users(10)));
  WriteConfig("goto", "rate = 1000\nburst = 100\nbatch = 100\n", "\"G2M\"",
              "[matching]\norder = [\"link\"]\n");

  ProcessResult run = world_.Usersync({"sync"});
  EXPECT_EQ(run.exit_code, 1) << run.out << run.err;  // one operation failed: the conflict
  EXPECT_NE(run.out.find("Batches: "), std::string::npos) << run.out;

  std::map<std::string, GotoUser> users = ListGotoUsers(world_.target());
  ASSERT_EQ(users.size(), 10u);
  EXPECT_EQ(users["user6@example.com"].external_id, "someone-else");  // untouched
  for (int i = 1; i <= 10; ++i) {
    if (i == 6) continue;
    const GotoUser& user = users["user" + std::to_string(i) + "@example.com"];
    EXPECT_EQ(user.external_id, "uuid-user" + std::to_string(i));
    EXPECT_EQ(user.status, "ACTIVE");
  }
  const TargetStats stats = world_.Stats();
  EXPECT_EQ(stats.creates, 9);
  EXPECT_EQ(stats.create_conflicts, 1);
  // Batched: fewer requests than users (how the 10 split into batches depends on timing).
  EXPECT_LT(stats.batch_creates, 10);

  const std::string errors = ReadLogs("errors.log");
  EXPECT_NE(errors.find("user6@example.com"), std::string::npos) << errors;
  EXPECT_NE(errors.find("someone-else"), std::string::npos) << errors;

  testing::HttpResult outbox =
      HttpGet(world_.target().base_url() + "/_emulator/outbox", world_.token());
  ASSERT_EQ(outbox.status, 200);
  EXPECT_NE(outbox.body.find(R"("template":"staff-welcome")"), std::string::npos) << outbox.body;
  EXPECT_NE(outbox.body.find(R"("language":"de_DE")"), std::string::npos) << outbox.body;

  // The next run plans nothing new for the 9 and reports user6 again (still taken).
  ProcessResult again = world_.Usersync({"plan", "--format", "json"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find(R"("new":1)"), std::string::npos) << again.out;
}

// GoTo's documented create answer (the emulator's default: {key, email} only, created and
// existing users alike): after the listing showed their emails free, 300 creates cost batch
// POSTs only, with no GET of a single user and no look-up by email, and each user is sent
// once. How the 300 split into batches of 100 depends on timing (io/batch_queue.h: a partial
// batch goes out whenever no batch is pending, so the first and the last may be partial), so
// the POSTs are bounded, not counted exactly. A second plan creates nothing.
TEST_F(GotoIntegrationTest, DocumentedAnswerCreatesWithoutLookingUsersUp) {
  // Answers 100 ms late, so the creates gather while a batch is in flight.
  ASSERT_TRUE(world_.StartTarget({"--latency-ms", "100"}).ok());
  world_.WriteLdif(Ldif(Users(300)));
  WriteConfig("goto", "rate = 1000\nburst = 100\nbatch = 100\n");

  ProcessResult run = world_.Usersync({"sync"});
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  const TargetStats stats = world_.Stats();
  EXPECT_EQ(stats.creates, 300);
  EXPECT_EQ(stats.batch_members, 300);  // nobody sent twice
  EXPECT_EQ(stats.user_reads, 0);
  EXPECT_EQ(stats.user_filters, 0);
  EXPECT_GE(stats.batch_creates, 3);
  EXPECT_LE(stats.batch_creates, 5) << "3 full batches plus a partial first and last at most";
  const std::map<std::string, GotoUser> users = ListGotoUsers(world_.target());
  ASSERT_EQ(users.size(), 300u);
  EXPECT_EQ(users.at("user300@example.com").external_id, "uuid-user300");

  ProcessResult again = world_.Usersync({"plan", "--format", "json"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find(R"("new":0)"), std::string::npos) << again.out;
}

// Seats running out: 6 users need G2W, the account has 4 seats and one is taken. The plan
// reports the 3 that do not fit as invalid "no seat for G2W" before anything is sent; the 3
// creates within the seats succeed; exit 0.
TEST_F(GotoIntegrationTest, SeatsRunningOutAreReportedBeforeApplying) {
  world_.WriteFile("seed.jsonl", R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],)"
                                 R"("userName":"boss@other.org","externalId":"boss",)"
                                 R"("name":{"givenName":"Big","familyName":"Boss"},"active":true,)"
                                 R"("entitlements":[{"value":"G2W"}]})"
                                 "\n");
  ASSERT_TRUE(
      world_.StartTarget({"--seats", "G2W=4", "--seed-accounts", world_.Path("seed.jsonl")}).ok());
  world_.WriteLdif(Ldif(Users(6)));
  WriteConfig("goto", "rate = 1000\nburst = 100\n", "\"G2W\"");

  ProcessResult plan = world_.Usersync({"plan", "--format", "json"});
  ASSERT_EQ(plan.exit_code, 0) << plan.err;
  const testing::PlanJson plan_json = testing::ParsePlanJson(plan.out);
  int creates = 0;
  int no_seat = 0;
  for (const testing::PlannedOperation& op : plan_json.operations) creates += op.op == "create";
  for (const testing::InvalidUser& user : plan_json.invalid) {
    no_seat += user.reason.find("no seat for G2W") != std::string::npos;
  }
  EXPECT_EQ(creates, 3);
  EXPECT_EQ(no_seat, 3);

  ProcessResult run = world_.Usersync({"sync"});
  EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_NE(run.out.find("no seat for G2W"), std::string::npos) << run.out;
  std::map<std::string, GotoUser> users = ListGotoUsers(world_.target());
  EXPECT_EQ(users.size(), 4u);  // the seed + 3
  const TargetStats stats = world_.Stats();
  EXPECT_EQ(stats.creates, 3);
  EXPECT_EQ(stats.seat_denials, 0);  // nothing was sent beyond the seats
}

// A user leaving the scope is suspended at GoTo, not deleted.
TEST_F(GotoIntegrationTest, LeavingTheScopeSuspends) {
  ASSERT_TRUE(world_.StartTarget().ok());
  std::vector<DirectoryUser> users = Users(5);
  world_.WriteLdif(Ldif(users));
  WriteConfig("goto", "rate = 1000\nburst = 100\n");
  ProcessResult first = world_.Usersync({"sync"});
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  ASSERT_EQ(ListGotoUsers(world_.target()).size(), 5u);

  users[2].in_scope = false;
  world_.WriteLdif(Ldif(users));
  ProcessResult second = world_.Usersync({"sync"});
  ASSERT_EQ(second.exit_code, 0) << second.out << second.err;
  std::map<std::string, GotoUser> after = ListGotoUsers(world_.target());
  ASSERT_EQ(after.size(), 5u);  // nobody deleted
  EXPECT_EQ(after["user3@example.com"].status, "SUSPENDED");
  for (const char* email :
       {"user1@example.com", "user2@example.com", "user4@example.com", "user5@example.com"}) {
    EXPECT_EQ(after[email].status, "ACTIVE") << email;
  }
  const TargetStats stats = world_.Stats();
  EXPECT_EQ(stats.suspensions, 1);
  EXPECT_EQ(stats.deletes, 0);

  // In step now: a third run changes nothing.
  ProcessResult third = world_.Usersync({"sync"});
  ASSERT_EQ(third.exit_code, 0) << third.out << third.err;
  EXPECT_NE(third.out.find("Result: nothing to do."), std::string::npos) << third.out;
}

// A 429 storm without Retry-After: the emulator admits 20 requests/s, usersync is configured
// for 40 with adaptive = true. Every operation ends done; the rate the emulator measured of
// what it admitted stays within its limit and near it; and the rate usersync reports (requests
// not answered 429, over the apply's duration) is within 10% of the emulator's limit.
// The apply runs for 13 s so that the emulator's start-up burst (20 requests) and the first
// AIMD cuts weigh little (the burst adds 1.5/s to the average).
TEST_F(GotoIntegrationTest, ThrottleStormEndsDoneAtTheEmulatorsRate) {
  constexpr int kUsers = 260;  // batch = 1: one request per create, 13 s at 20/s
  constexpr double kLimit = 20;
  ASSERT_TRUE(world_.StartTarget({"--rate", "20"}).ok());
  world_.WriteLdif(Ldif(Users(kUsers)));
  WriteConfig("goto",
              "rate = 40\nburst = 10\nadaptive = true\nbatch = 1\nconcurrency = 8\n"
              "max_retries = 10\n");
  ProcessResult run = world_.Usersync({"sync"});
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  // Read before listing the users: the listing would be measured too.
  const TargetStats stats = world_.Stats();
  EXPECT_EQ(ListGotoUsers(world_.target()).size(), static_cast<size_t>(kUsers));
  EXPECT_EQ(stats.creates, kUsers);
  EXPECT_GT(stats.throttled, 0) << "no storm: the test proves nothing";

  // What the emulator measured, by its own clock: never above its limit (20/s, burst 20),
  // and, saturated by the client for 13 s, near it (at most 20 + 19/13 by the limit itself;
  // the 0.75 floor leaves room for the AIMD cuts on a loaded machine).
  EXPECT_TRUE(stats.AdmittedWithin(kLimit, kLimit));
  EXPECT_GE(stats.measured_rate, kLimit * 0.75) << stats.AdmittedWithin(kLimit, kLimit).message();

  // What usersync reports about itself agrees.
  const auto [sent_rps, accepted_rps] = AchievedRates(run.out);
  ASSERT_GT(accepted_rps, 0) << run.out;
  EXPECT_NEAR(accepted_rps, kLimit, kLimit * 0.10) << run.out;
  EXPECT_LE(sent_rps, 40 * 1.10) << run.out;  // never above target.rate (+ the burst)
}

// SCIM: creates travel in /Bulk requests when the ServiceProviderConfig offers them (fewer
// requests than users), and one POST each with --no-bulk.
TEST_F(GotoIntegrationTest, ScimBulkCreatesWhenOffered) {
  // Answers 100 ms late, so the creates queued behind the first bulk gather while it is in
  // flight however loaded the machine is: the bounds on bulk_requests below are the only
  // timing-dependent assertions here, and a full parallel test run failed this test once
  // without the delay (its output was not kept).
  const TargetStats stats = SyncThirtyUsersOverScim({"--latency-ms", "100"});
  EXPECT_EQ(stats.creates, 30);
  // Batch composition depends on timing (a partial bulk leaves when none is pending), so
  // only the order of magnitude is asserted: at least 2 users per request on average.
  EXPECT_GE(stats.bulk_requests, 3);
  EXPECT_LE(stats.bulk_requests, 15);
  EXPECT_EQ(stats.bulk_operations, 30);
  EXPECT_LT(stats.requests, 30);  // fewer requests than users, listing included
}

TEST_F(GotoIntegrationTest, ScimWithoutBulkPostsEachUser) {
  const TargetStats stats = SyncThirtyUsersOverScim({"--no-bulk"});
  EXPECT_EQ(stats.creates, 30);
  EXPECT_EQ(stats.bulk_requests, 0);
  // GET /ServiceProviderConfig, one listing page (no account yet), then one POST per user.
  EXPECT_EQ(stats.requests, 32);
}

}  // namespace
}  // namespace usersync

namespace usersync {
namespace {

// A seed file line: user1@example.com (externalId uuid-user1, named "Old Name") with the id
// `key`, which the GoTo face shows as its key.
std::string SeedUser1WithKey(const std::string& key) {
  return absl::StrCat(R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],)", R"("id":")",
                      key, R"(","userName":"user1@example.com",)",
                      R"("externalId":"uuid-user1","name":{"givenName":"Old",)",
                      R"("familyName":"Name"},"emails":[{"value":"user1@example.com",)",
                      R"("primary":true}],"active":true})", "\n");
}

// Issue 13 item 5: a GoTo key of 26 digits (the documented example, beyond 64 bits) travels
// as a JSON number from the face, and is kept to the digit by the listing, the plan, the
// update sent by key and the state store's link.
TEST_F(GotoIntegrationTest, A26DigitKeyRoundTripsThroughPlanApplyAndState) {
  constexpr char kKey[] = "78888886011013972886849029";
  world_.WriteFile("seed.jsonl", SeedUser1WithKey(kKey));
  ASSERT_TRUE(world_.StartTarget({"--seed-accounts", world_.Path("seed.jsonl")}).ok());
  testing::HttpResult listed = HttpGet(GotoBase(world_.target()) + "/users", world_.token());
  EXPECT_NE(listed.body.find(absl::StrCat(R"("key":)", kKey, ",")), std::string::npos)
      << listed.body;  // a bare number, not a string
  world_.WriteLdif(Ldif(Users(1)));
  WriteConfig("goto", "rate = 1000\nburst = 100\n");

  ProcessResult plan = world_.Usersync({"plan", "--format", "json"});
  ASSERT_EQ(plan.exit_code, 0) << plan.out << plan.err;
  EXPECT_NE(plan.out.find(kKey), std::string::npos) << plan.out;
  ProcessResult run = world_.Usersync({"sync"});
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;

  std::map<std::string, GotoUser> users = ListGotoUsers(world_.target());
  ASSERT_EQ(users.size(), 1u);
  EXPECT_EQ(users["user1@example.com"].key, kKey);
  testing::HttpResult user =
      HttpGet(absl::StrCat(GotoBase(world_.target()), "/users/", kKey), world_.token());
  EXPECT_NE(user.body.find(R"("lastName":"Sn-user1")"), std::string::npos) << user.body;
  EXPECT_EQ(world_.Stats().updates, 1);

  auto state = io::StateStore::Open(world_.Path("state.db"));
  ASSERT_TRUE(state.ok()) << state.status();
  auto links = (*state)->LoadLinks();
  ASSERT_TRUE(links.ok()) << links.status();
  ASSERT_EQ(links->size(), 1u);
  EXPECT_EQ((*links)[0].account_id, kKey);
}

// Issue 13 item 5 with licenses: the emulator offers one license, 7902142105473202120 (the one
// real GoTo key seen, 19 digits); a create planned into a plan file and applied from it gives
// the user exactly that license (a JSON number, to the digit), while the 26-digit user key
// still round-trips through the plan file, the journal and the state store.
TEST_F(GotoIntegrationTest, A19DigitLicenseKeyAndA26DigitUserKeyThroughAPlanFile) {
  constexpr char kKey[] = "78888886011013972886849029";
  constexpr char kLicense[] = "7902142105473202120";
  world_.WriteFile("seed.jsonl", SeedUser1WithKey(kKey));
  ASSERT_TRUE(world_
                  .StartTarget({"--license", absl::StrCat(kLicense, "=G2M"), "--seed-accounts",
                                world_.Path("seed.jsonl")})
                  .ok());
  world_.WriteLdif(Ldif(Users(2)));  // user1 (seeded, key kKey) and user2 (created)
  WriteConfig("goto", "rate = 1000\nburst = 100\n");

  ProcessResult plan = world_.Usersync({"plan", "--out", "plan.json"});
  ASSERT_EQ(plan.exit_code, 0) << plan.out << plan.err;
  EXPECT_NE(world_.ReadFile("plan.json").find(kKey), std::string::npos);
  ProcessResult apply = world_.Usersync({"apply", "--plan", "plan.json"});
  ASSERT_EQ(apply.exit_code, 0) << apply.out << apply.err;

  std::map<std::string, GotoUser> users = ListGotoUsers(world_.target());
  ASSERT_EQ(users.size(), 2u);
  EXPECT_EQ(users["user1@example.com"].key, kKey);
  for (const char* email : {"user1@example.com", "user2@example.com"}) {
    EXPECT_EQ(users[email].license_keys, std::vector<std::string>{kLicense}) << email;
    EXPECT_EQ(users[email].products, std::vector<std::string>{"G2M"}) << email;
  }
  testing::HttpResult user =
      HttpGet(absl::StrCat(GotoBase(world_.target()), "/users/", kKey), world_.token());
  EXPECT_NE(user.body.find(absl::StrCat(R"("licenseKeys":[)", kLicense, "]")), std::string::npos)
      << user.body;

  auto state = io::StateStore::Open(world_.Path("state.db"));
  ASSERT_TRUE(state.ok()) << state.status();
  auto links = (*state)->LoadLinks();
  ASSERT_TRUE(links.ok()) << links.status();
  std::set<std::string> linked;
  for (const auto& link : *links) linked.insert(link.account_id);
  EXPECT_TRUE(linked.contains(kKey));
  auto runs = (*state)->RecentRuns(1);
  ASSERT_TRUE(runs.ok() && !runs->empty());
  auto journal = (*state)->JournalForRun(runs->front().run_id);
  ASSERT_TRUE(journal.ok()) << journal.status();
  bool journaled = false;
  for (const io::JournalEntry& entry : *journal) journaled |= entry.account_id == kKey;
  EXPECT_TRUE(journaled);
}

// A rule with G2M and G2W: the users are created holding both licenses; changing the rule to
// G2M alone updates them by PUT licenseKeys (the full set).
TEST_F(GotoIntegrationTest, RuleProductsTravelAsLicenseKeys) {
  ASSERT_TRUE(world_.StartTarget().ok());
  world_.WriteLdif(Ldif(Users(5)));
  WriteConfig("goto", "rate = 1000\nburst = 100\n", "\"G2M\", \"G2W\"");
  ProcessResult first = world_.Usersync({"sync"});
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  std::map<std::string, GotoUser> users = ListGotoUsers(world_.target());
  ASSERT_EQ(users.size(), 5u);
  for (const auto& [email, user] : users) {
    EXPECT_EQ(user.license_keys,
              (std::vector<std::string>{"7902142105473202101", "7902142105473202103"}))
        << email;
    EXPECT_EQ(user.products, (std::vector<std::string>{"G2M", "G2W"})) << email;
  }
  // (How many POSTs carried them depends on timing; full batches of one license set are
  // GotoTargetEmulatorTest.BatchCreatesSendFewerRequestsThanUsers.)
  EXPECT_EQ(world_.Stats().creates, 5);

  WriteConfig("goto", "rate = 1000\nburst = 100\n", "\"G2M\"");
  ProcessResult second = world_.Usersync({"sync"});
  ASSERT_EQ(second.exit_code, 0) << second.out << second.err;
  for (const auto& [email, user] : ListGotoUsers(world_.target())) {
    EXPECT_EQ(user.license_keys, std::vector<std::string>{"7902142105473202101"}) << email;
    EXPECT_EQ(user.products, std::vector<std::string>{"G2M"}) << email;
  }
  EXPECT_EQ(world_.Stats().updates, 5);
}

// A product typo no license carries: plan, sync, apply (of a plan made before the typo) and
// check exit 2 naming the rule, the product and what the licenses offer; nothing is sent.
TEST_F(GotoIntegrationTest, AProductNoLicenseCarriesExits2) {
  ASSERT_TRUE(world_.StartTarget().ok());
  world_.WriteLdif(Ldif(Users(2)));
  WriteConfig("goto", "rate = 1000\nburst = 100\n");
  ASSERT_EQ(world_.Usersync({"plan", "--out", "plan.json"}).exit_code, 0);
  WriteConfig("goto", "rate = 1000\nburst = 100\n", "\"GTM\"");
  const std::vector<std::vector<std::string>> commands = {
      {"plan"}, {"sync"}, {"apply", "--plan", "plan.json"}, {"check"}};
  for (const std::vector<std::string>& args : commands) {
    const std::string& command = args[0];
    ProcessResult result = world_.Usersync(args);
    EXPECT_EQ(result.exit_code, 2) << command << ": " << result.out << result.err;
    const std::string said = result.out + result.err;
    EXPECT_NE(said.find("rules[0] 'Staff'"), std::string::npos) << command << ": " << said;
    EXPECT_NE(said.find("\"GTM\""), std::string::npos) << command << ": " << said;
    EXPECT_NE(said.find("G2M, G2T, G2W, OPENVOICE"), std::string::npos) << command << ": " << said;
  }
  EXPECT_EQ(world_.Stats().creates, 0);
}

}  // namespace
}  // namespace usersync
