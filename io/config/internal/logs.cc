#include "io/config/internal/logs.h"

#include <string_view>

namespace usersync::io::internal {

absl::Status ParseLogsSection(const Ctx& ctx, const toml::table* table, Config* config) {
  if (table == nullptr) return absl::OkStatus();
  constexpr std::string_view kKeys[] = {"dir", "max_size", "keep", "keep_days"};
  USERSYNC_RETURN_IF_ERROR(CheckKeys(ctx, *table, "logs", kKeys));
  const Section section(ctx, table, "logs");
  USERSYNC_RETURN_IF_ERROR(section.String("dir", &config->logs_dir));
  if (config->logs_dir.empty()) return section.ValueError("dir", "must not be empty");
  LogsConfig& logs = config->logs;
  USERSYNC_RETURN_IF_ERROR(section.Int64("max_size", &logs.max_size_bytes));
  if (logs.max_size_bytes < 0) return section.ValueError("max_size", "must be 0 or more bytes");
  USERSYNC_RETURN_IF_ERROR(section.Int("keep", &logs.keep));
  if (logs.keep < 1 || logs.keep > 1000) {
    return section.ValueError("keep", "must be 1 to 1000");
  }
  USERSYNC_RETURN_IF_ERROR(section.Int("keep_days", &logs.keep_days));
  if (logs.keep_days < 0) return section.ValueError("keep_days", "must be 0 (forever) or more");
  return absl::OkStatus();
}

}  // namespace usersync::io::internal
