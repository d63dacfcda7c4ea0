// CreationOrder<T>: the live items of a store in insertion order, with positional access in
// O(log n) so that listing page k of a million items costs O(page), not O(k).
//
// Layout: a vector of slots in insertion order (nullptr = a removed item's tombstone) and a
// Fenwick tree over the slots' liveness (1 live, 0 tombstone), so "the slot of the n-th live
// item" is one O(log capacity) descent. Tombstones are compacted lazily, when they outnumber
// both the live items and kMinTombstonesToCompact; compaction renumbers slots and writes each
// item's new slot into `item->order_slot` (T must have a `size_t order_slot` member, which this
// class owns). Example: append a, b, c, d; remove b → slots [a, -, c, d], live 3; the live
// position 1 is slot 2 (c).
//
// Not thread-safe: the owning store guards it with its lock. Does not own the items.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace usersync::io::emulator {

template <typename T>
class CreationOrder {
 public:
  static constexpr size_t kMinTombstonesToCompact = 1024;

  CreationOrder() { Rebuild(kMinCapacity); }

  // Appends `item` as the newest live item and sets item->order_slot. Amortized O(log n).
  void Append(T* item) {
    if (slots_.size() == capacity_) Rebuild(capacity_ * 2);
    item->order_slot = slots_.size();
    slots_.push_back(item);
    Add(item->order_slot, 1);
    ++live_;
  }

  // Removes `item`. REQUIRES: `item` is live in this order. Amortized O(log n).
  void Remove(T* item) {
    size_t slot = item->order_slot;
    slots_[slot] = nullptr;
    Add(slot, -1);
    --live_;
    ++tombstones_;
    if (tombstones_ >= kMinTombstonesToCompact && tombstones_ > live_) Compact();
  }

  // Number of live items.
  size_t size() const { return live_; }

  // Calls `fn(T*)` for up to `count` live items, starting with the one at live position
  // `start` (0-based), in insertion order. Cost: O(log n + count + tombstones passed).
  template <typename Fn>
  void ForRange(size_t start, size_t count, Fn&& fn) const {
    if (start >= live_ || count == 0) return;
    size_t slot = FindNth(start);
    for (; slot < slots_.size() && count > 0; ++slot) {
      if (slots_[slot] == nullptr) continue;
      fn(slots_[slot]);
      --count;
    }
  }

 private:
  static constexpr size_t kMinCapacity = 1024;

  // tree_[i] (1-based) holds the number of live slots in (i - lowbit(i), i].
  void Add(size_t slot, int delta) {
    for (size_t i = slot + 1; i <= capacity_; i += i & (~i + 1)) {
      tree_[i] = static_cast<uint32_t>(static_cast<int64_t>(tree_[i]) + delta);
    }
  }

  // The slot of the live item at live position n (0-based). REQUIRES: n < live_.
  size_t FindNth(size_t n) const {
    size_t pos = 0;
    size_t remaining = n + 1;
    for (size_t step = capacity_; step > 0; step >>= 1) {
      if (pos + step <= capacity_ && tree_[pos + step] < remaining) {
        pos += step;
        remaining -= tree_[pos];
      }
    }
    return pos;  // 1-based pos + 1 is the answer, i.e. 0-based slot pos
  }

  void Rebuild(size_t capacity) {
    capacity_ = capacity;
    tree_.assign(capacity_ + 1, 0);
    for (size_t slot = 0; slot < slots_.size(); ++slot) tree_[slot + 1] = slots_[slot] ? 1 : 0;
    for (size_t i = 1; i <= capacity_; ++i) {
      size_t parent = i + (i & (~i + 1));
      if (parent <= capacity_) tree_[parent] += tree_[i];
    }
  }

  void Compact() {
    std::vector<T*> live;
    live.reserve(live_);
    for (T* item : slots_) {
      if (item == nullptr) continue;
      item->order_slot = live.size();
      live.push_back(item);
    }
    slots_ = std::move(live);
    tombstones_ = 0;
    size_t capacity = kMinCapacity;
    while (capacity < slots_.size() * 2) capacity *= 2;
    Rebuild(capacity);
  }

  std::vector<T*> slots_;
  std::vector<uint32_t> tree_;
  size_t capacity_ = 0;
  size_t live_ = 0;
  size_t tombstones_ = 0;
};

}  // namespace usersync::io::emulator
