#include "io/executor.h"

#include <deque>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "core/str.h"
#include "io/json_writer.h"
#include "io/report/audit_log.h"
#include "io/state/state_store.h"
#include "io/target_api.h"

namespace usersync::io {
namespace {

using core::OpKind;
using core::Operation;

void Print(std::FILE* file, std::string_view text) {
  std::fwrite(text.data(), 1, text.size(), file);
  std::fflush(file);
}

std::string OperationPayload(const Operation& op) {
  JsonWriter w;
  w.BeginObject().Field("op", core::OpKindName(op.kind)).Field("directory_id", op.directory_id);
  w.Field("account_id", op.account_id).Field("email", op.email).Field("reason", op.reason);
  w.Key("changes").BeginObject();
  for (const core::Change& change : op.changes) w.Field(change.field, change.after);
  w.EndObject().EndObject();
  return w.Release();
}

// Outcomes travel from the driver's I/O thread to the run's thread through this queue.
class OutcomeQueue {
 public:
  void Push(size_t op_idx, OpOutcome outcome) {
    absl::MutexLock lock(&mu_);
    queue_.emplace_back(op_idx, std::move(outcome));
  }
  // Waits until at least one outcome is queued (or `timeout` passes), then takes them all.
  std::deque<std::pair<size_t, OpOutcome>> TakeAll(absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithTimeout(absl::Condition(this, &OutcomeQueue::HasItems), timeout);
    std::deque<std::pair<size_t, OpOutcome>> out;
    out.swap(queue_);
    return out;
  }

