#include "core/scope.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/test_directory.h"

namespace usersync::core {
namespace {

using testing::AddTestGroup;
using ::testing::ElementsAre;
using testing::GroupDn;
using ::testing::IsEmpty;
using testing::UserDn;

// ann is in cn=staff; eve is named by DN, ida by id; carl has title "Contractor"; dan has
// nothing; off is in cn=staff but disabled. One extra column: title.
class ScopeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    DirectoryBuilder builder({"title"});
    for (const auto& [name, title, disabled] :
         std::vector<std::tuple<std::string, std::string, bool>>{{"ann", "Engineer", false},
                                                                 {"eve", "", false},
                                                                 {"ida", "", false},
                                                                 {"carl", "Contractor", false},
                                                                 {"dan", "Manager", false},
                                                                 {"off", "Contractor", true}}) {
      AddUser(builder, name, title, disabled);
    }
    AddTestGroup(builder, "staff", {"ann", "off"});
    dir_ = std::move(builder).Finish();
    filter_.columns = {"entryUUID", "uid", "mail", "givenName", "sn", "cn", "preferredLanguage"};
  }

  static void AddUser(DirectoryBuilder& builder, const std::string& name, const std::string& title,
                      bool disabled) {
    const std::string dn = UserDn(name);
    const std::string id = "id-" + name;
    const std::string email = name + "@example.com";
    const std::string first = "First-" + name;
    UserRecord record;
    record.dn = dn;
    record.id = id;
    record.user_name = name;
    record.email = email;
    record.first_name = first;
    record.last_name = "Last";
    record.disabled = disabled;
    record.extra = {title};
    builder.AddUser(record);
  }

  // The names of the users with in_scope set, in directory order.
  std::vector<std::string> InScope(const ScopeResult& scope) const {
    std::vector<std::string> out;
    for (uint32_t user = 0; user < dir_.user_count(); ++user) {
      if (scope.in_scope[user]) out.emplace_back(dir_.user_name[user]);
    }
    return out;
  }

  const ScopeFilter* Filter(const std::string& text) {
    absl::StatusOr<LdapFilter> parsed = ParseLdapFilter(text);
    EXPECT_TRUE(parsed.ok()) << parsed.status();
    filter_.text = text;
    filter_.filter = parsed.ok() ? *std::move(parsed) : LdapFilter{};
    return &filter_;
  }

  uint32_t User(const std::string& name) const { return *dir_.FindUserById("id-" + name); }

  Directory dir_;
  ScopeFilter filter_;
};

// None of groups, users and filter: every enabled user, as before scope.users and scope.filter.
TEST_F(ScopeTest, NothingConfiguredSelectsEveryEnabledUser) {
  ScopeResult scope = ComputeScope(dir_, {}, {}, nullptr);
  EXPECT_THAT(InScope(scope), ElementsAre("ann", "eve", "ida", "carl", "dan"));
  EXPECT_EQ(scope.selected_by[User("dan")], kSelectedByEveryone);
}

// A user is in scope when any of the three selects it.
TEST_F(ScopeTest, GroupsUsersAndFilterAreAUnion) {
  const std::vector<std::string> groups = {GroupDn("staff")};
  const std::vector<std::string> users = {UserDn("eve"), "id-ida"};
  ScopeResult scope = ComputeScope(dir_, groups, users, Filter("(title=contractor)"));
  EXPECT_THAT(InScope(scope), ElementsAre("ann", "eve", "ida", "carl"));
  EXPECT_EQ(scope.selected_by[User("ann")], kSelectedByGroup);
  EXPECT_EQ(scope.selected_by[User("eve")], kSelectedByUser);
  EXPECT_EQ(scope.selected_by[User("ida")], kSelectedByUser);
  EXPECT_EQ(scope.selected_by[User("carl")], kSelectedByFilter);
  EXPECT_EQ(scope.selected_by[User("dan")], 0);
  // off is selected twice (group and filter) and stays out: disabled.
  EXPECT_EQ(scope.selected_by[User("off")], kSelectedByGroup | kSelectedByFilter);
  EXPECT_EQ(scope.in_scope[User("off")], 0);
}

