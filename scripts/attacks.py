#!/usr/bin/env python3
"""The attack table of RELIABILITY.md: each hostile feed served from 127.0.0.1, one
`entente fetch` over it, and what came of it (exit code, wall time, the source's
status and error, items stored, the largest stored field, the published size).

Usage: attacks.py ENTENTE_BINARY RULES_TOML [--only NAME ...] [--server]

With --server, the attacks are clients of `entente run` instead: floods of idle and
slow connections against a daemon started under a hard limit of 1024 open files (so
that it cannot raise it: 768 connection slots), and how soon /healthz answers beside
them, on its first try.

A row may raise a limit of `[daemon.limits]`, named in the row; every other row runs
with the defaults a new user gets.

Prints a Markdown table. Nothing here fails: it measures. The tests that hold each
result are named in RELIABILITY.md.
"""

import argparse
import gzip
import http.server
import json
import os
import resource
import shutil
import socket
import sqlite3
import subprocess
import tempfile
import threading
import time
import zlib
from pathlib import Path

R = "France and Kazakhstan sign a uranium agreement in Astana as Macron meets Tokayev"


def rss(items, extra=""):
    return (
        f'<?xml version="1.0" encoding="utf-8"?>{extra}<rss version="2.0"><channel><title>t</title>'
        f"<link>https://a.example/</link><description>d</description>{items}</channel></rss>"
    ).encode()


def item(n, title=R, description=R, date="Mon, 01 Jun 2026 10:00:00 +0000"):
    return (
        f"<item><title>{title} {n}</title><link>https://a.example/{n}</link><guid>g{n}</guid>"
        f"<description>{description}</description><pubDate>{date}</pubDate></item>"
    )


