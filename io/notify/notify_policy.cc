#include "io/notify/notify_policy.h"

#include "io/report/audit_log.h"

namespace usersync::io {

std::string_view NotifyEventName(NotifyEvent event) {
  switch (event) {
    case NotifyEvent::kFirst:
      return "failure";
    case NotifyEvent::kReminder:
      return "reminder";
    case NotifyEvent::kRecovery:
      return "recovery";
    case NotifyEvent::kNone:
      break;
  }
  return "";
}

NotifyDecision DecideNotify(const std::optional<NotifyStateRow>& last, std::string_view condition,
                            absl::Time now, std::chrono::milliseconds repeat_every,
                            bool notify_recovery) {
  const std::string stamp = Rfc3339(now);
  const bool was_bad = last.has_value() && last->condition != "ok";
  if (condition == "ok") {
    if (!was_bad) return {};
    NotifyStateRow ok{"ok", stamp, stamp};
    return {notify_recovery ? NotifyEvent::kRecovery : NotifyEvent::kNone, std::move(ok)};
  }
  if (!was_bad || last->condition != condition) {
    return {NotifyEvent::kFirst, NotifyStateRow{std::string(condition), stamp, stamp}};
  }
  if (repeat_every <= std::chrono::milliseconds(0)) return {};
  absl::Time sent = absl::InfinitePast();
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, last->last_sent, &sent, &error)) {
    sent = absl::InfinitePast();
  }
  if (now - sent < absl::FromChrono(repeat_every)) return {};
  return {NotifyEvent::kReminder, NotifyStateRow{last->condition, last->since, stamp}};
}

}  // namespace usersync::io
