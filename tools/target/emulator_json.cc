#include "tools/target/emulator_json.h"

#include <cmath>
#include <cstdio>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/str.h"
#include "simdjson.h"

namespace usersync::io::emulator {
namespace {

namespace od = simdjson::ondemand;

constexpr int kMaxDepth = 64;

absl::Status JsonError(simdjson::error_code error) {
  return absl::InvalidArgumentError(
      absl::StrCat("malformed JSON: ", simdjson::error_message(error)));
}

absl::Status Convert(od::value value, int depth, JsonValue* out);

absl::Status ConvertObject(od::object object, int depth, JsonValue* out) {
  if (depth > kMaxDepth) return absl::InvalidArgumentError("malformed JSON: nesting too deep");
  out->type = JsonValue::Type::kObject;
  for (auto field_result : object) {
    od::field field;
    if (auto error = std::move(field_result).get(field); error) return JsonError(error);
    std::string_view key;
    if (auto error = field.unescaped_key().get(key); error) return JsonError(error);
    out->members.emplace_back(std::string(key), JsonValue());
    absl::Status status = Convert(field.value(), depth + 1, &out->members.back().second);
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::Status ConvertArray(od::array array, int depth, JsonValue* out) {
  if (depth > kMaxDepth) return absl::InvalidArgumentError("malformed JSON: nesting too deep");
  out->type = JsonValue::Type::kArray;
  for (auto item_result : array) {
    od::value item;
    if (auto error = std::move(item_result).get(item); error) return JsonError(error);
    out->items.emplace_back();
    absl::Status status = Convert(item, depth + 1, &out->items.back());
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::Status Convert(od::value value, int depth, JsonValue* out) {
  od::json_type type;
  if (auto error = value.type().get(type); error) return JsonError(error);
  switch (type) {
    case od::json_type::object: {
      od::object object;
      if (auto error = value.get_object().get(object); error) return JsonError(error);
      return ConvertObject(object, depth, out);
    }
    case od::json_type::array: {
      od::array array;
      if (auto error = value.get_array().get(array); error) return JsonError(error);
      return ConvertArray(array, depth, out);
    }
    case od::json_type::string: {
      std::string_view s;
      if (auto error = value.get_string().get(s); error) return JsonError(error);
      out->type = JsonValue::Type::kString;
      out->string.assign(s);
      return absl::OkStatus();
    }
    case od::json_type::number: {
      // The text as written, so a key of any length (GoTo's license keys) survives.
      std::string_view raw = value.raw_json_token();
      while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\n' || raw.back() == '\r' ||
                              raw.back() == '\t')) {
        raw.remove_suffix(1);
      }
      out->string.assign(raw);
      double d;
      if (auto error = value.get_double().get(d); error) return JsonError(error);
      out->type = JsonValue::Type::kNumber;
      out->number = d;
      return absl::OkStatus();
    }
    case od::json_type::boolean: {
      bool b;
      if (auto error = value.get_bool().get(b); error) return JsonError(error);
      out->type = JsonValue::Type::kBool;
      out->boolean = b;
      return absl::OkStatus();
    }
    case od::json_type::null: {
      bool is_null = false;
      if (auto error = value.is_null().get(is_null); error) return JsonError(error);
      if (!is_null) return JsonError(simdjson::N_ATOM_ERROR);
      out->type = JsonValue::Type::kNull;
      return absl::OkStatus();
    }
  }
  return absl::InvalidArgumentError("malformed JSON: unknown value type");
}

}  // namespace

JsonValue::JsonValue() = default;
JsonValue::~JsonValue() = default;
JsonValue::JsonValue(const JsonValue&) = default;
JsonValue::JsonValue(JsonValue&&) noexcept = default;
JsonValue& JsonValue::operator=(const JsonValue&) = default;
JsonValue& JsonValue::operator=(JsonValue&&) noexcept = default;

const JsonValue* JsonValue::Find(std::string_view key) const {
  for (const auto& [name, value] : members) {
    if (absl::EqualsIgnoreCase(Sv(name), Sv(key))) return &value;
  }
  return nullptr;
}

void WriteJson(const JsonValue& value, JsonWriter* writer) {
  switch (value.type) {
    case JsonValue::Type::kNull:
      writer->Null();
      return;
    case JsonValue::Type::kBool:
      writer->Bool(value.boolean);
      return;
    case JsonValue::Type::kNumber: {
      constexpr double kMaxExact = 9007199254740992.0;  // 2^53
      if (std::trunc(value.number) == value.number && std::fabs(value.number) < kMaxExact) {
        writer->Int(static_cast<int64_t>(value.number));
      } else {
        char buffer[40];
        std::snprintf(buffer, sizeof(buffer), "%.17g", value.number);
        writer->Raw(buffer);
      }
      return;
    }
    case JsonValue::Type::kString:
      writer->String(value.string);
      return;
    case JsonValue::Type::kArray:
      writer->BeginArray();
      for (const JsonValue& item : value.items) WriteJson(item, writer);
      writer->EndArray();
      return;
    case JsonValue::Type::kObject:
      writer->BeginObject();
      for (const auto& [key, member] : value.members) {
        writer->Key(key);
        WriteJson(member, writer);
      }
      writer->EndObject();
      return;
  }
}

absl::StatusOr<JsonValue> ParseJson(std::string_view text) {
  thread_local od::parser parser;
  thread_local std::string buffer;
  // On-Demand reads up to SIMDJSON_PADDING bytes past the end: parse a padded copy.
  buffer.assign(text);
  buffer.resize(text.size() + simdjson::SIMDJSON_PADDING, '\0');
  od::document doc;
  if (auto error = parser.iterate(buffer.data(), text.size(), buffer.size()).get(doc); error) {
    return JsonError(error);
  }
  od::json_type type;
  if (auto error = doc.type().get(type); error) return JsonError(error);
  JsonValue result;
  if (type == od::json_type::object) {
    od::object object;
    if (auto error = doc.get_object().get(object); error) return JsonError(error);
    absl::Status status = ConvertObject(object, 1, &result);
    if (!status.ok()) return status;
  } else if (type == od::json_type::array) {
    od::array array;
    if (auto error = doc.get_array().get(array); error) return JsonError(error);
    absl::Status status = ConvertArray(array, 1, &result);
    if (!status.ok()) return status;
  } else {
    return absl::InvalidArgumentError("malformed JSON: expected an object or an array");
  }
  // Anything after the root value is an error; current_location() is OUT_OF_BOUNDS at the end.
  const char* location = nullptr;
  if (doc.current_location().get(location) == simdjson::SUCCESS) {
    return JsonError(simdjson::TRAILING_CONTENT);
  }
  return result;
}

}  // namespace usersync::io::emulator
