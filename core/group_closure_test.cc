#include "core/group_closure.h"

#include <gtest/gtest.h>

#include "core/test_directory.h"

namespace usersync::core {
namespace {

using testing::AddTestGroup;
using testing::AddTestUser;
using testing::GroupDn;
using testing::UserDn;

uint32_t Group(const Directory& dir, std::string_view name) {
  return *dir.FindGroupByDn(GroupDn(name));
}
bool Holds(const Directory& dir, const ClosureResult& closure, std::string_view user) {
  return closure.user_in[*dir.FindUserByDn(UserDn(user))] != 0;
}

TEST(GroupClosure, CycleTerminates) {
  DirectoryBuilder builder;
  for (const char* name : {"ann", "bob", "cid", "dan"}) AddTestUser(builder, {.name = name});
  AddTestGroup(builder, "a", {"ann", "g:b"});
  AddTestGroup(builder, "b", {"bob", "g:c"});
  AddTestGroup(builder, "c", {"cid", "g:a"});  // a ∋ b ∋ c ∋ a
  AddTestGroup(builder, "outside", {"dan", "g:a"});
  Directory dir = std::move(builder).Finish();

  const uint32_t root = Group(dir, "a");
  ClosureResult closure = GroupClosure(dir, std::span<const uint32_t>(&root, 1));
  EXPECT_TRUE(Holds(dir, closure, "ann"));
  EXPECT_TRUE(Holds(dir, closure, "bob"));
  EXPECT_TRUE(Holds(dir, closure, "cid"));
  EXPECT_FALSE(Holds(dir, closure, "dan"));
  EXPECT_EQ(closure.users_reached, 3u);
  EXPECT_EQ(closure.groups_reached, 3u);
}

TEST(GroupClosure, SelfMembershipTerminates) {
  DirectoryBuilder builder;
  AddTestUser(builder, {.name = "ann"});
  AddTestGroup(builder, "self", {"g:self", "ann"});
  Directory dir = std::move(builder).Finish();
  const uint32_t root = 0;
  ClosureResult closure = GroupClosure(dir, std::span<const uint32_t>(&root, 1));
  EXPECT_EQ(closure.users_reached, 1u);
}

// A chain 30 groups deep: the user at the bottom is reached, and the path names every step.
TEST(GroupClosure, DeepNestingReachesTheBottomAndKeepsThePath) {
  constexpr int kDepth = 30;
  DirectoryBuilder builder;
  AddTestUser(builder, {.name = "deep"});
  for (int level = 0; level < kDepth; ++level) {
    std::vector<std::string> members;
    if (level + 1 < kDepth) {
      members.push_back("g:level" + std::to_string(level + 1));
    } else {
      members.push_back("deep");
    }
    AddTestGroup(builder, "level" + std::to_string(level), members);
  }
  Directory dir = std::move(builder).Finish();
  const uint32_t root = Group(dir, "level0");
  ClosureResult closure = GroupClosure(dir, std::span<const uint32_t>(&root, 1));
  ASSERT_TRUE(Holds(dir, closure, "deep"));
  const uint32_t user = *dir.FindUserByDn(UserDn("deep"));
  std::vector<uint32_t> path = GroupPath(closure, closure.parent_group[user]);
  ASSERT_EQ(path.size(), static_cast<size_t>(kDepth));
  EXPECT_EQ(path.front(), root);
  EXPECT_EQ(path.back(), Group(dir, "level" + std::to_string(kDepth - 1)));
}

TEST(GroupClosure, SeveralRootsAndUnreachedGroups) {
  DirectoryBuilder builder;
  for (const char* name : {"ann", "bob", "cid"}) AddTestUser(builder, {.name = name});
  AddTestGroup(builder, "x", {"ann"});
  AddTestGroup(builder, "y", {"bob"});
  AddTestGroup(builder, "z", {"cid"});
  Directory dir = std::move(builder).Finish();
  std::vector<uint32_t> roots = {Group(dir, "x"), Group(dir, "y"), Group(dir, "x")};
  ClosureResult closure = GroupClosure(dir, roots);
  EXPECT_TRUE(Holds(dir, closure, "ann"));
  EXPECT_TRUE(Holds(dir, closure, "bob"));
  EXPECT_FALSE(Holds(dir, closure, "cid"));
  EXPECT_TRUE(GroupPath(closure, Group(dir, "z")).empty());
}

}  // namespace
}  // namespace usersync::core
