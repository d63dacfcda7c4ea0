// Hashing of std::string_view keys with Abseil's own string hash.
//
// On Debian's Abseil 20220623, absl::Hash<std::string_view> falls back to std::hash (slow,
// byte-at-a-time murmur); absl::Hash<absl::string_view> is Abseil's fast mixed hash, which is
// also the one flat_hash_map's probing is tuned for. Header-only, stateless, thread-safe.
#pragma once

#include <cstddef>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/hash/hash.h"
#include "absl/strings/string_view.h"

namespace usersync::core {

struct StrHash {
  size_t operator()(std::string_view s) const {
    return absl::Hash<absl::string_view>{}(absl::string_view(s.data(), s.size()));
  }
};

// A map keyed by views; the views must outlive the map.
template <typename V>
using StrViewMap = absl::flat_hash_map<std::string_view, V, StrHash>;
using StrViewSet = absl::flat_hash_set<std::string_view, StrHash>;

}  // namespace usersync::core
