#!/usr/bin/python3
"""End-to-end tests of the notifiers through the real binary.

1. `feedwatch once` over a local feed with matching items, delivering to
   a signed webhook, an email notifier (aiosmtpd with STARTTLS and AUTH)
   and a syslog notifier (rsyslogd on a unix socket): each receiver holds
   exactly the expected alerts (ids, watchlist, hits).
2. The loss test: 500 alerts queued while the webhook answers 503, then
   `feedwatch run` killed with SIGKILL twice while draining, restarted;
   every alert id arrives, and any duplicate carries an id that had
   already arrived.
3. The reconfigured test: an alert refused, its notifier removed by a
   reload (the alert then waits an hour), brought back with the receiver
   fixed by another reload, or by a restart: the alert goes at once.
4. The reenabled test: a webhook answers 410 while its rate limit holds
   another alert; the receiver fixed and the daemon reloaded, the held
   alert goes at once; likewise an alert put off while disabled, after a
   reload that removed the notifier and another that brought it back.

Every wait is bounded; one line per check, then "N passed, N failed".
Runs under /usr/bin/python3 (aiosmtpd and rsyslog come from Debian).

usage: e2e_test.py FEEDWATCH
"""
import email.utils
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
# harness.py is in the tests folder, above this one
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from harness import Feeds, check, serve, summary, wait_for, write  # noqa

FEEDWATCH = os.path.abspath(sys.argv[1])
SERVERS = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                       "..", "servers")
SECRET = "whsec_dGhpcyBpcyB0aGUgbmV3IGtleSBvZiB0aGUgdGVzdHM="
FEEDS = Feeds()


def dated_now():
    # The first poll alerts on items younger than first_poll_alert_age,
    # and an undated item is never young.
    return email.utils.formatdate(usegmt=True)


def spawn(argv):
    """Start a receiver; return (proc, its first stdout line)."""
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL)
    line = proc.stdout.readline().decode().strip()
    if not line:
        raise RuntimeError("%s did not start" % argv[1])
    return proc, line


def webhook_receiver(tmp):
    """Start the webhook receiver: (its log, its process, its port)."""
    log = os.path.join(tmp, "hook.jsonl")
    proc, line = spawn(["/usr/bin/python3",
                        os.path.join(SERVERS, "webhook_receiver.py"),
                        "--log", log, "--secret", SECRET])
    return log, proc, int(line.split()[1])


def stop(proc):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def jsonl(path):
    """The complete lines of a log a receiver is still writing: a long
    line reaches the file in several writes, and the last line read may
    be the start of one."""
    if not os.path.exists(path):
        return []
    with open(path) as f:
        lines = f.read().split("\n")
    return [json.loads(l) for l in lines[:-1] if l.strip()]


def control(port, **req):
    data = json.dumps(req).encode()
    urllib.request.urlopen(urllib.request.Request(
        "http://127.0.0.1:%d/_control" % port, data=data,
        headers={"Content-Type": "application/json"}), timeout=5).read()


WATCHLISTS = """watchlists:
  coalition: {match: 'coalition', notify: [hook, mail, log]}
  sudani: {match: '@sudani', notify: [hook, mail, log]}
entities:
  sudani: {name: Mohammed Shia al-Sudani, aliases: [Sudani, Soudani]}
"""


