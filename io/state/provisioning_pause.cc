#include "io/state/provisioning_pause.h"

#include <sqlite3.h>

#include <string_view>

#include "core/status_macros.h"
#include "io/secrets.h"
#include "io/state/statement_cache.h"

namespace usersync::io {
namespace {

using Statement = StatementCache::Statement;

constexpr char kCreateTable[] =
    "CREATE TABLE IF NOT EXISTS provisioning_pause("
    "  id     INTEGER PRIMARY KEY CHECK (id = 1),"
    "  since  TEXT NOT NULL,"
    "  reason TEXT NOT NULL DEFAULT '')";

// The pause row through `sql`; nullopt when the table or its row is absent.
absl::StatusOr<std::optional<PauseRow>> Read(StatementCache& sql) {
  constexpr std::string_view kOp = "reading whether provisioning is paused";
  USERSYNC_ASSIGN_OR_RETURN(
      const int64_t tables,
      sql.QueryInt("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND "
                   "name = 'provisioning_pause'",
                   kOp));
  if (tables == 0) return std::optional<PauseRow>();
  USERSYNC_ASSIGN_OR_RETURN(
      const std::vector<PauseRow> rows,
      sql.SelectAll<PauseRow>("SELECT since, reason FROM provisioning_pause WHERE id = 1", kOp,
                              [](sqlite3_stmt* row) {
                                return PauseRow{ColumnText(row, 0), ColumnText(row, 1)};
                              }));
  if (rows.empty()) return std::optional<PauseRow>();
  return std::optional<PauseRow>(rows.front());
}

}  // namespace

absl::StatusOr<std::optional<PauseRow>> LoadPause(StateStore& state) {
  const std::string path = DatabasePath(state.db());
  StatementCache sql(state.db(), path);
  return Read(sql);
}

absl::Status SavePause(StateStore& state, const PauseRow& pause) {
  constexpr std::string_view kOp = "pausing provisioning";
  const std::string path = DatabasePath(state.db());
  StatementCache sql(state.db(), path);
  return sql.InTransaction(kOp, [&]() -> absl::Status {
    USERSYNC_RETURN_IF_ERROR(sql.Exec(kCreateTable, kOp));
    USERSYNC_ASSIGN_OR_RETURN(
        sqlite3_stmt * stmt,
        sql.Get("INSERT OR REPLACE INTO provisioning_pause(id, since, reason) VALUES (1, ?1, ?2)",
                kOp));
    Statement scoped(stmt);
    BindTextCopy(stmt, 1, pause.since);
    BindTextCopy(stmt, 2, ContainsSecret(pause.reason) ? Redact(pause.reason) : pause.reason);
    return sql.StepDone(stmt, kOp);
  });
}

absl::StatusOr<std::optional<PauseRow>> ClearPause(StateStore& state) {
  constexpr std::string_view kOp = "resuming provisioning";
  const std::string path = DatabasePath(state.db());
  StatementCache sql(state.db(), path);
  std::optional<PauseRow> was;
  USERSYNC_RETURN_IF_ERROR(sql.InTransaction(kOp, [&]() -> absl::Status {
    USERSYNC_ASSIGN_OR_RETURN(was, Read(sql));
    if (!was.has_value()) return absl::OkStatus();
    return sql.Exec("DELETE FROM provisioning_pause", kOp);
  }));
  return was;
}

}  // namespace usersync::io
