#!/usr/bin/python3
"""The admin server of a running daemon, over real HTTP.

A local feed server (a feed with matching items, one that is not a feed,
one that answers 404), `feedwatch once` to make a baseline with ETags
and alerts (one notifier that works, one whose webhook is refused), then
`feedwatch run` with the admin server on a free port and a token file.
Every endpoint is checked, the token, the bounds, `feedwatch status`,
and /metrics is read by a strict parser of the Prometheus text
exposition format (0.0.4) written below. Standard library only.

usage: admin_test.py FEEDWATCH
"""
import email.utils
import http.client
import json
import math
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
# harness.py is in the tests folder, above this one
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import harness  # noqa: E402
from harness import (Feeds, check, free_port, proc_stat, rss, serve, stop,
                     summary, write)

FEEDWATCH = os.path.abspath(sys.argv[1])
TOKEN = "t0ken-for-the-admin-api-0123456789"
ODD_NAME = 'World "wire" \\ news'


def feed():
    """A feed whose items are an hour old: they alert on a first poll
    (first_poll_alert_age 1d)."""
    return rss((("a1", "Coalition talks resume", ""),
                ("a2", "Weather report", ""),
                ("a3", "Coalition partners meet", "")),
               email.utils.formatdate(time.time() - 60, usegmt=True))


FEEDS = Feeds()
FEEDS.docs.update({"/a": feed(), "/c": feed(),
                   "/bad": b"<html><body>not a feed</body></html>"})
DOCS = FEEDS.docs


def config(feed_port, admin_port, extra_feeds=()):
    return "\n".join([
        "store: state.db",
        "fetch: {block_private_addresses: false}",
        "defaults: {interval: 10m, timeout: 5s}",
        "feeds:",
        "  - {url: 'http://127.0.0.1:%d/a', name: '%s', "
        "first_poll_alert_age: 1d}" % (feed_port, ODD_NAME),
        "  - {url: 'http://127.0.0.1:%d/bad', name: bad}" % feed_port,
        "  - {url: 'http://127.0.0.1:%d/missing', name: missing}" % feed_port,
    ] + ["  - {url: 'http://127.0.0.1:%d%s', name: %s, "
         "first_poll_alert_age: 1d}" % (feed_port, p, n)
         for n, p in extra_feeds] + [
        "watchlists:",
        "  coalition: {match: 'coalition', notify: [out, hook]}",
        "notifiers:",
        "  out: {type: console}",
        "  hook: {type: webhook, url: 'http://127.0.0.1:1/', "
        "allow_private: true}",
        "admin:",
        "  address: 127.0.0.1",
        "  port: %d" % admin_port,
        "  token_file: admin.token",
    ]) + "\n"


