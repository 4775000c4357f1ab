#!/bin/sh
# The matcher's work counted instead of timed: instructions, simulated
# data cache misses (first level, and past a 1 MB second level) and
# mispredicted branches inside matcher_run() (and the freeing of its
# results), under callgrind, over the first ITEMS (default 5,000) of
# run.sh's generated items, for 1 and 10,000 watchlists. The counts do
# not move with the machine's load, so they compare two builds where
# timings on a shared machine cannot; run.sh's MB/s stay the figures
# the targets are about.
#
# usage: [WORKLOAD=realistic|uniform] bench/match/count.sh [BUILD_DIR] [ITEMS]
# (from the top folder, after `make build` and one run of run.sh, which
# builds bench_match and generates the data)
set -eu
build=${1:-build}
nitems=${2:-5000}
case ${WORKLOAD:-realistic} in
realistic) wl=wl ;;
uniform) wl=wl-uniform ;;
*) echo "WORKLOAD is realistic or uniform" >&2; exit 2 ;;
esac
here=$(dirname "$0")
work=${TMPDIR:-/tmp}/feedwatch-bench-match
command -v valgrind >/dev/null || { echo "count.sh needs valgrind" >&2; exit 2; }
[ -f "$work/items.tsv" ] || { echo "no data in $work: run run.sh first" >&2; exit 2; }

sh "$here/build.sh" "$build" "$work/bench_match_count"
head -n "$nitems" "$work/items.tsv" >"$work/items-count.tsv"
for n in 1 10000; do
	valgrind --tool=callgrind --cache-sim=yes --LL=1048576,16,64 \
		--branch-sim=yes \
		--toggle-collect=matcher_run --toggle-collect=matcher_result_free \
		--callgrind-out-file="$work/callgrind-$n.out" \
		"$work/bench_match_count" "$work/items-count.tsv" \
		"$work/$wl-$n.tsv" "$work/entities.tsv" >/dev/null 2>"$work/callgrind-$n.log"
	awk -v n="$n" -v items="$nitems" '
		/I   refs:/ { gsub(",", "", $4); ir = $4 }
		/D1  misses:/ { gsub(",", "", $4); d1 = $4 }
		/LLd misses:/ { gsub(",", "", $4); ll = $4 }
		/Mispredicts:/ { gsub(",", "", $3); mp = $3 }
		END { printf "watchlists=%s items=%s per item: instructions=%.0f d1_misses=%.1f ll_misses=%.1f mispredicts=%.0f\n",
			n, items, ir / items, d1 / items, ll / items, mp / items }' "$work/callgrind-$n.log"
done
