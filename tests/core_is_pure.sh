#!/usr/bin/env bash
# core/ is pure computation: no I/O, thread or clock headers, no clock reads (STYLE.md §1).
# Usage: core_is_pure.sh CORE_DIR   Exits 1 and names each offending line.
set -u
dir=${1:?usage: core_is_pure.sh CORE_DIR}
pattern='#[[:space:]]*include[[:space:]]*[<"](curl/|ldap\.h|lber\.h|sqlite3\.h|simdjson|fstream|thread>|httplib|toml\+\+|CLI/)|::now\('
hits=$(grep -rnE --include='*.h' --include='*.cc' --include='*.cpp' "$pattern" "$dir" | grep -v '_test\.cc:' || true)
if [[ -n "$hits" ]]; then
  echo "core/ must stay pure; these lines bring I/O, threads or clocks into it:"
  echo "$hits"
  exit 1
fi
echo "core is pure: $(find "$dir" -name '*.h' -o -name '*.cc' | wc -l) files checked"