def test_once(tmp, feed_port):
    mail_log = os.path.join(tmp, "mail.jsonl")
    sysdir = os.path.join(tmp, "syslog")
    os.mkdir(sysdir)
    hook_log, hook, hook_port = webhook_receiver(tmp)
    smtp, line = spawn(["/usr/bin/python3",
                        os.path.join(SERVERS, "smtp_receiver.py"),
                        "--dir", tmp, "--log", mail_log, "--user", "fw",
                        "--password", "s3cret pass"])
    smtp_port = int(line.split()[1])
    rsyslog, line = spawn(["/usr/bin/python3",
                           os.path.join(SERVERS, "syslog_receiver.py"),
                           sysdir])
    sock = line.split()[3]
    try:
        write(os.path.join(tmp, "smtp-password"), "s3cret pass\n")
        write(os.path.join(tmp, "hook-secret"), SECRET + "\n")
        FEEDS.set("/e2e", [
            ("i1", "Coalition talks resume", "In Baghdad."),
            ("i2", "PM Soudani visits Cairo", "A state visit."),
            ("i3", "Weather report", "Sunny, no match here."),
            ("i4", "Sudani and the coalition", "Both match."),
        ], dated_now())
        cfg = "\n".join([
            "store: state.db",
            "fetch: {block_private_addresses: false}",
            "defaults: {interval: 10m, timeout: 5s}",
            "feeds:",
            "  - {url: 'http://127.0.0.1:%d/e2e', name: e2e, "
            "first_poll_alert_age: 3650d}" % feed_port,
            "notifiers:",
            "  hook: {type: webhook, url: 'http://127.0.0.1:%d/', "
            "secret_file: hook-secret, allow_private: true}" % hook_port,
            "  mail: {type: email, url: 'smtp://127.0.0.1:%d', "
            "from: 'feedwatch <fw@example.org>', to: [ops@example.org], "
            "username: fw, password_file: smtp-password, "
            "ca_file: cert.pem, allow_private: true}" % smtp_port,
            "  log: {type: syslog, socket: '%s', ident: fwtest}" % sock,
        ]) + "\n" + WATCHLISTS
        write(os.path.join(tmp, "feedwatch.yaml"), cfg)
        t0 = time.time()
        proc = subprocess.run(
            [FEEDWATCH, "once", "-c", os.path.join(tmp, "feedwatch.yaml")],
            cwd=tmp, capture_output=True, timeout=60)
        check("once exits 0", proc.returncode == 0,
              "rc=%d %s" % (proc.returncode, proc.stderr.decode()[-800:]))
        check("once is prompt", time.time() - t0 < 30)
        # (item, watchlist) pairs expected, with the term each must name.
        expected = {("i1", "coalition"), ("i4", "coalition"),
                    ("i2", "sudani"), ("i4", "sudani")}

        def item_of(doc):
            return doc["item"]["id"]

        wait_for(lambda: len(jsonl(hook_log)) >= 4, 5)
        reqs = jsonl(hook_log)
        docs = [json.loads(r["body"]) for r in reqs]
        check("webhook: every request signed and verified",
              all(r["verified"] for r in reqs) and len(reqs) > 0,
              str([r.get("reason") for r in reqs]))
        got = sorted((item_of(d), d["watchlist"]) for d in docs)
        check("webhook holds exactly the expected alerts",
              got == sorted(expected), str(got))
        check("webhook: webhook-id differs per alert (outbox ids)",
              len({r["id"] for r in reqs}) == len(reqs) == 4)
        check("webhook: alert ids distinct",
              len({d["id"] for d in docs}) == len(docs) == 4)
        hits_ok = len(docs) == 4 and all(
            any(h.get("term") == ("coalition" if d["watchlist"] ==
                                  "coalition" else "@sudani")
                for h in d.get("hits", [])) for d in docs)
        check("webhook: each alert carries its hits", hits_ok,
              json.dumps([d.get("hits") for d in docs])[:600])
        alert_ids = {d["id"] for d in docs}

        wait_for(lambda: len(jsonl(mail_log)) >= 4, 5)
        mails = jsonl(mail_log)
        check("email: 4 messages", len(mails) == 4, str(len(mails)))
        check("email: STARTTLS and AUTH used",
              len(mails) > 0 and
              all(m.get("tls") and m.get("auth_login") == "fw"
                  for m in mails), str([(m.get("tls"), m.get("auth_login"))
                                        for m in mails]))
        subj = sorted(m["subject"] for m in mails)
        want = sorted(["[coalition] Coalition talks resume",
                       "[coalition] Sudani and the coalition",
                       "[sudani] PM Soudani visits Cairo",
                       "[sudani] Sudani and the coalition"])
        check("email: subjects name watchlist and title", subj == want,
              str(subj))
        texts = " ".join(p["text"] for m in mails for p in m["parts"])
        check("email: every alert id in the bodies",
              len(alert_ids) == 4 and all(a in texts for a in alert_ids))

        syslog_file = os.path.join(sysdir, "messages.jsonl")
        wait_for(lambda: len(jsonl(syslog_file)) >= 4, 5)
        lines = jsonl(syslog_file)
        check("syslog: 4 lines from rsyslogd", len(lines) == 4,
              str(len(lines)))
        check("syslog: ident", len(lines) > 0 and
              all(l.get("app") == "fwtest" for l in lines),
              str([l.get("app") for l in lines]))
        check("syslog: each alert id once",
              sorted(a for a in alert_ids
                     if sum('alert="%s"' % a in l["msg"] for l in lines)
                     == 1) == sorted(alert_ids) and len(alert_ids) == 4,
              str([l["msg"][:160] for l in lines]))
        pairs = sorted(("watchlist=\"coalition\"" in l["msg"],
                        'terms="' in l["msg"]) for l in lines)
        check("syslog: watchlist and terms pairs",
              pairs == [(False, True), (False, True), (True, True),
                        (True, True)], str(pairs))
        # A second once: nothing new, nothing sent again.
        subprocess.run([FEEDWATCH, "once", "-c",
                        os.path.join(tmp, "feedwatch.yaml")],
                       cwd=tmp, capture_output=True, timeout=60)
        time.sleep(0.3)
        check("a second once sends nothing again",
              len(jsonl(hook_log)) == 4 and len(jsonl(mail_log)) == 4 and
              len(jsonl(syslog_file)) == 4)
    finally:
        stop(hook)
        stop(smtp)
        stop(rsyslog)


