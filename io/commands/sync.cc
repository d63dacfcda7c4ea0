// `usersync sync [--dry-run]`: plan and apply in one go.
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/str.h"
#include "io/commands/apply_run.h"
#include "io/commands/commands.h"
#include "io/commands/pause.h"
#include "io/commands/progress_run.h"
#include "io/commands/run_context.h"
#include "io/commands/run_metrics.h"
#include "io/json_writer.h"
#include "io/output.h"
#include "io/report/apply_estimate.h"
#include "io/report/plan_report.h"

namespace usersync::io {
namespace {

std::string RunSummaryJson(const core::Plan& plan, const ApplyTotals& totals,
                           const TargetStats& stats, const CycleInfo& cycle) {
  JsonWriter w;
  w.BeginObject();
  w.Key("summary").BeginObject();
  for (size_t c = 0; c < core::kCategoryCount; ++c) {
    w.Key(core::CategoryName(static_cast<core::Category>(c))).Int(plan.summary[c]);
  }
  w.EndObject();
  w.Key("operations").Int(static_cast<int64_t>(plan.operations.size()));
  w.Key("done").Int(totals.done).Key("failed").Int(totals.failed).Key("held").Int(totals.held);
  w.Key("requests").Int(stats.requests).Key("throttled").Int(stats.throttled);
  WriteCycleJson(cycle, w);
  w.EndObject();
  return w.Release();
}

// The plan and how long reading, listing and planning took.
void PrintPlan(const Session& session) {
  Print(session.options.out, PlanTable(session.plan));
  Print(session.options.out,
        absl::StrFormat("(read %zu users, %zu groups in %.2fs; %s %zu accounts in %.2fs; "
                        "planned in %.3fs)\n",
                        session.directory.user_count(), session.directory.group_count(),
                        session.read_seconds, session.cycle.delta ? "looked up" : "listed",
                        session.accounts.items.size(), session.list_seconds, session.plan_seconds));
  Print(session.options.out, CycleLine(session.cycle));
  Print(session.options.out,
        EstimateLine(EstimateFor(session), CostModelFor(session.config.target)));
}

// "Result: ..." and the throttling report.
void PrintResult(const Session& session, const Applied& applied) {
  std::FILE* out = session.options.out;
  if (session.plan.operations.empty()) {
    Print(out, "Result: nothing to do.\n");
    return;
  }
  const ApplyTotals& totals = applied.totals;
  const std::string by_kind = DoneByKind(totals);
  const int64_t requests = applied.after.requests - applied.before.requests;
  Print(out,
        absl::StrFormat(
            "Result: %d done%s, %d failed, %d held in %.2fs (%d requests, %d retried, %d "
            "throttled, %.1f requests/s)\n",
            totals.done, by_kind.empty() ? std::string() : " (" + by_kind + ")", totals.failed,
            totals.held, applied.seconds, requests, applied.after.retries - applied.before.retries,
            applied.after.throttled - applied.before.throttled,
            applied.seconds > 0 ? static_cast<double>(requests) / applied.seconds : 0.0));
  Print(out,
        ThrottlingReport(applied.before, applied.after, applied.seconds, session.config.target));
  Print(out, EstimateComparison(EstimateFor(session), requests, applied.seconds));
}

// Everything before the plan is printed: the session, the pause check (not for a dry run: it
// changes nothing, so it works while paused, as plan does), reading and planning. nullopt: go
// on; else the exit code to return.
std::optional<int> PrepareSync(Session& session, const std::string& started_at) {
  const CommandOptions& options = session.options;
  // A sync that could not start (the directory or the target unreachable, a secret missing)
  // is a run all the same: `usersync status`, the polling loop and the metrics must show it.
  const auto unstarted = [&](const absl::Status& s) {
    if (!options.dry_run && session.state != nullptr) {
      RecordUnstartedRun(session, "sync", started_at, s);
      WriteRunMetrics(session,
                      {.mode = "sync", .exit_code = ExitCodeFor(s), .error = StdSv(s.message())});
    }
    return Report(options, s);
  };
  if (absl::Status s = OpenSession(session, options.dry_run ? Access::kReadOnly : Access::kApply);
      !s.ok()) {
    return unstarted(s);
  }
  if (!options.dry_run) {
    absl::StatusOr<bool> paused = StopIfPaused(session);
    if (!paused.ok()) return Report(options, paused.status());
    if (*paused) return kExitOk;
    if (absl::Status s = StartProgress(session, started_at); !s.ok()) return Report(options, s);
  }
  if (absl::Status s = ReadAndPlan(session); !s.ok()) return unstarted(s);
  return std::nullopt;
}

}  // namespace

int RunSyncCommand(const CommandOptions& options) {
  Session session(options);
  const std::string started_at = NowStamp(session.clock);  // the run's start: before reading
  if (std::optional<int> stop = PrepareSync(session, started_at); stop.has_value()) return *stop;
  PrintPlan(session);
  if (options.dry_run) {
    Print(options.out, "Dry run: nothing was changed.\n");
    return kExitOk;
  }

  absl::StatusOr<std::unique_ptr<ApplyRun>> run = ApplyRun::Begin(session, "sync", started_at);
  if (!run.ok()) return Report(options, run.status());
  const Applied applied =
      (*run)->Apply(session.plan.operations, session.plan.hold_reason, HoldRecording::kAlways);
  const int exit_code =
      (*run)->Finish(ExitCodeFor(applied.totals),
                     RunSummaryJson(session.plan, applied.totals, applied.after, session.cycle));
  if (exit_code == kExitOk) RecordScopeBaseline(session);  // a successful run: the new baseline
  RecordCycle(session, applied.totals);
  WriteRunMetrics(session, {.mode = "sync",
                            .exit_code = exit_code,
                            .applied = &applied,
                            .ops = &session.plan.operations});
  PrintResult(session, applied);
  (*run)->PrintEnd(applied, "; they are planned again next run.\n", &session.plan.hold_reason, "");
  return exit_code;
}

}  // namespace usersync::io
