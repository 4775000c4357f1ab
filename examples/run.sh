#!/bin/sh
# make run: the feedwatch daemon on the bundled offline example, in the
# foreground, with alerts on the console (JSON lines). The state goes to
# a temporary folder so that the checkout stays clean. Ctrl-C stops it.
set -eu
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/feedwatch-example.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cp -R "$here/feedwatch.yaml" "$here/feeds" "$tmp/"
echo "feedwatch example in $tmp (configuration: examples/feedwatch.yaml)"
"$bin" check -c "$tmp/feedwatch.yaml"
echo
echo "feedwatch run: alerts appear below as JSON lines; Ctrl-C stops."
"$bin" run -c "$tmp/feedwatch.yaml" --log-level info || true
