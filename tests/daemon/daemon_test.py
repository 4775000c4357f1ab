#!/usr/bin/python3
"""Integration tests of the real daemon (`feedwatch run` and `once`).

A local feed server on 127.0.0.1 (ETags, a slow feed, feeds that gain
items), a notify socket standing in for systemd, real SQLite state files.
Every wait is bounded; the script prints one line per check and ends with
"N passed, N failed". Standard library only.

usage: daemon_test.py FEEDWATCH [TEST...]  (only the tests named)
"""
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
# harness.py is in the tests folder, above this one
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from harness import (Feeds, check, etag, proc_stat, rss, serve, stop, summary,
                     wait_for, write)

FEEDWATCH = os.path.abspath(sys.argv[1])
FEEDS = Feeds()


class Notify:
    """A datagram socket standing in for systemd's notify socket, read
    continuously (as systemd does) so that its queue never fills."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.sock.settimeout(0.2)
        self.lock = threading.Lock()
        self.messages = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        while True:
            try:
                m = self.sock.recv(4096).decode()
            except socket.timeout:
                continue
            except OSError:
                return
            with self.lock:
                self.messages.append(m)

    def clear(self):
        with self.lock:
            self.messages.clear()

    def snapshot(self):
        with self.lock:
            return list(self.messages)

    def wait(self, pred, timeout):
        end = time.time() + timeout
        while time.time() < end:
            for m in self.snapshot():
                if pred(m):
                    return m
            time.sleep(0.02)
        return None


def config(base, feeds, extra=""):
    lines = ["store: state.db",
             "fetch: {block_private_addresses: false}",
             "defaults: {interval: 10s, timeout: 5s}",
             "admin: {enabled: false}",
             "feeds:"]
    for name, path in feeds:
        lines.append("  - {url: 'http://127.0.0.1:%d%s', name: %s}"
                     % (PORT, path, name))
    lines += ["watchlists:",
              "  w: {match: 'coalition OR @sudani', notify: [out]}",
              "entities:",
              "  sudani: {name: Mohammed Shia al-Sudani, "
              "aliases: [Sudani, Soudani]}",
              "notifiers:",
              "  out: {type: console}"]
    return "\n".join(lines) + "\n" + extra


def start(tmp, notify=None, watchdog_usec=None, level="info"):
    env = dict(os.environ)
    if notify is not None:
        env["NOTIFY_SOCKET"] = notify.path
    if watchdog_usec is not None:
        env["WATCHDOG_USEC"] = str(watchdog_usec)
    return subprocess.Popen(
        [FEEDWATCH, "run", "-c", os.path.join(tmp, "feedwatch.yaml"),
         "--log-level", level],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=tmp)


def db(tmp, sql, args=()):
    con = sqlite3.connect(os.path.join(tmp, "state.db"), timeout=10)
    try:
        rows = con.execute(sql, args).fetchall()
        con.commit()
        return rows
    finally:
        con.close()


def test_ready_reload_stop(tmp):
    FEEDS.set("/a", [("a1", "Coalition talks", "x")])
    FEEDS.set("/b", [("b1", "Soudani visits", "y")])
    cfg = os.path.join(tmp, "feedwatch.yaml")
    write(cfg, config(tmp, [("a", "/a")]))
    notify = Notify(os.path.join(tmp, "notify.sock"))
    proc = start(tmp, notify, watchdog_usec=1000000)
    check("READY=1 after start-up",
          notify.wait(lambda m: "READY=1" in m, 10) is not None)
    status = notify.wait(lambda m: m.startswith("STATUS=polling 1 feeds"), 5)
    check("STATUS line", status is not None, str(notify.snapshot()[-3:]))
    pings = lambda: sum(1 for m in notify.snapshot() if m == "WATCHDOG=1")
    notify.wait(lambda m: pings() >= 3, 5)
    check("watchdog pings at half of WATCHDOG_USEC", pings() >= 3,
          "%d pings" % pings())
    check("feed a polled", wait_for(lambda: FEEDS.asked("/a"), 15))
    check("feed a stored with its ETag", wait_for(lambda: db(
        tmp, "SELECT etag FROM feeds WHERE url LIKE '%/a'") not in
        ([], [(None,)]), 5))
    etag = db(tmp, "SELECT etag FROM feeds WHERE url LIKE '%/a'")

    # A good configuration: feed b starts, feed a keeps its state.
    write(cfg, config(tmp, [("a", "/a"), ("b", "/b")]))
    proc.send_signal(signal.SIGHUP)
    check("RELOADING=1 on SIGHUP", notify.wait(
        lambda m: "RELOADING=1" in m, 5) is not None)
    check("the new feed b is polled", wait_for(
        lambda: FEEDS.asked("/b"), 15))
    check("feed a kept its ETag across the reload", db(
        tmp, "SELECT etag FROM feeds WHERE url LIKE '%/a'") == etag,
        str(etag))
    check("feed b's first poll is a silent baseline", wait_for(lambda: db(
        tmp, "SELECT count(*) FROM outbox")[0][0] == 0 and db(
        tmp, "SELECT count(*) FROM items")[0][0] == 2, 5))

    # A broken configuration: the running one stays, the error is told.
    write(cfg, config(tmp, [("a", "/a")]) + "watchlists:\n  oops: {}\n")
    notify.clear()
    proc.send_signal(signal.SIGHUP)
    bad = notify.wait(lambda m: "reload failed" in m, 5)
    check("a broken reload is reported in STATUS", bad is not None,
          str(notify.snapshot()))
    check("the daemon keeps running after a broken reload",
          proc.poll() is None)

    # SIGTERM: STOPPING=1, exit 0 within the deadline, state intact.
    t0 = time.time()
    proc.send_signal(signal.SIGTERM)
    rc, out, err = stop(proc)
    check("STOPPING=1 on SIGTERM", notify.wait(
        lambda m: "STOPPING=1" in m, 1) is not None)
    check("exit 0 on SIGTERM", rc == 0, "rc=%s %s" % (rc, err[-500:]))
    check("the broken reload's error names file:line:col",
          re.search(r"feedwatch\.yaml:\d+:\d+: ", err) is not None,
          err[-500:])
    check("stopped promptly", time.time() - t0 < 5)
    check("integrity_check ok after stop", db(
        tmp, "PRAGMA integrity_check") == [("ok",)])


def test_stop_during_slow_transfer(tmp):
    write(os.path.join(tmp, "feedwatch.yaml"),
          config(tmp, [("slow", "/slow")]).replace("timeout: 5s",
                                                    "timeout: 60s"))
    proc = start(tmp)
    check("slow feed in flight", wait_for(lambda: FEEDS.asked("/slow"), 15))
    time.sleep(0.5)
    t0 = time.time()
    proc.send_signal(signal.SIGTERM)
    rc, out, err = stop(proc, timeout=20)
    elapsed = time.time() - t0
    check("SIGTERM during a slow transfer exits 0", rc == 0,
          "rc=%s %s" % (rc, err[-300:]))
    check("within the 10 s deadline", 9 <= elapsed < 12.5,
          "%.1f s" % elapsed)
    check("state intact after the deadline", db(
        tmp, "PRAGMA integrity_check") == [("ok",)])


def test_slow_transfer_progress(tmp):
    """A transfer that is slow but alive (a byte a second) is progress:
    /healthz does not count the seconds of its transfer as a stall, which
    would stop the watchdog and have systemd kill a healthy daemon."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    write(os.path.join(tmp, "feedwatch.yaml"),
          config(tmp, [("slow", "/slow")]).replace(
              "timeout: 5s", "timeout: 60s").replace(
              "admin: {enabled: false}",
              "admin: {port: %d}" % port))
    proc = start(tmp)
    check("progress: slow feed in flight",
          wait_for(lambda: FEEDS.asked("/slow"), 15))
    time.sleep(4.5)
    try:
        with urllib.request.urlopen(
                "http://127.0.0.1:%d/healthz" % port, timeout=5) as r:
            health = json.loads(r.read())
    except Exception as e:  # a 503 is a failure too
        health = {"error": repr(e)}
    stop(proc, timeout=20)
    check("progress: bytes arriving count, no stall seen",
          health.get("seconds_without_progress", 99) <= 2, str(health))


