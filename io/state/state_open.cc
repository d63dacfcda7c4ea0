// Opening the state store: the schema and its migrations, and the checks a file must pass
// before a run uses it (StateStore::Open in io/state/state_store.h).
#include <sqlite3.h>

#include <filesystem>
#include <iterator>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "core/str.h"
#include "io/state/state_store.h"
#include "io/state/statement_cache.h"

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
    // 3: the links to an account, for a delta cycle (StateStore::LoadLinksOf).
    R"sql(
CREATE INDEX links_by_account ON links(account_id);
)sql",
};

constexpr int kSchemaVersion = static_cast<int>(std::size(kMigrations));

// What a file says it is, read before anything is written to it.
struct Header {
  int64_t application_id = 0;
  int64_t version = 0;
  int64_t tables = 0;
};

absl::StatusOr<Header> ReadHeader(StatementCache& sql) {
  Header header;
  USERSYNC_ASSIGN_OR_RETURN(header.application_id,
                            sql.QueryInt("PRAGMA application_id", "reading the file header"));
  USERSYNC_ASSIGN_OR_RETURN(header.version,
                            sql.QueryInt("PRAGMA user_version", "reading the schema version"));
  USERSYNC_ASSIGN_OR_RETURN(header.tables,
                            sql.QueryInt("SELECT count(*) FROM sqlite_master", "listing tables"));
  return header;
}

bool IsNew(const Header& header) {
  return header.application_id == 0 && header.version == 0 && header.tables == 0;
}

// OK for a usersync store this build understands, or an empty file.
absl::Status CheckOurs(const StatementCache& sql, const Header& header) {
  if (header.application_id == kApplicationId) {
    if (header.version > kSchemaVersion) {
      return absl::FailedPreconditionError(
          absl::StrCat("state store '", sql.path(), "' has schema version ", header.version,
                       ", newer than this usersync understands (", kSchemaVersion,
                       "): use the usersync that wrote it, or a newer one"));
    }
    return absl::OkStatus();
  }
  if (IsNew(header)) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat("state store '", sql.path(),
                   "' is a SQLite database but not a usersync state store (application id ",
                   header.application_id, ", ", header.tables,
                   " tables); refusing to touch it: point state.path at usersync's own file"));
}

// PRAGMA quick_check: every page and index entry well formed (it skips only the check that
// indexes match their tables' contents, integrity_check's slow part). Its first row is "ok", or
// the first of the problems found. kDataLoss when damaged.
absl::Status QuickCheck(StatementCache& sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(sql.db(), "PRAGMA quick_check(1)", -1, &stmt, nullptr);
  std::string verdict;
  if (rc == SQLITE_OK) {
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) verdict = ColumnText(stmt, 0);
  }
  sqlite3_finalize(stmt);
  if (rc != SQLITE_ROW) return sql.Error(rc, "checking its integrity");
  if (verdict == "ok") return absl::OkStatus();
  return absl::DataLossError(absl::StrCat("integrity check: ", verdict));
}

// Brings the schema of a store CheckOurs accepted to kSchemaVersion.
absl::Status Migrate(StatementCache& sql, const Header& header) {
  // WAL: readers never block the run's writer; synchronous=NORMAL syncs at checkpoints, not at
  // every commit (a power loss may drop the last commits, never corrupt the file).
  // An in-memory database answers "memory" and stays so.
  USERSYNC_RETURN_IF_ERROR(sql.Exec("PRAGMA journal_mode=WAL", "switching to WAL"));
  USERSYNC_RETURN_IF_ERROR(sql.Exec("PRAGMA synchronous=NORMAL", "setting synchronous"));
  if (header.version == kSchemaVersion) return absl::OkStatus();

  // Another process may be migrating the same file: decide again under the write lock.
  return sql.InTransaction("migrating the schema", [&]() -> absl::Status {
    USERSYNC_ASSIGN_OR_RETURN(const Header now, ReadHeader(sql));
    USERSYNC_RETURN_IF_ERROR(CheckOurs(sql, now));
    for (int64_t step = now.version; step < kSchemaVersion; ++step) {
      const std::string script =
          absl::StrCat(Sv(kMigrations[step]), "\nPRAGMA user_version = ", step + 1, ";\n",
                       "PRAGMA application_id = ", kApplicationId, ";\n");
      USERSYNC_RETURN_IF_ERROR(
          sql.Exec(script.c_str(), absl::StrCat("migrating the schema to version ", step + 1)));
    }
    return absl::OkStatus();
  });
}

