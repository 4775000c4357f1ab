#!/usr/bin/env python3
"""Write a large RSS 2.0 or Atom 1.0 feed of realistic news items.

usage: gen.py rss|atom MEGABYTES OUT
"""
import random
import sys

WORDS = ('government coalition minister talks border security forces '
         'election parliament economy inflation market energy oil gas '
         'agreement ceasefire protest court ruling reform budget health '
         'hospital school university climate flood drought harvest trade '
         'export import currency bank investment infrastructure railway '
         'port airport tourism football league season coach players fans '
         'the a of in on for with by after before during against between '
         'said officials reported according statement sources Baghdad Cairo '
         'Amman Beirut Damascus Riyadh Tehran Ankara Brussels Washington').split()


def sentence(rng, n):
    w = [rng.choice(WORDS) for _ in range(n)]
    w[0] = w[0].capitalize()
    return ' '.join(w) + '.'


def paragraphs(rng, k):
    return ''.join('<p>%s %s <a href="https://news.example.org/t/%d">%s</a> %s</p>'
                   % (sentence(rng, 14), sentence(rng, 10), rng.randrange(10**6),
                      rng.choice(WORDS), sentence(rng, 12)) for _ in range(k))


def esc(s):
    return s.replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;')


def main():
    kind, mb, out = sys.argv[1], float(sys.argv[2]), sys.argv[3]
    rng = random.Random(42)
    limit = int(mb * 1024 * 1024)
    days = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun']
    with open(out, 'w', encoding='utf-8') as f:
        if kind == 'rss':
            f.write('<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
                    'xmlns:dc="http://purl.org/dc/elements/1.1/" '
                    'xmlns:content="http://purl.org/rss/1.0/modules/content/">\n'
                    '<channel><title>Example World News</title>'
                    '<link>https://news.example.org/</link>'
                    '<description>All the news</description>\n')
        else:
            f.write('<?xml version="1.0" encoding="utf-8"?>\n<feed '
                    'xmlns="http://www.w3.org/2005/Atom"><title>Example World News'
                    '</title><link href="https://news.example.org/"/>'
                    '<id>urn:uuid:60a76c80-d399-11d9-b93c-0003939e0af6</id>'
                    '<updated>2026-11-29T03:10:00Z</updated>\n')
        i = 0
        while f.tell() < limit:
            i += 1
            title = sentence(rng, 9)[:-1]
            link = 'https://news.example.org/world/2026/11/%02d/story-%d' % (1 + i % 28, i)
            summary = paragraphs(rng, 1)
            content = paragraphs(rng, 4)
            day = 1 + i % 28
            if kind == 'rss':
                f.write('<item><title>%s</title><link>%s</link>'
                        '<guid isPermaLink="false">story-%d</guid>'
                        '<pubDate>%s, %02d Nov 2026 %02d:%02d:00 +0000</pubDate>'
                        '<dc:creator>Staff reporter %d</dc:creator>'
                        '<category>World</category><category>%s</category>'
                        '<description>%s</description>'
                        '<content:encoded><![CDATA[%s]]></content:encoded>'
                        '<enclosure url="https://cdn.example.org/%d.jpg" '
                        'type="image/jpeg" length="%d"/></item>\n'
                        % (esc(title), link, i, days[day % 7], day, i % 24, i % 60,
                           i % 50, rng.choice(WORDS), esc(summary), content, i,
                           rng.randrange(10**6)))
            else:
                f.write('<entry><title>%s</title><link href="%s"/>'
                        '<id>tag:news.example.org,2026:story-%d</id>'
                        '<published>2026-11-%02dT%02d:%02d:00Z</published>'
                        '<updated>2026-11-%02dT%02d:%02d:00Z</updated>'
                        '<author><name>Staff reporter %d</name></author>'
                        '<category term="World"/><category term="%s"/>'
                        '<summary type="html">%s</summary>'
                        '<content type="html">%s</content>'
                        '<link rel="enclosure" href="https://cdn.example.org/%d.jpg" '
                        'type="image/jpeg" length="%d"/></entry>\n'
                        % (esc(title), link, i, day, i % 24, i % 60, day, i % 24,
                           i % 60, i % 50, rng.choice(WORDS), esc(summary),
                           esc(content), i, rng.randrange(10**6)))
        f.write('</channel></rss>\n' if kind == 'rss' else '</feed>\n')


if __name__ == '__main__':
    main()
