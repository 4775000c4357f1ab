#!/bin/sh
# Polling benchmark: feedwatch against curl and two peer feed tools, all
# fetching the same generated feeds from a private nginx on 127.0.0.1 in
# one run. See bench/poll/README.md.
#
# usage: bench/poll/run.sh [--feeds N] [--hosts K] [--build DIR] [--keep]
#        bench/poll/run.sh --hold N [--interval DURATION] [--idle SECONDS]
#                          [--hosts K] [--build DIR] [--keep]
#        bench/poll/run.sh --store-share RUNS [--feeds N] [--hosts K]
#                          [--build DIR] [--keep]
#
# The first form times one cycle over N feeds (default 1000) and a second
# cycle with nothing changed, for: curl --parallel (the floor: fetch only),
# curl with conditional requests (the 304 floor), sfeed_update, rss2email
# and `feedwatch once`. The second form starts `feedwatch run` on N feeds,
# waits for its first cycle, then samples its peak RSS and its CPU time
# over an idle window. Everything stops by itself; nothing listens beyond
# loopback: 127.0.0.1, or 127.0.0.1 to 127.0.0.K with --hosts K (the feeds
# then take the K addresses in turn, so that per-host limits see K hosts).
# The third form runs `feedwatch once` on a fresh store RUNS times with
# uprobes on the store and the parser (perf, as root) and prints the
# store's share of each first cycle: the figure the store's target is
# about (bench/store/README.md).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=$top/build
feeds=1000
hold=0
share=0
interval=2m
idle=60
hosts=1
keep=0
# Time limits (seconds) for every tool run; a run over its limit is killed
# and reported as such.
LIMIT_CURL=120
LIMIT_SFEED=600
LIMIT_R2E=900
LIMIT_FEEDWATCH=600
LIMIT_HOLD_FIRST_CYCLE=900
# Parallelism shared by curl, sfeed_update and feedwatch's default.
PARALLEL=32

die() {
	echo "bench/poll: $*" >&2
	exit 1
}

usage() {
	sed -n '6,10p' "$0" | sed 's/^# \{0,1\}//'
	exit "$1"
}

while [ $# -gt 0 ]; do
	case $1 in
	--feeds) [ $# -ge 2 ] || usage 2; feeds=$2; shift 2 ;;
	--build) [ $# -ge 2 ] || usage 2; build=$2; shift 2 ;;
	--hold) [ $# -ge 2 ] || usage 2; hold=1; feeds=$2; shift 2 ;;
	--store-share) [ $# -ge 2 ] || usage 2; share=$2; shift 2 ;;
	--interval) [ $# -ge 2 ] || usage 2; interval=$2; shift 2 ;;
	--idle) [ $# -ge 2 ] || usage 2; idle=$2; shift 2 ;;
	--hosts) [ $# -ge 2 ] || usage 2; hosts=$2; shift 2 ;;
	--keep) keep=1; shift ;;
	-h | --help) usage 0 ;;
	*) echo "bench/poll: unknown argument: $1" >&2; usage 2 ;;
	esac
