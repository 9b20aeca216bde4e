#!/usr/bin/env python3
"""Crash safety of `entente fetch`: SIGKILL at random moments, restart, compare.

Usage: crash_safety.py ENTENTE_BINARY RULES_TOML [--sources N] [--items N] [--kills N]
                       [--seed S] [--tmpfs MOUNTPOINT]

Serves N feeds from a local HTTP server on 127.0.0.1 (each answer delayed a little,
so that kills land mid-pass), then:
1. runs `entente fetch` and SIGKILLs it after a random delay, --kills times
   (default 20), restarting each time; then lets one pass finish;
2. checks `PRAGMA integrity_check` is `ok`, and that every item of every source is
   stored exactly once (the guids of each source equal the feed's);
3. runs one clean pass into a fresh database and exports both; every exported file
   must be byte for byte the same.
With --tmpfs (a tmpfs mounted there, and root to resize it), also a full disk: the
database on a 2 MB tmpfs, a pass that runs out of space must fail with a clear error
and leave the database readable and intact; after the tmpfs grows, a pass stores
every item exactly once.
Also reports (without failing) two writers at once and reads of a read-only
database, which depend on the store.

Exits 1 with the reason on the first failed check. Prints what it did.
"""

import argparse
import filecmp
import http.server
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

RELEVANT = [
    "France and Kazakhstan sign a uranium agreement in Astana",
    "Macron meets Tokayev to discuss trade between France and Kazakhstan",
    "Kazakh and French ministers agree on direct flights Astana Paris",
]


def feed(source, items):
    """An RSS feed of `items` entries, every third one about France–Kazakhstan."""
    entries = []
    for n in range(items):
        title = f"{RELEVANT[n % 3]} ({source} {n})" if n % 3 == 0 else f"Local weather {source} {n}"
        day = 1 + n % 28
        entries.append(
            f"<item><title>{title}</title><link>https://{source}.example/{n}</link>"
            f"<guid>{source}-{n}</guid><description>{title}. Report {n}.</description>"
            f"<pubDate>Mon, {day:02d} Jun 2026 {n % 24:02d}:{n % 60:02d}:00 +0000</pubDate></item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{source}</title><link>https://{source}.example/</link><description>d</description>"
        + "".join(entries)
        + "</channel></rss>"
    ).encode()


class Farm(http.server.ThreadingHTTPServer):
    daemon_threads = True


