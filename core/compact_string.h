// CompactString: an owning string in 16 bytes, for the text of values a plan holds a million
// of (core::Operation, AccountSpec, Change). Up to 15 bytes live inline; longer text is one
// heap block of exactly its size. A std::string is 32 bytes (15 inline): an operation's 22
// strings cost 704 bytes as std::string and 352 as CompactString, with the same allocations.
//
// It is a value, like std::string: copies copy, moves steal, and it owns what it holds (no
// lifetime to track, unlike a view). It reads as a std::string_view (implicitly) and is
// assigned from anything that converts to one:
//
//   CompactString email = "ann@example.com";
//   std::string_view view = email;
//   email = absl::StrCat(user, "@", domain);
//   if (email == "ann@example.com") ...
//   std::string copy(email);  // explicit, like any view
//
// Not null-terminated (no c_str()), and not growable in place: build text in a std::string,
// then assign it. Thread-compatible.
//
// Borrow(text) makes one that views `text` instead of copying it (text of 15 bytes or fewer is
// still copied inline), for the planner, whose operations view the text its Plan::strings
// keeps: a million operations then hold no copy of their DNs, emails and ids. A borrowed
// string stays a view when moved, and a copy of it owns its text, so copying an operation out
// of its plan is always safe; moving one out is safe only while the plan's strings live.
#pragma once

#include <bit>
#include <compare>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>

#include "absl/strings/string_view.h"

namespace usersync::core {

class CompactString {
 public:
  CompactString() noexcept { Reset(); }
  CompactString(std::string_view text) { Assign(text); }  // NOLINT: reads as a string
  CompactString(const char* text) : CompactString(std::string_view(text)) {}  // NOLINT: likewise
  CompactString(const std::string& text) : CompactString(std::string_view(text)) {}  // NOLINT
  CompactString(const CompactString& other) { Assign(other.view()); }
  CompactString(CompactString&& other) noexcept {
    std::memcpy(bytes_, other.bytes_, sizeof(bytes_));
    other.Reset();
  }
  ~CompactString() { Free(); }

  // A string that views `text` (which must outlive it and every string moved from it) when it
  // is too long to hold inline.
  static CompactString Borrow(std::string_view text) {
    CompactString out;
    if (text.size() <= kInlineCapacity) {
      out.Assign(text);
    } else {
      out.SetPointer(const_cast<char*>(text.data()), text.size(), kHeapBit | kBorrowedBit);
    }
    return out;
  }
  // Whether this string views text it does not own (Borrow).
  bool borrowed() const { return IsHeap() && (Word() & kBorrowedBit) != 0; }

  CompactString& operator=(const CompactString& other) {
    if (this != &other) *this = other.view();
    return *this;
  }
  CompactString& operator=(CompactString&& other) noexcept {
    if (this != &other) {
      Free();
      std::memcpy(bytes_, other.bytes_, sizeof(bytes_));
      other.Reset();
    }
    return *this;
  }
  CompactString& operator=(std::string_view text) {
    // `text` may view this string's own bytes: copy before freeing.
    CompactString copy(text);
    return *this = std::move(copy);
  }
  CompactString& operator=(const char* text) { return *this = std::string_view(text); }
  CompactString& operator=(const std::string& text) { return *this = std::string_view(text); }

  const char* data() const { return IsHeap() ? HeapPointer() : bytes_; }
  size_t size() const { return IsHeap() ? HeapSize() : static_cast<uint8_t>(bytes_[kTag]); }
  bool empty() const { return size() == 0; }
  std::string_view view() const { return {data(), size()}; }
  std::string str() const { return std::string(view()); }
  const char* begin() const { return data(); }
  const char* end() const { return data() + size(); }
  void clear() {
    Free();
    Reset();
  }
  // The std::string_view look-ups, for code that reads it as text.
  char operator[](size_t pos) const { return data()[pos]; }
  size_t find(std::string_view needle, size_t pos = 0) const { return view().find(needle, pos); }
  size_t find(char needle, size_t pos = 0) const { return view().find(needle, pos); }
  bool starts_with(std::string_view prefix) const { return view().starts_with(prefix); }
  bool ends_with(std::string_view suffix) const { return view().ends_with(suffix); }
  std::string_view substr(size_t pos, size_t count = std::string_view::npos) const {
    return view().substr(pos, count);
  }

