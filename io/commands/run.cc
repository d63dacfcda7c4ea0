// `usersync run --every DURATION`: the polling mode (DESIGN.md: "A polling mode runs the same
// batch on an interval"). See commands.h.
#include <algorithm>
#include <chrono>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "core/str.h"
#include "io/commands/commands.h"
#include "io/commands/run_context.h"
#include "io/output.h"
#include "io/report/audit_log.h"

namespace usersync::io {
namespace {

// How often a wait looks at the interrupt flag: a signal stops the loop within this.
constexpr absl::Duration kWakeUp = absl::Milliseconds(100);

bool Interrupted(const CommandOptions& options) {
  return options.interrupted != nullptr && options.interrupted->load();
}

// The wall-clock stamp of the monotonic instant `at`, as the clock sees it now.
std::string StampOf(const Clock& clock, core::MonoTime at) {
  const auto from_now =
      std::chrono::duration_cast<std::chrono::system_clock::duration>(at - clock.Now());
  return Rfc3339(absl::FromChrono(clock.WallNow() + from_now));
}

// Waits until `next` on `clock`, or until a signal.
void WaitUntil(const CommandOptions& options, const Clock& clock, core::MonoTime next) {
  while (!Interrupted(options)) {
    const absl::Duration left = absl::FromChrono(next - clock.Now());
    if (left <= absl::ZeroDuration()) break;
    clock.SleepFor(absl::ToChronoNanoseconds(std::min(left, kWakeUp)));
  }
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

core::MonoTime NextRoundAt(core::MonoTime start, absl::Duration every, core::MonoTime now) {
  return std::max(start + absl::ToChronoNanoseconds(every), now);
}

int RunPollingCommand(const CommandOptions& options, absl::Duration every) {
  const Clock& clock = options.clock != nullptr ? *options.clock : RealClock();
  int last_exit = kExitOk;
  for (int64_t round = 1;; ++round) {
    const core::MonoTime start = clock.Now();
    Print(options.out, absl::StrCat("== run ", round, " at ", NowStamp(clock), "\n"));
    CommandOptions cycle = options;
    cycle.delta = true;  // delta cycles between full ones (io/commands/delta_cycle.h)
    last_exit = RunSyncCommand(cycle);
    // A configuration that is wrong from the start will not heal by waiting: say so now. Later
    // (the file edited while polling) the loop goes on and the next round reads it again.
    if (round == 1 && last_exit == kExitUsage) return last_exit;
    if (Interrupted(options)) break;
    const core::MonoTime next = NextRoundAt(start, every, clock.Now());
    const bool overran = next != start + absl::ToChronoNanoseconds(every);
    Print(options.out, absl::StrCat("== run ", round, " exit ", last_exit, "; next run at ",
                                    StampOf(clock, next), overran ? " (overran)" : "", "\n"));
    WaitUntil(options, clock, next);
    if (Interrupted(options)) break;
  }
  Print(options.out, absl::StrCat("== stopped by a signal; the last run exited ", last_exit, "\n"));
  return last_exit;
}

}  // namespace usersync::io
