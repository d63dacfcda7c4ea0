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

}  // namespace
}  // namespace usersync::core
