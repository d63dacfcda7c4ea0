#include "io/state/state_store.h"

#include <sqlite3.h>

#include <algorithm>
#include <iterator>
#include <string_view>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "core/str.h"
#include "io/secrets.h"
#include "io/state/statement_cache.h"

namespace usersync::io {
namespace {

using Statement = StatementCache::Statement;

// Every text column goes through here, so no registered secret (io/secrets.h) is ever stored:
// an error a server echoed with the token in it lands in the journal redacted.
void BindText(sqlite3_stmt* stmt, int index, std::string_view text) {
  if (ContainsSecret(text)) {
    const std::string redacted = Redact(text);
    sqlite3_bind_text(stmt, index, redacted.data(), static_cast<int>(redacted.size()),
                      SQLITE_TRANSIENT);
    return;
  }
  // SQLITE_STATIC: every bound string outlives the sqlite3_step that reads it.
  sqlite3_bind_text(stmt, index, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
}

// A journal intent or a hold: the same six columns, in this order.
constexpr char kInsertIntent[] =
    "(run_id, op, directory_id, account_id, email, payload) VALUES(?1, ?2, ?3, ?4, ?5, ?6)";
void BindIntent(sqlite3_stmt* stmt, int64_t run_id, const JournalIntent& intent) {
  sqlite3_bind_int64(stmt, 1, run_id);
  BindText(stmt, 2, intent.op);
  BindText(stmt, 3, intent.directory_id);
  BindText(stmt, 4, intent.account_id);
  BindText(stmt, 5, intent.email);
  BindText(stmt, 6, intent.payload);
}

// The columns ReadHold reads.
constexpr char kSelectHold[] =
    "SELECT hold_id, run_id, op, directory_id, account_id, email, payload FROM holds ";

// Columns 2-5 of a journal or hold row (kJournalColumns, kSelectHold): what the operation is.
template <typename Row>
void ReadOperationColumns(sqlite3_stmt* row, Row& out) {
  out.op = ColumnText(row, 2);
  out.directory_id = ColumnText(row, 3);
  out.account_id = ColumnText(row, 4);
  out.email = ColumnText(row, 5);
}

absl::StatusOr<std::vector<JournalEntry>> ReadJournal(StatementCache& sql, sqlite3_stmt* stmt,
                                                      std::string_view operation) {
  std::vector<JournalEntry> entries;
  USERSYNC_RETURN_IF_ERROR(sql.ForEachRow(stmt, operation, [&](sqlite3_stmt* row) {
    JournalEntry entry;
    entry.op_id = sqlite3_column_int64(row, 0);
    entry.run_id = sqlite3_column_int64(row, 1);
    ReadOperationColumns(row, entry);
    entry.state = ColumnText(row, 6);
    entry.http_status = sqlite3_column_int(row, 7);
    entry.attempts = sqlite3_column_int(row, 8);
    entry.error = ColumnText(row, 9);
    entry.payload = ColumnText(row, 10);
    entries.push_back(std::move(entry));
  }));
  return entries;
}

constexpr std::string_view kJournalColumns =
    "op_id, run_id, op, directory_id, account_id, email, state, http_status, attempts, error, "
    "payload";

HoldRow ReadHold(sqlite3_stmt* row) {
  HoldRow hold;
  hold.hold_id = sqlite3_column_int64(row, 0);
  hold.run_id = sqlite3_column_int64(row, 1);
  ReadOperationColumns(row, hold);
  hold.payload = ColumnText(row, 6);
  return hold;
}

}  // namespace

StateStore::StateStore(sqlite3* db, std::string path)
    : db_(db), path_(std::move(path)), statements_(std::make_unique<StatementCache>(db_, path_)) {}

StateStore::~StateStore() {
  statements_.reset();  // finalize before close
  sqlite3_close_v2(db_);
}

absl::StatusOr<std::vector<LinkRow>> StateStore::LoadLinks() {
  return statements_->SelectAll<LinkRow>(
      "SELECT directory_id, account_id, origin FROM links ORDER BY directory_id", "loading links",
      [](sqlite3_stmt* row) {
        return LinkRow{ColumnText(row, 0), ColumnText(row, 1), ColumnText(row, 2)};
      });
}

absl::StatusOr<std::vector<LinkRow>> StateStore::LoadLinksOf(
    std::span<const std::string> directory_ids, std::span<const std::string> account_ids) {
  constexpr std::string_view kOp = "loading links";
  std::vector<LinkRow> rows;
  for (const auto& [sql, keys] :
       {std::pair{"SELECT directory_id, account_id, origin FROM links WHERE directory_id = ?1",
                  directory_ids},
        std::pair{"SELECT directory_id, account_id, origin FROM links WHERE account_id = ?1",
                  account_ids}}) {
    USERSYNC_ASSIGN_OR_RETURN(sqlite3_stmt * stmt, statements_->Get(sql, kOp));
    for (const std::string& key : keys) {
      Statement scoped(stmt);
      BindText(stmt, 1, key);
      USERSYNC_RETURN_IF_ERROR(statements_->ForEachRow(stmt, kOp, [&](sqlite3_stmt* row) {
        rows.push_back(LinkRow{ColumnText(row, 0), ColumnText(row, 1), ColumnText(row, 2)});
      }));
    }
  }
  std::sort(rows.begin(), rows.end(),
            [](const LinkRow& a, const LinkRow& b) { return a.directory_id < b.directory_id; });
  rows.erase(std::unique(rows.begin(), rows.end(),
                         [](const LinkRow& a, const LinkRow& b) {
                           return a.directory_id == b.directory_id;
                         }),
             rows.end());
  return rows;
}

absl::StatusOr<int64_t> StateStore::CountLinks() {
  return statements_->QueryInt("SELECT count(*) FROM links", "counting links");
}

absl::Status StateStore::UpsertLinks(std::span<const LinkRow> links) {
  constexpr std::string_view kOp = "saving links";
  USERSYNC_ASSIGN_OR_RETURN(
      sqlite3_stmt * stmt,
      statements_->Get("INSERT INTO links(directory_id, account_id, origin) VALUES(?1, ?2, ?3) "
                       "ON CONFLICT(directory_id) DO UPDATE SET account_id = excluded.account_id, "
                       "origin = excluded.origin",
                       kOp));
  return statements_->InTransaction(kOp, [&]() -> absl::Status {
    return statements_->StepEach(stmt, kOp, links, [](sqlite3_stmt* s, const LinkRow& link) {
      BindText(s, 1, link.directory_id);
      BindText(s, 2, link.account_id);
      BindText(s, 3, link.origin);
    });
  });
}

absl::Status StateStore::RemoveLinks(std::span<const std::string> directory_ids) {
  constexpr std::string_view kOp = "removing links";
  USERSYNC_ASSIGN_OR_RETURN(sqlite3_stmt * stmt,
                            statements_->Get("DELETE FROM links WHERE directory_id = ?1", kOp));
  return statements_->InTransaction(kOp, [&]() -> absl::Status {
    return statements_->StepEach(
        stmt, kOp, directory_ids,
        [](sqlite3_stmt* s, const std::string& directory_id) { BindText(s, 1, directory_id); });
  });
}

absl::Status StateStore::SaveManualMatch(const ManualMatch& match) {
  constexpr std::string_view kOp = "saving a manual match";
  USERSYNC_ASSIGN_OR_RETURN(
      sqlite3_stmt * stmt,
      statements_->Get("INSERT INTO manual_matches(directory_id, account_id) VALUES(?1, ?2) "
                       "ON CONFLICT(directory_id) DO UPDATE SET account_id = excluded.account_id",
                       kOp));
  Statement scoped(stmt);
  BindText(stmt, 1, match.directory_id);
  BindText(stmt, 2, match.account_id);
  return statements_->StepDone(stmt, kOp);
}

absl::Status StateStore::Unlink(std::span<const std::string> directory_ids) {
  constexpr std::string_view kOp = "unlinking";
  USERSYNC_ASSIGN_OR_RETURN(sqlite3_stmt * links,
                            statements_->Get("DELETE FROM links WHERE directory_id = ?1", kOp));
  USERSYNC_ASSIGN_OR_RETURN(
      sqlite3_stmt * manual,
      statements_->Get("DELETE FROM manual_matches WHERE directory_id = ?1", kOp));
  auto bind = [](sqlite3_stmt* s, const std::string& directory_id) {
    BindText(s, 1, directory_id);
  };
  return statements_->InTransaction(kOp, [&]() -> absl::Status {
    USERSYNC_RETURN_IF_ERROR(statements_->StepEach(links, kOp, directory_ids, bind));
    return statements_->StepEach(manual, kOp, directory_ids, bind);
  });
}

absl::StatusOr<std::vector<ManualMatch>> StateStore::LoadManualMatches() {
  return statements_->SelectAll<ManualMatch>(
      "SELECT directory_id, account_id FROM manual_matches ORDER BY directory_id",
      "loading manual matches", [](sqlite3_stmt* row) {
        return ManualMatch{ColumnText(row, 0), ColumnText(row, 1)};
      });
}

absl::StatusOr<int64_t> StateStore::BeginRun(const std::string& mode, const std::string& now) {
  constexpr std::string_view kOp = "recording the run's start";
  USERSYNC_ASSIGN_OR_RETURN(
      sqlite3_stmt * stmt,
      statements_->Get("INSERT INTO runs(started_at, mode) VALUES(?1, ?2)", kOp));
  Statement scoped(stmt);
  BindText(stmt, 1, now);
  BindText(stmt, 2, mode);
  USERSYNC_RETURN_IF_ERROR(statements_->StepDone(stmt, kOp));
  return sqlite3_last_insert_rowid(db_);
}

absl::Status StateStore::FinishRun(int64_t run_id, int exit_code, const std::string& summary_json,
                                   const std::string& now) {
  constexpr std::string_view kOp = "recording the run's end";
  USERSYNC_ASSIGN_OR_RETURN(
      sqlite3_stmt * stmt,
      statements_->Get(
          "UPDATE runs SET finished_at = ?1, exit_code = ?2, summary = ?3 WHERE run_id = ?4", kOp));
  Statement scoped(stmt);
  BindText(stmt, 1, now);
  sqlite3_bind_int(stmt, 2, exit_code);
  BindText(stmt, 3, summary_json);
  sqlite3_bind_int64(stmt, 4, run_id);
  USERSYNC_RETURN_IF_ERROR(statements_->StepDone(stmt, kOp));
  if (sqlite3_changes(db_) == 0) {
    return absl::NotFoundError(
        absl::StrCat("state store '", path_, "': ", Sv(kOp), ": no run ", run_id));
  }
  return absl::OkStatus();
}

namespace {

// Reads the rows of a SELECT run_id, started_at, finished_at, mode, exit_code, summary.
absl::StatusOr<std::vector<RunRow>> ReadRuns(StatementCache& statements, sqlite3_stmt* stmt,
                                             std::string_view op) {
  std::vector<RunRow> runs;
  USERSYNC_RETURN_IF_ERROR(statements.ForEachRow(stmt, op, [&](sqlite3_stmt* row) {
    RunRow run;
    run.run_id = sqlite3_column_int64(row, 0);
    run.started_at = ColumnText(row, 1);
    run.finished_at = ColumnText(row, 2);
    run.mode = ColumnText(row, 3);
    run.exit_code = sqlite3_column_type(row, 4) == SQLITE_NULL ? -1 : sqlite3_column_int(row, 4);
    run.summary = ColumnText(row, 5);
    runs.push_back(std::move(run));
  }));
  return runs;
}

}  // namespace

absl::StatusOr<std::vector<RunRow>> StateStore::RecentRuns(int limit) {
  constexpr std::string_view kOp = "loading recent runs";
  USERSYNC_ASSIGN_OR_RETURN(
      sqlite3_stmt * stmt,
      statements_->Get("SELECT run_id, started_at, finished_at, mode, exit_code, summary "
                       "FROM runs ORDER BY run_id DESC LIMIT ?1",
                       kOp));
  Statement scoped(stmt);
  sqlite3_bind_int(stmt, 1, std::max(limit, 0));
  return ReadRuns(*statements_, stmt, kOp);
}

absl::StatusOr<std::vector<RunRow>> StateStore::RunsSince(const std::string& since) {
  constexpr std::string_view kOp = "loading the runs of a period";
  // RFC 3339 UTC timestamps of one format order as text.
  USERSYNC_ASSIGN_OR_RETURN(
      sqlite3_stmt * stmt,
      statements_->Get("SELECT run_id, started_at, finished_at, mode, exit_code, summary "
                       "FROM runs WHERE started_at >= ?1 ORDER BY run_id DESC",
                       kOp));
  Statement scoped(stmt);
  BindText(stmt, 1, since);
  return ReadRuns(*statements_, stmt, kOp);
}

absl::StatusOr<std::vector<RunRow>> StateStore::LastSuccess() {
  constexpr std::string_view kOp = "loading the last successful run";
  USERSYNC_ASSIGN_OR_RETURN(
      sqlite3_stmt * stmt,
      statements_->Get("SELECT run_id, started_at, finished_at, mode, exit_code, summary "
                       "FROM runs WHERE exit_code = 0 AND mode IN ('sync', 'apply', 'release') "
                       "ORDER BY run_id DESC LIMIT 1",
                       kOp));
  Statement scoped(stmt);
  return ReadRuns(*statements_, stmt, kOp);
}

absl::StatusOr<std::vector<int64_t>> StateStore::RecordIntents(
    int64_t run_id, std::span<const JournalIntent> intents) {
  constexpr std::string_view kOp = "journaling intents";
  USERSYNC_ASSIGN_OR_RETURN(
      sqlite3_stmt * stmt,
      statements_->Get(absl::StrCat("INSERT INTO journal", kInsertIntent), kOp));
  std::vector<int64_t> op_ids;
  op_ids.reserve(intents.size());
  const absl::Status status = statements_->InTransaction(kOp, [&]() -> absl::Status {
    return statements_->StepEach(
        stmt, kOp, intents,
        [run_id](sqlite3_stmt* s, const JournalIntent& intent) { BindIntent(s, run_id, intent); },
        [&](const JournalIntent&) {
          op_ids.push_back(sqlite3_last_insert_rowid(db_));
          return absl::OkStatus();
        });
  });
  if (!status.ok()) return status;
  return op_ids;
}

absl::Status StateStore::Settle(std::span<const JournalSettlement> settlements) {
  constexpr std::string_view kOp = "settling journal entries";
  USERSYNC_ASSIGN_OR_RETURN(
      sqlite3_stmt * stmt,
      statements_->Get("UPDATE journal SET state = ?1, account_id = COALESCE(NULLIF(?2, ''), "
                       "account_id), http_status = ?3, attempts = ?4, error = ?5 "
                       "WHERE op_id = ?6",
                       kOp));
  auto bind = [](sqlite3_stmt* s, const JournalSettlement& settlement) {
    BindText(s, 1, settlement.ok ? "done" : "failed");
    BindText(s, 2, settlement.account_id);
    sqlite3_bind_int(s, 3, settlement.http_status);
    sqlite3_bind_int(s, 4, settlement.attempts);
    BindText(s, 5, settlement.error);
    sqlite3_bind_int64(s, 6, settlement.op_id);
  };
  auto found = [&](const JournalSettlement& settlement) -> absl::Status {
    if (sqlite3_changes(db_) != 0) return absl::OkStatus();
    return absl::NotFoundError(absl::StrCat("state store '", path_, "': ", Sv(kOp),
                                            ": no journal entry ", settlement.op_id));
  };
  return statements_->InTransaction(
      kOp, [&]() { return statements_->StepEach(stmt, kOp, settlements, bind, found); });
}

absl::StatusOr<std::vector<JournalEntry>> StateStore::LoadUnsettled() {
  constexpr std::string_view kOp = "loading unsettled journal entries";
  USERSYNC_ASSIGN_OR_RETURN(
      sqlite3_stmt * stmt,
      statements_->Get(absl::StrCat("SELECT ", Sv(kJournalColumns),
                                    " FROM journal WHERE state = 'intent' ORDER BY op_id"),
                       kOp));
  Statement scoped(stmt);
  return ReadJournal(*statements_, stmt, kOp);
}

absl::StatusOr<std::vector<JournalEntry>> StateStore::JournalForRun(int64_t run_id) {
  constexpr std::string_view kOp = "loading the run's journal";
  USERSYNC_ASSIGN_OR_RETURN(
      sqlite3_stmt * stmt,
      statements_->Get(absl::StrCat("SELECT ", Sv(kJournalColumns),
                                    " FROM journal WHERE run_id = ?1 ORDER BY op_id"),
                       kOp));
  Statement scoped(stmt);
  sqlite3_bind_int64(stmt, 1, run_id);
  return ReadJournal(*statements_, stmt, kOp);
}

absl::StatusOr<std::vector<JournalEntry>> StateStore::JournalForUser(std::string_view user) {
  constexpr std::string_view kOp = "loading a user's journal";
  // ?2: the DN as OperationJson writes it, a LIKE pattern with its own wildcards escaped.
  constexpr std::string_view kMatch =
      "(directory_id = ?1 OR account_id = ?1 OR email = lower(?1) OR "
      "payload LIKE ?2 ESCAPE '\\')";
  USERSYNC_ASSIGN_OR_RETURN(
      sqlite3_stmt * stmt,
      statements_->Get(
          absl::StrCat("SELECT ", Sv(kJournalColumns), " FROM journal WHERE directory_id IN ",
                       "(SELECT directory_id FROM journal WHERE directory_id != '' AND ",
                       Sv(kMatch), ") OR account_id IN (SELECT account_id FROM journal WHERE ",
                       "account_id != '' AND ", Sv(kMatch), ") OR ", Sv(kMatch), " ORDER BY op_id"),
          kOp));
  Statement scoped(stmt);
  std::string dn_pattern = "%\"dn\":\"";
  for (const char c : user) {
    if (c == '%' || c == '_' || c == '\\') dn_pattern.push_back('\\');
    dn_pattern.push_back(c);
  }
  dn_pattern.append("\"%");
  BindText(stmt, 1, user);
  BindText(stmt, 2, dn_pattern);
  return ReadJournal(*statements_, stmt, kOp);
}

absl::Status StateStore::SaveHolds(int64_t run_id, std::span<const JournalIntent> holds) {
  constexpr std::string_view kOp = "saving held operations";
  USERSYNC_ASSIGN_OR_RETURN(sqlite3_stmt * drop,
                            statements_->Get("DELETE FROM holds WHERE state = 'held'", kOp));
  USERSYNC_ASSIGN_OR_RETURN(
      sqlite3_stmt * insert,
      statements_->Get(absl::StrCat("INSERT INTO holds", kInsertIntent), kOp));
  return statements_->InTransaction(kOp, [&]() -> absl::Status {
    {
      Statement scoped(drop);
      USERSYNC_RETURN_IF_ERROR(statements_->StepDone(drop, kOp));
    }
    return statements_->StepEach(
        insert, kOp, holds,
        [run_id](sqlite3_stmt* s, const JournalIntent& hold) { BindIntent(s, run_id, hold); });
  });
}

absl::StatusOr<std::vector<HoldRow>> StateStore::LoadHolds() {
  return statements_->SelectAll<HoldRow>(
      absl::StrCat(kSelectHold, "WHERE state = 'held' ORDER BY hold_id"), "loading held operations",
      ReadHold);
}

absl::StatusOr<std::vector<HoldRow>> StateStore::ReleaseHolds(std::span<const int64_t> hold_ids) {
  constexpr std::string_view kOp = "releasing held operations";
  USERSYNC_ASSIGN_OR_RETURN(
      sqlite3_stmt * select,
      statements_->Get(absl::StrCat(kSelectHold, "WHERE hold_id = ?1 AND state = 'held'"), kOp));
  USERSYNC_ASSIGN_OR_RETURN(
      sqlite3_stmt * release,
      statements_->Get("UPDATE holds SET state = 'released' WHERE hold_id = ?1", kOp));
  std::vector<int64_t> ids(hold_ids.begin(), hold_ids.end());
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  std::vector<HoldRow> released;
  released.reserve(ids.size());
  const absl::Status status = statements_->InTransaction(kOp, [&]() -> absl::Status {
    for (int64_t hold_id : ids) {
      {
        Statement scoped(select);
        sqlite3_bind_int64(select, 1, hold_id);
        const size_t before = released.size();
        USERSYNC_RETURN_IF_ERROR(statements_->ForEachRow(
            select, kOp, [&](sqlite3_stmt* row) { released.push_back(ReadHold(row)); }));
        if (released.size() == before) {
          return absl::NotFoundError(absl::StrCat("state store '", path_, "': ", Sv(kOp),
                                                  ": no held operation ", hold_id,
                                                  " (unknown, or released already)"));
        }
      }
      Statement scoped(release);
      sqlite3_bind_int64(release, 1, hold_id);
      USERSYNC_RETURN_IF_ERROR(statements_->StepDone(release, kOp));
    }
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return released;
}

absl::StatusOr<std::vector<HoldRow>> StateStore::ReleaseAllHolds() {
  constexpr std::string_view kOp = "releasing all held operations";
  USERSYNC_ASSIGN_OR_RETURN(
      sqlite3_stmt * select,
      statements_->Get(absl::StrCat(kSelectHold, "WHERE state = 'held' ORDER BY hold_id"), kOp));
  USERSYNC_ASSIGN_OR_RETURN(
      sqlite3_stmt * release,
      statements_->Get("UPDATE holds SET state = 'released' WHERE state = 'held'", kOp));
  std::vector<HoldRow> released;
  const absl::Status status = statements_->InTransaction(kOp, [&]() -> absl::Status {
    {
      Statement scoped(select);
      USERSYNC_RETURN_IF_ERROR(statements_->ForEachRow(
          select, kOp, [&](sqlite3_stmt* row) { released.push_back(ReadHold(row)); }));
    }
    Statement scoped(release);
    return statements_->StepDone(release, kOp);
  });
  if (!status.ok()) return status;
  return released;
}

}  // namespace usersync::io