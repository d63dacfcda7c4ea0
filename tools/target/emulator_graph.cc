#include "tools/target/emulator_graph.h"

#include <algorithm>
#include <string_view>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "core/str.h"
#include "httplib.h"
#include "simdjson.h"
#include "tools/target/emulator_graph_internal.h"

namespace usersync::io::emulator {

void ReplyGraphError(httplib::Response& res, int status, std::string_view code,
                     std::string_view message) {
  res.status = status;
  res.set_content(
      absl::StrCat(R"({"error":{"code":")", Sv(code), R"(","message":")", Sv(message), R"("}})"),
      "application/json");
}

std::string GraphQuoted(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out + "\"";
}

namespace {

std::string StringOf(simdjson::dom::element e) {
  std::string_view s;
  return e.get_string().get(s) ? std::string() : std::string(s);
}

}  // namespace

std::string UserJson(const GraphSeedObject& user, const std::vector<std::string>& select) {
  std::vector<std::string> fields;
  for (const auto& [name, json] : user) {
    const bool wanted = select.empty() || name == "id" ||
                        std::any_of(select.begin(), select.end(), [&](const std::string& s) {
                          return core::EqualsIgnoreCase(s, name);
                        });
    if (wanted) fields.push_back(absl::StrCat(GraphQuoted(name), ":", json));
  }
  return absl::StrCat("{", absl::StrJoin(fields, ","), "}");
}

absl::StatusOr<GraphSeed> ParseGraphSeed(const std::string& json) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (auto error = parser.parse(json).get(root)) {
    return absl::InvalidArgumentError(absl::StrCat("graph seed: ", simdjson::error_message(error)));
  }
  GraphSeed seed;
  simdjson::dom::array array;
  if (!root["users"].get(array)) {
    for (simdjson::dom::element user : array) {
      simdjson::dom::object object;
      if (user.get(object)) return absl::InvalidArgumentError("graph seed: a user is no object");
      GraphSeedObject& out = seed.users.emplace_back();
      for (auto field : object) {
        out.emplace_back(std::string(field.key), simdjson::minify(field.value));
      }
    }
  }
  if (!root["groups"].get(array)) {
    for (simdjson::dom::element group : array) {
      GraphSeedGroup& out = seed.groups.emplace_back();
      out.id = StringOf(group["id"]);
      out.display_name = StringOf(group["displayName"]);
      simdjson::dom::array members;
      if (!group["members"].get(members)) {
        for (simdjson::dom::element member : members) out.members.push_back(StringOf(member));
      }
    }
  }
  if (!root["servicePrincipals"].get(array)) {
    for (simdjson::dom::element sp : array) {
      auto& [id, assignments] = seed.service_principals.emplace_back();
      id = StringOf(sp["id"]);
      simdjson::dom::array list;
      if (sp["appRoleAssignedTo"].get(list)) continue;
      for (simdjson::dom::element a : list) {
        assignments.push_back(
            {StringOf(a["principalId"]), StringOf(a["principalType"]), StringOf(a["appRoleId"])});
      }
    }
  }
  return seed;
}

GraphFace::GraphFace(GraphFaceOptions options, GraphSeed seed)
    : options_(std::move(options)),
      seed_(std::move(seed)),
      oauth_(OAuthOptions{.client_id = options_.client_id,
                          .client_secret = options_.client_secret,
                          .client_auth = ClientAuth::kBasicForm,
                          .access_token_ttl = options_.token_ttl}) {
  absl::MutexLock lock(&seed_mu_);
  for (size_t group_idx = 0; group_idx < seed_.groups.size(); ++group_idx) {
    group_index_.emplace(seed_.groups[group_idx].id, group_idx);
  }
  for (size_t user_idx = 0; user_idx < seed_.users.size(); ++user_idx) {
    for (const auto& [name, json] : seed_.users[user_idx]) {
      if (name == "id") user_index_.emplace(json, user_idx);
    }
  }
}

