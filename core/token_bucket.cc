#include "core/token_bucket.h"

#include <cmath>
#include <cstdint>

namespace usersync::core {
namespace {

constexpr double kEpsilon = 1e-9;

double Seconds(Duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

TokenBucket::TokenBucket(double rate_per_s, double burst, Duration timer_slack)
    : rate_(std::max(rate_per_s, 0.0)),
      burst_(std::max(burst, 1.0)),
      timer_slack_(std::max(timer_slack, Duration::zero())),
      tokens_(burst_) {}

double TokenBucket::capacity() const { return burst_ + rate_ * Seconds(timer_slack_); }

void TokenBucket::Refill(MonoTime now) {
  if (!started_) {
    started_ = true;
    last_ = now;
    tokens_ = burst_;
    return;
  }
  if (now <= last_) return;
  tokens_ = std::min(capacity(), tokens_ + rate_ * Seconds(now - last_));
  last_ = now;
}

Duration TokenBucket::Acquire(MonoTime now, double tokens) {
  if (rate_ <= 0) return Duration::zero();
  Refill(now);
  // kEpsilon absorbs floating-point residue (0.4 + 0.3 tokens is 0.7000000000000001 or
  // 0.6999999999999999): without it a wait computed exactly could fall a hair short.
  if (tokens_ + kEpsilon >= tokens) {
    tokens_ = std::max(0.0, tokens_ - tokens);
    return Duration::zero();
  }
  // Round up to the microsecond (less the residue) so that waiting the answer suffices, even
  // after the caller's timer rounds it further up.
  const double wait_us = std::ceil((tokens - tokens_) / rate_ * 1e6 - kEpsilon);
  return std::chrono::microseconds(std::max<int64_t>(1, static_cast<int64_t>(wait_us)));
}

void TokenBucket::SetRate(double rate_per_s, MonoTime now) {
  if (rate_ > 0) Refill(now);
  // While unlimited, nothing was counted: the new rate earns tokens from `now` on.
  if (!started_ || now > last_) last_ = now;
  started_ = true;
  rate_ = std::max(rate_per_s, 0.0);
  tokens_ = std::min(tokens_, capacity());
}

AdaptiveRate::AdaptiveRate(double max_rate, double min_rate, Duration cooldown)
    : max_rate_(max_rate),
      min_rate_(std::min(min_rate, max_rate)),
      cooldown_(cooldown),
      rate_(max_rate) {}

double AdaptiveRate::OnThrottled(MonoTime now) {
  if (cut_ && now - last_cut_ < cooldown_) return rate_;
  rate_ = std::max(min_rate_, rate_ * 0.5);
  last_cut_ = now;
  last_change_ = now;
  cut_ = true;
  return rate_;
}

double AdaptiveRate::OnSuccess(MonoTime now) {
  if (!cut_ || rate_ >= max_rate_) return rate_;
  if (now <= last_change_) return rate_;
  const auto whole_seconds =
      std::chrono::duration_cast<std::chrono::seconds>(now - last_change_).count();
  if (whole_seconds < 1) return rate_;
  rate_ = std::min(max_rate_, rate_ + max_rate_ / 10 * static_cast<double>(whole_seconds));
  last_change_ += std::chrono::seconds(whole_seconds);
  return rate_;
}

}  // namespace usersync::core
