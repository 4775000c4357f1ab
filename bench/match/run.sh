#!/bin/sh
# The matching benchmark. Over generated news items (100,000 by default),
# runs 1, 100 and 10,000 watchlists of about five terms plus entities
# (bench_match.c, timed in process CPU time: MB/s of item text on one
# core), and in the same run `grep -F -w -i -f PATTERNS` with the same
# watchlists' literal terms and aliases over the same text, as the
# reference for multi-pattern scanning. Prints MB/s and the ratios:
#   scaling  = our MB/s with 10,000 watchlists / with 1   (target >= 0.5)
#   vs grep  = our MB/s / grep's MB/s, for each number of watchlists
#
# grep runs in the C locale (its fastest; it then folds only ASCII case)
# and is timed in CPU time too. With the 10,000 watchlists' patterns it
# runs at a fraction of a MB/s, so it reads only the first GREP_MB
# megabytes (default 4) of the same text; MB/s is what is compared.
#
# The watchlists' terms are drawn as people write them (names, rare
# words, a few topical words; see gen.py and README.md); WORKLOAD=uniform
# runs the earlier workload instead, whose terms are drawn uniformly
# from the vocabulary's ranks 150 to 20,000, common words included.
#
# The matcher's runs are repeated ROUNDS times (default 5) and the
# medians reported, the scaling being the median of each round's ratio.
# Each run (grep's too) is pinned to the last core it may run on with
# taskset(1) when there are two or more, so that the scheduler does not
# move it between cores mid-run.
#
# usage: [WORKLOAD=realistic|uniform] [ROUNDS=n] bench/match/run.sh [BUILD_DIR] [ITEMS]
# (from the top folder, after `make build`)
set -eu
build=${1:-build}
nitems=${2:-100000}
grep_mb=${GREP_MB:-4}
case ${WORKLOAD:-realistic} in
realistic) wl=wl pat=patterns ;;
uniform) wl=wl-uniform pat=patterns-uniform ;;
*) echo "WORKLOAD is realistic or uniform" >&2; exit 2 ;;
esac
here=$(dirname "$0")
work=${TMPDIR:-/tmp}/feedwatch-bench-match
mkdir -p "$work"

calc() { awk "BEGIN { printf \"%.2f\", $1 }"; }

sh "$here/build.sh" "$build" "$work/bench_match"
if [ "$(cat "$work/items.count" 2>/dev/null)" != "$nitems" ] ||
	[ ! -f "$work/wl-uniform-1.tsv" ]; then
	python3 "$here/gen.py" "$work" "$nitems"
	echo "$nitems" >"$work/items.count"
fi

# ROUNDS rounds (default 5), the three runs of a round in turn, the
# order reversed every other round, so that a slow minute of a shared
# machine falls on both sides of the ratio rather than on one.
mbps() { sed -n 's/.*mb_per_s=\([0-9.]*\).*/\1/p' "$1"; }
median() { LC_ALL=C sort -n | awk '{ v[NR] = $1 } END {
	if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# the last of the cores this shell may run on ("0-3", "2,5,7")
pin=
if command -v taskset >/dev/null 2>&1 && [ "$(nproc)" -gt 1 ] &&
	cpus=$(taskset -cp $$ 2>/dev/null | sed -n 's/.*: *//p') &&
	[ -n "$cpus" ]; then
	pin="taskset -c ${cpus##*[,-]}"
fi
rounds=${ROUNDS:-5}
case $rounds in
'' | *[!0-9]* | 0) echo "ROUNDS is a number of rounds, 1 or more" >&2; exit 2 ;;
esac
: >"$work/scaling.txt"
for n in 1 100 10000; do : >"$work/mbps-$n.txt"; done
r=1
while [ "$r" -le "$rounds" ]; do
	order="1 100 10000"
	[ $((r % 2)) = 0 ] && order="10000 100 1"
	for n in $order; do
		$pin "$work/bench_match" "$work/items.tsv" "$work/$wl-$n.tsv" \
			"$work/entities.tsv" >"$work/result-$n.txt"
		echo "round $r: $(cat "$work/result-$n.txt")"
		mbps "$work/result-$n.txt" >>"$work/mbps-$n.txt"
	done
	calc "$(mbps "$work/result-10000.txt") / $(mbps "$work/result-1.txt")" >>"$work/scaling.txt"
	echo >>"$work/scaling.txt"
	r=$((r + 1))
done

# grep over the same text (one field per line), CPU time from time(1).
head -c $((grep_mb * 1000000)) "$work/text.txt" >"$work/text-head.txt"
for n in 1 100 10000; do
	input=$work/text.txt
	[ "$n" = 10000 ] && input=$work/text-head.txt
	bytes=$(wc -c <"$input")
	/usr/bin/time -f "%U %S" -o "$work/grep-time-$n.txt" \
		$pin env LC_ALL=C grep -F -w -i -c -f "$work/$pat-$n.txt" \
		"$input" >"$work/grep-count-$n.txt" || true
	secs=$(awk '{ print $1 + $2 }' "$work/grep-time-$n.txt")
	echo "grep patterns=$(wc -l <"$work/$pat-$n.txt")" \
		"bytes=$bytes" \
		"cpu_s=$secs mb_per_s=$(calc "$bytes / 1000000 / $secs")" \
		"lines_matched=$(cat "$work/grep-count-$n.txt")" |
		tee "$work/grep-$n.txt"
done

one=$(median <"$work/mbps-1.txt")
echo
echo "workload: ${WORKLOAD:-realistic}, $rounds rounds (medians)"
echo "scaling, 10000 vs 1 watchlist: $(median <"$work/scaling.txt")  (target >= 0.5;" \
	"rounds: $(tr '\n' ' ' <"$work/scaling.txt"| sed 's/ *$//'))"
echo "1 watchlist: $one MB/s on one core  (target >= 50)"
for n in 1 100 10000; do
	echo "vs grep -F -w -i, $n watchlists: $(calc \
		"$(median <"$work/mbps-$n.txt") / $(mbps "$work/grep-$n.txt")")x"
done
