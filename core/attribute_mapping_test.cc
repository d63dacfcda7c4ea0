// [[mappings]] in the plan: attributes of their own reach AccountSpec and are diffed as
// Field::kAttribute changes; replacements of built-in fields keep the fields' checks; sources,
// constants, expressions and defaults.
#include "core/attribute_mapping.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/expression.h"
#include "core/plan.h"
#include "core/test_directory.h"

namespace usersync::core {
namespace {

using testing::AddTestUser;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;
using testing::SyncedAccount;

constexpr char kDepartment[] =
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department";

AttributeMapping Source(std::string target, std::string source, std::string default_value = "") {
  AttributeMapping mapping;
  mapping.target = std::move(target);
  mapping.source = std::move(source);
  mapping.default_value = std::move(default_value);
  return mapping;
}

AttributeMapping Constant(std::string target, std::string value) {
  AttributeMapping mapping;
  mapping.target = std::move(target);
  mapping.kind = MappingSourceKind::kConstant;
  mapping.constant = std::move(value);
  return mapping;
}

AttributeMapping Expr(std::string target, Field field, std::string_view text) {
  AttributeMapping mapping;
  mapping.target = std::move(target);
  mapping.field = field;
  mapping.kind = MappingSourceKind::kExpression;
  mapping.expression = std::make_shared<const Expression>(*Expression::Parse(text));
  return mapping;
}

class AttributeMappingTest : public ::testing::Test {
 protected:
  // ann (departmentNumber "Sales"), bob (none); bob's account exists, in sync.
  void SetUp() override {
    DirectoryBuilder builder({"departmentNumber"});
    ColumnNames names;
    names.first_name = "givenName";
    names.last_name = "sn";
    builder.SetColumnNames(names);
    AddTestUser(builder, {.name = "ann", .extra = {"Sales"}});
    AddTestUser(builder, {.name = "bob", .extra = {""}});
    dir_ = std::move(builder).Finish();
    accounts_.items.push_back(SyncedAccount(accounts_, "bob", "a-bob"));
    links_.push_back({"id-bob", "a-bob", true});
  }
  Plan Compute() { return ComputePlan(dir_, accounts_, links_, {}, config_); }
  const Operation& Op(const Plan& plan, std::string_view directory_id) {
    for (const Operation& op : plan.operations) {
      if (op.directory_id == directory_id) return op;
    }
    ADD_FAILURE() << "no operation for " << directory_id;
    return plan.operations.front();
  }

