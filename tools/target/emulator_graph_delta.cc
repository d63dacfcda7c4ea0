// The Graph face's delta queries and its test-only mutations (emulator_graph.h). Shapes as
// io/entra/GRAPH_SHAPES.md documents them ([delta], [delta-users], [delta-groups]).
#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "httplib.h"
#include "simdjson.h"
#include "tools/target/emulator_graph.h"
#include "tools/target/emulator_graph_internal.h"

namespace usersync::io::emulator {
namespace {

std::string Str(simdjson::dom::element e) {
  std::string_view s;
  return e.get_string().get(s) ? std::string() : std::string(s);
}

// [[group, member], ...] of a mutation body.
std::vector<std::pair<std::string, std::string>> Pairs(simdjson::dom::element root,
                                                       const char* key) {
  std::vector<std::pair<std::string, std::string>> out;
  simdjson::dom::array array;
  if (root[key].get(array)) return out;
  for (simdjson::dom::element pair : array) out.emplace_back(Str(pair.at(0)), Str(pair.at(1)));
  return out;
}

}  // namespace

const GraphSeedObject* GraphFace::FindUser(std::string_view id) const {
  auto found = user_index_.find(GraphQuoted(id));  // ids are kept as JSON text
  return found == user_index_.end() ? nullptr : &seed_.users[found->second];
}

void GraphFace::UpsertUser(const std::string& id, GraphSeedObject object) {
  const auto [found, added] = user_index_.emplace(GraphQuoted(id), seed_.users.size());
  if (added) {
    seed_.users.push_back(std::move(object));
  } else {
    seed_.users[found->second] = std::move(object);
  }
}

void GraphFace::EraseUser(std::string_view id) {
  auto found = user_index_.find(GraphQuoted(id));
  if (found == user_index_.end()) return;
  const size_t idx = found->second;
  user_index_.erase(found);
  if (idx + 1 != seed_.users.size()) {
    seed_.users[idx] = std::move(seed_.users.back());
    for (const auto& [name, json] : seed_.users[idx]) {
      if (name == "id") user_index_[json] = idx;
    }
  }
  seed_.users.pop_back();
}

int64_t GraphFace::DeltaSince(const httplib::Request& req, httplib::Response& res) {
  const std::string token = req.get_param_value("$deltatoken");
  if (token == "latest") return static_cast<int64_t>(changes_.size());
  int64_t since = 0;
  if (!absl::SimpleAtoi(token, &since) || since < 0 ||
      since > static_cast<int64_t>(changes_.size())) {
    ReplyGraphError(res, 400, "Request_UnsupportedQuery", "Only deltaLink rounds are served.");
    return -1;
  }
  if (since < expired_before_) {
    // The identity resources' expired token: HTTP 400, code syncStateNotFound.
    ReplyGraphError(res, 400, "syncStateNotFound",
                    "The sync state generation is not found. The delta token is expired and "
                    "data must be synchronized again.");
    return -1;
  }
  return since;
}

std::string GraphFace::DeltaLink(const httplib::Request& req) {
  std::string base_url;
  {
    absl::MutexLock lock(&mu_);
    base_url = base_url_;
  }
  std::string link = absl::StrCat(base_url, req.path, "?");
  if (req.has_param("$select")) {
    absl::StrAppend(&link, "$select=", req.get_param_value("$select"), "&");
  }
  return absl::StrCat(link, "$deltatoken=", changes_.size());
}

void GraphFace::ServeUserDelta(const httplib::Request& req, httplib::Response& res) {
  absl::ReaderMutexLock lock(&seed_mu_);
  const int64_t since = DeltaSince(req, res);
  if (since < 0) return;
  std::vector<std::string> select;
  if (req.has_param("$select")) {
    select = absl::StrSplit(req.get_param_value("$select"), ',', absl::SkipEmpty());
  }
  std::set<std::string> ids;  // each changed user once, in its latest state
  if (req.get_param_value("$deltatoken") != "latest") {
    for (size_t idx = static_cast<size_t>(since); idx < changes_.size(); ++idx) {
      if (!changes_[idx].group) ids.insert(changes_[idx].id);
    }
  }
  std::vector<std::string> objects;
  for (const std::string& id : ids) {
    const GraphSeedObject* user = FindUser(id);
    objects.push_back(user != nullptr ? UserJson(*user, select)
                                      : absl::StrCat(R"({"id":)", GraphQuoted(id),
                                                     R"(,"@removed":{"reason":"changed"}})"));
  }
  res.set_content(absl::StrCat(R"({"@odata.deltaLink":)", GraphQuoted(DeltaLink(req)),
                               R"(,"value":[)", absl::StrJoin(objects, ","), "]}"),
                  "application/json");
}

void GraphFace::ServeGroupDelta(const httplib::Request& req, httplib::Response& res) {
  absl::ReaderMutexLock lock(&seed_mu_);
  const int64_t since = DeltaSince(req, res);
  if (since < 0) return;
  std::map<std::string, std::set<std::string>> touched;  // group → members added or removed
  if (req.get_param_value("$deltatoken") != "latest") {
    for (size_t idx = static_cast<size_t>(since); idx < changes_.size(); ++idx) {
      if (changes_[idx].group) touched[changes_[idx].id].insert(changes_[idx].member);
    }
  }
  std::vector<std::string> objects;
  for (const auto& [group_id, members] : touched) {
    auto group = group_index_.find(group_id);
    if (group == group_index_.end()) continue;
    const GraphSeedGroup& held = seed_.groups[group->second];
    std::vector<std::string> deltas;
    for (const std::string& member : members) {
      const bool in =
          std::find(held.members.begin(), held.members.end(), member) != held.members.end();
      deltas.push_back(absl::StrCat(
          R"({"@odata.type":"#microsoft.graph.)", group_index_.contains(member) ? "group" : "user",
          R"(","id":)", GraphQuoted(member), in ? "" : R"(,"@removed":{"reason":"deleted"})", "}"));
    }
    objects.push_back(absl::StrCat(R"({"id":)", GraphQuoted(held.id), R"(,"displayName":)",
                                   GraphQuoted(held.display_name), R"(,"members@delta":[)",
                                   absl::StrJoin(deltas, ","), "]}"));
  }
  res.set_content(absl::StrCat(R"({"@odata.deltaLink":)", GraphQuoted(DeltaLink(req)),
                               R"(,"value":[)", absl::StrJoin(objects, ","), "]}"),
                  "application/json");
}

void GraphFace::Mutate(const httplib::Request& req, httplib::Response& res) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(req.body).get(root)) {
    res.status = 400;
    return;
  }
  absl::MutexLock lock(&seed_mu_);
  simdjson::dom::array array;
  if (!root["upsert_users"].get(array)) {
    for (simdjson::dom::element user : array) {
      GraphSeedObject object;
      simdjson::dom::object fields;
      if (user.get(fields)) continue;
      for (auto field : fields) {
        object.emplace_back(std::string(field.key), simdjson::minify(field.value));
      }
      const std::string id = Str(user["id"]);
      UpsertUser(id, std::move(object));
      changes_.push_back({false, id, ""});
    }
  }
  if (!root["delete_users"].get(array)) {
    for (simdjson::dom::element id : array) {
      EraseUser(Str(id));
      changes_.push_back({false, Str(id), ""});
    }
  }
  for (const auto& [group, member] : Pairs(root, "add_members")) {
    auto found = group_index_.find(group);
    if (found == group_index_.end()) continue;
    seed_.groups[found->second].members.push_back(member);
    changes_.push_back({true, group, member});
  }
  for (const auto& [group, member] : Pairs(root, "remove_members")) {
    auto found = group_index_.find(group);
    if (found == group_index_.end()) continue;
    std::erase(seed_.groups[found->second].members, member);
    changes_.push_back({true, group, member});
  }
  res.status = 204;
}

void GraphFace::RegisterDelta(httplib::Server& server) {
  server.Get("/v1.0/users/delta", [this](const httplib::Request& req, httplib::Response& res) {
    if (Admit(req, res)) ServeUserDelta(req, res);
  });
  server.Get("/v1.0/groups/delta", [this](const httplib::Request& req, httplib::Response& res) {
    if (Admit(req, res)) ServeGroupDelta(req, res);
  });
  server.Post("/_graph/mutate",
              [this](const httplib::Request& req, httplib::Response& res) { Mutate(req, res); });
  server.Post("/_graph/expire_deltas", [this](const httplib::Request&, httplib::Response& res) {
    absl::MutexLock lock(&seed_mu_);
    expired_before_ = static_cast<int64_t>(changes_.size()) + 1;
    res.status = 204;
  });
}

}  // namespace usersync::io::emulator
