// The executor: applies a plan's operations through a target driver, journaling each one in
// the state store before its request is sent and settling it after, writing the audit log and
// keeping the links in step with the outcomes. It also closes what a dead run left open
// (SettleInterrupted), stops cleanly on Ctrl-C, and stops early when the target is failing
// (quarantine).
//
// Crash safety: an operation is sent only once its "intent" row is committed; its link is
// written before its journal row is settled, so after a kill at any point a row is either
// settled with its link in place, or still "intent" — and SettleInterrupted then decides from
// the target's snapshot what happened. The store runs SQLite in WAL mode with
// synchronous=NORMAL: a killed process loses nothing committed; a power loss may lose the last
// transactions (out of scope: the next run re-plans from the target's state either way).
//
// Threading: ApplyOperations runs on the caller's thread and blocks until every operation it
// started has finished; the driver's I/O thread only hands outcomes back through a queue, so
// the state store and the logs are used from the caller's thread alone. The `interrupted` flag
// may be set from a signal handler at any time.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "core/accounts.h"
#include "core/plan.h"
#include "io/clock.h"

namespace usersync::io {

class StateStore;
class TargetApi;
class RunLogs;
struct LinkRow;

// When a run stops early because the target is failing (quarantine): among the last
// `window` operations that reached an outcome at the target, `threshold` or more failed with a
// non-data error (kUnavailable, kUnauthenticated, kPermissionDenied, kDeadlineExceeded: the
// target is down, the token revoked). Data errors (kAlreadyExists, kInvalidArgument,
// kNotFound, ...) and successes count as healthy; cancelled operations are not counted.
// Example: window 50, threshold 40 (80%): 47 failures among the last 50 stop the run; a run of
// 30 operations that all fail is never stopped early (the window never fills).
struct QuarantinePolicy {
  int window = 50;
  int threshold = 40;  // 0 disables quarantine
};

struct ExecutorContext {
  StateStore* state = nullptr;
  TargetApi* target = nullptr;
  RunLogs* logs = nullptr;
  int64_t run_id = 0;
  // Links before the run (their origins are kept). Not owned; outlives the call.
  std::span<const LinkRow> links;
  std::string hold_reason;  // logged for held operations
  std::FILE* err = stderr;
  const std::atomic<bool>* interrupted = nullptr;  // set: stop starting operations
  QuarantinePolicy quarantine;
  // Incremented (relaxed) once per operation settled, for the progress display's done/total.
  // nullptr: not counted.
  std::atomic<int64_t>* settled = nullptr;
  // Times the journal's settle batches (every 100 ms of it). nullptr = RealClock(). Waiting
  // for outcomes is the driver's queue's own timed wait.
  const Clock* clock = &RealClock();
};

struct ApplyTotals {
  int64_t done = 0;
  int64_t failed = 0;     // reached the target (or its driver) and failed
  int64_t cancelled = 0;  // journaled, then cancelled by Ctrl-C or quarantine (not done)
  int64_t held = 0;
  int64_t not_started = 0;  // never journaled nor sent: Ctrl-C, quarantine or journal failure
  absl::flat_hash_map<std::string, int64_t> done_by_kind;
  // The same by operation kind ("create", ...) for failed, cancelled and held (the metrics file;
  // not started = the kind's operations less all of these).
  absl::flat_hash_map<std::string, int64_t> failed_by_kind;
  absl::flat_hash_map<std::string, int64_t> cancelled_by_kind;
  absl::flat_hash_map<std::string, int64_t> held_by_kind;

  bool interrupted = false;  // Ctrl-C stopped the run (exit 1)
  bool quarantined = false;  // the target was failing: the run stopped early (exit 4)
  bool logs_failed = false;  // a line of the audit or error log could not be written (exit 1)
  // The quarantine window when the run stopped (or at its end): non-data failures among the
  // last `window_size` outcomes, and the last such failure's message (no secrets).
  int64_t window_failed = 0;
  int64_t window_size = 0;
  std::string last_failure;
};

// Applies every operation of `ops` that is not held. REQUIRES: `ops` outlives the call.
// Links: a create stores a "created" link (also when only a later step of it failed: the account
// exists), a delete removes it, others store "linked" (or keep the existing origin), also when
// only their products were refused (OpOutcome::rest_applied). Failures are counted, audited and
// written to the error log. Ctrl-C (`context.interrupted` set): no new operation starts, queued
// requests are cancelled (TargetApi::Cancel), requests in flight finish, every journaled operation
// is settled (the cancelled ones as not done, "cancelled by interrupt"), and a line on
// `context.err` says so. Quarantine (see QuarantinePolicy): the same stop, with a message naming
// the failure rate and the last failure. A failed write to the run's logs (RunLogs::status()): the
// same stop before the next batch is sent, with a message naming the file and the reason. Either
// way the next run's plan picks up what was not done.
ApplyTotals ApplyOperations(const std::vector<core::Operation>& ops,
                            const ExecutorContext& context);

struct RecoveryTotals {
  int64_t done = 0;            // rows found applied at the target: settled "done"
  int64_t not_done = 0;        // rows found not (or not fully) applied: settled "failed" with why
  std::vector<LinkRow> links;  // links recorded (a create found at the target: "created")
};

// Closes journal rows left in "intent" by a run that died (kill -9, power loss, crash). Each
// row is checked against `accounts`, this run's snapshot of the target, taken after the dead
// run stopped:
//   create      an account with the row's externalId exists → done if the planner would find
//               nothing to change in it (core::DiffAccount; `target_has_display_name` as in
//               core::PlanConfig), else not done ("created, but incomplete: user_group"); its link
//               is recorded with origin "created" either way. No such account → not done.
//   update, link, reactivate
//               the account holds every planned value → done (link kept or recorded as
//               "linked"), else not done; an account gone → not done.
//   deactivate  the account is inactive → done.   delete  the account is gone → done (link
//               removed).
// Not-done rows need nothing more: this run's plan, computed from the same snapshot, redoes
// them. (A request of the dead run that the target carries out only after the snapshot was
// taken is settled not done; the re-planned create then meets a 409 and the driver adopts the
// account it finds with our externalId.) Links recorded here are also appended to `*links` (the
// caller's copy of the links, so that this run's executor keeps the "created" origin). Prints one
// line to `out` when there were rows. Store errors go to the error log; the rows then stay "intent"
// for the next run.
RecoveryTotals SettleInterrupted(StateStore& state, RunLogs& logs, const core::Accounts& accounts,
                                 bool target_has_display_name, std::vector<LinkRow>* links,
                                 std::FILE* out);

}  // namespace usersync::io
