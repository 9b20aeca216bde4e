#!/usr/bin/env python3
"""A deterministic feed farm for the benchmarks: N feeds x M items, RSS and Atom,
English, French and Russian text, a share of France-Kazakhstan items and of wire
stories that several feeds carry. Titles are 40-120 characters, HTML descriptions
300-2,000. Same seed, same bytes.

    farm.py generate DIR --feeds N --items M [--seed S] [--relevant 0.05] [--wire 0.1]
    farm.py mutate DIR --cycle K --share 0.1   # give some feeds a new newest item
"""
import argparse
import hashlib
import json
import os
import random
from datetime import datetime, timedelta, timezone
from xml.sax.saxutils import escape

WORDS = {
    "en": ("the government market council minister agreement report city region growth "
           "energy company project school university festival railway airport export "
           "import budget parliament election weather football museum bank investment "
           "hospital farmers harvest water tourism court police road bridge digital").split(),
    "fr": ("le gouvernement marché conseil ministre accord rapport ville région croissance "
           "énergie entreprise projet école université festival chemin de fer aéroport "
           "exportation budget parlement élection météo football musée banque hôpital "
           "agriculteurs récolte eau tourisme tribunal police route pont numérique").split(),
    "ru": ("правительство рынок совет министр соглашение доклад город регион рост энергия "
           "компания проект школа университет фестиваль железная дорога аэропорт экспорт "
           "бюджет парламент выборы погода футбол музей банк больница фермеры урожай вода "
           "туризм суд полиция дорога мост цифровой").split(),
}
RELEVANT = {
    "en": ["France and Kazakhstan sign an agreement on uranium supplies",
           "Macron meets Tokayev in Astana to discuss trade and investment",
           "French company Total expands gas project in Kazakhstan",
           "Airbus and Kazakhstan agree on new aircraft deliveries to Astana"],
    "fr": ["La France et le Kazakhstan signent un accord sur l'uranium",
           "Emmanuel Macron reçoit Kassym-Jomart Tokaïev à l'Élysée",
           "Orano renforce sa coopération avec Kazatomprom au Kazakhstan",
           "Le Kazakhstan et la France lancent un vol direct Paris-Astana"],
    "ru": ["Казахстан и Франция подписали соглашение о поставках урана",
           "Токаев провёл переговоры с Макроном в Париже",
           "Французская компания Total расширяет проект в Казахстане",
           "Казахстан и Франция откроют прямой рейс Астана — Париж"],
}
BASE = datetime(2026, 3, 1, tzinfo=timezone.utc)


def sentence(rng, lang, lo, hi):
    words = WORDS[lang]
    out = []
    while len(" ".join(out)) < lo:
        out.append(rng.choice(words))
    text = " ".join(out)[:hi].strip() or words[0]
    return text[0].upper() + text[1:]


def title(rng, lang, relevant):
    if relevant:
        base = rng.choice(RELEVANT[lang])
        extra = sentence(rng, lang, 5, 120 - len(base) - 2) if len(base) < 100 else ""
        text = f"{base}: {extra}" if extra else base
    else:
        text = sentence(rng, lang, rng.randint(40, 110), 120)
    return text[:120]


def description(rng, lang, relevant, head):
    target = rng.randint(300, 2000)
    parts = [f"<p><b>{escape(head)}</b></p>"]
    size = len(parts[0])
    while size < target:
        para = sentence(rng, lang, 60, 240) + "."
        if rng.random() < 0.3:
            para += f' <a href="https://example.org/{rng.randint(1, 10**6)}">{escape(rng.choice(WORDS[lang]))}</a>'
        chunk = f"<p>{escape(para) if '<a' not in para else para}</p>"
        if size + len(chunk) > 2000:
            break
        parts.append(chunk)
        size += len(chunk)
    return "".join(parts)


