#!/bin/sh
# html_to_text throughput on a realistic ~100 KB news article, against
# libxml2's own command line doing the same parse and text extraction
# (xmllint --html --xpath 'string(/)', repeated in-process) in the same run.
#
# usage: bench/text/run.sh [BUILD_DIR] [SECONDS per round]   (after `make build`)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=${1:-$top/build}
seconds=${2:-1}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

python3 "$here/article.py" 102400 > "$work/article.html"
cc -O2 -std=gnu11 -I"$top/feeds" -I"$top/daemon/core" \
	-o "$work/bench_text" "$here/bench_text.c" \
	"$build/feeds/libfwfeeds.a" "$build/daemon/core/libfwcore.a" \
	$(pkg-config --cflags --libs libxml-2.0)

bytes=$(wc -c < "$work/article.html")

# xmllint: --repeat parses (and evaluates the XPath) 100 times in one
# process; one run without it is subtracted to leave out process start-up.
t() {
	s=$(date +%s.%N)
	"$@" > /dev/null 2>&1
	e=$(date +%s.%N)
	awk "BEGIN { print $e - $s }"
}
# Three interleaved rounds, best of each side, so that a busy machine
# hurts both sides alike.
best_ours= best_once= best_rep=
for i in 1 2 3; do
	set -- $("$work/bench_text" "$work/article.html" "$seconds")
	text=$5
	if [ -z "$best_ours" ] || awk "BEGIN { exit !($4 > $best_ours) }"; then best_ours=$4; fi
	o=$(t xmllint --html --xpath 'string(/)' "$work/article.html")
	r=$(t xmllint --repeat --html --xpath 'string(/)' "$work/article.html")
	if [ -z "$best_once" ] || awk "BEGIN { exit !($o < $best_once) }"; then best_once=$o; fi
	if [ -z "$best_rep" ] || awk "BEGIN { exit !($r < $best_rep) }"; then best_rep=$r; fi
done
theirs=$(awk "BEGIN { print $bytes * 99 / ($best_rep - $best_once) / 1000000 }")
echo "article: $bytes bytes of HTML, $text bytes of text"
printf 'html_to_text:                     %.1f MB/s\n' "$best_ours"
printf 'xmllint --html --xpath string(/): %.1f MB/s\n' "$theirs"
printf 'ratio html_to_text / xmllint:     %.2fx\n' \
	"$(awk "BEGIN { print $best_ours / $theirs }")"
