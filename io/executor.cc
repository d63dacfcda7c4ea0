#include "io/executor.h"

#include <algorithm>
#include <chrono>
#include <deque>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "core/str.h"
#include "io/operation_codec.h"
#include "io/output.h"
#include "io/report/audit_log.h"
#include "io/state/state_store.h"
#include "io/target_api.h"

namespace usersync::io {
namespace {

using core::Operation;
using core::OpKind;

// Intents journaled per transaction, and operations started but not finished at most (or what
// the target asks for, TargetApi::OperationsWanted, when more: a GoTo batch of 1,000 needs more
// than 512 to ever fill). The second bounds what a crash leaves ambiguous and what Ctrl-C or a
// quarantine must cancel; it stays far above any driver's requests in flight, so the target is
// never starved.
constexpr size_t kBatch = 128;
constexpr size_t kMaxOutstanding = 512;
// Outcomes are settled in the journal in groups: every kSettleBatch outcomes or kSettleDelay.
constexpr size_t kSettleBatch = 256;
constexpr auto kSettleDelay = std::chrono::milliseconds(100);
// With creates held for full batches (TargetApi::HoldPartialBatches), this long without an
// outcome while the bound stops new operations sends the held ones anyway: they might be all
// that is outstanding. Far above the time between two answers at any rate worth batching for.
constexpr auto kStallFlush = std::chrono::seconds(2);

constexpr char kCancelledByInterrupt[] = "cancelled by interrupt";
constexpr char kCancelledByQuarantine[] =
    "cancelled: the run stopped early because the target was failing";
constexpr char kCancelledByLogs[] =
    "cancelled: the run stopped because its logs could not be written";

// The failures that say the target itself is not working (down, overloaded past our retries,
// the token revoked), as opposed to one record's data being refused.
bool IsTargetFailure(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kDeadlineExceeded:
      return true;
    default:
      return false;
  }
}

// The last `size` outcomes at the target, as target failure or not.
class FailureWindow {
 public:
  explicit FailureWindow(int size) : size_(std::max(1, size)) {}
  void Add(bool target_failure) {
    outcomes_.push_back(target_failure);
    failed_ += target_failure;
    if (static_cast<int>(outcomes_.size()) > size_) {
      failed_ -= outcomes_.front();
      outcomes_.pop_front();
    }
  }
  int count() const { return static_cast<int>(outcomes_.size()); }
  int failed() const { return failed_; }
  bool full() const { return count() >= size_; }

 private:
  int size_;
  std::deque<bool> outcomes_;
  int failed_ = 0;
};

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

enum class StopCause { kNone, kInterrupt, kQuarantine, kJournal, kLogs };

// Whether a done operation of this kind records its link with the origin it had (RecordLink).
bool KeepsLinkOrigin(OpKind kind) {
  return kind != OpKind::kCreate && kind != OpKind::kDelete && kind != OpKind::kDeactivate;
}

// One ApplyOperations call: the operations, where their outcomes go, and why it stopped.
class Applier {
 public:
  Applier(const std::vector<Operation>& ops, const ExecutorContext& context)
      : ops_(ops),
        context_(context),
        state_(*context.state),
        target_(*context.target),
        logs_(*context.logs),
        clock_(context.clock != nullptr ? *context.clock : RealClock()),
        journal_id_(ops.size(), 0),
        last_flush_(clock_.Now()),
        window_(context.quarantine.window) {
    // The origins of the operations' users' links only: one pass over the links, no copy of
    // them (a million links made a map of a million strings at every run: ~0.3 s).
    for (const Operation& op : ops) {
      if (KeepsLinkOrigin(op.kind)) link_origin_.try_emplace(op.directory_id);
    }
    for (const LinkRow& link : context.links) {
      auto it = link_origin_.find(link.directory_id);
      if (it != link_origin_.end()) it->second = link.origin;
    }
  }

