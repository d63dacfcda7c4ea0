// StateStore: usersync's memory between runs, in one SQLite file (DESIGN.md io/state).
//
//   links    directory id ↔ account id, with how it came to be (created | linked | manual)
//   manual   administrator's matches (usersync match), consumed by the matcher
//   runs     one row per run: start, end, mode, exit code, summary JSON
//   journal  one row per operation: written as "intent" before its request is sent and
//            settled ("done" | "failed", with HTTP status, attempts, error) after; rows still
//            "intent" after a crash are the ambiguous operations the next run settles
//   holds    deprovisioning operations held by the safety threshold (released by `release`)
//
// The database runs in WAL mode with synchronous=NORMAL; batch calls use one transaction, so
// the journal costs one fsync per batch, not per operation. No registered secret
// (io/secrets.h) is stored: every text value is redacted as it is bound. Thread-compatible: one
// StateStore per thread (the run uses it from its own thread only).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

struct sqlite3;

namespace usersync::io {

struct LinkRow {
  std::string directory_id;
  std::string account_id;
  std::string origin;  // "created" | "linked" | "manual"
};

struct ManualMatch {
  std::string directory_id;
  std::string account_id;
};

struct JournalIntent {
  std::string op;  // "create", "update", ...
  std::string directory_id;
  std::string account_id;
  std::string email;
  std::string payload;  // JSON: the operation as planned (no secrets)
};

struct JournalSettlement {
  int64_t op_id = 0;
  bool ok = false;
  std::string account_id;
  int http_status = 0;
  int attempts = 0;
  std::string error;
};

struct JournalEntry {
  int64_t op_id = 0;
  int64_t run_id = 0;
  std::string op;
  std::string directory_id;
  std::string account_id;
  std::string email;
  std::string state;  // "intent" | "done" | "failed"
  int http_status = 0;
  int attempts = 0;
  std::string error;
  std::string payload;
};

// A deprovisioning operation held by the safety threshold, waiting for `usersync release`.
struct HoldRow {
  int64_t hold_id = 0;  // what `release --id` names
  int64_t run_id = 0;   // the run that held it
  std::string op;       // "deactivate" | "delete"
  std::string directory_id;
  std::string account_id;
  std::string email;
  std::string payload;  // JSON: the operation as planned (no secrets)
};

struct RunRow {
  int64_t run_id = 0;
  std::string started_at;   // RFC 3339 UTC
  std::string finished_at;  // "" while running (or crashed)
  std::string mode;         // "sync" | "apply" | "dry-run" ...
  int exit_code = -1;
  std::string summary;  // JSON
};

class StatementCache;

class StateStore {
 public:
  // Opens (creating if needed) the store at `path` (":memory:" for tests) and migrates the
  // schema. A file already in use is checked first with PRAGMA quick_check, before anything is
  // written to it. Errors: kUnavailable (cannot open, or locked by another process for longer
  // than the busy timeout), kFailedPrecondition (not a SQLite file, damaged, not a usersync
  // store, or written by a newer usersync; a damaged one's message says how to recover). Every
  // error names `path`. Cost of the check, measured with a warm cache: 0.3 s for 100k links
  // and 100k journal rows (32 MB), 4 s for 1M of each (317 MB); 12 s cold.
  // IntegrityCheck::kDeferred leaves the check to the caller (CheckIntegrity): a delta cycle
  // must cost what its changes cost, so it runs the check only when it turns into a full
  // cycle (at least every schedule.full_every). Until then SQLite still refuses any damaged
  // page the cycle reads or writes (SQLITE_CORRUPT → kFailedPrecondition).
  enum class IntegrityCheck { kAtOpen, kDeferred };
  static absl::StatusOr<std::unique_ptr<StateStore>> Open(
      const std::string& path, IntegrityCheck check = IntegrityCheck::kAtOpen);

  // PRAGMA quick_check now, as Open does. Errors: kFailedPrecondition naming the path and
  // how to recover, as Open's.
  absl::Status CheckIntegrity();

  // Opens the store at `path` for reading only (status, plan, users, explain, release's list):
  // nothing is written, no -wal or -shm file is created when none exists, so it works on a
  // read-only directory. A missing file reads as an empty store (nothing is created). Errors
  // as Open; a store with an older schema is kFailedPrecondition (a writing command upgrades
  // it). Any write through the result fails (kPermissionDenied).
  static absl::StatusOr<std::unique_ptr<StateStore>> OpenReadOnly(const std::string& path);
  ~StateStore();
  StateStore(const StateStore&) = delete;
  StateStore& operator=(const StateStore&) = delete;

