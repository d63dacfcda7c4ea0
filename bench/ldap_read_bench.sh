#!/usr/bin/env bash
# ldap_read_bench.sh: usersync's LDAP source against ldapsearch, in one run on the same slapd.
#
#   bench/ldap_read_bench.sh [BUILD_DIR]        (default: build-gen, a Release build with
#                                                USERSYNC_BUILD_BENCH=ON)
# Environment (defaults in brackets):
#   SIZES ["100000 1000000"]  users per directory; each gets SIZE/100 generated groups
#   RUNS [3]                  timed rounds; the summary shows the median and the best
#   CONNECTIONS ["1 2 4"]     usersync's source.connections values to time
#   PAGES ["1000 10000"]      page sizes (usersync's page_size and ldapsearch's pr=)
#   WORK [/tmp/usersync-ldap-bench]   databases, LDIF, slapd.conf, results.csv
#   REUSE [1]                 keep a loaded database whose generator options match
#   KEEP [1]                  leave WORK in place afterwards (0: remove it)
#   VARIANTS [1]              also time usersync-buffered and usersync-nowait (0: not)
#   DRIVER_B [unset]          a second ldap_read_bench binary (another build) to time as
#                             "usersync-b" in the same rounds, right after "usersync" with the
#                             same settings: an A/B of two builds against the same server
#
# What it does:
#  1. usersync-gen-ldif --users SIZE --groups SIZE/100 --seed 1 --no-version-line, one
#     directory per size under its own suffix dc=uSIZE,dc=example,dc=com.
#  2. One private slapd (Debian's /usr/sbin/slapd 2.5, back_mdb): one mdb database per size,
#     loaded with `slapadd -q`, listening on a free loopback port, rootdn bind (no size limit).
#     Indexes, as a directory that serves logins, mail routing, group look-ups and prefix
#     searches would have them:
#       index objectClass eq          every filter starts with an object class
#       index entryUUID eq            syncrepl and id look-ups
#       index uid eq,subinitial       logins; prefix partitions (uid=a*)
#       index cn eq,subinitial        address-book searches
#       index mail eq                 mail routing
#       index member eq               "which groups hold this DN" (memberOf, ACLs)
#       index_substr_if_minlen 1      so a one-letter prefix (uid=a*) can use the subinitial
#                                     index (slapd's default, 2, scans; measured no faster for
#                                     the partitions here: bench/RESULTS.md)
#  3. Each round, for each size and page size, against the same server:
#       ldapsearch-attrs  ldapsearch -x -E pr=P/noprompt -b SUFFIX
#                           "(|(objectClass=inetOrgPerson)(objectClass=groupOfNames))"
#                           ATTRS > /dev/null      (the attributes usersync asks for)
#       ldapsearch-all    ldapsearch -x -E pr=P/noprompt -b SUFFIX > /dev/null
#                           (every user attribute; the command as issue 3 spells it)
#       usersync          bench/ldap_read_bench (io::LdapDirectorySource::Read into a
#                           core::Directory; every read's counts and digest checked),
#                           once per CONNECTIONS value
#       usersync-buffered the same with --merge-chunk 0 (each partition merged once
#                           complete instead of while it is read), connections = 1
#       usersync-nowait   the same with --read-coalesce-us 0 (the reader sleeps in poll(2)
#                           as soon as the socket is empty), connections = 1
#       usersync-b        DRIVER_B's read, when set, once per CONNECTIONS value
#     Each line of WORK/results.csv: tool,label,page,connections,run,wall_s,client_user_s,
#     client_sys_s,server_cpu_s (slapd's utime+stime over the read, from /proc).
#     A warm-up read of each kind comes first and also checks the entry counts; usersync's
#     warm-up read must give the same Directory (digest of every attribute and member) as the
#     LDIF source reading the same generated file, and every timed read the same digest.
#  4. A summary table (median and best wall time, ratio to ldapsearch-attrs and to ldapsearch-all).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build-gen}
SIZES=${SIZES:-"100000 1000000"}
RUNS=${RUNS:-3}
CONNECTIONS=${CONNECTIONS:-"1 2 4"}
PAGES=${PAGES:-"1000 10000"}
WORK=${WORK:-/tmp/usersync-ldap-bench}
REUSE=${REUSE:-1}
KEEP=${KEEP:-1}
VARIANTS=${VARIANTS:-1}
DRIVER_B=${DRIVER_B:-}
SEED=1
SCHEMA_VERSION=2  # bump when the slapd.conf or the generator's output changes

