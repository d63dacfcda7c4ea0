#include "tools/target/emulator_scim.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "core/str.h"
#include "io/scim_extension.h"
#include "tools/target/emulator_scim_internal.h"

namespace usersync::io::emulator {
namespace {

constexpr char kScimTypePayload[] = "usersync/scimType";

}  // namespace

namespace scim_internal {

std::string Lower(std::string_view s) { return absl::AsciiStrToLower(Sv(s)); }

bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  return absl::StartsWithIgnoreCase(Sv(s), Sv(prefix));
}

absl::Status InvalidValue(std::string_view detail) {
  return ScimError(absl::StatusCode::kInvalidArgument, "invalidValue", detail);
}
absl::Status InvalidPath(std::string_view detail) {
  return ScimError(absl::StatusCode::kInvalidArgument, "invalidPath", detail);
}
absl::Status InvalidFilter(std::string_view detail) {
  return ScimError(absl::StatusCode::kInvalidArgument, "invalidFilter", detail);
}
absl::Status Mutability(std::string_view detail) {
  return ScimError(absl::StatusCode::kInvalidArgument, "mutability", detail);
}
absl::Status NoTarget(std::string_view detail) {
  return ScimError(absl::StatusCode::kInvalidArgument, "noTarget", detail);
}

// Strips "<schema>:" from a path or attribute name (case-insensitively). A different URN is
// an error: the emulator serves no schema extensions.
absl::StatusOr<std::string_view> StripSchema(std::string_view path, std::string_view schema) {
  if (!StartsWithIgnoreCase(path, "urn:")) return path;
  if (StartsWithIgnoreCase(path, schema) && path.size() > schema.size() &&
      path[schema.size()] == ':') {
    return path.substr(schema.size() + 1);
  }
  return InvalidPath(absl::StrCat("unsupported schema in path \"", Sv(path), "\""));
}

void SetMappedAttribute(EmulatorUser& user, std::string_view path, std::string value) {
  auto& attributes = user.attributes;
  auto it =
      std::lower_bound(attributes.begin(), attributes.end(), path,
                       [](const auto& item, std::string_view key) { return item.first < key; });
  const bool present = it != attributes.end() && it->first == path;
  if (value.empty()) {
    if (present) attributes.erase(it);
  } else if (present) {
    it->second = std::move(value);
  } else {
    attributes.emplace(it, std::string(path), std::move(value));
  }
}

absl::Status DecodeEnterprise(const JsonValue& value, EmulatorUser& user) {
  if (value.is_null()) return absl::OkStatus();
  if (!value.is_object()) return InvalidValue("the enterprise extension must be an object");
  for (const auto& [key, member] : value.members) {
    std::string_view parent;
    std::string_view name = key;
    const JsonValue* text = &member;
    if (EqualsIgnoreCase(key, "manager")) {
      if (member.is_null()) {
        SetMappedAttribute(user, FindScimMappedAttribute(kEnterpriseUserUrn, "manager", "value"),
                           "");
        continue;
      }
      if (!member.is_object()) return InvalidValue("manager must be an object");
      text = member.Find("value");
      if (text == nullptr) continue;
      parent = "manager";
      name = "value";
    }
    const std::string_view path = FindScimMappedAttribute(kEnterpriseUserUrn, parent, name);
    if (path.empty()) continue;
    absl::StatusOr<std::string> string = StringValue(*text, path);
    if (!string.ok()) return string.status();
    SetMappedAttribute(user, path, *std::move(string));
  }
  return absl::OkStatus();
}

bool IsAttributeChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '$';
}

std::string_view TrimSpaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// ---- value helpers ----

absl::StatusOr<std::string> StringValue(const JsonValue& value, std::string_view attribute) {
  if (value.is_string()) return value.string;
  if (value.is_null()) return std::string();
  return InvalidValue(absl::StrCat(Sv(attribute), " must be a string"));
}

absl::StatusOr<bool> BoolValue(const JsonValue& value, std::string_view attribute) {
  if (value.is_bool()) return value.boolean;
  // Some provisioning clients send "True"/"False".
  if (value.is_string() && EqualsIgnoreCase(value.string, "true")) return true;
  if (value.is_string() && EqualsIgnoreCase(value.string, "false")) return false;
  return InvalidValue(absl::StrCat(Sv(attribute), " must be a boolean"));
}

// The values of a multi-valued attribute of the {"value": "..."} kind (entitlements, roles):
// an array of such objects (or of plain strings), or one of them alone.
absl::StatusOr<std::vector<std::string>> ValueList(const JsonValue& value,
                                                   std::string_view attribute) {
  std::vector<std::string> values;
  auto take = [&](const JsonValue& item) -> absl::Status {
    if (item.is_string()) {
      values.push_back(item.string);
      return absl::OkStatus();
    }
    if (item.is_object()) {
      const JsonValue* inner = item.Find("value");
      if (inner != nullptr && inner->is_string()) {
        values.push_back(inner->string);
        return absl::OkStatus();
      }
    }
    return InvalidValue(absl::StrCat(Sv(attribute), " items must be {\"value\": string}"));
  };
  if (value.is_array()) {
    for (const JsonValue& item : value.items) USERSYNC_RETURN_IF_ERROR(take(item));
  } else if (!value.is_null()) {
    USERSYNC_RETURN_IF_ERROR(take(value));
  }
  return values;
}

