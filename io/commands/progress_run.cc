#include "io/commands/progress_run.h"

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <memory>

#include "absl/strings/str_cat.h"

namespace usersync::io {

std::string RunProgressPath(const Config& config) {
  return (std::filesystem::path(config.logs_dir) / "run-progress").string();
}

absl::Status StartProgress(Session& session, const std::string& started_at) {
  const CommandOptions& options = session.options;
  std::chrono::milliseconds plain_every{10'000};
  const bool err_is_terminal = ::isatty(::fileno(options.err)) == 1;
  absl::StatusOr<ProgressMode> mode = ParseProgressMode(
      options.quiet ? std::string_view("off") : std::string_view(options.progress), err_is_terminal,
      &plain_every);
  if (!mode.ok()) return mode.status();
  ProgressOptions progress;
  progress.mode = *mode;
  progress.err = options.err;
  progress.clock = &session.clock;
  if (*mode == ProgressMode::kPlain) progress.interval = plain_every;
  // The run's logs go there anyway (RunLogs::Open creates it too); one that cannot be made
  // means no status file, and the run's logs then report why.
  std::error_code error;
  std::filesystem::create_directories(session.config.logs_dir, error);
  if (std::filesystem::is_directory(session.config.logs_dir, error)) {
    progress.status_path = RunProgressPath(session.config);
  }
  progress.started_at = started_at;
  progress.stats = [&session]() -> TargetStats {
    return session.target != nullptr ? session.target->stats() : TargetStats{};
  };
  session.progress = std::make_unique<ProgressDisplay>(std::move(progress));
  return absl::OkStatus();
}

void ProgressPhase(Session& session, std::string_view phase, int64_t total) {
  if (session.progress != nullptr) session.progress->BeginPhase(phase, total);
}

void ProgressDone(Session& session, std::string_view summary) {
  if (session.progress != nullptr) session.progress->EndPhase(summary);
}

core::CostModel CostModelFor(const TargetConfig& target) {
  const bool is_goto = target.kind == TargetKind::kGoto;
  return core::CostModel{.rate = target.rate,
                         .burst = target.burst,
                         .create_batch = !is_goto           ? 1
                                         : target.batch > 0 ? target.batch
                                                            : kGotoMaxBatch,
                         .role_set_request = is_goto,
                         .batching_known = is_goto};
}

core::ApplyCost EstimateFor(const Session& session) {
  return core::EstimateApplyCost(session.plan.operations, CostModelFor(session.config.target));
}

}  // namespace usersync::io