def test_reload_while_parsing(tmp):
    """Feeds removed while half of their bodies is with the parser (one
    parser thread, 40 feeds of 300 items, the 20 to remove held half way
    by the server), added back and removed again: the kept feeds are
    stored whole, the removed ones' parses are dropped, the daemon stops
    cleanly (the sanitizer build of this test fails on a leak or a use
    after free of a dropped parse)."""
    body = "&lt;p&gt;" + "words of the item " * 40 + "&lt;/p&gt;"
    names = ["p%02d" % i for i in range(40)]
    for n in names:
        FEEDS.set("/" + n, [("%s-%d" % (n, j), "Item %d" % j, body)
                            for j in range(300)])
    FEEDS.held = set("/" + n for n in names[20:])
    FEEDS.release.clear()
    cfg = os.path.join(tmp, "feedwatch.yaml")
    fetch = ("block_private_addresses: false, parse_threads: 1, "
             "max_connections_per_host: 32")
    every = config(tmp, [(n, "/" + n) for n in names]).replace(
        "block_private_addresses: false", fetch)
    half = config(tmp, [(n, "/" + n) for n in names[:20]]).replace(
        "block_private_addresses: false", fetch)
    write(cfg, every)
    proc = start(tmp)
    try:
        check("reload/parse: the held bodies are on their way",
              wait_for(lambda: all(FEEDS.asked("/" + n)
                                   for n in names[20:]), 20))
        time.sleep(0.5)  # their first halves reach the parser
        for text in (half, every, half):
            write(cfg, text)
            proc.send_signal(signal.SIGHUP)
            time.sleep(0.2)
    finally:
        FEEDS.release.set()
        FEEDS.held = set()
    counts = lambda: dict(db(
        tmp, "SELECT f.name, count(*) FROM items i JOIN feeds f "
        "ON f.id = i.feed_id GROUP BY f.name"))
    stored = wait_for(lambda: all(counts().get(n) == 300
                                  for n in names[:20]), 30)
    check("reload/parse: every kept feed stored whole", stored,
          str(counts()))
    rc, out, err = stop(proc)
    check("reload/parse: the daemon stops cleanly", rc == 0,
          "rc=%s %s" % (rc, err[-500:]))
    check("reload/parse: three reloads done",
          err.count("reloaded: ") == 3, err[-500:])
    check("reload/parse: state intact", db(
        tmp, "PRAGMA integrity_check") == [("ok",)])


def test_once_alerts_only_new(tmp):
    FEEDS.set("/c", [("c1", "Coalition meets", "old news")])
    write(os.path.join(tmp, "feedwatch.yaml"), config(tmp, [("c", "/c")]))
    run = lambda: subprocess.run(
        [FEEDWATCH, "once", "-c", os.path.join(tmp, "feedwatch.yaml")],
        capture_output=True, timeout=60, cwd=tmp)
    r = run()
    check("once: first poll exits 0", r.returncode == 0, r.stderr.decode())
    check("once: first poll alerts nothing (baseline)", r.stdout == b"",
          r.stdout.decode()[:300])
    FEEDS.set("/c", [("c2", "Soudani in Baghdad", "new"),
                     ("c1", "Coalition meets", "old news")])
    r = run()
    alerts = [json.loads(l) for l in r.stdout.decode().splitlines()]
    check("once: exactly the new matching item alerts",
          len(alerts) == 1 and alerts[0]["item"]["id"] == "c2",
          r.stdout.decode()[:300])
    check("once: the alert explains the hit", alerts and
          alerts[0]["hits"][0]["alias"] == "Soudani")
    r = run()
    check("once: nothing changed, 304, nothing sent", r.stdout == b"" and
          FEEDS.asked("/c")[-1][1] is not None, str(FEEDS.asked("/c")))
    FEEDS.docs.pop("/c")
    r = run()
    check("once: a failing feed gives exit 1", r.returncode == 1,
          "rc=%d" % r.returncode)


