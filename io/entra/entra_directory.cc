#include "io/entra/entra_directory.h"

#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "core/directory.h"
#include "core/directory_changes.h"
#include "core/normalize.h"
#include "core/status_macros.h"
#include "core/str.h"
#include "io/entra/graph_codec.h"
#include "io/http/oauth2_client.h"
#include "io/secrets.h"

namespace usersync::io {
namespace {

HttpRequest Get(std::string url) {
  HttpRequest request;
  request.method = "GET";
  request.url = std::move(url);
  request.content_type = "application/json";
  return request;
}

// What a 403 on `what` most likely lacks (GRAPH_SHAPES.md, "Permissions").
std::string_view PermissionFor(std::string_view what) {
  if (absl::StrContains(Sv(what), "appRoleAssignedTo")) return "Application.Read.All";
  if (absl::StrContains(Sv(what), "group")) return "GroupMember.Read.All";
  return "User.Read.All";
}

absl::Status WithContext(const absl::Status& status, std::string_view what) {
  if (status.code() == absl::StatusCode::kPermissionDenied) {
    return absl::PermissionDeniedError(
        absl::StrCat("Microsoft Graph refused ", Sv(what), " (", status.message(),
                     "): grant the application the permission ", Sv(PermissionFor(what)),
                     " (type Application) with admin consent"));
  }
  return absl::Status(status.code(),
                      absl::StrCat("Microsoft Graph, ", Sv(what), ": ", status.message()));
}

// A user's attributes to $select: the schema's, accountEnabled and userPrincipalName (the
// e-mail fallback), each once.
std::vector<std::string> SelectedUserAttributes(const DirectorySchema& schema) {
  std::vector<std::string> names = {"id",
                                    schema.id,
                                    schema.user_name,
                                    schema.email,
                                    schema.first_name,
                                    schema.last_name,
                                    schema.display_name,
                                    schema.language,
                                    "accountEnabled",
                                    "userPrincipalName"};
  names.insert(names.end(), schema.extra.begin(), schema.extra.end());
  std::vector<std::string> unique;
  for (std::string& name : names) {
    if (name.empty()) continue;
    auto same = [&](const std::string& seen) { return core::EqualsIgnoreCase(seen, name); };
    if (std::none_of(unique.begin(), unique.end(), same)) unique.push_back(std::move(name));
  }
  return unique;
}

// A user object as the directory's record (views into `user`).
core::UserRecord RecordOf(const GraphObject& user, const DirectorySchema& schema) {
  core::UserRecord record;
  record.dn = user.Get("id");
  record.id = user.Get(schema.id);
  record.user_name = user.Get(schema.user_name);
  record.email = user.Get(schema.email);
  if (record.email.empty()) record.email = user.Get("userPrincipalName");
  record.first_name = user.Get(schema.first_name);
  record.last_name = user.Get(schema.last_name);
  record.display_name = user.Get(schema.display_name);
  record.language = user.Get(schema.language);
  record.disabled = user.Get("accountEnabled") == "false";
  for (const std::string& name : schema.extra) record.extra.push_back(user.Get(name));
  return record;
}

// Whether a failed delta request means the link is no longer served: HTTP 410, or a 400 with
// Graph's expired-token codes (GRAPH_SHAPES.md [token-lifetime]).
bool DeltaLinkRefused(const HttpResponse& response) {
  if (response.http_status == 410) return true;
  return response.http_status == 400 && (absl::StrContains(response.body, "syncStateNotFound") ||
                                         absl::StrContains(response.body, "resyncRequired"));
}

struct Assignment {
  std::string principal_id;
  std::string app_role_id;
};

class EntraSource final : public DirectorySource {
 public:
  explicit EntraSource(EntraSourceOptions options) : options_(std::move(options)) {}

  bool SupportsDelta() const override { return true; }

