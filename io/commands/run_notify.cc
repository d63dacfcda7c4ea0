#include "io/commands/run_notify.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "core/str.h"
#include "io/commands/apply_run.h"
#include "io/notify/notify_message.h"
#include "io/notify/notify_policy.h"
#include "io/notify/notify_senders.h"
#include "io/output.h"
#include "io/report/audit_log.h"
#include "io/secrets.h"
#include "io/state/notify_state.h"

namespace usersync::io {
namespace {

std::string HostName() {
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) != 0) return "localhost";
  return name;
}

bool Notified(const NotifyConfig& notify, std::string_view condition) {
  return std::find(notify.on.begin(), notify.on.end(), condition) != notify.on.end();
}

NotifyOperations Operations(const RunOutcome& outcome) {
  const ApplyTotals& totals = outcome.applied->totals;
  NotifyOperations ops;
  ops.planned = static_cast<int64_t>(outcome.ops->size());
  ops.done = totals.done;
  ops.failed = totals.failed;
  ops.cancelled = totals.cancelled;
  ops.held = totals.held;
  ops.not_started =
      std::max<int64_t>(0, ops.planned - ops.done - ops.failed - ops.cancelled - ops.held);
  return ops;
}

// The run just recorded (the newest row) and the first of its failed operations.
void StoreFacts(const Session& session, NotifySummary& summary) {
  absl::StatusOr<std::vector<RunRow>> runs = session.state->RecentRuns(1);
  if (runs.ok() && !runs->empty()) summary.run_id = runs->front().run_id;
  absl::StatusOr<std::vector<HoldRow>> holds = session.state->LoadHolds();
  if (holds.ok()) summary.pending_holds = static_cast<int64_t>(holds->size());
  if (summary.run_id == 0) return;
  absl::StatusOr<std::vector<JournalEntry>> journal = session.state->JournalForRun(summary.run_id);
  if (!journal.ok()) return;
  for (const JournalEntry& entry : *journal) {
    if (entry.state != "failed") continue;
    ++summary.failures_total;
    if (summary.failures.size() < kMaxNotifyFailures) {
      summary.failures.push_back(
          {entry.op, entry.email, entry.directory_id, entry.http_status, entry.error});
    }
  }
}

NotifySummary Summarize(const Session& session, const RunOutcome& outcome,
                        const NotifyStateRow& row, NotifyEvent event, absl::Time now) {
  NotifySummary summary;
  summary.event = std::string(NotifyEventName(event));
  summary.condition = row.condition;
  summary.since = row.since;
  summary.time = Rfc3339(now);
  summary.config = std::filesystem::path(session.config.path).stem().string();
  summary.config_path = session.config.path;
  summary.host = HostName();
  summary.mode = std::string(outcome.mode);
  summary.exit_code = outcome.exit_code;
  summary.error = std::string(outcome.error);
  if (session.plan_seconds >= 0) {
    for (size_t category = 0; category < core::kCategoryCount; ++category) {
      summary.users.emplace_back(
          std::string(core::CategoryName(static_cast<core::Category>(category))),
          static_cast<int64_t>(session.plan.summary[category]));
    }
  }
  if (outcome.applied != nullptr && outcome.ops != nullptr) {
    summary.applied = true;
    summary.operations = Operations(outcome);
    summary.quarantined = outcome.applied->totals.quarantined;
  }
  StoreFacts(session, summary);
  const std::filesystem::path logs(session.config.logs_dir);
  summary.errors_log = (logs / "errors.log").string();
  summary.audit_log = (logs / "audit.jsonl").string();
  return summary;
}

// "Tue, 08 Dec 2026 03:14:15 +0000".
std::string MailDate(absl::Time now) {
  return absl::FormatTime("%a, %d %b %Y %H:%M:%S +0000", now, absl::UTCTimeZone());
}

