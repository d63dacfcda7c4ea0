#include "core/directory.h"

#include "absl/strings/str_cat.h"
#include "core/check.h"
#include "core/normalize.h"
#include "core/str.h"

namespace usersync::core {
namespace {

constexpr size_t kMaxUnresolvedExamples = 20;

template <typename Index>
std::optional<uint32_t> Lookup(const Index& index, std::string_view key) {
  auto it = index.find(key);
  if (it == index.end()) return std::nullopt;
  return it->second;
}

}  // namespace

std::optional<uint32_t> Directory::FindUserByDn(std::string_view dn) const {
  return Lookup(user_by_dn_, NormalizeDn(dn));
}
std::optional<uint32_t> Directory::FindGroupByDn(std::string_view dn) const {
  return Lookup(group_by_dn_, NormalizeDn(dn));
}
std::optional<uint32_t> Directory::FindUserById(std::string_view id) const {
  return Lookup(user_by_id_, id);
}

DirectoryBuilder::DirectoryBuilder(std::vector<std::string> extra_names) {
  dir_.extra.resize(extra_names.size());
  dir_.extra_names = std::move(extra_names);
}

void DirectoryBuilder::AddUser(const UserRecord& user) {
  StringArena& arena = dir_.arena_;
  const uint32_t idx = static_cast<uint32_t>(dir_.user_count());
  // Keys go into the arena first so each index is probed once (a duplicate, rare, wastes a few
  // arena bytes).
  std::string_view dn_key = arena.Store(NormalizeDn(user.dn));
  if (!dir_.user_by_dn_.try_emplace(dn_key, idx).second) {
    dir_.issues.push_back({std::string(user.dn), "duplicate DN: entry ignored"});
    return;
  }
  std::string_view id = TrimWhitespace(user.id);
  id = id.empty() ? dn_key : arena.Store(id);
  if (!dir_.user_by_id_.try_emplace(id, idx).second) {
    dir_.user_by_dn_.erase(dn_key);
    dir_.issues.push_back(DirectoryIssue{
        std::string(user.dn), absl::StrCat("duplicate directory id \"", Sv(id), "\": entry ignored")});
    return;
  }
  dir_.user_dn.push_back(arena.Store(TrimWhitespace(user.dn)));
  dir_.user_id.push_back(id);
  dir_.user_name.push_back(arena.Store(TrimWhitespace(user.user_name)));
  dir_.email.push_back(arena.Store(TrimWhitespace(user.email)));
  dir_.first_name.push_back(arena.Store(TrimWhitespace(user.first_name)));
  dir_.last_name.push_back(arena.Store(TrimWhitespace(user.last_name)));
  dir_.display_name.push_back(arena.Store(TrimWhitespace(user.display_name)));
  dir_.language.push_back(arena.Store(TrimWhitespace(user.language)));
  dir_.disabled.push_back(user.disabled ? 1 : 0);
  for (size_t k = 0; k < dir_.extra.size(); ++k) {
    dir_.extra[k].push_back(k < user.extra.size() ? arena.Store(TrimWhitespace(user.extra[k]))
                                                  : std::string_view());
  }
}

bool DirectoryBuilder::AddGroup(std::string_view dn, std::string_view name) {
  std::string normalized_dn = NormalizeDn(dn);
  has_group_ = true;
  if (auto it = dir_.group_by_dn_.find(normalized_dn); it != dir_.group_by_dn_.end()) {
    current_group_ = it->second;
    dir_.issues.push_back({std::string(dn), "group listed twice: members merged"});
    return false;
  }
  StringArena& arena = dir_.arena_;
  current_group_ = static_cast<uint32_t>(dir_.group_count());
  dir_.group_by_dn_.emplace(arena.Store(normalized_dn), current_group_);
  std::string_view trimmed_dn = arena.Store(TrimWhitespace(dn));
  dir_.group_dn.push_back(trimmed_dn);
  std::string_view trimmed_name = TrimWhitespace(name);
  dir_.group_name.push_back(trimmed_name.empty() ? trimmed_dn : arena.Store(trimmed_name));
  pending_members_.emplace_back();
  return true;
}

void DirectoryBuilder::AddMember(std::string_view member_dn) {
  USERSYNC_CHECK(has_group_);
  std::string_view trimmed = TrimWhitespace(member_dn);
  if (trimmed.empty()) return;
  pending_members_[current_group_].push_back(dir_.arena_.Store(NormalizeDn(trimmed)));
}

Directory DirectoryBuilder::Finish() && {
  Directory& dir = dir_;
  const size_t group_count = dir.group_count();
  dir.member_begin.assign(group_count + 1, 0);
  size_t total = 0;
  for (const auto& list : pending_members_) total += list.size();
  dir.members.reserve(total);
  for (size_t group_idx = 0; group_idx < group_count; ++group_idx) {
    dir.member_begin[group_idx] = static_cast<uint32_t>(dir.members.size());
    for (std::string_view member : pending_members_[group_idx]) {
      if (auto it = dir.user_by_dn_.find(member); it != dir.user_by_dn_.end()) {
        dir.members.push_back(MemberRef::User(it->second));
      } else if (auto git = dir.group_by_dn_.find(member); git != dir.group_by_dn_.end()) {
        dir.members.push_back(MemberRef::Group(git->second));
      } else {
        ++dir.unresolved_member_count;
        if (dir.unresolved_examples.size() < kMaxUnresolvedExamples) {
          dir.unresolved_examples.emplace_back(std::string(dir.group_dn[group_idx]),
                                               std::string(member));
        }
      }
    }
    std::vector<std::string_view>().swap(pending_members_[group_idx]);
  }
  dir.member_begin[group_count] = static_cast<uint32_t>(dir.members.size());
  pending_members_.clear();
  return std::move(dir_);
}

}  // namespace usersync::core
