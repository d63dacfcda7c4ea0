// The plan and explain with scope.users, scope.filter and scope.require_rule (core/scope.h).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/explain.h"
#include "core/plan.h"
#include "core/test_directory.h"

namespace usersync::core {
namespace {

using testing::AddTestGroup;
using testing::AddTestUser;
using testing::GroupDn;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::SyncedAccount;
using testing::UserDn;

// ann and bob are in cn=staff (bob also in cn=sales); eve and lin are in no group; a rule covers
// cn=sales only. lin holds a linked account.
class PlanScopeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    DirectoryBuilder builder;
    for (const char* name : {"ann", "bob", "eve", "lin"}) AddTestUser(builder, {.name = name});
    AddTestGroup(builder, "staff", {"ann", "bob"});
    AddTestGroup(builder, "sales", {"bob", "lin"});
    dir_ = std::move(builder).Finish();
    config_.scope_groups = {GroupDn("staff")};
    config_.deprovision.max_changes_percent = 100;
    Rule rule;
    rule.name = "Sales";
    rule.group = GroupDn("sales");
    rule.products = {"G2M"};
    config_.rules = {rule};
  }

  Plan Compute() { return ComputePlan(dir_, accounts_, links_, {}, config_); }

  const UserRow* Row(const Plan& plan, const std::string& name) const {
    for (const UserRow& row : plan.rows) {
      if (row.directory_id == "id-" + name) return &row;
    }
    return nullptr;
  }
  const Operation* Op(const Plan& plan, const std::string& name) const {
    for (const Operation& op : plan.operations) {
      if (op.directory_id == "id-" + name) return &op;
    }
    return nullptr;
  }

  // lin holds account a-lin, linked and in step with rule Sales.
  void LinkLin() {
    Account account = SyncedAccount(accounts_, "lin", "a-lin");
    account.products = accounts_.Store("G2M");
    accounts_.items.push_back(account);
    links_.push_back({"id-lin", "a-lin", true});
  }

  Explanation ExplainOne(const Plan& plan, const std::string& name) const {
    std::vector<Explanation> out =
        Explain(dir_, accounts_, links_, {}, config_, plan, "id-" + name);
    EXPECT_EQ(out.size(), 1u);
    return out.empty() ? Explanation{} : out.front();
  }

  Directory dir_;
  Accounts accounts_;
  std::vector<Link> links_;
  PlanConfig config_;
};

// A user named in scope.users is in scope beside the group's members and gets an account.
TEST_F(PlanScopeTest, DirectlyAssignedUserIsCreated) {
  config_.scope_users = {UserDn("eve")};
  Plan plan = Compute();
  EXPECT_EQ(plan.in_scope, 3);
  ASSERT_NE(Op(plan, "eve"), nullptr);
  EXPECT_EQ(Op(plan, "eve")->kind, OpKind::kCreate);
  EXPECT_EQ(Op(plan, "lin"), nullptr);  // in cn=sales only: not in scope
  EXPECT_THAT(plan.warnings, IsEmpty());

  const Explanation eve = ExplainOne(plan, "eve");
  EXPECT_TRUE(eve.in_scope);
  EXPECT_TRUE(eve.scope_direct);
  EXPECT_THAT(FormatExplanation(eve), HasSubstr("In scope: directly assigned (scope.users)"));
}

// A filter selects beside the groups; explain names it.
TEST_F(PlanScopeTest, FilterSelectsBesideTheGroups) {
  absl::StatusOr<LdapFilter> filter = ParseLdapFilter("(mail=lin@example.com)");
  ASSERT_TRUE(filter.ok());
  config_.scope_filter = ScopeFilter{"(mail=lin@example.com)", *filter, {.email = "mail"}};
  Plan plan = Compute();
  ASSERT_NE(Op(plan, "lin"), nullptr);
  EXPECT_EQ(Op(plan, "lin")->kind, OpKind::kCreate);
  EXPECT_EQ(Op(plan, "eve"), nullptr);

  EXPECT_THAT(FormatExplanation(ExplainOne(plan, "lin")),
              HasSubstr("In scope: matches scope.filter (mail=lin@example.com)"));
  const Explanation eve = ExplainOne(plan, "eve");
  EXPECT_EQ(eve.category, "out_of_scope");
  EXPECT_EQ(eve.reason,
            "not a member (direct or nested) of any scoped group; does not match scope.filter "
            "(mail=lin@example.com)");
}

