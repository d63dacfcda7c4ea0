// End-to-end tests of the review workflow (issue 4): reviewed plans (`plan --out` then
// `apply --plan`, drift refused with exit 5), safety holds (exit 3, `release`), manual matches
// (`match`, CSV import) and `explain`. The real `usersync` binary runs against the real
// `usersync-target` emulator over loopback HTTP; each test has its own emulator (port 0), temp
// dir, LDIF directory, state and logs.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <map>
#include <string>
#include <vector>

#include "io/operation_codec.h"
#include "io/plan_file.h"
#include "io/report/plan_report.h"
#include "tests/support/http_client.h"
#include "tests/support/plan_json.h"
#include "tests/support/subprocess.h"
#include "tests/support/sync_world.h"

namespace usersync {
namespace {

using testing::Contains;
using testing::Lacks;
using testing::DirectoryUser;
using testing::kStaffGroup;
using testing::kTeamGroup;
using testing::NumberedUsers;
using testing::ProcessResult;
using testing::RuleToml;
using testing::ScimAccount;
using testing::StaffDirectory;
using testing::SyncWorld;
using testing::TargetStats;
using testing::WorldConfig;

// cn=staff holds the users in scope and the nested group cn=team, which holds `team` users.
std::string Ldif(const std::vector<DirectoryUser>& users,
                 const std::vector<std::string>& team = {}) {
  StaffDirectory directory(users);
  directory.team_group = true;
  directory.team = team;
  return directory.Ldif();
}

// The hold id `release` lists for a deactivation of `email` ("  hold 7: deactivate EMAIL ...").
std::string HoldId(const std::string& listing, const std::string& email) {
  const size_t at = listing.find(": deactivate " + email + " ");
  if (at == std::string::npos) return "";
  const size_t start = listing.rfind("hold ", at);
  if (start == std::string::npos) return "";
  return listing.substr(start + 5, at - start - 5);
}

class ReviewIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(world_.StartTarget().ok()); }

  // Rules Team (G2W) then Staff (G2M).
  void WriteConfig(const std::string& deprovision = "max_changes_percent = 100\n") {
    WorldConfig config;
    config.deprovision = deprovision;
    config.rules = RuleToml("Team", 1, kTeamGroup, "\"G2W\"") + RuleToml("Staff", 2, kStaffGroup);
    world_.WriteConfig(config);
  }

  // Changes an account's last name at the target, behind usersync's back.
  void ChangeFamilyNameAtTarget(const std::string& account_id, const std::string& family_name) {
    testing::HttpResult result = testing::HttpPatch(
        world_.target().scim_url() + "/Users/" + account_id, world_.token(),
        R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[)"
        R"({"op":"replace","path":"name.familyName","value":")" +
            family_name + R"("}]})");
    ASSERT_EQ(result.status, 200) << result.body;
  }

  // Creates an account at the target that usersync did not create (no externalId).
  std::string SeedAccount(const std::string& user_name) {
    testing::HttpResult result = testing::HttpPost(
        world_.target().scim_url() + "/Users", world_.token(),
        R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":")" + user_name +
            R"(","name":{"givenName":"Legacy","familyName":"Account"},"active":true})");
    EXPECT_EQ(result.status, 201) << result.body;
    simdjson::ondemand::parser parser;
    simdjson::padded_string json(result.body);
    simdjson::ondemand::document doc = parser.iterate(json);
    return std::string(doc["id"].get_string().value());
  }

  // The operations of `plan --format json` as "op | [account |] email | reason |" lines.
  std::vector<std::string> PlannedOps() {
    ProcessResult plan = world_.Usersync({"plan", "--format", "json"});
    EXPECT_EQ(plan.exit_code, 0) << plan.err;
    std::vector<std::string> out;
    for (const testing::PlannedOperation& op : testing::ParsePlanJson(plan.out).operations) {
      out.push_back(op.op + " | " + (op.account_id.empty() ? "" : op.account_id + " | ") +
                    op.email + " | " + op.reason + " | ");
    }
    return out;
  }

  SyncWorld world_{"review"};
};

