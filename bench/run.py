#!/usr/bin/env python3
"""The benchmark: one command, one table.

    python3 bench/run.py            # the issue's sizes: 2,000 feeds x 50 items (minutes)
    python3 bench/run.py --quick    # 400 feeds, fewer cycles: a couple of minutes
    python3 bench/run.py --smoke    # a few feeds: checks that the harness works (the tests run it)

It builds `cargo build --release` (or takes `--bin`), generates a seeded farm
(bench/farm.py), serves it from loopback (nginx when installed, else bench/serve.py),
and measures entente against bench/baseline.py (feedparser + requests + sqlite3, 16
threads) in the same run. Wall time is measured around each process; CPU and peak RSS
come from the kernel's accounting of the finished process (os.wait4, what
/usr/bin/time -v reports). Prints: figure | value | unit | same-run comparison |
target | pass/fail, and writes the table as markdown to --out if given.
"""
import argparse
import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def measured(cmd, **kw):
    """Runs cmd to the end; returns (returncode, stdout, figures)."""
    # Output to files, not pipes: a pipe that nobody reads while we wait would block
    # a command that prints more than its buffer (`sources --json` does).
    with tempfile.TemporaryFile() as out_file, tempfile.TemporaryFile() as err_file:
        start = time.monotonic()
        proc = subprocess.Popen(cmd, stdout=out_file, stderr=err_file, **kw)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.monotonic() - start
        out_file.seek(0)
        err_file.seek(0)
        out = out_file.read().decode(errors="replace")
        err = err_file.read().decode(errors="replace")
    proc.returncode = os.waitstatus_to_exitcode(status)
    figures = {"wall": wall, "user": usage.ru_utime, "sys": usage.ru_stime,
               "cpu": usage.ru_utime + usage.ru_stime, "rss_mb": usage.ru_maxrss / 1024}
    return proc.returncode, out, err, figures


class Farm:
    def __init__(self, root, feeds, items, extra):
        self.root = root
        self.feeds = feeds
        self.extra = extra
        subprocess.check_call([sys.executable, os.path.join(HERE, "farm.py"), "generate", root,
                               "--feeds", str(feeds + extra), "--items", str(items)],
                              stdout=subprocess.DEVNULL)
        self.port = free_port()
        self.server = None
        self.kind = None

    def start(self):
        nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
        if nginx:
            prefix = os.path.join(self.root, "nginx")
            os.makedirs(os.path.join(prefix, "logs"), exist_ok=True)
            conf = os.path.join(prefix, "nginx.conf")
            with open(conf, "w") as f:
                f.write(f"""worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/logs/error.log;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {prefix}/tmp_body; proxy_temp_path {prefix}/tmp_proxy;
  fastcgi_temp_path {prefix}/tmp_fcgi; uwsgi_temp_path {prefix}/tmp_uwsgi; scgi_temp_path {prefix}/tmp_scgi;
  types {{ application/xml xml; application/rss+xml rss; }}
  keepalive_requests 100000;
  server {{ listen 127.0.0.1:{self.port}; root {self.root}; etag on; }}
}}
""")
            self.server = subprocess.Popen([nginx, "-p", prefix, "-c", conf, "-g", "daemon off;"],
                                           stderr=subprocess.DEVNULL)
            self.kind = "nginx"
        else:
            self.server = subprocess.Popen([sys.executable, os.path.join(HERE, "serve.py"),
                                            self.root, str(self.port)])
            self.kind = "serve.py"
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/farm.json", timeout=1)
                return
            except OSError:
                time.sleep(0.1)
        raise SystemExit("the farm server did not start")

    def stop(self):
        if self.server:
            self.server.terminate()
            self.server.wait()

    def url(self, n):
        return f"http://127.0.0.1:{self.port}/feeds/f{n:05d}.xml"

    def path(self, n):
        return os.path.join(self.root, "feeds", f"f{n:05d}.xml")


