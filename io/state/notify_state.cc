#include "io/state/notify_state.h"

#include <sqlite3.h>

#include <string_view>
#include <vector>

#include "core/status_macros.h"
#include "io/state/statement_cache.h"

namespace usersync::io {
namespace {

using Statement = StatementCache::Statement;

constexpr char kCreateTable[] =
    "CREATE TABLE IF NOT EXISTS notify_state("
    "  id        INTEGER PRIMARY KEY CHECK (id = 1),"
    "  condition TEXT NOT NULL,"
    "  since     TEXT NOT NULL,"
    "  last_sent TEXT NOT NULL)";

}  // namespace

absl::StatusOr<std::optional<NotifyStateRow>> LoadNotifyState(StateStore& state) {
  constexpr std::string_view kOp = "reading the last notification";
  StatementCache sql(state.db(), DatabasePath(state.db()));
  USERSYNC_ASSIGN_OR_RETURN(
      const int64_t tables,
      sql.QueryInt("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND "
                   "name = 'notify_state'",
                   kOp));
  if (tables == 0) return std::optional<NotifyStateRow>();
  USERSYNC_ASSIGN_OR_RETURN(
      const std::vector<NotifyStateRow> rows,
      sql.SelectAll<NotifyStateRow>(
          "SELECT condition, since, last_sent FROM notify_state WHERE id = 1", kOp,
          [](sqlite3_stmt* row) {
            return NotifyStateRow{ColumnText(row, 0), ColumnText(row, 1), ColumnText(row, 2)};
          }));
  if (rows.empty()) return std::optional<NotifyStateRow>();
  return std::optional<NotifyStateRow>(rows.front());
}

absl::Status SaveNotifyState(StateStore& state, const NotifyStateRow& row) {
  constexpr std::string_view kOp = "recording the last notification";
  StatementCache sql(state.db(), DatabasePath(state.db()));
  return sql.InTransaction(kOp, [&]() -> absl::Status {
    USERSYNC_RETURN_IF_ERROR(sql.Exec(kCreateTable, kOp));
    USERSYNC_ASSIGN_OR_RETURN(
        sqlite3_stmt * stmt,
        sql.Get("INSERT OR REPLACE INTO notify_state(id, condition, since, last_sent) "
                "VALUES (1, ?1, ?2, ?3)",
                kOp));
    Statement scoped(stmt);
    BindTextCopy(stmt, 1, row.condition);
    BindTextCopy(stmt, 2, row.since);
    BindTextCopy(stmt, 3, row.last_sent);
    return sql.StepDone(stmt, kOp);
  });
}

}  // namespace usersync::io
