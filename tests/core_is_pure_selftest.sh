#!/usr/bin/env bash
# Proves that core_is_pure.sh can fail: each forbidden include or clock read in a scratch tree
# must be caught, and a clean tree must pass.
set -u
here=$(cd "$(dirname "$0")" && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
status=0
expect() {  # expect EXIT_CODE CONTENT
  printf '%s\n' "$2" > "$scratch/x.cc"
  "$here/core_is_pure.sh" "$scratch" > /dev/null
  local got=$?
  if [[ $got -ne $1 ]]; then
    echo "FAIL: expected exit $1, got $got, for: $2"
    status=1
  fi
}
expect 0 '#include <vector>'
expect 1 '#include <curl/curl.h>'
expect 1 '#include <ldap.h>'
expect 1 '#include <sqlite3.h>'
expect 1 '#include "simdjson.h"'
expect 1 '#include <simdjson.h>'
expect 1 '#include <fstream>'
expect 1 '#include <thread>'
expect 1 'auto t = std::chrono::steady_clock::now();'
[[ $status -eq 0 ]] && echo "core_is_pure catches every forbidden include and clock read"
exit $status
