// The commands of the usersync command line, as library calls (DESIGN.md "Command line").
//
// One file per command (io/commands/<command>.cc), all over one run path: a Session
// (run_context.h) loads the configuration, takes the state store's RunLock for the commands that
// change the target, opens the state store and the target, reads the directory and the target,
// and computes the plan with core::ComputePlan; sync, apply and release then apply through the
// one apply tail (apply_run.h) while the state store journals every operation (intent before the
// request, outcome after). Each command writes what a person reads to `out`, errors to `err`,
// and returns the exit code of DESIGN.md, decided by what went wrong (exit_code.h):
//   0 all done · 1 some operations failed · 2 bad usage or configuration · 3 deprovisioning
//   held by the safety threshold · 4 a source or target could not be reached or answered
//   garbage, or another run holds the state store's RunLock (io/state/run_lock.h) · 5 drift
// Threading: call from one thread; the driver's I/O thread is internal.
#pragma once

#include <atomic>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "io/clock.h"
#include "io/commands/exit_code.h"

namespace usersync::io {

struct CommandOptions {
  std::string config_path;
  std::string format;    // plan: table | json; users: table | csv | json; status: table | json
  std::string out_path;  // plan --out PLAN, users --out FILE
  bool dry_run = false;
  bool delta = false;  // sync --delta (run --every sets it): io/commands/delta_cycle.h

  std::string plan_path;  // apply --plan PLAN
  std::string user;       // explain USER: email, user name, directory id, DN or account id
  std::string source_id;  // match --source-id (a directory id)
  std::string target_id;  // match --target-id (an account id)
  std::string csv_path;   // match --csv FILE: header source_id,target_id, one match a line
  bool unlink = false;    // match --unlink: forget links (--csv FILE: header source_id)
  std::vector<std::string> unlink_ids;   // match --unlink ID...
  bool release_all = false;              // release --all
  std::vector<std::string> release_ids;  // release --id ID...
  std::string auth_code;     // authorize --code CODE (empty: read from `in`); never logged
  std::string pause_reason;  // pause --reason TEXT
  // sync, apply, run: --progress auto|off|tty|plain|plain:DURATION (io/report/progress_display.h
  // ParseProgressMode); --quiet = off.
  std::string progress = "auto";
  bool quiet = false;

  // Overrides of the configuration for `usersync demo` and tests (empty: use the config).
  std::string target_url;
  std::string target_token;  // in memory only; never logged
  std::string state_path;
  std::string logs_dir;

