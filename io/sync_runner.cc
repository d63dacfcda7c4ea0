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
#include "io/executor.h"
#include "io/json_writer.h"
#include "io/report/audit_log.h"
#include "io/report/plan_report.h"
#include "io/report/users_html.h"
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
  SettleInterrupted(*session.state, **logs, options.out);

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
  const Clock::time_point start = Clock::now();
  ApplyTotals totals = ApplyOperations(session.plan.operations, context);
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
  }
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

}  // namespace usersync::io
