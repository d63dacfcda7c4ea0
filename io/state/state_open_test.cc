// StateStore's opening: the integrity check before a writing command uses a store, the
// read-only open of the commands that only read, and what no text column may hold.
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "io/secrets.h"
#include "io/state/state_store.h"

namespace usersync::io {
namespace {

namespace fs = std::filesystem;
using ::testing::AllOf;
using ::testing::HasSubstr;

std::string TempPath(std::string_view name) {
  const fs::path dir = fs::path(::testing::TempDir()) / "state_open_test";
  fs::create_directories(dir);
  const fs::path path = dir / name;
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(path.string() + suffix);
  return path.string();
}

std::string Bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

// A closed store (no -wal left) with `count` links and one run.
void MakeStore(const std::string& path, int count) {
  absl::StatusOr<std::unique_ptr<StateStore>> store = StateStore::Open(path);
  ASSERT_TRUE(store.ok()) << store.status();
  std::vector<LinkRow> links;
  for (int link_idx = 0; link_idx < count; ++link_idx) {
    links.push_back({"uid=user" + std::to_string(link_idx) + ",ou=people,dc=example,dc=com",
                     "account-" + std::to_string(link_idx), "created"});
  }
  ASSERT_TRUE((*store)->UpsertLinks(links).ok());
  ASSERT_TRUE((*store)->BeginRun("sync", "2026-01-01T00:00:00.000Z").ok());
}

// Random bytes over a page in the middle of the file: refused before anything is written, with
// the path and the way out (exit 2), and the file left as it was.
TEST(StateStoreOpen, DamagedFileIsRefusedWithTheWayOut) {
  const std::string path = TempPath("damaged.db");
  MakeStore(path, 5000);
  const size_t size = fs::file_size(path);
  ASSERT_GT(size, 64u * 1024);
  {
    std::fstream file(path, std::ios::binary | std::ios::in | std::ios::out);
    file.seekp(static_cast<std::streamoff>(size / 2));
    std::mt19937 rng(12);
    for (int byte_idx = 0; byte_idx < 4096; ++byte_idx) file.put(static_cast<char>(rng()));
  }
  const std::string damaged = Bytes(path);
  absl::StatusOr<std::unique_ptr<StateStore>> store = StateStore::Open(path);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition) << store.status();
  EXPECT_THAT(std::string(store.status().message()),
              AllOf(HasSubstr(path), HasSubstr("damaged"), HasSubstr("restore it from a backup"),
                    HasSubstr("move it aside")));
  EXPECT_EQ(Bytes(path), damaged);
}

// The read-only open reads the store and leaves no trace: no -wal, no -shm, the same bytes.
TEST(StateStoreOpen, ReadOnlyCreatesAndWritesNothing) {
  const std::string path = TempPath("readonly.db");
  MakeStore(path, 10);
  ASSERT_FALSE(fs::exists(path + "-wal"));
  const std::string before = Bytes(path);
  const fs::file_time_type mtime = fs::last_write_time(path);
  {
    absl::StatusOr<std::unique_ptr<StateStore>> store = StateStore::OpenReadOnly(path);
    ASSERT_TRUE(store.ok()) << store.status();
    absl::StatusOr<std::vector<LinkRow>> links = (*store)->LoadLinks();
    ASSERT_TRUE(links.ok()) << links.status();
    EXPECT_EQ(links->size(), 10u);
    absl::StatusOr<std::vector<RunRow>> runs = (*store)->RecentRuns(5);
    ASSERT_TRUE(runs.ok()) << runs.status();
    EXPECT_EQ(runs->size(), 1u);
    const std::vector<LinkRow> more = {{"u", "a", "linked"}};
    EXPECT_FALSE((*store)->UpsertLinks(more).ok());
    EXPECT_FALSE(fs::exists(path + "-wal"));
    EXPECT_FALSE(fs::exists(path + "-shm"));
  }
  EXPECT_FALSE(fs::exists(path + "-wal"));
  EXPECT_FALSE(fs::exists(path + "-shm"));
  EXPECT_EQ(Bytes(path), before);
  EXPECT_EQ(fs::last_write_time(path), mtime);
}

// No store yet: an empty one, and no file is created.
TEST(StateStoreOpen, ReadOnlyOfAMissingStoreIsEmpty) {
  const std::string path = TempPath("missing.db");
  absl::StatusOr<std::unique_ptr<StateStore>> store = StateStore::OpenReadOnly(path);
  ASSERT_TRUE(store.ok()) << store.status();
  absl::StatusOr<std::vector<LinkRow>> links = (*store)->LoadLinks();
  ASSERT_TRUE(links.ok()) << links.status();
  EXPECT_TRUE(links->empty());
  EXPECT_FALSE(fs::exists(path));
}

// A run in progress (its commits still in the -wal file) is seen by a read-only open.
TEST(StateStoreOpen, ReadOnlyReadsThroughTheWal) {
  const std::string path = TempPath("inflight.db");
  absl::StatusOr<std::unique_ptr<StateStore>> writer = StateStore::Open(path);
  ASSERT_TRUE(writer.ok()) << writer.status();
  const std::vector<LinkRow> links = {{"u1", "a1", "created"}};
  ASSERT_TRUE((*writer)->UpsertLinks(links).ok());
  ASSERT_TRUE(fs::exists(path + "-wal"));
  absl::StatusOr<std::unique_ptr<StateStore>> reader = StateStore::OpenReadOnly(path);
  ASSERT_TRUE(reader.ok()) << reader.status();
  absl::StatusOr<std::vector<LinkRow>> read = (*reader)->LoadLinks();
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->size(), 1u);
}

