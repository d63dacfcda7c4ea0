#include "core/apply_cost.h"

#include <vector>

#include "gtest/gtest.h"

namespace usersync::core {
namespace {

Operation Op(OpKind kind, bool held = false) {
  Operation op;
  op.kind = kind;
  op.held = held;
  return op;
}

std::vector<Operation> Creates(int count, const char* products) {
  std::vector<Operation> ops(count);
  for (Operation& op : ops) {
    op.kind = OpKind::kCreate;
    op.spec.products = products;
  }
  return ops;
}

// The case: 10,000 users into the GoTo face at 10 requests/s, batches of 100.
TEST(ApplyCost, TenThousandCreatesInBatchesOfHundred) {
  const std::vector<Operation> ops = Creates(10'000, "G2M");
  const ApplyCost cost = EstimateApplyCost(ops, {.rate = 10, .burst = 10, .create_batch = 100});
  EXPECT_EQ(cost.operations, 10'000);
  EXPECT_EQ(cost.creates, 10'000);
  EXPECT_EQ(cost.requests, 100);
  EXPECT_EQ(cost.batch_requests, 100);
  EXPECT_DOUBLE_EQ(cost.seconds, 9.1);  // 9 of the burst at once (1 in reserve), 91 at 10/s
}

// One batch request per product set and welcome flag, each rounded up.
TEST(ApplyCost, BatchesPerProductSetAndWelcomeFlag) {
  std::vector<Operation> ops = Creates(150, "G2M");
  std::vector<Operation> g2w = Creates(50, "G2W");
  g2w[0].spec.suppress_welcome = true;
  ops.insert(ops.end(), g2w.begin(), g2w.end());
  const ApplyCost cost = EstimateApplyCost(ops, {.rate = 10, .burst = 1, .create_batch = 100});
  EXPECT_EQ(cost.batch_requests, 2 + 1 + 1);
  EXPECT_EQ(cost.requests, 4);
  EXPECT_DOUBLE_EQ(cost.seconds, 0.3);
}

// Updates and the other kinds are one request each; held operations cost nothing; an
// unbatched target sends one request per create; a role set adds one where the model says so.
TEST(ApplyCost, OneRequestPerOperationOtherwise) {
  std::vector<Operation> ops = Creates(3, "G2M");
  ops[0].spec.role_set = "Helpdesk";
  for (OpKind kind : {OpKind::kUpdate, OpKind::kDeactivate, OpKind::kReactivate, OpKind::kDelete,
                      OpKind::kLink}) {
    ops.push_back(Op(kind));
  }
  ops.back().changes.push_back({});  // a link that changes something is a request
  ops.push_back(Op(OpKind::kLink));  // one in step is only recorded
  ops.push_back(Op(OpKind::kDeactivate, /*held=*/true));
  const ApplyCost scim = EstimateApplyCost(ops, {.rate = 2, .burst = 2, .create_batch = 1});
  EXPECT_EQ(scim.operations, 9);
  EXPECT_EQ(scim.requests, 8);
  EXPECT_EQ(scim.batch_requests, 0);
  EXPECT_DOUBLE_EQ(scim.seconds, 3.5);  // burst 2 keeps 1 in reserve: (8 - 1) / 2
  const ApplyCost goto_cost = EstimateApplyCost(
      ops, {.rate = 2, .burst = 2, .create_batch = 100, .role_set_request = true});
  EXPECT_EQ(goto_cost.requests, 5 + 1 + 1);  // five updates etc., one batch, one role set PUT
}

TEST(ApplyCost, NoRateLimitTakesNoTime) {
  const ApplyCost cost = EstimateApplyCost(Creates(5, ""), {.rate = 0, .create_batch = 1});
  EXPECT_EQ(cost.requests, 5);
  EXPECT_FALSE(cost.rate_limited);
  EXPECT_DOUBLE_EQ(cost.seconds, 0);
}

// A million updates at 10/s: over a day, which the plan says before it starts.
TEST(ApplyCost, SecondsAtRateMillion) {
  EXPECT_DOUBLE_EQ(SecondsAtRate(1'000'000, 10, 10), 99'999.1);
  EXPECT_DOUBLE_EQ(SecondsAtRate(3, 10, 10), 0);
  // Burst 1 has no token to spare (core::ClientBurst): the first request goes at once.
  EXPECT_DOUBLE_EQ(SecondsAtRate(3, 10, 1), 0.2);
}

}  // namespace
}  // namespace usersync::core
