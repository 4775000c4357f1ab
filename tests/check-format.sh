#!/bin/sh
# Every C source and header follows .clang-format.
set -eu
cd "$1"
dirs=""
for d in daemon feeds filters notifiers tests bench; do
	[ -d "$d" ] && dirs="$dirs $d"
done
files=$(find $dirs -name '*.[ch]' | sort)
clang-format --dry-run -Werror $files
echo "$(echo "$files" | wc -l) files formatted"
