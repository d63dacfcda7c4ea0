#include "io/sync_runner.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <system_error>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "core/explain.h"
#include "core/normalize.h"
#include "core/plan.h"
#include "core/status_macros.h"
#include "core/str.h"
#include "io/config/config.h"
#include "io/directory_source.h"
#include "io/executor.h"
#include "io/goto/goto_target.h"
#include "io/json_writer.h"
#include "io/output.h"
#include "io/plan_file.h"
#include "io/report/audit_log.h"
#include "io/report/plan_report.h"
#include "io/report/users_html.h"
#include "io/scim/scim_target.h"
#include "io/state/run_lock.h"
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
  RunLock run_lock;  // held by the commands that change the target (see PrepareSession)
  std::unique_ptr<StateStore> state;
  std::unique_ptr<TargetApi> target;
  core::Directory directory;
  core::Accounts accounts;
  std::vector<LinkRow> links;
  std::vector<ManualMatch> manual;
  // The matcher's views of `links` and `manual` (views into them: stale once `links` grows,
  // e.g. after SettleInterrupted) and the configuration the plan was computed with.
  std::vector<core::Link> links_view;
  std::vector<core::Link> manual_view;
  core::PlanConfig plan_config;
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
  if (target.kind == "goto") {
    GotoTargetOptions goto_options;
    goto_options.base_url = target.url;
    goto_options.account_key = target.account_key;
    goto_options.batch = target.batch;
    goto_options.pipeline.concurrency = target.concurrency;
    goto_options.pipeline.rate = target.rate;
    goto_options.pipeline.burst = target.burst;
    goto_options.pipeline.adaptive = target.adaptive;
    goto_options.pipeline.max_retries = target.max_retries;
    goto_options.pipeline.timeout = target.timeout;
    goto_options.pipeline.bearer_token = std::move(token);
    absl::StatusOr<std::unique_ptr<TargetApi>> driver = MakeGotoTarget(std::move(goto_options));
    if (!driver.ok()) return Fail(kExitUsage, driver.status());
    session.target = *std::move(driver);
    return nullptr;
  }
  ScimTargetOptions scim;
  scim.batch = target.batch;
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

// Whether a command may change the target: then it holds the state store's RunLock from
// before it reads anything (two runs planning from the same state would apply twice).
enum class Access { kReadOnly, kApply };

// Loads config, state, directory and accounts, and computes the plan.
std::unique_ptr<Failure> PrepareSession(const CommandOptions& options, Session& session,
                                        Access access = Access::kReadOnly) {
  if (auto failure = LoadSessionConfig(options, session)) return failure;
  if (access == Access::kApply) {
    absl::StatusOr<RunLock> lock = RunLock::Acquire(session.config.state_path);
    if (!lock.ok()) {
      // Held by another run: a passing condition, like an unreachable server (exit 4).
      return Fail(absl::IsUnavailable(lock.status()) ? kExitUnreachable : kExitUsage,
                  lock.status());
    }
    session.run_lock = *std::move(lock);
  }

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

  std::vector<core::Link>& links_view = session.links_view;
  links_view.reserve(session.links.size());
  for (const LinkRow& link : session.links) {
    links_view.push_back({link.directory_id, link.account_id, true});
  }
  std::vector<core::Link>& manual_view = session.manual_view;
  for (const ManualMatch& match : session.manual) {
    manual_view.push_back({match.directory_id, match.account_id, true});
  }
  core::PlanConfig plan_config = ToPlanConfig(session.config);
  plan_config.target_has_display_name = session.config.target.kind != "goto";
  // Seats are read beside the accounts: creates beyond them are reported, not sent.
  absl::StatusOr<FreeSeatList> free_seats = session.target->FreeSeats();
  if (!free_seats.ok()) return Fail(kExitUnreachable, free_seats.status());
  plan_config.free_seats = *std::move(free_seats);
  start = Clock::now();
  session.plan =
      core::ComputePlan(session.directory, session.accounts, links_view, manual_view, plan_config);
  session.plan_seconds = SecondsSince(start);
  session.plan_config = std::move(plan_config);
  for (const core::DirectoryIssue& issue : session.directory.issues) {
    session.plan.warnings.push_back(absl::StrCat(issue.dn, ": ", issue.reason));
  }
  return nullptr;
}

// Records a run that ended before it applied anything: its exit code and {"error": message}.
void RecordUnstartedRun(StateStore& state, const std::string& mode, const std::string& started_at,
                        const Failure& failure, std::FILE* err) {
  absl::StatusOr<int64_t> run_id = state.BeginRun(mode, started_at);
  absl::Status recorded = run_id.status();
  if (run_id.ok()) {
    JsonWriter w;
    w.BeginObject().Field("error", StdSv(failure.status.message())).EndObject();
    recorded = state.FinishRun(*run_id, failure.exit_code, w.Release(), NowRfc3339());
  }
  if (!recorded.ok()) {
    Print(err, absl::StrCat("usersync: could not record the run: ", recorded.message(), "\n"));
  }
}

