#!/bin/sh
# The crash test: start the worker, SIGKILL it at a random instant,
# start it again, KILLS times; then let it finish and check that every
# alert was delivered at least once, that every duplicate carries an id
# already delivered, and that the store is intact.
#
#   store_crash.sh WORKER KILLS FEEDS ROUNDS MAX_DELAY_MS
set -eu
worker=$1
kills=${2:-50}
feeds=${3:-20}
rounds=${4:-8}
max_delay=${5:-40}

dir=$(mktemp -d "${TMPDIR:-/tmp}/fw-crash.XXXXXX")
trap 'rm -rf "$dir"' EXIT INT TERM

landed=0
attempts=0
finished=0
while [ "$landed" -lt "$kills" ] && [ "$attempts" -lt $((kills * 10)) ]; do
	attempts=$((attempts + 1))
	"$worker" "$dir" run "$feeds" "$rounds" &
	pid=$!
	ms=$(($(od -An -N2 -tu2 /dev/urandom) % max_delay + 1))
	sleep "$(printf '0.%03d' "$ms")"
	if kill -KILL "$pid" 2>/dev/null; then
		landed=$((landed + 1))
	fi
	if wait "$pid" 2>/dev/null; then
		finished=$((finished + 1)) # the work was done before the kill
	fi
done
echo "kills landed: $landed of $attempts starts ($finished ran to the end); $(wc -l < "$dir/delivered" 2>/dev/null || echo 0) deliveries logged so far"
"$worker" "$dir" run "$feeds" "$rounds"
"$worker" "$dir" check "$feeds" "$rounds" "$landed"
if [ "$landed" -lt "$kills" ]; then
	echo "FAIL only $landed kills landed" >&2
	exit 1
fi
