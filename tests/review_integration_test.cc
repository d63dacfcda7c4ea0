// End-to-end tests of the review workflow (issue 4): reviewed plans (`plan --out` then
// `apply --plan`, drift refused with exit 5), safety holds (exit 3, `release`), manual matches
// (`match`, CSV import) and `explain`. The real `usersync` binary runs against the real
// `usersync-target` emulator over loopback HTTP; each test has its own emulator (port 0), temp
// dir, LDIF directory, state and logs.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <filesystem>
#include <fstream>
#include <map>
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

// Whether `haystack` holds `needle`, with both in the message (this binary links no gmock).
::testing::AssertionResult Contains(const std::string& haystack, const std::string& needle) {
  if (haystack.find(needle) != std::string::npos) {
    return ::testing::AssertionSuccess() << "\"" << needle << "\" is in:\n" << haystack;
  }
  return ::testing::AssertionFailure() << "\"" << needle << "\" is not in:\n" << haystack;
}

struct AccountView {
  std::string id;
  std::string family_name;
  bool active = true;
};

// Every account of the emulator, by userName.
std::map<std::string, AccountView> ListAccounts(const EmulatorProcess& target) {
  std::map<std::string, AccountView> out;
  testing::HttpResult page =
      HttpGet(target.scim_url() + "/Users?startIndex=1&count=1000", target.token());
  EXPECT_EQ(page.status, 200) << page.body;
  if (page.status != 200) return out;
  simdjson::ondemand::parser parser;
  simdjson::padded_string json(page.body);
  simdjson::ondemand::document doc = parser.iterate(json);
  for (auto resource : doc["Resources"].get_array()) {
    AccountView account;
    std::string user_name;
    for (auto field : resource.get_object()) {
      std::string_view key = field.unescaped_key().value();
      if (key == "id") account.id = std::string(field.value().get_string().value());
      if (key == "userName") user_name = std::string(field.value().get_string().value());
      if (key == "active") account.active = field.value().get_bool().value();
      if (key == "name") {
        for (auto part : field.value().get_object()) {
          if (part.unescaped_key().value() == "familyName") {
            account.family_name = std::string(part.value().get_string().value());
          }
        }
      }
    }
    out[user_name] = account;
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

std::vector<DirectoryUser> Users(int count) {
  std::vector<DirectoryUser> users;
  for (int i = 1; i <= count; ++i) {
    users.push_back({"user" + std::to_string(i), "Sn" + std::to_string(i)});
  }
  return users;
}

// cn=staff holds the users in scope and the nested group cn=team, which holds `team` users.
std::string Ldif(const std::vector<DirectoryUser>& users,
                 const std::vector<std::string>& team = {}) {
  std::string out =
      "version: 1\n\n"
      "dn: dc=example,dc=com\nobjectClass: domain\ndc: example\n\n";
  auto add_user = [&](const std::string& uid, const std::string& sn) {
    out += "dn: uid=" + uid + ",ou=people,dc=example,dc=com\n";
    out += "objectClass: inetOrgPerson\nuid: " + uid + "\n";
    out += "entryUUID: uuid-" + uid + "\n";
    out += "cn: First " + sn + "\ngivenName: First\nsn: " + sn + "\n";
    out += "mail: " + uid + "@Example.com\n\n";
  };
  for (const DirectoryUser& user : users) add_user(user.uid, user.sn);
  for (const std::string& uid : team) add_user(uid, "Team");
  out += "dn: cn=staff,ou=groups,dc=example,dc=com\nobjectClass: groupOfNames\ncn: staff\n";
  for (const DirectoryUser& user : users) {
    if (user.in_scope) out += "member: uid=" + user.uid + ",ou=people,dc=example,dc=com\n";
  }
  out += "member: cn=team,ou=groups,dc=example,dc=com\n\n";
  out += "dn: cn=team,ou=groups,dc=example,dc=com\nobjectClass: groupOfNames\ncn: team\n";
  for (const std::string& uid : team)
    out += "member: uid=" + uid + ",ou=people,dc=example,dc=com\n";
  return out;
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
  void SetUp() override {
    dir_ =
        fs::path(::testing::TempDir()) /
        ("review-" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    auto target = EmulatorProcess::Start();
    ASSERT_TRUE(target.ok()) << target.status();
    target_ = *std::move(target);
  }

  void WriteFile(const std::string& name, const std::string& content) {
    std::ofstream(dir_ / name) << content;
  }
  std::string ReadFile(const std::string& name) {
    std::ifstream in(dir_ / name);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }

  void WriteConfig(const std::string& deprovision = "max_changes_percent = 100\n") {
    WriteFile("usersync.toml",
              "[source]\nkind = \"ldif\"\npath = \"directory.ldif\"\n"
              "[scope]\ngroups = [\"cn=staff,ou=groups,dc=example,dc=com\"]\n"
              "validated_domains = [\"example.com\"]\n"
              "[target]\nkind = \"scim\"\nurl = \"" +
                  target_->scim_url() +
                  "\"\n"
                  "token_env = \"" +
                  kTokenEnv +
                  "\"\nrate = 1000\nburst = 100\n"
                  "[deprovision]\n" +
                  deprovision +
                  "[[rules]]\nname = \"Team\"\npriority = 1\n"
                  "group = \"cn=team,ou=groups,dc=example,dc=com\"\nproducts = [\"G2W\"]\n"
                  "[[rules]]\nname = \"Staff\"\npriority = 2\n"
                  "group = \"cn=staff,ou=groups,dc=example,dc=com\"\nproducts = [\"G2M\"]\n"
                  "[state]\npath = \"state.db\"\n[logs]\ndir = \"logs\"\n");
  }

  ProcessResult Usersync(std::vector<std::string> args) {
    args.insert(args.begin(), USERSYNC_BINARY);
    args.insert(args.begin() + 2, {"-c", (dir_ / "usersync.toml").string()});
    return RunProcess(args, {{kTokenEnv, target_->token()}}, dir_.string());
  }

  // Changes an account's last name at the target, behind usersync's back.
  void ChangeFamilyNameAtTarget(const std::string& account_id, const std::string& family_name) {
    testing::HttpResult result = testing::HttpPatch(
        target_->scim_url() + "/Users/" + account_id, target_->token(),
        R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[)"
        R"({"op":"replace","path":"name.familyName","value":")" +
            family_name + R"("}]})");
    ASSERT_EQ(result.status, 200) << result.body;
  }

  // Creates an account at the target that usersync did not create (no externalId).
  std::string SeedAccount(const std::string& user_name) {
    testing::HttpResult result = testing::HttpPost(
        target_->scim_url() + "/Users", target_->token(),
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
    ProcessResult plan = Usersync({"plan", "--format", "json"});
    EXPECT_EQ(plan.exit_code, 0) << plan.err;
    std::vector<std::string> out;
    simdjson::ondemand::parser parser;
    simdjson::padded_string json(plan.out);
    simdjson::ondemand::document doc = parser.iterate(json);
    for (auto op : doc["operations"].get_array()) {
      std::string line;
      for (auto field : op.get_object()) {
        std::string_view key = field.unescaped_key().value();
        if (key == "op" || key == "email" || key == "reason") {
          line += std::string(field.value().get_string().value()) + " | ";
        } else if (key == "account_id") {
          std::string_view id;
          if (field.value().get_string().get(id) == simdjson::SUCCESS) {
            line += std::string(id) + " | ";
          }
        }
      }
      out.push_back(line);
    }
    return out;
  }

  fs::path dir_;
  std::unique_ptr<EmulatorProcess> target_;
};

