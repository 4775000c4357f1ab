#!/usr/bin/env python3
"""Write a realistic news article page body of about SIZE bytes (default
100 KB) to stdout: headline, byline, paragraphs with links, emphasis and
entities, a figure, a list, a fact table, a pull quote, inline script and
style, comments and some non-ASCII names. Deterministic (fixed seed)."""
import random
import sys

size = int(sys.argv[1]) if len(sys.argv) > 1 else 100 * 1024
rng = random.Random(2004)
WORDS = ('the government coalition said on Tuesday that talks in Baghdad '
         'would resume after a week of negotiations between parties over '
         'the budget and oil revenue sharing officials told reporters '
         'prime minister parliament session security forces province '
         'election commission according to statement spokesman analysts '
         'expected agreement before end of month despite protests in '
         'southern cities where residents demand jobs electricity water').split()
NAMES = ['Mohammed Shia al-Sudani', 'Jos\u00e9 Mar\u00eda Aznar',
         'Fran\u00e7ois Hollande', 'Recep Tayyip Erdo\u011fan',
         '\u0645\u062d\u0645\u062f', 'M\u00fcller']


def sentence():
    n = rng.randint(8, 24)
    words = [rng.choice(WORDS) for _ in range(n)]
    if rng.random() < 0.3:
        words.insert(rng.randrange(n), rng.choice(NAMES))
    if rng.random() < 0.2:
        i = rng.randrange(n)
        words[i] = '<a href="https://example.com/news/%d">%s</a>' % (
            rng.randint(1, 99999), words[i])
    if rng.random() < 0.15:
        i = rng.randrange(n)
        words[i] = '<em>%s</em>' % words[i]
    s = ' '.join(words)
    s = s[0].upper() + s[1:]
    return s + rng.choice(['.', '.', '.', '&hellip;', ' &mdash; sources say.',
                           ', &ldquo;officials&rdquo; said.'])


def paragraph():
    return '<p>%s</p>\n' % ' '.join(sentence() for _ in range(rng.randint(2, 6)))


out = ['<div class="article">\n<h1>Coalition talks resume in Baghdad</h1>\n',
       '<p class="byline">By <span class="author">Staff Reporter</span> '
       '&middot; <time datetime="2004-01-01T19:48:21Z">1 Jan 2004</time></p>\n',
       '<style>.article p { margin: 0 0 1em; } .byline { color: #666; }</style>\n']
n = 0
while sum(map(len, out)) < size - 2000:
    n += 1
    out.append(paragraph())
    if n % 7 == 0:
        out.append('<figure><img src="https://example.com/img/%d.jpg" '
                   'alt="A photo of the session" width="640" height="360">'
                   '<figcaption>%s</figcaption></figure>\n' % (n, sentence()))
    if n % 11 == 0:
        out.append('<ul>%s</ul>\n' % ''.join(
            '<li>%s</li>' % sentence() for _ in range(4)))
    if n % 13 == 0:
        out.append('<blockquote><p>&ldquo;%s&rdquo;</p></blockquote>\n'
                   % sentence())
    if n % 17 == 0:
        out.append('<table><tr><th>Party</th><th>Seats</th></tr>%s</table>\n'
                   % ''.join('<tr><td>%s</td><td>%d</td></tr>'
                             % (rng.choice(WORDS), rng.randint(1, 99))
                             for _ in range(5)))
    if n % 19 == 0:
        out.append('<!-- ad slot %d --><script>window.ads = window.ads || []; '
                   'ads.push({slot: %d, sizes: [[300, 250]]});</script>\n'
                   % (n, n))
out.append('<p>Copyright &copy; 2004 Example News. All rights reserved.</p>\n'
           '</div>\n')
sys.stdout.write(''.join(out))
