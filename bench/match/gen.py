#!/usr/bin/env python3
"""Generate the matching benchmark's data, deterministically.

usage: gen.py OUTDIR [ITEMS]

Writes into OUTDIR:
  items.tsv        one news item per line: title TAB summary TAB content
  text.txt         the same text, one field per line (grep's input)
  entities.tsv     key TAB alias|alias|...
  wl-N.tsv         N watchlists (N = 1, 100, 10000): name TAB query,
                   their terms drawn as people write watchlists (below)
  patterns-N.txt   every literal term and alias those watchlists use,
                   one per line (grep -F -f's input)
  wl-uniform-N.tsv, patterns-uniform-N.txt
                   the same with the earlier term draw: uniform over
                   the vocabulary's ranks 150 to 20,000

The text is English-like: a Zipf-distributed vocabulary of common words
and a long tail of rarer ones, with country names, demonyms and people's
names mixed in at news-like rates. Each watchlist has about five terms
(words, phrases, a prefix, NEAR, NOT) plus an entity.

How the terms are drawn. People write watchlists with names and rare
topical words ("Sudani", "ransomware", "Kakhovka"), names of two words,
and now and then a topical word of the news ("earthquake", "sanctions");
almost never the words every article holds ("government", "said").
The default draw does that: a term is a rare word (vocabulary rank
2,000 and beyond: the stand-in for names and rare keywords) with
probability 0.55, a two-word name of rare words 0.20, a word of middle
frequency (ranks 300 to 2,000) 0.15, and one of TOPICAL 0.10. The
uniform draw (wl-uniform-*) takes every word uniformly from ranks 150
to 20,000, which holds common words such as "government", "minister"
or "police"; with 10,000 watchlists it then covers nearly all of the
vocabulary, so that a third of an item's words are hits.
"""
import os
import random
import sys

COMMON = """the of and to a in that is was he for it with as his on be at by
i this had not are but from or have an they which one you were her all she
there would their we him been has when who will more no if out so said what
up its about into than them can only other new some could time these two
may then do first any my now such like our over man me even most made after
also did many before must through back years where much your way well down
should because each just those people how too little state good very make
world still own see men work long get here between both life being under
never day same another know while last might us great old year off come
since against go came right used take three government minister president
officials police military forces security attack talks deal report said
week month country city region border troops army election vote party
leader capital economy market oil gas prices bank crisis war peace court
law trial spokesman statement agency ministry parliament sanctions
talks summit envoy coalition alliance strike strikes killed wounded
protest protesters rally clashes ceasefire negotiations agreement treaty
refugees aid humanitarian hospital school water power energy climate
storm flood floods earthquake fire drought health virus vaccine company
shares investors inflation growth jobs workers union strike budget tax
debt loan fund billion million percent official sources according
tuesday monday wednesday thursday friday saturday sunday morning night
early late international national local foreign domestic regional
northern southern eastern western central province district town village
""".split()

PEOPLE = ["Mohammed Shia al-Sudani", "Sudani", "Emmanuel Macron", "Macron",
          "Olaf Scholz", "Joe Biden", "Biden", "Xi Jinping", "Narendra Modi",
          "Recep Tayyip Erdogan", "Erdogan", "Antonio Guterres", "Guterres",
          "Ursula von der Leyen", "Abdel Fattah el-Sisi", "Sisi",
          "Masoud Pezeshkian", "Benjamin Netanyahu", "Netanyahu"]
PLACES = ["Iraq", "Iraqi", "Baghdad", "Syria", "Syrian", "Iran", "Iranian",
          "Turkey", "Turkish", "Egypt", "Egyptian", "France", "French",
          "Germany", "German", "China", "Chinese", "India", "Indian",
          "United States", "US", "U.S.", "American", "Russia", "Russian",
          "Ukraine", "Ukrainian", "Israel", "Israeli", "Lebanon", "Gaza",
          "Jordan", "Saudi Arabia", "Saudi", "Yemen", "Sudan", "South Sudan",
          "Brazil", "São Paulo", "Mexico", "Nigeria", "Kenya", "Ethiopia",
          "Japan", "South Korea", "North Korea", "Pakistan", "Afghanistan"]
