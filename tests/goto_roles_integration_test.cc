// End-to-end for issue 13 item 4 (GoTo admin roles): the real `usersync` binary against the
// real `usersync-target` on its GoTo face. A rule's admin / privileges reach the users'
// adminRoles (io/goto/goto_roles.h), a change of privileges plans exactly that update, and a
// bad privilege is refused at load with the file's line.
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

  // user1's array `name` ("adminRoles", "roleSets") as GoTo lists it.
  Strings UserList(const std::string& name) const {
    testing::HttpResult page =
        testing::HttpGet(world_.target().base_url() +
                             "/admin/rest/v1/accounts/demo/users?filter=email%20eq%20%22"
                             "user1%40example.com%22",
                         world_.token());
    EXPECT_EQ(page.status, 200) << page.body;
    testing::JsonView listing(page.body);
    EXPECT_EQ(listing.Size("/results"), 1) << page.body;
    return listing.Strings("/results/0/" + name);
  }

  void Sync() {
    ProcessResult run = world_.Usersync({"sync"});
    ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
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
  Sync();
  EXPECT_EQ(UserList("adminRoles"), (Strings{"MANAGE_SEATS", "MANAGE_USERS"}));
  ProcessResult again = world_.Usersync({"sync"});
  ASSERT_EQ(again.exit_code, 0) << again.out << again.err;
  EXPECT_NE(again.out.find("Result: nothing to do."), std::string::npos) << again.out;

  WriteRule("admin = \"none\"\n");
  Sync();
  EXPECT_TRUE(UserList("adminRoles").empty());
}

// An unknown privilege stops the run before anything is read or sent: exit 2, naming the
// file, the line and the key.
TEST_F(GotoRolesTest, UnknownPrivilegeIsRefusedAtLoad) {
  WriteRule("admin = \"manager\"\nprivileges = [\"MANAGE_USERS\", \"BOSS\"]\n");
  ProcessResult run = world_.Usersync({"sync"});
  EXPECT_EQ(run.exit_code, 2) << run.out << run.err;
  EXPECT_TRUE(std::regex_search(run.err, std::regex(R"(usersync\.toml:[0-9]+:[0-9]+: )")))
      << run.err;
  EXPECT_NE(run.err.find("privileges"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("BOSS"), std::string::npos) << run.err;
  EXPECT_EQ(world_.Stats().requests, 0);
}

}  // namespace
}  // namespace usersync
