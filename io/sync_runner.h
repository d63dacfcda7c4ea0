// The commands of the usersync command line, as library calls (DESIGN.md "Command line").
//
// Each Run*Command loads the configuration, reads the directory and the target, computes the
// plan with core::ComputePlan and, for sync, applies it through the target driver while the
// state store journals every operation (intent before the request, outcome after). It writes
// what a person reads to `out`, errors to `err`, and returns the exit code of DESIGN.md:
//   0 all done · 1 some operations failed · 2 bad usage or configuration · 3 deprovisioning
//   held by the safety threshold · 4 a source or target could not be reached · 5 drift
// Threading: call from one thread; the driver's I/O thread is internal.
#pragma once

#include <atomic>
#include <cstdio>
#include <string>

namespace usersync::io {

enum ExitCode : int {
  kExitOk = 0,
  kExitSomeFailed = 1,
  kExitUsage = 2,
  kExitHeld = 3,
  kExitUnreachable = 4,
  kExitDrift = 5,
};

struct CommandOptions {
  std::string config_path;
  std::string format;    // plan: table | json; users: table | csv | json
  std::string out_path;  // plan --out PLAN, users --out FILE
  bool dry_run = false;

  // Overrides of the configuration for `usersync demo` and tests (empty: use the config).
  std::string target_url;
  std::string target_token;  // in memory only; never logged
  std::string state_path;
  std::string logs_dir;

  std::FILE* out = stdout;
  std::FILE* err = stderr;
  // Set by a SIGINT handler: stop sending, let requests in flight finish, record, exit.
  const std::atomic<bool>* interrupted = nullptr;
};

int RunPlanCommand(const CommandOptions& options);
int RunSyncCommand(const CommandOptions& options);
int RunUsersCommand(const CommandOptions& options);
int RunCheckCommand(const CommandOptions& options);

}  // namespace usersync::io