ORGS = ["Islamic State", "IS", "ISIS", "Daesh", "United Nations", "UN",
        "NATO", "European Union", "EU", "World Bank", "IMF", "OPEC",
        "Red Cross", "Hezbollah", "Hamas", "Kurdistan Workers' Party", "PKK"]
# Topical words of the news that watchlists do use (all in COMMON).
TOPICAL = """sanctions ceasefire earthquake flood floods drought refugees
election protest protesters clashes treaty summit envoy coalition inflation
vaccine virus storm strike strikes humanitarian negotiations trial
parliament alliance budget debt loan oil gas""".split()
SYLLABLES = ("ka ro mi ta ne lu sa po ve di ar en or is an el un ba co "
             "fa ga ha ja la ma na pa ra sa ta va za ber cor dan fel gor "
             "hal kin lor mar nor par ros sel tor var wen").split()


def make_vocab(rng, n):
    words = list(dict.fromkeys(COMMON))
    seen = set(words)
    while len(words) < n:
        w = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))
        if w not in seen:
            seen.add(w)
            words.append(w)
    return words


def zipf_weights(n, s=1.07):
    return [1.0 / (r ** s) for r in range(1, n + 1)]


class Text:
    def __init__(self, rng, vocab):
        self.rng = rng
        self.vocab = vocab
        self.cum = []
        total = 0.0
        for w in zipf_weights(len(vocab)):
            total += w
            self.cum.append(total)
        self.total = total

    def word(self):
        r = self.rng.random()
        if r < 0.012:
            return self.rng.choice(PLACES)
        if r < 0.016:
            return self.rng.choice(PEOPLE)
        if r < 0.019:
            return self.rng.choice(ORGS)
        x = self.rng.random() * self.total
        lo, hi = 0, len(self.cum)
        while lo < hi:
            mid = (lo + hi) // 2
            if self.cum[mid] < x:
                lo = mid + 1
            else:
                hi = mid
        return self.vocab[lo]

    def sentence(self, lo, hi):
        words = [self.word() for _ in range(self.rng.randint(lo, hi))]
        words[0] = words[0][:1].upper() + words[0][1:]
        out = []
        for i, w in enumerate(words):
            out.append(w)
            if i < len(words) - 1 and self.rng.random() < 0.06:
                out[-1] += ","
        return " ".join(out) + self.rng.choice([".", ".", ".", "?", "!"])


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    out = sys.argv[1]
    nitems = int(sys.argv[2]) if len(sys.argv) == 3 else 100000
    os.makedirs(out, exist_ok=True)
    rng = random.Random(20261129)
    vocab = make_vocab(rng, 30000)
    text = Text(rng, vocab)

    with open(os.path.join(out, "items.tsv"), "w", encoding="utf-8") as items, \
            open(os.path.join(out, "text.txt"), "w", encoding="utf-8") as flat:
        for _ in range(nitems):
            title = text.sentence(6, 12).rstrip(".?!")
            summary = text.sentence(15, 30)
            content = " ".join(text.sentence(8, 25)
                               for _ in range(rng.randint(3, 7)))
            items.write("%s\t%s\t%s\n" % (title, summary, content))
            flat.write("%s\n%s\n%s\n" % (title, summary, content))

    entities = {"sudani": ["Mohammed Shia al-Sudani", "Sudani", "Soudani"],
                "islamic-state": ["Islamic State", "ISIS", "ISIL", "Daesh",
                                  "IS"],
                "un": ["United Nations", "UN"],
                "nato": ["NATO"],
                "eu": ["European Union", "EU"],
                "erdogan": ["Recep Tayyip Erdogan", "Erdogan"],
                "macron": ["Emmanuel Macron", "Macron"],
                "guterres": ["Antonio Guterres", "Guterres"],
                "hezbollah": ["Hezbollah", "Hizbullah", "Hizballah"],
                "pkk": ["Kurdistan Workers' Party", "PKK"]}
    countries = {"iraq": ["Iraq", "Iraqi", "Iraqis", "Republic of Iraq"],
                 "syria": ["Syria", "Syrian", "Syrians"],
                 "turkey": ["Turkey", "Turkish", "Turks", "Türkiye"],
                 "iran": ["Iran", "Iranian", "Iranians"],
                 "egypt": ["Egypt", "Egyptian", "Egyptians"],
                 "france": ["France", "French"],
                 "united-states": ["United States", "US", "U.S.", "USA",
                                   "American", "Americans"],
                 "russia": ["Russia", "Russian", "Russians"],
                 "ukraine": ["Ukraine", "Ukrainian", "Ukrainians"],
                 "israel": ["Israel", "Israeli", "Israelis"]}
    with open(os.path.join(out, "entities.tsv"), "w", encoding="utf-8") as f:
        for key, aliases in entities.items():
            f.write("%s\t%s\n" % (key, "|".join(aliases)))
    ekeys = list(entities) + list(countries)
    alias_of = dict(entities)
    alias_of.update(countries)

    for n in (1, 100, 10000):
        write_watchlists(out, "wl-%d.tsv" % n, "patterns-%d.txt" % n,
                         random.Random(1000000 + n), realistic_terms(vocab),
                         n, ekeys, alias_of)
        # the same seed as before, so this is the earlier workload exactly
        write_watchlists(out, "wl-uniform-%d.tsv" % n,
                         "patterns-uniform-%d.txt" % n, random.Random(n),
                         uniform_terms(vocab), n, ekeys, alias_of)


