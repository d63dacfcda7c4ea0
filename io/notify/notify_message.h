// One run's notification (README "Notifications"): what a run ended in, as a JSON summary (the
// webhook's body and the command's stdin), an email subject and a plain-text body. One message
// per run: counts and the first kMaxNotifyFailures failures, never one per user. Every text
// passes through Redact (io/secrets.h): a token a server echoed into an error never leaves.
// Plain values and pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace usersync::io {

inline constexpr size_t kMaxNotifyFailures = 10;

struct NotifyFailure {
  std::string op;  // "create", ...
  std::string email;
  std::string directory_id;
  int http_status = 0;  // 0: none reached
  std::string error;
};

struct NotifyOperations {
  int64_t planned = 0;
  int64_t done = 0;
  int64_t failed = 0;
  int64_t cancelled = 0;
  int64_t held = 0;
  int64_t not_started = 0;
};

struct NotifySummary {
  std::string event;      // "failure" | "reminder" | "recovery"
  std::string condition;  // a kNotifyConditions name, or "ok" (recovery)
  std::string since;      // RFC 3339: the first run in the condition
  std::string time;       // RFC 3339: this run's end
  std::string config;     // the configuration file's stem ("acme")
  std::string config_path;
  std::string host;
  std::string mode;    // "sync" | "apply" | "release"
  int64_t run_id = 0;  // 0: not recorded
  int exit_code = 0;
  std::string error;  // why the run stopped before applying ("" when it applied)
  std::vector<std::pair<std::string, int64_t>> users;  // per plan category; empty: no plan
  bool applied = false;                                // `operations` holds what it did
  NotifyOperations operations;
  bool quarantined = false;
  int64_t pending_holds = -1;           // -1: unknown
  std::vector<NotifyFailure> failures;  // at most kMaxNotifyFailures
  int64_t failures_total = 0;
  std::string errors_log;
  std::string audit_log;
};

// The JSON summary, one object (README lists its fields).
std::string NotifyJson(const NotifySummary& summary);

// "usersync: acme: unreachable (exit 4)"; a reminder "usersync: acme: still unreachable since
// 2026-12-06T01:00:00.000Z (exit 4)"; a recovery "usersync: acme: recovered (exit 0)".
std::string NotifySubject(const NotifySummary& summary);

// The email's plain-text body (LF line ends): what happened, the counts, the first failures,
// where the logs are.
std::string NotifyText(const NotifySummary& summary);

}  // namespace usersync::io
