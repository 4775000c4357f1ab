#!/bin/sh
# feedwatch import-opml on a large subscription list (100,000 outlines in
# 500 folders, just under the 4 MiB input cap), against libxml2's own
# command line parsing the same file (xmllint --noout --stream) in the
# same run. The ratio says what the import costs on top of reading the
# XML: checks, de-duplication, tags, names and the YAML writer.
#
# usage: bench/opml/run.sh [BUILD_DIR]   (after `make build`)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=${1:-$top/build}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

awk 'BEGIN {
	print "<opml version=\"2.0\"><body>"
	for (f = 0; f < 500; f++) {
		printf "<outline text=\"D%d\">\n", f
		for (i = 0; i < 199; i++)
			printf "<outline xmlUrl=\"http://e%d/%d\"/>\n", f, i
		print "</outline>"
	}
	print "</body></opml>"
}' > "$work/big.opml"

t() {
	s=$(date +%s.%N)
	"$@" > /dev/null 2>&1
	e=$(date +%s.%N)
	awk "BEGIN { print $e - $s }"
}
# Three interleaved rounds, best of each side.
best_ours= best_lint=
for i in 1 2 3; do
	o=$(t "$build/daemon/feedwatch" import-opml "$work/big.opml" -o "$work/out.yaml" --force)
	l=$(t xmllint --noout --stream "$work/big.opml")
	if [ -z "$best_ours" ] || awk "BEGIN { exit !($o < $best_ours) }"; then best_ours=$o; fi
	if [ -z "$best_lint" ] || awk "BEGIN { exit !($l < $best_lint) }"; then best_lint=$l; fi
done
feeds=$(grep -c '^- url:' "$work/out.yaml")
echo "input:               $(wc -c < "$work/big.opml") bytes, 100500 outlines, $feeds feeds written"
echo "import-opml:         $best_ours s"
echo "xmllint --stream:    $best_lint s"
awk "BEGIN { printf \"ratio import/parse:  %.1f\n\", $best_ours / $best_lint }"