def serve(feeds):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = feeds.get(self.path.strip("/"))
            time.sleep(random.uniform(0.0, 0.05))
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the fetcher was killed mid-answer: that is the point

        def log_message(self, *args):
            pass

    server = Farm(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def write_config(folder, rules, port, sources):
    folder.mkdir(parents=True, exist_ok=True)
    text = f'rules = "{rules}"\n[daemon]\n[daemon.limits]\nper_host = 4\nconcurrency = 8\n'
    for source in sources:
        text += f'[[source]]\nid = "{source}"\nurl = "http://127.0.0.1:{port}/{source}"\n'
    path = folder / "feeds.toml"
    path.write_text(text)
    return path


def entente(binary, config, *args, **kwargs):
    return subprocess.Popen(
        [binary, "--config", str(config), *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "RUST_LOG": "error"},
        **kwargs,
    )


def fail(message):
    print(f"FAIL: {message}")
    sys.exit(1)


def check_stored(database, sources, items):
    """integrity_check ok and each source's guids exactly its feed's; else fail."""
    db = sqlite3.connect(database)
    integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
    if integrity != "ok":
        fail(f"integrity_check: {integrity}")
    for source in sources:
        guids = [g for (g,) in db.execute("SELECT guid FROM items WHERE source_id = ?", (source,))]
        if len(guids) != len(set(guids)):
            fail(f"{source}: an item stored twice")
        if items is not None and set(guids) != {f"{source}-{n}" for n in range(items)}:
            fail(f"{source}: {len(set(guids))} items stored, {items} in the feed")
    db.close()


def full_disk(args, mount, port, sources):
    resize = lambda size: subprocess.run(
        ["mount", "-o", f"remount,size={size}", str(mount)], check=True
    )
    resize("2m")
    folder = mount / "full"
    shutil.rmtree(folder, ignore_errors=True)
    config = write_config(folder, args.rules, port, sources)
    process = entente(args.binary, config, "fetch")
    _, err = process.communicate(timeout=600)
    message = err.decode()
    if process.returncode == 0:
        fail("a pass onto a full 2 MB disk reported success")
    if "full" not in message.lower() and "space" not in message.lower():
        fail(f"no clear error on a full disk: {message[-1500:]}")
    print(f"full disk: exit {process.returncode}, says {message.strip().splitlines()[-1][:160]!r}")
    check_stored(folder / "data" / "entente.db", sources, None)
    listing = entente(args.binary, config, "items", "--all", "--json")
    out, err = listing.communicate(timeout=600)
    if listing.returncode != 0:
        fail(f"items on a full disk: {err.decode()[-1000:]}")
    print("full disk: the database stays intact and readable")
    resize("256m")
    process = entente(args.binary, config, "fetch")
    _, err = process.communicate(timeout=600)
    if process.returncode != 0:
        fail(f"the pass after space returned exited {process.returncode}: {err.decode()[-1500:]}")
    check_stored(folder / "data" / "entente.db", sources, args.items)
    print("full disk: once space returns, every item is stored exactly once")
    shutil.rmtree(folder, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("binary")
    parser.add_argument("rules")
    parser.add_argument("--sources", type=int, default=40)
    parser.add_argument("--items", type=int, default=150)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--tmpfs", help="a tmpfs mount point, for the full-disk check")
    args = parser.parse_args()
    random.seed(args.seed)
    print(f"seed {args.seed}: {args.sources} sources x {args.items} items, {args.kills} kills")

    sources = [f"s{n:03d}" for n in range(args.sources)]
    feeds = {s: feed(s, args.items) for s in sources}
    server = serve(feeds)
    port = server.server_address[1]
    work = Path(tempfile.mkdtemp(prefix="entente-crash-"))
    try:
        crashed = write_config(work / "crashed", args.rules, port, sources)
        killed_mid_pass = 0
        for n in range(args.kills):
            process = entente(args.binary, crashed, "fetch")
            delay = random.uniform(0.05, 2.0)
            try:
                process.wait(timeout=delay)
            except subprocess.TimeoutExpired:
                process.send_signal(signal.SIGKILL)
                process.wait()
                killed_mid_pass += 1
        print(f"killed mid-pass {killed_mid_pass} of {args.kills} times")
        final = entente(args.binary, crashed, "fetch")
        _, err = final.communicate(timeout=600)
        if final.returncode != 0:
            fail(f"the pass after the kills exited {final.returncode}: {err.decode()[-2000:]}")

        db = sqlite3.connect(work / "crashed" / "data" / "entente.db")
        integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
        if integrity != "ok":
            fail(f"integrity_check: {integrity}")
        for source in sources:
            guids = [g for (g,) in db.execute("SELECT guid FROM items WHERE source_id = ?", (source,))]
            expected = {f"{source}-{n}" for n in range(args.items)}
            if len(guids) != len(set(guids)):
                fail(f"{source}: an item stored twice")
            if set(guids) != expected:
                fail(f"{source}: {len(set(guids))} items stored, {len(expected)} in the feed")
        db.close()
        print(f"integrity ok; every one of {args.sources * args.items} items stored exactly once")

        clean = write_config(work / "clean", args.rules, port, sources)
        run = entente(args.binary, clean, "fetch")
        run.communicate(timeout=600)
        for name, config in (("crashed", crashed), ("clean", clean)):
            out = work / f"export-{name}"
            export = entente(args.binary, config, "export", "--out", str(out))
            _, err = export.communicate(timeout=600)
            if export.returncode != 0:
                fail(f"export of the {name} run: {err.decode()[-2000:]}")
        left, right = work / "export-crashed", work / "export-clean"
        differing = []
        for folder, _, files in os.walk(left):
            for file in files:
                a = Path(folder) / file
                b = right / a.relative_to(left)
                if not b.exists() or not filecmp.cmp(a, b, shallow=False):
                    differing.append(str(a.relative_to(left)))
        if differing:
            fail(f"published files differ from a clean run's: {differing[:10]}")
        count = sum(len(f) for _, _, f in os.walk(left))
        print(f"the {count} published files equal a clean run's")

        if args.tmpfs:
            full_disk(args, Path(args.tmpfs), port, sources)

        # Observations that depend on the store (reported, not failed).
        both = [entente(args.binary, clean, "fetch") for _ in range(2)]
        codes = []
        for process in both:
            _, err = process.communicate(timeout=600)
            codes.append((process.returncode, b"locked" in err))
        print(f"two writers at once: exit codes {[c for c, _ in codes]}, 'locked' in errors: {[l for _, l in codes]}")
        if os.geteuid() == 0:
            print("read-only database: not tried (running as root, which ignores file modes)")
            print("OK")
            return
        readonly = work / "readonly"
        shutil.copytree(work / "clean", readonly)
        for path in (readonly / "data").iterdir():
            path.chmod(0o444)
        (readonly / "data").chmod(0o555)
        ro_config = readonly / "feeds.toml"
        for command in (["items", "--json"], ["export", "--out", str(work / "export-ro")]):
            process = entente(args.binary, ro_config, *command)
            _, err = process.communicate(timeout=600)
            first = err.decode().strip().splitlines()[:1]
            print(f"read-only database, {command[0]}: exit {process.returncode} {first}")
        (readonly / "data").chmod(0o755)
        print("OK")
    finally:
        server.shutdown()
        for path in work.rglob("*"):
            try:
                path.chmod(0o755)
            except OSError:
                pass
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
