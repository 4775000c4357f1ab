#!/usr/bin/env python3
"""Generate N realistic news feeds for the polling benchmark.

usage: gen.py N DIR [SEED]

Writes DIR/feeds/NNNNN.rss|.atom (and, for every tenth feed, DIR/lm/...:
the server sends those without an ETag, so only Last-Modified makes them
conditional) and prints one line per feed on stdout:

    PATH<TAB>NAME<TAB>TAG<TAB>ITEMS

About 35 items per feed (20 to 50), in three sizes: headline-and-summary
feeds, longer summaries, and full-text feeds with content:encoded. Four
feeds in five are RSS 2.0, the rest Atom 1.0. The text is built from a
news vocabulary with names, places and non-ASCII spellings; a few percent
of items mention the subjects the benchmark's watchlists look for.
Deterministic for a given N and SEED; stdlib only.
"""
import os
import random
import sys
import time
from email.utils import format_datetime
from datetime import datetime, timezone, timedelta
from xml.sax.saxutils import escape

PLACES = ["Baghdad", "Mosul", "Erbil", "Basra", "Kyiv", "Kharkiv", "Odesa",
          "Gaza", "Beirut", "Damascus", "Aleppo", "Cairo", "Tunis", "Tripoli",
          "Khartoum", "Addis Ababa", "Nairobi", "Kinshasa", "Lagos", "Accra",
          "Dakar", "Brussels", "Zürich", "Genève", "Paris", "Berlin",
          "Warszawa", "Kraków", "São Paulo", "Bogotá", "Ciudad de México",
          "Montréal", "Washington", "Ottawa", "Tokyo", "Seoul", "Jakarta",
          "Manila", "Islamabad", "Kabul", "Tehran", "Ankara", "İstanbul"]
PEOPLE = ["Mohammed Shia al-Sudani", "Olena Kovalenko", "Jean-Luc Mélenchon",
          "Ana Lúcia Ferreira", "Søren Østergaard", "Zoë Gallagher",
          "Rafael Núñez", "Yusuf Erdoğan", "Li Wei", "Amira Haddad",
          "Kwame Mensah", "Ingrid Bjørnstad", "Pedro Sánchez", "Olaf Björk",
          "Fatima Zahra El Idrissi", "Tomasz Wójcik", "Chiara Ricci"]
ORGS = ["the United Nations", "the European Commission", "NATO",
        "the African Union", "the World Bank", "the IMF", "Reuters",
        "the Red Cross", "Médecins Sans Frontières", "the central bank",
        "the electoral commission", "the interior ministry", "parliament"]
SUBJECTS = ["talks", "ceasefire", "budget", "election", "protests",
            "floods", "drought", "inflation", "trade deal", "sanctions",
            "vaccine rollout", "power cuts", "fuel prices", "court ruling",
            "strike", "border crossing", "reconstruction", "wildfires",
            "heatwave", "refugee camp", "earthquake", "currency", "exports"]
VERBS = ["says", "warns", "denies", "confirms", "announces", "rejects",
         "backs", "calls for", "delays", "approves", "criticises", "signs"]
FILLER = ["officials said on Tuesday", "according to a statement",
          "in a televised address", "people familiar with the matter said",
          "the agency reported", "witnesses told reporters",
          "local media reported", "a spokesperson confirmed",
          "analysts expect", "the ministry added", "figures showed"]
ADJ = ["fragile", "long-awaited", "disputed", "sweeping", "partial",
       "emergency", "unprecedented", "provisional", "controversial", "new"]
SECTIONS = ["world", "politics", "business", "security", "science",
            "health", "culture", "sport", "technology", "environment"]
TAGS = ["world", "middle-east", "europe", "africa", "americas", "asia",
        "security", "business"]
