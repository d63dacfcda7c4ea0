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
#include "io/json_writer.h"
#include "io/output.h"
#include "io/report/audit_log.h"
#include "io/state/state_store.h"
#include "io/target_api.h"
#include "simdjson.h"

namespace usersync::io {
namespace {

using core::Operation;
using core::OpKind;

// Intents journaled per transaction, and operations started but not finished at most. The
// second bounds what a crash leaves ambiguous and what Ctrl-C or a quarantine must cancel; it
// stays far above any driver's requests in flight, so the target is never starved.
constexpr size_t kBatch = 128;
constexpr size_t kMaxOutstanding = 512;
// Outcomes are settled in the journal in groups: every kSettleBatch outcomes or kSettleDelay.
constexpr size_t kSettleBatch = 256;
constexpr auto kSettleDelay = std::chrono::milliseconds(100);

constexpr char kCancelledByInterrupt[] = "cancelled by interrupt";
constexpr char kCancelledByQuarantine[] =
    "cancelled: the run stopped early because the target was failing";

// The journal payload: the operation as planned. A create also carries the whole account it
// writes ("spec"), so that a later run can tell whether a create cut short by a crash
// completed (SettleInterrupted); other kinds carry their changes.
std::string OperationPayload(const Operation& op) {
  JsonWriter w;
  w.BeginObject().Field("op", core::OpKindName(op.kind)).Field("directory_id", op.directory_id);
  w.Field("account_id", op.account_id).Field("email", op.email).Field("reason", op.reason);
  w.Key("changes").BeginObject();
  for (const core::Change& change : op.changes) w.Field(change.field, change.after);
  w.EndObject();
  if (op.kind == OpKind::kCreate) {
    const core::AccountSpec& spec = op.spec;
    w.Key("spec").BeginObject();
    w.Field("user_name", spec.user_name).Field("email", spec.email);
    w.Field("external_id", spec.external_id).Field("first_name", spec.first_name);
    w.Field("last_name", spec.last_name).Field("display_name", spec.display_name);
    w.Field("language", spec.language).Field("products", spec.products);
    w.Field("admin_role", spec.admin_role).Field("user_group", spec.user_group);
    w.Field("active", spec.active ? "true" : "false");
    w.EndObject();
  }
  w.EndObject();
  return w.Release();
}

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

enum class StopCause { kNone, kInterrupt, kQuarantine, kJournal };

}  // namespace

ApplyTotals ApplyOperations(const std::vector<core::Operation>& ops,
                            const ExecutorContext& context) {
  StateStore& state = *context.state;
  TargetApi& target = *context.target;
  RunLogs& logs = *context.logs;
  const int64_t run_id = context.run_id;
  const QuarantinePolicy& quarantine = context.quarantine;
  ApplyTotals totals;

  absl::flat_hash_map<std::string, std::string> link_origin;
  for (const LinkRow& link : context.links) link_origin[link.directory_id] = link.origin;

  std::vector<int64_t> journal_id(ops.size(), 0);
  OutcomeQueue queue;
  size_t outstanding = 0;
  std::vector<JournalSettlement> settlements;
  std::vector<LinkRow> new_links;
  std::vector<std::string> removed_links;
  auto last_flush = std::chrono::steady_clock::now();
  FailureWindow window(quarantine.window);
  StopCause stop = StopCause::kNone;

  // Links go first: a kill between the two writes leaves the row "intent" with its link in
  // place (SettleInterrupted confirms it), never a settled create without its "created" link.
  auto flush = [&] {
    last_flush = std::chrono::steady_clock::now();
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
    if (!settlements.empty()) {
      if (absl::Status s = state.Settle(settlements); !s.ok()) {
        logs.Error(absl::StrCat("journal: ", s.message()));
      }
      settlements.clear();
    }
  };

  auto stop_run = [&](StopCause cause) {
    if (stop != StopCause::kNone) return;
    stop = cause;
    target.Cancel();  // queued requests complete as cancelled; those in flight finish
  };

  auto check_interrupt = [&] {
    if (stop == StopCause::kNone && context.interrupted != nullptr && context.interrupted->load()) {
      stop_run(StopCause::kInterrupt);
    }
    return stop != StopCause::kNone;
  };

  // `sent`: the outcome came from the target driver (not settled locally).
  auto settle = [&](size_t op_idx, const OpOutcome& outcome, bool sent) {
    const Operation& op = ops[op_idx];
    const std::string_view kind = core::OpKindName(op.kind);
    const bool ok = outcome.status.ok();
    const std::string account_id = outcome.account_id.empty() ? op.account_id : outcome.account_id;
    // A create whose POST went through holds an account even when a later step failed: it is
    // usersync's, whatever happens next.
    if (!ok && op.kind == OpKind::kCreate && !outcome.account_id.empty()) {
      new_links.push_back({op.directory_id, outcome.account_id, "created"});
    }
    if (!ok && outcome.status.code() == absl::StatusCode::kCancelled && stop != StopCause::kNone) {
      const char* why =
          stop == StopCause::kInterrupt ? kCancelledByInterrupt : kCancelledByQuarantine;
      settlements.push_back(
          {journal_id[op_idx], false, account_id, outcome.http_status, outcome.attempts, why});
      logs.Audit({run_id, kind, op.directory_id, account_id, op.email, "cancelled",
                  outcome.http_status, outcome.attempts, why});
      ++totals.cancelled;
      return;
    }
    std::string error = ok ? std::string() : std::string(outcome.status.message());
    settlements.push_back(
        {journal_id[op_idx], ok, account_id, outcome.http_status, outcome.attempts, error});
    logs.Audit({run_id, kind, op.directory_id, account_id, op.email, ok ? "done" : "failed",
                outcome.http_status, outcome.attempts, error});
    if (sent) {
      const bool target_failure = !ok && IsTargetFailure(outcome.status);
      window.Add(target_failure);
      if (target_failure) totals.last_failure = error;
      if (quarantine.threshold > 0 && window.full() && window.failed() >= quarantine.threshold) {
        stop_run(StopCause::kQuarantine);
      }
    }
    if (!ok) {
      ++totals.failed;
      logs.Error(absl::StrCat(Sv(kind), " ", op.email, " (", op.directory_id, "): ", error));
      return;
    }
    ++totals.done;
    ++totals.done_by_kind[std::string(kind)];
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
      settle(op_idx, outcome, /*sent=*/true);
      --outstanding;
    }
    if (settlements.size() >= kSettleBatch ||
        std::chrono::steady_clock::now() - last_flush >= kSettleDelay) {
      flush();
    }
  };

