// `usersync explain USER`: why this user gets what it gets.
#include "core/explain.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "io/commands/commands.h"
#include "io/commands/run_context.h"
#include "io/output.h"

namespace usersync::io {

int RunExplainCommand(const CommandOptions& options) {
  Session session(options);
  if (absl::Status s = PrepareSession(session); !s.ok()) return Report(options, s);
  const std::vector<core::Explanation> found =
      core::Explain(session.directory, session.accounts, session.links_view, session.manual_view,
                    session.plan_config, session.plan, options.user);
  if (found.empty()) {
    return Report(options, absl::NotFoundError(absl::StrCat(
                               "no directory user or account matches '", options.user,
                               "' (tried directory ids, DNs, emails, user names and account "
                               "ids)")));
  }
  std::string text;
  for (const core::Explanation& explanation : found) {
    if (!text.empty()) text.push_back('\n');
    text.append(core::FormatExplanation(explanation));
  }
  Print(options.out, text);
  return kExitOk;
}

}  // namespace usersync::io
