#!/usr/bin/env bash
# Delta cycle beside full cycle (issue 15 item 5) on OpenLDAP: USERS generated users
# (usersync-gen-ldif --groups 50, every entry's modifyTimestamp set to 2020 so the watermark's
# 5-minute margin does not reach the load) loaded into a private slapd with `slapadd -q`,
# provisioned once into usersync-target (SCIM face, no rate limit) by a first
# `usersync sync --delta` (full: no snapshot yet), then, back to back:
#   delta: CHANGES users renamed with ldapmodify, `usersync sync --delta` timed
#   full:  the same users renamed again, `usersync sync` timed (read, list, plan, apply)
# Checks (exit 1 otherwise): both exit 0, the delta's report says "Cycle: delta (read CHANGES
# directory entries" and names the feed that read them, and both applied the same ("Result: N
# done (N update), ...").
#
# Usage: bench/ldap_delta_bench.sh [BUILD_DIR] [USERS] [CHANGES]
#   BUILD_DIR defaults to build-release; USERS to 1000000; CHANGES to 100.
# Environment:
#   FEED [sessionlog]  how slapd offers its changes: sessionlog (the syncprov overlay with
#                      syncprov-sessionlog 100000: RFC 4533 names the changes and deletions),
#                      present (syncprov without a log: RFC 4533 with a present phase, every
#                      unchanged entryUUID sent) or watermark (no syncprov: modifyTimestamp)
#   WRAP               a command prefix for the delta run, e.g. "perf record -g -o FILE".
# slapadd takes 190-220 s for a million users here (shared/notes/ldap-throughput.md).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build-release}
[[ $build = /* ]] || build="$root/$build"
users=${2:-1000000}
changes=${3:-100}
feed=${FEED:-sessionlog}
work=$(mktemp -d /tmp/usersync-ldap-delta.XXXXXX)
# shellcheck source=bench/lib.sh
source "$root/bench/lib.sh"
slapd_pid=""
stop_all() {
  if [[ -n $slapd_pid ]]; then
    kill "$slapd_pid" 2>/dev/null || true
    wait "$slapd_pid" 2>/dev/null || true
  fi
  clean_up
}
trap stop_all EXIT

case $feed in
  sessionlog) overlay=$'overlay syncprov\nsyncprov-checkpoint 1000 10\nsyncprov-sessionlog 100000' ;;
  present) overlay=$'overlay syncprov\nsyncprov-checkpoint 1000 10' ;;
  watermark) overlay="" ;;
  *) echo "FEED must be sessionlog, present or watermark" >&2; exit 2 ;;
esac
[[ $feed == watermark ]] && expect_feed="modifyTimestamp watermark" \
  || expect_feed="RFC 4533 content sync"

export USERSYNC_TARGET_TOKEN=bench-token
export USERSYNC_LDAP_PASSWORD=bench-secret
suffix="dc=example,dc=com"
admin="cn=admin,$suffix"

"$build/tools/usersync-gen-ldif" --users "$users" --groups 50 --seed 1 --quiet \
  --no-version-line --out "$work/gen.ldif"
# An old modifyTimestamp on every entry (before the blank line that ends it).
awk 'NF == 0 && entry { print "modifyTimestamp: 20200101000000Z"; entry = 0 }
     NF > 0 { entry = 1 } { print } END { if (entry) print "modifyTimestamp: 20200101000000Z" }' \
  "$work/gen.ldif" >"$work/dir.ldif"
rm "$work/gen.ldif"

mkdir -p "$work/db"
cat >"$work/slapd.conf" <<EOF
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/nis.schema
include /etc/ldap/schema/inetorgperson.schema
pidfile $work/slapd.pid
argsfile $work/slapd.args
modulepath /usr/lib/ldap
moduleload back_mdb
$([[ $feed != watermark ]] && echo "moduleload syncprov")
loglevel 0
tool-threads 2
database mdb
maxsize 17179869184
suffix "$suffix"
rootdn "$admin"
rootpw $USERSYNC_LDAP_PASSWORD
directory $work/db
index objectClass eq
index entryUUID,entryCSN eq
index uid eq
index member eq
$overlay
EOF
load_start=$(date +%s.%N)
/usr/sbin/slapadd -q -f "$work/slapd.conf" -l "$work/dir.ldif"
printf 'slapadd of %d users: %.1f s\n' "$users" "$(echo "$(date +%s.%N) - $load_start" | bc -l)"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
url="ldap://127.0.0.1:$port"
/usr/sbin/slapd -d 0 -f "$work/slapd.conf" -h "$url/" >"$work/slapd.log" 2>&1 &
slapd_pid=$!
for _ in $(seq 100); do
  ldapsearch -x -H "$url" -b "" -s base >/dev/null 2>&1 && break
  kill -0 "$slapd_pid" 2>/dev/null || { cat "$work/slapd.log" >&2; exit 1; }
  sleep 0.1
done

# What a full cycle's StartCursor costs the server: one refreshOnly search matching nothing
# (usersync makes two: users and groups), its Sync Done control carrying the cookie of now.
if [[ $feed != watermark ]]; then
  cookie_start=$(date +%s.%N)
  ldapsearch -x -H "$url" -D "$admin" -w "$USERSYNC_LDAP_PASSWORD" -b "$suffix" -E sync=ro \
    '(objectClass=usersyncNothing)' 1.1 | grep -q '^# cookie: ' || { echo "slapd gave no sync cookie" >&2; exit 1; }
  printf 'cookie of now (ldapsearch -E sync=ro matching nothing): %.3f s\n' \
    "$(echo "$(date +%s.%N) - $cookie_start" | bc -l)"
fi

start_target "$build/tools/usersync-target" "$work/target.out" --token "$USERSYNC_TARGET_TOKEN" \
  --rate 0

cat >"$work/sync.toml" <<EOF
[source]
kind = "ldap"
url = "$url"
bind_dn = "$admin"
bind_password_env = "USERSYNC_LDAP_PASSWORD"
base_dn = "$suffix"
page_size = 10000

[scope]
groups = ["cn=goto-users,ou=groups,$suffix"]
validated_domains = ["example.com"]

EOF
delta_bench_target_toml "$base/scim/v2" >>"$work/sync.toml"

run() {  # run NAME ARGS...: times `usersync ARGS -c sync.toml`, output in NAME.out
  timed_usersync "$build" "$work/sync.toml" "$@"
}

# The first CHANGES users get surname NAME, in one ldapmodify.
awk -v want="$changes" '/^dn: uid=/ { print substr($0, 5); if (++n == want) exit }' \
  "$work/dir.ldif" >"$work/changed.dns"
[[ $(wc -l <"$work/changed.dns") -eq $changes ]] || { echo "fewer than $changes users" >&2; exit 1; }
rename() {
  local name=$1
  while read -r dn; do
    printf 'dn: %s\nchangetype: modify\nreplace: sn\nsn: %s\n\n' "$dn" "$name"
  done <"$work/changed.dns" >"$work/rename.ldif"
  ldapmodify -x -H "$url" -D "$admin" -w "$USERSYNC_LDAP_PASSWORD" -f "$work/rename.ldif" \
    >/dev/null
}

initial=$(run initial sync --delta)
printf 'initial full cycle (provisioning %d users): %.1f s\n' "$users" "$initial"
rename RenamedA
delta=$(run delta sync --delta)
grep -q "Cycle: delta (read $changes directory entries" "$work/delta.out" || {
  echo "the delta cycle did not read exactly $changes entries:" >&2; grep Cycle "$work/delta.out" >&2; exit 1; }
grep -q "read by $expect_feed)" "$work/delta.out" || {
  echo "the delta cycle was not read by $expect_feed:" >&2; grep Cycle "$work/delta.out" >&2; exit 1; }
rename RenamedB
full=$(run full sync)
# The same users changed twice: both cycles apply the same updates (users the directory leaves
# invalid, e.g. without a first name, get none either way).
check_delta_beside_full "$users" "$changes" "$delta" "$full" "feed $feed, "
