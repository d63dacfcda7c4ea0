// JsonValue: a small owned JSON tree for the target emulator's request bodies, seed files and
// stored arrays, built with simdjson On-Demand (the only place in io/emulator that includes
// simdjson, to keep compile times down).
//
// The emulator must interpret bodies whose meaning depends on fields that may come in any
// order (a PATCH operation's "value" means something only once "path" is known), so it decodes
// a body into this tree once and interprets the tree. Bodies are small (one resource or one
// PatchOp), so the tree costs a few microseconds.
//
// Thread-safety: ParseJson is thread-safe (one simdjson parser per thread, reused). A JsonValue
// is a plain value type.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace usersync::io::emulator {

struct JsonValue {
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject };

  Type type = Type::kNull;
  bool boolean = false;
  double number = 0;
  std::string string;
  std::vector<JsonValue> items;                            // kArray
  std::vector<std::pair<std::string, JsonValue>> members;  // kObject, in document order

  bool is_null() const { return type == Type::kNull; }
  bool is_bool() const { return type == Type::kBool; }
  bool is_number() const { return type == Type::kNumber; }
  bool is_string() const { return type == Type::kString; }
  bool is_array() const { return type == Type::kArray; }
  bool is_object() const { return type == Type::kObject; }

  // The first member named `key`, compared ASCII case-insensitively (SCIM attribute names are
  // case-insensitive, RFC 7643 §2.1); nullptr if absent or if this is not an object.
  const JsonValue* Find(std::string_view key) const;
};

// Parses `text` (one JSON object or array; anything else, trailing content, invalid UTF-8 or
// nesting deeper than 64 levels is an error). On failure: InvalidArgument with simdjson's
// reason. Cost: linear in `text`.
absl::StatusOr<JsonValue> ParseJson(std::string_view text);

}  // namespace usersync::io::emulator
