#include "io/goto/goto_role_sets.h"

#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "io/goto/goto_target.h"
#include "io/http/testing/fake_target_server.h"
#include "tools/target/emulator_server.h"

namespace usersync::io {
namespace {

using ::testing::HasSubstr;

// §6's shape: ids of any JSON type (the source does not show it), kept as text.
TEST(GotoRoleSets, DecodesTheListing) {
  absl::StatusOr<std::vector<GotoRoleSet>> role_sets = DecodeGotoRoleSets(
      R"({"results": [{"id": 78888886011013972886849029, "name": "Helpdesk"},
                      {"id": "abc", "name": "Sales leads", "other": 1}]})");
  ASSERT_TRUE(role_sets.ok()) << role_sets.status();
  ASSERT_EQ(role_sets->size(), 2u);
  EXPECT_EQ((*role_sets)[0].id, "78888886011013972886849029");
  EXPECT_EQ((*role_sets)[0].name, "Helpdesk");
  EXPECT_EQ((*role_sets)[1].id, "abc");
  EXPECT_EQ(DecodeGotoRoleSets(R"({"items": []})").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(DecodeGotoRoleSets(R"({"results": [{"name": "x"}]})").status().message()),
              HasSubstr("id"));
}

TEST(GotoRoleSets, TableNamesIdsAndPathsAreEncoded) {
  const RoleSetTable table({{"7", "Helpdesk"}, {"12", "Sales"}});
  EXPECT_EQ(table.IdOf("Sales"), "12");
  EXPECT_EQ(table.IdOf("sales"), "");  // exact: another case would differ in every plan
  EXPECT_EQ(table.NameOf("7"), "Helpdesk");
  EXPECT_EQ(table.NameOf("99"), "99");
  EXPECT_EQ(table.NamesOf("12,7"), "Helpdesk,Sales");
  EXPECT_EQ(table.Names(), "\"Helpdesk\", \"Sales\"");
  EXPECT_EQ(RoleSetTable().Names(), "none");
  EXPECT_EQ(GotoAssignRoleSetPath("7", "a+b@x.com"),
            "/rolesets/7/users?filter=email%20eq%20%22a%2Bb%40x.com%22");
  EXPECT_EQ(GotoRemoveRoleSetPath("a@x.com"),
            "/users/rolesets?filter=email%20eq%20%22a%40x.com%22");
}

// The driver against the in-process emulator (role sets 1001 Helpdesk, 1002 Sales managers).
class GotoRoleSetsDriverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    emulator::EmulatorOptions options;
    options.token = http_testing::kTestToken;
    auto server = emulator::EmulatorServer::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(server).value();
    emulator::EmulatorUser user;
    user.user_name = user.email = "ann@example.com";
    user.first_name = "Ann";
    user.last_name = "Lee";
    auto view = server_->store().CreateUser(user);
    ASSERT_TRUE(view.ok()) << view.status();
    ann_ = view->user->id;
  }
  std::unique_ptr<GotoTarget> Target(std::vector<std::string> role_sets) const {
    GotoTargetOptions options;
    options.base_url = server_->goto_base_url();
    options.account_key = "demo";
    options.pipeline = http_testing::FastPipeline();
    options.role_sets = std::move(role_sets);
    auto target = GotoTarget::Start(std::move(options));
    EXPECT_TRUE(target.ok()) << target.status();
    return std::move(target).value();
  }
  // An update of ann's role set to `name` ("" removes it), for `email`.
  core::Operation RoleSetUpdate(const std::string& name,
                                const std::string& email = "ann@example.com") const {
    core::Operation op = http_testing::AccountOp(core::OpKind::kUpdate, ann_);
    op.spec.user_name = op.spec.email = email;
    op.spec.admin_role = name.empty() ? "" : "manager";
    op.spec.role_set = name;
    op.changes = {{core::Field::kRoleSet, "x", name}};
    return op;
  }

  std::unique_ptr<emulator::EmulatorServer> server_;
  std::string ann_;
};

TEST_F(GotoRoleSetsDriverTest, AssignsNamesAndRemoves) {
  auto target = Target({"Sales managers"});
  ASSERT_TRUE(target->ListAccounts().ok());
  OpOutcome assigned = http_testing::ExecuteOne(*target, RoleSetUpdate("Sales managers"));
  ASSERT_TRUE(assigned.status.ok()) << assigned.status;
  absl::StatusOr<core::Accounts> listed = target->ListAccounts();
  ASSERT_TRUE(listed.ok()) << listed.status();
  EXPECT_EQ(listed->items[0].role_set, "Sales managers");  // the id 1002, named
  EXPECT_EQ(listed->items[0].admin_role, "manager");
  ASSERT_TRUE(http_testing::ExecuteOne(*target, RoleSetUpdate("")).status.ok());
  listed = target->ListAccounts();
  ASSERT_TRUE(listed.ok()) << listed.status();
  EXPECT_EQ(listed->items[0].role_set, "");
  EXPECT_EQ(listed->items[0].admin_role, "");
}

TEST_F(GotoRoleSetsDriverTest, RefusesAnUnknownNameAndFailsTheOpWithTheReason) {
  absl::StatusOr<core::Accounts> refused = Target({"Helpdesk", "Nope"})->ListAccounts();
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(refused.status().message()),
              AllOf(HasSubstr("\"Nope\""), HasSubstr("\"Sales managers\"")));
  auto target = Target({"Helpdesk"});
  ASSERT_TRUE(target->ListAccounts().ok());
  // The role-set request fails (no such user at GoTo): the operation fails, saying why.
  OpOutcome failed = http_testing::ExecuteOne(*target, RoleSetUpdate("", "ghost@example.com"));
  EXPECT_EQ(failed.status.code(), absl::StatusCode::kNotFound) << failed.status;
  EXPECT_THAT(std::string(failed.status.message()), HasSubstr("removing the user's role set"));
}

}  // namespace
}  // namespace usersync::io