def get(port, path, token=TOKEN, method="GET", headers=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    h = dict(headers or {})
    if token is not None:
        h["Authorization"] = "Bearer " + token
    c.request(method, path, headers=h)
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, dict((k.lower(), v) for k, v in r.getheaders()), body


# The exposition format, version 0.0.4, strictly: every sample belongs to
# the family of the last TYPE line (histograms: _bucket, _sum, _count),
# HELP and TYPE at most once per family and before its samples, names and
# label names by the grammar, label values with only \\, \" and \n
# escapes, no repeated series, values as Go's ParseFloat reads them,
# histograms with cumulative buckets ending in le="+Inf" equal to _count.
NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*\Z")
LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*\Z")
TYPES = ("counter", "gauge", "histogram", "summary", "untyped")


def parse_value(s):
    if s in ("+Inf", "Inf"):
        return math.inf
    if s == "-Inf":
        return -math.inf
    if s == "NaN":
        return math.nan
    if not re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", s):
        raise ValueError("bad value %r" % s)
    return float(s)


def parse_labels(text, i, lineno):
    """Labels from text[i] == '{'; returns (tuple of pairs, index after)."""
    labels = []
    i += 1
    while True:
        if text[i] == "}":
            return tuple(labels), i + 1
        m = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*").match(text, i)
        if not m:
            raise ValueError("line %d: bad label name" % lineno)
        name = m.group(0)
        i = m.end()
        if text[i:i + 2] != '="':
            raise ValueError("line %d: expected =\"" % lineno)
        i += 2
        value = []
        while text[i] != '"':
            if text[i] == "\\":
                esc = text[i + 1]
                if esc not in '\\"n':
                    raise ValueError("line %d: bad escape \\%s" % (lineno, esc))
                value.append("\n" if esc == "n" else esc)
                i += 2
            elif text[i] == "\n":
                raise ValueError("line %d: newline in a label" % lineno)
            else:
                value.append(text[i])
                i += 1
        i += 1
        if name in [n for n, _ in labels]:
            raise ValueError("line %d: label %s twice" % (lineno, name))
        labels.append((name, "".join(value)))
        if text[i] == ",":
            i += 1
        elif text[i] != "}":
            raise ValueError("line %d: expected , or }" % lineno)


def parse_exposition(text):
    """{family: {"type", "help", "samples": {(name, labels): value}}}."""
    if not text.endswith("\n"):
        raise ValueError("no final newline")
    families, current, seen = {}, None, set()
    for lineno, line in enumerate(text[:-1].split("\n"), 1):
        if line == "":
            raise ValueError("line %d: empty line" % lineno)
        if line.startswith("#"):
            parts = line.split(" ", 3)
            if len(parts) >= 3 and parts[1] in ("HELP", "TYPE"):
                name = parts[2]
                if not NAME.match(name):
                    raise ValueError("line %d: bad name" % lineno)
                fam = families.setdefault(
                    name, {"type": None, "help": None, "samples": {}})
                if fam["samples"]:
                    raise ValueError("line %d: %s after samples" %
                                     (lineno, parts[1]))
                key = parts[1].lower()
                if fam[key] is not None:
                    raise ValueError("line %d: second %s" % (lineno, key))
                rest = parts[3] if len(parts) == 4 else ""
                if key == "type" and rest not in TYPES:
                    raise ValueError("line %d: bad type" % lineno)
                if key == "help" and re.search(r"\\[^\\n]", rest):
                    raise ValueError("line %d: bad HELP escape" % lineno)
                fam[key] = rest
                current = name
            continue
        m = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*").match(line)
        if not m:
            raise ValueError("line %d: bad sample name" % lineno)
        name, i = m.group(0), m.end()
        labels = ()
        if i < len(line) and line[i] == "{":
            labels, i = parse_labels(line + "\n", i, lineno)
        if line[i:i + 1] != " ":
            raise ValueError("line %d: expected a space" % lineno)
        fields = line[i + 1:].split(" ")
        if len(fields) not in (1, 2):
            raise ValueError("line %d: bad value/timestamp" % lineno)
        value = parse_value(fields[0])
        if len(fields) == 2 and not re.fullmatch(r"-?\d+", fields[1]):
            raise ValueError("line %d: bad timestamp" % lineno)
        fam = families.get(current)
        base = name
        if fam is not None and fam["type"] == "histogram":
            for suffix in ("_bucket", "_sum", "_count"):
                if name == current + suffix:
                    base = current
        if fam is None or base != current:
            raise ValueError("line %d: %s outside its family" % (lineno, name))
        if (name, labels) in seen:
            raise ValueError("line %d: repeated series" % lineno)
        seen.add((name, labels))
        if fam["type"] == "counter" and not value >= 0:
            raise ValueError("line %d: negative counter" % lineno)
        fam["samples"][(name, labels)] = value
    for name, fam in families.items():
        if fam["type"] == "histogram":
            check_histogram(name, fam["samples"])
    return families


def check_histogram(name, samples):
    series = {}
    for (n, labels), v in samples.items():
        rest = tuple(l for l in labels if l[0] != "le")
        s = series.setdefault(rest, {"buckets": [], "sum": None, "count": None})
        if n == name + "_bucket":
            le = dict(labels).get("le")
            if le is None:
                raise ValueError("%s: bucket without le" % name)
            s["buckets"].append((parse_value(le), v))
        elif n == name + "_sum":
            s["sum"] = v
        else:
            s["count"] = v
    for rest, s in series.items():
        b = sorted(s["buckets"])
        if not b or b[-1][0] != math.inf:
            raise ValueError("%s%s: no +Inf bucket" % (name, rest))
        if any(b[i][1] > b[i + 1][1] for i in range(len(b) - 1)):
            raise ValueError("%s%s: buckets not cumulative" % (name, rest))
        if s["count"] != b[-1][1] or s["sum"] is None:
            raise ValueError("%s%s: _count != +Inf bucket" % (name, rest))


def exposition_self_test():
    """The parser refuses what it must (so that its approval means it)."""
    good = ('# HELP x_total h\n# TYPE x_total counter\n'
            'x_total{a="q\\"\\\\\\n"} 1\n')
    bad = [
        "x 1",  # no final newline
        '# TYPE x counter\nx{a="b} 1\n',  # unterminated label
        '# TYPE x counter\nx{a="\\t"} 1\n',  # bad escape
        '# TYPE x counter\nx -1\n',  # negative counter
        '# TYPE x gauge\nx 1\nx 2\n',  # repeated series
        '# TYPE x gauge\ny 1\n',  # outside its family
        '# TYPE x gauge\nx one\n',  # bad value
        '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\n'
        'h_sum 1\nh_count 1\n',  # not cumulative
        '# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n',
        '# TYPE x gauge\nx 1\n# HELP x late\n',  # HELP after samples
    ]
    try:
        parse_exposition(good)
        ok = True
    except ValueError as e:
        ok = False
        print(e)
    refused = 0
    for text in bad:
        try:
            parse_exposition(text)
        except (ValueError, IndexError):
            refused += 1
    check("the exposition parser accepts good text and refuses %d bad ones"
          % len(bad), ok and refused == len(bad), "%d refused" % refused)


def wait_for(pred, timeout):
    return harness.wait_for(pred, timeout, (OSError, ValueError, KeyError))

def sample(fams, family, name, **labels):
    return fams[family]["samples"].get((name, tuple(sorted(labels.items()))))


def test_admin(tmp, feed_port):
    port = free_port()
    cfg = os.path.join(tmp, "feedwatch.yaml")
    write(cfg, config(feed_port, port))
    write(os.path.join(tmp, "admin.token"), TOKEN + "\n", 0o644)
    r = subprocess.run([FEEDWATCH, "check", "-c", cfg], capture_output=True,
                       timeout=30, cwd=tmp)
    check("a token file others can read is refused",
          r.returncode == 1 and b"chmod 600" in r.stderr, r.stderr.decode())
    os.chmod(os.path.join(tmp, "admin.token"), 0o600)

    r = subprocess.run([FEEDWATCH, "status", "-c", cfg], capture_output=True,
                       timeout=30, cwd=tmp)
    check("status without a daemon: exit 1 and says it is not running",
          r.returncode == 1 and b"not running" in r.stderr,
          r.stderr.decode())

    # A baseline with validators and alerts (once starts no admin server).
    r = subprocess.run([FEEDWATCH, "once", "-c", cfg], capture_output=True,
                       timeout=60, cwd=tmp)
    check("once: the matching items alert", r.stdout.count(b'"watchlist"')
          == 2, r.stdout.decode()[:300] + r.stderr.decode()[-300:])

    # Time passes: every feed is due again when the daemon starts.
    con = sqlite3.connect(os.path.join(tmp, "state.db"))
    con.execute("UPDATE feeds SET next_poll_at = 0")
    con.commit()
    con.close()
    # And a new feed whose first poll alerts (recent items).
    write(cfg, config(feed_port, port, [("new", "/c")]))
    proc = subprocess.Popen([FEEDWATCH, "run", "-c", cfg], cwd=tmp,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        up = wait_for(lambda: get(port, "/healthz", None)[0] == 200, 10)
        check("GET /healthz without the token: 200", up)
        st, h, body = get(port, "/readyz", None)
        check("GET /readyz: 200 ready", st == 200 and
              json.loads(body)["status"] == "ready", body.decode())

        # Every feed polled once: a 304, a parse error, a 404.
        def polled():
            f = parse_exposition(get(port, "/metrics")[2].decode())
            return sample(f, "feedwatch_fetch_duration_seconds",
                          "feedwatch_fetch_duration_seconds_count") == 4
        check("every feed polled", wait_for(polled, 10))

        st, h, body = get(port, "/metrics", None)
        check("/metrics without the token: 401 with a Bearer challenge",
              st == 401 and h.get("www-authenticate", "").startswith(
                  "Bearer"), "%d %s" % (st, h))
        st, h, body = get(port, "/metrics", TOKEN[:-1] + "x")
        check("/metrics with a wrong token: 401", st == 401, str(st))
        st, h, body = get(port, "/metrics", TOKEN + "x")
        check("/metrics with a longer token: 401", st == 401, str(st))
        st, h, body = get(port, "/metrics")
        check("/metrics with the token: 200, text/plain version 0.0.4",
              st == 200 and h["content-type"].startswith(
                  "text/plain; version=0.0.4"), "%d %s" % (st, h))
        try:
            fams = parse_exposition(body.decode())
            check("/metrics parses as the exposition format", True)
        except (ValueError, IndexError) as e:
            check("/metrics parses as the exposition format", False, str(e))
            fams = None
        if fams is not None:
            metrics_values(fams)

        # Deliveries: the refused webhook is retried after about 5 s.
        def retried():
            f = parse_exposition(get(port, "/metrics")[2].decode())
            return sample(f, "feedwatch_deliveries_total",
                          "feedwatch_deliveries_total", notifier="hook",
                          result="tempfail")
        check("deliveries by notifier and result (the webhook's retry)",
              wait_for(retried, 12))

        st, h, body = get(port, "/api/v1/feeds")
        feeds = {f["name"]: f for f in json.loads(body)["feeds"]}
        a, bad, missing = feeds[ODD_NAME], feeds["bad"], feeds["missing"]
        check("/api/v1/feeds: every feed with url, state, items",
              st == 200 and len(feeds) == 4 and feeds["new"]["items"] == 3 and a["state"] == "ok" and
              a["items"] == 3 and a["url"].endswith("/a") and
              "moved_to" in a and a["moved_to"] is None and
              a["last_success_at"] and a["next_poll_at"] and
              a["last_status"] == 304, json.dumps(a))
        check("/api/v1/feeds: failures and their errors",
              bad["state"] == "failing" and
              bad["consecutive_failures"] >= 1 and
              "parse" in bad["last_error"] and missing["last_status"] == 404
              and missing["last_success_at"] is None,
              json.dumps([bad, missing]))

        st, h, body = get(port, "/api/v1/alerts?since=0")
        alerts = json.loads(body)["alerts"]
        check("/api/v1/alerts: each alert once, with its explanation",
              st == 200 and len(alerts) == 4 and
              all(x["watchlist"] == "coalition" and
                  x["hits"][0]["term"] == "coalition" and
                  x["hits"][0]["snippet"] for x in alerts), body.decode())
        st, h, body = get(port, "/api/v1/alerts?since=0&limit=1")
        check("/api/v1/alerts?limit=1", len(json.loads(body)["alerts"]) == 1)
        st, h, body = get(port, "/api/v1/alerts?since=%d" %
                          (time.time() + 3600))
        check("/api/v1/alerts?since= the future: none",
              st == 200 and json.loads(body)["alerts"] == [])
        st, h, body = get(port, "/api/v1/alerts?since=1h")
        check("/api/v1/alerts?since=1h (a duration)",
              st == 200 and len(json.loads(body)["alerts"]) == 4)
        st, h, body = get(port, "/api/v1/alerts?since=yesterday")
        check("/api/v1/alerts?since=junk: 400", st == 400, str(st))

        st, h, body = get(port, "/api/v1/outbox")
        ob = json.loads(body)
        check("/api/v1/outbox: counts and the pending rows",
              st == 200 and ob["pending"] + ob["inflight"] == 4 and
              ob["delivered"] == 4 and ob["dead"] == 0 and
              len(ob["rows"]) == 4 and
              all(r["notifier"] == "hook" for r in ob["rows"]),
              body.decode()[:500])

        st, h, body = get(port, "/api/v1/feeds", method="POST")
        check("POST: 405 with Allow: GET",
              st == 405 and h.get("allow") == "GET", str(st))
        st, h, body = get(port, "/nope")
        check("unknown path: 404", st == 404, str(st))
        st, h, body = get(port, "/healthz", None,
                          headers={"X-Big": "x" * 20000})
        check("oversized request headers refused", st in (400, 413, 431),
              str(st))

        # A client that sends half a request does not hold up the loop.
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
        t0 = time.time()
        st = get(port, "/healthz", None)[0]
        check("the loop answers while a client stalls",
              st == 200 and time.time() - t0 < 1, str(st))
        s.close()

        r = subprocess.run([FEEDWATCH, "status", "-c", cfg],
                           capture_output=True, timeout=30, cwd=tmp)
        out = r.stdout.decode()
        check("status: a table of the feeds and the outbox",
              r.returncode == 0 and "FEED" in out and "bad" in out and
              "parse" in out and "2 ok, 2 failing" in out and "in 10m" in out and
              "outbox: 4 pending" in out, out + r.stderr.decode())

        # A reload that fails is seen without the log: the API, the
        # metrics and status; a good one clears it.
        good = open(cfg).read()
        write(cfg, good.replace("watchlists:\n", "watchlists:\n  broken: "
                                "{match: 'a AND (b'}\n", 1))
        proc.send_signal(signal.SIGHUP)

        def reload_state():
            body = get(port, "/api/v1/feeds")[2]
            return json.loads(body)["config"]
        check("a failed reload: /api/v1/feeds says so", wait_for(
            lambda: reload_state()["reload_error"] is not None, 10),
            json.dumps(reload_state()))
        f = parse_exposition(get(port, "/metrics")[2].decode())
        check("a failed reload: feedwatch_config_last_reload_successful 0",
              sample(f, "feedwatch_config_last_reload_successful",
                     "feedwatch_config_last_reload_successful") == 0)
        r = subprocess.run([FEEDWATCH, "status", "-c", cfg],
                           capture_output=True, timeout=30, cwd=tmp)
        out = r.stdout.decode()
        check("a failed reload: status names it and its error",
              "the last reload failed" in out and "broken" in out and
              "expected ')'" in out, out)
        write(cfg, good)
        proc.send_signal(signal.SIGHUP)
        check("a good reload clears it", wait_for(
            lambda: reload_state()["reload_error"] is None, 10))
        f = parse_exposition(get(port, "/metrics")[2].decode())
        check("a good reload: feedwatch_config_last_reload_successful 1",
              sample(f, "feedwatch_config_last_reload_successful",
                     "feedwatch_config_last_reload_successful") == 1)
        # A file the loader refuses (a watchlist notifying no notifier):
        # status still asks the daemon, which runs the one it had.
        write(cfg, good.replace("watchlists:\n", "watchlists:\n  lost: "
                                "{match: 'x', notify: [nope]}\n", 1))
        proc.send_signal(signal.SIGHUP)
        check("a refused file: the reload fails", wait_for(
            lambda: reload_state()["reload_error"] is not None, 10))
        r = subprocess.run([FEEDWATCH, "status", "-c", cfg],
                           capture_output=True, timeout=30, cwd=tmp)
        out = r.stdout.decode()
        check("a refused file: status shows the errors and the daemon",
              r.returncode == 0 and "FEED" in out and
              "the last reload failed" in out and
              b"not a notifier" in r.stderr and
              b"asking the daemon anyway" in r.stderr,
              out + r.stderr.decode())
        write(cfg, good)
        proc.send_signal(signal.SIGHUP)
        check("a good reload clears it again", wait_for(
            lambda: reload_state()["reload_error"] is None, 10))
        write(os.path.join(tmp, "admin.token"), "another-token-0123456789\n")
        r = subprocess.run([FEEDWATCH, "status", "-c", cfg],
                           capture_output=True, timeout=30, cwd=tmp)
        check("status with a wrong token: exit 1, says the token failed",
              r.returncode == 1 and b"401" in r.stderr, r.stderr.decode())
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            out, err = proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
    check("the daemon stops cleanly", proc.returncode == 0, err.decode())


def metrics_values(fams):
    want = ["feedwatch_feeds", "feedwatch_fetches_total",
            "feedwatch_fetch_duration_seconds", "feedwatch_fetch_bytes_total",
            "feedwatch_fetch_not_modified_ratio",
            "feedwatch_parse_errors_total", "feedwatch_parse_queued_bytes",
            "feedwatch_parse_wait_seconds_total", "feedwatch_items_new_total",
            "feedwatch_alerts_total", "feedwatch_outbox_rows",
            "feedwatch_outbox_oldest_pending_age_seconds",
            "feedwatch_deliveries_total",
            "feedwatch_delivery_latency_seconds",
            "feedwatch_feed_last_success_timestamp_seconds"]
    missing = [w for w in want if w not in fams or not fams[w]["help"]]
    check("every metric family is there with HELP and TYPE", not missing,
          str(missing))
    if missing:
        return
    s = lambda fam, name=None, **l: sample(fams, fam, name or fam, **l)
    check("feeds by state", s("feedwatch_feeds", state="ok") == 2 and
          s("feedwatch_feeds", state="failing") == 2)
    check("fetches by result and status class",
          s("feedwatch_fetches_total", result="not_modified",
            status_class="3xx") == 1 and
          s("feedwatch_fetches_total", result="parse_error",
            status_class="2xx") == 1 and
          s("feedwatch_fetches_total", result="http",
            status_class="4xx") == 1 and
          s("feedwatch_fetches_total", result="ok", status_class="2xx") == 1,
          str(fams["feedwatch_fetches_total"]["samples"]))
    check("parse errors counted", s("feedwatch_parse_errors_total") == 1)
    # four small documents never fill the parsers' 1 MiB: no wait
    check("nothing waits for the parser threads, nor did",
          s("feedwatch_parse_queued_bytes") == 0 and
          s("feedwatch_parse_wait_seconds_total") == 0)
    check("304 ratio", s("feedwatch_fetch_not_modified_ratio") == 0.5)
    check("fetch duration histogram counts the four fetches",
          s("feedwatch_fetch_duration_seconds",
            "feedwatch_fetch_duration_seconds_count") == 4)
    check("bytes fetched", s("feedwatch_fetch_bytes_total") ==
          len(DOCS["/bad"]) + len(DOCS["/c"]),
          str(s("feedwatch_fetch_bytes_total")))
    check("alerts by watchlist (the new feed's two matches)",
          s("feedwatch_alerts_total", watchlist="coalition") == 2,
          str(fams["feedwatch_alerts_total"]["samples"]))
    check("items new", s("feedwatch_items_new_total") == 3,
          str(s("feedwatch_items_new_total")))
    check("outbox depth and oldest pending age",
          s("feedwatch_outbox_rows", state="pending") +
          s("feedwatch_outbox_rows", state="inflight") >= 2 and
          s("feedwatch_outbox_oldest_pending_age_seconds") >= 0)
    last = s("feedwatch_feed_last_success_timestamp_seconds", feed=ODD_NAME)
    check("last success per feed, the name escaped and read back",
          last is not None and abs(last - time.time()) < 60,
          str(fams["feedwatch_feed_last_success_timestamp_seconds"]))


def test_out_of_descriptors(tmp, feed_port):
    """More connections than the daemon has file descriptors for: the
    server stops accepting for a while (it must not spin on accept(),
    nor write a line for each failed one), and answers again once the
    connections are gone."""
    import resource
    port = free_port()
    cfg = os.path.join(tmp, "fds.yaml")
    write(cfg, config(feed_port, port).replace("  token_file: admin.token\n",
                                               ""))
    limit = lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))
    log = open(os.path.join(tmp, "fds.log"), "w+")
    proc = subprocess.Popen([FEEDWATCH, "run", "-c", cfg], cwd=tmp,
                            stdout=subprocess.DEVNULL, stderr=log,
                            preexec_fn=limit)
    socks = []
    try:
        check("fds: the daemon answers", wait_for(
            lambda: get(port, "/healthz", None)[0] == 200, 10))
        for _ in range(100):
            try:
                socks.append(socket.create_connection(("127.0.0.1", port),
                                                      timeout=2))
            except OSError:
                break
        cpu0, t0 = proc_stat(proc.pid)[1], time.time()
        time.sleep(2)
        busy = (proc_stat(proc.pid)[1] - cpu0) / (time.time() - t0)
        check("fds: out of descriptors, the loop does not spin",
              busy < 0.5, "%.0f%% of a CPU" % (100 * busy))
        for s in socks:
            s.close()
        socks = []
        check("fds: it answers again once they are gone", wait_for(
            lambda: get(port, "/healthz", None)[0] == 200, 10))
    finally:
        for s in socks:
            s.close()
        stop(proc)
    log.seek(0)
    lines = log.read().splitlines()
    log.close()
    check("fds: a few lines in the log, not one per failed accept()",
          len(lines) < 20, "%d lines: %s" % (len(lines), lines[-3:]))


def main():
    server, port = serve(FEEDS)
    exposition_self_test()
    with tempfile.TemporaryDirectory() as tmp:
        try:
            test_admin(tmp, port)
        except Exception as e:  # a crash of the test is a failure
            import traceback
            traceback.print_exc()
            check("test_admin", False, repr(e))
    with tempfile.TemporaryDirectory() as tmp:
        try:
            test_out_of_descriptors(tmp, port)
        except Exception as e:
            import traceback
            traceback.print_exc()
            check("test_out_of_descriptors", False, repr(e))
    server.shutdown()
    summary()


if __name__ == "__main__":
    main()
