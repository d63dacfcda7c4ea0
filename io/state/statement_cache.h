// StatementCache: the state store's SQLite connection helpers, shared by the files of
// io/state (state_store.cc: the queries; state_open.cc: opening, schema, integrity). Internal
// to io/state. Thread-compatible: one per connection, used from the connection's thread.
#pragma once

#include <sqlite3.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "core/str.h"

namespace usersync::io {

// The Status for SQLite result code `rc` (its primary code decides the Status code).
inline absl::Status ErrorFromCode(int rc, std::string message) {
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

inline std::string ColumnText(sqlite3_stmt* stmt, int column) {
  const unsigned char* text = sqlite3_column_text(stmt, column);
  if (text == nullptr) return std::string();
  return std::string(reinterpret_cast<const char*>(text),
                     static_cast<size_t>(sqlite3_column_bytes(stmt, column)));
}

// The path of `db`'s main database, ":memory:" for one in memory: what errors name.
inline std::string DatabasePath(sqlite3* db) {
  const char* path = sqlite3_db_filename(db, "main");
  return path != nullptr && path[0] != '\0' ? std::string(path) : std::string(":memory:");
}

// Binds a copy of `text` (SQLITE_TRANSIENT: `text` may go away before the step).
inline void BindTextCopy(sqlite3_stmt* stmt, int index, std::string_view text) {
  sqlite3_bind_text(stmt, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
}

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

}  // namespace usersync::io
