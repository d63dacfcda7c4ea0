#include "io/goto/goto_codec.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "core/rules.h"
#include "core/status_macros.h"
#include "core/str.h"
#include "io/goto/goto_roles.h"
#include "io/http/json_util.h"
#include "io/json_writer.h"

namespace usersync::io {
namespace {

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

// adminRoles from the desired state (io/goto/goto_roles.h): full → ["SUPER_USER"], manager →
// its privileges, none → [] (clears).
void WriteRoles(JsonWriter& w, const core::AccountSpec& spec) {
  if (spec.admin_role == "manager") {
    WriteList(w, spec.privileges);
    return;
  }
  w.BeginArray();
  const std::string_view role = GotoAdminRole(spec.admin_role);
  if (!role.empty()) w.String(role);
  w.EndArray();
}

// "licenseKeys": [...]. GoTo's keys are JSON numbers (§3b: "licenseKeys":
// [7902142105473202120]); written from their text, so a key of any length goes out exactly as
// it came in (a key that is not all digits goes as a string).
void WriteLicenseKeys(JsonWriter& w, const std::vector<std::string>& license_keys);

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

using json::Fail;
namespace od = json::od;
using json::Path;

constexpr std::string_view kSource = "GoTo response";

// 1 to 64 decimal digits: the bound keeps a hostile number from becoming a huge key.
bool IsKeyDigits(std::string_view text) {
  if (text.empty() || text.size() > 64) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}
const Path kRoot = Path::Root(kSource);

void WriteLicenseKeys(JsonWriter& w, const std::vector<std::string>& license_keys) {
  w.Key("licenseKeys").BeginArray();
  for (const std::string& key : license_keys) {
    if (IsKeyDigits(key)) {
      w.Raw(key);
    } else {
      w.String(key);
    }
  }
  w.EndArray();
}

// A key GoTo may write as a string or as a number. A number's digits are taken from the
// document's own text, never through int64 or double: GoTo's documented user key
// 78888886011013972886849029 has 26 digits (GOTO_API_RESEARCH.md §3a), beyond 64 bits.
absl::Status GetKey(od::value& v, const Path& at, std::string_view field, std::string* out) {
  od::json_type type;
  if (auto error = v.type().get(type)) return Fail(at, field, error);
  if (type == od::json_type::number) {
    std::string_view raw = v.raw_json_token();
    while (!raw.empty() &&
           (raw.back() == ' ' || raw.back() == '\n' || raw.back() == '\r' || raw.back() == '\t')) {
      raw.remove_suffix(1);
    }
    if (!IsKeyDigits(raw)) {
      return Fail(
          at, field,
          absl::StrCat("not a whole non-negative number: ", std::string(raw.substr(0, 40))));
    }
    out->assign(raw.data(), raw.size());
    return absl::OkStatus();
  }
  std::string_view s;
  if (auto error = json::GetString(v, &s)) return Fail(at, field, error);
  out->assign(s.data(), s.size());  // keeps the scratch buffer: no allocation per user
  return absl::OkStatus();
}

// Each string of an array of strings (empty and null elements skipped).
template <typename Fn>
absl::Status ForEachString(od::value& v, const Path& where, Fn&& fn) {
  return json::ForEachElement(v, where, [&](const Path& at, od::value& element) -> absl::Status {
    std::string_view s;
    if (auto error = json::GetString(element, &s)) return Fail(at, {}, error);
    if (!s.empty()) fn(s);
    return absl::OkStatus();
  });
}

// What a user's adminRoles and roleSets say (io/goto/goto_roles.h).
struct UserRoles {
  bool super_user = false;
  std::vector<std::string> privileges;  // canonical names of kGotoPrivileges
  std::vector<std::string> role_sets;   // ids as text
  // usersync's own fields (GOTO_SHAPES.md): whether the user carried them, and the groups.
  bool has_device_groups = false;
  bool has_settings_template = false;
  std::vector<std::string> device_groups;
};

// Each element of an array of ids (strings or numbers of any length) as text.
template <typename Fn>
absl::Status ForEachKey(od::value& v, const Path& where, Fn&& fn) {
  return json::ForEachElement(v, where, [&](const Path& at, od::value& element) -> absl::Status {
    std::string id;
    USERSYNC_RETURN_IF_ERROR(GetKey(element, at, {}, &id));
    if (!id.empty()) fn(std::move(id));
    return absl::OkStatus();
  });
}

// One user field into `account` (strings stored in out's arena); unknown keys are skipped.
absl::Status DecodeUserField(std::string_view key, od::value& fv, const Path& at,
                             core::Accounts* out, core::Account& account, UserRoles& roles,
                             std::string_view& status, bool& has_key) {
  json::Scratch& scratch = json::ThreadScratch();
  auto string_field = [&](std::string_view* target) -> absl::Status {
    std::string_view s;
    if (auto error = json::GetString(fv, &s)) return Fail(at, key, error);
    *target = out->Store(s);
    return absl::OkStatus();
  };
  if (key == "key" || key == "userKey") {  // "key": GoTo's documented name (§2c, §3a)
    has_key = true;
    USERSYNC_RETURN_IF_ERROR(GetKey(fv, at, key, &scratch.text));
    account.id = out->Store(scratch.text);
    return absl::OkStatus();
  }
  if (key == "email") return string_field(&account.email);
  if (key == "firstName") return string_field(&account.first_name);
  if (key == "lastName") return string_field(&account.last_name);
  if (key == "locale") return string_field(&account.language);
  if (key == "externalId") return string_field(&account.external_id);
  if (key == "userGroup") return string_field(&account.user_group);
  if (key == "status") {
    if (auto error = json::GetString(fv, &status)) return Fail(at, key, error);
    return absl::OkStatus();
  }
  if (key == "products") {
    return ForEachString(fv, at.In(key), [&](std::string_view p) { scratch.values.push_back(p); });
  }
  if (key == "adminRoles") {
    return ForEachString(fv, at.In(key), [&](std::string_view r) {
      // Roles outside the known list (GoTo may have more) are not a manager's privileges.
      if (r == kGotoSuperUser) roles.super_user = true;
      if (std::optional<std::string_view> p = CanonicalGotoPrivilege(r)) {
        roles.privileges.emplace_back(*p);
      }
    });
  }
  if (key == "roleSets") {
    return ForEachKey(fv, at.In(key), [&](std::string id) { roles.role_sets.push_back(id); });
  }
  if (key == "deviceGroups") {
    roles.has_device_groups = true;
    return ForEachString(fv, at.In(key),
                         [&](std::string_view g) { roles.device_groups.emplace_back(g); });
  }
  if (key == "settingsTemplate") {
    roles.has_settings_template = true;
    return string_field(&account.settings_template);
  }
  if (key == "version") {
    int64_t n = 0;
    if (auto error = json::GetIntOrDigits(fv, &n)) return Fail(at, key, error);
    account.version = out->Store(absl::StrCat(n));
  }
  return absl::OkStatus();
}

// SUPER_USER → "full" (a super user holds every admin role: its others are not kept); else any
// privilege or role set → "manager" with them; else "" (a member). role_set holds the ids
// (canonical list) until the driver names them.
void SetAdminRole(UserRoles& roles, core::Accounts* out, core::Account& account) {
  if (roles.super_user) {
    account.admin_role = "full";
  } else if (!roles.privileges.empty() || !roles.role_sets.empty()) {
    account.admin_role = "manager";
    if (!roles.privileges.empty()) {
      account.privileges = out->Store(core::CanonicalList(std::move(roles.privileges)));
    }
    if (!roles.role_sets.empty()) {
      account.role_set = out->Store(core::CanonicalList(std::move(roles.role_sets)));
    }
  }
}

// One user object → an Account appended to `out`. `at` names it in errors.
absl::Status DecodeUserValue(od::value& v, const Path& at, core::Accounts* out) {
  core::Account account;
  UserRoles roles;
  std::string_view status;
  bool has_key = false;
  json::Scratch& scratch = json::ThreadScratch();
  scratch.values.clear();
  USERSYNC_RETURN_IF_ERROR(
      json::ForEachField(v, at, [&](std::string_view key, od::value& fv) -> absl::Status {
        return DecodeUserField(key, fv, at, out, account, roles, status, has_key);
      }));
  if (!has_key || account.id.empty()) return Fail(at, "key", "missing");
  if (account.email.empty()) return Fail(at, "email", "missing");

  // The status string is a view into the parser's buffer: decide before it goes.
  account.active = status.empty() || status == "ACTIVE";
  account.user_name = account.email;
  SetAdminRole(roles, out, account);
  if (!roles.device_groups.empty()) {
    account.device_groups = out->Store(core::CanonicalList(std::move(roles.device_groups)));
  }
  // An answer without usersync's own fields (a real GoTo, until confirmed) is not compared.
  if (!roles.has_device_groups) account.MarkUnreturned(core::Field::kDeviceGroups);
  if (!roles.has_settings_template) account.MarkUnreturned(core::Field::kSettingsTemplate);
  if (!account.first_name.empty() || !account.last_name.empty()) {
    account.display_name =
        account.first_name.empty() || account.last_name.empty()
            ? (account.first_name.empty() ? account.last_name : account.first_name)
            : out->Store(absl::StrCat(Sv(account.first_name), " ", Sv(account.last_name)));
  }
  if (!scratch.values.empty()) account.products = out->Store(json::CanonicalList(scratch));
  out->items.push_back(account);
  return absl::OkStatus();
}

// Runs fn(path of the element, element&) for each element of the root's "results" array.
// Errors: kDataLoss "results: missing (<not_what>)" when the root has no "results".
template <typename Fn>
absl::Status ForEachResult(const std::string& body, std::string_view not_what, Fn&& fn,
                           int64_t* total = nullptr) {
  bool has_results = false;
  USERSYNC_RETURN_IF_ERROR(json::DecodeRoot(body, kSource, [&](od::value& root) {
    return json::ForEachField(root, kRoot, [&](std::string_view key, od::value& v) -> absl::Status {
      if (key == "total" && total != nullptr) {
        if (auto error = json::GetIntOrDigits(v, total)) return Fail(kRoot, "total", error);
      } else if (key == "results") {
        has_results = true;
        return json::ForEachElement(v, kRoot.List("results"), fn);
      }
      return absl::OkStatus();
    });
  }));
  if (!has_results) {
    return Fail(kSource, "results", absl::StrCat("missing (not a GoTo ", Sv(not_what), ")"));
  }
  return absl::OkStatus();
}

}  // namespace

// --- Encoders -------------------------------------------------------------------------------

std::string_view GotoAdminRole(std::string_view admin_role) {
  if (admin_role == "full") return kGotoSuperUser;
  return {};
}

std::string EncodeGotoCreateBatch(const std::vector<const core::AccountSpec*>& specs,
                                  bool suppress_email,
                                  const std::vector<std::string>& license_keys) {
  JsonWriter w;
  w.BeginObject().Key("users").BeginArray();
  for (const core::AccountSpec* spec : specs) {
    w.BeginObject();
    w.Field("email", GotoEmail(*spec));
    w.Field("firstName", spec->first_name).Field("lastName", spec->last_name);
    if (!spec->language.empty()) w.Field("locale", spec->language);
    // Empty lists are left out: GoTo's documented create member is just email, firstName
    // and lastName (GOTO_API_RESEARCH.md §3a). Products go as the batch's licenseKeys.
    if (!GotoAdminRole(spec->admin_role).empty() || !spec->privileges.empty()) {
      w.Key("adminRoles");
      WriteRoles(w, *spec);
    }
    if (!spec->external_id.empty()) w.Field("externalId", spec->external_id);
    if (!spec->user_group.empty()) w.Field("userGroup", spec->user_group);
    if (!spec->welcome_template.empty()) w.Field("welcomeTemplate", spec->welcome_template);
    // usersync's own member fields (GOTO_SHAPES.md: not in the public material).
    if (!spec->device_groups.empty()) {
      w.Key("deviceGroups");
      WriteList(w, spec->device_groups);
    }
    if (!spec->settings_template.empty()) w.Field("settingsTemplate", spec->settings_template);
    w.EndObject();
  }
  w.EndArray();
  if (!license_keys.empty()) WriteLicenseKeys(w, license_keys);
  w.Key("suppressEmail").Bool(suppress_email).EndObject();
  return w.Release();
}

namespace {

// A partial PUT body being written.
struct UpdateBody {
  JsonWriter w;
  int fields = 0;
  bool email_written = false;
  bool roles_written = false;
  bool status_written = false;
};

// The one place that maps a change's field to GoTo's update body; fields GoTo does not hold
// (display_name), "active" when `active` decides the status, and unknown fields add nothing.
void AddChangedField(core::Field field, const core::AccountSpec& spec, std::optional<bool> active,
                     const std::vector<std::string>& license_keys, UpdateBody& body) {
  JsonWriter& w = body.w;
  if (field == core::Field::kEmail || field == core::Field::kUserName) {
    if (body.email_written) return;
    body.email_written = true;
    w.Field("email", GotoEmail(spec));
  } else if (field == core::Field::kFirstName) {
    w.Field("firstName", spec.first_name);
  } else if (field == core::Field::kLastName) {
    w.Field("lastName", spec.last_name);
  } else if (field == core::Field::kLanguage) {
    StringOrNull(w, "locale", spec.language);
  } else if (field == core::Field::kProducts) {
    WriteLicenseKeys(w, license_keys);  // GoTo grants products through licenses only
  } else if (field == core::Field::kAdminRole || field == core::Field::kPrivileges) {
    if (body.roles_written) return;
    body.roles_written = true;
    w.Key("adminRoles");
    WriteRoles(w, spec);
  } else if (field == core::Field::kUserGroup) {
    StringOrNull(w, "userGroup", spec.user_group);
  } else if (field == core::Field::kDeviceGroups) {
    w.Key("deviceGroups");  // [] clears
    WriteList(w, spec.device_groups);
  } else if (field == core::Field::kSettingsTemplate) {
    StringOrNull(w, "settingsTemplate", spec.settings_template);
  } else if (field == core::Field::kExternalId) {
    StringOrNull(w, "externalId", spec.external_id);
  } else if (field == core::Field::kActive && !active.has_value()) {
    body.status_written = true;
    w.Field("status", spec.active ? "ACTIVE" : "SUSPENDED");
  } else {
    return;
  }
  ++body.fields;
}

}  // namespace

std::string EncodeGotoUpdate(const std::vector<core::Change>& changes,
                             const core::AccountSpec& spec, std::optional<bool> active,
                             const std::vector<std::string>& license_keys) {
  UpdateBody body;
  body.w.BeginObject();
  for (const core::Change& change : changes) {
    AddChangedField(change.field, spec, active, license_keys, body);
  }
  if (active.has_value() && !body.status_written) {
    ++body.fields;
    body.w.Field("status", *active ? "ACTIVE" : "SUSPENDED");
  }
  if (body.fields == 0) return std::string();
  body.w.EndObject();
  return body.w.Release();
}

// --- Decoders -------------------------------------------------------------------------------

absl::Status DecodeGotoUserList(const std::string& body, core::Accounts* out, int64_t* total) {
  int64_t total_value = 0;
  USERSYNC_RETURN_IF_ERROR(ForEachResult(
      body, "user listing",
      [out](const Path& at, od::value& user) { return DecodeUserValue(user, at, out); },
      &total_value));
  if (total != nullptr) *total = total_value;
  return absl::OkStatus();
}

absl::Status DecodeGotoUser(const std::string& body, core::Accounts* out) {
  return json::DecodeRoot(body, kSource,
                          [&](od::value& root) { return DecodeUserValue(root, kRoot, out); });
}

namespace {

// One field of a batch answer's member.
absl::Status DecodeMemberField(std::string_view field, od::value& fv, const Path& at,
                               GotoMemberResult& result) {
  if (field == "key" || field == "userKey") return GetKey(fv, at, field, &result.user_key);
  if (field != "email" && field != "status" && field != "errorCode" && field != "product" &&
      field != "message") {
    return absl::OkStatus();
  }
  std::string_view s;
  if (auto error = json::GetString(fv, &s)) return Fail(at, field, error);
  if (field == "email") result.email = std::string(s);
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
}

}  // namespace

absl::StatusOr<std::vector<GotoMemberResult>> DecodeGotoBatchResults(const std::string& body) {
  std::vector<GotoMemberResult> results;
  auto member_fn = [&](const Path& at, od::value& member) -> absl::Status {
    GotoMemberResult result;
    absl::Status fields =
        json::ForEachField(member, at, [&](std::string_view field, od::value& fv) {
          return DecodeMemberField(field, fv, at, result);
        });
    if (!fields.ok()) return fields;
    results.push_back(std::move(result));
    return absl::OkStatus();
  };
  // GoTo's documented answer (GOTO_API_RESEARCH.md §3a) is a bare array of {key, email}; the
  // object {"results": [...]} with a status per member is the emulator's older shape.
  bool is_array = false;
  bool has_results = false;
  USERSYNC_RETURN_IF_ERROR(json::DecodeRoot(body, kSource, [&](od::value& root) -> absl::Status {
    od::json_type type;
    if (auto error = root.type().get(type)) return Fail(kRoot, {}, error);
    if (type == od::json_type::array) {
      is_array = true;
      return json::ForEachElement(root, kRoot.List("answer"), member_fn);
    }
    return json::ForEachField(root, kRoot, [&](std::string_view key, od::value& v) {
      if (key != "results") return absl::OkStatus();
      has_results = true;
      return json::ForEachElement(v, kRoot.List("results"), member_fn);
    });
  }));
  if (is_array) {
    for (GotoMemberResult& result : results) {
      if (result.kind == GotoMemberResult::Kind::kUnknown) {
        result.kind = GotoMemberResult::Kind::kListed;
      }
    }
    return results;
  }
  if (!has_results) {
    return Fail(kSource, "results",
                "missing (not a GoTo batch answer: neither an array nor results)");
  }
  return results;
}

namespace {

// One license of a listing. Two shapes: GoTo's documented {"key", "products": [...], "seats",
// "userCount"} (GOTO_API_RESEARCH.md §5a) and the emulator's older {"product", "free"} (free
// null: unlimited).
absl::Status DecodeLicense(od::value& value, const Path& at, GotoLicenseCatalog& catalog) {
  GotoLicense license;
  std::string product;
  int64_t free = 0, total = 0, used = 0;
  bool free_null = true, total_null = true, used_null = true;
  USERSYNC_RETURN_IF_ERROR(
      json::ForEachField(value, at, [&](std::string_view field, od::value& fv) -> absl::Status {
        simdjson::error_code error = simdjson::SUCCESS;
        if (field == "key") return GetKey(fv, at, field, &license.key);
        if (field == "product") {
          std::string_view s;
          error = json::GetString(fv, &s);
          product = std::string(s);
        } else if (field == "products") {
          return ForEachString(fv, at.In(field),
                               [&](std::string_view p) { license.products.emplace_back(p); });
        } else if (field == "free") {
          error = json::GetIntOrDigits(fv, &free, &free_null);
        } else if (field == "seats") {
          error = json::GetIntOrDigits(fv, &total, &total_null);
        } else if (field == "userCount") {
          error = json::GetIntOrDigits(fv, &used, &used_null);
        }
        if (error) return Fail(at, field, error);
        return absl::OkStatus();
      }));
  if (!license.products.empty()) {
    if (!total_null) license.seats = total;
    license.user_count = used_null ? 0 : used;
  } else if (!product.empty()) {
    license.products.push_back(std::move(product));
    if (!free_null) license.seats = free;
  } else {
    return Fail(at, "products", "missing");
  }
  catalog.licenses.push_back(std::move(license));
  return absl::OkStatus();
}

bool Carries(const GotoLicense& license, std::string_view product) {
  return std::find(license.products.begin(), license.products.end(), product) !=
         license.products.end();
}

}  // namespace

const GotoLicense* GotoLicenseCatalog::Resolve(std::string_view product) const {
  const GotoLicense* best = nullptr;
  for (const GotoLicense& license : licenses) {
    if (!Carries(license, product)) continue;
    if (best == nullptr || license.products.size() < best->products.size()) best = &license;
  }
  return best;
}

absl::StatusOr<std::vector<std::string>> GotoLicenseCatalog::KeysFor(
    std::string_view products) const {
  std::vector<const GotoLicense*> resolved;
  for (absl::string_view piece : absl::StrSplit(Sv(products), ',', absl::SkipEmpty())) {
    const std::string_view product = StdSv(piece);
    const GotoLicense* license = Resolve(product);
    if (license == nullptr) {
      return absl::FailedPreconditionError(
          absl::StrCat("no license of the GoTo account carries product \"", Sv(product),
                       "\" (its licenses offer: ", absl::StrJoin(Products(), ", "), ")"));
    }
    if (std::find(resolved.begin(), resolved.end(), license) == resolved.end()) {
      resolved.push_back(license);
    }
  }
  std::vector<std::string> keys;
  for (const GotoLicense& license : licenses) {  // listing order
    if (std::find(resolved.begin(), resolved.end(), &license) != resolved.end()) {
      keys.push_back(license.key);
    }
  }
  return keys;
}

std::vector<std::string> GotoLicenseCatalog::Products() const {
  std::vector<std::string> products;
  for (const GotoLicense& license : licenses) {
    products.insert(products.end(), license.products.begin(), license.products.end());
  }
  std::sort(products.begin(), products.end());
  products.erase(std::unique(products.begin(), products.end()), products.end());
  return products;
}

FreeSeatList GotoLicenseCatalog::FreeSeats() const {
  FreeSeatList seats;
  for (const GotoLicense& license : licenses) {
    for (const std::string& product : license.products) {
      if (Resolve(product) != &license || !license.seats.has_value()) continue;
      seats.emplace_back(product, std::max<int64_t>(*license.seats - license.user_count, 0));
    }
  }
  return seats;
}

absl::StatusOr<GotoLicenseCatalog> DecodeGotoLicenseCatalog(const std::string& body) {
  GotoLicenseCatalog catalog;
  USERSYNC_RETURN_IF_ERROR(ForEachResult(
      body, "license listing",
      [&](const Path& at, od::value& license) { return DecodeLicense(license, at, catalog); }));
  return catalog;
}

absl::StatusOr<FreeSeatList> DecodeGotoLicenses(const std::string& body) {
  USERSYNC_ASSIGN_OR_RETURN(GotoLicenseCatalog catalog, DecodeGotoLicenseCatalog(body));
  return catalog.FreeSeats();
}

absl::StatusOr<std::vector<GotoAccountRef>> DecodeGotoMe(const std::string& body) {
  std::vector<GotoAccountRef> accounts;
  absl::flat_hash_set<std::string> seen;
  std::string root_key;
  const absl::Status decoded = json::DecodeRoot(body, kSource, [&](od::value& root) {
    return json::ForEachField(root, kRoot, [&](std::string_view key, od::value& v) -> absl::Status {
      if (key == "accountKey") return GetKey(v, kRoot, key, &root_key);
      if (key != "accounts") return absl::OkStatus();
      return json::ForEachElement(v, kRoot.List("accounts"), [&](const Path& at, od::value& a) {
        if (accounts.size() >= kMaxMeAccounts) {
          return Fail(at, {}, absl::StrCat("more than ", kMaxMeAccounts, " accounts"));
        }
        GotoAccountRef account;
        USERSYNC_RETURN_IF_ERROR(json::ForEachField(a, at, [&](std::string_view field,
                                                               od::value& fv) -> absl::Status {
          if (field == "key") return GetKey(fv, at, field, &account.key);
          std::string_view name;
          if (field == "name" && json::GetString(fv, &name) == simdjson::SUCCESS) {
            account.name = std::string(name.substr(0, 200));
          }
          return absl::OkStatus();
        }));
        if (!account.key.empty() && seen.insert(account.key).second) {
          accounts.push_back(std::move(account));
        }
        return absl::OkStatus();
      });
    });
  });
  USERSYNC_RETURN_IF_ERROR(decoded);
  if (!root_key.empty()) {
    auto it = std::find_if(accounts.begin(), accounts.end(),
                           [&](const GotoAccountRef& a) { return a.key == root_key; });
    GotoAccountRef first = it == accounts.end() ? GotoAccountRef{root_key, ""} : std::move(*it);
    if (it != accounts.end()) accounts.erase(it);
    accounts.insert(accounts.begin(), std::move(first));
  }
  if (accounts.empty()) {
    return Fail(kSource, "accounts", "missing (no accountKey and no accounts[].key)");
  }
  return accounts;
}

GotoError DecodeGotoError(const std::string& body) {
  GotoError out;
  absl::Status status = json::DecodeRoot(body, kSource, [&](od::value& root) {
    return json::ForEachField(root, kRoot, [&](std::string_view key, od::value& v) {
      std::string_view s;
      if (json::GetString(v, &s) != simdjson::SUCCESS) return absl::OkStatus();
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