bool GraphFace::Admit(const httplib::Request& req, httplib::Response& res) {
  const std::string auth = req.get_header_value("Authorization");
  constexpr std::string_view kBearer = "Bearer ";
  const bool authorized = std::string_view(auth).starts_with(kBearer) &&
                          oauth_.AcceptsAccessToken(auth.substr(kBearer.size()));
  absl::MutexLock lock(&mu_);
  ++requests_;
  if (!authorized) {
    ++unauthorized_;
    ReplyGraphError(res, 401, "InvalidAuthenticationToken", "Access token is empty or expired.");
    return false;
  }
  const bool periodic = options_.throttle_every > 0 && requests_ % options_.throttle_every == 0;
  if (storm_left_ > 0 || periodic) {
    if (storm_left_ > 0) --storm_left_;
    ++throttled_;
    res.set_header("Retry-After", std::to_string(options_.retry_after_seconds));
    ReplyGraphError(res, 429, "TooManyRequests", "Too many requests.");
    return false;
  }
  return true;
}

void GraphFace::ServePage(const httplib::Request& req, httplib::Response& res, size_t count,
                          const std::function<std::string(size_t)>& object,
                          const std::string& context) {
  int top = 100;  // Graph's default page of users
  if (req.has_param("$top") &&
      (!absl::SimpleAtoi(req.get_param_value("$top"), &top) || top < 1 || top > 999)) {
    return ReplyGraphError(res, 400, "Request_UnsupportedQuery",
                           "Invalid page size specified. Must be between 1 and 999 inclusive.");
  }
  size_t offset = 0;
  if (req.has_param("$skiptoken") &&
      !absl::SimpleAtoi(req.get_param_value("$skiptoken"), &offset)) {
    return ReplyGraphError(res, 400, "Directory_InvalidSkipToken", "Bad skiptoken.");
  }
  offset = std::min(offset, count);
  std::string base_url;
  {
    absl::MutexLock lock(&mu_);
    base_url = base_url_;
  }
  const size_t end = std::min(count, offset + static_cast<size_t>(top));
  std::string body =
      absl::StrCat(R"({"@odata.context":")", base_url, "/v1.0/$metadata#", context, "\"");
  if (end < count) {
    std::string link = absl::StrCat(base_url, req.path, "?");
    if (req.has_param("$select")) {
      absl::StrAppend(&link, "$select=", req.get_param_value("$select"), "&");
    }
    absl::StrAppend(&link, "$top=", top, "&$skiptoken=", end);
    absl::StrAppend(&body, R"(,"@odata.nextLink":)", GraphQuoted(link));
  }
  absl::StrAppend(&body, R"(,"value":[)");
  for (size_t object_idx = offset; object_idx < end; ++object_idx) {
    if (object_idx > offset) body.push_back(',');
    body += object(object_idx);
  }
  body += "]}";
  res.status = 200;
  res.set_content(body, "application/json");
}

void GraphFace::ServeStats(httplib::Response& res) {
  const OAuthAuthority::Stats oauth = oauth_.stats();
  absl::MutexLock lock(&mu_);
  res.set_content(absl::StrCat(R"({"requests":)", requests_, R"(,"throttled":)", throttled_,
                               R"(,"unauthorized":)", unauthorized_, R"(,"tokens":)",
                               oauth.access_tokens_issued, "}"),
                  "application/json");
}

void GraphFace::SetBaseUrl(std::string base_url) {
  absl::MutexLock lock(&mu_);
  base_url_ = std::move(base_url);
}

