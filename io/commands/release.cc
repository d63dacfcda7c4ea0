// `usersync release [--all | --id ID...]`: lists the held deactivations/deletions, or releases
// them, each re-checked against the target and the directory as they are now.
#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "core/str.h"
#include "io/commands/apply_run.h"
#include "io/commands/commands.h"
#include "io/commands/holds.h"
#include "io/commands/pause.h"
#include "io/commands/run_context.h"
#include "io/commands/run_metrics.h"
#include "io/output.h"

namespace usersync::io {
namespace {

using core::Operation;
using core::OpKind;

absl::StatusOr<std::vector<int64_t>> ParseHoldIds(const CommandOptions& options) {
  if (options.release_all && !options.release_ids.empty()) {
    return absl::InvalidArgumentError("release takes --all or --id ID..., not both");
  }
  std::vector<int64_t> ids;
  for (const std::string& text : options.release_ids) {
    int64_t id = 0;
    if (!absl::SimpleAtoi(text, &id) || id <= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("--id '", text, "' is not a hold id (the number `usersync release` lists)"));
    }
    ids.push_back(id);
  }
  return ids;
}

// `release` alone: the held operations, from the state store only (no source, no target).
int ListHolds(const CommandOptions& options) {
  Session session(options);
  if (absl::Status s = LoadSessionConfig(session); !s.ok()) return Report(options, s);
  if (absl::Status s = OpenStateStore(session, Access::kReadOnly); !s.ok()) {
    return Report(options, s);
  }
  absl::StatusOr<std::vector<HoldRow>> holds = session.state->LoadHolds();
  if (!holds.ok()) return Report(options, holds.status());
  Print(options.out, holds->empty() ? std::string("Nothing is held.\n")
                                    : HoldsText(*holds, options.config_path, holds->size()));
  return kExitOk;
}

// kNotFound naming every id of `ids` that is not pending.
absl::Status CheckHoldIds(const std::vector<HoldRow>& pending, const std::vector<int64_t>& ids) {
  std::string unknown;
  for (int64_t id : ids) {
    const bool held = std::any_of(pending.begin(), pending.end(),
                                  [id](const HoldRow& hold) { return hold.hold_id == id; });
    if (!held) absl::StrAppend(&unknown, unknown.empty() ? "" : ", ", id);
  }
  if (unknown.empty()) return absl::OkStatus();
  std::string held_ids;
  for (const HoldRow& hold : pending) {
    absl::StrAppend(&held_ids, held_ids.empty() ? "" : ", ", hold.hold_id);
  }
  return absl::NotFoundError(absl::StrCat("no held operation ", unknown,
                                          " (held now: ", held_ids.empty() ? "none" : held_ids,
                                          "); nothing was released"));
}

// Re-checks released holds against the target and the directory as they are now: what is still
// to do goes into `ops`, the rest is noted (and audited) as done, left alone or unreadable.
class Recheck {
 public:
  Recheck(const Session& session, ApplyRun& run) : session_(session), run_(run) {
    for (const core::Account& account : session.accounts.items) {
      account_by_id_.emplace(std::string(account.id), &account);
    }
  }

  void Add(const HoldRow& hold) {
    absl::StatusOr<Operation> op = HeldOperation(hold);
    if (!op.ok()) {
      ++unreadable;
      run_.logs().Error(std::string(op.status().message()));
      absl::StrAppend(&notes, "  hold ", hold.hold_id, ": FAILED: ", op.status().message(), "\n");
      return;
    }
    op->held = false;
    const Verdict verdict = Judge(*op);
    if (verdict.outcome.empty()) {
      ops.push_back(*std::move(op));
      return;
    }
    ++(verdict.outcome == "done" ? already_done : skipped);
    Note(hold, *op, verdict.outcome, verdict.why);
  }

  std::vector<Operation> ops;
  std::string notes;
  int64_t already_done = 0, skipped = 0, unreadable = 0;

 private:
  // Whether a released operation is still to be applied: outcome "" (apply it), "done"
  // (nothing left to do) or "skipped" (left alone), and why.
  struct Verdict {
    std::string_view outcome;
    std::string why;
  };

