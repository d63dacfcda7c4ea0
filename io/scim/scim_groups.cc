// ScimTarget's user group membership (scim_target.h): the user group is the SCIM Group with
// that displayName. Groups are listed once and cached name → id, created on demand; a user
// joins the new group and leaves the old one. When Users carry no "groups", the membership is
// read from the Group listing.
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "io/http/http_util.h"
#include "io/scim/scim_target.h"

namespace usersync::io {
namespace {

// A Group listing page's totalResults: the first (`total` < 0) within `max`, later ones equal
// to it. kDataLoss otherwise, prefixed with `where`.
absl::Status CheckGroupTotal(const std::string& where, int64_t total, int64_t page_total,
                             int64_t max) {
  if (total < 0 && page_total > max) {
    return absl::DataLossError(
        absl::StrCat(where, ": totalResults ", page_total, " is above the limit of ", max));
  }
  if (total >= 0 && page_total != total) {
    return absl::DataLossError(absl::StrCat(where, ": totalResults changed from ", total, " to ",
                                            page_total, " during the listing"));
  }
  return absl::OkStatus();
}

}  // namespace

// --- Membership from the Group listing --------------------------------------------------------

absl::StatusOr<core::Accounts> ScimTarget::ListAccounts() {
  USERSYNC_ASSIGN_OR_RETURN(core::Accounts accounts, HttpTarget::ListAccounts());
  // A user holding a group shows the server fills User.groups. When none does, either nobody is
  // in a group or the server leaves the attribute out: the Group listing tells both apart.
  for (const core::Account& account : accounts.items) {
    if (!account.user_group.empty()) return accounts;
  }
  if (accounts.items.empty()) return accounts;
  USERSYNC_RETURN_IF_ERROR(ReadMembership(&accounts));
  return accounts;
}

absl::StatusOr<std::vector<ScimGroup>> ScimTarget::ListGroupsWithMembers() {
  std::vector<ScimGroup> groups;
  absl::flat_hash_set<std::string> ids;
  int64_t total = -1;
  int64_t start_index = 1;
  while (total < 0 || start_index <= total) {
    const std::string where = absl::StrCat("GET /Groups page at startIndex ", start_index);
    HttpResponse response = pipeline().Call(Request(
        "GET", absl::StrCat("/Groups?startIndex=", start_index, "&count=", options_.page_size)));
    if (total < 0 && response.http_status == 404) return groups;  // no /Groups: no groups
    USERSYNC_RETURN_IF_ERROR(WithPrefix(Enrich(response), where));
    std::vector<ScimGroup> page;
    int64_t page_total = 0;
    USERSYNC_RETURN_IF_ERROR(WithPrefix(DecodeGroupList(response.body, &page, &page_total), where));
    USERSYNC_RETURN_IF_ERROR(CheckGroupTotal(where, total, page_total, options_.max_accounts));
    total = page_total;
    if (page.empty() && start_index <= total) {
      return absl::DataLossError(absl::StrCat(where, ": an empty page before totalResults ", total,
                                              " (", groups.size(), " groups read)"));
    }
    for (ScimGroup& group : page) {
      if (!ids.insert(group.id).second) {
        return absl::DataLossError(absl::StrCat(where, ": group ", group.id, " listed twice"));
      }
      groups.push_back(std::move(group));
    }
    start_index += static_cast<int64_t>(page.size());
  }
  return groups;
}

absl::Status ScimTarget::ReadMembership(core::Accounts* accounts) {
  USERSYNC_ASSIGN_OR_RETURN(std::vector<ScimGroup> groups, ListGroupsWithMembers());
  // The first group (in listing order) holding a user is its user group, as groups[0] would be.
  absl::flat_hash_map<std::string_view, std::string_view, absl::Hash<std::string_view>> first;
  for (const ScimGroup& group : groups) {
    for (const std::string& member : group.member_ids)
      first.try_emplace(member, group.display_name);
  }
  for (core::Account& account : accounts->items) {
    auto it = first.find(account.id);
    if (it != first.end()) account.user_group = accounts->Store(it->second);
  }
  absl::MutexLock lock(&mu_);
  if (groups_state_ == GroupCacheState::kLoading) return absl::OkStatus();  // not while loading
  members_.emplace();
  for (ScimGroup& group : groups) {
    (*members_)[group.id].insert(std::make_move_iterator(group.member_ids.begin()),
                                 std::make_move_iterator(group.member_ids.end()));
    group_ids_.insert_or_assign(std::move(group.display_name), std::move(group.id));
  }
  groups_state_ = GroupCacheState::kLoaded;
  return absl::OkStatus();
}

bool ScimTarget::KnownMember(const std::string& group_id, const std::string& user_id) const {
  absl::MutexLock lock(&mu_);
  if (!members_.has_value()) return false;
  auto it = members_->find(group_id);
  return it != members_->end() && it->second.contains(user_id);
}

void ScimTarget::NoteMember(const std::string& group_id, const std::string& user_id, bool member) {
  absl::MutexLock lock(&mu_);
  if (!members_.has_value()) return;
  if (member) {
    (*members_)[group_id].insert(user_id);
  } else if (auto it = members_->find(group_id); it != members_->end()) {
    it->second.erase(user_id);
  }
}

// --- Joining and leaving ----------------------------------------------------------------------

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
      [this, state, group_id](HttpResponse response) {
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
        NoteMember(group_id, state->outcome.account_id, /*member=*/false);
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
    const std::string group_id = *id;
    // Already a member as the listing showed: nothing to send (a server may not treat an "add"
    // of a present value as a no-op, as RFC 7644 §3.5.2.1 asks).
    if (KnownMember(group_id, state->outcome.account_id)) {
      Finish(state, absl::OkStatus());
      return;
    }
    pipeline().Submit(Request("PATCH", absl::StrCat("/Groups/", group_id),
                              EncodeGroupMembershipPatch(state->outcome.account_id, /*add=*/true)),
                      [this, state, group_id](HttpResponse response) {
                        state->CountFollowUp(response);
                        absl::Status status = Enrich(response);
                        if (status.ok())
                          NoteMember(group_id, state->outcome.account_id, /*member=*/true);
                        Finish(state, WithPrefix(std::move(status),
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
