#!/bin/sh
# The binary's front door: help, --version, check on the example and on a
# broken file, unknown commands.
set -u
bin=$1
examples=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
ok() { printf 'ok   %s\n' "$1"; }
bad() { printf 'FAIL %s\n' "$1"; fail=1; }

"$bin" help | grep -q '^  check ' && ok help || bad help
"$bin" --version | grep -q '^  libxml2   2\.' && ok version || bad version
"$bin" check -c "$examples/feedwatch.yaml" >"$tmp/out" 2>&1 &&
    grep -q 'watchlists: 3' "$tmp/out" && ok check-example || bad check-example
"$bin" -c "$examples/feedwatch.yaml" check >/dev/null 2>&1 &&
    ok global-option-before || bad global-option-before
printf 'feeds: [{url: "http://a/", intervall: 5m}]\n' >"$tmp/bad.yaml"
"$bin" check -c "$tmp/bad.yaml" >"$tmp/out" 2>&1
rc=$?
[ $rc -eq 1 ] && grep -q "^$tmp/bad.yaml:1:28: unknown key \"intervall\"" \
    "$tmp/out" && ok check-bad || bad "check-bad (rc=$rc: $(cat "$tmp/out"))"
# Every refused entity, alias and watchlist at once, each where it is
# written; a watchlist naming a refused entity is not refused as well.
cat >"$tmp/bad2.yaml" <<'EOF'
entities:
  x:
    aliases: ["  ", {text: "!!", case_sensitive: true}, fine]
  y: {country: ZZ, name: Why}
watchlists:
  w: {match: "@x OR @y"}
  v: {match: "/(/"}
  u: {match: "a AND (b"}
EOF
"$bin" check -c "$tmp/bad2.yaml" >"$tmp/out" 2>&1
rc=$?
cat >"$tmp/want" <<EOF
$tmp/bad2.yaml:3:15: entity "x": "  " has no letters or digits
$tmp/bad2.yaml:3:28: entity "x": "!!" has no letters or digits
$tmp/bad2.yaml:4:16: entity "y": "ZZ" is not a built-in country code
$tmp/bad2.yaml:7:14: watchlist "v": column 3: bad regex: missing closing parenthesis
$tmp/bad2.yaml:8:14: watchlist "u": column 9: expected ')' to close the '(' at column 7, found the end of the query
EOF
[ $rc -eq 1 ] && cmp -s "$tmp/out" "$tmp/want" && ok check-every-error ||
    bad "check-every-error (rc=$rc: $(diff "$tmp/want" "$tmp/out"))"
# A start that fails says so at error level, every error on its own line.
"$bin" once -c "$tmp/bad2.yaml" >"$tmp/out" 2>&1
rc=$?
[ $rc -eq 1 ] && [ "$(grep -c "^feedwatch: error: $tmp/bad2.yaml:" \
    "$tmp/out")" -eq 5 ] && ok start-errors ||
    bad "start-errors (rc=$rc: $(cat "$tmp/out"))"
# -h and -V are accepted after the command too, as the help says.
for c in check match outbox import-opml; do
	"$bin" $c --help >"$tmp/out" 2>&1
	rc=$?
	[ $rc -eq 0 ] && grep -q '^  status ' "$tmp/out" && ok "$c-help" ||
	    bad "$c-help (rc=$rc: $(cat "$tmp/out"))"
done
"$bin" check -V 2>&1 | grep -q '^  libxml2   2\.' && ok version-after ||
    bad version-after
# feedwatch(1) documents every command the help lists.
man1=$examples/../docs/man/feedwatch.1
missing=
for c in $("$bin" help | sed -n 's/^  \([a-z][a-z-]*\)  .*/\1/p'); do
	grep -q "^\.B $(printf %s "$c" | sed 's/-/\\\\-/g')\( \|$\)" "$man1" ||
	    missing="$missing $c"
done
[ -z "$missing" ] && ok man-commands || bad "man-commands (missing:$missing)"
"$bin" frobnicate >/dev/null 2>&1
[ $? -eq 2 ] && ok unknown-command || bad unknown-command
"$bin" --log-level=shouty help >/dev/null 2>&1
[ $? -eq 2 ] && ok bad-log-level || bad bad-log-level
exit $fail