  absl::StatusOr<std::string> StartCursor() override {
    USERSYNC_RETURN_IF_ERROR(StartPipeline());
    absl::StatusOr<std::string> users =
        FollowDelta(Url(absl::StrCat(UserDeltaPath(), "&$deltatoken=latest")), "GET /users/delta",
                    [](const GraphObject&) {});
    absl::StatusOr<std::string> groups =
        users.ok() ? FollowDelta(Url(absl::StrCat(GroupDeltaPath(), "&$deltatoken=latest")),
                                 "GET /groups/delta", [](const GraphObject&) {})
                   : users.status();
    pipeline_.reset();
    if (!groups.ok()) return groups.status();
    return absl::StrCat(*users, "\n", *groups);
  }

  absl::StatusOr<DirectoryDelta> ReadDelta(std::string_view cursor,
                                           const core::Directory& previous) override {
    const size_t newline = cursor.find('\n');
    if (newline == std::string_view::npos) {
      return absl::OutOfRangeError("the delta cursor is not two delta links");
    }
    USERSYNC_RETURN_IF_ERROR(StartPipeline());
    DirectoryDelta delta;
    absl::Status status = ReadUserDelta(std::string(cursor.substr(0, newline)), delta);
    if (status.ok()) status = ReadGroupDelta(std::string(cursor.substr(newline + 1)), delta);
    if (status.ok() && !options_.service_principal_id.empty()) {
      status = ReadAssignmentDelta(previous, delta);
    }
    pipeline_.reset();
    if (!status.ok()) return status;
    return delta;
  }

  absl::StatusOr<core::Directory> Read() override {
    USERSYNC_RETURN_IF_ERROR(StartPipeline());
    core::DirectoryBuilder builder(options_.schema.extra);
    builder.SetColumnNames(core::ColumnNames{
        .id = options_.schema.id,
        .email = options_.schema.email,
        .first_name = options_.schema.first_name,
        .last_name = options_.schema.last_name,
        .display_name = options_.schema.display_name,
    });
    absl::Status status = ReadUsers(builder);
    if (status.ok()) status = ReadGroups(builder);
    if (status.ok() && !options_.service_principal_id.empty()) status = ReadAssignments(builder);
    pipeline_.reset();  // drains and joins
    if (!status.ok()) return status;
    return std::move(builder).Finish();
  }

 private:
  absl::Status StartPipeline() {
    OAuth2ClientOptions oauth;
    oauth.endpoint.token_url = options_.token_url;
    oauth.endpoint.client_id = options_.client_id;
    oauth.endpoint.client_secret = options_.client_secret;
    // RFC 6749 §2.3.1 encoding, which the Microsoft identity platform accepts as Basic.
    oauth.endpoint.client_auth = ClientAuth::kBasicForm;
    oauth.grant = OAuth2Grant::kClientCredentials;
    oauth.scope = options_.scope;
    oauth.clock = options_.pipeline.clock;
    USERSYNC_ASSIGN_OR_RETURN(std::shared_ptr<OAuth2Client> tokens, OAuth2Client::Create(oauth));
    PipelineOptions pipeline = options_.pipeline;
    pipeline.access_tokens = std::move(tokens);
    pipeline.token_source = "source.client_id and the client secret (source.client_secret_env)";
    USERSYNC_ASSIGN_OR_RETURN(pipeline_, HttpPipeline::Start(std::move(pipeline)));
    return absl::OkStatus();
  }

  std::string Url(std::string_view path_and_query) const {
    return absl::StrCat(options_.graph_url, "/v1.0/", Sv(path_and_query));
  }

  // The page of `response`, with its nextLink checked to stay under the Graph URL.
  absl::StatusOr<GraphPage> PageOf(const HttpResponse& response, std::string_view what) const {
    if (!response.status.ok()) return WithContext(response.status, what);
    absl::StatusOr<GraphPage> page = DecodeGraphPage(response.body, what);
    if (!page.ok()) return page.status();
    if (!page->next_link.empty() &&
        !std::string_view(page->next_link).starts_with(options_.graph_url + "/")) {
      return absl::DataLossError(absl::StrCat("Microsoft Graph, ", Sv(what),
                                              ": @odata.nextLink leaves source.graph_url (",
                                              options_.graph_url, ")"));
    }
    return page;
  }

