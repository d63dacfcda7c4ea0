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
// File: "<state.path>.snapshot". Layout (integers little-endian):
//
//   +--------+---------+-------------+----------------+-------------------------------+
//   | "USDS" | u32 ver | u64 length  | u64 FNV-1a 64  | payload (`length` bytes)      |
//   +--------+---------+-------------+----------------+-------------------------------+
//   payload: str config_hash, str source_kind, str cursor, i64 full_at (unix seconds),
//            u32 n + n str pending, u32 n + n str extra_names, 7 str column names,
//            u32 users + per user 8 str (dn id user_name email first last display language),
//            u8 disabled, one str per extra name; u32 groups + per group str dn, str name,
//            u32 n + n str member DNs (unresolved members included).
//   str = u32 length + bytes.
// Written to "<path>.tmp", flushed and renamed over the old file (atomic on POSIX).
//
// Thread-safety: plain functions; one writer per state store (the run lock).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/directory.h"

namespace usersync::io {

struct DirectorySnapshot {
  std::string config_hash;           // ConfigHash of the configuration the cycle planned with
  std::string source_kind;           // "ldif", "ldap", "entra"
  std::string cursor;                // the source's delta cursor; "" when it has none
  int64_t full_at = 0;               // unix seconds of the last full cycle
  std::vector<std::string> pending;  // directory ids to plan again
  core::Directory directory;
};

// "<state_path>.snapshot".
std::string SnapshotPath(const std::string& state_path);

// Writes atomically. Errors: kFailedPrecondition naming the path (cannot write or rename).
absl::Status WriteDirectorySnapshot(const std::string& path, const DirectorySnapshot& snapshot);

// Reads it back. Errors: kNotFound (no snapshot), kDataLoss (damaged: what and where).
absl::StatusOr<DirectorySnapshot> ReadDirectorySnapshot(const std::string& path);

// The encoding alone (what Write puts in the file), for tests that damage it.
std::string EncodeDirectorySnapshot(const DirectorySnapshot& snapshot);
absl::StatusOr<DirectorySnapshot> DecodeDirectorySnapshot(std::string_view bytes);

}  // namespace usersync::io
