// core::Directory: the columnar, read-only model of a directory snapshot (users, groups and
// member edges), and DirectoryBuilder, which sources (LDIF, LDAP) fill.
//
// Layout: one vector per attribute ("column"), indexed by user index or group index; every
// string is a view into the directory's own StringArena. Group membership is stored as CSR:
// the members of group g are members[member_begin[g] .. member_begin[g + 1]), each a MemberRef
// naming a user or a group by index. Member DNs that name neither a known user nor a known
// group are counted and kept as examples (never dropped silently).
//
// DNs: one table maps every distinct normalized DN (NormalizeDn) seen as a user, a group or a
// member value to a slot that says which user and which group carry it. A member DN is looked
// up soon after it is added (batched: SlotsFor), whatever the order entries come in, so Finish
// only follows slot numbers, and a DN read as a member and later as a user is stored once.
//
// Thread-safety: a built Directory is immutable and may be read from any number of threads.
// DirectoryBuilder is single-threaded. Views stay valid for the Directory's life.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/flat_index.h"
#include "core/string_arena.h"

namespace usersync::core {

// A member of a group: a user index, or a group index with the top bit set.
struct MemberRef {
  static constexpr uint32_t kGroupBit = 0x80000000u;
  uint32_t value = 0;

  static MemberRef User(uint32_t user_idx) { return {user_idx}; }
  static MemberRef Group(uint32_t group_idx) { return {group_idx | kGroupBit}; }
  bool is_group() const { return (value & kGroupBit) != 0; }
  uint32_t index() const { return value & ~kGroupBit; }
};

// A problem found in the directory data while building (duplicate DN, duplicate id, ...).
// Reported to the administrator; never fatal.
struct DirectoryIssue {
  std::string dn;
  std::string reason;
};

// The source attribute behind each user column that reaches the target, so that messages name
// what the administrator configured ("givenName is not valid UTF-8 ..."). Sources set them
// (DirectoryBuilder::SetColumnNames); the defaults name the fields.
struct ColumnNames {
  std::string id = "id";
  std::string email = "email";
  std::string first_name = "first name";
  std::string last_name = "last name";
  std::string display_name = "display name";
  std::string user_name = "user name";
  std::string language = "language";
};

struct UserRecord;

class Directory {
 public:
  Directory() = default;
  Directory(Directory&&) noexcept = default;
  Directory& operator=(Directory&&) noexcept = default;

  // How many unresolved member edges unresolved_examples keeps.
  static constexpr size_t kMaxUnresolvedExamples = 20;

  size_t user_count() const { return user_dn.size(); }
  size_t group_count() const { return group_dn.size(); }

  // The user or group whose DN normalizes (NormalizeDn) to the same key as `dn`.
  std::optional<uint32_t> FindUserByDn(std::string_view dn) const;
  std::optional<uint32_t> FindGroupByDn(std::string_view dn) const;
  // The user whose directory id is `id` (exact match).
  std::optional<uint32_t> FindUserById(std::string_view id) const;

  // The storage of every string the columns view. Sharing it (StringArena::Share) keeps views
  // into the directory valid after the directory is gone: how a plan's rows point at the
  // directory's DNs and ids without copying them (core/plan.h).
  const StringArena& strings() const { return arena_; }

  // Members of group `group_idx`, direct only.
  std::pair<const MemberRef*, const MemberRef*> MembersOf(uint32_t group_idx) const {
    return {members.data() + member_begin[group_idx], members.data() + member_begin[group_idx + 1]};
  }

  // User columns (all the same length). Values are trimmed; empty means absent.
  std::vector<std::string_view> user_dn;
  std::vector<std::string_view> user_id;
  std::vector<std::string_view> user_name;
  std::vector<std::string_view> email;  // as in the directory; mapping normalizes
  std::vector<std::string_view> first_name;
  std::vector<std::string_view> last_name;
  std::vector<std::string_view> display_name;
  std::vector<std::string_view> language;
  std::vector<uint8_t> disabled;  // 1 = account disabled in the directory (AD uAC bit 2)
  // extra[k][user] is the value of extra attribute extra_names[k] for that user.
  std::vector<std::string> extra_names;
  std::vector<std::vector<std::string_view>> extra;
  ColumnNames column_names;

  // Group columns.
  std::vector<std::string_view> group_dn;
  std::vector<std::string_view> group_name;  // cn (or the DN when no cn)
  std::vector<uint32_t> member_begin;        // size group_count() + 1
  std::vector<MemberRef> members;

  // Member values that named no known user or group.
  uint64_t unresolved_member_count = 0;
  // Every unresolved member edge: (group index, the member's normalized DN, a view into the
  // directory's arena). Kept whole so that a snapshot of the directory (core/directory_changes.h)
  // re-reads them: a later entry carrying the DN then resolves them as a full read would.
  std::vector<std::pair<uint32_t, std::string_view>> unresolved_members;
  std::vector<std::pair<std::string, std::string>> unresolved_examples;  // (group dn, member)
  std::vector<DirectoryIssue> issues;

