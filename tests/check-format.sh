#!/bin/sh
# Every C source and header follows .clang-format.
set -eu
cd "$1"
files=$(find daemon feeds filters notifiers tests bench -name '*.[ch]' 2>/dev/null)
clang-format --dry-run -Werror $files
echo "$(echo "$files" | wc -l) files formatted"
