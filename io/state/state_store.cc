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

namespace usersync::io {
namespace {

// PRAGMA application_id of a usersync store: "USYS". A SQLite file with another id (or with
// tables but no id) belongs to someone else and is never touched.
constexpr int32_t kApplicationId = 0x55535953;

constexpr int kBusyTimeoutMs = 5'000;

// Migration N (0-based) takes the schema from user_version N to N + 1. Append only: a shipped
// migration is never edited.
constexpr std::string_view kMigrations[] = {
    // 1: links, manual matches, runs, journal.
    R"sql(
CREATE TABLE links(
  directory_id TEXT PRIMARY KEY NOT NULL,
  account_id   TEXT NOT NULL,
  origin       TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE manual_matches(
  directory_id TEXT PRIMARY KEY NOT NULL,
  account_id   TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE runs(
  run_id      INTEGER PRIMARY KEY,
  started_at  TEXT NOT NULL,
  finished_at TEXT,
  mode        TEXT NOT NULL,
  exit_code   INTEGER,
  summary     TEXT
);
CREATE TABLE journal(
  op_id        INTEGER PRIMARY KEY,
  run_id       INTEGER NOT NULL,
  op           TEXT NOT NULL,
  directory_id TEXT NOT NULL DEFAULT '',
  account_id   TEXT NOT NULL DEFAULT '',
  email        TEXT NOT NULL DEFAULT '',
  state        TEXT NOT NULL DEFAULT 'intent',
  http_status  INTEGER NOT NULL DEFAULT 0,
  attempts     INTEGER NOT NULL DEFAULT 0,
  error        TEXT NOT NULL DEFAULT '',
  payload      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX journal_by_state ON journal(state);
CREATE INDEX journal_by_run ON journal(run_id);
)sql",
    // 2: deprovisioning held by the safety threshold.
    R"sql(
CREATE TABLE holds(
  hold_id      INTEGER PRIMARY KEY,
  run_id       INTEGER NOT NULL,
  op           TEXT NOT NULL,
  directory_id TEXT NOT NULL DEFAULT '',
  account_id   TEXT NOT NULL DEFAULT '',
  email        TEXT NOT NULL DEFAULT '',
  payload      TEXT NOT NULL DEFAULT '',
  state        TEXT NOT NULL DEFAULT 'held'
);
CREATE INDEX holds_by_state ON holds(state);
)sql",
};

constexpr int kSchemaVersion = static_cast<int>(std::size(kMigrations));

absl::Status ErrorFromCode(int rc, std::string message) {
  switch (rc & 0xff) {
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
      return absl::DataLossError(std::move(message));
    case SQLITE_CANTOPEN:
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_PROTOCOL:
      return absl::UnavailableError(std::move(message));
    case SQLITE_FULL:
      return absl::ResourceExhaustedError(std::move(message));
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH:
      return absl::PermissionDeniedError(std::move(message));
    default:
      return absl::InternalError(std::move(message));
  }
}

std::string ColumnText(sqlite3_stmt* stmt, int column) {
  const unsigned char* text = sqlite3_column_text(stmt, column);
  if (text == nullptr) return std::string();
  return std::string(reinterpret_cast<const char*>(text),
                     static_cast<size_t>(sqlite3_column_bytes(stmt, column)));
}

}  // namespace

// The connection's helpers: prepared statements (prepared once, reused), statements without
// results, transactions, and errors that name the store's path and the operation.
class StatementCache {
 public:
  StatementCache(sqlite3* db, const std::string& path) : db_(db), path_(path) {}
  ~StatementCache() {
    for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
  }
  StatementCache(const StatementCache&) = delete;
  StatementCache& operator=(const StatementCache&) = delete;

  absl::Status Error(int rc, std::string_view operation) const {
    return ErrorFromCode(
        rc, absl::StrCat("state store '", path_, "': ", Sv(operation), ": ", sqlite3_errmsg(db_)));
  }

  // A statement ready to bind; Statement resets it (and drops its bindings) when it goes out of
  // scope, so a cached statement never holds a read transaction open.
  class Statement {
   public:
    explicit Statement(sqlite3_stmt* stmt) : stmt_(stmt) {}
    ~Statement() {
      sqlite3_reset(stmt_);
      sqlite3_clear_bindings(stmt_);
    }
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;
    sqlite3_stmt* get() const { return stmt_; }

   private:
    sqlite3_stmt* stmt_;
  };

