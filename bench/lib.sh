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
