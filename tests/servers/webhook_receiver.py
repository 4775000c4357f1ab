#!/usr/bin/python3
"""A webhook receiver for tests: verifies Standard Webhooks signatures
and timestamps, counts ids, reports duplicates, and fails on demand.

    webhook_receiver.py --log FILE [--secret whsec_...]... [--tolerance S]

Prints "PORT <n>" on stdout once it listens on 127.0.0.1. Every request
is appended to FILE as one JSON line: id, timestamp, verified, reason,
status (what it answered), duplicate (id seen before with a 2xx), path,
content_type (every Content-Type header, comma-joined), user_agent,
x_test, body.

What it answers is chosen by the path, or for every path by a mode set
through POST /_control {"mode": ..., "retry_after": n}:
    /status/<code>[?retry_after=n]   that status (301/302 carry Location)
    /sleep/<seconds>                 answer 200 after a delay
    anything else                    200 if the signature verifies
GET /_control returns {"received", "accepted", "distinct", "duplicates",
"rejected"}; tests of a daemon can poll it.
"""
import argparse
import base64
import hashlib
import hmac
import json
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class State:
    def __init__(self, args):
        self.lock = threading.Lock()
        self.args = args
        self.keys = [base64.b64decode(s[len("whsec_"):]) for s in args.secret]
        self.mode = None
        self.retry_after = None
        self.accepted = {}
        self.received = 0
        self.duplicates = []
        self.rejected = 0
        self.log = open(args.log, "a", buffering=1) if args.log else None

    def verify(self, msg_id, ts, sig_header, body):
        if not self.keys:
            return True, "no secret configured"
        if not msg_id or not ts or not sig_header:
            return False, "missing webhook headers"
        try:
            ts_int = int(ts)
        except ValueError:
            return False, "bad timestamp"
        if abs(time.time() - ts_int) > self.args.tolerance:
            return False, "stale timestamp"
        signed = msg_id.encode() + b"." + ts.encode() + b"." + body
        expected = [base64.b64encode(hmac.new(k, signed, hashlib.sha256)
                                     .digest()).decode() for k in self.keys]
        for part in sig_header.split(" "):
            version, _, sig = part.partition(",")
            if version != "v1":
                continue
            for e in expected:
                if hmac.compare_digest(e, sig):
                    return True, "signature ok"
        return False, "bad signature"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, body=b"", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        st = self.server.state
        if self.path.startswith("/_control"):
            with st.lock:
                out = {"received": st.received,
                       "accepted": sum(st.accepted.values()),
                       "distinct": len(st.accepted),
                       "duplicates": st.duplicates,
                       "rejected": st.rejected}
            self.reply(200, json.dumps(out).encode(),
                       [("Content-Type", "application/json")])
        else:
            self.reply(405)

    def do_POST(self):
        st = self.server.state
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        url = urllib.parse.urlsplit(self.path)
        if url.path == "/_control":
            req = json.loads(body or b"{}")
            with st.lock:
                st.mode = req.get("mode")
                st.retry_after = req.get("retry_after")
            self.reply(204)
            return
        msg_id = self.headers.get("webhook-id")
        ts = self.headers.get("webhook-timestamp")
        ok, reason = st.verify(msg_id, ts,
                               self.headers.get("webhook-signature"), body)
        query = urllib.parse.parse_qs(url.query)
        with st.lock:
            mode, retry_after = st.mode, st.retry_after
        if mode is None:
            mode = url.path.strip("/")
            retry_after = query.get("retry_after", [None])[0]
        status, headers = 200, []
        if mode.startswith("status/"):
            status = int(mode.split("/")[1])
            if status in (301, 302, 307, 308):
                headers.append(("Location", "http://127.0.0.1:1/elsewhere"))
        elif mode.startswith("sleep/"):
            time.sleep(float(mode.split("/")[1]))
        if status == 200 and not ok:
            status = 401
        if retry_after is not None:
            headers.append(("Retry-After", str(retry_after)))
        with st.lock:
            st.received += 1
            duplicate = False
            if 200 <= status < 300:
                duplicate = msg_id in st.accepted
                if duplicate:
                    st.duplicates.append(msg_id)
                st.accepted[msg_id] = st.accepted.get(msg_id, 0) + 1
            else:
                st.rejected += 1
            if st.log:
                st.log.write(json.dumps({
                    "id": msg_id, "timestamp": ts, "verified": ok,
                    "reason": reason, "status": status,
                    "duplicate": duplicate, "path": url.path,
                    # every Content-Type sent: two would be a fault
                    "content_type": ", ".join(
                        self.headers.get_all("Content-Type", [])) or None,
                    "user_agent": self.headers.get("User-Agent"),
                    "x_test": self.headers.get("X-Test"),
                    "body": body.decode("utf-8", "replace")}) + "\n")
        self.reply(status, b'{"ok":%s}' % (b"true" if status < 300
                                           else b"false"),
                   headers + [("Content-Type", "application/json")])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--secret", action="append", default=[])
    ap.add_argument("--tolerance", type=int, default=300)
    ap.add_argument("--log")
    args = ap.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.state = State(args)
    print("PORT %d" % server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