// The status Open returns for a failure while checking or migrating the file at `path`.
absl::Status OpenError(const std::string& path, const absl::Status& status) {
  // An unwritable file or directory surfaces on first use: it cannot be opened for a run.
  if (absl::IsPermissionDenied(status)) return absl::UnavailableError(status.message());
  // A file that is not a database, or a corrupt one, is refused before anything is read or
  // sent: nothing usersync can retry, so a precondition (exit 2) with the way out.
  if (absl::IsDataLoss(status)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "state store '", path, "' is damaged (", status.message(),
        "): restore it from a backup, or move it aside (with its -wal file) to start afresh: "
        "the next run relinks accounts by externalId and email"));
  }
  return status;
}

// `path` as a SQLite URI's path: the characters a URI gives a meaning escaped.
std::string UriPath(const std::string& path) {
  std::string out;
  for (char c : path) {
    if (c == '%' || c == '?' || c == '#') {
      absl::StrAppend(&out, "%", absl::Hex(static_cast<unsigned char>(c), absl::kZeroPad2));
    } else {
      out.push_back(c);
    }
  }
  return out;
}

absl::StatusOr<sqlite3*> OpenConnection(const std::string& path, const std::string& name,
                                        int flags) {
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(name.c_str(), &db, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close_v2(db);
    return absl::UnavailableError(absl::StrCat("state store '", path, "': cannot open: ", message));
  }
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, kBusyTimeoutMs);
  return db;
}

}  // namespace

int StateStore::SchemaVersion() { return kSchemaVersion; }

absl::StatusOr<std::unique_ptr<StateStore>> StateStore::Open(const std::string& path,
                                                             IntegrityCheck check) {
  USERSYNC_ASSIGN_OR_RETURN(sqlite3 * db,
                            OpenConnection(path, path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE));
  std::unique_ptr<StateStore> store(new StateStore(db, path));
  StatementCache& sql = *store->statements_;
  absl::Status status = [&]() -> absl::Status {
    // Read-only checks first: a foreign or damaged file must not even be switched to WAL.
    USERSYNC_ASSIGN_OR_RETURN(const Header header, ReadHeader(sql));
    USERSYNC_RETURN_IF_ERROR(CheckOurs(sql, header));
    if (!IsNew(header) && check == IntegrityCheck::kAtOpen) {
      USERSYNC_RETURN_IF_ERROR(QuickCheck(sql));
    }
    return Migrate(sql, header);
  }();
  if (!status.ok()) return OpenError(path, status);
  return store;
}

absl::Status StateStore::CheckIntegrity() {
  absl::Status status = QuickCheck(*statements_);
  return status.ok() ? status : OpenError(path_, status);
}

absl::StatusOr<std::unique_ptr<StateStore>> StateStore::OpenReadOnly(const std::string& path) {
  if (path == ":memory:") return Open(path);
  std::error_code error;
  if (!std::filesystem::exists(path, error)) {
    // No store yet: read as an empty one, and create nothing.
    USERSYNC_ASSIGN_OR_RETURN(sqlite3 * db,
                              OpenConnection(path, ":memory:", SQLITE_OPEN_READWRITE));
    std::unique_ptr<StateStore> store(new StateStore(db, path));
    if (absl::Status s = Migrate(*store->statements_, Header{}); !s.ok()) return s;
    return store;
  }
  // A WAL file holds commits not yet copied into the database (a run in progress, or one that
  // was killed): read through it (mode=ro; SQLite needs the -shm file, or to create it). Without
  // one the file is complete: immutable=1 reads it without creating -wal or -shm, so a
  // read-only directory works and nothing is written.
  const bool has_wal = std::filesystem::exists(path + "-wal", error);
  const std::string uri =
      absl::StrCat("file:", UriPath(path), has_wal ? "?mode=ro" : "?immutable=1");
  USERSYNC_ASSIGN_OR_RETURN(sqlite3 * db,
                            OpenConnection(path, uri, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI));
  std::unique_ptr<StateStore> store(new StateStore(db, path));
  StatementCache& sql = *store->statements_;
  absl::Status status = [&]() -> absl::Status {
    USERSYNC_ASSIGN_OR_RETURN(const Header header, ReadHeader(sql));
    USERSYNC_RETURN_IF_ERROR(CheckOurs(sql, header));
    if (header.version != kSchemaVersion) {
      return absl::FailedPreconditionError(absl::StrCat(
          "state store '", path, "' has schema version ", header.version, " (this usersync: ",
          kSchemaVersion, "); a read-only command does not upgrade it: run `usersync sync` once"));
    }
    return absl::OkStatus();
  }();
  if (!status.ok()) return OpenError(path, status);
  return store;
}

}  // namespace usersync::io
