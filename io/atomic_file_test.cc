#include "io/atomic_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace usersync::io {
namespace {

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// The file is replaced whole, 0644 whatever the umask, with no temp file left behind; its
// directory is created.
TEST(AtomicFile, ReplacesTheFileWhole) {
  const std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) / "prom-atomic";
  std::filesystem::remove_all(dir);
  const std::string path = (dir / "sub" / "usersync.prom").string();
  const mode_t old_umask = ::umask(0077);
  ASSERT_TRUE(WriteFileAtomically(path, "first\n").ok());
  ASSERT_TRUE(WriteFileAtomically(path, "second\n").ok());
  ::umask(old_umask);
  EXPECT_EQ(Slurp(path), "second\n");
  struct stat info {};
  ASSERT_EQ(::stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0644u);
  int entries = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir / "sub")) {
    ++entries;
    EXPECT_EQ(entry.path().filename(), "usersync.prom");
  }
  EXPECT_EQ(entries, 1);
}

// A path that cannot be written fails naming it, and leaves nothing behind.
TEST(AtomicFile, UnwritableIsAnError) {
  const absl::Status status = WriteFileAtomically("/proc/usersync-test/usersync.prom", "x\n");
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find("/proc/usersync-test/usersync.prom"), std::string::npos)
      << status.message();
}

// Streamed: the pieces make the file; a producer that fails leaves the old file as it was and
// no temp file behind.
TEST(AtomicFile, StreamedPiecesOrNothing) {
  const std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) / "atomic-stream";
  std::filesystem::remove_all(dir);
  const std::string path = (dir / "plan.json").string();
  ASSERT_TRUE(WriteFileAtomically(path, [](ByteSink write) {
                for (const char* piece : {"{\"a\":", "1", "}\n"}) {
                  if (absl::Status s = write(piece); !s.ok()) return s;
                }
                return absl::OkStatus();
              }).ok());
  EXPECT_EQ(Slurp(path), "{\"a\":1}\n");
  const absl::Status failed = WriteFileAtomically(path, [](ByteSink write) {
    if (absl::Status s = write("half"); !s.ok()) return s;
    return absl::InternalError("the producer failed");
  });
  EXPECT_EQ(failed.message(), "the producer failed");
  EXPECT_EQ(Slurp(path), "{\"a\":1}\n");
  int entries = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    ++entries;
    EXPECT_EQ(entry.path().filename(), "plan.json");
  }
  EXPECT_EQ(entries, 1);
}

// Content longer than a writeback step (8 MiB), in pieces of uneven size, arrives whole and in
// order.
TEST(AtomicFile, StreamedPastTheWritebackStep) {
  const std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) / "atomic-large";
  std::filesystem::remove_all(dir);
  const std::string path = (dir / "plan.json").string();
  std::string want;
  ASSERT_TRUE(WriteFileAtomically(path, [&want](ByteSink write) {
                for (int piece_idx = 0; piece_idx < 20; ++piece_idx) {
                  const std::string piece((size_t{1} << 20) + piece_idx * 4099,
                                          static_cast<char>('a' + piece_idx));
                  want += piece;
                  if (absl::Status s = write(piece); !s.ok()) return s;
                }
                return absl::OkStatus();
              }).ok());
  EXPECT_TRUE(Slurp(path) == want);  // not EXPECT_EQ: 20 MiB in a failure message
}
}  // namespace
}  // namespace usersync::io
