#include "io/report/progress_display.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "core/str.h"
#include "io/output.h"
#include "io/report/apply_estimate.h"

namespace usersync::io {
namespace {

double Seconds(core::Duration d) { return std::chrono::duration<double>(d).count(); }

std::string WallStamp(const Clock& clock) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromChrono(clock.WallNow()),
                          absl::UTCTimeZone());
}

}  // namespace

absl::StatusOr<ProgressMode> ParseProgressMode(std::string_view text, bool err_is_terminal,
                                               std::chrono::milliseconds* plain_every) {
  if (text.empty() || text == "auto") {
    return err_is_terminal ? ProgressMode::kTerminal : ProgressMode::kOff;
  }
  if (text == "off") return ProgressMode::kOff;
  if (text == "tty") return ProgressMode::kTerminal;
  if (text == "plain") {
    *plain_every = std::chrono::seconds(10);
    return ProgressMode::kPlain;
  }
  absl::Duration every;
  if (text.starts_with("plain:") && absl::ParseDuration(std::string(text.substr(6)), &every) &&
      every >= absl::Seconds(1)) {
    *plain_every = std::chrono::milliseconds(absl::ToInt64Milliseconds(every));
    return ProgressMode::kPlain;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "--progress ", Sv(text), ": expected auto, off, tty, plain or plain:DURATION (at least 1s)"));
}

std::string ProgressLine(const ProgressSnapshot& s) {
  if (s.total <= 0) {
    return absl::StrCat(s.phase, " … ", HumanSeconds(s.phase_seconds));
  }
  const double seconds = s.phase_seconds > 0 ? s.phase_seconds : 0;
  const double ops_per_s = seconds > 0 ? static_cast<double>(s.done) / seconds : 0;
  std::string line = absl::StrFormat(
      "%s: %d/%d (%.1f%%) · %.1f ops/s · %.1f requests/s · %d × 429", s.phase, s.done, s.total,
      100.0 * static_cast<double>(s.done) / static_cast<double>(s.total), ops_per_s,
      seconds > 0 ? static_cast<double>(s.requests) / seconds : 0, s.throttled);
  if (s.done > 0 && s.done < s.total) {
    absl::StrAppend(&line, " · ETA ",
                    HumanSeconds(static_cast<double>(s.total - s.done) / ops_per_s));
  }
  absl::StrAppend(&line, " · ", HumanSeconds(seconds));
  return line;
}

ProgressDisplay::ProgressDisplay(ProgressOptions options) : options_(std::move(options)) {
  if (options_.mode == ProgressMode::kOff && options_.status_path.empty()) return;
  {
    absl::MutexLock lock(&mu_);
    phase_start_ = options_.clock->Now();
    last_status_write_ = phase_start_ - options_.status_every;
  }
  thread_ = std::make_unique<std::thread>([this] { Loop(); });
}

ProgressDisplay::~ProgressDisplay() {
  if (thread_ == nullptr) return;
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  thread_->join();
  absl::MutexLock lock(&mu_);
  ClearLine();
  if (!options_.status_path.empty()) std::remove(options_.status_path.c_str());
}

void ProgressDisplay::BeginPhase(std::string_view phase, int64_t total) {
  if (thread_ == nullptr) return;
  absl::MutexLock lock(&mu_);
  phase_ = std::string(phase);
  total_ = total;
  settled_.store(0, std::memory_order_relaxed);
  phase_start_ = options_.clock->Now();
  phase_stats_ = options_.stats ? options_.stats() : TargetStats{};
  last_status_write_ = phase_start_ - options_.status_every;  // the new phase shows at once
}

void ProgressDisplay::EndPhase(std::string_view summary) {
  if (thread_ == nullptr || options_.mode == ProgressMode::kOff) return;
  absl::MutexLock lock(&mu_);
  ClearLine();
  Print(options_.err, absl::StrCat(Sv(summary), "\n"));
}

void ProgressDisplay::ClearLine() {
  if (!line_shown_) return;
  Print(options_.err, "\r\033[K");
  line_shown_ = false;
}

