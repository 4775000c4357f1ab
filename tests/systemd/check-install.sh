#!/bin/sh
# cmake --install puts the binary, the unit, the tmpfiles entry, the
# example configuration and both man pages in place, and the installed
# example configuration passes `feedwatch check` (its webhook secret given
# as systemd would: a credential in $CREDENTIALS_DIRECTORY).
set -u
build=$1 bindir=$2 sysconfdir=$3 mandir=$4 prefix=$5
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
DESTDIR=$tmp/root cmake --install "$build" >"$tmp/log" 2>&1 ||
	{ echo "FAIL cmake --install:"; cat "$tmp/log"; exit 1; }
for f in "$bindir/feedwatch" "$prefix/lib/systemd/system/feedwatch.service" \
    "$prefix/lib/tmpfiles.d/feedwatch.conf" \
    "$sysconfdir/feedwatch/feedwatch.yaml.example" \
    "$mandir/man1/feedwatch.1" "$mandir/man5/feedwatch.yaml.5"; do
	if [ -f "$tmp/root$f" ]; then
		echo "ok   $f"
	else
		echo "FAIL $f missing"; fail=1
	fi
done
grep -q "^ExecStart=$bindir/feedwatch run " \
    "$tmp/root$prefix/lib/systemd/system/feedwatch.service" &&
	echo "ok   the unit runs the installed binary" ||
	{ echo "FAIL the unit's ExecStart"; fail=1; }
mkdir -m 700 "$tmp/creds"
printf 'whsec_ZmVlZHdhdGNoLWluc3RhbGwtdGVzdC1rZXktMDEyMw==\n' >"$tmp/creds/feedwatch_webhook-secret"
chmod 600 "$tmp/creds/feedwatch_webhook-secret"
if CREDENTIALS_DIRECTORY=$tmp/creds "$tmp/root$bindir/feedwatch" check \
    -c "$tmp/root$sysconfdir/feedwatch/feedwatch.yaml.example" \
    >"$tmp/out" 2>&1; then
	echo "ok   the installed example configuration checks"
else
	echo "FAIL the installed example configuration:"; cat "$tmp/out"; fail=1
fi
# The unit's reload: the files are checked first, and only then is the
# daemon signalled. Its check line, run as systemd would run it (the
# configuration folder and the credentials given), passes quietly on the
# example and fails on a broken file, which must stop the reload.
unit=$tmp/root$prefix/lib/systemd/system/feedwatch.service
grep '^ExecReload=' "$unit" >"$tmp/reload"
if [ "$(wc -l <"$tmp/reload")" -eq 2 ] &&
    grep -q "^ExecReload=$bindir/feedwatch check --quiet " "$tmp/reload" &&
    tail -n 1 "$tmp/reload" | grep -q '^ExecReload=/bin/kill -HUP \$MAINPID$'; then
	echo "ok   the unit's reload checks, then signals"
else
	echo "FAIL the unit's ExecReload lines:"; cat "$tmp/reload"; fail=1
fi
check=$(head -n 1 "$tmp/reload" | sed -e 's/^ExecReload=//' \
    -e "s|^$bindir/|$tmp/root$bindir/|")
mkdir -p "$tmp/confdir"
cp "$tmp/root$sysconfdir/feedwatch/feedwatch.yaml.example" \
    "$tmp/confdir/feedwatch.yaml"
# shellcheck disable=SC2086 # the unit's words, as systemd splits them
CONFIGURATION_DIRECTORY=$tmp/confdir CREDENTIALS_DIRECTORY=$tmp/creds \
    sh -c "exec $check" >"$tmp/out" 2>&1
rc=$?
if [ $rc -eq 0 ] && [ ! -s "$tmp/out" ]; then
	echo "ok   the reload's check passes quietly on the example"
else
	echo "FAIL the reload's check on the example (rc=$rc):"; cat "$tmp/out"
	fail=1
fi
printf 'feeds: [{url: nowhere}]\n' >>"$tmp/confdir/feedwatch.yaml"
CONFIGURATION_DIRECTORY=$tmp/confdir CREDENTIALS_DIRECTORY=$tmp/creds \
    sh -c "exec $check" >"$tmp/out" 2>&1
rc=$?
if [ $rc -eq 1 ] && grep -q 'feedwatch.yaml:[0-9]*:[0-9]*: ' "$tmp/out"; then
	echo "ok   the reload's check fails on a broken file, saying where"
else
	echo "FAIL the reload's check on a broken file (rc=$rc):"
	cat "$tmp/out"; fail=1
fi
if command -v groff >/dev/null 2>&1; then
	for m in man1/feedwatch.1 man5/feedwatch.yaml.5; do
		groff -man -ww -z "$tmp/root$mandir/$m" 2>"$tmp/groff"
		if [ -s "$tmp/groff" ]; then
			echo "FAIL $m: $(cat "$tmp/groff")"; fail=1
		else
			echo "ok   $m renders without warnings"
		fi
	done
fi
exit $fail