void AddUnique(std::vector<std::string>* list, const std::string& value) {
  if (std::find(list->begin(), list->end(), value) == list->end()) list->push_back(value);
}

std::vector<std::string> Deduplicated(std::vector<std::string> values) {
  std::vector<std::string> out;
  for (std::string& value : values) AddUnique(&out, value);
  return out;
}

// The email to keep from an "emails" value: the primary one, else the "work" one, else the
// first. Accepts an array of {"value", "type", "primary"} objects or one such object.
absl::StatusOr<std::string> PickEmail(const JsonValue& value) {
  std::vector<const JsonValue*> items;
  if (value.is_array()) {
    for (const JsonValue& item : value.items) items.push_back(&item);
  } else if (value.is_object()) {
    items.push_back(&value);
  } else if (value.is_null()) {
    return std::string();
  } else {
    return InvalidValue("emails must be an array of {\"value\": string}");
  }
  const JsonValue* chosen = nullptr;
  int chosen_rank = 0;
  for (const JsonValue* item : items) {
    if (!item->is_object()) return InvalidValue("emails items must be objects");
    const JsonValue* address = item->Find("value");
    if (address == nullptr || !address->is_string()) {
      return InvalidValue("emails items need a string \"value\"");
    }
    const JsonValue* primary = item->Find("primary");
    const JsonValue* type = item->Find("type");
    int rank = 1;
    if (type != nullptr && type->is_string() && EqualsIgnoreCase(type->string, "work")) rank = 2;
    if (primary != nullptr && primary->is_bool() && primary->boolean) rank = 3;
    if (rank > chosen_rank) {
      chosen = address;
      chosen_rank = rank;
    }
  }
  return chosen == nullptr ? std::string() : chosen->string;
}

// ---- paths ----

absl::StatusOr<PatchPath> ParsePath(std::string_view text, std::string_view schema) {
  PatchPath path;
  path.text = std::string(text);
  std::string_view rest = TrimSpaces(text);
  // A URN prefix ends at the last ':' before any filter (filter values may hold ':').
  size_t bracket = rest.find('[');
  std::string_view head = rest.substr(0, bracket);
  if (std::optional<std::string_view> extension = StripRuleSettingsUrn(rest)) {
    path.extension = true;
    path.attribute = Lower(TrimSpaces(*extension));
    return path;  // its attributes are simple: no filter, no sub-attribute
  }
  if (schema == kScimUserSchema && StartsWithIgnoreCase(head, kEnterpriseUserUrn) &&
      head.size() > kEnterpriseUserUrn.size() && head[kEnterpriseUserUrn.size()] == ':') {
    path.enterprise = true;
    rest.remove_prefix(kEnterpriseUserUrn.size() + 1);
  } else if (StartsWithIgnoreCase(head, "urn:")) {
    absl::StatusOr<std::string_view> stripped = StripSchema(rest, schema);
    if (!stripped.ok()) return stripped.status();
    rest = *stripped;
  }
  size_t pos = 0;
  while (pos < rest.size() && IsAttributeChar(rest[pos])) ++pos;
  if (pos == 0) return InvalidPath(absl::StrCat("invalid path \"", Sv(text), "\""));
  path.attribute = Lower(rest.substr(0, pos));
  rest.remove_prefix(pos);
  if (!rest.empty() && rest.front() == '[') {
    // The filter ends at the first ']' outside a quoted string.
    bool quoted = false;
    size_t end = 1;
    for (; end < rest.size(); ++end) {
      char c = rest[end];
      if (quoted && c == '\\') {
        ++end;
      } else if (c == '"') {
        quoted = !quoted;
      } else if (c == ']' && !quoted) {
        break;
      }
    }
    if (end >= rest.size()) return InvalidPath(absl::StrCat("unclosed '[' in \"", Sv(text), "\""));
    absl::StatusOr<ScimFilter> filter = ParseFilter(rest.substr(1, end - 1));
    if (!filter.ok()) return filter.status();
    path.filter = *std::move(filter);
    rest.remove_prefix(end + 1);
  }
  if (!rest.empty()) {
    if (rest.front() != '.') return InvalidPath(absl::StrCat("invalid path \"", Sv(text), "\""));
    rest.remove_prefix(1);
    pos = 0;
    while (pos < rest.size() && IsAttributeChar(rest[pos])) ++pos;
    if (pos == 0 || pos != rest.size()) {
      return InvalidPath(absl::StrCat("invalid path \"", Sv(text), "\""));
    }
    path.sub_attribute = Lower(rest);
  }
  return path;
}

}  // namespace scim_internal

