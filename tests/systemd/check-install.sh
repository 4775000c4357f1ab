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
