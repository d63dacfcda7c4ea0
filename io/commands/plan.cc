// `usersync plan [--format table|json] [--out PLAN]`: the dry run; changes nothing remote.
#include <filesystem>
#include <string>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "io/commands/commands.h"
#include "io/commands/progress_run.h"
#include "io/commands/run_context.h"
#include "io/output.h"
#include "io/report/apply_estimate.h"
#include "io/report/plan_report.h"

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
    const std::string json =
        PlanJson(session.plan,
                 PlanOrigin{absolute_error ? session.config.path : config_path.string(),
                            session.config.target.url},
                 &estimate);
    if (options.out_path.empty()) {
      Print(options.out, json);
      return kExitOk;
    }
    if (absl::Status s = WriteFile(options.out_path, json); !s.ok()) return Report(options, s);
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
