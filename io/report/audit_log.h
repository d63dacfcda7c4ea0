// The run's logs in logs.dir (DESIGN.md "reports"):
//   audit.jsonl  one JSON line per operation: time, run, op, directory id, account id, email,
//                outcome (done | failed | held), HTTP status, attempts, error
//   errors.log   one line per failed operation or run-level error, with its reason
// Both are append-only and flushed per line, so a crash loses nothing written before it.
// Tokens and passwords never reach these files: callers pass only ids, statuses and errors that
// were built without secrets. Thread-compatible: one RunLogs per run, used from the run's thread.
#pragma once

#include <cstdio>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "io/clock.h"

namespace usersync::io {

struct AuditRecord {
  int64_t run_id = 0;
  std::string_view op;
  std::string_view directory_id;
  std::string_view account_id;
  std::string_view email;
  std::string_view outcome;  // "done" | "failed" | "held"
  int http_status = 0;
  int attempts = 0;
  std::string_view error;
};

class RunLogs {
 public:
  // Creates `dir` if needed and opens both files for appending. Lines are stamped with
  // `clock`'s wall time; `clock` must outlive the logs.
  static absl::StatusOr<std::unique_ptr<RunLogs>> Open(const std::string& dir,
                                                       const Clock& clock = RealClock());
  ~RunLogs();
  RunLogs(const RunLogs&) = delete;
  RunLogs& operator=(const RunLogs&) = delete;

  void Audit(const AuditRecord& record);
  void Error(std::string_view message);

  const std::string& audit_path() const { return audit_path_; }
  const std::string& error_path() const { return error_path_; }

 private:
  explicit RunLogs(const Clock& clock) : clock_(clock) {}
  std::string Stamp() const;

  const Clock& clock_;
  std::FILE* audit_ = nullptr;
  std::FILE* errors_ = nullptr;
  std::string audit_path_;
  std::string error_path_;
};

// `time` in UTC as RFC 3339 with milliseconds ("2026-11-22T03:14:15.926Z"): the one format
// of every stamp usersync writes, so stamps order as text (StateStore::RunsSince relies on it).
std::string Rfc3339(absl::Time time);

}  // namespace usersync::io
