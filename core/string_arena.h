// StringArena: append-only storage for the strings of a directory or account snapshot.
//
// Strings are copied into large blocks, so a million users cost a few allocations instead of
// millions. Every view returned stays valid, unmoved, until the arena is destroyed (moving the
// arena keeps them valid: blocks are heap-owned). Not thread-safe: one writer; any number of
// readers once writing is done.
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

namespace usersync::core {

class StringArena {
 public:
  StringArena() = default;
  StringArena(StringArena&&) noexcept = default;
  StringArena& operator=(StringArena&&) noexcept = default;
  // A copy shares the blocks (Share): views into the original stay valid as long as the copy
  // lives too, and the copy's own Store calls write into blocks of its own.
  StringArena(const StringArena& other) { Share(other); }
  StringArena& operator=(const StringArena& other) {
    if (this != &other) *this = StringArena(other);
    return *this;
  }

  // Copies `s` into the arena and returns a view of the copy. The empty string costs nothing.
  std::string_view Store(std::string_view s);

  // Returns `n` writable bytes that stay valid for the arena's life.
  char* Allocate(size_t n);

  // Takes `block` (of `size` bytes, already filled) into the arena, so that views into it live
  // as long as the arena: how a directory image read from a file keeps its strings in place
  // (core/directory_image.h). Later Store/Allocate calls do not write into it.
  void Adopt(std::unique_ptr<char[]> block, size_t size) {
    blocks_.emplace_back(std::move(block));
    bytes_used_ += size;
  }

  // Keeps `other`'s blocks alive as long as this arena too (they are shared, not copied), so
  // that views into `other` may be copied into a structure this arena backs: how a directory
  // patched with a few changes shares the strings of the one it was copied from
  // (core/directory_patch.h).
  void Share(const StringArena& other) {
    blocks_.insert(blocks_.end(), other.blocks_.begin(), other.blocks_.end());
  }

  // Bytes handed out so far (not counting block slack).
  size_t bytes_used() const { return bytes_used_; }

 private:
  static constexpr size_t kBlockSize = 1 << 20;
  std::vector<std::shared_ptr<char[]>> blocks_;
  char* cursor_ = nullptr;
  size_t remaining_ = 0;
  size_t bytes_used_ = 0;
};

}  // namespace usersync::core
