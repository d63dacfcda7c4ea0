// ScimTarget's user group membership (scim_target.h): the user group is the SCIM Group with
// that displayName. Groups are listed once and cached name → id, created on demand; a user
// joins the new group and leaves the old one.
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "io/http/http_util.h"
#include "io/scim/scim_target.h"

namespace usersync::io {

void ScimTarget::UserGroupStep(StatePtr state) {
  if (!state->group_change || state->old_group == state->new_group) {
    Finish(std::move(state), absl::OkStatus());
    return;
  }
  if (state->old_group.empty()) {
    AddToGroup(std::move(state));
    return;
  }
  ResolveGroup(state->old_group, /*create=*/false, [this, state](absl::StatusOr<std::string> id) {
    if (!id.ok()) {
      Finish(state, id.status());
      return;
    }
    if (id->empty()) {  // the old group is gone: nothing to leave
      AddToGroup(state);
      return;
    }
    LeaveGroup(state, *id);
  });
}

void ScimTarget::LeaveGroup(StatePtr state, const std::string& group_id) {
  pipeline().Submit(
      Request("PATCH", absl::StrCat("/Groups/", group_id),
              EncodeGroupMembershipPatch(state->outcome.account_id, /*add=*/false)),
      [this, state](HttpResponse response) {
        state->CountFollowUp(response);
        const absl::Status status = Enrich(response);
        // Not a member any more (404, or 400 noTarget): the goal is reached.
        const bool not_member = status.code() == absl::StatusCode::kNotFound ||
                                (status.code() == absl::StatusCode::kInvalidArgument &&
                                 absl::StrContains(status.message(), "noTarget"));
        if (!status.ok() && !not_member) {
          Finish(state, WithPrefix(status, absl::StrCat("leaving group ", state->old_group)));
          return;
        }
        AddToGroup(state);
      });
}

void ScimTarget::AddToGroup(StatePtr state) {
  if (state->new_group.empty()) {
    Finish(std::move(state), absl::OkStatus());
    return;
  }
  ResolveGroup(state->new_group, /*create=*/true, [this, state](absl::StatusOr<std::string> id) {
    if (!id.ok()) {
      Finish(state, WithPrefix(id.status(), absl::StrCat("group ", state->new_group)));
      return;
    }
    pipeline().Submit(Request("PATCH", absl::StrCat("/Groups/", *id),
                              EncodeGroupMembershipPatch(state->outcome.account_id, /*add=*/true)),
                      [this, state](HttpResponse response) {
                        state->CountFollowUp(response);
                        Finish(state, WithPrefix(Enrich(response),
                                                 absl::StrCat("joining group ", state->new_group)));
                      });
  });
}

void ScimTarget::ResolveGroup(const std::string& name, bool create, GroupCallback done) {
  bool load = false;
  bool post = false;
  std::optional<std::string> id;
  {
    absl::MutexLock lock(&mu_);
    switch (groups_state_) {
      case GroupCacheState::kNotLoaded:
        groups_state_ = GroupCacheState::kLoading;
        load = true;
        [[fallthrough]];
      case GroupCacheState::kLoading:
        pending_lookups_.push_back({name, create, std::move(done)});
        break;
      case GroupCacheState::kLoaded: {
        auto it = group_ids_.find(name);
        if (it != group_ids_.end()) {
          id = it->second;
        } else if (!create) {
          id = std::string();
        } else {
          auto [waiters, first] = creating_.try_emplace(name);
          waiters->second.push_back(std::move(done));
          post = first;
        }
        break;
      }
    }
  }
  if (load) LoadGroupsPage(1);
  if (post) CreateGroup(name, 0);
  if (id.has_value()) done(std::move(*id));
}

void ScimTarget::LoadGroupsPage(int64_t start_index) {
  const int64_t count = options_.page_size;
  pipeline().Submit(
      Request("GET", absl::StrCat("/Groups?startIndex=", start_index, "&count=", count,
                                  "&excludedAttributes=members")),
      [this, start_index](HttpResponse response) {
        absl::Status status = Enrich(response);
        std::vector<ScimGroup> groups;
        int64_t total = 0;
        if (status.ok()) {
          status = WithPrefix(DecodeGroupList(response.body, &groups, &total),
                              absl::StrCat("GET /Groups page at startIndex ", start_index));
        }
        if (!status.ok()) {
          GroupsLoaded(std::move(status));
          return;
        }
        {
          absl::MutexLock lock(&mu_);
          for (ScimGroup& group : groups) {
            group_ids_.try_emplace(std::move(group.display_name), std::move(group.id));
          }
        }
        const int64_t next = start_index + static_cast<int64_t>(groups.size());
        if (!groups.empty() && next <= total) {
          LoadGroupsPage(next);
        } else {
          GroupsLoaded(absl::OkStatus());
        }
      });
}

void ScimTarget::GroupsLoaded(absl::Status status) {
  std::vector<PendingLookup> pending;
  {
    absl::MutexLock lock(&mu_);
    groups_state_ = status.ok() ? GroupCacheState::kLoaded : GroupCacheState::kNotLoaded;
    pending.swap(pending_lookups_);
  }
  for (PendingLookup& lookup : pending) {
    if (status.ok()) {
      ResolveGroup(lookup.name, lookup.create, std::move(lookup.done));
    } else {
      lookup.done(status);
    }
  }
}

void ScimTarget::CreateGroup(const std::string& name, int posts) {
  pipeline().Submit(Request("POST", "/Groups", EncodeGroup(name), /*idempotent=*/false),
                    [this, name, posts](HttpResponse response) {
                      if (response.status.ok()) {
                        absl::StatusOr<ScimGroup> group = DecodeGroup(response.body);
                        if (group.ok()) {
                          GroupCreated(name, group->id);
                        } else if (!response.location.empty()) {
                          GroupCreated(name, IdFromLocation(response.location));
                        } else {
                          GroupCreated(name, WithPrefix(group.status(), "POST /Groups"));
                        }
                        return;
                      }
                      if (response.http_status != 409 && !response.ambiguous) {
                        GroupCreated(name, Enrich(response));
                        return;
                      }
                      // It exists (409), or may (unknown outcome): look it up by name.
                      FindCreatedGroup(name, posts, Enrich(response));
                    });
}

void ScimTarget::FindCreatedGroup(const std::string& name, int posts, absl::Status post_status) {
  pipeline().Submit(
      Request("GET", absl::StrCat("/Groups?excludedAttributes=members&filter=",
                                  UrlEncode(FilterEq("displayName", name)))),
      [this, name, posts, post_status](HttpResponse lookup) {
        std::vector<ScimGroup> groups;
        int64_t total = 0;
        absl::Status status = Enrich(lookup);
        if (status.ok()) status = DecodeGroupList(lookup.body, &groups, &total);
        if (!status.ok()) {
          GroupCreated(name, std::move(status));
          return;
        }
        for (const ScimGroup& group : groups) {
          if (group.display_name == name) {
            GroupCreated(name, group.id);
            return;
          }
        }
        if (post_status.code() == absl::StatusCode::kUnavailable && posts + 1 < kMaxCreateSends) {
          CreateGroup(name, posts + 1);
          return;
        }
        GroupCreated(name, post_status);
      });
}

void ScimTarget::GroupCreated(const std::string& name, absl::StatusOr<std::string> id) {
  std::vector<GroupCallback> waiters;
  {
    absl::MutexLock lock(&mu_);
    if (id.ok()) group_ids_[name] = *id;
    auto it = creating_.find(name);
    if (it != creating_.end()) {
      waiters = std::move(it->second);
      creating_.erase(it);
    }
  }
  for (GroupCallback& waiter : waiters) waiter(id);
}

}  // namespace usersync::io