// A plan applied unchanged: exactly its operations happen, not the ones the directory asks for
// after the plan was made; applying it a second time refuses everything (it all drifted).
TEST_F(ReviewIntegrationTest, ApplyWithoutDriftAppliesExactlyThePlan) {
  std::vector<DirectoryUser> users = Users(6);
  WriteFile("directory.ldif", Ldif(users));
  WriteConfig();
  ProcessResult first = Usersync({"sync"});
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;

  users[0].in_scope = false;  // user1 departs
  users[1].sn = "Renamed";    // user2 changes
  users.push_back({"user7", "Sn7"});
  WriteFile("directory.ldif", Ldif(users));
  ProcessResult plan = Usersync({"plan", "--out", "plan.json"});
  ASSERT_EQ(plan.exit_code, 0) << plan.out << plan.err;
  EXPECT_TRUE(Contains(ReadFile("plan.json"), "\"plan_id\":"));

  users.push_back({"user8", "Sn8"});  // after the review: not in the plan
  WriteFile("directory.ldif", Ldif(users));
  const std::map<std::string, int64_t> before = Stats(*target_);
  ProcessResult apply = Usersync({"apply", "--plan", "plan.json"});
  ASSERT_EQ(apply.exit_code, 0) << apply.out << apply.err;
  EXPECT_TRUE(Contains(apply.out, "1 operation(s) this plan does not hold"));
  const std::map<std::string, int64_t> after = Stats(*target_);
  EXPECT_EQ(after.at("creates") - before.at("creates"), 1);
  EXPECT_EQ(after.at("updates") - before.at("updates"), 2);  // the rename, the deactivation
  std::map<std::string, AccountView> accounts = ListAccounts(*target_);
  EXPECT_FALSE(accounts["user1@example.com"].active);
  EXPECT_EQ(accounts["user2@example.com"].family_name, "Renamed");
  EXPECT_TRUE(accounts.contains("user7@example.com"));
  EXPECT_FALSE(accounts.contains("user8@example.com"));

  ProcessResult again = Usersync({"apply", "--plan", "plan.json"});
  EXPECT_EQ(again.exit_code, 5) << again.out << again.err;
  EXPECT_TRUE(Contains(again.out, "DRIFT: 3 operation(s) refused"));
  EXPECT_TRUE(
      Contains(again.out, "an account with userName user7@example.com now exists at the target"));
  const std::map<std::string, int64_t> refused = Stats(*target_);
  EXPECT_EQ(refused.at("creates"), after.at("creates"));
  EXPECT_EQ(refused.at("updates"), after.at("updates"));
}

