#!/bin/sh
# Run one libFuzzer target for a bounded time over its seed corpus.
# New inputs go to a scratch folder, never into the repository; a crash
# leaves its input in the build folder and fails the test.
# usage: run-fuzzer.sh FUZZER SEED_CORPUS SECONDS [extra libFuzzer flags]
set -eu
fuzzer=$1 seeds=$2 seconds=$3
shift 3
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
exec "$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
	-max_len=65536 -print_final_stats=1 \
	-artifact_prefix="$(pwd)/" "$@" "$scratch" "$seeds"
