#!/usr/bin/env bash
# ctest InstallTree: `cmake --install BUILD --prefix PREFIX` into an empty PREFIX installs the
# programs, the units, the reference and the completion (and not the test tools), the units
# name the installed binary and the configuration, and `systemd-analyze verify` accepts them.
# Exit 77 (ctest SKIP_RETURN_CODE) only when systemd-analyze is absent (tools/dev installs the
# Debian package systemd, which brings it); any other problem fails.
#
# Usage: install_test.sh BUILD_DIR PREFIX [SYSTEMD_ANALYZE]
set -euo pipefail
build=$1 prefix=$2 analyze=${3:-}

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

rm -rf "$prefix" "$prefix.tmp"
cmake --install "$build" --prefix "$prefix" >"$prefix.log" 2>&1 || {
  cat "$prefix.log" >&2
  fail "cmake --install failed"
}

units=lib/systemd/system
expected=(
  bin/usersync
  $units/usersync.service $units/usersync.timer $units/usersync@.service $units/usersync@.timer
  lib/sysusers.d/usersync.conf
  share/man/man1/usersync.1
  share/bash-completion/completions/usersync
  share/doc/usersync/README.md share/doc/usersync/usersync.toml.example
  share/usersync/demo/demo.toml share/usersync/demo/demo.ldif
  share/usersync/demo/demo-accounts.jsonl
)
for file in "${expected[@]}"; do
  [[ -f "$prefix/$file" ]] || fail "not installed: $file"
done
[[ -x "$prefix/bin/usersync" ]] || fail "bin/usersync is not executable"
# The test tools belong to the `testing` component, not to the default install.
for tool in usersync-target usersync-gen-ldif; do
  [[ ! -e "$prefix/bin/$tool" ]] || fail "bin/$tool installed by the default component"
done

# The units were written for this prefix, whatever the build was configured with.
grep -qxF "ExecStart=$prefix/bin/usersync sync --config /etc/usersync/usersync.toml" \
  "$prefix/$units/usersync.service" || fail "usersync.service: ExecStart is not the installed binary"
grep -qxF "ExecStart=$prefix/bin/usersync sync --config /etc/usersync/%i.toml" \
  "$prefix/$units/usersync@.service" || fail "usersync@.service: ExecStart is not per tenant"
for setting in Type=oneshot User=usersync ProtectSystem=strict ProtectHome=yes PrivateTmp=yes \
  NoNewPrivileges=yes StateDirectory=usersync LogsDirectory=usersync \
  "EnvironmentFile=-/etc/usersync/env" "ReadWritePaths=%S/usersync %L/usersync"; do
  grep -qxF "$setting" "$prefix/$units/usersync.service" ||
    fail "usersync.service lacks $setting"
done
grep -qxF "StateDirectory=usersync/%i" "$prefix/$units/usersync@.service" ||
  fail "usersync@.service: the state is not per tenant"
! grep -q '@[A-Z_]*@' "$prefix/$units"/* || fail "a unit holds an unconfigured @VARIABLE@"
for setting in Persistent=true RandomizedDelaySec=30min "WantedBy=timers.target"; do
  grep -qxF "$setting" "$prefix/$units/usersync.timer" || fail "usersync.timer lacks $setting"
done

# The installed program runs, and the installed demo files are all `usersync demo` needs.
"$prefix/bin/usersync" --version | grep -q '^usersync ' || fail "bin/usersync --version"
mkdir -p "$prefix.tmp"  # the demo's working dir goes under TMPDIR: keep it beside the prefix
(cd "$prefix" && TMPDIR="$prefix.tmp" "$prefix/bin/usersync" demo \
  --fixtures "$prefix/share/usersync/demo") \
  >"$prefix.demo.log" 2>&1 || {
  cat "$prefix.demo.log" >&2
  fail "usersync demo on the installed files"
}

# The completion completes (bash-completion's helpers absent: its fallbacks).
words=$(bash -c 'source "$1"; COMP_WORDS=(usersync pa); COMP_CWORD=1; _usersync
                 echo "${COMPREPLY[*]}"' _ "$prefix/share/bash-completion/completions/usersync")
[[ $words == pause ]] || fail "completion of 'usersync pa': '$words'"

# The man page formats without a warning.
if command -v groff >/dev/null; then
  warnings=$(LC_ALL=C.UTF-8 groff -man -ww -z "$prefix/share/man/man1/usersync.1" 2>&1)
  [[ -z $warnings ]] || fail "groff warns on usersync.1: $warnings"
fi

if [[ -z $analyze || ! -x $analyze ]]; then
  echo "SKIP: systemd-analyze is absent (Debian package systemd; tools/dev deps installs it)"
  exit 77
fi
# A template is verified through an instance of it; ExecStart's binary must exist (it does:
# the installed one).
verify=$(mktemp -d)
trap 'rm -rf "$verify"' EXIT
cp "$prefix/$units/usersync.service" "$prefix/$units/usersync.timer" "$verify/"
cp "$prefix/$units/usersync@.service" "$verify/usersync@acme.service"
cp "$prefix/$units/usersync@.timer" "$verify/usersync@acme.timer"
(cd "$verify" && "$analyze" verify --man=no usersync.service usersync.timer \
  usersync@acme.service usersync@acme.timer) || fail "systemd-analyze verify refused the units"
# The sandboxing stays tight: systemd's own exposure score (0 best, 10 worst; 1.8 when this was
# written) must stay at or under 2.5 (--threshold counts tenths).
for unit in usersync.service usersync@acme.service; do
  (cd "$verify" && "$analyze" security --offline=true --threshold=25 "$unit") \
    >"$prefix.security.log" 2>&1 || {
    cat "$prefix.security.log" >&2
    fail "$unit: systemd-analyze security rates its exposure above 2.5"
  }
done
echo "OK: ${#expected[@]} files installed under $prefix; systemd-analyze verify accepts the units"
