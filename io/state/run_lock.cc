#include "io/state/run_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace usersync::io {
namespace {

// What the holder wrote: its pid, or "" if it has not written yet (or wrote nothing readable).
std::string ReadHolder(int fd) {
  char buffer[32];
  const ssize_t n = ::pread(fd, buffer, sizeof buffer - 1, 0);
  if (n <= 0) return "";
  return std::string(absl::StripAsciiWhitespace(absl::string_view(buffer, n)));
}

}  // namespace

absl::StatusOr<RunLock> RunLock::Acquire(const std::string& state_path) {
  if (state_path.empty() || state_path == ":memory:") return RunLock();
  const std::string path = state_path + ".lock";
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot open the run lock ", path, ": ", std::strerror(errno)));
  }
  RunLock lock(fd);  // closes fd on every return below that does not hand it out
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) {
      const std::string holder = ReadHolder(fd);
      return absl::UnavailableError(
          absl::StrCat("another usersync run is applying changes with this state store (", path,
                       " is held", holder.empty() ? "" : absl::StrCat(" by pid ", holder),
                       "); nothing was done: try again when it has finished"));
    }
    return absl::FailedPreconditionError(
        absl::StrCat("cannot lock ", path, ": ", std::strerror(errno)));
  }
  const std::string pid = absl::StrCat(::getpid(), "\n");
  // Best effort: the pid only makes another run's message more helpful.
  if (::ftruncate(fd, 0) == 0) {
    [[maybe_unused]] const ssize_t written = ::pwrite(fd, pid.data(), pid.size(), 0);
  }
  return lock;
}

RunLock& RunLock::operator=(RunLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

RunLock::~RunLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the only descriptor releases the flock
}

}  // namespace usersync::io
