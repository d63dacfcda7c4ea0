#include "core/directory_image.h"

#include <cstring>
#include <memory>
#include <string>

#include "core/directory_changes.h"
#include "core/test_directory.h"
#include "gtest/gtest.h"

namespace usersync::core {
namespace {

using testing::AddTestGroup;
using testing::AddTestUser;
using testing::GroupDn;
using testing::UserDn;

// The image's bytes read back through a buffer of their own (as the snapshot file's is).
absl::StatusOr<Directory> RoundTrip(const Directory& dir) {
  ByteWriter w;
  AppendDirectoryImage(dir, w);
  const std::string& bytes = w.out();
  auto storage = std::make_unique_for_overwrite<char[]>(bytes.size());
  std::memcpy(storage.get(), bytes.data(), bytes.size());
  ByteReader r(std::string_view(storage.get(), bytes.size()));
  absl::StatusOr<Directory> read = ReadDirectoryImage(r, std::move(storage), bytes.size());
  if (read.ok()) {
    EXPECT_TRUE(r.done());
  }
  return read;
}

TEST(DirectoryImage, ReadsBackColumnsEdgesAndLookUps) {
  DirectoryBuilder builder({"title"});
  AddTestUser(builder, {.name = "ann", .extra = {"CEO"}});
  AddTestUser(builder, {.name = "bob", .disabled = true, .extra = {""}});
  AddTestUser(builder, {.name = "bob"});                                 // a duplicate DN: an issue
  AddTestGroup(builder, "staff", {"ann", "g:admins", "ghost", "carl"});  // two unresolved
  AddTestGroup(builder, "admins", {"bob"});
  UserRecord upper;  // a DN not in normal form: its key is stored apart from it
  upper.dn = "UID=Carl, OU=People,DC=example,DC=com";
  upper.id = "id-carl";
  builder.AddUser(upper);
  const Directory dir = std::move(builder).Finish();

  absl::StatusOr<Directory> read = RoundTrip(dir);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_TRUE(DiffDirectories(dir, *read).empty());
  EXPECT_EQ(read->user_dn, dir.user_dn);
  EXPECT_EQ(read->extra, dir.extra);
  EXPECT_EQ(read->disabled, dir.disabled);
  EXPECT_EQ(read->member_begin, dir.member_begin);
  EXPECT_EQ(MemberDns(*read), MemberDns(dir));
  EXPECT_EQ(read->unresolved_member_count, dir.unresolved_member_count);
  EXPECT_EQ(read->unresolved_examples, dir.unresolved_examples);
  ASSERT_EQ(read->issues.size(), 1u);
  EXPECT_EQ(read->issues[0].reason, dir.issues[0].reason);
  EXPECT_EQ(read->FindUserByDn(UserDn("bob")), 1u);
  EXPECT_EQ(read->FindUserByDn("uid=carl,ou=people,dc=example,dc=com"), 2u);
  EXPECT_EQ(read->FindGroupByDn(GroupDn("admins")), 1u);
  EXPECT_EQ(read->FindUserById("id-ann"), 0u);
  EXPECT_FALSE(read->FindUserById("id-ghost").has_value());
  EXPECT_EQ(read->column_names.id, dir.column_names.id);
}

TEST(DirectoryImage, EmptyDirectoryReadsBack) {
  absl::StatusOr<Directory> read = RoundTrip(Directory());
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->user_count(), 0u);
  EXPECT_EQ(read->group_count(), 0u);
}

// Every cut of the image is refused, never read past.
TEST(DirectoryImage, EveryCutIsDataLoss) {
  DirectoryBuilder builder;
  AddTestUser(builder, {.name = "ann"});
  AddTestGroup(builder, "staff", {"ann", "ghost"});
  ByteWriter w;
  AppendDirectoryImage(std::move(builder).Finish(), w);
  for (size_t size = 0; size < w.out().size(); ++size) {
    auto storage = std::make_unique_for_overwrite<char[]>(size + 1);
    std::memcpy(storage.get(), w.out().data(), size);
    ByteReader r(std::string_view(storage.get(), size));
    absl::StatusOr<Directory> read = ReadDirectoryImage(r, std::move(storage), size);
    EXPECT_EQ(read.status().code(), absl::StatusCode::kDataLoss) << "cut at " << size;
  }
}

}  // namespace
}  // namespace usersync::core
