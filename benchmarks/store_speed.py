"""How long storing one fetch takes, on each store backend, side by side.

    .venv/bin/python benchmarks/store_speed.py [--rounds 20] [--items 50] [--postgres URL]

One source gives ``--items`` items; it is fetched ``--rounds`` times more, each time with
every item changed (the costliest ordinary fetch: every item rewritten), then once more
with nothing changed.  Prints milliseconds per fetch for SQLite (a file in a temporary
directory) and PostgreSQL: ``--postgres URL`` (a database the run may fill), else a
throw-away cluster (tests/pgcluster.py) where PostgreSQL is installed, else SQLite only.
The two backends are the peers of one run; to compare code, run it from two trees on an
idle machine.  The store's tests check what is stored; nothing here is asserted.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aggregator.ingest.update import record_fetch
from aggregator.models import Item, SourceState
from aggregator.store import open_storage

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def batch(run: int, items: int) -> list[Item]:
    return [
        Item(
            id=f"guid-{i}",
            title=f"{run}-{i}",
            link=f"https://inform.kz/ru/news/{i}",
            published=T0 - timedelta(hours=i),
            content="<p>Текст новости</p>" * 30,
        )
        for i in range(items)
    ]


def measure(location: str, rounds: int, items: int) -> tuple[list[float], float]:
    """(seconds of each changed fetch, seconds of the unchanged one)."""
    url = "https://inform.kz/rss"
    with open_storage(location) as store:

        def fetch(run: int, at: datetime) -> float:
            state = SourceState(source_id="inform", url=url, configured_url=url)
            start = time.perf_counter()
            record_fetch(store, state, batch(run, items), fetched_at=at)
            return time.perf_counter() - start

        fetch(0, T0)
        changed = [fetch(run, T0 + timedelta(minutes=run)) for run in range(1, rounds + 1)]
        unchanged = fetch(rounds, T0 + timedelta(minutes=rounds + 1))
    return changed, unchanged


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--postgres", help="postgresql://... (else a throw-away cluster)")
    args = parser.parse_args()
    with ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        backends = {"SQLite": str(work / "store.sqlite")}
        if args.postgres:
            backends["PostgreSQL"] = args.postgres
        else:
            sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
            from pgcluster import PostgresCluster

            if PostgresCluster.binaries()[0] is None:
                print("PostgreSQL not installed: SQLite only")
            else:
                cluster = stack.enter_context(PostgresCluster.start())
                backends["PostgreSQL"] = cluster.new_store("bench")
        print(f"{args.items} items a fetch, {args.rounds} fetches with every item changed")
        print("| backend | changed: median ms | min ms | unchanged ms |")
        print("|---|---:|---:|---:|")
        for name, location in backends.items():
            changed, unchanged = measure(location, args.rounds, args.items)
            print(
                f"| {name} | {statistics.median(changed) * 1000:.1f} "
                f"| {min(changed) * 1000:.1f} | {unchanged * 1000:.1f} |"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