  absl::StatusOr<sqlite3_stmt*> Get(std::string_view sql, std::string_view operation) {
    auto it = statements_.find(Sv(sql));
    if (it != statements_.end()) return it->second;
    sqlite3_stmt* stmt = nullptr;
    const int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                      SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) return Error(rc, operation);
    statements_.emplace(std::string(sql), stmt);
    return stmt;
  }

  // Runs `sql` (one or more statements, no results wanted).
  absl::Status Exec(const char* sql, std::string_view operation) {
    const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
    return rc == SQLITE_OK ? absl::OkStatus() : Error(rc, operation);
  }

  // The integer result of a one-row query such as "PRAGMA user_version".
  absl::StatusOr<int64_t> QueryInt(const char* sql, std::string_view operation) {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v2(db_, sql, -1, &stmt, nullptr);
    if (rc != SQLITE_OK) {
      sqlite3_finalize(stmt);
      return Error(rc, operation);
    }
    rc = sqlite3_step(stmt);
    int64_t value = 0;
    if (rc == SQLITE_ROW) value = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return Error(rc, operation);
    return value;
  }

  // Runs `body` in one write transaction: committed if it returns OK, rolled back otherwise.
  template <typename Body>
  absl::Status InTransaction(std::string_view operation, Body&& body) {
    USERSYNC_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE", operation));
    absl::Status status = body();
    if (status.ok()) status = Exec("COMMIT", operation);
    if (!status.ok() && !sqlite3_get_autocommit(db_)) {
      // The rollback's own failure adds nothing: the first error is the one to report.
      (void)Exec("ROLLBACK", operation);
    }
    return status;
  }

  // Steps a statement that returns no rows.
  absl::Status StepDone(sqlite3_stmt* stmt, std::string_view operation) {
    const int rc = sqlite3_step(stmt);
    return rc == SQLITE_DONE ? absl::OkStatus() : Error(rc, operation);
  }

  // Binds and steps `stmt` (a statement that returns no rows) once per item of `items`:
  // bind(stmt, item) binds its parameters; after(item) -> absl::Status runs after each step.
  // Stops at the first error. Run it inside InTransaction to make the steps one commit.
  template <typename Items, typename Bind, typename After>
  absl::Status StepEach(sqlite3_stmt* stmt, std::string_view operation, const Items& items,
                        Bind&& bind, After&& after) {
    for (const auto& item : items) {
      Statement scoped(stmt);
      bind(stmt, item);
      USERSYNC_RETURN_IF_ERROR(StepDone(stmt, operation));
      USERSYNC_RETURN_IF_ERROR(after(item));
    }
    return absl::OkStatus();
  }
  template <typename Items, typename Bind>
  absl::Status StepEach(sqlite3_stmt* stmt, std::string_view operation, const Items& items,
                        Bind&& bind) {
    return StepEach(stmt, operation, items, std::forward<Bind>(bind),
                    [](const auto&) { return absl::OkStatus(); });
  }

  // Steps through every row, calling `on_row(stmt)`.
  template <typename OnRow>
  absl::Status ForEachRow(sqlite3_stmt* stmt, std::string_view operation, OnRow&& on_row) {
    while (true) {
      const int rc = sqlite3_step(stmt);
      if (rc == SQLITE_DONE) return absl::OkStatus();
      if (rc != SQLITE_ROW) return Error(rc, operation);
      on_row(stmt);
    }
  }

  // Runs the query `sql` (no parameters) and returns read(row) of each row, in order.
  template <typename Row, typename Read>
  absl::StatusOr<std::vector<Row>> SelectAll(std::string_view sql, std::string_view operation,
                                             Read&& read) {
    USERSYNC_ASSIGN_OR_RETURN(sqlite3_stmt * stmt, Get(sql, operation));
    Statement scoped(stmt);
    std::vector<Row> rows;
    USERSYNC_RETURN_IF_ERROR(
        ForEachRow(stmt, operation, [&](sqlite3_stmt* row) { rows.push_back(read(row)); }));
    return rows;
  }

  sqlite3* db() const { return db_; }
  const std::string& path() const { return path_; }

