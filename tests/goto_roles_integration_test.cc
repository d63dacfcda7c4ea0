// End-to-end for issue 13 item 4 (GoTo admin roles): the real `usersync` binary against the
// real `usersync-target` on its GoTo face. A rule's admin / privileges reach the users'
// adminRoles (io/goto/goto_roles.h), a change of privileges plans exactly that update, a bad
// privilege is refused at load with the file's line, and a rule's role_set is assigned and
// removed through GoTo's role-set requests (io/goto/goto_role_sets.h).
#include <gtest/gtest.h>

#include <regex>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/support/http_client.h"
#include "tests/support/json_view.h"
#include "tests/support/plan_json.h"
#include "tests/support/subprocess.h"
#include "tests/support/sync_world.h"

namespace usersync {
namespace {

using testing::kStaffGroup;
using testing::ProcessResult;
using testing::RuleToml;
using testing::StaffDirectory;
using testing::SyncWorld;
using testing::WorldConfig;
using Strings = std::vector<std::string>;

class GotoRolesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(world_.StartTarget().ok());
    StaffDirectory directory(std::vector<testing::DirectoryUser>{{"user1", "Sn-user1"}});
    directory.mail_domain = "example.com";
    world_.WriteLdif(directory.Ldif());
  }

  // The staff rule with `admin_keys` ("admin = \"full\"\n").
  void WriteRule(const std::string& admin_keys) {
    WorldConfig config;
    config.target_kind = "goto";
    config.rules = RuleToml("Staff", 1, kStaffGroup, "\"G2M\"", admin_keys);
    world_.WriteConfig(config);
  }

  // The listing filtered to user1, as GoTo answers it.
  std::string UserBody() const {
    testing::HttpResult page =
        testing::HttpGet(world_.target().base_url() +
                             "/admin/rest/v1/accounts/demo/users?filter=email%20eq%20%22"
                             "user1%40example.com%22",
                         world_.token());
    EXPECT_EQ(page.status, 200) << page.body;
    return page.body;
  }
  // user1's array of strings `name` ("adminRoles") as GoTo lists it.
  Strings UserList(const std::string& name) const {
    testing::JsonView listing(UserBody());
    EXPECT_EQ(listing.Size("/results"), 1);
    return listing.Strings("/results/0/" + name);
  }

  void Sync() {
    ProcessResult run = world_.Usersync({"sync"});
    ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  }
  // The error output of a sync with `admin_keys` that must exit 2 and change nothing.
  std::string RefusedSync(const std::string& admin_keys) {
    WriteRule(admin_keys);
    ProcessResult run = world_.Usersync({"sync"});
    EXPECT_EQ(run.exit_code, 2) << run.out << run.err;
    EXPECT_EQ(world_.Stats().creates, 0);
    return run.err;
  }
  // A sync, then one more that finds the target in step.
  void SyncUntilInStep() {
    Sync();
    ProcessResult again = world_.Usersync({"sync"});
    ASSERT_EQ(again.exit_code, 0) << again.out << again.err;
    EXPECT_NE(again.out.find("Result: nothing to do."), std::string::npos) << again.out;
  }

  SyncWorld world_{"goto_roles"};
};

// full → SUPER_USER; a manager → exactly its privileges (any case in the file); changing them
// plans one update naming privileges; none → [] clears.
TEST_F(GotoRolesTest, AdminAndPrivilegesReachAdminRoles) {
  WriteRule("admin = \"full\"\n");
  Sync();
  EXPECT_EQ(UserList("adminRoles"), (Strings{"SUPER_USER"}));

  WriteRule("admin = \"manager\"\nprivileges = [\"run_reports\", \"MANAGE_USERS\"]\n");
  Sync();
  EXPECT_EQ(UserList("adminRoles"), (Strings{"MANAGE_USERS", "RUN_REPORTS"}));

  WriteRule("admin = \"manager\"\nprivileges = [\"MANAGE_USERS\", \"MANAGE_SEATS\"]\n");
  ProcessResult plan = world_.Usersync({"plan", "--format", "json"});
  ASSERT_EQ(plan.exit_code, 0) << plan.err;
  const testing::PlanJson plan_json = testing::ParsePlanJson(plan.out);
  ASSERT_EQ(plan_json.operations.size(), 1u) << plan.out;
  EXPECT_EQ(plan_json.operations[0].op, "update");
  EXPECT_NE(plan_json.operations[0].reason.find("privileges"), std::string::npos) << plan.out;
  EXPECT_EQ(plan_json.operations[0].reason.find("admin_role"), std::string::npos) << plan.out;
  EXPECT_NE(plan.out.find("\"MANAGE_SEATS,MANAGE_USERS\""), std::string::npos) << plan.out;
  SyncUntilInStep();
  EXPECT_EQ(UserList("adminRoles"), (Strings{"MANAGE_SEATS", "MANAGE_USERS"}));

  WriteRule("admin = \"none\"\n");
  Sync();
  EXPECT_TRUE(UserList("adminRoles").empty());
}

