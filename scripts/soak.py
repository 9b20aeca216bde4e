#!/usr/bin/env python3
"""Soak: the daemon against a local farm for many cycles; memory and database size.

Usage: soak.py ENTENTE_BINARY RULES_TOML [--feeds 500] [--items 20] [--cycles 50]
               [--every 20] [--share 0.1] [--keep DIR] [--no-readers]

Generates a farm of --feeds feeds with bench/farm.py (deterministic), serves it with
bench/serve.py on 127.0.0.1 (ETag/Last-Modified and 304s, like nginx), and runs one
`entente run` whose sources are fetched every --every seconds (a 6-field cron
schedule). Before each cycle a --share of the feeds gains a new item (farm.py
mutate). Readers poll the server as feed readers and browsers do: each cycle every
published feed and page the front page links, with brotli and again with the last
ETag (a 304), the front page and the `all` feeds also plain and gzip, so that
rendering, compression and the catalog's cache are soaked too; a pass and a round of
readers run side by side, a cycle lasting --every seconds or the readers' round. After each cycle it prints the daemon's resident memory (VmRSS, VmHWM) and
the size of the database with its WAL, and its thread count, as a table; at the end,
whether memory levelled off: the last cycle's RSS within 10% of cycle 5's, and no
steady rise over the last 20 cycles (a least-squares slope that would add less than
2% of their mean RSS over those 20 cycles). Exits 1 when it did not level off.
"""

import argparse
import os
import re
import urllib.error
import urllib.request
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
FARM = HERE.parent / "bench" / "farm.py"
SERVE = HERE.parent / "bench" / "serve.py"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def memory_kib(pid):
    """VmRSS and VmHWM in KiB, and the number of threads, of process `pid`."""
    fields = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM", "Threads"):
                fields[name] = int(value.split()[0])
    return fields["VmRSS"], fields["VmHWM"], fields["Threads"]


def slope(values):
    """The least-squares slope of `values` over their index: growth per cycle."""
    n = len(values)
    mean_x, mean_y = (n - 1) / 2, sum(values) / n
    num = sum((x - mean_x) * (y - mean_y) for x, y in enumerate(values))
    den = sum((x - mean_x) ** 2 for x in range(n))
    return num / den


def levelled_off(rss):
    """(verdict, explanation) for the RSS of each cycle, in KiB; None when too few."""
    if len(rss) < 25:
        return None
    last20 = rss[-20:]
    rise = slope(last20) * 20
    mean = sum(last20) / 20
    fifth = rss[4]
    within = rss[-1] <= fifth * 1.10
    flat = rise < mean * 0.02
    explanation = (f"cycle {len(rss)} {rss[-1] / 1024:.1f} MiB against cycle 5's "
                   f"{fifth / 1024:.1f} MiB ({(rss[-1] / fifth - 1):+.1%}); over the last 20 "
                   f"cycles {slope(last20) / 1024:+.3f} MiB a cycle, {rise / 1024:+.1f} MiB "
                   f"in all ({rise / mean:+.1%} of their mean)")
    return within and flat, explanation


def database_bytes(database):
    return sum(
        p.stat().st_size
        for p in (database, Path(f"{database}-wal"))
        if p.exists()
    )


def poll_readers(base, etags):
    """One round of readers over every feed and page the front page links; returns
    (requests, answers other than 200/304). `etags` carries each URL's last ETag."""
    requests = failures = 0

    def get(path, headers):
        nonlocal requests, failures
        requests += 1
        request = urllib.request.Request(base + path, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=60) as answer:
                answer.read()
                return answer.status, answer.headers.get("ETag")
        except urllib.error.HTTPError as error:
            if error.code != 304:
                failures += 1
            return error.code, None
        except OSError:
            failures += 1
            return None, None

    with urllib.request.urlopen(base + "/", timeout=60) as front:
        page = front.read().decode("utf-8", "replace")
    paths = sorted(set(re.findall(r'href="(?:https?://[^/"]+)?(/(?:feeds|topics)/[^"#?]+)"', page)))
    for path in ["/", "/feeds.opml", "/search?q=Astana"] + paths:
        if path == "/" or path.startswith("/feeds/all."):
            get(path, {})
            get(path, {"Accept-Encoding": "gzip"})
        status, etag = get(path, {"Accept-Encoding": "br"})
        if etag:
            etags[path] = etag
        if path in etags:
            get(path, {"Accept-Encoding": "br", "If-None-Match": etags[path]})
    return requests, failures


