// `usersync plan [--format table|json] [--out PLAN]`: the dry run; changes nothing remote.
#include <filesystem>
#include <string>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "io/atomic_file.h"
#include "io/commands/commands.h"
#include "io/commands/progress_run.h"
#include "io/commands/run_context.h"
#include "io/output.h"
#include "io/report/apply_estimate.h"
#include "io/report/plan_report.h"
#include "io/secrets.h"

namespace usersync::io {

int RunPlanCommand(const CommandOptions& options) {
  Session session(options);
  if (absl::Status s = PrepareSession(session); !s.ok()) return Report(options, s);
  // The JSON goes to the file when there is one, else to stdout when asked for: never both (a
  // million-user plan is close to a gigabyte).
  const bool json_out = !options.out_path.empty() || options.format == "json";
  if (json_out) {
    std::error_code absolute_error;  // on failure: the path as given
    const std::filesystem::path config_path =
        std::filesystem::absolute(session.config.path, absolute_error).lexically_normal();
    const PlanEstimate estimate{EstimateFor(session), CostModelFor(session.config.target)};
    const PlanOrigin origin{absolute_error ? session.config.path : config_path.string(),
                            session.config.target.url};
    // Streamed in pieces, each redacted (a piece ends between two values, so a secret a server
    // echoed sits whole in one piece).
    const auto write_plan = [&](ByteSink write) {
      return WritePlanJson(session.plan, origin, &estimate, [&](std::string_view piece) {
        return ContainsSecret(piece) ? write(Redact(piece)) : write(piece);
      });
    };
    if (options.out_path.empty()) {
      const absl::Status printed = write_plan([&](std::string_view piece) {
        Print(options.out, piece);
        return absl::OkStatus();
      });
      return printed.ok() ? kExitOk : Report(options, printed);
    }
    if (absl::Status s = WriteFileAtomically(options.out_path, write_plan); !s.ok()) {
      return Report(options, s);
    }
  }
  if (options.format != "json") {
    Print(options.out, PlanTable(session.plan));
    Print(options.out, EstimateLine(EstimateFor(session), CostModelFor(session.config.target)));
  }
  if (!options.out_path.empty()) {
    Print(options.out, absl::StrCat("Plan written to ", options.out_path, "\n"));
  }
  return kExitOk;
}

}  // namespace usersync::io
