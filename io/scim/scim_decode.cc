#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/rules.h"
#include "core/str.h"
#include "io/http/http_util.h"
#include "io/http/json_util.h"
#include "io/scim/scim_attributes.h"
#include "io/scim/scim_codec.h"  // declares what this file defines (with scim_codec.cc)
#include "io/scim_extension.h"

// The decoders of scim_codec.h (response bodies, simdjson On-Demand); the encoders are in
// scim_codec.cc.

namespace usersync::io {
namespace {

namespace od = json::od;
using core::EqualsIgnoreCase;
using json::ForEachElement;
using json::ForEachField;
using json::GetBool;
using json::GetInt;
using json::GetString;
using json::Path;

constexpr std::string_view kSource = "SCIM response";
const Path kRoot = Path::Root(kSource);

absl::Status Fail(const std::string& where, simdjson::error_code error) {
  return json::Fail(kSource, where, error);
}

absl::Status Fail(const std::string& where, std::string_view what) {
  return json::Fail(kSource, where, what);
}

// Reads `value` of each {"value": ...} element of a multi-valued attribute; also `display`
// and `primary` when asked.
struct MultiValue {
  std::string_view value;
  std::string_view display;
  bool primary = false;
};

template <typename Fn>
absl::Status ForEachMultiValue(od::value& v, const Path& where, Fn&& fn) {
  return ForEachElement(v, where, [&](const Path& at, od::value& element) -> absl::Status {
    MultiValue item;
    absl::Status status =
        ForEachField(element, at, [&](std::string_view key, od::value& fv) -> absl::Status {
          if (EqualsIgnoreCase(key, "value")) {
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
          } else if (EqualsIgnoreCase(key, "display")) {
            if (auto error = GetString(fv, &item.display)) return Fail(at.Name("display"), error);
          } else if (EqualsIgnoreCase(key, "primary")) {
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

// One User attribute into the account being decoded.
struct UserFields {
  core::Account account;
  std::string_view first_email;
  std::string_view primary_email;
  std::string_view first_role;
  std::string_view first_group;
  bool has_group = false;
  bool has_id = false;
  bool has_user_name = false;
  bool has_rule_settings = false;  // the extension object was there (io/scim_extension.h)
  // The extension's multi-valued attributes, indexed as kRuleSettingAttributes.
  std::vector<std::string> lists[std::size(kRuleSettingAttributes)];
};

// The account's member for one of the extension's multi-valued fields.
std::string_view* AccountList(core::Account& account, core::Field field) {
  if (field == core::Field::kPrivileges) return &account.privileges;
  if (field == core::Field::kManagedGroups) return &account.managed_groups;
  return &account.device_groups;
}

absl::Status StringField(od::value& v, const Path& at, std::string_view key, core::Accounts* out,
                         std::string_view* target) {
  std::string_view s;
  if (auto error = GetString(v, &s)) return Fail(at.Name(key), error);
  *target = out->Store(s);
  return absl::OkStatus();
}

// A mapped attribute's string value into the account (null and "" are absent). `path` is one of
// kScimMappedAttributes (static storage, so the account may keep the view).
absl::Status MappedField(od::value& v, const Path& at, std::string_view key, std::string_view path,
                         core::Accounts* out, UserFields& u) {
  od::json_type type;
  if (auto error = v.type().get(type)) return Fail(at.Name(key), error);
  if (type == od::json_type::null) return absl::OkStatus();
  std::string_view s;
  if (auto error = GetString(v, &s)) return Fail(at.Name(key), error);
  if (!s.empty()) u.account.attributes.emplace_back(path, out->Store(s));
  return absl::OkStatus();
}

// The mapped attributes of complex attribute `parent` (name, manager) of `schema`.
absl::Status DecodeMappedComplex(std::string_view schema, std::string_view parent, od::value& v,
                                 const Path& at, core::Accounts* out, UserFields& u) {
  return ForEachField(v, at, [&](std::string_view key, od::value& fv) -> absl::Status {
    const std::string_view path = FindScimMappedAttribute(schema, parent, key);
    return path.empty() ? absl::OkStatus() : MappedField(fv, at, key, path, out, u);
  });
}

// The enterprise extension's object (RFC 7643 §4.3): its mapped attributes, manager.value.
absl::Status DecodeEnterprise(od::value& v, const Path& at, core::Accounts* out, UserFields& u) {
  return ForEachField(v, at, [&](std::string_view key, od::value& fv) -> absl::Status {
    if (EqualsIgnoreCase(key, "manager")) {
      return DecodeMappedComplex(kEnterpriseUserUrn, "manager", fv, at.In("manager"), out, u);
    }
    const std::string_view path = FindScimMappedAttribute(kEnterpriseUserUrn, "", key);
    return path.empty() ? absl::OkStatus() : MappedField(fv, at, key, path, out, u);
  });
}

// usersync's extension object (io/scim_extension.h); attributes it does not know are skipped.
absl::Status DecodeRuleSettings(od::value& fv, const Path& where, core::Accounts* out,
                                UserFields& u) {
  u.has_rule_settings = true;
  const Path at = where.In(kRuleSettingsUrn);
  return ForEachField(fv, at, [&](std::string_view key, od::value& value) -> absl::Status {
    for (size_t attr_idx = 0; attr_idx < std::size(kRuleSettingAttributes); ++attr_idx) {
      const RuleSettingAttribute& attribute = kRuleSettingAttributes[attr_idx];
      if (!EqualsIgnoreCase(key, attribute.name)) continue;
      if (!attribute.multi_valued) {
        return StringField(value, at, attribute.name, out, &u.account.settings_template);
      }
      std::vector<std::string>& list = u.lists[attr_idx];
      return ForEachElement(value, at.In(attribute.name),
                            [&](const Path& item_at, od::value& item) -> absl::Status {
                              std::string_view text;
                              if (auto error = GetString(item, &text)) {
                                return Fail(item_at.Name(), error);
                              }
                              if (!text.empty()) list.emplace_back(text);
                              return absl::OkStatus();
                            });
    }
    return absl::OkStatus();
  });
}

// The multi-valued and complex attributes (emails, entitlements, roles, groups, name, meta),
// the enterprise extension, usersync's extension and the mapped core attributes. Other keys
// are skipped.
absl::Status DecodeUserComplex(std::string_view key, od::value& fv, const Path& where,
                               core::Accounts* out, UserFields& u) {
  if (EqualsIgnoreCase(key, "name")) {
    const Path at = where.In("name");
    return ForEachField(fv, at, [&](std::string_view name_key, od::value& nv) {
      if (EqualsIgnoreCase(name_key, "givenName")) {
        return StringField(nv, at, "givenName", out, &u.account.first_name);
      }
      if (EqualsIgnoreCase(name_key, "familyName")) {
        return StringField(nv, at, "familyName", out, &u.account.last_name);
      }
      const std::string_view path = FindScimMappedAttribute("", "name", name_key);
      return path.empty() ? absl::OkStatus() : MappedField(nv, at, name_key, path, out, u);
    });
  }
  if (EqualsIgnoreCase(key, "emails")) {
    return ForEachMultiValue(fv, where.In("emails"), [&](const MultiValue& item) {
      if (u.first_email.empty()) u.first_email = item.value;
      if (item.primary && u.primary_email.empty()) u.primary_email = item.value;
    });
  }
  if (EqualsIgnoreCase(key, "entitlements")) {
    json::Scratch& scratch = json::ThreadScratch();
    return ForEachMultiValue(fv, where.In("entitlements"), [&](const MultiValue& item) {
      if (!item.value.empty()) scratch.values.push_back(item.value);
    });
  }
  if (EqualsIgnoreCase(key, "roles")) {
    return ForEachMultiValue(fv, where.In("roles"), [&](const MultiValue& item) {
      if (u.first_role.empty()) u.first_role = item.value;
    });
  }
  if (EqualsIgnoreCase(key, "groups")) {
    return ForEachMultiValue(fv, where.In("groups"), [&](const MultiValue& item) {
      if (!u.has_group) u.first_group = item.display;
      u.has_group = true;
    });
  }
  if (EqualsIgnoreCase(key, kRuleSettingsUrn)) return DecodeRuleSettings(fv, where, out, u);
  if (EqualsIgnoreCase(key, "meta")) {
    const Path at = where.In("meta");
    return ForEachField(fv, at, [&](std::string_view meta_key, od::value& mv) {
      if (EqualsIgnoreCase(meta_key, "version")) {
        return StringField(mv, at, "version", out, &u.account.version);
      }
      return absl::OkStatus();
    });
  }
  if (EqualsIgnoreCase(key, kEnterpriseUserUrn)) {
    return DecodeEnterprise(fv, where.In(kEnterpriseUserUrn), out, u);
  }
  const std::string_view path = FindScimMappedAttribute("", "", key);
  return path.empty() ? absl::OkStatus() : MappedField(fv, where, key, path, out, u);
}

absl::Status DecodeUserField(std::string_view key, od::value& fv, const Path& where,
                             core::Accounts* out, UserFields& u) {
  if (EqualsIgnoreCase(key, "id")) {
    u.has_id = true;
    return StringField(fv, where, "id", out, &u.account.id);
  }
  if (EqualsIgnoreCase(key, "userName")) {
    u.has_user_name = true;
    return StringField(fv, where, "userName", out, &u.account.user_name);
  }
  if (EqualsIgnoreCase(key, "externalId")) {
    return StringField(fv, where, "externalId", out, &u.account.external_id);
  }
  if (EqualsIgnoreCase(key, "displayName")) {
    return StringField(fv, where, "displayName", out, &u.account.display_name);
  }
  if (EqualsIgnoreCase(key, "preferredLanguage")) {
    return StringField(fv, where, "preferredLanguage", out, &u.account.language);
  }
  if (EqualsIgnoreCase(key, "active")) {
    if (auto error = GetBool(fv, true, &u.account.active)) return Fail(where.Name("active"), error);
    return absl::OkStatus();
  }
  return DecodeUserComplex(key, fv, where, out, u);
}

// Decodes one User object into an Account appended to `out`.
absl::Status DecodeUserValue(od::value& v, const Path& where, core::Accounts* out) {
  UserFields u;
  json::Scratch& scratch = json::ThreadScratch();
  scratch.values.clear();
  absl::Status status =
      ForEachField(v, where, [&](std::string_view key, od::value& fv) -> absl::Status {
        return DecodeUserField(key, fv, where, out, u);
      });
  if (!status.ok()) return status;
  core::Account& account = u.account;
  if (!u.has_id || account.id.empty()) return Fail(where.Name("id"), "missing");
  if (!u.has_user_name || account.user_name.empty()) return Fail(where.Name("userName"), "missing");

  account.email = out->Store(u.primary_email.empty() ? u.first_email : u.primary_email);
  account.admin_role = out->Store(u.first_role);
  account.user_group = out->Store(u.first_group);
  if (!scratch.values.empty()) account.products = out->Store(json::CanonicalList(scratch));
  for (size_t attr_idx = 0; attr_idx < std::size(kRuleSettingAttributes); ++attr_idx) {
    const core::Field field = kRuleSettingAttributes[attr_idx].field;
    if (!u.has_rule_settings) {
      account.MarkUnreturned(field);  // a server that does not keep them: not compared
    } else if (!u.lists[attr_idx].empty()) {
      *AccountList(account, field) = out->Store(core::CanonicalList(std::move(u.lists[attr_idx])));
    }
  }
  std::sort(account.attributes.begin(), account.attributes.end());
  out->items.push_back(std::move(account));
  return absl::OkStatus();
}

// Iterates a ListResponse: fn(index, resource value&) for each of Resources.
template <typename Fn>
absl::Status DecodeList(const std::string& body, int64_t* total_results, Fn&& fn) {
  if (std::optional<std::string> error = ScimErrorIn(body)) {
    return Fail("document", absl::StrCat("a SCIM Error, not a ListResponse (", *error, ")"));
  }
  bool has_total = false;
  bool has_resources = false;
  simdjson::padded_string copy;
  od::document doc;
  if (auto error = json::ThreadParser().iterate(json::Padded(body, &copy)).get(doc)) {
    return Fail("document", error);
  }
  od::object root;
  if (auto error = doc.get_object().get(root)) return Fail("document", error);
  int64_t total = 0;
  for (auto field_result : root) {
    od::field field;
    if (auto error = std::move(field_result).get(field)) return Fail("document", error);
    std::string_view key;
    if (auto error = field.unescaped_key().get(key)) return Fail("document", error);
    if (EqualsIgnoreCase(key, "totalResults")) {
      if (auto error = GetInt(field.value(), &total)) return Fail("totalResults", error);
      has_total = true;
    } else if (EqualsIgnoreCase(key, "Resources")) {
      has_resources = true;
      absl::Status status =
          ForEachElement(field.value(), kRoot.List("Resources"),
                         [&](const Path& at, od::value& resource) { return fn(at, resource); });
      if (!status.ok()) return status;
    }
  }
  if (!has_total && !has_resources) {
    return Fail("document", "not a ListResponse (neither totalResults nor Resources)");
  }
  if (total_results != nullptr) *total_results = total;
  return absl::OkStatus();
}

absl::Status DecodeGroupValue(od::value& v, const Path& where, ScimGroup* group) {
  return ForEachField(v, where, [&](std::string_view key, od::value& fv) -> absl::Status {
    std::string_view s;
    if (EqualsIgnoreCase(key, "id")) {
      if (auto error = GetString(fv, &s)) return Fail(where.Name("id"), error);
      group->id = std::string(s);
    } else if (EqualsIgnoreCase(key, "displayName")) {
      if (auto error = GetString(fv, &s)) return Fail(where.Name("displayName"), error);
      group->display_name = std::string(s);
    } else if (EqualsIgnoreCase(key, "members")) {
      group->has_members = true;
      return ForEachMultiValue(fv, where.In("members"), [&](const MultiValue& member) {
        if (!member.value.empty()) group->member_ids.emplace_back(member.value);
      });
    }
    return absl::OkStatus();
  });
}

}  // namespace

absl::Status DecodeListResponse(const std::string& body, core::Accounts* out,
                                int64_t* total_results) {
  return DecodeList(body, total_results, [out](const Path& where, od::value& resource) {
    return DecodeUserValue(resource, where, out);
  });
}

absl::Status DecodeUser(const std::string& body, core::Accounts* out) {
  return json::DecodeRoot(body, kSource,
                          [out](od::value& root) { return DecodeUserValue(root, kRoot, out); });
}

absl::StatusOr<ScimServiceConfig> DecodeServiceProviderConfig(const std::string& body) {
  ScimServiceConfig config;
  absl::Status status = json::DecodeRoot(body, kSource, [&](od::value& root) {
    return ForEachField(root, kRoot, [&](std::string_view key, od::value& v) -> absl::Status {
      auto read = [&](std::string_view section, bool* supported,
                      std::initializer_list<std::pair<std::string_view, int64_t*>> numbers) {
        const Path at = kRoot.In(section);
        return ForEachField(v, at, [&](std::string_view field, od::value& fv) -> absl::Status {
          if (EqualsIgnoreCase(field, "supported")) {
            if (auto error = GetBool(fv, false, supported))
              return Fail(at.Name("supported"), error);
            return absl::OkStatus();
          }
          for (const auto& [name, target] : numbers) {
            if (!EqualsIgnoreCase(field, name)) continue;
            if (auto error = GetInt(fv, target)) return Fail(at.Name(name), error);
          }
          return absl::OkStatus();
        });
      };
      if (EqualsIgnoreCase(key, "patch")) return read("patch", &config.patch, {});
      if (EqualsIgnoreCase(key, "bulk")) {
        return read("bulk", &config.bulk,
                    {{"maxOperations", &config.bulk_max_operations},
                     {"maxPayloadSize", &config.bulk_max_payload_bytes}});
      }
      if (EqualsIgnoreCase(key, "filter")) {
        return read("filter", &config.filter, {{"maxResults", &config.filter_max_results}});
      }
      if (EqualsIgnoreCase(key, "etag")) return read("etag", &config.etag, {});
      return absl::OkStatus();
    });
  });
  if (!status.ok()) return status;
  return config;
}

absl::Status DecodeGroupList(const std::string& body, std::vector<ScimGroup>* out,
                             int64_t* total_results) {
  return DecodeList(body, total_results, [out](const Path& where, od::value& resource) {
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
  absl::Status status = json::DecodeRoot(
      body, kSource, [&](od::value& root) { return DecodeGroupValue(root, kRoot, &group); });
  if (!status.ok()) return status;
  if (group.id.empty()) return Fail("id", "missing");
  return group;
}

namespace {

// An HTTP status written as a number, a string of digits, or {"code": ...}; 0 otherwise.
absl::Status GetBulkStatus(od::value& v, const Path& where, int* out) {
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
      if (EqualsIgnoreCase(key, "code")) return GetBulkStatus(cv, where, out);
      return absl::OkStatus();
    });
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<ScimBulkResult>> DecodeBulkResponse(const std::string& body) {
  std::vector<ScimBulkResult> results;
  bool has_operations = false;
  absl::Status status = json::DecodeRoot(body, kSource, [&](od::value& root) {
    return ForEachField(root, kRoot, [&](std::string_view key, od::value& v) -> absl::Status {
      if (!EqualsIgnoreCase(key, "Operations")) return absl::OkStatus();
      has_operations = true;
      return ForEachElement(v, kRoot.List("Operations"), [&](const Path& at, od::value& op) {
        ScimBulkResult result;
        std::string scim_type;
        std::string detail;
        absl::Status fields =
            ForEachField(op, at, [&](std::string_view field, od::value& fv) -> absl::Status {
              std::string_view s;
              if (EqualsIgnoreCase(field, "bulkId")) {
                if (auto error = GetString(fv, &s)) return Fail(at.Name("bulkId"), error);
                result.bulk_id = std::string(s);
              } else if (EqualsIgnoreCase(field, "location")) {
                if (auto error = GetString(fv, &s)) return Fail(at.Name("location"), error);
                result.location = std::string(s);
              } else if (EqualsIgnoreCase(field, "status")) {
                return GetBulkStatus(fv, at, &result.status);
              } else if (EqualsIgnoreCase(field, "response")) {
                const Path in = at.In("response");
                return ForEachField(fv, in, [&](std::string_view rkey, od::value& rv) {
                  std::string_view text;
                  od::json_type type;
                  if (rv.type().get(type) != simdjson::SUCCESS || type != od::json_type::string) {
                    return absl::OkStatus();  // nested attributes of a returned resource
                  }
                  if (auto error = rv.get_string().get(text)) return Fail(in.Name(rkey), error);
                  if (EqualsIgnoreCase(rkey, "id")) result.id = std::string(text);
                  if (EqualsIgnoreCase(rkey, "scimType")) scim_type = std::string(text);
                  if (EqualsIgnoreCase(rkey, "detail")) detail = std::string(text);
                  return absl::OkStatus();
                });
              }
              return absl::OkStatus();
            });
        if (!fields.ok()) return fields;
        if (result.id.empty() && !result.location.empty()) {
          result.id = IdFromLocation(result.location);
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
  absl::Status status = json::DecodeRoot(body, kSource, [&](od::value& root) {
    return ForEachField(root, kRoot, [&](std::string_view key, od::value& v) {
      std::string_view s;
      if (EqualsIgnoreCase(key, "scimType") && GetString(v, &s) == simdjson::SUCCESS) scim_type = s;
      if (EqualsIgnoreCase(key, "detail") && GetString(v, &s) == simdjson::SUCCESS) detail = s;
      return absl::OkStatus();
    });
  });
  if (!status.ok()) return std::string();
  std::string out = scim_type.empty() || detail.empty() ? scim_type + detail
                                                        : absl::StrCat(scim_type, ": ", detail);
  if (out.size() > 200) out.resize(200);
  return out;
}

std::optional<std::string> ScimErrorIn(const std::string& body) {
  constexpr std::string_view kErrorUrn = "urn:ietf:params:scim:api:messages:2.0:Error";
  if (std::string_view(body).find(kErrorUrn) == std::string_view::npos) return std::nullopt;
  bool is_error = false;
  int status = 0;
  absl::Status decoded = json::DecodeRoot(body, kSource, [&](od::value& root) {
    return ForEachField(root, kRoot, [&](std::string_view key, od::value& v) -> absl::Status {
      if (EqualsIgnoreCase(key, "schemas")) {
        return ForEachElement(v, kRoot.List("schemas"), [&](const Path&, od::value& schema) {
          std::string_view s;
          if (GetString(schema, &s) == simdjson::SUCCESS && s == kErrorUrn) is_error = true;
          return absl::OkStatus();
        });
      }
      if (EqualsIgnoreCase(key, "status")) return GetBulkStatus(v, kRoot, &status);
      return absl::OkStatus();
    });
  });
  if (!decoded.ok() || !is_error) return std::nullopt;
  const std::string detail = ErrorDetail(body);
  return absl::StrCat("status ", status, detail.empty() ? "" : ", ", detail);
}

}  // namespace usersync::io
