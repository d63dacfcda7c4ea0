#include "io/json_writer.h"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>

namespace usersync::io {
namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 if it is not valid.
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(i);
  size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
  if (len == 0 || i + len > s.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    if ((byte(i + k) & 0xc0) != 0x80) return 0;
  }
  if (len == 2 && c < 0xc2) return 0;                        // overlong
  if (len == 3 && c == 0xe0 && byte(i + 1) < 0xa0) return 0;  // overlong
  if (len == 3 && c == 0xed && byte(i + 1) >= 0xa0) return 0;  // surrogate
  if (len == 4 && (c > 0xf4 || (c == 0xf0 && byte(i + 1) < 0x90) ||
                   (c == 0xf4 && byte(i + 1) >= 0x90))) {
    return 0;
  }
  return len;
}

// True for the bytes a JSON string holds as they are: printable ASCII but '"' and '\\'.
bool IsPlain(unsigned char c) { return c >= 0x20 && c < 0x80 && c != '"' && c != '\\'; }

// Appends the byte (or UTF-8 sequence) at value[i] escaped or replaced; returns its length.
size_t AppendEscaped(std::string* out, std::string_view value, size_t i) {
  const unsigned char c = static_cast<unsigned char>(value[i]);
  if (c >= 0x80) {
    const size_t len = Utf8SequenceLength(value, i);
    if (len == 0) {
      out->append("\xef\xbf\xbd");  // U+FFFD
      return 1;
    }
    out->append(value.substr(i, len));
    return len;
  }
  switch (c) {
    case '"':
      out->append("\\\"");
      break;
    case '\\':
      out->append("\\\\");
      break;
    case '\n':
      out->append("\\n");
      break;
    case '\r':
      out->append("\\r");
      break;
    case '\t':
      out->append("\\t");
      break;
    case '\b':
      out->append("\\b");
      break;
    case '\f':
      out->append("\\f");
      break;
    default: {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", c);
      out->append(buf);
    }
  }
  return 1;
}

}  // namespace

// True when one of the eight bytes of `word` is not IsPlain (exact for the word as a whole:
// the classic "has a byte less than n" / "has a zero byte" tests, Hacker's Delight 6-1).
bool HasNonPlainByte(uint64_t word) {
  constexpr uint64_t kOnes = 0x0101010101010101ull;
  constexpr uint64_t kHighs = 0x8080808080808080ull;
  const auto has_zero = [](uint64_t x) { return (x - kOnes) & ~x & kHighs; };
  const uint64_t below_space = (word - kOnes * 0x20) & ~word & kHighs;
  return (below_space | (word & kHighs) | has_zero(word ^ (kOnes * '"')) |
          has_zero(word ^ (kOnes * '\\'))) != 0;
}

// Runs of plain bytes go in with one append, found eight bytes a step: most strings (ids,
// emails, names) are one run (issue 17: a byte-at-a-time loop here was a tenth of
// `plan --out` at a million users).
void JsonWriter::AppendQuoted(std::string* out, std::string_view value) {
  out->push_back('"');
  size_t run_begin = 0;
  for (size_t i = 0; i < value.size();) {
    uint64_t word;
    if (i + 8 <= value.size()) {
      std::memcpy(&word, value.data() + i, 8);
      if (!HasNonPlainByte(word)) {
        i += 8;
        continue;
      }
    }
    if (IsPlain(static_cast<unsigned char>(value[i]))) {
      ++i;
      continue;
    }
    out->append(value.data() + run_begin, i - run_begin);
    i += AppendEscaped(out, value, i);
    run_begin = i;
  }
  out->append(value.data() + run_begin, value.size() - run_begin);
  out->push_back('"');
}

void JsonWriter::BeforeValue() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (!has_member_.empty()) {
    if (has_member_.back()) out_->push_back(',');
    has_member_.back() = true;
  }
}

JsonWriter& JsonWriter::BeginObject() {
  BeforeValue();
  out_->push_back('{');
  has_member_.push_back(false);
  return *this;
}

JsonWriter& JsonWriter::EndObject() {
  out_->push_back('}');
  has_member_.pop_back();
  return *this;
}

JsonWriter& JsonWriter::BeginArray() {
  BeforeValue();
  out_->push_back('[');
  has_member_.push_back(false);
  return *this;
}

JsonWriter& JsonWriter::EndArray() {
  out_->push_back(']');
  has_member_.pop_back();
  return *this;
}

JsonWriter& JsonWriter::Key(std::string_view key) {
  BeforeValue();
  AppendQuoted(out_, key);
  out_->push_back(':');
  after_key_ = true;
  return *this;
}

JsonWriter& JsonWriter::String(std::string_view value) {
  BeforeValue();
  AppendQuoted(out_, value);
  return *this;
}

JsonWriter& JsonWriter::Int(int64_t value) {
  BeforeValue();
  out_->append(std::to_string(value));
  return *this;
}

JsonWriter& JsonWriter::Double(double value) {
  BeforeValue();
  if (!std::isfinite(value)) {
    out_->append("null");
    return *this;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.6g", value);
  out_->append(buf);
  return *this;
}

JsonWriter& JsonWriter::Bool(bool value) {
  BeforeValue();
  out_->append(value ? "true" : "false");
  return *this;
}

JsonWriter& JsonWriter::Null() {
  BeforeValue();
  out_->append("null");
  return *this;
}

JsonWriter& JsonWriter::Raw(std::string_view json) {
  BeforeValue();
  out_->append(json);
  return *this;
}

}  // namespace usersync::io
