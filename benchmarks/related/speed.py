"""Speed and memory of the related-entries index at 100,000 entries.

    .venv/bin/python benchmarks/related/speed.py [--entries 100000] [--adds 1000] [--json]
        [--incremental] [--expire N]

1. Makes (once; kept in benchmarks/_work/related-<N>/) a store of N synthetic
   entries through ``Storage.record_fetch`` (2,000 sources × N/2,000 items): Russian-like
   text over a Zipf-distributed vocabulary of 150,000 words with real Russian endings
   (so the Snowball stemmer does real work), titles of ~9 words, leads of ~30 and
   texts of ~250, categories, over 90 days; every entry belongs to a small "event" of
   1-4 entries sharing a few rare words.  benchmarks/corpus.py's generator is not used
   for this: its few hundred words put every stem in more than 1% of the entries,
   which no real news corpus does, and would measure a degenerate case.
2. **Full rebuild**: ``related.refresh(rebuild=True)`` in a fresh process (store scan,
   analysis, matrices, every list, saving the index), then the whole
   ``aggregator related --rebuild`` command (the same plus writing related.json,
   N per-entry files and the URL map), each pinned to two cores (``taskset -c 0,1``
   where available); wall time and peak RSS of the process.
3. **Adding one entry**: loads the saved index and adds ``--adds`` new entries one
   at a time with ``RelatedIndex.add`` (analysis, vector, candidates, its list, and
   the lists it enters); median, 95th percentile and maximum per entry.  Then an
   incremental run of ``aggregator related`` after 10 new items reached the store,
   end to end (store scan included), and one more with nothing new.  The 10 items are
   new stories (links of their own), as a cron run mostly finds.  ``--incremental``:
   only these two runs, on the index and outputs the last full run left.
   ``--expire N``: then N of the oldest entries leave the store (as prune deletes
   expired items) and ``aggregator related`` runs, and once more after 10 new items
   (the removals are still in the saved index's delta then: the load must not
   cost in proportion to the index).  Each run's CPU time (user + sys) is given too:
   the machine is often shared.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import shutil
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path[:0] = [str(HERE.parent)]

from run import measure  # noqa: E402  benchmarks/run.py: wall time and peak RSS of a child

from aggregator.config import load_config  # noqa: E402
from aggregator.ingest.update import record_fetch  # noqa: E402
from aggregator.models import Item, SourceState  # noqa: E402
from aggregator.related import Document, index_path, load_index  # noqa: E402
from aggregator.store import open_storage  # noqa: E402

GENERATOR_VERSION = "2"
SOURCES = 2000
VOCABULARY = 150_000  # lemmas
FORMS_PER_LEMMA = 4
START = datetime(2026, 1, 1, tzinfo=UTC)
DAYS = 90
SYLLABLES = [
    "ка",
    "ро",
    "ми",
    "на",
    "ст",
    "ра",
    "ле",
    "то",
    "ви",
    "де",
    "по",
    "ко",
    "ни",
    "ли",
    "за",
    "бе",
    "ра",
    "ту",
    "мо",
    "ва",
    "го",
    "сы",
    "жа",
    "ре",
    "ду",
    "ла",
    "те",
    "пе",
    "ры",
    "зи",
    "ку",
    "шу",
    "хо",
    "ба",
    "ма",
    "са",
    "гу",
    "ло",
    "тр",
    "пр",
    "кр",
    "ск",
    "вл",
    "др",
    "нт",
    "рт",
    "мс",
    "лк",
    "ба",
    "ве",
    "ча",
    "щи",
    "юр",
]
ENDINGS = [
    "а",
    "ы",
    "е",
    "у",
    "ой",
    "ом",
    "ов",
    "ами",
    "ах",
    "ий",
    "ая",
    "ое",
    "ого",
    "ому",
    "ым",
    "ии",
    "ию",
    "ей",
    "ует",
    "али",
    "ить",
]
CATEGORIES = [
    "Политика",
    "Экономика",
    "Общество",
    "Спорт",
    "Культура",
    "Происшествия",
    "В",
    "мире",
    "Регионы",
    "Технологии",
]


class Words:
    """A fixed pseudo-Russian vocabulary of word forms with Zipf frequencies.

    150,000 lemmas of 2-4 syllables, each with 4 of 21 Russian endings: 600,000 forms,
    about what 100,000 news texts show, drawn with frequency ~ 1 / rank.
    """

    def __init__(self, seed: int = 7) -> None:
        rng = np.random.default_rng(seed)
        stems: set[str] = set()
        while len(stems) < VOCABULARY:
            n = int(rng.integers(2, 5))
            stems.add("".join(SYLLABLES[i] for i in rng.integers(0, len(SYLLABLES), n)))
        lemmas = sorted(stems)
        self.forms = [
            lemma + ENDINGS[e]
            for lemma in lemmas
            for e in rng.choice(len(ENDINGS), FORMS_PER_LEMMA, replace=False).tolist()
        ]
        rng.shuffle(self.forms)
        ranks = np.arange(1, len(self.forms) + 1)
        p = 1.0 / ranks
        self.cdf = np.cumsum(p / p.sum())
        self.lemmas = lemmas
        self.rng = rng

    def draw(self, count: int) -> list[str]:
        picks = np.searchsorted(self.cdf, self.rng.random(count))
        return [self.forms[i] for i in picks.tolist()]

    def rare(self, count: int) -> list[str]:
        picks = self.rng.integers(VOCABULARY // 10, VOCABULARY, count)
        return [self.lemmas[i].capitalize() + "а" for i in picks.tolist()]


def synthetic_items(count: int, seed: int = 11) -> list[tuple[int, Item]]:
    """(source number, item) pairs; same seed, same items."""
    words = Words(seed)
    rng = words.rng
    items = []
    event_words: list[str] = []
    event_left = 0
    for n in range(count):
        if event_left == 0:
            event_words = words.rare(int(rng.integers(3, 7)))
            event_left = int(rng.integers(1, 5))
        event_left -= 1
        own = event_words + [f"{int(rng.integers(10, 99999))}"]
        title = words.draw(7) + own[:2]
        rng.shuffle(title)
        lead = words.draw(26) + own
        body = words.draw(int(rng.integers(180, 320))) + own
        rng.shuffle(body)
        paragraphs = [" ".join(body[i : i + 60]) for i in range(0, len(body), 60)]
        published = START + timedelta(seconds=int(rng.integers(0, DAYS * 86400)))
        source = n % SOURCES
        items.append(
            (
                source,
                Item(
                    id=f"s{source}-{n}",
                    title=" ".join(title).capitalize(),
                    link=f"https://site{source:04d}.example.kz/news/{n}",
                    summary=" ".join(lead).capitalize() + ".",
                    content="".join(f"<p>{p.capitalize()}.</p>" for p in paragraphs),
                    published=published,
                    updated=published,
                    categories=tuple(rng.choice(CATEGORIES, int(rng.integers(1, 3))).tolist()),
                    language="ru",
                ),
            )
        )
    return items


def prepare(work: Path, entries: int) -> Path:
    """The config of a store with ``entries`` synthetic entries (made if missing)."""
    config = work / "feeds.yaml"
    stamp = work / "generator.stamp"
    if stamp.exists() and stamp.read_text() == f"{GENERATOR_VERSION} {entries}":
        return config
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    lines = ["site: {title: Bench, link: 'https://bench.example.kz/'}", "sources:"]
    lines += [
        f"  - {{id: s{i:04d}, name: Source {i}, url: 'https://site{i:04d}.example.kz/rss', "
        f"tags: [t{i % 8}]}}"
        for i in range(SOURCES)
    ]
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"making a store of {entries} synthetic entries in {work} ...", file=sys.stderr)
    started = time.perf_counter()
    by_source: dict[int, list[Item]] = {}
    for source, item in synthetic_items(entries):
        by_source.setdefault(source, []).append(item)
    cfg = load_config(config)
    fetched = START + timedelta(days=DAYS + 1)
    with open_storage(work / "aggregator.sqlite") as storage:
        storage.sync_sources(cfg.sources)
        for source, items in sorted(by_source.items()):
            state = storage.get_source_state(f"s{source:04d}")
            assert isinstance(state, SourceState)
            record_fetch(storage, state, items, fetched_at=fetched)
    stamp.write_text(f"{GENERATOR_VERSION} {entries}")
    print(f"  done in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return config


def _pinned(cmd: list[str]) -> list[str]:
    taskset = shutil.which("taskset")
    return [taskset, "-c", "0,1", *cmd] if taskset and (os.cpu_count() or 1) >= 2 else cmd


_REBUILD = """
import json, sys, time
from aggregator.config import load_config
from aggregator.related import refresh
from aggregator.store import open_storage
config = load_config(sys.argv[1])
with open_storage(sys.argv[2]) as storage:
    result = refresh(config, storage, rebuild=True)
