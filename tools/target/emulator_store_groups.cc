// EmulatorStore's groups: create, read, change (attributes and membership, atomically),
// delete, list and find. The users and the store's common parts are in emulator_store.cc.
#include <algorithm>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "core/str.h"
#include "tools/target/emulator_store.h"
#include "tools/target/emulator_store_db.h"
#include "tools/target/emulator_store_internal.h"

namespace usersync::io::emulator {

using store_internal::CheckVersion;
using store_internal::Lower;
using store_internal::NowMs;
using store_internal::PageOf;

absl::StatusOr<GroupView> EmulatorStore::CreateGroup(EmulatorGroup group,
                                                     const std::vector<std::string>& member_ids) {
  absl::MutexLock lock(&mu_);
  if (group.display_name.empty()) return absl::InvalidArgumentError("displayName is required");
  if (groups_by_name_.contains(Lower(group.display_name))) {
    return absl::AlreadyExistsError(absl::StrCat("displayName ", group.display_name, " is taken"));
  }
  if (!group.id.empty() && IdTaken(group.id)) {
    return absl::AlreadyExistsError(absl::StrCat("id ", group.id, " is taken"));
  }
  std::vector<UserEntry*> members;
  absl::flat_hash_set<UserEntry*> seen;
  for (const std::string& member_id : member_ids) {
    auto it = users_.find(member_id);
    if (it == users_.end()) {
      return absl::InvalidArgumentError(absl::StrCat("member ", member_id, " is not a user"));
    }
    if (seen.insert(it->second.get()).second) members.push_back(it->second.get());
  }
  int64_t saved_next_seq = next_seq_;
  if (group.id.empty()) {
    group.id = NextId(&group.seq);
  } else {
    group.seq = next_seq_++;
  }
  group.version = 1;
  group.created_ms = group.last_modified_ms = NowMs();
  if (db_ != nullptr) {
    absl::Status status = db_->InTransaction([&](Db& db) {
      USERSYNC_RETURN_IF_ERROR(db.PutGroup(group));
      for (const UserEntry* member : members) {
        USERSYNC_RETURN_IF_ERROR(db.AddMember(group.id, member->user->id));
      }
      return absl::OkStatus();
    });
    if (!status.ok()) {
      next_seq_ = saved_next_seq;
      return status;
    }
  }
  GroupEntry* entry = InsertGroupInMemory(std::make_shared<const EmulatorGroup>(std::move(group)));
  for (UserEntry* member : members) AddMemberInMemory(entry, member);
  return ViewOf(*entry, /*with_members=*/true);
}

absl::StatusOr<GroupView> EmulatorStore::GetGroup(std::string_view id, bool with_members) const {
  absl::ReaderMutexLock lock(&mu_);
  auto it = groups_.find(Sv(id));
  if (it == groups_.end()) {
    return absl::NotFoundError(absl::StrCat("group ", Sv(id), " not found"));
  }
  return ViewOf(*it->second, with_members);
}

absl::StatusOr<GroupView> EmulatorStore::UpdateGroup(std::string_view id, int64_t expected_version,
                                                     const GroupChange& change) {
  absl::MutexLock lock(&mu_);
  auto it = groups_.find(Sv(id));
  if (it == groups_.end()) {
    return absl::NotFoundError(absl::StrCat("group ", Sv(id), " not found"));
  }
  GroupEntry* entry = it->second.get();
  const EmulatorGroup& old_group = *entry->group;
  USERSYNC_RETURN_IF_ERROR(CheckVersion("group", id, old_group.version, expected_version));
  EmulatorGroup group = old_group;
  if (change.display_name.has_value()) group.display_name = *change.display_name;
  if (change.external_id.has_value()) group.external_id = *change.external_id;
  if (group.display_name.empty()) return absl::InvalidArgumentError("displayName is required");
  std::string new_key = Lower(group.display_name);
  std::string old_key = Lower(old_group.display_name);
  if (new_key != old_key && groups_by_name_.contains(new_key)) {
    return absl::AlreadyExistsError(absl::StrCat("displayName ", group.display_name, " is taken"));
  }

  // Replay the membership operations on an overlay of the current membership, then derive
  // the net additions and removals: nothing is touched until every operation is valid.
  bool cleared = false;
  absl::flat_hash_map<UserEntry*, bool> overlay;  // user → member after the ops so far
  std::vector<UserEntry*> overlay_order;          // first-touch order, for stable additions
  for (const GroupChange::MemberOp& op : change.member_ops) {
    if (op.kind == GroupChange::MemberOp::Kind::kRemoveAll) {
      cleared = true;
      overlay.clear();
      overlay_order.clear();
      continue;
    }
    auto user = users_.find(op.user_id);
    if (user == users_.end()) {
      if (op.kind == GroupChange::MemberOp::Kind::kRemove) continue;
      return absl::InvalidArgumentError(absl::StrCat("member ", op.user_id, " is not a user"));
    }
    auto [slot, inserted] =
        overlay.emplace(user->second.get(), op.kind == GroupChange::MemberOp::Kind::kAdd);
    if (inserted) {
      overlay_order.push_back(user->second.get());
    } else {
      slot->second = op.kind == GroupChange::MemberOp::Kind::kAdd;
    }
  }
  std::vector<UserEntry*> removed;
  std::vector<UserEntry*> added;
  if (cleared) {
    for (UserEntry* member : entry->members) {
      auto found = overlay.find(member);
      if (found == overlay.end() || !found->second) removed.push_back(member);
    }
  }
  for (UserEntry* user : overlay_order) {
    bool is_member = entry->member_pos.contains(user);
    bool wanted = overlay[user];
    if (wanted && !is_member) added.push_back(user);
    if (!wanted && is_member && !cleared) removed.push_back(user);
  }
  bool attributes_changed =
      group.display_name != old_group.display_name || group.external_id != old_group.external_id;
  if (!attributes_changed && added.empty() && removed.empty()) return ViewOf(*entry, false);

  group.version = old_group.version + 1;
  group.last_modified_ms = std::max(NowMs(), old_group.last_modified_ms);
  if (db_ != nullptr) {
    absl::Status written = db_->InTransaction([&](Db& db) {
      USERSYNC_RETURN_IF_ERROR(db.PutGroup(group));
      if (cleared && removed.size() == entry->members.size()) {
        USERSYNC_RETURN_IF_ERROR(db.RemoveAllMembers(group.id));
      } else {
        for (const UserEntry* user : removed) {
          USERSYNC_RETURN_IF_ERROR(db.RemoveMember(group.id, user->user->id));
        }
      }
      for (const UserEntry* user : added) {
        USERSYNC_RETURN_IF_ERROR(db.AddMember(group.id, user->user->id));
      }
      return absl::OkStatus();
    });
    if (!written.ok()) return written;
  }
  for (UserEntry* user : removed) RemoveMemberInMemory(entry, user);
  for (UserEntry* user : added) AddMemberInMemory(entry, user);
  if (new_key != old_key) {
    groups_by_name_.erase(old_key);
    groups_by_name_.emplace(std::move(new_key), entry);
  }
  entry->group = std::make_shared<const EmulatorGroup>(std::move(group));
  return ViewOf(*entry, /*with_members=*/false);
}

absl::Status EmulatorStore::DeleteGroup(std::string_view id, int64_t expected_version) {
  absl::MutexLock lock(&mu_);
  auto it = groups_.find(Sv(id));
  if (it == groups_.end()) {
    return absl::NotFoundError(absl::StrCat("group ", Sv(id), " not found"));
  }
  GroupEntry* entry = it->second.get();
  USERSYNC_RETURN_IF_ERROR(CheckVersion("group", id, entry->group->version, expected_version));
  if (db_ != nullptr) {
    absl::Status written = db_->InTransaction([&](Db& db) {
      mu_.AssertHeld();
      USERSYNC_RETURN_IF_ERROR(db.DeleteGroup(entry->group->id));
      return db.PutNextSeq(next_seq_);
    });
    if (!written.ok()) return written;
  }
  std::vector<UserEntry*> members = entry->members;
  for (UserEntry* user : members) RemoveMemberInMemory(entry, user);
  groups_by_name_.erase(Lower(entry->group->display_name));
  group_order_.Remove(entry);
  groups_.erase(it);
  return absl::OkStatus();
}

StorePage<GroupView> EmulatorStore::ListGroups(int64_t start, int64_t count,
                                               bool with_members) const {
  StorePage<GroupView> page;
  absl::ReaderMutexLock lock(&mu_);
  page.total = static_cast<int64_t>(group_order_.size());
  if (start < 0 || count <= 0) return page;
  group_order_.ForRange(static_cast<size_t>(start), static_cast<size_t>(count),
                        [&](const GroupEntry* entry) {
                          mu_.AssertReaderHeld();
                          page.items.push_back(ViewOf(*entry, with_members));
                        });
  return page;
}

StorePage<GroupView> EmulatorStore::FindGroups(GroupKey key, std::string_view value, int64_t start,
                                               int64_t count, bool with_members) const {
  absl::ReaderMutexLock lock(&mu_);
  std::vector<const GroupEntry*> matches;
  switch (key) {
    case GroupKey::kId: {
      auto it = groups_.find(Sv(value));
      if (it != groups_.end()) matches.push_back(it->second.get());
      break;
    }
    case GroupKey::kDisplayName: {
      auto it = groups_by_name_.find(Lower(value));
      if (it != groups_by_name_.end()) matches.push_back(it->second);
      break;
    }
    case GroupKey::kExternalId:
      // Groups are few: a scan in creation order is fine.
      group_order_.ForRange(0, group_order_.size(), [&](const GroupEntry* entry) {
        if (entry->group->external_id == value) matches.push_back(entry);
      });
      break;
  }
  return PageOf<GroupView>(matches, start, count, [&](const GroupEntry& entry) {
    mu_.AssertReaderHeld();
    return ViewOf(entry, with_members);
  });
}

}  // namespace usersync::io::emulator