absl::Status SendByEmail(const NotifyConfig& notify, const NotifySummary& summary, absl::Time now) {
  std::string password;
  if (!notify.smtp_user.empty()) {
    absl::StatusOr<std::string> secret =
        ReadSecret(notify.smtp_password_env, notify.smtp_password_file, "SMTP password");
    if (!secret.ok()) return secret.status();
    RegisterSecret(*secret);
    password = *std::move(secret);
  }
  return SendEmail(
      notify, password,
      {.subject = NotifySubject(summary), .body = NotifyText(summary), .date = MailDate(now)});
}

// Each channel's failure goes to errors.log (and a warning to stderr). Returns whether any
// channel delivered.
bool Deliver(const Session& session, const NotifySummary& summary, absl::Time now) {
  const NotifyConfig& notify = session.config.notify;
  const std::string json = NotifyJson(summary);
  std::vector<std::pair<std::string_view, absl::Status>> results;
  if (!notify.email.empty()) results.emplace_back("email", SendByEmail(notify, summary, now));
  if (!notify.webhook.empty()) {
    results.emplace_back("webhook", PostWebhook(notify, json, session.clock));
  }
  if (!notify.command.empty()) results.emplace_back("command", RunNotifyCommand(notify, json));
  // Both arms views: `cond ? "recovered" : summary.condition` is a temporary std::string.
  const std::string_view what = summary.condition == "ok" ? std::string_view("recovered")
                                                          : std::string_view(summary.condition);
  std::vector<std::string> sent;
  std::unique_ptr<RunLogs> logs;
  for (const auto& [channel, status] : results) {
    if (status.ok()) {
      sent.emplace_back(channel == "command" ? "command (exit 0)" : channel);
      continue;
    }
    const std::string line = absl::StrCat("notification (", Sv(what), ") by ", Sv(channel),
                                          " not sent: ", status.message());
    Print(session.options.err, absl::StrCat("usersync: warning: ", line, "\n"));
    if (logs == nullptr) {
      absl::StatusOr<std::unique_ptr<RunLogs>> opened =
          RunLogs::Open(session.config.logs_dir, session.clock);
      if (opened.ok()) logs = *std::move(opened);
    }
    if (logs != nullptr) logs->Error(line);
  }
  if (logs != nullptr) logs->Close().IgnoreError();  // already warned on stderr
  if (!sent.empty()) {
    Print(session.options.err,
          absl::StrCat("usersync: notified (", summary.event, ": ", summary.condition, ") by ",
                       absl::StrJoin(sent, ", "), "\n"));
  }
  return !sent.empty();
}

}  // namespace

std::string_view RunCondition(int exit_code, bool quarantined) {
  switch (exit_code) {
    case 0:
      return "ok";
    case 3:
      return "held";
    case 4:
      return quarantined ? "quarantined" : "unreachable";
    case 5:
      return "drift";
    default:
      return "failed";
  }
}

void NotifyRun(const Session& session, const RunOutcome& outcome) {
  const NotifyConfig& notify = session.config.notify;
  if (outcome.paused || !notify.enabled() || session.state == nullptr) return;
  const bool quarantined = outcome.applied != nullptr && outcome.applied->totals.quarantined;
  std::string_view condition = RunCondition(outcome.exit_code, quarantined);
  if (condition != "ok" && !Notified(notify, condition)) condition = "ok";
  absl::StatusOr<std::optional<NotifyStateRow>> last = LoadNotifyState(*session.state);
  if (!last.ok()) {
    Print(session.options.err,
          absl::StrCat("usersync: warning: no notification: ", last.status().message(), "\n"));
    return;
  }
  const absl::Time now = absl::FromChrono(session.clock.WallNow());
  const NotifyDecision decision =
      DecideNotify(*last, condition, now, notify.repeat_every, Notified(notify, "recovered"));
  if (!decision.next.has_value()) return;
  if (decision.event != NotifyEvent::kNone &&
      !Deliver(session, Summarize(session, outcome, *decision.next, decision.event, now), now)) {
    return;  // nothing delivered: the next run tries again
  }
  if (absl::Status s = SaveNotifyState(*session.state, *decision.next); !s.ok()) {
    Print(session.options.err, absl::StrCat("usersync: warning: the notification was not "
                                            "recorded: ",
                                            s.message(), "\n"));
  }
}

}  // namespace usersync::io
