// The directory snapshot of the last cycle, kept beside the state store for delta cycles
// (`sync --delta`, `run --every`): the whole core::Directory the last cycle planned on, the
// source's delta cursor (a Graph deltaLink, an LDAP watermark), the users the last cycle left
// pending (invalid rows, failed or held operations: planned again by the next delta), a hash
// of the configuration it was planned with and when the last full cycle ran.
//
// Trust. A snapshot is written only after a cycle that applied its plan (even with failed
// operations: those users are pending); a cycle that stopped half way writes none, so the next
// delta starts from the older cursor and sees those changes again. A snapshot that is missing,
// damaged (bad magic, version, length or checksum; a count larger than the bytes left) or
// written with another configuration makes the caller run a full cycle, never crash.
//
// File: "<state.path>.snapshot". Layout (core/byte_codec.h: little-endian):
//
//   +--------+---------+-------------+----------------+-------------------------------+
//   | "USDS" | u32 ver | u64 length  | u64 checksum   | payload (`length` bytes)      |
//   +--------+---------+-------------+----------------+-------------------------------+
//   payload: str config_hash, str source_kind, str cursor, i64 full_at (unix seconds),
//            u32 n + n str pending, then the directory image (core/directory_image.h).
//   str = u32 length + bytes. Version 2; a version-1 file (the directory as records) reads as
//   damaged: the next cycle is a full one, which writes version 2.
// Reading is one read(2) into the buffer the directory keeps (its strings are not copied).
// Written to "<path>.tmp", flushed and renamed over the old file (atomic on POSIX).
//
// Thread-safety: plain functions; one writer per state store (the run lock).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/byte_codec.h"
#include "core/directory.h"

namespace usersync::io {

// How a snapshot was read (not stored): the file written whole, and the journal of delta
// cycles replayed on it (io/state/snapshot_journal.h).
struct SnapshotOrigin {
  uint64_t base_checksum = 0;  // the snapshot file's checksum: what journal records name
  int64_t base_bytes = 0;
  int64_t journal_bytes = 0;
  int64_t journal_records = 0;
};

// What a snapshot records beside the directory.
struct SnapshotHeader {
  std::string config_hash;           // ContentHash of the configuration the cycle planned with
  std::string source_kind;           // "ldif", "ldap", "entra"
  std::string cursor;                // the source's delta cursor; "" when it has none
  int64_t full_at = 0;               // unix seconds of the last full cycle
  std::vector<std::string> pending;  // directory ids to plan again
  SnapshotOrigin origin;             // set by ReadDirectorySnapshot; not stored
};

struct DirectorySnapshot {
  SnapshotHeader header;
  core::Directory directory;
};

// A stable 64-bit hash of `bytes` (FNV-1a) in 16 hex digits: the snapshot's checksum, and how
// the commands fingerprint the configuration.
std::string ContentHash(std::string_view bytes);

// "<state_path>.snapshot".
std::string SnapshotPath(const std::string& state_path);

// Writes atomically, and removes the journal of the snapshot it replaces. Errors:
// kFailedPrecondition naming the path (cannot write or rename).
absl::Status WriteDirectorySnapshot(const std::string& path, const SnapshotHeader& header,
                                    const core::Directory& directory);

// Reads it back, with its journal replayed (snapshot_journal.h). Errors: kNotFound (no
// snapshot), kDataLoss (damaged, or a journal that is damaged or not of this snapshot: what and
// where).
absl::StatusOr<DirectorySnapshot> ReadDirectorySnapshot(const std::string& path);

// Removes the snapshot of the state store at `state_path`, if any, so that the next cycle is a
// full one: after a cycle that cannot be trusted, and after `match` stores or forgets a link
// (which changes a user's plan without a directory change). Best effort: nothing to report.
void RemoveDirectorySnapshot(const std::string& state_path);

// The payload's checksum (of the snapshot file, and of each journal record).
uint64_t SnapshotChecksum(std::string_view payload);

// The header's fields as the snapshot file and its journal store them (not its origin).
void AppendSnapshotHeader(const SnapshotHeader& header, core::ByteWriter& w);
void ReadSnapshotHeader(core::ByteReader& r, SnapshotHeader& header);

// The encoding alone (what Write puts in the file), for tests that damage it.
std::string EncodeDirectorySnapshot(const SnapshotHeader& header, const core::Directory& directory);
absl::StatusOr<DirectorySnapshot> DecodeDirectorySnapshot(std::string_view bytes);

}  // namespace usersync::io
