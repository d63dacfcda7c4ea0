// The [schedule] section (README "Delta cycles"): how often a delta-capable run (`sync --delta`,
// `run --every`) runs a full cycle instead of a delta.
//   full_every   a duration ("24h", "90m"; default 24h), at least 1 minute
// Errors are kInvalidArgument "<file>:<line>:<col>: ...". Used by io/config/config.cc; not a
// public API. Thread-compatible; no state.
#pragma once

#include "absl/status/status.h"
#include "io/config/config.h"
#include "io/config/internal/toml_section.h"

namespace usersync::io::internal {

// Reads [schedule] (null: the defaults) into config->full_every.
absl::Status ParseScheduleSection(const Ctx& ctx, const toml::table* table, Config* config);

}  // namespace usersync::io::internal
