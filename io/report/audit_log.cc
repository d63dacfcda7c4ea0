#include "io/report/audit_log.h"

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "io/json_writer.h"

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
  logs->audit_ = std::fopen(logs->audit_path_.c_str(), "a");
  if (logs->audit_ == nullptr) {
    return absl::UnavailableError(
        absl::StrCat("cannot open ", logs->audit_path_, ": ", std::strerror(errno)));
  }
  logs->errors_ = std::fopen(logs->error_path_.c_str(), "a");
  if (logs->errors_ == nullptr) {
    return absl::UnavailableError(
        absl::StrCat("cannot open ", logs->error_path_, ": ", std::strerror(errno)));
  }
  return logs;
}

std::string RunLogs::Stamp() const { return Rfc3339(absl::FromChrono(clock_.WallNow())); }

RunLogs::~RunLogs() {
  if (audit_ != nullptr) std::fclose(audit_);
  if (errors_ != nullptr) std::fclose(errors_);
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
  w.EndObject();
  std::string line = w.Release();
  line.push_back('\n');
  std::fwrite(line.data(), 1, line.size(), audit_);
  std::fflush(audit_);
}

void RunLogs::Error(std::string_view message) {
  std::string line = absl::StrCat(Stamp(), " ", std::string(message), "\n");
  std::fwrite(line.data(), 1, line.size(), errors_);
  std::fflush(errors_);
}

}  // namespace usersync::io
