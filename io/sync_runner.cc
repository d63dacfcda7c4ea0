#include "io/sync_runner.h"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <memory>
#include <span>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "core/plan.h"
#include "core/status_macros.h"
#include "core/str.h"
#include "io/config/config.h"
#include "io/directory_source.h"
#include "io/json_writer.h"
#include "io/report/audit_log.h"
#include "io/report/plan_report.h"
#include "io/scim/scim_target.h"
#include "io/state/state_store.h"
#include "io/target_api.h"

namespace usersync::io {
namespace {

using core::OpKind;
using core::Operation;
using Clock = std::chrono::steady_clock;

// A failure with the exit code it maps to; printed once, at the top.
struct Failure {
  int exit_code;
  absl::Status status;
};

void Print(std::FILE* file, std::string_view text) {
  std::fwrite(text.data(), 1, text.size(), file);
  std::fflush(file);
}

absl::Status WriteFile(const std::string& path, std::string_view content) {
  std::FILE* file = std::fopen(path.c_str(), "w");
  if (file == nullptr) {
    return absl::UnavailableError(absl::StrCat("cannot write ", path, ": ", std::strerror(errno)));
  }
  const size_t written = std::fwrite(content.data(), 1, content.size(), file);
  const bool closed = std::fclose(file) == 0;
  if (written != content.size() || !closed) {
    return absl::UnavailableError(absl::StrCat("cannot write ", path, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

// Everything a command needs, loaded in order; each step's failure carries its exit code.
struct Session {
  Config config;
  std::unique_ptr<StateStore> state;
  std::unique_ptr<TargetApi> target;
  core::Directory directory;
  core::Accounts accounts;
  std::vector<LinkRow> links;
  std::vector<ManualMatch> manual;
  core::Plan plan;
  double read_seconds = 0;
  double list_seconds = 0;
  double plan_seconds = 0;
};

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::unique_ptr<Failure> Fail(int exit_code, absl::Status status) {
  return std::make_unique<Failure>(Failure{exit_code, std::move(status)});
}

std::unique_ptr<Failure> LoadSessionConfig(const CommandOptions& options, Session& session) {
  absl::StatusOr<Config> config = LoadConfig(options.config_path);
  if (!config.ok()) return Fail(kExitUsage, config.status());
  session.config = *std::move(config);
  if (!options.target_url.empty()) session.config.target.url = options.target_url;
  if (!options.state_path.empty()) session.config.state_path = options.state_path;
  if (!options.logs_dir.empty()) session.config.logs_dir = options.logs_dir;
  return nullptr;
}

std::unique_ptr<Failure> OpenTarget(const CommandOptions& options, Session& session) {
  const TargetConfig& target = session.config.target;
  std::string token = options.target_token;
  if (token.empty()) {
    absl::StatusOr<std::string> secret =
        ReadSecret(target.token_env, target.token_file, "the target's bearer token");
    if (!secret.ok()) return Fail(kExitUsage, secret.status());
    token = *std::move(secret);
  }
  if (target.kind != "scim") {
    return Fail(kExitUsage,
                absl::UnimplementedError(absl::StrCat(
                    "target.kind = \"", target.kind,
                    "\" is not available in this build yet (issue 5); use kind = \"scim\"")));
  }
  ScimTargetOptions scim;
  scim.base_url = target.url;
  scim.pipeline.concurrency = target.concurrency;
  scim.pipeline.rate = target.rate;
  scim.pipeline.burst = target.burst;
  scim.pipeline.adaptive = target.adaptive;
  scim.pipeline.max_retries = target.max_retries;
  scim.pipeline.timeout = target.timeout;
  scim.pipeline.bearer_token = std::move(token);
  absl::StatusOr<std::unique_ptr<TargetApi>> driver = MakeScimTarget(std::move(scim));
  if (!driver.ok()) return Fail(kExitUsage, driver.status());
  session.target = *std::move(driver);
  return nullptr;
}

// Loads config, state, directory and accounts, and computes the plan.
std::unique_ptr<Failure> PrepareSession(const CommandOptions& options, Session& session) {
  if (auto failure = LoadSessionConfig(options, session)) return failure;

  absl::StatusOr<std::unique_ptr<StateStore>> state = StateStore::Open(session.config.state_path);
  if (!state.ok()) return Fail(kExitUsage, state.status());
  session.state = *std::move(state);

  if (auto failure = OpenTarget(options, session)) return failure;

  absl::StatusOr<std::unique_ptr<DirectorySource>> source =
      MakeDirectorySource(session.config.source);
  if (!source.ok()) return Fail(kExitUsage, source.status());
  Clock::time_point start = Clock::now();
  absl::StatusOr<core::Directory> directory = (*source)->Read();
  if (!directory.ok()) {
    return Fail(kExitUnreachable,
                absl::Status(directory.status().code(),
                             absl::StrCat("reading the directory: ", directory.status().message())));
  }
  session.directory = *std::move(directory);
  session.read_seconds = SecondsSince(start);

  start = Clock::now();
  absl::StatusOr<core::Accounts> accounts = session.target->ListAccounts();
  if (!accounts.ok()) {
    return Fail(kExitUnreachable,
                absl::Status(accounts.status().code(),
                             absl::StrCat("listing the target's accounts: ",
                                          accounts.status().message())));
  }
  session.accounts = *std::move(accounts);
  session.list_seconds = SecondsSince(start);

  absl::StatusOr<std::vector<LinkRow>> links = session.state->LoadLinks();
  if (!links.ok()) return Fail(kExitUsage, links.status());
  session.links = *std::move(links);
  absl::StatusOr<std::vector<ManualMatch>> manual = session.state->LoadManualMatches();
  if (!manual.ok()) return Fail(kExitUsage, manual.status());
  session.manual = *std::move(manual);

  std::vector<core::Link> links_view;
  links_view.reserve(session.links.size());
  for (const LinkRow& link : session.links) {
    links_view.push_back({link.directory_id, link.account_id, true});
  }
  std::vector<core::Link> manual_view;
  for (const ManualMatch& match : session.manual) {
    manual_view.push_back({match.directory_id, match.account_id, true});
  }
  start = Clock::now();
  session.plan = core::ComputePlan(session.directory, session.accounts, links_view, manual_view,
                                   ToPlanConfig(session.config));
  session.plan_seconds = SecondsSince(start);
  for (const core::DirectoryIssue& issue : session.directory.issues) {
    session.plan.warnings.push_back(absl::StrCat(issue.dn, ": ", issue.reason));
  }
  return nullptr;
}

int Report(const CommandOptions& options, const Failure& failure) {
  Print(options.err, absl::StrCat("usersync: ", failure.status.message(), "\n"));
  return failure.exit_code;
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

struct ApplyTotals {
  int64_t done = 0;
  int64_t failed = 0;
  int64_t held = 0;
  int64_t not_started = 0;  // interrupted before sending
  absl::flat_hash_map<std::string, int64_t> done_by_kind;
};

// Applies the plan's operations that are not held. Every operation is journaled before its
// request and settled after; links follow the outcomes.
ApplyTotals ApplyPlan(const CommandOptions& options, Session& session, int64_t run_id,
                      RunLogs& logs) {
  constexpr size_t kBatch = 512;         // intents journaled per transaction
  constexpr size_t kMaxOutstanding = 4096;
  const std::vector<Operation>& ops = session.plan.operations;
  ApplyTotals totals;

  absl::flat_hash_map<std::string, std::string> link_origin;
  for (const LinkRow& link : session.links) link_origin[link.directory_id] = link.origin;

  std::vector<int64_t> journal_id(ops.size(), 0);
  OutcomeQueue queue;
  size_t outstanding = 0;
  std::vector<JournalSettlement> settlements;
  std::vector<LinkRow> new_links;
  std::vector<std::string> removed_links;

  auto flush = [&] {
    if (!settlements.empty()) {
      if (absl::Status s = session.state->Settle(settlements); !s.ok()) {
        logs.Error(absl::StrCat("journal: ", s.message()));
      }
      settlements.clear();
    }
    if (!new_links.empty()) {
      if (absl::Status s = session.state->UpsertLinks(new_links); !s.ok()) {
        logs.Error(absl::StrCat("links: ", s.message()));
      }
      new_links.clear();
    }
    if (!removed_links.empty()) {
      if (absl::Status s = session.state->RemoveLinks(removed_links); !s.ok()) {
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
                  session.plan.hold_reason});
    } else {
      pending.push_back(op_idx);
    }
  }

  bool interrupted = false;
  for (size_t batch_start = 0; batch_start < pending.size(); batch_start += kBatch) {
    if (options.interrupted != nullptr && options.interrupted->load()) {
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
    absl::StatusOr<std::vector<int64_t>> ids = session.state->RecordIntents(run_id, intents);
    if (!ids.ok()) {
      // Without a journal entry an operation must not be sent: stop here, report the rest.
      logs.Error(absl::StrCat("journal: ", ids.status().message()));
      Print(options.err, absl::StrCat("usersync: cannot journal operations: ",
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
      session.target->Execute(op, [&queue, op_idx](OpOutcome outcome) {
        queue.Push(op_idx, std::move(outcome));
      });
    }
    while (outstanding > kMaxOutstanding) drain_some(absl::Milliseconds(200));
    drain_some(absl::ZeroDuration());
  }
  if (interrupted) session.target->Cancel();
  while (outstanding > 0) drain_some(absl::Milliseconds(200));
  flush();
  if (interrupted) {
    Print(options.err, absl::StrCat("usersync: interrupted: ", totals.not_started,
                                    " operation(s) not started; they are planned again next run\n"));
  }
  return totals;
}

std::string RunSummaryJson(const core::Plan& plan, const ApplyTotals& totals,
                           const TargetStats& stats) {
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
  w.EndObject();
  return w.Release();
}

// Settles journal rows left in "intent" by a run that crashed: the plan of this run re-derives
// what is still to do from the target's state (a create that did happen is found by its
// externalId or email and linked), so the rows are closed as interrupted.
void SettleInterrupted(Session& session, RunLogs& logs, std::FILE* out) {
  absl::StatusOr<std::vector<JournalEntry>> unsettled = session.state->LoadUnsettled();
  if (!unsettled.ok() || unsettled->empty()) return;
  std::vector<JournalSettlement> settlements;
  for (const JournalEntry& entry : *unsettled) {
    settlements.push_back({entry.op_id, false, entry.account_id, 0, entry.attempts,
                           "interrupted before its outcome was recorded; re-planned from the "
                           "target's state"});
  }
  if (absl::Status s = session.state->Settle(settlements); !s.ok()) {
    logs.Error(absl::StrCat("journal: ", s.message()));
    return;
  }
  Print(out, absl::StrCat("Recovered ", settlements.size(),
                          " operation(s) interrupted by an earlier run; re-planned.\n"));
}

}  // namespace

int RunPlanCommand(const CommandOptions& options) {
  Session session;
  if (auto failure = PrepareSession(options, session)) return Report(options, *failure);
  const std::string json = PlanJson(session.plan);
  if (!options.out_path.empty()) {
    if (absl::Status s = WriteFile(options.out_path, json); !s.ok()) {
      return Report(options, Failure{kExitUsage, s});
    }
  }
  if (options.format == "json") {
    Print(options.out, json);
  } else {
    Print(options.out, PlanTable(session.plan));
    if (!options.out_path.empty()) {
      Print(options.out, absl::StrCat("Plan written to ", options.out_path, "\n"));
    }
  }
  return kExitOk;
}

int RunSyncCommand(const CommandOptions& options) {
  Session session;
  if (auto failure = PrepareSession(options, session)) return Report(options, *failure);
  Print(options.out, PlanTable(session.plan));
  Print(options.out, absl::StrFormat("(read %zu users, %zu groups in %.2fs; listed %zu accounts "
                                     "in %.2fs; planned in %.3fs)\n",
                                     session.directory.user_count(),
                                     session.directory.group_count(), session.read_seconds,
                                     session.accounts.items.size(), session.list_seconds,
                                     session.plan_seconds));
  if (options.dry_run) {
    Print(options.out, "Dry run: nothing was changed.\n");
    return kExitOk;
  }

  absl::StatusOr<std::unique_ptr<RunLogs>> logs = RunLogs::Open(session.config.logs_dir);
  if (!logs.ok()) return Report(options, Failure{kExitUsage, logs.status()});
  absl::StatusOr<int64_t> run_id = session.state->BeginRun("sync", NowRfc3339());
  if (!run_id.ok()) return Report(options, Failure{kExitUsage, run_id.status()});
  SettleInterrupted(session, **logs, options.out);

  const Clock::time_point start = Clock::now();
  ApplyTotals totals = ApplyPlan(options, session, *run_id, **logs);
  const double apply_seconds = SecondsSince(start);
  const TargetStats stats = session.target->stats();

  int exit_code = kExitOk;
  if (totals.failed > 0 || totals.not_started > 0) {
    exit_code = kExitSomeFailed;
  } else if (totals.held > 0) {
    exit_code = kExitHeld;
  }
  if (absl::Status s = session.state->FinishRun(*run_id, exit_code,
                                                RunSummaryJson(session.plan, totals, stats),
                                                NowRfc3339());
      !s.ok()) {
    (*logs)->Error(absl::StrCat("runs: ", s.message()));
  }

  std::string by_kind;
  for (OpKind kind : {OpKind::kCreate, OpKind::kUpdate, OpKind::kLink, OpKind::kReactivate,
                      OpKind::kDeactivate, OpKind::kDelete}) {
    auto it = totals.done_by_kind.find(std::string(core::OpKindName(kind)));
    if (it == totals.done_by_kind.end()) continue;
    absl::StrAppend(&by_kind, by_kind.empty() ? "" : ", ", it->second, " ",
                    Sv(core::OpKindName(kind)));
  }
  Print(options.out,
        absl::StrFormat("Result: %d done%s, %d failed, %d held in %.2fs (%d requests, %d "
                        "retried, %d throttled, %.1f requests/s)\n",
                        totals.done, by_kind.empty() ? std::string() : " (" + by_kind + ")",
                        totals.failed, totals.held, apply_seconds, stats.requests, stats.retries,
                        stats.throttled,
                        apply_seconds > 0 ? static_cast<double>(stats.requests) / apply_seconds : 0.0));
  if (totals.failed > 0) {
    Print(options.out, absl::StrCat("Failed operations are in ", (*logs)->error_path(),
                                    "; they are planned again next run.\n"));
  }
  if (totals.held > 0) {
    Print(options.out, absl::StrCat("HELD: ", session.plan.hold_reason, "\n"));
  }
  Print(options.out, absl::StrCat("Audit log: ", (*logs)->audit_path(), "\n"));
  return exit_code;
}

int RunUsersCommand(const CommandOptions& options) {
  Session session;
  if (auto failure = PrepareSession(options, session)) return Report(options, *failure);
  std::string text;
  if (options.format == "csv") {
    text = UsersCsv(session.plan);
  } else if (options.format == "json") {
    text = UsersJson(session.plan);
  } else if (options.format.empty() || options.format == "table") {
    text = UsersTable(session.plan);
  } else {
    return Report(options,
                  Failure{kExitUsage, absl::InvalidArgumentError(absl::StrCat(
                                          "unknown --format ", options.format,
                                          " (table, csv, json)"))});
  }
  if (!options.out_path.empty()) {
    if (absl::Status s = WriteFile(options.out_path, text); !s.ok()) {
      return Report(options, Failure{kExitUsage, s});
    }
    Print(options.out, absl::StrCat("Users page written to ", options.out_path, "\n"));
    return kExitOk;
  }
  Print(options.out, text);
  return kExitOk;
}

int RunCheckCommand(const CommandOptions& options) {
  Session session;
  if (auto failure = LoadSessionConfig(options, session)) return Report(options, *failure);
  Print(options.out, absl::StrCat("config: ", session.config.path, " OK\n"));
  int exit_code = kExitOk;

  absl::StatusOr<std::unique_ptr<DirectorySource>> source =
      MakeDirectorySource(session.config.source);
  if (!source.ok()) return Report(options, Failure{kExitUsage, source.status()});
  absl::StatusOr<core::Directory> directory = (*source)->Read();
  if (directory.ok()) {
    Print(options.out, absl::StrFormat("source: %s OK (%zu users, %zu groups)\n",
                                       session.config.source.kind, directory->user_count(),
                                       directory->group_count()));
  } else {
    Print(options.out, absl::StrCat("source: FAILED: ", directory.status().message(), "\n"));
    exit_code = kExitUnreachable;
  }

  if (auto failure = OpenTarget(options, session)) return Report(options, *failure);
  absl::Status target = session.target->Check();
  if (target.ok()) {
    Print(options.out, absl::StrCat("target: ", session.config.target.url, " OK\n"));
  } else {
    Print(options.out, absl::StrCat("target: FAILED: ", target.message(), "\n"));
    exit_code = kExitUnreachable;
  }
  return exit_code;
}

}  // namespace usersync::io
