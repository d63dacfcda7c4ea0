#include "io/state/directory_snapshot.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/directory_changes.h"

namespace usersync::io {
namespace {

constexpr char kMagic[] = "USDS";
constexpr uint32_t kVersion = 1;
constexpr size_t kHeaderBytes = 4 + 4 + 8 + 8;

uint64_t Fnv1a64(std::string_view bytes) {
  uint64_t hash = 14695981039346656037ull;
  for (unsigned char byte : bytes) {
    hash ^= byte;
    hash *= 1099511628211ull;
  }
  return hash;
}

class Writer {
 public:
  void U8(uint8_t value) { out_.push_back(static_cast<char>(value)); }
  void U32(uint32_t value) { Fixed(value, 4); }
  void U64(uint64_t value) { Fixed(value, 8); }
  void Str(std::string_view value) {
    U32(static_cast<uint32_t>(value.size()));
    out_.append(value);
  }
  std::string& out() { return out_; }

 private:
  void Fixed(uint64_t value, int bytes) {
    for (int byte = 0; byte < bytes; ++byte) out_.push_back(static_cast<char>(value >> (8 * byte)));
  }
  std::string out_;
};

// Every read is bounded by the bytes left; the first failure sticks and reads return zeros.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : in_(bytes) {}
  uint8_t U8() { return static_cast<uint8_t>(Fixed(1)); }
  uint32_t U32() { return static_cast<uint32_t>(Fixed(4)); }
  uint64_t U64() { return Fixed(8); }
  std::string_view Str() {
    const uint32_t size = U32();
    if (!Need(size)) return {};
    std::string_view value = in_.substr(0, size);
    in_.remove_prefix(size);
    return value;
  }
  // A count of items each at least `min_bytes` long: more than the bytes left is damage.
  uint32_t Count(size_t min_bytes) {
    const uint32_t count = U32();
    if (ok_ && static_cast<uint64_t>(count) * min_bytes > in_.size()) ok_ = false;
    return ok_ ? count : 0;
  }
  bool ok() const { return ok_; }
  bool done() const { return in_.empty(); }

 private:
  bool Need(size_t bytes) {
    if (ok_ && in_.size() < bytes) ok_ = false;
    return ok_;
  }
  uint64_t Fixed(int bytes) {
    if (!Need(static_cast<size_t>(bytes))) return 0;
    uint64_t value = 0;
    for (int byte = 0; byte < bytes; ++byte) {
      value |= static_cast<uint64_t>(static_cast<unsigned char>(in_[byte])) << (8 * byte);
    }
    in_.remove_prefix(static_cast<size_t>(bytes));
    return value;
  }
  std::string_view in_;
  bool ok_ = true;
};

void WriteDirectory(const core::Directory& dir, Writer& w) {
  w.U32(static_cast<uint32_t>(dir.extra_names.size()));
  for (const std::string& name : dir.extra_names) w.Str(name);
  const core::ColumnNames& names = dir.column_names;
  for (const std::string* name : {&names.id, &names.email, &names.first_name, &names.last_name,
                                  &names.display_name, &names.user_name, &names.language}) {
    w.Str(*name);
  }
  w.U32(static_cast<uint32_t>(dir.user_count()));
  for (uint32_t user_idx = 0; user_idx < dir.user_count(); ++user_idx) {
    for (const std::vector<std::string_view>* column :
         {&dir.user_dn, &dir.user_id, &dir.user_name, &dir.email, &dir.first_name, &dir.last_name,
          &dir.display_name, &dir.language}) {
      w.Str((*column)[user_idx]);
    }
    w.U8(dir.disabled[user_idx]);
    for (const std::vector<std::string_view>& column : dir.extra) w.Str(column[user_idx]);
  }
  const std::vector<std::vector<std::string_view>> members = core::MemberDns(dir);
  w.U32(static_cast<uint32_t>(dir.group_count()));
  for (uint32_t group_idx = 0; group_idx < dir.group_count(); ++group_idx) {
    w.Str(dir.group_dn[group_idx]);
    w.Str(dir.group_name[group_idx]);
    w.U32(static_cast<uint32_t>(members[group_idx].size()));
    for (std::string_view dn : members[group_idx]) w.Str(dn);
  }
}

core::Directory ReadDirectory(Reader& r) {
  std::vector<std::string> extra_names(r.Count(4));
  for (std::string& name : extra_names) name = std::string(r.Str());
  core::ColumnNames names;
  for (std::string* name : {&names.id, &names.email, &names.first_name, &names.last_name,
                            &names.display_name, &names.user_name, &names.language}) {
    *name = std::string(r.Str());
  }
  core::DirectoryBuilder builder(extra_names);
  builder.SetColumnNames(std::move(names));
  const uint32_t users = r.Count(8 * 4 + 1);
  core::UserRecord record;
  for (uint32_t user_idx = 0; user_idx < users && r.ok(); ++user_idx) {
    for (std::string_view* value :
         {&record.dn, &record.id, &record.user_name, &record.email, &record.first_name,
          &record.last_name, &record.display_name, &record.language}) {
      *value = r.Str();
    }
    record.disabled = r.U8() != 0;
    record.extra.resize(extra_names.size());
    for (std::string_view& value : record.extra) value = r.Str();
    if (r.ok()) builder.AddUser(record);
  }
  const uint32_t groups = r.Count(3 * 4);
  for (uint32_t group_idx = 0; group_idx < groups && r.ok(); ++group_idx) {
    const std::string_view dn = r.Str();
    const std::string_view name = r.Str();
    const uint32_t members = r.Count(4);
    if (!r.ok()) break;
    builder.AddGroup(dn, name);
    for (uint32_t member_idx = 0; member_idx < members && r.ok(); ++member_idx) {
      const std::string_view member = r.Str();
      if (r.ok()) builder.AddMember(member);
    }
  }
  return std::move(builder).Finish();
}

}  // namespace

