// `usersync pause [--reason TEXT]` and `usersync resume`: provisioning off and on for the
// configured state store. See commands.h and pause.h.
#include "io/commands/pause.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "io/commands/commands.h"
#include "io/commands/progress_run.h"
#include "io/commands/run_metrics.h"
#include "io/output.h"

namespace usersync::io {
namespace {

std::string Since(const PauseRow& pause) {
  return absl::StrCat("since ", pause.since,
                      pause.reason.empty() ? "" : absl::StrCat(" (", pause.reason, ")"));
}

// The session a switch works on: the configuration and its state store, opened for writing
// (created if need be). No RunLock: pausing while a run applies is the point; that run
// finishes and the next one stops.
absl::Status OpenSwitch(Session& session) {
  if (absl::Status s = LoadSessionConfig(session); !s.ok()) return s;
  return OpenStateStore(session, Access::kRecord);
}

}  // namespace

std::string PausedText(const PauseRow& pause, const std::string& config_path) {
  return absl::StrCat("provisioning is paused ", Since(pause), ": `usersync resume -c ",
                      config_path, "` to go on");
}

absl::StatusOr<bool> StopIfPaused(const Session& session) {
  absl::StatusOr<std::optional<PauseRow>> pause = LoadPause(*session.state);
  if (!pause.ok()) return pause.status();
  if (!pause->has_value()) return false;
  WriteRunMetrics(session, {.mode = "", .paused = true});
  Print(session.options.out,
        absl::StrCat("usersync: ", PausedText(**pause, session.options.config_path),
                     "\nNothing was read or sent.\n"));
  return true;
}

std::optional<int> PrepareUnlessPaused(Session& session) {
  const CommandOptions& options = session.options;
  if (absl::Status s = OpenSession(session, Access::kApply); !s.ok()) return Report(options, s);
  absl::StatusOr<bool> paused = StopIfPaused(session);
  if (!paused.ok()) return Report(options, paused.status());
  if (*paused) return kExitOk;
  if (absl::Status s = StartProgress(session, NowStamp(session.clock)); !s.ok()) {
    return Report(options, s);
  }
  if (absl::Status s = ReadAndPlan(session); !s.ok()) return Report(options, s);
  return std::nullopt;
}

int RunPauseCommand(const CommandOptions& options) {
  Session session(options);
  if (absl::Status s = OpenSwitch(session); !s.ok()) return Report(options, s);
  absl::StatusOr<std::optional<PauseRow>> current = LoadPause(*session.state);
  if (!current.ok()) return Report(options, current.status());
  if (current->has_value() && options.pause_reason.empty()) {
    Print(options.out, absl::StrCat("Provisioning was already paused ", Since(**current),
                                    "; nothing changed.\n"));
    return kExitOk;
  }
  // A new reason for a standing pause keeps its start: "since" is when provisioning stopped.
  const PauseRow pause{current->has_value() ? (*current)->since : NowStamp(session.clock),
                       options.pause_reason};
  if (absl::Status s = SavePause(*session.state, pause); !s.ok()) return Report(options, s);
  Print(options.out,
        absl::StrCat("Provisioning paused ", Since(pause), " for the state store ",
                     session.config.state_path,
                     ": sync, apply, release and each `run` round now stop before reading "
                     "anything (exit 0); a run already applying finishes. `usersync resume -c ",
                     options.config_path, "` to go on.\n"));
  return kExitOk;
}

int RunResumeCommand(const CommandOptions& options) {
  Session session(options);
  if (absl::Status s = OpenSwitch(session); !s.ok()) return Report(options, s);
  absl::StatusOr<std::optional<PauseRow>> was = ClearPause(*session.state);
  if (!was.ok()) return Report(options, was.status());
  if (!was->has_value()) {
    Print(options.out, "Provisioning was not paused; nothing changed.\n");
    return kExitOk;
  }
  Print(options.out, absl::StrCat("Provisioning resumed (it was paused ", Since(**was),
                                  "): the next sync applies.\n"));
  return kExitOk;
}

}  // namespace usersync::io
