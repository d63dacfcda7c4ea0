#include "core/directory.h"

#include <gtest/gtest.h>

#include "core/test_directory.h"

namespace usersync::core {
namespace {

using testing::AddTestGroup;
using testing::AddTestUser;
using testing::GroupDn;
using testing::UserDn;

TEST(Directory, ResolvesMembersByNormalizedDn) {
  DirectoryBuilder builder;
  AddTestUser(builder, {.name = "ann"});
  AddTestUser(builder, {.name = "bob"});
  builder.AddGroup(GroupDn("staff"), "staff");
  builder.AddMember("UID=Ann , OU=People,DC=example,DC=com");
  builder.AddMember(GroupDn("other"));
  builder.AddMember("uid=ghost,ou=people,dc=example,dc=com");
  AddTestGroup(builder, "other", {"bob"});
  Directory dir = std::move(builder).Finish();

  ASSERT_EQ(dir.user_count(), 2u);
  ASSERT_EQ(dir.group_count(), 2u);
  auto [begin, end] = dir.MembersOf(*dir.FindGroupByDn(GroupDn("staff")));
  ASSERT_EQ(end - begin, 2);
  EXPECT_FALSE(begin[0].is_group());
  EXPECT_EQ(begin[0].index(), *dir.FindUserByDn(UserDn("ann")));
  EXPECT_TRUE(begin[1].is_group());
  EXPECT_EQ(begin[1].index(), *dir.FindGroupByDn("CN=other,ou=groups,dc=example,dc=com"));
  EXPECT_EQ(dir.unresolved_member_count, 1u);
  ASSERT_EQ(dir.unresolved_examples.size(), 1u);
  EXPECT_EQ(dir.unresolved_examples[0].second, "uid=ghost,ou=people,dc=example,dc=com");
}

// A member value may escape differently from the entry's own DN (RFC 4514): "\2C", "\2c" and
// "\," are one comma, so the member resolves; so does a scope group written with a hex escape.
TEST(Directory, MembersAndGroupsResolveWhateverTheEscapes) {
  DirectoryBuilder builder;
  UserRecord lee;
  lee.dn = "cn=Lee\\, Ann,ou=people,dc=example,dc=com";
  lee.id = "lee";
  builder.AddUser(lee);
  builder.AddGroup("cn=Sales\\2C EMEA,ou=groups,dc=example,dc=com", "Sales, EMEA");
  builder.AddMember("CN=Lee\\2C Ann, OU=People, DC=example, DC=com");
  builder.AddMember("cn=lee\\2c ann,ou=people,dc=example,dc=com");
  Directory dir = std::move(builder).Finish();

  EXPECT_EQ(dir.unresolved_member_count, 0u);
  const std::optional<uint32_t> group =
      dir.FindGroupByDn("cn=Sales\\, EMEA,ou=groups,dc=example,dc=com");
  ASSERT_TRUE(group.has_value());
  auto [begin, end] = dir.MembersOf(*group);
  ASSERT_EQ(end - begin, 2);
  EXPECT_EQ(begin[0].index(), *dir.FindUserByDn("cn=\\4Cee\\2C Ann,ou=people,dc=example,dc=com"));
  EXPECT_EQ(begin[1].index(), begin[0].index());
  EXPECT_FALSE(dir.FindGroupByDn("cn=Sales,cn=EMEA,ou=groups,dc=example,dc=com").has_value());
}

TEST(Directory, DuplicateDnAndIdAreReportedNotAdded) {
  DirectoryBuilder builder;
  AddTestUser(builder, {.name = "ann"});
  AddTestUser(builder, {.name = "ann"});  // same DN
  UserRecord same_id;
  same_id.dn = "uid=other,ou=people,dc=example,dc=com";
  same_id.id = "id-ann";
  builder.AddUser(same_id);
  Directory dir = std::move(builder).Finish();
  EXPECT_EQ(dir.user_count(), 1u);
  ASSERT_EQ(dir.issues.size(), 2u);
  EXPECT_NE(dir.issues[0].reason.find("duplicate DN"), std::string::npos);
  EXPECT_NE(dir.issues[1].reason.find("duplicate directory id"), std::string::npos);
}

TEST(Directory, ValuesAreTrimmedAndMissingIdFallsBackToDn) {
  DirectoryBuilder builder({"title"});
  UserRecord record;
  record.dn = " uid=Ann,ou=people,dc=example,dc=com ";
  record.email = "  ann@example.com ";
  record.extra = {" Engineer "};
  builder.AddUser(record);
  Directory dir = std::move(builder).Finish();
  ASSERT_EQ(dir.user_count(), 1u);
  EXPECT_EQ(dir.email[0], "ann@example.com");
  EXPECT_EQ(dir.user_id[0], "uid=ann,ou=people,dc=example,dc=com");
  EXPECT_EQ(dir.extra[0][0], "Engineer");
  EXPECT_EQ(dir.FindUserById("uid=ann,ou=people,dc=example,dc=com"), 0u);
}

TEST(Directory, GroupListedTwiceMergesMembers) {
  DirectoryBuilder builder;
  AddTestUser(builder, {.name = "ann"});
  AddTestUser(builder, {.name = "bob"});
  AddTestGroup(builder, "big", {"ann"});
  AddTestGroup(builder, "BIG", {"bob"});  // e.g. a second ranged read of one group
  Directory dir = std::move(builder).Finish();
  ASSERT_EQ(dir.group_count(), 1u);
  auto [begin, end] = dir.MembersOf(0);
  EXPECT_EQ(end - begin, 2);
}

// The LDAP source merges groups before users: members named before their entries resolve.
TEST(Directory, MembersNamedBeforeTheirEntriesResolve) {
  DirectoryBuilder builder;
  AddTestGroup(builder, "outer", {"g:inner", "ann", "ghost"});
  AddTestGroup(builder, "inner", {"bob"});
  AddTestUser(builder, {.name = "ann"});
  AddTestUser(builder, {.name = "bob"});
  Directory dir = std::move(builder).Finish();
  auto [begin, end] = dir.MembersOf(*dir.FindGroupByDn(GroupDn("outer")));
  ASSERT_EQ(end - begin, 2);
  EXPECT_TRUE(begin[0].is_group());
  EXPECT_EQ(begin[0].index(), *dir.FindGroupByDn(GroupDn("inner")));
  EXPECT_FALSE(begin[1].is_group());
  EXPECT_EQ(begin[1].index(), *dir.FindUserByDn(UserDn("ann")));
  EXPECT_EQ(dir.unresolved_member_count, 1u);
  ASSERT_EQ(dir.unresolved_examples.size(), 1u);
  EXPECT_EQ(dir.unresolved_examples[0].first, GroupDn("outer"));
  EXPECT_EQ(dir.unresolved_examples[0].second, UserDn("ghost"));
  // A DN known only as a member is neither a user nor a group.
  EXPECT_EQ(dir.FindUserByDn(UserDn("ghost")), std::nullopt);
  EXPECT_EQ(dir.FindGroupByDn(UserDn("ghost")), std::nullopt);
}

// An entry that matched both the user and the group filter is both; as a member it is the user.
TEST(Directory, DnCarriedByAUserAndAGroupResolvesToTheUser) {
  DirectoryBuilder builder;
  AddTestUser(builder, {.name = "ann"});
  builder.AddGroup(UserDn("ann"), "ann's group");
  AddTestGroup(builder, "staff", {"ann"});
  Directory dir = std::move(builder).Finish();
  ASSERT_TRUE(dir.FindUserByDn(UserDn("ann")).has_value());
  ASSERT_TRUE(dir.FindGroupByDn(UserDn("ann")).has_value());
  auto [begin, end] = dir.MembersOf(*dir.FindGroupByDn(GroupDn("staff")));
  ASSERT_EQ(end - begin, 1);
  EXPECT_FALSE(begin[0].is_group());
  EXPECT_TRUE(dir.issues.empty());
}

// A user refused for a duplicate id leaves nothing behind: its DN finds no user, and a group
// that names it counts it unresolved.
TEST(Directory, UserRefusedForDuplicateIdIsNotAMember) {
  DirectoryBuilder builder;
  AddTestUser(builder, {.name = "ann"});
  const std::string other_dn = UserDn("other");  // UserRecord holds views
  UserRecord same_id;
  same_id.dn = other_dn;
  same_id.id = "id-ann";
  builder.AddUser(same_id);
  AddTestGroup(builder, "staff", {"ann", "other"});
  Directory dir = std::move(builder).Finish();
  EXPECT_EQ(dir.user_count(), 1u);
  EXPECT_EQ(dir.FindUserByDn(UserDn("other")), std::nullopt);
  EXPECT_EQ(dir.FindUserById("id-ann"), 0u);
  EXPECT_EQ(dir.unresolved_member_count, 1u);
  auto [begin, end] = dir.MembersOf(*dir.FindGroupByDn(GroupDn("staff")));
  EXPECT_EQ(end - begin, 1);
}

// Members keep the order they were added in, also when a group's members come in two parts
// with another group's in between.
TEST(Directory, MemberOrderIsKeptAcrossInterleavedGroups) {
  DirectoryBuilder builder;
  for (const char* name : {"a", "b", "c", "d", "e"}) AddTestUser(builder, {.name = name});
  AddTestGroup(builder, "one", {"c", "a"});
  AddTestGroup(builder, "two", {"e"});
  AddTestGroup(builder, "one", {"b", "d"});  // listed twice: merged
  Directory dir = std::move(builder).Finish();
  auto names = [&](uint32_t group) {
    std::vector<std::string_view> out;
    auto [begin, end] = dir.MembersOf(group);
    for (const MemberRef* m = begin; m != end; ++m) out.push_back(dir.user_dn[m->index()]);
    return out;
  };
  EXPECT_EQ(names(0),
            (std::vector<std::string_view>{UserDn("c"), UserDn("a"), UserDn("b"), UserDn("d")}));
  EXPECT_EQ(names(1), (std::vector<std::string_view>{UserDn("e")}));
}

// The builder resolves member values in batches (Directory::SlotsFor): a group longer than a
// batch, with a DN repeated inside one batch, DNs no entry carries (one of them twice in a row)
// and a member that names a group added later, comes out as one value at a time would give it.
TEST(Directory, LongMemberListsResolveInOrderAcrossBatches) {
  DirectoryBuilder builder;
  constexpr int kUsers = 100;
  for (int user = 0; user < kUsers; ++user) AddTestUser(builder, {.name = std::to_string(user)});
  builder.AddGroup(GroupDn("big"), "big");
  std::vector<std::string> want;  // the user DN of each resolved member, in order
  std::vector<std::string> ghosts;
  for (int step = 0; step < 3 * kUsers; ++step) {
    const std::string name = std::to_string(step * 37 % kUsers);
    builder.AddMember("UID=" + name + ", OU=People, DC=example, DC=com");
    want.push_back(UserDn(name));
    if (step % 10 == 0) {
      ghosts.push_back(UserDn("ghost" + std::to_string(step)));
      builder.AddMember(ghosts.back());
      builder.AddMember(ghosts.back());
    }
  }
  builder.AddMember(GroupDn("later"));
  AddTestGroup(builder, "later", {"7"});
  Directory dir = std::move(builder).Finish();

  auto [begin, end] = dir.MembersOf(*dir.FindGroupByDn(GroupDn("big")));
  ASSERT_EQ(end - begin, static_cast<ptrdiff_t>(want.size() + 1));
  for (size_t idx = 0; idx < want.size(); ++idx) {
    ASSERT_FALSE(begin[idx].is_group()) << idx;
    ASSERT_EQ(dir.user_dn[begin[idx].index()], want[idx]) << idx;
  }
  EXPECT_TRUE(begin[want.size()].is_group());
  EXPECT_EQ(begin[want.size()].index(), *dir.FindGroupByDn(GroupDn("later")));
  ASSERT_EQ(dir.unresolved_member_count, 2 * ghosts.size());
  for (size_t idx = 0; idx < dir.unresolved_members.size(); ++idx) {
    EXPECT_EQ(dir.unresolved_members[idx].second, ghosts[idx / 2]) << idx;
  }
}

// HintDns changes no result: a hinted entry that never comes, entries that come unhinted, a
// hinted group and hints left over when the next batch is hinted are all as without hints.
TEST(Directory, HintedDnsGiveTheSameDirectory) {
  DirectoryBuilder builder;
  AddTestGroup(builder, "staff", {"ann", "bob", "cy"});
  const std::vector<std::string> hinted = {UserDn("ann"), UserDn("skipped"), UserDn("bob"),
                                           GroupDn("late"), UserDn("never")};
  builder.HintDns(std::vector<std::string_view>(hinted.begin(), hinted.end()));
  AddTestUser(builder, {.name = "ann"});
  AddTestUser(builder, {.name = "bob"});
  AddTestUser(builder, {.name = "cy"});  // not hinted
  AddTestGroup(builder, "late", {"ann"});
  builder.HintDns({UserDn("dee")});  // a temporary: hints keep copies
  AddTestUser(builder, {.name = "dee"});
  AddTestUser(builder, {.name = "ann"});  // a duplicate DN, hinted or not
  Directory dir = std::move(builder).Finish();

  ASSERT_EQ(dir.user_count(), 4u);
  for (const char* name : {"ann", "bob", "cy", "dee"}) {
    ASSERT_TRUE(dir.FindUserByDn(UserDn(name)).has_value()) << name;
    EXPECT_EQ(dir.user_dn[*dir.FindUserByDn(UserDn(name))], UserDn(name));
  }
  auto [begin, end] = dir.MembersOf(*dir.FindGroupByDn(GroupDn("staff")));
  ASSERT_EQ(end - begin, 3);
  EXPECT_EQ(dir.user_dn[begin[2].index()], UserDn("cy"));
  EXPECT_EQ(dir.group_dn[*dir.FindGroupByDn(GroupDn("late"))], GroupDn("late"));
  EXPECT_EQ(dir.unresolved_member_count, 0u);
  ASSERT_EQ(dir.issues.size(), 1u);
  EXPECT_EQ(dir.issues[0].reason, "duplicate DN: entry ignored");
}

}  // namespace
}  // namespace usersync::core
