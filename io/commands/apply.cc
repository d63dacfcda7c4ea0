// `usersync apply --plan PLAN`: applies exactly a reviewed plan, refusing what drifted.
#include <filesystem>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "io/commands/apply_run.h"
#include "io/commands/commands.h"
#include "io/commands/pause.h"
#include "io/commands/run_context.h"
#include "io/commands/run_metrics.h"
#include "io/output.h"
#include "io/plan_file.h"

namespace usersync::io {
namespace {

// The plan file, refused when its operations were edited after `plan --out` wrote it.
absl::StatusOr<PlanFile> ReadReviewedPlan(const std::string& path) {
  if (path.empty()) return absl::InvalidArgumentError("apply needs --plan");
  absl::StatusOr<PlanFile> file = ReadPlanFile(path);
  if (!file.ok()) return file.status();
  if (file->computed_plan_id != file->plan_id) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": its operations were edited after `usersync plan --out` wrote it (plan_id ",
        file->plan_id, ", operations now fingerprint ", file->computed_plan_id,
        "); nothing was applied: make and review a new plan"));
  }
  return file;
}

// Refuses a plan made against another target; prints what is applied and with which config.
absl::Status IntroducePlan(const Session& session, const PlanFile& file) {
  const CommandOptions& options = session.options;
  if (!file.target_url.empty() && file.target_url != session.config.target.url) {
    return absl::InvalidArgumentError(absl::StrCat(
        options.plan_path, " was made against ", file.target_url, ", but the configuration names ",
        session.config.target.url, "; nothing was applied"));
  }
  Print(options.out, absl::StrCat("Plan ", options.plan_path, " (plan_id ", file.plan_id,
                                  "): ", file.operations.size(), " operation(s)\n"));
  std::error_code absolute_error;
  const std::filesystem::path config_path =
      std::filesystem::absolute(session.config.path, absolute_error).lexically_normal();
  if (!file.config_path.empty() && !absolute_error && file.config_path != config_path.string()) {
    Print(options.out, absl::StrCat("Note: the plan was made with ", file.config_path,
                                    "; applying it with ", config_path.string(), "\n"));
  }
  return absl::OkStatus();
}

// The operations that still hold; prints the refused ones with what drifted.
std::vector<core::Operation> UndriftedOps(const Session& session, const PlanFile& file,
                                          const DriftReport& drift) {
  std::vector<core::Operation> ops;
  ops.reserve(file.operations.size());
  std::string refused;
  for (size_t op_idx = 0; op_idx < file.operations.size(); ++op_idx) {
    const core::Operation& op = file.operations[op_idx];
    if (drift.reasons[op_idx].empty()) {
      ops.push_back(op);
      continue;
    }
    absl::StrAppend(&refused, "  ", DescribeOp(op), ":\n");
    for (const std::string& reason : drift.reasons[op_idx]) {
      absl::StrAppend(&refused, "    - ", reason, "\n");
    }
  }
  std::FILE* out = session.options.out;
  if (drift.drifted > 0) {
    Print(out, absl::StrCat("DRIFT: ", drift.drifted,
                            " operation(s) refused: the source or the target changed since the "
                            "plan was made:\n",
                            refused));
  }
  if (drift.not_in_plan > 0) {
    Print(out, absl::StrCat("Note: the directory and the target now call for ", drift.not_in_plan,
                            " operation(s) this plan does not hold; they are not applied (review "
                            "them with `usersync plan`).\n"));
  }
  return ops;
}

// Each refused operation goes into the audit log with what drifted.
void AuditRefused(ApplyRun& run, const PlanFile& file, const DriftReport& drift) {
  for (size_t op_idx = 0; op_idx < file.operations.size(); ++op_idx) {
    if (drift.reasons[op_idx].empty()) continue;
    const core::Operation& op = file.operations[op_idx];
    std::string why;
    for (const std::string& reason : drift.reasons[op_idx]) {
      absl::StrAppend(&why, why.empty() ? "" : "; ", reason);
    }
    run.logs().Audit({run.run_id(), core::OpKindName(op.kind), op.directory_id, op.account_id,
                      op.email, "refused", 0, 0, why, op.reason, op.changes});
  }
}

void PrintResult(const Session& session, const Applied& applied, int64_t drifted) {
  const ApplyTotals& totals = applied.totals;
  const std::string by_kind = DoneByKind(totals);
  Print(session.options.out,
        absl::StrFormat("Result: %d done%s, %d failed, %d held, %d refused (drifted) in %.2fs "
                        "(%d requests)\n",
                        totals.done, by_kind.empty() ? std::string() : " (" + by_kind + ")",
                        totals.failed, totals.held, drifted, applied.seconds,
                        applied.after.requests - applied.before.requests));
  if (applied.after.requests > applied.before.requests) {
    Print(session.options.out,
          ThrottlingReport(applied.before, applied.after, applied.seconds, session.config.target));
  }
}

}  // namespace

int RunApplyCommand(const CommandOptions& options) {
  absl::StatusOr<PlanFile> file = ReadReviewedPlan(options.plan_path);
  if (!file.ok()) return Report(options, file.status());
  Session session(options);
  if (std::optional<int> stop = PrepareUnlessPaused(session); stop.has_value()) return *stop;
  if (absl::Status s = IntroducePlan(session, *file); !s.ok()) return Report(options, s);
  const DriftReport drift = CheckDrift(file->operations, session.accounts, session.plan);
  const std::vector<core::Operation> ops = UndriftedOps(session, *file, drift);

  absl::StatusOr<std::unique_ptr<ApplyRun>> run =
      ApplyRun::Begin(session, "apply", NowStamp(session.clock));
  if (!run.ok()) return Report(options, run.status());
  AuditRefused(**run, *file, drift);
  const Applied applied = (*run)->Apply(ops, file->hold_reason, HoldRecording::kIfHeld);
  const int64_t drifted = static_cast<int64_t>(drift.drifted);
  const int exit_code = (*run)->Finish(
      drifted > 0 ? static_cast<int>(kExitDrift) : ExitCodeFor(applied.totals),
      BatchSummaryJson("apply", file->plan_id, static_cast<int64_t>(file->operations.size()),
                       drifted, applied.totals, applied.after));
  WriteRunMetrics(session,
                  {.mode = "apply", .exit_code = exit_code, .applied = &applied, .ops = &ops});
  PrintResult(session, applied, drifted);
  (*run)->PrintEnd(applied, "\n", &file->hold_reason,
                   drifted > 0 ? "Make a new plan (`usersync plan --out`) to review what "
                                 "drifted.\n"
                               : "");
  return exit_code;
}

}  // namespace usersync::io