def config(dir, sources, port, schedule="0 0 1 1 *"):
    """A feeds.toml for entente over the given (id, url, lang) sources."""
    os.makedirs(dir, exist_ok=True)
    shutil.copy(os.path.join(REPO, "rules.toml"), os.path.join(dir, "rules.toml"))
    lines = ['rules = "rules.toml"', "[daemon]", 'database = "entente.db"',
             f'listen = "127.0.0.1:{port}"', f'public_url = "http://127.0.0.1:{port}/"',
             f'schedule = "{schedule}"', "feed_items = 50", "[daemon.limits]",
             "per_host = 16", "concurrency = 16"]
    for id, url, lang in sources:
        lines += ["[[source]]", f'id = "{id}"', f'url = "{url}"', f'lang = "{lang}"']
    path = os.path.join(dir, "feeds.toml")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def lang_of(n):
    return ("en", "fr", "ru")[n % 3]


def count_items(db):
    with sqlite3.connect(db) as c:
        return c.execute("SELECT COUNT(*) FROM items").fetchone()[0]


def db_bytes(db):
    with sqlite3.connect(db) as c:
        c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return sum(os.path.getsize(p) for p in (db, db + "-wal") if os.path.exists(p))


class Table:
    def __init__(self):
        self.rows = []

    def add(self, figure, value, unit, comparison, target, ok):
        verdict = "n/a" if ok is None else ("pass" if ok else "FAIL")
        self.rows.append((figure, value, unit, comparison, target, verdict))

    def render(self):
        head = ("figure", "value", "unit", "same-run comparison", "target", "result")
        rows = [head] + [tuple(str(c) for c in r) for r in self.rows]
        widths = [max(len(r[i]) for r in rows) for i in range(6)]
        line = lambda r: "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |"
        out = [line(rows[0]), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
        out += [line(r) for r in rows[1:]]
        return "\n".join(out)


def run_entente(bin, cfg, *args):
    code, out, err, fig = measured([bin, "--config", cfg, *args])
    if code not in (0, 2):
        raise SystemExit(f"entente {' '.join(args)} failed ({code}):\n{err[-3000:]}")
    return out, fig


def baseline(urls, db, files=False):
    list_path = db + ".urls"
    with open(list_path, "w") as f:
        f.write("\n".join(urls) + "\n")
    cmd = [sys.executable, os.path.join(HERE, "baseline.py"), list_path, db]
    if files:
        cmd.append("--files")
    code, out, err, fig = measured(cmd)
    if code != 0:
        raise SystemExit(f"baseline failed:\n{err[-3000:]}")
    result = json.loads(out.strip().splitlines()[-1])
    fig["items"] = result["items"]
    return fig


def wrk(url, etag=None, seconds=5):
    cmd = ["wrk", "-t2", "-c64", f"-d{seconds}s", url]
    if etag:
        cmd[1:1] = ["-H", f"If-None-Match: {etag}"]
    out = subprocess.run(cmd, capture_output=True, text=True).stdout
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    return float(m.group(1)) if m else 0.0


def wait_http(url, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            return urllib.request.urlopen(url, timeout=2)
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not answer")


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


# What a run writes under --work.
WORK_ENTRIES = ("farm", "pass", "files", "empty", "full", "memory", "export",
                "baseline.db", "baseline.db.urls", "baseline-files.db", "baseline-files.db.urls")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--quick", action="store_true")
    p.add_argument("--smoke", action="store_true")
    p.add_argument("--bin")
    p.add_argument("--work")
    p.add_argument("--out")
    args = p.parse_args()
    if args.smoke:
        feeds, items, extra, cycles, period, file_feeds = 4, 5, 2, 2, 2, 3
    elif args.quick:
        feeds, items, extra, cycles, period, file_feeds = 400, 50, 100, 12, 5, 200
    else:
        feeds, items, extra, cycles, period, file_feeds = 2000, 50, 400, 50, 5, 400
    bin = args.bin
    if not bin:
        subprocess.check_call(["cargo", "build", "--release", "--quiet"], cwd=REPO)
        bin = os.path.join(REPO, "target", "release", "entente")
    work = args.work or tempfile.mkdtemp(prefix="entente-bench-")
    os.makedirs(work, exist_ok=True)
    # A reused --work starts without the previous run's results: its database would make
    # the first pass a second one, and its -wal beside a copied database corrupts it.
    # Only what this script writes there is removed.
    for name in WORK_ENTRIES:
        path = os.path.join(work, name)
        if os.path.isdir(path):
            shutil.rmtree(path)
        elif os.path.exists(path):
            os.remove(path)
    table = Table()
    farm = Farm(os.path.join(work, "farm"), feeds, items, extra)
    farm.start()
    try:
        measure(table, bin, work, farm, feeds, items, extra, cycles, period, file_feeds, args)
    finally:
        farm.stop()
    text = table.render()
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")
    if not args.work:
        shutil.rmtree(work, ignore_errors=True)


def measure(table, bin, work, farm, feeds, items, extra, cycles, period, file_feeds, args):
    n = f"{feeds:,}"
    # 1. The first pass over the farm, and the all-304 pass.
    cfg = config(os.path.join(work, "pass"), [(f"f{i:05d}", farm.url(i), lang_of(i)) for i in range(feeds)], free_port())
    db = os.path.join(work, "pass", "entente.db")
    _, first = run_entente(bin, cfg, "fetch")
    stored = count_items(db)
    py = baseline([farm.url(i) for i in range(feeds)], os.path.join(work, "baseline.db"))
    ips, py_ips = stored / first["wall"], py["items"] / py["wall"]
    cmp = f"python {py['wall']:.1f} s, {py_ips:,.0f} items/s, {py['rss_mb']:.0f} MB"
    table.add(f"first pass, {n} feeds: wall", f"{first['wall']:.2f}", "s", cmp, "≤ 10", first["wall"] <= 10)
    table.add(f"first pass: items/s ({stored:,} items)", f"{ips:,.0f}", "items/s",
              f"{ips / py_ips:.1f}× python", "≥ 9× python", ips >= 9 * py_ips)
    table.add("first pass: CPU (user + sys)", f"{first['cpu']:.2f}", "s",
              f"python {py['cpu']:.1f} s", "", None)
    table.add("first pass: peak RSS", f"{first['rss_mb']:.1f}", "MB", f"python {py['rss_mb']:.0f} MB", "≤ 40", first["rss_mb"] <= 40)
    _, again = run_entente(bin, cfg, "fetch")
    py2 = baseline([farm.url(i) for i in range(feeds)], os.path.join(work, "baseline.db"))
    table.add(f"all-304 pass, {n} feeds: wall", f"{again['wall']:.2f}", "s", f"python {py2['wall']:.2f} s", "≤ 2", again["wall"] <= 2)
    share = 100 * again["cpu"] / max(first["cpu"], 1e-9)
    table.add("all-304 pass: CPU share of the first pass", f"{share:.1f}", "%", f"{again['cpu']:.2f} s of {first['cpu']:.2f} s", "≤ 5", share <= 5)
    size = db_bytes(db)
    table.add("database size per stored item", f"{size / max(stored, 1):,.0f}", "bytes",
              f"{size / 1e6:.1f} MB for {stored:,} items", "≤ 2,500", size / max(stored, 1) <= 2500)

    # 2. From disk: file: sources.
    fcfg = config(os.path.join(work, "files"), [(f"f{i:05d}", "file:" + farm.path(i), lang_of(i)) for i in range(file_feeds)], free_port())
    _, files = run_entente(bin, fcfg, "fetch")
    fstored = count_items(os.path.join(work, "files", "entente.db"))
    pyf = baseline([farm.path(i) for i in range(file_feeds)], os.path.join(work, "baseline-files.db"), files=True)
    fips, pyf_ips = fstored / files["wall"], pyf["items"] / pyf["wall"]
    table.add(f"file: sources, {file_feeds} feeds: items/s", f"{fips:,.0f}", "items/s", f"{fips / pyf_ips:.1f}× python ({pyf_ips:,.0f})", "≥ 30,000 and ≥ 30×", fips >= 30000 and fips >= 30 * pyf_ips)
    table.add("file: sources: peak RSS", f"{files['rss_mb']:.1f}", "MB", f"python {pyf['rss_mb']:.0f} MB", "≤ 40", files["rss_mb"] <= 40)

    # 3. History: the same new feeds into an empty database and into the full one.
    new = [(f"f{i:05d}", farm.url(i), lang_of(i)) for i in range(feeds, feeds + extra)]
    ecfg = config(os.path.join(work, "empty"), new, free_port())
    _, empty = run_entente(bin, ecfg, "fetch")
    full_dir = os.path.join(work, "full")
    fullcfg = config(full_dir, new, free_port())
    for suffix in ("-wal", "-shm"):
        if os.path.exists(os.path.join(full_dir, "entente.db" + suffix)):
            os.remove(os.path.join(full_dir, "entente.db" + suffix))
    shutil.copy(db, os.path.join(full_dir, "entente.db"))
    _, full = run_entente(bin, fullcfg, "fetch")
    ratio = full["cpu"] / max(empty["cpu"], 1e-9)
    table.add(f"history: {extra} new feeds into {stored:,} items vs empty: CPU", f"{ratio:.2f}", "×",
              f"{full['cpu']:.2f} s vs {empty['cpu']:.2f} s", "≤ 1.3", ratio <= 1.3)

    # 4. Operator commands over the full database.
    _, retag = run_entente(bin, cfg, "retag")
    table.add(f"retag of {stored:,} items", f"{retag['wall']:.2f}", "s", "", "≤ 5", retag["wall"] <= 5)
    _, export = run_entente(bin, cfg, "export", "--out", os.path.join(work, "export"))
    table.add(f"export of the {stored:,}-item database", f"{export['wall']:.2f}", "s", "", "≤ 2", export["wall"] <= 2)
    _, sources = run_entente(bin, cfg, "sources", "--json")
    table.add(f"sources --json, {n} sources", f"{sources['wall']:.2f}", "s", "", "", None)
    probe = sqlite3.connect(db).execute("SELECT key FROM items WHERE relevant = 1 LIMIT 1").fetchone()
    if probe:
        _, explain = run_entente(bin, cfg, "explain", probe[0])
        table.add("explain one item", f"{explain['wall']:.3f}", "s", "", "", None)

    # 5. Serving /feeds/all.rss against nginx on the same bytes.
    serve_port = int(re.search(r"127\.0\.0\.1:(\d+)", open(cfg).read()).group(1))
    daemon = subprocess.Popen([bin, "--config", cfg, "run"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{serve_port}/feeds/all.rss"
        response = wait_http(url)
        body, etag = response.read(), response.headers["ETag"]
        with open(os.path.join(farm.root, "all.rss"), "wb") as f:
            f.write(body)
        if shutil.which("wrk") and not args.smoke:
            nginx_url = f"http://127.0.0.1:{farm.port}/all.rss"
            nginx_etag = urllib.request.urlopen(nginx_url).headers["ETag"]
            ours, theirs = wrk(url), wrk(nginx_url)
            table.add(f"serve /feeds/all.rss ({len(body) // 1024} KB) 200s", f"{ours:,.0f}", "req/s",
                      f"{ours / theirs:.2f}× {farm.kind} ({theirs:,.0f})", "≥ 0.8×", ours >= 0.8 * theirs)
            ours, theirs = wrk(url, etag), wrk(nginx_url, nginx_etag)
            table.add("serve /feeds/all.rss 304s", f"{ours:,.0f}", "req/s",
                      f"{ours / theirs:.2f}× {farm.kind} ({theirs:,.0f})", "≥ 0.8×", ours >= 0.8 * theirs)
        else:
            table.add("serve /feeds/all.rss", f"{len(body)}", "bytes", "wrk not installed" if not args.smoke else "smoke: no wrk", "", None)
    finally:
        daemon.terminate()
        daemon.wait()

    # 6. Memory over daemon cycles: some feeds change every cycle.
    mem_feeds = min(500, feeds)
    mdir = os.path.join(work, "memory")
    mcfg = config(mdir, [(f"f{i:05d}", farm.url(i), lang_of(i)) for i in range(mem_feeds)], free_port(),
                  schedule=f"*/{period} * * * * *")
    daemon = subprocess.Popen([bin, "--config", mcfg, "run"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    samples = []
    try:
        time.sleep(period * 2)
        for cycle in range(1, cycles + 1):
            subprocess.check_call([sys.executable, os.path.join(HERE, "farm.py"), "mutate", farm.root,
                                   "--cycle", str(cycle), "--share", "0.1"], stdout=subprocess.DEVNULL)
            time.sleep(period * 2)
            samples.append(rss_kb(daemon.pid) / 1024)
    finally:
        daemon.terminate()
        daemon.wait()
    early = samples[min(4, len(samples) - 1)]
    last = samples[-1]
    growth = 100 * (last - early) / max(early, 1e-9)
    table.add(f"daemon RSS after cycle {cycles} vs cycle {min(5, cycles)} ({mem_feeds} feeds)", f"{last:.1f}", "MB",
              f"cycle {min(5, cycles)}: {early:.1f} MB ({growth:+.1f} %)", "within 10 %", abs(growth) <= 10)


if __name__ == "__main__":
    main()