  ApplyTotals Run() {
    const std::vector<size_t> pending = NotHeld();
    size_t next = 0;  // pending[next] is the first operation not journaled yet
    // Creates leave in full batches while more are coming; the hold ends, sending the tail,
    // once every operation is started or the run stops. Read each time: a driver may make its
    // batch queue at its first create (SCIM /Bulk, once the server's maxOperations is known).
    target_.HoldPartialBatches(true);
    core::MonoTime last_outcome = clock_.Now();
    while (next < pending.size()) {
      if (CheckInterrupt()) break;
      const size_t batch_size = std::min(kBatch, pending.size() - next);
      if (outstanding_ + batch_size > std::max(kMaxOutstanding, target_.OperationsWanted())) {
        if (DrainSome(absl::Milliseconds(100)) > 0) {
          last_outcome = clock_.Now();
        } else if (clock_.Now() - last_outcome >= kStallFlush) {
          // A safety net for the hold: outstanding operations that all sit in a part-filled
          // batch would wait for each other for ever.
          target_.Flush();
          last_outcome = clock_.Now();
        }
        continue;
      }
      if (!StartBatch(pending, next, next + batch_size)) break;
      next += batch_size;
      DrainSome(absl::ZeroDuration());
    }
    totals_.not_started = static_cast<int64_t>(pending.size() - next);
    target_.HoldPartialBatches(false);
    while (outstanding_ > 0) {
      CheckInterrupt();  // a Ctrl-C while the last operations finish still cancels the queue
      DrainSome(absl::Milliseconds(100));
    }
    Flush();
    CheckLogs();  // the last lines, too, must have been written
    ReportStop();
    return std::move(totals_);
  }

 private:
  // The operations to apply, by index; the held ones are counted and audited.
  std::vector<size_t> NotHeld() {
    std::vector<size_t> pending;
    for (size_t op_idx = 0; op_idx < ops_.size(); ++op_idx) {
      const Operation& op = ops_[op_idx];
      if (op.held) {
        ++totals_.held;
        ++totals_.held_by_kind[std::string(core::OpKindName(op.kind))];
        logs_.Audit({context_.run_id, core::OpKindName(op.kind), op.directory_id, op.account_id,
                     op.email, "held", 0, 0, context_.hold_reason, op.reason, op.changes});
      } else {
        pending.push_back(op_idx);
      }
    }
    return pending;
  }

  // Journals pending[begin, end) in one transaction, then sends them. False when the journal
  // failed: nothing of the batch was sent.
  bool StartBatch(const std::vector<size_t>& pending, size_t begin, size_t end) {
    std::vector<JournalIntent> intents;
    intents.reserve(end - begin);
    for (size_t k = begin; k < end; ++k) {
      const Operation& op = ops_[pending[k]];
      intents.push_back({std::string(core::OpKindName(op.kind)), op.directory_id.str(),
                         op.account_id.str(), op.email.str(), OperationJson(op)});
    }
    absl::StatusOr<std::vector<int64_t>> ids = state_.RecordIntents(context_.run_id, intents);
    if (!ids.ok()) {
      // Without a journal entry an operation must not be sent: stop here, report the rest.
      logs_.Error(absl::StrCat("journal: ", ids.status().message()));
      Print(context_.err,
            absl::StrCat("usersync: cannot journal operations: ", ids.status().message(), "\n"));
      stop_ = StopCause::kJournal;
      return false;
    }
    for (size_t k = begin; k < end; ++k) {
      const size_t op_idx = pending[k];
      journal_id_[op_idx] = (*ids)[k - begin];
      const Operation& op = ops_[op_idx];
      if (op.kind == OpKind::kLink && op.changes.empty()) {
        // Nothing to send: the account is already right; only the link is new.
        Settle(op_idx, OpOutcome{absl::OkStatus(), op.account_id.str(), 0, 0}, /*sent=*/false);
        continue;
      }
      ++outstanding_;
      OutcomeQueue* queue = &queue_;
      target_.Execute(
          op, [queue, op_idx](OpOutcome outcome) { queue->Push(op_idx, std::move(outcome)); });
    }
    return true;
  }

  // Links go first: a kill between the two writes leaves the row "intent" with its link in
  // place (SettleInterrupted confirms it), never a settled create without its "created" link.
  void Flush() {
    last_flush_ = clock_.Now();
    if (!new_links_.empty()) {
      if (absl::Status s = state_.UpsertLinks(new_links_); !s.ok()) {
        logs_.Error(absl::StrCat("links: ", s.message()));
      }
      new_links_.clear();
    }
    if (!removed_links_.empty()) {
      if (absl::Status s = state_.RemoveLinks(removed_links_); !s.ok()) {
        logs_.Error(absl::StrCat("links: ", s.message()));
      }
      removed_links_.clear();
    }
    if (!settlements_.empty()) {
      if (absl::Status s = state_.Settle(settlements_); !s.ok()) {
        logs_.Error(absl::StrCat("journal: ", s.message()));
      }
      settlements_.clear();
    }
  }

