// String glue for Debian's Abseil 20220623, whose absl::string_view is its own type, distinct
// from std::string_view: absl::StrCat cannot take a std::string_view directly. Wrap it:
//   absl::StrCat("duplicate id ", Sv(id))
// Also the one ASCII case-insensitive comparison the tree uses. Header-only; free.
#pragma once

#include <cstddef>
#include <string_view>

#include "absl/strings/string_view.h"

namespace usersync {

inline absl::string_view Sv(std::string_view s) { return absl::string_view(s.data(), s.size()); }
inline std::string_view StdSv(absl::string_view s) { return std::string_view(s.data(), s.size()); }

namespace core {

// ASCII case-insensitive equality (attribute names, header names, e-mail addresses); bytes
// outside A-Z compare exactly, so UTF-8 is compared byte for byte. Pure; no allocation.
//   EqualsIgnoreCase("Retry-After", "retry-after") == true
inline bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x == y) continue;
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

}  // namespace core

}  // namespace usersync