 private:
  bool HasItems() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !queue_.empty(); }
  absl::Mutex mu_;
  std::deque<std::pair<size_t, OpOutcome>> queue_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

// Applies the plan's operations that are not held. Every operation is journaled before its
// request and settled after; links follow the outcomes.
ApplyTotals ApplyOperations(const std::vector<core::Operation>& ops, const ExecutorContext& context) {
  StateStore& state = *context.state;
  TargetApi& target = *context.target;
  RunLogs& logs = *context.logs;
  const int64_t run_id = context.run_id;
  constexpr size_t kBatch = 512;         // intents journaled per transaction
  constexpr size_t kMaxOutstanding = 4096;
  ApplyTotals totals;

  absl::flat_hash_map<std::string, std::string> link_origin;
  for (const LinkRow& link : context.links) link_origin[link.directory_id] = link.origin;

  std::vector<int64_t> journal_id(ops.size(), 0);
  OutcomeQueue queue;
  size_t outstanding = 0;
  std::vector<JournalSettlement> settlements;
  std::vector<LinkRow> new_links;
  std::vector<std::string> removed_links;

  auto flush = [&] {
    if (!settlements.empty()) {
      if (absl::Status s = state.Settle(settlements); !s.ok()) {
        logs.Error(absl::StrCat("journal: ", s.message()));
      }
      settlements.clear();
    }
    if (!new_links.empty()) {
      if (absl::Status s = state.UpsertLinks(new_links); !s.ok()) {
        logs.Error(absl::StrCat("links: ", s.message()));
      }
      new_links.clear();
    }
    if (!removed_links.empty()) {
      if (absl::Status s = state.RemoveLinks(removed_links); !s.ok()) {
        logs.Error(absl::StrCat("links: ", s.message()));
      }
      removed_links.clear();
    }
  };

  auto settle = [&](size_t op_idx, const OpOutcome& outcome) {
    const Operation& op = ops[op_idx];
    const bool ok = outcome.status.ok();
    std::string error = ok ? std::string() : std::string(outcome.status.message());
    const std::string account_id = outcome.account_id.empty() ? op.account_id : outcome.account_id;
    settlements.push_back({journal_id[op_idx], ok, account_id, outcome.http_status,
                           outcome.attempts, error});
    logs.Audit({run_id, core::OpKindName(op.kind), op.directory_id, account_id, op.email,
                ok ? "done" : "failed", outcome.http_status, outcome.attempts, error});
    if (!ok) {
      ++totals.failed;
      logs.Error(absl::StrCat(Sv(core::OpKindName(op.kind)), " ", op.email, " (", op.directory_id,
                              "): ", error));
      return;
    }
    ++totals.done;
    ++totals.done_by_kind[std::string(core::OpKindName(op.kind))];
    switch (op.kind) {
      case OpKind::kCreate:
        new_links.push_back({op.directory_id, account_id, "created"});
        break;
      case OpKind::kDelete:
        removed_links.push_back(op.directory_id);
        break;
      case OpKind::kDeactivate:
        break;
      default: {
        auto it = link_origin.find(op.directory_id);
        new_links.push_back(
            {op.directory_id, account_id, it == link_origin.end() ? "linked" : it->second});
      }
    }
  };

  auto drain_some = [&](absl::Duration timeout) {
    for (auto& [op_idx, outcome] : queue.TakeAll(timeout)) {
      settle(op_idx, outcome);
      --outstanding;
    }
    flush();
  };

  std::vector<size_t> pending;
  for (size_t op_idx = 0; op_idx < ops.size(); ++op_idx) {
    if (ops[op_idx].held) {
      ++totals.held;
      logs.Audit({run_id, core::OpKindName(ops[op_idx].kind), ops[op_idx].directory_id,
                  ops[op_idx].account_id, ops[op_idx].email, "held", 0, 0,
                  context.hold_reason});
    } else {
      pending.push_back(op_idx);
    }
  }

  bool interrupted = false;
  for (size_t batch_start = 0; batch_start < pending.size(); batch_start += kBatch) {
    if (context.interrupted != nullptr && context.interrupted->load()) {
      interrupted = true;
      totals.not_started = static_cast<int64_t>(pending.size() - batch_start);
      break;
    }
    const size_t batch_end = std::min(pending.size(), batch_start + kBatch);
    std::vector<JournalIntent> intents;
    intents.reserve(batch_end - batch_start);
    for (size_t k = batch_start; k < batch_end; ++k) {
      const Operation& op = ops[pending[k]];
      intents.push_back({std::string(core::OpKindName(op.kind)), op.directory_id, op.account_id,
                         op.email, OperationPayload(op)});
    }
    absl::StatusOr<std::vector<int64_t>> ids = state.RecordIntents(run_id, intents);
    if (!ids.ok()) {
      // Without a journal entry an operation must not be sent: stop here, report the rest.
      logs.Error(absl::StrCat("journal: ", ids.status().message()));
      Print(context.err, absl::StrCat("usersync: cannot journal operations: ",
                                      ids.status().message(), "\n"));
      totals.not_started = static_cast<int64_t>(pending.size() - batch_start);
      break;
    }
    for (size_t k = batch_start; k < batch_end; ++k) {
      const size_t op_idx = pending[k];
      journal_id[op_idx] = (*ids)[k - batch_start];
      const Operation& op = ops[op_idx];
      if (op.kind == OpKind::kLink && op.changes.empty()) {
        // Nothing to send: the account is already right; only the link is new.
        settle(op_idx, OpOutcome{absl::OkStatus(), op.account_id, 0, 0});
        continue;
      }
      ++outstanding;
      target.Execute(op, [&queue, op_idx](OpOutcome outcome) {
        queue.Push(op_idx, std::move(outcome));
      });
    }
    while (outstanding > kMaxOutstanding) drain_some(absl::Milliseconds(200));
    drain_some(absl::ZeroDuration());
  }
  if (interrupted) target.Cancel();
  while (outstanding > 0) drain_some(absl::Milliseconds(200));
  flush();
  if (interrupted) {
    Print(context.err, absl::StrCat("usersync: interrupted: ", totals.not_started,
                                    " operation(s) not started; they are planned again next run\n"));
  }
  return totals;
}

// Settles journal rows left in "intent" by a run that crashed: the plan of this run re-derives
// what is still to do from the target's state (a create that did happen is found by its
// externalId or email and linked), so the rows are closed as interrupted.
void SettleInterrupted(StateStore& state, RunLogs& logs, std::FILE* out) {
  absl::StatusOr<std::vector<JournalEntry>> unsettled = state.LoadUnsettled();
  if (!unsettled.ok() || unsettled->empty()) return;
  std::vector<JournalSettlement> settlements;
  for (const JournalEntry& entry : *unsettled) {
    settlements.push_back({entry.op_id, false, entry.account_id, 0, entry.attempts,
                           "interrupted before its outcome was recorded; re-planned from the "
                           "target's state"});
  }
  if (absl::Status s = state.Settle(settlements); !s.ok()) {
    logs.Error(absl::StrCat("journal: ", s.message()));
    return;
  }
  Print(out, absl::StrCat("Recovered ", settlements.size(),
                          " operation(s) interrupted by an earlier run; re-planned.\n"));
}

}  // namespace usersync::io
