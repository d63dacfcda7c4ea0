#include "tests/support/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>

#include "absl/strings/str_cat.h"

extern char** environ;

namespace usersync::testing {
namespace {

// The test's environment with `extra_env` applied, as "NAME=value" strings.
std::vector<std::string> MergedEnvironment(const EnvList& extra_env) {
  std::map<std::string, std::string> variables;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    std::string text = *entry;
    size_t eq = text.find('=');
    if (eq == std::string::npos) continue;
    variables[text.substr(0, eq)] = text.substr(eq + 1);
  }
  for (const auto& [name, value] : extra_env) variables[name] = value;
  std::vector<std::string> merged;
  merged.reserve(variables.size());
  for (const auto& [name, value] : variables) merged.push_back(absl::StrCat(name, "=", value));
  return merged;
}

std::vector<char*> CStrings(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  pointers.reserve(strings.size() + 1);
  for (std::string& s : strings) pointers.push_back(s.data());
  pointers.push_back(nullptr);
  return pointers;
}

int ExitCodeOf(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return -1;
}

// Spawns `argv` with stdout → out_pipe[1] and stderr → err_pipe[1]; both pipes are CLOEXEC,
// so only the child's fds 1 and 2 stay open across exec.
absl::StatusOr<pid_t> Spawn(const std::vector<std::string>& argv, const EnvList& extra_env,
                            const std::string& cwd, int out_write, int err_write) {
  if (argv.empty()) return absl::InvalidArgumentError("empty argv");
  std::vector<std::string> args = argv;
  std::vector<std::string> env = MergedEnvironment(extra_env);
  std::vector<char*> arg_pointers = CStrings(args);
  std::vector<char*> env_pointers = CStrings(env);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_write, 1);
  posix_spawn_file_actions_adddup2(&actions, err_write, 2);
  if (!cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
  pid_t pid = -1;
  int rc = posix_spawn(&pid, args[0].c_str(), &actions, nullptr, arg_pointers.data(),
                       env_pointers.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    return absl::InternalError(absl::StrCat("cannot start ", args[0], ": ", std::strerror(rc)));
  }
  return pid;
}

}  // namespace

ProcessResult RunProcess(const std::vector<std::string>& argv, const EnvList& extra_env,
                         const std::string& cwd, std::chrono::seconds timeout) {
  ProcessResult result;
  int out_pipe[2];
  int err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0) {
    result.err = "pipe failed";
    return result;
  }
  if (pipe2(err_pipe, O_CLOEXEC) != 0) {
    close(out_pipe[0]);
    close(out_pipe[1]);
    result.err = "pipe failed";
    return result;
  }
  absl::StatusOr<pid_t> pid = Spawn(argv, extra_env, cwd, out_pipe[1], err_pipe[1]);
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (!pid.ok()) {
    close(out_pipe[0]);
    close(err_pipe[0]);
    result.exit_code = 127;
    result.err = std::string(pid.status().message());
    return result;
  }

  auto deadline = std::chrono::steady_clock::now() + timeout;
  bool timed_out = false;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  int open_count = 2;
  char buffer[65536];
  while (open_count > 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      kill(*pid, SIGKILL);
      break;
    }
    int ready = poll(fds, 2, static_cast<int>(std::min<int64_t>(left.count(), 1000)));
    if (ready < 0 && errno != EINTR) break;
    for (int index = 0; index < 2; ++index) {
      if (fds[index].fd < 0 || fds[index].revents == 0) continue;
      ssize_t n = read(fds[index].fd, buffer, sizeof(buffer));
      if (n > 0) {
        sinks[index]->append(buffer, static_cast<size_t>(n));
      } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
        close(fds[index].fd);
        fds[index].fd = -1;
        --open_count;
      }
    }
  }
  for (pollfd& fd : fds) {
    if (fd.fd >= 0) close(fd.fd);
  }
  int status = 0;
  struct rusage usage {};
  while (wait4(*pid, &status, 0, &usage) < 0 && errno == EINTR) {
  }
  result.max_rss_kb = usage.ru_maxrss;
  result.exit_code = timed_out ? -1 : ExitCodeOf(status);
  return result;
}

