#include "tools/target/emulator_admission_log.h"

#include <algorithm>

namespace usersync::io::emulator {

AdmissionLog::AdmissionLog(std::chrono::nanoseconds window) : window_(window) {}

void AdmissionLog::Record(TimePoint at) {
  if (admitted_ == 0) {
    first_ = at;
  } else {
    at = std::max(at, last_);
  }
  last_ = at;
  ++admitted_;
  // The busiest window ends at a request (slide any window's end back to the last request in
  // it: it loses none), so counting the window that ends at each request finds the maximum.
  while (!in_window_.empty() && in_window_.front() <= at - window_) in_window_.pop_front();
  in_window_.push_back(at);
  max_in_window_ = std::max(max_in_window_, static_cast<int64_t>(in_window_.size()));
}

AdmissionLog::Figures AdmissionLog::figures() const {
  Figures figures;
  figures.admitted = admitted_;
  figures.max_in_window = max_in_window_;
  if (admitted_ > 0) figures.span_seconds = std::chrono::duration<double>(last_ - first_).count();
  if (admitted_ >= 2 && figures.span_seconds > 0) {
    figures.rate = static_cast<double>(admitted_ - 1) / figures.span_seconds;
  }
  return figures;
}

}  // namespace usersync::io::emulator
