#include "core/hash_join.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <unordered_map>

namespace usersync::core {
namespace {

std::vector<std::string_view> Views(const std::vector<std::string>& strings) {
  return {strings.begin(), strings.end()};
}

TEST(PartitionedJoin, WorkedExample) {
  std::vector<std::string> build = {"a@x", "b@x", "a@x"};
  std::vector<std::string> probe = {"b@x", "c@x", "a@x"};
  EXPECT_EQ(PartitionedJoin(Views(build), Views(probe)), (std::vector<int64_t>{1, -1, 0}));
}

TEST(PartitionedJoin, EmptySides) {
  std::vector<std::string> some = {"a"};
  EXPECT_EQ(PartitionedJoin({}, Views(some)), (std::vector<int64_t>{-1}));
  EXPECT_TRUE(PartitionedJoin(Views(some), {}).empty());
}

// Against a plain std::unordered_map join on enough keys to fill every partition and span
// several scatter chunks, with duplicates on the build side and misses on the probe side.
TEST(PartitionedJoin, AgreesWithAPlainJoin) {
  std::mt19937_64 rng(7);
  std::vector<std::string> build;
  std::vector<std::string> probe;
  for (int i = 0; i < 100'000; ++i) build.push_back("user" + std::to_string(rng() % 80'000));
  for (int i = 0; i < 90'000; ++i) probe.push_back("user" + std::to_string(rng() % 120'000));
  build.push_back("");
  probe.push_back("");
  std::unordered_map<std::string, int64_t> first;
  for (size_t i = 0; i < build.size(); ++i) first.try_emplace(build[i], static_cast<int64_t>(i));
  std::vector<int64_t> got = PartitionedJoin(Views(build), Views(probe));
  ASSERT_EQ(got.size(), probe.size());
  size_t hits = 0;
  for (size_t i = 0; i < probe.size(); ++i) {
    auto it = first.find(probe[i]);
    ASSERT_EQ(got[i], it == first.end() ? -1 : it->second) << probe[i];
    hits += got[i] >= 0;
  }
  EXPECT_GT(hits, 0u);
  EXPECT_LT(hits, probe.size());
}

TEST(CountEqualKeys, CountsDuplicatesAndIgnoresEmpty) {
  std::vector<std::string> keys = {"a", "b", "a", "", "", "c", "a"};
  EXPECT_EQ(CountEqualKeys(Views(keys)), (std::vector<uint32_t>{3, 1, 3, 1, 1, 1, 3}));
}

}  // namespace
}  // namespace usersync::core
