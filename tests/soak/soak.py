#!/usr/bin/python3
"""Soak and chaos test of the real daemon (`feedwatch run`).

    soak.py FEEDWATCH [--duration S] [--feeds N] [--interval S] ...
    soak.py --short FEEDWATCH        the ctest version (about a minute)

A generated feed server (this script, in a child process) serves N feeds
on 127.0.0.1 that publish new items continuously; a known fraction of
the items match the watchlist, and every item's id, link and publication
time follow from (seed, feed, index), so the expected alerts are known.
A tenth of the feeds misbehave in rotation: slow drip, hang, 500, 429
with Retry-After, malformed XML, a lying charset, an oversized body, a
gzip bomb, GUID churn, redirects. Meanwhile the webhook receiver
(tests/servers/webhook_receiver.py) and the SMTP receiver
(tests/servers/smtp_receiver.py) go down and come back, the daemon gets
SIGHUP every few seconds with configurations alternating between valid
and broken, and now and then SIGKILL and a restart.

Then publication stops, every feed gets one more poll, the outboxes
drain, SIGTERM, and the invariants are checked:
  - every matching item published after its feed's baseline poll has
    exactly one alert id (or, past the per-poll cap, is listed in the
    poll's summary alert); no other item alerts; GUID churn alerts nothing
  - every outbox row reached its receiver at least once (2xx), with a
    valid signature; a receiver saw no id the outbox does not have;
    duplicates are counted (they may only repeat an id already seen)
  - no feed went unpolled longer than its interval plus the backoff its
    failures and Retry-After allow (from the feed server's request log)
  - peak RSS of the longest-lived daemon did not grow after warm-up
  - the longest event-loop stall, measured from outside as the gap
    between WATCHDOG=1 pings (WATCHDOG_USEC small, kernel timestamps)
  - PRAGMA integrity_check is ok; the final SIGTERM exits 0
Prints a report; exit status 1 if any invariant is violated.
Standard library only (the SMTP receiver needs Debian's python3-aiosmtpd).
"""
import argparse
import base64
import gzip
import http.server
import json
import os
import random
import re
import signal
import socket
import socketserver
import sqlite3
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
SERVERS = os.path.join(HERE, "..", "servers")
PYTHON = "/usr/bin/python3"

# Misbehaviours, in rotation over the bad feeds (every tenth feed).
BAD = ["drip", "hang", "e500", "e429", "malformed", "charset", "oversized",
       "bomb", "churn", "redirect301", "redirect302"]
# Of these, the ones after which the daemon must count a failed poll
# (the gap check allows backoff for them); charset is unknown, so lenient.
FAILING = {"drip", "hang", "e500", "e429", "malformed", "charset",
           "oversized", "bomb"}
ITEMS_IN_DOC = 60  # the feed's window: the latest items
BURST = 30  # items a burst feed publishes at once (past the cap of 20)
MATCH_WORD = "Coalition"


# ---------------------------------------------------------------------
# The model: what every feed publishes, and when. Pure functions of the
# parameters, shared by the feed server and the checks.

def crc(*parts):
    return zlib.crc32(":".join(str(p) for p in parts).encode())


