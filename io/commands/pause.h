// Provisioning on/off for the commands (issue 16 item 5): `usersync pause` / `usersync resume`
// (commands.h) and the check the commands that change the target make before they read
// anything (io/state/provisioning_pause.h holds the switch). Thread-compatible: call from the
// command's thread.
#pragma once

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "io/commands/run_context.h"
#include "io/state/provisioning_pause.h"

namespace usersync::io {

// "provisioning is paused since 2026-12-07T12:00:00Z (HR migration): `usersync resume -c
// CONFIG` to go on" (no parenthesis without a reason).
std::string PausedText(const PauseRow& pause, const std::string& config_path);

// For sync, apply, each `run` round and release, once the session's state store is open
// (REQUIRES: session.state): when the store is paused, prints PausedText (and that nothing was
// read or sent) to `options.out` and returns true: the command then stops with exit 0, records
// no run and sends nothing. Errors: reading the store (ExitCodeFor decides).
absl::StatusOr<bool> StopIfPaused(const Session& session);

// The start of apply and release: OpenSession(kApply), StopIfPaused, ReadAndPlan. nullopt: the
// session is ready, go on; else the exit code to return (0 when paused; a failure reported).
std::optional<int> PrepareUnlessPaused(Session& session);

}  // namespace usersync::io
