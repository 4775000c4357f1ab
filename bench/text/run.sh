#!/bin/sh
# html_to_text throughput on a realistic ~100 KB news article, against
# libxml2's own command line doing the same parse and text extraction
# (xmllint --html --xpath 'string(/)', repeated in-process) in the same run.
#
# usage: bench/text/run.sh [BUILD_DIR] [SECONDS]   (after `make build`)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=${1:-$top/build}
seconds=${2:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

python3 "$here/article.py" 102400 > "$work/article.html"
cc -O2 -std=gnu11 -I"$top/feeds" -I"$top/daemon/core" \
	-o "$work/bench_text" "$here/bench_text.c" \
	"$build/feeds/libfwfeeds.a" "$build/daemon/core/libfwcore.a" \
	$(pkg-config --cflags --libs libxml-2.0)

bytes=$(wc -c < "$work/article.html")
set -- $("$work/bench_text" "$work/article.html" "$seconds")
ours=$4
echo "article: $bytes bytes, html_to_text: $2 runs in $3 s, $ours MB/s, text $5 bytes"

# xmllint: --repeat parses (and evaluates the XPath) 100 times in one
# process; one run without it is subtracted to leave out process start-up.
t() {
	s=$(date +%s.%N)
	"$@" > /dev/null 2>&1
	e=$(date +%s.%N)
	echo "$e - $s" | bc -l
}
best_once= best_rep=
for i in 1 2 3; do
	o=$(t xmllint --html --xpath 'string(/)' "$work/article.html")
	r=$(t xmllint --repeat --html --xpath 'string(/)' "$work/article.html")
	if [ -z "$best_once" ] || [ "$(echo "$o < $best_once" | bc)" = 1 ]; then best_once=$o; fi
	if [ -z "$best_rep" ] || [ "$(echo "$r < $best_rep" | bc)" = 1 ]; then best_rep=$r; fi
done
theirs=$(echo "$bytes * 99 / ($best_rep - $best_once) / 1000000" | bc -l)
printf 'xmllint --html --xpath string(/): %.1f MB/s (99 parses in %.3f s)\n' \
	"$theirs" "$(echo "$best_rep - $best_once" | bc -l)"
printf 'ratio html_to_text / xmllint: %.2fx\n' "$(echo "$ours / $theirs" | bc -l)"