  Verdict Judge(const Operation& op) const {
    auto account = account_by_id_.find(op.account_id);
    if (account == account_by_id_.end()) {
      if (op.kind == OpKind::kDelete) return {"done", "already gone from the target"};
      return {"skipped", "the account no longer exists at the target: nothing to deactivate"};
    }
    if (op.kind == OpKind::kDeactivate && !account->second->active) {
      return {"done", "already inactive"};
    }
    const std::vector<Operation>& planned = session_.plan.operations;
    const bool still_departed = std::any_of(planned.begin(), planned.end(), [&](const auto& p) {
      return p.account_id == op.account_id &&
             (p.kind == OpKind::kDeactivate || p.kind == OpKind::kDelete);
    });
    if (still_departed) return {"", ""};
    std::string now = "no longer departed";
    for (const core::UserRow& row : session_.plan.rows) {
      if (row.account_id != op.account_id) continue;
      now = absl::StrCat("no longer departed (now ", Sv(core::CategoryName(row.category)), ": ",
                         Sv(row.reason), ")");
      break;
    }
    return {"skipped", absl::StrCat(now, "; left as it is")};
  }

  void Note(const HoldRow& hold, const Operation& op, std::string_view outcome,
            std::string_view why) {
    absl::StrAppend(&notes, "  hold ", hold.hold_id, ": ", DescribeOp(op), ": ", Sv(why), "\n");
    run_.logs().Audit({run_.run_id(), core::OpKindName(op.kind), op.directory_id, op.account_id,
                       op.email, outcome, 0, 0, why, op.reason, op.changes});
  }

  const Session& session_;
  ApplyRun& run_;
  absl::flat_hash_map<std::string, const core::Account*> account_by_id_;
};

void PrintApplying(std::FILE* out, const std::vector<Operation>& ops) {
  if (ops.empty()) return;
  std::string applying = absl::StrCat("Applying ", ops.size(), " released operation(s):\n");
  for (const Operation& op : ops) absl::StrAppend(&applying, "  ", DescribeOp(op), "\n");
  Print(out, applying);
}

// Releases the holds `ids` (all with --all) and applies what still holds of them.
int ReleaseHolds(const CommandOptions& options, const std::vector<int64_t>& ids) {
  Session session(options);
  if (std::optional<int> stop = PrepareUnlessPaused(session); stop.has_value()) return *stop;
  absl::StatusOr<std::vector<HoldRow>> pending = session.state->LoadHolds();
  if (!pending.ok()) return Report(options, pending.status());
  if (absl::Status s = CheckHoldIds(*pending, ids); !s.ok()) return Report(options, s);
  if (pending->empty()) {
    Print(options.out, "Nothing is held.\n");
    return kExitOk;
  }
  absl::StatusOr<std::vector<HoldRow>> released =
      options.release_all ? session.state->ReleaseAllHolds() : session.state->ReleaseHolds(ids);
  if (!released.ok()) return Report(options, released.status());

  absl::StatusOr<std::unique_ptr<ApplyRun>> run =
      ApplyRun::Begin(session, "release", NowStamp(session.clock));
  if (!run.ok()) return Report(options, run.status());
  Recheck recheck(session, **run);
  for (const HoldRow& hold : *released) recheck.Add(hold);
  PrintApplying(options.out, recheck.ops);
  const Applied applied = (*run)->Apply(recheck.ops, "", HoldRecording::kNever);
  const ApplyTotals& totals = applied.totals;
  int exit_code = ExitCodeFor(totals);
  if (exit_code == kExitOk && recheck.unreadable > 0) exit_code = kExitSomeFailed;
  exit_code = (*run)->Finish(exit_code,
                             BatchSummaryJson("release", "", static_cast<int64_t>(released->size()),
                                              recheck.skipped, totals, applied.after));
  WriteRunMetrics(
      session,
      {.mode = "release", .exit_code = exit_code, .applied = &applied, .ops = &recheck.ops});
  const std::string by_kind = DoneByKind(totals);
  Print(options.out,
        absl::StrCat(recheck.notes, "Released ", released->size(),
                     " held operation(s): ", totals.done, " done", by_kind.empty() ? "" : " (",
                     by_kind, by_kind.empty() ? "" : ")", ", ", totals.failed + recheck.unreadable,
                     " failed, ", recheck.already_done, " already done, ", recheck.skipped,
                     " left alone\n"));
  (*run)->PrintEnd(applied, "; the next sync plans them again.\n", nullptr, "");
  return exit_code;
}

}  // namespace

int RunReleaseCommand(const CommandOptions& options) {
  absl::StatusOr<std::vector<int64_t>> ids = ParseHoldIds(options);
  if (!ids.ok()) return Report(options, ids.status());
  if (!options.release_all && ids->empty()) return ListHolds(options);
  return ReleaseHolds(options, *ids);
}

}  // namespace usersync::io
