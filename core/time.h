// Time as core sees it: only as an argument. core/ never reads a clock; io/clock.h does.
#pragma once

#include <chrono>

namespace usersync::core {

using MonoTime = std::chrono::steady_clock::time_point;
using Duration = std::chrono::nanoseconds;

}  // namespace usersync::core