done
case $feeds in '' | *[!0-9]*) die "--feeds/--hold needs a number, not '$feeds'" ;; esac
case $hosts in '' | *[!0-9]*) die "--hosts needs a number, not '$hosts'" ;; esac
[ "$hosts" -ge 1 ] && [ "$hosts" -le 254 ] || die "--hosts must be 1 to 254"
case $idle in '' | *[!0-9]*) die "--idle needs a number of seconds, not '$idle'" ;; esac
case $share in '' | *[!0-9]*) die "--store-share needs a number of runs, not '$share'" ;; esac
[ "$hold" -eq 0 ] || [ "$share" -eq 0 ] || die "--hold and --store-share are two modes: one at a time"
# the modes without the peers
solo=$((hold + (share > 0 ? 1 : 0)))
[ "$feeds" -ge 1 ] || die "need at least one feed"
[ "$idle" -ge 5 ] || die "--idle must be at least 5 seconds"
case $build in /*) ;; *) build=$(pwd)/$build ;; esac
fw=$build/daemon/feedwatch

# The Debian packages this script runs (make bench-poll installs them).
missing=
need() { # need COMMAND PACKAGE
	command -v "$1" >/dev/null 2>&1 || missing="$missing $2"
}
need /usr/sbin/nginx nginx
need curl curl
need /usr/bin/time time
need python3 python3
need timeout coreutils
if [ "$solo" -eq 0 ]; then
	need sfeed_update sfeed
	need r2e rss2email
fi
[ "$share" -eq 0 ] || need perf linux-perf
[ -z "$missing" ] || die "missing Debian packages:$missing (install them, or run make bench-poll)"

# has_command NAME: the build's feedwatch lists NAME among its commands.
has_command() {
	[ -x "$fw" ] && "$fw" help 2>&1 | grep -q "^  $1 "
}
# The hold mode has nothing to measure without the daemon: say so first.
if [ "$share" -gt 0 ]; then
	[ -x "$fw" ] || { echo "feedwatch: no binary at $fw (run make build)"; exit 0; }
	[ "$(id -u)" -eq 0 ] || die "--store-share places uprobes: run it as root"
fi
if [ "$hold" -eq 1 ]; then
	if [ ! -x "$fw" ]; then
		echo "feedwatch: no binary at $fw (run make build)"
		exit 0
	fi
	if ! has_command run; then
		echo "feedwatch: run not available in this build"
		exit 0
	fi
fi

# --- the work folder, and stopping everything on the way out -------------

work=$(mktemp -d "${TMPDIR:-/tmp}/feedwatch-pollbench.XXXXXX")
nginx_pid=
daemon_pid=
tool_pid=

stop_pid() { # stop_pid PID: TERM, up to 10 s, then KILL
	[ -n "$1" ] || return 0
	kill -TERM "$1" 2>/dev/null || return 0
	i=0
	while kill -0 "$1" 2>/dev/null && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -KILL "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

cleanup() {
	trap - EXIT INT TERM
	if [ -n "$tool_pid" ]; then
		kill -TERM -- "-$tool_pid" 2>/dev/null || kill -TERM "$tool_pid" 2>/dev/null || true
		wait "$tool_pid" 2>/dev/null || true
	fi
	stop_pid "$daemon_pid"
	stop_pid "$nginx_pid"
	if [ "$keep" -eq 1 ]; then
		echo "bench/poll: kept $work"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mkdir -p "$work/www" "$work/nginx/tmp" "$work/log"

# --- small functions --------------------------------------------------------

now() { date +%s.%N; }
sub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
# ratio A B: A / B with two decimals, or "-" without both numbers.
ratio() {
	case "$1$2" in *-* | '') echo "-"; return ;; esac
	awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1fx", a / b; else print "-" }'
}
loglines() { wc -l < "$work/nginx/access.log"; }
# statuses FROM TO: "N requests, S% 304 (200:x 304:y ...)" for access log
# lines FROM+1..TO.
statuses() {
	sed -n "$(($1 + 1)),$2p" "$work/nginx/access.log" | awk '
		{ n++; c[$1]++ }
		END {
			if (n == 0) { print "0 0 -"; exit }
			s = ""
			for (k in c) s = s (s == "" ? "" : ",") k ":" c[k]
			printf "%d %.1f %s\n", n, 100 * c["304"] / n, s
		}'
}

# timed NAME LIMIT CMD...: run CMD under a time limit, output to
# $work/log/NAME.out, /usr/bin/time -v to $work/log/NAME.time. Sets SECS
# (wall clock; "-" when it failed to finish), RC, CPU (user + system
# seconds, children included), RSS (peak, KiB of the largest process),
# REQS, PCT304, CODES (nginx access log of the run).
timed() {
	name=$1 limit=$2
	shift 2
	from=$(loglines)
	start=$(now)
	RC=0
	# In the background, so that a signal to this script is handled at
	# once (cleanup then stops the tool's whole process group, which
	# timeout makes its own).
	timeout -k 5 "$limit" /usr/bin/time -v -o "$work/log/$name.time" \
		"$@" > "$work/log/$name.out" 2>&1 &
	tool_pid=$!
	wait "$tool_pid" || RC=$?
	tool_pid=
	end=$(now)
	SECS=$(sub "$start" "$end")
	# nginx logs a request once it is answered; let the last line land.
	sleep 0.2
	set -- $(statuses "$from" "$(loglines)")
	REQS=$1 PCT304=$2 CODES=$3
	RSS=$(awk -F': ' '/Maximum resident set size/ { print $2 }' \
		"$work/log/$name.time" 2>/dev/null || true)
	[ -n "$RSS" ] || RSS=-
	CPU=$(awk -F': ' '/(User|System) time/ { t += $2; n++ }
		END { if (n == 2) printf "%.2f", t; else print "-" }' \
		"$work/log/$name.time" 2>/dev/null || echo -)
	if [ "$RC" -eq 124 ] || [ "$RC" -eq 137 ]; then
		echo "  $name: killed after its ${limit}s limit" >&2
		SECS=-
	elif [ "$RC" -ne 0 ]; then
		echo "  $name: exit $RC; last lines of its output:" >&2
		tail -n 5 "$work/log/$name.out" | sed 's/^/    /' >&2
	fi
}

# --- feeds and nginx -------------------------------------------------------

printf 'generating %d feeds... ' "$feeds"
s=$(now)
python3 "$here/gen.py" "$feeds" "$work/www" > "$work/feeds.tsv"
echo "ping" > "$work/www/ping.txt"
bytes=$(du -sb "$work/www" | cut -f1)
items=$(awk -F'\t' '{ n += $4 } END { print n }' "$work/feeds.tsv")
printf '%d items, %.1f MB, in %ss\n' "$items" \
	"$(awk -v b="$bytes" 'BEGIN { print b / 1e6 }')" "$(sub "$s" "$(now)")"

# Port: a free one picked by the kernel, retried if nginx loses the race.
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start_nginx() {
	user=
	if [ "$(id -u)" -eq 0 ]; then
		# As root, nginx's workers drop to nobody: let them read the feeds.
		user="user nobody nogroup;"
		chmod 755 "$work"
	fi
	for attempt in 1 2 3 4 5; do
		port=$(free_port)
		listen=$(awk -v k="$hosts" -v p="$port" 'BEGIN {
			for (i = 1; i <= k; i++)
				printf "        listen 127.0.0.%d:%d;\n", i, p }')
		cat > "$work/nginx/nginx.conf" <<-EOF
		# generated by bench/poll/run.sh
		$user
		daemon off;
		master_process on;
		worker_processes 1;
		pid $work/nginx/nginx.pid;
		error_log $work/nginx/error.log warn;
		events { worker_connections 1024; }
		http {
		    include /etc/nginx/mime.types;
		    default_type application/octet-stream;
		    log_format bench '\$status \$request_method \$request_uri \$body_bytes_sent';
		    access_log $work/nginx/access.log bench;
		    client_body_temp_path $work/nginx/tmp/body;
		    proxy_temp_path $work/nginx/tmp/proxy;
		    fastcgi_temp_path $work/nginx/tmp/fastcgi;
		    uwsgi_temp_path $work/nginx/tmp/uwsgi;
		    scgi_temp_path $work/nginx/tmp/scgi;
		    sendfile on;
		    keepalive_requests 100000;
		    server_tokens off;
		    # Static files: ETag and Last-Modified from the file, and
		    # If-None-Match / If-Modified-Since answered with 304. No gzip:
		    # every client receives the same bytes.
		    gzip off;
		    etag on;
		    server {
		$listen
		        root $work/www;
		        # Every tenth feed: Last-Modified only, as many servers do.
		        location /lm/ { etag off; }
		    }
		}
		EOF
		: > "$work/nginx/access.log"
		/usr/sbin/nginx -e "$work/nginx/error.log" -p "$work/nginx" \
			-c "$work/nginx/nginx.conf" &
		nginx_pid=$!
		i=0
		while [ $i -lt 50 ] && kill -0 "$nginx_pid" 2>/dev/null; do
			if [ "$(curl -s -m 1 -o /dev/null -w '%{http_code}' \
			    "http://127.0.0.1:$port/ping.txt" || true)" = 200 ]; then
				base=http://127.0.0.1:$port
				return 0
			fi
			sleep 0.1
			i=$((i + 1))
		done
		stop_pid "$nginx_pid"
		nginx_pid=
	done
	tail -n 5 "$work/nginx/error.log" >&2 || true
	die "nginx did not start (error log above)"
}
start_nginx
if [ "$hosts" -eq 1 ]; then
	where=$base
else
	where="http://127.0.0.{1..$hosts}:$port"
fi
echo "nginx $(/usr/sbin/nginx -v 2>&1 | sed 's/.*nginx\///') on $where (gzip off, etag on; /lm/ feeds Last-Modified only)"
# From here on the first column of feeds.tsv is the feed's URL, feeds
# taking the addresses in turn.
awk -F'\t' -v OFS='\t' -v k="$hosts" -v p="$port" '{
	$1 = "http://127.0.0." ((NR - 1) % k + 1) ":" p $1; print
}' "$work/feeds.tsv" > "$work/urls.tsv"
mv "$work/urls.tsv" "$work/feeds.tsv"

# --- the feedwatch configuration -------------------------------------------

mkdir -p "$work/fw"
{
	echo "# generated by bench/poll/run.sh: $feeds local feeds"
	echo "store: state.db"
	# The feeds are on loopback, which the SSRF guard refuses by default.
	echo "fetch: {block_private_addresses: false}"
	if [ "$hold" -eq 1 ]; then
		echo "defaults: {interval: $interval, timeout: 30s}"
	else
		echo "defaults: {interval: 10m, timeout: 30s}"
	fi
	echo "feeds:"
	awk -F'\t' '{
		printf "  - {url: \"%s\", name: %s, tags: [%s]}\n", $1, $2, $3
	}' "$work/feeds.tsv"
	cat <<-'EOF'
	entities:
	  sudani:
	    name: Mohammed Shia al-Sudani
	    aliases: [Mohamed Shia al-Sudani, Sudani, Soudani]
	watchlists:
	  iraq-coalition:
	    match: 'coalition AND (iraq OR iraqi OR @sudani) NOT title:sport'
	    feeds: [middle-east, world]
	    notify: [console]
	  cyber:
	    match: 'ransomware OR "data breach"'
	    notify: [console]
	notifiers:
	  console:
	    type: console
	EOF
} > "$work/fw/feedwatch.yaml"

# --- store-share mode: the store's part of feedwatch's first cycle --------

# Uprobes (entry and return) on the store's ingest path, its checkpoint
# and the parser; the time between entry and return summed per function,
# per thread, by probe_sum.
SHARE_FUNCS="store_ingest store_batch_begin store_batch_commit store_checkpoint feedparse_push"
probe_sum() {
	perf script -i "$1" -F tid,time,event 2>/dev/null | awk '{
		t = $2; sub(/:$/, "", t); ev = $3
		sub(/^probe_feedwatch:/, "", ev); sub(/:$/, "", ev)
		if (ev ~ /__return$/) {
			fn = ev; sub(/__return$/, "", fn); k = $1 SUBSEP fn
			if (k in st) { tot[fn] += t - st[k]; delete st[k] }
		} else
			st[$1 SUBSEP ev] = t
	} END { for (f in tot) printf "%s %.6f\n", f, tot[f] }'
}
if [ "$share" -gt 0 ]; then
	perf probe -q -d 'probe_feedwatch:*' 2>/dev/null || true
	for f in $SHARE_FUNCS; do
		perf probe -q -x "$fw" -a "$f" -a "$f%return" ||
			die "perf probe could not place a uprobe on $f in $fw"
	done
	echo "feedwatch once on a fresh store, $share runs (uprobes on: $SHARE_FUNCS)"
	printf '%-4s %8s %8s %8s %8s %10s %8s\n' run cycle store share ckpt "+ckpt" parse
	: > "$work/log/shares"
	r=1
	while [ "$r" -le "$share" ]; do
		rm -f "$work/fw/state.db" "$work/fw/state.db-wal" "$work/fw/state.db-shm"
		# the cycle is feedwatch's own wall clock, not perf's start-up
		(cd "$work/fw" && perf record -q -e 'probe_feedwatch:*' \
			-o "$work/log/probe.data" -- /usr/bin/time -f %e \
			-o "$work/log/share.time" timeout "$LIMIT_FEEDWATCH" \
			"$fw" once -c feedwatch.yaml) > "$work/log/share.out" 2>&1 ||
			{ tail -n 5 "$work/log/share.out" >&2; die "feedwatch once failed (its last lines above)"; }
		cycle=$(tail -n 1 "$work/log/share.time")
		probe_sum "$work/log/probe.data" > "$work/log/probe.sum"
		awk -v c="$cycle" -v r="$r" '
			$1 ~ /^store_(ingest|batch_)/ { s += $2 }
			$1 == "store_checkpoint" { k = $2 }
			$1 == "feedparse_push" { p = $2 }
			END {
				printf "%-4d %7.3fs %7.3fs %7.1f%% %7.3fs %9.1f%% %7.3fs\n",
				    r, c, s, 100 * s / c, k, 100 * (s + k) / c, p
				printf "%.1f %.1f\n", 100 * s / c, 100 * (s + k) / c > "/dev/stderr"
			}' "$work/log/probe.sum" 2>> "$work/log/shares"
		r=$((r + 1))
	done
	perf probe -q -d 'probe_feedwatch:*' 2>/dev/null || true
	sort -n -k2 "$work/log/shares" | awk '{ a[NR] = $2; b[NR] = $1 }
		END { m = int((NR + 1) / 2)
		printf "median of %d runs: store %.1f%% of the first cycle with the exit checkpoint (%.1f%% without); target < 25%%: %s\n",
		    NR, a[m], b[m], a[m] < 25 ? "PASS" : "FAIL" }'
	echo "(cycle: feedwatch once from start to exit, under the probes; store: its"
	echo " ingests with their transactions' begin and commit; ckpt: the copy of the"
	echo " log at the exit; parse: the parser, plain text included)"
	exit 0
fi

# --- hold mode: feedwatch run on many feeds, RSS and idle CPU -------------

# proc_cpu PID: user+system CPU ticks of the whole process.
proc_cpu() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# proc_kib PID FIELD: a "kB" field of /proc/PID/status (VmHWM, VmRSS).
proc_kib() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }
# proc_switches PID: context switches (voluntary + not) of all threads.
proc_switches() {
	cat /proc/"$1"/task/*/status 2>/dev/null | awk '
		/^(non)?voluntary_ctxt_switches:/ { n += $2 } END { print n + 0 }'
}
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

