"""What upgrading a store from schema step 12 costs, with many articles stored twice.

    .venv/bin/python benchmarks/store_upgrade.py [--twice 100000] [--once 0] [--rounds 3] [--from-step 12|14]
        [--base DIR] [--postgres-only | --sqlite-only]

Builds, once per backend, a store as the versions before 298679f left it (schema 12):
``--twice`` articles each stored twice, under two ``PHPSESSID``s of its link (half of them
by their one source fetched again, half by a second source carrying them), beside
``--once`` articles stored once; then upgrades copies of it (steps 13-15: the links read
again without their sessions, then each article stored twice merged into one item) and
prints the CPU seconds each upgrade took: the upgrading process's (user + sys), and on
PostgreSQL the server's too (every process of the throw-away cluster, tests/pgcluster.py).
``--base DIR`` (a checkout's root, e.g. ``git worktree add /tmp/base main``) upgrades
with that tree's code too, alternating with this tree's in the same minutes.  The
store's tests check what the upgrade gives; nothing here is asserted.
"""

from __future__ import annotations

import argparse
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from stores import set_back  # noqa: E402

from aggregator.ingest.update import record_fetch  # noqa: E402
from aggregator.models import Item, SourceState  # noqa: E402
from aggregator.store import open_storage, schema  # noqa: E402

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
PER_SOURCE = 1000
AS_STORED_THEN = "UPDATE items SET canonical_link = link"  # the session kept


def _session(token: int) -> str:
    return f"{token:032x}"


def _listing(source: int, first: int, count: int, token: int | None) -> list[Item]:
    items = []
    for n in range(first, first + count):
        link = f"https://site{source}.kz/news/{n}"
        if token is not None:
            link += f"?PHPSESSID={_session(token)}"
        items.append(
            Item(
                id=link,
                title=f"Новость {source}-{n}",
                link=link,
                summary=f"<p>Текст новости {n}, версия {token}.</p>",
                published=T0 - timedelta(minutes=n),
            )
        )
    return items


