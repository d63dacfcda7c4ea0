// The metrics file (issue 16 item 3): after each run of sync (each `run` round too), apply and
// release, `logs.dir/usersync.prom` is replaced atomically with what that run did, in
// Prometheus's text format, for node_exporter's textfile collector. Every sample carries
// config="STEM" (the configuration file's name without .toml: one usersync@TENANT unit, one
// value), so the files of several tenants can sit side by side. README.md "Metrics" lists them.
//
// A run that could not finish still writes its exit code and the phases it reached; a paused
// store writes usersync_provisioning_paused 1 with the last success and the pending holds only
// (no run took place). A file that cannot be written is a warning on `options.err`: monitoring
// never changes a run's exit code.
//
// Thread-compatible: call from the command's thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/plan.h"
#include "io/commands/run_context.h"

namespace usersync::io {

struct Applied;

// What the run did. `applied` and `ops` are null when it stopped before applying.
struct RunOutcome {
  std::string_view mode;  // "sync" | "apply" | "release"
  int exit_code = 0;
  const Applied* applied = nullptr;
  const std::vector<core::Operation>* ops = nullptr;  // what the run set out to apply
  bool paused = false;          // stopped by `usersync pause`: no run took place
  std::string_view error = {};  // why a run stopped before applying (notifications)
};

// The file's text for `session` (REQUIRES: its configuration loaded; its state store open for
// the last success and the holds, else they are left out).
std::string RunMetricsText(const Session& session, const RunOutcome& outcome);

// Writes RunMetricsText to logs.dir/usersync.prom; a failure is a warning on `options.err`.
// Then appends the run to the daily status log (status_log.h AppendDailyStatus) and sends the
// run's notification when one is due (io/commands/run_notify.h): every run's end comes through
// here.
void WriteRunMetrics(const Session& session, const RunOutcome& outcome);

// The file's name inside logs.dir.
inline constexpr char kMetricsFileName[] = "usersync.prom";

}  // namespace usersync::io
