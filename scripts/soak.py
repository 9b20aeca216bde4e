#!/usr/bin/env python3
"""Soak: the daemon against a local farm for many cycles; memory and database size.

Usage: soak.py ENTENTE_BINARY RULES_TOML [--feeds 500] [--items 20] [--cycles 50]
               [--every 20] [--share 0.1] [--keep DIR]

Generates a farm of --feeds feeds with bench/farm.py (deterministic), serves it with
bench/serve.py on 127.0.0.1 (ETag/Last-Modified and 304s, like nginx), and runs one
`entente run` whose sources are fetched every --every seconds (a 6-field cron
schedule). Before each cycle a --share of the feeds gains a new item (farm.py
mutate). After each cycle it prints the daemon's resident memory (VmRSS, VmHWM) and
the size of the database with its WAL, as a table; at the end, whether memory
levelled off (the last third's peak no higher than 10% over the middle third's).
"""

import argparse
import os
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
    fields = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                fields[name] = int(value.split()[0])
    return fields["VmRSS"], fields["VmHWM"]


def database_bytes(database):
    return sum(
        p.stat().st_size
        for p in (database, Path(f"{database}-wal"))
        if p.exists()
    )


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
    config = work / "feeds.toml"
    text = (f'rules = "{args.rules}"\n[daemon]\nschedule = "*/{args.every} * * * * *"\n'
            "[daemon.limits]\nper_host = 16\nconcurrency = 16\n")
    for n in range(args.feeds):
        text += f'[[source]]\nid = "f{n:05d}"\nurl = "http://127.0.0.1:{port}/feeds/f{n:05d}.xml"\n'
    config.write_text(text)
    database = work / "data" / "entente.db"
    log_path = work / "daemon.log"
    log = open(log_path, "w")
    daemon = subprocess.Popen(
        [args.binary, "--config", str(config), "run", "--listen", f"127.0.0.1:{free_port()}"],
        stdout=subprocess.DEVNULL, stderr=log, env={**os.environ, "RUST_LOG": "info"})
    rows = []
    try:
        print(f"soak: {args.feeds} feeds x {args.items} items, a pass every {args.every} s, "
              f"{args.cycles} cycles, {args.share:.0%} of the feeds change per cycle")
        print("| cycle | feeds stored so far | failed fetches | RSS MiB | peak RSS MiB | database MiB |")
        print("|---|---|---|---|---|---|")
        for cycle in range(1, args.cycles + 1):
            if cycle > 1:
                subprocess.run([sys.executable, str(FARM), "mutate", str(farm), "--cycle",
                                str(cycle), "--share", str(args.share)], check=True,
                               stdout=subprocess.DEVNULL)
            time.sleep(args.every)
            if daemon.poll() is not None:
                sys.exit(f"the daemon exited {daemon.returncode}; see {log_path}")
            rss, peak = memory_kib(daemon.pid)
            size = database_bytes(database)
            stored, failed = logged(log_path)
            rows.append((cycle, stored, rss, peak, size))
            print(f"| {cycle} | {stored} | {failed} | {rss / 1024:.1f} | {peak / 1024:.1f} | "
                  f"{size / 2**20:.1f} |", flush=True)
    finally:
        daemon.send_signal(signal.SIGTERM)
        try:
            daemon.wait(timeout=60)
        except subprocess.TimeoutExpired:
            daemon.kill()
        server.terminate()
        log.close()
    if len(rows) >= 6:
        third = len(rows) // 3
        middle = max(r[2] for r in rows[third:2 * third])
        last = max(r[2] for r in rows[2 * third:])
        verdict = "levelled off" if last <= middle * 1.10 else "still growing"
        print(f"memory {verdict}: peak RSS {middle / 1024:.1f} MiB in the middle third, "
              f"{last / 1024:.1f} MiB in the last")
    print(f"daemon exited {daemon.returncode}; log in {log_path}" if args.keep else
          f"daemon exited {daemon.returncode}")


if __name__ == "__main__":
    main()