int Report(const CommandOptions& options, const Failure& failure) {
  Print(options.err, absl::StrCat("usersync: ", failure.status.message(), "\n"));
  return failure.exit_code;
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

// The per-run throttling report: requests sent, 429s, achieved rate, time spent waiting.
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

// ---- Held operations (safety threshold) ---------------------------------------------------

std::vector<JournalIntent> HeldIntents(const std::vector<Operation>& ops) {
  std::vector<JournalIntent> intents;
  for (const Operation& op : ops) {
    if (!op.held) continue;
    intents.push_back({std::string(core::OpKindName(op.kind)), op.directory_id, op.account_id,
                       op.email, OperationJson(op)});
  }
  return intents;
}

// Makes the held operations of `ops` the pending holds and returns the pending holds. A run
// that plans the same held operations as the pending ones keeps them (and their ids); any other
// set replaces them (SaveHolds): the plan computed now is the truth, older holds are stale.
// Errors go to the error log and `err`; the result is then what could be read (maybe empty).
std::vector<HoldRow> RecordHolds(StateStore& state, int64_t run_id,
                                 const std::vector<Operation>& ops, RunLogs& logs, std::FILE* err) {
  const std::vector<JournalIntent> intents = HeldIntents(ops);
  absl::StatusOr<std::vector<HoldRow>> pending = state.LoadHolds();
  bool same = pending.ok() && pending->size() == intents.size();
  for (size_t idx = 0; same && idx < intents.size(); ++idx) {
    const HoldRow& hold = (*pending)[idx];
    same = hold.op == intents[idx].op && hold.directory_id == intents[idx].directory_id &&
           hold.account_id == intents[idx].account_id && hold.payload == intents[idx].payload;
  }
  if (!same) {
    if (absl::Status s = state.SaveHolds(run_id, intents); !s.ok()) {
      logs.Error(absl::StrCat("holds: ", s.message()));
      Print(err,
            absl::StrCat("usersync: could not store the held operations: ", s.message(), "\n"));
      return {};
    }
    pending = state.LoadHolds();
  }
  if (!pending.ok()) {
    logs.Error(absl::StrCat("holds: ", pending.status().message()));
    return {};
  }
  return *std::move(pending);
}

// "  hold 3: deactivate ann@example.com (account a-1, directory id id-ann): departed: ..."
std::string HoldLine(const HoldRow& hold) {
  std::string reason;
  if (absl::StatusOr<Operation> op = ParseOperationJson(hold.payload, "hold"); op.ok()) {
    reason = op->reason;
  }
  return absl::StrCat("  hold ", hold.hold_id, ": ", hold.op, " ",
                      hold.email.empty() ? std::string("-") : hold.email, " (account ",
                      hold.account_id, ", directory id ", hold.directory_id, ")",
                      reason.empty() ? "" : ": ", reason, "\n");
}

void PrintHolds(std::FILE* out, const std::vector<HoldRow>& holds, const std::string& config_path,
                size_t max_shown) {
  if (holds.empty()) return;
  std::string text = absl::StrCat(holds.size(), " held operation(s):\n");
  for (size_t idx = 0; idx < holds.size() && idx < max_shown; ++idx) {
    text.append(HoldLine(holds[idx]));
  }
  if (holds.size() > max_shown) {
    absl::StrAppend(&text, "  ... and ", holds.size() - max_shown, " more (`usersync release -c ",
                    config_path, "` lists them all)\n");
  }
  absl::StrAppend(&text, "Release them with `usersync release -c ", config_path,
                  " --id ID...` or `--all`.\n");
  Print(out, text);
}

// The exit code of an applied batch (sync's rule): target failing 4, failures 1, held 3, 0.
int ExitCodeOf(const ApplyTotals& totals) {
  if (totals.quarantined) return kExitUnreachable;
  if (totals.failed > 0 || totals.cancelled > 0 || totals.not_started > 0) return kExitSomeFailed;
  if (totals.held > 0) return kExitHeld;
  return kExitOk;
}

// "3 create, 1 update"
std::string DoneByKind(const ApplyTotals& totals) {
  std::string by_kind;
  for (OpKind kind : {OpKind::kCreate, OpKind::kUpdate, OpKind::kLink, OpKind::kReactivate,
                      OpKind::kDeactivate, OpKind::kDelete}) {
    auto it = totals.done_by_kind.find(std::string(core::OpKindName(kind)));
    if (it == totals.done_by_kind.end()) continue;
    absl::StrAppend(&by_kind, by_kind.empty() ? "" : ", ", it->second, " ",
                    Sv(core::OpKindName(kind)));
  }
  return by_kind;
}

// "update bob@example.com (account acc-7)"
std::string DescribeOp(const Operation& op) {
  return absl::StrCat(Sv(core::OpKindName(op.kind)), " ", op.email.empty() ? "-" : op.email,
                      op.account_id.empty() ? "" : " (account ", op.account_id,
                      op.account_id.empty() ? "" : ")");
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

ExecutorContext MakeExecutorContext(const CommandOptions& options, Session& session, RunLogs& logs,
                                    int64_t run_id) {
  ExecutorContext context;
  context.state = session.state.get();
  context.target = session.target.get();
  context.logs = &logs;
  context.run_id = run_id;
  context.links = session.links;
  context.err = options.err;
  context.interrupted = options.interrupted;
  return context;
}

// ---- Manual matches -----------------------------------------------------------------------

struct MatchPair {
  std::string source_id;  // directory id
  std::string target_id;  // account id
  int line = 0;           // CSV line number (0: from the command line)
};

// Splits one CSV line (RFC 4180 quoting: "a,b" and "" for a quote) into trimmed fields.
absl::StatusOr<std::vector<std::string>> SplitCsvLine(std::string_view line) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  bool was_quoted = false;
  for (size_t pos = 0; pos < line.size(); ++pos) {
    const char c = line[pos];
    if (quoted) {
      if (c == '"' && pos + 1 < line.size() && line[pos + 1] == '"') {
        fields.back().push_back('"');
        ++pos;
      } else if (c == '"') {
        quoted = false;
      } else {
        fields.back().push_back(c);
      }
    } else if (c == '"' && !was_quoted && core::TrimWhitespace(fields.back()).empty()) {
      fields.back().clear();
      quoted = was_quoted = true;
    } else if (c == ',') {
      fields.emplace_back();
      was_quoted = false;
    } else {
      fields.back().push_back(c);
    }
  }
  if (quoted) return absl::InvalidArgumentError("a quoted field is not closed");
  for (std::string& field : fields) field = std::string(core::TrimWhitespace(field));
  return fields;
}

// A bad line of a CSV import: its number and "FILE:LINE: reason".
using LineError = std::pair<int, std::string>;

// Reads FILE (header source_id,target_id). Syntax errors are appended to `errors`; a file
// that cannot be read is an error status.
absl::StatusOr<std::vector<MatchPair>> ReadMatchCsv(const std::string& path,
                                                    std::vector<LineError>* errors) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    return absl::NotFoundError(absl::StrCat("cannot open ", path, ": ", std::strerror(errno)));
  }
  std::string content;
  char buffer[1 << 16];
  size_t got = 0;
  while ((got = std::fread(buffer, 1, sizeof(buffer), file)) > 0) content.append(buffer, got);
  std::fclose(file);

  std::vector<MatchPair> pairs;
  bool header_seen = false;
  int line_number = 0;
  for (absl::string_view split_line : absl::StrSplit(content, '\n')) {
    std::string_view line = StdSv(split_line);
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (core::TrimWhitespace(line).empty()) continue;
    const std::string where = absl::StrCat(path, ":", line_number, ": ");
    absl::StatusOr<std::vector<std::string>> fields = SplitCsvLine(line);
    if (!fields.ok()) {
      errors->emplace_back(line_number, absl::StrCat(where, fields.status().message()));
      continue;
    }
    if (!header_seen) {
      header_seen = true;
      if (fields->size() != 2 || core::AsciiLower((*fields)[0]) != "source_id" ||
          core::AsciiLower((*fields)[1]) != "target_id") {
        errors->emplace_back(line_number,
                             absl::StrCat(where, "the header must be \"source_id,target_id\""));
      }
      continue;
    }
    if (fields->size() != 2) {
      errors->emplace_back(
          line_number,
          absl::StrCat(where, "expected 2 fields (source_id,target_id), found ", fields->size()));
      continue;
    }
    if ((*fields)[0].empty() || (*fields)[1].empty()) {
      errors->emplace_back(
          line_number,
          absl::StrCat(where, (*fields)[0].empty() ? "source_id" : "target_id", " is empty"));
      continue;
    }
    pairs.push_back({(*fields)[0], (*fields)[1], line_number});
  }
  if (!header_seen) errors->emplace_back(0, absl::StrCat(path, ": empty: no header"));
  return pairs;
}

