// JsonWriter: a small streaming JSON writer (RFC 8259) into a std::string.
//
// Commas and nesting are tracked for the caller; strings are escaped (control characters as
// \u00XX; invalid UTF-8 bytes replaced by U+FFFD so the output is always valid JSON).
// Not thread-safe; one writer per output. Reading JSON is simdjson's job, never this one's.
//
//   JsonWriter w;
//   w.BeginObject(); w.Key("userName"); w.String("ann@example.com"); w.EndObject();
//   w.str() == R"({"userName":"ann@example.com"})"
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace usersync::io {

class JsonWriter {
 public:
  JsonWriter() = default;
  // Appends to `out` instead of an internal buffer. REQUIRES: `out` outlives the writer.
  explicit JsonWriter(std::string* out) : out_(out) {}

  JsonWriter& BeginObject();
  JsonWriter& EndObject();
  JsonWriter& BeginArray();
  JsonWriter& EndArray();
  JsonWriter& Key(std::string_view key);
  JsonWriter& String(std::string_view value);
  JsonWriter& Int(int64_t value);
  JsonWriter& Double(double value);
  JsonWriter& Bool(bool value);
  JsonWriter& Null();
  // Inserts `json` verbatim as one value. REQUIRES: `json` is valid JSON.
  JsonWriter& Raw(std::string_view json);

  // Key + String shorthand.
  JsonWriter& Field(std::string_view key, std::string_view value) { return Key(key).String(value); }

  const std::string& str() const { return *out_; }
  std::string Release() { return std::move(*out_); }

  // Appends `value` as a quoted, escaped JSON string to `out`.
  static void AppendQuoted(std::string* out, std::string_view value);

 private:
  void BeforeValue();
  std::string own_;
  std::string* out_ = &own_;
  // One entry per open container: true once it holds a member (a comma is due).
  std::vector<bool> has_member_;
  bool after_key_ = false;
};

}  // namespace usersync::io
