#include "io/commands/log_rotation.h"

#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"

namespace usersync::io {
namespace {

namespace fs = std::filesystem;

absl::Status Failed(const fs::path& path, const std::error_code& error) {
  return absl::InternalError(absl::StrCat("cannot rotate ", path.string(), ": ", error.message()));
}

absl::Status RotateOne(const fs::path& file, int keep) {
  std::error_code error;
  for (int generation = keep - 1; generation >= 1; --generation) {
    const fs::path older = absl::StrCat(file.string(), ".", generation);
    if (!fs::exists(older, error)) continue;
    fs::rename(older, absl::StrCat(file.string(), ".", generation + 1), error);
    if (error) return Failed(older, error);
  }
  fs::rename(file, absl::StrCat(file.string(), ".1"), error);
  return error ? Failed(file, error) : absl::OkStatus();
}

}  // namespace

absl::Status RotateLogs(const std::string& dir, const LogsConfig& policy, absl::Time now) {
  std::error_code error;
  if (!fs::is_directory(dir, error)) return absl::OkStatus();
  if (policy.max_size_bytes > 0) {
    for (const char* name : {"audit.jsonl", "errors.log"}) {
      const fs::path file = fs::path(dir) / name;
      const uintmax_t size = fs::file_size(file, error);
      if (error || size < static_cast<uintmax_t>(policy.max_size_bytes)) continue;
      if (absl::Status s = RotateOne(file, policy.keep); !s.ok()) return s;
    }
  }
  if (policy.keep_days > 0) {
    // status-YYYY-MM-DD.log names order as their days: older than the cut-off's name goes.
    const std::string cutoff = absl::StrCat(
        "status-",
        absl::FormatTime("%Y-%m-%d", now - absl::Hours(24) * policy.keep_days, absl::UTCTimeZone()),
        ".log");
    for (const fs::directory_entry& entry : fs::directory_iterator(dir, error)) {
      const std::string name = entry.path().filename().string();
      if (!name.starts_with("status-") || !name.ends_with(".log") || name >= cutoff) continue;
      fs::remove(entry.path(), error);
      if (error) return Failed(entry.path(), error);
    }
  }
  return absl::OkStatus();
}

}  // namespace usersync::io