  void StopRun(StopCause cause) {
    if (stop_ != StopCause::kNone) return;
    stop_ = cause;
    target_.Cancel();  // queued requests complete as cancelled; those in flight finish
  }

  // Whether the run must stop (Ctrl-C, or any other cause already seen); checked before each
  // batch is sent.
  bool CheckInterrupt() {
    if (stop_ == StopCause::kNone && context_.interrupted != nullptr &&
        context_.interrupted->load()) {
      StopRun(StopCause::kInterrupt);
    }
    CheckLogs();
    return stop_ != StopCause::kNone;
  }

  // A log line that could not be written stops the run: what is not logged must not be sent.
  void CheckLogs() {
    if (!logs_.status().ok()) StopRun(StopCause::kLogs);
  }

  // Settles the outcomes that arrive within `timeout`; returns how many.
  size_t DrainSome(absl::Duration timeout) {
    size_t settled = 0;
    for (auto& [op_idx, outcome] : queue_.TakeAll(timeout)) {
      Settle(op_idx, outcome, /*sent=*/true);
      --outstanding_;
      ++settled;
    }
    CheckLogs();
    if (settlements_.size() >= kSettleBatch || clock_.Now() - last_flush_ >= kSettleDelay) {
      Flush();
    }
    return settled;
  }

  // `sent`: the outcome came from the target driver (not settled locally).
  void Settle(size_t op_idx, const OpOutcome& outcome, bool sent) {
    if (context_.settled != nullptr) context_.settled->fetch_add(1, std::memory_order_relaxed);
    const Operation& op = ops_[op_idx];
    const std::string_view kind = core::OpKindName(op.kind);
    const bool ok = outcome.status.ok();
    const std::string account_id =
        outcome.account_id.empty() ? op.account_id.str() : outcome.account_id;
    // A create whose POST went through holds an account even when a later step failed: it is
    // usersync's, whatever happens next.
    if (!ok && op.kind == OpKind::kCreate && !outcome.account_id.empty()) {
      new_links_.push_back({op.directory_id.str(), outcome.account_id, "created"});
    }
    if (!ok && outcome.status.code() == absl::StatusCode::kCancelled && stop_ != StopCause::kNone) {
      const char* why = stop_ == StopCause::kInterrupt ? kCancelledByInterrupt
                        : stop_ == StopCause::kLogs    ? kCancelledByLogs
                                                       : kCancelledByQuarantine;
      settlements_.push_back(
          {journal_id_[op_idx], false, account_id, outcome.http_status, outcome.attempts, why});
      logs_.Audit({context_.run_id, kind, op.directory_id, account_id, op.email, "cancelled",
                   outcome.http_status, outcome.attempts, why, op.reason, op.changes});
      ++totals_.cancelled;
      ++totals_.cancelled_by_kind[std::string(kind)];
      return;
    }
    std::string error = ok ? std::string() : std::string(outcome.status.message());
    settlements_.push_back(
        {journal_id_[op_idx], ok, account_id, outcome.http_status, outcome.attempts, error});
    logs_.Audit({context_.run_id, kind, op.directory_id, account_id, op.email,
                 ok ? "done" : "failed", outcome.http_status, outcome.attempts, error, op.reason,
                 op.changes});
    if (sent) CountForQuarantine(outcome.status, error);
    if (!ok) {
      ++totals_.failed;
      ++totals_.failed_by_kind[std::string(kind)];
      logs_.Error(
          absl::StrCat(Sv(kind), " ", Sv(op.email), " (", Sv(op.directory_id), "): ", error));
      // Only the products were refused (no seat): the account holds the rest, a link included.
      if (outcome.rest_applied) RecordLink(op, account_id);
      return;
    }
    ++totals_.done;
    ++totals_.done_by_kind[std::string(kind)];
    RecordLink(op, account_id);
  }

