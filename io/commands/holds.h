// Held operations: the deactivations and deletions the deletion safety threshold held, stored in
// the state store until `usersync release` lets them go (DESIGN.md exit code 3). Recording a
// run's holds, and the lines that list them. Thread-compatible; the state store and the logs
// belong to the calling command.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/plan.h"
#include "io/state/state_store.h"

namespace usersync::io {

class RunLogs;

// The journal intents of the held operations of `ops` (payload: the operation's JSON).
std::vector<JournalIntent> HeldIntents(const std::vector<core::Operation>& ops);

// Whether the pending holds are exactly `intents` (same operations, same order and payloads).
bool SameHolds(const std::vector<HoldRow>& pending, const std::vector<JournalIntent>& intents);

// Makes the held operations of `ops` the pending holds and returns the pending holds. A run
// that plans the same held operations as the pending ones keeps them (and their ids); any other
// set replaces them (SaveHolds): the plan computed now is the truth, older holds are stale.
// Errors go to the error log and `err`; the result is then what could be read (maybe empty).
std::vector<HoldRow> RecordHolds(StateStore& state, int64_t run_id,
                                 const std::vector<core::Operation>& ops, RunLogs& logs,
                                 std::FILE* err);

// The operation a hold stores (its payload); errors name "held operation ID".
absl::StatusOr<core::Operation> HeldOperation(const HoldRow& hold);

// "  hold 3: deactivate ann@example.com (account a-1, directory id id-ann): departed: ..."
std::string HoldLine(const HoldRow& hold);

// "N held operation(s):", the first `max_shown` HoldLines, and how to release them. "" for none.
std::string HoldsText(const std::vector<HoldRow>& holds, const std::string& config_path,
                      size_t max_shown);

}  // namespace usersync::io