GEN=$BUILD/tools/usersync-gen-ldif
DRIVER=$BUILD/bench/ldap_read_bench
SLAPD=/usr/sbin/slapd
SLAPADD=/usr/sbin/slapadd
PASSWORD=bench-secret
export USERSYNC_LDAP_PASSWORD=$PASSWORD
ATTRS="entryUUID uid mail givenName sn cn preferredLanguage member"

for tool in "$GEN" "$DRIVER" ${DRIVER_B:+"$DRIVER_B"} "$SLAPD" "$SLAPADD" /usr/bin/ldapsearch /usr/bin/time; do
  [[ -x $tool ]] || { echo "ldap_read_bench.sh: $tool not found" >&2; exit 2; }
done
mkdir -p "$WORK"
CLK_TCK=$(getconf CLK_TCK)
declare -A DIGEST=()  # size -> the digest of the Directory every read must give
CHECK_LDIF=
LAST_DIGEST=
SLAPD_PID=""

cleanup() {
  if [[ -n $SLAPD_PID ]]; then
    kill "$SLAPD_PID" 2>/dev/null || true
    wait "$SLAPD_PID" 2>/dev/null || true
  fi
  if [[ $KEEP == 0 ]]; then rm -rf "$WORK"; fi
}
trap cleanup EXIT

suffix_of() { echo "dc=u$1,dc=example,dc=com"; }
groups_of() { echo $(($1 / 100)); }

# --- slapd.conf -----------------------------------------------------------------------------
CONF=$WORK/slapd.conf
{
  echo "include /etc/ldap/schema/core.schema"
  echo "include /etc/ldap/schema/cosine.schema"
  echo "include /etc/ldap/schema/nis.schema"
  echo "include /etc/ldap/schema/inetorgperson.schema"
  echo "pidfile $WORK/slapd.pid"
  echo "argsfile $WORK/slapd.args"
  echo "modulepath /usr/lib/ldap"
  echo "moduleload back_mdb"
  echo "loglevel 0"
  echo "tool-threads 2"
  echo "index_substr_if_minlen 1"
  for size in $SIZES; do
    suffix=$(suffix_of "$size")
    echo ""
    echo "database mdb"
    echo "maxsize 17179869184"
    echo "suffix \"$suffix\""
    echo "rootdn \"cn=admin,$suffix\""
    echo "rootpw $PASSWORD"
    echo "directory $WORK/db-$size"
    echo "index objectClass eq"
    echo "index entryUUID eq"
    echo "index uid eq,subinitial"
    echo "index cn eq,subinitial"
    echo "index mail eq"
    echo "index member eq"
  done
} > "$CONF"

# --- generate and load ----------------------------------------------------------------------
for size in $SIZES; do mkdir -p "$WORK/db-$size"; done  # slapadd checks every database's path
for size in $SIZES; do
  suffix=$(suffix_of "$size")
  groups=$(groups_of "$size")
  db=$WORK/db-$size
  marker="seed=$SEED users=$size groups=$groups schema=$SCHEMA_VERSION"
  if [[ $REUSE == 1 && -f $db/.loaded && $(cat "$db/.loaded") == "$marker" ]]; then
    echo "# $size users: reusing $db"
    continue
  fi
  rm -rf "$db"
  mkdir -p "$db"
  echo "# $size users: generating"
  "$GEN" --users "$size" --groups "$groups" --seed "$SEED" --base-dn "$suffix" \
    --no-version-line --out "$WORK/u$size.ldif" 2> "$WORK/u$size.summary"
  grep -E '^(bytes|seconds_write|mb_per_s):' "$WORK/u$size.summary" | tr '\n' ' '
  echo
  echo "# $size users: slapadd -q"
  start=$(date +%s.%N)
  "$SLAPADD" -q -f "$CONF" -b "$suffix" -l "$WORK/u$size.ldif"
  end=$(date +%s.%N)
  echo "# $size users: loaded in $(echo "$end - $start" | bc) s"
  echo "$marker" > "$db/.loaded"
  rm -f "$WORK/u$size.ldif"
