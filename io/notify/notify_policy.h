// When a run's notification is sent (README "Notifications", the repeat rule): on the first run
// in a notified condition, on a reminder once `repeat_every` has passed since the last message
// about a condition that still stands, and on the first run that exits 0 after one (recovery).
// A run in a condition that notify.on leaves out counts as "ok". Pure function; thread-safe.
//
// Example (repeat_every 24h, hourly runs): 01:00 exit 4 → "unreachable" sent; 02:00 … 00:00
// exit 4 → nothing; 01:00 the next day exit 4 → reminder sent; 01:30 exit 1 → "failed" sent
// (another condition); 02:00 exit 0 → "recovered" sent; 03:00 exit 0 → nothing.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "io/state/notify_state.h"

namespace usersync::io {

enum class NotifyEvent { kNone, kFirst, kReminder, kRecovery };

// "failure", "reminder", "recovery" ("" for kNone): the JSON's "event".
std::string_view NotifyEventName(NotifyEvent event);

struct NotifyDecision {
  NotifyEvent event = NotifyEvent::kNone;
  // What to store once the message is sent (or at once when event is kNone); nullopt: keep the
  // stored row.
  std::optional<NotifyStateRow> next;
};

// `condition` is the run's ("ok" for exit 0 or a condition left out of notify.on); `last` the
// stored row; `now` the run's end; `notify_recovery` whether "recovered" is in notify.on. A
// stored time that does not parse counts as long ago (a reminder is due).
NotifyDecision DecideNotify(const std::optional<NotifyStateRow>& last, std::string_view condition,
                            absl::Time now, std::chrono::milliseconds repeat_every,
                            bool notify_recovery);

}  // namespace usersync::io