absl::Status RunToSuccess(const std::vector<std::string>& argv, const std::string& cwd,
                          std::chrono::seconds timeout) {
  ProcessResult result = RunProcess(argv, {}, cwd, timeout);
  if (result.exit_code == 0) return absl::OkStatus();
  std::string command;
  for (const std::string& arg : argv) absl::StrAppend(&command, arg, " ");
  return absl::InternalError(absl::StrCat(command, "exited ", result.exit_code, ": ",
                                          result.out.substr(0, 2000), result.err.substr(0, 2000)));
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0 && !reaped_) {
    kill(pid_, SIGKILL);
    Wait();
  }
  if (stderr_reader_.joinable()) stderr_reader_.join();
  if (stdout_fd_ >= 0) close(stdout_fd_);
}

absl::Status ChildProcess::Start(const std::vector<std::string>& argv, const EnvList& extra_env) {
  int out_pipe[2];
  int err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0) return absl::InternalError("pipe failed");
  if (pipe2(err_pipe, O_CLOEXEC) != 0) {
    close(out_pipe[0]);
    close(out_pipe[1]);
    return absl::InternalError("pipe failed");
  }
  absl::StatusOr<pid_t> pid = Spawn(argv, extra_env, "", out_pipe[1], err_pipe[1]);
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (!pid.ok()) {
    close(out_pipe[0]);
    close(err_pipe[0]);
    return pid.status();
  }
  pid_ = *pid;
  stdout_fd_ = out_pipe[0];
  int err_fd = err_pipe[0];
  stderr_reader_ = std::thread([this, err_fd] {
    char buffer[4096];
    while (true) {
      ssize_t n = read(err_fd, buffer, sizeof(buffer));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      std::lock_guard<std::mutex> lock(stderr_mu_);
      stderr_.append(buffer, static_cast<size_t>(n));
    }
    close(err_fd);
  });
  return absl::OkStatus();
}

absl::StatusOr<std::string> ChildProcess::ReadStdoutLine(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    size_t newline = stdout_buffer_.find('\n');
    if (newline != std::string::npos) {
      std::string line = stdout_buffer_.substr(0, newline);
      stdout_buffer_.erase(0, newline + 1);
      return line;
    }
    if (stdout_fd_ < 0) return absl::OutOfRangeError("stdout is closed");
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return absl::DeadlineExceededError("no line on stdout in time");
    pollfd fd = {stdout_fd_, POLLIN, 0};
    int ready = poll(&fd, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno != EINTR) return absl::InternalError("poll failed");
    if (ready <= 0) continue;
    char buffer[4096];
    ssize_t n = read(stdout_fd_, buffer, sizeof(buffer));
    if (n > 0) {
      stdout_buffer_.append(buffer, static_cast<size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      close(stdout_fd_);
      stdout_fd_ = -1;
    }
  }
}

void ChildProcess::Signal(int signal_number) {
  if (pid_ > 0 && !reaped_) kill(pid_, signal_number);
}

int ChildProcess::Wait() {
  if (pid_ <= 0) return -1;
  if (!reaped_) {
    int status = 0;
    struct rusage usage {};
    while (wait4(pid_, &status, 0, &usage) < 0 && errno == EINTR) {
    }
    max_rss_kb_ = usage.ru_maxrss;
    exit_code_ = ExitCodeOf(status);
    reaped_ = true;
    // stderr reaches EOF once the process (and any child holding the pipe) is gone.
    if (stderr_reader_.joinable()) stderr_reader_.join();
  }
  return exit_code_;
}

absl::StatusOr<int> ChildProcess::WaitFor(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return -1;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!reaped_) {
    int status = 0;
    struct rusage usage {};
    pid_t done = wait4(pid_, &status, WNOHANG, &usage);
    if (done == pid_) {
      max_rss_kb_ = usage.ru_maxrss;
      exit_code_ = ExitCodeOf(status);
      reaped_ = true;
      if (stderr_reader_.joinable()) stderr_reader_.join();
      break;
    }
    if (done < 0 && errno != EINTR) return absl::InternalError("waitpid failed");
    if (std::chrono::steady_clock::now() >= deadline) {
      return absl::DeadlineExceededError("the process is still running");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return exit_code_;
}

std::string ChildProcess::stderr_output() const {
  std::lock_guard<std::mutex> lock(stderr_mu_);
  return stderr_;
}

}  // namespace usersync::testing
