#!/bin/sh
# make run: feedwatch on the bundled offline example, with its state in a
# temporary folder so that the checkout stays clean.
set -eu
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/feedwatch-example.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
cp -R "$here/feedwatch.yaml" "$here/feeds" "$tmp/"
echo "feedwatch example in $tmp (configuration: examples/feedwatch.yaml)"
"$bin" check -c "$tmp/feedwatch.yaml"
echo
echo "feedwatch parse --json feeds/world.xml (the normalized record of each item):"
"$bin" parse --json "$tmp/feeds/world.xml"
