#include "io/http/json_util.h"

#include <algorithm>
#include <cstdint>

#include "absl/strings/str_cat.h"
#include "core/str.h"
#include "io/http/http_pipeline.h"

namespace usersync::io::json {

static_assert(kResponsePadding >= simdjson::SIMDJSON_PADDING,
              "HTTP response bodies must carry simdjson's padding");

std::string Path::Name(std::string_view field) const {
  std::string name;
  auto add = [&name](std::string_view part) {
    if (!name.empty()) name.push_back('.');
    name.append(part);
  };
  if (!array.empty()) {
    add(array);
    if (index >= 0) absl::StrAppend(&name, "[", index, "]");
  }
  if (!attr.empty()) {
    add(attr);
    if (attr_index >= 0) absl::StrAppend(&name, "[", attr_index, "]");
  }
  if (!field.empty()) add(field);
  return name.empty() ? std::string("document") : name;
}

absl::Status Fail(std::string_view source, std::string_view where, simdjson::error_code error) {
  return absl::DataLossError(
      absl::StrCat(Sv(source), ": ", Sv(where), ": ", simdjson::error_message(error)));
}

absl::Status Fail(std::string_view source, std::string_view where, std::string_view what) {
  return absl::DataLossError(absl::StrCat(Sv(source), ": ", Sv(where), ": ", Sv(what)));
}

od::parser& ThreadParser() {
  thread_local od::parser parser;
  return parser;
}

simdjson::padded_string_view Padded(const std::string& body, simdjson::padded_string* copy) {
  if (body.capacity() >= body.size() + simdjson::SIMDJSON_PADDING) {
    return simdjson::padded_string_view(body.data(), body.size(), body.capacity());
  }
  *copy = simdjson::padded_string(body);
  return *copy;
}

simdjson::error_code GetString(od::value& v, std::string_view* out) {
  od::json_type type;
  if (auto error = v.type().get(type)) return error;
  if (type == od::json_type::null) {
    *out = {};
    return simdjson::SUCCESS;
  }
  return v.get_string().get(*out);
}

simdjson::error_code GetBool(od::value& v, bool fallback, bool* out) {
  od::json_type type;
  if (auto error = v.type().get(type)) return error;
  if (type == od::json_type::null) {
    *out = fallback;
    return simdjson::SUCCESS;
  }
  if (type == od::json_type::string) {
    std::string_view s;
    if (auto error = v.get_string().get(s)) return error;
    if (core::EqualsIgnoreCase(s, "true")) {
      *out = true;
    } else if (core::EqualsIgnoreCase(s, "false")) {
      *out = false;
    } else {
      return simdjson::INCORRECT_TYPE;
    }
    return simdjson::SUCCESS;
  }
  return v.get_bool().get(*out);
}

simdjson::error_code GetInt(od::value& v, int64_t* out, bool* is_null) {
  od::json_type type;
  if (auto error = v.type().get(type)) return error;
  if (is_null != nullptr) *is_null = type == od::json_type::null;
  if (type == od::json_type::null) {
    *out = 0;
    return simdjson::SUCCESS;
  }
  return v.get_int64().get(*out);
}

simdjson::error_code GetIntOrDigits(od::value& v, int64_t* out, bool* is_null) {
  od::json_type type;
  if (auto error = v.type().get(type)) return error;
  if (type != od::json_type::string) return GetInt(v, out, is_null);
  if (is_null != nullptr) *is_null = false;
  std::string_view s;
  if (auto error = v.get_string().get(s)) return error;
  if (s.empty()) return simdjson::INCORRECT_TYPE;
  int64_t n = 0;
  for (char c : s) {
    if (c < '0' || c > '9' || n > (INT64_MAX - 9) / 10) return simdjson::INCORRECT_TYPE;
    n = n * 10 + (c - '0');
  }
  *out = n;
  return simdjson::SUCCESS;
}

Scratch& ThreadScratch() {
  thread_local Scratch scratch;
  return scratch;
}

std::string_view CanonicalList(Scratch& scratch) {
  std::sort(scratch.values.begin(), scratch.values.end());
  scratch.values.erase(std::unique(scratch.values.begin(), scratch.values.end()),
                       scratch.values.end());
  scratch.joined.clear();
  for (std::string_view value : scratch.values) {
    if (!scratch.joined.empty()) scratch.joined.push_back(',');
    scratch.joined.append(value);
  }
  return scratch.joined;
}

}  // namespace usersync::io::json
