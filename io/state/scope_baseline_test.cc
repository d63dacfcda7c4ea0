#include "io/state/scope_baseline.h"

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>

namespace usersync::io {
namespace {

std::unique_ptr<StateStore> OpenMemoryStore() {
  absl::StatusOr<std::unique_ptr<StateStore>> state = StateStore::Open(":memory:");
  EXPECT_TRUE(state.ok()) << state.status();
  return state.ok() ? *std::move(state) : nullptr;
}

// A store that never recorded a baseline has none: the first run holds nothing.
TEST(ScopeBaseline, NoneUntilSaved) {
  std::unique_ptr<StateStore> state = OpenMemoryStore();
  ASSERT_NE(state, nullptr);
  absl::StatusOr<std::optional<int64_t>> baseline = LoadScopeBaseline(*state);
  ASSERT_TRUE(baseline.ok()) << baseline.status();
  EXPECT_FALSE(baseline->has_value());
}

// The last save is the baseline.
TEST(ScopeBaseline, LastSaveWins) {
  std::unique_ptr<StateStore> state = OpenMemoryStore();
  ASSERT_NE(state, nullptr);
  ASSERT_TRUE(SaveScopeBaseline(*state, 1000, "2026-12-07T03:00:00Z").ok());
  ASSERT_TRUE(SaveScopeBaseline(*state, 700, "2026-12-08T03:00:00Z").ok());
  absl::StatusOr<std::optional<int64_t>> baseline = LoadScopeBaseline(*state);
  ASSERT_TRUE(baseline.ok()) << baseline.status();
  ASSERT_TRUE(baseline->has_value());
  EXPECT_EQ(**baseline, 700);
}

// A negative count is refused by the table, not stored.
TEST(ScopeBaseline, NegativeCountIsRefused) {
  std::unique_ptr<StateStore> state = OpenMemoryStore();
  ASSERT_NE(state, nullptr);
  absl::Status saved = SaveScopeBaseline(*state, -1, "2026-12-07T03:00:00Z");
  EXPECT_FALSE(saved.ok());
  EXPECT_NE(saved.message().find("recording the scope baseline"), std::string::npos)
      << saved.message();
}

}  // namespace
}  // namespace usersync::io
