#include "core/directory.h"

#include "absl/strings/str_cat.h"
#include "core/check.h"
#include "core/normalize.h"
#include "core/str.h"

namespace usersync::core {
std::optional<uint32_t> Directory::FindSlot(std::string_view dn) const {
  const std::string key = NormalizeDn(dn);
  return dn_index_.Find(key, FlatIndex::Hash(key),
                        [this](uint32_t slot) { return dn_slots_[slot].key; });
}

std::optional<uint32_t> Directory::FindUserByDn(std::string_view dn) const {
  std::optional<uint32_t> slot = FindSlot(dn);
  if (!slot || dn_slots_[*slot].user == kNone) return std::nullopt;
  return dn_slots_[*slot].user;
}
std::optional<uint32_t> Directory::FindGroupByDn(std::string_view dn) const {
  std::optional<uint32_t> slot = FindSlot(dn);
  if (!slot || dn_slots_[*slot].group == kNone) return std::nullopt;
  return dn_slots_[*slot].group;
}
std::optional<uint32_t> Directory::FindUserById(std::string_view id) const {
  return id_index_.Find(id, FlatIndex::Hash(id), [this](uint32_t user) { return user_id[user]; });
}

void Directory::SetUserColumns(uint32_t idx, const UserRecord& user, std::string_view dn_key,
                               std::string_view id) {
  const bool append = idx == user_count();
  const auto put = [&](auto& column, auto value) {
    if (append) {
      column.push_back(value);
    } else {
      column[idx] = value;
    }
  };
  const auto stored = [this](std::string_view value) {
    return arena_.Store(TrimWhitespace(value));
  };
  // Most DNs are already in normal form: then the column shares the key's bytes.
  const std::string_view trimmed_dn = TrimWhitespace(user.dn);
  put(user_dn, trimmed_dn == dn_key ? dn_key : arena_.Store(trimmed_dn));
  put(user_id, id);
  put(user_name, stored(user.user_name));
  put(email, stored(user.email));
  put(first_name, stored(user.first_name));
  put(last_name, stored(user.last_name));
  put(display_name, stored(user.display_name));
  put(language, stored(user.language));
  put(disabled, static_cast<uint8_t>(user.disabled ? 1 : 0));
  for (size_t k = 0; k < extra.size(); ++k) {
    put(extra[k], k < user.extra.size() ? stored(user.extra[k]) : std::string_view());
  }
}

void Directory::SetGroupColumns(uint32_t idx, std::string_view dn, std::string_view name,
                                std::string_view dn_key) {
  const std::string_view trimmed_dn = TrimWhitespace(dn);
  const std::string_view stored_dn = trimmed_dn == dn_key ? dn_key : arena_.Store(trimmed_dn);
  const std::string_view trimmed_name = TrimWhitespace(name);
  const std::string_view stored_name =
      trimmed_name.empty() ? stored_dn : arena_.Store(trimmed_name);
  if (idx == group_count()) {
    group_dn.push_back(stored_dn);
    group_name.push_back(stored_name);
  } else {
    group_dn[idx] = stored_dn;
    group_name[idx] = stored_name;
  }
}

DirectoryBuilder::DirectoryBuilder(std::vector<std::string> extra_names) {
  dir_.extra.resize(extra_names.size());
  dir_.extra_names = std::move(extra_names);
}

uint32_t Directory::SlotFor(std::string_view key, uint64_t hash) {
  const auto [slot, inserted] =
      dn_index_.FindOrInsert(key, hash, static_cast<uint32_t>(dn_slots_.size()),
                             [this](uint32_t existing) { return dn_slots_[existing].key; });
  if (inserted) dn_slots_.push_back(DnSlot{arena_.Store(key)});
  return slot;
}

void Directory::PrefetchSlots(const uint64_t* hashes, size_t count,
                              std::vector<uint32_t>& candidates) const {
  for (size_t idx = 0; idx < count; ++idx) dn_index_.Prefetch(hashes[idx]);
  candidates.resize(count);
  for (size_t idx = 0; idx < count; ++idx) {
    candidates[idx] = dn_index_.Candidate(hashes[idx]);
    if (candidates[idx] < dn_slots_.size()) __builtin_prefetch(&dn_slots_[candidates[idx]]);
  }
  for (size_t idx = 0; idx < count; ++idx) {
    if (candidates[idx] >= dn_slots_.size()) continue;
    const std::string_view stored = dn_slots_[candidates[idx]].key;
    if (stored.empty()) continue;
    __builtin_prefetch(stored.data());
    __builtin_prefetch(stored.data() + stored.size() - 1);
  }
}

void Directory::SlotsFor(const std::vector<std::string_view>& keys, std::vector<uint64_t>& hashes,
                         std::vector<uint32_t>& slots) {
  hashes.resize(keys.size());
  for (size_t idx = 0; idx < keys.size(); ++idx) hashes[idx] = FlatIndex::Hash(keys[idx]);
  PrefetchSlots(hashes.data(), keys.size(), slots);
  for (size_t idx = 0; idx < keys.size(); ++idx) slots[idx] = SlotFor(keys[idx], hashes[idx]);
}

void DirectoryBuilder::HintDns(const std::vector<std::string_view>& dns) {
  hint_bytes_.clear();
  hints_.clear();
  hint_hashes_.clear();
  hints_used_ = 0;
  for (std::string_view dn : dns) {
    NormalizeDnInto(dn, &scratch_dn_);
    hint_hashes_.push_back(FlatIndex::Hash(scratch_dn_));
    Hint hint;
    hint.dn_begin = static_cast<uint32_t>(hint_bytes_.size());
    hint_bytes_ += dn;
    hint.key_begin = static_cast<uint32_t>(hint_bytes_.size());
    hint_bytes_ += scratch_dn_;
    hint.key_end = static_cast<uint32_t>(hint_bytes_.size());
    hints_.push_back(hint);
  }
  dir_.PrefetchSlots(hint_hashes_.data(), hint_hashes_.size(), batch_slots_);
}

std::pair<std::string_view, uint64_t> DirectoryBuilder::DnKey(std::string_view dn) {
  const std::string_view bytes = hint_bytes_;
  // Usually the next hint; one further on when the source skipped an entry it hinted.
  for (size_t hint_idx = hints_used_; hint_idx < hints_.size(); ++hint_idx) {
    const Hint& hint = hints_[hint_idx];
    if (bytes.substr(hint.dn_begin, hint.key_begin - hint.dn_begin) != dn) continue;
    hints_used_ = hint_idx + 1;
    return {bytes.substr(hint.key_begin, hint.key_end - hint.key_begin), hint_hashes_[hint_idx]};
  }
  NormalizeDnInto(dn, &scratch_dn_);
  return {scratch_dn_, FlatIndex::Hash(scratch_dn_)};
}

void DirectoryBuilder::AddUser(const UserRecord& user) {
  FlushMembers();
  StringArena& arena = dir_.arena_;
  const uint32_t idx = static_cast<uint32_t>(dir_.user_count());
  const auto [key, hash] = DnKey(user.dn);
  const uint32_t slot = dir_.SlotFor(key, hash);
  const std::string_view dn_key = dir_.dn_slots_[slot].key;
  if (dir_.dn_slots_[slot].user != Directory::kNone) {
    dir_.issues.push_back({std::string(user.dn), "duplicate DN: entry ignored"});
    return;
  }
  std::string_view id = TrimWhitespace(user.id);
  if (id.empty()) id = dn_key;
  const std::vector<std::string_view>& ids = dir_.user_id;
  if (!dir_.id_index_
           .FindOrInsert(id, FlatIndex::Hash(id), idx,
                         [&ids](uint32_t existing) { return ids[existing]; })
           .second) {
    dir_.issues.push_back(
        DirectoryIssue{std::string(user.dn),
                       absl::StrCat("duplicate directory id \"", Sv(id), "\": entry ignored")});
    return;
  }
  if (id.data() != dn_key.data()) id = arena.Store(id);
  dir_.dn_slots_[slot].user = idx;
  dir_.SetUserColumns(idx, user, dn_key, id);
}

bool DirectoryBuilder::AddGroup(std::string_view dn, std::string_view name) {
  FlushMembers();
  const auto [key, hash] = DnKey(dn);
  const uint32_t slot = dir_.SlotFor(key, hash);
  const std::string_view dn_key = dir_.dn_slots_[slot].key;
  has_group_ = true;
  if (dir_.dn_slots_[slot].group != Directory::kNone) {
    current_group_ = dir_.dn_slots_[slot].group;
    dir_.issues.push_back({std::string(dn), "group listed twice: members merged"});
    return false;
  }
  current_group_ = static_cast<uint32_t>(dir_.group_count());
  dir_.dn_slots_[slot].group = current_group_;
  dir_.SetGroupColumns(current_group_, dn, name, dn_key);
  return true;
}

void DirectoryBuilder::AddMember(std::string_view member_dn) {
  USERSYNC_CHECK(has_group_);
  std::string_view trimmed = TrimWhitespace(member_dn);
  if (trimmed.empty()) return;
  NormalizeDnInto(trimmed, &scratch_dn_);
  pending_bytes_ += scratch_dn_;
  pending_ends_.push_back(static_cast<uint32_t>(pending_bytes_.size()));
  if (pending_ends_.size() == kMemberBatch) FlushMembers();
}

void DirectoryBuilder::FlushMembers() {
  if (pending_ends_.empty()) return;
  batch_keys_.clear();
  uint32_t begin = 0;
  for (const uint32_t end : pending_ends_) {
    batch_keys_.push_back(std::string_view(pending_bytes_).substr(begin, end - begin));
    begin = end;
  }
  dir_.SlotsFor(batch_keys_, batch_hashes_, batch_slots_);
  for (const uint32_t slot : batch_slots_) edges_.push_back({current_group_, slot});
  pending_bytes_.clear();
  pending_ends_.clear();
}

Directory DirectoryBuilder::Finish() && {
  FlushMembers();
  Directory& dir = dir_;
  const size_t group_count = dir.group_count();
  // Pass 1: resolve each edge (a user first, then a group, as a member DN names an entry),
  // count each group's resolved members, note the first unresolved ones.
  constexpr uint32_t kUnresolved = Directory::kNone;
  std::vector<uint32_t> resolved(edges_.size());
  std::vector<uint32_t> begin(group_count + 1, 0);
  std::vector<const PendingEdge*> examples;
  for (size_t e = 0; e < edges_.size(); ++e) {
    const Directory::DnSlot& slot = dir.dn_slots_[edges_[e].slot];
    if (slot.user != Directory::kNone) {
      resolved[e] = MemberRef::User(slot.user).value;
    } else if (slot.group != Directory::kNone) {
      resolved[e] = MemberRef::Group(slot.group).value;
    } else {
      resolved[e] = kUnresolved;
      ++dir.unresolved_member_count;
      dir.unresolved_members.emplace_back(edges_[e].group, slot.key);
      if (examples.size() < Directory::kMaxUnresolvedExamples) examples.push_back(&edges_[e]);
      continue;
    }
    ++begin[edges_[e].group + 1];
  }
  for (size_t g = 0; g < group_count; ++g) begin[g + 1] += begin[g];
  // Pass 2: place each resolved edge; a stable counting sort keeps each group's members in the
  // order they came (a group read twice has its second part after its first).
  dir.members.resize(begin[group_count]);
  std::vector<uint32_t> cursor(begin.begin(), begin.end() - 1);
  for (size_t e = 0; e < edges_.size(); ++e) {
    if (resolved[e] == kUnresolved) continue;
    dir.members[cursor[edges_[e].group]++].value = resolved[e];
  }
  dir.member_begin = std::move(begin);
  for (const PendingEdge* edge : examples) {
    dir.unresolved_examples.emplace_back(std::string(dir.group_dn[edge->group]),
                                         std::string(dir.dn_slots_[edge->slot].key));
  }
  std::vector<PendingEdge>().swap(edges_);
  return std::move(dir_);
}

}  // namespace usersync::core
