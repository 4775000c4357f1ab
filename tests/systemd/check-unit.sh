#!/bin/sh
# The service unit: `systemd-analyze verify` prints nothing at all (it
# exits 0 on "Failed to parse ..., ignoring", so any stderr fails), and
# `systemd-analyze security --offline=true` rates it 1.5 or lower.
# Skips (77) where systemd-analyze is absent.
set -u
unit=$1
command -v systemd-analyze >/dev/null 2>&1 || { echo "no systemd-analyze"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0

systemd-analyze verify --man=no "$unit" >"$tmp/out" 2>"$tmp/err"
if [ -s "$tmp/err" ] || [ -s "$tmp/out" ]; then
	echo "FAIL verify:"; cat "$tmp/out" "$tmp/err"; fail=1
else
	echo "ok   verify: no output"
fi

# The check itself must be able to fail: a unit with a typo must not pass.
sed 's/^NoNewPrivileges=yes/NoNewPrivilege=yes/' "$unit" >"$tmp/feedwatch.service"
systemd-analyze verify --man=no "$tmp/feedwatch.service" >/dev/null 2>"$tmp/err2"
if [ -s "$tmp/err2" ]; then
	echo "ok   verify catches a misspelt directive"
else
	echo "FAIL verify did not notice a misspelt directive"; fail=1
fi

systemd-analyze security --offline=true --threshold=15 --no-pager "$unit" \
	>"$tmp/sec" 2>&1
rc=$?
level=$(grep -o 'Overall exposure level for [^:]*: [0-9.]*' "$tmp/sec" | awk '{print $NF}')
if [ $rc -eq 0 ] && [ -n "$level" ]; then
	echo "ok   security exposure $level (threshold 1.5)"
else
	echo "FAIL security exposure ${level:-?} (rc=$rc)"; tail -5 "$tmp/sec"; fail=1
fi
exit $fail
