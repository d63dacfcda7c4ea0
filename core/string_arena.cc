#include "core/string_arena.h"

#include <cstring>

namespace usersync::core {

char* StringArena::Allocate(size_t n) {
  if (n > remaining_) {
    // Oversized strings get a block of their own so the current block's tail is not wasted.
    if (n > kBlockSize / 4) {
      blocks_.emplace_back(std::make_unique_for_overwrite<char[]>(n));
      bytes_used_ += n;
      return blocks_.back().get();
    }
    blocks_.emplace_back(std::make_unique_for_overwrite<char[]>(kBlockSize));
    cursor_ = blocks_.back().get();
    remaining_ = kBlockSize;
  }
  char* out = cursor_;
  cursor_ += n;
  remaining_ -= n;
  bytes_used_ += n;
  return out;
}

std::string_view StringArena::Store(std::string_view s) {
  if (s.empty()) return {};
  char* dst = Allocate(s.size());
  std::memcpy(dst, s.data(), s.size());
  return {dst, s.size()};
}

}  // namespace usersync::core