print(json.dumps({"entries": len(result.index), "seconds": result.stats.seconds}))
"""


def _mtimes(work: Path) -> dict[Path, int]:
    return {p: p.stat().st_mtime_ns for p in work.rglob("*") if p.is_file()}


def _related_run(aggregator: str, config: Path, work: Path) -> dict:
    """One `aggregator related` run, timed, with the files it wrote under work."""
    before = _mtimes(work)
    run = measure(_pinned([aggregator, "--config", str(config), "related"]))
    return {
        "wall_s": round(run.wall_seconds, 2),
        "cpu_s": round(run.cpu_seconds, 2),
        "peak_rss_mb": run.peak_rss_mb,
        "exit": run.exit_code,
        "files_written": _written(before, _mtimes(work)),
    }


def _written(before: dict[Path, int], after: dict[Path, int]) -> int:
    """Files created or rewritten: the index's and the outputs (not the store's)."""
    return sum(
        1
        for p, t in after.items()
        if before.get(p) != t and p.name not in _STORE_FILES and not p.name.startswith(".")
    )


_STORE_FILES = {"aggregator.sqlite", "aggregator.sqlite-wal", "aggregator.sqlite-shm"}
_STORE_FILES.add("aggregator.sqlite.lock")  # the run lock


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--adds", type=int, default=1000)
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--incremental", action="store_true", help="only the 10-new and nothing-new runs"
    )
    parser.add_argument(
        "--expire", type=int, default=0, help="then remove this many of the oldest entries"
    )
    args = parser.parse_args(argv)
    # Bytecode written first, as an installed package has it: with
    # PYTHONDONTWRITEBYTECODE set, every timed run would compile changed modules again.
    compileall.compile_dir(ROOT / "aggregator", quiet=1)
    work = ROOT / "benchmarks" / "_work" / f"related-{args.entries}"
    config = prepare(work, args.entries)
    db = work / "aggregator.sqlite"
    python = sys.executable
    aggregator = str(Path(python).with_name("aggregator"))
    figures: dict[str, object] = {"entries": args.entries, "cpus": os.cpu_count()}
    if not args.incremental:
        figures.update(_rebuild_and_adds(args, work, config, db, python, aggregator))
    _incremental_runs(figures, aggregator, config, work, db)
    if args.expire:
        _expiry_runs(figures, args.expire, aggregator, config, work, db)
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        _report(args, figures)
    return 0


def _rebuild_and_adds(
    args: argparse.Namespace, work: Path, config: Path, db: Path, python: str, aggregator: str
) -> dict[str, object]:
    figures: dict[str, object] = {}
    index_only = measure(_pinned([python, "-c", _REBUILD, str(config), str(db)]))
    for m in (index_only,):
        if m.exit_code:
            sys.exit(f"the rebuild failed:\n{m.stderr}")
    figures["rebuild_index"] = {
        "wall_s": round(index_only.wall_seconds, 1),
        "peak_rss_mb": index_only.peak_rss_mb,
        "exit": index_only.exit_code,
    }
    full = measure(_pinned([aggregator, "--config", str(config), "-q", "related", "--rebuild"]))
    figures["rebuild_command"] = {
        "wall_s": round(full.wall_seconds, 1),
        "peak_rss_mb": full.peak_rss_mb,
        "exit": full.exit_code,
    }
    output = Path(load_config(config).publish.dir)
    if not output.is_absolute():
        output = config.parent / output
    # related.json is a head; the lists are in its blocks, related/lists/<n>.json.
    parts = [output / "related.json", *(output / "related" / "lists").glob("*.json")]
    size = sum(p.stat().st_size for p in parts if p.exists())
    figures["related_json"] = {
        "bytes": size,
        "bytes_per_entry": round(size / args.entries, 1),
    }

    settings = load_config(config).related
    started = time.perf_counter()
    index = load_index(index_path(db), settings)
    assert index is not None, "the rebuild left no index"
    load_seconds = time.perf_counter() - started
    fresh = synthetic_items(args.adds, seed=99)
    docs = [
        Document(
            key=f"new{n:06d}",
            published=item.published,
            title=item.title,
            text=f"{item.summary} {item.content}",
            tags=tuple(c.casefold() for c in item.categories),
            language="ru",
            link=item.link,
            version="1",
        )
        for n, (_, item) in enumerate(fresh)
    ]
    index.add(docs[0])  # the first add builds the inverted index of the loaded matrix
    times = []
    for doc in docs[1:]:
        t = time.perf_counter()
        index.add(doc)
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    figures["add_one"] = {
        "load_index_s": round(load_seconds, 2),
        "median_ms": round(statistics.median(times), 3),
        "p95_ms": round(times[int(0.95 * len(times))], 3),
        "max_ms": round(times[-1], 3),
        "adds": len(times),
    }
    return figures


def _incremental_runs(
    figures: dict[str, object], aggregator: str, config: Path, work: Path, db: Path
) -> None:
    # An incremental run: 10 new items in the store, then `aggregator related`.
    _add_ten(db)
    figures["incremental_run_10_new"] = _related_run(aggregator, config, work)
    # And again with nothing new: no index read, no file written.
    figures["incremental_run_nothing_new"] = _related_run(aggregator, config, work)


def _expiry_runs(
    figures: dict[str, object], count: int, aggregator: str, config: Path, work: Path, db: Path
) -> None:
    import sqlite3

    with sqlite3.connect(db) as store:  # as prune deletes expired items
        store.execute("PRAGMA foreign_keys = ON")
        store.execute(
            "DELETE FROM items WHERE key IN (SELECT key FROM items ORDER BY published LIMIT ?)",
            (count,),
        )
    figures["expiry_run"] = {"expired": count, **_related_run(aggregator, config, work)}
    _add_ten(db)
    figures["incremental_run_10_new_after_expiry"] = _related_run(aggregator, config, work)


def _add_ten(db: Path) -> None:
    """10 new items (new stories: links of their own) stored, as a cron run finds."""
    with open_storage(db) as storage:
        state = storage.get_source_state("s0000")
        extra = [item for _, item in synthetic_items(10, seed=int(time.time()))]
        now = max(i.published for i in extra) + timedelta(hours=1)
        stamp = time.time_ns()
        extra = [
            Item(
                **{
                    **item.__dict__,
                    "id": f"extra-{stamp}-{k}",
                    "link": f"https://site0000.example.kz/news/extra-{stamp}-{k}",
                }
            )
            for k, item in enumerate(extra)
        ]
        record_fetch(storage, state, extra, fetched_at=now)


def _report(args: argparse.Namespace, figures: dict) -> None:
    i = figures["incremental_run_10_new"]
    print(f"{args.entries} entries, {os.cpu_count()} CPUs")
    if not args.incremental:
        r, c, a = figures["rebuild_index"], figures["rebuild_command"], figures["add_one"]
        print(
            f"full rebuild of the index: {r['wall_s']} s wall, {r['peak_rss_mb']} MB peak RSS (target <= 30 s, <= 1000 MB)"
        )
        print(
            f"`aggregator related --rebuild` (index + all files): {c['wall_s']} s, {c['peak_rss_mb']} MB"
        )
        print(
            f"adding one entry: median {a['median_ms']} ms, p95 {a['p95_ms']} ms, max {a['max_ms']} ms "
            f"over {a['adds']} adds (target <= 2 ms); loading the index {a['load_index_s']} s"
        )
    print(
        f"`aggregator related` after 10 new items (changes + update + files): {_run_figures(i)} (target <= 1 s)"
    )
    z = figures["incremental_run_nothing_new"]
    print(f"`aggregator related` with nothing new: {_run_figures(z)}")
    if "expiry_run" in figures:
        e = figures["expiry_run"]
        print(f"`aggregator related` after {e['expired']} entries expired: {_run_figures(e)}")
        a = figures["incremental_run_10_new_after_expiry"]
        print(f"`aggregator related` after 10 new items, removals pending: {_run_figures(a)}")
    if not args.incremental:
        j = figures["related_json"]
        print(
            f"related.json: {j['bytes']} bytes, {j['bytes_per_entry']} per entry (target <= 15 MB, <= 150 per entry)"
        )


def _run_figures(run: dict) -> str:
    return (
        f"{run['wall_s']} s wall, {run['cpu_s']} s CPU, {run['peak_rss_mb']} MB, "
        f"{run['files_written']} files written"
    )


if __name__ == "__main__":
    raise SystemExit(main())
