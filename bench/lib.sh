# bench/lib.sh: what the bench scripts share (source it; bash).

target_pid=""

# clean_up: stops the target start_target started, if any, and removes $work. For `trap clean_up
# EXIT`.
clean_up() {
  if [[ -n $target_pid ]]; then
    kill "$target_pid" 2>/dev/null || true
    wait "$target_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}

# start_target PROGRAM LOG [ARGS...]: starts PROGRAM (a usersync-target) on a free loopback port
# with ARGS, waits until it listens or dies (loading a million seeded accounts takes a while:
# no time limit), and sets `target_pid` and `base` (its URL). Exits 1 with its log if it did not
# start.
start_target() {
  local program=$1 log=$2
  shift 2
  "$program" --port 0 "$@" >"$log" 2>&1 &
  target_pid=$!
  while ! grep -q "listening on" "$log" 2>/dev/null; do
    kill -0 "$target_pid" 2>/dev/null || break
    sleep 0.1
  done
  base=$(sed -n 's/^usersync-target listening on //p' "$log")
  [[ -n $base ]] || { echo "usersync-target did not start" >&2; cat "$log" >&2; exit 1; }
}

# generated_directory_toml LDIF: the [source] and [scope] sections for a directory written by
# usersync-gen-ldif (base dc=example,dc=com, the scope group goto-users).
generated_directory_toml() {
  cat <<EOT
[source]
kind = "ldif"
flavor = "openldap"
path = "$1"
base_dn = "dc=example,dc=com"

[scope]
groups = ["cn=goto-users,ou=groups,dc=example,dc=com"]
validated_domains = ["example.com"]
EOT
}

# delta_bench_target_toml SCIM_URL: the [target], [deprovision], [state] and [logs] sections of
# the delta benchmarks: the SCIM face unthrottled, nothing deprovisioned, state under $work.
delta_bench_target_toml() {
  cat <<EOT
[target]
kind = "scim"
url = "$1"
token_env = "USERSYNC_TARGET_TOKEN"
rate = 100000
burst = 1000
batch = 100
concurrency = 16

[deprovision]
action = "none"

[state]
path = "$work/usersync.db"

[logs]
dir = "$work/logs"
EOT
}

# timed_usersync BUILD CONFIG NAME ARGS...: runs `BUILD/tools/usersync ARGS -c CONFIG --quiet`,
# its output in $work/NAME.out and NAME.err (WRAP, a command prefix such as "perf record -g -o
# FILE", goes before it when NAME is delta), and prints its wall time in seconds. Exits 1 with
# the output's tail when usersync fails.
timed_usersync() {
  local build=$1 config=$2 name=$3
  shift 3
  local start end code
  start=$(date +%s.%N)
  set +e
  local wrap=""
  [[ $name == delta ]] && wrap=${WRAP:-}
  $wrap "$build/tools/usersync" "$@" -c "$config" --quiet >"$work/$name.out" 2>"$work/$name.err"
  code=$?
  set -e
  end=$(date +%s.%N)
  if [[ $code -ne 0 ]]; then
    echo "$name: exit $code" >&2; tail -20 "$work/$name.out" "$work/$name.err" >&2; exit 1
  fi
  echo "$end - $start" | bc -l
}

# check_delta_beside_full USERS CHANGES DELTA_S FULL_S [LABEL]: after $work/delta.out and
# full.out applied the same changes, checks that their "Result:" lines agree and hold updates
# (exit 1 otherwise), then prints both cycle lines and the comparison.
check_delta_beside_full() {
  local users=$1 changes=$2 delta=$3 full=$4 label=${5:-}
  local delta_result full_result
  delta_result=$(grep "^Result:" "$work/delta.out" | sed 's/ in .*//')
  full_result=$(grep "^Result:" "$work/full.out" | sed 's/ in .*//')
  [[ $delta_result == "$full_result" && $delta_result == *update* ]] || {
    echo "the cycles applied different things: delta '$delta_result', full '$full_result'" >&2
    exit 1
  }
  echo "both applied: $delta_result"
  grep Cycle "$work/delta.out"
  grep "(read" "$work/delta.out" "$work/full.out"
  printf '%susers %d, changes %d: delta cycle %.2f s, full cycle %.2f s, delta/full %.3f\n' \
    "$label" "$users" "$changes" "$delta" "$full" "$(echo "$delta / $full" | bc -l)"
}