  operator std::string_view() const { return view(); }  // NOLINT: reads as a view
  // absl::StrCat and friends take absl::string_view, which is not std::string_view here.
  operator absl::string_view() const { return {data(), size()}; }  // NOLINT: likewise

  friend bool operator==(const CompactString& a, std::string_view b) { return a.view() == b; }
  friend std::strong_ordering operator<=>(const CompactString& a, std::string_view b) {
    return a.view() <=> b;
  }
  friend std::string operator+(std::string_view a, const CompactString& b) {
    std::string out(a);
    out.append(b.view());
    return out;
  }
  friend std::string operator+(const CompactString& a, std::string_view b) {
    std::string out(a.view());
    out.append(b);
    return out;
  }
  // For std::ostream (gtest's messages); a template so that core/ includes no stream header.
  template <typename Stream>
  requires requires(Stream& out, std::string_view text) { out << text; }
  friend Stream& operator<<(Stream& out, const CompactString& text) {
    out << text.view();
    return out;
  }
  template <typename H>
  friend H AbslHashValue(H state, const CompactString& text) {
    return H::combine(std::move(state), text.view());
  }

  static constexpr size_t kInlineCapacity = 15;

 private:
  // Inline: bytes_[0..14] hold the text and bytes_[15] its size (0..15). Heap: the first 8
  // bytes hold the pointer and the last 8 the size with the top bit set; on a little-endian
  // machine that bit is bytes_[15]'s top bit, which an inline size never sets.
  static_assert(std::endian::native == std::endian::little);
  static constexpr size_t kTag = 15;
  static constexpr uint64_t kHeapBit = uint64_t{1} << 63;
  static constexpr uint64_t kBorrowedBit = uint64_t{1} << 62;  // heap pointer, not owned

  bool IsHeap() const { return (static_cast<uint8_t>(bytes_[kTag]) & 0x80) != 0; }
  char* HeapPointer() const {
    char* pointer;
    std::memcpy(&pointer, bytes_, sizeof(pointer));
    return pointer;
  }
  uint64_t Word() const {
    uint64_t word;
    std::memcpy(&word, bytes_ + 8, sizeof(word));
    return word;
  }
  size_t HeapSize() const { return static_cast<size_t>(Word() & ~(kHeapBit | kBorrowedBit)); }
  void SetPointer(char* pointer, size_t size, uint64_t bits) {
    const uint64_t word = static_cast<uint64_t>(size) | bits;
    std::memcpy(bytes_, &pointer, sizeof(pointer));
    std::memcpy(bytes_ + 8, &word, sizeof(word));
  }
  void Reset() { std::memset(bytes_, 0, sizeof(bytes_)); }
  void Free() {
    if (IsHeap() && (Word() & kBorrowedBit) == 0) delete[] HeapPointer();
  }
  // REQUIRES: nothing is held (constructors, or after Free()).
  void Assign(std::string_view text) {
    if (text.size() <= kInlineCapacity) {
      std::memset(bytes_, 0, sizeof(bytes_));
      if (!text.empty()) std::memcpy(bytes_, text.data(), text.size());
      bytes_[kTag] = static_cast<char>(text.size());
      return;
    }
    char* pointer = new char[text.size()];
    std::memcpy(pointer, text.data(), text.size());
    SetPointer(pointer, text.size(), kHeapBit);
  }

  alignas(8) char bytes_[16];
};

static_assert(sizeof(CompactString) == 16);

}  // namespace usersync::core
