#!/usr/bin/env python3
"""An item whose fields are as long as the parser keeps (1 MiB each) makes
an alert that is delivered, not refused as dead: `feedwatch once` over a
local feed file to the console notifier, then the alert document is read
back and every text in it checked against its bound (docs/notifiers.md,
"What an alert carries")."""
import json
import os
import subprocess
import sys
import tempfile

FIELD_MAX = 1024 * 1024  # FEEDPARSE_FIELD_MAX
BOUNDS = {"title": 1024, "author": 1024, "id": 1024}


def main():
    fw = sys.argv[1]
    with tempfile.TemporaryDirectory(prefix="fw-alert-bounds.") as tmp:
        # Two-byte characters after an odd prefix, so that a cut by bytes
        # alone would split one.
        title = "coalition " + "é" * ((FIELD_MAX - 20) // 2)
        author = "A" * (FIELD_MAX - 10)
        link = "http://example.org/" + "l" * (FIELD_MAX - 40)
        feed_title = "F" * (FIELD_MAX - 10)
        guid = "g" * (FIELD_MAX - 10)
        with open(os.path.join(tmp, "feed.xml"), "w", encoding="utf-8") as f:
            f.write(
                '<?xml version="1.0" encoding="utf-8"?>\n'
                '<rss version="2.0"><channel><title>%s</title>\n'
                "<item><guid>%s</guid><title>%s</title><author>%s</author>"
                "<link>%s</link><description>coalition talks</description>"
                "<pubDate>Mon, 01 Jan 2024 00:00:00 GMT</pubDate></item>\n"
                "</channel></rss>\n" % (feed_title, guid, title, author, link))
        # The regex matches the whole title: its snippet is 1 MiB long.
        with open(os.path.join(tmp, "fw.yaml"), "w") as f:
            f.write("store: state.db\n"
                    "feeds:\n"
                    "  - url: file:feed.xml\n"
                    "    first_poll_alert_age: 36500d\n"
                    "watchlists:\n"
                    "  w:\n"
                    "    match: 'coalition OR title:/coalition é+/'\n"
                    "    notify: [console]\n"
                    "notifiers:\n"
                    "  console:\n"
                    "    type: console\n")
        run = subprocess.run([fw, "-c", "fw.yaml", "once"], cwd=tmp,
                             capture_output=True, timeout=120)
        err = run.stderr.decode("utf-8", "replace")
        if run.returncode != 0 or "0 dead" not in err:
            sys.exit("FAIL: not delivered (rc=%d): %s"
                     % (run.returncode, err[-2000:]))
        lines = run.stdout.splitlines()
        if len(lines) != 1:
            sys.exit("FAIL: %d alerts printed, want 1" % len(lines))
        if len(lines[0]) > 64 * 1024:
            sys.exit("FAIL: the alert is %d bytes" % len(lines[0]))
        # Strict UTF-8: a cut inside a character would fail here.
        alert = json.loads(lines[0].decode("utf-8"))
        item = alert["item"]
        for key, bound in BOUNDS.items():
            n = len(item[key].encode("utf-8"))
            if n > bound or (key != "id" and n < bound - 3):
                sys.exit("FAIL: item.%s is %d bytes, want %d at most"
                         % (key, n, bound))
        if not title.startswith(item["title"]):
            sys.exit("FAIL: the title is not the start of the item's")
        if "link" in item:
            sys.exit("FAIL: a link too long to carry whole is carried cut")
        if len(alert["feed"]["title"].encode("utf-8")) > 1024:
            sys.exit("FAIL: feed.title is not cut")
        hits = alert["hits"]
        if not hits:
            sys.exit("FAIL: no hits")
        for h in hits:
            if len(h["snippet"].encode("utf-8")) > 512:
                sys.exit("FAIL: a snippet of %d bytes"
                         % len(h["snippet"].encode("utf-8")))
            if "end" in h and h["field"] == "title" and \
                    h["end"] > len(item["title"].encode("utf-8")):
                sys.exit("FAIL: a hit past the end of the title: %r" % h)
        regex = [h for h in hits if "/" in h["term"]]
        if len(regex) != 1 or "start" in regex[0]:
            sys.exit("FAIL: the regex hit, cut by the title's bound, still "
                     "has a position: %r" % regex)
    print("ok")


if __name__ == "__main__":
    main()