// A missing scope.users entry is a plan warning (the run refuses it before planning).
TEST_F(PlanScopeTest, MissingDirectUserIsWarned) {
  config_.scope_users = {"id-nobody"};
  Plan plan = Compute();
  EXPECT_THAT(plan.warnings,
              ::testing::Contains("scope user not found in the directory: id-nobody"));
}

// Without require_rule a user no rule covers gets an account with no products (as before).
TEST_F(PlanScopeTest, WithoutRequireRuleAnUncoveredUserGetsNoProducts) {
  Plan plan = Compute();
  ASSERT_NE(Op(plan, "ann"), nullptr);
  EXPECT_EQ(Op(plan, "ann")->kind, OpKind::kCreate);
  EXPECT_EQ(Op(plan, "ann")->spec.products, "");
}

// require_rule: ann (no rule) gets no account and shows as invalid with the reason; bob (rule
// Sales) is created.
TEST_F(PlanScopeTest, RequireRuleLeavesAnUncoveredUserOutWithItsReason) {
  config_.require_rule = true;
  Plan plan = Compute();
  EXPECT_EQ(Op(plan, "ann"), nullptr);
  ASSERT_NE(Row(plan, "ann"), nullptr);
  EXPECT_EQ(Row(plan, "ann")->category, Category::kInvalid);
  EXPECT_EQ(Row(plan, "ann")->reason, "no rule covers this user (scope.require_rule)");
  ASSERT_NE(Op(plan, "bob"), nullptr);
  EXPECT_EQ(Op(plan, "bob")->kind, OpKind::kCreate);
  EXPECT_EQ(plan.in_scope, 1);
  EXPECT_EQ(plan.count(Category::kInvalid), 1);

  const Explanation ann = ExplainOne(plan, "ann");
  EXPECT_FALSE(ann.in_scope);
  EXPECT_TRUE(ann.no_rule);
  EXPECT_EQ(ann.category, "invalid");
  EXPECT_THAT(FormatExplanation(ann),
              HasSubstr("Out of scope: no rule covers this user (scope.require_rule)"));
}

// require_rule: a linked user that no rule covers departs through the usual path (a
// deactivation, subject to the threshold), saying why; it has one row, not two.
TEST_F(PlanScopeTest, RequireRuleDepartsALinkedUserUnderTheThreshold) {
  LinkLin();
  config_.scope_users = {"id-lin"};
  config_.rules.front().group = GroupDn("staff");  // covers ann and bob, not lin
  config_.require_rule = true;
  Plan plan = Compute();
  const Operation* lin = Op(plan, "lin");
  ASSERT_NE(lin, nullptr);
  EXPECT_EQ(lin->kind, OpKind::kDeactivate);
  EXPECT_THAT(lin->reason, HasSubstr("no rule covers this user (scope.require_rule)"));
  EXPECT_FALSE(lin->held);
  int lin_rows = 0;
  for (const UserRow& row : plan.rows) lin_rows += row.directory_id == "id-lin";
  EXPECT_EQ(lin_rows, 1);
  EXPECT_EQ(Row(plan, "lin")->category, Category::kDeparted);

  // The same plan under a threshold of 0 deactivations: held, as any departure.
  config_.deprovision.max_changes = 0;
  Plan held = Compute();
  ASSERT_NE(Op(held, "lin"), nullptr);
  EXPECT_TRUE(Op(held, "lin")->held);
  EXPECT_TRUE(held.deprovision_held);
}

// A linked user that scope.users no longer names departs, and the reason names the assignments.
TEST_F(PlanScopeTest, AUserNoLongerAssignedDepartsNamingTheAssignments) {
  LinkLin();
  config_.scope_users = {"id-eve"};  // lin is in no scoped group and no longer named
  Plan plan = Compute();
  ASSERT_NE(Op(plan, "lin"), nullptr);
  EXPECT_EQ(Op(plan, "lin")->kind, OpKind::kDeactivate);
  EXPECT_EQ(Op(plan, "lin")->reason,
            "departed: no longer selected by scope.groups, scope.users or scope.filter");
}

}  // namespace
}  // namespace usersync::core