# Items that the benchmark watchlists match (a few percent of all items).
HOT = [
    "Coalition forces and Iraqi troops retake villages near {p}, {f}",
    "Sudani meets coalition envoys in Baghdad as Iraq talks resume",
    "Ransomware attack cripples hospital systems in {p}, {f}",
    "Data breach at {o} exposes records of millions, {f}",
]


def cap(s):
    return s[:1].upper() + s[1:]


def sentence(r):
    kind = r.randrange(4)
    if kind == 0:
        return "%s %s %s %s in %s, %s." % (
            r.choice(PEOPLE), r.choice(VERBS), "a" if r.random() < .5 else
            "the", r.choice(ADJ) + " " + r.choice(SUBJECTS), r.choice(PLACES),
            r.choice(FILLER))
    if kind == 1:
        return "The %s in %s has drawn criticism from %s, %s." % (
            r.choice(SUBJECTS), r.choice(PLACES), r.choice(ORGS),
            r.choice(FILLER))
    if kind == 2:
        return ("%s said %d people had been affected & that \"%s\" "
                "would continue until %s.") % (
            cap(r.choice(ORGS)), r.randrange(3, 90000),
            r.choice(SUBJECTS), r.choice(["Friday", "next week", "March",
                                          "the end of the year"]))
    return "Prices rose %.1f%% in %s as the %s deepened, %s." % (
        r.random() * 9, r.choice(PLACES), r.choice(SUBJECTS),
        r.choice(FILLER))


def title(r):
    if r.random() < 0.04:
        return r.choice(HOT).format(p=r.choice(PLACES), o=r.choice(ORGS),
                                    f=r.choice(FILLER))
    return "%s %s %s %s in %s" % (
        r.choice(PEOPLE).split()[-1], r.choice(VERBS), r.choice(ADJ),
        r.choice(SUBJECTS), r.choice(PLACES))


def html_body(r, paragraphs):
    out = []
    for _ in range(paragraphs):
        s = " ".join(sentence(r) for _ in range(r.randrange(2, 5)))
        if r.random() < 0.3:
            s += ' <a href="https://news.example.org/%d">Read more</a>' % \
                r.randrange(10 ** 6)
        if r.random() < 0.2:
            s = "<em>%s</em>" % s
        out.append("<p>%s</p>" % s)
    if r.random() < 0.2:
        out.append('<img src="https://img.example.org/%d.jpg" alt="%s">' % (
            r.randrange(10 ** 7), escape(r.choice(PLACES), {'"': "&quot;"})))
    return "".join(out)


def rss(r, i, host, items, size, now):
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n'
           '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" '
           'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
           'xmlns:atom="http://www.w3.org/2005/Atom">\n<channel>\n'
           '<title>%s</title>\n<link>https://%s/</link>\n'
           '<description>News from %s</description>\n'
           '<language>en</language>\n<lastBuildDate>%s</lastBuildDate>\n'
           '<ttl>%d</ttl>\n'
           '<atom:link href="https://%s/rss" rel="self" '
           'type="application/rss+xml"/>\n' % (
               escape(host.split(".")[0].capitalize() + " News " + str(i)),
               host, escape(host), format_datetime(now),
               r.choice([5, 10, 15, 30, 60]), host)]
    t = now
    for k in range(items):
        t -= timedelta(minutes=r.randrange(3, 120))
        ti = title(r)
        link = "https://%s/%s/%d-%d" % (host, r.choice(SECTIONS), i, k)
        out.append('<item>\n<title>%s</title>\n<link>%s</link>\n'
                   '<guid isPermaLink="false">%s-%d-%d</guid>\n'
                   '<pubDate>%s</pubDate>\n<dc:creator>%s</dc:creator>\n'
                   '<category>%s</category>\n' % (
                       escape(ti), link, host, i, k,
                       format_datetime(t.astimezone(timezone(timedelta(
                           hours=r.choice([0, 1, 3, -5]))))),
                       escape(r.choice(PEOPLE)), r.choice(SECTIONS)))
        if size == 0:
            out.append("<description>%s</description>\n" %
                       escape(sentence(r)))
        elif size == 1:
            out.append("<description>%s</description>\n" %
                       escape(html_body(r, r.randrange(1, 3))))
        else:
            out.append("<description>%s</description>\n" %
                       escape(sentence(r)))
            out.append("<content:encoded><![CDATA[%s]]></content:encoded>\n"
                       % html_body(r, r.randrange(3, 6)))
        if r.random() < 0.25:
            out.append('<enclosure url="https://img.example.org/%d.jpg" '
                       'length="%d" type="image/jpeg"/>\n' % (
                           r.randrange(10 ** 7), r.randrange(10 ** 4, 10 ** 6)))
        out.append("</item>\n")
    out.append("</channel>\n</rss>\n")
    return "".join(out)


