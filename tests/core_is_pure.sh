#!/usr/bin/env bash
# core/ is pure computation (STYLE.md §1): no I/O, no threads or locks of its own, no clock
# reads. What it may use: the C++ standard library's containers, algorithms and <chrono> types
# (time arrives as an argument), Abseil's containers, strings and Status, and oneTBB's parallel
# loops (tbb/parallel_for.h, tbb/blocked_range.h, tbb/enumerable_thread_specific.h: CPU-bound
# loops only, as the style guide allows). One exception: core/check.h prints the failed
# invariant to stderr before it aborts.
# Usage: core_is_pure.sh CORE_DIR   Exits 1 and names each offending line.
set -u
dir=${1:?usage: core_is_pure.sh CORE_DIR}
# Headers that bring I/O, threads, locks, atomics or files; third-party I/O libraries.
io='sys/|curl/|ldap\.h|lber\.h|sqlite3\.h|simdjson|httplib|toml\+\+|CLI/'
std='fstream|iostream|istream|ostream|cstdio|stdio\.h|filesystem|thread|mutex|shared_mutex|condition_variable|future|atomic|stop_token|semaphore|latch|barrier|csignal|unistd\.h'
absl='absl/synchronization/|absl/time/clock\.h'
tbb='tbb/(task_group|task_arena|concurrent_|global_control|mutex|spin_|queuing_)'
pattern="#[[:space:]]*include[[:space:]]*[<\"]($io|($std)>|$absl|$tbb)|::now\\(|absl::Now\\(|std::rand\\(|random_device"
hits=$(grep -rnE --include='*.h' --include='*.cc' --include='*.cpp' "$pattern" "$dir" |
  grep -v '_test\.cc:' | grep -vE '(^|/)check\.h:[0-9]+:#include <cstdio>' || true)
if [[ -n "$hits" ]]; then
  echo "core/ must stay pure; these lines bring I/O, threads, locks or clocks into it:"
  echo "$hits"
  exit 1
fi
echo "core is pure: $(find "$dir" -name '*.h' -o -name '*.cc' | wc -l) files checked"