void GraphFace::Register(httplib::Server& server, std::string base_url) {
  SetBaseUrl(std::move(base_url));
  server.Post(absl::StrCat("/", options_.tenant_id, "/oauth2/v2.0/token"),
              [this](const httplib::Request& req, httplib::Response& res) {
                oauth_.HandleToken(req, res);
              });
  server.Get("/_graph/stats",
             [this](const httplib::Request&, httplib::Response& res) { ServeStats(res); });
  server.Post("/_graph/storm", [this](const httplib::Request& req, httplib::Response& res) {
    int64_t count = 0;
    if (!absl::SimpleAtoi(req.get_param_value("count"), &count)) count = 0;
    absl::MutexLock lock(&mu_);
    storm_left_ = count;
    res.status = 204;
  });
  server.Get("/v1.0/users", [this](const httplib::Request& req, httplib::Response& res) {
    if (!Admit(req, res)) return;
    std::vector<std::string> select;
    if (req.has_param("$select")) {
      select = absl::StrSplit(req.get_param_value("$select"), ',', absl::SkipEmpty());
    }
    absl::ReaderMutexLock lock(&seed_mu_);
    ServePage(
        req, res, seed_.users.size(),
        [&](size_t user_idx)
            ABSL_NO_THREAD_SAFETY_ANALYSIS { return UserJson(seed_.users[user_idx], select); },
        "users");
  });
  server.Get("/v1.0/groups", [this](const httplib::Request& req, httplib::Response& res) {
    if (!Admit(req, res)) return;
    absl::ReaderMutexLock lock(&seed_mu_);
    auto group_json = [&](size_t group_idx) ABSL_NO_THREAD_SAFETY_ANALYSIS {
      const GraphSeedGroup& group = seed_.groups[group_idx];
      return absl::StrCat(R"({"id":)", GraphQuoted(group.id), R"(,"displayName":)",
                          GraphQuoted(group.display_name), "}");
    };
    ServePage(req, res, seed_.groups.size(), group_json, "groups(id,displayName)");
  });
  RegisterDelta(server);  // before /groups/{id}/...: "delta" is no group id
  server.Get(R"(/v1\.0/groups/([^/]+)/members)",
             [this](const httplib::Request& req, httplib::Response& res) {
               if (!Admit(req, res)) return;
               ServeMembers(req, res);
             });
  server.Get(R"(/v1\.0/servicePrincipals/([^/]+)/appRoleAssignedTo)",
             [this](const httplib::Request& req, httplib::Response& res) {
               if (!Admit(req, res)) return;
               ServeAssignments(req, res);
             });
}

void GraphFace::ServeMembers(const httplib::Request& req, httplib::Response& res) {
  const std::string id = req.matches[1];
  absl::ReaderMutexLock lock(&seed_mu_);
  auto group = group_index_.find(id);
  if (group == group_index_.end()) {
    return ReplyGraphError(res, 404, "Request_ResourceNotFound", "No such group.");
  }
  const std::vector<std::string>& members = seed_.groups[group->second].members;
  auto member_json = [&](size_t member_idx) ABSL_NO_THREAD_SAFETY_ANALYSIS {
    const std::string& member = members[member_idx];
    return absl::StrCat(R"({"@odata.type":"#microsoft.graph.)",
                        group_index_.contains(member) ? "group" : "user", R"(","id":)",
                        GraphQuoted(member), "}");
  };
  ServePage(req, res, members.size(), member_json, "directoryObjects(id)");
}

void GraphFace::ServeAssignments(const httplib::Request& req, httplib::Response& res) {
  const std::string id = req.matches[1];
  absl::ReaderMutexLock lock(&seed_mu_);
  auto sp = std::find_if(seed_.service_principals.begin(), seed_.service_principals.end(),
                         [&](const auto& entry) { return entry.first == id; });
  if (sp == seed_.service_principals.end()) {
    return ReplyGraphError(res, 404, "Request_ResourceNotFound", "No such service principal.");
  }
  const std::vector<GraphSeedAssignment>& assignments = sp->second;
  auto assignment_json = [&](size_t assignment_idx) {
    const GraphSeedAssignment& a = assignments[assignment_idx];
    return absl::StrCat(R"({"id":")", "assignment-", assignment_idx,
                        R"(","deletedDateTime":null,"appRoleId":)", GraphQuoted(a.app_role_id),
                        R"(,"principalId":)", GraphQuoted(a.principal_id), R"(,"principalType":)",
                        GraphQuoted(a.principal_type), R"(,"resourceId":)", GraphQuoted(id), "}");
  };
  ServePage(req, res, assignments.size(), assignment_json,
            absl::StrCat("servicePrincipals('", id, "')/appRoleAssignedTo"));
}

}  // namespace usersync::io::emulator
