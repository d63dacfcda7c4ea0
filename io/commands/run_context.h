// The run context of the commands: a Session holds what one command run works with (the
// configuration, the state store's RunLock, the state store, the target driver, the directory,
// the accounts, the stored links and manual matches, and the plan), built step by step, each
// step returning a Status whose code decides the exit code (exit_code.h). Also the small
// helpers every command shares: reporting a failure, stamps and durations through the Clock.
//
// Thread-compatible: a Session belongs to the command's thread (the target driver runs its own
// I/O thread inside). It owns everything it holds; `links_view` and `manual_view` are views
// into `links` and `manual` (stale once `links` grows, e.g. after SettleInterrupted).
#pragma once

#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/plan.h"
#include "io/clock.h"
#include "io/commands/commands.h"
#include "io/commands/delta_cycle.h"
#include "io/config/config.h"
#include "io/http/oauth2_token_endpoint.h"
#include "io/report/progress_display.h"
#include "io/state/run_lock.h"
#include "io/state/state_store.h"
#include "io/target_api.h"

namespace usersync::io {

struct ApplyTotals;
class DirectorySource;

struct Session {
  explicit Session(const CommandOptions& command_options)
      : options(command_options),
        clock(command_options.clock != nullptr ? *command_options.clock : RealClock()) {}
  // With options.process_exits_after, leaves the directory, the snapshot, the links and the
  // plan allocated (the process is about to exit): freeing a million users' worth took 1 to
  // 1.5 s at exit. Everything else (the state store, the target's connections, the run lock,
  // the progress display) closes as usual. Not under AddressSanitizer, whose leak check runs
  // at exit.
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  const CommandOptions& options;
  const Clock& clock;
  Config config;
  RunLock run_lock;  // held by the commands that change the target (Access::kApply)
  std::unique_ptr<StateStore> state;
  // The store's integrity check was left to the cycle (a requested delta: run only when the
  // cycle turns out a full one, io/commands/delta_cycle.h).
  bool integrity_check_deferred = false;
  std::unique_ptr<TargetApi> target;
  core::Directory directory;
  core::Accounts accounts;
  std::vector<LinkRow> links;  // every stored link; a delta cycle's: those it needs only
  int64_t link_count = 0;      // every stored link (the deprovisioning threshold's base)
  std::vector<ManualMatch> manual;
  std::vector<core::Link> links_view;
  std::vector<core::Link> manual_view;
  core::PlanConfig plan_config;  // what `plan` was computed with
  core::Plan plan;
  double read_seconds = -1;  // each phase's time once it ran; -1 until then (the metrics file)
  double list_seconds = -1;
  double plan_seconds = -1;
  // What kind of cycle ran (`sync --delta`, `run --every`) and, for a delta, whom it planned.
  CycleInfo cycle;
  // The progress display of a command that changes the target (progress_run.h); null for the
  // others. Declared after `target`, whose stats it reads, so it stops first.
  std::unique_ptr<ProgressDisplay> progress;
};

// What a command may change. kReadOnly (plan, users, explain, sync --dry-run, status, release's
// list): the state store is opened read-only (StateStore::OpenReadOnly: works on a read-only
// directory, creates nothing). kRecord (match): it writes the state store, not the target.
// kApply: it may change the target, so it also holds the state store's RunLock from before it
// reads anything (two runs planning from the same state would apply twice).
enum class Access { kReadOnly, kRecord, kApply };

// The steps, in order. Each fills its part of `session` or returns why it could not.
// Loads the configuration and applies the options' overrides (kNotFound, kInvalidArgument).
absl::Status LoadSessionConfig(Session& session);
// Takes the RunLock of the state store (kUnavailable: another run holds it).
absl::Status AcquireRunLock(Session& session);
// Opens the state store, read-only for Access::kReadOnly (kFailedPrecondition: damaged).
absl::Status OpenStateStore(Session& session, Access access);
// The driver that target.kind names, with the token of the options or the configured secret;
// with target.auth = "oauth2" (and no token given to the command), an OAuth 2.0 client that
// renews access tokens from target.refresh_token_file.
absl::Status OpenTarget(Session& session);
// The token endpoint of target.auth = "oauth2", with the client secret read (and registered as a
// secret) from target.client_secret_env or client_secret_file. Errors name the variable or file.
absl::StatusOr<TokenEndpointOptions> OAuth2Endpoint(const TargetConfig& target);
// The directory source that source.kind names (its errors: a bad source configuration).
absl::StatusOr<std::unique_ptr<DirectorySource>> OpenDirectorySource(const Session& session);
// Reads the whole directory from `source` (null: the one source.kind names; its errors prefixed
// "reading the directory: "). A directory with no users, or without one of the scope groups, is
// kFailedPrecondition (nothing to plan on).
absl::Status ReadDirectory(Session& session, DirectorySource* source = nullptr);
// ReadDirectory's checks of session.directory (however it was read): no users, a scope group
// or scope user missing → kFailedPrecondition.
absl::Status CheckDirectory(const Session& session);
// Lists the target's accounts (its errors prefixed "listing the target's accounts: ").
absl::Status ListAccounts(Session& session);
absl::Status LoadLinks(Session& session);
// session.links_view and manual_view from session.links and manual.
void ViewLinks(Session& session);
// Reads what the target's licenses offer (TargetApi::Offer) and refuses a rule naming a product
// no license carries: kFailedPrecondition (exit 2) "<config>: rules[1] 'Webinar hosts' names
// product "GTM", which no license of the target offers (offered: G2M, G2T, G2W, OPENVOICE)".
// A target that does not say what it offers (SCIM) refuses nothing. Returns the offer.
absl::StatusOr<TargetOffer> ReadTargetOffer(Session& session);
// Reads the offer (ReadTargetOffer: free seats, rule products) and the shrink guard's baseline
// (io/state/scope_baseline.h) and computes the plan; the directory's issues become plan
// warnings. A plan whose stored links mostly dangle (core::DanglingLinksRefusal: another tenant,
// an emptied target) is kFailedPrecondition (exit 2), naming the counts and the fixes.
absl::Status ComputeSessionPlan(Session& session);
// After a run that ended with exit 0: the plan's users in scope become the shrink guard's
// baseline. A failure to record is a warning on `options.err` (the older count stays).
void RecordScopeBaseline(Session& session);

// The steps up to the state store: the configuration, the RunLock (only for kApply) and the
// state store. What a command may check in the store before it reads anything (pause.h).
absl::Status OpenSession(Session& session, Access access);
// The steps after it: the target, the directory, the accounts, the links and the plan
// (options.delta: ReadAndPlanCycle, io/commands/delta_cycle.h).
absl::Status ReadAndPlan(Session& session);
// Parts of ReadAndPlan a delta cycle shares, with their progress lines: reading the directory;
// listing the accounts, then PlanStep; loading the links and computing the plan.
absl::Status ReadDirectoryStep(Session& session, DirectorySource* source = nullptr);
absl::Status ListAndPlan(Session& session);
absl::Status PlanStep(Session& session);
// All of the steps above: OpenSession, then ReadAndPlan.
absl::Status PrepareSession(Session& session, Access access = Access::kReadOnly);

// Prints "usersync: <message>" to `options.err` and returns ExitCodeFor(status).
int Report(const CommandOptions& options, const absl::Status& status);

// Records a run that ended before it applied anything: its exit code and {"error": message},
// and a line in logs.dir's errors.log ("sync run 7 stopped before applying anything (exit 4):
// listing the target's accounts: ..."). A failure to record or to log is printed to `err`.
void RecordUnstartedRun(Session& session, std::string_view mode, const std::string& started_at,
                        const absl::Status& failure);

// Writes `content` to `path`, every registered secret redacted (io/secrets.h)
// (kFailedPrecondition naming the path when it cannot).
absl::Status WriteFile(const std::string& path, std::string_view content);

// The clock's wall time as RFC 3339 (io/report/audit_log.h Rfc3339).
std::string NowStamp(const Clock& clock);
// Seconds from `start` to the clock's Now().
double SecondsSince(const Clock& clock, core::MonoTime start);

// "update bob@example.com (account acc-7)"
std::string DescribeOp(const core::Operation& op);
// "3 create, 1 update"
std::string DoneByKind(const ApplyTotals& totals);

}  // namespace usersync::io
