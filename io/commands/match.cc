// `usersync match --source-id ID --target-id ID` / `--csv FILE`: manual matches, stored all or
// none. `--unlink` goes to io/commands/match_unlink.cc.
#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/str.h"
#include "io/commands/commands.h"
#include "io/commands/match_csv.h"
#include "io/commands/match_unlink.h"
#include "io/commands/match_validator.h"
#include "io/commands/run_context.h"
#include "io/output.h"
#include "io/state/directory_snapshot.h"

namespace usersync::io {
namespace {

// The pairs to store: from --csv (its bad lines appended to `errors`) or the command line.
absl::StatusOr<std::vector<MatchPair>> RequestedPairs(const CommandOptions& options,
                                                      std::vector<LineError>* errors) {
  const bool from_csv = !options.csv_path.empty();
  if (from_csv == (!options.source_id.empty() || !options.target_id.empty()) ||
      (!from_csv && (options.source_id.empty() || options.target_id.empty()))) {
    return absl::InvalidArgumentError(
        "match needs --source-id ID --target-id ID, or --csv FILE (not both)");
  }
  if (from_csv) return ReadMatchCsv(options.csv_path, errors);
  return std::vector<MatchPair>{{options.source_id, options.target_id, 0}};
}

// Prints every bad line, by line number (syntax errors were found first, the others later).
int ReportBadLines(const CommandOptions& options, std::vector<LineError>& errors) {
  std::stable_sort(errors.begin(), errors.end(),
                   [](const LineError& a, const LineError& b) { return a.first < b.first; });
  std::string text = absl::StrCat("usersync: ", options.csv_path, ": ", errors.size(),
                                  " bad line(s); nothing was stored:\n");
  for (const LineError& error : errors) absl::StrAppend(&text, "  ", error.second, "\n");
  Print(options.err, text);
  return kExitUsage;
}

std::string StoredText(const Session& session, const MatchValidator& validator,
                       const std::vector<MatchPair>& pairs) {
  std::string text;
  for (const MatchPair& pair : pairs) {
    const std::optional<uint32_t> user = session.directory.FindUserById(pair.source_id);
    const core::Account* account = validator.Account(pair.target_id);
    absl::StrAppend(
        &text, "Matched ", pair.source_id, " (", user ? Sv(session.directory.user_dn[*user]) : "",
        ") → account ", pair.target_id, " (",
        account ? Sv(account->email.empty() ? account->user_name : account->email) : "", ")\n");
  }
  absl::StrAppend(&text, "Stored ", pairs.size(),
                  " manual match(es); the next plan matches them by \"manual\".\n");
  return text;
}

}  // namespace

int RunMatchCommand(const CommandOptions& options) {
  if (options.unlink) return RunUnlinkCommand(options);
  std::vector<LineError> errors;
  absl::StatusOr<std::vector<MatchPair>> pairs = RequestedPairs(options, &errors);
  if (!pairs.ok()) return Report(options, pairs.status());
  Session session(options);
  if (absl::Status s = PrepareSession(session, Access::kRecord); !s.ok()) {
    return Report(options, s);
  }
  MatchValidator validator(session.directory, session.accounts, session.links, session.manual,
                           session.plan);
  for (const MatchPair& pair : *pairs) {
    std::string why = validator.Check(pair);
    if (why.empty()) continue;
    if (options.csv_path.empty()) {
      return Report(options, absl::FailedPreconditionError(
                                 absl::StrCat("cannot match ", pair.source_id, " to ",
                                              pair.target_id, ": ", why, "; nothing was stored")));
    }
    errors.emplace_back(pair.line, absl::StrCat(options.csv_path, ":", pair.line, ": ", why));
  }
  if (!errors.empty()) return ReportBadLines(options, errors);
  for (const MatchPair& pair : *pairs) {
    if (absl::Status s = session.state->SaveManualMatch({pair.source_id, pair.target_id});
        !s.ok()) {
      return Report(options, s);
    }
  }
  RemoveDirectorySnapshot(session.config.state_path);  // the next delta cycle plans in full
  Print(options.out, StoredText(session, validator, *pairs));
  return kExitOk;
}

}  // namespace usersync::io