  void CountForQuarantine(const absl::Status& status, const std::string& error) {
    const QuarantinePolicy& quarantine = context_.quarantine;
    const bool target_failure = !status.ok() && IsTargetFailure(status);
    window_.Add(target_failure);
    if (target_failure) totals_.last_failure = error;
    if (quarantine.threshold > 0 && window_.full() && window_.failed() >= quarantine.threshold) {
      StopRun(StopCause::kQuarantine);
    }
  }

  // The link a done operation leaves.
  void RecordLink(const Operation& op, const std::string& account_id) {
    switch (op.kind) {
      case OpKind::kCreate:
        new_links_.push_back({op.directory_id.str(), account_id, "created"});
        break;
      case OpKind::kDelete:
        removed_links_.push_back(op.directory_id.str());
        break;
      case OpKind::kDeactivate:
        break;
      default: {
        auto it = link_origin_.find(op.directory_id);
        new_links_.push_back({op.directory_id.str(), account_id,
                              it == link_origin_.end() || !it->second ? "linked" : *it->second});
      }
    }
  }

  // Totals of the window, and the line that says why the run stopped early (if it did).
  void ReportStop() {
    totals_.window_failed = window_.failed();
    totals_.window_size = window_.count();
    totals_.interrupted = stop_ == StopCause::kInterrupt;
    totals_.quarantined = stop_ == StopCause::kQuarantine;
    totals_.logs_failed = stop_ == StopCause::kLogs;
    if (stop_ != StopCause::kInterrupt && stop_ != StopCause::kQuarantine &&
        stop_ != StopCause::kLogs) {
      return;
    }
    const std::string tally =
        absl::StrCat(totals_.done, " done, ", totals_.failed, " failed, ", totals_.cancelled,
                     " cancelled, ", totals_.not_started, " not started");
    std::string line;
    if (stop_ == StopCause::kLogs) {
      line = absl::StrCat(logs_.status().message(),
                          "; the run stopped; the state store's journal holds what was done (",
                          tally, ")");
    } else if (stop_ == StopCause::kInterrupt) {
      line =
          absl::StrCat("interrupted: stopped starting operations and waited for those in flight (",
                       tally, "); every outcome is recorded, the rest is planned again next run");
    } else {
      line = absl::StrCat("stopped early: ", totals_.window_failed, " of the last ",
                          totals_.window_size, " operations failed (", totals_.last_failure,
                          "): target unreachable or token revoked (", tally,
                          "); the next run starts from where this one stopped");
    }
    logs_.Error(line);
    Print(context_.err, absl::StrCat("usersync: ", line, "\n"));
  }

  const std::vector<Operation>& ops_;
  const ExecutorContext& context_;
  StateStore& state_;
  TargetApi& target_;
  RunLogs& logs_;
  const Clock& clock_;
  ApplyTotals totals_;
  absl::flat_hash_map<std::string, std::optional<std::string>> link_origin_;
  std::vector<int64_t> journal_id_;
  OutcomeQueue queue_;
  size_t outstanding_ = 0;
  std::vector<JournalSettlement> settlements_;
  std::vector<LinkRow> new_links_;
  std::vector<std::string> removed_links_;
  core::MonoTime last_flush_;
  FailureWindow window_;
  StopCause stop_ = StopCause::kNone;
};

}  // namespace

ApplyTotals ApplyOperations(const std::vector<core::Operation>& ops,
                            const ExecutorContext& context) {
  return Applier(ops, context).Run();
}

namespace {

// The planned fields the account does not hold (empty: all applied): a create's whole spec,
// otherwise the changes' `after` values.
std::vector<std::string> Differing(const core::Account& account, const Operation& planned,
                                   bool target_has_display_name) {
  std::vector<std::string> out;
  if (planned.kind == OpKind::kCreate) {
    // The planner's own comparison: what the next plan would still change.
    for (const core::Change& change :
         core::DiffAccount(planned.spec, account, target_has_display_name)) {
      out.push_back(core::ChangeName(change));
    }
    return out;
  }
  for (const core::Change& change : planned.changes) {
    if (core::HeldValue(account, change) != change.after) out.push_back(core::ChangeName(change));
  }
  return out;
}

std::string Listed(const std::vector<std::string>& fields) {
  return fields.empty() ? std::string() : absl::StrCat(" (", absl::StrJoin(fields, ", "), ")");
}

struct Verdict {
  bool done = false;
  std::string account_id;
  std::string reason;                      // for rows not done
  std::optional<std::string> link_origin;  // record a link with this origin
  bool remove_link = false;
};

// The target's snapshot, indexed for the journal rows.
class AccountIndex {
 public:
  explicit AccountIndex(const core::Accounts& accounts) {
    for (const core::Account& account : accounts.items) {
      by_id_.emplace(account.id, &account);
      if (!account.external_id.empty()) by_external_id_.emplace(account.external_id, &account);
      by_user_name_.emplace(account.user_name, &account);
    }
  }
  const core::Account* ById(std::string_view id) const { return Find(by_id_, id); }
  const core::Account* ByExternalId(std::string_view id) const { return Find(by_external_id_, id); }
  const core::Account* ByUserName(std::string_view name) const { return Find(by_user_name_, name); }

