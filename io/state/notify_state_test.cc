#include "io/state/notify_state.h"

#include <gtest/gtest.h>

#include <memory>
#include <optional>

namespace usersync::io {
namespace {

// A store that never notified (every store written before notifications existed) has no row.
TEST(NotifyState, NothingUntilSavedThenReplaced) {
  absl::StatusOr<std::unique_ptr<StateStore>> state = StateStore::Open(":memory:");
  ASSERT_TRUE(state.ok()) << state.status();
  absl::StatusOr<std::optional<NotifyStateRow>> row = LoadNotifyState(**state);
  ASSERT_TRUE(row.ok()) << row.status();
  EXPECT_FALSE(row->has_value());

  ASSERT_TRUE(SaveNotifyState(
                  **state, {"unreachable", "2026-12-07T01:00:00.000Z", "2026-12-07T01:00:00.000Z"})
                  .ok());
  ASSERT_TRUE(SaveNotifyState(
                  **state, {"unreachable", "2026-12-07T01:00:00.000Z", "2026-12-08T01:00:00.000Z"})
                  .ok());
  row = LoadNotifyState(**state);
  ASSERT_TRUE(row.ok() && row->has_value());
  EXPECT_EQ((*row)->condition, "unreachable");
  EXPECT_EQ((*row)->since, "2026-12-07T01:00:00.000Z");
  EXPECT_EQ((*row)->last_sent, "2026-12-08T01:00:00.000Z");
}

}  // namespace
}  // namespace usersync::io