namespace {

using namespace scim_internal;  // NOLINT(build/namespaces): this file's own helpers

}  // namespace

// ---- errors ----

absl::Status ScimError(absl::StatusCode code, std::string_view scim_type, std::string_view detail) {
  absl::Status status(code, Sv(detail));
  if (!scim_type.empty()) status.SetPayload(kScimTypePayload, absl::Cord(Sv(scim_type)));
  return status;
}

std::string ScimTypeOf(const absl::Status& status) {
  absl::optional<absl::Cord> payload = status.GetPayload(kScimTypePayload);
  if (payload.has_value()) return std::string(*payload);
  if (status.code() == absl::StatusCode::kAlreadyExists) return "uniqueness";
  return std::string();
}

int HttpStatusOf(const absl::Status& status) {
  if (!NoSeatProduct(status).empty()) return 409;
  switch (status.code()) {
    case absl::StatusCode::kOk:
      return 200;
    case absl::StatusCode::kInvalidArgument:
      return 400;
    case absl::StatusCode::kUnauthenticated:
      return 401;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kAlreadyExists:
      return 409;
    case absl::StatusCode::kFailedPrecondition:
      return 412;
    case absl::StatusCode::kResourceExhausted:
      return 429;
    case absl::StatusCode::kUnimplemented:
      return 501;
    case absl::StatusCode::kUnavailable:
      return 503;
    default:
      return 500;
  }
}

std::string ErrorBody(const absl::Status& status) {
  if (!NoSeatProduct(status).empty()) {
    return ErrorBody(409, "", absl::StrCat("NO_SEAT: ", status.message()));
  }
  return ErrorBody(HttpStatusOf(status), ScimTypeOf(status), StdSv(status.message()));
}

std::string ErrorBody(int http_status, std::string_view scim_type, std::string_view detail) {
  JsonWriter writer;
  writer.BeginObject();
  writer.Key("schemas").BeginArray().String(kScimErrorSchema).EndArray();
  writer.Field("status", std::to_string(http_status));
  if (!scim_type.empty()) writer.Field("scimType", scim_type);
  writer.Field("detail", detail);
  writer.EndObject();
  return writer.Release();
}

// ---- versions ----

std::string VersionTag(int64_t version) { return absl::StrCat("W/\"", version, "\""); }

int64_t ParseIfMatch(std::string_view value) {
  value = TrimSpaces(value);
  if (value.empty() || value == "*") return 0;
  if (value.substr(0, 2) == "W/") value.remove_prefix(2);
  if (value.size() < 2 || value.front() != '"' || value.back() != '"') return -1;
  int64_t version = 0;
  if (!absl::SimpleAtoi(Sv(value.substr(1, value.size() - 2)), &version) || version <= 0) {
    return -1;
  }
  return version;
}

// ---- filters ----

absl::StatusOr<ScimFilter> ParseFilter(std::string_view text) {
  std::string_view rest = TrimSpaces(text);
  auto fail = [&]() {
    return InvalidFilter(absl::StrCat("unsupported filter \"", Sv(text),
                                      "\": only 'attribute eq \"value\"' is served"));
  };
  size_t space = rest.find_first_of(" \t");
  if (space == std::string_view::npos) return fail();
  std::string_view attribute = rest.substr(0, space);
  if (StartsWithIgnoreCase(attribute, "urn:")) {
    // Keep only the attribute after the schema URN (core schemas only).
    size_t colon = attribute.rfind(':');
    std::string_view schema = attribute.substr(0, colon);
    if (!EqualsIgnoreCase(schema, kScimUserSchema) && !EqualsIgnoreCase(schema, kScimGroupSchema)) {
      return fail();
    }
    attribute = attribute.substr(colon + 1);
  }
  if (attribute.empty()) return fail();
  for (char c : attribute) {
    if (!IsAttributeChar(c) && c != '.') return fail();
  }
  rest = TrimSpaces(rest.substr(space));
  if (rest.size() < 3 || !EqualsIgnoreCase(rest.substr(0, 2), "eq") ||
      (rest[2] != ' ' && rest[2] != '\t')) {
    return fail();
  }
  rest = TrimSpaces(rest.substr(3));
  // The value is one JSON string and nothing may follow it.
  if (rest.size() < 2 || rest.front() != '"') return fail();
  size_t end = 1;
  for (; end < rest.size(); ++end) {
    if (rest[end] == '\\') {
      ++end;
    } else if (rest[end] == '"') {
      break;
    }
  }
  if (end != rest.size() - 1) return fail();
  absl::StatusOr<JsonValue> parsed = ParseJson(absl::StrCat("[", Sv(rest), "]"));
  if (!parsed.ok() || parsed->items.size() != 1 || !parsed->items[0].is_string()) return fail();
  ScimFilter filter;
  filter.attribute = Lower(attribute);
  filter.value = std::move(parsed->items[0].string);
  return filter;
}

}  // namespace usersync::io::emulator
