// End-to-end for issue 14 item 2, attribute mappings: the real `usersync` binary against the
// real `usersync-target`, on the SCIM face and on the GoTo face. A mapping with an expression
// over a directory attribute beyond the fixed ones (departmentNumber, listed in
// source.attributes.extra) reaches the target, read back from the emulator itself; the next
// plan has no operation (it settles); changing the directory value plans exactly that update.
//
// SCIM: the enterprise extension's department. GoTo: the public API shows no user field beyond
// email, firstName, lastName and locale (io/goto/GOTO_SHAPES.md), so the mapping replaces the
// built-in firstName.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "tests/support/http_client.h"
#include "tests/support/json_view.h"
#include "tests/support/plan_json.h"
#include "tests/support/subprocess.h"
#include "tests/support/sync_world.h"

namespace usersync {
namespace {

using testing::Contains;
using testing::JsonView;
using testing::ProcessResult;
using testing::SyncWorld;
using testing::WorldConfig;

constexpr char kDepartment[] =
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department";

class MappingsTest : public ::testing::TestWithParam<const char*> {
 protected:
  bool goto_face() const { return std::string(GetParam()) == "goto"; }

  // user1 and user2; user1's departmentNumber is `department`.
  void WriteDirectory(const std::string& department) {
    const std::string ldif = testing::StaffDirectory(testing::NumberedUsers(2)).Ldif();
    world_.WriteLdif(absl::StrReplaceAll(
        ldif, {{"mail: user1@Example.com\n",
                absl::StrCat("mail: user1@Example.com\ndepartmentNumber: ", department, "\n")}}));
  }

  void WriteConfig() {
    WorldConfig config;
    config.target_kind = GetParam();
    config.source += "[source.attributes]\nextra = [\"departmentNumber\"]\n";
    const std::string target = goto_face() ? "firstName" : kDepartment;
    config.extra = absl::StrCat("[[mappings]]\ntarget = \"", target,
                                "\"\nexpression = 'Join(\" / \", [givenName], "
                                "[departmentNumber])'\n");
    world_.WriteConfig(config);
  }

