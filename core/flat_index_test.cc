#include "core/flat_index.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"

namespace usersync::core {
namespace {

TEST(FlatIndex, FindsWhatWasInsertedAcrossGrowth) {
  std::vector<std::string> keys;
  FlatIndex index;
  auto key_of = [&keys](uint32_t value) { return std::string_view(keys[value]); };
  constexpr uint32_t kCount = 100'000;
  for (uint32_t i = 0; i < kCount; ++i) {
    std::string key = absl::StrCat("uid=user", i, ",ou=people,dc=example,dc=com");
    auto [value, inserted] = index.FindOrInsert(key, FlatIndex::Hash(key), i, key_of);
    ASSERT_TRUE(inserted) << key;
    ASSERT_EQ(value, i);
    keys.push_back(std::move(key));
  }
  EXPECT_EQ(index.size(), kCount);
  for (uint32_t i = 0; i < kCount; ++i) {
    ASSERT_EQ(index.Find(keys[i], FlatIndex::Hash(keys[i]), key_of), i);
    auto [value, inserted] = index.FindOrInsert(keys[i], FlatIndex::Hash(keys[i]), 7, key_of);
    ASSERT_FALSE(inserted);
    ASSERT_EQ(value, i);
  }
  const std::string absent = "uid=nobody,ou=people,dc=example,dc=com";
  EXPECT_EQ(index.Find(absent, FlatIndex::Hash(absent), key_of), std::nullopt);
  EXPECT_EQ(index.size(), kCount);
}

// Candidate names the value a look-up would most likely find (the first entry on the probe
// path whose hash bits match), or kEmpty once the path reaches an empty entry; it changes
// nothing.
TEST(FlatIndex, CandidateFollowsTheProbePath) {
  std::vector<std::string> keys = {"a", "b", "c"};
  FlatIndex index;
  auto key_of = [&keys](uint32_t value) { return std::string_view(keys[value]); };
  EXPECT_EQ(index.Candidate(1), FlatIndex::kEmpty);
  index.Prefetch(1);  // a hint: on an empty index too
  ASSERT_TRUE(index.FindOrInsert("a", 1, 0, key_of).second);
  ASSERT_TRUE(index.FindOrInsert("b", 1, 1, key_of).second);  // same home, next entry
  ASSERT_TRUE(index.FindOrInsert("c", 2, 2, key_of).second);  // home taken by "b": moves on
  EXPECT_EQ(index.Candidate(1), 0u);  // "a" and "b" share all hash bits: the first one
  EXPECT_EQ(index.Candidate(2), 2u);  // walks past "b" to "c"
  EXPECT_EQ(index.Candidate(9), FlatIndex::kEmpty);
  EXPECT_EQ(index.size(), 3u);
}

// Keys whose hashes collide entirely are told apart by their bytes.
TEST(FlatIndex, EqualHashesDifferentKeysStayApart) {
  std::vector<std::string> keys = {"a", "b", "c"};
  FlatIndex index;
  auto key_of = [&keys](uint32_t value) { return std::string_view(keys[value]); };
  constexpr uint64_t kSameHash = 42;
  for (uint32_t i = 0; i < keys.size(); ++i) {
    EXPECT_TRUE(index.FindOrInsert(keys[i], kSameHash, i, key_of).second);
  }
  for (uint32_t i = 0; i < keys.size(); ++i) EXPECT_EQ(index.Find(keys[i], kSameHash, key_of), i);
  EXPECT_EQ(index.Find("d", kSameHash, key_of), std::nullopt);
  EXPECT_EQ(index.FindOrInsert("b", kSameHash, 9, key_of), std::make_pair(1u, false));
}

TEST(FlatIndex, EmptyAndReserved) {
  FlatIndex index;
  auto key_of = [](uint32_t) -> std::string_view {
    ADD_FAILURE() << "no key to read";
    return {};
  };
  EXPECT_EQ(index.Find("x", FlatIndex::Hash("x"), key_of), std::nullopt);
  index.Reserve(1000);
  EXPECT_EQ(index.Find("x", FlatIndex::Hash("x"), key_of), std::nullopt);
  EXPECT_EQ(index.size(), 0u);
}

}  // namespace
}  // namespace usersync::core