 private:
  sqlite3* db_;
  const std::string& path_;
  absl::flat_hash_map<std::string, sqlite3_stmt*> statements_;
};

namespace {

using Statement = StatementCache::Statement;

void BindText(sqlite3_stmt* stmt, int index, std::string_view text) {
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

// Checks that the file is ours (or empty) and brings its schema to kSchemaVersion.
absl::Status Migrate(StatementCache& sql) {
  // Read-only checks first: a foreign file must not even be switched to WAL.
  USERSYNC_ASSIGN_OR_RETURN(int64_t application_id,
                            sql.QueryInt("PRAGMA application_id", "reading the file header"));
  USERSYNC_ASSIGN_OR_RETURN(int64_t version,
                            sql.QueryInt("PRAGMA user_version", "reading the schema version"));
  USERSYNC_ASSIGN_OR_RETURN(int64_t tables,
                            sql.QueryInt("SELECT count(*) FROM sqlite_master", "listing tables"));
  auto check_ours = [&]() -> absl::Status {
    if (application_id == kApplicationId) {
      if (version > kSchemaVersion) {
        return absl::FailedPreconditionError(
            absl::StrCat("state store '", sql.path(), "' has schema version ", version,
                         ", newer than this usersync understands (", kSchemaVersion,
                         "): use the usersync that wrote it, or a newer one"));
      }
      return absl::OkStatus();
    }
    if (application_id == 0 && version == 0 && tables == 0) return absl::OkStatus();  // new
    return absl::FailedPreconditionError(absl::StrCat(
        "state store '", sql.path(),
        "' is a SQLite database but not a usersync state store (application id ", application_id,
        ", ", tables, " tables); refusing to touch it: point state.path at usersync's own file"));
  };
  USERSYNC_RETURN_IF_ERROR(check_ours());

  // WAL: readers never block the run's writer; synchronous=NORMAL syncs at checkpoints, not at
  // every commit (a power loss may drop the last commits, never corrupt the file).
  // An in-memory database answers "memory" and stays so.
  USERSYNC_RETURN_IF_ERROR(sql.Exec("PRAGMA journal_mode=WAL", "switching to WAL"));
  USERSYNC_RETURN_IF_ERROR(sql.Exec("PRAGMA synchronous=NORMAL", "setting synchronous"));
  if (version == kSchemaVersion) return absl::OkStatus();

  // Another process may be migrating the same file: decide again under the write lock.
  return sql.InTransaction("migrating the schema", [&]() -> absl::Status {
    USERSYNC_ASSIGN_OR_RETURN(application_id,
                              sql.QueryInt("PRAGMA application_id", "reading the file header"));
    USERSYNC_ASSIGN_OR_RETURN(version,
                              sql.QueryInt("PRAGMA user_version", "reading the schema version"));
    USERSYNC_ASSIGN_OR_RETURN(tables,
                              sql.QueryInt("SELECT count(*) FROM sqlite_master", "listing tables"));
    USERSYNC_RETURN_IF_ERROR(check_ours());
    for (int64_t step = version; step < kSchemaVersion; ++step) {
      const std::string script =
          absl::StrCat(Sv(kMigrations[step]), "\nPRAGMA user_version = ", step + 1, ";\n",
                       "PRAGMA application_id = ", kApplicationId, ";\n");
      USERSYNC_RETURN_IF_ERROR(
          sql.Exec(script.c_str(), absl::StrCat("migrating the schema to version ", step + 1)));
    }
    return absl::OkStatus();
  });
}

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

int StateStore::SchemaVersion() { return kSchemaVersion; }

StateStore::StateStore(sqlite3* db, std::string path)
    : db_(db), path_(std::move(path)), statements_(std::make_unique<StatementCache>(db_, path_)) {}

StateStore::~StateStore() {
  statements_.reset();  // finalize before close
  sqlite3_close_v2(db_);
}

absl::StatusOr<std::unique_ptr<StateStore>> StateStore::Open(const std::string& path) {
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close_v2(db);
    return absl::UnavailableError(absl::StrCat("state store '", path, "': cannot open: ", message));
  }
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, kBusyTimeoutMs);
  std::unique_ptr<StateStore> store(new StateStore(db, path));
  absl::Status status = Migrate(*store->statements_);
  if (!status.ok()) {
    // An unwritable file or directory surfaces on first use: it cannot be opened for a run.
    if (absl::IsPermissionDenied(status)) {
      return absl::UnavailableError(status.message());
    }
    // A file that is not a database, or a corrupt one, is refused before anything is read or
    // sent: nothing usersync can retry, so a precondition (exit 2) with the way out.
    if (absl::IsDataLoss(status)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "state store '", path, "' is damaged (", status.message(),
          "): restore it from a backup, or move it aside to start afresh (the next run relinks "
          "accounts by externalId)"));
    }
    return status;
  }
  return store;
}

absl::StatusOr<std::vector<LinkRow>> StateStore::LoadLinks() {
  return statements_->SelectAll<LinkRow>(
      "SELECT directory_id, account_id, origin FROM links ORDER BY directory_id", "loading links",
      [](sqlite3_stmt* row) {
        return LinkRow{ColumnText(row, 0), ColumnText(row, 1), ColumnText(row, 2)};
      });
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