// scope.users alone: only the named users; a DN compares as a DN (case, spaces); entries the
// directory lacks are reported as configured.
TEST_F(ScopeTest, DirectlyAssignedUsersByDnOrIdAndMissingOnesReported) {
  const std::vector<std::string> users = {"UID=eve, ou=People,dc=example,dc=com", "id-dan",
                                          "uid=nobody,ou=people,dc=example,dc=com", "id-none"};
  ScopeResult scope = ComputeScope(dir_, {}, users, nullptr);
  EXPECT_THAT(InScope(scope), ElementsAre("eve", "dan"));
  EXPECT_THAT(scope.missing_users,
              ElementsAre("uid=nobody,ou=people,dc=example,dc=com", "id-none"));
  EXPECT_THAT(scope.missing_groups, IsEmpty());
}

// The filter reads the fixed columns under their configured attribute names.
TEST_F(ScopeTest, FilterReadsFixedColumnsUnderTheirAttributeNames) {
  EXPECT_THAT(InScope(ComputeScope(dir_, {}, {}, Filter("(|(mail=ann@EXAMPLE.com)(uid=dan))"))),
              ElementsAre("ann", "dan"));
  EXPECT_THAT(InScope(ComputeScope(dir_, {}, {}, Filter("(&(givenName=first-*)(!(sn=Last)))"))),
              IsEmpty());
  EXPECT_THAT(InScope(ComputeScope(dir_, {}, {}, Filter("(entryUUID=id-eve)"))),
              ElementsAre("eve"));
  // Under another configured name, "mail" is no column: absent.
  filter_.columns.email = "userPrincipalName";
  EXPECT_THAT(InScope(ComputeScope(dir_, {}, {}, Filter("(mail=ann@example.com)"))), IsEmpty());
}

// An attribute the source did not read is absent: its equality is false, its negation true.
TEST_F(ScopeTest, FilterOnAnAttributeNotReadSeesItAbsent) {
  EXPECT_THAT(InScope(ComputeScope(dir_, {}, {}, Filter("(department=*)"))), IsEmpty());
  EXPECT_THAT(InScope(ComputeScope(dir_, {}, {}, Filter("(!(department=Sales))"))),
              ElementsAre("ann", "eve", "ida", "carl", "dan"));
  // An empty extra value is absent too: eve and ida have no title.
  EXPECT_THAT(InScope(ComputeScope(dir_, {}, {}, Filter("(!(TITLE=*))"))),
              ElementsAre("eve", "ida"));
}

// A missing scope group selects no one and is reported; the others still select.
TEST_F(ScopeTest, MissingGroupIsReported) {
  const std::vector<std::string> groups = {GroupDn("nope")};
  const std::vector<std::string> users = {"id-eve"};
  ScopeResult scope = ComputeScope(dir_, groups, users, nullptr);
  EXPECT_THAT(scope.missing_groups, ElementsAre(GroupDn("nope")));
  EXPECT_THAT(InScope(scope), ElementsAre("eve"));
}

// scope.require_rule: users in scope with no rule leave it and are marked; others are kept.
TEST_F(ScopeTest, LeaveOutUncoveredMarksUsersNoRuleCovers) {
  ScopeResult scope = ComputeScope(dir_, {}, {}, nullptr);
  Rule rule;
  rule.name = "Staff";
  rule.group = GroupDn("staff");
  RuleAssignment rules = AssignRules(dir_, {rule});
  LeaveOutUncovered(rules, scope);
  EXPECT_THAT(InScope(scope), ElementsAre("ann"));
  EXPECT_EQ(scope.no_rule[User("eve")], 1);
  EXPECT_EQ(scope.no_rule[User("ann")], 0);
  EXPECT_EQ(scope.no_rule[User("off")], 0);  // disabled: out of scope anyway, not for a rule
}

TEST(ScopeFilterAttributes, EachNameOnceInFirstSeenOrder) {
  absl::StatusOr<LdapFilter> filter =
      ParseLdapFilter("(&(title=a)(|(Dept=b)(TITLE=c))(!(mail=*)))");
  ASSERT_TRUE(filter.ok()) << filter.status();
  EXPECT_THAT(FilterAttributes(*filter), ElementsAre("title", "Dept", "mail"));
}

}  // namespace
}  // namespace usersync::core