NFEEDS = 25
PER_FEED = 20


def test_loss(tmp, feed_port):
    hook_log, hook, hook_port = webhook_receiver(tmp)
    daemon = None
    try:
        for f in range(NFEEDS):
            FEEDS.set("/loss%d" % f, [("base%d" % f, "quiet", "x")],
                      dated_now())
        lines = ["store: state.db",
                 "fetch: {block_private_addresses: false, "
                 "max_connections: 8}",
                 "defaults: {interval: 1h, timeout: 5s}",
                 "feeds:"]
        for f in range(NFEEDS):
            lines.append("  - {url: 'http://127.0.0.1:%d/loss%d', "
                         "name: loss%d}" % (feed_port, f, f))
        lines += ["watchlists:",
                  "  w: {match: 'coalition', notify: [hook]}",
                  "notifiers:",
                  "  hook: {type: webhook, url: 'http://127.0.0.1:%d/', "
                  "secret: '%s', allow_private: true, timeout: 5s}"
                  % (hook_port, SECRET)]
        cfg = os.path.join(tmp, "feedwatch.yaml")
        write(cfg, "\n".join(lines) + "\n")
        # The baseline: every feed known, nothing alerted.
        proc = subprocess.run([FEEDWATCH, "once", "-c", cfg], cwd=tmp,
                              capture_output=True, timeout=60)
        check("loss: baseline once exits 0", proc.returncode == 0,
              proc.stderr.decode()[-500:])
        # 500 new matching items; the receiver answers 503, Retry-After 1.
        for f in range(NFEEDS):
            FEEDS.set("/loss%d" % f,
                      [("base%d" % f, "quiet", "x")] +
                      [("n%d-%d" % (f, i), "Coalition item %d-%d" % (f, i),
                        "coalition") for i in range(PER_FEED)],
                      dated_now())
        # Retry-After 8 while `once` tries each alert: long enough that
        # none is due again before once has tried them all and exits.
        control(hook_port, mode="status/503", retry_after=8)
        t0 = time.time()
        # A second once polls every feed: 500 alerts queued, each tried
        # once against the refusing receiver.
        proc = subprocess.run([FEEDWATCH, "once", "-c", cfg], cwd=tmp,
                              capture_output=True, timeout=60)
        check("loss: second once exits 0", proc.returncode == 0,
              proc.stderr.decode()[-500:])

        def run():
            return subprocess.Popen(
                [FEEDWATCH, "run", "-c", cfg], cwd=tmp,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def outbox_count():
            con = sqlite3.connect(os.path.join(tmp, "state.db"), timeout=10)
            try:
                return con.execute(
                    "SELECT count(*) FROM outbox").fetchone()[0]
            finally:
                con.close()

        check("loss: 500 alerts queued", outbox_count() == NFEEDS * PER_FEED,
              str(outbox_count()))
        check("loss: the receiver refused while down", wait_for(
            lambda: any(r.get("status") == 503 for r in jsonl(hook_log)), 5))
        # The daemon starts against the receiver still refusing (now
        # with Retry-After 1), which comes back once the daemon met it.
        refused = sum(r.get("status") == 503 for r in jsonl(hook_log))
        control(hook_port, mode="status/503", retry_after=1)
        daemon = run()
        check("loss: the daemon met the refusing receiver", wait_for(
            lambda: sum(r.get("status") == 503 for r in jsonl(hook_log))
            > refused, 20))
        accepted = lambda: {json.loads(r["body"])["id"]
                            for r in jsonl(hook_log)
                            if r.get("status") == 200}
        # The receiver comes back; kill the daemon twice while draining.
        control(hook_port, mode=None)
        for k in range(2):
            before = len(accepted())
            draining = wait_for(lambda: len(accepted()) > before + 20, 20)
            daemon.send_signal(signal.SIGKILL)
            daemon.wait()
            check("loss: SIGKILL %d while draining (%d delivered)"
                  % (k + 1, len(accepted())),
                  draining and len(accepted()) < NFEEDS * PER_FEED)
            daemon = run()
        done = wait_for(lambda: len(accepted()) >= NFEEDS * PER_FEED, 40)
        daemon.send_signal(signal.SIGTERM)
        try:
            daemon.wait(15)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()
        reqs = [r for r in jsonl(hook_log) if r.get("status") == 200]
        ids = [json.loads(r["body"])["id"] for r in reqs]
        want = NFEEDS * PER_FEED
        check("loss: all %d alert ids arrived" % want,
              done and len(set(ids)) == want,
              "%d distinct of %d" % (len(set(ids)), want))
        seen, bad = set(), []
        for r, i in zip(reqs, ids):
            if i in seen and not r.get("duplicate"):
                bad.append(i)
            seen.add(i)
        dups = len(ids) - len(set(ids))
        check("loss: every duplicate (%d) carries an id that already "
              "arrived, with the same webhook-id" % dups, not bad, str(bad))
        check("loss: every accepted request verified",
              len(reqs) > 0 and all(r["verified"] for r in reqs))
        titles = {json.loads(r["body"])["item"]["id"] for r in reqs}
        check("loss: the 500 ids are the 500 items",
              len(titles) == want, str(len(titles)))
        check("loss: bounded in time (%.1f s)" % (time.time() - t0),
              time.time() - t0 < 60)
    finally:
        # a failure above must not leave a daemon running
        if daemon is not None and daemon.poll() is None:
            daemon.kill()
            daemon.wait()
        stop(hook)


def one_feed_config(cfg, feed_port, path, notifier, hook_port, extra=""):
    """Write a configuration of one feed (its first poll alerts), one
    watchlist and one webhook notifier named NOTIFIER."""
    write(cfg, "\n".join([
        "store: state.db",
        "fetch: {block_private_addresses: false}",
        "defaults: {interval: 1h, timeout: 5s}",
        "feeds:",
        "  - {url: 'http://127.0.0.1:%d%s', name: one, "
        "first_poll_alert_age: 3650d}" % (feed_port, path),
        "watchlists:",
        "  w: {match: 'coalition', notify: [%s]}" % notifier,
        "notifiers:",
        "  %s: {type: webhook, url: 'http://127.0.0.1:%d/', "
        "secret: '%s', allow_private: true, timeout: 5s%s}"
        % (notifier, hook_port, SECRET, extra)]) + "\n")


class Daemons:
    """The `feedwatch run` processes of one test, on TMP/feedwatch.yaml,
    their stderr appended to TMP/daemon.log; kill() in the test's
    finally, so that a failure leaves none running."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.cfg = os.path.join(tmp, "feedwatch.yaml")
        self.log = os.path.join(tmp, "daemon.log")
        self.procs = []

    def run(self):
        with open(self.log, "a") as out:
            self.procs.append(subprocess.Popen(
                [FEEDWATCH, "run", "-c", self.cfg], cwd=self.tmp,
                stdout=subprocess.DEVNULL, stderr=out))
        return self.procs[-1]

    def read_log(self):
        with open(self.log) as f:
            return f.read()

    def kill(self):
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def test_reconfigured(tmp, feed_port):
    """A webhook's alert is refused (503) and the notifier is then
    removed by a reload: the alert waits an hour for a configuration
    that names it again. With the receiver fixed, a reload that brings
    the notifier back sends it at once, and so does a restart."""
    hook_log, hook, hook_port = webhook_receiver(tmp)
    daemons = Daemons(tmp)
    run = daemons.run

    def config(notifier, path):
        one_feed_config(daemons.cfg, feed_port, path, notifier, hook_port)

    def due_in():
        con = sqlite3.connect(os.path.join(tmp, "state.db"), timeout=10)
        try:
            row = con.execute(
                "SELECT next_attempt_at - strftime('%s', 'now') "
                "FROM outbox WHERE state = 'pending'").fetchone()
            return None if row is None else row[0]
        finally:
            con.close()

    def status(code):
        return lambda: [r for r in jsonl(hook_log)
                        if r.get("status") == code]

    def delivered():
        return [json.loads(r["body"])["item"]["id"] for r in status(200)()]

    def park(path, item):
        """A new feed's alert, refused, then its notifier removed."""
        control(hook_port, mode="status/503", retry_after=5)
        FEEDS.set(path, [(item, "Coalition item", "coalition")],
                  dated_now())
        config("hook", path)
        refused = len(status(503)())
        daemon = run()
        check("reconfigured: %s refused" % item,
              wait_for(lambda: len(status(503)()) > refused, 20))
        # the notifier removed before the alert's retry (Retry-After 5)
        config("other", path)
        daemon.send_signal(signal.SIGHUP)
        check("reconfigured: %s then waits about an hour" % item,
              wait_for(lambda: (due_in() or 0) > 3000, 15,
                       ignore=(sqlite3.Error,)), str(due_in()))
        control(hook_port, mode=None)
        config("hook", path)
        return daemon

    try:
        daemon = park("/back1", "b1")
        t0 = time.time()
        daemon.send_signal(signal.SIGHUP)
        check("reconfigured: b1 delivered within seconds of the reload",
              wait_for(lambda: delivered() == ["b1"], 15),
              "%.1f s: %s" % (time.time() - t0, delivered()))
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(15)
        daemon = park("/back2", "b2")
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(15)
        t0 = time.time()
        daemon = run()
        check("reconfigured: b2 delivered within seconds of the restart",
              wait_for(lambda: delivered() == ["b1", "b2"], 15),
              "%.1f s: %s" % (time.time() - t0, delivered()))
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(15)
        err = daemons.read_log()
        check("reconfigured: the log says why they went at once",
              err.count("notifier hook is configured: 1 alerts put off")
              == 2, err[-800:])
    finally:
        daemons.kill()
        stop(hook)


def test_reenabled(tmp, feed_port):
    """A webhook answers 410: that alert is dead, the notifier disables
    itself, and the alerts it holds or is given wait for a fixed
    configuration. The receiver fixed, they go at once: after a reload
    (one the rate limit held, not when its minute is out), and after a
    reload that removed the notifier and another that brought it back."""
    hook_log, hook, hook_port = webhook_receiver(tmp)
    daemons = Daemons(tmp)
    cfg = daemons.cfg

    def items(code):
        return sorted(json.loads(r["body"])["item"]["id"]
                      for r in jsonl(hook_log) if r.get("status") == code)

    def reloads():
        return daemons.read_log().count("reloaded: ")

    def parked():
        con = sqlite3.connect(os.path.join(tmp, "state.db"), timeout=10)
        try:
            return con.execute("SELECT count(*) FROM outbox WHERE "
                               "parked = 2").fetchone()[0]
        finally:
            con.close()

    try:
        for phase, limit in (("reload", "1/min"), ("re-add", "1/s")):
            control(hook_port, mode="status/410")
            path = "/gone-" + phase
            want = ["%s-%d" % (phase, i) for i in range(2)]
            FEEDS.set(path, [(w, "Coalition " + w, "coalition")
                             for w in want], dated_now())
            one_feed_config(cfg, feed_port, path, "hook", hook_port,
                            ", rate_limit: %s" % limit)
            daemon = daemons.run()
            gone = lambda: [i for i in items(410) if i in want]
            check("reenabled, %s: the receiver answered 410" % phase,
                  wait_for(gone, 20))
            if phase == "re-add":
                check("reenabled, re-add: the other alert put off",
                      wait_for(lambda: parked() == 1, 10,
                               ignore=(sqlite3.Error,)))
                one_feed_config(cfg, feed_port, path, "other", hook_port)
                before = reloads()
                daemon.send_signal(signal.SIGHUP)
                check("reenabled, re-add: the notifier removed",
                      wait_for(lambda: reloads() > before, 10))
                one_feed_config(cfg, feed_port, path, "hook", hook_port)
            control(hook_port, mode=None)
            t0 = time.time()
            daemon.send_signal(signal.SIGHUP)
            # one refused (dead), the other delivered
            done = lambda: (len(gone()) == 1 and sorted(
                gone() + [i for i in items(200) if i in want]) == want)
            check("reenabled, %s: the other alert went within seconds"
                  % phase, wait_for(done, 15),
                  "%.1f s: %s %s" % (time.time() - t0, items(410),
                                     items(200)))
            daemon.send_signal(signal.SIGTERM)
            daemon.wait(15)
    finally:
        daemons.kill()
        stop(hook)


def main():
    _, port = serve(FEEDS)
    for test in (test_once, test_loss, test_reconfigured, test_reenabled):
        with tempfile.TemporaryDirectory() as tmp:
            try:
                test(tmp, port)
            except Exception as e:  # a crash is a failure, not a pass
                check(test.__name__, False, repr(e))
    summary()


if __name__ == "__main__":
    main()