def test_feed_back(tmp):
    """A feed taken out of the configuration and put back: within a day
    it goes on where it was (what came meanwhile alerts); after a day or
    more out of it, it starts again as a new feed, its first poll a
    baseline (no flood of what its document still holds)."""
    other = ("o", "/o")
    FEEDS.set("/o", [("o1", "other", "x")])
    FEEDS.set("/b", [("b1", "Coalition meets", "old")])
    cfg = os.path.join(tmp, "feedwatch.yaml")
    run = lambda feeds: (write(cfg, config(tmp, feeds)), subprocess.run(
        [FEEDWATCH, "once", "-c", cfg], capture_output=True, timeout=60,
        cwd=tmp))[1]
    r = run([("b", "/b"), other])
    check("feed back: first poll is a baseline", r.stdout == b"",
          r.stdout.decode()[:300])
    run([other])
    out = db(tmp, "SELECT removed_at FROM feeds WHERE url LIKE '%/b'")
    check("feed back: out of the configuration, marked so",
          out and abs(out[0][0] - time.time()) < 60, repr(out))
    FEEDS.set("/b", [("b2", "Coalition talks", "new"),
                     ("b1", "Coalition meets", "old")])
    r = run([("b", "/b"), other])
    alerts = [json.loads(l)["item"]["id"]
              for l in r.stdout.decode().splitlines()]
    check("feed back within a day: what came meanwhile alerts",
          alerts == ["b2"], r.stdout.decode()[:300] + r.stderr.decode())
    run([other])
    db(tmp, "UPDATE feeds SET removed_at = removed_at - 2 * 86400 "
       "WHERE url LIKE '%/b'")
    FEEDS.set("/b", [("b3", "Coalition ends", "newer"),
                     ("b2", "Coalition talks", "new"),
                     ("b1", "Coalition meets", "old")])
    r = run([("b", "/b"), other])
    check("feed back after two days: a baseline, nothing alerts",
          r.returncode == 0 and r.stdout == b"", r.stdout.decode()[:300])
    check("feed back after two days: the log says why",
          b"feed b: back after 2 days out of the configuration: it "
          b"starts again as a new feed" in r.stderr, r.stderr.decode())
    FEEDS.set("/b", [("b4", "Coalition again", "newest"),
                     ("b3", "Coalition ends", "newer")])
    r = run([("b", "/b"), other])
    alerts = [json.loads(l)["item"]["id"]
              for l in r.stdout.decode().splitlines()]
    check("feed back after two days: then new items alert", alerts == ["b4"],
          r.stdout.decode()[:300])


def test_feed_held_on_reload(tmp):
    """A feed the running daemon polls is never forgotten by a reload,
    though another process (a once with another configuration) marked it
    out of the configuration more than a day ago: forgetting it under a
    daemon that goes on polling it would alert on all its items."""
    FEEDS.set("/h", [("h1", "Coalition meets", "old")])
    cfg = os.path.join(tmp, "feedwatch.yaml")
    write(cfg, config(tmp, [("h", "/h")]))
    proc = start(tmp)
    check("held: polled", wait_for(lambda: FEEDS.asked("/h"), 15))
    check("held: baseline stored", wait_for(lambda: db(
        tmp, "SELECT count(*) FROM items")[0][0] == 1, 15))
    db(tmp, "UPDATE feeds SET removed_at = strftime('%s','now') - 2 * 86400")
    proc.send_signal(signal.SIGHUP)
    time.sleep(1.0)
    rc, out, err = stop(proc)
    check("held: the reload keeps the feed and its items",
          db(tmp, "SELECT count(*) FROM items")[0][0] == 1 and
          db(tmp, "SELECT removed_at FROM feeds") == [(0,)] and
          "starts again" not in err, err[-400:])
    check("held: nothing alerted", out == "", out[:300])


def test_cut_short_later(tmp):
    """A body cut short after the first poll: the items whole in it
    alert, the one cut in two waits for the whole document (stored now,
    it would later be an update, never alerted), and no validator is
    kept, so the next poll fetches the whole body, not a 304."""
    FEEDS.set("/cut", [("c1", "Coalition one", "x")])
    cfg = os.path.join(tmp, "feedwatch.yaml")
    write(cfg, config(tmp, [("cut", "/cut")]))
    run = lambda: subprocess.run([FEEDWATCH, "once", "-c", cfg],
                                 capture_output=True, timeout=60, cwd=tmp)
    r = run()
    check("cut: the first poll is a baseline", r.stdout == b"",
          r.stdout.decode()[:300])
    full = rss([("c3", "Coalition three", "z"),
                ("c2", "Coalition two, a long title", "y"),
                ("c1", "Coalition one", "x")])
    FEEDS.docs["/cut"] = full[:full.index(b"two, a long") + 3]
    r = run()
    ids = [json.loads(l)["item"]["id"] for l in r.stdout.decode().splitlines()]
    check("cut: the whole item alerts, the cut one waits", ids == ["c3"],
          r.stdout.decode()[:300] + r.stderr.decode()[:300])
    FEEDS.docs["/cut"] = full
    r = run()
    ids = [json.loads(l)["item"]["id"] for l in r.stdout.decode().splitlines()]
    check("cut: no validator of the cut body was sent",
          FEEDS.asked("/cut")[-1][1] is None, str(FEEDS.asked("/cut")[-3:]))
    check("cut: the item cut in two alerts once whole", ids == ["c2"],
          r.stdout.decode()[:300])