def uniform_terms(vocab):
    """The earlier draw: uniform over ranks 150 to 20,000."""
    pool = vocab[150:20000]
    return lambda wrng: [wrng.choice(pool) for _ in range(6)]


def realistic_terms(vocab):
    """Terms as people write them (see the top of this file); a two-word
    name is one string with a space."""
    rare = vocab[2000:]
    middle = vocab[300:2000]

    def term(wrng):
        r = wrng.random()
        if r < 0.55:
            return wrng.choice(rare)
        if r < 0.75:
            return wrng.choice(rare) + " " + wrng.choice(rare)
        if r < 0.90:
            return wrng.choice(middle)
        return wrng.choice(TOPICAL)
    return lambda wrng: [term(wrng) for _ in range(6)]


def write_watchlists(out, wl_name, patterns_name, wrng, draw, n, ekeys,
                     alias_of):
    """N watchlists of five query shapes over the terms DRAW gives."""
    literals = set()
    with open(os.path.join(out, wl_name), "w", encoding="utf-8") as f:
        for i in range(n):
            w = draw(wrng)
            t = ['"%s"' % x if " " in x else x for x in w]
            e = wrng.choice(ekeys)
            shape = i % 5
            if shape == 0:
                q = '%s AND (%s OR "%s %s") NOT %s @%s' % (
                    t[0], t[1], w[2], w[3], t[4], e)
                lits = [w[0], w[1], w[2] + " " + w[3], w[4]]
            elif shape == 1:
                q = '(%s OR %s OR %s) AND (@%s OR %s)' % (
                    t[0], t[1], t[2], e, t[3])
                lits = w[:4]
            elif shape == 2:
                q = '%s NEAR/5 @%s OR ("%s %s" -%s)' % (
                    t[0], e, w[1], w[2], t[3])
                lits = [w[0], w[1] + " " + w[2], w[3]]
            elif shape == 3:
                q = 'title:%s OR (%s* AND %s AND @%s) OR %s' % (
                    t[0], w[1].split()[0][:5], t[2], e, t[3])
                lits = [w[0], w[2], w[3]]
            else:
                q = '@%s AND (%s OR %s OR %s OR "%s %s")' % (
                    e, t[0], t[1], t[2], w[3], w[4])
                lits = [w[0], w[1], w[2], w[3] + " " + w[4]]
            literals.update(lits)
            literals.update(alias_of[e])
            f.write("wl%d\t%s\n" % (i, q))
    with open(os.path.join(out, patterns_name), "w",
              encoding="utf-8") as f:
        for lit in sorted(literals):
            f.write(lit + "\n")


main()
