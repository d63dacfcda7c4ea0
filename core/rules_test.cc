#include "core/rules.h"

#include <gtest/gtest.h>

#include "core/test_directory.h"

namespace usersync::core {
namespace {

using testing::AddTestGroup;
using testing::AddTestUser;
using testing::GroupDn;
using testing::UserDn;

Rule MakeRule(std::string name, int priority, std::string group, std::vector<std::string> products,
              std::vector<std::string> device_groups = {}) {
  Rule rule;
  rule.name = std::move(name);
  rule.priority = priority;
  rule.group = GroupDn(group);
  rule.products = std::move(products);
  rule.device_groups = std::move(device_groups);
  return rule;
}

class RulesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    DirectoryBuilder builder;
    for (const char* name : {"ann", "bob", "cid", "dan"}) AddTestUser(builder, {.name = name});
    AddTestGroup(builder, "organizers", {"ann", "g:nested"});
    AddTestGroup(builder, "nested", {"bob"});
    AddTestGroup(builder, "trainers", {"ann", "cid"});
    dir_ = std::move(builder).Finish();
  }
  int32_t RuleOf(const RuleAssignment& assignment, std::string_view user) {
    return assignment.rule_of_user[*dir_.FindUserByDn(UserDn(user))];
  }
  Directory dir_;
};

// ann is in both groups: the rule with the better (lower) priority number wins, whatever the
// order of the rules in the configuration.
TEST_F(RulesTest, FirstByPriorityWins) {
  RuleAssignment assignment =
      AssignRules(dir_, {MakeRule("Trainers", 2, "trainers", {"G2T"}),
                         MakeRule("Organizers", 1, "organizers", {"G2W", "G2M", "G2M"})});
  ASSERT_EQ(assignment.rules[0].name, "Organizers");
  EXPECT_EQ(assignment.rules[RuleOf(assignment, "ann")].name, "Organizers");
  EXPECT_EQ(assignment.rules[RuleOf(assignment, "bob")].name, "Organizers");  // nested
  EXPECT_EQ(assignment.rules[RuleOf(assignment, "cid")].name, "Trainers");
  EXPECT_EQ(RuleOf(assignment, "dan"), kNoRule);
  EXPECT_EQ(assignment.canonical_products[0], "G2M,G2W");
}

TEST_F(RulesTest, EqualPrioritiesKeepConfigurationOrder) {
  RuleAssignment assignment = AssignRules(dir_, {MakeRule("Trainers", 5, "trainers", {"G2T"}),
                                                 MakeRule("Organizers", 5, "organizers", {"G2M"})});
  EXPECT_EQ(assignment.rules[RuleOf(assignment, "ann")].name, "Trainers");
}

TEST_F(RulesTest, DeviceGroupsMergeAcrossMatchingRules) {
  RuleAssignment assignment =
      AssignRules(dir_, {MakeRule("Organizers", 1, "organizers", {"G2M"}, {"desk", "phones"}),
                         MakeRule("Trainers", 2, "trainers", {"G2T"}, {"rooms", "desk"})});
  EXPECT_EQ(assignment.merged_device_groups[*dir_.FindUserByDn(UserDn("ann"))],
            "desk,phones,rooms");
  EXPECT_EQ(assignment.merged_device_groups[*dir_.FindUserByDn(UserDn("cid"))], "desk,rooms");
  EXPECT_EQ(assignment.merged_device_groups[*dir_.FindUserByDn(UserDn("dan"))], "");
}

TEST_F(RulesTest, MissingRuleGroupIsReported) {
  RuleAssignment assignment = AssignRules(dir_, {MakeRule("Ghost", 1, "ghost", {"G2M"})});
  ASSERT_EQ(assignment.missing_groups.size(), 1u);
  EXPECT_EQ(assignment.missing_groups[0], GroupDn("ghost"));
  EXPECT_EQ(RuleOf(assignment, "ann"), kNoRule);
}

TEST(CanonicalList, SortsDeduplicatesAndDropsEmpties) {
  EXPECT_EQ(CanonicalList({"G2W", "", "G2M", "G2W"}), "G2M,G2W");
  EXPECT_EQ(CanonicalList({}), "");
}

}  // namespace
}  // namespace usersync::core
