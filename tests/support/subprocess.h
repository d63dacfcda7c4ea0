// Running programs from integration tests: RunProcess runs one to completion and captures its
// output; ChildProcess starts a long-running one (a server) that the test talks to.
//
// Both spawn with posix_spawn (safe in a multi-threaded test binary), inherit the test's
// environment plus `extra_env` (which overrides variables of the same name), and report the
// exit code as the exit status, or 128 + signal number when a signal ended the process.
// Thread-compatible: one object per thread.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace usersync::testing {

using EnvList = std::vector<std::pair<std::string, std::string>>;

struct ProcessResult {
  int exit_code = -1;  // exit status; 128 + signal; -1 on timeout; 127 if it could not start
  std::string out;
  std::string err;
  int64_t max_rss_kb = 0;  // the process's peak resident set (wait4's ru_maxrss), in KiB
};

// Runs argv[0] (a path) with `argv` in `cwd` (empty: the test's) and waits for it, reading
// stdout and stderr concurrently (no pipe deadlock). After `timeout` it is killed (SIGKILL)
// and exit_code is -1.
ProcessResult RunProcess(const std::vector<std::string>& argv, const EnvList& extra_env = {},
                         const std::string& cwd = "",
                         std::chrono::seconds timeout = std::chrono::seconds(300));

// RunProcess with the test's environment, for a setup step that must succeed: OK when `argv`
// exits 0; else Internal naming the command, its exit code and the start of its output.
absl::Status RunToSuccess(const std::vector<std::string>& argv, const std::string& cwd = "",
                          std::chrono::seconds timeout = std::chrono::seconds(120));

// A started process with its stdout on a pipe (read it with ReadStdoutLine) and its stderr
// collected by a background thread (stderr_output()). The destructor kills it (SIGKILL) and
// reaps it if it is still running. REQUIRES: the child writes little to stdout beyond what
// the test reads (an unread full pipe blocks it).
class ChildProcess {
 public:
  ChildProcess() = default;
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Starts argv[0]. Errors: Internal (pipes, spawn). REQUIRES: not started yet.
  absl::Status Start(const std::vector<std::string>& argv, const EnvList& extra_env = {});

  pid_t pid() const { return pid_; }

  // The next line of stdout without its '\n'. Errors: DeadlineExceeded after `timeout`,
  // OutOfRange when stdout closed first (the process probably exited).
  absl::StatusOr<std::string> ReadStdoutLine(std::chrono::milliseconds timeout);

  // Sends `signal_number`; no-op once reaped.
  void Signal(int signal_number);

  // Waits for the exit and returns the exit code (as ProcessResult::exit_code). Idempotent.
  int Wait();

  // Like Wait(), but gives up after `timeout`: DeadlineExceeded (the process keeps running).
  absl::StatusOr<int> WaitFor(std::chrono::milliseconds timeout);

  // Everything the process wrote to stderr so far (complete once Wait() returned).
  std::string stderr_output() const;

  // The process's peak resident set in KiB (wait4's ru_maxrss); 0 until it was reaped.
  int64_t max_rss_kb() const { return max_rss_kb_; }

 private:
  pid_t pid_ = -1;
  int exit_code_ = -1;
  bool reaped_ = false;
  int64_t max_rss_kb_ = 0;
  int stdout_fd_ = -1;
  std::string stdout_buffer_;
  std::thread stderr_reader_;
  mutable std::mutex stderr_mu_;
  std::string stderr_;  // guarded by stderr_mu_
};

}  // namespace usersync::testing