def logged(log_path):
    """How many feeds the daemon has stored, and fetches that failed (its info lines)."""
    stored = failed = 0
    with open(log_path, errors="replace") as log:
        for line in log:
            stored += "Feed stored." in line
            failed += "Fetch failed." in line
    return stored, failed


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("binary")
    parser.add_argument("rules")
    parser.add_argument("--feeds", type=int, default=500)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--cycles", type=int, default=50)
    parser.add_argument("--every", type=int, default=20, help="seconds between passes")
    parser.add_argument("--share", type=float, default=0.1)
    parser.add_argument("--keep", help="work here instead of a temporary folder")
    parser.add_argument("--no-readers", action="store_true",
                        help="do not poll the server's feeds and pages")
    args = parser.parse_args()
    if 60 % args.every:
        sys.exit("--every must divide 60 (a cron seconds step)")

    work = Path(args.keep or tempfile.mkdtemp(prefix="entente-soak-"))
    farm = work / "farm"
    subprocess.run([sys.executable, str(FARM), "generate", str(farm), "--feeds",
                    str(args.feeds), "--items", str(args.items)], check=True,
                   stdout=subprocess.DEVNULL)
    port = free_port()
    server = subprocess.Popen([sys.executable, str(SERVE), str(farm), str(port)])
    # The daemon's first pass starts at once: the farm must be listening by then.
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                sys.exit("the farm's server did not start")
            time.sleep(0.1)
    config = work / "feeds.toml"
    text = (f'rules = "{args.rules}"\n[daemon]\nschedule = "*/{args.every} * * * * *"\n'
            "[daemon.limits]\nper_host = 16\nconcurrency = 16\n")
    for n in range(args.feeds):
        text += f'[[source]]\nid = "f{n:05d}"\nurl = "http://127.0.0.1:{port}/feeds/f{n:05d}.xml"\n'
    config.write_text(text)
    database = work / "data" / "entente.db"
    log_path = work / "daemon.log"
    log = open(log_path, "w")
    listen = f"127.0.0.1:{free_port()}"
    daemon = subprocess.Popen(
        [args.binary, "--config", str(config), "run", "--listen", listen],
        stdout=subprocess.DEVNULL, stderr=log, env={**os.environ, "RUST_LOG": "info"})
    rows = []
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://{listen}/healthz", timeout=5).close()
                break
            except (OSError, urllib.error.HTTPError):
                if time.monotonic() > deadline or daemon.poll() is not None:
                    sys.exit(f"the daemon did not start; see {log_path}")
                time.sleep(0.2)
        print(f"soak: {args.feeds} feeds x {args.items} items, a pass every {args.every} s, "
              f"{args.cycles} cycles, {args.share:.0%} of the feeds change per cycle")
        print("| cycle | feeds stored so far | failed fetches | reader requests | failed | RSS MiB | peak RSS MiB | database MiB | threads |")
        print("|---|---|---|---|---|---|---|---|---|")
        etags = {}
        asked = refused = 0
        for cycle in range(1, args.cycles + 1):
            if cycle > 1:
                subprocess.run([sys.executable, str(FARM), "mutate", str(farm), "--cycle",
                                str(cycle), "--share", str(args.share)], check=True,
                               stdout=subprocess.DEVNULL)
            started = time.monotonic()
            if not args.no_readers:
                try:
                    requests, failures = poll_readers(f"http://{listen}", etags)
                except OSError:
                    requests, failures = 0, 1
                asked += requests
                refused += failures
            time.sleep(max(0.0, args.every - (time.monotonic() - started)))
            if daemon.poll() is not None:
                sys.exit(f"the daemon exited {daemon.returncode}; see {log_path}")
            rss, peak, threads = memory_kib(daemon.pid)
            size = database_bytes(database)
            stored, failed = logged(log_path)
            rows.append((cycle, stored, rss, peak, size))
            print(f"| {cycle} | {stored} | {failed} | {asked} | {refused} | {rss / 1024:.1f} | {peak / 1024:.1f} | "
                  f"{size / 2**20:.1f} | {threads} |", flush=True)
    finally:
        daemon.send_signal(signal.SIGTERM)
        try:
            daemon.wait(timeout=60)
        except subprocess.TimeoutExpired:
            daemon.kill()
        server.terminate()
        log.close()
    verdict = levelled_off([r[2] for r in rows])
    if verdict is None:
        print("too few cycles (25 or more) to say whether memory levelled off")
    else:
        flat, explanation = verdict
        print(f"memory {'levelled off' if flat else 'still growing'}: {explanation}")
    print(f"daemon exited {daemon.returncode}; log in {log_path}" if args.keep else
          f"daemon exited {daemon.returncode}")
    if verdict is not None and not verdict[0]:
        sys.exit(1)


if __name__ == "__main__":
    main()
