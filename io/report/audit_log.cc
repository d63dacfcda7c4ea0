#include "io/report/audit_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "core/str.h"
#include "io/json_writer.h"
#include "io/secrets.h"

namespace usersync::io {

std::string Rfc3339(absl::Time time) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", time, absl::UTCTimeZone());
}

absl::StatusOr<std::unique_ptr<RunLogs>> RunLogs::Open(const std::string& dir, const Clock& clock) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("cannot create logs directory ", dir, ": ", ec.message()));
  }
  std::unique_ptr<RunLogs> logs(new RunLogs(clock));
  logs->audit_path_ = (std::filesystem::path(dir) / "audit.jsonl").string();
  logs->error_path_ = (std::filesystem::path(dir) / "errors.log").string();
  constexpr int kFlags = O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC;
  logs->audit_fd_ = ::open(logs->audit_path_.c_str(), kFlags, 0644);
  if (logs->audit_fd_ < 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot open ", logs->audit_path_, ": ", std::strerror(errno)));
  }
  logs->errors_fd_ = ::open(logs->error_path_.c_str(), kFlags, 0644);
  if (logs->errors_fd_ < 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot open ", logs->error_path_, ": ", std::strerror(errno)));
  }
  return logs;
}

std::string RunLogs::Stamp() const { return Rfc3339(absl::FromChrono(clock_.WallNow())); }

// A close that fails after the destructor's Close has nothing left to tell: the owner that
// cares calls Close() itself and reads its Status.
RunLogs::~RunLogs() { (void)Close(); }

void RunLogs::Fail(const std::string& path, std::string_view reason) {
  if (status_.ok()) {
    status_ = absl::InternalError(absl::StrCat("cannot write ", path, ": ", Sv(reason)));
  }
}

void RunLogs::WriteLine(int* fd, const std::string& path, std::string_view line) {
  if (*fd < 0) return;
  std::string redacted;
  if (ContainsSecret(line)) {
    redacted = Redact(line);
    line = redacted;
  }
  while (!line.empty()) {
    const ssize_t written = ::write(*fd, line.data(), line.size());
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) {
      Fail(path, written < 0 ? std::strerror(errno) : "short write");
      // Nothing more goes to this file: a line after a hole would read as complete.
      ::close(*fd);
      *fd = -1;
      return;
    }
    line.remove_prefix(static_cast<size_t>(written));
  }
}

absl::Status RunLogs::Close() {
  for (auto [fd, path] :
       {std::pair{&audit_fd_, &audit_path_}, std::pair{&errors_fd_, &error_path_}}) {
    if (*fd < 0) continue;
    if (::close(*fd) != 0) Fail(*path, std::strerror(errno));
    *fd = -1;
  }
  return status_;
}

void RunLogs::Audit(const AuditRecord& record) {
  JsonWriter w;
  w.BeginObject();
  w.Field("time", Stamp());
  w.Key("run").Int(record.run_id);
  w.Field("op", record.op).Field("directory_id", record.directory_id);
  w.Field("account_id", record.account_id).Field("email", record.email);
  w.Field("outcome", record.outcome);
  w.Key("http_status").Int(record.http_status);
  w.Key("attempts").Int(record.attempts);
  if (!record.error.empty()) w.Field("error", record.error);
  if (!record.reason.empty()) w.Field("reason", record.reason);
  if (!record.changes.empty()) {
    w.Key("changes").BeginArray();
    for (const core::Change& change : record.changes) {
      w.BeginObject().Field("field", core::FieldName(change.field));
      w.Field("before", change.before).Field("after", change.after).EndObject();
    }
    w.EndArray();
  }
  w.EndObject();
  std::string line = w.Release();
  line.push_back('\n');
  WriteLine(&audit_fd_, audit_path_, line);
}

void RunLogs::Error(std::string_view message) {
  std::string line = absl::StrCat(Stamp(), " ", std::string(message), "\n");
  WriteLine(&errors_fd_, error_path_, line);
}

}  // namespace usersync::io
