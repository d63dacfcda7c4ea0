// The shrink guard's memory (source.max_shrink_percent, core::PlanConfig::previous_in_scope):
// how many users were in scope at the last successful sync, in a one-row table of the state
// store, `scope_baseline`, that this file creates on first save (a store written before it
// simply has no baseline: the next run holds nothing on its account).
//
// Thread-compatible, like the StateStore it uses; it owns nothing.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "io/state/state_store.h"

namespace usersync::io {

// The users in scope recorded by the last SaveScopeBaseline, or nullopt when none was ever
// recorded. Reads only (works on a store opened read-only). Errors: kUnavailable / kDataLoss
// naming the store, as the StateStore's own reads.
absl::StatusOr<std::optional<int64_t>> LoadScopeBaseline(StateStore& state);

// Records `users_in_scope` as the baseline (replacing the previous one), stamped `now` (RFC
// 3339). Call it only after a run that ended with everything done (exit 0): a held or failed
// run must not move the baseline, or a shrink would pass on the next try.
absl::Status SaveScopeBaseline(StateStore& state, int64_t users_in_scope, const std::string& now);

}  // namespace usersync::io