if [ "$hold" -eq 1 ]; then
	"$fw" check -c "$work/fw/feedwatch.yaml" > "$work/log/check.out" 2>&1 ||
		{ cat "$work/log/check.out" >&2; die "feedwatch check refused the generated configuration"; }
	hz=$(getconf CLK_TCK)
	from=$(loglines)
	start=$(now)
	"$fw" run -c "$work/fw/feedwatch.yaml" > "$work/log/hold.out" 2>&1 &
	daemon_pid=$!
	echo "feedwatch run (pid $daemon_pid): $feeds feeds, interval $interval; waiting for the first cycle (limit ${LIMIT_HOLD_FIRST_CYCLE}s)"

	# The first cycle is over when every feed was requested once and the
	# daemon's CPU time has stood still for two seconds (parse, store and
	# match done).
	alive() {
		kill -0 "$daemon_pid" 2>/dev/null || {
			tail -n 10 "$work/log/hold.out" >&2
			daemon_pid=
			die "feedwatch run exited early (its last lines above)"
		}
	}
	last=-1 still=0
	while :; do
		alive
		el=$(sub "$start" "$(now)")
		if awk -v e="$el" -v l="$LIMIT_HOLD_FIRST_CYCLE" 'BEGIN { exit !(e > l) }'; then
			die "the first cycle did not finish within ${LIMIT_HOLD_FIRST_CYCLE}s"
		fi
		seen=$(sed -n "$((from + 1)),\$p" "$work/nginx/access.log" |
			awk '{ u[$3] = 1 } END { print length(u) }')
		cpu=$(proc_cpu "$daemon_pid")
		if [ "$seen" -ge "$feeds" ] && [ "$cpu" -le $((last + 1)) ]; then
			still=$((still + 1))
		else
			still=0
		fi
		last=$cpu
		[ "$still" -lt 2 ] || break
		sleep 1
	done
	first=$(sub "$start" "$(now)")
	hwm1=$(proc_kib "$daemon_pid" VmHWM)
	echo "first cycle over after ~${first}s (every feed requested, CPU still for 2 s); peak RSS so far $(mib "$hwm1") MiB"

	echo "sampling ${idle}s of idle..."
	ifrom=$(loglines)
	cpu0=$(proc_cpu "$daemon_pid")
	sw0=$(proc_switches "$daemon_pid")
	t0=$(now)
	sleep "$idle"
	alive
	cpu1=$(proc_cpu "$daemon_pid")
	sw1=$(proc_switches "$daemon_pid")
	t1=$(now)
	hwm=$(proc_kib "$daemon_pid" VmHWM)
	rss=$(proc_kib "$daemon_pid" VmRSS)
	set -- $(statuses "$ifrom" "$(loglines)")
	ireqs=$1
	span=$(sub "$t0" "$t1")
	pct=$(awk -v c=$((cpu1 - cpu0)) -v hz="$hz" -v s="$span" \
		'BEGIN { printf "%.2f", 100 * c / hz / s }')
	wake=$(awk -v n=$((sw1 - sw0)) -v s="$span" 'BEGIN { printf "%.1f", n / s }')
	stop_pid "$daemon_pid"
	daemon_pid=

	verdict() { awk -v v="$1" -v l="$2" 'BEGIN { print (v < l) ? "PASS" : "FAIL" }'; }
	echo
	echo "feedwatch run, $feeds feeds ($items items), interval $interval"
	printf '  peak RSS (VmHWM)          %8s MiB   target < 64 MiB   %s\n' \
		"$(mib "$hwm")" "$(verdict "$(mib "$hwm")" 64)"
	printf '  RSS at the end (VmRSS)    %8s MiB\n' "$(mib "$rss")"
	printf '  idle CPU over %ss        %8s %%     target < 1%%       %s\n' \
		"$idle" "$pct" "$(verdict "$pct" 1)"
	printf '  context switches, idle    %8s /s\n' "$wake"
	printf '  requests during the idle window: %s' "$ireqs"
	if [ "$ireqs" -gt 0 ]; then
		echo " (polls fell inside the window: the CPU figure includes them)"
	else
		echo
	fi
	exit 0