  // The mapped value of user1 as the emulator holds it.
  std::string HeldValue() const {
    const std::string base = world_.target().base_url();
    if (goto_face()) {
      testing::HttpResult result = testing::HttpGet(
          absl::StrCat(base, "/admin/rest/v1/accounts/demo/users?filter=email%20eq%20%22",
                       "user1@example.com%22"),
          world_.token());
      EXPECT_EQ(result.status, 200) << result.body;
      return JsonView(result.body).Str("/results/0/firstName");
    }
    testing::HttpResult result = testing::HttpGet(
        absl::StrCat(base, "/scim/v2/Users?filter=userName%20eq%20%22user1%40example.com%22"),
        world_.token());
    EXPECT_EQ(result.status, 200) << result.body;
    EXPECT_TRUE(
        Contains(result.body, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"));
    return JsonView(result.body)
        .Str("/Resources/0/urn:ietf:params:scim:schemas:extension:enterprise:2.0:User/department");
  }

  SyncWorld world_{"mappings"};
};

TEST_P(MappingsTest, AnExpressionOverAnExtraAttributeReachesTheTargetAndSettles) {
  ASSERT_TRUE(world_.StartTarget().ok());
  WriteDirectory("Sales");
  WriteConfig();
  ProcessResult sync = world_.Usersync({"sync"});
  ASSERT_EQ(sync.exit_code, 0) << sync.out << sync.err;
  EXPECT_TRUE(testing::Lacks(sync.err, "warning"));
  EXPECT_EQ(HeldValue(), "First / Sales");

  ProcessResult settled = world_.Usersync({"plan", "--format", "json"});
  ASSERT_EQ(settled.exit_code, 0) << settled.err;
  EXPECT_TRUE(testing::ParsePlanJson(settled.out).operations.empty()) << settled.out;

  // user2 has no departmentNumber: Join skips it, so the value is "First" on both faces.
  WriteDirectory("Marketing");
  ProcessResult plan = world_.Usersync({"plan", "--format", "json"});
  ASSERT_EQ(plan.exit_code, 0) << plan.err;
  const testing::PlanJson planned = testing::ParsePlanJson(plan.out);
  ASSERT_EQ(planned.operations.size(), 1u) << plan.out;
  EXPECT_EQ(planned.operations[0].op, "update");
  EXPECT_EQ(planned.operations[0].directory_id, "uuid-user1");
  const std::string change = goto_face() ? "first_name" : absl::StrCat("attribute:", kDepartment);
  EXPECT_TRUE(Contains(planned.operations[0].reason, absl::StrCat("changed: ", change)))
      << planned.operations[0].reason;
  EXPECT_TRUE(Contains(plan.out, absl::StrCat("\"", change,
                                              "\":{\"before\":\"First / Sales\",\"after\":\"First "
                                              "/ Marketing\"}")));

  ProcessResult apply = world_.Usersync({"sync"});
  ASSERT_EQ(apply.exit_code, 0) << apply.out << apply.err;
  EXPECT_EQ(HeldValue(), "First / Marketing");
  ProcessResult again = world_.Usersync({"plan", "--format", "json"});
  EXPECT_TRUE(testing::ParsePlanJson(again.out).operations.empty()) << again.out;
}

// Issue 14 item 3 on the SCIM face: an account whose email differs from the directory's is
// matched by the mapped employeeNumber (not created again), linked, and then settles.
TEST(MappingsMatchingTest, MatchingOnEmployeeNumberLinksAccountsWhoseEmailsDiffer) {
  SyncWorld world("mappings-match");
  world.WriteFile("seed.jsonl",
                  absl::StrCat(R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],)",
                               R"("userName":"first.old@example.org","name":{"givenName":"First",)",
                               R"("familyName":"Sn1"},"active":true,")",
                               "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
                               R"(":{"employeeNumber":"E-1"}})", "\n"));
  ASSERT_TRUE(world.StartTarget({"--seed-accounts", world.Path("seed.jsonl")}).ok());
  const std::string ldif = testing::StaffDirectory(testing::NumberedUsers(2)).Ldif();
  world.WriteLdif(absl::StrReplaceAll(
      ldif, {{"mail: user1@Example.com\n", "mail: user1@Example.com\nemployeeNumber: E-1\n"}}));
  WorldConfig config;
  config.extra = absl::StrCat(
      "[matching]\norder = [\"link\", \"employeeNumber\", \"email\"]\n\n[[mappings]]\n"
      "target = \"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber\"\n"
      "source = \"employeeNumber\"\n");
  world.WriteConfig(config);

  ProcessResult plan = world.Usersync({"plan", "--format", "json"});
  ASSERT_EQ(plan.exit_code, 0) << plan.err;
  const testing::PlanJson planned = testing::ParsePlanJson(plan.out);
  ASSERT_EQ(planned.operations.size(), 2u) << plan.out;
  EXPECT_EQ(planned.operations[0].directory_id, "uuid-user1");
  EXPECT_EQ(planned.operations[0].op, "link");
  EXPECT_TRUE(Contains(planned.operations[0].reason,
                       "matched by urn:ietf:params:scim:schemas:"
                       "extension:enterprise:2.0:User:employeeNumber"));
  EXPECT_EQ(planned.operations[1].op, "create");  // user2 has no employeeNumber: no match

  ProcessResult sync = world.Usersync({"sync"});
  ASSERT_EQ(sync.exit_code, 0) << sync.out << sync.err;
  const std::map<std::string, testing::ScimAccount> accounts = world.ScimAccounts();
  EXPECT_EQ(accounts.size(), 2u);  // linked, not created again
  EXPECT_EQ(accounts.count("user1@example.com"), 1u);
  ProcessResult settled = world.Usersync({"plan", "--format", "json"});
  EXPECT_TRUE(testing::ParsePlanJson(settled.out).operations.empty()) << settled.out;
}

INSTANTIATE_TEST_SUITE_P(Faces, MappingsTest, ::testing::Values("goto", "scim"),
                         [](const ::testing::TestParamInfo<const char*>& param_info) {
                           return std::string(param_info.param);
                         });

}  // namespace
}  // namespace usersync
