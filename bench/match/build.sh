#!/bin/sh
# Build bench_match.c against BUILD_DIR's libraries into OUT (for run.sh
# and count.sh).
#
# usage: bench/match/build.sh BUILD_DIR OUT (from the top folder)
set -eu
here=$(dirname "$0")
cc -O2 -g -I filters -I feeds -I daemon/core "$here/bench_match.c" \
	"$1/filters/libfwfilters.a" "$1/feeds/libfwfeeds.a" \
	"$1/daemon/core/libfwcore.a" \
	$(pkg-config --libs libutf8proc libpcre2-8) -o "$2"
