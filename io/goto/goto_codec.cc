#include "io/goto/goto_codec.h"

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

// ---------------------------------------------------------------------------------------------
// Encoding

// "G2M,G2W" → ["G2M","G2W"]
void WriteList(JsonWriter& w, std::string_view comma_list) {
  w.BeginArray();
  while (!comma_list.empty()) {
    const size_t comma = comma_list.find(',');
    const std::string_view item = comma_list.substr(0, comma);
    if (!item.empty()) w.String(item);
    if (comma == std::string_view::npos) break;
    comma_list.remove_prefix(comma + 1);
  }
  w.EndArray();
}

void WriteRoles(JsonWriter& w, std::string_view admin_role) {
  w.BeginArray();
  const std::string_view role = GotoAdminRole(admin_role);
  if (!role.empty()) w.String(role);
  w.EndArray();
}

// A string field, or null when empty.
void StringOrNull(JsonWriter& w, std::string_view key, std::string_view value) {
  w.Key(key);
  if (value.empty()) {
    w.Null();
  } else {
    w.String(value);
  }
}

// ---------------------------------------------------------------------------------------------
// Decoding

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

// "results[3].email", or "email" for a single object.
std::string Where(std::string_view list, int64_t index, std::string_view field) {
  std::string where;
  if (!list.empty()) absl::StrAppend(&where, Sv(list), "[", index, "]");
  if (!field.empty()) absl::StrAppend(&where, where.empty() ? "" : ".", Sv(field));
  return where.empty() ? std::string("document") : where;
}

absl::Status Fail(const std::string& where, simdjson::error_code error) {
  return absl::DataLossError(
      absl::StrCat("GoTo response: ", where, ": ", simdjson::error_message(error)));
}