def test_not_a_feed(tmp):
    """A body with no XML element (empty, text, binary) answered 200 is a
    failed poll, not a feed with nothing new: the operator must see it."""
    with FEEDS.lock:
        FEEDS.docs["/empty"] = b""
        FEEDS.docs["/text"] = b"Service temporarily unavailable\n"
        FEEDS.docs["/binary"] = bytes(range(256)) * 8
    FEEDS.set("/fine", [("f1", "Coalition meets", "news")])
    feeds = [("empty", "/empty"), ("text", "/text"), ("binary", "/binary"),
             ("fine", "/fine")]
    write(os.path.join(tmp, "feedwatch.yaml"), config(tmp, feeds))
    run = lambda: subprocess.run(
        [FEEDWATCH, "once", "-c", os.path.join(tmp, "feedwatch.yaml")],
        capture_output=True, timeout=60, cwd=tmp)
    r = run()
    check("not a feed: once exits 1", r.returncode == 1,
          "rc=%d %s" % (r.returncode, r.stderr.decode()[:300]))
    rows = {n: (err, fails, ok, tag) for n, err, fails, ok, tag in db(
        tmp, "SELECT name, last_error, consecutive_failures, "
        "last_success_at, etag FROM feeds")}
    for name in ("empty", "text", "binary"):
        err, fails, ok, tag = rows.get(name, (None, 0, 0, None))
        check("not a feed: %s is a failure that says so" % name,
              err is not None and err.startswith("parse: not a feed")
              and fails == 1 and ok == 0 and tag is None, str(rows[name]))
    check("not a feed: the good feed is untouched",
          rows["fine"][0] is None and rows["fine"][2] > 0, str(rows["fine"]))
    check("not a feed: the log names the feed", b"feed text: parse: not a "
          b"feed" in r.stderr, r.stderr.decode()[:300])
    FEEDS.set("/empty", [("e1", "Soudani in Baghdad", "news")])
    r = run()
    rows = dict(db(tmp, "SELECT name, consecutive_failures FROM feeds"))
    check("not a feed: a feed again is ok again", rows["empty"] == 0,
          str(rows))


def test_file_feed(tmp):
    """A feed read from a file (a relative file: path with a space in
    it): decoded as XML says, UTF-8 without a declaration, not as an HTTP
    response without a Content-Type; its first poll closes the baseline,
    so the next new item alerts."""
    os.mkdir(os.path.join(tmp, "my feeds"))
    path = os.path.join(tmp, "my feeds", "local feed.xml")
    items = [("g1", "ΑΘΗΝΑ coalition talks", "old")]
    with open(path, "wb") as f:
        f.write(rss(items))
    cfg = config(tmp, []).replace(
        "feeds:\n", "feeds:\n  - {url: 'file:my feeds/local feed.xml', "
        "name: local}\n")
    write(os.path.join(tmp, "feedwatch.yaml"), cfg)
    run = lambda: subprocess.run(
        [FEEDWATCH, "once", "-c", os.path.join(tmp, "feedwatch.yaml")],
        capture_output=True, timeout=60, cwd=tmp)
    r = run()
    check("file feed: first poll ok, no alert",
          r.returncode == 0 and r.stdout == b"", r.stderr.decode()[:300])
    titles = [t for (t,) in db(tmp, "SELECT title FROM items")]
    check("file feed: UTF-8 text as written", titles ==
          ["ΑΘΗΝΑ coalition talks"], repr(titles))
    with open(path, "wb") as f:
        f.write(rss([("g2", "Soudani in Athens", "new")] + items))
    r = run()
    alerts = [json.loads(l) for l in r.stdout.decode().splitlines()]
    check("file feed: the second poll's new item alerts",
          [a["item"]["id"] for a in alerts] == ["g2"],
          r.stdout.decode()[:300] + r.stderr.decode()[:300])


SELF = ("self_alerts: {notify: [out], feed_failing_for: 1s, "
        "outbox_pending_for: off}\n")


def self_alerts(out):
    """The daemon's alerts about itself among the console's lines."""
    docs = [json.loads(l) for l in out.splitlines() if l.startswith("{")]
    return [d for d in docs if d.get("watchlist", "").startswith("feedwatch:")]


def test_self_alert_once(tmp):
    FEEDS.docs.pop("/s", None)
    write(os.path.join(tmp, "feedwatch.yaml"),
          config(tmp, [("s", "/s")], SELF))
    run = lambda: subprocess.run(
        [FEEDWATCH, "once", "-c", os.path.join(tmp, "feedwatch.yaml")],
        capture_output=True, timeout=60, cwd=tmp)
    r = run()
    check("self-alert: a feed failing for less than the threshold is quiet",
          r.returncode == 1 and self_alerts(r.stdout.decode()) == [],
          r.stdout.decode()[:300])
    time.sleep(1.2)
    r = run()
    got = self_alerts(r.stdout.decode())
    check("self-alert: failing past the threshold raises one alert, "
          "carried over from the previous run",
          len(got) == 1 and got[0]["watchlist"] == "feedwatch:feed-failing"
          and got[0]["feed"]["url"].endswith("/s")
          and "404" in got[0]["item"]["summary"]
          and got[0]["severity"] == "high", r.stdout.decode()[:600])
    r = run()
    check("self-alert: still failing, not raised again",
          self_alerts(r.stdout.decode()) == [], r.stdout.decode()[:300])
    FEEDS.set("/s", [("s1", "Quiet day", "nothing")])
    r = run()
    got = self_alerts(r.stdout.decode())
    check("self-alert: the recovery is one more alert",
          r.returncode == 0 and len(got) == 1 and
          got[0]["watchlist"] == "feedwatch:feed-recovered" and
          got[0]["severity"] == "info", r.stdout.decode()[:600])
    r = run()
    check("self-alert: recovered, quiet",
          self_alerts(r.stdout.decode()) == [], r.stdout.decode()[:300])
    check("self-alert: nothing left raised in the store",
          db(tmp, "SELECT count(*) FROM self_alerts") == [(0,)])


def test_self_alert_run(tmp):
    FEEDS.docs.pop("/r", None)
    write(os.path.join(tmp, "feedwatch.yaml"),
          config(tmp, [("r", "/r")], SELF))
    proc = start(tmp)

    def is_raised():
        try:
            return db(tmp, "SELECT count(*) FROM self_alerts") == [(1,)]
        except sqlite3.OperationalError:  # not yet created
            return False
    # The store exists once the daemon is up (connecting first would
    # create an empty file in its place).
    up = wait_for(lambda: os.path.exists(os.path.join(tmp, "state.db")), 10)
    raised = up and wait_for(is_raised, 10)
    rc, out, err = stop(proc)
    got = self_alerts(out)
    check("self-alert: the running daemon raises it within seconds and "
          "delivers it", raised and len(got) == 1 and
          got[0]["watchlist"] == "feedwatch:feed-failing",
          out[:300] + err[-600:])
    check("self-alert: the log says so",
          "self-alert: Feed \"r\" failing for more than 1s" in err,
          err[-600:])


