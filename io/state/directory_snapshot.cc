#include "io/state/directory_snapshot.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/byte_codec.h"
#include "core/directory_image.h"
#include "io/state/snapshot_journal.h"

namespace usersync::io {
namespace {

constexpr char kMagic[] = "USDS";
// 1: the directory as records, rebuilt on reading. 2: the directory image.
constexpr uint32_t kVersion = 2;
constexpr size_t kHeaderBytes = 4 + 4 + 8 + 8;

uint64_t Fnv1a64(std::string_view bytes) {
  uint64_t hash = 14695981039346656037ull;
  for (unsigned char byte : bytes) {
    hash ^= byte;
    hash *= 1099511628211ull;
  }
  return hash;
}

// The payload's checksum: FNV-1a's step over 8-byte words in four lanes, then the tail byte by
// byte (a quarter of a second for FNV-1a byte by byte over a million users' 150 MB; this
// runs at memory speed). Catches a torn or damaged file, not an adversary.
uint64_t ChecksumOf(std::string_view bytes) {
  constexpr uint64_t kPrime = 1099511628211ull;
  uint64_t lanes[4] = {14695981039346656037ull, 1, 2, 3};
  size_t at = 0;
  for (; at + 32 <= bytes.size(); at += 32) {
    for (int lane = 0; lane < 4; ++lane) {
      uint64_t word;
      std::memcpy(&word, bytes.data() + at + 8 * lane, 8);
      lanes[lane] = (lanes[lane] ^ word) * kPrime;
      lanes[lane] ^= lanes[lane] >> 29;
    }
  }
  uint64_t hash = lanes[0];
  for (int lane = 1; lane < 4; ++lane) hash = (hash ^ lanes[lane]) * kPrime;
  return hash ^ Fnv1a64(bytes.substr(at));
}

// The payload: the header's fields, then the directory image.
std::string EncodePayload(const SnapshotHeader& header, const core::Directory& directory) {
  core::ByteWriter payload;
  AppendSnapshotHeader(header, payload);
  core::AppendDirectoryImage(directory, payload);
  return std::move(payload.out());
}

std::string FileHeader(std::string_view payload) {
  core::ByteWriter file;
  file.Bytes(std::string_view(kMagic, 4));
  file.U32(kVersion);
  file.U64(payload.size());
  file.U64(ChecksumOf(payload));
  return std::move(file.out());
}

// Decodes the file's bytes, which `storage` holds (the directory keeps them).
absl::StatusOr<DirectorySnapshot> Decode(std::unique_ptr<char[]> storage, size_t size) {
  const std::string_view bytes(storage.get(), size);
  if (bytes.size() < kHeaderBytes || bytes.substr(0, 4) != std::string_view(kMagic, 4)) {
    return absl::DataLossError("not a usersync directory snapshot (bad magic)");
  }
  core::ByteReader fixed(bytes.substr(4, kHeaderBytes - 4));
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
  if (ChecksumOf(payload) != checksum) return absl::DataLossError("snapshot checksum mismatch");
  core::ByteReader r(payload);
  DirectorySnapshot snapshot;
  SnapshotHeader& header = snapshot.header;
  ReadSnapshotHeader(r, header);
  if (!r.ok()) return absl::DataLossError("snapshot header is malformed");
  header.origin.base_checksum = checksum;
  header.origin.base_bytes = static_cast<int64_t>(bytes.size());
  absl::StatusOr<core::Directory> directory = core::ReadDirectoryImage(r, std::move(storage), size);
  if (!directory.ok()) return directory.status();
  if (!r.done()) return absl::DataLossError("snapshot payload has bytes after the directory");
  snapshot.directory = *std::move(directory);
  return snapshot;
}

}  // namespace

std::string SnapshotPath(const std::string& state_path) {
  return absl::StrCat(state_path, ".snapshot");
}

uint64_t SnapshotChecksum(std::string_view payload) { return ChecksumOf(payload); }

void AppendSnapshotHeader(const SnapshotHeader& header, core::ByteWriter& w) {
  w.Str(header.config_hash);
  w.Str(header.source_kind);
  w.Str(header.cursor);
  w.U64(static_cast<uint64_t>(header.full_at));
  w.U32(static_cast<uint32_t>(header.pending.size()));
  for (const std::string& id : header.pending) w.Str(id);
}

void ReadSnapshotHeader(core::ByteReader& r, SnapshotHeader& header) {
  header.config_hash = std::string(r.Str());
  header.source_kind = std::string(r.Str());
  header.cursor = std::string(r.Str());
  header.full_at = static_cast<int64_t>(r.U64());
  header.pending.resize(r.Count(4));
  for (std::string& id : header.pending) id = std::string(r.Str());
}

std::string ContentHash(std::string_view bytes) { return absl::StrFormat("%016x", Fnv1a64(bytes)); }

std::string EncodeDirectorySnapshot(const SnapshotHeader& header,
                                    const core::Directory& directory) {
  const std::string payload = EncodePayload(header, directory);
  return absl::StrCat(FileHeader(payload), payload);
}

absl::StatusOr<DirectorySnapshot> DecodeDirectorySnapshot(std::string_view bytes) {
  auto storage = std::make_unique_for_overwrite<char[]>(bytes.size());
  if (!bytes.empty()) std::memcpy(storage.get(), bytes.data(), bytes.size());
  return Decode(std::move(storage), bytes.size());
}

absl::Status WriteDirectorySnapshot(const std::string& path, const SnapshotHeader& header,
                                    const core::Directory& directory) {
  const std::string payload = EncodePayload(header, directory);
  const std::string head = FileHeader(payload);
  const std::string tmp = absl::StrCat(path, ".tmp");
  std::FILE* file = std::fopen(tmp.c_str(), "wb");
  bool ok = file != nullptr;
  if (ok) ok = std::fwrite(head.data(), 1, head.size(), file) == head.size();
  if (ok) ok = std::fwrite(payload.data(), 1, payload.size(), file) == payload.size();
  if (ok) ok = std::fflush(file) == 0;
  if (file != nullptr && std::fclose(file) != 0) ok = false;
  if (ok) ok = std::rename(tmp.c_str(), path.c_str()) == 0;
  // The old snapshot's journal (its records name the old file: left behind, it reads as damage).
  if (ok) std::remove(JournalPath(path).c_str());
  if (!ok) {
    const std::string why = std::strerror(errno);
    std::remove(tmp.c_str());  // best effort: a stale .tmp is overwritten next time anyway
    return absl::FailedPreconditionError(absl::StrCat("cannot write ", path, ": ", why));
  }
  return absl::OkStatus();
}

void RemoveDirectorySnapshot(const std::string& state_path) {
  std::remove(SnapshotPath(state_path).c_str());  // absent: nothing to do
  std::remove(JournalPath(SnapshotPath(state_path)).c_str());
}

absl::StatusOr<DirectorySnapshot> ReadDirectorySnapshot(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) return absl::NotFoundError(absl::StrCat("no directory snapshot at ", path));
  // One read into the buffer the directory keeps: its strings stay where they are.
  absl::StatusOr<DirectorySnapshot> snapshot = [&]() -> absl::StatusOr<DirectorySnapshot> {
    if (std::fseek(file, 0, SEEK_END) != 0) return absl::DataLossError("cannot seek");
    const long size = std::ftell(file);
    if (size < 0 || std::fseek(file, 0, SEEK_SET) != 0) return absl::DataLossError("cannot seek");
    auto storage = std::make_unique_for_overwrite<char[]>(static_cast<size_t>(size));
    const size_t read = std::fread(storage.get(), 1, static_cast<size_t>(size), file);
    if (read != static_cast<size_t>(size)) {
      return absl::DataLossError(absl::StrCat("read ", read, " of ", size, " bytes"));
    }
    absl::StatusOr<DirectorySnapshot> decoded = Decode(std::move(storage), read);
    if (decoded.ok()) {
      if (absl::Status replayed = ReplaySnapshotJournal(path, *decoded); !replayed.ok()) {
        return replayed;
      }
    }
    return decoded;
  }();
  std::fclose(file);
  if (!snapshot.ok()) {
    return absl::DataLossError(absl::StrCat(path, ": ", snapshot.status().message()));
  }
  return snapshot;
}

}  // namespace usersync::io
