// RunNotifyCommand (notify_senders.h): posix_spawn (safe in a process with threads) of the
// program itself, no shell. Its stdin is one end of a socketpair, written with MSG_NOSIGNAL: a
// command that exits without reading its input cannot kill usersync with SIGPIPE.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "io/notify/notify_senders.h"

extern char** environ;

namespace usersync::io {
namespace {

using Steady = std::chrono::steady_clock;

// Writes `data` to `fd` until done, the reader goes away, or `deadline`. Returns whether all of
// it was written (a command may ignore its input: that is not an error in itself).
bool WriteAll(int fd, std::string_view data, Steady::time_point deadline) {
  while (!data.empty()) {
    const ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Steady::now());
      if (left.count() <= 0) return false;
      pollfd pfd{fd, POLLOUT, 0};
      poll(&pfd, 1, static_cast<int>(std::min<int64_t>(left.count(), 100)));
      continue;
    }
    return false;  // EPIPE, ECONNRESET: the command closed its stdin
  }
  return true;
}

// Waits for `pid` until `deadline` (polling every 20 ms), then kills it (SIGKILL) and sets
// `*timed_out`. Returns the wait status, or -1 when waitpid fails.
int WaitBounded(pid_t pid, Steady::time_point deadline, bool* timed_out) {
  int status = 0;
  while (true) {
    const pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) return status;
    if (done < 0 && errno != EINTR) return -1;
    if (Steady::now() >= deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      *timed_out = true;
      return status;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace

absl::Status RunNotifyCommand(const NotifyConfig& notify, const std::string& json) {
  if (notify.command.empty()) return absl::InvalidArgumentError("no notify.command");
  const std::string& program = notify.command.front();
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
    return absl::ResourceExhaustedError(
        absl::StrCat("command ", program, ": socketpair: ", std::strerror(errno)));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, STDERR_FILENO, STDOUT_FILENO);
  std::vector<char*> argv;
  for (const std::string& arg : notify.command) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int spawned = posix_spawn(&pid, program.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  if (spawned != 0) {
    close(fds[0]);
    return absl::UnavailableError(
        absl::StrCat("command ", program, ": cannot start: ", std::strerror(spawned)));
  }
  const Steady::time_point deadline = Steady::now() + notify.timeout;
  WriteAll(fds[0], json, deadline);
  shutdown(fds[0], SHUT_WR);
  close(fds[0]);
  bool timed_out = false;
  const int status = WaitBounded(pid, deadline, &timed_out);
  if (timed_out) {
    return absl::UnavailableError(absl::StrCat("command ", program, ": still running after ",
                                               notify.timeout.count(), " ms: killed"));
  }
  if (status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0) return absl::OkStatus();
  if (status >= 0 && WIFSIGNALED(status)) {
    return absl::UnavailableError(
        absl::StrCat("command ", program, ": killed by signal ", WTERMSIG(status)));
  }
  return absl::UnavailableError(
      absl::StrCat("command ", program, ": exit status ", status >= 0 ? WEXITSTATUS(status) : -1));
}

}  // namespace usersync::io