done

# --- start slapd ----------------------------------------------------------------------------
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
URL=ldap://127.0.0.1:$PORT
"$SLAPD" -d 0 -f "$CONF" -h "$URL/" 2> "$WORK/slapd.log" &
SLAPD_PID=$!
for _ in $(seq 1 300); do
  if ldapsearch -x -H "$URL" -s base -b "" namingContexts > /dev/null 2>&1; then break; fi
  kill -0 "$SLAPD_PID" 2>/dev/null || { echo "slapd exited:" >&2; cat "$WORK/slapd.log" >&2; exit 1; }
  sleep 0.1
done

slapd_cpu() {  # slapd's utime + stime in seconds
  awk -v tck="$CLK_TCK" '{ split($0, a, ") "); split(a[2], f, " "); printf "%.2f", (f[12] + f[13]) / tck }' \
    "/proc/$SLAPD_PID/stat"
}

RESULTS=$WORK/results.csv
echo "tool,label,page,connections,run,wall_s,client_user_s,client_sys_s,server_cpu_s" > "$RESULTS"

# Times one ldapsearch; appends a CSV line.
run_ldapsearch() {  # tool size page run args...
  local tool=$1 size=$2 page=$3 run=$4
  shift 4
  local suffix s0 s1 t0 t1
  suffix=$(suffix_of "$size")
  s0=$(slapd_cpu)
  t0=$(date +%s.%N)
  /usr/bin/time -f "%U,%S" -o "$WORK/time.txt" \
    ldapsearch -x -H "$URL" -D "cn=admin,$suffix" -w "$PASSWORD" -b "$suffix" \
    -E "pr=$page/noprompt" "$@" > /dev/null
  t1=$(date +%s.%N)
  s1=$(slapd_cpu)
  echo "$tool,u$size,$page,1,$run,$(echo "$t1 - $t0" | bc),$(cat "$WORK/time.txt"),$(echo "$s1 - $s0" | bc)" \
    >> "$RESULTS"
}

