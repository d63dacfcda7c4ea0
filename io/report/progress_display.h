// ProgressDisplay: what a run is doing, while it does it (issue 16 item 2). The run's thread
// marks its phases (read the directory, list the target, plan, apply); the executor counts the
// operations it settles in one atomic (ExecutorContext::settled); a thread of the display's own
// wakes every `interval`, reads those counters (and the target's stats, a mutex-guarded copy)
// and
//   kTerminal  redraws one line of stderr in place ("\r\033[K..."), at most 4 times a second;
//              a finished phase leaves its summary line behind;
//   kPlain     prints a whole line every `interval` (journald, CI logs) and each phase's summary;
//   kOff       prints nothing.
// Whatever the mode, when `status_path` is set it writes the run's phase and done/total there
// (key=value lines, replaced atomically through a temporary file, at most once per
// `status_every`: bounded writes whatever the run's size) for
// `usersync status` to show a run in progress; the file is removed when the display ends.
// Nothing goes to stdout: JSON output stays clean.
//
// Thread-safety: BeginPhase/EndPhase/settled are for the run's thread (settled() is an atomic
// any thread may increment); the display thread only reads atomics and the stats function, and
// writes to `err` under the display's mutex, so lines never interleave. The destructor stops and
// joins the thread and clears the live line. The executor's hot path pays one relaxed atomic
// increment per settled operation.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "io/clock.h"
#include "io/target_api.h"

namespace usersync::io {

enum class ProgressMode { kOff, kTerminal, kPlain };

// --progress: "auto" (terminal when `err_is_terminal`, else off), "off", "tty" (terminal even
// when not detected), "plain" (a line every 10 s) or "plain:DURATION" ("plain:30s", at least
// 1 s). kInvalidArgument for anything else. Sets `*plain_every` for the plain forms.
absl::StatusOr<ProgressMode> ParseProgressMode(std::string_view text, bool err_is_terminal,
                                               std::chrono::milliseconds* plain_every);

// A snapshot of the counters: what one line shows.
struct ProgressSnapshot {
  std::string phase;  // "applying", "reading the directory", ...
  double phase_seconds = 0;
  int64_t done = 0;       // apply: operations settled
  int64_t total = 0;      // apply: operations to settle (0: not an apply phase)
  int64_t requests = 0;   // apply: HTTP requests sent in the phase
  int64_t throttled = 0;  // apply: 429 answers in the phase
};

// "applying: 512/10000 (5.1%) · 41.0 ops/s · 4.1 requests/s · 3 × 429 · ETA 3m51s · 12.5s"; other
// phases: "reading the directory … 3.2s". No ETA until something is done.
std::string ProgressLine(const ProgressSnapshot& snapshot);

struct ProgressOptions {
  ProgressMode mode = ProgressMode::kOff;
  std::FILE* err = stderr;
  const Clock* clock = &RealClock();
  std::chrono::milliseconds interval{250};  // kPlain: the configured line interval
  std::chrono::milliseconds status_every{2000};
  std::string status_path;             // "" = no status file
  std::string started_at;              // the run's stamp, written into the status file
  std::function<TargetStats()> stats;  // null: no requests or 429s shown
};

class ProgressDisplay {
 public:
  // Starts the display thread (unless the mode is kOff and there is no status path: then no
  // thread, and every method is a cheap no-op).
  explicit ProgressDisplay(ProgressOptions options);
  ~ProgressDisplay();
  ProgressDisplay(const ProgressDisplay&) = delete;
  ProgressDisplay& operator=(const ProgressDisplay&) = delete;

  // A new phase; `total` > 0 for the apply (its done/total, rates and ETA are shown).
  void BeginPhase(std::string_view phase, int64_t total = 0);
  // The phase's summary line ("read 10000 users, 200 groups in 1.2s"): replaces the live line
  // (kTerminal) or is printed (kPlain).
  void EndPhase(std::string_view summary);
  // The counter the executor increments per settled operation.
  std::atomic<int64_t>* settled() { return &settled_; }

 private:
  void Loop();
  ProgressSnapshot Snapshot() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void WriteStatusFile(const ProgressSnapshot& snapshot) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ClearLine() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const ProgressOptions options_;
  std::atomic<int64_t> settled_{0};
  absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  bool line_shown_ ABSL_GUARDED_BY(mu_) = false;  // kTerminal: a live line is on the screen
  std::string phase_ ABSL_GUARDED_BY(mu_);
  int64_t total_ ABSL_GUARDED_BY(mu_) = 0;
  core::MonoTime phase_start_ ABSL_GUARDED_BY(mu_);
  TargetStats phase_stats_ ABSL_GUARDED_BY(mu_);  // the target's stats when the phase began
  core::MonoTime last_status_write_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<std::thread> thread_;
};

// The status file a running sync keeps up to date, as `usersync status` reads it.
struct RunProgress {
  int64_t pid = 0;
  std::string started_at;
  std::string phase;
  int64_t done = 0;
  int64_t total = 0;
  std::string updated_at;
};

// Reads `path` (kNotFound: no run in progress; kDataLoss: not a status file). A file whose
// process is gone (a killed run) is kNotFound too.
absl::StatusOr<RunProgress> ReadRunProgress(const std::string& path);

}  // namespace usersync::io
