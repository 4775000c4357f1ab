#!/bin/sh
# cmake refuses install paths that the unit's command lines and the
# tmpfiles.d line would need quoted, naming the variable: each case runs
# a configure of the source tree in a folder of its own, which must fail
# with that message.
set -u
src=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
n=0
check() { # VARIABLE, then cmake's arguments
	var=$1
	shift
	n=$((n + 1))
	if cmake -S "$src" -B "$tmp/b$n" "$@" >"$tmp/log" 2>&1; then
		echo "FAIL $*: configured"; fail=1
	elif grep -q "$var is \"" "$tmp/log" &&
		grep -q "take paths of letters" "$tmp/log"; then
		echo "ok   $*"
	else
		echo "FAIL $*: not the message expected:"; cat "$tmp/log"; fail=1
	fi
}
check CMAKE_INSTALL_FULL_BINDIR "-DCMAKE_INSTALL_PREFIX=/opt/feed watch"
check CMAKE_INSTALL_FULL_BINDIR "-DCMAKE_INSTALL_PREFIX=/opt/fw'\$(id)"
check CMAKE_INSTALL_FULL_SYSCONFDIR "-DCMAKE_INSTALL_SYSCONFDIR=/etc/fw%n"
exit $fail