def build(location: str, twice: int, once: int, from_step: int) -> int:
    """Fill ``location`` as schema ``from_step`` (12 or 14) left such a store; the number
    of items it holds."""

    def fetch(store, source_id: str, items: list[Item], at: datetime) -> None:
        url = f"https://{source_id}.example/rss"
        record_fetch(store, SourceState(source_id, url, url), items, fetched_at=at)

    sources = range((twice + PER_SOURCE - 1) // PER_SOURCE)
    with open_storage(location) as store:
        for s in sources:
            count = min(PER_SOURCE, twice - s * PER_SOURCE)
            fetch(store, f"s{s}", _listing(s, 0, count, token=1), T0)
        for s in range((once + PER_SOURCE - 1) // PER_SOURCE):
            count = min(PER_SOURCE, once - s * PER_SOURCE)
            fetch(store, f"o{s}", _listing(10_000 + s, 0, count, token=None), T0)
    set_back(location, 15, AS_STORED_THEN)
    with open_storage(location) as store:
        for s in sources:
            count = min(PER_SOURCE, twice - s * PER_SOURCE)
            # The same source under a new session, or a second source carrying it.
            again = f"s{s}" if s % 2 == 0 else f"m{s}"
            fetch(store, again, _listing(s, 0, count, token=2), T0 + timedelta(hours=1))
        stored = store.items_count()
    if from_step < 13:
        set_back(location, from_step, AS_STORED_THEN)
    else:  # as step 13 left it: the links read again without their sessions
        set_back(location, from_step, AS_STORED_THEN)
        _links_without_sessions(location)
    return stored


def _links_without_sessions(location: str) -> None:
    """What step 13 does to the store at ``location``, done here (for ``--from-step 14``)."""
    step = schema.SQLITE_MIGRATIONS[12]
    if location.startswith("postgresql:"):
        import psycopg

        with psycopg.connect(location) as db:
            rows = db.execute(step.select).fetchall()
            db.cursor().executemany(step.update, step.updates(rows))
    else:
        with sqlite3.connect(location) as db:
            rows = db.execute(step.select).fetchall()
            db.executemany(step.update.replace("%s", "?"), step.updates(rows))


_UPGRADE = """
import resource, sys
from aggregator.store import open_storage
with open_storage(sys.argv[1]) as store:
    count = store.items_count()
usage = resource.getrusage(resource.RUSAGE_SELF)
print(usage.ru_utime + usage.ru_stime, count)
"""

_IMPORT_ONLY = """
import resource
import aggregator.store
usage = resource.getrusage(resource.RUSAGE_SELF)
print(usage.ru_utime + usage.ru_stime, 0)
"""


def upgrade(tree: Path, location: str, script: str = _UPGRADE) -> tuple[float, int]:
    """(CPU seconds of a process that opens ``location`` with ``tree``'s code, the items
    it holds after)."""
    env = dict(os.environ, PYTHONPATH=str(tree))
    out = subprocess.run(
        [sys.executable, "-c", script, location],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=tree,
    ).stdout.split()
    return float(out[0]), int(out[1])


def _cluster_cpu(data_dir: Path) -> float:
    """CPU seconds (user + sys) the cluster whose data is ``data_dir`` has spent: its
    postmaster's, its live processes', and those of the ones that ended (which the
    postmaster waited for: its children's times)."""
    postmaster = int((data_dir / "postmaster.pid").read_text().split()[0])
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(stat.parent.name)
        if pid == postmaster:  # utime, stime, cutime, cstime
            total += sum(int(f) for f in fields[11:15])
        elif int(fields[1]) == postmaster:
            total += int(fields[11]) + int(fields[12])
    return total / tick


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--twice", type=int, default=100_000, help="articles stored twice")
    parser.add_argument("--once", type=int, default=0, help="articles stored once beside them")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--from-step",
        type=int,
        choices=(12, 14),
        default=12,
        help="the schema step the store is at: 12 (steps 13-15 run), 14 (step 15 alone)",
    )
    parser.add_argument("--base", type=Path, help="a checkout whose code upgrades too")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--sqlite-only", action="store_true")
    which.add_argument("--postgres-only", action="store_true")
    args = parser.parse_args()
    # Stopped (kill, timeout): the throw-away cluster and the stores go with it.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    trees = {"this tree": ROOT}
    if args.base:
        trees = {"base": args.base.resolve(), **trees}
    with ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        backends: dict[str, tuple[str, object]] = {}
        if not args.postgres_only:
            backends["SQLite"] = (str(work / "built.sqlite"), None)
        if not args.sqlite_only:
            from pgcluster import PostgresCluster

            if PostgresCluster.binaries()[0] is None:
                print("PostgreSQL not installed: SQLite only")
            else:
                cluster = stack.enter_context(PostgresCluster.start())
                cluster.new_store()  # makes the database "aggregator" to connect to
                import psycopg

                with psycopg.connect(cluster.url(), autocommit=True) as db:
                    db.execute("CREATE DATABASE built")
                backends["PostgreSQL"] = (cluster.url("built"), cluster)
        for name, (built, cluster) in backends.items():
            stored = build(built, args.twice, args.once, args.from_step)
            print(
                f"{name}: {stored} items at schema {args.from_step} "
                f"({args.twice} articles stored twice)"
            )
            import_cpu = min(upgrade(ROOT, built, _IMPORT_ONLY)[0] for _ in range(3))
            print(f"  (starting Python and importing the store: {import_cpu:.2f} s, included)")
            for round_ in range(1, args.rounds + 1):
                for label, tree in trees.items():
                    copy = f"r{round_}_{label.replace(' ', '_')}"
                    if cluster is None:
                        location = str(work / f"{copy}.sqlite")
                        with sqlite3.connect(built) as src, sqlite3.connect(location) as dst:
                            src.backup(dst)  # with what its write-ahead log holds
                    else:
                        import psycopg

                        with psycopg.connect(cluster.url(), autocommit=True) as db:
                            db.execute(f"CREATE DATABASE {copy} TEMPLATE built")
                        location = cluster.url(copy)
                        server_before = _cluster_cpu(cluster.dir / "data")
                    cpu, after = upgrade(tree, location)
                    line = f"  round {round_}, {label}: {cpu:.2f} s CPU"
                    if cluster is not None:
                        server = _cluster_cpu(cluster.dir / "data") - server_before
                        line += f" + server {server:.2f} s = {cpu + server:.2f} s"
                        with psycopg.connect(cluster.url(), autocommit=True) as db:
                            db.execute(f"DROP DATABASE {copy}")
                    else:
                        Path(location).unlink()
                    print(f"{line}; {after} items after", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
