#include "tools/target/emulator_goto_rolesets.h"

#include <httplib.h>

#include <algorithm>
#include <variant>

#include "absl/strings/str_cat.h"
#include "core/str.h"
#include "io/json_writer.h"
#include "tools/target/emulator_goto.h"
#include "tools/target/emulator_goto_wire.h"
#include "tools/target/emulator_scim.h"

namespace usersync::io::emulator {
namespace {

GotoRoleSets::Answer Error(int status, std::string_view code, std::string_view message) {
  return {status, GotoErrorBody(code, message)};
}

// The user a role-set request's `filter=email eq "x"` names. Errors: an Answer to send.
std::variant<UserView, GotoRoleSets::Answer> FilteredUser(const httplib::Request& req,
                                                          EmulatorStore& store) {
  const std::string_view target = req.target;
  const size_t query = target.find('?');
  if (query != std::string_view::npos && target.find('+', query) != std::string_view::npos) {
    return Error(400, "INVALID_FILTER",
                 "a space in filter is encoded as '+': GoTo accepts only %20");
  }
  if (!req.has_param("filter")) {
    return Error(400, "INVALID_FILTER", "a role-set request needs filter=email eq \"...\"");
  }
  absl::StatusOr<ScimFilter> filter = ParseFilter(req.get_param_value("filter"));
  if (!filter.ok() || filter->attribute != "email") {
    return Error(400, "INVALID_FILTER",
                 absl::StrCat("unsupported filter \"", req.get_param_value("filter"),
                              "\": use email eq \"value\""));
  }
  StorePage<UserView> page = store.FindUsers(UserKey::kUserName, filter->value, 0, 1);
  if (page.items.empty()) {
    return Error(404, "NOT_FOUND", absl::StrCat("no user ", filter->value));
  }
  return std::move(page.items[0]);
}

}  // namespace

RoleSetList DefaultRoleSets() { return {{"1001", "Helpdesk"}, {"1002", "Sales managers"}}; }

GotoRoleSets::GotoRoleSets(RoleSetList role_sets)
    : role_sets_(role_sets.empty() ? DefaultRoleSets() : std::move(role_sets)) {}

std::optional<GotoRoleSets::Answer> GotoRoleSets::Handle(const std::vector<std::string>& segments,
                                                         const httplib::Request& req,
                                                         EmulatorStore& store) {
  // segments: accounts, {k}, then the resource.
  if (segments.size() == 3 && segments[2] == "rolesets") {
    if (req.method != "GET") return Error(405, "METHOD_NOT_ALLOWED", "GET only");
    return List();
  }
  if (segments.size() == 5 && segments[2] == "rolesets" && segments[4] == "users") {
    if (req.method != "PUT") return Error(405, "METHOD_NOT_ALLOWED", "PUT only");
    return Assign(segments[3], req, store);
  }
  if (segments.size() == 4 && segments[2] == "users" && segments[3] == "rolesets") {
    if (req.method != "DELETE") return Error(405, "METHOD_NOT_ALLOWED", "DELETE only");
    return Remove(req, store);
  }
  return std::nullopt;
}

GotoRoleSets::Answer GotoRoleSets::List() const {
  JsonWriter writer;
  writer.BeginObject().Key("results").BeginArray();
  for (const auto& [id, name] : role_sets_) {
    writer.BeginObject();
    goto_internal::WriteGotoId("id", id, &writer);
    writer.Field("name", name).EndObject();
  }
  writer.EndArray().EndObject();
  return {200, writer.Release()};
}

GotoRoleSets::Answer GotoRoleSets::Assign(const std::string& id, const httplib::Request& req,
                                          EmulatorStore& store) {
  auto role_set = std::find_if(role_sets_.begin(), role_sets_.end(),
                               [&](const auto& entry) { return entry.first == id; });
  if (role_set == role_sets_.end())
    return Error(404, "NOT_FOUND", absl::StrCat("no role set ", id));
  std::variant<UserView, Answer> user = FilteredUser(req, store);
  if (Answer* error = std::get_if<Answer>(&user)) return std::move(*error);
  const std::string& user_id = std::get<UserView>(user).user->id;
  {
    absl::MutexLock lock(&mu_);
    held_[user_id] = id;
  }
  JsonWriter writer;
  writer.BeginObject();
  goto_internal::WriteGotoId("id", id, &writer);
  writer.Field("name", role_set->second).Field("userKey", user_id).EndObject();
  return {200, writer.Release()};
}

GotoRoleSets::Answer GotoRoleSets::Remove(const httplib::Request& req, EmulatorStore& store) {
  std::variant<UserView, Answer> user = FilteredUser(req, store);
  if (Answer* error = std::get_if<Answer>(&user)) return std::move(*error);
  absl::MutexLock lock(&mu_);
  held_.erase(std::get<UserView>(user).user->id);
  return {204, ""};
}

std::vector<std::string> GotoRoleSets::Of(std::string_view user_id) const {
  absl::MutexLock lock(&mu_);
  auto it = held_.find(std::string(user_id));
  if (it == held_.end()) return {};
  return {it->second};
}

}  // namespace usersync::io::emulator
