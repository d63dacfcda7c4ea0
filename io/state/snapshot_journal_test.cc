#include "io/state/snapshot_journal.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "core/directory_changes.h"
#include "core/test_directory.h"
#include "gtest/gtest.h"

namespace usersync::io {
namespace {

using core::testing::AddTestGroup;
using core::testing::AddTestUser;
using core::testing::GroupDn;
using core::testing::UserDn;

core::Directory Sample() {
  core::DirectoryBuilder builder;
  AddTestUser(builder, {.name = "ann"});
  AddTestUser(builder, {.name = "bob"});
  AddTestGroup(builder, "staff", {"ann"});
  return std::move(builder).Finish();
}

SnapshotHeader Header(std::string cursor) {
  SnapshotHeader header;
  header.config_hash = "cfg";
  header.source_kind = "ldap";
  header.cursor = std::move(cursor);
  header.full_at = 1'700'000'000;
  return header;
}

// ann renamed; bob joins staff; carl is new (a removal in the second record: the rebuild).
core::DirectoryChanges Rename() {
  core::DirectoryChanges changes;
  changes.users.push_back(core::UserAt(Sample(), 0));
  changes.users[0].first_name = "Anna";
  changes.groups.push_back({GroupDn("staff"), "staff", false, {UserDn("bob")}, {}});
  return changes;
}
core::DirectoryChanges AddCarlRemoveBob() {
  core::DirectoryChanges changes;
  changes.users.push_back(core::UserAt(Sample(), 1));
  changes.users[0].dn = UserDn("carl");
  changes.users[0].id = "id-carl";
  changes.removed_users.push_back("id-bob");
  return changes;
}

class SnapshotJournalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/journal_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    path_ = dir_ + "/state.db.snapshot";
  }
  // Writes the sample snapshot; returns its checksum as read back.
  uint64_t WriteBase() {
    EXPECT_TRUE(WriteDirectorySnapshot(path_, Header("c0"), Sample()).ok());
    absl::StatusOr<DirectorySnapshot> read = ReadDirectorySnapshot(path_);
    EXPECT_TRUE(read.ok()) << read.status();
    return read.ok() ? read->header.origin.base_checksum : 0;
  }
  std::string dir_;
  std::string path_;
};

TEST_F(SnapshotJournalTest, RecordsReplayInOrderOnTheSnapshot) {
  const uint64_t base = WriteBase();
  ASSERT_TRUE(AppendSnapshotJournal(path_, base, Header("c1"), Rename()).ok());
  ASSERT_TRUE(AppendSnapshotJournal(path_, base, Header("c2"), AddCarlRemoveBob()).ok());
  absl::StatusOr<DirectorySnapshot> read = ReadDirectorySnapshot(path_);
  ASSERT_TRUE(read.ok()) << read.status();
  const core::Directory expected =
      core::ApplyChanges(core::ApplyChanges(Sample(), Rename()), AddCarlRemoveBob());
  EXPECT_TRUE(core::DiffDirectories(expected, read->directory).empty());
  EXPECT_EQ(read->header.cursor, "c2");
  EXPECT_EQ(read->header.origin.journal_records, 2);
  EXPECT_EQ(read->header.origin.base_checksum, base);
  EXPECT_GT(read->header.origin.journal_bytes, 0);
}

TEST_F(SnapshotJournalTest, WritingTheSnapshotWholeDropsItsJournal) {
  const uint64_t base = WriteBase();
  ASSERT_TRUE(AppendSnapshotJournal(path_, base, Header("c1"), Rename()).ok());
  ASSERT_TRUE(WriteDirectorySnapshot(path_, Header("c9"), Sample()).ok());
  EXPECT_FALSE(std::filesystem::exists(JournalPath(path_)));
  absl::StatusOr<DirectorySnapshot> read = ReadDirectorySnapshot(path_);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->header.cursor, "c9");
  EXPECT_EQ(read->header.origin.journal_records, 0);
}

// A journal beside a snapshot it does not follow (a crash after the new snapshot was written,
// before the old journal was removed) is damage: the next cycle is a full one.
TEST_F(SnapshotJournalTest, AJournalOfAnotherSnapshotIsDataLoss) {
  const uint64_t base = WriteBase();
  ASSERT_TRUE(AppendSnapshotJournal(path_, base + 1, Header("c1"), Rename()).ok());
  absl::StatusOr<DirectorySnapshot> read = ReadDirectorySnapshot(path_);
  EXPECT_EQ(read.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(read.status().message().find("follows another snapshot"), std::string::npos)
      << read.status();
}

// Every cut inside a record and every changed byte is refused (a cut between records is an
// older journal: the state of the cycle before, which that cycle's cursor goes with).
TEST_F(SnapshotJournalTest, EveryCutOrChangedByteOfARecordIsDataLoss) {
  const uint64_t base = WriteBase();
  ASSERT_TRUE(AppendSnapshotJournal(path_, base, Header("c1"), Rename()).ok());
  std::ifstream in(JournalPath(path_), std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GT(bytes.size(), 24u);
  for (size_t pos = 0; pos < bytes.size(); ++pos) {
    for (const std::string& damaged :
         {bytes.substr(0, pos),
          bytes.substr(0, pos) + static_cast<char>(bytes[pos] ^ 0x21) + bytes.substr(pos + 1)}) {
      if (damaged.empty()) continue;  // no record: no journal to speak of
      std::ofstream(JournalPath(path_), std::ios::binary | std::ios::trunc) << damaged;
      EXPECT_EQ(ReadDirectorySnapshot(path_).status().code(), absl::StatusCode::kDataLoss)
          << "at " << pos << " of " << bytes.size();
    }
  }
}

}  // namespace
}  // namespace usersync::io
