#include "io/state/snapshot_journal.h"

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/byte_codec.h"
#include "core/str.h"
#include "io/atomic_file.h"

namespace usersync::io {
namespace {

constexpr char kMagic[] = "USDJ";
constexpr size_t kRecordHeaderBytes = 4 + 4 + 8 + 8;

void AppendStrings(const std::vector<std::string>& values, core::ByteWriter& w) {
  w.U32(static_cast<uint32_t>(values.size()));
  for (const std::string& value : values) w.Str(value);
}

void ReadStrings(core::ByteReader& r, std::vector<std::string>& values) {
  values.resize(r.Count(4));
  for (std::string& value : values) value = std::string(r.Str());
}

template <typename Entry>
auto UserFields(Entry& user) {
  return std::array{&user.dn,         &user.id,        &user.user_name,    &user.email,
                    &user.first_name, &user.last_name, &user.display_name, &user.language};
}

void AppendChanges(const core::DirectoryChanges& changes, core::ByteWriter& w) {
  w.U32(static_cast<uint32_t>(changes.users.size()));
  for (const core::UserEntry& user : changes.users) {
    for (const std::string* field : UserFields(user)) w.Str(*field);
    w.U8(user.disabled ? 1 : 0);
    AppendStrings(user.extra, w);
  }
  AppendStrings(changes.removed_users, w);
  w.U32(static_cast<uint32_t>(changes.groups.size()));
  for (const core::GroupEntry& group : changes.groups) {
    w.Str(group.dn);
    w.Str(group.name);
    w.U8(group.members_complete ? 1 : 0);
    AppendStrings(group.members, w);
    AppendStrings(group.removed_members, w);
  }
  AppendStrings(changes.removed_groups, w);
}

void ReadChanges(core::ByteReader& r, core::DirectoryChanges& changes) {
  changes.users.resize(r.Count(8 * 4 + 1 + 4));
  for (core::UserEntry& user : changes.users) {
    for (std::string* field : UserFields(user)) *field = std::string(r.Str());
    user.disabled = r.U8() != 0;
    ReadStrings(r, user.extra);
  }
  ReadStrings(r, changes.removed_users);
  changes.groups.resize(r.Count(4 + 4 + 1 + 4 + 4));
  for (core::GroupEntry& group : changes.groups) {
    group.dn = std::string(r.Str());
    group.name = std::string(r.Str());
    group.members_complete = r.U8() != 0;
    ReadStrings(r, group.members);
    ReadStrings(r, group.removed_members);
  }
  ReadStrings(r, changes.removed_groups);
}

}  // namespace

std::string JournalPath(const std::string& snapshot_path) {
  return absl::StrCat(snapshot_path, ".journal");
}

std::string EncodeJournalPayload(const SnapshotHeader& header,
                                 const core::DirectoryChanges& changes) {
  core::ByteWriter payload;
  AppendSnapshotHeader(header, payload);
  AppendChanges(changes, payload);
  return std::move(payload.out());
}

absl::Status AppendSnapshotJournal(const std::string& snapshot_path, uint64_t base_checksum,
                                   const SnapshotHeader& header,
                                   const core::DirectoryChanges& changes) {
  const std::string payload = EncodeJournalPayload(header, changes);
  core::ByteWriter record;
  record.Bytes(std::string_view(kMagic, 4));
  record.U32(static_cast<uint32_t>(payload.size()));
  record.U64(base_checksum);
  record.U64(SnapshotChecksum(payload));
  record.Bytes(payload);
  const std::string path = JournalPath(snapshot_path);
  std::FILE* file = std::fopen(path.c_str(), "ab");
  bool ok = file != nullptr;
  if (ok)
    ok = std::fwrite(record.out().data(), 1, record.out().size(), file) == record.out().size();
  if (ok) ok = std::fflush(file) == 0;
  if (file != nullptr && std::fclose(file) != 0) ok = false;
  if (!ok) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot append to ", path, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

absl::Status ReplaySnapshotJournal(const std::string& snapshot_path, DirectorySnapshot& snapshot) {
  const std::string path = JournalPath(snapshot_path);
  absl::StatusOr<std::string> bytes = ReadWholeFile(path);
  if (absl::IsNotFound(bytes.status())) return absl::OkStatus();  // no journal
  if (!bytes.ok()) return absl::DataLossError(absl::StrCat(path, ": ", bytes.status().message()));
  SnapshotOrigin& origin = snapshot.header.origin;
  std::string_view rest = *bytes;
  while (!rest.empty()) {
    const auto damaged = [&](std::string_view why) {
      return absl::DataLossError(
          absl::StrCat(path, ": record ", origin.journal_records + 1, " ", Sv(why)));
    };
    if (rest.size() < kRecordHeaderBytes || rest.substr(0, 4) != std::string_view(kMagic, 4)) {
      return damaged("is cut short or has a bad magic");
    }
    core::ByteReader fixed(rest.substr(4, kRecordHeaderBytes - 4));
    const uint32_t length = fixed.U32();
    const uint64_t base = fixed.U64();
    const uint64_t checksum = fixed.U64();
    rest.remove_prefix(kRecordHeaderBytes);
    if (rest.size() < length) return damaged("is cut short");
    if (base != origin.base_checksum) return damaged("follows another snapshot");
    const std::string_view payload = rest.substr(0, length);
    rest.remove_prefix(length);
    if (SnapshotChecksum(payload) != checksum) return damaged("fails its checksum");
    core::ByteReader r(payload);
    SnapshotHeader header;
    core::DirectoryChanges changes;
    ReadSnapshotHeader(r, header);
    ReadChanges(r, changes);
    if (!r.ok() || !r.done()) return damaged("is malformed");
    core::ApplyChangesInPlace(snapshot.directory, changes);
    header.origin = origin;
    snapshot.header = std::move(header);
    ++origin.journal_records;
  }
  origin.journal_bytes = static_cast<int64_t>(bytes->size());
  return absl::OkStatus();
}

}  // namespace usersync::io