  // Every object of the collection at `url`, page after page (one request at a time).
  template <typename Fn>
  absl::Status ReadCollection(std::string url, std::string_view what, Fn&& fn) {
    for (int page_idx = 0; !url.empty(); ++page_idx) {
      if (page_idx >= options_.max_pages) {
        return absl::DataLossError(absl::StrCat("Microsoft Graph, ", Sv(what), ": more than ",
                                                options_.max_pages, " pages"));
      }
      USERSYNC_ASSIGN_OR_RETURN(GraphPage page, PageOf(pipeline_->Call(Get(url)), what));
      for (const GraphObject& object : page.objects) fn(object);
      url = std::move(page.next_link);
    }
    return absl::OkStatus();
  }

  std::string UserDeltaPath() const {
    return absl::StrCat("users/delta?$select=",
                        absl::StrJoin(SelectedUserAttributes(options_.schema), ","));
  }
  static std::string GroupDeltaPath() { return "groups/delta?$select=displayName,members"; }

  // A delta round from `url`: every page's objects to `fn`, nextLinks followed, and the
  // deltaLink that ends it. kOutOfRange when Graph no longer serves the link.
  template <typename Fn>
  absl::StatusOr<std::string> FollowDelta(std::string url, std::string_view what, Fn&& fn) {
    if (!url.starts_with(options_.graph_url + "/")) {
      return absl::DataLossError(absl::StrCat("Microsoft Graph, ", Sv(what),
                                              ": the stored delta link leaves source.graph_url"));
    }
    for (int page_idx = 0; page_idx < options_.max_pages; ++page_idx) {
      const HttpResponse response = pipeline_->Call(Get(url));
      if (!response.status.ok() && DeltaLinkRefused(response)) {
        return absl::OutOfRangeError(absl::StrCat("Microsoft Graph, ", Sv(what),
                                                  ": the delta link expired or was refused (",
                                                  "HTTP ", response.http_status, ")"));
      }
      USERSYNC_ASSIGN_OR_RETURN(GraphPage page, PageOf(response, what));
      for (const GraphObject& object : page.objects) fn(object);
      if (!page.delta_link.empty()) return page.delta_link;
      if (page.next_link.empty()) {
        return absl::DataLossError(
            absl::StrCat("Microsoft Graph, ", Sv(what), ": a delta page with neither link"));
      }
      url = std::move(page.next_link);
    }
    return absl::DataLossError(
        absl::StrCat("Microsoft Graph, ", Sv(what), ": more than ", options_.max_pages, " pages"));
  }

  absl::Status ReadUserDelta(std::string link, DirectoryDelta& delta) {
    USERSYNC_ASSIGN_OR_RETURN(
        std::string next,
        FollowDelta(std::move(link), "GET /users/delta", [&](const GraphObject& user) {
          ++delta.entries_read;
          if (user.removed) {
            delta.changes.removed_users.emplace_back(user.Get("id"));
          } else {
            delta.changes.users.push_back(core::EntryOf(RecordOf(user, options_.schema)));
          }
        }));
    delta.cursor = std::move(next);
    return absl::OkStatus();
  }

  absl::Status ReadGroupDelta(std::string link, DirectoryDelta& delta) {
    std::map<std::string, core::GroupEntry> groups;  // a group may come in several parts
    std::vector<std::string> removed;
    USERSYNC_ASSIGN_OR_RETURN(
        std::string next,
        FollowDelta(std::move(link), "GET /groups/delta", [&](const GraphObject& group) {
          ++delta.entries_read;
          const std::string id(group.Get("id"));
          if (group.removed) {
            removed.push_back(id);
            return;
          }
          core::GroupEntry& entry = groups[id];
          entry.dn = id;
          entry.members_complete = false;
          if (!group.Get("displayName").empty()) entry.name = std::string(group.Get("displayName"));
          if (entry.name.empty()) entry.name = id;
          for (const GraphMemberDelta& member : group.members_delta) {
            if (!member.odata_type.empty() &&
                KindOfODataType(member.odata_type) == GraphObjectKind::kOther) {
              continue;
            }
            (member.removed ? entry.removed_members : entry.members).push_back(member.id);
          }
        }));
    for (auto& [id, entry] : groups) delta.changes.groups.push_back(std::move(entry));
    delta.changes.removed_groups = std::move(removed);
    absl::StrAppend(&delta.cursor, "\n", next);
    return absl::OkStatus();
  }