// An unknown privilege stops the run before anything is read or sent: exit 2, naming the
// file, the line and the key.
TEST_F(GotoRolesTest, UnknownPrivilegeIsRefusedAtLoad) {
  const std::string err =
      RefusedSync("admin = \"manager\"\nprivileges = [\"MANAGE_USERS\", \"BOSS\"]\n");
  EXPECT_TRUE(std::regex_search(err, std::regex(R"(usersync\.toml:[0-9]+:[0-9]+: )"))) << err;
  EXPECT_NE(err.find("privileges"), std::string::npos) << err;
  EXPECT_NE(err.find("BOSS"), std::string::npos) << err;
  EXPECT_EQ(world_.Stats().requests, 0);
}

// Role sets (custom roles; the emulator's defaults 1001 = Helpdesk, 1002 = Sales managers): a
// create assigns the rule's role set, moving to privileges removes it (and sets adminRoles),
// another role set is assigned by an update, admin = "none" removes it; each state is stable.
TEST_F(GotoRolesTest, RoleSetIsAssignedAndRemoved) {
  WriteRule("admin = \"manager\"\nrole_set = \"Helpdesk\"\n");
  SyncUntilInStep();
  EXPECT_EQ(UserList("roleSets"), (Strings{"<missing>"}));  // a JSON number: not a string
  EXPECT_EQ(testing::JsonView(UserBody()).Int("/results/0/roleSets/0"), 1001);
  EXPECT_TRUE(UserList("adminRoles").empty());

  WriteRule("admin = \"manager\"\nprivileges = [\"MANAGE_USERS\"]\n");
  SyncUntilInStep();
  EXPECT_TRUE(UserList("roleSets").empty());
  EXPECT_EQ(UserList("adminRoles"), (Strings{"MANAGE_USERS"}));

  WriteRule("admin = \"manager\"\nrole_set = \"Sales managers\"\n");
  SyncUntilInStep();
  EXPECT_EQ(testing::JsonView(UserBody()).Int("/results/0/roleSets/0"), 1002);
  EXPECT_TRUE(UserList("adminRoles").empty());

  WriteRule("admin = \"none\"\n");
  SyncUntilInStep();
  EXPECT_TRUE(UserList("roleSets").empty());
}

// A role set the GoTo account does not have stops the run before any change: exit 2, naming
// it and the ones the account has.
TEST_F(GotoRolesTest, UnknownRoleSetExits2) {
  const std::string err = RefusedSync("admin = \"manager\"\nrole_set = \"Nope\"\n");
  EXPECT_NE(err.find("\"Nope\""), std::string::npos) << err;
  EXPECT_NE(err.find("Helpdesk"), std::string::npos) << err;
}

// `check` reads the role sets the rules name, and refuses one the account lacks as the run
// would (exit 2), before anything is applied.
TEST_F(GotoRolesTest, CheckReadsTheRoleSetsTheRulesName) {
  WriteRule("admin = \"manager\"\nrole_set = \"Helpdesk\"\n");
  ProcessResult check = world_.Usersync({"check"});
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
  EXPECT_NE(check.out.find(
                "  role sets: \"Helpdesk\", \"Sales managers\" (GET /accounts/demo/rolesets;"),
            std::string::npos)
      << check.out;
  WriteRule("admin = \"manager\"\nrole_set = \"Nope\"\n");
  check = world_.Usersync({"check"});
  EXPECT_EQ(check.exit_code, 2) << check.out << check.err;
  EXPECT_NE(check.out.find("target: FAILED: role_set \"Nope\""), std::string::npos) << check.out;
  EXPECT_EQ(world_.Stats().writes(), 0);
}

}  // namespace
}  // namespace usersync
