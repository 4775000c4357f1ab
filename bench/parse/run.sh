#!/bin/sh
# Parser throughput against sfeed and xmllint, measured in the same run.
# usage: run.sh BUILD_DIR [MEGABYTES]   (make bench-parse)
# Generates a large RSS 2.0 and a large Atom 1.0 feed of news items, times
# each reader three times (best run kept), prints MB/s, the ratios to
# sfeed, and the peak RSS of feedwatch's parser on the feed.
set -eu
build=$1
mb=${2:-50}
here=$(cd "$(dirname "$0")" && pwd)
bench="$build/bench/parse/bench_parse"
for tool in sfeed xmllint /usr/bin/time python3; do
	command -v "$tool" >/dev/null || { echo "run.sh: $tool is missing" >&2; exit 1; }
done
tmp=$(mktemp -d "${TMPDIR:-/tmp}/feedwatch-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

best() { # best() CMD...: the shortest wall time of three runs, in seconds
	b=
	for i in 1 2 3; do
		s=$(date +%s.%N)
		"$@" >/dev/null
		e=$(date +%s.%N)
		t=$(echo "$e - $s" | bc -l)
		if [ -z "$b" ] || [ "$(echo "$t < $b" | bc -l)" = 1 ]; then b=$t; fi
	done
	echo "$b"
}

printf '%-6s %-28s %9s %9s\n' feed reader 'MB/s' 'x sfeed'
for kind in rss atom; do
	f="$tmp/$kind.xml"
	python3 "$here/gen.py" "$kind" "$mb" "$f"
	size=$(stat -c %s "$f")
	t_sfeed=$(best sh -c "sfeed < '$f'")
	t_xmllint=$(best xmllint --stream --noout "$f")
	t_full=$(best "$bench" full "$f")
	t_text=$(best "$bench" text "$f")
	t_sax=$(best "$bench" sax "$f")
	t_reader=$(best "$bench" reader "$f")
	for r in "sfeed:$t_sfeed" "xmllint --stream:$t_xmllint" \
	    "feedwatch (full extraction):$t_full" \
	    "feedwatch (with plain text):$t_text" \
	    "libxml2 push SAX, empty:$t_sax" "libxml2 xmlReader:$t_reader"; do
		name=${r%:*}
		t=${r##*:}
		printf '%-6s %-28s %9.1f %9.2f\n' "$kind" "$name" \
		    "$(echo "$size / 1048576 / $t" | bc -l)" \
		    "$(echo "$t_sfeed / $t" | bc -l)"
	done
	rss=$(/usr/bin/time -f %M "$bench" full "$f" 2>&1 >/dev/null | tail -1)
	rss_text=$(/usr/bin/time -f %M "$bench" text "$f" 2>&1 >/dev/null | tail -1)
	echo "$kind: $(echo "$size / 1048576" | bc) MB, $("$bench" full "$f" | cut -d' ' -f2) items;" \
	    "peak RSS of feedwatch's parser: $((rss / 1024)) MB (full)," \
	    "$((rss_text / 1024)) MB (with plain text)"
done
