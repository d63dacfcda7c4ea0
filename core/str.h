// String glue for Debian's Abseil 20220623, whose absl::string_view is its own type, distinct
// from std::string_view: absl::StrCat cannot take a std::string_view directly. Wrap it:
//   absl::StrCat("duplicate id ", Sv(id))
// Header-only; free.
#pragma once

#include <string_view>

#include "absl/strings/string_view.h"

namespace usersync {

inline absl::string_view Sv(std::string_view s) { return absl::string_view(s.data(), s.size()); }
inline std::string_view StdSv(absl::string_view s) { return std::string_view(s.data(), s.size()); }

}  // namespace usersync
