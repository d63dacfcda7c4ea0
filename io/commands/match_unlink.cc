#include "io/commands/match_unlink.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/status_macros.h"
#include "io/commands/match_csv.h"
#include "io/commands/run_context.h"
#include "io/json_writer.h"
#include "io/output.h"
#include "io/state/directory_snapshot.h"

namespace usersync::io {
namespace {

// One id to forget: what the state store holds for it.
struct Forgotten {
  std::string directory_id;
  std::string account_id;         // of the link; "" when only a manual match was stored
  std::string origin;             // the link's origin ("created" | "linked" | "manual"), or ""
  std::string manual_account_id;  // of the manual match, or ""
};

// The ids to forget, from --csv (its bad lines appended to `errors`) or the command line.
absl::StatusOr<std::vector<MatchPair>> RequestedIds(const CommandOptions& options,
                                                    std::vector<LineError>* errors) {
  if (!options.source_id.empty() || !options.target_id.empty()) {
    return absl::InvalidArgumentError(
        "match --unlink takes directory ids or --csv FILE, not --source-id/--target-id");
  }
  const bool from_csv = !options.csv_path.empty();
  if (from_csv == !options.unlink_ids.empty()) {
    return absl::InvalidArgumentError(
        "match --unlink needs DIRECTORY_ID... or --csv FILE (header source_id), not both");
  }
  if (from_csv) return ReadUnlinkCsv(options.csv_path, errors);
  std::vector<MatchPair> ids;
  for (const std::string& id : options.unlink_ids) ids.push_back({id, "", 0});
  return ids;
}

// What the store holds for each requested id (each id once, in request order). An id with no
// link and no manual match goes to `unknown` ("FILE:LINE: ..." in the CSV form).
absl::StatusOr<std::vector<Forgotten>> Resolve(StateStore& state, const std::vector<MatchPair>& ids,
                                               const std::string& csv_path,
                                               std::vector<LineError>* unknown) {
  USERSYNC_ASSIGN_OR_RETURN(std::vector<LinkRow> links, state.LoadLinks());
  USERSYNC_ASSIGN_OR_RETURN(std::vector<ManualMatch> manual, state.LoadManualMatches());
  std::vector<Forgotten> found;
  absl::flat_hash_set<std::string> seen;
  for (const MatchPair& id : ids) {
    if (!seen.insert(id.source_id).second) continue;
    Forgotten entry{id.source_id, "", "", ""};
    for (const LinkRow& link : links) {
      if (link.directory_id == id.source_id) {
        entry.account_id = link.account_id;
        entry.origin = link.origin;
      }
    }
    for (const ManualMatch& match : manual) {
      if (match.directory_id == id.source_id) entry.manual_account_id = match.account_id;
    }
    if (!entry.account_id.empty() || !entry.manual_account_id.empty()) {
      found.push_back(std::move(entry));
      continue;
    }
    const std::string why =
        absl::StrCat("no stored link or manual match for directory id '", id.source_id, "'");
    unknown->emplace_back(id.line,
                          id.line > 0 ? absl::StrCat(csv_path, ":", id.line, ": ", why) : why);
  }
  return found;
}

int ReportUnknown(const CommandOptions& options, std::vector<LineError>& errors) {
  std::stable_sort(errors.begin(), errors.end(),
                   [](const LineError& a, const LineError& b) { return a.first < b.first; });
  const std::string what = options.csv_path.empty() ? std::string("cannot unlink")
                                                    : absl::StrCat(options.csv_path, ": ",
                                                                   errors.size(), " bad line(s)");
  std::string text = absl::StrCat("usersync: ", what, "; nothing was changed:\n");
  for (const LineError& error : errors) absl::StrAppend(&text, "  ", error.second, "\n");
  Print(options.err, text);
  return kExitUsage;
}

std::string SummaryJson(const std::vector<Forgotten>& forgotten) {
  JsonWriter w;
  w.BeginObject().Key("unlinked").Int(static_cast<int64_t>(forgotten.size()));
  w.Key("links").BeginArray();
  for (const Forgotten& entry : forgotten) {
    w.BeginObject()
        .Field("directory_id", entry.directory_id)
        .Field("account_id", entry.account_id)
        .Field("origin", entry.origin)
        .Field("manual_account_id", entry.manual_account_id)
        .EndObject();
  }
  w.EndArray().EndObject();
  return w.Release();
}

// The run row that records the unlinking (status lists it; its summary names every id). A
// failure to record is a warning: the links are already forgotten.
void RecordUnlinkRun(Session& session, const std::vector<Forgotten>& forgotten) {
  absl::StatusOr<int64_t> run_id = session.state->BeginRun("unlink", NowStamp(session.clock));
  absl::Status recorded = run_id.status();
  if (run_id.ok()) {
    recorded =
        session.state->FinishRun(*run_id, kExitOk, SummaryJson(forgotten), NowStamp(session.clock));
  }
  if (!recorded.ok()) {
    Print(session.options.err, absl::StrCat("usersync: warning: the unlinking was not recorded "
                                            "as a run: ",
                                            recorded.message(), "\n"));
  }
}

std::string DoneText(const std::vector<Forgotten>& forgotten) {
  std::string text;
  for (const Forgotten& entry : forgotten) {
    std::vector<std::string> what;
    if (!entry.account_id.empty()) {
      what.push_back(absl::StrCat("link to account ", entry.account_id, " (", entry.origin, ")"));
    }
    if (!entry.manual_account_id.empty()) {
      what.push_back(absl::StrCat("manual match to account ", entry.manual_account_id));
    }
    absl::StrAppend(&text, "Unlinked ", entry.directory_id, ": forgot the ",
                    absl::StrJoin(what, " and the "), "\n");
  }
  absl::StrAppend(&text, "Forgot ", forgotten.size(),
                  " directory id(s); the next plan matches them again or creates their "
                  "accounts.\n");
  return text;
}

}  // namespace

int RunUnlinkCommand(const CommandOptions& options) {
  std::vector<LineError> errors;  // every bad line of a CSV file, then every unknown id
  absl::StatusOr<std::vector<MatchPair>> ids = RequestedIds(options, &errors);
  if (!ids.ok()) return Report(options, ids.status());
  Session session(options);
  if (absl::Status s = LoadSessionConfig(session); !s.ok()) return Report(options, s);
  if (absl::Status s = AcquireRunLock(session); !s.ok()) return Report(options, s);
  if (absl::Status s = OpenStateStore(session, Access::kRecord); !s.ok()) {
    return Report(options, s);
  }
  absl::StatusOr<std::vector<Forgotten>> forgotten =
      Resolve(*session.state, *ids, options.csv_path, &errors);
  if (!forgotten.ok()) return Report(options, forgotten.status());
  if (!errors.empty()) return ReportUnknown(options, errors);
  std::vector<std::string> directory_ids;
  for (const Forgotten& entry : *forgotten) directory_ids.push_back(entry.directory_id);
  if (absl::Status s = session.state->Unlink(directory_ids); !s.ok()) return Report(options, s);
  RemoveDirectorySnapshot(session.config.state_path);  // the next delta cycle plans in full
  RecordUnlinkRun(session, *forgotten);
  Print(options.out, DoneText(*forgotten));
  return kExitOk;
}

}  // namespace usersync::io
