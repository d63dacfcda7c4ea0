#include "io/commands/delta_cycle.h"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <span>
#include <sstream>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "core/delta_plan.h"
#include "core/directory_changes.h"
#include "core/status_macros.h"
#include "core/str.h"
#include "io/commands/progress_run.h"
#include "io/commands/run_context.h"
#include "io/directory/directory_source.h"
#include "io/executor.h"
#include "io/json_writer.h"
#include "io/output.h"
#include "io/state/snapshot_journal.h"

namespace usersync::io {
namespace {

int64_t UnixSeconds(const Clock& clock) {
  return std::chrono::duration_cast<std::chrono::seconds>(clock.WallNow().time_since_epoch())
      .count();
}

// The configuration as the plan sees it: the file's bytes and the command's target override
// (a changed rule, scope or mapping must not be planned as a delta on the old snapshot).
std::string ConfigHash(const Session& session) {
  std::ifstream in(session.config.path, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return ContentHash(absl::StrCat(bytes.str(), "\n--target-url=", session.options.target_url));
}

std::string HumanDuration(std::chrono::milliseconds duration) {
  return absl::FormatDuration(absl::FromChrono(duration));
}

// Why the snapshot cannot carry a delta ("" when it can).
std::string WhyNotDelta(const Session& session, const absl::StatusOr<DirectorySnapshot>& snapshot) {
  if (!snapshot.ok()) {
    if (snapshot.status().code() == absl::StatusCode::kNotFound) {
      return "no snapshot of an earlier cycle";
    }
    return absl::StrCat("the snapshot is damaged (", snapshot.status().message(), ")");
  }
  const SnapshotHeader& header = snapshot->header;
  if (header.config_hash != session.cycle.config_hash) {
    return "the configuration changed since the last cycle";
  }
  const std::chrono::milliseconds full_every = session.config.full_every;
  if (UnixSeconds(session.clock) - header.full_at >=
      std::chrono::duration_cast<std::chrono::seconds>(full_every).count()) {
    return absl::StrCat("schedule.full_every (", HumanDuration(full_every),
                        ") has passed since the last full cycle");
  }
  if (!core::DeltaSupported(ToPlanConfig(session.config))) {
    return "matching.order names a target attribute, which a delta cannot look up";
  }
  return "";
}

// The stored links a delta needs (core/delta_plan.h), before the look-ups: the affected users'
// links, the manual matches, and how many links there are in all.
absl::Status LoadAffectedLinks(Session& session, std::span<const std::string> affected) {
  absl::StatusOr<std::vector<LinkRow>> links = session.state->LoadLinksOf(affected, {});
  if (!links.ok()) return links.status();
  session.links = *std::move(links);
  absl::StatusOr<int64_t> count = session.state->CountLinks();
  if (!count.ok()) return count.status();
  session.link_count = *count;
  absl::StatusOr<std::vector<ManualMatch>> manual = session.state->LoadManualMatches();
  if (!manual.ok()) return manual.status();
  session.manual = *std::move(manual);
  ViewLinks(session);
  return absl::OkStatus();
}

// After the look-ups: the links of other users to the accounts read (a link still wins over
// an email match), added.
absl::Status LoadLinksToAccountsRead(Session& session) {
  std::vector<std::string> read_ids;
  for (const core::Account& account : session.accounts.items) read_ids.emplace_back(account.id);
  absl::StatusOr<std::vector<LinkRow>> links = session.state->LoadLinksOf({}, read_ids);
  if (!links.ok()) return links.status();
  absl::flat_hash_set<std::string> held;
  for (const LinkRow& link : session.links) held.insert(link.directory_id);
  for (LinkRow& link : *links) {
    if (held.insert(link.directory_id).second) session.links.push_back(std::move(link));
  }
  std::sort(session.links.begin(), session.links.end(),  // as LoadLinks gives them
            [](const LinkRow& a, const LinkRow& b) { return a.directory_id < b.directory_id; });
  ViewLinks(session);
  return absl::OkStatus();
}

// The delta steps once session.directory holds the new directory: the affected users, their
// accounts looked up, the plan. Returns why a full cycle must run instead ("" when the delta
// planned).
absl::StatusOr<std::string> PlanDelta(Session& session, const DirectorySnapshot& snapshot,
                                      const core::DirectoryChanges& changes) {
  CycleInfo& cycle = session.cycle;
  cycle.changed = static_cast<int64_t>(changes.entry_count());
  std::vector<std::string> affected =
      core::AffectedUsers(snapshot.directory, session.directory, changes);
  affected.insert(affected.end(), snapshot.header.pending.begin(), snapshot.header.pending.end());
  std::sort(affected.begin(), affected.end());
  affected.erase(std::unique(affected.begin(), affected.end()), affected.end());
  USERSYNC_RETURN_IF_ERROR(LoadAffectedLinks(session, affected));
  const core::AccountLookups lookups =
      core::DeltaLookups(session.directory, affected, session.links_view, session.manual_view);
  cycle.looked_up = static_cast<int64_t>(lookups.account_ids.size() + lookups.emails.size());
  ProgressPhase(session, "looking up the affected users' accounts");
  const core::MonoTime start = session.clock.Now();
  absl::StatusOr<core::Accounts> accounts =
      session.target->LookUpAccounts(lookups.account_ids, lookups.emails);
  if (accounts.status().code() == absl::StatusCode::kUnimplemented) {
    return std::string("the target cannot look accounts up one by one");
  }
  if (!accounts.ok()) {
    return absl::Status(accounts.status().code(), absl::StrCat("looking up the target's accounts: ",
                                                               accounts.status().message()));
  }
  session.accounts = *std::move(accounts);
  session.list_seconds = SecondsSince(session.clock, start);
  USERSYNC_RETURN_IF_ERROR(LoadLinksToAccountsRead(session));
  ProgressDone(session, absl::StrCat("· looked up ", cycle.looked_up, " ids and emails"));
  cycle.affected = std::move(affected);
  cycle.delta = true;
  cycle.previous = snapshot.header;
  ProgressPhase(session, "planning");
  USERSYNC_RETURN_IF_ERROR(ComputeSessionPlan(session));
  ProgressDone(session, absl::StrCat("· planned ", session.plan.operations.size(), " operations"));
  return std::string();
}

// The users the next delta must plan again: invalid rows that can clear up without a directory
// change of their own (UserRow::replan: a conflict, a missing seat; a duplicate email clears
// with the other user's change, which AffectedUsers follows), and every planned user when an
// operation failed or was held (the journal retries them only within a run).
std::vector<std::string> PendingUsers(const core::Plan& plan, const ApplyTotals& totals) {
  std::vector<std::string> pending;
  for (const core::UserRow& row : plan.rows) {
    if (row.replan) pending.emplace_back(row.directory_id);
  }
  if (totals.failed > 0 || totals.held > 0) {
    for (const core::Operation& op : plan.operations) pending.push_back(op.directory_id.str());
  }
  std::sort(pending.begin(), pending.end());
  pending.erase(std::unique(pending.begin(), pending.end()), pending.end());
  return pending;
}

void RemoveSnapshot(const Session& session) { RemoveDirectorySnapshot(session.config.state_path); }

// A delta from the source's own change feed (source.SupportsDelta() and a stored cursor):
// session.directory = the snapshot with the changes applied. Returns the changes, or why a full
// cycle must run instead (in `why`).
absl::StatusOr<core::DirectoryChanges> ReadSourceDelta(Session& session, DirectorySource& source,
                                                       const DirectorySnapshot& snapshot,
                                                       std::string* why) {
  CycleInfo& cycle = session.cycle;
  ProgressPhase(session, "reading the directory's changes");
  const core::MonoTime start = session.clock.Now();
  absl::StatusOr<DirectoryDelta> delta =
      source.ReadDelta(snapshot.header.cursor, snapshot.directory);
  if (delta.status().code() == absl::StatusCode::kOutOfRange) {
    *why = std::string(delta.status().message());
    return core::DirectoryChanges{};
  }
  if (!delta.ok()) {
    return absl::Status(delta.status().code(), absl::StrCat("reading the directory's changes: ",
                                                            delta.status().message()));
  }
  session.directory = core::ApplyChanges(snapshot.directory, delta->changes);
  session.read_seconds = SecondsSince(session.clock, start);
  cycle.entries_read = delta->entries_read;
  cycle.cursor = std::move(delta->cursor);
  cycle.feed = std::move(delta->feed);
  USERSYNC_RETURN_IF_ERROR(CheckDirectory(session));
  ProgressDone(session, absl::StrCat("· read ", cycle.entries_read, " changed entries"));
  return std::move(delta->changes);
}

// The directory read in full (with the source's cursor of "now" first, when it has one).
absl::Status ReadWhole(Session& session, DirectorySource& source) {
  CycleInfo& cycle = session.cycle;
  cycle.cursor.clear();
  if (source.SupportsDelta()) {
    absl::StatusOr<std::string> cursor = source.StartCursor();
    if (!cursor.ok()) {
      return absl::Status(cursor.status().code(),
                          absl::StrCat("reading the directory: ", cursor.status().message()));
    }
    cycle.cursor = *std::move(cursor);
  }
  USERSYNC_RETURN_IF_ERROR(ReadDirectoryStep(session, &source));
  cycle.entries_read =
      static_cast<int64_t>(session.directory.user_count() + session.directory.group_count());
  return absl::OkStatus();
}

// Forgets what a delta attempt loaded, for the full cycle after it.
void ResetForFullCycle(Session& session) {
  session.links.clear();
  session.links_view.clear();
  session.manual.clear();
  session.manual_view.clear();
  session.accounts = core::Accounts();
}

}  // namespace

absl::Status ReadAndPlanCycle(Session& session) {
  CycleInfo& cycle = session.cycle;
  cycle.requested = true;
  cycle.config_hash = ConfigHash(session);
  const absl::StatusOr<DirectorySnapshot> snapshot =
      ReadDirectorySnapshot(SnapshotPath(session.config.state_path));
  cycle.full_reason = WhyNotDelta(session, snapshot);
  USERSYNC_RETURN_IF_ERROR(OpenTarget(session));
  USERSYNC_ASSIGN_OR_RETURN(std::unique_ptr<DirectorySource> source, OpenDirectorySource(session));
  bool read_whole = false;  // this cycle read the whole directory already
  if (cycle.full_reason.empty()) {
    core::DirectoryChanges changes;
    if (source->SupportsDelta() && !snapshot->header.cursor.empty()) {
      USERSYNC_ASSIGN_OR_RETURN(changes,
                                ReadSourceDelta(session, *source, *snapshot, &cycle.full_reason));
    } else {
      USERSYNC_RETURN_IF_ERROR(ReadWhole(session, *source));
      read_whole = true;
      changes = core::DiffDirectories(snapshot->directory, session.directory);
    }
    if (cycle.full_reason.empty()) {
      USERSYNC_ASSIGN_OR_RETURN(cycle.full_reason, PlanDelta(session, *snapshot, changes));
      if (cycle.full_reason.empty()) {
        cycle.changes = std::move(changes);  // the snapshot's journal record (RecordCycle)
        return absl::OkStatus();
      }
    }
    ResetForFullCycle(session);
  }
  if (session.integrity_check_deferred) USERSYNC_RETURN_IF_ERROR(session.state->CheckIntegrity());
  if (!read_whole) USERSYNC_RETURN_IF_ERROR(ReadWhole(session, *source));
  return ListAndPlan(session);
}

void RecordCycle(Session& session, const ApplyTotals& totals) {
  const CycleInfo& cycle = session.cycle;
  if (!cycle.requested) return;
  if (totals.interrupted || totals.quarantined || totals.cancelled > 0 || totals.not_started > 0) {
    RemoveSnapshot(session);  // what was not applied is unknown: the next cycle is a full one
    return;
  }
  SnapshotHeader header;
  header.config_hash = cycle.config_hash;
  header.source_kind = std::string(SourceKindName(session.config.source.kind));
  header.cursor = cycle.cursor;
  header.full_at = cycle.delta ? cycle.previous.full_at : UnixSeconds(session.clock);
  header.pending = PendingUsers(session.plan, totals);
  if (header.pending.size() > kMaxPendingUsers) {
    RemoveSnapshot(session);
    return;
  }
  // A delta appends its changes to the journal of the snapshot it started from, until the
  // journal outgrows it; a full cycle (or that) writes the snapshot whole.
  const SnapshotOrigin& origin = cycle.previous.origin;
  const std::string path = SnapshotPath(session.config.state_path);
  const bool journal = cycle.delta && origin.base_checksum != 0 &&
                       origin.journal_records < kMaxJournalRecords &&
                       origin.journal_bytes * 4 < origin.base_bytes;
  const absl::Status written =
      journal ? AppendSnapshotJournal(path, origin.base_checksum, header, cycle.changes)
              : WriteDirectorySnapshot(path, header, session.directory);
  if (!written.ok()) {
    RemoveSnapshot(session);
    Print(session.options.err,
          absl::StrCat("usersync: warning: the directory snapshot was not written (the next "
                       "cycle is a full one): ",
                       written.message(), "\n"));
  }
}

std::string CycleLine(const CycleInfo& cycle) {
  if (!cycle.requested) return "";
  if (!cycle.delta) {
    return absl::StrCat("Cycle: full (", cycle.full_reason, "; read ", cycle.entries_read,
                        " directory entries)\n");
  }
  return absl::StrCat("Cycle: delta (read ", cycle.entries_read, " directory entries, ",
                      cycle.changed, " changed; ", cycle.affected.size(), " users planned; ",
                      cycle.looked_up, " ids and emails looked up instead of a listing",
                      cycle.feed.empty() ? "" : "; read by ", cycle.feed, ")\n");
}

void WriteCycleJson(const CycleInfo& cycle, JsonWriter& w) {
  if (!cycle.requested) return;
  w.Key("cycle").BeginObject();
  w.Field("kind", cycle.delta ? "delta" : "full");
  w.Field("reason", cycle.full_reason);
  w.Key("entries_read").Int(cycle.entries_read);
  w.Key("changed").Int(cycle.changed);
  w.Key("users_planned").Int(static_cast<int64_t>(cycle.affected.size()));
  w.Key("looked_up").Int(cycle.looked_up);
  w.Field("feed", cycle.feed);
  w.EndObject();
}

}  // namespace usersync::io
