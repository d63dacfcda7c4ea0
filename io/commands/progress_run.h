// The commands' side of the progress display and of the plan's cost estimate (issue 16 item 2):
// which display a command gets (--progress, --quiet, whether stderr is a terminal), the phase
// marks ReadAndPlan and the apply tail make, and the estimate for the configured target.
//
// Thread-compatible: call from the command's thread. Every Progress* call is a no-op for a
// session without a display (plan, users, explain, and a sync's dry run).
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "core/apply_cost.h"
#include "io/commands/run_context.h"

namespace usersync::io {

// The file in logs.dir that a running sync or apply keeps up to date for `usersync status`.
std::string RunProgressPath(const Config& config);

// Starts session.progress for a command that changes the target: the mode of
// options.progress ("auto": the terminal display when options.err is a terminal; --quiet:
// "off"), the status file RunProgressPath always. kInvalidArgument for a bad --progress.
// REQUIRES: the configuration is loaded (OpenSession).
absl::Status StartProgress(Session& session, const std::string& started_at);

// Marks a phase begun ("reading the directory") and ended (its summary line).
void ProgressPhase(Session& session, std::string_view phase, int64_t total = 0);
void ProgressDone(Session& session, std::string_view summary);

// How the configured target sends operations (GoTo: target.batch creates per POST and the role
// set's PUT; SCIM: one request per create, /Bulk not assumed since the plan does not know
// whether the server offers it).
core::CostModel CostModelFor(const TargetConfig& target);

// The plan's estimate at the configured rate, burst and batch.
core::ApplyCost EstimateFor(const Session& session);

}  // namespace usersync::io