  std::vector<size_t> pending;
  for (size_t op_idx = 0; op_idx < ops.size(); ++op_idx) {
    if (ops[op_idx].held) {
      ++totals.held;
      logs.Audit({run_id, core::OpKindName(ops[op_idx].kind), ops[op_idx].directory_id,
                  ops[op_idx].account_id, ops[op_idx].email, "held", 0, 0, context.hold_reason});
    } else {
      pending.push_back(op_idx);
    }
  }

  size_t next = 0;  // pending[next] is the first operation not journaled yet
  while (next < pending.size()) {
    if (check_interrupt()) break;
    const size_t batch_size = std::min(kBatch, pending.size() - next);
    if (outstanding + batch_size > kMaxOutstanding) {
      drain_some(absl::Milliseconds(100));
      continue;
    }
    const size_t batch_end = next + batch_size;
    std::vector<JournalIntent> intents;
    intents.reserve(batch_size);
    for (size_t k = next; k < batch_end; ++k) {
      const Operation& op = ops[pending[k]];
      intents.push_back({std::string(core::OpKindName(op.kind)), op.directory_id, op.account_id,
                         op.email, OperationPayload(op)});
    }
    absl::StatusOr<std::vector<int64_t>> ids = state.RecordIntents(run_id, intents);
    if (!ids.ok()) {
      // Without a journal entry an operation must not be sent: stop here, report the rest.
      logs.Error(absl::StrCat("journal: ", ids.status().message()));
      Print(context.err,
            absl::StrCat("usersync: cannot journal operations: ", ids.status().message(), "\n"));
      stop = StopCause::kJournal;
      break;
    }
    for (size_t k = next; k < batch_end; ++k) {
      const size_t op_idx = pending[k];
      journal_id[op_idx] = (*ids)[k - next];
      const Operation& op = ops[op_idx];
      if (op.kind == OpKind::kLink && op.changes.empty()) {
        // Nothing to send: the account is already right; only the link is new.
        settle(op_idx, OpOutcome{absl::OkStatus(), op.account_id, 0, 0}, /*sent=*/false);
        continue;
      }
      ++outstanding;
      target.Execute(
          op, [&queue, op_idx](OpOutcome outcome) { queue.Push(op_idx, std::move(outcome)); });
    }
    next = batch_end;
    drain_some(absl::ZeroDuration());
  }
  totals.not_started = static_cast<int64_t>(pending.size() - next);
  while (outstanding > 0) {
    check_interrupt();  // a Ctrl-C while the last operations finish still cancels the queue
    drain_some(absl::Milliseconds(100));
  }
  flush();

