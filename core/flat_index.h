// FlatIndex: an open-addressing hash index from string keys to uint32 values, for keys that
// already live somewhere else (a column of the Directory, a table of DN slots).
//
// Each entry is 8 bytes: 32 bits of the key's hash and the value. The key itself is reached
// through a caller's `key_of(value)` and read only when the stored hash bits match, so
//  - a look-up of a new key touches one cache line of the table and no key bytes;
//  - a look-up that hits reads the table and then that one key;
//  - growing re-places entries by their stored hash bits, without reading or re-hashing any
//    key (absl::flat_hash_map re-hashes every key, and with a million scattered strings that is
//    a cache miss per key; see bench/RESULTS.md, "LDAP read").
// Linear probing at a load of at most 1/2: 8 entries per cache line, 1.5 probes per hit.
//
// Example: values 0 and 1 with keys {"ann", "bob"} held in a vector `names`:
//   FlatIndex index;
//   auto key_of = [&](uint32_t v) { return std::string_view(names[v]); };
//   index.FindOrInsert("ann", FlatIndex::Hash("ann"), 0, key_of);   // {0, true}
//   index.FindOrInsert("ann", FlatIndex::Hash("ann"), 7, key_of);   // {0, false}
//   index.Find("bob", FlatIndex::Hash("bob"), key_of);              // nullopt until inserted
//
// Values must be below kEmpty. There is no erase. Thread-safety: const methods may run from
// any number of threads at once; FindOrInsert needs exclusive access.
#pragma once

#include <bit>
#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "core/check.h"
#include "core/hash.h"

namespace usersync::core {

class FlatIndex {
 public:
  static constexpr uint32_t kEmpty = UINT32_MAX;

  // The hash the index expects: Abseil's string hash, as StrHash.
  static uint64_t Hash(std::string_view key) { return StrHash()(key); }

  size_t size() const { return size_; }

  // Room for `n` keys without growing.
  void Reserve(size_t n) {
    if (n * 2 > entries_.size()) Rehash(std::bit_ceil(n * 2));
  }

  // The value whose key equals `key`, or nullopt. `hash` = Hash(key).
  // REQUIRES: key_of(v) returns the key of every value v inserted so far.
  template <typename KeyOf>
  std::optional<uint32_t> Find(std::string_view key, uint64_t hash, const KeyOf& key_of) const {
    if (entries_.empty()) return std::nullopt;
    const uint32_t tag = Tag(hash);
    for (size_t pos = tag & mask_;; pos = (pos + 1) & mask_) {
      const Entry& entry = entries_[pos];
      if (entry.value == kEmpty) return std::nullopt;
      if (entry.tag == tag && key_of(entry.value) == key) return entry.value;
    }
  }

  // Hints for a batch of look-ups (group prefetching, as hash joins probe): Prefetch brings the
  // home cache line of `hash` in; Candidate then names the value of the first entry on the
  // probe path whose stored hash bits match (kEmpty if an empty entry comes first), whose key
  // the caller may prefetch in turn before the look-up proper. Neither changes anything, and
  // a Candidate is only a likely answer: Find/FindOrInsert still compare the key.
  void Prefetch(uint64_t hash) const {
    if (!entries_.empty()) __builtin_prefetch(&entries_[Tag(hash) & mask_]);
  }
  uint32_t Candidate(uint64_t hash) const {
    if (entries_.empty()) return kEmpty;
    const uint32_t tag = Tag(hash);
    for (size_t pos = tag & mask_;; pos = (pos + 1) & mask_) {
      const Entry& entry = entries_[pos];
      if (entry.value == kEmpty || entry.tag == tag) return entry.value;
    }
  }

  // The value of `key` and false if it is there; else inserts `value` for it and returns
  // {value, true}. The caller makes key_of(value) return `key` before the next call.
  // REQUIRES: value < kEmpty; `hash` = Hash(key); key_of as for Find.
  template <typename KeyOf>
  std::pair<uint32_t, bool> FindOrInsert(std::string_view key, uint64_t hash, uint32_t value,
                                         const KeyOf& key_of) {
    USERSYNC_CHECK(value != kEmpty);
    if ((size_ + 1) * 2 > entries_.size()) Rehash(entries_.empty() ? 16 : entries_.size() * 2);
    const uint32_t tag = Tag(hash);
    for (size_t pos = tag & mask_;; pos = (pos + 1) & mask_) {
      Entry& entry = entries_[pos];
      if (entry.value == kEmpty) {
        entry = Entry{tag, value};
        ++size_;
        return {value, true};
      }
      if (entry.tag == tag && key_of(entry.value) == key) return {entry.value, false};
    }
  }

 private:
  struct Entry {
    uint32_t tag = 0;  // the hash folded to 32 bits: the home slot and a cheap key filter
    uint32_t value = kEmpty;
  };

  static uint32_t Tag(uint64_t hash) { return static_cast<uint32_t>(hash ^ (hash >> 32)); }

  // REQUIRES: capacity is a power of two above 2 * size_, at most 2^32.
  void Rehash(size_t capacity) {
    std::vector<Entry> old(capacity);
    old.swap(entries_);
    mask_ = capacity - 1;
    for (const Entry& entry : old) {
      if (entry.value == kEmpty) continue;
      size_t pos = entry.tag & mask_;
      while (entries_[pos].value != kEmpty) pos = (pos + 1) & mask_;
      entries_[pos] = entry;
    }
  }

  std::vector<Entry> entries_;
  size_t mask_ = 0;
  size_t size_ = 0;
};

}  // namespace usersync::core