absl::Status Fail(const std::string& where, std::string_view what) {
  return absl::DataLossError(absl::StrCat("GoTo response: ", where, ": ", Sv(what)));
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

// A number or null (0); a number written as a string is accepted too.
simdjson::error_code GetInt(od::value& v, int64_t* out, bool* is_null = nullptr) {
  od::json_type type;
  if (auto error = v.type().get(type)) return error;
  if (is_null != nullptr) *is_null = type == od::json_type::null;
  if (type == od::json_type::null) {
    *out = 0;
    return simdjson::SUCCESS;
  }
  if (type == od::json_type::string) {
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
  return v.get_int64().get(*out);
}

// fn(key, value&) → absl::Status for each field of an object value (null: none).
template <typename Fn>
absl::Status ForEachField(od::value& v, const std::string& where, Fn&& fn) {
  od::json_type type;
  if (auto error = v.type().get(type)) return Fail(where, error);
  if (type == od::json_type::null) return absl::OkStatus();
  od::object object;
  if (auto error = v.get_object().get(object)) return Fail(where, error);
  for (auto field_result : object) {
    od::field field;
    if (auto error = std::move(field_result).get(field)) return Fail(where, error);
    std::string_view key;
    if (auto error = field.unescaped_key().get(key)) return Fail(where, error);
    absl::Status status = fn(key, field.value());
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

// fn(index, value&) → absl::Status for each element of an array value (null: none).
template <typename Fn>
absl::Status ForEachElement(od::value& v, const std::string& where, Fn&& fn) {
  od::json_type type;
  if (auto error = v.type().get(type)) return Fail(where, error);
  if (type == od::json_type::null) return absl::OkStatus();
  od::array array;
  if (auto error = v.get_array().get(array)) return Fail(where, error);
  int64_t index = 0;
  for (auto element_result : array) {
    od::value element;
    if (auto error = element_result.get(element)) {
      return Fail(absl::StrCat(where, "[", index, "]"), error);
    }
    absl::Status status = fn(index, element);
    if (!status.ok()) return status;
    ++index;
  }
  return absl::OkStatus();
}

// Each string of an array of strings (null elements skipped).
template <typename Fn>
absl::Status ForEachString(od::value& v, const std::string& where, Fn&& fn) {
  return ForEachElement(v, where, [&](int64_t index, od::value& element) -> absl::Status {
    std::string_view s;
    if (auto error = GetString(element, &s)) {
      return Fail(absl::StrCat(where, "[", index, "]"), error);
    }
    if (!s.empty()) fn(s);
    return absl::OkStatus();
  });
}

template <typename Fn>
absl::Status DecodeRoot(const std::string& body, Fn&& fn) {
  simdjson::padded_string copy;
  od::parser& parser = ThreadParser();
  od::document doc;
  if (auto error = parser.iterate(Padded(body, &copy)).get(doc)) return Fail("document", error);
  od::value root;
  if (auto error = doc.get_value().get(root)) return Fail("document", error);
  return fn(root);
}

struct Scratch {
  std::vector<std::string_view> products;
  std::string joined;
  std::string version;
};

Scratch& ThreadScratch() {
  thread_local Scratch scratch;
  return scratch;
}

// One user object → an Account appended to `out`. `list`/`index` name it in errors.
absl::Status DecodeUserValue(od::value& v, std::string_view list, int64_t index,
                             core::Accounts* out) {
  core::Account account;
  std::string_view role;
  std::string_view status;
  bool has_key = false;
  Scratch& scratch = ThreadScratch();
  scratch.products.clear();
  scratch.version.clear();

  auto string_field = [&](std::string_view key, od::value& fv,
                          std::string_view* target) -> absl::Status {
    std::string_view s;
    if (auto error = GetString(fv, &s)) return Fail(Where(list, index, key), error);
    *target = out->Store(s);
    return absl::OkStatus();
  };
  absl::Status decoded = ForEachField(
      v, Where(list, index, ""), [&](std::string_view key, od::value& fv) -> absl::Status {
        if (key == "userKey") {
          has_key = true;
          // Some GoTo answers write keys as numbers: keep their digits.
          od::json_type type;
          if (auto error = fv.type().get(type)) return Fail(Where(list, index, key), error);
          if (type == od::json_type::number) {
            int64_t n = 0;
            if (auto error = fv.get_int64().get(n)) return Fail(Where(list, index, key), error);
            account.id = out->Store(absl::StrCat(n));
            return absl::OkStatus();
          }
          return string_field(key, fv, &account.id);
        }
        if (key == "email") return string_field(key, fv, &account.email);
        if (key == "firstName") return string_field(key, fv, &account.first_name);
        if (key == "lastName") return string_field(key, fv, &account.last_name);
        if (key == "locale") return string_field(key, fv, &account.language);
        if (key == "externalId") return string_field(key, fv, &account.external_id);
        if (key == "userGroup") return string_field(key, fv, &account.user_group);
        if (key == "status") {
          if (auto error = GetString(fv, &status)) return Fail(Where(list, index, key), error);
          return absl::OkStatus();
        }
        if (key == "products") {
          return ForEachString(fv, Where(list, index, key),
                               [&](std::string_view p) { scratch.products.push_back(p); });
        }
        if (key == "adminRoles") {
          return ForEachString(fv, Where(list, index, key), [&](std::string_view r) {
            // The strongest role wins: SUPER_USER over MANAGER.
            if (r == "SUPER_USER" || (r == "MANAGER" && role.empty())) role = r;
          });
        }
        if (key == "version") {
          int64_t n = 0;
          if (auto error = GetInt(fv, &n)) return Fail(Where(list, index, key), error);
          scratch.version = absl::StrCat(n);
          return absl::OkStatus();
        }
        return absl::OkStatus();
      });
  if (!decoded.ok()) return decoded;
  if (!has_key || account.id.empty()) return Fail(Where(list, index, "userKey"), "missing");
  if (account.email.empty()) return Fail(Where(list, index, "email"), "missing");

  // The status string is a view into the parser's buffer: decide before it goes.
  account.active = status.empty() || status == "ACTIVE";
  account.user_name = account.email;
  account.admin_role = role == "SUPER_USER" ? "full" : role == "MANAGER" ? "manager" : "";
  if (!account.first_name.empty() || !account.last_name.empty()) {
    account.display_name =
        account.first_name.empty() || account.last_name.empty()
            ? (account.first_name.empty() ? account.last_name : account.first_name)
            : out->Store(absl::StrCat(Sv(account.first_name), " ", Sv(account.last_name)));
  }
  if (!scratch.version.empty()) account.version = out->Store(scratch.version);
  if (!scratch.products.empty()) {
    std::sort(scratch.products.begin(), scratch.products.end());
    scratch.products.erase(std::unique(scratch.products.begin(), scratch.products.end()),
                           scratch.products.end());
    scratch.joined.clear();
    for (std::string_view product : scratch.products) {
      if (!scratch.joined.empty()) scratch.joined.push_back(',');
      scratch.joined.append(product);
    }
    account.products = out->Store(scratch.joined);
  }
  out->items.push_back(account);
  return absl::OkStatus();
}

}  // namespace

// --- Encoders -------------------------------------------------------------------------------

std::string_view GotoAdminRole(std::string_view admin_role) {
  if (admin_role == "full") return "SUPER_USER";
  if (admin_role == "manager") return "MANAGER";
  return {};
}

std::string EncodeGotoCreateBatch(const std::vector<const core::AccountSpec*>& specs,
                                  bool suppress_email) {
  JsonWriter w;
  w.BeginObject().Key("users").BeginArray();
  for (const core::AccountSpec* spec : specs) {
    w.BeginObject();
    w.Field("email", spec->email.empty() ? spec->user_name : spec->email);
    w.Field("firstName", spec->first_name).Field("lastName", spec->last_name);
    if (!spec->language.empty()) w.Field("locale", spec->language);
    w.Key("products");
    WriteList(w, spec->products);
    w.Key("adminRoles");
    WriteRoles(w, spec->admin_role);
    if (!spec->external_id.empty()) w.Field("externalId", spec->external_id);
    if (!spec->user_group.empty()) w.Field("userGroup", spec->user_group);
    if (!spec->welcome_template.empty()) w.Field("welcomeTemplate", spec->welcome_template);
    w.EndObject();
  }
  w.EndArray().Key("suppressEmail").Bool(suppress_email).EndObject();
  return w.Release();
}

std::string EncodeGotoUpdate(const std::vector<core::Change>& changes,
                             const core::AccountSpec& spec, std::optional<bool> active) {
  JsonWriter w;
  w.BeginObject();
  int fields = 0;
  bool email_written = false;
  bool status_written = false;
  for (const core::Change& change : changes) {
    const core::Field field = change.field;
    ++fields;
    if (field == core::Field::kEmail || field == core::Field::kUserName) {
      if (email_written) {
        --fields;
        continue;
      }
      email_written = true;
      w.Field("email", spec.email.empty() ? spec.user_name : spec.email);
    } else if (field == core::Field::kFirstName) {
      w.Field("firstName", spec.first_name);
    } else if (field == core::Field::kLastName) {
      w.Field("lastName", spec.last_name);
    } else if (field == core::Field::kLanguage) {
      StringOrNull(w, "locale", spec.language);
    } else if (field == core::Field::kProducts) {
      w.Key("products");
      WriteList(w, spec.products);
    } else if (field == core::Field::kAdminRole) {
      w.Key("adminRoles");
      WriteRoles(w, spec.admin_role);
    } else if (field == core::Field::kUserGroup) {
      StringOrNull(w, "userGroup", spec.user_group);
    } else if (field == core::Field::kExternalId) {
      StringOrNull(w, "externalId", spec.external_id);
    } else if (field == core::Field::kActive && !active.has_value()) {
      status_written = true;
      w.Field("status", spec.active ? "ACTIVE" : "SUSPENDED");
    } else {
      --fields;  // display_name (GoTo holds none), "active" given by `active`, unknown fields
    }
  }
  if (active.has_value() && !status_written) {
    ++fields;
    w.Field("status", *active ? "ACTIVE" : "SUSPENDED");
  }
  if (fields == 0) return std::string();
  w.EndObject();
  return w.Release();
}

std::string GotoFilterEq(std::string_view attribute, std::string_view value) {
  std::string filter(attribute);
  filter.append(" eq ");
  JsonWriter::AppendQuoted(&filter, value);
  return filter;
}

// --- Decoders -------------------------------------------------------------------------------

absl::Status DecodeGotoUserList(const std::string& body, core::Accounts* out, int64_t* total) {
  bool has_results = false;
  int64_t total_value = 0;
  absl::Status status = DecodeRoot(body, [&](od::value& root) {
    return ForEachField(root, "document", [&](std::string_view key, od::value& v) -> absl::Status {
      if (key == "total") {
        if (auto error = GetInt(v, &total_value)) return Fail("total", error);
      } else if (key == "results") {
        has_results = true;
        return ForEachElement(v, "results", [&](int64_t index, od::value& user) {
          return DecodeUserValue(user, "results", index, out);
        });
      }
      return absl::OkStatus();
    });
  });
  if (!status.ok()) return status;
  if (!has_results) return Fail("results", "missing (not a GoTo user listing)");
  if (total != nullptr) *total = total_value;
  return absl::OkStatus();
}

absl::Status DecodeGotoUser(const std::string& body, core::Accounts* out) {
  return DecodeRoot(body, [&](od::value& root) { return DecodeUserValue(root, "", 0, out); });
}

absl::StatusOr<std::vector<GotoMemberResult>> DecodeGotoBatchResults(const std::string& body) {
  std::vector<GotoMemberResult> results;
  bool has_results = false;
  absl::Status status = DecodeRoot(body, [&](od::value& root) {
    return ForEachField(root, "document", [&](std::string_view key, od::value& v) -> absl::Status {
      if (key != "results") return absl::OkStatus();
      has_results = true;
      return ForEachElement(v, "results", [&](int64_t index, od::value& member) {
        GotoMemberResult result;
        absl::Status fields =
            ForEachField(member, Where("results", index, ""),
                         [&](std::string_view field, od::value& fv) -> absl::Status {
                           std::string_view s;
                           if (field == "userKey") {
                             od::json_type type;
                             if (auto error = fv.type().get(type)) {
                               return Fail(Where("results", index, field), error);
                             }
                             if (type == od::json_type::number) {
                               int64_t n = 0;
                               if (auto error = fv.get_int64().get(n)) {
                                 return Fail(Where("results", index, field), error);
                               }
                               result.user_key = absl::StrCat(n);
                               return absl::OkStatus();
                             }
                           }
                           if (field != "email" && field != "userKey" && field != "status" &&
                               field != "errorCode" && field != "product" && field != "message") {
                             return absl::OkStatus();
                           }
                           if (auto error = GetString(fv, &s)) {
                             return Fail(Where("results", index, field), error);
                           }
                           if (field == "email") result.email = std::string(s);
                           if (field == "userKey") result.user_key = std::string(s);
                           if (field == "errorCode") result.error_code = std::string(s);
                           if (field == "product") result.product = std::string(s);
                           if (field == "message") result.message = std::string(s.substr(0, 200));
                           if (field == "status") {
                             if (s == "created") {
                               result.kind = GotoMemberResult::Kind::kCreated;
                             } else if (s == "conflict") {
                               result.kind = GotoMemberResult::Kind::kConflict;
                             } else if (s == "error") {
                               result.kind = GotoMemberResult::Kind::kError;
                             }
                           }
                           return absl::OkStatus();
                         });
        if (!fields.ok()) return fields;
        results.push_back(std::move(result));
        return absl::OkStatus();
      });
    });
  });
  if (!status.ok()) return status;
  if (!has_results) return Fail("results", "missing (not a GoTo batch answer)");
  return results;
}

absl::StatusOr<FreeSeatList> DecodeGotoLicenses(const std::string& body) {
  FreeSeatList seats;
  bool has_results = false;
  absl::Status status = DecodeRoot(body, [&](od::value& root) {
    return ForEachField(root, "document", [&](std::string_view key, od::value& v) -> absl::Status {
      if (key != "results") return absl::OkStatus();
      has_results = true;
      return ForEachElement(v, "results", [&](int64_t index, od::value& license) {
        std::string product;
        int64_t free = 0;
        bool free_null = true;
        absl::Status fields =
            ForEachField(license, Where("results", index, ""),
                         [&](std::string_view field, od::value& fv) -> absl::Status {
                           if (field == "product") {
                             std::string_view s;
                             if (auto error = GetString(fv, &s)) {
                               return Fail(Where("results", index, field), error);
                             }
                             product = std::string(s);
                           } else if (field == "free") {
                             if (auto error = GetInt(fv, &free, &free_null)) {
                               return Fail(Where("results", index, field), error);
                             }
                           }
                           return absl::OkStatus();
                         });
        if (!fields.ok()) return fields;
        if (product.empty()) return Fail(Where("results", index, "product"), "missing");
        if (!free_null) seats.emplace_back(std::move(product), std::max<int64_t>(free, 0));
        return absl::OkStatus();
      });
    });
  });
  if (!status.ok()) return status;
  if (!has_results) return Fail("results", "missing (not a GoTo license listing)");
  return seats;
}

GotoError DecodeGotoError(const std::string& body) {
  GotoError out;
  absl::Status status = DecodeRoot(body, [&](od::value& root) {
    return ForEachField(root, "document", [&](std::string_view key, od::value& v) {
      std::string_view s;
      if (GetString(v, &s) != simdjson::SUCCESS) return absl::OkStatus();
      if (key == "errorCode") out.code = std::string(s);
      if (key == "message") out.message = std::string(s.substr(0, 200));
      if (key == "userKey") out.user_key = std::string(s);
      if (key == "product") out.product = std::string(s);
      return absl::OkStatus();
    });
  });
  if (!status.ok()) return GotoError{};
  return out;
}

}  // namespace usersync::io
