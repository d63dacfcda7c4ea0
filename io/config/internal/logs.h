// The [logs] section (README "Logs and history"): where the run's logs go and how they are
// rotated. Used by io/config/config.cc; not a public API.
//   dir            the directory of audit.jsonl, errors.log, status-DAY.log, usersync.prom
//   max_size       audit.jsonl or errors.log at least this many bytes when a run starts is
//                  rotated: FILE → FILE.1 → FILE.2 …; 0 = never (default 64 MiB)
//   keep           rotated files kept per log (default 5; 1..1000)
//   keep_days      status-DAY.log files older than this many days are deleted when a run starts;
//                  0 = kept forever (default 90)
// Errors are kInvalidArgument "<file>:<line>:<col>: ...". Thread-compatible; no state.
#pragma once

#include "absl/status/status.h"
#include "io/config/config.h"
#include "io/config/internal/toml_section.h"

namespace usersync::io::internal {

// Reads [logs] (null: the defaults) into config->logs_dir (unresolved) and config->logs.
absl::Status ParseLogsSection(const Ctx& ctx, const toml::table* table, Config* config);

}  // namespace usersync::io::internal
