// Helpers shared by the store's files (emulator_store.cc, emulator_store_groups.cc); not part
// of the store's interface. Thread-safety: plain functions.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "core/str.h"
#include "tools/target/emulator_store.h"

namespace usersync::io::emulator::store_internal {

// User names and display names are unique case-insensitively: their index keys.
inline std::string Lower(std::string_view s) { return absl::AsciiStrToLower(Sv(s)); }

inline int64_t NowMs() { return absl::ToUnixMillis(absl::Now()); }

// FailedPrecondition unless `expected_version` is 0 (no If-Match) or `version`.
inline absl::Status CheckVersion(std::string_view kind, std::string_view id, int64_t version,
                                 int64_t expected_version) {
  if (expected_version == 0 || expected_version == version) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat(Sv(kind), " ", Sv(id), " is at version ", version, ", not ", expected_version));
}

// The page [start, start + count) of `matches`, each turned into a view by `view_of`.
template <typename View, typename Entry, typename ViewOf>
StorePage<View> PageOf(const std::vector<const Entry*>& matches, int64_t start, int64_t count,
                       ViewOf&& view_of) {
  StorePage<View> page;
  page.total = static_cast<int64_t>(matches.size());
  for (int64_t index = std::max<int64_t>(start, 0);
       index < page.total && static_cast<int64_t>(page.items.size()) < count; ++index) {
    page.items.push_back(view_of(*matches[static_cast<size_t>(index)]));
  }
  return page;
}

}  // namespace usersync::io::emulator::store_internal