// The target and the directory both change after the plan: the drifted operations are refused
// and listed with what drifted, the others are applied, and the run exits 5.
TEST_F(ReviewIntegrationTest, ApplyRefusesDriftedOperationsAndAppliesTheRest) {
  std::vector<DirectoryUser> users = Users(6);
  WriteFile("directory.ldif", Ldif(users));
  WriteConfig();
  ASSERT_EQ(Usersync({"sync"}).exit_code, 0);
  const std::string user2_id = ListAccounts(*target_)["user2@example.com"].id;
  ASSERT_FALSE(user2_id.empty());

  users[1].sn = "Planned2";
  users[2].sn = "Planned3";
  users[3].sn = "Planned4";
  users.push_back({"user7", "Sn7"});
  users.push_back({"user8", "Sn8"});
  WriteFile("directory.ldif", Ldif(users));
  ProcessResult plan = Usersync({"plan", "--out", "plan.json"});
  ASSERT_EQ(plan.exit_code, 0) << plan.out << plan.err;

  ChangeFamilyNameAtTarget(user2_id, "Hacked");  // drift at the target
  users[2].sn = "Later3";                        // the directory now wants something else
  users.pop_back();                              // user8 is gone from the directory
  WriteFile("directory.ldif", Ldif(users));

  ProcessResult apply = Usersync({"apply", "--plan", "plan.json"});
  EXPECT_EQ(apply.exit_code, 5) << apply.out << apply.err;
  EXPECT_TRUE(Contains(apply.out, "DRIFT: 3 operation(s) refused"));
  EXPECT_TRUE(Contains(apply.out,
                       "account " + user2_id + ": last_name is now 'Hacked', plan expected 'Sn2'"));
  EXPECT_TRUE(Contains(apply.out,
                       "directory user uuid-user3: last_name should now be "
                       "'Later3', plan writes 'Planned3'"));
  EXPECT_TRUE(Contains(apply.out, "directory user uuid-user8: no longer planned"));
  EXPECT_TRUE(Contains(apply.out, "2 done"));

  std::map<std::string, AccountView> accounts = ListAccounts(*target_);
  EXPECT_EQ(accounts["user2@example.com"].family_name, "Hacked");  // refused
  EXPECT_EQ(accounts["user3@example.com"].family_name, "Sn3");     // refused
  EXPECT_EQ(accounts["user4@example.com"].family_name, "Planned4");
  EXPECT_TRUE(accounts.contains("user7@example.com"));
  EXPECT_FALSE(accounts.contains("user8@example.com"));
  // The audit log records the refusals.
  EXPECT_TRUE(Contains(ReadFile("logs/audit.jsonl"), "\"refused\""));
}