  totals.window_failed = window.failed();
  totals.window_size = window.count();
  totals.interrupted = stop == StopCause::kInterrupt;
  totals.quarantined = stop == StopCause::kQuarantine;
  if (stop == StopCause::kInterrupt || stop == StopCause::kQuarantine) {
    const std::string tally =
        absl::StrCat(totals.done, " done, ", totals.failed, " failed, ", totals.cancelled,
                     " cancelled, ", totals.not_started, " not started");
    std::string line;
    if (stop == StopCause::kInterrupt) {
      line = absl::StrCat(
          "interrupted: stopped starting operations and waited for those in "
          "flight (",
          tally,
          "); every outcome is recorded, the rest is planned "
          "again next run");
    } else {
      line = absl::StrCat("stopped early: ", totals.window_failed, " of the last ",
                          totals.window_size, " operations failed (", totals.last_failure,
                          "): target unreachable or token revoked (", tally,
                          "); the next run starts from where this one stopped");
    }
    logs.Error(line);
    Print(context.err, absl::StrCat("usersync: ", line, "\n"));
  }
  return totals;
}

namespace {

// The account's value of a plan field (core::Change::field names); nullopt for a field this
// build does not know (it is then not checked).
std::optional<std::string_view> AccountValue(const core::Account& account, std::string_view field) {
  if (field == "user_name") return account.user_name;
  if (field == "email") return account.email;
  if (field == "external_id") return account.external_id;
  if (field == "first_name") return account.first_name;
  if (field == "last_name") return account.last_name;
  if (field == "display_name") return account.display_name;
  if (field == "language") return account.language;
  if (field == "products") return account.products;
  if (field == "admin_role") return account.admin_role;
  if (field == "user_group") return account.user_group;
  if (field == "active") return std::string_view(account.active ? "true" : "false");
  return std::nullopt;
}

using FieldValues = std::vector<std::pair<std::string, std::string>>;

// The values a journaled operation meant to write: a create's "spec", otherwise its
// "changes". False when the payload cannot be read.
bool PlannedValues(const std::string& payload, bool create, simdjson::ondemand::parser& parser,
                   FieldValues* out) {
  namespace od = simdjson::ondemand;
  simdjson::padded_string json(payload);
  od::document doc;
  if (parser.iterate(json).get(doc)) return false;
  od::object object;
  if (doc.get_object().get(object)) return false;
  const std::string_view wanted = create ? "spec" : "changes";
  for (auto field_result : object) {
    od::field field;
    if (std::move(field_result).get(field)) return false;
    std::string_view key;
    if (field.unescaped_key().get(key)) return false;
    if (key != wanted) continue;
    od::object values;
    if (field.value().get_object().get(values)) return false;
    for (auto value_result : values) {
      od::field value;
      if (std::move(value_result).get(value)) return false;
      std::string_view name;
      std::string_view text;
      if (value.unescaped_key().get(name) || value.value().get_string().get(text)) return false;
      out->emplace_back(std::string(name), std::string(text));
    }
  }
  return true;
}

// The planned fields the account does not hold (empty: all applied).
std::vector<std::string> Differing(const core::Account& account, const FieldValues& planned) {
  std::vector<std::string> out;
  for (const auto& [field, value] : planned) {
    std::optional<std::string_view> actual = AccountValue(account, field);
    if (actual.has_value() && *actual != value) out.push_back(field);
  }
  return out;
}

struct Verdict {
  bool done = false;
  std::string account_id;
  std::string reason;                      // for rows not done
  std::optional<std::string> link_origin;  // record a link with this origin
  bool remove_link = false;
};

}  // namespace

