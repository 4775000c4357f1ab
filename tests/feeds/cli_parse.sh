#!/bin/sh
# feedwatch parse: the record for a document with relative links and a
# Content-Location header, bozo for a cut document, and a "FILE: line N:"
# error (exit 1) for something that is not a feed.
# usage: cli_parse.sh FEEDWATCH FIXTURES_DIR
set -eu
fw=$1
dir=$2
fail() { echo "cli_parse: $*" >&2; exit 1; }

out=$("$fw" parse --json --header 'Content-Location: http://example.org/base/' \
	--header 'Content-Type: application/atom+xml' \
	"$dir/relative.atom")
echo "$out" | grep -q '"link": "http://example.org/base/dir/entry-1.html"' ||
	fail "entry link not resolved: $out"
echo "$out" | grep -q '"title": "Café open"' || fail "title text: $out"
echo "$out" | grep -q '"updated": "2026-11-29T00:10:00Z"' || fail "date: $out"
echo "$out" | grep -q '"bozo": false' || fail "bozo: $out"

out=$("$fw" parse --json "$dir/not-closed.xml") || fail "cut document refused"
echo "$out" | grep -q '"bozo": true' || fail "cut document not bozo: $out"

if err=$("$fw" parse --json "$dir/html-page.xml" 2>&1); then
	fail "an HTML page was accepted"
fi
echo "$err" | grep -q "html-page.xml: .*not a feed" || fail "error: $err"

if "$fw" parse --json http://127.0.0.1:9/feed 2>/dev/null; then
	fail "URLs are not fetched yet, yet parse succeeded"
fi
echo ok