class Model:
    def __init__(self, nfeeds, seed, t0, stop, interval, warmup, slot,
                 match_pct):
        self.nfeeds, self.seed, self.t0, self.stop = nfeeds, seed, t0, stop
        self.interval, self.warmup, self.slot = interval, warmup, slot
        self.match_pct = match_pct

    def kind(self, i):
        if i % 10 == 9:
            return BAD[(i // 10) % len(BAD)]
        return "good"

    def burst(self, i):
        return i % 10 == 4 and (i // 10) % 4 == 0

    def batch(self, i):
        return BURST if self.burst(i) else 1

    def period(self, i):
        if self.burst(i):
            return 3.0 * self.interval
        # At least a fifth of the interval: the 60-item window outlasts
        # the longest backoff the misbehaving slots cause.
        return 0.2 * self.interval + \
            crc(self.seed, "p", i) % (20 * self.interval) / 10.0

    def offset(self, i):
        return -(4 + crc(self.seed, "o", i) % 4) * self.period(i)

    def count(self, i, t):
        """Items feed i has published by time t."""
        t = min(t, self.stop)
        x = t - self.t0 - self.offset(i)
        if x < 0:
            return 0
        return self.batch(i) * (int(x // self.period(i)) + 1)

    def published_at(self, i, n):
        return self.t0 + self.offset(i) + (n // self.batch(i)) * \
            self.period(i)

    def matches(self, i, n):
        return crc(self.seed, "m", i, n) % 100 < self.match_pct

    def link(self, i, n):
        return "http://soak.invalid/f%d/%d" % (i, n)

    def bad_slot(self, i, t):
        """The index of the misbehaving slot feed i is in at t, or -1."""
        if self.kind(i) == "good" or t >= self.stop:
            return -1
        x = t - self.t0 - self.warmup
        if x < 0:
            return -1
        k = int(x // self.slot)
        return k if (k + i // 10) % 3 == 0 else -1

    def churn_epoch(self, i, t):
        if self.kind(i) != "churn":
            return 0
        x = min(t, self.stop) - self.t0 - self.warmup
        if x < 0:
            return 0
        k = int(x // self.slot)
        return sum(1 for j in range(k + 1) if (j + i // 10) % 3 == 0)

    def doc(self, i, t, pad=0):
        """The RSS document of feed i at t, and its item count."""
        c = self.count(i, t)
        epoch = self.churn_epoch(i, t)
        out = ['<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0">'
               '<channel><title>soak feed %d</title>'
               '<link>http://soak.invalid/f%d</link>' % (i, i)]
        if pad:
            out.append("<description>%s</description>" % ("x" * pad))
        for n in range(c - 1, max(c - ITEMS_IN_DOC, 0) - 1, -1):
            title = ("%s talks, item %d of feed %d" % (MATCH_WORD, n, i)
                     if self.matches(i, n)
                     else "Weather report %d of feed %d" % (n, i))
            guid = ("e%d-f%d-%d" % (epoch, i, n) if epoch
                    else "f%d-%d" % (i, n))
            pub = time.strftime("%a, %d %b %Y %H:%M:%S +0000",
                                time.gmtime(self.published_at(i, n)))
            out.append("<item><guid isPermaLink='false'>%s</guid>"
                       "<title>%s</title><link>%s</link><pubDate>%s"
                       "</pubDate><description>Plain text body of item %d."
                       "</description></item>"
                       % (guid, title, self.link(i, n), pub, n))
        out.append("</channel></rss>\n")
        return "".join(out).encode(), c


def model_from(args):
    return Model(args.feeds, args.seed, args.t0, args.stop, args.interval,
                 args.warmup, args.slot, args.match_pct)


# ---------------------------------------------------------------------
# The feed server (a child process: `soak.py --serve ...`).

class FeedHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def note(self, i, t0, status, behaviour, ok, count=None, ra=None):
        rec = {"f": i, "t0": round(t0, 3), "t1": round(time.time(), 3),
               "st": status, "b": behaviour, "ok": ok}
        if count is not None:
            rec["c"] = count
        if ra is not None:
            rec["ra"] = ra
        srv = self.server
        with srv.lock:
            srv.log.write(json.dumps(rec) + "\n")

    def send(self, status, body=b"", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        t0 = time.time()
        m = re.match(r"^/(f|m)/(\d+)$", self.path)
        srv = self.server
        if not m or int(m.group(2)) >= srv.model.nfeeds:
            self.send(404, b"no such feed\n")
            return
        i = int(m.group(2))
        try:
            self.serve(srv.model, i, m.group(1) == "m", t0)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def serve(self, model, i, moved, t0):
        kind = model.kind(i)
        bad = model.bad_slot(i, t0) >= 0 and not moved
        b = kind if bad else ""
        rss = [("Content-Type", "application/rss+xml; charset=utf-8")]
        if not bad or kind == "churn":
            body, c = model.doc(i, t0)
            self.note(i, t0, 200, b, True, c)
            self.send(200, body, rss)
        elif kind == "drip":
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.note(i, t0, 200, b, False)
            end = t0 + self.server.timeout_s + 3
            while time.time() < end:
                self.wfile.write(b"1\r\n \r\n")
                self.wfile.flush()
                time.sleep(0.5)
        elif kind == "hang":
            self.note(i, t0, 0, b, False)
            time.sleep(self.server.timeout_s + 3)
            self.close_connection = True
        elif kind == "e500":
            self.note(i, t0, 500, b, False)
            self.send(500, b"internal error\n")
        elif kind == "e429":
            ra = int(2.5 * model.interval)
            self.note(i, t0, 429, b, False, ra=ra)
            self.send(429, b"slow down\n", [("Retry-After", str(ra))])
        elif kind == "malformed":
            body, _ = model.doc(i, t0)
            body = body[:len(body) // 2] + b"</title></rss><<&&;\x00"
            self.note(i, t0, 200, b, False)
            self.send(200, body, rss)
        elif kind == "charset":
            # A UTF-16 label on an ASCII document (the XML declaration
            # says UTF-8): whatever the daemon makes of it, it must not
            # invent items.
            body, c = model.doc(i, t0)
            self.note(i, t0, 200, b, False, c)
            self.send(200, body, [("Content-Type",
                                   "application/rss+xml; charset=utf-16")])
        elif kind == "oversized":
            body, _ = model.doc(i, t0, pad=self.server.max_body + 4096)
            self.note(i, t0, 200, b, False)
            self.send(200, body, rss)
        elif kind == "bomb":
            self.note(i, t0, 200, b, False)
            self.send(200, self.server.bomb, rss + [
                ("Content-Encoding", "gzip")])
        elif kind.startswith("redirect"):
            status = int(kind[-3:])
            self.note(i, t0, status, b, True)
            self.send(status, b"moved\n", [("Location", "/m/%d" % i)])


class FeedServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024

    def handle_error(self, request, client_address):
        pass


def serve_main(args):
    srv = FeedServer(("127.0.0.1", 0), FeedHandler)
    srv.model = model_from(args)
    srv.lock = threading.Lock()
    srv.log = open(args.serve, "a", buffering=1)
    srv.timeout_s = args.timeout
    srv.max_body = args.max_body
    # 64 MiB of zeros, about 64 KiB compressed: made once.
    srv.bomb = gzip.compress(bytes(64 << 20), 9)
    print("PORT %d" % srv.server_address[1], flush=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    sys.stdin.read()  # until the driver goes away


# ---------------------------------------------------------------------
# The notify socket: every datagram with its kernel arrival time and
# the sender's pid.

SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
SO_PASSCRED = getattr(socket, "SO_PASSCRED", 16)
SCM_CREDENTIALS = getattr(socket, "SCM_CREDENTIALS", 2)


class Notify:
    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        self.sock.setsockopt(socket.SOL_SOCKET, SO_PASSCRED, 1)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        self.sock.settimeout(0.2)
        self.lock = threading.Lock()
        self.messages = []  # (time, pid, text)
        self.running = True
        threading.Thread(target=self.read, daemon=True).start()

    def read(self):
        space = socket.CMSG_SPACE(16) + socket.CMSG_SPACE(12)
        while self.running:
            try:
                data, anc, _, _ = self.sock.recvmsg(4096, space)
            except socket.timeout:
                continue
            except OSError:
                return
            t, pid = time.time(), 0
            for level, kind, cdata in anc:
                if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                    s, ns = struct.unpack("qq", cdata[:16])
                    t = s + ns / 1e9
                elif level == socket.SOL_SOCKET and kind == SCM_CREDENTIALS:
                    pid = struct.unpack("iII", cdata[:12])[0]
            with self.lock:
                self.messages.append((t, pid, data.decode("utf-8",
                                                          "replace")))

    def snapshot(self):
        with self.lock:
            return list(self.messages)


# ---------------------------------------------------------------------
# The driver.

def log(msg):
    print("[%s] %s" % (time.strftime("%H:%M:%S"), msg), flush=True)


def write(path, text, mode=0o600):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def rss_kib(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


class Receiver:
    """A receiver child process that can be stopped and started again
    on the same port."""

    def __init__(self, name, argv):
        self.name, self.argv, self.port, self.proc = name, argv, 0, None
        self.downs = 0

    def start(self):
        argv = self.argv + (["--port", str(self.port)] if self.port else [])
        for _ in range(50):
            self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE,
                                         stderr=subprocess.DEVNULL)
            line = self.proc.stdout.readline().decode()
            if line.startswith("PORT "):
                self.port = int(line.split()[1])
                return
            self.proc.wait()
            time.sleep(0.1)  # the port is not free yet
        raise RuntimeError("%s did not start" % self.name)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def up(self):
        return self.proc is not None


class Soak:
    def __init__(self, args):
        self.a = args
        self.dir = args.dir
        self.cfg = os.path.join(self.dir, "feedwatch.yaml")
        self.daemon = None
        self.daemon_log = open(os.path.join(self.dir, "daemon.log"), "ab")
        self.pids = []  # (pid, start, end)
        self.downtimes = []  # (from, to): no daemon running
        self.kills = 0
        self.hups = [0, 0]  # valid, broken
        self.rss = {}  # pid -> [(t, kib)]
        self.final_rc = None
        self.violations = []

    # --- configuration
    def config(self, variant):
        a = self.a
        # Every feed is on one test server standing for as many hosts:
        # the per-host politeness cap (2) would otherwise let a few hanging
        # feeds hold back all the others, which real hosts would not.
        lines = ["store: state.db",
                 "fetch: {block_private_addresses: false, max_body: %dB, "
                 "max_connections_per_host: 32}" % a.max_body,
                 "defaults: {interval: %ds, timeout: %ds}"
                 % (a.interval, a.timeout),
                 "feeds:"]
        for i in range(a.feeds):
            lines.append("  - {url: 'http://127.0.0.1:%d/f/%d', name: f%d}"
                         % (self.feed_port, i, i))
        notify = "[hook, mail]" if self.smtp else "[hook]"
        lines += ["watchlists:",
                  "  soak: {match: '%s', notify: %s}"
                  % (MATCH_WORD.lower(), notify)]
        if variant == 1:
            lines.append("  spare: {match: 'zzqqxx', notify: [hook]}")
        lines += ["notifiers:",
                  "  hook: {type: webhook, url: 'http://127.0.0.1:%d/hook',"
                  " secret_file: hook.key, allow_private: true,"
                  " timeout: 5s}" % self.hook.port]
        if self.smtp:
            lines.append(
                "  mail: {type: email, url: 'smtp://127.0.0.1:%d',"
                " from: soak@example.org, to: [ops@example.org],"
                " starttls: false, allow_private: true, timeout: 5s}"
                % self.smtp.port)
        text = "\n".join(lines) + "\n"
        if variant == 2:  # a key twice
            text += "watchlists:\n  oops: {}\n"
        elif variant == 3:  # below the minimum interval
            text = text.replace("interval: %ds" % a.interval,
                                "interval: 1s", 1)
        elif variant == 4:  # a notifier that does not exist
            text = text.replace("notify: [hook", "notify: [nowhere, hook",
                                1)
        return text

    # --- the daemon
    def start_daemon(self):
        env = dict(os.environ)
        env["NOTIFY_SOCKET"] = self.notify.path
        env["WATCHDOG_USEC"] = str(self.a.watchdog_ms * 1000)
        self.daemon = subprocess.Popen(
            [self.a.feedwatch, "run", "-c", self.cfg, "--log-level",
             "info"], stdout=self.daemon_log, stderr=self.daemon_log,
            env=env, cwd=self.dir)
        self.pids.append([self.daemon.pid, time.time(), None])
        self.rss[self.daemon.pid] = []

    def daemon_gone(self, t):
        self.pids[-1][2] = t
        self.downtimes.append([t, None])

    def ready(self):
        """The running daemon said READY=1 (as systemd, SIGHUP waits for
        it: before its handler is installed a SIGHUP would end it)."""
        pid = self.daemon.pid
        return any(p == pid and "READY=1" in text
                   for _, p, text in self.notify.snapshot())

    def kill_daemon(self):
        t = time.time()
        self.daemon.kill()
        self.daemon.wait()
        self.kills += 1
        self.daemon_gone(t)
        # Restarted as an operator would: with a valid configuration.
        write(self.cfg, self.config(0))
        time.sleep(random.uniform(0.2, 1.5))
        self.downtimes[-1][1] = time.time()
        self.start_daemon()

    def sample(self):
        kib = rss_kib(self.daemon.pid)
        if kib is not None:
            self.rss[self.daemon.pid].append((time.time(), kib))
        if self.daemon.poll() is not None:
            self.violation("daemon", "feedwatch exited by itself with "
                           "status %s (see daemon.log)"
                           % self.daemon.returncode)
            self.daemon_gone(time.time())
            self.downtimes[-1][1] = time.time()
            self.start_daemon()

    def violation(self, kind, text):
        self.violations.append((kind, text))
        log("VIOLATION %s: %s" % (kind, text))

    def db(self, sql, args=()):
        con = sqlite3.connect("file:%s?mode=ro" % os.path.join(
            self.dir, "state.db"), uri=True, timeout=10)
        try:
            return con.execute(sql, args).fetchall()
        finally:
            con.close()

    # --- the run
    def run(self):
        a = self.a
        write(os.path.join(self.dir, "hook.key"),
              "whsec_" + base64.b64encode(os.urandom(24)).decode() + "\n")
        secret = open(os.path.join(self.dir, "hook.key")).read().strip()
        self.hook = Receiver("webhook", [
            PYTHON, os.path.join(SERVERS, "webhook_receiver.py"),
            "--log", os.path.join(self.dir, "webhook.jsonl"),
            "--secret", secret])
        self.hook.start()
        self.smtp = None
        if a.smtp:
            self.smtp = Receiver("smtp", [
                PYTHON, os.path.join(HERE, "smtp_port.py"),
                "--log", os.path.join(self.dir, "smtp.jsonl")])
            self.smtp.start()
        a.t0 = time.time() + 1
        a.stop = a.t0 + a.warmup + a.chaos
        self.model = model_from(a)
        feedlog = os.path.join(self.dir, "feeds.jsonl")
        self.server = subprocess.Popen(
            [PYTHON, os.path.abspath(__file__), "--serve", feedlog,
             "--feeds", str(a.feeds), "--seed", str(a.seed),
             "--t0", repr(a.t0), "--stop", repr(a.stop),
             "--interval", str(a.interval), "--warmup", str(a.warmup),
             "--slot", str(a.slot), "--match-pct", str(a.match_pct),
             "--timeout", str(a.timeout), "--max-body", str(a.max_body),
             "x"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.feed_port = int(self.server.stdout.readline().split()[1])
        self.notify = Notify(os.path.join(self.dir, "notify.sock"))
        write(self.cfg, self.config(0))
        log("feeds on :%d, webhook on :%d%s, %d feeds, publishing for "
            "%d s (warm-up %d s), dir %s"
            % (self.feed_port, self.hook.port,
               ", smtp on :%d" % self.smtp.port if self.smtp else "",
               a.feeds, a.warmup + a.chaos, a.warmup, self.dir))
        while time.time() < a.t0:
            time.sleep(0.05)
        self.start_daemon()
        self.chaos()
        self.drain()
        self.finish()

    def chaos(self):
        a = self.a
        rng = random.Random(a.seed)
        now = time.time()
        next_hup = a.t0 + a.warmup + rng.uniform(0, a.hup_every)
        kill_until = a.t0 + a.warmup + a.chaos * 0.6
        next_kill = a.t0 + a.warmup + rng.uniform(0.2, 0.8) * a.kill_every
        next_down = {r: a.t0 + a.warmup + rng.uniform(0, a.down_every)
                     for r in (self.hook, self.smtp) if r}
        back_up = {}
        variant = 0
        while now < a.stop:
            time.sleep(0.25)
            now = time.time()
            self.sample()
            if now >= next_hup and self.ready():
                variant = variant + 1
                v = [1, 2, 0, 3, 1, 4, 0, 2][variant % 8]
                write(self.cfg, self.config(v))
                self.daemon.send_signal(signal.SIGHUP)
                self.hups[1 if v >= 2 else 0] += 1
                next_hup = now + rng.uniform(0.5, 1.5) * a.hup_every
            if now >= next_kill and now < kill_until:
                log("SIGKILL %d" % self.daemon.pid)
                self.kill_daemon()
                next_kill = now + rng.uniform(0.7, 1.3) * a.kill_every
            for r in list(next_down):
                if r.up() and now >= next_down[r]:
                    log("%s receiver down" % r.name)
                    r.stop()
                    r.downs += 1
                    back_up[r] = now + rng.uniform(0.5, 1.0) * a.down_for
                elif not r.up() and now >= back_up[r]:
                    r.start()
                    log("%s receiver up" % r.name)
                    next_down[r] = now + rng.uniform(0.7, 1.3) * \
                        a.down_every
        for r in (self.hook, self.smtp):
            if r and not r.up():
                r.start()
        # A valid configuration for the end, whatever the last reload was.
        write(self.cfg, self.config(0))
        self.daemon.send_signal(signal.SIGHUP)
        self.hups[0] += 1

    def feed_log(self):
        out = []
        with open(os.path.join(self.dir, "feeds.jsonl")) as f:
            for line in f:
                try:
                    out.append(json.loads(line))
                except ValueError:
                    pass
        return out

    def drain(self):
        """Until every feed was fetched whole once after publication
        stopped and the outboxes are empty (bounded)."""
        a = self.a
        end = time.time() + a.drain
        log("publication stopped; waiting for a last poll of every feed")
        missing = set(range(a.feeds))
        while time.time() < end and missing:
            time.sleep(1)
            self.sample()
            for r in self.feed_log():
                if r["ok"] and "c" in r and r["t0"] > a.stop + 0.5:
                    missing.discard(r["f"])
        if missing:
            log("%d feeds not polled after the stop: %s"
                % (len(missing), sorted(missing)[:20]))
        log("waiting for the outbox to drain")
        pending = None
        while time.time() < end + a.outbox_wait:
            time.sleep(1)
            self.sample()
            try:
                pending = self.db("SELECT count(*) FROM outbox WHERE state "
                                  "IN ('pending', 'inflight')")[0][0]
            except sqlite3.Error:
                continue
            if pending == 0:
                break
        self.pending_at_end = pending

    def finish(self):
        self.sample()
        t = time.time()
        self.daemon.send_signal(signal.SIGTERM)
        try:
            self.final_rc = self.daemon.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.daemon.kill()
            self.final_rc = self.daemon.wait()
            self.violation("stop", "SIGTERM: not stopped within 20 s")
        self.pids[-1][2] = time.time()
        self.end = t
        self.notify.running = False
        for r in (self.hook, self.smtp):
            if r:
                r.stop()
        self.server.stdin.close()
        self.server.wait()

    # --- the checks
    def check_all(self):
        self.check_alerts()
        self.check_deliveries()
        self.check_polling()
        self.check_rss()
        self.check_stalls()
        ic = self.db("PRAGMA integrity_check")
        self.integrity = ic[0][0] if ic else "?"
        if ic != [("ok",)]:
            self.violation("integrity", str(ic)[:300])
        if self.final_rc != 0:
            self.violation("stop", "SIGTERM exit status %s" % self.final_rc)
        if self.pending_at_end:
            self.violation("outbox", "%s alerts still queued at the end"
                           % self.pending_at_end)
        with open(os.path.join(self.dir, "daemon.log"), "rb") as f:
            text = f.read().decode("utf-8", "replace")
        for pat in ("AddressSanitizer", "LeakSanitizer",
                    "runtime error:", "fatal:"):
            if pat in text:
                i = text.index(pat)
                self.violation("daemon-log", text[max(0, i - 200):i + 400])

    def check_alerts(self):
        m, a = self.model, self.a
        rows = self.db("SELECT id, alert_id, watchlist, notifier, feed_url, "
                       "item_key, payload, state FROM outbox")
        self.outbox_rows = rows
        by_link = {}  # link -> set of alert ids
        summarized = set()  # links listed in a summary alert
        summaries = set()
        self.alert_ids = set()
        unknown = 0
        link_re = re.compile(r"<(http://soak\.invalid/f\d+/\d+)>")
        for oid, aid, wl, notifier, url, key, payload, state in rows:
            self.alert_ids.add(aid)
            doc = json.loads(payload)
            if doc.get("id") != aid:
                self.violation("alert", "outbox %s: payload id %s is not "
                               "its alert id %s" % (oid, doc.get("id"), aid))
            if wl == "*":
                summaries.add(aid)
                summarized.update(link_re.findall(
                    doc.get("item", {}).get("summary", "")))
                continue
            link = doc.get("item", {}).get("link")
            by_link.setdefault(link, set()).add(aid)
        # Baseline: the item count of each feed's first whole fetch.
        # After a SIGKILL that may not have been stored, so items up to
        # the next whole fetch after the restart may go either way.
        reqs = {}
        for r in self.feed_log():
            reqs.setdefault(r["f"], []).append(r)
        self.requests = reqs
        kills = [p[2] for p in self.pids[:-1] if p[2] is not None]
        expected = ok = either_alerted = either_not = summ = 0
        missing, double, false_alert, baseline_alert = [], [], [], []
        for i in range(a.feeds):
            whole = [r for r in sorted(reqs.get(i, []), key=lambda r: r["t0"])
                     if "c" in r and r["st"] == 200]
            if not whole:
                self.violation("poll", "feed %d never fetched whole" % i)
                continue
            base = loose = whole[0]["c"]
            # A malformed or mislabelled first fetch may have been taken
            # as the baseline (recovered): items since then go either way.
            first = min((r for r in reqs.get(i, []) if r["st"] == 200 and
                         r["b"] in ("malformed", "charset")),
                        key=lambda r: r["t0"], default=None)
            if first is not None and first["t0"] < whole[0]["t0"]:
                base = m.count(i, first["t0"])
            for k in kills:
                if whole[0]["t0"] <= k <= whole[0]["t1"] + 5:
                    later = [r for r in whole if r["t0"] > k]
                    loose = later[0]["c"] if later else m.count(i, a.stop)
            final = m.count(i, a.stop)
            for n in range(final):
                link = m.link(i, n)
                ids = by_link.pop(link, set())
                if n < base or not m.matches(i, n):
                    if ids:
                        (baseline_alert if n < base else
                         false_alert).append(link)
                    continue
                if n < loose:
                    if ids:
                        either_alerted += 1
                    else:
                        either_not += 1
                    if len(ids) > 1:
                        double.append((link, len(ids)))
                    continue
                expected += 1
                if len(ids) == 1:
                    ok += 1
                elif not ids and link in summarized:
                    summ += 1
                elif not ids:
                    missing.append(link)
                else:
                    double.append((link, len(ids)))
        unknown = sum(len(v) for v in by_link.values())
        self.alerts = {"expected": expected, "alerted": ok,
                       "summarized": summ, "summaries": len(summaries),
                       "ambiguous_baseline": either_alerted + either_not,
                       "alert_ids": len(self.alert_ids),
                       "outbox_rows": len(rows)}
        for name, lst in (("missing alert", missing),
                          ("more than one alert id", double),
                          ("alert for a non-matching item", false_alert),
                          ("alert for a baseline item", baseline_alert)):
            if lst:
                self.violation("alerts", "%d items: %s: %s" % (
                    len(lst), name, lst[:8]))
        if unknown:
            self.violation("alerts", "%d alerts for items never published:"
                           " %s" % (unknown, list(by_link)[:5]))

    def check_deliveries(self):
        rows = {r[0]: r for r in self.outbox_rows}
        hook_rows = {k for k, r in rows.items() if r[3] == "hook"}
        seen, received, dup, rejected, bad = {}, 0, 0, 0, 0
        phantom = set()
        path = os.path.join(self.dir, "webhook.jsonl")
        if os.path.exists(path):
            with open(path) as f:
                for line in f:
                    try:
                        r = json.loads(line)
                    except ValueError:
                        continue
                    received += 1
                    if not r["verified"]:
                        bad += 1
                    if not 200 <= r["status"] < 300:
                        rejected += 1
                        continue
                    oid = r["id"]
                    if oid not in rows:
                        phantom.add(oid)
                        continue
                    try:
                        body_id = json.loads(r["body"]).get("id")
                    except ValueError:
                        body_id = None
                    if body_id != rows[oid][1]:
                        self.violation("delivery", "webhook %s carried "
                                       "alert %s, not %s"
                                       % (oid, body_id, rows[oid][1]))
                    if oid in seen:
                        dup += 1
                    seen[oid] = seen.get(oid, 0) + 1
        never = hook_rows - set(seen)
        dead = [k for k, r in rows.items() if r[7] == "dead"]
        self.deliveries = {"webhook_requests": received,
                           "delivered": sum(seen.values()),
                           "distinct": len(seen), "duplicates": dup,
                           "refused": rejected}
        if never:
            self.violation("delivery", "%d webhook alerts never delivered:"
                           " %s" % (len(never), sorted(never)[:5]))
        if phantom:
            self.violation("delivery", "%d webhook ids not in the outbox: "
                           "%s" % (len(phantom), sorted(phantom)[:5]))
        if bad:
            self.violation("delivery", "%d webhook requests failed the "
                           "signature check" % bad)
        if dead:
            self.violation("delivery", "%d outbox rows dead" % len(dead))
        if self.smtp:
            mail_rows = {k: r for k, r in rows.items() if r[3] == "mail"}
            got = {}
            path = os.path.join(self.dir, "smtp.jsonl")
            if os.path.exists(path):
                with open(path) as f:
                    for line in f:
                        try:
                            r = json.loads(line)
                        except ValueError:
                            continue
                        # <feedwatch.OUTBOX_ID@domain>
                        mid = re.sub(r"^<?feedwatch\.|@.*$", "",
                                     r.get("message_id") or "")
                        got[mid] = got.get(mid, 0) + 1
            never = [k for k in mail_rows if k not in got]
            phantom = [k for k in got if k not in mail_rows]
            if phantom:
                self.violation("delivery", "%d mails for ids not in the "
                               "outbox: %s" % (len(phantom), phantom[:5]))
            self.deliveries["mails"] = sum(got.values())
            self.deliveries["mail_distinct"] = len(got)
            if never:
                self.violation("delivery", "%d email alerts never "
                               "delivered: %s" % (len(never), never[:5]))

    def check_polling(self):
        """Each gap between two requests of a feed (and from the last one
        to the end) is at most what the daemon's schedule allows."""
        a = self.a
        worst = (0, None)
        starts = [p[1] for p in self.pids]
        over = []
        for i in range(a.feeds):
            rs = sorted(self.requests.get(i, []), key=lambda r: r["t0"])
            prev_end, fails, allow, prev = self.pids[0][1], 0, 0, None
            allow = 10 + 3  # the first poll is spread over 10 s
            for r in rs + [{"t0": self.end, "end": True}]:
                gap = r["t0"] - prev_end
                extra = 0
                for d0, d1 in self.downtimes:
                    if d1 is not None and d0 < r["t0"] and d1 > prev_end:
                        extra += d1 - d0 + 1
                # A restart polls what is due at once; a reload keeps
                # the schedule.
                if gap > allow + extra:
                    over.append((i, round(gap, 1), round(allow + extra, 1),
                                 prev and prev.get("b")))
                if gap - extra > worst[0]:
                    worst = (gap - extra, i)
                if r.get("end"):
                    break
                prev = r
                if r["st"] in (301, 302):
                    continue  # the same fetch goes on to /m/
                failed = r["b"] in FAILING
                fails = fails + 1 if failed else 0
                delay = a.interval * (2 ** fails if fails else 1)
                if r.get("ra"):
                    delay = max(delay, r["ra"])
                allow = delay * 1.1 + 3
                # Logged as they start: a drip or a hang lasts until the
                # daemon's timeout.
                prev_end = r["t0"] + (a.timeout + 1 if r["b"] in
                                      ("drip", "hang") else 0.5)
        self.worst_gap = worst
        if over:
            self.violation("polling", "%d gaps longer than allowed (feed, "
                           "gap, allowed, after): %s"
                           % (len(over), over[:8]))

    def check_rss(self):
        longest = max(self.pids, key=lambda p: (p[2] or self.end) - p[1])
        samples = self.rss.get(longest[0], [])
        self.peak_rss = max((k for s in self.rss.values() for _, k in s),
                            default=0)
        self.rss_growth = None
        if len(samples) < 8:
            return
        t0, t1 = samples[0][0], samples[-1][0]
        span = t1 - t0
        mid = [k for t, k in samples if t0 + 0.4 * span <= t < t0 +
               0.7 * span]
        last = [k for t, k in samples if t >= t0 + 0.7 * span]
        if not mid or not last:
            return
        self.rss_growth = (max(mid), max(last), span)
        slack = 1 + self.a.rss_slack_pct / 100.0
        if max(last) > max(mid) * slack + 4096:
            self.violation("rss", "peak RSS grew from %d KiB to %d KiB over"
                           " the last 60%% of a %d s run" % (
                               max(mid), max(last), span))

    def check_stalls(self):
        msgs = self.notify.snapshot()
        period = self.a.watchdog_ms / 2000.0
        worst, where, pings = 0.0, None, 0
        last = {}
        for t, pid, text in msgs:
            if text != "WATCHDOG=1":
                continue
            pings += 1
            if pid in last:
                gap = t - last[pid] - period
                if gap > worst:
                    worst, where = gap, t
            last[pid] = t
        self.stall = (worst * 1000, pings, where)
        if pings == 0:
            self.violation("stall", "no WATCHDOG=1 ping received")
        elif worst * 1000 > self.a.max_stall_ms:
            self.violation("stall", "the event loop stalled %.0f ms (at "
                           "+%.1f s), more than %d ms" % (
                               worst * 1000, where - self.a.t0,
                               self.a.max_stall_ms))

    def report(self):
        a = self.a
        print()
        print("soak report: %d feeds (%d misbehaving), %d s publishing, "
              "%d s in all" % (a.feeds, sum(1 for i in range(a.feeds)
                                            if self.model.kind(i) != "good"),
                               a.warmup + a.chaos, self.end - a.t0))
        al = self.alerts
        print("  alerts:      %d expected, %d with exactly one alert id, %d "
              "in %d summary alerts; %d around a killed baseline; %d alert"
              " ids, %d outbox rows" % (
                  al["expected"], al["alerted"], al["summarized"],
                  al["summaries"], al["ambiguous_baseline"],
                  al["alert_ids"], al["outbox_rows"]))
        d = self.deliveries
        print("  deliveries:  %d webhook requests, %d accepted (%d distinct,"
              " %d duplicates), %d answered non-2xx (receiver failing)" % (
                  d["webhook_requests"], d["delivered"], d["distinct"],
                  d["duplicates"], d["refused"]))
        if "mails" in d:
            print("  mail:        %d messages (%d distinct)"
                  % (d["mails"], d["mail_distinct"]))
        nreq = sum(len(v) for v in self.requests.values())
        print("  polling:     %d requests, longest gap %.1f s (feed %s)"
              % (nreq, self.worst_gap[0], self.worst_gap[1]))
        print("  chaos:       %d SIGKILL restarts, %d good + %d broken "
              "reloads, webhook down %d times%s" % (
                  self.kills, self.hups[0], self.hups[1], self.hook.downs,
                  ", smtp down %d times" % self.smtp.downs
                  if self.smtp else ""))
        g = self.rss_growth
        print("  memory:      peak RSS %.1f MiB%s" % (
            self.peak_rss / 1024.0,
            "; longest run (%d s): %.1f MiB at 40-70%%, %.1f MiB after" % (
                g[2], g[0] / 1024.0, g[1] / 1024.0) if g else ""))
        print("  event loop:  longest stall %.0f ms over %d watchdog pings "
              "(every %d ms)" % (self.stall[0], self.stall[1],
                                 a.watchdog_ms // 2))
        print("  store:       integrity_check %s; SIGTERM exit %s"
              % (self.integrity, self.final_rc))
        print("  violations:  %d" % len(self.violations))
        for kind, text in self.violations:
            print("    %s: %s" % (kind, text[:600]))
        if self.violations or not self.a.tmp:
            print("  files:       %s (daemon.log, feeds.jsonl, "
                  "webhook.jsonl, smtp.jsonl, state.db)" % self.dir)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("feedwatch", nargs="?")
    ap.add_argument("--short", action="store_true",
                    help="the ctest version: 150 feeds, about a minute")
    ap.add_argument("--duration", type=float,
                    help="seconds of publishing and chaos (default 600)")
    ap.add_argument("--feeds", type=int)
    ap.add_argument("--interval", type=int)
    ap.add_argument("--timeout", type=int)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--match-pct", type=int, default=20)
    ap.add_argument("--warmup", type=float)
    ap.add_argument("--slot", type=float)
    ap.add_argument("--hup-every", type=float, default=3)
    ap.add_argument("--kill-every", type=float)
    ap.add_argument("--down-every", type=float)
    ap.add_argument("--down-for", type=float, default=3)
    ap.add_argument("--drain", type=float)
    ap.add_argument("--outbox-wait", type=float, default=20)
    ap.add_argument("--max-body", type=int, default=1 << 20)
    ap.add_argument("--watchdog-ms", type=int, default=100)
    ap.add_argument("--max-stall-ms", type=int, default=200)
    ap.add_argument("--rss-slack-pct", type=float, default=10,
                    help="allowed growth of peak RSS after warm-up, "
                    "plus 4 MiB")
    ap.add_argument("--smtp", action="store_true",
                    help="an email notifier too (python3-aiosmtpd)")
    ap.add_argument("--dir", help="keep the files here")
    ap.add_argument("--serve", help=argparse.SUPPRESS)
    ap.add_argument("--t0", type=float, help=argparse.SUPPRESS)
    ap.add_argument("--stop", type=float, help=argparse.SUPPRESS)
    a = ap.parse_args()
    short = a.short
    defaults = {"feeds": 150 if short else 3000,
                "interval": 10 if short else 30,
                "warmup": 12 if short else 40,
                "slot": 10 if short else 45,
                "kill_every": 9 if short else 100,
                "down_every": 8 if short else 40,
                "drain": 45 if short else 200,
                "timeout": 3 if short else 10}
    for k, v in defaults.items():
        if getattr(a, k) is None:
            setattr(a, k, v)
    if a.duration is None:
        a.duration = 36 if short else 600
    a.chaos = max(a.duration - a.warmup, 1)
    if a.serve:
        a.seed = a.seed or 0
        serve_main(a)
        return
    if not a.feedwatch:
        ap.error("FEEDWATCH is required")
    a.feedwatch = os.path.abspath(a.feedwatch)
    if a.seed is None:
        a.seed = random.randrange(1 << 30)
    random.seed(a.seed)
    log("seed %d (--seed %d repeats the publication schedule)"
        % (a.seed, a.seed))
    tmp = None
    if a.dir is None:
        tmp = tempfile.mkdtemp(prefix="soak.")
        a.dir = tmp
    a.tmp = tmp is not None
    os.makedirs(a.dir, exist_ok=True)
    s = Soak(a)
    try:
        s.run()
        s.check_all()
    finally:
        if s.daemon is not None and s.daemon.poll() is None:
            s.daemon.kill()
    s.report()
    if not s.violations and tmp is not None:
        subprocess.run(["rm", "-rf", tmp])
    sys.exit(1 if s.violations else 0)


if __name__ == "__main__":
    main()
