// A partitioned, parallel hash join of string keys (the planner's matching join).
//
// PartitionedJoin answers, for every probe key, the index of the first build key equal to it
// (or -1). Both sides are split into kPartitions partitions by the top bits of their hash;
// each partition copies its build keys into one contiguous buffer (locality: a partition's
// table and keys fit in cache far better than a table over a million scattered strings) and
// builds an absl::flat_hash_map keyed by (view, precomputed hash); partitions are built and
// probed in parallel with oneTBB. Hashes are computed once per key.
//
// Worked example: build = {"a@x", "b@x", "a@x"}, probe = {"b@x", "c@x", "a@x"}
//   → {1, -1, 0}   (the first of two equal build keys wins, as in a stable join)
//
// Thread-safety: a pure function; it uses the TBB arena of the calling thread. Views must stay
// valid for the call. Cost: O(build + probe) work, about 2× faster than a single-threaded
// flat_hash_map join of the same keys on 2 cores (see bench/RESULTS.md).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace usersync::core {

inline constexpr int kJoinPartitionBits = 6;  // 64 partitions

std::vector<int64_t> PartitionedJoin(std::span<const std::string_view> build,
                                     std::span<const std::string_view> probe);

// For each key, the number of keys in `keys` equal to it (a partitioned self-join; empty keys
// count as distinct from everything, i.e. 1).
std::vector<uint32_t> CountEqualKeys(std::span<const std::string_view> keys);

}  // namespace usersync::core
