// The journal of a directory snapshot: the changes of the delta cycles since the snapshot was
// written whole, so that a delta cycle writes what it changed (a few kilobytes) instead of the
// whole directory again (~1 s at a million users). ReadDirectorySnapshot replays it.
//
// File: "<snapshot>.journal", records back to back, each:
//
//   +--------+------------+-------------------+------------------+---------------------------+
//   | "USDJ" | u32 length | u64 base checksum | u64 checksum     | payload (`length` bytes)  |
//   +--------+------------+-------------------+------------------+---------------------------+
//   payload: the snapshot header after the cycle (config_hash, source_kind, cursor, full_at,
//   pending, as in the snapshot file), then the cycle's core::DirectoryChanges: u32 n users
//   (8 str dn id user_name email first_name last_name display_name language, u8 disabled,
//   u32 n + n str extra), u32 n + n str removed users, u32 n groups (str dn, str name,
//   u8 members_complete, u32 n + n str members, u32 n + n str removed members), u32 n + n str
//   removed groups.
//
// Trust. Every record names the snapshot file it follows (its checksum): a journal left beside
// another snapshot (a crash between writing a new snapshot and removing the old journal) reads
// as damaged, as does a torn or changed record; the caller then runs a full cycle. Records are
// appended after a delta's apply, flushed, not synced (as the snapshot file). The journal is
// compacted into a new snapshot file when it grows past a quarter of the snapshot or
// kMaxJournalRecords records (RecordCycle, io/commands/delta_cycle.cc).
//
// Thread-safety: plain functions; one writer per state store (the run lock).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "core/directory_changes.h"
#include "io/state/directory_snapshot.h"

namespace usersync::io {

inline constexpr int64_t kMaxJournalRecords = 256;

// "<snapshot_path>.journal".
std::string JournalPath(const std::string& snapshot_path);

// Appends a record: `changes`, then `header` (the snapshot as it stands after them), following
// the snapshot whose checksum is `base_checksum`. Errors: kFailedPrecondition naming the path.
absl::Status AppendSnapshotJournal(const std::string& snapshot_path, uint64_t base_checksum,
                                   const SnapshotHeader& header,
                                   const core::DirectoryChanges& changes);

// Replays the journal of `snapshot` (read from `snapshot_path`, origin.base_checksum set) on
// it: each record's changes applied to the directory (core::ApplyChangesInPlace) and its header
// taken; origin's journal counts set. No journal: nothing to do. Errors: kDataLoss (what and
// which record).
absl::Status ReplaySnapshotJournal(const std::string& snapshot_path, DirectorySnapshot& snapshot);

// The encoding of one record's payload, for tests.
std::string EncodeJournalPayload(const SnapshotHeader& header,
                                 const core::DirectoryChanges& changes);

}  // namespace usersync::io
