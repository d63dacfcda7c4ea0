#include "io/batch_queue.h"

#include <deque>
#include <functional>
#include <random>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace usersync::io {
namespace {

using ::testing::ElementsAre;

// Records sent batches and holds posted tasks until the test runs them (a hand-driven I/O
// thread).
struct Harness {
  std::vector<std::vector<int>> sent;
  std::deque<std::function<void()>> posted;
  BatchQueue<int> queue;

  explicit Harness(size_t batch)
      : queue(
            batch, [this](std::vector<int> items) { sent.push_back(std::move(items)); },
            [this](std::function<void()> task) { posted.push_back(std::move(task)); }) {}

  void RunPosted() {
    while (!posted.empty()) {
      std::function<void()> task = std::move(posted.front());
      posted.pop_front();
      task();
    }
  }
};

TEST(BatchQueue, FullBatchGoesOutAtOnce) {
  Harness h(3);
  h.queue.Add(1);
  h.queue.Add(2);
  EXPECT_TRUE(h.sent.empty());
  h.queue.Add(3);
  ASSERT_EQ(h.sent.size(), 1u);
  EXPECT_THAT(h.sent[0], ElementsAre(1, 2, 3));
  EXPECT_EQ(h.queue.in_flight(), 1);
}

// An idle queue sends a partial batch after the posted hop, which lets a burst gather first.
TEST(BatchQueue, IdleQueueSendsPartialBatchAfterTheHop) {
  Harness h(100);
  h.queue.Add(1);
  h.queue.Add(2);
  EXPECT_TRUE(h.sent.empty());
  EXPECT_EQ(h.posted.size(), 1u);  // one hop, not one per item
  h.RunPosted();
  ASSERT_EQ(h.sent.size(), 1u);
  EXPECT_THAT(h.sent[0], ElementsAre(1, 2));
}

// While a batch is pending, a partial batch waits for it; the tail goes out on BatchDone.
TEST(BatchQueue, PartialBatchWaitsForThePendingOne) {
  Harness h(3);
  h.queue.Add(1);
  h.RunPosted();
  ASSERT_EQ(h.sent.size(), 1u);
  h.queue.Add(2);
  h.queue.Add(3);
  EXPECT_TRUE(h.posted.empty());
  EXPECT_EQ(h.sent.size(), 1u);
  h.queue.Add(4);  // full: goes out even though one is pending
  ASSERT_EQ(h.sent.size(), 2u);
  EXPECT_THAT(h.sent[1], ElementsAre(2, 3, 4));
  h.queue.Add(5);
  h.queue.BatchDone();  // one still pending: 5 waits
  EXPECT_EQ(h.sent.size(), 2u);
  h.queue.BatchDone();
  ASSERT_EQ(h.sent.size(), 3u);
  EXPECT_THAT(h.sent[2], ElementsAre(5));
}

// While holding, only full batches leave: neither the hop nor a completed batch sends a part-
// filled one; Flush sends the tail.
TEST(BatchQueue, HoldingSendsOnlyFullBatchesUntilFlush) {
  Harness h(3);
  h.queue.SetHolding(true);
  h.queue.Add(1);
  EXPECT_TRUE(h.posted.empty());  // no hop
  h.queue.Add(2);
  h.queue.Add(3);
  ASSERT_EQ(h.sent.size(), 1u);
  h.queue.Add(4);
  h.queue.BatchDone();  // idle, yet 4 waits for a full batch
  EXPECT_EQ(h.sent.size(), 1u);
  EXPECT_EQ(h.queue.held(), 1u);
  h.queue.SetHolding(false);
  EXPECT_EQ(h.sent.size(), 1u);  // ending the hold sends nothing by itself
  h.queue.Flush();
  ASSERT_EQ(h.sent.size(), 2u);
  EXPECT_THAT(h.sent[1], ElementsAre(4));
}

TEST(BatchQueue, FlushSendsEverythingInBatches) {
  Harness h(2);
  h.queue.Add(1);
  h.RunPosted();
  h.queue.Add(2);
  h.queue.Add(3);  // full with 2: sent
  h.queue.Add(4);
  h.queue.Flush();
  ASSERT_EQ(h.sent.size(), 3u);
  EXPECT_THAT(h.sent[2], ElementsAre(4));
  EXPECT_EQ(h.queue.held(), 0u);
}

TEST(BatchQueue, TakeAllRemovesHeldItems) {
  Harness h(10);
  h.queue.Add(1);
  h.queue.Add(2);
  EXPECT_THAT(h.queue.TakeAll(), ElementsAre(1, 2));
  h.RunPosted();  // the hop finds nothing to send
  EXPECT_TRUE(h.sent.empty());
}

// Random interleavings of Add, completions and hops: every item is sent exactly once, no batch
// exceeds the size, and nothing is stranded (held items always have a pending batch or a hop).
TEST(BatchQueue, RandomScheduleSendsEveryItemOnce) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    std::mt19937_64 rng(seed);
    Harness h(1 + rng() % 7);
    int next = 0;
    size_t completed = 0;
    std::vector<int> seen;
    for (int step = 0; step < 400; ++step) {
      switch (rng() % 3) {
        case 0:
          h.queue.Add(next++);
          break;
        case 1:
          if (completed < h.sent.size()) {
            ++completed;
            h.queue.BatchDone();
          }
          break;
        case 2:
          h.RunPosted();
          break;
      }
      if (h.queue.held() > 0) {
        ASSERT_TRUE(h.queue.in_flight() > 0 || !h.posted.empty()) << "seed " << seed;
      }
    }
    // Let everything finish.
    while (completed < h.sent.size() || !h.posted.empty()) {
      h.RunPosted();
      if (completed < h.sent.size()) {
        ++completed;
        h.queue.BatchDone();
      }
    }
    EXPECT_EQ(h.queue.held(), 0u) << "seed " << seed;
    for (const std::vector<int>& batch : h.sent) {
      EXPECT_LE(batch.size(), h.queue.batch_size());
      EXPECT_FALSE(batch.empty());
      seen.insert(seen.end(), batch.begin(), batch.end());
    }
    ASSERT_EQ(seen.size(), static_cast<size_t>(next)) << "seed " << seed;
    for (int item = 0; item < next; ++item) EXPECT_EQ(seen[item], item);  // in order, once
  }
}

}  // namespace
}  // namespace usersync::io
