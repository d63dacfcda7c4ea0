#include "io/commands/run_context.h"

#include <malloc.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "core/delta_plan.h"
#include "core/status_macros.h"
#include "core/str.h"
#include "io/commands/exit_code.h"
#include "io/commands/progress_run.h"
#include "io/config/transport_check.h"
#include "io/directory_source.h"
#include "io/executor.h"
#include "io/goto/goto_target.h"
#include "io/http/oauth2_client.h"
#include "io/json_writer.h"
#include "io/output.h"
#include "io/report/audit_log.h"
#include "io/scim/scim_target.h"
#include "io/secrets.h"
#include "io/state/scope_baseline.h"

namespace usersync::io {
namespace {

// Prefixes `status`'s message with what was being done, keeping its code.
absl::Status WithContext(const absl::Status& status, std::string_view what) {
  return absl::Status(status.code(), absl::StrCat(Sv(what), status.message()));
}

// Where the token came from, for a 401's advice ("check the file named by target.token_file").
std::string TokenSource(const Session& session) {
  const TargetConfig& target = session.config.target;
  if (!session.options.target_token.empty()) return "the token given to this command";
  if (!target.token_file.empty()) {
    return absl::StrCat("the file named by target.token_file (", target.token_file, ")");
  }
  return absl::StrCat("the variable named by target.token_env (", target.token_env, ")");
}

// The OAuth 2.0 client of target.auth = "oauth2": the client secret is read and registered
// as a secret; the refresh token file is read (no network call yet).
absl::StatusOr<std::shared_ptr<AccessTokenSource>> MakeOAuth2Client(const TargetConfig& target) {
  absl::StatusOr<TokenEndpointOptions> endpoint = OAuth2Endpoint(target);
  if (!endpoint.ok()) return endpoint.status();
  OAuth2ClientOptions options;
  options.endpoint = *std::move(endpoint);
  options.refresh_token_file = target.oauth2.refresh_token_file;
  if (target.oauth2.client_credentials) {
    options.grant = OAuth2Grant::kClientCredentials;
    options.scope = target.oauth2.scope;
  }
  absl::StatusOr<std::shared_ptr<OAuth2Client>> client = OAuth2Client::Create(std::move(options));
  if (!client.ok()) return client.status();
  return std::shared_ptr<AccessTokenSource>(*std::move(client));
}

// The target driver that `target.kind` names. One place for the drivers' option structs.
absl::StatusOr<std::unique_ptr<TargetApi>> MakeTarget(const TargetConfig& target, std::string token,
                                                      std::string token_source,
                                                      std::shared_ptr<AccessTokenSource> tokens) {
  PipelineOptions pipeline;
  pipeline.concurrency = target.concurrency;
  pipeline.rate = target.rate;
  pipeline.burst = target.burst;
  pipeline.adaptive = target.adaptive;
  pipeline.max_retries = target.max_retries;
  pipeline.timeout = target.timeout;
  pipeline.max_response_bytes = target.max_response_bytes;
  pipeline.max_retry_after = target.max_retry_after;
  pipeline.retry_budget = target.retry_budget;
  pipeline.bearer_token = std::move(token);
  pipeline.token_source = std::move(token_source);
  pipeline.access_tokens = std::move(tokens);
  switch (target.kind) {
    case TargetKind::kGoto: {
      GotoTargetOptions options;
      options.base_url = target.url;
      options.account_key = target.account_key;
      options.role_sets = target.role_sets;
      options.batch = target.batch > 0 ? target.batch : kGotoMaxBatch;
      options.max_accounts = target.max_accounts;
      options.pipeline = std::move(pipeline);
      return MakeGotoTarget(std::move(options));
    }
    case TargetKind::kScim:
      break;
  }
  ScimTargetOptions options;
  options.base_url = target.url;
  options.batch = target.batch;
  options.max_accounts = target.max_accounts;
  options.pipeline = std::move(pipeline);
  return MakeScimTarget(std::move(options));
}

// A scope group the directory does not hold puts none of its members in scope: planning on it
// would deprovision every account they hold. Refused before anything is sent, naming the DN.
// A scope.users entry the directory does not hold is refused the same way (a mistyped or renamed
// DN would deprovision that user; one who left is removed from scope.users, or disabled).
// (A missing rule group stays a plan warning: its users are still in scope and keep their
// accounts, under the next rule that holds them, if any.)
absl::Status CheckScopeEntries(const Config& config, const core::Directory& directory) {
  for (const std::string& group : config.scope_groups) {
    if (directory.FindGroupByDn(group).has_value()) continue;
    return absl::FailedPreconditionError(absl::StrCat(
        "reading the directory: scope group \"", group,
        "\" (scope.groups) is not in the directory; refusing to plan (its members would be "
        "deprovisioned): check the DN, source.base_dn and source.group_filter"));
  }
  for (const std::string& user : config.scope_users) {
    if (directory.FindUserByDn(user).has_value() || directory.FindUserById(user).has_value()) {
      continue;
    }
    return absl::FailedPreconditionError(absl::StrCat(
        "reading the directory: scope user \"", user,
        "\" (scope.users) is not in the directory (no user has this DN or directory id); "
        "refusing to plan (the user would be deprovisioned): check the DN or id, "
        "source.base_dn and source.user_filter, or remove the entry of a user who left"));
  }
  return absl::OkStatus();
}

}  // namespace

Session::~Session() {
#if !defined(__SANITIZE_ADDRESS__)
  if (!options.process_exits_after) return;
  struct LeftToExit {
    core::Directory directory;
    core::Accounts accounts;
    std::vector<LinkRow> links;
    std::vector<core::Link> links_view;
    core::Plan plan;
  };
  // Deliberately never freed: the operating system takes the pages back at exit at once.
  new LeftToExit{std::move(directory), std::move(accounts), std::move(links), std::move(links_view),
                 std::move(plan)};
#endif
}

absl::Status LoadSessionConfig(Session& session) {
  const CommandOptions& options = session.options;
  absl::StatusOr<Config> config = LoadConfig(options.config_path);
  if (!config.ok()) return config.status();
  session.config = *std::move(config);
  if (!options.target_url.empty()) session.config.target.url = options.target_url;
  if (!options.state_path.empty()) session.config.state_path = options.state_path;
  if (!options.logs_dir.empty()) session.config.logs_dir = options.logs_dir;
  for (const std::string& warning : InsecureTransportWarnings(session.config)) {
    Print(options.err, absl::StrCat("usersync: ", warning, "\n"));
  }
  for (const std::string& warning : session.config.warnings) {
    Print(options.err, absl::StrCat("usersync: ", warning, "\n"));
  }
  return absl::OkStatus();
}

absl::Status AcquireRunLock(Session& session) {
  absl::StatusOr<RunLock> lock = RunLock::Acquire(session.config.state_path);
  if (!lock.ok()) return lock.status();  // kUnavailable when another run holds it
  session.run_lock = *std::move(lock);
  return absl::OkStatus();
}

absl::Status OpenStateStore(Session& session, Access access) {
  const std::string& path = session.config.state_path;
  // A requested delta cycle checks the store only if it turns into a full one.
  session.integrity_check_deferred = access == Access::kApply && session.options.delta;
  absl::StatusOr<std::unique_ptr<StateStore>> state =
      access == Access::kReadOnly ? StateStore::OpenReadOnly(path)
      : session.integrity_check_deferred
          ? StateStore::Open(path, StateStore::IntegrityCheck::kDeferred)
          : StateStore::Open(path);
  if (!state.ok()) return state.status();
  session.state = *std::move(state);
  return absl::OkStatus();
}

absl::StatusOr<TokenEndpointOptions> OAuth2Endpoint(const TargetConfig& target) {
  const OAuth2Config& oauth = target.oauth2;
  absl::StatusOr<std::string> secret =
      ReadSecret(oauth.client_secret_env, oauth.client_secret_file, "OAuth client secret");
  if (!secret.ok()) return secret.status();
  RegisterSecret(*secret);  // a Basic header echoed back is redacted too (base64 form)
  TokenEndpointOptions endpoint;
  endpoint.token_url = oauth.token_url;
  endpoint.client_id = oauth.client_id;
  endpoint.client_secret = *std::move(secret);
  endpoint.client_auth = oauth.client_auth;  // `authorize` and the sync send the same header
  endpoint.timeout = target.timeout;
  return endpoint;
}

absl::Status OpenTarget(Session& session) {
  const TargetConfig& target = session.config.target;
  if (target.auth == TargetAuth::kOAuth2 && session.options.target_token.empty()) {
    absl::StatusOr<std::shared_ptr<AccessTokenSource>> tokens = MakeOAuth2Client(target);
    if (!tokens.ok()) return tokens.status();
    absl::StatusOr<std::unique_ptr<TargetApi>> driver =
        MakeTarget(target, "",
                   absl::StrCat("the OAuth 2.0 client (target.client_id; refresh token in ",
                                target.oauth2.refresh_token_file, ")"),
                   *std::move(tokens));
    if (!driver.ok()) return driver.status();
    session.target = *std::move(driver);
    return absl::OkStatus();
  }
  std::string token = session.options.target_token;
  if (token.empty()) {
    absl::StatusOr<std::string> secret =
        ReadSecret(target.token_env, target.token_file, "target bearer token");
    if (!secret.ok()) return secret.status();
    token = *std::move(secret);
  }
  RegisterSecret(token);  // whatever the server echoes of it is redacted at every sink
  absl::StatusOr<std::unique_ptr<TargetApi>> driver =
      MakeTarget(target, std::move(token), TokenSource(session), nullptr);
  if (!driver.ok()) return driver.status();
  session.target = *std::move(driver);
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<DirectorySource>> OpenDirectorySource(const Session& session) {
  return MakeDirectorySource(session.config.source);
}

absl::Status ReadDirectory(Session& session, DirectorySource* source) {
  std::unique_ptr<DirectorySource> opened;
  if (source == nullptr) {
    USERSYNC_ASSIGN_OR_RETURN(opened, OpenDirectorySource(session));
    source = opened.get();
  }
  const core::MonoTime start = session.clock.Now();
  absl::StatusOr<core::Directory> directory = source->Read();
  if (!directory.ok()) return WithContext(directory.status(), "reading the directory: ");
  session.directory = *std::move(directory);
  session.read_seconds = SecondsSince(session.clock, start);
  return CheckDirectory(session);
}

absl::Status CheckDirectory(const Session& session) {
  // Nothing to keep in step with: a wrong base or filter, or an empty export. Planning on it
  // would deprovision every managed account, so it is refused before anything is sent.
  if (session.directory.user_count() == 0) {
    return absl::FailedPreconditionError(
        "reading the directory: it holds no users; refusing to plan (every managed account "
        "would be deprovisioned): check source.path, or source.base_dn and source.user_filter");
  }
  return CheckScopeEntries(session.config, session.directory);
}

// A read of the target that failed, with context. A server error (HTTP 5xx other than the
// retried ones, or an answer no code fits) means the target could not be read: exit 4, like
// an unreachable one, not 1 ("some operations failed": none was attempted).
absl::Status TargetReadFailure(const absl::Status& status, std::string_view what) {
  absl::Status failure = WithContext(status, what);
  if (status.code() == absl::StatusCode::kInternal || status.code() == absl::StatusCode::kUnknown) {
    return absl::UnavailableError(failure.message());
  }
  return failure;
}

absl::Status ListAccounts(Session& session) {
  const core::MonoTime start = session.clock.Now();
  absl::StatusOr<core::Accounts> accounts = session.target->ListAccounts();
  if (!accounts.ok()) {
    return TargetReadFailure(accounts.status(), "listing the target's accounts: ");
  }
  session.accounts = *std::move(accounts);
  session.list_seconds = SecondsSince(session.clock, start);
  return absl::OkStatus();
}

absl::Status LoadLinks(Session& session) {
  absl::StatusOr<std::vector<LinkRow>> links = session.state->LoadLinks();
  if (!links.ok()) return links.status();
  session.links = *std::move(links);
  session.link_count = static_cast<int64_t>(session.links.size());
  absl::StatusOr<std::vector<ManualMatch>> manual = session.state->LoadManualMatches();
  if (!manual.ok()) return manual.status();
  session.manual = *std::move(manual);
  ViewLinks(session);
  return absl::OkStatus();
}

void ViewLinks(Session& session) {
  session.links_view.clear();
  session.links_view.reserve(session.links.size());
  for (const LinkRow& link : session.links) {
    session.links_view.push_back({link.directory_id, link.account_id, true});
  }
  session.manual_view.clear();
  for (const ManualMatch& match : session.manual) {
    session.manual_view.push_back({match.directory_id, match.account_id, true});
  }
}

absl::StatusOr<TargetOffer> ReadTargetOffer(Session& session) {
  absl::StatusOr<TargetOffer> read = session.target->Offer();
  if (!read.ok()) return TargetReadFailure(read.status(), "");
  TargetOffer offer = *std::move(read);
  if (!offer.products.has_value()) return offer;
  const std::vector<std::string>& offered = *offer.products;
  const std::vector<core::Rule>& rules = session.config.rules;
  for (size_t rule_idx = 0; rule_idx < rules.size(); ++rule_idx) {
    for (const std::string& product : rules[rule_idx].products) {
      if (std::binary_search(offered.begin(), offered.end(), product)) continue;
      return absl::FailedPreconditionError(absl::StrCat(
          session.config.path, ": rules[", rule_idx, "] '", rules[rule_idx].name,
          "' names product \"", product, "\", which no license of the target offers (offered: ",
          offered.empty() ? std::string("none") : absl::StrJoin(offered, ", "), ")"));
    }
  }
  return offer;
}

absl::Status ComputeSessionPlan(Session& session) {
  core::PlanConfig plan_config = ToPlanConfig(session.config);
  // Seats are read beside the accounts: creates beyond them are reported, not sent.
  USERSYNC_ASSIGN_OR_RETURN(TargetOffer offer, ReadTargetOffer(session));
  plan_config.free_seats = std::move(offer.free_seats);
  absl::StatusOr<std::optional<int64_t>> baseline = LoadScopeBaseline(*session.state);
  if (!baseline.ok()) return baseline.status();
  plan_config.previous_in_scope = baseline->value_or(-1);
  plan_config.max_shrink_percent = session.config.source.max_shrink_percent;
  const core::MonoTime start = session.clock.Now();
  if (session.cycle.delta) {
    session.plan = core::ComputeDeltaPlan(session.directory, session.accounts,
                                          session.cycle.affected, session.links_view,
                                          session.manual_view, plan_config, session.link_count);
  } else {
    session.plan = core::ComputePlan(session.directory, session.accounts, session.links_view,
                                     session.manual_view, plan_config);
  }
  session.plan_seconds = SecondsSince(session.clock, start);
  session.plan_config = std::move(plan_config);
  if (!session.plan.refusal.empty()) {
    const TargetConfig& target = session.config.target;
    return absl::FailedPreconditionError(absl::StrCat(
        "refusing to plan: ", session.plan.refusal, ". Check target.url (", target.url, ")",
        target.account_key.empty()
            ? ""
            : absl::StrCat(" and target.account_key (", target.account_key, ")"),
        " in ", session.config.path, "; if the accounts are really gone, forget their links with ",
        "`usersync match -c ", session.config.path,
        " --unlink DIRECTORY_ID...` (or --unlink --csv FILE), or start from a fresh state.path"));
  }
  for (const core::DirectoryIssue& issue : session.directory.issues) {
    session.plan.warnings.push_back(absl::StrCat(issue.dn, ": ", issue.reason));
  }
  session.plan.warnings.insert(session.plan.warnings.end(), session.config.warnings.begin(),
                               session.config.warnings.end());
  return absl::OkStatus();
}

void RecordScopeBaseline(Session& session) {
  absl::Status saved =
      SaveScopeBaseline(*session.state, session.plan.in_scope, NowStamp(session.clock));
  if (!saved.ok()) {
    Print(session.options.err,
          absl::StrCat("usersync: warning: the users in scope were not recorded for the shrink "
                       "guard (the next run compares with the older count): ",
                       saved.message(), "\n"));
  }
}

absl::Status OpenSession(Session& session, Access access) {
  USERSYNC_RETURN_IF_ERROR(LoadSessionConfig(session));
  if (access == Access::kApply) USERSYNC_RETURN_IF_ERROR(AcquireRunLock(session));
  return OpenStateStore(session, access);
}

namespace {

// "· read 10000 users in 1.20s (8333/s)": a phase's line on the progress display.
std::string PhaseSummary(std::string_view verb, int64_t count, std::string_view what,
                         double seconds) {
  std::string line = absl::StrCat("· ", Sv(verb), " ", count, " ", Sv(what),
                                  absl::StrFormat(" in %.2fs", seconds));
  if (seconds > 0) {
    absl::StrAppend(&line, absl::StrFormat(" (%.0f/s)", static_cast<double>(count) / seconds));
  }
  return line;
}

}  // namespace

absl::Status ReadDirectoryStep(Session& session, DirectorySource* source) {
  ProgressPhase(session, "reading the directory");
  USERSYNC_RETURN_IF_ERROR(ReadDirectory(session, source));
  ProgressDone(session,
               PhaseSummary("read", session.directory.user_count(), "users", session.read_seconds));
  return absl::OkStatus();
}

absl::Status PlanStep(Session& session) {
  USERSYNC_RETURN_IF_ERROR(LoadLinks(session));
  ProgressPhase(session, "planning");
  USERSYNC_RETURN_IF_ERROR(ComputeSessionPlan(session));
  ProgressDone(session,
               PhaseSummary("planned", static_cast<int64_t>(session.plan.operations.size()),
                            "operations", session.plan_seconds));
  return absl::OkStatus();
}

// The listing decodes on the HTTP thread, whose malloc arena keeps the pages it freed (the
// response bodies) resident, and planning, on this thread, cannot reuse them: handing them back
// before planning takes ~2 ms and ~26 MiB off the peak at 1,000,000 accounts (bench/RESULTS.md,
// "Memory at 1,000,000").
namespace {
void ReleaseFreedMemory() {
#ifdef __GLIBC__
  malloc_trim(0);
#endif
}
}  // namespace

absl::Status ListAndPlan(Session& session) {
  ProgressPhase(session, "listing the target");
  USERSYNC_RETURN_IF_ERROR(ListAccounts(session));
  ReleaseFreedMemory();
  ProgressDone(session, PhaseSummary("listed", static_cast<int64_t>(session.accounts.items.size()),
                                     "accounts", session.list_seconds));
  return PlanStep(session);
}

absl::Status ReadAndPlan(Session& session) {
  if (session.options.delta) return ReadAndPlanCycle(session);
  USERSYNC_RETURN_IF_ERROR(OpenTarget(session));
  USERSYNC_RETURN_IF_ERROR(ReadDirectoryStep(session));
  return ListAndPlan(session);
}

absl::Status PrepareSession(Session& session, Access access) {
  USERSYNC_RETURN_IF_ERROR(OpenSession(session, access));
  return ReadAndPlan(session);
}

int Report(const CommandOptions& options, const absl::Status& status) {
  Print(options.err, absl::StrCat("usersync: ", status.message(), "\n"));
  return ExitCodeFor(status);
}

namespace {

// errors.log gets run-level failures too, not only failed operations: a nightly run that cannot
// reach its target must leave a line where operators look. `run` names it ("sync run 7").
void LogRunLevelFailure(Session& session, const std::string& run, const absl::Status& failure) {
  absl::StatusOr<std::unique_ptr<RunLogs>> logs =
      RunLogs::Open(session.config.logs_dir, session.clock);
  absl::Status written = logs.status();
  if (logs.ok()) {
    (*logs)->Error(absl::StrCat(run, " stopped before applying anything (exit ",
                                ExitCodeFor(failure), "): ", failure.message()));
    written = (*logs)->Close();
  }
  if (!written.ok()) {
    Print(session.options.err,
          absl::StrCat("usersync: could not write the error log: ", written.message(), "\n"));
  }
}

}  // namespace

void RecordUnstartedRun(Session& session, std::string_view mode, const std::string& started_at,
                        const absl::Status& failure) {
  StateStore& state = *session.state;
  absl::StatusOr<int64_t> run_id = state.BeginRun(std::string(mode), started_at);
  absl::Status recorded = run_id.status();
  if (run_id.ok()) {
    JsonWriter w;
    w.BeginObject().Field("error", StdSv(failure.message())).EndObject();
    recorded = state.FinishRun(*run_id, ExitCodeFor(failure), w.Release(), NowStamp(session.clock));
  }
  if (!recorded.ok()) {
    Print(session.options.err,
          absl::StrCat("usersync: could not record the run: ", recorded.message(), "\n"));
  }
  LogRunLevelFailure(
      session,
      absl::StrCat(Sv(mode), " run ",
                   run_id.ok() ? absl::StrCat(*run_id) : std::string("(not recorded)")),
      failure);
}

absl::Status WriteFile(const std::string& path, std::string_view content) {
  std::FILE* file = std::fopen(path.c_str(), "w");
  if (file == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot write ", path, ": ", std::strerror(errno)));
  }
  std::string redacted;  // a plan or a report may carry what a server echoed back
  if (ContainsSecret(content)) {
    redacted = Redact(content);
    content = redacted;
  }
  const size_t written = std::fwrite(content.data(), 1, content.size(), file);
  const bool closed = std::fclose(file) == 0;
  if (written != content.size() || !closed) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot write ", path, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

std::string NowStamp(const Clock& clock) { return Rfc3339(absl::FromChrono(clock.WallNow())); }

double SecondsSince(const Clock& clock, core::MonoTime start) {
  return std::chrono::duration<double>(clock.Now() - start).count();
}

std::string DescribeOp(const core::Operation& op) {
  return absl::StrCat(Sv(core::OpKindName(op.kind)), " ", op.email.empty() ? "-" : Sv(op.email),
                      op.account_id.empty() ? "" : " (account ", Sv(op.account_id),
                      op.account_id.empty() ? "" : ")");
}

std::string DoneByKind(const ApplyTotals& totals) {
  std::string by_kind;
  for (core::OpKind kind :
       {core::OpKind::kCreate, core::OpKind::kUpdate, core::OpKind::kLink,
        core::OpKind::kReactivate, core::OpKind::kDeactivate, core::OpKind::kDelete}) {
    auto it = totals.done_by_kind.find(std::string(core::OpKindName(kind)));
    if (it == totals.done_by_kind.end()) continue;
    absl::StrAppend(&by_kind, by_kind.empty() ? "" : ", ", it->second, " ",
                    Sv(core::OpKindName(kind)));
  }
  return by_kind;
}

}  // namespace usersync::io
