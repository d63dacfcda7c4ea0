#include "io/scim/scim_codec.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/str.h"
#include "io/http/http_pipeline.h"
#include "io/json_writer.h"
#include "simdjson.h"

namespace usersync::io {
namespace {

namespace od = simdjson::ondemand;

static_assert(kResponsePadding >= simdjson::SIMDJSON_PADDING,
              "HTTP response bodies must carry simdjson's padding");

constexpr std::string_view kUserSchema = "urn:ietf:params:scim:schemas:core:2.0:User";
constexpr std::string_view kGroupSchema = "urn:ietf:params:scim:schemas:core:2.0:Group";
constexpr std::string_view kPatchSchema = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
constexpr std::string_view kBulkRequestSchema = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";

// ---------------------------------------------------------------------------------------------
// Encoding

void WriteSchema(JsonWriter& w, std::string_view schema) {
  w.Key("schemas").BeginArray().String(schema).EndArray();
}

// "G2M,G2W" → [{"value":"G2M"},{"value":"G2W"}]
void WriteValueList(JsonWriter& w, std::string_view comma_list) {
  w.BeginArray();
  while (!comma_list.empty()) {
    const size_t comma = comma_list.find(',');
    const std::string_view item = comma_list.substr(0, comma);
    if (!item.empty()) w.BeginObject().Field("value", item).EndObject();
    if (comma == std::string_view::npos) break;
    comma_list.remove_prefix(comma + 1);
  }
  w.EndArray();
}

void WriteEmails(JsonWriter& w, std::string_view email) {
  w.BeginArray().BeginObject();
  w.Field("value", email).Field("type", "work").Key("primary").Bool(true);
  w.EndObject().EndArray();
}

void PatchOp(JsonWriter& w, std::string_view path, std::string_view value_if_set,
             bool remove_if_empty) {
  w.BeginObject();
  if (value_if_set.empty() && remove_if_empty) {
    w.Field("op", "remove").Field("path", path);
  } else {
    w.Field("op", "replace").Field("path", path).Field("value", value_if_set);
  }
  w.EndObject();
}

// ---------------------------------------------------------------------------------------------
// Decoding

od::parser& ThreadParser() {
  thread_local od::parser parser;
  return parser;
}

// The body as simdjson wants it: in place when its capacity holds the padding, else a copy.
simdjson::padded_string_view Padded(const std::string& body, simdjson::padded_string* copy) {
  if (body.capacity() >= body.size() + simdjson::SIMDJSON_PADDING) {
    return simdjson::padded_string_view(body.data(), body.size(), body.capacity());
  }
  *copy = simdjson::padded_string(body);
  return *copy;
}

bool KeyIs(std::string_view key, std::string_view name) {
  if (key.size() != name.size()) return false;
  for (size_t i = 0; i < key.size(); ++i) {
    char c = key[i];
    char n = name[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (n >= 'A' && n <= 'Z') n = static_cast<char>(n - 'A' + 'a');
    if (c != n) return false;
  }
  return true;
}

// Where a decoding error happened, e.g. "Resources[3].emails[0].value". Plain views and
// numbers: the name is built only when an error is reported.
struct Where {
  std::string_view array;  // "Resources", or "" for a single resource
  int64_t index = -1;
  std::string_view attr;  // "emails", "name", ... or ""
  int64_t attr_index = -1;

  static Where List(std::string_view name) {
    Where w;
    w.array = name;
    return w;
  }
  Where In(std::string_view attribute) const {
    Where w = *this;
    w.attr = attribute;
    w.attr_index = -1;
    return w;
  }
  Where At(int64_t i) const {
    Where w = *this;
    if (w.attr.empty()) {
      w.index = i;
    } else {
      w.attr_index = i;
    }
    return w;
  }
  std::string Name(std::string_view field = {}) const {
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
};

absl::Status Fail(const std::string& where, simdjson::error_code error) {
  return absl::DataLossError(
      absl::StrCat("SCIM response: ", where, ": ", simdjson::error_message(error)));
}

absl::Status Fail(const std::string& where, std::string_view what) {
  return absl::DataLossError(absl::StrCat("SCIM response: ", where, ": ", Sv(what)));
}

// A string or null (read as "").
simdjson::error_code GetString(od::value& v, std::string_view* out) {
  od::json_type type;
  if (auto error = v.type().get(type)) return error;
  if (type == od::json_type::null) {
    *out = {};
    return simdjson::SUCCESS;
  }
  return v.get_string().get(*out);
}

// A bool, a "true"/"false" string (lenient servers), or null (read as `fallback`).
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
    if (KeyIs(s, "true")) {
      *out = true;
    } else if (KeyIs(s, "false")) {
      *out = false;
    } else {
      return simdjson::INCORRECT_TYPE;
    }
    return simdjson::SUCCESS;
  }
  return v.get_bool().get(*out);
}

simdjson::error_code GetInt(od::value& v, int64_t* out) {
  od::json_type type;
  if (auto error = v.type().get(type)) return error;
  if (type == od::json_type::null) {
    *out = 0;
    return simdjson::SUCCESS;
  }
  return v.get_int64().get(*out);
}

// Iterates the fields of an object value (null is empty): fn(key, value&) → absl::Status.
template <typename Fn>
absl::Status ForEachField(od::value& v, const Where& where, Fn&& fn) {
  od::json_type type;
  if (auto error = v.type().get(type)) return Fail(where.Name(), error);
  if (type == od::json_type::null) return absl::OkStatus();
  od::object object;
  if (auto error = v.get_object().get(object)) return Fail(where.Name(), error);
  for (auto field_result : object) {
    od::field field;
    if (auto error = std::move(field_result).get(field)) return Fail(where.Name(), error);
    std::string_view key;
    if (auto error = field.unescaped_key().get(key)) return Fail(where.Name(), error);
    absl::Status status = fn(key, field.value());
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

// Iterates the elements of an array value (null is empty): fn(where of the element, value&)
// → absl::Status.
template <typename Fn>
absl::Status ForEachElement(od::value& v, const Where& where, Fn&& fn) {
  od::json_type type;
  if (auto error = v.type().get(type)) return Fail(where.Name(), error);
  if (type == od::json_type::null) return absl::OkStatus();
  od::array array;
  if (auto error = v.get_array().get(array)) return Fail(where.Name(), error);
  int64_t index = 0;
  for (auto element_result : array) {
    od::value element;
    if (auto error = element_result.get(element)) return Fail(where.At(index).Name(), error);
    absl::Status status = fn(where.At(index), element);
    if (!status.ok()) return status;
    ++index;
  }
  return absl::OkStatus();
}

// Reads `value` of each {"value": ...} element of a multi-valued attribute; also `display`
// and `primary` when asked.
struct MultiValue {
  std::string_view value;
  std::string_view display;
  bool primary = false;
};

template <typename Fn>
absl::Status ForEachMultiValue(od::value& v, const Where& where, Fn&& fn) {
  return ForEachElement(v, where, [&](const Where& at, od::value& element) -> absl::Status {
    MultiValue item;
    absl::Status status =
        ForEachField(element, at, [&](std::string_view key, od::value& fv) -> absl::Status {
          if (KeyIs(key, "value")) {
            // Values may be numbers on some servers (group ids): keep their raw text.
            od::json_type type;
            if (auto error = fv.type().get(type)) return Fail(at.Name("value"), error);
            if (type == od::json_type::number) {
              std::string_view raw = fv.raw_json_token();
              while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\n' ||
                                      raw.back() == '\r' || raw.back() == '\t')) {
                raw.remove_suffix(1);
              }
              item.value = raw;
              return absl::OkStatus();
            }
            if (auto error = GetString(fv, &item.value)) return Fail(at.Name("value"), error);
          } else if (KeyIs(key, "display")) {
            if (auto error = GetString(fv, &item.display)) return Fail(at.Name("display"), error);
          } else if (KeyIs(key, "primary")) {
            if (auto error = GetBool(fv, false, &item.primary)) {
              return Fail(at.Name("primary"), error);
            }
          }
          return absl::OkStatus();
        });
    if (!status.ok()) return status;
    fn(item);
    return absl::OkStatus();
  });
}

// Per-thread scratch for canonical product lists.
struct Scratch {
  std::vector<std::string_view> values;
  std::string joined;
};

Scratch& ThreadScratch() {
  thread_local Scratch scratch;
  return scratch;
}

// Decodes one User object into an Account appended to `out`.
absl::Status DecodeUserValue(od::value& v, const Where& where, core::Accounts* out) {
  core::Account account;
  std::string_view first_email;
  std::string_view primary_email;
  std::string_view first_role;
  std::string_view first_group;
  bool has_group = false;
  bool has_id = false;
  bool has_user_name = false;
  Scratch& scratch = ThreadScratch();
  scratch.values.clear();

  auto string_field = [&](const Where& at, std::string_view key, od::value& fv,
                          std::string_view* target) -> absl::Status {
    std::string_view s;
    if (auto error = GetString(fv, &s)) return Fail(at.Name(key), error);
    *target = out->Store(s);
    return absl::OkStatus();
  };

  absl::Status status =
      ForEachField(v, where, [&](std::string_view key, od::value& fv) -> absl::Status {
        if (KeyIs(key, "id")) {
          has_id = true;
          return string_field(where, "id", fv, &account.id);
        }
        if (KeyIs(key, "userName")) {
          has_user_name = true;
          return string_field(where, "userName", fv, &account.user_name);
        }
        if (KeyIs(key, "externalId")) {
          return string_field(where, "externalId", fv, &account.external_id);
        }
        if (KeyIs(key, "displayName")) {
          return string_field(where, "displayName", fv, &account.display_name);
        }
        if (KeyIs(key, "preferredLanguage")) {
          return string_field(where, "preferredLanguage", fv, &account.language);
        }
        if (KeyIs(key, "active")) {
          if (auto error = GetBool(fv, true, &account.active)) {
            return Fail(where.Name("active"), error);
          }
          return absl::OkStatus();
        }
        if (KeyIs(key, "name")) {
          const Where at = where.In("name");
          return ForEachField(fv, at, [&](std::string_view name_key, od::value& nv) {
            if (KeyIs(name_key, "givenName")) {
              return string_field(at, "givenName", nv, &account.first_name);
            }
            if (KeyIs(name_key, "familyName")) {
              return string_field(at, "familyName", nv, &account.last_name);
            }
            return absl::OkStatus();
          });
        }
        if (KeyIs(key, "emails")) {
          return ForEachMultiValue(fv, where.In("emails"), [&](const MultiValue& item) {
            if (first_email.empty()) first_email = item.value;
            if (item.primary && primary_email.empty()) primary_email = item.value;
          });
        }
        if (KeyIs(key, "entitlements")) {
          return ForEachMultiValue(fv, where.In("entitlements"), [&](const MultiValue& item) {
            if (!item.value.empty()) scratch.values.push_back(item.value);
          });
        }
        if (KeyIs(key, "roles")) {
          return ForEachMultiValue(fv, where.In("roles"), [&](const MultiValue& item) {
            if (first_role.empty()) first_role = item.value;
          });
        }
        if (KeyIs(key, "groups")) {
          return ForEachMultiValue(fv, where.In("groups"), [&](const MultiValue& item) {
            if (!has_group) first_group = item.display;
            has_group = true;
          });
        }
        if (KeyIs(key, "meta")) {
          const Where at = where.In("meta");
          return ForEachField(fv, at, [&](std::string_view meta_key, od::value& mv) {
            if (KeyIs(meta_key, "version"))
              return string_field(at, "version", mv, &account.version);
            return absl::OkStatus();
          });
        }
        return absl::OkStatus();
      });
  if (!status.ok()) return status;
  if (!has_id || account.id.empty()) return Fail(where.Name("id"), "missing");
  if (!has_user_name || account.user_name.empty()) return Fail(where.Name("userName"), "missing");

  account.email = out->Store(primary_email.empty() ? first_email : primary_email);
  account.admin_role = out->Store(first_role);
  account.user_group = out->Store(first_group);
  if (!scratch.values.empty()) {
    std::sort(scratch.values.begin(), scratch.values.end());
    scratch.values.erase(std::unique(scratch.values.begin(), scratch.values.end()),
                         scratch.values.end());
    scratch.joined.clear();
    for (std::string_view value : scratch.values) {
      if (!scratch.joined.empty()) scratch.joined.push_back(',');
      scratch.joined.append(value);
    }
    account.products = out->Store(scratch.joined);
  }
  out->items.push_back(account);
  return absl::OkStatus();
}

// Iterates a ListResponse: fn(index, resource value&) for each of Resources.
template <typename Fn>
absl::Status DecodeList(const std::string& body, int64_t* total_results, Fn&& fn) {
  simdjson::padded_string copy;
  od::parser& parser = ThreadParser();
  od::document doc;
  if (auto error = parser.iterate(Padded(body, &copy)).get(doc)) return Fail("document", error);
  od::object root;
  if (auto error = doc.get_object().get(root)) return Fail("document", error);
  int64_t total = 0;
  for (auto field_result : root) {
    od::field field;
    if (auto error = std::move(field_result).get(field)) return Fail("document", error);
    std::string_view key;
    if (auto error = field.unescaped_key().get(key)) return Fail("document", error);
    if (KeyIs(key, "totalResults")) {
      if (auto error = GetInt(field.value(), &total)) return Fail("totalResults", error);
    } else if (KeyIs(key, "Resources")) {
      absl::Status status =
          ForEachElement(field.value(), Where::List("Resources"),
                         [&](const Where& at, od::value& resource) { return fn(at, resource); });
      if (!status.ok()) return status;
    }
  }
  if (total_results != nullptr) *total_results = total;
  return absl::OkStatus();
}

template <typename Fn>
absl::Status DecodeSingle(const std::string& body, Fn&& fn) {
  simdjson::padded_string copy;
  od::parser& parser = ThreadParser();
  od::document doc;
  if (auto error = parser.iterate(Padded(body, &copy)).get(doc)) return Fail("document", error);
  od::value root;
  if (auto error = doc.get_value().get(root)) return Fail("document", error);
  return fn(root);
}

absl::Status DecodeGroupValue(od::value& v, const Where& where, ScimGroup* group) {
  return ForEachField(v, where, [&](std::string_view key, od::value& fv) -> absl::Status {
    std::string_view s;
    if (KeyIs(key, "id")) {
      if (auto error = GetString(fv, &s)) return Fail(where.Name("id"), error);
      group->id = std::string(s);
    } else if (KeyIs(key, "displayName")) {
      if (auto error = GetString(fv, &s)) return Fail(where.Name("displayName"), error);
      group->display_name = std::string(s);
    }
    return absl::OkStatus();
  });
}

}  // namespace

std::string EncodeUser(const core::AccountSpec& spec) {
  JsonWriter w;
  w.BeginObject();
  WriteSchema(w, kUserSchema);
  w.Field("userName", spec.user_name);
  if (!spec.external_id.empty()) w.Field("externalId", spec.external_id);
  w.Key("name").BeginObject();
  w.Field("givenName", spec.first_name).Field("familyName", spec.last_name);
  w.EndObject();
  if (!spec.display_name.empty()) w.Field("displayName", spec.display_name);
  if (!spec.email.empty()) {
    w.Key("emails");
    WriteEmails(w, spec.email);
  }
  w.Key("active").Bool(spec.active);
  if (!spec.language.empty()) w.Field("preferredLanguage", spec.language);
  w.Key("entitlements");
  WriteValueList(w, spec.products);
  w.Key("roles");
  WriteValueList(w, spec.admin_role);
  w.EndObject();
  return w.Release();
}

std::string EncodePatch(const std::vector<core::Change>& changes, const core::AccountSpec& spec) {
  JsonWriter w;
  w.BeginObject();
  WriteSchema(w, kPatchSchema);
  w.Key("Operations").BeginArray();
  int ops = 0;
  for (const core::Change& change : changes) {
    const core::Field field = change.field;
    ++ops;
    if (field == core::Field::kFirstName) {
      PatchOp(w, "name.givenName", spec.first_name, true);
    } else if (field == core::Field::kLastName) {
      PatchOp(w, "name.familyName", spec.last_name, true);
    } else if (field == core::Field::kDisplayName) {
      PatchOp(w, "displayName", spec.display_name, true);
    } else if (field == core::Field::kUserName) {
      PatchOp(w, "userName", spec.user_name, false);
    } else if (field == core::Field::kExternalId) {
      PatchOp(w, "externalId", spec.external_id, true);
    } else if (field == core::Field::kLanguage) {
      PatchOp(w, "preferredLanguage", spec.language, true);
    } else if (field == core::Field::kEmail) {
      w.BeginObject().Field("op", "replace").Field("path", "emails").Key("value");
      WriteEmails(w, spec.email);
      w.EndObject();
    } else if (field == core::Field::kProducts || field == core::Field::kAdminRole) {
      const std::string_view path = field == core::Field::kProducts ? "entitlements" : "roles";
      const std::string& values = field == core::Field::kProducts ? spec.products : spec.admin_role;
      w.BeginObject();
      if (values.empty()) {
        w.Field("op", "remove").Field("path", path);
      } else {
        w.Field("op", "replace").Field("path", path).Key("value");
        WriteValueList(w, values);
      }
      w.EndObject();
    } else if (field == core::Field::kActive) {
      w.BeginObject().Field("op", "replace").Field("path", "active").Key("value");
      w.Bool(spec.active).EndObject();
    } else {
      --ops;  // user_group (group membership) and fields SCIM does not hold
    }
  }
  if (ops == 0) return std::string();
  w.EndArray().EndObject();
  return w.Release();
}

std::string EncodeActivePatch(bool active) {
  JsonWriter w;
  w.BeginObject();
  WriteSchema(w, kPatchSchema);
  w.Key("Operations").BeginArray().BeginObject();
  w.Field("op", "replace").Field("path", "active").Key("value").Bool(active);
  w.EndObject().EndArray().EndObject();
  return w.Release();
}

std::string EncodeGroup(std::string_view display_name) {
  JsonWriter w;
  w.BeginObject();
  WriteSchema(w, kGroupSchema);
  w.Field("displayName", display_name);
  w.Key("members").BeginArray().EndArray();
  w.EndObject();
  return w.Release();
}

std::string EncodeGroupMembershipPatch(std::string_view user_id, bool add) {
  JsonWriter w;
  w.BeginObject();
  WriteSchema(w, kPatchSchema);
  w.Key("Operations").BeginArray().BeginObject();
  if (add) {
    w.Field("op", "add").Field("path", "members").Key("value").BeginArray();
    w.BeginObject().Field("value", user_id).EndObject().EndArray();
  } else {
    w.Field("op", "remove")
        .Field("path", absl::StrCat("members[", FilterEq("value", user_id), "]"));
  }
  w.EndObject().EndArray().EndObject();
  return w.Release();
}

std::string FilterEq(std::string_view attribute, std::string_view value) {
  std::string filter(attribute);
  filter.append(" eq ");
  JsonWriter::AppendQuoted(&filter, value);
  return filter;
}

std::string UrlEncode(std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(value.size() * 3);
  for (unsigned char c : value) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

std::string EncodeBulkCreate(const std::vector<const core::AccountSpec*>& specs) {
  JsonWriter w;
  w.BeginObject();
  WriteSchema(w, kBulkRequestSchema);
  w.Key("Operations").BeginArray();
  for (size_t spec_idx = 0; spec_idx < specs.size(); ++spec_idx) {
    w.BeginObject().Field("method", "POST").Field("path", "/Users");
    w.Field("bulkId", absl::StrCat(spec_idx));
    w.Key("data").Raw(EncodeUser(*specs[spec_idx]));
    w.EndObject();
  }
  w.EndArray().EndObject();
  return w.Release();
}

absl::Status DecodeListResponse(const std::string& body, core::Accounts* out,
                                int64_t* total_results) {
  return DecodeList(body, total_results, [out](const Where& where, od::value& resource) {
    return DecodeUserValue(resource, where, out);
  });
}

absl::Status DecodeUser(const std::string& body, core::Accounts* out) {
  return DecodeSingle(body, [out](od::value& root) { return DecodeUserValue(root, Where{}, out); });
}

absl::StatusOr<ScimServiceConfig> DecodeServiceProviderConfig(const std::string& body) {
  ScimServiceConfig config;
  absl::Status status = DecodeSingle(body, [&](od::value& root) {
    return ForEachField(root, Where{}, [&](std::string_view key, od::value& v) -> absl::Status {
      auto read = [&](std::string_view section, bool* supported,
                      std::initializer_list<std::pair<std::string_view, int64_t*>> numbers) {
        const Where at = Where{}.In(section);
        return ForEachField(v, at, [&](std::string_view field, od::value& fv) -> absl::Status {
          if (KeyIs(field, "supported")) {
            if (auto error = GetBool(fv, false, supported))
              return Fail(at.Name("supported"), error);
            return absl::OkStatus();
          }
          for (const auto& [name, target] : numbers) {
            if (!KeyIs(field, name)) continue;
            if (auto error = GetInt(fv, target)) return Fail(at.Name(name), error);
          }
          return absl::OkStatus();
        });
      };
      if (KeyIs(key, "patch")) return read("patch", &config.patch, {});
      if (KeyIs(key, "bulk")) {
        return read("bulk", &config.bulk,
                    {{"maxOperations", &config.bulk_max_operations},
                     {"maxPayloadSize", &config.bulk_max_payload_bytes}});
      }
      if (KeyIs(key, "filter")) {
        return read("filter", &config.filter, {{"maxResults", &config.filter_max_results}});
      }
      if (KeyIs(key, "etag")) return read("etag", &config.etag, {});
      return absl::OkStatus();
    });
  });
  if (!status.ok()) return status;
  return config;
}

absl::Status DecodeGroupList(const std::string& body, std::vector<ScimGroup>* out,
                             int64_t* total_results) {
  return DecodeList(body, total_results, [out](const Where& where, od::value& resource) {
    ScimGroup group;
    absl::Status status = DecodeGroupValue(resource, where, &group);
    if (!status.ok()) return status;
    if (group.id.empty()) return Fail(where.Name("id"), "missing");
    out->push_back(std::move(group));
    return absl::OkStatus();
  });
}

absl::StatusOr<ScimGroup> DecodeGroup(const std::string& body) {
  ScimGroup group;
  absl::Status status =
      DecodeSingle(body, [&](od::value& root) { return DecodeGroupValue(root, Where{}, &group); });
  if (!status.ok()) return status;
  if (group.id.empty()) return Fail("id", "missing");
  return group;
}

namespace {

// An HTTP status written as a number, a string of digits, or {"code": ...}; 0 otherwise.
absl::Status GetBulkStatus(od::value& v, const Where& where, int* out) {
  od::json_type type;
  if (auto error = v.type().get(type)) return Fail(where.Name("status"), error);
  *out = 0;
  if (type == od::json_type::number) {
    int64_t n = 0;
    if (auto error = v.get_int64().get(n)) return Fail(where.Name("status"), error);
    *out = static_cast<int>(n);
  } else if (type == od::json_type::string) {
    std::string_view s;
    if (auto error = v.get_string().get(s)) return Fail(where.Name("status"), error);
    int n = 0;
    for (char c : s) {
      if (c < '0' || c > '9' || n > 999) return absl::OkStatus();
      n = n * 10 + (c - '0');
    }
    *out = n;
  } else if (type == od::json_type::object) {
    return ForEachField(v, where.In("status"), [&](std::string_view key, od::value& cv) {
      if (KeyIs(key, "code")) return GetBulkStatus(cv, where, out);
      return absl::OkStatus();
    });
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<ScimBulkResult>> DecodeBulkResponse(const std::string& body) {
  std::vector<ScimBulkResult> results;
  bool has_operations = false;
  absl::Status status = DecodeSingle(body, [&](od::value& root) {
    return ForEachField(root, Where{}, [&](std::string_view key, od::value& v) -> absl::Status {
      if (!KeyIs(key, "Operations")) return absl::OkStatus();
      has_operations = true;
      return ForEachElement(v, Where::List("Operations"), [&](const Where& at, od::value& op) {
        ScimBulkResult result;
        std::string scim_type;
        std::string detail;
        absl::Status fields =
            ForEachField(op, at, [&](std::string_view field, od::value& fv) -> absl::Status {
              std::string_view s;
              if (KeyIs(field, "bulkId")) {
                if (auto error = GetString(fv, &s)) return Fail(at.Name("bulkId"), error);
                result.bulk_id = std::string(s);
              } else if (KeyIs(field, "location")) {
                if (auto error = GetString(fv, &s)) return Fail(at.Name("location"), error);
                result.location = std::string(s);
              } else if (KeyIs(field, "status")) {
                return GetBulkStatus(fv, at, &result.status);
              } else if (KeyIs(field, "response")) {
                const Where in = at.In("response");
                return ForEachField(fv, in, [&](std::string_view rkey, od::value& rv) {
                  std::string_view text;
                  od::json_type type;
                  if (rv.type().get(type) != simdjson::SUCCESS || type != od::json_type::string) {
                    return absl::OkStatus();  // nested attributes of a returned resource
                  }
                  if (auto error = rv.get_string().get(text)) return Fail(in.Name(rkey), error);
                  if (KeyIs(rkey, "id")) result.id = std::string(text);
                  if (KeyIs(rkey, "scimType")) scim_type = std::string(text);
                  if (KeyIs(rkey, "detail")) detail = std::string(text);
                  return absl::OkStatus();
                });
              }
              return absl::OkStatus();
            });
        if (!fields.ok()) return fields;
        if (result.id.empty() && !result.location.empty()) {
          std::string_view location = result.location;
          while (!location.empty() && location.back() == '/') location.remove_suffix(1);
          const size_t slash = location.rfind('/');
          result.id =
              std::string(slash == std::string_view::npos ? location : location.substr(slash + 1));
        }
        result.detail = scim_type.empty() || detail.empty() ? scim_type + detail
                                                            : absl::StrCat(scim_type, ": ", detail);
        if (result.detail.size() > 200) result.detail.resize(200);
        results.push_back(std::move(result));
        return absl::OkStatus();
      });
    });
  });
  if (!status.ok()) return status;
  if (!has_operations) return Fail("Operations", "missing (not a BulkResponse)");
  return results;
}

std::string ErrorDetail(const std::string& body) {
  std::string scim_type;
  std::string detail;
  absl::Status status = DecodeSingle(body, [&](od::value& root) {
    return ForEachField(root, Where{}, [&](std::string_view key, od::value& v) {
      std::string_view s;
      if (KeyIs(key, "scimType") && GetString(v, &s) == simdjson::SUCCESS) scim_type = s;
      if (KeyIs(key, "detail") && GetString(v, &s) == simdjson::SUCCESS) detail = s;
      return absl::OkStatus();
    });
  });
  if (!status.ok()) return std::string();
  std::string out = scim_type.empty() || detail.empty() ? scim_type + detail
                                                        : absl::StrCat(scim_type, ": ", detail);
  if (out.size() > 200) out.resize(200);
  return out;
}

}  // namespace usersync::io