// A file that is not a store is refused by the read-only open too, untouched.
TEST(StateStoreOpen, ReadOnlyRefusesGarbage) {
  const std::string path = TempPath("garbage.db");
  {
    std::ofstream out(path, std::ios::binary);
    for (int line = 0; line < 200; ++line) out << "not a SQLite database, line " << line;
  }
  absl::StatusOr<std::unique_ptr<StateStore>> store = StateStore::OpenReadOnly(path);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition) << store.status();
  EXPECT_THAT(std::string(store.status().message()), HasSubstr(path));
}

// An error a server echoed with the token in it is stored redacted: the file's bytes lack it.
TEST(StateStoreOpen, RegisteredSecretsNeverReachTheFile) {
  ClearSecretsForTest();
  RegisterSecret("tok-echoed-0123456789");
  const std::string path = TempPath("secrets.db");
  {
    absl::StatusOr<std::unique_ptr<StateStore>> store = StateStore::Open(path);
    ASSERT_TRUE(store.ok()) << store.status();
    absl::StatusOr<int64_t> run = (*store)->BeginRun("sync", "2026-01-01T00:00:00.000Z");
    ASSERT_TRUE(run.ok());
    const std::vector<JournalIntent> intents = {{"create", "u1", "", "a@example.com", "{}"}};
    absl::StatusOr<std::vector<int64_t>> ids = (*store)->RecordIntents(*run, intents);
    ASSERT_TRUE(ids.ok());
    const std::vector<JournalSettlement> settled = {
        {(*ids)[0], false, "", 400, 1, "HTTP 400: Authorization: Bearer tok-echoed-0123456789"}};
    ASSERT_TRUE((*store)->Settle(settled).ok());
    ASSERT_TRUE(
        (*store)
            ->FinishRun(*run, 1, R"({"error":"tok-echoed-0123456789"})", "2026-01-01T00:00:01.000Z")
            .ok());
    absl::StatusOr<std::vector<JournalEntry>> journal = (*store)->JournalForRun(*run);
    ASSERT_TRUE(journal.ok());
    EXPECT_EQ((*journal)[0].error, "HTTP 400: Authorization: Bearer [redacted]");
  }
  ClearSecretsForTest();
  std::string bytes = Bytes(path);
  if (fs::exists(path + "-wal")) bytes += Bytes(path + "-wal");
  EXPECT_EQ(bytes.find("tok-echoed-0123456789"), std::string::npos);
  EXPECT_NE(bytes.find("[redacted]"), std::string::npos);
}

}  // namespace
}  // namespace usersync::io
