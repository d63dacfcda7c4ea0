// The plan's cost estimate as people and scripts read it (core/apply_cost.h computes it):
//   EstimateLine        "Applying: 100 requests (100 batch creates) at 10/s, burst 10: about 9s"
//   WriteEstimateJson   "estimate": {...} in `plan --format json` and the plan file
//   EstimateComparison  the run's report: what was estimated beside what happened
//   HumanSeconds        "9s", "16m40s", "27h47m"
// Pure formatting: no I/O. Thread-compatible.
#pragma once

#include <cstdint>
#include <string>

#include "core/apply_cost.h"

namespace usersync::io {

class JsonWriter;

// "9.0s" under a minute, "16m40s" under an hour, else "27h47m".
std::string HumanSeconds(double seconds);

// One line ending in '\n'. Nothing to send: "Applying: nothing to send.\n". No rate limit:
// "... no rate limit: the time is the target's to decide".
std::string EstimateLine(const core::ApplyCost& cost, const core::CostModel& model);

// {"operations", "requests", "batch_requests", "seconds" (null without a rate limit), "rate",
// "burst", "create_batch"} as the value of the key the caller wrote.
void WriteEstimateJson(JsonWriter& w, const core::ApplyCost& cost, const core::CostModel& model);

// "Estimate: 100 requests in about 9.0s; actual: 103 requests in 9.4s (1.04x the time)\n".
std::string EstimateComparison(const core::ApplyCost& cost, int64_t requests, double seconds);

}  // namespace usersync::io
