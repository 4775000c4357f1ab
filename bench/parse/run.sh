#!/bin/sh
# Parser throughput against sfeed and xmllint, measured in the same run.
# usage: run.sh BUILD_DIR [MEGABYTES [ROUNDS]]   (make bench-parse)
# Generates a large RSS 2.0 and a large Atom 1.0 feed of news items and
# runs every reader once per round, in turn (so that a burst of load from
# elsewhere falls on all of them alike), ROUNDS rounds (default 5). Prints
# for each reader the best wall time as MB/s and its ratio to sfeed's
# best, then the least CPU time (user+sys, children included) and its
# ratio to sfeed's (steadier on a busy machine), and the peak RSS of
# feedwatch's parser on the feed.
set -eu
build=$1
mb=${2:-50}
rounds=${3:-5}
here=$(cd "$(dirname "$0")" && pwd)
bench="$build/bench/parse/bench_parse"
for tool in sfeed xmllint /usr/bin/time python3; do
	command -v "$tool" >/dev/null || { echo "run.sh: $tool is missing" >&2; exit 1; }
done
tmp=$(mktemp -d "${TMPDIR:-/tmp}/feedwatch-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
readers="1 2 3 4 5 6"

name() { # name() N: what reader N is
	case $1 in
	1) echo "sfeed" ;;
	2) echo "xmllint --stream" ;;
	3) echo "feedwatch (full extraction)" ;;
	4) echo "feedwatch (with plain text)" ;;
	5) echo "libxml2 push SAX, empty" ;;
	6) echo "libxml2 xmlReader" ;;
	esac
}

timed() { # timed() CMD...: run CMD, its CPU time to $tmp/cpu ("USER SYS")
	/usr/bin/time -f '%U %S' -o "$tmp/cpu" "$@" >/dev/null
}

run() { # run() N FILE: reader N over FILE once (timed)
	case $1 in
	1) timed sh -c "sfeed < '$2'" ;;
	2) timed xmllint --stream --noout "$2" ;;
	3) timed "$bench" full "$2" ;;
	4) timed "$bench" text "$2" ;;
	5) timed "$bench" sax "$2" ;;
	6) timed "$bench" reader "$2" ;;
	esac
}

less() { # less() A B: whether A < B (B empty: yes)
	[ -z "$2" ] || [ "$(echo "$1 < $2" | bc -l)" = 1 ]
}

ratio() { # ratio() A B: A / B, or 0 when B is 0 (below the clock's 0.01 s)
	if [ "$(echo "$2 > 0" | bc -l)" = 1 ]; then
		echo "$1 / $2" | bc -l
	else
		echo 0
	fi
}

printf '%-6s %-28s %9s %9s %7s %9s\n' feed reader 'MB/s' 'x sfeed' \
    'CPU s' 'x sfeed'
for kind in rss atom; do
	f="$tmp/$kind.xml"
	python3 "$here/gen.py" "$kind" "$mb" "$f"
	size=$(stat -c %s "$f")
	for n in $readers; do
		eval "wall_$n= cpu_$n="
	done
	i=0
	while [ "$i" -lt "$rounds" ]; do
		i=$((i + 1))
		for n in $readers; do
			s=$(date +%s.%N)
			run "$n" "$f"
			e=$(date +%s.%N)
			t=$(echo "$e - $s" | bc -l)
			u=$(awk '{ print $1 + $2 }' "$tmp/cpu")
			eval "w=\$wall_$n c=\$cpu_$n"
			if less "$t" "$w"; then eval "wall_$n=\$t"; fi
			if less "$u" "$c"; then eval "cpu_$n=\$u"; fi
		done
	done
	for n in $readers; do
		eval "w=\$wall_$n c=\$cpu_$n"
		printf '%-6s %-28s %9.1f %9.2f %7.2f %9.2f\n' "$kind" \
		    "$(name "$n")" "$(echo "$size / 1048576 / $w" | bc -l)" \
		    "$(ratio "$wall_1" "$w")" "$c" "$(ratio "$cpu_1" "$c")"
	done
	rss=$(/usr/bin/time -f %M "$bench" full "$f" 2>&1 >/dev/null | tail -1)
	rss_text=$(/usr/bin/time -f %M "$bench" text "$f" 2>&1 >/dev/null | tail -1)
	echo "$kind: $(echo "$size / 1048576" | bc) MB, $("$bench" full "$f" | cut -d' ' -f2) items;" \
	    "peak RSS of feedwatch's parser: $((rss / 1024)) MB (full)," \
	    "$((rss_text / 1024)) MB (with plain text)"
done
