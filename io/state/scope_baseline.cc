#include "io/state/scope_baseline.h"

#include <sqlite3.h>

#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/str.h"

namespace usersync::io {
namespace {

constexpr char kCreateTable[] =
    "CREATE TABLE IF NOT EXISTS scope_baseline("
    "  id INTEGER PRIMARY KEY CHECK (id = 1),"
    "  users_in_scope INTEGER NOT NULL CHECK (users_in_scope >= 0),"
    "  recorded_at TEXT NOT NULL)";

// A statement that finalizes itself.
class Statement {
 public:
  Statement() = default;
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  sqlite3_stmt** out() { return &stmt_; }
  sqlite3_stmt* get() const { return stmt_; }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

// The error of a failed call on `db`, naming the store and what was being done. A busy or
// locked store may clear (kUnavailable); anything else is the store's damage (kDataLoss).
absl::Status Error(sqlite3* db, int rc, std::string_view operation) {
  const char* path = sqlite3_db_filename(db, "main");
  std::string message = absl::StrCat("state store '", path != nullptr ? path : "",
                                     "': ", Sv(operation), ": ", sqlite3_errmsg(db));
  const int primary = rc & 0xff;
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED || primary == SQLITE_CANTOPEN ||
      primary == SQLITE_READONLY || primary == SQLITE_IOERR || primary == SQLITE_FULL) {
    return absl::UnavailableError(std::move(message));
  }
  return absl::DataLossError(std::move(message));
}

}  // namespace

absl::StatusOr<std::optional<int64_t>> LoadScopeBaseline(StateStore& state) {
  sqlite3* db = state.db();
  constexpr std::string_view kOperation = "reading the scope baseline";
  Statement exists;
  int rc = sqlite3_prepare_v2(
      db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'scope_baseline'", -1,
      exists.out(), nullptr);
  if (rc != SQLITE_OK) return Error(db, rc, kOperation);
  rc = sqlite3_step(exists.get());
  if (rc != SQLITE_ROW) return Error(db, rc, kOperation);
  if (sqlite3_column_int64(exists.get(), 0) == 0) return std::optional<int64_t>();

  Statement select;
  rc = sqlite3_prepare_v2(db, "SELECT users_in_scope FROM scope_baseline WHERE id = 1", -1,
                          select.out(), nullptr);
  if (rc != SQLITE_OK) return Error(db, rc, kOperation);
  rc = sqlite3_step(select.get());
  if (rc == SQLITE_DONE) return std::optional<int64_t>();
  if (rc != SQLITE_ROW) return Error(db, rc, kOperation);
  return std::optional<int64_t>(sqlite3_column_int64(select.get(), 0));
}

absl::Status SaveScopeBaseline(StateStore& state, int64_t users_in_scope, const std::string& now) {
  sqlite3* db = state.db();
  constexpr std::string_view kOperation = "recording the scope baseline";
  int rc = sqlite3_exec(db, kCreateTable, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return Error(db, rc, kOperation);
  Statement upsert;
  rc = sqlite3_prepare_v2(
      db, "INSERT OR REPLACE INTO scope_baseline(id, users_in_scope, recorded_at) VALUES (1, ?, ?)",
      -1, upsert.out(), nullptr);
  if (rc != SQLITE_OK) return Error(db, rc, kOperation);
  sqlite3_bind_int64(upsert.get(), 1, users_in_scope);
  sqlite3_bind_text(upsert.get(), 2, now.data(), static_cast<int>(now.size()), SQLITE_TRANSIENT);
  rc = sqlite3_step(upsert.get());
  if (rc != SQLITE_DONE) return Error(db, rc, kOperation);
  return absl::OkStatus();
}

}  // namespace usersync::io
