// The one apply tail of the commands that change the target (sync, apply, release):
//   ApplyRun::Begin  opens the run's logs, records the run as begun in the state store, and
//                    settles what a dead run left open (SettleInterrupted);
//   Apply            applies the operations through the executor (held ones are not sent),
//                    timed on the session's clock, and records the holds as the command asks;
//   Finish           closes the logs (a failed write or close makes the exit code 1) and
//                    records the run's exit code and summary;
//   PrintEnd         prints where failures are, what is held, and where the audit log is.
// Each command prints its own result line between Finish and PrintEnd (their wording differs);
// ThrottlingReport is the per-run throttling line they share.
//
// Thread-compatible: an ApplyRun belongs to the command's thread and borrows its Session, which
// must outlive it.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/plan.h"
#include "io/commands/run_context.h"
#include "io/executor.h"
#include "io/report/audit_log.h"
#include "io/target_api.h"

namespace usersync::io {

// Which holds Apply records: sync always makes this plan's holds the pending ones (none held:
// the stale ones go); apply only when some of its operations were held; release never.
enum class HoldRecording { kAlways, kIfHeld, kNever };

struct Applied {
  ApplyTotals totals;
  TargetStats before;  // the driver's counters before and after the apply
  TargetStats after;
  double seconds = 0;
  std::vector<HoldRow> holds;  // the pending holds after the run (if recorded)
};

class ApplyRun {
 public:
  // Opens the logs, begins the run `mode` ("sync", "apply", "release") stamped `started_at`,
  // and settles interrupted operations (appending their links to session.links).
  static absl::StatusOr<std::unique_ptr<ApplyRun>> Begin(Session& session, std::string_view mode,
                                                         const std::string& started_at);

  RunLogs& logs() { return *logs_; }
  int64_t run_id() const { return run_id_; }

  // Applies `ops` (REQUIRES: they outlive the call); `hold_reason` is logged for held ones.
  Applied Apply(const std::vector<core::Operation>& ops, const std::string& hold_reason,
                HoldRecording holds);

  // Closes the logs and records the run's end; returns the exit code to use: `exit_code`, or 1
  // when the logs could not be closed (0 and 3 only; a worse code stays). A store error is
  // printed to the command's stderr (the logs are closed by then).
  [[nodiscard]] int Finish(int exit_code, const std::string& summary_json);

  // "Failed operations are in ERRORS<failed_note>" when some failed; "HELD: <*hold_reason>" and
  // the holds when some were held and `hold_reason` is not null; `extra` as it is; then
  // "Audit log: AUDIT".
  void PrintEnd(const Applied& applied, std::string_view failed_note,
                const std::string* hold_reason, std::string_view extra);

 private:
  ApplyRun(Session& session, std::unique_ptr<RunLogs> logs, int64_t run_id)
      : session_(session), logs_(std::move(logs)), run_id_(run_id) {}

  Session& session_;
  std::unique_ptr<RunLogs> logs_;
  int64_t run_id_;
};

// The per-run throttling report: requests sent, 429s, achieved rate, time spent waiting, and
// the batches when any were sent.
std::string ThrottlingReport(const TargetStats& before, const TargetStats& after,
                             double apply_seconds, const TargetConfig& target);

// The summary stored for an apply or a release run.
std::string BatchSummaryJson(std::string_view mode, std::string_view plan_id, int64_t operations,
                             int64_t refused, const ApplyTotals& totals, const TargetStats& stats);

}  // namespace usersync::io