fi

# --- cycle mode ------------------------------------------------------------

mkdir -p "$work/curl/h" "$work/curl/bodies" "$work/sfeed" "$work/r2e"
awk -F'\t' '{
	printf "url = \"%s\"\noutput = \"/dev/null\"\n", $1
}' "$work/feeds.tsv" > "$work/curl/get.cfg"
# The same fetch keeping each body in a file of its own: what fetching
# means to a tool that keeps what it fetched (feedwatch stores items).
# Reported beside the floor, not used for the targets.
awk -F'\t' -v dir="$work/curl/bodies" '{
	printf "url = \"%s\"\noutput = \"%s/%s\"\n", $1, dir, $2
}' "$work/feeds.tsv" > "$work/curl/save.cfg"

# The validators a conditional client would have kept: one untimed HEAD
# pass, then a curl config sending them back (If-None-Match when the server
# gave an ETag, If-Modified-Since when it gave a Last-Modified).
curl_validators() {
	awk -F'\t' -v dir="$work/curl/h" '{
		printf "url = \"%s\"\noutput = \"%s/%s\"\n", $1, dir, $2
	}' "$work/feeds.tsv" > "$work/curl/head.cfg"
	timeout "$LIMIT_CURL" curl -s -S --no-progress-meter --parallel --parallel-max "$PARALLEL" \
		-I -K "$work/curl/head.cfg" || die "curl could not fetch the feed headers"
	awk -F'\t' -v dir="$work/curl/h" '{
		f = dir "/" $2
		etag = ""; lm = ""
		while ((getline line < f) > 0) {
			sub(/\r$/, "", line)
			if (tolower(line) ~ /^etag: /) etag = substr(line, 7)
			if (tolower(line) ~ /^last-modified: /) lm = substr(line, 16)
		}
		close(f)
		if (NR > 1) print "next"
		printf "url = \"%s\"\noutput = \"/dev/null\"\n", $1
		gsub(/"/, "\\\"", etag)
		if (etag != "") printf "header = \"If-None-Match: %s\"\n", etag
		if (lm != "") printf "header = \"If-Modified-Since: %s\"\n", lm
	}' "$work/feeds.tsv" > "$work/curl/cond.cfg"
}

min() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || (b != "-" && b < a)) print b; else print a }'; }

# curl_best NAME CFG WHAT: the best of three `curl -K CFG` runs in BEST,
# its CPU in BEST_CPU (timed's REQS, PCT304 and RSS: the last run's).
curl_best() {
	BEST=- BEST_CPU=-
	for i in 1 2 3; do
		rm -rf "$work/curl/bodies" && mkdir "$work/curl/bodies"
		timed "$1-$i" "$LIMIT_CURL" curl -s -S --no-progress-meter --parallel \
			--parallel-max "$PARALLEL" -K "$2"
		[ "$RC" -eq 0 ] || die "$3 failed (exit $RC)"
		[ "$(min "$BEST" "$SECS")" != "$SECS" ] || BEST_CPU=$CPU
		BEST=$(min "$BEST" "$SECS")
	done
	rm -rf "$work/curl/bodies" && mkdir "$work/curl/bodies"
}

# curl_floors TAG: each curl row's best of three; FLOOR, FLOOR304 and
# SAVED keep the least over every call, with their CPU.
FLOOR=- FLOOR304=- FLOOR_PCT=- FLOOR304_PCT=- FLOOR_CPU=- FLOOR304_CPU=-
SAVED=- SAVED_CPU=- SAVED_REQS=- SAVED_RSS=-
curl_floors() {
	curl_best "curl-$1" "$work/curl/get.cfg" "curl floor"
	FLOOR_PCT=$PCT304 FLOOR_REQS=$REQS FLOOR_RSS=$RSS best=$BEST
	[ "$(min "$FLOOR" "$BEST")" != "$BEST" ] || FLOOR_CPU=$BEST_CPU
	FLOOR=$(min "$FLOOR" "$BEST")
	curl_best "curl304-$1" "$work/curl/cond.cfg" "curl 304 floor"
	FLOOR304_PCT=$PCT304 FLOOR304_REQS=$REQS FLOOR304_RSS=$RSS best304=$BEST
	[ "$(min "$FLOOR304" "$BEST")" != "$BEST" ] || FLOOR304_CPU=$BEST_CPU
	FLOOR304=$(min "$FLOOR304" "$BEST")
	curl_best "curlsave-$1" "$work/curl/save.cfg" "curl fetch to files"
	SAVED_REQS=$REQS SAVED_RSS=$RSS
	[ "$(min "$SAVED" "$BEST")" != "$BEST" ] || SAVED_CPU=$BEST_CPU
	SAVED=$(min "$SAVED" "$BEST")
	echo "  curl floors ($1, best of 3): ${best}s fetch, ${best304}s conditional ($FLOOR304_PCT% 304), ${BEST}s fetch to files"
}

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"
curl_validators
curl_floors start