TEST_F(ReviewIntegrationTest, ApplyRefusesAnEditedOrMalformedPlan) {
  WriteFile("directory.ldif", Ldif(Users(2)));
  WriteConfig();
  ASSERT_EQ(Usersync({"plan", "--out", "plan.json"}).exit_code, 0);
  std::string json = ReadFile("plan.json");
  const size_t at = json.find("\"Sn1\"");
  ASSERT_NE(at, std::string::npos);
  WriteFile("edited.json", std::string(json).replace(at, 5, "\"Sx1\""));
  ProcessResult edited = Usersync({"apply", "--plan", "edited.json"});
  EXPECT_EQ(edited.exit_code, 2) << edited.out << edited.err;
  EXPECT_TRUE(Contains(edited.err, "edited after"));

  const size_t op = json.find("\"op\":\"create\"");
  ASSERT_NE(op, std::string::npos);
  WriteFile("bad.json", std::string(json).replace(op, 13, "\"op\":\"launch\""));
  ProcessResult bad = Usersync({"apply", "--plan", "bad.json"});
  EXPECT_EQ(bad.exit_code, 2) << bad.out << bad.err;
  EXPECT_TRUE(Contains(bad.err, "operations[0].op: unknown op \"launch\""));
  EXPECT_EQ(Stats(*target_).at("creates"), 0);
}

