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
# The unit's reload, run as systemd runs it (through /bin/sh, with the
# configuration folder, the credentials and $MAINPID in the environment;
# a sleep stands for the daemon): quiet and 0 on the example, 1 with the
# errors (file:line:column) on a broken file; the daemon is sent SIGHUP
# either way (it records a failed reload in its status and metrics).
unit=$tmp/root$prefix/lib/systemd/system/feedwatch.service
grep '^ExecReload=' "$unit" >"$tmp/reload"
reload=$(sed -e 's/^ExecReload=//' -e "s|$bindir/|$tmp/root$bindir/|" \
    "$tmp/reload")
if [ "$(wc -l <"$tmp/reload")" -eq 1 ] &&
    grep -q "^ExecReload=/bin/sh -c '$bindir/feedwatch check --quiet " \
    "$tmp/reload"; then
	echo "ok   the unit's reload checks the files"
else
	echo "FAIL the unit's ExecReload:"; cat "$tmp/reload"; fail=1
fi
mkdir -p "$tmp/confdir"
cp "$tmp/root$sysconfdir/feedwatch/feedwatch.yaml.example" \
    "$tmp/confdir/feedwatch.yaml"
# $1: what the reload must exit with; $2: what the output must hold
# (empty: nothing at all)
reload_case() {
	sleep 30 &
	daemon=$!
	# the unit's command line, split and unquoted as systemd does
	# (one level of single quotes); eval does the same here
	eval "CONFIGURATION_DIRECTORY=\$tmp/confdir \
	    CREDENTIALS_DIRECTORY=\$tmp/creds MAINPID=$daemon $reload" \
	    >"$tmp/out" 2>&1
	rc=$?
	wait $daemon
	signal=$?
	if [ $rc -ne "$1" ]; then
		echo "FAIL reload (want $1, rc=$rc):"; cat "$tmp/out"; fail=1
	elif [ -z "$2" ] && [ -s "$tmp/out" ]; then
		echo "FAIL reload printed:"; cat "$tmp/out"; fail=1
	elif [ -n "$2" ] && ! grep -q "$2" "$tmp/out"; then
		echo "FAIL reload without '$2':"; cat "$tmp/out"; fail=1
	elif [ $signal -ne 129 ]; then
		echo "FAIL reload: the daemon got no SIGHUP ($signal)"; fail=1
	else
		echo "ok   reload exits $1${2:+ saying where}, the daemon signalled"
	fi
}
reload_case 0 ""
printf 'feeds: [{url: nowhere}]\n' >>"$tmp/confdir/feedwatch.yaml"
reload_case 1 'feedwatch.yaml:[0-9]*:[0-9]*: '
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
