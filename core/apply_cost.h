// What applying a plan will cost at the target: the requests it sends and how long the token
// bucket makes them take (issue 16 item 2: "a million-user migration at 10 requests/s should say
// so before it starts"). Pure arithmetic over the plan's operations; no clock, no I/O.
// Thread-compatible (free functions over const inputs).
//
// The request model follows the drivers (io/goto/goto_target.h, io/scim/scim_target.h):
//   create      batched when the target takes many users per request (GoTo's batch POST; SCIM
//               /Bulk when the server offers it): one request per `create_batch` creates of one
//               product set and welcome flag (GoTo sends one POST per license set and
//               suppressEmail), rounded up per group. Unbatched: one each. A GoTo create naming a
//               role set adds one request (the role set's PUT).
//   update, reactivate, deactivate, delete    one request each.
//   link        one request when it changes something, none when the account is in step
//               (the link is only recorded).
//   held        none (held operations are not sent).
// Not modelled: retries and 429s, look-ups after a conflict, an update GoTo finishes without a
// request (display name only), a delete GoTo refuses unsent. The estimate is the requests the
// plan needs when nothing goes wrong.
//
// Duration: the bucket starts full less the token the client keeps in reserve
// (core::ClientBurst: burst 10 → 9), so the first ClientBurst(burst) requests go at once and the
// rest at `rate` per second: seconds = max(0, requests - ClientBurst(burst)) / rate. Worked
// example: 10,000 creates of one product set, batch 100, rate 10/s, burst 10 → 100 requests →
// (100 - 9) / 10 = 9.1 s. A million creates with the same settings: 10,000 requests,
// (10,000 - 9) / 10 ≈ 16.7 minutes; a million updates: 1,000,000 requests ≈ 27.8 hours. rate 0
// (no limit): seconds = 0, and `rate_limited` is false (the time is then the target's latency,
// which the plan cannot know).
#pragma once

#include <cstdint>
#include <span>

#include "core/plan.h"

namespace usersync::core {

struct CostModel {
  double rate = 10;               // requests per second; 0 = no limit
  double burst = 10;              // requests the bucket holds when it starts
  int create_batch = 1;           // creates per request (GoTo: target.batch; SCIM: 1 unless /Bulk)
  bool role_set_request = false;  // a create naming a role set costs one more request (GoTo)
  // false when the target may batch creates the plan cannot know of (SCIM /Bulk, learned from
  // the server's ServiceProviderConfig): the requests are then an upper bound.
  bool batching_known = true;
};

struct ApplyCost {
  int64_t operations = 0;      // operations that will be sent (held ones excluded)
  int64_t creates = 0;         // of which: creates
  int64_t requests = 0;        // all requests, batch requests included
  int64_t batch_requests = 0;  // of which: requests carrying creates in batches (create_batch > 1)
  double seconds = 0;          // at the configured rate and burst (see above)
  bool rate_limited = true;    // false when rate is 0: `seconds` is then 0 and meaningless
};

// The cost of sending `ops` under `model`. O(n) over the creates' product sets.
ApplyCost EstimateApplyCost(std::span<const Operation> ops, const CostModel& model);

// The seconds `requests` take through the client's token bucket against a server's `rate` and
// `burst` (see above).
double SecondsAtRate(int64_t requests, double rate, double burst);

}  // namespace usersync::core
