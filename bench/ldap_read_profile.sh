#!/usr/bin/env bash
# ldap_read_profile.sh: where the time of one LDAP read goes, on the client and in slapd.
#
#   bench/ldap_read_profile.sh READER [BUILD_DIR]
#     READER: usersync | ldapsearch-attrs | ldapsearch-all (the readers of ldap_read_bench.sh)
# Environment (defaults in brackets):
#   SIZE [1000000]   the directory to read; must already be loaded by ldap_read_bench.sh
#   PAGE [1000]      page size (usersync's page_size, ldapsearch's pr=)
#   WORK [/tmp/usersync-ldap-bench]   ldap_read_bench.sh's WORK (slapd.conf and databases)
#   OUT [WORK/profile]                perf data and reports go here
#   PERF [1]         0: no perf, only the CPU seconds and context switches
#
# What it does: starts a private slapd on WORK's slapd.conf (as ldap_read_bench.sh does), one
# warm-up read, then the profiled read:
#   perf record -g -p SLAPD_PID -o OUT/READER-slapd.perf      (slapd, over the read)
#   perf record -g -o OUT/READER-client.perf -- READER ...    (the client process)
# and prints, for the read: wall seconds; the client's and slapd's user+sys CPU seconds (from
# /proc: the client's by /usr/bin/time, slapd's utime+stime from /proc/PID/stat before and
# after); slapd's and the client's voluntary and involuntary context switches
# (/proc/PID/status; the client's by /usr/bin/time); then the top symbols of each profile
# (perf report --no-children --sort dso,symbol). perf itself slows the read: take the wall and
# CPU figures from a run with PERF=0. usersync's read is bench/ldap_read_bench with
# --skip-digest (its check of the result would be a seventh of the profile); its CSV line goes
# to OUT/READER.csv (read_s and the CPU of Read() alone).
set -euo pipefail

READER=${1:?usage: ldap_read_profile.sh usersync|ldapsearch-attrs|ldapsearch-all [BUILD_DIR]}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${2:-$ROOT/build-gen}
SIZE=${SIZE:-1000000}
PAGE=${PAGE:-1000}
WORK=${WORK:-/tmp/usersync-ldap-bench}
OUT=${OUT:-$WORK/profile}
PERF=${PERF:-1}
PASSWORD=bench-secret
export USERSYNC_LDAP_PASSWORD=$PASSWORD
ATTRS="entryUUID uid mail givenName sn cn preferredLanguage member"
SUFFIX="dc=u$SIZE,dc=example,dc=com"
DRIVER=$BUILD/bench/ldap_read_bench
CLK_TCK=$(getconf CLK_TCK)

[[ -f $WORK/slapd.conf && -f $WORK/db-$SIZE/.loaded ]] || {
  echo "ldap_read_profile.sh: no loaded $SIZE-user database in $WORK (run ldap_read_bench.sh)" >&2
  exit 2
}
mkdir -p "$OUT"

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
URL=ldap://127.0.0.1:$PORT
/usr/sbin/slapd -d 0 -f "$WORK/slapd.conf" -h "$URL/" 2> "$OUT/slapd.log" &
SLAPD_PID=$!
trap 'kill "$SLAPD_PID" 2>/dev/null || true; wait "$SLAPD_PID" 2>/dev/null || true' EXIT
for _ in $(seq 1 300); do
  if ldapsearch -x -H "$URL" -s base -b "" namingContexts > /dev/null 2>&1; then break; fi
  sleep 0.1
done

read_once() {  # the read itself, on stdout: nothing (ldapsearch) or the driver's CSV line
  case $READER in
    usersync)
      "$DRIVER" --url "$URL" --base-dn "$SUFFIX" --bind-dn "cn=admin,$SUFFIX" --connections 1 \
        --page-size "$PAGE" --label "u$SIZE" --skip-digest ;;
    ldapsearch-attrs)
      ldapsearch -x -H "$URL" -D "cn=admin,$SUFFIX" -w "$PASSWORD" -b "$SUFFIX" \
        -E "pr=$PAGE/noprompt" "(|(objectClass=inetOrgPerson)(objectClass=groupOfNames))" \
        $ATTRS > /dev/null ;;
    ldapsearch-all)
      ldapsearch -x -H "$URL" -D "cn=admin,$SUFFIX" -w "$PASSWORD" -b "$SUFFIX" \
        -E "pr=$PAGE/noprompt" > /dev/null ;;
    *) echo "ldap_read_profile.sh: unknown reader $READER" >&2; exit 2 ;;
  esac
}
export -f read_once
export READER DRIVER URL SUFFIX PAGE SIZE PASSWORD ATTRS

slapd_cpu() {
  awk -v tck="$CLK_TCK" '{ split($0, a, ") "); split(a[2], f, " "); printf "%.2f", (f[12] + f[13]) / tck }' \
    "/proc/$SLAPD_PID/stat"
}
slapd_switches() {
  cat "/proc/$SLAPD_PID/task/"*/status 2> /dev/null |
    awk '/^voluntary_ctxt_switches/ {v += $2} /^nonvoluntary_ctxt_switches/ {n += $2} END {print v, n}'
}

read_once > "$OUT/$READER.csv"  # warm-up
s0=$(slapd_cpu)
read -r v0 n0 <<< "$(slapd_switches)"
if [[ $PERF == 1 ]]; then
  perf record -q -g -p "$SLAPD_PID" -o "$OUT/$READER-slapd.perf" 2> /dev/null &
  PERF_PID=$!
  sleep 0.5
fi
t0=$(date +%s.%N)
if [[ $PERF == 1 ]]; then
  /usr/bin/time -f "%U %S %w %c" -o "$OUT/time.txt" \
    perf record -q -g -o "$OUT/$READER-client.perf" -- bash -c read_once >> "$OUT/$READER.csv"
else
  /usr/bin/time -f "%U %S %w %c" -o "$OUT/time.txt" bash -c read_once >> "$OUT/$READER.csv"
fi
t1=$(date +%s.%N)
s1=$(slapd_cpu)
read -r v1 n1 <<< "$(slapd_switches)"
if [[ $PERF == 1 ]]; then
  kill -INT "$PERF_PID"
  wait "$PERF_PID" || true
fi
read -r cu cs cv cn < "$OUT/time.txt"
echo "reader=$READER size=$SIZE page=$PAGE perf=$PERF"
echo "wall_s=$(echo "$t1 - $t0" | bc) client_cpu_s=$(echo "$cu + $cs" | bc)" \
  "slapd_cpu_s=$(echo "$s1 - $s0" | bc)"
echo "client_ctxsw voluntary=$cv involuntary=$cn;" \
  "slapd_ctxsw voluntary=$((v1 - v0)) involuntary=$((n1 - n0))"
if [[ $READER == usersync ]]; then
  echo "driver (warm-up, then the profiled read): $(tr '\n' ' ' < "$OUT/$READER.csv")"
fi
if [[ $PERF == 1 ]]; then
  for side in client slapd; do
    echo "--- $side: perf report -i $OUT/$READER-$side.perf --no-children --sort dso,symbol"
    perf report -i "$OUT/$READER-$side.perf" --no-children --sort dso,symbol 2> /dev/null \
      | grep -E '^ +[0-9]' | head -25
  done
fi
