#include "core/hash_join.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>

#include "absl/container/flat_hash_map.h"
#include "core/hash.h"
#include "tbb/blocked_range.h"
#include "tbb/parallel_for.h"

namespace usersync::core {
namespace {

constexpr size_t kPartitions = size_t{1} << kJoinPartitionBits;
constexpr size_t kGrain = 16 * 1024;

// A key with its hash computed once; the table's hasher just returns it.
struct HashedKey {
  std::string_view key;
  size_t hash;
  bool operator==(const HashedKey& other) const { return key == other.key; }
};
struct PrecomputedHash {
  size_t operator()(const HashedKey& k) const { return k.hash; }
};

size_t PartitionOf(size_t hash) { return hash >> (64 - kJoinPartitionBits); }

// Hashes every key, then scatters key indices into partitions, stably (index order kept
// within a partition, so "first equal key wins" survives partitioning).
struct Partitioned {
  std::vector<size_t> hashes;
  std::vector<uint32_t> order;  // key indices grouped by partition
  std::vector<size_t> begin;    // kPartitions + 1 offsets into order
};

Partitioned Partition(std::span<const std::string_view> keys) {
  Partitioned out;
  const size_t n = keys.size();
  out.hashes.resize(n);
  const size_t chunks = (n + kGrain - 1) / kGrain;
  std::vector<std::array<uint32_t, kPartitions>> counts(chunks);
  tbb::parallel_for(size_t{0}, chunks, [&](size_t chunk) {
    auto& local = counts[chunk];
    local.fill(0);
    const size_t end = std::min(n, (chunk + 1) * kGrain);
    for (size_t i = chunk * kGrain; i < end; ++i) {
      out.hashes[i] = StrHash{}(keys[i]);
      ++local[PartitionOf(out.hashes[i])];
    }
  });
  // Offsets: partition-major, chunk-minor, so each chunk writes its own disjoint slots.
  out.begin.assign(kPartitions + 1, 0);
  std::vector<std::array<uint32_t, kPartitions>> offsets(chunks);
  size_t running = 0;
  for (size_t part = 0; part < kPartitions; ++part) {
    out.begin[part] = running;
    for (size_t chunk = 0; chunk < chunks; ++chunk) {
      offsets[chunk][part] = static_cast<uint32_t>(running);
      running += counts[chunk][part];
    }
  }
  out.begin[kPartitions] = running;
  out.order.resize(n);
  tbb::parallel_for(size_t{0}, chunks, [&](size_t chunk) {
    auto& cursor = offsets[chunk];
    const size_t end = std::min(n, (chunk + 1) * kGrain);
    for (size_t i = chunk * kGrain; i < end; ++i) {
      out.order[cursor[PartitionOf(out.hashes[i])]++] = static_cast<uint32_t>(i);
    }
  });
  return out;
}

// One partition's table over its own copy of the keys' bytes.
class PartitionTable {
 public:
  void Build(std::span<const std::string_view> keys, const Partitioned& parts, size_t part) {
    const size_t begin = parts.begin[part];
    const size_t end = parts.begin[part + 1];
    size_t bytes = 0;
    for (size_t k = begin; k < end; ++k) bytes += keys[parts.order[k]].size();
    storage_ = std::make_unique_for_overwrite<char[]>(bytes == 0 ? 1 : bytes);
    table_.reserve(end - begin);
    char* cursor = storage_.get();
    for (size_t k = begin; k < end; ++k) {
      const uint32_t idx = parts.order[k];
      std::string_view key = keys[idx];
      if (!key.empty()) std::memcpy(cursor, key.data(), key.size());
      table_.try_emplace(HashedKey{{cursor, key.size()}, parts.hashes[idx]}, idx);
      cursor += key.size();
    }
  }
  int64_t Find(std::string_view key, size_t hash) const {
    auto it = table_.find(HashedKey{key, hash});
    return it == table_.end() ? int64_t{-1} : static_cast<int64_t>(it->second);
  }

 private:
  std::unique_ptr<char[]> storage_;
  absl::flat_hash_map<HashedKey, uint32_t, PrecomputedHash> table_;
};

}  // namespace

std::vector<int64_t> PartitionedJoin(std::span<const std::string_view> build,
                                     std::span<const std::string_view> probe) {
  std::vector<int64_t> result(probe.size(), -1);
  if (build.empty() || probe.empty()) return result;
  const Partitioned build_parts = Partition(build);
  const Partitioned probe_parts = Partition(probe);
  tbb::parallel_for(size_t{0}, kPartitions, [&](size_t part) {
    if (probe_parts.begin[part] == probe_parts.begin[part + 1]) return;
    PartitionTable table;
    table.Build(build, build_parts, part);
    for (size_t k = probe_parts.begin[part]; k < probe_parts.begin[part + 1]; ++k) {
      const uint32_t idx = probe_parts.order[k];
      result[idx] = table.Find(probe[idx], probe_parts.hashes[idx]);
    }
  });
  return result;
}

std::vector<uint32_t> CountEqualKeys(std::span<const std::string_view> keys) {
  std::vector<uint32_t> counts(keys.size(), 1);
  if (keys.empty()) return counts;
  const Partitioned parts = Partition(keys);
  tbb::parallel_for(size_t{0}, kPartitions, [&](size_t part) {
    absl::flat_hash_map<HashedKey, uint32_t, PrecomputedHash> count;
    count.reserve(parts.begin[part + 1] - parts.begin[part]);
    for (size_t k = parts.begin[part]; k < parts.begin[part + 1]; ++k) {
      const uint32_t idx = parts.order[k];
      if (!keys[idx].empty()) ++count[HashedKey{keys[idx], parts.hashes[idx]}];
    }
    for (size_t k = parts.begin[part]; k < parts.begin[part + 1]; ++k) {
      const uint32_t idx = parts.order[k];
      if (!keys[idx].empty()) counts[idx] = count[HashedKey{keys[idx], parts.hashes[idx]}];
    }
  });
  return counts;
}

}  // namespace usersync::core
