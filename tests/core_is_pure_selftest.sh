#!/usr/bin/env bash
# Proves that core_is_pure.sh can fail: each forbidden include or clock read in a scratch tree
# must be caught, and a clean tree (including what core may use) must pass.
set -u
here=$(cd "$(dirname "$0")" && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
status=0
expect() {  # expect EXIT_CODE CONTENT [FILE]
  rm -f "$scratch"/*
  printf '%s\n' "$2" > "$scratch/${3:-x.cc}"
  "$here/core_is_pure.sh" "$scratch" > /dev/null
  local got=$?
  if [[ $got -ne $1 ]]; then
    echo "FAIL: expected exit $1, got $got, for: $2 (${3:-x.cc})"
    status=1
  fi
}
for allowed in '#include <vector>' '#include <chrono>' '#include "absl/strings/str_cat.h"' \
    '#include "tbb/parallel_for.h"' '#include "tbb/enumerable_thread_specific.h"' \
    '#include "absl/time/time.h"'; do
  expect 0 "$allowed"
done
expect 0 '#include <cstdio>' check.h  # the invariant's abort message
for forbidden in '#include <curl/curl.h>' '#include <ldap.h>' '#include <sqlite3.h>' \
    '#include "simdjson.h"' '#include <simdjson.h>' '#include <fstream>' '#include <iostream>' \
    '#include <cstdio>' '#include <stdio.h>' '#include <filesystem>' '#include <thread>' \
    '#include <mutex>' '#include <shared_mutex>' '#include <condition_variable>' \
    '#include <future>' '#include <atomic>' '#include <unistd.h>' '#include <sys/stat.h>' \
    '#include "absl/synchronization/mutex.h"' '#include "absl/time/clock.h"' \
    '#include "tbb/task_group.h"' '#include "tbb/concurrent_queue.h"' \
    'auto t = std::chrono::steady_clock::now();' 'absl::Time t = absl::Now();' \
    'int r = std::rand();' 'std::random_device seed;'; do
  expect 1 "$forbidden"
done
[[ $status -eq 0 ]] && echo "core_is_pure catches every forbidden include and clock read"
exit $status