  // Links.
  absl::StatusOr<std::vector<LinkRow>> LoadLinks();
  // The links of these users and the links to these accounts, each once, by directory id: what
  // a delta cycle needs (its affected users' links, and who else holds the accounts it looked
  // up), one indexed look-up per id instead of every link.
  absl::StatusOr<std::vector<LinkRow>> LoadLinksOf(std::span<const std::string> directory_ids,
                                                   std::span<const std::string> account_ids);
  absl::StatusOr<int64_t> CountLinks();
  absl::Status UpsertLinks(std::span<const LinkRow> links);  // one transaction
  absl::Status RemoveLinks(std::span<const std::string> directory_ids);

  // Manual matches.
  absl::Status SaveManualMatch(const ManualMatch& match);
  absl::StatusOr<std::vector<ManualMatch>> LoadManualMatches();

  // `usersync match --unlink`: forgets the link and the manual match of each directory id (one
  // transaction: all or none). An id with neither is no error here (the caller checks first).
  absl::Status Unlink(std::span<const std::string> directory_ids);

  // Runs. `now` is an RFC 3339 timestamp supplied by the caller (no clock reads here).
  absl::StatusOr<int64_t> BeginRun(const std::string& mode, const std::string& now);
  absl::Status FinishRun(int64_t run_id, int exit_code, const std::string& summary_json,
                         const std::string& now);
  // FinishRun of an unknown run is kNotFound. RecentRuns: newest first, at most `limit`.
  absl::StatusOr<std::vector<RunRow>> RecentRuns(int limit);
  // Every run started at or after `since` (RFC 3339 UTC as BeginRun stores it), newest first.
  absl::StatusOr<std::vector<RunRow>> RunsSince(const std::string& since);
  // The latest run of a command that changes the target (sync, apply, release) that exited 0:
  // one row, or none when there was no such run.
  absl::StatusOr<std::vector<RunRow>> LastSuccess();

  // Journal. RecordIntents writes all rows in one transaction and returns their op ids in
  // order; Settle likewise settles a batch (also used for rows left unsettled by a crash, once
  // the caller has checked them at the target).
  absl::StatusOr<std::vector<int64_t>> RecordIntents(int64_t run_id,
                                                     std::span<const JournalIntent> intents);
  // Settle writes state "done" (ok) or "failed"; a non-empty account_id replaces the row's (a
  // create learns its account id here). All or nothing: an unknown op id is kNotFound.
  absl::Status Settle(std::span<const JournalSettlement> settlements);
  // Rows still in state "intent" (operations whose outcome is unknown), oldest first.
  absl::StatusOr<std::vector<JournalEntry>> LoadUnsettled();
  absl::StatusOr<std::vector<JournalEntry>> JournalForRun(int64_t run_id);
  // Every row of one user, oldest first (`usersync history`): `user` is a directory id, an
  // account id, an email (compared lower-cased: the journal holds normalized emails) or a DN as
  // the plan wrote it (compared case-insensitively inside the row's payload). The rows found
  // that way bring in every other row of their directory ids and account ids (the user's
  // email may have changed since). A full scan of the journal: no index on these columns.
  absl::StatusOr<std::vector<JournalEntry>> JournalForUser(std::string_view user);

  // Holds. SaveHolds replaces every hold still pending with `holds` (one transaction): a run
  // that holds deprovisioning again computed the set anew, so older pending holds are stale.
  // Released holds stay as history and are not returned by LoadHolds.
  absl::Status SaveHolds(int64_t run_id, std::span<const JournalIntent> holds);
  // Pending holds, oldest first.
  absl::StatusOr<std::vector<HoldRow>> LoadHolds();
  // Marks the named pending holds released and returns them (in id order) so the caller can
  // apply them. All or nothing: an id that is unknown or already released is kNotFound and
  // releases none.
  absl::StatusOr<std::vector<HoldRow>> ReleaseHolds(std::span<const int64_t> hold_ids);
  // Releases every pending hold and returns them (possibly none).
  absl::StatusOr<std::vector<HoldRow>> ReleaseAllHolds();

  // The schema version this build writes (PRAGMA user_version).
  static int SchemaVersion();

  // The open database, for the io/state stores that keep a table of their own
  // (scope_baseline.h). Owned by this StateStore; used from its thread only.
  sqlite3* db() { return db_; }

 private:
  StateStore(sqlite3* db, std::string path);
  sqlite3* db_;
  std::string path_;  // for error messages
  std::unique_ptr<StatementCache> statements_;
};

}  // namespace usersync::io
