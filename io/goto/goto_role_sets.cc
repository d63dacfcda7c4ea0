#include "io/goto/goto_role_sets.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/rules.h"
#include "core/status_macros.h"
#include "core/str.h"
#include "io/goto/goto_codec.h"
#include "io/http/http_util.h"
#include "io/http/json_util.h"

namespace usersync::io {
namespace {

namespace od = json::od;
using json::Fail;
using json::Path;

constexpr std::string_view kSource = "GoTo role sets";

// A role set's id: §6 does not show its type, so a string or a number (its own digits).
absl::Status GetId(od::value& v, const Path& at, std::string* out) {
  od::json_type type;
  if (auto error = v.type().get(type)) return Fail(at, "id", error);
  if (type == od::json_type::number) {
    std::string_view raw = v.raw_json_token();
    while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\n' || raw.back() == '\r')) {
      raw.remove_suffix(1);
    }
    *out = std::string(raw.substr(0, 64));
    return absl::OkStatus();
  }
  std::string_view s;
  if (auto error = json::GetString(v, &s)) return Fail(at, "id", error);
  *out = std::string(s);
  return absl::OkStatus();
}

absl::Status DecodeRoleSet(od::value& v, const Path& at, std::vector<GotoRoleSet>& out) {
  GotoRoleSet role_set;
  USERSYNC_RETURN_IF_ERROR(
      json::ForEachField(v, at, [&](std::string_view key, od::value& fv) -> absl::Status {
        if (key == "id") return GetId(fv, at, &role_set.id);
        if (key != "name") return absl::OkStatus();
        std::string_view s;
        if (auto error = json::GetString(fv, &s)) return Fail(at, key, error);
        role_set.name = std::string(s);
        return absl::OkStatus();
      }));
  if (role_set.id.empty()) return Fail(at, "id", "missing");
  out.push_back(std::move(role_set));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<GotoRoleSet>> DecodeGotoRoleSets(const std::string& body) {
  std::vector<GotoRoleSet> out;
  const Path root = Path::Root(kSource);
  bool has_results = false;
  USERSYNC_RETURN_IF_ERROR(json::DecodeRoot(body, kSource, [&](od::value& v) {
    return json::ForEachField(v, root, [&](std::string_view key, od::value& fv) {
      if (key != "results") return absl::OkStatus();
      has_results = true;
      return json::ForEachElement(fv, root.List("results"), [&](const Path& at, od::value& e) {
        return DecodeRoleSet(e, at, out);
      });
    });
  }));
  if (!has_results) return Fail(kSource, "results", "missing (not a GoTo role set listing)");
  return out;
}

std::string_view RoleSetTable::IdOf(std::string_view name) const {
  for (const GotoRoleSet& role_set : role_sets_) {
    if (role_set.name == name) return role_set.id;
  }
  return {};
}

std::string_view RoleSetTable::NameOf(std::string_view id) const {
  for (const GotoRoleSet& role_set : role_sets_) {
    if (role_set.id == id) return role_set.name;
  }
  return id;
}

std::string RoleSetTable::Names() const {
  std::string out;
  for (const GotoRoleSet& role_set : role_sets_) {
    absl::StrAppend(&out, out.empty() ? "" : ", ", "\"", role_set.name, "\"");
  }
  return out.empty() ? "none" : out;
}

std::string RoleSetTable::NamesOf(std::string_view ids) const {
  std::vector<std::string> names;
  for (absl::string_view id : absl::StrSplit(Sv(ids), ',', absl::SkipEmpty())) {
    names.emplace_back(NameOf(StdSv(id)));
  }
  return core::CanonicalList(std::move(names));
}

std::string GotoAssignRoleSetPath(std::string_view id, std::string_view email) {
  return absl::StrCat("/rolesets/", UrlEncode(id),
                      "/users?filter=", UrlEncode(GotoFilterEq("email", email)));
}

std::string GotoRemoveRoleSetPath(std::string_view email) {
  return absl::StrCat("/users/rolesets?filter=", UrlEncode(GotoFilterEq("email", email)));
}

}  // namespace usersync::io
