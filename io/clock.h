// Clock: where io/ reads the time, so that code which schedules by time can be tested with a
// clock advanced by hand. core/ never reads a clock; io/ passes Now() into it (core/time.h).
//
// Thread-safety: every Clock is safe to call from any thread. RealClock() is a process-wide
// singleton that lives forever; FakeClock is owned by its test.
#pragma once

#include <atomic>
#include <chrono>
#include <thread>

#include "core/time.h"

namespace usersync::io {

class Clock {
 public:
  virtual ~Clock() = default;
  // Monotonic time: for deadlines, rates and backoff.
  virtual core::MonoTime Now() const = 0;
  // Wall time: only for reading wall-clock dates (an HTTP Retry-After date, report stamps).
  virtual std::chrono::system_clock::time_point WallNow() const = 0;
  // Blocks the calling thread for `d` of this clock's time (a FakeClock moves instead).
  virtual void SleepFor(core::Duration d) const = 0;
};

// std::chrono::steady_clock and system_clock.
class SteadyClock final : public Clock {
 public:
  core::MonoTime Now() const override { return std::chrono::steady_clock::now(); }
  std::chrono::system_clock::time_point WallNow() const override {
    return std::chrono::system_clock::now();
  }
  void SleepFor(core::Duration d) const override { std::this_thread::sleep_for(d); }
};

// The process-wide real clock.
inline const Clock& RealClock() {
  static const SteadyClock clock;
  return clock;
}

// A clock that moves only when told to (tests). Starts at an arbitrary fixed point (monotonic)
// and at 2024-01-01T00:00:00Z (wall); Advance moves both.
class FakeClock final : public Clock {
 public:
  core::MonoTime Now() const override {
    return core::MonoTime() + std::chrono::hours(1) + core::Duration(offset_ns_.load());
  }
  std::chrono::system_clock::time_point WallNow() const override {
    return std::chrono::sys_days{std::chrono::year{2024} / 1 / 1} +
           std::chrono::duration_cast<std::chrono::system_clock::duration>(
               core::Duration(offset_ns_.load()));
  }
  void Advance(core::Duration d) const { offset_ns_.fetch_add(d.count()); }
  // Sleeping on a fake clock moves it: code that waits for time runs at once in a test.
  void SleepFor(core::Duration d) const override { Advance(d); }

 private:
  mutable std::atomic<int64_t> offset_ns_{0};
};

}  // namespace usersync::io
