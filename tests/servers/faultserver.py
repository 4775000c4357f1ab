#!/usr/bin/python3
"""A feed server with fault injection, for the fetch tests.

Listens on 127.0.0.1 (a free port unless one is given), prints the port on
the first line of stdout, and serves until stdin closes (so it dies with
the test that started it). Standard library only.

Paths:
  /feed               a small RSS document, ETag "v1" and Last-Modified;
                      304 when the request carries either validator
  /headers            echoes the request headers as the body
  /status/N           status N, small body
  /retry/N?after=V    status N with Retry-After: V (seconds or "date:S",
                      an HTTP date S seconds ahead of the Date header)
  /cache              200 with Cache-Control max-age=600 and Expires +900 s
  /redirect/N?to=U    status N (301, 302, 307, 308) to U
  /loop/K             302 to /loop/K+1, forever
  /drip               200, then one byte per second
  /hang               reads the request and never answers
  /big?mib=N          N MiB, chunked (no Content-Length)
  /biglen?mib=N       N MiB with Content-Length
  /gzip               the feed, gzip-encoded
  /bomb/gzip|deflate  an endless compressed stream of zeros (a bomb)
  /type/T             the feed served as Content-Type T (/ as %2F)
"""
import email.utils
import gzip
import http.server
import socketserver
import sys
import threading
import time
import urllib.parse
import zlib

FEED = (b'<?xml version="1.0"?>\n<rss version="2.0"><channel>'
        b'<title>t</title><ttl>30</ttl>'
        b'<item><guid>1</guid><title>one</title></item>'
        b'</channel></rss>\n')
LAST_MODIFIED = "Mon, 01 Jan 2024 00:00:00 GMT"
MIB = 1024 * 1024


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def send(self, status, body=b"", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(url.query))
        parts = url.path.strip("/").split("/")
        name = parts[0]
        try:
            getattr(self, "h_" + name, self.h_missing)(parts, q)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def h_missing(self, parts, q):
        self.send(404, b"no such path\n")

    def h_feed(self, parts, q):
        if (self.headers.get("If-None-Match") == '"v1"' or
                self.headers.get("If-Modified-Since") == LAST_MODIFIED):
            self.send_response(304)
            self.send_header("ETag", '"v1"')
            self.end_headers()
            return
        self.send(200, FEED, [("Content-Type", "application/rss+xml"),
                              ("ETag", '"v1"'),
                              ("Last-Modified", LAST_MODIFIED)])

    def h_headers(self, parts, q):
        self.send(200, str(self.headers).encode(),
                  [("Content-Type", "text/plain")])

    def h_bighdr(self, parts, q):
        # one header of 200 KB: libcurl refuses it
        self.send(200, FEED, [("Content-Type", "application/rss+xml"),
                              ("X-Big", "x" * 200000)])

    def h_status(self, parts, q):
        self.send(int(parts[1]), b"status body\n")

    def h_retry(self, parts, q):
        after = q.get("after", "5")
        now = time.time()
        if after.startswith("date:"):
            after = email.utils.formatdate(now + int(after[5:]),
                                           usegmt=True)
        self.send(int(parts[1]), b"later\n",
                  [("Retry-After", after),
                   ("Date", email.utils.formatdate(now, usegmt=True))])

    def h_cache(self, parts, q):
        now = time.time()
        self.send(200, FEED, [
            ("Content-Type", "application/rss+xml"),
            ("Cache-Control", "public, max-age=600"),
            ("Date", email.utils.formatdate(now, usegmt=True)),
            ("Expires", email.utils.formatdate(now + 900, usegmt=True))])

    def h_redirect(self, parts, q):
        self.send(int(parts[1]), b"moved\n", [("Location", q["to"])])

    def h_loop(self, parts, q):
        k = int(parts[1]) if len(parts) > 1 else 0
        self.send(302, b"again\n", [("Location", "/loop/%d" % (k + 1))])

    def h_drip(self, parts, q):
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        while True:
            self.chunk(b"<")
            self.wfile.flush()
            time.sleep(1)

    def h_hang(self, parts, q):
        time.sleep(60)

    def h_big(self, parts, q):
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        block = b"x" * 65536
        for _ in range(int(q.get("mib", "50")) * 16):
            self.chunk(block)
        self.wfile.write(b"0\r\n\r\n")

    def h_biglen(self, parts, q):
        n = int(q.get("mib", "50")) * MIB
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("Content-Length", str(n))
        self.end_headers()
        block = b"x" * 65536
        for _ in range(n // len(block)):
            self.wfile.write(block)

    def h_gzip(self, parts, q):
        self.send(200, gzip.compress(FEED),
                  [("Content-Type", "application/rss+xml"),
                   ("Content-Encoding", "gzip")])

    def h_bomb(self, parts, q):
        kind = parts[1] if len(parts) > 1 else "gzip"
        wbits = 31 if kind == "gzip" else 15
        comp = zlib.compressobj(9, zlib.DEFLATED, wbits)
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("Content-Encoding", kind)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        zeros = bytes(MIB)
        for _ in range(1024):  # 1 GiB decoded, about 1 MiB on the wire
            out = comp.compress(zeros)
            if out:
                self.chunk(out)
        self.chunk(comp.flush())
        self.wfile.write(b"0\r\n\r\n")

    def h_type(self, parts, q):
        ctype = urllib.parse.unquote("/".join(parts[1:]))
        self.send(200, FEED, [("Content-Type", ctype)])


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def handle_error(self, request, client_address):
        pass  # clients that hang up early are the point of these tests


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    srv = Server(("127.0.0.1", port), Handler)
    sys.stdout.write("%d\n" % srv.server_address[1])
    sys.stdout.flush()
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    sys.stdin.read()  # until the test closes its end


if __name__ == "__main__":
    main()
