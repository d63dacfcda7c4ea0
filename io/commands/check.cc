// `usersync check`: tests both connections, one line each.
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/str.h"
#include "io/commands/commands.h"
#include "io/commands/run_context.h"
#include "io/directory_source.h"
#include "io/output.h"

namespace usersync::io {
namespace {

// Reads the directory: "source: KIND OK (...)" or "source: FAILED: ...".
absl::Status CheckSource(const Session& session, DirectorySource& source) {
  absl::StatusOr<core::Directory> directory = source.Read();
  if (directory.ok()) {
    Print(session.options.out, absl::StrFormat("source: %s OK (%zu users, %zu groups)\n",
                                               Sv(SourceKindName(session.config.source.kind)),
                                               directory->user_count(), directory->group_count()));
    return absl::OkStatus();
  }
  Print(session.options.out, absl::StrCat("source: FAILED: ", directory.status().message(), "\n"));
  return directory.status();
}

// Checks the target, then what its licenses offer against the rules' products
// (ReadTargetOffer): "target: URL OK" and what the target found, one indented line each, then
// "licenses: FAILED: ..." when a rule names a product no license carries; or "target: FAILED:
// ...".
absl::Status CheckTarget(Session& session) {
  const absl::Status status = session.target->Check();
  if (!status.ok()) {
    Print(session.options.out, absl::StrCat("target: FAILED: ", status.message(), "\n"));
    return status;
  }
  const absl::Status offer = ReadTargetOffer(session).status();
  Print(session.options.out, absl::StrCat("target: ", session.config.target.url, " OK\n"));
  for (const std::string& finding : session.target->CheckFindings()) {
    Print(session.options.out, absl::StrCat("  ", finding, "\n"));
  }
  if (!offer.ok()) {
    Print(session.options.out, absl::StrCat("licenses: FAILED: ", offer.message(), "\n"));
  }
  return offer;
}

}  // namespace

int RunCheckCommand(const CommandOptions& options) {
  Session session(options);
  if (absl::Status s = LoadSessionConfig(session); !s.ok()) return Report(options, s);
  Print(options.out, absl::StrCat("config: ", session.config.path, " OK\n"));
  absl::StatusOr<std::unique_ptr<DirectorySource>> reader = OpenDirectorySource(session);
  if (!reader.ok()) return Report(options, reader.status());
  const absl::Status source = CheckSource(session, **reader);
  if (absl::Status s = OpenTarget(session); !s.ok()) return Report(options, s);
  const absl::Status target = CheckTarget(session);
  // The first failure decides: a malformed directory file exits 2, an unreachable server 4.
  return ExitCodeFor(!source.ok() ? source : target);
}

}  // namespace usersync::io
