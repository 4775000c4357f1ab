"""What the integration tests that run the binary share (daemon/
daemon_test.py, daemon/admin_test.py, notifiers/e2e_test.py): checks
that count, bounded waits, private files, and a local feed server on
127.0.0.1 that serves RSS with ETags, permanent redirects and a slow
feed, and records what it was asked. Standard library only; a script
puts the tests folder on sys.path to import it.
"""
import http.server
import os
import signal
import socket
import socketserver
import subprocess
import sys
import threading
import time

RESULTS = {"passed": 0, "failed": 0}


def check(name, ok, detail=""):
    RESULTS["passed" if ok else "failed"] += 1
    print(("ok   " if ok else "FAIL ") + name + ("" if ok else ": " + detail))
    sys.stdout.flush()


def summary():
    """Print the count and exit 1 when any check failed."""
    print("%d passed, %d failed" % (RESULTS["passed"], RESULTS["failed"]))
    sys.exit(1 if RESULTS["failed"] else 0)


def write(path, text, mode=0o600):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def wait_for(pred, timeout, ignore=()):
    """Until pred() is true, at most timeout seconds (and one last look
    at the end); the exceptions in ignore count as not yet."""
    end = time.time() + timeout
    while True:
        try:
            if pred():
                return True
        except ignore:
            pass
        if time.time() >= end:
            return False
        time.sleep(0.05)


def stop(proc, timeout=15):
    """SIGTERM to PROC (unless it has exited), SIGKILL after TIMEOUT
    seconds: its status and what it wrote to its pipes ("" for a stream
    that is not a pipe)."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    return proc.returncode, (out or b"").decode(), (err or b"").decode()


def proc_stat(pid):
    """The state letter (R running, S sleeping, ...) of process PID and
    its user and system CPU time in seconds, from /proc."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return fields[0], ((int(fields[11]) + int(fields[12]))
                       / os.sysconf("SC_CLK_TCK"))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def rss(items, pubdate=None):
    """An RSS 2.0 document of (guid, title, description) items."""
    date = "<pubDate>%s</pubDate>" % pubdate if pubdate else ""
    body = "".join(
        "<item><guid isPermaLink='false'>%s</guid><title>%s</title>"
        "<description>%s</description>%s</item>" % (g, t, d, date)
        for g, t, d in items)
    return ('<?xml version="1.0"?><rss version="2.0"><channel>'
            "<title>t</title>%s</channel></rss>" % body).encode()


class Feeds:
    """What the server serves, and what it was asked."""

    def __init__(self):
        self.lock = threading.Lock()
        self.docs = {}  # path -> bytes
        self.moved = {}  # path -> where it moved permanently (301)
        self.requests = []  # (path, if-none-match)
        # paths whose body stops half way until release is set (or 10 s)
        self.held = set()
        self.release = threading.Event()

    def set(self, path, items, pubdate=None):
        with self.lock:
            self.docs[path] = rss(items, pubdate)

    def asked(self, path):
        with self.lock:
            return [r for r in self.requests if r[0] == path]


def etag(doc):
    return '"%d"' % (hash(doc) & 0xffffffff)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def empty(self, status, headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self):
        feeds = self.server.feeds
        inm = self.headers.get("If-None-Match")
        with feeds.lock:
            feeds.requests.append((self.path, inm))
            doc = feeds.docs.get(self.path)
            moved = feeds.moved.get(self.path)
            held = self.path in feeds.held
        if moved is not None:
            self.empty(301, [("Location", moved)])
            return
        if self.path == "/slow":
            # Headers, then a byte a second: a transfer that stays in flight.
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", "100000")
            self.end_headers()
            try:
                for _ in range(60):
                    self.wfile.write(b" ")
                    self.wfile.flush()
                    time.sleep(1)
            except OSError:
                pass
            return
        if doc is None:
            self.empty(404)
            return
        if inm == etag(doc):
            self.empty(304, [("ETag", etag(doc))])
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("ETag", etag(doc))
        self.send_header("Content-Length", str(len(doc)))
        self.end_headers()
        if held:
            try:
                self.wfile.write(doc[:len(doc) // 2])
                self.wfile.flush()
                feeds.release.wait(10)
                self.wfile.write(doc[len(doc) // 2:])
            except OSError:
                pass
            return
        self.wfile.write(doc)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


def serve(feeds):
    """Serve FEEDS on 127.0.0.1 from a thread: (server, port)."""
    server = Server(("127.0.0.1", 0), Handler)
    server.feeds = feeds
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server.server_address[1]
