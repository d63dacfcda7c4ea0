#include "io/state/provisioning_pause.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "io/secrets.h"

namespace usersync::io {
namespace {

std::unique_ptr<StateStore> Open(const std::string& path) {
  absl::StatusOr<std::unique_ptr<StateStore>> state = StateStore::Open(path);
  EXPECT_TRUE(state.ok()) << state.status();
  return state.ok() ? *std::move(state) : nullptr;
}

// A fresh file in the test's temp dir (removed first, with its -wal and -shm).
std::string FreshStorePath(const std::string& name) {
  const std::string path = ::testing::TempDir() + "/" + name;
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
  return path;
}

// A store that never paused (as every store written before pause existed) is not paused.
TEST(ProvisioningPause, NotPausedUntilSaved) {
  std::unique_ptr<StateStore> state = Open(":memory:");
  ASSERT_NE(state, nullptr);
  absl::StatusOr<std::optional<PauseRow>> pause = LoadPause(*state);
  ASSERT_TRUE(pause.ok()) << pause.status();
  EXPECT_FALSE(pause->has_value());
}

TEST(ProvisioningPause, SaveLoadClear) {
  std::unique_ptr<StateStore> state = Open(":memory:");
  ASSERT_NE(state, nullptr);
  ASSERT_TRUE(SavePause(*state, {"2026-12-07T12:00:00Z", "HR migration"}).ok());
  absl::StatusOr<std::optional<PauseRow>> pause = LoadPause(*state);
  ASSERT_TRUE(pause.ok()) << pause.status();
  ASSERT_TRUE(pause->has_value());
  EXPECT_EQ((*pause)->since, "2026-12-07T12:00:00Z");
  EXPECT_EQ((*pause)->reason, "HR migration");

  absl::StatusOr<std::optional<PauseRow>> cleared = ClearPause(*state);
  ASSERT_TRUE(cleared.ok()) << cleared.status();
  ASSERT_TRUE(cleared->has_value());
  EXPECT_EQ((*cleared)->reason, "HR migration");
  pause = LoadPause(*state);
  ASSERT_TRUE(pause.ok()) << pause.status();
  EXPECT_FALSE(pause->has_value());

  // Resuming a store that is not paused changes nothing and says so.
  cleared = ClearPause(*state);
  ASSERT_TRUE(cleared.ok()) << cleared.status();
  EXPECT_FALSE(cleared->has_value());
}

// The last pause replaces the one before (there is one switch, not a stack of them).
TEST(ProvisioningPause, OnePauseAtATime) {
  std::unique_ptr<StateStore> state = Open(":memory:");
  ASSERT_NE(state, nullptr);
  ASSERT_TRUE(SavePause(*state, {"2026-12-07T12:00:00Z", "first"}).ok());
  ASSERT_TRUE(SavePause(*state, {"2026-12-08T12:00:00Z", ""}).ok());
  absl::StatusOr<std::optional<PauseRow>> pause = LoadPause(*state);
  ASSERT_TRUE(pause.ok() && pause->has_value());
  EXPECT_EQ((*pause)->since, "2026-12-08T12:00:00Z");
  EXPECT_EQ((*pause)->reason, "");
}

// A reason holding a registered secret is stored redacted.
TEST(ProvisioningPause, ReasonIsRedacted) {
  RegisterSecret("pause-test-secret-51c2");
  std::unique_ptr<StateStore> state = Open(":memory:");
  ASSERT_NE(state, nullptr);
  ASSERT_TRUE(SavePause(*state, {"2026-12-07T12:00:00Z", "token pause-test-secret-51c2"}).ok());
  absl::StatusOr<std::optional<PauseRow>> pause = LoadPause(*state);
  ASSERT_TRUE(pause.ok() && pause->has_value());
  EXPECT_EQ((*pause)->reason.find("pause-test-secret-51c2"), std::string::npos) << (*pause)->reason;
}

// The read-only commands (status) see the pause, on a store written before the table existed
// (no table: not paused, no upgrade needed) as on a paused one.
TEST(ProvisioningPause, ReadOnlyStoreSeesIt) {
  const std::string path = FreshStorePath("provisioning_pause_ro.db");
  ASSERT_NE(Open(path), nullptr);  // a store without the table, closed again
  {
    absl::StatusOr<std::unique_ptr<StateStore>> read = StateStore::OpenReadOnly(path);
    ASSERT_TRUE(read.ok()) << read.status();
    absl::StatusOr<std::optional<PauseRow>> pause = LoadPause(**read);
    ASSERT_TRUE(pause.ok()) << pause.status();
    EXPECT_FALSE(pause->has_value());
  }
  {
    std::unique_ptr<StateStore> state = Open(path);
    ASSERT_NE(state, nullptr);
    ASSERT_TRUE(SavePause(*state, {"2026-12-07T12:00:00Z", "audit"}).ok());
  }
  absl::StatusOr<std::unique_ptr<StateStore>> read = StateStore::OpenReadOnly(path);
  ASSERT_TRUE(read.ok()) << read.status();
  absl::StatusOr<std::optional<PauseRow>> pause = LoadPause(**read);
  ASSERT_TRUE(pause.ok()) << pause.status();
  ASSERT_TRUE(pause->has_value());
  EXPECT_EQ((*pause)->reason, "audit");
  EXPECT_FALSE(SavePause(**read, {"2026-12-07T13:00:00Z", ""}).ok());  // read-only stays so
}

}  // namespace
}  // namespace usersync::io