// `plan --format json --out FILE` writes the plan once, to the file: stdout only says where (a
// million-user plan is close to a gigabyte; it used to go to both).
TEST_F(ReviewIntegrationTest, PlanJsonWithOutGoesToTheFileOnly) {
  world_.WriteLdif(Ldif(NumberedUsers(3)));
  WriteConfig();
  ProcessResult plan = world_.Usersync({"plan", "--format", "json", "--out", "plan.json"});
  ASSERT_EQ(plan.exit_code, 0) << plan.out << plan.err;
  EXPECT_TRUE(Contains(world_.ReadFile("plan.json"), "\"operations\":"));
  EXPECT_TRUE(Lacks(plan.out, "\"operations\""));
  EXPECT_TRUE(Contains(plan.out, "Plan written to plan.json"));

  ProcessResult to_stdout = world_.Usersync({"plan", "--format", "json"});
  ASSERT_EQ(to_stdout.exit_code, 0) << to_stdout.err;
  EXPECT_TRUE(Contains(to_stdout.out, "\"operations\":"));
  EXPECT_TRUE(Lacks(to_stdout.out, "Plan written"));
}

// A plan applied unchanged: exactly its operations happen, not the ones the directory asks for
// after the plan was made; applying it a second time refuses everything (it all drifted).
TEST_F(ReviewIntegrationTest, ApplyWithoutDriftAppliesExactlyThePlan) {
  std::vector<DirectoryUser> users = NumberedUsers(6);
  world_.WriteLdif(Ldif(users));
  WriteConfig();
  ProcessResult first = world_.Usersync({"sync"});
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;

  users[0].in_scope = false;  // user1 departs
  users[1].sn = "Renamed";    // user2 changes
  users.push_back({"user7", "Sn7"});
  world_.WriteLdif(Ldif(users));
  ProcessResult plan = world_.Usersync({"plan", "--out", "plan.json"});
  ASSERT_EQ(plan.exit_code, 0) << plan.out << plan.err;
  EXPECT_TRUE(Contains(world_.ReadFile("plan.json"), "\"plan_id\":"));

  users.push_back({"user8", "Sn8"});  // after the review: not in the plan
  world_.WriteLdif(Ldif(users));
  const TargetStats before = world_.Stats();
  ProcessResult apply = world_.Usersync({"apply", "--plan", "plan.json"});
  ASSERT_EQ(apply.exit_code, 0) << apply.out << apply.err;
  EXPECT_TRUE(Contains(apply.out, "1 operation(s) this plan does not hold"));
  const TargetStats after = world_.Stats();
  EXPECT_EQ(after.creates - before.creates, 1);
  EXPECT_EQ(after.updates - before.updates, 2);  // the rename, the deactivation
  std::map<std::string, ScimAccount> accounts = world_.ScimAccounts();
  EXPECT_FALSE(accounts["user1@example.com"].active);
  EXPECT_EQ(accounts["user2@example.com"].family_name, "Renamed");
  EXPECT_TRUE(accounts.contains("user7@example.com"));
  EXPECT_FALSE(accounts.contains("user8@example.com"));

  ProcessResult again = world_.Usersync({"apply", "--plan", "plan.json"});
  EXPECT_EQ(again.exit_code, 5) << again.out << again.err;
  EXPECT_TRUE(Contains(again.out, "DRIFT: 3 operation(s) refused"));
  EXPECT_TRUE(
      Contains(again.out, "an account with userName user7@example.com now exists at the target"));
  const TargetStats refused = world_.Stats();
  EXPECT_EQ(refused.creates, after.creates);
  EXPECT_EQ(refused.updates, after.updates);
}

// The target and the directory both change after the plan: the drifted operations are refused
// and listed with what drifted, the others are applied, and the run exits 5.
TEST_F(ReviewIntegrationTest, ApplyRefusesDriftedOperationsAndAppliesTheRest) {
  std::vector<DirectoryUser> users = NumberedUsers(6);
  world_.WriteLdif(Ldif(users));
  WriteConfig();
  ASSERT_EQ(world_.Usersync({"sync"}).exit_code, 0);
  const std::string user2_id = world_.ScimAccounts()["user2@example.com"].id;
  ASSERT_FALSE(user2_id.empty());

  users[1].sn = "Planned2";
  users[2].sn = "Planned3";
  users[3].sn = "Planned4";
  users.push_back({"user7", "Sn7"});
  users.push_back({"user8", "Sn8"});
  world_.WriteLdif(Ldif(users));
  ProcessResult plan = world_.Usersync({"plan", "--out", "plan.json"});
  ASSERT_EQ(plan.exit_code, 0) << plan.out << plan.err;

  ChangeFamilyNameAtTarget(user2_id, "Hacked");  // drift at the target
  users[2].sn = "Later3";                        // the directory now wants something else
  users.pop_back();                              // user8 is gone from the directory
  world_.WriteLdif(Ldif(users));

  ProcessResult apply = world_.Usersync({"apply", "--plan", "plan.json"});
  EXPECT_EQ(apply.exit_code, 5) << apply.out << apply.err;
  EXPECT_TRUE(Contains(apply.out, "DRIFT: 3 operation(s) refused"));
  EXPECT_TRUE(Contains(apply.out,
                       "account " + user2_id + ": last_name is now 'Hacked', plan expected 'Sn2'"));
  EXPECT_TRUE(Contains(apply.out,
                       "directory user uuid-user3: last_name should now be "
                       "'Later3', plan writes 'Planned3'"));
  EXPECT_TRUE(Contains(apply.out, "directory user uuid-user8: no longer planned"));
  EXPECT_TRUE(Contains(apply.out, "2 done"));

  std::map<std::string, ScimAccount> accounts = world_.ScimAccounts();
  EXPECT_EQ(accounts["user2@example.com"].family_name, "Hacked");  // refused
  EXPECT_EQ(accounts["user3@example.com"].family_name, "Sn3");     // refused
  EXPECT_EQ(accounts["user4@example.com"].family_name, "Planned4");
  EXPECT_TRUE(accounts.contains("user7@example.com"));
  EXPECT_FALSE(accounts.contains("user8@example.com"));
  // The audit log records the refusals.
  EXPECT_TRUE(Contains(world_.ReadFile("logs/audit.jsonl"), "\"refused\""));
}

