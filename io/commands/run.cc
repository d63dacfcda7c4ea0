// `usersync run --every DURATION`: the polling mode (DESIGN.md: "A polling mode runs the same
// batch on an interval"). See sync_runner.h.
#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "core/str.h"
#include "io/output.h"
#include "io/report/audit_log.h"
#include "io/sync_runner.h"

namespace usersync::io {
namespace {

// How often a wait looks at the interrupt flag: a signal stops the loop within this.
constexpr absl::Duration kWakeUp = absl::Milliseconds(100);

bool Interrupted(const CommandOptions& options) {
  return options.interrupted != nullptr && options.interrupted->load();
}

}  // namespace

absl::StatusOr<absl::Duration> ParseInterval(std::string_view text) {
  absl::Duration every;
  if (!absl::ParseDuration(Sv(text), &every) || every < absl::Seconds(1) ||
      every == absl::InfiniteDuration()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--every '", Sv(text), "' is not an interval of a second or more (e.g. 30s, 15m, 1h30m)"));
  }
  return every;
}

int RunPollingCommand(const CommandOptions& options, absl::Duration every) {
  int last_exit = kExitOk;
  for (int64_t round = 1;; ++round) {
    const absl::Time start = absl::Now();
    Print(options.out, absl::StrCat("== run ", round, " at ", NowRfc3339(), "\n"));
    last_exit = RunSyncCommand(options);
    // A configuration that is wrong from the start will not heal by waiting: say so now. Later
    // (the file edited while polling) the loop goes on and the next round reads it again.
    if (round == 1 && last_exit == kExitUsage) return last_exit;
    if (Interrupted(options)) break;
    const absl::Time next = std::max(start + every, absl::Now());
    Print(options.out,
          absl::StrCat("== run ", round, " exit ", last_exit, "; next run at ", Rfc3339(next),
                       next == start + every ? "" : " (overran)", "\n"));
    while (!Interrupted(options)) {
      const absl::Duration left = next - absl::Now();
      if (left <= absl::ZeroDuration()) break;
      absl::SleepFor(std::min(left, kWakeUp));
    }
    if (Interrupted(options)) break;
  }
  Print(options.out, absl::StrCat("== stopped by a signal; the last run exited ", last_exit, "\n"));
  return last_exit;
}

}  // namespace usersync::io