def gzipped_zeros(size):
    """`size` zero bytes, gzip-compressed a megabyte at a time (never held whole)."""
    encoder = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(1 << 20)
    parts = [encoder.compress(zeros) for _ in range(size // len(zeros))]
    return b"".join(parts) + encoder.flush()


def attacks():
    laughs = '<!DOCTYPE r [<!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">' + "".join(
        f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(9)
    ) + "]>"
    yield "billion laughs (10^9 expansions declared)", {"/f": rss(item(1, title="&j;"), laughs)}
    xxe = '<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    yield "external entity file:///etc/passwd", {"/f": rss(item(1, title="&x;"), xxe)}
    nested = "&lt;div&gt;" * 100_000 + "deep" + "&lt;/div&gt;" * 100_000
    yield "100,000 nested <div> in a description", {"/f": rss(item(1, description=nested))}
    yield "a 10 MB title", {"/f": rss(item(1, title="Astana " * 1_500_000))}
    many = "".join(f"<item><guid>{n}</guid></item>" for n in range(500_000))
    yield "500,000 items in one body", {"/f": rss(many)}
    yield "12,000 relevant items", {"/f": rss("".join(item(n) for n in range(12_000)))}
    yield "a 100 KB Location", {"/f": ("redirect", "/" + "x" * 100_000)}
    yield "redirect to file:///etc/passwd", {"/f": ("redirect", "file:///etc/passwd")}
    yield "date 9999-12-31", {"/f": rss(item(1, date="Fri, 31 Dec 9999 23:59:59 +0000"))}
    yield "&#0; and a lone surrogate reference", {"/f": rss(item(1, title="nul&#0;here") + item(2, title="s&#xD800;"))}
    yield "UTF-16 declared over UTF-8 bytes", {"/f": rss(item(1)).replace(b'encoding="utf-8"', b'encoding="utf-16"')}
    yield "invalid UTF-8 and C0 controls", {"/f": rss(item(1, title="bad \xff bytes \x01\x02".encode("latin-1").decode("latin-1")))}
    million = "".join(f"<item><guid>{n}</guid></item>" for n in range(1_000_000))
    yield "1,000,000 items (28 MB), max_body_bytes raised to 64 MiB", {"/f": rss(million)}, \
        "max_body_bytes = 67108864"
    yield "1,000,000 items gzip-compressed (28 MB inflated)", {"/f": ("gzip", gzip.compress(rss(million)))}
    yield "gzip bomb (1 GiB of zeros, 1 MB sent)", {"/f": ("gzip", gzipped_zeros(1 << 30))}
    yield "an endless body", {"/f": ("endless",)}
    yield "a body at 1 byte a second", {"/f": ("drip",)}
    yield "accepts, never answers", {"/f": ("silent",)}
    yield "a redirect loop", {"/f": ("redirect", "/f")}


class Farm(http.server.ThreadingHTTPServer):
    daemon_threads = True


def serve(routes):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            route = routes.get(self.path)
            kind = route[0] if isinstance(route, tuple) else None
            if kind == "redirect":
                self.send_response(302)
                self.send_header("Location", route[1])
                self.end_headers()
                return
            if kind == "silent":
                time.sleep(300)
                return
            if kind in ("endless", "drip"):
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml")
                self.end_headers()
                try:
                    self.wfile.write(rss("")[:60])
                    chunk = b"<item><title>x</title></item>" * 1000
                    started = time.monotonic()
                    while time.monotonic() - started < 300:
                        if kind == "drip":
                            self.wfile.write(b" ")
                            self.wfile.flush()
                            time.sleep(1)
                        else:
                            self.wfile.write(chunk)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                return
            if kind == "gzip":
                body = route[1]
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml")
                self.send_header("Content-Encoding", "gzip")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                return
            if route is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(len(route)))
            self.end_headers()
            try:
                self.wfile.write(route)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def log_message(self, *args):
            pass

    server = Farm(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def healthz(listen, timeout=30):
    """(status or the error, seconds) of one GET /healthz, on a new connection."""
    started = time.monotonic()
    try:
        with socket.create_connection(listen, timeout=timeout) as probe:
            probe.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            answer = probe.recv(64).decode("latin-1")
            status = answer.split(" ")[1] if answer.startswith("HTTP/1.1 ") else "closed unanswered"
    except OSError as error:
        status = type(error).__name__
    return status, time.monotonic() - started


def closed_by_server(connection):
    """Whether the server closed `connection`, asked without waiting."""
    connection.setblocking(False)
    try:
        while True:
            if not connection.recv(512):
                return True
    except BlockingIOError:
        return False
    except OSError:
        return True


def server_attacks(args):
    """The flood rows: each against a fresh daemon under `ulimit -n 1024`."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    floods = [("3,000 idle connections", 3000, 0), ("10,000 idle connections", 10_000, 0),
              ("3,000 idle and 200 slowloris (a header byte a second)", 3000, 200)]
    print("| attack (768 slots) | /healthz | in | oldest 100 of the flood closed | newest 100 still open |")
    print("|---|---|---|---|---|")
    feeds = serve({"/f": rss(item(1))})
    for name, idle_count, slow_count in floods:
        if args.only and not any(o in name for o in args.only):
            continue
        work = Path(tempfile.mkdtemp(prefix="entente-attack-"))
        port = free_port()
        config = work / "feeds.toml"
        config.write_text(f'rules = "{args.rules}"\n[[source]]\nid = "f"\n'
                          f'url = "http://127.0.0.1:{feeds.server_address[1]}/f"\n')
        daemon = subprocess.Popen(
            ["sh", "-c", 'ulimit -n 1024 && exec "$0" "$@"', args.binary, "--config", str(config),
             "run", "--listen", f"127.0.0.1:{port}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "RUST_LOG": "error"})
        flood = []
        try:
            deadline = time.monotonic() + 60
            while healthz(("127.0.0.1", port), 5)[0] != "200":
                if time.monotonic() > deadline:
                    raise SystemExit("the daemon did not start")
                time.sleep(0.2)
            flood = [socket.create_connection(("127.0.0.1", port)) for _ in range(idle_count)]
            for _ in range(slow_count):
                slow = socket.create_connection(("127.0.0.1", port))
                slow.sendall(b"GET /healthz HTTP/1.1\r\nX-A: ")
                flood.append(slow)
            for slow in flood[idle_count:]:
                try:
                    slow.sendall(b"a")
                except OSError:
                    pass
            time.sleep(0.5)
            status, seconds = healthz(("127.0.0.1", port))
            oldest = sum(closed_by_server(c) for c in flood[:100])
            newest = sum(not closed_by_server(c) for c in flood[idle_count - 100:idle_count])
            print(f"| {name} | {status} | {seconds * 1000:.0f} ms | {oldest} | {newest} |", flush=True)
        finally:
            for connection in flood:
                connection.close()
            daemon.terminate()
            daemon.wait(timeout=30)
            shutil.rmtree(work, ignore_errors=True)
    feeds.shutdown()
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("binary")
    parser.add_argument("rules")
    parser.add_argument("--only", nargs="*")
    parser.add_argument("--server", action="store_true",
                        help="floods of connections against `entente run` instead of hostile feeds")
    args = parser.parse_args()
    if args.server:
        server_attacks(args)
        return
    print("| attack | exit | time | status / error | items | longest title | all.rss |")
    print("|---|---|---|---|---|---|---|")
    for name, routes, *limits in attacks():
        if args.only and not any(o in name for o in args.only):
            continue
        server = serve(routes)
        work = Path(tempfile.mkdtemp(prefix="entente-attack-"))
        try:
            config = work / "feeds.toml"
            config.write_text(
                f'rules = "{args.rules}"\n[daemon]\n[daemon.limits]\n{"".join(limits)}\n'
                f'[[source]]\nid = "f"\nurl = "http://127.0.0.1:{server.server_address[1]}/f"\n'
            )
            started = time.monotonic()
            run = subprocess.run(
                [args.binary, "--config", str(config), "fetch"],
                capture_output=True, timeout=900, env={**os.environ, "RUST_LOG": "error"},
            )
            elapsed = time.monotonic() - started
            sources = json.loads(subprocess.run(
                [args.binary, "--config", str(config), "sources", "--json"],
                capture_output=True, check=True).stdout)
            source = sources[0]
            db = sqlite3.connect(work / "data" / "entente.db")
            count, longest = db.execute("SELECT count(*), max(length(title)) FROM items").fetchone()
            stored_error = db.execute("SELECT length(error) FROM sources").fetchone()[0]
            db.close()
            out = work / "out"
            subprocess.run([args.binary, "--config", str(config), "export", "--out", str(out)],
                           capture_output=True, timeout=900)
            size = (out / "feeds" / "all.rss").stat().st_size if (out / "feeds" / "all.rss").exists() else 0
            status = source["status"]
            if source.get("error"):
                error = source["error"][:90].replace("|", "\\|")
                status += f": {error} ({stored_error} chars stored)"
            print(f"| {name} | {run.returncode} | {elapsed:.1f} s | {status} | {count} | {longest or 0} | {size:,} B |")
        finally:
            server.shutdown()
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
