// `usersync users [--format table|csv|json|html] [--out FILE]`: the users page.
#include <string>

#include "absl/strings/str_cat.h"
#include "io/commands/commands.h"
#include "io/commands/run_context.h"
#include "io/output.h"
#include "io/report/plan_report.h"
#include "io/report/users_html.h"

namespace usersync::io {
namespace {

// The page in `format`; kInvalidArgument for an unknown one.
absl::StatusOr<std::string> UsersPage(const Session& session, const std::string& format) {
  if (format == "csv") return UsersCsv(session.plan);
  if (format == "json") return UsersJson(session.plan);
  if (format == "html") {
    return UsersHtml(session.plan, absl::StrCat("usersync users: ", session.config.target.url),
                     NowStamp(session.clock));
  }
  if (format.empty() || format == "table") return UsersTable(session.plan);
  return absl::InvalidArgumentError(
      absl::StrCat("unknown --format ", format, " (table, csv, json, html)"));
}

}  // namespace

int RunUsersCommand(const CommandOptions& options) {
  Session session(options);
  if (absl::Status s = PrepareSession(session); !s.ok()) return Report(options, s);
  absl::StatusOr<std::string> text = UsersPage(session, options.format);
  if (!text.ok()) return Report(options, text.status());
  if (!options.out_path.empty()) {
    if (absl::Status s = WriteFile(options.out_path, *text); !s.ok()) return Report(options, s);
    Print(options.out, absl::StrCat("Users page written to ", options.out_path, "\n"));
    return kExitOk;
  }
  Print(options.out, *text);
  return kExitOk;
}

}  // namespace usersync::io
