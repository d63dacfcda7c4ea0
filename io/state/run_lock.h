// RunLock: at most one run applies changes through a state store at a time.
//
// Two runs that plan from the same target and state and then both apply would send the same
// creates and deactivations twice (a nightly cron overlapping a polling `usersync run`, or an
// administrator's `sync` during either). Commands that change the target (sync, apply,
// release) hold an exclusive flock(2) on `STATE_PATH.lock` from before they read anything until
// they exit; read-only commands (plan, users, explain, status, check) take none. The kernel
// drops the lock when the process ends, crash included, so a stale lock file never blocks.
//
// Example:
//   absl::StatusOr<RunLock> lock = RunLock::Acquire("/var/lib/usersync/state.db");
//   if (!lock.ok()) ...;  // kUnavailable: another run holds it (its pid is in the message)
//
// Thread-compatible; move-only. The lock is the process's own: do not fork while holding it.
#pragma once

#include <string>

#include "absl/status/statusor.h"

namespace usersync::io {

class RunLock {
 public:
  // Takes the lock of the store at `state_path` without waiting, and writes this process's pid
  // into the lock file (for the message another run prints). A store of ":memory:" or "" takes
  // none. Errors: kUnavailable when another process holds it; kFailedPrecondition when the lock
  // file cannot be created or locked (a missing directory, permissions). Messages name the file.
  static absl::StatusOr<RunLock> Acquire(const std::string& state_path);

  RunLock() = default;
  RunLock(RunLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  RunLock& operator=(RunLock&& other) noexcept;
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;
  ~RunLock();

  bool held() const { return fd_ >= 0; }

 private:
  explicit RunLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace usersync::io