ProgressSnapshot ProgressDisplay::Snapshot() {
  ProgressSnapshot s;
  s.phase = phase_;
  s.phase_seconds = Seconds(options_.clock->Now() - phase_start_);
  s.total = total_;
  s.done = settled_.load(std::memory_order_relaxed);
  // The status file needs no stats: with the display off the target is never read from here.
  if (total_ > 0 && options_.stats && options_.mode != ProgressMode::kOff) {
    const TargetStats now = options_.stats();
    s.requests = now.requests - phase_stats_.requests;
    s.throttled = now.throttled - phase_stats_.throttled;
  }
  return s;
}

void ProgressDisplay::WriteStatusFile(const ProgressSnapshot& snapshot) {
  const std::string tmp = absl::StrCat(options_.status_path, ".tmp");
  std::FILE* file = std::fopen(tmp.c_str(), "w");
  if (file == nullptr) return;  // best effort: status then shows no progress
  const std::string body =
      absl::StrCat("pid=", static_cast<int64_t>(::getpid()), "\nstarted_at=", options_.started_at,
                   "\nphase=", snapshot.phase, "\ndone=", snapshot.done, "\ntotal=", snapshot.total,
                   "\nupdated_at=", WallStamp(*options_.clock), "\n");
  const bool written = std::fwrite(body.data(), 1, body.size(), file) == body.size();
  if (std::fclose(file) == 0 && written) {
    std::rename(tmp.c_str(), options_.status_path.c_str());
  } else {
    std::remove(tmp.c_str());
  }
}

void ProgressDisplay::Loop() {
  // Wakes at most 4 times a second whatever the mode, so that a new phase reaches the status
  // file soon; plain lines and status writes keep their own intervals.
  const absl::Duration tick =
      absl::FromChrono(std::min(options_.interval, std::chrono::milliseconds(250)));
  absl::MutexLock lock(&mu_);
  core::MonoTime last_line = options_.clock->Now();
  while (!mu_.AwaitWithTimeout(absl::Condition(&stop_), tick)) {
    if (phase_.empty()) continue;
    const ProgressSnapshot snapshot = Snapshot();
    const core::MonoTime now = options_.clock->Now();
    if (options_.mode == ProgressMode::kTerminal) {
      Print(options_.err, absl::StrCat("\r\033[K", ProgressLine(snapshot)));
      line_shown_ = true;
    } else if (options_.mode == ProgressMode::kPlain && now - last_line >= options_.interval) {
      Print(options_.err, absl::StrCat(ProgressLine(snapshot), "\n"));
      last_line = now;
    }
    if (!options_.status_path.empty() && now - last_status_write_ >= options_.status_every) {
      WriteStatusFile(snapshot);
      last_status_write_ = now;
    }
  }
}

absl::StatusOr<RunProgress> ReadRunProgress(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("no run in progress (", path, ")"));
  std::stringstream text;
  text << in.rdbuf();
  RunProgress progress;
  for (absl::string_view line : absl::StrSplit(text.str(), '\n', absl::SkipEmpty())) {
    const std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(line, absl::MaxSplits('=', 1));
    const std::string value(kv.second);
    bool ok = true;
    if (kv.first == "pid") ok = absl::SimpleAtoi(value, &progress.pid);
    if (kv.first == "done") ok = absl::SimpleAtoi(value, &progress.done);
    if (kv.first == "total") ok = absl::SimpleAtoi(value, &progress.total);
    if (kv.first == "phase") progress.phase = value;
    if (kv.first == "started_at") progress.started_at = value;
    if (kv.first == "updated_at") progress.updated_at = value;
    if (!ok) return absl::DataLossError(absl::StrCat(path, ": bad line '", line, "'"));
  }
  if (progress.pid <= 0) return absl::DataLossError(absl::StrCat(path, ": no pid"));
  if (::kill(static_cast<pid_t>(progress.pid), 0) != 0 && errno == ESRCH) {
    return absl::NotFoundError(absl::StrCat("the run of ", path, " is gone"));
  }
  return progress;
}

}  // namespace usersync::io
