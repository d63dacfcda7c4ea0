#include "io/report/apply_estimate.h"

#include "gtest/gtest.h"
#include "io/json_writer.h"

namespace usersync::io {
namespace {

TEST(ApplyEstimate, HumanSeconds) {
  EXPECT_EQ(HumanSeconds(9), "9.0s");
  EXPECT_EQ(HumanSeconds(1000), "16m40s");
  EXPECT_EQ(HumanSeconds(99'999), "27h46m");
}

TEST(ApplyEstimate, LineNamesRequestsBatchesRateAndTime) {
  const core::CostModel model{.rate = 10, .burst = 10, .create_batch = 100};
  const core::ApplyCost cost{.operations = 10'000,
                             .creates = 10'000,
                             .requests = 100,
                             .batch_requests = 100,
                             .seconds = 9};
  EXPECT_EQ(EstimateLine(cost, model),
            "Applying: 100 requests (100 batch creates of up to 100 users) at 10/s, burst 10: "
            "about 9.0s\n");
  EXPECT_EQ(EstimateLine({}, model), "Applying: nothing to send.\n");
}

// SCIM: the plan cannot know whether the server offers /Bulk, so the count is an upper bound.
TEST(ApplyEstimate, ScimCountIsAnUpperBound) {
  const core::CostModel model{.rate = 0, .create_batch = 1, .batching_known = false};
  const core::ApplyCost cost{.operations = 3, .creates = 3, .requests = 3, .rate_limited = false};
  EXPECT_EQ(EstimateLine(cost, model),
            "Applying: at most 3 requests; no rate limit: the time is the target's to decide "
            "(fewer if the SCIM server offers /Bulk for the creates)\n");
}

TEST(ApplyEstimate, JsonAndComparison) {
  const core::CostModel model{.rate = 10, .burst = 10, .create_batch = 100};
  const core::ApplyCost cost{
      .operations = 200, .creates = 200, .requests = 2, .batch_requests = 2, .seconds = 0};
  JsonWriter w;
  WriteEstimateJson(w, cost, model);
  EXPECT_EQ(w.Release(),
            R"({"operations":200,"requests":2,"batch_requests":2,"seconds":0,"rate":10,)"
            R"("burst":10,"create_batch":100,"upper_bound":false})");
  EXPECT_EQ(EstimateComparison({.requests = 100, .seconds = 9}, 103, 9.9),
            "Estimate: 100 requests in about 9.0s; actual: 103 requests in 9.9s (1.10x the "
            "estimated time)\n");
}

}  // namespace
}  // namespace usersync::io