TEST_F(ReviewIntegrationTest, ApplyRefusesAnEditedOrMalformedPlan) {
  world_.WriteLdif(Ldif(NumberedUsers(2)));
  WriteConfig();
  ASSERT_EQ(world_.Usersync({"plan", "--out", "plan.json"}).exit_code, 0);
  std::string json = world_.ReadFile("plan.json");
  const size_t at = json.find("\"Sn1\"");
  ASSERT_NE(at, std::string::npos);
  world_.WriteFile("edited.json", std::string(json).replace(at, 5, "\"Sx1\""));
  ProcessResult edited = world_.Usersync({"apply", "--plan", "edited.json"});
  EXPECT_EQ(edited.exit_code, 2) << edited.out << edited.err;
  EXPECT_TRUE(Contains(edited.err, "edited after"));

  const size_t op = json.find("\"op\":\"create\"");
  ASSERT_NE(op, std::string::npos);
  world_.WriteFile("bad.json", std::string(json).replace(op, 13, "\"op\":\"launch\""));
  ProcessResult bad = world_.Usersync({"apply", "--plan", "bad.json"});
  EXPECT_EQ(bad.exit_code, 2) << bad.out << bad.err;
  EXPECT_TRUE(Contains(bad.err, "operations[0].op: unknown op \"launch\""));
  EXPECT_EQ(world_.Stats().creates, 0);
}

// A plan file as builds before issue 17 wrote it (every spec key, no "plan_format", plan_id
// FNV-1a over those bytes) is still applied, and an edit of it still refused.
TEST_F(ReviewIntegrationTest, ApplyReadsAPlanFileInTheFullForm) {
  std::vector<DirectoryUser> users = NumberedUsers(3);
  world_.WriteLdif(Ldif(users));
  WriteConfig();
  ASSERT_EQ(world_.Usersync({"sync"}).exit_code, 0);
  users[1].sn = "Renamed";
  users.push_back({"user4", "Sn4"});
  world_.WriteLdif(Ldif(users));
  ProcessResult plan = world_.Usersync({"plan", "--out", "plan.json"});
  ASSERT_EQ(plan.exit_code, 0) << plan.out << plan.err;
  absl::StatusOr<io::PlanFile> compact = io::ParsePlanJson(world_.ReadFile("plan.json"), "plan");
  ASSERT_TRUE(compact.ok()) << compact.status();
  ASSERT_EQ(compact->operations.size(), 2u);
  std::string full = "{\"operations\":[";
  for (const core::Operation& op : compact->operations) {
    if (full.back() != '[') full += ",";
    full += io::OperationJson(op);
  }
  full += "],\"plan_id\":\"" + io::PlanFingerprint(compact->operations, io::PlanFormat::kFull) +
          "\"}\n";
  ASSERT_TRUE(Contains(full, "\"privileges\":\"\""));
  const size_t at = full.find("\"after\":\"Renamed\"");
  ASSERT_NE(at, std::string::npos) << full;
  world_.WriteFile("edited.json", std::string(full).replace(at, 17, "\"after\":\"Renamer\""));
  ProcessResult edited = world_.Usersync({"apply", "--plan", "edited.json"});
  EXPECT_EQ(edited.exit_code, 2) << edited.out << edited.err;
  EXPECT_TRUE(Contains(edited.err, "edited after"));

  world_.WriteFile("full.json", full);
  ProcessResult apply = world_.Usersync({"apply", "--plan", "full.json"});
  ASSERT_EQ(apply.exit_code, 0) << apply.out << apply.err;
  std::map<std::string, ScimAccount> accounts = world_.ScimAccounts();
  EXPECT_EQ(accounts["user2@example.com"].family_name, "Renamed");
  EXPECT_TRUE(accounts.contains("user4@example.com"));
}

