#!/usr/bin/env python3
"""Reads every feed of an `entente export` directory with feedparser, as readers do.

Usage: check_feeds.py DIR [--expect SLUG ...]

RSS and Atom are read by feedparser. JSON Feed too when the installed feedparser reads
it (6.1 and later); the releases on PyPI up to 6.0.x do not, and flag every JSON
document as ill-formed XML, so there JSON Feeds are read with `json` and checked
against the JSON Feed 1.1 rules instead (the line says which reader was used).

Fails (exit 1) when a feed is flagged ill-formed (`bozo`) or breaks a JSON Feed rule, when the three formats of
one feed disagree on how many items they carry, when a feed named with --expect
(default: `all`) has no items, when a per-language feed (`{slug}.{lang}.{ext}`) does
not declare its language, when an RSS or Atom feed names no stylesheet or the
stylesheet is missing, or when feeds.opml or index.html is missing, the OPML is not
well-formed XML or lists a feed that is not in the folder. Prints one line a feed and
a summary.
"""

import argparse
import importlib.util
import json
import sys
import xml.etree.ElementTree as ElementTree
from collections import defaultdict
from pathlib import Path

try:
    import feedparser
except ImportError:
    sys.exit("feedparser is not installed: pip install feedparser")

FORMATS = ("rss", "atom", "json")

LANGUAGES = ("en", "fr", "ru", "kk")

STYLESHEET = '<?xml-stylesheet type="text/xsl" href="feed.xsl"?>'

JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"

FEEDPARSER_READS_JSON = importlib.util.find_spec("feedparser.parsers.json") is not None


def check_json_feed(path):
    """Returns (item count, problem or None) for a JSON Feed, by the JSON Feed 1.1 rules."""
    try:
        feed = json.loads(path.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        return 0, f"ill-formed: {error}"
    if not isinstance(feed, dict) or feed.get("version") != JSON_FEED_VERSION:
        return 0, f"not JSON Feed 1.1 (version {feed.get('version')!r})"
    if not isinstance(feed.get("title"), str):
        return 0, "no feed title"
    items = feed.get("items")
    if not isinstance(items, list):
        return 0, "no items list"
    for item in items:
        if not isinstance(item.get("id"), str) or not item["id"]:
            return len(items), f"an item without an id: {item!r:.80}"
        if not any(isinstance(item.get(key), str) for key in ("content_html", "content_text")):
            return len(items), f"item {item['id']} has neither content_html nor content_text"
    return len(items), None


def feed_language(path):
    """The language a per-language feed's name gives (`all.fr.rss`: fr), else None."""
    stem = path.stem
    if "." in stem and stem.rsplit(".", 1)[1] in LANGUAGES:
        return stem.rsplit(".", 1)[1]
    return None


def check_feed(path):
    """Returns (item count, problem or None) for one feed file."""
    lang = feed_language(path)
    if path.suffix == ".json":
        if lang and json.loads(path.read_bytes()).get("language") != lang:
            return 0, f"does not declare its language {lang}"
        if not FEEDPARSER_READS_JSON:
            return check_json_feed(path)
    elif STYLESHEET not in path.read_text(encoding="utf-8"):
        return 0, "names no stylesheet"
    parsed = feedparser.parse(path.read_bytes())
    if parsed.bozo:
        return len(parsed.entries), f"ill-formed: {parsed.bozo_exception!r}"
    expected_version = {"rss": "rss20", "atom": "atom10", "json": "json11"}[path.suffix[1:]]
    if parsed.version != expected_version:
        return len(parsed.entries), f"read as {parsed.version!r}, not {expected_version}"
    if lang and path.suffix != ".json" and parsed.feed.get("language") != lang:
        return len(parsed.entries), f"declares {parsed.feed.get('language')!r}, not {lang}"
    return len(parsed.entries), None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dir", type=Path)
    parser.add_argument("--expect", action="append", metavar="SLUG",
                        help="a feed that must carry items (repeatable; default: all)")
    args = parser.parse_args()
    expect = set(args.expect or ["all"])
    problems = []
    counts = defaultdict(dict)

    feeds = sorted(p for p in (args.dir / "feeds").glob("*") if p.suffix[1:] in FORMATS)
    for path in feeds:
        count, problem = check_feed(path)
        counts[path.stem][path.suffix[1:]] = count
        status = "ok" if problem is None else problem
        reader = "json" if path.suffix == ".json" and not FEEDPARSER_READS_JSON else "feedparser"
        print(f"{path.relative_to(args.dir)}: {count} items ({reader}), {status}")
        if problem:
            problems.append(f"{path.name}: {problem}")

    for slug, by_format in sorted(counts.items()):
        if set(by_format) != set(FORMATS):
            problems.append(f"{slug}: formats missing: {sorted(set(FORMATS) - set(by_format))}")
        if len(set(by_format.values())) > 1:
            problems.append(f"{slug}: the formats disagree on the item count: {by_format}")
    for slug in sorted(expect):
        if slug not in counts:
            problems.append(f"{slug}: no such feed")
        elif 0 in counts[slug].values():
            problems.append(f"{slug}: items were expected: {counts[slug]}")

    opml = args.dir / "feeds.opml"
    try:
        outlines = ElementTree.parse(opml).getroot().findall(".//outline[@xmlUrl]")
        print(f"feeds.opml: {len(outlines)} feeds, ok")
        for outline in outlines:
            name = outline.get("xmlUrl").rsplit("/feeds/", 1)[-1]
            if not (args.dir / "feeds" / name).is_file():
                problems.append(f"feeds.opml: lists {name}, which is not exported")
    except (OSError, ElementTree.ParseError) as error:
        problems.append(f"feeds.opml: {error}")
    if not (args.dir / "index.html").is_file():
        problems.append("index.html: missing")
    if not (args.dir / "feeds" / "feed.xsl").is_file():
        problems.append("feeds/feed.xsl: missing")

    print(f"{len(feeds)} feeds checked, {len(problems)} problems")
    for problem in problems:
        print(f"PROBLEM: {problem}")
    return 1 if problems or not feeds else 0


if __name__ == "__main__":
    sys.exit(main())