def items_of(feed, count, seed, relevant_share, wire_share, cycle=0):
    """The items of one feed, newest first. Wire stories are shared by several feeds:
    the same title and link under different feeds."""
    lang = ("en", "fr", "ru")[feed % 3]
    items = []
    for n in range(count + cycle):
        serial = count + cycle - 1 - n  # newest first
        rng = random.Random(f"{seed}:{feed}:{serial}")
        wire = rng.random() < wire_share
        if wire:
            story = rng.randint(0, max(1, count // 2))
            srng = random.Random(f"{seed}:wire:{lang}:{story}")
            relevant = srng.random() < relevant_share * 2
            head = title(srng, lang, relevant)
            link = f"https://wire.example.org/{lang}/{story}"
            body = description(srng, lang, relevant, head)
            date = BASE + timedelta(minutes=story * 37)
        else:
            relevant = rng.random() < relevant_share
            head = title(rng, lang, relevant)
            link = f"https://feed{feed}.example.org/news/{serial}"
            body = description(rng, lang, relevant, head)
            date = BASE + timedelta(minutes=serial * 53 + feed)
        items.append({"title": head, "link": link, "guid": f"f{feed}-{serial}",
                      "html": body, "date": date, "relevant": relevant})
    return lang, items


def rss(feed, lang, items):
    out = [f'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
           f"<title>Farm feed {feed}</title><link>https://feed{feed}.example.org/</link>"
           f"<description>Benchmark feed {feed}</description><language>{lang}</language>"]
    for it in items:
        out.append(f"<item><title>{escape(it['title'])}</title><link>{it['link']}</link>"
                   f"<guid isPermaLink=\"false\">{it['guid']}</guid>"
                   f"<pubDate>{it['date'].strftime('%a, %d %b %Y %H:%M:%S +0000')}</pubDate>"
                   f"<description>{escape(it['html'])}</description></item>")
    out.append("</channel></rss>\n")
    return "".join(out)


def atom(feed, lang, items):
    out = [f'<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="{lang}">'
           f"<title>Farm feed {feed}</title><id>urn:farm:{feed}</id>"
           f'<link href="https://feed{feed}.example.org/"/>'
           f"<updated>{items[0]['date'].strftime('%Y-%m-%dT%H:%M:%SZ') if items else '2026-03-01T00:00:00Z'}</updated>"]
    for it in items:
        out.append(f"<entry><title>{escape(it['title'])}</title><id>urn:farm:{it['guid']}</id>"
                   f'<link href="{it["link"]}"/>'
                   f"<updated>{it['date'].strftime('%Y-%m-%dT%H:%M:%SZ')}</updated>"
                   f'<summary type="html">{escape(it["html"])}</summary></entry>')
    out.append("</feed>\n")
    return "".join(out)


def write_feed(root, feed, count, seed, relevant_share, wire_share, cycle=0):
    lang, items = items_of(feed, count, seed, relevant_share, wire_share, cycle)
    text = (rss if feed % 2 == 0 else atom)(feed, lang, items)
    path = os.path.join(root, "feeds", f"f{feed:05d}.xml")
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)
    return len(text.encode()), sum(it["relevant"] for it in items)


def generate(args):
    os.makedirs(os.path.join(args.dir, "feeds"), exist_ok=True)
    total = relevant = 0
    for feed in range(args.feeds):
        size, rel = write_feed(args.dir, feed, args.items, args.seed, args.relevant, args.wire)
        total += size
        relevant += rel
    meta = {"feeds": args.feeds, "items": args.items, "seed": args.seed,
            "relevant_share": args.relevant, "wire_share": args.wire,
            "bytes": total, "relevant_items_with_copies": relevant}
    with open(os.path.join(args.dir, "farm.json"), "w") as f:
        json.dump(meta, f)
    print(json.dumps(meta))


def mutate(args):
    """Cycle K: a share of the feeds (chosen by the seed and K) gain K new items."""
    with open(os.path.join(args.dir, "farm.json")) as f:
        meta = json.load(f)
    rng = random.Random(f"{meta['seed']}:cycle:{args.cycle}")
    chosen = rng.sample(range(meta["feeds"]), max(1, int(meta["feeds"] * args.share)))
    for feed in chosen:
        # The feed keeps its length: the newest item pushes the oldest out.
        write_feed(args.dir, feed, meta["items"], meta["seed"], meta["relevant_share"],
                   meta["wire_share"], cycle=args.cycle)
        path = os.path.join(args.dir, "feeds", f"f{feed:05d}.xml")
        # nginx's ETag is mtime-size: make sure the mtime moves even within a second.
        st = os.stat(path)
        os.utime(path, (st.st_atime, st.st_mtime + args.cycle))
    print(len(chosen))


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("generate")
    g.add_argument("dir")
    g.add_argument("--feeds", type=int, default=2000)
    g.add_argument("--items", type=int, default=50)
    g.add_argument("--seed", type=int, default=7)
    g.add_argument("--relevant", type=float, default=0.05)
    g.add_argument("--wire", type=float, default=0.1)
    m = sub.add_parser("mutate")
    m.add_argument("dir")
    m.add_argument("--cycle", type=int, required=True)
    m.add_argument("--share", type=float, default=0.1)
    args = p.parse_args()
    generate(args) if args.cmd == "generate" else mutate(args)


if __name__ == "__main__":
    main()
