#!/usr/bin/env python3
"""The script a user would write instead of entente: 16 threads of requests +
feedparser, every item into SQLite, conditional GETs with the stored validators.
Installs its two packages itself. Prints one JSON line: wall seconds, feeds, items,
not-modified count.

    baseline.py URLS.txt DB.sqlite [--threads 16]
"""
import argparse
import importlib
import json
import sqlite3
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor


def ensure(package):
    try:
        return importlib.import_module(package)
    except ImportError:
        subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet",
                               "--disable-pip-version-check", package])
        return importlib.import_module(package)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("urls")
    p.add_argument("db")
    p.add_argument("--threads", type=int, default=16)
    p.add_argument("--files", action="store_true", help="the list names files, not URLs")
    args = p.parse_args()
    feedparser = ensure("feedparser")
    requests = ensure("requests")
    urls = [u.strip() for u in open(args.urls) if u.strip()]

    db = sqlite3.connect(args.db, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.executescript("""
        CREATE TABLE IF NOT EXISTS feeds (url TEXT PRIMARY KEY, etag TEXT, modified TEXT);
        CREATE TABLE IF NOT EXISTS items (id TEXT PRIMARY KEY, feed TEXT, title TEXT,
            link TEXT, summary TEXT, published TEXT);
    """)
    lock = threading.Lock()
    state = {row[0]: (row[1], row[2]) for row in db.execute("SELECT * FROM feeds")}
    local = threading.local()
    counts = {"items": 0, "not_modified": 0, "errors": 0}

    def one(url):
        if args.files:
            with open(url, "rb") as f:
                parsed = feedparser.parse(f.read())
            store(url, parsed, None, None)
            return
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
        headers = {}
        etag, modified = state.get(url, (None, None))
        if etag:
            headers["If-None-Match"] = etag
        if modified:
            headers["If-Modified-Since"] = modified
        try:
            r = session.get(url, headers=headers, timeout=30)
        except requests.RequestException:
            with lock:
                counts["errors"] += 1
            return
        if r.status_code == 304:
            with lock:
                counts["not_modified"] += 1
            return
        store(url, feedparser.parse(r.content), r.headers.get("ETag"), r.headers.get("Last-Modified"))

    def store(url, parsed, etag, modified):
        rows = [(e.get("id") or e.get("link"), url, e.get("title"), e.get("link"),
                 e.get("summary"), e.get("published") or e.get("updated"))
                for e in parsed.entries]
        with lock:
            db.executemany("INSERT OR REPLACE INTO items VALUES (?,?,?,?,?,?)", rows)
            db.execute("INSERT OR REPLACE INTO feeds VALUES (?,?,?)",
                       (url, etag, modified))
            db.commit()
            counts["items"] += len(rows)

    start = time.monotonic()
    with ThreadPoolExecutor(args.threads) as pool:
        list(pool.map(one, urls))
    wall = time.monotonic() - start
    print(json.dumps({"wall": wall, "feeds": len(urls), **counts}))


if __name__ == "__main__":
    main()