def test_moved_permanently(tmp):
    FEEDS.set("/new", [("n1", "Quiet", "nothing")])
    FEEDS.moved["/old"] = "/new"
    write(os.path.join(tmp, "feedwatch.yaml"),
          config(tmp, [("m", "/old")]))
    run = lambda: subprocess.run(
        [FEEDWATCH, "once", "-c", os.path.join(tmp, "feedwatch.yaml"),
         "--log-level", "info"],
        capture_output=True, timeout=60, cwd=tmp)
    errs = [run().stderr.decode() for _ in range(3)]
    check("moved: followed, adopted at the third poll in a row, and "
          "logged", all(r.count("moved permanently") == 0
                        for r in errs[:2]) and
          "feed m: http://127.0.0.1:%d/old moved permanently to "
          "http://127.0.0.1:%d/new" % (PORT, PORT) in errs[2],
          errs[2][-500:])
    check("moved: the new address is kept in the store",
          db(tmp, "SELECT moved_to FROM feeds") ==
          [("http://127.0.0.1:%d/new" % PORT,)])
    asked = len(FEEDS.asked("/old"))
    r = run()
    check("moved: the next run polls the new address only",
          r.returncode == 0 and len(FEEDS.asked("/old")) == asked and
          FEEDS.asked("/new")[-1][1] is not None, r.stderr.decode()[-300:])
    # A failure after a redirect says where it happened.
    FEEDS.moved["/r404"] = "/nothing-here"
    os.mkdir(os.path.join(tmp, "r404"))  # a store of its own
    write(os.path.join(tmp, "r404", "fw.yaml"), config(tmp, [("r", "/r404")]))
    r = subprocess.run([FEEDWATCH, "once", "-c",
                        os.path.join(tmp, "r404", "fw.yaml")],
                       capture_output=True, timeout=60, cwd=tmp)
    check("moved: a failure after a redirect names the address it failed at",
          r.returncode == 1 and ("(at http://127.0.0.1:%d/nothing-here, "
                                 "redirected)" % PORT) in r.stderr.decode(),
          r.stderr.decode()[-300:])
    # The new address breaks; the old one serves the feed again.
    del FEEDS.moved["/old"]
    FEEDS.docs["/old"] = FEEDS.docs.pop("/new")
    errs = [run().stderr.decode() for _ in range(3)]
    check("moved: three failures at the new address go back to the "
          "configured one, and say so",
          "polling the configured address again" in errs[2] and
          db(tmp, "SELECT moved_to FROM feeds") == [(None,)], errs[2][-500:])
    asked = len(FEEDS.asked("/old"))
    r = run()
    check("moved: the configured address is polled again",
          r.returncode == 0 and len(FEEDS.asked("/old")) == asked + 1,
          r.stderr.decode()[-300:])


def test_moved_too_far(tmp):
    # A redirect to a URL longer than a configured one may be (4096).
    far = "/far?" + "a" * 5000
    FEEDS.docs[far] = rss([("f1", "Quiet", "nothing")])
    FEEDS.moved["/near"] = far
    write(os.path.join(tmp, "feedwatch.yaml"),
          config(tmp, [("n", "/near")]))
    for _ in range(4):
        r = subprocess.run(
            [FEEDWATCH, "once", "-c", os.path.join(tmp, "feedwatch.yaml")],
            capture_output=True, timeout=60, cwd=tmp)
    check("moved: a target longer than 4096 bytes is followed, never "
          "adopted", r.returncode == 0 and
          db(tmp, "SELECT moved_to, redirect_count FROM feeds") ==
          [(None, 0)], r.stderr.decode()[-300:])
    del FEEDS.moved["/near"]


def test_store_locked(tmp):
    """A document the store could not take (another process held the
    database past the busy timeout) is fetched whole at the next poll,
    not answered 304 with the validators that came with it: its new item
    still alerts."""
    FEEDS.set("/L", [("l1", "Coalition old", "x")])
    write(os.path.join(tmp, "feedwatch.yaml"), config(tmp, [("l", "/L")]))
    errpath = os.path.join(tmp, "stderr.log")
    with open(errpath, "wb") as errf:
        proc = subprocess.Popen(
            [FEEDWATCH, "run", "-c", os.path.join(tmp, "feedwatch.yaml"),
             "--log-level", "info"],
            stdout=subprocess.PIPE, stderr=errf, cwd=tmp)
    log = lambda: open(errpath, "rb").read().decode(errors="replace")
    try:
        def baseline():
            try:
                return db(tmp, "SELECT first_poll_done FROM feeds") == [(1,)]
            except sqlite3.Error:  # not created yet
                return False
        check("locked: baseline stored", wait_for(baseline, 15))
        FEEDS.set("/L", [("l2", "Coalition new", "y"),
                         ("l1", "Coalition old", "x")])
        new_etag = etag(FEEDS.docs["/L"])
        before = len(FEEDS.asked("/L"))
        failures = log().count("store: feed l:")
        lock = sqlite3.connect(os.path.join(tmp, "state.db"), timeout=10,
                               isolation_level=None)
        lock.execute("BEGIN IMMEDIATE")
        check("locked: the new document is fetched", wait_for(
            lambda: len(FEEDS.asked("/L")) > before, 30))
        failed = wait_for(
            lambda: log().count("store: feed l:") > failures, 30)
        lock.execute("ROLLBACK")
        lock.close()
        check("locked: the ingest fails and says so", failed, log()[-500:])
        check("locked: the item alerts at the next poll", wait_for(
            lambda: db(tmp, "SELECT count(*) FROM outbox "
                       "WHERE item_key = 'l2'") == [(1,)], 40))
        asked = FEEDS.asked("/L")[before:]
        check("locked: the poll after the failure is not conditional on "
              "the lost document", len(asked) >= 2 and
              asked[1][1] != new_etag, str(asked))
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            out = proc.communicate(timeout=15)[0].decode()
        except subprocess.TimeoutExpired:
            proc.kill()
            out = proc.communicate()[0].decode()
    check("locked: one alert, for the new item",
          [json.loads(l)["item"]["id"] for l in out.splitlines()] == ["l2"],
          out[:300])


