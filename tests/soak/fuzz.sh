#!/bin/sh
# Run every libFuzzer target of a sanitizer build for a while, each over
# its corpus in the repository (tests/fuzz/corpus/NAME).
#
# usage: fuzz.sh BUILD_DIR [SECONDS]
#   FUZZ_SECONDS  seconds per target (default 60; the argument wins)
#   FUZZ_MERGE=1  merge the new inputs that add coverage into the
#                 repository's corpus (otherwise they stay in a scratch
#                 folder, deleted at the end)
#   FUZZ_JOBS     libFuzzer -jobs per target (default 1)
# A crash or leak stops the run with the target's status; its input is
# left in the current folder (crash-*, leak-*, timeout-*).
set -eu
build=${1:?usage: fuzz.sh BUILD_DIR [SECONDS]}
seconds=${2:-${FUZZ_SECONDS:-60}}
jobs=${FUZZ_JOBS:-1}
here=$(cd "$(dirname "$0")" && pwd)
corpora=$here/../fuzz/corpus
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# -jobs=1 would still fork a worker with its own log: only when asked.
parallel=
[ "$jobs" -gt 1 ] && parallel="-jobs=$jobs -workers=$jobs"
found=0
for fuzzer in "$build"/tests/fuzz/fuzz_*; do
	[ -x "$fuzzer" ] && [ -f "$fuzzer" ] || continue
	found=$((found + 1))
	name=$(basename "$fuzzer")
	name=${name#fuzz_}
	corpus=$corpora/$name
	mkdir -p "$corpus" "$scratch/$name"
	echo "== fuzz_$name: $seconds s over $(ls "$corpus" | wc -l) seeds"
	"$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
		-max_len=65536 -print_final_stats=1 $parallel \
		-artifact_prefix="$(pwd)/" \
		"$scratch/$name" "$corpus"
	new=$(ls "$scratch/$name" | wc -l)
	if [ "${FUZZ_MERGE:-0}" = 1 ] && [ "$new" -gt 0 ]; then
		before=$(ls "$corpus" | wc -l)
		"$fuzzer" -merge=1 -max_len=65536 "$corpus" "$scratch/$name" \
			2>/dev/null
		echo "== fuzz_$name: corpus $before -> $(ls "$corpus" | wc -l)" \
			"files (merged)"
	else
		echo "== fuzz_$name: $new new inputs (not merged; FUZZ_MERGE=1" \
			"keeps them)"
	fi
done
if [ "$found" = 0 ]; then
	echo "no fuzz_* targets in $build/tests/fuzz: build with make asan" >&2
	exit 1
fi
echo "== $found targets fuzzed, no crash"