 private:
  using ViewIndex =
      absl::flat_hash_map<std::string_view, const core::Account*, absl::Hash<std::string_view>>;
  static const core::Account* Find(const ViewIndex& index, std::string_view key) {
    auto it = index.find(key);
    return it == index.end() ? nullptr : it->second;
  }
  ViewIndex by_id_;
  ViewIndex by_external_id_;
  ViewIndex by_user_name_;
};

// A create: did the account come to exist, and with every planned value?
Verdict JudgeCreate(const JournalEntry& entry, const Operation& planned, bool readable,
                    const AccountIndex& accounts, bool target_has_display_name) {
  Verdict verdict;
  verdict.account_id = entry.account_id;
  const std::string_view user_name = planned.spec.user_name;
  if (const core::Account* account = accounts.ByExternalId(entry.directory_id)) {
    verdict.account_id = std::string(account->id);
    verdict.link_origin = "created";
    const std::vector<std::string> missing = Differing(*account, planned, target_has_display_name);
    verdict.done = readable && missing.empty();
    if (!verdict.done) {
      verdict.reason = absl::StrCat("interrupted: the account was created (", Sv(account->id),
                                    ") but not completed", Listed(missing),
                                    "; completed by the next run's plan");
    }
  } else if (const core::Account* taken =
                 user_name.empty() ? nullptr : accounts.ByUserName(user_name)) {
    verdict.reason =
        absl::StrCat("interrupted: not created; userName ", Sv(user_name), " is held by account ",
                     Sv(taken->id), " with another externalId");
  } else {
    verdict.reason = "interrupted before the target created the account; planned again";
  }
  return verdict;
}

// An operation on an existing account.
Verdict JudgeExisting(const JournalEntry& entry, Operation& planned, bool readable,
                      const AccountIndex& accounts,
                      const absl::flat_hash_map<std::string, std::string>& origin_of) {
  Verdict verdict;
  verdict.account_id = entry.account_id;
  const core::Account* account = accounts.ById(entry.account_id);
  if (entry.op == core::OpKindName(OpKind::kDelete)) {
    verdict.done = account == nullptr;
    verdict.remove_link = verdict.done;
    if (!verdict.done) verdict.reason = "interrupted before the account was deleted";
  } else if (account == nullptr) {
    verdict.reason = "interrupted; the account no longer exists at the target";
  } else if (entry.op == core::OpKindName(OpKind::kDeactivate)) {
    verdict.done = !account->active;
    if (!verdict.done) verdict.reason = "interrupted before the account was deactivated";
  } else {
    if (entry.op == core::OpKindName(OpKind::kReactivate)) {
      planned.changes.push_back({core::Field::kActive, "", "true"});
    }
    const std::vector<std::string> missing =
        Differing(*account, planned, /*target_has_display_name=*/true);
    verdict.done = readable && missing.empty();
    if (verdict.done) {
      auto it = origin_of.find(entry.directory_id);
      verdict.link_origin = it == origin_of.end() ? std::string("linked") : it->second;
    } else {
      verdict.reason = absl::StrCat("interrupted before the change was applied", Listed(missing),
                                    "; planned again");
    }
  }
  return verdict;
}

// Writes what recovery decided: links first, as in ApplyOperations (a failure leaves the rows
// "intent"), then the journal rows. False (logged) when the store failed.
bool StoreRecovery(StateStore& state, RunLogs& logs,
                   const std::vector<JournalSettlement>& settlements,
                   const std::vector<LinkRow>& new_links,
                   const std::vector<std::string>& removed_links) {
  if (!new_links.empty()) {
    if (absl::Status s = state.UpsertLinks(new_links); !s.ok()) {
      logs.Error(absl::StrCat("links: ", s.message()));
      return false;
    }
  }
  if (!removed_links.empty()) {
    if (absl::Status s = state.RemoveLinks(removed_links); !s.ok()) {
      logs.Error(absl::StrCat("links: ", s.message()));
      return false;
    }
  }
  if (absl::Status s = state.Settle(settlements); !s.ok()) {
    logs.Error(absl::StrCat("journal: ", s.message()));
    return false;
  }
  return true;
}

// Brings the caller's copy of the links in step with what recovery stored.
void UpdateLinks(const std::vector<LinkRow>& new_links,
                 const std::vector<std::string>& removed_links, std::vector<LinkRow>* links) {
  for (const LinkRow& link : new_links) {
    auto it = std::find_if(links->begin(), links->end(), [&](const LinkRow& row) {
      return row.directory_id == link.directory_id;
    });
    if (it == links->end()) {
      links->push_back(link);
    } else {
      *it = link;
    }
  }
  if (removed_links.empty()) return;
  absl::flat_hash_map<std::string, bool> removed;
  for (const std::string& id : removed_links) removed[id] = true;
  links->erase(
      std::remove_if(links->begin(), links->end(),
                     [&](const LinkRow& row) { return removed.contains(row.directory_id); }),
      links->end());
}

}  // namespace

