#include "io/commands/apply_run.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/str.h"
#include "io/commands/exit_code.h"
#include "io/commands/holds.h"
#include "io/commands/log_rotation.h"
#include "io/json_writer.h"
#include "io/output.h"

namespace usersync::io {

absl::StatusOr<std::unique_ptr<ApplyRun>> ApplyRun::Begin(Session& session, std::string_view mode,
                                                          const std::string& started_at) {
  if (absl::Status s = RotateLogs(session.config.logs_dir, session.config.logs,
                                  absl::FromChrono(session.clock.WallNow()));
      !s.ok()) {
    Print(session.options.err, absl::StrCat("usersync: warning: ", s.message(), "\n"));
  }
  absl::StatusOr<std::unique_ptr<RunLogs>> logs =
      RunLogs::Open(session.config.logs_dir, session.clock);
  if (!logs.ok()) return logs.status();
  absl::StatusOr<int64_t> run_id = session.state->BeginRun(std::string(mode), started_at);
  if (!run_id.ok()) return run_id.status();
  SettleInterrupted(*session.state, **logs, session.accounts,
                    TargetHoldsDisplayName(session.config.target.kind), &session.links,
                    session.options.out);
  std::unique_ptr<ApplyRun> run(new ApplyRun(session, *std::move(logs), *run_id));
  if (absl::Status s = run->logs_->status(); !s.ok()) {
    // Nothing was sent yet: the run ends here, recorded as such.
    const absl::Status stopped =
        absl::InternalError(absl::StrCat(s.message(), "; the run stopped before sending anything"));
    (void)run->Finish(ExitCodeFor(stopped), "{}");
    return stopped;
  }
  return run;
}

Applied ApplyRun::Apply(const std::vector<core::Operation>& ops, const std::string& hold_reason,
                        HoldRecording holds) {
  ExecutorContext context;
  context.state = session_.state.get();
  context.target = session_.target.get();
  context.logs = logs_.get();
  context.run_id = run_id_;
  context.links = session_.links;
  context.hold_reason = hold_reason;
  context.err = session_.options.err;
  context.interrupted = session_.options.interrupted;
  if (session_.progress != nullptr) {
    int64_t to_send = 0;
    for (const core::Operation& op : ops) to_send += op.held ? 0 : 1;
    session_.progress->BeginPhase("applying", to_send);
    context.settled = session_.progress->settled();
  }

  Applied applied;
  applied.before = session_.target->stats();
  const core::MonoTime start = session_.clock.Now();
  applied.totals = ApplyOperations(ops, context);
  applied.seconds = SecondsSince(session_.clock, start);
  applied.after = session_.target->stats();
  if (session_.progress != nullptr) {
    session_.progress->EndPhase(
        absl::StrFormat("· applied %d operations in %.2fs (%d requests, %d × 429)",
                        applied.totals.done + applied.totals.failed, applied.seconds,
                        applied.after.requests - applied.before.requests,
                        applied.after.throttled - applied.before.throttled));
  }
  // Held deprovisioning waits in the state store for `usersync release`.
  if (holds == HoldRecording::kAlways ||
      (holds == HoldRecording::kIfHeld && applied.totals.held > 0)) {
    applied.holds = RecordHolds(*session_.state, run_id_, ops, *logs_, session_.options.err);
  }
  if (!logs_->status().ok() && !applied.totals.logs_failed) {  // failed after the last operation
    applied.totals.logs_failed = true;
    Print(session_.options.err, absl::StrCat("usersync: ", logs_->status().message(),
                                             "; the state store's journal holds what was done\n"));
  }
  return applied;
}

int ApplyRun::Finish(int exit_code, const std::string& summary_json) {
  const bool logs_were_ok = logs_->status().ok();
  if (absl::Status closed = logs_->Close(); !closed.ok()) {
    if (logs_were_ok) {  // the close itself failed: not reported yet
      Print(session_.options.err, absl::StrCat("usersync: ", closed.message(), "\n"));
    }
    if (exit_code == kExitOk || exit_code == kExitHeld) exit_code = kExitSomeFailed;
  }
  if (absl::Status s =
          session_.state->FinishRun(run_id_, exit_code, summary_json, NowStamp(session_.clock));
      !s.ok()) {
    Print(session_.options.err,
          absl::StrCat("usersync: could not record the run: ", s.message(), "\n"));
  }
  return exit_code;
}

void ApplyRun::PrintEnd(const Applied& applied, std::string_view failed_note,
                        const std::string* hold_reason, std::string_view extra) {
  std::FILE* out = session_.options.out;
  if (applied.totals.failed > 0) {
    Print(out, absl::StrCat("Failed operations are in ", logs_->error_path(), Sv(failed_note)));
  }
  if (applied.totals.held > 0 && hold_reason != nullptr) {
    Print(out, absl::StrCat("HELD: ", *hold_reason, "\n"));
    Print(out, HoldsText(applied.holds, session_.options.config_path, 50));
  }
  if (!extra.empty()) Print(out, extra);
  Print(out, absl::StrCat("Audit log: ", logs_->audit_path(), "\n"));
}

std::string ThrottlingReport(const TargetStats& before, const TargetStats& after,
                             double apply_seconds, const TargetConfig& target) {
  const int64_t requests = after.requests - before.requests;
  const int64_t throttled = after.throttled - before.throttled;
  const double seconds = apply_seconds > 0 ? apply_seconds : 0;
  const double sent_rps = seconds > 0 ? static_cast<double>(requests) / seconds : 0.0;
  const double accepted_rps =
      seconds > 0 ? static_cast<double>(requests - throttled) / seconds : 0.0;
  std::string limit =
      target.rate > 0 ? absl::StrFormat("limit %g/s", target.rate) : std::string("no limit");
  if (target.rate > 0 && target.adaptive && after.current_rate > 0 &&
      after.current_rate < target.rate) {
    absl::StrAppend(&limit, absl::StrFormat(", adaptive now %.1f/s", after.current_rate));
  }
  std::string out = absl::StrFormat(
      "Throttling: %d requests sent, %d answered 429; achieved %.1f requests/s (%.1f/s not "
      "throttled; %s); waited %.2fs on the rate limit, %.2fs in backoff\n",
      requests, throttled, sent_rps, accepted_rps, limit,
      after.rate_wait_seconds - before.rate_wait_seconds,
      after.backoff_wait_seconds - before.backoff_wait_seconds);
  const int64_t batches = after.batches - before.batches;
  if (batches > 0) {
    absl::StrAppend(&out, absl::StrFormat("Batches: %d batch requests carried %d creates\n",
                                          batches, after.batched_creates - before.batched_creates));
  }
  return out;
}

std::string BatchSummaryJson(std::string_view mode, std::string_view plan_id, int64_t operations,
                             int64_t refused, const ApplyTotals& totals, const TargetStats& stats) {
  JsonWriter w;
  w.BeginObject().Field("mode", mode);
  if (!plan_id.empty()) w.Field("plan_id", plan_id);
  w.Key("operations").Int(operations).Key("refused").Int(refused);
  w.Key("done").Int(totals.done).Key("failed").Int(totals.failed).Key("held").Int(totals.held);
  w.Key("requests").Int(stats.requests).Key("throttled").Int(stats.throttled);
  w.EndObject();
  return w.Release();
}

}  // namespace usersync::io
