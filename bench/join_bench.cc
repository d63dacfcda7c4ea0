// The matching join alone: 1,000,000 desired emails probed against 1,000,000 account emails
// (half of them present), core::PartitionedJoin (oneTBB, 64 hash partitions) beside the
// baseline, a plain single-threaded absl::flat_hash_map build + probe of the same strings in
// the same binary. Both answers are checked equal once, outside the timed loops.
// Run: build-release/bench/join_bench
#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "core/check.h"
#include "core/hash.h"
#include "core/hash_join.h"
#include "core/string_arena.h"

namespace usersync::core {
namespace {

struct JoinData {
  StringArena arena;
  std::vector<std::string_view> build;
  std::vector<std::string_view> probe;
};

const JoinData& Data(size_t n) {
  static JoinData* data = nullptr;
  static size_t size = 0;
  if (data != nullptr && size == n) return *data;
  delete data;
  data = new JoinData();
  size = n;
  std::mt19937_64 rng(42);
  std::vector<uint64_t> ids(2 * n);
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = i;
  std::shuffle(ids.begin(), ids.end(), rng);
  // Accounts: ids[0, n); desired: every other from [0, n) plus as many new ones: 50% hits.
  for (size_t i = 0; i < n; ++i) {
    data->build.push_back(data->arena.Store("user" + std::to_string(ids[i]) + "@example.com"));
  }
  for (size_t i = 0; i < n; ++i) {
    const uint64_t id = (i % 2 == 0) ? ids[i] : ids[n + i];
    data->probe.push_back(data->arena.Store("user" + std::to_string(id) + "@example.com"));
  }
  std::shuffle(data->probe.begin(), data->probe.end(), rng);
  return *data;
}

std::vector<int64_t> BaselineJoin(const std::vector<std::string_view>& build,
                                  const std::vector<std::string_view>& probe) {
  StrViewMap<uint32_t> table;
  table.reserve(build.size());
  for (size_t i = 0; i < build.size(); ++i) table.try_emplace(build[i], static_cast<uint32_t>(i));
  std::vector<int64_t> out(probe.size(), -1);
  for (size_t i = 0; i < probe.size(); ++i) {
    auto it = table.find(probe[i]);
    if (it != table.end()) out[i] = it->second;
  }
  return out;
}

void CheckSame(size_t n) {
  const JoinData& data = Data(n);
  std::vector<int64_t> expected = BaselineJoin(data.build, data.probe);
  std::vector<int64_t> got = PartitionedJoin(data.build, data.probe);
  USERSYNC_CHECK(expected == got);
  size_t hits = 0;
  for (int64_t idx : got) hits += idx >= 0;
  USERSYNC_CHECK(hits == n / 2);
}

void BM_BaselineJoin(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  CheckSame(n);
  const JoinData& data = Data(n);
  for (auto _ : state) {
    std::vector<int64_t> out = BaselineJoin(data.build, data.probe);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(2 * n));
}

void BM_PartitionedJoin(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  CheckSame(n);
  const JoinData& data = Data(n);
  for (auto _ : state) {
    std::vector<int64_t> out = PartitionedJoin(data.build, data.probe);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(2 * n));
}

BENCHMARK(BM_BaselineJoin)->Arg(1'000'000)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_PartitionedJoin)->Arg(1'000'000)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace usersync::core

BENCHMARK_MAIN();
