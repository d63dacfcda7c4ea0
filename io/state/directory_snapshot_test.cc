#include "io/state/directory_snapshot.h"

#include <fstream>
#include <string>

#include "core/directory_changes.h"
#include "core/test_directory.h"
#include "gtest/gtest.h"

namespace usersync::io {
namespace {

using core::testing::AddTestGroup;
using core::testing::AddTestUser;

// A sample header and directory (the snapshot's two parts).
DirectorySnapshot Sample() {
  core::DirectoryBuilder builder({"title"});
  AddTestUser(builder, {.name = "ann", .extra = {"CEO"}});
  AddTestUser(builder, {.name = "bob", .disabled = true, .extra = {""}});
  AddTestGroup(builder, "staff", {"ann", "g:admins", "ghost"});  // ghost: unresolved
  AddTestGroup(builder, "admins", {"bob"});
  DirectorySnapshot snapshot;
  snapshot.header.config_hash = "abc";
  snapshot.header.source_kind = "ldif";
  snapshot.header.cursor = "https://graph/delta?$deltatoken=x";
  snapshot.header.full_at = 1'700'000'000;
  snapshot.header.pending = {"id-bob"};
  snapshot.directory = std::move(builder).Finish();
  return snapshot;
}

// Recomputes the header's checksum over the (damaged) payload of `bytes`.
void SetChecksum(std::string& bytes) {
  const uint64_t hash = SnapshotChecksum(std::string_view(bytes).substr(24));
  for (int byte = 0; byte < 8; ++byte) bytes[16 + byte] = static_cast<char>(hash >> (8 * byte));
}

std::string TempPath(const std::string& name) { return ::testing::TempDir() + "/" + name; }

TEST(DirectorySnapshot, RoundTripsEverythingAPlanReads) {
  const DirectorySnapshot written = Sample();
  const std::string path = TempPath("round_trip.snapshot");
  ASSERT_TRUE(WriteDirectorySnapshot(path, written.header, written.directory).ok());
  absl::StatusOr<DirectorySnapshot> read = ReadDirectorySnapshot(path);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->header.config_hash, "abc");
  EXPECT_EQ(read->header.source_kind, "ldif");
  EXPECT_EQ(read->header.cursor, written.header.cursor);
  EXPECT_EQ(read->header.full_at, 1'700'000'000);
  EXPECT_EQ(read->header.pending, std::vector<std::string>{"id-bob"});
  EXPECT_TRUE(core::DiffDirectories(written.directory, read->directory).empty());
  EXPECT_EQ(read->directory.extra_names, std::vector<std::string>{"title"});
  EXPECT_EQ(read->directory.unresolved_member_count, 1u);
  EXPECT_EQ(read->directory.disabled[1], 1);
}

TEST(DirectorySnapshot, MissingIsNotFound) {
  EXPECT_EQ(ReadDirectorySnapshot(TempPath("none.snapshot")).status().code(),
            absl::StatusCode::kNotFound);
}

// Every single-byte change and every cut is refused as kDataLoss, never a crash or a
// different directory.
TEST(DirectorySnapshot, DamageIsDataLoss) {
  const std::string bytes = EncodeDirectorySnapshot(Sample().header, Sample().directory);
  for (size_t pos = 0; pos < bytes.size(); ++pos) {
    std::string damaged = bytes;
    damaged[pos] = static_cast<char>(damaged[pos] ^ 0x5a);
    EXPECT_EQ(DecodeDirectorySnapshot(damaged).status().code(), absl::StatusCode::kDataLoss)
        << "byte " << pos;
    EXPECT_EQ(DecodeDirectorySnapshot(bytes.substr(0, pos)).status().code(),
              absl::StatusCode::kDataLoss)
        << "cut at " << pos;
  }
}

// A payload whose checksum is right but whose counts lie is refused by the bounds, not by the
// checksum (a hostile or buggy writer).
TEST(DirectorySnapshot, LyingCountWithRightChecksumIsDataLoss) {
  std::string bytes = EncodeDirectorySnapshot(Sample().header, Sample().directory);
  // Grow the pending count (after three strings and the u64 of the payload) to 2^31.
  const size_t count_at = 24 + (4 + 3) + (4 + 4) + (4 + 33) + 8;
  ASSERT_EQ(bytes[count_at], 1);
  bytes[count_at + 3] = 0x7f;
  SetChecksum(bytes);
  absl::StatusOr<DirectorySnapshot> decoded = DecodeDirectorySnapshot(bytes);
  EXPECT_EQ(decoded.status().code(), absl::StatusCode::kDataLoss) << decoded.status();
}

// Damage that keeps the checksum right (a buggy or hostile writer) reaches the directory
// image's own checks: every byte of the payload changed, each time read back as kDataLoss or
// as a directory, never a crash or a read out of bounds (the ASan build runs this too).
TEST(DirectorySnapshot, EveryDamagedByteWithARightChecksumIsRefusedOrRead) {
  const std::string bytes = EncodeDirectorySnapshot(Sample().header, Sample().directory);
  int refused = 0;
  for (size_t pos = 24; pos < bytes.size(); ++pos) {
    for (unsigned char flip : {0x01, 0x80, 0xff}) {
      std::string damaged = bytes;
      damaged[pos] = static_cast<char>(damaged[pos] ^ flip);
      SetChecksum(damaged);
      absl::StatusOr<DirectorySnapshot> decoded = DecodeDirectorySnapshot(damaged);
      if (decoded.ok()) continue;  // e.g. a changed letter of a name
      EXPECT_EQ(decoded.status().code(), absl::StatusCode::kDataLoss) << "byte " << pos;
      ++refused;
    }
  }
  EXPECT_GT(refused, 0);
}

}  // namespace
}  // namespace usersync::io
