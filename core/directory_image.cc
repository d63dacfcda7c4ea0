#include "core/directory_image.h"

#include <array>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

namespace usersync::core {

static_assert(sizeof(MemberRef) == sizeof(uint32_t));

// Directory's private parts are read and written here only (a friend of Directory).
class DirectoryImage {
 public:
  static void Append(const Directory& dir, ByteWriter& w);
  static absl::StatusOr<Directory> Read(ByteReader& r, std::unique_ptr<char[]> storage,
                                        size_t storage_size);

 private:
  static constexpr uint32_t kSharedKey = UINT32_MAX;
  static constexpr uint32_t kNone = Directory::kNone;

  static void AppendColumn(const std::vector<std::string_view>& column, ByteWriter& w);
  static void AppendSlots(const Directory& dir, ByteWriter& w);
  static bool ReadColumn(ByteReader& r, size_t n, std::vector<std::string_view>& out);
  static bool ReadSlots(ByteReader& r, Directory& dir);
  static absl::Status Check(const Directory& dir);
  static absl::Status BuildIndexes(Directory& dir);
};

namespace {

template <typename D>
auto FixedColumns(D& dir) {
  return std::array{&dir.user_dn,    &dir.user_id,   &dir.user_name,    &dir.email,
                    &dir.first_name, &dir.last_name, &dir.display_name, &dir.language};
}

template <typename N>
auto NameFields(N& names) {
  return std::array{&names.id,           &names.email,     &names.first_name, &names.last_name,
                    &names.display_name, &names.user_name, &names.language};
}

}  // namespace

void DirectoryImage::AppendColumn(const std::vector<std::string_view>& column, ByteWriter& w) {
  size_t total = 0;
  for (std::string_view value : column) total += value.size();
  char* lengths = w.Extend(column.size() * 4 + total);
  char* bytes = lengths + column.size() * 4;
  for (std::string_view value : column) {
    const uint32_t length = static_cast<uint32_t>(value.size());
    std::memcpy(lengths, &length, 4);
    lengths += 4;
    if (length > 0) std::memcpy(bytes, value.data(), length);
    bytes += length;
  }
}

void DirectoryImage::AppendSlots(const Directory& dir, ByteWriter& w) {
  const std::vector<Directory::DnSlot>& slots = dir.dn_slots_;
  w.U32(static_cast<uint32_t>(slots.size()));
  std::vector<uint32_t> values(slots.size());
  for (size_t idx = 0; idx < slots.size(); ++idx) values[idx] = slots[idx].user;
  w.U32s(values);
  for (size_t idx = 0; idx < slots.size(); ++idx) values[idx] = slots[idx].group;
  w.U32s(values);
  std::vector<std::string_view> own;  // the keys no user's or group's DN holds
  for (size_t idx = 0; idx < slots.size(); ++idx) {
    const Directory::DnSlot& slot = slots[idx];
    const std::string_view dn = slot.user != kNone    ? dir.user_dn[slot.user]
                                : slot.group != kNone ? dir.group_dn[slot.group]
                                                      : std::string_view();
    const bool shared = slot.user != kNone || slot.group != kNone ? dn == slot.key : false;
    values[idx] = shared ? kSharedKey : static_cast<uint32_t>(slot.key.size());
    if (!shared) own.push_back(slot.key);
  }
  w.U32s(values);
  for (std::string_view key : own) w.Bytes(key);
}

void DirectoryImage::Append(const Directory& dir, ByteWriter& w) {
  w.U32(static_cast<uint32_t>(dir.extra_names.size()));
  for (const std::string& name : dir.extra_names) w.Str(name);
  for (const std::string* name : NameFields(dir.column_names)) w.Str(*name);
  w.U32(static_cast<uint32_t>(dir.user_count()));
  for (const std::vector<std::string_view>* column : FixedColumns(dir)) AppendColumn(*column, w);
  for (const std::vector<std::string_view>& column : dir.extra) AppendColumn(column, w);
  w.Bytes(
      std::string_view(reinterpret_cast<const char*>(dir.disabled.data()), dir.disabled.size()));
  w.U32(static_cast<uint32_t>(dir.group_count()));
  AppendColumn(dir.group_dn, w);
  AppendColumn(dir.group_name, w);
  // A default-constructed directory has no offsets at all; an image always has groups + 1.
  if (dir.member_begin.empty()) {
    w.U32(0);
  } else {
    w.U32s(dir.member_begin);
  }
  w.U32(static_cast<uint32_t>(dir.members.size()));
  w.Bytes(std::string_view(reinterpret_cast<const char*>(dir.members.data()),
                           dir.members.size() * sizeof(MemberRef)));
  w.U64(dir.unresolved_member_count);
  w.U32(static_cast<uint32_t>(dir.unresolved_members.size()));
  std::vector<uint32_t> groups;
  std::vector<std::string_view> dns;
  for (const auto& [group, dn] : dir.unresolved_members) {
    groups.push_back(group);
    dns.push_back(dn);
  }
  w.U32s(groups);
  AppendColumn(dns, w);
  w.U32(static_cast<uint32_t>(dir.unresolved_examples.size()));
  for (const auto& [group, member] : dir.unresolved_examples) {
    w.Str(group);
    w.Str(member);
  }
  w.U32(static_cast<uint32_t>(dir.issues.size()));
  for (const DirectoryIssue& issue : dir.issues) {
    w.Str(issue.dn);
    w.Str(issue.reason);
  }
  AppendSlots(dir, w);
}

bool DirectoryImage::ReadColumn(ByteReader& r, size_t n, std::vector<std::string_view>& out) {
  std::vector<uint32_t> lengths(n);
  r.U32s(lengths);
  if (!r.ok()) return false;
  uint64_t total = 0;
  for (uint32_t length : lengths) total += length;
  const std::string_view bytes = r.Bytes(total);
  if (!r.ok()) return false;
  out.resize(n);
  const char* at = bytes.data();
  for (size_t idx = 0; idx < n; ++idx) {
    out[idx] = std::string_view(lengths[idx] == 0 ? nullptr : at, lengths[idx]);
    at += lengths[idx];
  }
  return true;
}

bool DirectoryImage::ReadSlots(ByteReader& r, Directory& dir) {
  const uint32_t count = r.Count(3 * 4);
  std::vector<uint32_t> users(count);
  std::vector<uint32_t> groups(count);
  std::vector<uint32_t> lengths(count);
  r.U32s(users);
  r.U32s(groups);
  r.U32s(lengths);
  if (!r.ok()) return false;
  uint64_t own = 0;
  for (uint32_t length : lengths) own += length == kSharedKey ? 0 : length;
  const std::string_view bytes = r.Bytes(own);
  if (!r.ok()) return false;
  dir.dn_slots_.resize(count);
  const char* at = bytes.data();
  for (size_t idx = 0; idx < count; ++idx) {
    Directory::DnSlot& slot = dir.dn_slots_[idx];
    slot.user = users[idx];
    slot.group = groups[idx];
    if ((slot.user != kNone && slot.user >= dir.user_count()) ||
        (slot.group != kNone && slot.group >= dir.group_count())) {
      return false;
    }
    if (lengths[idx] != kSharedKey) {
      slot.key = std::string_view(at, lengths[idx]);
      at += lengths[idx];
    } else if (slot.user != kNone) {
      slot.key = dir.user_dn[slot.user];
    } else if (slot.group != kNone) {
      slot.key = dir.group_dn[slot.group];
    } else {
      return false;  // shared with nothing
    }
  }
  return true;
}

absl::Status DirectoryImage::Check(const Directory& dir) {
  const size_t groups = dir.group_count();
  if (dir.member_begin.size() != groups + 1 || dir.member_begin.front() != 0 ||
      dir.member_begin.back() != dir.members.size()) {
    return absl::DataLossError("directory image: member offsets do not match the members");
  }
  for (size_t group = 0; group < groups; ++group) {
    if (dir.member_begin[group] > dir.member_begin[group + 1]) {
      return absl::DataLossError("directory image: member offsets are not ascending");
    }
  }
  for (MemberRef member : dir.members) {
    if (member.index() >= (member.is_group() ? groups : dir.user_count())) {
      return absl::DataLossError("directory image: a member names no user or group");
    }
  }
  for (const auto& [group, dn] : dir.unresolved_members) {
    if (group >= groups) return absl::DataLossError("directory image: an edge names no group");
  }
  return absl::OkStatus();
}

absl::Status DirectoryImage::BuildIndexes(Directory& dir) {
  const std::vector<Directory::DnSlot>& slots = dir.dn_slots_;
  dir.dn_index_.Reserve(slots.size());
  for (uint32_t idx = 0; idx < slots.size(); ++idx) {
    const std::string_view key = slots[idx].key;
    if (!dir.dn_index_
             .FindOrInsert(key, FlatIndex::Hash(key), idx,
                           [&slots](uint32_t existing) { return slots[existing].key; })
             .second) {
      return absl::DataLossError("directory image: a DN is listed twice");
    }
  }
  const std::vector<std::string_view>& ids = dir.user_id;
  dir.id_index_.Reserve(ids.size());
  for (uint32_t idx = 0; idx < ids.size(); ++idx) {
    if (!dir.id_index_
             .FindOrInsert(ids[idx], FlatIndex::Hash(ids[idx]), idx,
                           [&ids](uint32_t existing) { return ids[existing]; })
             .second) {
      return absl::DataLossError("directory image: a directory id is listed twice");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<Directory> DirectoryImage::Read(ByteReader& r, std::unique_ptr<char[]> storage,
                                               size_t storage_size) {
  const auto damaged = [] {
    return absl::DataLossError("directory image is malformed (a length runs past its end)");
  };
  Directory dir;
  dir.arena_.Adopt(std::move(storage), storage_size);
  dir.extra_names.resize(r.Count(4));
  for (std::string& name : dir.extra_names) name = std::string(r.Str());
  for (std::string* name : NameFields(dir.column_names)) *name = std::string(r.Str());
  const uint32_t users = r.Count(FixedColumns(dir).size() * 4 + 1);
  for (std::vector<std::string_view>* column : FixedColumns(dir)) {
    if (!ReadColumn(r, users, *column)) return damaged();
  }
  dir.extra.resize(dir.extra_names.size());
  for (std::vector<std::string_view>& column : dir.extra) {
    if (!ReadColumn(r, users, column)) return damaged();
  }
  const std::string_view disabled = r.Bytes(users);
  dir.disabled.assign(disabled.begin(), disabled.end());
  const uint32_t groups = r.Count(2 * 4);
  if (!ReadColumn(r, groups, dir.group_dn) || !ReadColumn(r, groups, dir.group_name)) {
    return damaged();
  }
  dir.member_begin.resize(groups + size_t{1});
  r.U32s(dir.member_begin);
  dir.members.resize(r.Count(4));
  r.U32s(std::span<uint32_t>(reinterpret_cast<uint32_t*>(dir.members.data()), dir.members.size()));
  dir.unresolved_member_count = r.U64();
  const uint32_t unresolved = r.Count(2 * 4);
  std::vector<uint32_t> unresolved_groups(unresolved);
  r.U32s(unresolved_groups);
  std::vector<std::string_view> unresolved_dns;
  if (!ReadColumn(r, unresolved, unresolved_dns)) return damaged();
  for (uint32_t idx = 0; idx < unresolved; ++idx) {
    dir.unresolved_members.emplace_back(unresolved_groups[idx], unresolved_dns[idx]);
  }
  dir.unresolved_examples.resize(r.Count(2 * 4));
  for (auto& [group, member] : dir.unresolved_examples) {
    group = std::string(r.Str());
    member = std::string(r.Str());
  }
  dir.issues.resize(r.Count(2 * 4));
  for (DirectoryIssue& issue : dir.issues) {
    issue.dn = std::string(r.Str());
    issue.reason = std::string(r.Str());
  }
  if (!r.ok() || !ReadSlots(r, dir)) return damaged();
  if (absl::Status checked = Check(dir); !checked.ok()) return checked;
  if (absl::Status indexed = BuildIndexes(dir); !indexed.ok()) return indexed;
  return dir;
}

void AppendDirectoryImage(const Directory& dir, ByteWriter& w) { DirectoryImage::Append(dir, w); }

absl::StatusOr<Directory> ReadDirectoryImage(ByteReader& r, std::unique_ptr<char[]> storage,
                                             size_t storage_size) {
  return DirectoryImage::Read(r, std::move(storage), storage_size);
}

}  // namespace usersync::core
