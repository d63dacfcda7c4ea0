#!/usr/bin/env bash
# Delta cycle beside full cycle (issue 15 item 5) on the Graph face: USERS generated users
# (usersync-gen-ldif --graph-seed), provisioned once into usersync-target (SCIM face, no rate
# limit) by a first `usersync sync --delta` (full: no snapshot yet), then, back to back:
#   delta: CHANGES users renamed in Entra (POST /_graph/mutate), `usersync sync --delta` timed
#   full:  the same users renamed again, `usersync sync` timed (read, list, plan, apply)
# The same CHANGES users are renamed both times, so both apply the same updates. Checks (exit 1
# otherwise): both exit 0, the delta's report says "Cycle: delta" with CHANGES entries read, and
# both applied the same ("Result: N done (N update), ...").
#
# Usage: bench/delta_bench.sh [BUILD_DIR] [USERS] [CHANGES]
#   BUILD_DIR defaults to build-release; USERS to 1000000; CHANGES to 100.
#   WRAP (environment): a command prefix for the delta run, e.g. "perf record -g -o FILE".
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build-release}
[[ $build = /* ]] || build="$root/$build"
users=${2:-1000000}
changes=${3:-100}
work=$(mktemp -d /tmp/usersync-delta.XXXXXX)
# shellcheck source=bench/lib.sh
source "$root/bench/lib.sh"  # timed_usersync, check_delta_beside_full
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

export USERSYNC_TARGET_TOKEN=bench-token
export ENTRA_SECRET=bench-secret
"$build/tools/usersync-gen-ldif" --users "$users" --groups 50 --seed 1 --quiet \
  --out "$work/dir.ldif" --graph-seed "$work/seed.json"

# Starts PROGRAM ARGS... in the background; prints its "listening on" base URL.
start() {
  local log=$1; shift
  "$@" >"$log" 2>&1 &
  pids+=($!)
  for _ in $(seq 600); do
    grep -q "listening on" "$log" 2>/dev/null && break
    sleep 0.1
  done
  sed -n 's/^.* listening on //p' "$log" | head -1
}
target=$(start "$work/target.out" "$build/tools/usersync-target" --port 0 \
  --token "$USERSYNC_TARGET_TOKEN" --rate 0)
graph=$(start "$work/graph.out" "$build/tools/usersync-graph" --port 0 --seed "$work/seed.json" \
  --tenant bench --client-id bench-client --client-secret-env ENTRA_SECRET)
[[ -n $target && -n $graph ]] || { cat "$work/target.out" "$work/graph.out" >&2; exit 1; }

cat >"$work/sync.toml" <<EOF
[source]
kind = "entra"
graph_url = "$graph"
authority = "$graph"
tenant_id = "bench"
client_id = "bench-client"
client_secret_env = "ENTRA_SECRET"
rate = 100000
burst = 1000

EOF
delta_bench_target_toml "$target/scim/v2" >>"$work/sync.toml"

run() {  # run NAME ARGS...: times `usersync ARGS -c sync.toml`, output in NAME.out
  timed_usersync "$build" "$work/sync.toml" "$@"
}

# The first CHANGES users get surname NAME in Entra (10 a request: the face takes small bodies
# only).
rename() {
  local name=$1 at ids
  for ((at = 0; at < changes; at += 10)); do
    ids=$(jq -c "[.users[$at:$at + 10][] | .surname = \"$name\"]" "$work/seed.json")
    curl -sf -X POST --data "{\"upsert_users\": $ids}" "$graph/_graph/mutate" >/dev/null
  done
}

initial=$(run initial sync --delta)
printf 'initial full cycle (provisioning %d users): %.1f s\n' "$users" "$initial"
rename RenamedA
delta=$(run delta sync --delta)
grep -q "Cycle: delta (read $changes directory entries" "$work/delta.out" || {
  echo "the delta cycle did not read exactly $changes entries:" >&2; grep Cycle "$work/delta.out" >&2; exit 1; }
rename RenamedB
full=$(run full sync)
# The same users changed twice: both cycles apply the same updates (users the directory leaves
# invalid, e.g. without a first name, get none either way).
check_delta_beside_full "$users" "$changes" "$delta" "$full"
