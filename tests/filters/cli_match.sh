#!/bin/sh
# feedwatch match end to end: a feed file, a configuration with only
# entities and watchlists, text, --json, --explain, --watchlist, errors.
set -u
bin=$1
fixtures=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
ok() { printf 'ok   %s\n' "$1"; }
bad() { printf 'FAIL %s\n' "$1"; fail=1; }
cfg=$fixtures/match/feedwatch.yaml
feed=$fixtures/match/feed.xml

"$bin" match -c "$cfg" "$feed" >"$tmp/text" 2>&1 && ok text-runs ||
    bad "text-runs: $(cat "$tmp/text")"
# A query's terms, titles and snippets as written: no \" for ".
grep -q '^    "São Paulo" in ' "$tmp/text" && ok text-quotes-as-written ||
    bad "text-quotes-as-written: $(grep -F 'São' "$tmp/text")"
grep -q '^  match iraq-coalition$' "$tmp/text" &&
    grep -q '@sudani (alias "Mohamed Shia al-Sudani") in title 0-22: «Mohamed Shia al-Sudani» backs' \
    "$tmp/text" && ok text-hit || bad text-hit

"$bin" match -c "$cfg" --json "$feed" >"$tmp/json" 2>&1 || bad json-runs
/usr/bin/python3 - "$tmp/json" <<'PY' && ok json || bad "json: $(cat "$tmp/json")"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
got = sorted((r["item"]["id"], r["watchlist"]) for r in rows)
want = sorted([("w-1", "iraq-coalition"), ("w-3", "islamic-state"),
               ("w-4", "places"), ("w-4", "jane"), ("w-5", "ball")])
assert got == want, got
for r in rows:
    assert r["matched"] is True and r["hits"], r
    for h in r["hits"]:
        assert set(h) >= {"term", "entity", "alias", "field", "start",
                          "end", "snippet"}, h
is_ = [r for r in rows if r["watchlist"] == "islamic-state"][0]
aliases = [(h["alias"], h["start"], h["end"]) for h in is_["hits"]]
assert aliases == [("IS", 0, 2), ("ISIL", 18, 22)], aliases
places = [r for r in rows if r["watchlist"] == "places"][0]
terms = sorted(h["term"] for h in places["hits"])
assert terms == ['"São Paulo"', "@athens", "москва"], terms
athens = [h for h in places["hits"] if h["term"] == "@athens"][0]
assert athens["alias"] == "Αθήνα" and athens["start"] == 0 and \
    athens["end"] == 10 and athens["snippet"].startswith("«ΑΘΗΝΑ»"), athens
PY

"$bin" match -c "$cfg" --json --explain --watchlist iraq-coalition "$feed" \
    >"$tmp/explain" 2>&1 || bad explain-runs
/usr/bin/python3 - "$tmp/explain" <<'PY' && ok explain || bad "explain: $(cat "$tmp/explain")"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
assert {r["watchlist"] for r in rows} == {"iraq-coalition"}, rows
miss = {r["item"]["id"]: r for r in rows if not r["matched"]}
assert set(miss) == {"w-2", "w-3"}, miss
assert miss["w-2"]["explain"].startswith("none of '(@iraq OR @sudani)'"), miss
assert miss["w-3"]["explain"] == "'coalition' not found", miss
PY

printf 'watchlists:\n  w: {match: "a AND (b"}\n' >"$tmp/bad.yaml"
"$bin" match -c "$tmp/bad.yaml" "$feed" >"$tmp/out" 2>&1
rc=$?
[ $rc -eq 1 ] && grep -q "bad.yaml:2:14: watchlist \"w\": column 9: expected ')'" \
    "$tmp/out" && ok bad-query || bad "bad-query (rc=$rc: $(cat "$tmp/out"))"
printf 'watchlists:\n  w: {match: "@nobody"}\n' >"$tmp/bad.yaml"
"$bin" match -c "$tmp/bad.yaml" "$feed" >"$tmp/out" 2>&1
grep -q 'unknown entity "nobody"' "$tmp/out" && ok bad-entity ||
    bad "bad-entity: $(cat "$tmp/out")"
"$bin" match -c "$cfg" --watchlist nosuch "$feed" >"$tmp/out" 2>&1
[ $? -eq 1 ] && grep -q 'no watchlist "nosuch"' "$tmp/out" &&
    ok unknown-watchlist || bad unknown-watchlist
# A file with no XML element is not a feed with no items.
printf 'Service temporarily unavailable\n' >"$tmp/text.xml"
: >"$tmp/empty.xml"
for f in text empty; do
	"$bin" match -c "$cfg" "$tmp/$f.xml" >"$tmp/out" 2>&1
	rc=$?
	[ $rc -eq 1 ] && grep -q "$f.xml: not a feed" "$tmp/out" &&
	    ok "not-a-feed-$f" || bad "not-a-feed-$f (rc=$rc: $(cat "$tmp/out"))"
done
# feed: is the configured feed's name when the file is that feed's, its
# path with a space in it, reached through a symbolic link or not.
mkdir "$tmp/my dir"
ln -s "$tmp/my dir" "$tmp/link"
printf '<rss version="2.0"><channel><title>Own</title><item><title>x</title>' \
    >"$tmp/my dir/my feed.xml"
printf '<guid>1</guid></item></channel></rss>\n' >>"$tmp/my dir/my feed.xml"
printf "feeds:\n  - {url: 'file:my feed.xml', name: Beta Wire}\n" \
    >"$tmp/my dir/cfg.yaml"
printf "watchlists:\n  w: {match: 'feed:wire'}\n" >>"$tmp/my dir/cfg.yaml"
for d in "my dir" link; do
	"$bin" match -c "$tmp/$d/cfg.yaml" "$tmp/$d/my feed.xml" \
	    >"$tmp/out" 2>&1
	grep -q 'feed:wire in feed 5-9: Beta «Wire»' "$tmp/out" &&
	    ok "feed-name-$d" || bad "feed-name-$d: $(cat "$tmp/out")"
done
"$bin" match -c "$cfg" "$tmp/missing.xml" >/dev/null 2>&1
[ $? -eq 1 ] && ok missing-file || bad missing-file
"$bin" match -c "$cfg" >/dev/null 2>&1
[ $? -eq 2 ] && ok usage || bad usage
exit $fail
