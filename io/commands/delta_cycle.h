// Delta cycles of the commands (`sync --delta`, and every round of `run --every`): plan only
// what changed since the last cycle, or say why a full cycle runs instead.
//
// A delta cycle (core/directory_changes.h, core/delta_plan.h for why it is exact):
//   1. reads the last cycle's snapshot (io/state/directory_snapshot.h) and trusts it only when
//      it exists, is whole, was written with this configuration (ContentHash of the file and
//      of the command's target override), the last full cycle is younger than
//      schedule.full_every and matching.order names only link, manual and email;
//   2. reads the directory's changes since then: from the source's own feed where it has one
//      (DirectorySource::ReadDelta: Entra's delta queries; OpenLDAP's RFC 4533 content sync or
//      modifyTimestamp watermark; AD's uSNChanged watermark; from the cursor stored with the
//      snapshot; an expired or refused cursor → a full cycle), applied to the snapshot
//      (ApplyChanges); otherwise (LDIF) the source is read in full and compared with the
//      snapshot (DiffDirectories), so the saving is on the target side only;
//   3. plans the affected users (AffectedUsers, plus the users the last cycle left pending) on
//      the whole directory, with the target's accounts of those users looked up
//      (TargetApi::LookUpAccounts) instead of listed, and the deprovisioning threshold counted
//      against every stored link.
// Otherwise a full cycle runs (read, list, plan), and CycleInfo::full_reason says why; only
// then is the state store's integrity checked (PRAGMA quick_check, linear in the store: a
// requested delta opens it with the check deferred, Session::integrity_check_deferred). Either
// way, after the apply RecordCycle records the new snapshot (its pending users: invalid rows,
// and every planned user when some operation failed or was held): a delta appends its changes
// to the snapshot's journal (io/state/snapshot_journal.h), a full cycle, or a delta whose
// journal has outgrown a quarter of the snapshot, writes it whole; or it removes it when
// the cycle cannot be trusted (interrupted, quarantined, or too many users pending), so that
// the next cycle is a full one.
//
// Thread-compatible: the command's thread only.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "core/directory_changes.h"
#include "io/state/directory_snapshot.h"

namespace usersync::io {

struct ApplyTotals;
class JsonWriter;
struct Session;

// More pending users than this: the next cycle is a full one (a delta would look each up).
inline constexpr size_t kMaxPendingUsers = 10'000;

struct CycleInfo {
  bool requested = false;             // sync --delta, run --every
  bool delta = false;                 // a delta cycle ran; false: a full one
  std::string full_reason;            // why a full cycle ran instead (requested only)
  int64_t entries_read = 0;           // directory entries read (users and groups)
  int64_t changed = 0;                // entries that differ from the snapshot (a delta)
  int64_t looked_up = 0;              // accounts asked of the target (ids and emails; a delta)
  std::vector<std::string> affected;  // the users planned (a delta), sorted
  std::string config_hash;
  std::string cursor;       // the source's cursor after this cycle's read ("" when none)
  std::string feed;         // how the source read its changes (DirectoryDelta::feed; a delta)
  SnapshotHeader previous;  // the snapshot the delta started from
  core::DirectoryChanges changes;  // what the delta applied to it (its journal record)
};

// Reads and plans as a delta when it can be trusted, else in full (ReadAndPlan's steps), with
// session.cycle filled. Errors: those of the steps.
absl::Status ReadAndPlanCycle(Session& session);

// After the apply of a requested cycle: writes the snapshot, or removes it (see the header).
// A failure is a warning on `options.err`; the snapshot is then removed.
void RecordCycle(Session& session, const ApplyTotals& totals);

// "Cycle: delta (3 of 10,000 directory entries changed; 4 users planned; 5 accounts looked up
// instead of a listing; read by RFC 4533 content sync)" or "Cycle: full (no snapshot of an earlier
// cycle)"; "" when no cycle kind was requested.
std::string CycleLine(const CycleInfo& cycle);

// Writes "cycle": {"kind", "reason", "entries_read", "changed", "users_planned", "looked_up",
// "feed"}
// into the open object of `w` when a cycle kind was requested.
void WriteCycleJson(const CycleInfo& cycle, JsonWriter& w);

}  // namespace usersync::io