def atom(r, i, host, items, size, now):
    iso = lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ")
    out = ['<?xml version="1.0" encoding="utf-8"?>\n'
           '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">\n'
           '<title>%s</title>\n<id>tag:%s,2024:feed</id>\n'
           '<link rel="alternate" href="https://%s/"/>\n'
           '<link rel="self" href="https://%s/atom"/>\n'
           '<updated>%s</updated>\n' % (
               escape(host.split(".")[0].capitalize() + " Wire " + str(i)),
               host, host, host, iso(now))]
    t = now
    for k in range(items):
        t -= timedelta(minutes=r.randrange(3, 120))
        out.append('<entry>\n<title type="html">%s</title>\n'
                   '<id>tag:%s,2024:%d-%d</id>\n'
                   '<link rel="alternate" type="text/html" '
                   'href="https://%s/%s/%d-%d"/>\n'
                   '<published>%s</published>\n<updated>%s</updated>\n'
                   '<author><name>%s</name></author>\n'
                   '<category term="%s"/>\n' % (
                       escape(escape(title(r))), host, i, k, host,
                       r.choice(SECTIONS), i, k, iso(t), iso(t),
                       escape(r.choice(PEOPLE)), r.choice(SECTIONS)))
        if size == 2:
            out.append('<summary>%s</summary>\n<content type="html">%s'
                       '</content>\n' % (escape(sentence(r)), escape(
                           html_body(r, r.randrange(3, 6)))))
        else:
            out.append('<summary type="html">%s</summary>\n' % escape(
                html_body(r, 1 + size)))
        out.append("</entry>\n")
    out.append("</feed>\n")
    return "".join(out)


def main():
    n = int(sys.argv[1])
    top = sys.argv[2]
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    r = random.Random(seed)
    now = datetime.now(timezone.utc).replace(microsecond=0)
    for sub in ("feeds", "lm"):
        os.makedirs(os.path.join(top, sub), exist_ok=True)
    lines = []
    for i in range(1, n + 1):
        host = "%s%d.example.%s" % (r.choice(["daily", "wire", "post",
                                               "herald", "times", "news"]),
                                    i, r.choice(["org", "com", "net"]))
        items = r.randrange(20, 51)
        # Sizes: 45% short summaries, 35% longer HTML summaries, 20% full
        # text.
        x = r.random()
        size = 0 if x < 0.45 else 1 if x < 0.80 else 2
        is_atom = r.random() < 0.2
        body = (atom if is_atom else rss)(r, i, host, items, size, now)
        sub = "lm" if i % 10 == 0 else "feeds"
        rel = "%s/%05d.%s" % (sub, i, "atom" if is_atom else "rss")
        path = os.path.join(top, rel)
        with open(path, "w", encoding="utf-8") as f:
            f.write(body)
        # Last-Modified: some time in the past month.
        mtime = time.time() - r.randrange(60, 30 * 86400)
        os.utime(path, (mtime, mtime))
        lines.append("/%s\tfeed-%05d\t%s\t%d\n" % (rel, i, r.choice(TAGS),
                                                   items))
    sys.stdout.write("".join(lines))


if __name__ == "__main__":
    main()