// What a manual match must not contradict: stored links and matches, and the current plan.
class MatchValidator {
 public:
  explicit MatchValidator(const Session& session) : session_(session) {
    for (const LinkRow& link : session.links) {
      link_by_directory_.emplace(link.directory_id, &link);
      link_by_account_.emplace(link.account_id, &link);
    }
    for (const ManualMatch& match : session.manual) {
      manual_by_directory_.emplace(match.directory_id, &match);
      manual_by_account_.emplace(match.account_id, &match);
    }
    for (const core::Account& account : session.accounts.items) {
      account_by_id_.emplace(std::string(account.id), &account);
    }
    for (const core::UserRow& row : session.plan.rows) {
      if (row.directory_id.empty() || row.account_id.empty()) continue;
      row_by_account_.emplace(row.account_id, &row);
      row_by_directory_.emplace(row.directory_id, &row);
    }
  }

  // "" when `pair` may be stored, else why not. Also refuses a directory id or an account
  // named twice across the pairs checked so far (a CSV import).
  std::string Check(const MatchPair& pair) {
    const std::string& x = pair.source_id;
    const std::string& y = pair.target_id;
    if (!session_.directory.FindUserById(x)) {
      return absl::StrCat("no directory user has id '", x, "'");
    }
    if (!account_by_id_.contains(y)) return absl::StrCat("the target has no account '", y, "'");
    if (auto [it, fresh] = seen_source_.emplace(x, pair.line); !fresh) {
      return absl::StrCat("directory id '", x, "' is matched on line ", it->second, " already");
    }
    if (auto [it, fresh] = seen_target_.emplace(y, pair.line); !fresh) {
      return absl::StrCat("account '", y, "' is matched on line ", it->second, " already");
    }
    if (auto it = link_by_directory_.find(x);
        it != link_by_directory_.end() && it->second->account_id != y) {
      return absl::StrCat("directory id '", x, "' is already linked to account '",
                          it->second->account_id, "' (", it->second->origin, ")");
    }
    if (auto it = link_by_account_.find(y);
        it != link_by_account_.end() && it->second->directory_id != x) {
      return absl::StrCat("account '", y, "' is already linked to directory id '",
                          it->second->directory_id, "' (", it->second->origin, ")");
    }
    if (auto it = manual_by_directory_.find(x);
        it != manual_by_directory_.end() && it->second->account_id != y) {
      return absl::StrCat("directory id '", x, "' is already matched to account '",
                          it->second->account_id, "' (usersync match)");
    }
    if (auto it = manual_by_account_.find(y);
        it != manual_by_account_.end() && it->second->directory_id != x) {
      return absl::StrCat("account '", y, "' is already matched to directory id '",
                          it->second->directory_id, "' (usersync match)");
    }
    if (auto it = row_by_account_.find(y);
        it != row_by_account_.end() && it->second->directory_id != x) {
      return absl::StrCat(
          "account '", y, "' is already claimed by directory user '", it->second->directory_id,
          "' (", Sv(core::CategoryName(it->second->category)), ": ", it->second->reason, ")");
    }
    if (auto it = row_by_directory_.find(x);
        it != row_by_directory_.end() && it->second->account_id != y) {
      return absl::StrCat(
          "directory user '", x, "' already matches account '", it->second->account_id, "' (",
          Sv(core::CategoryName(it->second->category)), ": ", it->second->reason, ")");
    }
    return std::string();
  }