  std::FILE* in = stdin;  // authorize reads the code here
  std::FILE* out = stdout;
  std::FILE* err = stderr;
  // Set by a SIGINT handler: stop sending, let requests in flight finish, record, exit.
  const std::atomic<bool>* interrupted = nullptr;
  // Where the commands read the time (stamps, durations, the polling schedule, status's last
  // 24 hours). Not owned; must outlive the call.
  const Clock* clock = &RealClock();
  // The process exits as soon as the command returns (the usersync binary's one-shot commands;
  // not `run`'s rounds, nor tests calling a command in-process): the session leaves its large
  // structures (directory, account snapshot, links, plan) to the operating system instead of
  // freeing them string by string (Session::~Session).
  bool process_exits_after = false;
};

int RunPlanCommand(const CommandOptions& options);
int RunSyncCommand(const CommandOptions& options);
int RunUsersCommand(const CommandOptions& options);

// `check`: loads the configuration, reads the directory and checks the target, printing one
// line for each ("source: ... OK" or "source: FAILED: ..."). Exit 0 when both are OK, else the
// ExitCodeFor of the first failure (a malformed directory file 2, an unreachable server 4).
int RunCheckCommand(const CommandOptions& options);

// `apply --plan PLAN`: reads the plan file (strict; a bad file or an edited one exits 2),
// re-reads the directory and the target, and applies exactly the planned operations that still
// hold (io/plan_file.h CheckDrift); every drifted one is refused and listed with what drifted.
// Held operations in the plan are stored as holds, not applied. Exit 5 if anything drifted,
// else as sync (0, 1, 3, 4).
int RunApplyCommand(const CommandOptions& options);

// `explain USER`: category, scope path, rules and the setting each gave, match method and the
// pending operation (core/explain.h). Nothing matches USER: exit 2.
int RunExplainCommand(const CommandOptions& options);

// `history USER`: every operation of the state store's journal done to USER (a directory id,
// account id, email or DN; io/state/state_store.h JournalForUser), oldest first, each with its
// run's start, outcome, the plan's reason and the changed fields (before → after). Reads the
// state store only. Nothing matches: exit 2.
int RunHistoryCommand(const CommandOptions& options);

// `match --source-id ID --target-id ID` or `match --csv FILE`: validates every pair against
// the directory, the target, the stored links and manual matches, and the current plan (the
// directory id exists, the account exists, neither is linked or matched differently), then
// stores them all, or none: every bad pair (with its CSV line number) is listed, exit 2.
// With `--unlink ID...` or `--unlink --csv FILE` it forgets stored links instead
// (RunUnlinkCommand, io/commands/match_unlink.h).
int RunMatchCommand(const CommandOptions& options);

// `release`: without --all or --id, lists the held operations with their ids (exit 0).
// `--all` or `--id ID...` releases them and applies exactly those, each re-checked against the
// target and the directory first: an account already inactive (or, for a delete, gone) is
// done; one gone (for a deactivate) or whose user is back in scope is reported and left alone.
// Exit 0, 1 if some failed, 2 for an unknown id (nothing is released).
int RunReleaseCommand(const CommandOptions& options);

// `status`: from the state store alone (no source, no target): whether provisioning is paused
// ("Provisioning: PAUSED: ..." or "on"; JSON "paused": {since, reason} or null); the runs of the
// last 24 hours counted by exit code with their operations done, failed and held; the operations
// held for `release`; the operations whose outcome is unknown (a crash; the next sync settles
// them); and the 10 most recent runs with what each did (a sync that could not start shows its
// error). A store that does not exist yet means no run has been recorded (exit 0; status never
// creates one). `--format json` for monitoring. Exit 0, or ExitCodeFor of what failed (a bad
// config 2).
int RunStatusCommand(const CommandOptions& options);
// `authorize`: the first OAuth 2.0 authorization of target.auth = "oauth2". Prints the
// authorization URL (target.authorize_url with client_id, response_type=code, redirect_uri when
// set, and a random state), reads the code from --code or one line of `in` (the code alone, or
// the whole address the browser was sent back to, whose state must then match), exchanges it
// (authorization_code grant, HTTP Basic) and stores the refresh token in
// target.refresh_token_file (mode 0600, atomically). Prints nothing secret. Exit 0; 2 for a
// configuration without oauth2 or authorize_url, or no code; 4 when the endpoint refuses the
// code or cannot be reached.
int RunAuthorizeCommand(const CommandOptions& options);

// `pause [--reason TEXT]`: provisioning off for the configured state store (created if need
// be; io/state/provisioning_pause.h): from now on sync, apply, release and each `run` round stop
// before reading anything, print "provisioning is paused since TIME (REASON): `usersync resume
// -c CONFIG` to go on" and exit 0 without recording a run; plan, users, explain, check, match
// and status work as before, and status shows the pause. Takes no RunLock: a run already
// applying finishes. Pausing a paused store keeps its time (a --reason replaces the reason).
// `resume`: provisioning on again (a store that was not paused: nothing changes). Exit 0, or
// ExitCodeFor of what failed (a bad config 2, a store that cannot be written 4).
int RunPauseCommand(const CommandOptions& options);
int RunResumeCommand(const CommandOptions& options);

// `run --every DURATION`: sync, then again DURATION after each run's start (at once if a run
// took longer), until SIGINT or SIGTERM (`options.interrupted`): a signal during a wait ends the
// loop within 0.1 s; during a run, the run stops as sync does and the loop ends after it. Each
// round prints "== run N at TIME" before the sync's own output and "== run N exit CODE; next
// run at TIME" after it. Every round is a full sync: it re-reads the configuration, and its
// failures are recorded like any run's (see `status`) and do not end the loop, except exit 2 on
// the first round (a configuration that is wrong from the start). Returns the last run's exit
// code.
int RunPollingCommand(const CommandOptions& options, absl::Duration every);

// Parses --every: an absl duration ("30s", "15m", "1h30m") of at least one second.
absl::StatusOr<absl::Duration> ParseInterval(std::string_view text);

// When the round after one that started at `start` begins, the clock now reading `now`:
// `start + every`, or `now` if the round overran it.
core::MonoTime NextRoundAt(core::MonoTime start, absl::Duration every, core::MonoTime now);

}  // namespace usersync::io
