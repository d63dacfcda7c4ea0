// The run's logs in logs.dir (DESIGN.md "reports"):
//   audit.jsonl  one JSON line per operation: time, run, op, directory id, account id, email,
//                outcome (done | failed | held), HTTP status, attempts, error, the plan's
//                reason and the changed fields ("changes": [{"field", "before", "after"}];
//                directory and account values only, never a credential)
//   errors.log   one line per failed operation or run-level error, with its reason
// Both are append-only and each line goes to the kernel whole (a write(2) loop, no stdio buffer),
// so a crash loses nothing written before it. Every write is checked: the first one that fails
// (a full disk, a short write, an I/O error) is kept as status(), and nothing more is written to
// that file (a later line after a hole would read as complete). The executor checks status()
// before it sends each next operation, so a run whose logs fail stops (exit 1); the state
// store's journal, not these logs, is the record of what was done.
// Every line passes through Redact (io/secrets.h): a token or password a server echoes back
// never reaches these files. Thread-compatible: one RunLogs per run, used from the run's thread.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/plan.h"
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
  std::string_view reason = {};                // why the plan made the operation
  std::span<const core::Change> changes = {};  // before → after, in the plan's order
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

  // Append one line. A failure is kept in status() (the first only), not returned: callers
  // log from many places, and the executor decides at one place what a failed log means.
  void Audit(const AuditRecord& record);
  void Error(std::string_view message);

  // OK, or the first failed write or close: kInternal "cannot write PATH: REASON" (the errno
  // text, or "short write").
  const absl::Status& status() const { return status_; }

  // Closes both files (idempotent) and returns status() with a failed close folded in. After
  // Close, Audit and Error write nothing.
  absl::Status Close();

  const std::string& audit_path() const { return audit_path_; }
  const std::string& error_path() const { return error_path_; }

 private:
  explicit RunLogs(const Clock& clock) : clock_(clock) {}
  std::string Stamp() const;
  // Writes `line` whole to `*fd` (redacted), keeping the first failure in status_.
  void WriteLine(int* fd, const std::string& path, std::string_view line);
  void Fail(const std::string& path, std::string_view reason);

  const Clock& clock_;
  int audit_fd_ = -1;
  int errors_fd_ = -1;
  absl::Status status_;
  std::string audit_path_;
  std::string error_path_;
};

// `time` in UTC as RFC 3339 with milliseconds ("2026-11-22T03:14:15.926Z"): the one format
// of every stamp usersync writes, so stamps order as text (StateStore::RunsSince relies on it).
std::string Rfc3339(absl::Time time);

}  // namespace usersync::io
