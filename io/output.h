// Print: what the commands write for a person or a script to read. Each call writes `text`
// whole and flushes, so output interleaves sanely with stderr and survives a crash right
// after it. Thread-compatible (stdio's own locking per call).
#pragma once

#include <cstdio>
#include <string_view>

namespace usersync::io {

inline void Print(std::FILE* file, std::string_view text) {
  std::fwrite(text.data(), 1, text.size(), file);
  std::fflush(file);
}

}  // namespace usersync::io
