"""Fetch workers against one PostgreSQL: items stored per second by 1, 2, 4... `aggregator
worker` processes, beside one `aggregator fetch --all` on SQLite (and on PostgreSQL).

    python benchmarks/run.py --workers-pg 1,2,4                 # 2,000 feeds x 50 items
    python benchmarks/run.py --workers-pg 1,2 --pg-feeds 200    # a quick look
    python benchmarks/run.py --workers-pg 1,2,4 --pg-run        # and one fetch --all on PostgreSQL
    python benchmarks/run.py --workers-pg 1,2,4 --pg-url postgresql://me@dbhost/postgres

Every figure is a cold store filled from the same corpus (benchmarks/corpus.py, served by
benchmarks/feedserver.py over 50 loopback addresses).  The PostgreSQL server is a throw-away
cluster on this machine (tests/pgcluster.py: initdb + pg_ctl, then made durable again:
fsync, full_page_writes and synchronous_commit on, as a production server runs), or the
server ``--pg-url`` names (a new database per measurement is created there and dropped).
Workers run until every source was fetched once; the wall time runs from starting them to
that moment.  CPU seconds: the workers' own (wait4), and the PostgreSQL server's processes
over the same span.  The load average is printed with each figure: the machine may be
shared.  Results: a table and a closing note on stdout, and
benchmarks/_work/results-workers-pg.json.  Nothing here asserts a timing.

Stdlib only (psql, from the PostgreSQL installation, talks to the server).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import run as bench

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
WORKER_CONCURRENCY = 8  # `aggregator worker --concurrency`: fetches in flight per process
TIMEOUT = 3600.0


@dataclass
class Figure:
    setup: str  # "SQLite, fetch --all", "PostgreSQL, 2 workers"...
    processes: int  # aggregator processes fetching (a run's parse pool counted apart)
    wall_seconds: float
    items: int  # stored at the end
    feeds: int
    cpu_seconds: float  # the aggregator processes' own
    server_cpu_seconds: float | None = None  # PostgreSQL's processes
    commits: int | None = None  # the workers' PostgreSQL transactions (reads included)
    rows_written: int | None = None  # inserted + updated rows
    load_before: float = 0.0  # 1-minute load average as it started
    load_after: float = 0.0

    @property
    def items_per_second(self) -> float:
        return self.items / self.wall_seconds if self.wall_seconds else 0.0


# --- the PostgreSQL server -----------------------------------------------------------------


class Server:
    """Where the databases go: a throw-away cluster, or the server at ``url``."""

    def __init__(self, url: str | None) -> None:
        self.cluster = None
        if url is None:
            sys.path.insert(0, str(REPO / "tests"))
            from pgcluster import PostgresCluster

            bin_dir, _, why = PostgresCluster.binaries()
            if bin_dir is None:
                raise SystemExit(f"--workers-pg needs PostgreSQL: {why} (or pass --pg-url)")
            print("starting a throw-away PostgreSQL cluster ...", file=sys.stderr)
            self.cluster = PostgresCluster.start()
            self.admin_url = self.cluster.url("postgres")
            self.psql_path = str(bin_dir / "psql")
            self._restart_durable()
        else:
            self.admin_url = url
            self.psql_path = shutil.which("psql") or ""
            if not self.psql_path:
                raise SystemExit("--pg-url needs psql on PATH (apt-get install postgresql-client)")
        self.made: list[str] = []

    def _restart_durable(self) -> None:
        """The test cluster runs without fsync; a benchmark of writes must not: restart it
        with the defaults (fsync, full_page_writes, synchronous_commit on)."""
        cluster = self.cluster
        options = (
            f"-p {cluster.port} -k {cluster.dir} -c listen_addresses=127.0.0.1 "
            "-c max_connections=200"
        )
        command = [str(cluster.bin_dir / "pg_ctl"), "-D", str(cluster.dir / "data"), "-o", options,
                   "-l", str(cluster.dir / "server.log"), "-w", "-t", "60", "restart"]  # fmt: skip
        if cluster.run_as:
            command = ["runuser", "-u", cluster.run_as, "--", *command]
        subprocess.run(command, capture_output=True, check=True, timeout=120)
        settings = self.sql(
            "SELECT current_setting('fsync'), current_setting('synchronous_commit')"
        )
        if settings != [["on", "on"]]:
            raise SystemExit(f"the benchmark's PostgreSQL is not durable: {settings}")

    def sql(self, query: str, url: str | None = None) -> list[list[str]]:
        done = subprocess.run(
            [self.psql_path, "-X", "-q", "-t", "-A", "-F", "\t", "-v", "ON_ERROR_STOP=1",
             "-d", url or self.admin_url, "-c", query],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        if done.returncode != 0:
            raise SystemExit(f"psql failed on {query!r}: {done.stderr.strip()}")
        return [line.split("\t") for line in done.stdout.splitlines() if line]

    def new_database(self, name: str) -> str:
        self.sql(f"DROP DATABASE IF EXISTS {name}")
        self.sql(f"CREATE DATABASE {name}")
        self.made.append(name)
        base, _, _ = self.admin_url.rpartition("/")
        return f"{base}/{name}"

    def cpu_seconds(self) -> float:
        """CPU time of the server's processes so far (the postmaster's reaped children
        included); only for a cluster on this machine."""
        if self.cluster is None:
            return 0.0
        pid_file = self.cluster.dir / "data" / "postmaster.pid"
        postmaster = int(pid_file.read_text().split()[0])
        tick = os.sysconf("SC_CLK_TCK")
        total = 0
        for pid in [postmaster, *_descendants(postmaster)]:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])  # utime, stime
            if pid == postmaster:
                total += int(fields[13]) + int(fields[14])  # reaped children
        return total / tick

    def activity(self, url: str) -> tuple[int, int]:
        """(transactions committed, rows inserted + updated) in the database so far."""
        rows = self.sql(
            "SELECT xact_commit, tup_inserted + tup_updated FROM pg_stat_database "
            "WHERE datname = current_database()",
            url,
        )
        return int(rows[0][0]), int(rows[0][1])

    def close(self) -> None:
        if self.cluster is not None:
            self.cluster.stop()
        else:
            for name in self.made:
                self.sql(f"DROP DATABASE IF EXISTS {name}")


def _descendants(root: int) -> list[int]:
    children = bench.children_map()
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


# --- the measurements ----------------------------------------------------------------------


def one_run(
    exe: Path, config: Path, db: str, feeds: int, setup: str, count: Callable[[], int]
) -> Figure:
    """`aggregator fetch --all`: one process (and its parse pool) fetches every feed."""
    load = os.getloadavg()[0]
    m = bench.measure([str(exe), "--config", str(config), "--db", db, "fetch", "--all"])
    bench._check(m, setup)
    items = count()
    return Figure(setup, 1, m.wall_seconds, items, feeds, m.cpu_seconds, load_before=load,
                  load_after=os.getloadavg()[0])  # fmt: skip


def _count_items(exe: Path, config: Path, db: str) -> int:
    python = exe.parent / "python"
    done = subprocess.run(
        [str(python), str(BENCH / "storetool.py"), "count", "--config", str(config), "--db", db],
        capture_output=True, text=True,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"counting the store {db} failed: {done.stderr[-1000:]}")
    return int(bench._last_json(done.stdout)["items"])


def workers_run(
    exe: Path, config: Path, server: Server, url: str, feeds: int, processes: int
) -> Figure:
    """``processes`` `aggregator worker`s on one store until every source was fetched."""
    # The schema first, as a deployment has it before its workers start.
    subprocess.run([str(exe), "--config", str(config), "--db", url, "-q", "status"],
                   capture_output=True, check=True)  # fmt: skip
    load = os.getloadavg()[0]
    commits0, rows0 = server.activity(url)
    cpu0 = server.cpu_seconds()
    started = time.monotonic()
    polls = 1  # our own queries, not the workers' transactions (activity() is one)
    workers = [
        subprocess.Popen(
            [
                str(exe),
                "--config",
                str(config),
                "--db",
                url,
                "-q",
                "worker",
                "--concurrency",
                str(WORKER_CONCURRENCY),
                "--poll",
                "0.5",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )  # fmt: skip
        for _ in range(processes)
    ]
    try:
        while True:
            fetched = int(
                server.sql("SELECT count(*) FROM sources WHERE last_attempt IS NOT NULL", url)[0][0]
            )
            if fetched >= feeds:
                break
            for worker in workers:
                if worker.poll() is not None:
                    raise SystemExit(
                        f"a worker exited ({worker.returncode}): {worker.stderr.read().decode()}"
                    )
            if time.monotonic() - started > TIMEOUT:
                raise SystemExit(f"{processes} workers fetched {fetched} of {feeds} in {TIMEOUT} s")
            polls += 1
            time.sleep(0.2)
        wall = time.monotonic() - started
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
    cpu = 0.0
    for worker in workers:
        _, status, usage = os.wait4(worker.pid, 0)
        worker.returncode = os.waitstatus_to_exitcode(status)
        cpu += usage.ru_utime + usage.ru_stime
        if worker.returncode != 0:
            raise SystemExit(f"a worker failed to stop: {worker.stderr.read().decode()[-2000:]}")
    time.sleep(1.0)  # the server's statistics arrive a moment after the sessions end
    commits, rows = server.activity(url)
    items = int(server.sql("SELECT count(*) FROM items", url)[0][0])
    return Figure(
        f"PostgreSQL, {processes} worker{'s' if processes > 1 else ''}",
        processes,
        wall,
        items,
        feeds,
        cpu,
        server_cpu_seconds=server.cpu_seconds() - cpu0,
        commits=commits - commits0 - polls - 1,
        rows_written=rows - rows0,
        load_before=load,
        load_after=os.getloadavg()[0],
    )


def store_copy(exe: Path, config: Path, source: str, target: str, label: str) -> dict:
    """`aggregator store copy` of a filled store: its time and peak memory."""
    m = bench.measure([str(exe), "--config", str(config), "--db", source, "store", "copy",
                       "--to", target])  # fmt: skip
    bench._check(m, f"store copy {label}")
    return {"copy": label, "wall_seconds": m.wall_seconds, "peak_rss_mb": m.peak_rss_mb,
            "output": m.stdout.strip().splitlines()[-1]}  # fmt: skip


# --- the report ----------------------------------------------------------------------------


def table(figures: list[Figure]) -> str:
    lines = [
        "| setup | wall s | items | items/s | feeds/s | aggregator CPU s | PostgreSQL CPU s "
        "| transactions | rows written | load (1 min) before/after |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for f in figures:
        lines.append(
            f"| {f.setup} | {f.wall_seconds:.1f} | {f.items:,} | {f.items_per_second:,.0f} "
            f"| {f.feeds / f.wall_seconds:.1f} | {f.cpu_seconds:.1f} "
            f"| {'' if f.server_cpu_seconds is None else f'{f.server_cpu_seconds:.1f}'} "
            f"| {'' if f.commits is None else f'{f.commits:,}'} "
            f"| {'' if f.rows_written is None else f'{f.rows_written:,}'} "
            f"| {f.load_before:.1f} / {f.load_after:.1f} |"
        )
    return "\n".join(lines)


def closing_note(figures: list[Figure], feed_bytes: int, cores: int) -> str:
    """What the figures say about scaling, and what 4 hosts would be bound by."""
    workers = [f for f in figures if f.setup.startswith("PostgreSQL,") and "worker" in f.setup]
    sqlite = next((f for f in figures if f.setup.startswith("SQLite")), None)
    if not workers:
        return ""
    one = workers[0]
    lines = ["Scaling:"]
    for f in workers:
        speedup = f.items_per_second / one.items_per_second
        lines.append(
            f"- {f.processes} worker(s): {f.items_per_second:,.0f} items/s, {speedup:.2f}x the "
            f"rate of {one.processes} ({f.processes / one.processes:.0f}x with a core each); "
            f"{f.cpu_seconds / f.feeds * 1000:.0f} ms of worker CPU per feed"
            + (
                f", {f.server_cpu_seconds / f.feeds * 1000:.0f} ms of PostgreSQL CPU per feed"
                if f.server_cpu_seconds
                else ""
            )
        )
    if sqlite is not None:
        lines.append(
            f"- SQLite, one `fetch --all` (its parse pool uses every core): "
            f"{sqlite.items_per_second:,.0f} items/s"
        )
    # Costs per feed from the fewest workers: the least contention for the cores.
    worker_cpu = one.cpu_seconds / one.feeds  # seconds of CPU per feed, in the workers
    server_cpu = (one.server_cpu_seconds or 0) / one.feeds
    per_item_rows = (one.rows_written or 0) / max(one.items, 1)
    per_feed_commits = (one.commits or 0) / one.feeds
    wall = one.wall_seconds / one.feeds
    last = workers[-1]
    busy = (last.cpu_seconds + (last.server_cpu_seconds or 0)) / last.wall_seconds
    lines += [
        "",
        f"One worker takes {wall * 1000:.0f} ms of wall time per feed for {worker_cpu * 1000:.0f}"
        f" ms of its own CPU and {server_cpu * 1000:.0f} ms of the server's: its store calls "
        "run in its event loop, so it waits for each transaction (the server's work, then "
        "the commit) before it parses the next feed. A second worker fills those waits.",
        f"With {last.processes} workers the workers and the server kept {busy:.1f} of this "
        f"machine's {cores} cores busy, beside the feed server and whatever else ran (the load "
        "column): past as many workers as cores, workers only take CPU from each other, so "
        "the rate levels off where the cores are used up, not where PostgreSQL is.",
        "SQLite's one process is faster here: its writes cost no round trips and no server, "
        "and in WAL mode with synchronous=NORMAL a commit is not flushed to disk, where "
        "PostgreSQL (synchronous_commit on) flushes each one.",
        "",
        "On paper, 4 hosts of the same kind running workers against one PostgreSQL host:",
        f"- CPU per feed: {worker_cpu * 1000:.0f} ms of worker CPU per 50-item feed (parsing, "
        f"deciding, sending): one core does {1 / worker_cpu if worker_cpu else 0:.1f} cold "
        f"feeds/s, 4 hosts x {cores} cores about {4 * cores / worker_cpu if worker_cpu else 0:,.0f}"
        f" feeds/s ({4 * cores * 50 / worker_cpu if worker_cpu else 0:,.0f} items/s).",
        f"- PostgreSQL writes: {per_item_rows:.1f} rows written per stored item and "
        f"{per_feed_commits:.1f} transactions per feed (leases and reads included), costing {server_cpu * 1000:.0f} ms of server "
        f"CPU per feed: one server core keeps up with about "
        f"{1 / server_cpu if server_cpu else 0:.0f} feeds/s, so the database host needs "
        f"about {(4 * cores / worker_cpu) * server_cpu if worker_cpu else 0:.1f} cores to "
        "follow 4 worker hosts, and its disk one fsync per commit (group commit shares them).",
        f"- Network: {feed_bytes / 1e3:.0f} KB per feed fetched, and about as much again "
        "sent to PostgreSQL (the items' text): at the 4-host rate above about "
        f"{(4 * cores / worker_cpu) * feed_bytes * 2 * 8 / 1e6 if worker_cpu else 0:,.0f} Mbit/s "
        "into the database host: a 1 Gbit/s link is not the bound.",
        "- Warm periods cost far less: a 304 or an unchanged body is not parsed and writes one "
        "row, so the steady state is bound by the feeds' publishing rate, not by any of these.",
    ]
    return "\n".join(lines)


def run_workers_pg(args) -> dict:
    exe = bench.find_ours()
    if exe is None:
        raise SystemExit("aggregator's CLI is not installed: make test installs it")
    try:
        counts = sorted({int(n) for n in args.workers_pg.split(",") if n.strip()})
    except ValueError:
        raise SystemExit(
            f"--workers-pg takes numbers separated by commas, not {args.workers_pg!r}"
        ) from None
    feeds = args.pg_feeds
    corpus_dir, manifest = bench.ensure_corpus(feeds)
    workdir = bench.WORK / f"workers-pg-{feeds}"
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    feed_bytes = sum(f.bytes for f in manifest.feeds) // max(len(manifest.feeds), 1)
    figures: list[Figure] = []
    server = Server(args.pg_url)
    try:
        with bench.FeedServer(corpus_dir) as feed_server:
            config = workdir / "feeds.yaml"
            bench.write_config(config, manifest, feed_server.url)
            print("SQLite, one fetch --all ...", file=sys.stderr)
            db = str(workdir / "aggregator.sqlite")
            figures.append(
                one_run(exe, config, db, feeds, "SQLite, fetch --all",
                        lambda: _count_items(exe, config, db))
            )  # fmt: skip
            if args.pg_run:
                print("PostgreSQL, one fetch --all ...", file=sys.stderr)
                url = server.new_database("bench_run")
                figures.append(
                    one_run(exe, config, url, feeds, "PostgreSQL, fetch --all",
                            lambda: int(server.sql("SELECT count(*) FROM items", url)[0][0]))
                )  # fmt: skip
            for n in counts:
                print(f"PostgreSQL, {n} workers ...", file=sys.stderr)
                url = server.new_database(f"bench_workers_{n}")
                figures.append(workers_run(exe, config, server, url, feeds, n))
            print("store copy, both ways ...", file=sys.stderr)
            copies = [
                store_copy(exe, config, url, str(workdir / "copied.sqlite"), "PostgreSQL -> SQLite"),
                store_copy(exe, config, str(workdir / "copied.sqlite"),
                           server.new_database("bench_copied"), "SQLite -> PostgreSQL"),
            ]  # fmt: skip
    finally:
        server.close()
    cores = os.cpu_count() or 1
    note = closing_note(figures, feed_bytes, cores)
    report = {
        "feeds": feeds,
        "items_per_feed": 50,
        "worker_concurrency": WORKER_CONCURRENCY,
        "figures": [{**asdict(f), "items_per_second": f.items_per_second} for f in figures],
        "note": note,
        "store_copy": copies,
        "machine": bench.machine(),
        "command": " ".join(sys.argv),
    }
    (bench.WORK / "results-workers-pg.json").write_text(
        json.dumps(report, ensure_ascii=False, indent=1)
    )
    print(
        f"\n{feeds:,} feeds x 50 items, cold stores ({report['machine']['date']}, {cores} cores)\n"
    )
    print(table(figures))
    print()
    for c in copies:
        print(
            f"store copy {c['copy']}: {c['wall_seconds']:.1f} s, peak RSS {c['peak_rss_mb']:.0f} MB"
        )
    print()
    print(note)
    return report