  const core::Account* Account(const std::string& id) const {
    auto it = account_by_id_.find(id);
    return it == account_by_id_.end() ? nullptr : it->second;
  }

 private:
  const Session& session_;
  absl::flat_hash_map<std::string, const LinkRow*> link_by_directory_, link_by_account_;
  absl::flat_hash_map<std::string, const ManualMatch*> manual_by_directory_, manual_by_account_;
  absl::flat_hash_map<std::string, const core::Account*> account_by_id_;
  absl::flat_hash_map<std::string, const core::UserRow*> row_by_account_, row_by_directory_;
  absl::flat_hash_map<std::string, int> seen_source_, seen_target_;
};

}  // namespace

int RunPlanCommand(const CommandOptions& options) {
  Session session;
  if (auto failure = PrepareSession(options, session)) return Report(options, *failure);
  std::error_code absolute_error;  // on failure: the path as given
  const std::filesystem::path config_path =
      std::filesystem::absolute(session.config.path, absolute_error).lexically_normal();
  const std::string json =
      PlanJson(session.plan, PlanOrigin{absolute_error ? session.config.path : config_path.string(),
                                        session.config.target.url});
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
  const std::string started_at = NowRfc3339();  // the run's start: before reading anything
  Session session;
  if (auto failure =
          PrepareSession(options, session, options.dry_run ? Access::kReadOnly : Access::kApply)) {
    // A sync that could not start (the directory or the target unreachable, a secret missing)
    // is a run all the same: `usersync status` and the polling loop must show it.
    if (!options.dry_run && session.state != nullptr) {
      RecordUnstartedRun(*session.state, "sync", started_at, *failure, options.err);
    }
    return Report(options, *failure);
  }
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
  absl::StatusOr<int64_t> run_id = session.state->BeginRun("sync", started_at);
  if (!run_id.ok()) return Report(options, Failure{kExitUsage, run_id.status()});
  SettleInterrupted(*session.state, **logs, session.accounts, &session.links, options.out);

  ExecutorContext context;
  context.state = session.state.get();
  context.target = session.target.get();
  context.logs = logs->get();
  context.run_id = *run_id;
  context.links = session.links;
  context.hold_reason = session.plan.hold_reason;
  context.err = options.err;
  context.interrupted = options.interrupted;
  const TargetStats before = session.target->stats();
  const auto start = std::chrono::steady_clock::now();
  ApplyTotals totals = ApplyOperations(session.plan.operations, context);
  const double apply_seconds = SecondsSince(start);
  const TargetStats stats = session.target->stats();
  // Held deprovisioning waits in the state store for `usersync release`.
  const std::vector<HoldRow> holds =
      RecordHolds(*session.state, *run_id, session.plan.operations, **logs, options.err);

  int exit_code = kExitOk;
  if (totals.quarantined) {
    exit_code = kExitUnreachable;  // the target was failing: the run stopped early
  } else if (totals.failed > 0 || totals.cancelled > 0 || totals.not_started > 0) {
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
  const int64_t requests = stats.requests - before.requests;
  if (session.plan.operations.empty()) {
    Print(options.out, "Result: nothing to do.\n");
  } else {
    Print(options.out,
          absl::StrFormat("Result: %d done%s, %d failed, %d held in %.2fs (%d requests, %d "
                          "retried, %d throttled, %.1f requests/s)\n",
                          totals.done, by_kind.empty() ? std::string() : " (" + by_kind + ")",
                          totals.failed, totals.held, apply_seconds, requests,
                          stats.retries - before.retries, stats.throttled - before.throttled,
                          apply_seconds > 0 ? static_cast<double>(requests) / apply_seconds : 0.0));
    Print(options.out, ThrottlingReport(before, stats, apply_seconds, session.config.target));
  }
  if (totals.failed > 0) {
    Print(options.out, absl::StrCat("Failed operations are in ", (*logs)->error_path(),
                                    "; they are planned again next run.\n"));
  }
  if (totals.held > 0) {
    Print(options.out, absl::StrCat("HELD: ", session.plan.hold_reason, "\n"));
    PrintHolds(options.out, holds, options.config_path, 50);
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
  } else if (options.format == "html") {
    text = UsersHtml(session.plan, absl::StrCat("usersync users: ", session.config.target.url),
                     NowRfc3339());
  } else if (options.format.empty() || options.format == "table") {
    text = UsersTable(session.plan);
  } else {
    return Report(options,
                  Failure{kExitUsage, absl::InvalidArgumentError(absl::StrCat(
                                          "unknown --format ", options.format,
                                          " (table, csv, json, html)"))});
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

int RunApplyCommand(const CommandOptions& options) {
  if (options.plan_path.empty()) {
    return Report(options, Failure{kExitUsage, absl::InvalidArgumentError("apply needs --plan")});
  }
  absl::StatusOr<PlanFile> file = ReadPlanFile(options.plan_path);
  if (!file.ok()) return Report(options, Failure{kExitUsage, file.status()});
  if (file->computed_plan_id != file->plan_id) {
    return Report(
        options, Failure{kExitUsage,
                         absl::InvalidArgumentError(absl::StrCat(
                             options.plan_path,
                             ": its operations were edited after `usersync plan --out` wrote it "
                             "(plan_id ",
                             file->plan_id, ", operations now fingerprint ", file->computed_plan_id,
                             "); nothing was applied: make and review a new plan"))});
  }
  Session session;
  if (auto failure = PrepareSession(options, session, Access::kApply))
    return Report(options, *failure);
  if (!file->target_url.empty() && file->target_url != session.config.target.url) {
    return Report(options,
                  Failure{kExitUsage, absl::InvalidArgumentError(absl::StrCat(
                                          options.plan_path, " was made against ", file->target_url,
                                          ", but the configuration names ",
                                          session.config.target.url, "; nothing was applied"))});
  }
  Print(options.out, absl::StrCat("Plan ", options.plan_path, " (plan_id ", file->plan_id,
                                  "): ", file->operations.size(), " operation(s)\n"));
  std::error_code absolute_error;
  const std::filesystem::path config_path =
      std::filesystem::absolute(session.config.path, absolute_error).lexically_normal();
  if (!file->config_path.empty() && !absolute_error && file->config_path != config_path.string()) {
    Print(options.out, absl::StrCat("Note: the plan was made with ", file->config_path,
                                    "; applying it with ", config_path.string(), "\n"));
  }

  const DriftReport drift = CheckDrift(file->operations, session.accounts, session.plan);
  std::vector<Operation> ops;
  ops.reserve(file->operations.size());
  std::string refused;
  for (size_t op_idx = 0; op_idx < file->operations.size(); ++op_idx) {
    const Operation& op = file->operations[op_idx];
    if (drift.reasons[op_idx].empty()) {
      ops.push_back(op);
      continue;
    }
    absl::StrAppend(&refused, "  ", DescribeOp(op), ":\n");
    for (const std::string& reason : drift.reasons[op_idx]) {
      absl::StrAppend(&refused, "    - ", reason, "\n");
    }
  }
  if (drift.drifted > 0) {
    Print(options.out, absl::StrCat("DRIFT: ", drift.drifted,
                                    " operation(s) refused: the source or the target changed "
                                    "since the plan was made:\n",
                                    refused));
  }
  if (drift.not_in_plan > 0) {
    Print(options.out,
          absl::StrCat("Note: the directory and the target now call for ", drift.not_in_plan,
                       " operation(s) this plan does not hold; they are not applied (review "
                       "them with `usersync plan`).\n"));
  }

  absl::StatusOr<std::unique_ptr<RunLogs>> logs = RunLogs::Open(session.config.logs_dir);
  if (!logs.ok()) return Report(options, Failure{kExitUsage, logs.status()});
  absl::StatusOr<int64_t> run_id = session.state->BeginRun("apply", NowRfc3339());
  if (!run_id.ok()) return Report(options, Failure{kExitUsage, run_id.status()});
  SettleInterrupted(*session.state, **logs, session.accounts, &session.links, options.out);
  for (size_t op_idx = 0; op_idx < file->operations.size(); ++op_idx) {
    if (drift.reasons[op_idx].empty()) continue;
    const Operation& op = file->operations[op_idx];
    std::string why;
    for (const std::string& reason : drift.reasons[op_idx]) {
      absl::StrAppend(&why, why.empty() ? "" : "; ", reason);
    }
    (*logs)->Audit({*run_id, core::OpKindName(op.kind), op.directory_id, op.account_id, op.email,
                    "refused", 0, 0, why});
  }

  ExecutorContext context = MakeExecutorContext(options, session, **logs, *run_id);
  context.hold_reason = file->hold_reason;
  const TargetStats before = session.target->stats();
  const auto start = std::chrono::steady_clock::now();
  const ApplyTotals totals = ApplyOperations(ops, context);
  const double apply_seconds = SecondsSince(start);
  const TargetStats stats = session.target->stats();
  std::vector<HoldRow> holds;
  if (totals.held > 0) holds = RecordHolds(*session.state, *run_id, ops, **logs, options.err);

  const int exit_code = drift.drifted > 0 ? static_cast<int>(kExitDrift) : ExitCodeOf(totals);
  if (absl::Status s = session.state->FinishRun(
          *run_id, exit_code,
          BatchSummaryJson("apply", file->plan_id, static_cast<int64_t>(file->operations.size()),
                           static_cast<int64_t>(drift.drifted), totals, stats),
          NowRfc3339());
      !s.ok()) {
    (*logs)->Error(absl::StrCat("runs: ", s.message()));
  }
  const std::string by_kind = DoneByKind(totals);
  Print(options.out,
        absl::StrFormat("Result: %d done%s, %d failed, %d held, %d refused (drifted) in %.2fs "
                        "(%d requests)\n",
                        totals.done, by_kind.empty() ? std::string() : " (" + by_kind + ")",
                        totals.failed, totals.held, drift.drifted, apply_seconds,
                        stats.requests - before.requests));
  if (stats.requests > before.requests) {
    Print(options.out, ThrottlingReport(before, stats, apply_seconds, session.config.target));
  }
  if (totals.failed > 0) {
    Print(options.out, absl::StrCat("Failed operations are in ", (*logs)->error_path(), "\n"));
  }
  if (totals.held > 0) {
    Print(options.out, absl::StrCat("HELD: ", file->hold_reason, "\n"));
    PrintHolds(options.out, holds, options.config_path, 50);
  }
  if (drift.drifted > 0) {
    Print(options.out, "Make a new plan (`usersync plan --out`) to review what drifted.\n");
  }
  Print(options.out, absl::StrCat("Audit log: ", (*logs)->audit_path(), "\n"));
  return exit_code;
}

int RunExplainCommand(const CommandOptions& options) {
  Session session;
  if (auto failure = PrepareSession(options, session)) return Report(options, *failure);
  const std::vector<core::Explanation> found =
      core::Explain(session.directory, session.accounts, session.links_view, session.manual_view,
                    session.plan_config, session.plan, options.user);
  if (found.empty()) {
    return Report(options,
                  Failure{kExitUsage, absl::NotFoundError(absl::StrCat(
                                          "no directory user or account matches '", options.user,
                                          "' (tried directory ids, DNs, emails, user names and "
                                          "account ids)"))});
  }
  std::string text;
  for (const core::Explanation& explanation : found) {
    if (!text.empty()) text.push_back('\n');
    text.append(core::FormatExplanation(explanation));
  }
  Print(options.out, text);
  return kExitOk;
}

int RunMatchCommand(const CommandOptions& options) {
  const bool from_csv = !options.csv_path.empty();
  if (from_csv == (!options.source_id.empty() || !options.target_id.empty()) ||
      (!from_csv && (options.source_id.empty() || options.target_id.empty()))) {
    return Report(options, Failure{kExitUsage, absl::InvalidArgumentError(
                                                   "match needs --source-id ID --target-id ID, "
                                                   "or --csv FILE (not both)")});
  }
  std::vector<LineError> errors;
  std::vector<MatchPair> pairs;
  if (from_csv) {
    absl::StatusOr<std::vector<MatchPair>> read = ReadMatchCsv(options.csv_path, &errors);
    if (!read.ok()) return Report(options, Failure{kExitUsage, read.status()});
    pairs = *std::move(read);
  } else {
    pairs.push_back({options.source_id, options.target_id, 0});
  }

  Session session;
  if (auto failure = PrepareSession(options, session)) return Report(options, *failure);
  MatchValidator validator(session);
  for (const MatchPair& pair : pairs) {
    std::string why = validator.Check(pair);
    if (why.empty()) continue;
    if (!from_csv) {
      return Report(options,
                    Failure{kExitUsage, absl::FailedPreconditionError(absl::StrCat(
                                            "cannot match ", pair.source_id, " to ", pair.target_id,
                                            ": ", why, "; nothing was stored"))});
    }
    errors.emplace_back(pair.line, absl::StrCat(options.csv_path, ":", pair.line, ": ", why));
  }
  if (!errors.empty()) {
    // By line number: syntax errors were found first, the others later.
    std::stable_sort(errors.begin(), errors.end(),
                     [](const LineError& a, const LineError& b) { return a.first < b.first; });
    std::string text = absl::StrCat("usersync: ", options.csv_path, ": ", errors.size(),
                                    " bad line(s); nothing was stored:\n");
    for (const LineError& error : errors) absl::StrAppend(&text, "  ", error.second, "\n");
    Print(options.err, text);
    return kExitUsage;
  }
  for (const MatchPair& pair : pairs) {
    if (absl::Status s = session.state->SaveManualMatch({pair.source_id, pair.target_id});
        !s.ok()) {
      return Report(options, Failure{kExitUsage, s});
    }
  }
  std::string text;
  for (const MatchPair& pair : pairs) {
    const std::optional<uint32_t> user = session.directory.FindUserById(pair.source_id);
    const core::Account* account = validator.Account(pair.target_id);
    absl::StrAppend(
        &text, "Matched ", pair.source_id, " (", user ? Sv(session.directory.user_dn[*user]) : "",
        ") → account ", pair.target_id, " (",
        account ? Sv(account->email.empty() ? account->user_name : account->email) : "", ")\n");
  }
  absl::StrAppend(&text, "Stored ", pairs.size(),
                  " manual match(es); the next plan matches them by \"manual\".\n");
  Print(options.out, text);
  return kExitOk;
}

int RunReleaseCommand(const CommandOptions& options) {
  if (options.release_all && !options.release_ids.empty()) {
    return Report(options, Failure{kExitUsage, absl::InvalidArgumentError(
                                                   "release takes --all or --id ID..., not both")});
  }
  std::vector<int64_t> ids;
  for (const std::string& text : options.release_ids) {
    int64_t id = 0;
    if (!absl::SimpleAtoi(text, &id) || id <= 0) {
      return Report(options,
                    Failure{kExitUsage, absl::InvalidArgumentError(absl::StrCat(
                                            "--id '", text,
                                            "' is not a hold id (the number `usersync release` "
                                            "lists)"))});
    }
    ids.push_back(id);
  }

  if (!options.release_all && ids.empty()) {  // list only: no source, no target
    Session session;
    if (auto failure = LoadSessionConfig(options, session)) return Report(options, *failure);
    absl::StatusOr<std::unique_ptr<StateStore>> state = StateStore::Open(session.config.state_path);
    if (!state.ok()) return Report(options, Failure{kExitUsage, state.status()});
    absl::StatusOr<std::vector<HoldRow>> holds = (*state)->LoadHolds();
    if (!holds.ok()) return Report(options, Failure{kExitUsage, holds.status()});
    if (holds->empty()) {
      Print(options.out, "Nothing is held.\n");
    } else {
      PrintHolds(options.out, *holds, options.config_path, holds->size());
    }
    return kExitOk;
  }

  Session session;
  if (auto failure = PrepareSession(options, session, Access::kApply))
    return Report(options, *failure);
  absl::StatusOr<std::vector<HoldRow>> pending = session.state->LoadHolds();
  if (!pending.ok()) return Report(options, Failure{kExitUsage, pending.status()});
  std::string unknown;
  for (int64_t id : ids) {
    const bool held = std::any_of(pending->begin(), pending->end(),
                                  [id](const HoldRow& hold) { return hold.hold_id == id; });
    if (!held) absl::StrAppend(&unknown, unknown.empty() ? "" : ", ", id);
  }
  if (!unknown.empty()) {
    std::string held_ids;
    for (const HoldRow& hold : *pending) {
      absl::StrAppend(&held_ids, held_ids.empty() ? "" : ", ", hold.hold_id);
    }
    return Report(options, Failure{kExitUsage, absl::NotFoundError(absl::StrCat(
                                                   "no held operation ", unknown, " (held now: ",
                                                   held_ids.empty() ? "none" : held_ids,
                                                   "); nothing was released"))});
  }
  if (pending->empty()) {
    Print(options.out, "Nothing is held.\n");
    return kExitOk;
  }
  absl::StatusOr<std::vector<HoldRow>> released =
      options.release_all ? session.state->ReleaseAllHolds() : session.state->ReleaseHolds(ids);
  if (!released.ok()) return Report(options, Failure{kExitUsage, released.status()});

  absl::StatusOr<std::unique_ptr<RunLogs>> logs = RunLogs::Open(session.config.logs_dir);
  if (!logs.ok()) return Report(options, Failure{kExitUsage, logs.status()});
  absl::StatusOr<int64_t> run_id = session.state->BeginRun("release", NowRfc3339());
  if (!run_id.ok()) return Report(options, Failure{kExitUsage, run_id.status()});
  SettleInterrupted(*session.state, **logs, session.accounts, &session.links, options.out);

  // Re-check each released operation against the target and the directory as they are now.
  absl::flat_hash_map<std::string, const core::Account*> account_by_id;
  for (const core::Account& account : session.accounts.items) {
    account_by_id.emplace(std::string(account.id), &account);
  }
  std::vector<Operation> ops;
  std::string notes;
  int64_t already_done = 0, skipped = 0, unreadable = 0;
  for (const HoldRow& hold : *released) {
    absl::StatusOr<Operation> op =
        ParseOperationJson(hold.payload, absl::StrCat("held operation ", hold.hold_id));
    if (!op.ok()) {
      ++unreadable;
      (*logs)->Error(std::string(op.status().message()));
      absl::StrAppend(&notes, "  hold ", hold.hold_id, ": FAILED: ", op.status().message(), "\n");
      continue;
    }
    op->held = false;
    auto note = [&](std::string_view outcome, std::string_view why) {
      absl::StrAppend(&notes, "  hold ", hold.hold_id, ": ", DescribeOp(*op), ": ", Sv(why), "\n");
      (*logs)->Audit({*run_id, core::OpKindName(op->kind), op->directory_id, op->account_id,
                      op->email, outcome, 0, 0, why});
    };
    auto account = account_by_id.find(op->account_id);
    if (account == account_by_id.end()) {
      if (op->kind == OpKind::kDelete) {
        ++already_done;
        note("done", "already gone from the target");
      } else {
        ++skipped;
        note("skipped", "the account no longer exists at the target: nothing to deactivate");
      }
      continue;
    }
    if (op->kind == OpKind::kDeactivate && !account->second->active) {
      ++already_done;
      note("done", "already inactive");
      continue;
    }
    const bool still_departed = std::any_of(
        session.plan.operations.begin(), session.plan.operations.end(),
        [&](const Operation& planned) {
          return planned.account_id == op->account_id &&
                 (planned.kind == OpKind::kDeactivate || planned.kind == OpKind::kDelete);
        });
    if (!still_departed) {
      std::string now = "no longer departed";
      for (const core::UserRow& row : session.plan.rows) {
        if (row.account_id != op->account_id) continue;
        now = absl::StrCat("no longer departed (now ", Sv(core::CategoryName(row.category)), ": ",
                           row.reason, ")");
        break;
      }
      ++skipped;
      note("skipped", absl::StrCat(now, "; left as it is"));
      continue;
    }
    ops.push_back(*std::move(op));
  }

  if (!ops.empty()) {
    std::string applying = absl::StrCat("Applying ", ops.size(), " released operation(s):\n");
    for (const Operation& op : ops) absl::StrAppend(&applying, "  ", DescribeOp(op), "\n");
    Print(options.out, applying);
  }
  ExecutorContext context = MakeExecutorContext(options, session, **logs, *run_id);
  const ApplyTotals totals = ApplyOperations(ops, context);
  const TargetStats stats = session.target->stats();
  int exit_code = ExitCodeOf(totals);
  if (exit_code == kExitOk && unreadable > 0) exit_code = kExitSomeFailed;
  if (absl::Status s = session.state->FinishRun(
          *run_id, exit_code,
          BatchSummaryJson("release", "", static_cast<int64_t>(released->size()), skipped, totals,
                           stats),
          NowRfc3339());
      !s.ok()) {
    (*logs)->Error(absl::StrCat("runs: ", s.message()));
  }
  const std::string by_kind = DoneByKind(totals);
  Print(options.out,
        absl::StrCat(notes, "Released ", released->size(), " held operation(s): ", totals.done,
                     " done", by_kind.empty() ? "" : " (", by_kind, by_kind.empty() ? "" : ")",
                     ", ", totals.failed + unreadable, " failed, ", already_done, " already done, ",
                     skipped, " left alone\n"));
  if (totals.failed > 0) {
    Print(options.out, absl::StrCat("Failed operations are in ", (*logs)->error_path(),
                                    "; the next sync plans them again.\n"));
  }
  Print(options.out, absl::StrCat("Audit log: ", (*logs)->audit_path(), "\n"));
  return exit_code;
}

}  // namespace usersync::io