std::string SnapshotPath(const std::string& state_path) {
  return absl::StrCat(state_path, ".snapshot");
}

std::string ContentHash(std::string_view bytes) { return absl::StrFormat("%016x", Fnv1a64(bytes)); }

std::string EncodeDirectorySnapshot(const SnapshotHeader& header,
                                    const core::Directory& directory) {
  Writer payload;
  payload.Str(header.config_hash);
  payload.Str(header.source_kind);
  payload.Str(header.cursor);
  payload.U64(static_cast<uint64_t>(header.full_at));
  payload.U32(static_cast<uint32_t>(header.pending.size()));
  for (const std::string& id : header.pending) payload.Str(id);
  WriteDirectory(directory, payload);
  Writer file;
  file.out().append(kMagic, 4);
  file.U32(kVersion);
  file.U64(payload.out().size());
  file.U64(Fnv1a64(payload.out()));
  file.out().append(payload.out());
  return std::move(file.out());
}

absl::StatusOr<DirectorySnapshot> DecodeDirectorySnapshot(std::string_view bytes) {
  if (bytes.size() < kHeaderBytes || bytes.substr(0, 4) != std::string_view(kMagic, 4)) {
    return absl::DataLossError("not a usersync directory snapshot (bad magic)");
  }
  Reader fixed(bytes.substr(4, kHeaderBytes - 4));
  const uint32_t version = fixed.U32();
  const uint64_t length = fixed.U64();
  const uint64_t checksum = fixed.U64();
  if (version != kVersion) {
    return absl::DataLossError(absl::StrCat("snapshot version ", version, ", expected ", kVersion));
  }
  const std::string_view payload = bytes.substr(kHeaderBytes);
  if (payload.size() != length) {
    return absl::DataLossError(absl::StrCat("snapshot payload is ", payload.size(),
                                            " bytes, its header says ", length, " (cut short?)"));
  }
  if (Fnv1a64(payload) != checksum) return absl::DataLossError("snapshot checksum mismatch");
  Reader r(payload);
  DirectorySnapshot snapshot;
  SnapshotHeader& header = snapshot.header;
  header.config_hash = std::string(r.Str());
  header.source_kind = std::string(r.Str());
  header.cursor = std::string(r.Str());
  header.full_at = static_cast<int64_t>(r.U64());
  header.pending.resize(r.Count(4));
  for (std::string& id : header.pending) id = std::string(r.Str());
  snapshot.directory = ReadDirectory(r);
  if (!r.ok() || !r.done()) {
    return absl::DataLossError("snapshot payload is malformed (a length runs past its end)");
  }
  return snapshot;
}

absl::Status WriteDirectorySnapshot(const std::string& path, const SnapshotHeader& header,
                                    const core::Directory& directory) {
  const std::string bytes = EncodeDirectorySnapshot(header, directory);
  const std::string tmp = absl::StrCat(path, ".tmp");
  std::FILE* file = std::fopen(tmp.c_str(), "wb");
  bool ok = file != nullptr;
  if (ok) ok = std::fwrite(bytes.data(), 1, bytes.size(), file) == bytes.size();
  if (ok) ok = std::fflush(file) == 0;
  if (file != nullptr && std::fclose(file) != 0) ok = false;
  if (ok) ok = std::rename(tmp.c_str(), path.c_str()) == 0;
  if (!ok) {
    const std::string why = std::strerror(errno);
    std::remove(tmp.c_str());  // best effort: a stale .tmp is overwritten next time anyway
    return absl::FailedPreconditionError(absl::StrCat("cannot write ", path, ": ", why));
  }
  return absl::OkStatus();
}

void RemoveDirectorySnapshot(const std::string& state_path) {
  std::remove(SnapshotPath(state_path).c_str());  // absent: nothing to do
}

absl::StatusOr<DirectorySnapshot> ReadDirectorySnapshot(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("no directory snapshot at ", path));
  std::ostringstream bytes;
  bytes << in.rdbuf();
  absl::StatusOr<DirectorySnapshot> snapshot = DecodeDirectorySnapshot(bytes.str());
  if (!snapshot.ok()) {
    return absl::DataLossError(absl::StrCat(path, ": ", snapshot.status().message()));
  }
  return snapshot;
}

}  // namespace usersync::io
