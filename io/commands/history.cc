// `usersync history USER`: everything usersync did to one user, from the state store's journal
// (io/state/state_store.h JournalForUser), oldest first: when, which run, the operation, its
// outcome, the reason the plan gave and the changed fields (before → after). Reads the state
// store alone (no source, no target), read-only.
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "io/commands/commands.h"
#include "io/commands/run_context.h"
#include "io/operation_codec.h"
#include "io/output.h"
#include "io/report/plan_report.h"
#include "io/state/state_store.h"

namespace usersync::io {
namespace {

// One journal row as a paragraph: the header line, then the reason and the changes indented.
std::string HistoryEntryText(const JournalEntry& entry, const std::string& started_at) {
  std::string outcome = entry.state == "intent" ? "outcome unknown" : entry.state;
  if (entry.state == "failed" && !entry.error.empty()) absl::StrAppend(&outcome, ": ", entry.error);
  std::string text = absl::StrFormat("%-24s  run %-4d  %-10s  %s  %s", started_at, entry.run_id,
                                     entry.op, entry.email, outcome);
  text.push_back('\n');
  absl::StatusOr<core::Operation> op =
      ParseOperationJson(entry.payload, "journal", ParseMode::kJournal);
  if (!op.ok()) return text;  // an older row without a payload: the header says what it was
  if (!op->reason.empty()) absl::StrAppend(&text, "    why: ", Sv(op->reason), "\n");
  if (const std::string changes = DescribeChanges(*op); !changes.empty()) {
    absl::StrAppend(&text, "    changed: ", changes, "\n");
  }
  return text;
}

}  // namespace

int RunHistoryCommand(const CommandOptions& options) {
  Session session(options);
  if (absl::Status s = LoadSessionConfig(session); !s.ok()) return Report(options, s);
  const std::string& path = session.config.state_path;
  std::error_code error;
  const auto unknown_user = [&] {
    return Report(options, absl::NotFoundError(absl::StrCat(
                               "nothing in the journal of ", path, " matches '", options.user,
                               "' (tried directory ids, account ids, emails and DNs)")));
  };
  if (path != ":memory:" && !std::filesystem::exists(path, error)) return unknown_user();
  absl::StatusOr<std::unique_ptr<StateStore>> state = StateStore::OpenReadOnly(path);
  absl::StatusOr<std::vector<JournalEntry>> rows =
      state.ok() ? (*state)->JournalForUser(options.user) : state.status();
  absl::StatusOr<std::vector<RunRow>> runs = rows.ok() ? (*state)->RunsSince("") : rows.status();
  if (!runs.ok()) return Report(options, runs.status());
  if (rows->empty()) return unknown_user();
  absl::flat_hash_map<int64_t, std::string> started_at;
  for (const RunRow& run : *runs) started_at[run.run_id] = run.started_at;
  std::string text = absl::StrCat("History of ", options.user, " (", rows->size(),
                                  " operation(s), oldest first):\n");
  for (const JournalEntry& entry : *rows) {
    text.append(HistoryEntryText(entry, started_at[entry.run_id]));
  }
  Print(options.out, text);
  return kExitOk;
}

}  // namespace usersync::io
