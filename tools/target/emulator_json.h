// JsonValue: a small owned JSON tree for the target emulator's request bodies, seed files and
// stored arrays, built with simdjson On-Demand (the only place in tools/target that includes
// simdjson, to keep compile times down).
//
// The emulator must interpret bodies whose meaning depends on fields that may come in any
// order (a PATCH operation's "value" means something only once "path" is known), so it decodes
// a body into this tree once and interprets the tree. Bodies are small (one resource or one
// PatchOp), so the tree costs a few microseconds.
//
// Thread-safety: ParseJson and WriteJson are thread-safe (one simdjson parser per thread,
// reused). A JsonValue is a plain value type.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "io/json_writer.h"

namespace usersync::io::emulator {

struct JsonValue {
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject };

  // Out of line: `members` holds pairs of this (still incomplete) type, which clang's
  // libstdc++ instantiation refuses inside the class.
  JsonValue();
  ~JsonValue();
  JsonValue(const JsonValue&);
  JsonValue(JsonValue&&) noexcept;
  JsonValue& operator=(const JsonValue&);
  JsonValue& operator=(JsonValue&&) noexcept;

  Type type = Type::kNull;
  bool boolean = false;
  double number = 0;
  std::string string;  // kString: the text; kNumber: the number as written ("7902142105473202120")
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

// Writes `value` back as JSON (members in their order; integral numbers of magnitude below
// 2^53 as integers, others with 17 significant digits). Used to forward a SCIM /Bulk
// operation's "data" as the body of the request it stands for. Cost: linear in the tree.
void WriteJson(const JsonValue& value, JsonWriter* writer);

}  // namespace usersync::io::emulator
