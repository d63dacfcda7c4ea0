// DirectoryChanges: what changed in a directory between two cycles, and the pure functions an
// incremental ("delta") cycle is built on: applying changes to the previous snapshot, the
// changes between two snapshots, and the users a change can affect.
//
// The invariant these serve (issue 15 "Exactness first"): after any sequence of directory
// changes, the target state after delta cycles equals the state after a full cycle. A delta
// cycle therefore never plans on the changes alone. It rebuilds the whole directory
// (ApplyChanges on the last cycle's snapshot: the same Directory a full read would give, up to
// the order of entries), computes which users a change can affect (AffectedUsers), and plans
// those users on the whole directory (core/delta_plan.h), so that everything that depends on
// other users (nested group closure, scope, rules, duplicate emails) is computed as a full
// cycle computes it.
//
// Keys: users by directory id (an LDAP entryUUID, a Graph object id: stable across renames),
// groups by DN compared as NormalizeDn does (a Graph group's DN is its object id). Members are
// DNs, as a source hands them to DirectoryBuilder::AddMember.
//
// Thread-safety: plain values and pure functions; a Directory is only read.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/directory.h"

namespace usersync::core {

// A user as a change carries it (owned strings; UserRecord's fields).
struct UserEntry {
  std::string dn;
  std::string id;
  std::string user_name;
  std::string email;
  std::string first_name;
  std::string last_name;
  std::string display_name;
  std::string language;
  bool disabled = false;
  std::vector<std::string> extra;  // in the directory's extra_names order

  // A record viewing this entry (lives as long as the entry).
  UserRecord Record() const;
  bool operator==(const UserEntry&) const = default;
};

// A group as a change carries it. `members_complete`: `members` is the whole member list (an
// LDAP entry read again, a Graph group on a first delta round). Otherwise `members` are added
// and `removed_members` removed against the previous list (Graph's members@delta).
struct GroupEntry {
  std::string dn;
  std::string name;
  bool members_complete = true;
  std::vector<std::string> members;          // member DNs
  std::vector<std::string> removed_members;  // member DNs; only when !members_complete
};

struct DirectoryChanges {
  std::vector<UserEntry> users;             // added or changed (a later entry of an id wins)
  std::vector<std::string> removed_users;   // directory ids
  std::vector<GroupEntry> groups;           // added or changed
  std::vector<std::string> removed_groups;  // DNs

  bool empty() const {
    return users.empty() && removed_users.empty() && groups.empty() && removed_groups.empty();
  }
  // How many directory entries the changes carry (the run report's "entries read").
  size_t entry_count() const {
    return users.size() + removed_users.size() + groups.size() + removed_groups.size();
  }
};

// `record` as an entry (its views copied).
UserEntry EntryOf(const UserRecord& record);

// User `user_idx` of `dir` as an entry.
UserEntry UserAt(const Directory& dir, uint32_t user_idx);

// The DNs of each group's direct members, per group index: resolved members by their entry's
// DN as read, unresolved ones by their normalized DN. Views into `dir`.
std::vector<std::vector<std::string_view>> MemberDns(const Directory& dir);

// The directory `previous` becomes with `changes`: users and groups in their previous order,
// changed ones in place, added ones after them (in the changes' order); removed users and
// groups gone. Members keep their DNs: a member whose entry is removed becomes unresolved, an
// unresolved member DN that a new entry carries resolves (Directory::unresolved_members), as in
// a full read. Extra attributes follow previous.extra_names; previous.issues are kept.
// Cost: for the changes a delta usually brings (users changed under their id and DN, users and
// groups new under unseen DNs, groups' members or names changed) a copy of `previous`'s columns
// and indexes, sharing its strings, patched where the changes touch it (~0.1 s at a million
// users); otherwise (removals, a changed DN, a DN an unresolved member carries)
// RebuildWithChanges. Either way the same directory.
Directory ApplyChanges(const Directory& previous, const DirectoryChanges& changes);

// ApplyChanges on `dir` itself: patched in place (no copy: what replaying a journal of changes
// costs, io/state/directory_snapshot.h), or rebuilt.
void ApplyChangesInPlace(Directory& dir, const DirectoryChanges& changes);

// ApplyChanges by one DirectoryBuilder pass over the whole directory (a full read's building,
// without the reading): the general way, and what tests hold the patched way to.
Directory RebuildWithChanges(const Directory& previous, const DirectoryChanges& changes);

// The changes that turn `before` into `after`: users that differ (by id) or are new, users
// gone, groups whose name or member set differs (with their complete member list) or that
// are new, groups gone. ApplyChanges(before, DiffDirectories(before, after)) holds the same
// users, groups and member sets as `after`. REQUIRES: both have the same extra_names.
DirectoryChanges DiffDirectories(const Directory& before, const Directory& after);

// The directory ids of the users whose plan a change can alter, sorted and unique:
//   - every user the changes add, change or remove;
//   - every user whose membership of a changed or removed group differs between `before` and
//     `after`, nested members counted (joining or leaving a scoped or rule group changes a
//     plan; staying in it does not);
//   - every user of `after` whose normalized email equals an old or new email of a user above
//     (one user entering scope with a colleague's address makes both invalid, and leaving makes
//     the other valid again).
// `before` is the previous snapshot, `after` = ApplyChanges(before, changes).
// Example: groups G ∋ H ∋ {ann}, G ∋ bob; H gains carl → H changed → carl only (ann stays in H
// and G; bob's groups are unchanged). With more than 64 changed groups, every user they hold
// before or after counts (a superset: exact, only slower).
std::vector<std::string> AffectedUsers(const Directory& before, const Directory& after,
                                       const DirectoryChanges& changes);

}  // namespace usersync::core
