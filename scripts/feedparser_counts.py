#!/usr/bin/env python3
"""The `feedparser` column of tests/fixtures.tsv: how many entries python feedparser 6
reads from each fixture, served with the headers its `Header:` comment names.

    python3 scripts/feedparser_counts.py ../shared/fixtures/feeds > /tmp/fp.tsv
"""
import gzip
import os
import sys

import feedparser

corpus = sys.argv[1]
with open(os.path.join(corpus, "MANIFEST.tsv"), encoding="utf-8") as manifest:
    paths = [line.split("\t")[0] for line in manifest.read().splitlines()[1:]]


def content_type(path):
    ext = path.rsplit(".", 1)[-1]
    return {"json": "application/feed+json", "html": "text/html", "txt": "text/plain"}.get(
        ext, "application/xml"
    )


for path in paths:
    with open(os.path.join(corpus, path), "rb") as f:
        body = f.read()
    headers = {"content-type": content_type(path)}
    for line in body[:2048].decode("utf-8", "replace").splitlines():
        line = line.strip()
        if line.startswith("Header:"):
            name, _, value = line[len("Header:"):].partition(":")
            headers[name.strip().lower()] = value.strip()
    if path == "miniflux/parser/no_encoding_ISO-8859-1.xml":
        headers["content-type"] = "application/rss+xml; charset=ISO-8859-1"
    if body[:2] == b"\x1f\x8b":
        body = gzip.decompress(body)
    print(f"{path}\t{len(feedparser.parse(body, response_headers=headers).entries)}")