def test_loose_secret_refused(tmp):
    write(os.path.join(tmp, "hook.key"), "whsec_c2VjcmV0\n", 0o644)
    write(os.path.join(tmp, "feedwatch.yaml"),
          config(tmp, [("a", "/a")]).replace(
              "  out: {type: console}",
              "  out: {type: console}\n"
              "  hook: {type: webhook, url: 'http://127.0.0.1:1/', "
              "secret_file: hook.key}"))
    for cmd in ("run", "check"):
        r = subprocess.run(
            [FEEDWATCH, cmd, "-c", os.path.join(tmp, "feedwatch.yaml")],
            capture_output=True, timeout=30, cwd=tmp)
        check("%s refuses a secret file others can read" % cmd,
              r.returncode == 1 and b"chmod 600" in r.stderr,
              r.stderr.decode()[-300:])


def test_cli_urls(tmp):
    FEEDS.set("/u", [("u1", "Soudani in Baghdad", "talks")])
    write(os.path.join(tmp, "feedwatch.yaml"), config(tmp, []))
    url = "http://127.0.0.1:%d/u" % PORT
    r = subprocess.run([FEEDWATCH, "parse", "--json", url],
                       capture_output=True, timeout=30, cwd=tmp)
    ok = r.returncode == 0
    doc = json.loads(r.stdout) if ok else {}
    check("parse --json URL", ok and doc["entries"][0]["id"] == "u1",
          r.stderr.decode()[-300:])
    r = subprocess.run([FEEDWATCH, "match", "--json", "-c",
                        os.path.join(tmp, "feedwatch.yaml"), url],
                       capture_output=True, timeout=30, cwd=tmp)
    lines = r.stdout.decode().splitlines()
    check("match URL", r.returncode == 0 and len(lines) == 1 and
          json.loads(lines[0])["watchlist"] == "w", r.stdout.decode()[-300:])
    r = subprocess.run([FEEDWATCH, "parse", url + "-missing"],
                       capture_output=True, timeout=30, cwd=tmp)
    check("parse URL: an HTTP error says so", r.returncode == 1 and
          b"404" in r.stderr, r.stderr.decode()[-300:])


def test_retention(tmp):
    """Retention prunes: items first seen longer ago than `retention`
    that the feed's latest fetch no longer holds go, and so do delivered
    alerts as old; an item still in the feed stays, however old (it
    would come back as new)."""
    FEEDS.set("/r", [("r1", "Coalition meets", "old"),
                     ("r2", "Weather", "old")])
    cfg = os.path.join(tmp, "feedwatch.yaml")
    write(cfg, config(tmp, [("r", "/r")]) + "retention: 30d\n")
    run = lambda: subprocess.run([FEEDWATCH, "once", "-c", cfg],
                                 capture_output=True, timeout=60, cwd=tmp)
    run()
    FEEDS.set("/r", [("r3", "Coalition talks", "new"),
                     ("r2", "Weather", "old")])
    r = run()
    check("retention: the new item alerts", b'"r3"' in r.stdout,
          r.stdout.decode()[:300] + r.stderr.decode()[-300:])
    # Forty days pass.
    db(tmp, "UPDATE items SET first_seen = first_seen - 40 * 86400")
    db(tmp, "UPDATE outbox SET created_at = created_at - 40 * 86400")
    r = run()
    check("retention: a run after it exits 0", r.returncode == 0,
          r.stderr.decode()[-300:])
    keys = sorted(k for (k,) in db(tmp, "SELECT key FROM items"))
    check("retention: the old item out of the feed is pruned, those "
          "still in it stay", len(keys) == 2, repr(keys))
    check("retention: old delivered alerts are pruned",
          db(tmp, "SELECT count(*) FROM outbox")[0][0] == 0,
          repr(db(tmp, "SELECT state, created_at FROM outbox")))
    FEEDS.set("/r", [("r4", "Coalition again", "newest"),
                     ("r3", "Coalition talks", "new"),
                     ("r2", "Weather", "old")])
    r = run()
    alerts = [json.loads(l)["item"]["id"]
              for l in r.stdout.decode().splitlines()]
    check("retention: the kept items do not alert again", alerts == ["r4"],
          r.stdout.decode()[:300])


def test_retention_steps(tmp):
    """The daemon's retention runs in steps of STORE_PRUNE_STEP (20,000)
    items: 45,000 old items go in three steps (then a step each for
    removed feeds and old alerts), the run says its total once, and
    then waits for the next hour rather than running again: the daemon
    sleeps. (That each step has a turn of the loop to itself, a timer
    of 0 s in engine_prune_cb(), is not seen from here: the 45,000
    items take a fraction of a second either way.)"""
    FEEDS.set("/s", [("s1", "Weather", "kept: in the feed")])
    cfg = os.path.join(tmp, "feedwatch.yaml")
    write(cfg, config(tmp, [("s", "/s")]) + "retention: 30d\n")
    r = subprocess.run([FEEDWATCH, "once", "-c", cfg], capture_output=True,
                       timeout=60, cwd=tmp)
    check("retention steps: the store is made", r.returncode == 0,
          r.stderr.decode()[-300:])
    # 45,000 items first seen forty days ago, none in the latest fetch:
    # copies of s1's row (whatever its columns) under other keys.
    cols = [c[1] for c in db(tmp, "PRAGMA table_info(items)")
            if c[1] not in ("id", "key", "first_seen")]
    db(tmp, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 "
            "FROM n WHERE i < 45000) INSERT INTO items (key, first_seen, "
            + ", ".join(cols) + ") SELECT 'old-' || i, first_seen - "
            "40 * 86400, " + ", ".join(cols) + " FROM items, n "
            "WHERE key = 's1'")
    check("retention steps: 45,001 items before",
          db(tmp, "SELECT count(*) FROM items")[0][0] == 45001)
    # stderr to a file: a pipe nobody reads while the test waits would
    # fill with the debug lines and put a runaway loop to sleep
    errpath = os.path.join(tmp, "stderr.log")
    with open(errpath, "wb") as errf:
        proc = subprocess.Popen(
            [FEEDWATCH, "run", "-c", cfg, "--log-level", "debug"],
            stdout=subprocess.DEVNULL, stderr=errf, cwd=tmp)
    pruned = wait_for(lambda: db(tmp, "SELECT count(*) FROM items")[0][0]
                      == 1, 30, ignore=(sqlite3.OperationalError,))
    check("retention steps: the old items go, the one in the feed stays",
          pruned, repr(db(tmp, "SELECT count(*) FROM items")))
    # Once done, the run waits an hour: the loop sleeps, not stepping.
    # A process that steps for ever shows running (R) at nearly every
    # look, however loaded the machine; one that waits, sleeping (S).
    time.sleep(0.5)
    states, cpu0 = [], proc_stat(proc.pid)[1]
    for _ in range(40):
        states.append(proc_stat(proc.pid)[0])
        time.sleep(0.05)
    used = proc_stat(proc.pid)[1] - cpu0
    check("retention steps: asleep after the run (%d of 40 looks running, "
          "%.2f s of CPU)" % (states.count("R"), used),
          states.count("R") <= 4 and used < 0.5)
    stop(proc)
    with open(errpath, "rb") as f:
        err = f.read().decode(errors="replace")
    steps = re.findall(r"retention: a step, (\d+) items and (\d+) feeds "
                       r"pruned, (more to come|the last)", err)
    check("retention steps: in steps, the items in three or more, "
          "45,000 in all",
          len([s for s in steps if s[0] != "0"]) >= 3 and steps and
          sum(int(s[0]) for s in steps) == 45000 and
          steps[-1][2] == "the last", repr(steps))
    lines = [l for l in err.splitlines() if "items pruned" in l and
             "a step" not in l]
    check("retention steps: the run's total, said once",
          len(lines) == 1 and "45000 items pruned" in lines[0],
          repr(lines))


