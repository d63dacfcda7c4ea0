// Provisioning on/off (`usersync pause` / `usersync resume`, issue 16 item 5; Entra's
// "Provisioning Status"): whether the state store is paused, since when and why, in a one-row
// table of the state store, `provisioning_pause`, that SavePause creates on first use. A store
// written before it has no such table and reads as not paused, so no schema version changes:
// older stores keep working with every command, read-only ones included, and an older usersync
// opening a paused store still runs (it does not know the table: pause needs this version).
//
// A paused store makes the commands that change the target (sync, apply, each `run` round,
// release) stop before they read anything and say so (io/commands/pause.cc); the pause itself
// takes no RunLock: a run already applying finishes, the next one stops.
//
// Thread-compatible, like the StateStore it uses; it owns nothing.
#pragma once

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "io/state/state_store.h"

namespace usersync::io {

struct PauseRow {
  std::string since;   // RFC 3339 UTC, as given to SavePause
  std::string reason;  // may be empty
};

// The pause in force, or nullopt when provisioning is on. Reads only (works on a store opened
// read-only). Errors name the store, as the StateStore's own reads.
absl::StatusOr<std::optional<PauseRow>> LoadPause(StateStore& state);

// Pauses provisioning since `pause.since` for `pause.reason`, replacing any pause in force
// (the caller decides whether to keep the older one's time). The reason is stored with every
// registered secret redacted (io/secrets.h).
absl::Status SavePause(StateStore& state, const PauseRow& pause);

// Resumes: removes the pause. Returns the pause that was in force (nullopt: none was, and
// nothing changed).
absl::StatusOr<std::optional<PauseRow>> ClearPause(StateStore& state);

}  // namespace usersync::io