// max_changes = 1 and three departures: creates and updates go on, the three deactivations are
// held (exit 3), a second sync holds the same three (not six), and release lets them go.
TEST_F(ReviewIntegrationTest, HeldDeactivationsWaitForRelease) {
  std::vector<DirectoryUser> users = NumberedUsers(6);
  world_.WriteLdif(Ldif(users));
  WriteConfig("max_changes = 1\nmax_changes_percent = 100\n");
  ASSERT_EQ(world_.Usersync({"sync"}).exit_code, 0);

  for (int i = 0; i < 3; ++i) users[i].in_scope = false;
  users[3].sn = "Renamed";
  users.push_back({"user7", "Sn7"});
  world_.WriteLdif(Ldif(users));
  const TargetStats before = world_.Stats();
  ProcessResult held = world_.Usersync({"sync"});
  ASSERT_EQ(held.exit_code, 3) << held.out << held.err;
  EXPECT_TRUE(Contains(held.out, "HELD: 3 deactivations/deletions exceed"));
  EXPECT_TRUE(Contains(held.out, "3 held operation(s)"));
  const TargetStats after = world_.Stats();
  EXPECT_EQ(after.creates - before.creates, 1);
  EXPECT_EQ(after.updates - before.updates, 1);  // the rename only
  std::map<std::string, ScimAccount> accounts = world_.ScimAccounts();
  for (const char* name : {"user1@example.com", "user2@example.com", "user3@example.com"}) {
    EXPECT_TRUE(accounts[name].active) << name;
  }
  EXPECT_EQ(accounts["user4@example.com"].family_name, "Renamed");

  ProcessResult again = world_.Usersync({"sync"});
  EXPECT_EQ(again.exit_code, 3) << again.out << again.err;
  ProcessResult listing = world_.Usersync({"release"});
  ASSERT_EQ(listing.exit_code, 0) << listing.err;
  EXPECT_TRUE(Contains(listing.out, "3 held operation(s)"));
  const std::string user2_hold = HoldId(listing.out, "user2@example.com");
  ASSERT_FALSE(user2_hold.empty()) << listing.out;

  ProcessResult unknown = world_.Usersync({"release", "--id", "9999"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_TRUE(Contains(unknown.err, "no held operation 9999"));

  ProcessResult one = world_.Usersync({"release", "--id", user2_hold});
  ASSERT_EQ(one.exit_code, 0) << one.out << one.err;
  accounts = world_.ScimAccounts();
  EXPECT_TRUE(accounts["user1@example.com"].active);
  EXPECT_FALSE(accounts["user2@example.com"].active);
  EXPECT_TRUE(accounts["user3@example.com"].active);

  ProcessResult rest = world_.Usersync({"release", "--all"});
  ASSERT_EQ(rest.exit_code, 0) << rest.out << rest.err;
  EXPECT_TRUE(Contains(rest.out, "Released 2 held operation(s): 2 done"));
  accounts = world_.ScimAccounts();
  EXPECT_FALSE(accounts["user1@example.com"].active);
  EXPECT_FALSE(accounts["user3@example.com"].active);
  int inactive = 0;
  for (const auto& [name, account] : accounts) inactive += !account.active;
  EXPECT_EQ(inactive, 3);

  ProcessResult settled = world_.Usersync({"sync"});
  EXPECT_EQ(settled.exit_code, 0) << settled.out << settled.err;
  EXPECT_TRUE(Contains(settled.out, "Result: nothing to do."));  // nothing held back again
  EXPECT_TRUE(Contains(world_.Usersync({"release"}).out, "Nothing is held."));
}

TEST_F(ReviewIntegrationTest, ManualMatchIsUsedByThePlan) {
  world_.WriteLdif(Ldif(NumberedUsers(2)));
  WriteConfig();
  const std::string legacy = SeedAccount("legacy.name@example.com");

  ProcessResult wrong =
      world_.Usersync({"match", "--source-id", "uuid-user1", "--target-id", "nope"});
  EXPECT_EQ(wrong.exit_code, 2);
  EXPECT_TRUE(Contains(wrong.err, "the target has no account 'nope'"));
  ProcessResult unknown_user =
      world_.Usersync({"match", "--source-id", "uuid-nobody", "--target-id", legacy});
  EXPECT_EQ(unknown_user.exit_code, 2);
  EXPECT_TRUE(Contains(unknown_user.err, "no directory user has id 'uuid-nobody'"));

  ProcessResult match =
      world_.Usersync({"match", "--source-id", "uuid-user1", "--target-id", legacy});
  ASSERT_EQ(match.exit_code, 0) << match.out << match.err;
  std::vector<std::string> ops = PlannedOps();
  ASSERT_EQ(ops.size(), 2u);
  EXPECT_TRUE(Contains(ops[0], "link | " + legacy + " | user1@example.com"));
  EXPECT_TRUE(Contains(ops[0], "matched by manual"));
  EXPECT_TRUE(Contains(ops[1], "create | user2@example.com"));

  // The account is now claimed: matching another user to it is refused.
  ProcessResult twice =
      world_.Usersync({"match", "--source-id", "uuid-user2", "--target-id", legacy});
  EXPECT_EQ(twice.exit_code, 2);
  EXPECT_TRUE(Contains(twice.err, "is already matched to directory id 'uuid-user1'"));

  ProcessResult explain = world_.Usersync({"explain", "user1@example.com"});
  ASSERT_EQ(explain.exit_code, 0) << explain.err;
  EXPECT_TRUE(Contains(explain.out, "Match: manual → account " + legacy));
}

// A CSV import is all or nothing: one bad line stores none, and names its line.
TEST_F(ReviewIntegrationTest, CsvImportWithABadLineStoresNothing) {
  world_.WriteLdif(Ldif(NumberedUsers(3)));
  WriteConfig();
  const std::string first = SeedAccount("old1@example.com");
  const std::string second = SeedAccount("old2@example.com");
  world_.WriteFile("matches.csv", "source_id,target_id\r\nuuid-user1," + first +
                                      "\r\nuuid-ghost,\"" + second + "\"\r\nuuid-user2\r\n");
  ProcessResult bad = world_.Usersync({"match", "--csv", "matches.csv"});
  EXPECT_EQ(bad.exit_code, 2) << bad.out << bad.err;
  EXPECT_TRUE(Contains(bad.err, "2 bad line(s); nothing was stored"));
  EXPECT_TRUE(Contains(bad.err, "matches.csv:3: no directory user has id 'uuid-ghost'"));
  EXPECT_TRUE(Contains(bad.err, "matches.csv:4: expected 2 fields"));
  for (const std::string& op : PlannedOps()) EXPECT_FALSE(Contains(op, "manual"));

  world_.WriteFile("matches.csv", "source_id,target_id\nuuid-user1," + first + "\n\"uuid-user2\"," +
                                      second + "\n");
  ProcessResult good = world_.Usersync({"match", "--csv", "matches.csv"});
  ASSERT_EQ(good.exit_code, 0) << good.out << good.err;
  EXPECT_TRUE(Contains(good.out, "Stored 2 manual match(es)"));
  int manual = 0;
  for (const std::string& op : PlannedOps())
    manual += op.find("matched by manual") != std::string::npos;
  EXPECT_EQ(manual, 2);
}

TEST_F(ReviewIntegrationTest, ExplainShowsNestingRulesAndThePendingOperation) {
  world_.WriteLdif(Ldif(NumberedUsers(1), {"ann"}));
  WriteConfig();
  ProcessResult explain = world_.Usersync({"explain", "ANN@example.com"});
  ASSERT_EQ(explain.exit_code, 0) << explain.err;
  EXPECT_TRUE(Contains(explain.out, "Category: new"));
  EXPECT_TRUE(Contains(explain.out,
                       "  cn=staff,ou=groups,dc=example,dc=com  (scoped group)\n"
                       "    > cn=team,ou=groups,dc=example,dc=com\n"
                       "      > uid=ann,ou=people,dc=example,dc=com\n"));
  EXPECT_TRUE(Contains(explain.out, "* Team (priority 1) [first: wins]"));
  EXPECT_TRUE(Contains(explain.out, "products           G2W"));
  EXPECT_TRUE(Contains(explain.out, "Pending operation: create"));

  ProcessResult unknown = world_.Usersync({"explain", "nobody@example.com"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_TRUE(Contains(unknown.err, "no directory user or account matches 'nobody@example.com'"));
}

}  // namespace
}  // namespace usersync
