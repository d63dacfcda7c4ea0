#include "io/commands/holds.h"

#include "absl/strings/str_cat.h"
#include "io/output.h"
#include "io/plan_file.h"
#include "io/report/audit_log.h"
#include "io/report/plan_report.h"

namespace usersync::io {

std::vector<JournalIntent> HeldIntents(const std::vector<core::Operation>& ops) {
  std::vector<JournalIntent> intents;
  for (const core::Operation& op : ops) {
    if (!op.held) continue;
    intents.push_back({std::string(core::OpKindName(op.kind)), op.directory_id.str(),
                       op.account_id.str(), op.email.str(), OperationJson(op)});
  }
  return intents;
}

bool SameHolds(const std::vector<HoldRow>& pending, const std::vector<JournalIntent>& intents) {
  if (pending.size() != intents.size()) return false;
  for (size_t idx = 0; idx < intents.size(); ++idx) {
    const HoldRow& hold = pending[idx];
    if (hold.op != intents[idx].op || hold.directory_id != intents[idx].directory_id ||
        hold.account_id != intents[idx].account_id || hold.payload != intents[idx].payload) {
      return false;
    }
  }
  return true;
}

std::vector<HoldRow> RecordHolds(StateStore& state, int64_t run_id,
                                 const std::vector<core::Operation>& ops, RunLogs& logs,
                                 std::FILE* err) {
  const std::vector<JournalIntent> intents = HeldIntents(ops);
  absl::StatusOr<std::vector<HoldRow>> pending = state.LoadHolds();
  if (!pending.ok() || !SameHolds(*pending, intents)) {
    if (absl::Status s = state.SaveHolds(run_id, intents); !s.ok()) {
      logs.Error(absl::StrCat("holds: ", s.message()));
      Print(err,
            absl::StrCat("usersync: could not store the held operations: ", s.message(), "\n"));
      return {};
    }
    pending = state.LoadHolds();
  }
  if (!pending.ok()) {
    logs.Error(absl::StrCat("holds: ", pending.status().message()));
    return {};
  }
  return *std::move(pending);
}

absl::StatusOr<core::Operation> HeldOperation(const HoldRow& hold) {
  return ParseOperationJson(hold.payload, absl::StrCat("held operation ", hold.hold_id));
}

std::string HoldLine(const HoldRow& hold) {
  std::string reason;
  if (absl::StatusOr<core::Operation> op = ParseOperationJson(hold.payload, "hold"); op.ok()) {
    reason = op->reason;
  }
  return absl::StrCat("  hold ", hold.hold_id, ": ", hold.op, " ",
                      hold.email.empty() ? std::string("-") : hold.email, " (account ",
                      hold.account_id, ", directory id ", hold.directory_id, ")",
                      reason.empty() ? "" : ": ", reason, "\n");
}

std::string HoldsText(const std::vector<HoldRow>& holds, const std::string& config_path,
                      size_t max_shown) {
  if (holds.empty()) return "";
  std::string text = absl::StrCat(holds.size(), " held operation(s):\n");
  for (size_t idx = 0; idx < holds.size() && idx < max_shown; ++idx) {
    text.append(HoldLine(holds[idx]));
  }
  if (holds.size() > max_shown) {
    absl::StrAppend(&text, "  ... and ", holds.size() - max_shown, " more (`usersync release -c ",
                    config_path, "` lists them all)\n");
  }
  absl::StrAppend(&text, "Release them with `usersync release -c ", config_path,
                  " --id ID...` or `--all`.\n");
  return text;
}

}  // namespace usersync::io
