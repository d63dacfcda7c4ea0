// The executor: applies a plan's operations through a target driver, journaling each one in
// the state store before its request is sent and settling it after, writing the audit log and
// keeping the links in step with the outcomes.
//
// Threading: ApplyOperations runs on the caller's thread and blocks until every operation it
// started has finished; the driver's I/O thread only hands outcomes back through a queue, so
// the state store and the logs are used from the caller's thread alone.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "core/plan.h"

namespace usersync::io {

class StateStore;
class TargetApi;
class RunLogs;
struct LinkRow;

struct ExecutorContext {
  StateStore* state = nullptr;
  TargetApi* target = nullptr;
  RunLogs* logs = nullptr;
  int64_t run_id = 0;
  std::vector<LinkRow> links;  // links before the run (their origins are kept)
  std::string hold_reason;     // logged for held operations
  std::FILE* err = stderr;
  const std::atomic<bool>* interrupted = nullptr;  // set: stop starting operations
};

struct ApplyTotals {
  int64_t done = 0;
  int64_t failed = 0;
  int64_t held = 0;
  int64_t not_started = 0;  // interrupted (or journal unavailable) before sending
  absl::flat_hash_map<std::string, int64_t> done_by_kind;
};

// Applies every operation of `ops` that is not held. REQUIRES: `ops` outlives the call.
// Links: a create stores a "created" link, a delete removes it, others store "linked" (or keep
// the existing origin). Failures are counted, audited and written to the error log.
ApplyTotals ApplyOperations(const std::vector<core::Operation>& ops,
                            const ExecutorContext& context);

// Closes journal rows left in "intent" by a run that died: this run's plan re-derives what is
// still to do from the target's state. Prints how many there were to `out`.
void SettleInterrupted(StateStore& state, RunLogs& logs, std::FILE* out);

}  // namespace usersync::io
