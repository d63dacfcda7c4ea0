#include "core/directory_changes.h"

#include <algorithm>
#include <iterator>
#include <optional>
#include <span>
#include <string_view>
#include <utility>

#include "core/group_closure.h"
#include "core/hash.h"
#include "core/normalize.h"
#include "core/str.h"

namespace usersync::core {
namespace {

// User `user_idx` of `dir` as a record viewing the directory.
UserRecord RecordAt(const Directory& dir, uint32_t user_idx) {
  UserRecord record;
  record.dn = dir.user_dn[user_idx];
  record.id = dir.user_id[user_idx];
  record.user_name = dir.user_name[user_idx];
  record.email = dir.email[user_idx];
  record.first_name = dir.first_name[user_idx];
  record.last_name = dir.last_name[user_idx];
  record.display_name = dir.display_name[user_idx];
  record.language = dir.language[user_idx];
  record.disabled = dir.disabled[user_idx] != 0;
  record.extra.reserve(dir.extra.size());
  for (const std::vector<std::string_view>& column : dir.extra) {
    record.extra.push_back(column[user_idx]);
  }
  return record;
}

bool SameUser(const Directory& a, uint32_t a_idx, const Directory& b, uint32_t b_idx) {
  if (a.user_dn[a_idx] != b.user_dn[b_idx] || a.user_name[a_idx] != b.user_name[b_idx] ||
      a.email[a_idx] != b.email[b_idx] || a.first_name[a_idx] != b.first_name[b_idx] ||
      a.last_name[a_idx] != b.last_name[b_idx] || a.display_name[a_idx] != b.display_name[b_idx] ||
      a.language[a_idx] != b.language[b_idx] || a.disabled[a_idx] != b.disabled[b_idx]) {
    return false;
  }
  for (size_t column = 0; column < a.extra.size(); ++column) {
    if (a.extra[column][a_idx] != b.extra[column][b_idx]) return false;
  }
  return true;
}

// The DNs of group `group_idx`'s direct members, as MemberDns gives them.
std::vector<std::string_view> GroupMemberDns(const Directory& dir, uint32_t group_idx) {
  std::vector<std::string_view> out;
  const auto [first, last] = dir.MembersOf(group_idx);
  for (const MemberRef* member = first; member != last; ++member) {
    out.push_back(member->is_group() ? dir.group_dn[member->index()]
                                     : dir.user_dn[member->index()]);
  }
  for (const auto& [group, dn] : dir.unresolved_members) {
    if (group == group_idx) out.push_back(dn);
  }
  return out;
}

// `members` minus `removed` plus `added` (DNs compared normalized; an added DN already held is
// not added twice).
std::vector<std::string> MergedMembers(std::span<const std::string_view> members,
                                       const GroupEntry& change) {
  absl::flat_hash_set<std::string> removed;
  for (const std::string& dn : change.removed_members) removed.insert(NormalizeDn(dn));
  absl::flat_hash_set<std::string> held;
  std::vector<std::string> out;
  for (std::string_view dn : members) {
    std::string key = NormalizeDn(dn);
    if (removed.contains(key) || !held.insert(std::move(key)).second) continue;
    out.emplace_back(dn);
  }
  for (const std::string& dn : change.members) {
    if (held.insert(NormalizeDn(dn)).second) out.push_back(dn);
  }
  return out;
}

template <typename Dns>
void AddGroupWithMembers(DirectoryBuilder& builder, std::string_view dn, std::string_view name,
                         const Dns& members) {
  builder.AddGroup(dn, name);
  for (const auto& member : members) builder.AddMember(member);
}

// The sorted, normalized member DNs of each group: what DiffDirectories compares.
std::vector<std::vector<std::string>> NormalizedMemberSets(const Directory& dir) {
  std::vector<std::vector<std::string_view>> dns = MemberDns(dir);
  std::vector<std::vector<std::string>> out(dns.size());
  for (size_t group_idx = 0; group_idx < dns.size(); ++group_idx) {
    for (std::string_view dn : dns[group_idx]) out[group_idx].push_back(NormalizeDn(dn));
    std::sort(out[group_idx].begin(), out[group_idx].end());
    out[group_idx].erase(std::unique(out[group_idx].begin(), out[group_idx].end()),
                         out[group_idx].end());
  }
  return out;
}

void AddUsers(const Directory& before, const Directory& after, DirectoryChanges& changes) {
  for (uint32_t user_idx = 0; user_idx < after.user_count(); ++user_idx) {
    std::optional<uint32_t> old = before.FindUserById(after.user_id[user_idx]);
    if (old.has_value() && SameUser(before, *old, after, user_idx)) continue;
    changes.users.push_back(UserAt(after, user_idx));
  }
  for (uint32_t user_idx = 0; user_idx < before.user_count(); ++user_idx) {
    if (!after.FindUserById(before.user_id[user_idx]).has_value()) {
      changes.removed_users.emplace_back(before.user_id[user_idx]);
    }
  }
}

void AddGroups(const Directory& before, const Directory& after, DirectoryChanges& changes) {
  const std::vector<std::vector<std::string>> before_sets = NormalizedMemberSets(before);
  const std::vector<std::vector<std::string>> after_sets = NormalizedMemberSets(after);
  const std::vector<std::vector<std::string_view>> after_dns = MemberDns(after);
  for (uint32_t group_idx = 0; group_idx < after.group_count(); ++group_idx) {
    std::optional<uint32_t> old = before.FindGroupByDn(after.group_dn[group_idx]);
    if (old.has_value() && before.group_name[*old] == after.group_name[group_idx] &&
        before_sets[*old] == after_sets[group_idx]) {
      continue;
    }
    GroupEntry entry{std::string(after.group_dn[group_idx]),
                     std::string(after.group_name[group_idx]),
                     true,
                     {},
                     {}};
    entry.members.assign(after_dns[group_idx].begin(), after_dns[group_idx].end());
    changes.groups.push_back(std::move(entry));
  }
  for (uint32_t group_idx = 0; group_idx < before.group_count(); ++group_idx) {
    if (!after.FindGroupByDn(before.group_dn[group_idx]).has_value()) {
      changes.removed_groups.emplace_back(before.group_dn[group_idx]);
    }
  }
}

// The sorted ids of the users `dir`'s groups `roots` hold, directly or nested.
std::vector<std::string_view> HeldIds(const Directory& dir, std::span<const uint32_t> roots) {
  std::vector<std::string_view> ids;
  if (roots.empty()) return ids;
  const ClosureResult closure = GroupClosure(dir, roots);
  for (uint32_t user_idx = 0; user_idx < dir.user_count(); ++user_idx) {
    if (closure.user_in[user_idx]) ids.push_back(dir.user_id[user_idx]);
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::vector<uint32_t> GroupIndex(const Directory& dir, std::string_view dn) {
  std::optional<uint32_t> group = dir.FindGroupByDn(dn);
  return group.has_value() ? std::vector<uint32_t>{*group} : std::vector<uint32_t>{};
}

// Adds the ids of the users whose membership of a changed group `dns` differs between `before`
// and `after` (nested members count). Only they can change membership of any group: a path
// from any group to a user that appears or disappears runs through a changed edge, whose group
// then gains or loses that user. Past kMaxGroupsOneByOne changed groups, every user they hold
// before or after (a superset, one closure walk per side).
void AddMembershipChanges(const Directory& before, const Directory& after,
                          const std::vector<std::string_view>& dns, std::vector<std::string>& ids) {
  constexpr size_t kMaxGroupsOneByOne = 64;
  if (dns.size() > kMaxGroupsOneByOne) {
    std::vector<uint32_t> before_roots;
    std::vector<uint32_t> after_roots;
    for (std::string_view dn : dns) {
      for (uint32_t group : GroupIndex(before, dn)) before_roots.push_back(group);
      for (uint32_t group : GroupIndex(after, dn)) after_roots.push_back(group);
    }
    for (std::string_view id : HeldIds(before, before_roots)) ids.emplace_back(id);
    for (std::string_view id : HeldIds(after, after_roots)) ids.emplace_back(id);
    return;
  }
  for (std::string_view dn : dns) {
    const std::vector<std::string_view> held_before = HeldIds(before, GroupIndex(before, dn));
    const std::vector<std::string_view> held_after = HeldIds(after, GroupIndex(after, dn));
    std::vector<std::string_view> differ;
    std::set_symmetric_difference(held_before.begin(), held_before.end(), held_after.begin(),
                                  held_after.end(), std::back_inserter(differ));
    for (std::string_view id : differ) ids.emplace_back(id);
  }
}

// Adds the ids of `after`'s users whose normalized email is one of the old or new emails of
// the users `ids` names.
void AddEmailSharers(const Directory& before, const Directory& after,
                     std::vector<std::string>& ids) {
  absl::flat_hash_set<std::string> emails;
  for (const std::string& id : ids) {
    for (const Directory* dir : {&before, &after}) {
      std::optional<uint32_t> user = dir->FindUserById(id);
      if (user.has_value() && !dir->email[*user].empty()) {
        emails.insert(NormalizeEmail(dir->email[*user]));
      }
    }
  }
  if (emails.empty()) return;
  for (uint32_t user_idx = 0; user_idx < after.user_count(); ++user_idx) {
    if (!after.email[user_idx].empty() && emails.contains(NormalizeEmail(after.email[user_idx]))) {
      ids.emplace_back(after.user_id[user_idx]);
    }
  }
}

}  // namespace

// ApplyChanges' fast path: `previous` copied (its columns and indexes, its strings shared, not
// copied) and patched where the changes touch it, so that a delta's cost follows the changes
// and not the directory (a DirectoryBuilder pass over a million users: ~2 s). It takes the
// changes a delta cycle usually brings: users changed under their id and DN, users and groups
// new under a DN the directory has never seen, groups whose members or name changed. Anything
// else (a removal, a changed DN, a DN that an unresolved member or another entry carries, a
// duplicate) returns nullopt and the caller rebuilds, so that the result is always what the
// rebuild gives: the same users and groups at the same indices, the same member edges in the
// same order, the same unresolved members.
class DirectoryPatch {
 public:
  static std::optional<Directory> Apply(const Directory& previous, const DirectoryChanges& changes);
  // The same on `dir` itself (nothing copied); false: not patchable, `dir` untouched.
  static bool ApplyInPlace(Directory& dir, const DirectoryChanges& changes);

 private:
  static constexpr uint32_t kNone = Directory::kNone;
  struct Step {
    size_t entry = 0;      // index into changes.users or changes.groups
    uint32_t idx = kNone;  // the user or group changed; kNone: added
    std::string key;       // the normalized DN
  };

  static Directory CopyOf(const Directory& dir);
  // The steps for the last entry of each id (users) or DN (groups); nullopt: not patchable.
  static std::optional<std::vector<Step>> UserSteps(const Directory& dir,
                                                    const DirectoryChanges& changes,
                                                    absl::flat_hash_set<std::string>& new_keys);
  static std::optional<std::vector<Step>> GroupSteps(const Directory& dir,
                                                     const DirectoryChanges& changes,
                                                     absl::flat_hash_set<std::string>& new_keys);
  static void Relink(Directory& dir, const std::vector<std::vector<std::string>*>& new_members);
  // Applies the steps to `dir`, a copy of the previous directory or that directory itself.
  static void Patch(Directory& dir, const DirectoryChanges& changes, const std::vector<Step>& users,
                    const std::vector<Step>& groups);
};

Directory DirectoryPatch::CopyOf(const Directory& dir) {
  Directory copy;
  copy.arena_.Share(dir.arena_);
  copy.user_dn = dir.user_dn;
  copy.user_id = dir.user_id;
  copy.user_name = dir.user_name;
  copy.email = dir.email;
  copy.first_name = dir.first_name;
  copy.last_name = dir.last_name;
  copy.display_name = dir.display_name;
  copy.language = dir.language;
  copy.disabled = dir.disabled;
  copy.extra_names = dir.extra_names;
  copy.extra = dir.extra;
  copy.column_names = dir.column_names;
  copy.group_dn = dir.group_dn;
  copy.group_name = dir.group_name;
  copy.issues = dir.issues;
  copy.dn_slots_ = dir.dn_slots_;
  copy.dn_index_ = dir.dn_index_;
  copy.id_index_ = dir.id_index_;
  copy.member_begin = dir.member_begin;
  copy.members = dir.members;
  copy.unresolved_member_count = dir.unresolved_member_count;
  copy.unresolved_members = dir.unresolved_members;
  return copy;
}

std::optional<std::vector<DirectoryPatch::Step>> DirectoryPatch::UserSteps(
    const Directory& dir, const DirectoryChanges& changes,
    absl::flat_hash_set<std::string>& new_keys) {
  StrViewMap<size_t> last;
  for (size_t idx = 0; idx < changes.users.size(); ++idx) last[changes.users[idx].id] = idx;
  std::vector<Step> steps;
  for (size_t idx = 0; idx < changes.users.size(); ++idx) {
    const UserEntry& entry = changes.users[idx];
    if (last[entry.id] != idx) continue;
    if (entry.id.empty() || TrimWhitespace(entry.id) != entry.id) return std::nullopt;
    Step step{idx, kNone, NormalizeDn(entry.dn)};
    const std::optional<uint32_t> slot = dir.FindSlot(entry.dn);
    if (const std::optional<uint32_t> user = dir.FindUserById(entry.id)) {
      if (!slot || dir.dn_slots_[*slot].user != *user) return std::nullopt;  // a new DN
      step.idx = *user;
    } else if (slot || step.key.empty() || !new_keys.insert(step.key).second) {
      return std::nullopt;  // a DN seen before
    }
    steps.push_back(std::move(step));
  }
  return steps;
}

std::optional<std::vector<DirectoryPatch::Step>> DirectoryPatch::GroupSteps(
    const Directory& dir, const DirectoryChanges& changes,
    absl::flat_hash_set<std::string>& new_keys) {
  absl::flat_hash_map<std::string, size_t> last;
  for (size_t idx = 0; idx < changes.groups.size(); ++idx) {
    last[NormalizeDn(changes.groups[idx].dn)] = idx;
  }
  std::vector<Step> steps;
  for (size_t idx = 0; idx < changes.groups.size(); ++idx) {
    Step step{idx, kNone, NormalizeDn(changes.groups[idx].dn)};
    if (last[step.key] != idx) continue;
    const std::optional<uint32_t> slot = dir.FindSlot(step.key);
    if (slot && dir.dn_slots_[*slot].group != kNone) {
      step.idx = dir.dn_slots_[*slot].group;
    } else if (slot || step.key.empty() || !new_keys.insert(step.key).second) {
      return std::nullopt;
    }
    steps.push_back(std::move(step));
  }
  return steps;
}

// Lays out the member edges again: a group without new members keeps its edges and its
// unresolved members; one with new members (`new_members[group]`, null otherwise) has them
// resolved as DirectoryBuilder::Finish resolves them (a user first, then a group).
void DirectoryPatch::Relink(Directory& dir,
                            const std::vector<std::vector<std::string>*>& new_members) {
  const std::vector<uint32_t> old_begin = std::move(dir.member_begin);
  const std::vector<MemberRef> old_members = std::move(dir.members);
  const std::vector<std::pair<uint32_t, std::string_view>> old_unresolved =
      std::move(dir.unresolved_members);
  dir.members.clear();
  dir.unresolved_members.clear();
  dir.unresolved_examples.clear();
  std::vector<std::vector<std::string_view>> unresolved_of(dir.group_count());
  for (const auto& [group, dn] : old_unresolved) unresolved_of[group].push_back(dn);
  dir.member_begin.assign(1, 0);
  std::string key;
  for (uint32_t group = 0; group < dir.group_count(); ++group) {
    if (new_members[group] == nullptr) {  // unchanged, hence not new: old_begin has it
      dir.members.insert(dir.members.end(), old_members.begin() + old_begin[group],
                         old_members.begin() + old_begin[group + 1]);
      for (std::string_view dn : unresolved_of[group]) {
        dir.unresolved_members.emplace_back(group, dn);
      }
    } else {
      for (const std::string& member : *new_members[group]) {
        const std::string_view trimmed = TrimWhitespace(member);
        if (trimmed.empty()) continue;
        NormalizeDnInto(trimmed, &key);
        const Directory::DnSlot& slot = dir.dn_slots_[dir.SlotFor(key)];
        if (slot.user != kNone) {
          dir.members.push_back(MemberRef::User(slot.user));
        } else if (slot.group != kNone) {
          dir.members.push_back(MemberRef::Group(slot.group));
        } else {
          dir.unresolved_members.emplace_back(group, slot.key);
        }
      }
    }
    dir.member_begin.push_back(static_cast<uint32_t>(dir.members.size()));
  }
  dir.unresolved_member_count = dir.unresolved_members.size();
  for (const auto& [group, dn] : dir.unresolved_members) {
    if (dir.unresolved_examples.size() == Directory::kMaxUnresolvedExamples) break;
    dir.unresolved_examples.emplace_back(std::string(dir.group_dn[group]), std::string(dn));
  }
}

void DirectoryPatch::Patch(Directory& dir, const DirectoryChanges& changes,
                           const std::vector<Step>& users, const std::vector<Step>& groups) {
  for (const Step& step : users) {
    const UserEntry& entry = changes.users[step.entry];
    const uint32_t slot = dir.SlotFor(step.key);
    uint32_t idx = step.idx;
    std::string_view id;
    if (idx == kNone) {
      idx = static_cast<uint32_t>(dir.user_count());
      id = dir.arena_.Store(entry.id);
      const std::vector<std::string_view>& ids = dir.user_id;
      dir.id_index_.FindOrInsert(id, FlatIndex::Hash(id), idx,
                                 [&ids](uint32_t existing) { return ids[existing]; });
      dir.dn_slots_[slot].user = idx;
    } else {
      id = dir.user_id[idx];
    }
    dir.SetUserColumns(idx, entry.Record(), dir.dn_slots_[slot].key, id);
  }
  std::vector<std::vector<std::string>> merged(groups.size());
  std::vector<std::vector<std::string>*> new_members(dir.group_count(), nullptr);
  for (size_t step_idx = 0; step_idx < groups.size(); ++step_idx) {
    const Step& step = groups[step_idx];
    const GroupEntry& entry = changes.groups[step.entry];
    // A group new to the snapshot: added members are all its members.
    merged[step_idx] = entry.members_complete || step.idx == kNone
                           ? entry.members
                           : MergedMembers(GroupMemberDns(dir, step.idx), entry);
    const uint32_t slot = dir.SlotFor(step.key);
    uint32_t idx = step.idx;
    if (idx == kNone) {
      idx = static_cast<uint32_t>(dir.group_count());
      dir.dn_slots_[slot].group = idx;
      new_members.push_back(nullptr);
    }
    dir.SetGroupColumns(idx, entry.dn, entry.name, dir.dn_slots_[slot].key);
    new_members[idx] = &merged[step_idx];
  }
  Relink(dir, new_members);
}

std::optional<Directory> DirectoryPatch::Apply(const Directory& previous,
                                               const DirectoryChanges& changes) {
  if (!changes.removed_users.empty() || !changes.removed_groups.empty()) return std::nullopt;
  absl::flat_hash_set<std::string> new_keys;
  std::optional<std::vector<Step>> users = UserSteps(previous, changes, new_keys);
  if (!users) return std::nullopt;
  std::optional<std::vector<Step>> groups = GroupSteps(previous, changes, new_keys);
  if (!groups) return std::nullopt;
  Directory dir = CopyOf(previous);
  Patch(dir, changes, *users, *groups);
  return dir;
}

bool DirectoryPatch::ApplyInPlace(Directory& dir, const DirectoryChanges& changes) {
  if (!changes.removed_users.empty() || !changes.removed_groups.empty()) return false;
  absl::flat_hash_set<std::string> new_keys;
  std::optional<std::vector<Step>> users = UserSteps(dir, changes, new_keys);
  if (!users) return false;
  std::optional<std::vector<Step>> groups = GroupSteps(dir, changes, new_keys);
  if (!groups) return false;
  Patch(dir, changes, *users, *groups);
  return true;
}

UserRecord UserEntry::Record() const {
  UserRecord record;
  record.dn = dn;
  record.id = id;
  record.user_name = user_name;
  record.email = email;
  record.first_name = first_name;
  record.last_name = last_name;
  record.display_name = display_name;
  record.language = language;
  record.disabled = disabled;
  record.extra.assign(extra.begin(), extra.end());
  return record;
}

UserEntry EntryOf(const UserRecord& record) {
  UserEntry entry{std::string(record.dn),
                  std::string(record.id),
                  std::string(record.user_name),
                  std::string(record.email),
                  std::string(record.first_name),
                  std::string(record.last_name),
                  std::string(record.display_name),
                  std::string(record.language),
                  record.disabled,
                  {}};
  entry.extra.assign(record.extra.begin(), record.extra.end());
  return entry;
}

UserEntry UserAt(const Directory& dir, uint32_t user_idx) {
  return EntryOf(RecordAt(dir, user_idx));
}

std::vector<std::vector<std::string_view>> MemberDns(const Directory& dir) {
  std::vector<std::vector<std::string_view>> out(dir.group_count());
  for (uint32_t group_idx = 0; group_idx < dir.group_count(); ++group_idx) {
    auto [first, last] = dir.MembersOf(group_idx);
    out[group_idx].reserve(static_cast<size_t>(last - first));
    for (const MemberRef* member = first; member != last; ++member) {
      out[group_idx].push_back(member->is_group() ? dir.group_dn[member->index()]
                                                  : dir.user_dn[member->index()]);
    }
  }
  for (const auto& [group_idx, dn] : dir.unresolved_members) out[group_idx].push_back(dn);
  return out;
}

Directory ApplyChanges(const Directory& previous, const DirectoryChanges& changes) {
  if (std::optional<Directory> patched = DirectoryPatch::Apply(previous, changes)) {
    return *std::move(patched);
  }
  return RebuildWithChanges(previous, changes);
}

void ApplyChangesInPlace(Directory& dir, const DirectoryChanges& changes) {
  if (!DirectoryPatch::ApplyInPlace(dir, changes)) dir = RebuildWithChanges(dir, changes);
}

Directory RebuildWithChanges(const Directory& previous, const DirectoryChanges& changes) {
  StrViewMap<size_t> changed_user;  // id -> the last entry of changes.users carrying it
  for (size_t idx = 0; idx < changes.users.size(); ++idx) changed_user[changes.users[idx].id] = idx;
  StrViewSet removed_user(changes.removed_users.begin(), changes.removed_users.end());
  absl::flat_hash_map<std::string, size_t> changed_group;  // normalized DN -> last entry
  for (size_t idx = 0; idx < changes.groups.size(); ++idx) {
    changed_group[NormalizeDn(changes.groups[idx].dn)] = idx;
  }
  absl::flat_hash_set<std::string> removed_group;
  for (const std::string& dn : changes.removed_groups) removed_group.insert(NormalizeDn(dn));

  DirectoryBuilder builder(previous.extra_names);
  builder.SetColumnNames(previous.column_names);
  std::vector<uint8_t> placed(changes.users.size(), 0);
  for (uint32_t user_idx = 0; user_idx < previous.user_count(); ++user_idx) {
    const std::string_view id = previous.user_id[user_idx];
    if (removed_user.contains(id)) continue;
    auto changed = changed_user.find(id);
    if (changed == changed_user.end()) {
      builder.AddUser(RecordAt(previous, user_idx));
    } else if (!placed[changed->second]) {
      placed[changed->second] = 1;
      builder.AddUser(changes.users[changed->second].Record());
    }
  }
  for (size_t idx = 0; idx < changes.users.size(); ++idx) {
    const UserEntry& entry = changes.users[idx];
    if (placed[idx] || changed_user.at(entry.id) != idx || removed_user.contains(entry.id)) {
      continue;
    }
    placed[idx] = 1;
    builder.AddUser(entry.Record());
  }

  const std::vector<std::vector<std::string_view>> members = MemberDns(previous);
  std::vector<uint8_t> group_placed(changes.groups.size(), 0);
  for (uint32_t group_idx = 0; group_idx < previous.group_count(); ++group_idx) {
    const std::string key = NormalizeDn(previous.group_dn[group_idx]);
    if (removed_group.contains(key)) continue;
    auto changed = changed_group.find(key);
    if (changed == changed_group.end()) {
      AddGroupWithMembers(builder, previous.group_dn[group_idx], previous.group_name[group_idx],
                          members[group_idx]);
      continue;
    }
    if (group_placed[changed->second]) continue;
    group_placed[changed->second] = 1;
    const GroupEntry& entry = changes.groups[changed->second];
    AddGroupWithMembers(
        builder, entry.dn, entry.name,
        entry.members_complete ? entry.members : MergedMembers(members[group_idx], entry));
  }
  for (size_t idx = 0; idx < changes.groups.size(); ++idx) {
    const GroupEntry& entry = changes.groups[idx];
    const std::string key = NormalizeDn(entry.dn);
    if (group_placed[idx] || changed_group.at(key) != idx || removed_group.contains(key)) continue;
    group_placed[idx] = 1;
    // A group new to the snapshot: added members are all its members.
    AddGroupWithMembers(builder, entry.dn, entry.name, entry.members);
  }
  Directory dir = std::move(builder).Finish();
  // What the read that made `previous` found stays found (as DirectoryPatch keeps it).
  dir.issues.insert(dir.issues.begin(), previous.issues.begin(), previous.issues.end());
  return dir;
}

DirectoryChanges DiffDirectories(const Directory& before, const Directory& after) {
  DirectoryChanges changes;
  AddUsers(before, after, changes);
  AddGroups(before, after, changes);
  return changes;
}

std::vector<std::string> AffectedUsers(const Directory& before, const Directory& after,
                                       const DirectoryChanges& changes) {
  std::vector<std::string> ids;
  for (const UserEntry& entry : changes.users) ids.push_back(entry.id);
  ids.insert(ids.end(), changes.removed_users.begin(), changes.removed_users.end());
  std::vector<std::string_view> groups;
  for (const GroupEntry& entry : changes.groups) groups.push_back(entry.dn);
  groups.insert(groups.end(), changes.removed_groups.begin(), changes.removed_groups.end());
  AddMembershipChanges(before, after, groups, ids);
  AddEmailSharers(before, after, ids);
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

}  // namespace usersync::core