class Silent:
    """A server that takes connections and never answers: a fetch to it
    stays in flight, without a byte, until its timeout."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.lock = threading.Lock()
        self.accepted = 0
        self.closed = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.accepted += 1
            threading.Thread(target=self._hold, args=(conn,),
                             daemon=True).start()

    def _hold(self, conn):
        conn.settimeout(30)
        try:
            while conn.recv(4096):
                pass
        except OSError:
            pass
        conn.close()
        with self.lock:
            self.closed += 1

    def counts(self):
        with self.lock:
            return self.accepted, self.closed


def health(port):
    """GET /healthz: (status, document)."""
    try:
        with urllib.request.urlopen(
                "http://127.0.0.1:%d/healthz" % port, timeout=5) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def start_shifted(tmp, shim, step, notify=None):
    """The daemon with the clockshift module: each SIGUSR2 makes STEP
    seconds pass, each SIGUSR1 sets the wall clock forward as much."""
    env = dict(os.environ, LD_PRELOAD=shim, FW_CLOCKSHIFT_STEP=str(step))
    if notify is not None:
        env.update(NOTIFY_SOCKET=notify.path, WATCHDOG_USEC="1000000")
    env["ASAN_OPTIONS"] = (os.environ.get("ASAN_OPTIONS", "") +
                           ":verify_asan_link_order=0").lstrip(":")
    return subprocess.Popen(
        [FEEDWATCH, "run", "-c", os.path.join(tmp, "feedwatch.yaml")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=tmp)


def test_watchdog_after_idle(tmp):
    """Work that begins after a long idle spell is not a stall: a poll
    that starts an hour after the last thing the daemon did, and waits
    for its server, is seconds old, not an hour; and a wall clock set
    forward is no stall either. Otherwise the watchdog stops being fed
    (systemd kills a healthy daemon) and /healthz says 503. Time passes
    at once through the clockshift module (LD_PRELOAD), given by
    $FW_CLOCKSHIFT."""
    shim = os.environ.get("FW_CLOCKSHIFT")
    if not shim:
        print("skip test_watchdog_after_idle: FW_CLOCKSHIFT not set")
        return
    silent = Silent()
    admin = socket.socket()
    admin.bind(("127.0.0.1", 0))
    port = admin.getsockname()[1]
    admin.close()
    cfg = config(tmp, []).replace("feeds:\n", "feeds:\n  - {url: "
                                  "'http://127.0.0.1:%d/x', name: idle, "
                                  "interval: 10m, timeout: 6s}\n"
                                  % silent.port)
    write(os.path.join(tmp, "feedwatch.yaml"),
          cfg.replace("admin: {enabled: false}", "admin: {port: %d}" % port))
    notify = Notify(os.path.join(tmp, "notify.sock"))
    proc = start_shifted(tmp, shim, 3600, notify)
    pings = lambda: sum(1 for m in notify.snapshot() if m == "WATCHDOG=1")
    try:
        first = wait_for(lambda: silent.counts() == (1, 1), 15)
        check("idle: the first poll waits for its timeout", first,
              str(silent.counts()))
        # An hour without anything to do, then the feed is due again.
        proc.send_signal(signal.SIGUSR2)
        began = wait_for(lambda: silent.counts()[0] == 2, 10)
        # ... and, while it waits, the wall clock is set forward.
        proc.send_signal(signal.SIGUSR1)
        notify.clear()
        time.sleep(2.5)
        code, doc = health(port)
        fed = pings()
        check("idle: the poll after the idle hour began", began,
              str(silent.counts()))
        check("idle: /healthz 200 while it waits for its server",
              code == 200 and doc["seconds_without_progress"] < 10,
              "%d %s" % (code, doc))
        check("idle: the watchdog is fed while it waits", fed >= 2,
              "%d pings" % fed)
    finally:
        rc, out, err = stop(proc)
        silent.sock.close()
    check("idle: the log says no stall", "not feeding the watchdog"
          not in err, err[-600:])


def digest_config(tmp, port, timeout="5s"):
    """A feed whose first poll alerts, to a webhook that holds its alerts
    for a digest a day long; the admin server on PORT."""
    cfg = config(tmp, []).replace(
        "feeds:\n", "feeds:\n  - {url: 'http://127.0.0.1:%d/d', name: d, "
        "interval: 1d, first_poll_alert_age: 1d}\n" % PORT).replace(
        "notify: [out]", "notify: [hook]").replace(
        "admin: {enabled: false}", "admin: {port: %d}" % port)
    return cfg + ("  hook: {type: webhook, url: 'http://127.0.0.1:1/', "
                  "allow_private: true, digest: 24h, timeout: %s}\n"
                  % timeout)


def start_digest_held(tmp, shim, notify=None):
    """The daemon (each SIGUSR2 ten minutes) with an alert held for the
    digest of digest_config(): (proc, admin port, held)."""
    FEEDS.set("/d", [("d1", "Coalition meets", "x")],
              time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime()))
    admin = socket.socket()
    admin.bind(("127.0.0.1", 0))
    port = admin.getsockname()[1]
    admin.close()
    write(os.path.join(tmp, "feedwatch.yaml"), digest_config(tmp, port))
    proc = start_shifted(tmp, shim, 600, notify)
    return proc, port, wait_held(tmp)


def wait_held(tmp):
    """Whether the daemon comes to hold the one alert (bounded)."""
    def is_held():
        try:
            return db(tmp, "SELECT state FROM outbox") == [("inflight",)]
        except sqlite3.OperationalError:  # not yet created
            return False
    # connecting before the daemon would make an empty file
    return wait_for(lambda: os.path.exists(
        os.path.join(tmp, "state.db")), 10) and wait_for(is_held, 15)


def test_healthz_digest_held(tmp):
    """Alerts a notifier holds for its digest are not work in flight:
    /healthz stays 200 through the digest's window, however long nothing
    else happens (as the watchdog does)."""
    shim = os.environ.get("FW_CLOCKSHIFT")
    if not shim:
        print("skip test_healthz_digest_held: FW_CLOCKSHIFT not set")
        return
    proc, port, held = start_digest_held(tmp, shim)
    try:
        check("digest: the alert is held", held,
              repr(db(tmp, "SELECT state FROM outbox")))
        # Ten minutes without anything to do.
        proc.send_signal(signal.SIGUSR2)
        time.sleep(0.5)
        code, doc = health(port)
        check("digest: /healthz 200 while the digest holds the alert",
              code == 200, "%d %s" % (code, doc))
    finally:
        stop(proc)


def test_digest_reload(tmp):
    """A reload that changes the settings of a notifier holding alerts
    for its digest: the old notifier keeps them until its window ends
    (nothing is lost), and they are no more work in flight than before
    the reload: the watchdog stays fed and /healthz says 200 through the
    window."""
    shim = os.environ.get("FW_CLOCKSHIFT")
    if not shim:
        print("skip test_digest_reload: FW_CLOCKSHIFT not set")
        return
    notify = Notify(os.path.join(tmp, "notify.sock"))
    proc, port, held = start_digest_held(tmp, shim, notify)
    pings = lambda: sum(1 for m in notify.snapshot() if m == "WATCHDOG=1")
    try:
        check("digest reload: the alert is held", held)
        write(os.path.join(tmp, "feedwatch.yaml"),
              digest_config(tmp, port, "7s"))
        notify.clear()
        proc.send_signal(signal.SIGHUP)
        check("digest reload: reloaded", notify.wait(
            lambda m: "READY=1" in m, 10) is not None)
        # Ten minutes without anything to do.
        proc.send_signal(signal.SIGUSR2)
        time.sleep(0.5)
        notify.clear()
        time.sleep(2.5)
        code, doc = health(port)
        fed = pings()
        check("digest reload: /healthz 200", code == 200,
              "%d %s" % (code, doc))
        check("digest reload: the watchdog is fed", fed >= 2,
              "%d pings" % fed)
    finally:
        rc, out, err = stop(proc)
    check("digest reload: the log says no stall", "not feeding the "
          "watchdog" not in err, err[-600:])


def test_stop_digest_held(tmp):
    """SIGTERM while a notifier holds an alert for its digest: the stop
    does not wait for the digest's window (the alert is put back to
    pending at the next start and held again, docs/notifiers.md), nor
    for its 10 s deadline."""
    admin = socket.socket()
    admin.bind(("127.0.0.1", 0))
    port = admin.getsockname()[1]
    admin.close()
    FEEDS.set("/d", [("d1", "Coalition meets", "x")],
              time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime()))
    write(os.path.join(tmp, "feedwatch.yaml"), digest_config(tmp, port))
    proc = start(tmp)
    check("stop/digest: the alert is held", wait_held(tmp))
    t0 = time.time()
    rc, out, err = stop(proc)
    elapsed = time.time() - t0
    check("stop/digest: exit 0 at once", rc == 0 and elapsed < 3,
          "rc=%s after %.1f s %s" % (rc, elapsed, err[-600:]))
    check("stop/digest: no deadline warning",
          "stop deadline reached" not in err, err[-300:])
    proc = start(tmp)
    up = wait_for(lambda: health(port)[0] == 200, 10, (OSError,))
    check("stop/digest: the next start holds it again", up and wait_for(
        lambda: db(tmp, "SELECT state, attempts FROM outbox") ==
        [("inflight", 0)], 10))
    rc, out, err = stop(proc)
    check("stop/digest: the next start says it is sent again",
          "1 alerts left in flight will be sent again" in err, err[-300:])


def main():
    global PORT
    server, PORT = serve(FEEDS)
    for test in (test_ready_reload_stop, test_stop_during_slow_transfer,
                 test_slow_transfer_progress,
                 test_reload_while_parsing,
                 test_once_alerts_only_new, test_feed_back,
                 test_feed_held_on_reload, test_cut_short_later,
                 test_retention, test_retention_steps,
                 test_watchdog_after_idle,
                 test_healthz_digest_held, test_digest_reload,
                 test_stop_digest_held,
                 test_not_a_feed,
                 test_file_feed,
                 test_self_alert_once,
                 test_self_alert_run, test_moved_permanently,
                 test_moved_too_far, test_store_locked,
                 test_loose_secret_refused,
                 test_cli_urls):
        if sys.argv[2:] and test.__name__ not in sys.argv[2:]:
            continue
        with tempfile.TemporaryDirectory() as tmp:
            try:
                test(tmp)
            except Exception as e:  # a crash of the test is a failure
                check(test.__name__, False, repr(e))
    server.shutdown()
    summary()


if __name__ == "__main__":
    main()