# sfeed_update: Debian's sfeed, maxjobs=32, its stock fetch (curl, no
# conditional requests) and merge.
{
	echo "# generated by bench/poll/run.sh"
	echo "sfeedpath=\"$work/sfeed/feeds\""
	echo "maxjobs=$PARALLEL"
	echo "feeds() {"
	awk -F'\t' '{ printf "\tfeed \"%s\" \"%s\"\n", $2, $1 }' "$work/feeds.tsv"
	echo "}"
} > "$work/sfeed/sfeedrc"
sfeed_items() { cat "$work/sfeed/feeds"/* 2>/dev/null | wc -l; }
echo "  sfeed_update, first cycle..."
timed sfeed-1 "$LIMIT_SFEED" sfeed_update "$work/sfeed/sfeedrc"
S1=$SECS S1_CPU=$CPU S1_REQS=$REQS S1_RSS=$RSS S1_ITEMS=$(sfeed_items)
echo "  sfeed_update, second cycle..."
timed sfeed-2 "$LIMIT_SFEED" sfeed_update "$work/sfeed/sfeedrc"
S2=$SECS S2_CPU=$CPU S2_REQS=$REQS S2_PCT=$PCT304 S2_CODES=$CODES

# rss2email: a new database, the feeds imported from OPML, then two runs
# without sending mail. It keeps ETag and Last-Modified per feed.
{
	echo '<?xml version="1.0" encoding="UTF-8"?>'
	echo '<opml version="2.0"><head><title>bench</title></head><body>'
	awk -F'\t' '{
		printf "<outline type=\"rss\" text=\"%s\" xmlUrl=\"%s\"/>\n", $2, $1
	}' "$work/feeds.tsv"
	echo '</body></opml>'
} > "$work/r2e/feeds.opml"
r2e_cmd() { r2e -c "$work/r2e/r2e.cfg" -d "$work/r2e/r2e.json" "$@"; }
{
	r2e_cmd new bench@example.invalid &&
		r2e_cmd opmlimport "$work/r2e/feeds.opml"
} > "$work/log/r2e-setup.out" 2>&1 ||
	{ tail -n 5 "$work/log/r2e-setup.out" >&2; die "rss2email setup failed"; }
r2e_items() {
	python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(sum(len(f.get("seen", {})) for f in d.get("feeds", [])))' "$work/r2e/r2e.json" 2>/dev/null || echo -
}
echo "  rss2email, first cycle..."
timed r2e-1 "$LIMIT_R2E" r2e -c "$work/r2e/r2e.cfg" -d "$work/r2e/r2e.json" run --no-send
R1=$SECS R1_CPU=$CPU R1_REQS=$REQS R1_RSS=$RSS R1_ITEMS=$(r2e_items)
echo "  rss2email, second cycle..."
timed r2e-2 "$LIMIT_R2E" r2e -c "$work/r2e/r2e.cfg" -d "$work/r2e/r2e.json" run --no-send
R2=$SECS R2_CPU=$CPU R2_REQS=$REQS R2_PCT=$PCT304 R2_CODES=$CODES

# feedwatch once: an empty store, then the same store again.
FW=
if [ ! -x "$fw" ]; then
	FW="feedwatch: no binary at $fw (run make build)"
elif ! has_command once; then
	FW="feedwatch: once not available in this build"
elif ! "$fw" check -c "$work/fw/feedwatch.yaml" > "$work/log/check.out" 2>&1; then
	tail -n 5 "$work/log/check.out" >&2
	FW="feedwatch: check refused the generated configuration (above)"
else
	echo "  feedwatch once, first cycle..."
	timed fw-1 "$LIMIT_FEEDWATCH" "$fw" once -c "$work/fw/feedwatch.yaml"
	F1=$SECS F1_CPU=$CPU F1_REQS=$REQS F1_RSS=$RSS F1_RC=$RC
	echo "  feedwatch once, second cycle..."
	timed fw-2 "$LIMIT_FEEDWATCH" "$fw" once -c "$work/fw/feedwatch.yaml"
	F2=$SECS F2_CPU=$CPU F2_REQS=$REQS F2_PCT=$PCT304 F2_CODES=$CODES F2_RSS=$RSS F2_RC=$RC
fi

curl_floors end

# --- the table -------------------------------------------------------------

fw_items() {
	sqlite3 "$work/fw/state.db" 'SELECT count(*) FROM items' 2>/dev/null || echo -
}
# row TOOL FIRST SECOND CPU1 CPU2 REQS1/REQS2 PCT304 RSS_KIB ITEMS
row() {
	rss=-
	[ "$8" = - ] || rss=$(mib "$8")
	printf '%-24s %8s %8s %9s %9s %7s %7s %9s %7s %7s %6s\n' "$1" "$2" "$3" \
		"$(ratio "$2" "$FLOOR")" "$(ratio "$3" "$FLOOR304")" "$4" "$5" \
		"$6" "$7" "$rss" "$9"
}
echo
echo "$feeds feeds, $items items, $(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1e6 }') MB; nginx on $where, gzip off"
printf '%-24s %8s %8s %9s %9s %7s %7s %9s %7s %7s %6s\n' tool "1st s" \
	"2nd s" "1st/floor" "2nd/304fl" "1st cpu" "2nd cpu" requests "2nd 304" \
	"RSS MiB" items
row "curl --parallel (floor)" "$FLOOR" - "$FLOOR_CPU" - "$FLOOR_REQS/-" - \
	"$FLOOR_RSS" -
row "curl conditional (304)" - "$FLOOR304" - "$FLOOR304_CPU" \
	"-/$FLOOR304_REQS" "$FLOOR304_PCT%" "$FLOOR304_RSS" -
row "curl, bodies to files" "$SAVED" - "$SAVED_CPU" - "$SAVED_REQS/-" - \
	"$SAVED_RSS" -
row sfeed_update "$S1" "$S2" "$S1_CPU" "$S2_CPU" "$S1_REQS/$S2_REQS" \
	"$S2_PCT%" "$S1_RSS" "$S1_ITEMS"
row "rss2email (r2e)" "$R1" "$R2" "$R1_CPU" "$R2_CPU" "$R1_REQS/$R2_REQS" \
	"$R2_PCT%" "$R1_RSS" "$R1_ITEMS"
if [ -n "$FW" ]; then
	echo "$FW"
else
	frss=$F1_RSS
	[ "$F2_RSS" = - ] || [ "$frss" = - ] || [ "$F2_RSS" -le "$frss" ] || frss=$F2_RSS
	row "feedwatch once" "$F1" "$F2" "$F1_CPU" "$F2_CPU" "$F1_REQS/$F2_REQS" \
		"$F2_PCT%" "$frss" "$(fw_items)"
fi
echo "(s: wall clock; cpu: user + system seconds, children included; floors: best"
echo " of 6 runs, 3 before and 3 after the tools; RSS: peak of the largest process;"
echo " items: what each tool stored after the first cycle)"
if [ "$hosts" -eq 1 ]; then
	echo "(one host: feedwatch's per-host cap, 2 transfers by default, applies;"
	echo " curl and sfeed_update run $PARALLEL at once; --hosts 16 spreads the feeds)"
fi
echo "second cycle status codes: sfeed_update $S2_CODES; rss2email $R2_CODES"
if [ -z "$FW" ]; then
	echo "                           feedwatch $F2_CODES"
	[ "$F1_RC" -eq 0 ] || echo "feedwatch once, first cycle: exit $F1_RC (a feed failed or it did not finish)"
	[ "$F2_RC" -eq 0 ] || echo "feedwatch once, second cycle: exit $F2_RC (a feed failed or it did not finish)"
	verdict() { # verdict VALUE LIMIT: VALUE <= LIMIT
		case "$1$2" in *-*) echo "FAIL (no number)"; return ;; esac
		awk -v v="$1" -v l="$2" 'BEGIN { print (v <= l) ? "PASS" : "FAIL" }'
	}
	echo
	echo "targets:"
	printf '  first cycle within 5x of the curl floor:    %s = %s   %s\n' \
		"${F1}s" "$(ratio "$F1" "$FLOOR")" \
		"$(verdict "$(awk -v a="$F1" -v b="$FLOOR" 'BEGIN { print (a == "-") ? "-" : a / b }')" 5)"
	printf '  (first cycle against curl keeping the bodies in files: %s)\n' \
		"$(ratio "$F1" "$SAVED")"
	printf '  second cycle within 3x of the 304 floor:    %s = %s   %s\n' \
		"${F2}s" "$(ratio "$F2" "$FLOOR304")" \
		"$(verdict "$(awk -v a="$F2" -v b="$FLOOR304" 'BEGIN { print (a == "-") ? "-" : a / b }')" 3)"
	printf '  second cycle answered 304:                  %s%% of %s requests   %s\n' \
		"$F2_PCT" "$F2_REQS" \
		"$( [ "$F2_REQS" -ge "$feeds" ] && [ "$F2_PCT" = 100.0 ] && echo PASS || echo FAIL)"
	printf '  peak RSS (no target here; see --hold):     %s MiB first cycle, %s MiB second\n' \
		"$( [ "$F1_RSS" = - ] && echo - || mib "$F1_RSS")" \
		"$( [ "$F2_RSS" = - ] && echo - || mib "$F2_RSS")"
fi
exit 0
