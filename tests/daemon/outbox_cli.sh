#!/bin/sh
# feedwatch outbox: list (all, by state), retry and drop, on a real store.
set -eu
fw=$1
dir=$(mktemp -d "${TMPDIR:-/tmp}/fw-outbox-cli.XXXXXX")
trap 'rm -rf "$dir"' EXIT INT TERM
fail() { echo "FAIL: $*" >&2; exit 1; }

printf 'store: %s/state.db\n' "$dir" > "$dir/feedwatch.yaml"
c="-c $dir/feedwatch.yaml"

# An empty (new) store lists nothing.
out=$("$fw" $c outbox list 2>"$dir/err")
[ "$(echo "$out" | wc -l)" -eq 1 ] || fail "empty list: $out"
grep -q "0 pending" "$dir/err" || fail "stats: $(cat "$dir/err")"

id1=11111111-1111-4111-8111-111111111111
id2=22222222-2222-4222-8222-222222222222
sqlite3 "$dir/state.db" "
INSERT INTO outbox (id, alert_id, watchlist, notifier, feed_url, item_key,
  revision, payload, state, attempts, next_attempt_at, created_at, last_error)
VALUES ('$id1', 'a1', 'iraq', 'ops-webhook', 'http://x/feed', 'k1', 0, '{}',
  'dead', 9, 0, 1700000000, 'gave up after 9 attempts: HTTP 503: {\"ok\":false}
'),
 ('$id2', 'a2', 'iraq', 'log', 'http://x/feed', 'k2', 0, '{}',
  'delivered', 1, 0, 1700000001, NULL);"

"$fw" $c outbox list --state dead 2>/dev/null | grep -q "^$id1	dead	9	" ||
	fail "list --state dead"
# The receiver's words, escaped once: quotes as they are, a newline \n.
"$fw" $c outbox list --state dead 2>/dev/null |
	grep -qF 'attempts: HTTP 503: {"ok":false}\n' ||
	fail "list: the error escaped other than once"
"$fw" $c outbox list --state dead 2>/dev/null | grep -q "$id2" &&
	fail "list --state dead shows a delivered row"
[ "$("$fw" $c outbox list 2>/dev/null | wc -l)" -eq 3 ] || fail "list all"
"$fw" $c outbox list --state bogus 2>/dev/null && fail "bad state accepted"

"$fw" $c outbox retry "$id1" || fail "retry"
[ "$(sqlite3 "$dir/state.db" "SELECT state || attempts FROM outbox WHERE id = '$id1'")" = pending0 ] ||
	fail "retry did not reset the row"
"$fw" $c outbox retry "$id2" 2>/dev/null && fail "retried a delivered row"
"$fw" $c outbox drop "$id1" || fail "drop"
"$fw" $c outbox drop "$id1" 2>/dev/null && fail "dropped twice"
[ "$(sqlite3 "$dir/state.db" "SELECT count(*) FROM outbox")" = 1 ] ||
	fail "drop left the row"
"$fw" $c outbox 2>/dev/null && fail "no subcommand accepted"
echo "ok"
