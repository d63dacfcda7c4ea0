#!/usr/bin/env bash
# plan_e2e_bench.sh: what an administrator runs, end to end (issue 17): `usersync plan` at N
# users × N accounts, LDIF source, `usersync-target` (SCIM face) seeded with an account for
# every generated user, wall time and peak RSS of each command form, for one or two builds
# measured back to back (A/B: each round runs every build before the next round).
#
# Usage: bench/plan_e2e_bench.sh USERS ROUNDS BUILD_DIR [BUILD_DIR...]
#   e.g. bench/plan_e2e_bench.sh 1000000 3 /work/ab/before/build-release build-release
# Forms timed (each with `/usr/bin/time -f '%e %M'`: wall seconds, peak RSS in KiB):
#   dry-run     usersync sync --dry-run                       (stdout to /dev/null)
#   plan        usersync plan                                 (table; stdout to /dev/null)
#   plan-json   usersync plan --format json --out FILE        (stdout kept: its size is printed,
#                                                              it must hold no plan content)
# The seed: every generated user's account (userName = mail, name, active), with the last name
# changed for 10% of them so the plan holds updates besides matches; the plan's summary line is
# printed once per build, so both builds can be seen to plan the same.
# Needs: usersync, usersync-target, usersync-gen-ldif in each BUILD_DIR/tools; python3.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/bench/lib.sh"
users=${1:?USERS}
rounds=${2:?ROUNDS}
shift 2
builds=()
for b in "$@"; do [[ $b = /* ]] && builds+=("$b") || builds+=("$root/$b"); done
((${#builds[@]} > 0)) || { echo "usage: $0 USERS ROUNDS BUILD_DIR..." >&2; exit 2; }
work=$(mktemp -d /tmp/usersync-plan-e2e.XXXXXX)
trap clean_up EXIT  # bench/lib.sh: the target, then $work
export USERSYNC_TARGET_TOKEN=bench-token

gen=${builds[0]}/tools/usersync-gen-ldif
"$gen" --users "$users" --groups $((users / 100 > 50 ? users / 100 : 50)) --seed 1 --quiet \
  --out "$work/dir.ldif"
python3 - "$work/dir.ldif" "$work/seed.jsonl" <<'EOF'
import json, sys
out = open(sys.argv[2], "w")
entry = {}
count = 0
taken = set()  # the generator gives some users one address on purpose (invalid users)
def flush():
    global count
    mail = entry.get("mail")
    if mail and "inetOrgPerson" in entry.get("objectClass", []) and mail[0].lower() not in taken:
        taken.add(mail[0].lower())
        count += 1
        last = entry.get("sn", [""])[0]
        if count % 10 == 0:
            last += "x"
        out.write(json.dumps({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                              "userName": mail[0], "active": True,
                              "displayName": entry.get("displayName", entry.get("cn", [""]))[0],
                              "entitlements": [{"value": "G2M"}],
                              "name": {"givenName": entry.get("givenName", [""])[0],
                                       "familyName": last},
                              "emails": [{"value": mail[0], "primary": True}]}) + "\n")
for line in open(sys.argv[1], encoding="utf-8"):
    line = line.rstrip("\n")
    if not line:
        flush(); entry = {}; continue
    if ": " in line and not line.startswith(" "):
        key, value = line.split(": ", 1)
        entry.setdefault(key, []).append(value)
flush()
EOF

start_target "${builds[0]}/tools/usersync-target" "$work/target.out" \
  --token "$USERSYNC_TARGET_TOKEN" --rate 0 --seed-accounts "$work/seed.jsonl"

generated_directory_toml "$work/dir.ldif" >"$work/sync.toml"
cat >>"$work/sync.toml" <<EOF

[target]
kind = "scim"
url = "$base/scim/v2"
token_env = "USERSYNC_TARGET_TOKEN"
rate = 100000
burst = 100000

[deprovision]
action = "none"

[[rules]]
name = "Everyone"
group = "cn=goto-users,ou=groups,dc=example,dc=com"
products = ["G2M"]

[state]
path = "$work/usersync.db"

[logs]
dir = "$work/logs"
EOF

echo "users $users, rounds $rounds, load $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores"
for b in "${builds[@]}"; do
  "$b/tools/usersync" plan -c "$work/sync.toml" >"$work/summary.txt" 2>&1 ||
    { echo "$b: plan failed:" >&2; tail -5 "$work/summary.txt" >&2; exit 1; }
  echo "$b: $(head -1 "$work/summary.txt")"
  [[ -n ${SHOW_PLAN:-} ]] && head -8 "$work/summary.txt"
done
printf '%-6s %-50s %-10s %8s %10s %s\n' round build form wall_s peak_MiB stdout_bytes
for ((round = 1; round <= rounds; round++)); do
  for b in "${builds[@]}"; do
    for form in dry-run plan plan-json; do
      case $form in
        dry-run) args=(sync --dry-run) ;;
        plan) args=(plan) ;;
        plan-json) args=(plan --format json --out "$work/plan.json") ;;
      esac
      /usr/bin/time -f '%e %M' -o "$work/time.txt" "$b/tools/usersync" "${args[@]}" \
        -c "$work/sync.toml" >"$work/stdout.txt" 2>"$work/stderr.txt" ||
        { echo "$b $form failed:" >&2; tail -5 "$work/stderr.txt" >&2; exit 1; }
      read -r wall rss <"$work/time.txt"
      printf '%-6s %-50s %-10s %8.2f %10.0f %s\n' "$round" "$b" "$form" "$wall" \
        "$(echo "$rss / 1024" | bc -l)" "$(stat -c %s "$work/stdout.txt")"
    done
  done
done
ls -l "$work/plan.json" | awk '{print "plan file bytes:", $5}'