RecoveryTotals SettleInterrupted(StateStore& state, RunLogs& logs, const core::Accounts& accounts,
                                 bool target_has_display_name, std::vector<LinkRow>* links,
                                 std::FILE* out) {
  RecoveryTotals totals;
  absl::StatusOr<std::vector<JournalEntry>> unsettled = state.LoadUnsettled();
  if (!unsettled.ok()) {
    logs.Error(absl::StrCat("journal: ", unsettled.status().message()));
    return totals;
  }
  if (unsettled->empty()) return totals;

  const AccountIndex index(accounts);
  absl::flat_hash_map<std::string, std::string> origin_of;  // directory id → link origin
  for (const LinkRow& link : *links) origin_of[link.directory_id] = link.origin;

  std::vector<JournalSettlement> settlements;
  std::vector<LinkRow> new_links;
  std::vector<std::string> removed_links;
  for (const JournalEntry& entry : *unsettled) {
    absl::StatusOr<Operation> payload =
        ParseOperationJson(entry.payload, "journal", ParseMode::kJournal);
    const bool readable = payload.ok();
    Operation planned = readable ? *std::move(payload) : Operation();
    Verdict verdict = entry.op == core::OpKindName(OpKind::kCreate)
                          ? JudgeCreate(entry, planned, readable, index, target_has_display_name)
                          : JudgeExisting(entry, planned, readable, index, origin_of);
    if (!readable && !verdict.done && verdict.reason.empty()) {
      verdict.reason = "interrupted; its journal payload is unreadable; re-planned";
    }
    settlements.push_back({entry.op_id, verdict.done, verdict.account_id, entry.http_status,
                           entry.attempts, verdict.reason});
    logs.Audit({entry.run_id, entry.op, entry.directory_id, verdict.account_id, entry.email,
                verdict.done ? "done" : "failed", entry.http_status, entry.attempts,
                verdict.done ? std::string_view("settled after an interruption")
                             : std::string_view(verdict.reason)});
    if (verdict.link_origin.has_value() && !entry.directory_id.empty()) {
      new_links.push_back({entry.directory_id, verdict.account_id, *verdict.link_origin});
      origin_of[entry.directory_id] = *verdict.link_origin;
    }
    if (verdict.remove_link && !entry.directory_id.empty()) {
      removed_links.push_back(entry.directory_id);
      origin_of.erase(entry.directory_id);
    }
    ++(verdict.done ? totals.done : totals.not_done);
  }

  if (!StoreRecovery(state, logs, settlements, new_links, removed_links)) return RecoveryTotals{};
  UpdateLinks(new_links, removed_links, links);
  totals.links = std::move(new_links);
  Print(out, absl::StrCat("Recovered ", totals.done + totals.not_done,
                          " operation(s) left unfinished by an earlier run: ", totals.done,
                          " had been applied at the target, ", totals.not_done,
                          " had not and are planned again.\n"));
  return totals;
}

}  // namespace usersync::io
