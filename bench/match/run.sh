#!/bin/sh
# The matching benchmark (issue: watchlists). Over 100,000 generated
# news items, runs 1, 100 and 10,000 watchlists of about five terms plus
# entities, and in the same run `grep -F -w -i -f PATTERNS` over the same
# text as the reference for multi-pattern scanning. Prints MB/s of item
# text on one core and the ratios:
#   scaling  = MB/s with 10,000 watchlists / MB/s with 1   (target >= 0.5)
#   vs grep  = our MB/s with 10,000 watchlists / grep's MB/s with their
#              literal terms and aliases
#
# usage: bench/match/run.sh [BUILD_DIR] [ITEMS]   (from the top folder,
# after `make build`)
set -eu
build=${1:-build}
nitems=${2:-100000}
here=$(dirname "$0")
work=${TMPDIR:-/tmp}/feedwatch-bench-match
mkdir -p "$work"

cc -O2 -I filters -I feeds -I daemon/core "$here/bench_match.c" \
	"$build/filters/libfwfilters.a" "$build/feeds/libfwfeeds.a" \
	"$build/daemon/core/libfwcore.a" \
	$(pkg-config --libs libutf8proc libpcre2-8) -o "$work/bench_match"
if [ ! -s "$work/items-$nitems.done" ]; then
	python3 "$here/gen.py" "$work" "$nitems"
	echo "$nitems" >"$work/items-$nitems.done"
fi

bytes=$(awk -F'\t' '{ n += length($1) + length($2) + length($3) } END { print n }' \
	"$work/items.tsv")
for n in 1 100 10000; do
	"$work/bench_match" "$work/items.tsv" "$work/wl-$n.tsv" \
		"$work/entities.tsv" | tee "$work/result-$n.txt"
done

# grep reads the same item text (one field per line).
start=$(date +%s.%N)
LC_ALL=C.UTF-8 grep -F -w -i -c -f "$work/patterns-10000.txt" \
	"$work/text.txt" >"$work/grep-count.txt" || true
end=$(date +%s.%N)
npat=$(wc -l <"$work/patterns-10000.txt")
echo "grep -F -w -i: patterns=$npat lines_matched=$(cat "$work/grep-count.txt") run_s=$(calc "$end - $start")"

calc() { awk "BEGIN { printf \"%.2f\", $1 }"; }
mbps() { sed -n 's/.*mb_per_s=\([0-9.]*\).*/\1/p' "$work/result-$1.txt"; }
one=$(mbps 1)
hundred=$(mbps 100)
tenk=$(mbps 10000)
grep_mbps=$(calc "$bytes / 1000000 / ($end - $start)")
echo "MB/s: 1 watchlist $one, 100 watchlists $hundred, 10000 watchlists $tenk, grep $grep_mbps"
echo "scaling (10000 vs 1): $(calc "$tenk / $one")  (target >= 0.5)"
echo "1 watchlist: $one MB/s per core  (target >= 50)"
echo "vs grep -F -w -i (10000 watchlists' terms): $(calc "$tenk / $grep_mbps")x grep's throughput"