RecoveryTotals SettleInterrupted(StateStore& state, RunLogs& logs, const core::Accounts& accounts,
                                 std::vector<LinkRow>* links, std::FILE* out) {
  RecoveryTotals totals;
  absl::StatusOr<std::vector<JournalEntry>> unsettled = state.LoadUnsettled();
  if (!unsettled.ok()) {
    logs.Error(absl::StrCat("journal: ", unsettled.status().message()));
    return totals;
  }
  if (unsettled->empty()) return totals;

  using ViewIndex =
      absl::flat_hash_map<std::string_view, const core::Account*, absl::Hash<std::string_view>>;
  ViewIndex by_id;
  ViewIndex by_external_id;
  ViewIndex by_user_name;
  for (const core::Account& account : accounts.items) {
    by_id.emplace(account.id, &account);
    if (!account.external_id.empty()) by_external_id.emplace(account.external_id, &account);
    by_user_name.emplace(account.user_name, &account);
  }
  auto find = [](const ViewIndex& index, std::string_view key) -> const core::Account* {
    auto it = index.find(key);
    return it == index.end() ? nullptr : it->second;
  };
  absl::flat_hash_map<std::string, std::string> origin_of;  // directory id → link origin
  for (const LinkRow& link : *links) origin_of[link.directory_id] = link.origin;

  simdjson::ondemand::parser parser;
  std::vector<JournalSettlement> settlements;
  std::vector<LinkRow> new_links;
  std::vector<std::string> removed_links;
  for (const JournalEntry& entry : *unsettled) {
    const bool create = entry.op == core::OpKindName(OpKind::kCreate);
    FieldValues planned;
    const bool readable = PlannedValues(entry.payload, create, parser, &planned);
    Verdict verdict;
    verdict.account_id = entry.account_id;
    if (create) {
      std::string user_name;
      for (const auto& [field, value] : planned) {
        if (field == "user_name") user_name = value;
      }
      if (const core::Account* account = find(by_external_id, entry.directory_id)) {
        verdict.account_id = std::string(account->id);
        verdict.link_origin = "created";
        std::vector<std::string> missing = Differing(*account, planned);
        verdict.done = readable && missing.empty();
        if (!verdict.done) {
          verdict.reason = absl::StrCat(
              "interrupted: the account was created (", Sv(account->id), ") but not completed",
              missing.empty() ? std::string()
                              : absl::StrCat(" (", absl::StrJoin(missing, ", "), ")"),
              "; completed by the next run's plan");
        }
      } else if (const core::Account* taken =
                     user_name.empty() ? nullptr : find(by_user_name, user_name)) {
        verdict.reason =
            absl::StrCat("interrupted: not created; userName ", user_name, " is held by account ",
                         Sv(taken->id), " with another externalId");
      } else {
        verdict.reason = "interrupted before the target created the account; planned again";
      }
    } else {
      const core::Account* account = find(by_id, entry.account_id);
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
          planned.emplace_back("active", "true");
        }
        std::vector<std::string> missing = Differing(*account, planned);
        verdict.done = readable && missing.empty();
        if (verdict.done) {
          auto it = origin_of.find(entry.directory_id);
          verdict.link_origin = it == origin_of.end() ? std::string("linked") : it->second;
        } else {
          verdict.reason =
              absl::StrCat("interrupted before the change was applied",
                           missing.empty() ? std::string()
                                           : absl::StrCat(" (", absl::StrJoin(missing, ", "), ")"),
                           "; planned again");
        }
      }
    }
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

  // Links before the journal rows, as in ApplyOperations: a failure leaves rows "intent".
  if (!new_links.empty()) {
    if (absl::Status s = state.UpsertLinks(new_links); !s.ok()) {
      logs.Error(absl::StrCat("links: ", s.message()));
      return RecoveryTotals{};
    }
  }
  if (!removed_links.empty()) {
    if (absl::Status s = state.RemoveLinks(removed_links); !s.ok()) {
      logs.Error(absl::StrCat("links: ", s.message()));
      return RecoveryTotals{};
    }
  }
  if (absl::Status s = state.Settle(settlements); !s.ok()) {
    logs.Error(absl::StrCat("journal: ", s.message()));
    return RecoveryTotals{};
  }
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
  if (!removed_links.empty()) {
    absl::flat_hash_map<std::string, bool> removed;
    for (const std::string& id : removed_links) removed[id] = true;
    links->erase(
        std::remove_if(links->begin(), links->end(),
                       [&](const LinkRow& row) { return removed.contains(row.directory_id); }),
        links->end());
  }
  totals.links = std::move(new_links);
  Print(out, absl::StrCat("Recovered ", totals.done + totals.not_done,
                          " operation(s) left unfinished by an earlier run: ", totals.done,
                          " had been applied at the target, ", totals.not_done,
                          " had not and are planned again.\n"));
  return totals;
}

}  // namespace usersync::io
