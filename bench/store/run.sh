#!/bin/sh
# The store benchmark: the 1,000-feed first cycle (35,000 items) through
# store_ingest, reported against raw sqlite3 inserts of the same items
# measured in the same run, plus the steady state (nothing new).
#
#   bench/store/run.sh [BUILD_DIR] [STATE_DIR]
#
# STATE_DIR should be on the disk the daemon would use (fsync costs are
# part of what is measured); the default is a temporary folder.
set -eu
build=${1:-build}
dir=${2:-}
cmake --build "$build" --target bench_store -j 2 >/dev/null
if [ -z "$dir" ]; then
	dir=$(mktemp -d "${TMPDIR:-/var/tmp}/fw-bench.XXXXXX")
	trap 'rm -rf "$dir"' EXIT INT TERM
fi
"$build/tests/daemon/bench_store" "$dir" 1000 35