  // Assignments have no delta query: they are read whole and their groups given whole (not
  // counted in entries_read: they are not directory entries); an app role no longer assigned is
  // a removed group.
  absl::Status ReadAssignmentDelta(const core::Directory& previous, DirectoryDelta& delta) {
    core::DirectoryBuilder builder;
    USERSYNC_RETURN_IF_ERROR(ReadAssignments(builder));
    const core::Directory assigned = std::move(builder).Finish();
    const std::vector<std::vector<std::string_view>> members = core::MemberDns(assigned);
    const std::vector<std::vector<std::string_view>> held = core::MemberDns(previous);
    const auto normalized = [](const std::vector<std::string_view>& dns) {
      std::vector<std::string> out;
      for (std::string_view dn : dns) out.push_back(core::NormalizeDn(dn));
      std::sort(out.begin(), out.end());
      return out;
    };
    for (uint32_t group_idx = 0; group_idx < assigned.group_count(); ++group_idx) {
      std::optional<uint32_t> before = previous.FindGroupByDn(assigned.group_dn[group_idx]);
      if (before.has_value() && normalized(held[*before]) == normalized(members[group_idx])) {
        continue;  // the same assignments as at the last cycle
      }
      core::GroupEntry entry{std::string(assigned.group_dn[group_idx]),
                             std::string(assigned.group_name[group_idx]),
                             true,
                             {members[group_idx].begin(), members[group_idx].end()},
                             {}};
      delta.changes.groups.push_back(std::move(entry));
    }
    for (std::string_view dn : previous.group_dn) {
      if (dn.starts_with(kAppRoleGroupPrefix) && !assigned.FindGroupByDn(dn).has_value()) {
        delta.changes.removed_groups.emplace_back(dn);
      }
    }
    return absl::OkStatus();
  }

  absl::Status ReadUsers(core::DirectoryBuilder& builder) {
    const DirectorySchema& schema = options_.schema;
    const std::string url =
        Url(absl::StrCat("users?$select=", absl::StrJoin(SelectedUserAttributes(schema), ","),
                         "&$top=", options_.page_size));
    return ReadCollection(url, "GET /users", [&](const GraphObject& user) {
      builder.AddUser(RecordOf(user, schema));
    });
  }

  absl::Status ReadGroups(core::DirectoryBuilder& builder) {
    std::vector<std::pair<std::string, std::string>> groups;  // (id, displayName)
    USERSYNC_RETURN_IF_ERROR(ReadCollection(
        Url(absl::StrCat("groups?$select=id,displayName&$top=", options_.page_size)), "GET /groups",
        [&](const GraphObject& group) {
          groups.emplace_back(std::string(group.Get("id")), std::string(group.Get("displayName")));
        }));
    std::vector<std::vector<std::string>> members(groups.size());
    USERSYNC_RETURN_IF_ERROR(ReadMembers(groups, &members));
    for (size_t group_idx = 0; group_idx < groups.size(); ++group_idx) {
      const auto& [id, name] = groups[group_idx];
      builder.AddGroup(id, name.empty() ? id : name);
      for (const std::string& member : members[group_idx]) builder.AddMember(member);
    }
    return absl::OkStatus();
  }

