#!/usr/bin/python3
"""A real syslog daemon for tests: rsyslogd (Debian rsyslog) with its own
configuration, pid and work files in DIR, listening on 127.0.0.1 UDP and
TCP (RFC 5424 and octet-counted framing) and on the datagram socket
DIR/log.sock, writing every message it receives as a JSON line to
DIR/messages.jsonl: input, facility, severity, app, msgid, sd (structured
data), msg, raw.

    syslog_receiver.py DIR

Prints "READY <udp-port> <tcp-port> <socket-path>" once rsyslogd accepts
connections, and stops rsyslogd when terminated.
"""
import os
import signal
import socket
import subprocess
import sys
import time

RSYSLOGD = "/usr/sbin/rsyslogd"

CONF = """
global(workDirectory="{dir}" maxMessageSize="8k")
module(load="imuxsock" SysSock.Use="off")
module(load="imudp")
module(load="imtcp")
input(type="imuxsock" Socket="{dir}/log.sock" CreatePath="on"
      RateLimit.Interval="0")
input(type="imudp" port="{udp}" address="127.0.0.1")
input(type="imtcp" port="{tcp}" address="127.0.0.1")
template(name="fwjson" type="list") {{
  constant(value="{{")
  property(name="inputname" format="jsonf" outname="input")
  constant(value=",")
  property(name="syslogfacility-text" format="jsonf" outname="facility")
  constant(value=",")
  property(name="syslogseverity-text" format="jsonf" outname="severity")
  constant(value=",")
  property(name="app-name" format="jsonf" outname="app")
  constant(value=",")
  property(name="msgid" format="jsonf" outname="msgid")
  constant(value=",")
  property(name="structured-data" format="jsonf" outname="sd")
  constant(value=",")
  property(name="msg" format="jsonf" outname="msg")
  constant(value=",")
  property(name="rawmsg" format="jsonf" outname="raw")
  constant(value="}}\\n")
}}
*.* action(type="omfile" file="{dir}/messages.jsonl" template="fwjson"
           flushOnTXEnd="on" asyncWriting="off")
"""


def free_port(kind):
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def main():
    d = os.path.abspath(sys.argv[1])
    os.makedirs(d, exist_ok=True)
    udp, tcp = free_port(socket.SOCK_DGRAM), free_port(socket.SOCK_STREAM)
    conf = os.path.join(d, "rsyslog.conf")
    with open(conf, "w") as f:
        f.write(CONF.format(dir=d, udp=udp, tcp=tcp))
    child = subprocess.Popen([RSYSLOGD, "-n", "-f", conf, "-i",
                              os.path.join(d, "rsyslogd.pid")])

    def stop(signum, frame):
        # The main thread is in child.wait(), which then returns.
        child.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    sock = os.path.join(d, "log.sock")
    deadline = time.time() + 10
    while time.time() < deadline:
        if child.poll() is not None:
            sys.exit("rsyslogd exited with %d" % child.returncode)
        try:
            socket.create_connection(("127.0.0.1", tcp), timeout=1).close()
            if os.path.exists(sock):
                break
        except OSError:
            pass
        time.sleep(0.05)
    else:
        child.terminate()
        sys.exit("rsyslogd did not start")
    print("READY %d %d %s" % (udp, tcp, sock), flush=True)
    child.wait()


if __name__ == "__main__":
    main()