# Times usersync's source (read time from the driver itself); appends a CSV line.
run_usersync() {  # tool size page connections run merge_chunk [read_coalesce_us [driver]]
  local tool=$1 size=$2 page=$3 connections=$4 run=$5 chunk=$6 coalesce=${7:-100}
  local driver=${8:-$DRIVER}
  local check=()
  if [[ -n ${DIGEST[$size]:-} ]]; then check=(--expect-digest "${DIGEST[$size]}"); fi
  if [[ -n ${CHECK_LDIF:-} ]]; then check=(--check-ldif "$CHECK_LDIF"); fi
  local suffix s0 s1 line expect
  suffix=$(suffix_of "$size")
  expect=$(awk -F': ' '$1=="users"{u=$2} $1=="groups"{g=$2} $1=="fixed_groups"{f=$2}
                       END {print "--expect-users " u " --expect-groups " g+f}' \
             "$WORK/u$size.summary")
  s0=$(slapd_cpu)
  # shellcheck disable=SC2086
  line=$("$driver" --url "$URL" --base-dn "$suffix" --bind-dn "cn=admin,$suffix" \
           --connections "$connections" --page-size "$page" --merge-chunk "$chunk" \
           --read-coalesce-us "$coalesce" --label "u$size" $expect "${check[@]}") || {
    echo "ldap_read_bench.sh: $tool read of $size users (page $page, K=$connections) failed" >&2
    exit 1
  }
  LAST_DIGEST=${line##*,}
  s1=$(slapd_cpu)
  # driver: usersync,label,connections,run,read_s,user_s,sys_s,users,groups,edges,unresolved
  IFS=, read -r _ _ _ _ read_s user_s sys_s _ <<< "$line"
  echo "$tool,u$size,$page,$connections,$run,$read_s,$user_s,$sys_s,$(echo "$s1 - $s0" | bc)" \
    >> "$RESULTS"
}

# --- warm-up: page the databases in, check the counts ---------------------------------------
for size in $SIZES; do
  suffix=$(suffix_of "$size")
  expected=$(awk -F': ' '$1=="entries"{print $2}' "$WORK/u$size.summary")
  got=$(ldapsearch -x -H "$URL" -D "cn=admin,$suffix" -w "$PASSWORD" -b "$suffix" \
          -E "pr=1000/noprompt" -LLL "(objectClass=*)" 1.1 | grep -c '^dn:')
  if [[ $got != "$expected" ]]; then
    echo "ldap_read_bench.sh: $suffix holds $got entries, expected $expected" >&2
    exit 1
  fi
  # The directory usersync reads must equal what the LDIF source reads from the same file:
  # regenerate it (deterministic, seconds), compare digests once, keep the digest for the rest.
  CHECK_LDIF=$WORK/check-u$size.ldif
  "$GEN" --users "$size" --groups "$(groups_of "$size")" --seed "$SEED" \
    --base-dn "$suffix" --no-version-line --out "$CHECK_LDIF" 2> /dev/null
  run_usersync usersync "$size" 1000 1 0 4096
  rm -f "$CHECK_LDIF"
  CHECK_LDIF=
  DIGEST[$size]=$LAST_DIGEST
  echo "# $size users: $got entries served; warm; the Directory read equals the LDIF source's" \
    "(digest $LAST_DIGEST)"
done
sed -i '2,$d' "$RESULTS"  # the warm-up lines are not results

# --- timed rounds ---------------------------------------------------------------------------
echo "# load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for run in $(seq 1 "$RUNS"); do
  for size in $SIZES; do
    for page in $PAGES; do
      run_ldapsearch ldapsearch-attrs "$size" "$page" "$run" \
        "(|(objectClass=inetOrgPerson)(objectClass=groupOfNames))" $ATTRS
      if [[ $page == 1000 ]]; then run_ldapsearch ldapsearch-all "$size" "$page" "$run"; fi
      for connections in $CONNECTIONS; do
        run_usersync usersync "$size" "$page" "$connections" "$run" 4096
        if [[ -n $DRIVER_B ]]; then
          run_usersync usersync-b "$size" "$page" "$connections" "$run" 4096 100 "$DRIVER_B"
        fi
      done
      if [[ $page == 1000 && $VARIANTS == 1 ]]; then
        run_usersync usersync-buffered "$size" "$page" 1 "$run" 0
        run_usersync usersync-nowait "$size" "$page" 1 "$run" 4096 0
      fi
    done
  done
  echo "# round $run done; load average $(cut -d' ' -f1-3 /proc/loadavg)"
done

# --- summary --------------------------------------------------------------------------------
python3 - "$RESULTS" <<'EOF'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
groups = {}
for r in rows:
    key = (r["label"], int(r["page"]), r["tool"], int(r["connections"]))
    groups.setdefault(key, []).append(r)
base = {}
base_all = {}
for (label, page, tool, conn), rs in groups.items():
    if tool == "ldapsearch-attrs":
        base[(label, page)] = statistics.median(float(r["wall_s"]) for r in rs)
    if tool == "ldapsearch-all":
        base_all[(label, page)] = statistics.median(float(r["wall_s"]) for r in rs)
print(f"{'size':>9} {'page':>5} {'tool':<17} {'conn':>4} {'median_s':>9} {'best_s':>7} "
      f"{'client_cpu_s':>12} {'server_cpu_s':>12} {'vs_ldapsearch':>13} {'vs_all':>6}")
for key in sorted(groups, key=lambda k: (int(k[0][1:]), k[1], k[2], k[3])):
    label, page, tool, conn = key
    rs = groups[key]
    wall = [float(r["wall_s"]) for r in rs]
    client = statistics.median(float(r["client_user_s"]) + float(r["client_sys_s"]) for r in rs)
    server = statistics.median(float(r["server_cpu_s"]) for r in rs)
    med = statistics.median(wall)
    ratio = med / base[(label, page)] if (label, page) in base else float("nan")
    ratio_all = med / base_all[(label, page)] if (label, page) in base_all else float("nan")
    print(f"{label[1:]:>9} {page:>5} {tool:<17} {conn:>4} {med:>9.2f} {min(wall):>7.2f} "
          f"{client:>12.2f} {server:>12.2f} {ratio:>13.2f} {ratio_all:>6.2f}")
EOF
echo "# results: $RESULTS"
