// What the last notification said (issue 16 item 1; README "Notifications"), so that a standing
// failure is not notified every cycle: the condition last notified, since when it stands, and
// when a message about it was last sent. One row in a table of the state store, `notify_state`,
// that SaveNotifyState creates on first use (as provisioning_pause does): a store written before
// it has no such table and reads as "nothing notified", so no schema version changes.
//
// Thread-compatible, like the StateStore it uses; it owns nothing.
#pragma once

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "io/state/state_store.h"

namespace usersync::io {

struct NotifyStateRow {
  std::string condition;  // "failed", "unreachable", ... or "ok" after a recovery was sent
  std::string since;      // RFC 3339 UTC: the first run in this condition
  std::string last_sent;  // RFC 3339 UTC: the last message sent about it
};

// The row, or nullopt when nothing was ever notified. Reads only.
absl::StatusOr<std::optional<NotifyStateRow>> LoadNotifyState(StateStore& state);

// Replaces the row (creating the table on first use).
absl::Status SaveNotifyState(StateStore& state, const NotifyStateRow& row);

}  // namespace usersync::io
