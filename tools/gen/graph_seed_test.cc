#include "tools/gen/graph_seed.h"

#include <string>

#include "gtest/gtest.h"
#include "tools/gen/ldif_generator.h"
#include "tools/target/emulator_graph.h"

namespace usersync::io {
namespace {

// The generated directory, written as a Graph seed, reads back in the face with every user,
// every group and its member count, and the assignment of the scope group.
TEST(GraphSeed, TheFaceReadsTheGeneratedDirectoryBack) {
  LdifGenOptions options;
  options.users = 200;
  options.groups = 20;
  absl::StatusOr<std::unique_ptr<LdifGenerator>> gen = LdifGenerator::Create(options);
  ASSERT_TRUE(gen.ok()) << gen.status();
  absl::StatusOr<core::Directory> dir = (*gen)->BuildDirectory();
  ASSERT_TRUE(dir.ok()) << dir.status();

  absl::StatusOr<emulator::GraphSeed> seed =
      emulator::ParseGraphSeed(GraphSeedJson(*dir, "goto-users"));
  ASSERT_TRUE(seed.ok()) << seed.status();
  ASSERT_EQ(seed->users.size(), dir->user_count());
  ASSERT_EQ(seed->groups.size(), dir->group_count());
  for (size_t group_idx = 0; group_idx < dir->group_count(); ++group_idx) {
    auto [begin, end] = dir->MembersOf(static_cast<uint32_t>(group_idx));
    EXPECT_EQ(seed->groups[group_idx].id, dir->group_name[group_idx]);
    EXPECT_EQ(seed->groups[group_idx].members.size(), static_cast<size_t>(end - begin));
  }
  ASSERT_EQ(seed->service_principals.size(), 1u);
  EXPECT_EQ(seed->service_principals[0].first, kGraphSeedServicePrincipal);
  ASSERT_GE(seed->service_principals[0].second.size(), 1u);
  EXPECT_EQ(seed->service_principals[0].second[0].principal_id, "goto-users");
  EXPECT_EQ(seed->service_principals[0].second[0].principal_type, "Group");
}

}  // namespace
}  // namespace usersync::io