  // The direct members (users and groups) of every group, several groups in flight at once:
  // each page's callback submits the group's next page.
  absl::Status ReadMembers(const std::vector<std::pair<std::string, std::string>>& groups,
                           std::vector<std::vector<std::string>>* members) {
    absl::Mutex mu;
    absl::Status first_error;
    std::vector<int> pages(groups.size(), 0);
    std::function<void(size_t, std::string)> fetch = [&](size_t group_idx, std::string url) {
      pipeline_->Submit(Get(std::move(url)), [&, group_idx](HttpResponse response) {
        // A group deleted since the listing answers 404: it is read as empty (Graph is
        // eventually consistent; the next cycle no longer lists it).
        if (response.status.code() == absl::StatusCode::kNotFound) return;
        absl::StatusOr<GraphPage> page = PageOf(response, "GET /groups/{id}/members");
        absl::MutexLock lock(&mu);
        if (page.ok() && ++pages[group_idx] > options_.max_pages) {
          page = absl::DataLossError(absl::StrCat("Microsoft Graph, GET /groups/",
                                                  groups[group_idx].first, "/members: more than ",
                                                  options_.max_pages, " pages"));
        }
        if (!page.ok()) {
          if (first_error.ok()) first_error = page.status();
          return;
        }
        for (const GraphObject& member : page->objects) {
          const std::string_view type = member.Get("@odata.type");
          if (!type.empty() && KindOfODataType(type) == GraphObjectKind::kOther) continue;
          (*members)[group_idx].emplace_back(member.Get("id"));
        }
        if (!page->next_link.empty() && first_error.ok()) {
          fetch(group_idx, std::move(page->next_link));
        }
      });
    };
    for (size_t group_idx = 0; group_idx < groups.size(); ++group_idx) {
      fetch(group_idx, Url(absl::StrCat("groups/", groups[group_idx].first,
                                        "/members?$select=id&$top=", options_.page_size)));
    }
    pipeline_->Drain();
    absl::MutexLock lock(&mu);
    return first_error;
  }

  absl::Status ReadAssignments(core::DirectoryBuilder& builder) {
    std::vector<Assignment> assignments;
    const std::string what = "GET /servicePrincipals/{id}/appRoleAssignedTo";
    USERSYNC_RETURN_IF_ERROR(ReadCollection(
        Url(absl::StrCat("servicePrincipals/", options_.service_principal_id,
                         "/appRoleAssignedTo?$top=", options_.page_size)),
        what, [&](const GraphObject& assignment) {
          if (KindOfPrincipalType(assignment.Get("principalType")) == GraphObjectKind::kOther) {
            return;  // a service principal: not a person to provision
          }
          assignments.push_back({std::string(assignment.Get("principalId")),
                                 std::string(assignment.Get("appRoleId"))});
        }));
    std::map<std::string, std::vector<std::string>> by_role;  // sorted: a deterministic order
    builder.AddGroup(kAppAssignmentsGroup, "assigned to the application");
    for (const Assignment& assignment : assignments) {
      builder.AddMember(assignment.principal_id);
      by_role[assignment.app_role_id].push_back(assignment.principal_id);
    }
    for (const auto& [role, principals] : by_role) {
      builder.AddGroup(absl::StrCat(kAppRoleGroupPrefix, role), absl::StrCat("app role ", role));
      for (const std::string& principal : principals) builder.AddMember(principal);
    }
    return absl::OkStatus();
  }

  const EntraSourceOptions options_;
  std::unique_ptr<HttpPipeline> pipeline_;
};

bool IsHttpUrl(std::string_view url) {
  return url.starts_with("https://") || url.starts_with("http://");
}

}  // namespace

absl::StatusOr<std::unique_ptr<DirectorySource>> MakeEntraSource(EntraSourceOptions options) {
  if (!IsHttpUrl(options.graph_url)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "source.graph_url must start with https:// (got \"", options.graph_url, "\")"));
  }
  if (!IsHttpUrl(options.token_url)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the token endpoint must start with https:// (got \"", options.token_url, "\")"));
  }
  if (options.client_id.empty()) return absl::InvalidArgumentError("source.client_id is empty");
  while (!options.graph_url.empty() && options.graph_url.back() == '/')
    options.graph_url.pop_back();
  options.page_size = std::clamp(options.page_size, 1, 999);
  RegisterSecret(options.client_secret);
  return std::unique_ptr<DirectorySource>(new EntraSource(std::move(options)));
}

}  // namespace usersync::io