// max_changes = 1 and three departures: creates and updates go on, the three deactivations are
// held (exit 3), a second sync holds the same three (not six), and release lets them go.
TEST_F(ReviewIntegrationTest, HeldDeactivationsWaitForRelease) {
  std::vector<DirectoryUser> users = Users(6);
  WriteFile("directory.ldif", Ldif(users));
  WriteConfig("max_changes = 1\nmax_changes_percent = 100\n");
  ASSERT_EQ(Usersync({"sync"}).exit_code, 0);

  for (int i = 0; i < 3; ++i) users[i].in_scope = false;
  users[3].sn = "Renamed";
  users.push_back({"user7", "Sn7"});
  WriteFile("directory.ldif", Ldif(users));
  const std::map<std::string, int64_t> before = Stats(*target_);
  ProcessResult held = Usersync({"sync"});
  ASSERT_EQ(held.exit_code, 3) << held.out << held.err;
  EXPECT_TRUE(Contains(held.out, "HELD: 3 deactivations/deletions exceed"));
  EXPECT_TRUE(Contains(held.out, "3 held operation(s)"));
  const std::map<std::string, int64_t> after = Stats(*target_);
  EXPECT_EQ(after.at("creates") - before.at("creates"), 1);
  EXPECT_EQ(after.at("updates") - before.at("updates"), 1);  // the rename only
  std::map<std::string, AccountView> accounts = ListAccounts(*target_);
  for (const char* name : {"user1@example.com", "user2@example.com", "user3@example.com"}) {
    EXPECT_TRUE(accounts[name].active) << name;
  }
  EXPECT_EQ(accounts["user4@example.com"].family_name, "Renamed");

  ProcessResult again = Usersync({"sync"});
  EXPECT_EQ(again.exit_code, 3) << again.out << again.err;
  ProcessResult listing = Usersync({"release"});
  ASSERT_EQ(listing.exit_code, 0) << listing.err;
  EXPECT_TRUE(Contains(listing.out, "3 held operation(s)"));
  const std::string user2_hold = HoldId(listing.out, "user2@example.com");
  ASSERT_FALSE(user2_hold.empty()) << listing.out;

  ProcessResult unknown = Usersync({"release", "--id", "9999"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_TRUE(Contains(unknown.err, "no held operation 9999"));

  ProcessResult one = Usersync({"release", "--id", user2_hold});
  ASSERT_EQ(one.exit_code, 0) << one.out << one.err;
  accounts = ListAccounts(*target_);
  EXPECT_TRUE(accounts["user1@example.com"].active);
  EXPECT_FALSE(accounts["user2@example.com"].active);
  EXPECT_TRUE(accounts["user3@example.com"].active);

  ProcessResult rest = Usersync({"release", "--all"});
  ASSERT_EQ(rest.exit_code, 0) << rest.out << rest.err;
  EXPECT_TRUE(Contains(rest.out, "Released 2 held operation(s): 2 done"));
  accounts = ListAccounts(*target_);
  EXPECT_FALSE(accounts["user1@example.com"].active);
  EXPECT_FALSE(accounts["user3@example.com"].active);
  int inactive = 0;
  for (const auto& [name, account] : accounts) inactive += !account.active;
  EXPECT_EQ(inactive, 3);

  ProcessResult settled = Usersync({"sync"});
  EXPECT_EQ(settled.exit_code, 0) << settled.out << settled.err;
  EXPECT_TRUE(Contains(Usersync({"release"}).out, "Nothing is held."));
}

TEST_F(ReviewIntegrationTest, ManualMatchIsUsedByThePlan) {
  WriteFile("directory.ldif", Ldif(Users(2)));
  WriteConfig();
  const std::string legacy = SeedAccount("legacy.name@example.com");

  ProcessResult wrong = Usersync({"match", "--source-id", "uuid-user1", "--target-id", "nope"});
  EXPECT_EQ(wrong.exit_code, 2);
  EXPECT_TRUE(Contains(wrong.err, "the target has no account 'nope'"));
  ProcessResult unknown_user =
      Usersync({"match", "--source-id", "uuid-nobody", "--target-id", legacy});
  EXPECT_EQ(unknown_user.exit_code, 2);
  EXPECT_TRUE(Contains(unknown_user.err, "no directory user has id 'uuid-nobody'"));

  ProcessResult match = Usersync({"match", "--source-id", "uuid-user1", "--target-id", legacy});
  ASSERT_EQ(match.exit_code, 0) << match.out << match.err;
  std::vector<std::string> ops = PlannedOps();
  ASSERT_EQ(ops.size(), 2u);
  EXPECT_TRUE(Contains(ops[0], "link | " + legacy + " | user1@example.com"));
  EXPECT_TRUE(Contains(ops[0], "matched by manual"));
  EXPECT_TRUE(Contains(ops[1], "create | user2@example.com"));

  // The account is now claimed: matching another user to it is refused.
  ProcessResult twice = Usersync({"match", "--source-id", "uuid-user2", "--target-id", legacy});
  EXPECT_EQ(twice.exit_code, 2);
  EXPECT_TRUE(Contains(twice.err, "is already matched to directory id 'uuid-user1'"));

  ProcessResult explain = Usersync({"explain", "user1@example.com"});
  ASSERT_EQ(explain.exit_code, 0) << explain.err;
  EXPECT_TRUE(Contains(explain.out, "Match: manual → account " + legacy));
}

// A CSV import is all or nothing: one bad line stores none, and names its line.
TEST_F(ReviewIntegrationTest, CsvImportWithABadLineStoresNothing) {
  WriteFile("directory.ldif", Ldif(Users(3)));
  WriteConfig();
  const std::string first = SeedAccount("old1@example.com");
  const std::string second = SeedAccount("old2@example.com");
  WriteFile("matches.csv", "source_id,target_id\r\nuuid-user1," + first + "\r\nuuid-ghost,\"" +
                               second + "\"\r\nuuid-user2\r\n");
  ProcessResult bad = Usersync({"match", "--csv", "matches.csv"});
  EXPECT_EQ(bad.exit_code, 2) << bad.out << bad.err;
  EXPECT_TRUE(Contains(bad.err, "2 bad line(s); nothing was stored"));
  EXPECT_TRUE(Contains(bad.err, "matches.csv:3: no directory user has id 'uuid-ghost'"));
  EXPECT_TRUE(Contains(bad.err, "matches.csv:4: expected 2 fields"));
  for (const std::string& op : PlannedOps()) EXPECT_FALSE(Contains(op, "manual"));

  WriteFile("matches.csv",
            "source_id,target_id\nuuid-user1," + first + "\n\"uuid-user2\"," + second + "\n");
  ProcessResult good = Usersync({"match", "--csv", "matches.csv"});
  ASSERT_EQ(good.exit_code, 0) << good.out << good.err;
  EXPECT_TRUE(Contains(good.out, "Stored 2 manual match(es)"));
  int manual = 0;
  for (const std::string& op : PlannedOps())
    manual += op.find("matched by manual") != std::string::npos;
  EXPECT_EQ(manual, 2);
}

TEST_F(ReviewIntegrationTest, ExplainShowsNestingRulesAndThePendingOperation) {
  WriteFile("directory.ldif", Ldif(Users(1), {"ann"}));
  WriteConfig();
  ProcessResult explain = Usersync({"explain", "ANN@example.com"});
  ASSERT_EQ(explain.exit_code, 0) << explain.err;
  EXPECT_TRUE(Contains(explain.out, "Category: new"));
  EXPECT_TRUE(Contains(explain.out,
                       "  cn=staff,ou=groups,dc=example,dc=com  (scoped group)\n"
                       "    > cn=team,ou=groups,dc=example,dc=com\n"
                       "      > uid=ann,ou=people,dc=example,dc=com\n"));
  EXPECT_TRUE(Contains(explain.out, "* Team (priority 1) [first: wins]"));
  EXPECT_TRUE(Contains(explain.out, "products           G2W"));
  EXPECT_TRUE(Contains(explain.out, "Pending operation: create"));

  ProcessResult unknown = Usersync({"explain", "nobody@example.com"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_TRUE(Contains(unknown.err, "no directory user or account matches 'nobody@example.com'"));
}

}  // namespace
}  // namespace usersync
