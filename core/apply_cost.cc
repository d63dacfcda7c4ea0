#include "core/apply_cost.h"

#include <algorithm>
#include <string>
#include <string_view>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "core/token_bucket.h"

namespace usersync::core {

double SecondsAtRate(int64_t requests, double rate, double burst) {
  if (rate <= 0) return 0;
  const double queued = static_cast<double>(requests) - std::max(ClientBurst(burst), 1.0);
  return queued > 0 ? queued / rate : 0;
}

ApplyCost EstimateApplyCost(std::span<const Operation> ops, const CostModel& model) {
  ApplyCost cost;
  const int64_t batch = std::max(model.create_batch, 1);
  // Creates per (product set, welcome flag): the drivers send one batch request per group.
  absl::flat_hash_map<std::pair<std::string_view, bool>, int64_t> creates_by_group;
  for (const Operation& op : ops) {
    if (op.held) continue;
    ++cost.operations;
    if (op.kind == OpKind::kLink && op.changes.empty()) continue;  // recorded, not sent
    if (op.kind != OpKind::kCreate) {
      ++cost.requests;
      continue;
    }
    ++cost.creates;
    if (model.role_set_request && !op.spec.role_set.empty()) ++cost.requests;
    if (batch == 1) {
      ++cost.requests;
    } else {
      ++creates_by_group[{op.spec.products, op.spec.suppress_welcome}];
    }
  }
  for (const auto& [group, creates] : creates_by_group) {
    cost.batch_requests += (creates + batch - 1) / batch;
  }
  cost.requests += cost.batch_requests;
  cost.rate_limited = model.rate > 0;
  cost.seconds = SecondsAtRate(cost.requests, model.rate, model.burst);
  return cost;
}

}  // namespace usersync::core
