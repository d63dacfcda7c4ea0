#include "io/config/internal/schedule.h"

#include <chrono>
#include <string_view>

namespace usersync::io::internal {

absl::Status ParseScheduleSection(const Ctx& ctx, const toml::table* table, Config* config) {
  if (table == nullptr) return absl::OkStatus();
  constexpr std::string_view kKeys[] = {"full_every"};
  USERSYNC_RETURN_IF_ERROR(CheckKeys(ctx, *table, "schedule", kKeys));
  const Section section(ctx, table, "schedule");
  USERSYNC_RETURN_IF_ERROR(section.Duration("full_every", &config->full_every));
  if (config->full_every < std::chrono::minutes(1)) {
    return section.ValueError("full_every", "must be at least 1 minute (e.g. \"24h\")");
  }
  return absl::OkStatus();
}

}  // namespace usersync::io::internal
