#!/bin/sh
# cmake refuses install paths that the unit's command lines and the
# tmpfiles.d line would need quoted (systemd/unit-path.cmake), naming
# the variable, and takes those they can hold as they are: each path
# through the check as a script, then one configure of the source tree
# with a refused prefix, which must fail with the check's message.
#
# usage: check-prefix.sh CMAKE SOURCE_DIR
set -u
cmake=$1 src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
# cmake wraps its messages: compare them on one line
said() { tr '\n' ' ' <"$tmp/log" | tr -s ' ' | grep -q -F -- "$1"; }
refused() { # VARIABLE PATH
	if "$cmake" -DUNIT_VAR="$1" -DUNIT_PATH="$2" \
		-P "$src/systemd/unit-path.cmake" >"$tmp/log" 2>&1; then
		echo "FAIL $2: taken"; fail=1
	elif said "$1 is \"$2\": the systemd unit"; then
		echo "ok   refused: $2"
	else
		echo "FAIL $2: not the message expected:"; cat "$tmp/log"; fail=1
	fi
}
taken() { # PATH
	if "$cmake" -DUNIT_VAR=X -DUNIT_PATH="$1" \
		-P "$src/systemd/unit-path.cmake" >"$tmp/log" 2>&1; then
		echo "ok   taken: $1"
	else
		echo "FAIL $1: refused:"; cat "$tmp/log"; fail=1
	fi
}
refused CMAKE_INSTALL_FULL_BINDIR "/opt/feed watch/bin"
refused CMAKE_INSTALL_FULL_BINDIR "/opt/fw'\$(id)/bin"
refused CMAKE_INSTALL_FULL_BINDIR '/opt/fw"x/bin'
refused CMAKE_INSTALL_FULL_BINDIR '/opt/fw\x/bin'
refused CMAKE_INSTALL_FULL_BINDIR '/opt/fw;id/bin'
refused CMAKE_INSTALL_FULL_BINDIR '/opt/$HOME/bin'
refused CMAKE_INSTALL_FULL_SYSCONFDIR '/etc/fw%n'
refused CMAKE_INSTALL_FULL_BINDIR '-/opt/bin' # "ignore failure" in Exec
refused CMAKE_INSTALL_FULL_BINDIR 'X=y/bin' # an assignment in sh -c
refused CMAKE_INSTALL_FULL_BINDIR 'opt/bin'
refused CMAKE_INSTALL_FULL_BINDIR '/opt/caf'"$(printf '\303\251')"'/bin'
refused CMAKE_INSTALL_FULL_BINDIR ''
taken /usr/local/bin
taken /opt/o@p,q:r=s+t-u_v.w/bin

# The check is the configure's: a refused prefix stops it.
if "$cmake" -S "$src" -B "$tmp/b" "-DCMAKE_INSTALL_PREFIX=/opt/feed watch" \
	>"$tmp/log" 2>&1; then
	echo "FAIL configure with a refused prefix: configured"; fail=1
elif said 'CMAKE_INSTALL_FULL_BINDIR is "/opt/feed watch/bin": the systemd'; then
	echo "ok   configure refused /opt/feed watch"
else
	echo "FAIL configure: not the message expected:"; cat "$tmp/log"; fail=1
fi
exit $fail