  Directory dir_;
  Accounts accounts_;
  std::vector<Link> links_;
  PlanConfig config_;
};

TEST_F(AttributeMappingTest, NoMappingsNoAttributes) {
  Plan plan = Compute();
  ASSERT_EQ(plan.operations.size(), 1u);  // ann's create; bob is in sync
  EXPECT_TRUE(plan.operations[0].spec.attributes.empty());
}

TEST_F(AttributeMappingTest, SourceDefaultAndConstantFillTheSpec) {
  config_.mappings = {Source(kDepartment, "departmentNumber", "Unassigned"),
                      Constant("userType", "Employee")};
  Plan plan = Compute();
  EXPECT_THAT(Op(plan, "id-ann").spec.attributes,
              ElementsAre(Pair(kDepartment, "Sales"), Pair("userType", "Employee")));
  // bob's department is empty: the default. His account lacks both: one update with two changes.
  const Operation& bob = Op(plan, "id-bob");
  EXPECT_EQ(bob.kind, OpKind::kUpdate);
  ASSERT_EQ(bob.changes.size(), 2u);
  EXPECT_EQ(bob.changes[0].field, Field::kAttribute);
  EXPECT_EQ(bob.changes[0].path, kDepartment);
  EXPECT_EQ(bob.changes[0].before, "");
  EXPECT_EQ(bob.changes[0].after, "Unassigned");
  EXPECT_EQ(ChangeName(bob.changes[0]), std::string("attribute:") + kDepartment);
}

// A change of one mapped value plans exactly one update naming the attribute; equal values are
// in step, and a mapping yielding "" for an account without the attribute is no change.
TEST_F(AttributeMappingTest, OneChangedValuePlansOneUpdateNamingIt) {
  config_.mappings = {Source(kDepartment, "departmentNumber"), Source("title", "title")};
  Account& bob = accounts_.items[0];
  bob.attributes = {{kDepartment, "Marketing"}};
  dir_ = [] {
    DirectoryBuilder builder({"departmentNumber"});
    AddTestUser(builder, {.name = "bob", .extra = {"Marketing"}});
    return std::move(builder).Finish();
  }();
  EXPECT_TRUE(Compute().operations.empty());  // title reads "" (not read) and bob has none

  bob.attributes = {{kDepartment, "Sales"}};
  Plan plan = Compute();
  ASSERT_EQ(plan.operations.size(), 1u);
  const Operation& op = plan.operations[0];
  EXPECT_EQ(op.kind, OpKind::kUpdate);
  ASSERT_EQ(op.changes.size(), 1u);
  EXPECT_EQ(op.changes[0].path, kDepartment);
  EXPECT_EQ(op.changes[0].before, "Sales");
  EXPECT_EQ(op.changes[0].after, "Marketing");
  EXPECT_THAT(op.reason, HasSubstr(std::string("changed: attribute:") + kDepartment));
}

// Clearing: the directory value is gone, the account still holds one: the change writes "".
TEST_F(AttributeMappingTest, AnEmptyResultClearsAHeldValue) {
  config_.mappings = {Source(kDepartment, "departmentNumber")};
  accounts_.items[0].attributes = {{kDepartment, "Sales"}};
  const Plan plan = Compute();
  const Operation& op = Op(plan, "id-bob");
  ASSERT_EQ(op.changes.size(), 1u);
  EXPECT_EQ(op.changes[0].before, "Sales");
  EXPECT_EQ(op.changes[0].after, "");
}

TEST_F(AttributeMappingTest, AMappingReplacesABuiltInField) {
  config_.mappings = {Expr("displayName", Field::kDisplayName, "Join(\", \", [sn], [givenName])")};
  Plan plan = Compute();
  EXPECT_EQ(Op(plan, "id-ann").spec.display_name, "Last-ann, First-ann");
  const Operation& bob = Op(plan, "id-bob");
  ASSERT_EQ(bob.changes.size(), 1u);
  EXPECT_EQ(bob.changes[0].field, Field::kDisplayName);
  EXPECT_EQ(bob.changes[0].after, "Last-bob, First-bob");
}

// The built-in checks apply to the mapped value: a first name mapped to "" is "no first name".
TEST_F(AttributeMappingTest, ChecksApplyToTheMappedValue) {
  config_.mappings = {Source("name.givenName", "departmentNumber")};
  config_.mappings[0].field = Field::kFirstName;
  Plan plan = Compute();
  EXPECT_EQ(Op(plan, "id-ann").spec.first_name, "Sales");
  ASSERT_EQ(plan.count(Category::kInvalid), 1);
  for (const UserRow& row : plan.rows) {
    if (row.directory_id == "id-bob") {
      EXPECT_EQ(row.reason, "no first name");
    }
  }
}

TEST_F(AttributeMappingTest, AnExpressionReadsExtraAttributes) {
  config_.mappings = {Expr("title", Field::kAttribute,
                           "IIF(IsPresent([departmentNumber]), Join(\" / \", [departmentNumber], "
                           "[sn]), \"\")")};
  config_.mappings[0].default_value = "none";
  Plan plan = Compute();
  EXPECT_THAT(Op(plan, "id-ann").spec.attributes, ElementsAre(Pair("title", "Sales / Last-ann")));
  EXPECT_THAT(Op(plan, "id-bob").spec.attributes, ElementsAre(Pair("title", "none")));
}

// matching.order on a mapped attribute: an account whose email differs is matched by the
// mapped value; the same value on an account linked to another user is a conflict.
TEST_F(AttributeMappingTest, MatchingOnAMappedAttribute) {
  config_.mappings = {Source(kDepartment, "departmentNumber")};
  config_.match_order = {MatchMethod::kLink, MatchMethod::kAttribute, MatchMethod::kEmail};
  config_.match_attributes = {{kDepartment, Field::kAttribute}};
  Account other = SyncedAccount(accounts_, "other", "a-other");
  other.external_id = {};
  other.attributes = {{kDepartment, "Sales"}};  // ann's value, another email
  accounts_.items.push_back(other);
  Plan plan = Compute();
  const Operation& ann = Op(plan, "id-ann");
  EXPECT_EQ(ann.kind, OpKind::kLink);
  EXPECT_EQ(ann.account_id, "a-other");
  EXPECT_THAT(ann.reason, HasSubstr(std::string("matched by ") + kDepartment));

  links_.push_back({"id-zed", "a-other", true});  // now another user's account
  plan = Compute();
  ASSERT_EQ(plan.count(Category::kInvalid), 1);
  for (const UserRow& row : plan.rows) {
    if (row.directory_id == "id-ann") {
      EXPECT_THAT(row.reason, HasSubstr(std::string(kDepartment) +
                                        " matches account a-other, which is linked to directory "
                                        "id id-zed"));
    }
  }
}

TEST(AttributeMappingNames, ChangeNamesRoundTrip) {
  Field field = Field::kUserName;
  CompactString path;
  ASSERT_TRUE(ParseChangeName("attribute:title", &field, &path));
  EXPECT_EQ(field, Field::kAttribute);
  EXPECT_EQ(path, "title");
  ASSERT_TRUE(ParseChangeName("first_name", &field, &path));
  EXPECT_EQ(field, Field::kFirstName);
  EXPECT_EQ(path, "");
  EXPECT_FALSE(ParseChangeName("attribute:", &field, &path));
  EXPECT_FALSE(ParseChangeName("nickname", &field, &path));
}

}  // namespace
}  // namespace usersync::core