 private:
  friend class DirectoryBuilder;
  friend class DirectoryImage;  // core/directory_image.cc
  friend class DirectoryPatch;  // core/directory_patch.cc
  static constexpr uint32_t kNone = UINT32_MAX;
  // Who carries a normalized DN: a user index, a group index, both (an entry that matched both
  // filters), or neither (so far only named as a member).
  struct DnSlot {
    std::string_view key;  // the normalized DN, in arena_
    uint32_t user = kNone;
    uint32_t group = kNone;
  };
  std::optional<uint32_t> FindSlot(std::string_view dn) const;
  // The slot of normalized DN `key`, made (and the key copied into the arena) if new.
  uint32_t SlotFor(std::string_view key) { return SlotFor(key, FlatIndex::Hash(key)); }
  uint32_t SlotFor(std::string_view key, uint64_t hash);
  // Prefetches, for each of `count` normalized DNs by their hashes, the memory a SlotFor of it
  // will touch (the index entry, the slot it most likely names, that slot's stored key), stage
  // by stage over the whole batch: a DN table of a million keys fits no cache, and one look-up
  // at a time waits for three cache misses in a row. `candidates` is scratch. A hint only.
  void PrefetchSlots(const uint64_t* hashes, size_t count, std::vector<uint32_t>& candidates) const;
  // SlotFor(keys[i]) into slots[i] for every i, in order, after PrefetchSlots of all of them.
  // `hashes` is scratch.
  void SlotsFor(const std::vector<std::string_view>& keys, std::vector<uint64_t>& hashes,
                std::vector<uint32_t>& slots);
  // Writes the columns of user `idx` from `user` (values trimmed and copied into the arena),
  // appending when idx == user_count(). `dn_key`: its normalized DN, in the arena; `id`: its
  // id, in the arena.
  void SetUserColumns(uint32_t idx, const UserRecord& user, std::string_view dn_key,
                      std::string_view id);
  // The same for group `idx`: its DN (sharing `dn_key` when equal) and name (its DN if empty).
  void SetGroupColumns(uint32_t idx, std::string_view dn, std::string_view name,
                       std::string_view dn_key);

  StringArena arena_;
  std::vector<DnSlot> dn_slots_;
  FlatIndex dn_index_;  // normalized DN -> index into dn_slots_
  FlatIndex id_index_;  // directory id -> user index (the key is user_id[value])
};

// One user as a source hands it over. Views need only live for the AddUser call.
struct UserRecord {
  std::string_view dn;
  std::string_view id;
  std::string_view user_name;
  std::string_view email;
  std::string_view first_name;
  std::string_view last_name;
  std::string_view display_name;
  std::string_view language;
  bool disabled = false;
  // Values of the configured extra attributes, in the order given to the builder.
  std::vector<std::string_view> extra;
};

class DirectoryBuilder {
 public:
  // `extra_names`: the configured extra attributes, in order (UserRecord::extra follows it).
  explicit DirectoryBuilder(std::vector<std::string> extra_names = {});

  // Names the source attributes of the user columns (for messages only).
  void SetColumnNames(ColumnNames names) { dir_.column_names = std::move(names); }

  // Adds a user. A DN seen before (normalized) is reported as an issue and the later entry is
  // ignored; so is an id seen before. An entry with no id takes its normalized DN as id.
  void AddUser(const UserRecord& user);

  // A hint that users or groups with these DNs are added next, in this order: their DNs are
  // normalized and the DN table's memory for them prefetched now, for all of them at once
  // (Directory::PrefetchSlots), and each AddUser/AddGroup whose DN equals the next hinted one
  // takes its normalized form from here. Changes no result; a source that reads entries in
  // batches calls it for the next few (the LDAP source merges groups first, so each user DN
  // it adds is one a member value put into the table earlier, somewhere in a table that fits
  // no cache). Replaces the hints not used yet.
  void HintDns(const std::vector<std::string_view>& dns);

  // Adds a group; members are added with AddMember until the next AddGroup or Finish.
  // Returns false (and reports an issue) if a group with the same DN exists already; members
  // added then go to the existing group, which is what a ranged read of one group needs.
  bool AddGroup(std::string_view dn, std::string_view name);
  // Adds a member DN to the group most recently added. REQUIRES: AddGroup was called.
  // Members are resolved in batches (Directory::SlotsFor), before the next AddUser, AddGroup or
  // Finish and whenever kMemberBatch wait: the result is the same as one at a time.
  void AddMember(std::string_view member_dn);

  size_t user_count() const { return dir_.user_count(); }

  // Lays out the member edges (CSR, in the order they were added) and returns the directory.
  // Members whose DN no user or group carries are counted and the first few kept as examples.
  // Cost: two passes over the edges and an array look-up for each; no hashing.
  Directory Finish() &&;

 private:
  Directory dir_;
  // Member edges in arrival order: (group index, DN slot), resolved in Finish.
  struct PendingEdge {
    uint32_t group;
    uint32_t slot;
  };
  std::vector<PendingEdge> edges_;
  // Member values of current_group_ not yet resolved: their normalized DNs back to back, and
  // where each ends. FlushMembers resolves them into edges_.
  static constexpr size_t kMemberBatch = 32;
  void FlushMembers();
  std::string pending_bytes_;
  std::vector<uint32_t> pending_ends_;
  std::vector<std::string_view> batch_keys_;  // FlushMembers' scratch
  std::vector<uint64_t> batch_hashes_;
  std::vector<uint32_t> batch_slots_;
  // HintDns' hints: each DN as given and its normalized form, copied into hint_bytes_, with
  // the hash of the normalized form; hints_used_ counts those AddUser/AddGroup took so far.
  struct Hint {
    uint32_t dn_begin;
    uint32_t key_begin;  // the DN ends here
    uint32_t key_end;
  };
  // The normalized DN and its hash for `dn`: a hint's when one not used yet is for `dn`, else
  // computed into scratch_dn_.
  std::pair<std::string_view, uint64_t> DnKey(std::string_view dn);
  std::string hint_bytes_;
  std::vector<Hint> hints_;
  std::vector<uint64_t> hint_hashes_;
  size_t hints_used_ = 0;
  std::string scratch_dn_;  // NormalizeDnInto target, reused
  uint32_t current_group_ = 0;
  bool has_group_ = false;
};

}  // namespace usersync::core
