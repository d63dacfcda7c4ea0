// ByteWriter and ByteReader: the little-endian binary encoding of the directory snapshot
// (io/state/directory_snapshot.h) and of the directory image inside it (core/directory_image.h).
//
// Integers are little-endian, strings a u32 length and their bytes, arrays of u32 a count's
// worth of them back to back. The reader is bounded: every read checks the bytes left, the
// first failure sticks (ok() turns false) and later reads return zeros and empty views, so a
// decoder reads on and checks once at the end, never reading past the input.
//
// Example:
//   ByteWriter w;  w.U32(7);  w.Str("ann");
//   ByteReader r(w.out());  r.U32() == 7;  r.Str() == "ann";  r.ok() && r.done();
//
// Thread-compatible: plain values.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

namespace usersync::core {

static_assert(std::endian::native == std::endian::little,
              "the snapshot encoding copies u32 arrays as they are in memory");

class ByteWriter {
 public:
  void U8(uint8_t value) { out_.push_back(static_cast<char>(value)); }
  void U32(uint32_t value) { Raw(&value, 4); }
  void U64(uint64_t value) { Raw(&value, 8); }
  void Str(std::string_view value) {
    U32(static_cast<uint32_t>(value.size()));
    out_.append(value);
  }
  // The values back to back, without their count.
  void U32s(std::span<const uint32_t> values) { Raw(values.data(), values.size_bytes()); }
  void Bytes(std::string_view bytes) { out_.append(bytes); }
  // Appends `size` bytes for the caller to fill (one resize instead of many appends).
  char* Extend(size_t size) {
    const size_t at = out_.size();
    out_.resize(at + size);
    return out_.data() + at;
  }
  std::string& out() { return out_; }

 private:
  void Raw(const void* data, size_t size) { out_.append(static_cast<const char*>(data), size); }
  std::string out_;
};

class ByteReader {
 public:
  explicit ByteReader(std::string_view bytes) : in_(bytes) {}
  uint8_t U8() { return Fixed<uint8_t>(); }
  uint32_t U32() { return Fixed<uint32_t>(); }
  uint64_t U64() { return Fixed<uint64_t>(); }
  std::string_view Str() { return Bytes(U32()); }
  // The next `size` bytes, or an empty view (and !ok()) when fewer are left.
  std::string_view Bytes(size_t size) {
    if (!Need(size)) return {};
    std::string_view value = in_.substr(0, size);
    in_.remove_prefix(size);
    return value;
  }
  // `out.size()` values, as U32s wrote them.
  void U32s(std::span<uint32_t> out) {
    const std::string_view bytes = Bytes(out.size_bytes());
    if (ok_ && !out.empty()) std::memcpy(out.data(), bytes.data(), bytes.size());
  }
  // A count of items each at least `min_bytes` long: more than the bytes left is damage.
  uint32_t Count(size_t min_bytes) {
    const uint32_t count = U32();
    if (ok_ && static_cast<uint64_t>(count) * min_bytes > in_.size()) ok_ = false;
    return ok_ ? count : 0;
  }
  void Fail() { ok_ = false; }
  bool ok() const { return ok_; }
  bool done() const { return in_.empty(); }

 private:
  bool Need(size_t bytes) {
    if (ok_ && in_.size() < bytes) ok_ = false;
    return ok_;
  }
  template <typename T>
  T Fixed() {
    T value{};
    if (Need(sizeof(T))) {
      std::memcpy(&value, in_.data(), sizeof(T));
      in_.remove_prefix(sizeof(T));
    }
    return value;
  }
  std::string_view in_;
  bool ok_ = true;
};

}  // namespace usersync::core
