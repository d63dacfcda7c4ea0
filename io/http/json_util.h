// JSON reading helpers shared by the HTTP dialects' decoders (io/scim, io/goto): simdjson
// On-Demand over response bodies, with errors that name where in the document they happened.
//
// simdjson.h is heavy to compile (~2.4 s per translation unit): include this header only from
// the decoder .cc files, never from another header.
//
// Thread-safety: every function is thread-safe. ThreadParser() and ThreadScratch() are
// per-thread and reused across calls; a decoder must not start a second parse on the same
// thread while one is in progress (none does: decoders do not nest).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "simdjson.h"

namespace usersync::io::json {

namespace od = simdjson::ondemand;

// Where a decoding error happened, e.g. "Resources[3].emails[0].value" of a "SCIM response".
// Plain views and numbers: the name is built only when an error is reported.
struct Path {
  std::string_view source;  // what is being read, e.g. "SCIM response" (prefixes messages)
  std::string_view array;   // "Resources", or "" for a single resource
  int64_t index = -1;
  std::string_view attr;  // "emails", "name", ... or ""
  int64_t attr_index = -1;

  static Path Root(std::string_view source) {
    Path p;
    p.source = source;
    return p;
  }
  Path List(std::string_view name) const {
    Path p = Root(source);
    p.array = name;
    return p;
  }
  Path In(std::string_view attribute) const {
    Path p = *this;
    p.attr = attribute;
    p.attr_index = -1;
    return p;
  }
  Path At(int64_t i) const {
    Path p = *this;
    (p.attr.empty() ? p.index : p.attr_index) = i;
    return p;
  }
  // "Resources[3].emails[0]" plus ".field"; "document" when empty.
  std::string Name(std::string_view field = {}) const;
};

// kDataLoss "<source>: <where>: <what>".
absl::Status Fail(std::string_view source, std::string_view where, simdjson::error_code error);
absl::Status Fail(std::string_view source, std::string_view where, std::string_view what);
inline absl::Status Fail(const Path& path, std::string_view field, simdjson::error_code error) {
  return Fail(path.source, path.Name(field), error);
}
inline absl::Status Fail(const Path& path, std::string_view field, std::string_view what) {
  return Fail(path.source, path.Name(field), what);
}

// This thread's parser (reused: its buffers grow once).
od::parser& ThreadParser();

// The body as simdjson wants it: in place when its capacity holds the padding (HttpResponse
// bodies do), else copied once into *copy.
simdjson::padded_string_view Padded(const std::string& body, simdjson::padded_string* copy);

// A string or null (read as "").
simdjson::error_code GetString(od::value& v, std::string_view* out);
// A bool, a "true"/"false" string in any case (lenient servers), or null (read as `fallback`).
simdjson::error_code GetBool(od::value& v, bool fallback, bool* out);
// A number or null (0). *is_null, when given, tells which.
simdjson::error_code GetInt(od::value& v, int64_t* out, bool* is_null = nullptr);
// As GetInt, and a number written as a string of digits is accepted too.
simdjson::error_code GetIntOrDigits(od::value& v, int64_t* out, bool* is_null = nullptr);

// Per-thread scratch for decoders: canonical lists are gathered here, then stored once.
struct Scratch {
  std::vector<std::string_view> values;
  std::string joined;
  std::string text;
};
Scratch& ThreadScratch();

// scratch.values sorted, de-duplicated and comma-joined into scratch.joined:
// {"G2W", "G2M", "G2W"} → "G2M,G2W". The views must outlive the call only.
std::string_view CanonicalList(Scratch& scratch);

// fn(key, value&) → absl::Status for each field of an object value (null: none).
template <typename Fn>
absl::Status ForEachField(od::value& v, const Path& where, Fn&& fn) {
  od::json_type type;
  if (auto error = v.type().get(type)) return Fail(where, {}, error);
  if (type == od::json_type::null) return absl::OkStatus();
  od::object object;
  if (auto error = v.get_object().get(object)) return Fail(where, {}, error);
  for (auto field_result : object) {
    od::field field;
    if (auto error = std::move(field_result).get(field)) return Fail(where, {}, error);
    std::string_view key;
    if (auto error = field.unescaped_key().get(key)) return Fail(where, {}, error);
    absl::Status status = fn(key, field.value());
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

// fn(path of the element, value&) → absl::Status for each element of an array value (null:
// none).
template <typename Fn>
absl::Status ForEachElement(od::value& v, const Path& where, Fn&& fn) {
  od::json_type type;
  if (auto error = v.type().get(type)) return Fail(where, {}, error);
  if (type == od::json_type::null) return absl::OkStatus();
  od::array array;
  if (auto error = v.get_array().get(array)) return Fail(where, {}, error);
  int64_t index = 0;
  for (auto element_result : array) {
    od::value element;
    if (auto error = element_result.get(element)) return Fail(where.At(index), {}, error);
    absl::Status status = fn(where.At(index), element);
    if (!status.ok()) return status;
    ++index;
  }
  return absl::OkStatus();
}

// Parses `body` and runs fn(root value&) → absl::Status. Errors name `source`'s "document".
template <typename Fn>
absl::Status DecodeRoot(const std::string& body, std::string_view source, Fn&& fn) {
  simdjson::padded_string copy;
  od::document doc;
  if (auto error = ThreadParser().iterate(Padded(body, &copy)).get(doc)) {
    return Fail(source, "document", error);
  }
  od::value root;
  if (auto error = doc.get_value().get(root)) return Fail(source, "document", error);
  return fn(root);
}

}  // namespace usersync::io::json
