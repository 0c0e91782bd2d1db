"""The stages above the store depend on the Storage protocol, not on a backend.

An in-memory fake, written from the protocol alone, runs the pipeline's record step,
the house commentary matching and publish; if a stage reached for SQLite specifics,
these tests would fail.
"""

from __future__ import annotations

import itertools
from collections.abc import Generator, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser

from aggregator.config import Config, OutputConfig, SiteConfig, SourceConfig
from aggregator.ingest.update import record_fetch
from aggregator.models import FetchPlan, Item, ItemText, SeenItem, SourceState, StoredItem
from aggregator.publish import publish
from aggregator.store import Storage, open_storage
from aggregator.text.urls import canonical_url

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class MemoryStorage:
    """Every method of the Storage protocol over dicts (no dedupe by link, no history)."""

    lock_timeout: float | None = None  # no other session: nothing to wait for

    def __init__(self) -> None:
        self.states: dict[str, SourceState] = {}
        self.items: dict[str, StoredItem] = {}
        self.by_source: dict[tuple[str, str], tuple[str, str]] = {}  # -> (key, hash)
        self.history: list[tuple[str, str, str, int, datetime]] = []
        self.readers: dict[str, int] = {}  # change log reader -> the mark it read up to
        self.dropped = 0  # the last change dropped from the log
        self._keys = (f"k{n:06d}" for n in itertools.count())
        self.changes: dict[str, tuple[int, bool]] = {}  # key -> (change number, removed)
        self._change = itertools.count(1)
        self.derived: dict[str, str] = {}
        self.holds: dict = {}  # host -> HostHold

    location = ":memory:"

    def close(self) -> None:
        pass

    def __enter__(self) -> MemoryStorage:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def sync_sources(self, sources: Sequence[SourceConfig]) -> None:
        for s in self.unsynced_sources(sources):
            url = next(c.url for c in sources if c.id == s)
            self.states[s] = SourceState(s, url, url)

    def unsynced_sources(self, sources: Sequence[SourceConfig]) -> list[str]:
        return [
            s.id
            for s in sources
            if s.id not in self.states or self.states[s.id].configured_url != s.url
        ]

    def get_source_state(self, source_id: str) -> SourceState | None:
        return self.states.get(source_id)

    def source_states(self, ids: Iterable[str] | None = None) -> list[SourceState]:
        wanted = set(ids) if ids is not None else set(self.states)
        return [self.states[i] for i in sorted(wanted & set(self.states))]

    def save_source_state(self, state: SourceState) -> None:
        count = sum(1 for source, _ in self.by_source if source == state.source_id)
        self.states[state.source_id] = replace(state, item_count=count)

    def save_source_states(self, states: Sequence[SourceState]) -> None:
        for state in states:
            self.save_source_state(state)

    def record_url_change(self, source_id, old, new, status, at) -> None:
        self.history.append((source_id, old, new, status, at))

    def url_history(self, source_id: str):
        return [h[1:] for h in self.history if h[0] == source_id]

    def hold_host(self, hold, now: datetime) -> None:
        self.holds[hold.host] = hold

    def host_holds(self, now: datetime):
        return {h: hold for h, hold in self.holds.items() if hold.until > now}

    def seen_items(self, source_id: str, item_ids: Iterable[str]) -> Mapping[str, SeenItem]:
        seen = {}
        for item_id in item_ids:
            if (source_id, item_id) in self.by_source:
                key, digest = self.by_source[(source_id, item_id)]
                stored = self.items[key]
                seen[item_id] = SeenItem(
                    key, digest, stored.published, stored.item.published, stored.first_seen
                )
        return seen

    def stored_by_link(self, source_id: str, canonical_links: Iterable[str]):
        links, found = set(canonical_links), {}
        for (source, item_id), (key, digest) in self.by_source.items():
            stored = self.items[key]
            link = canonical_url(stored.item.link) if stored.item.link else None
            if source == source_id and link in links:
                seen = SeenItem(
                    key, digest, stored.published, stored.item.published, stored.first_seen
                )
                found.setdefault(link, []).append((item_id, stored.item.title, seen))
        return found

    def apply_fetch(self, plan: FetchPlan) -> None:
        source = plan.state.source_id
        for old, new in plan.renamed:
            self.by_source[(source, new)] = self.by_source.pop((source, old))
        for write in plan.writes:
            if write.kind == "unchanged":
                continue
            key = write.key or next(self._keys)
            first_seen = self.items[key].first_seen if key in self.items else plan.fetched_at
            item = replace(write.item, published=write.published, updated=write.updated)
            self.items[key] = StoredItem(
                key, item, (source,), first_seen, write.published, write.updated
            )
            self.by_source[(source, write.item.id)] = (key, write.content_hash)
            self.changes[key] = (next(self._change), False)
        self.save_source_state(plan.state)

    def iter_items(
        self, *, source_ids=None, since=None, limit=None, newest_first=True, key_range=None
    ) -> Generator[StoredItem, None, None]:
        low, high = key_range or (None, None)
        chosen = [
            s
            for s in self.items.values()
            if (source_ids is None or set(s.source_ids) & set(source_ids))
            and (since is None or s.published >= since)
            and (low is None or s.key >= low)
            and (high is None or s.key < high)
        ]
        chosen.sort(key=lambda s: (s.published, s.key), reverse=newest_first)
        yield from chosen[:limit] if limit is not None else chosen

    def iter_item_texts(self, *, key_range=None) -> Generator[ItemText, None, None]:
        for s in self.iter_items(newest_first=False, key_range=key_range):
            yield s.text()

    def get_item(self, key: str) -> StoredItem | None:
        return self.items.get(key)

    def item_by_link(self, url: str) -> StoredItem | None:
        return next((s for s in self.items.values() if s.item.link == url), None)

    def lease(
        self,
        source_ids: Sequence[str],
        *,
        holder: str,
        seconds: float,
        limit: int | None = None,
        due_at: datetime | None = None,
    ) -> list[SourceState]:
        return self.source_states(source_ids)[:limit]

    def renew(self, source_ids: Sequence[str], *, holder: str, seconds: float) -> list[str]:
        return sorted(source_ids)

    def release(self, source_ids: Iterable[str] | None, *, holder: str) -> None:
        pass

    def item_changes(self, since: int | None) -> tuple[int, list[str], list[str]]:
        now = max((n for n, _ in self.changes.values()), default=self.dropped)
        if since is None:
            return now, [], []
        changed = sorted((n, k, removed) for k, (n, removed) in self.changes.items() if n > since)
        return now, [k for _, k, r in changed if not r], [k for _, k, r in changed if r]

    def changes_kept(self, since: int) -> bool:
        return since >= self.dropped

    def changes_read(self, reader: str, mark: int, *, now=None) -> int:
        self.readers[reader] = mark
        oldest = min(self.readers.values())
        read = [k for k, (n, _) in self.changes.items() if n <= oldest]
        for key in read:
            self.dropped = max(self.dropped, self.changes.pop(key)[0])
        return len(read)

    def items_count(self) -> int:
        return len(self.items)

    def item_key_bounds(self, parts: int) -> list[str]:
        keys = sorted(self.items)
        return sorted(
            {keys[k * len(keys) // parts] for k in range(1, parts) if k * len(keys) >= parts}
        )

    def get_derived(self, name: str) -> str | None:
        return self.derived.get(name)

    def put_derived(self, name: str, value: str) -> None:
        self.derived[name] = value

    def prune(
        self,
        *,
        retention_days: int,
        keep_latest: int,
        now: datetime,
        held: list[str] | None = None,
    ) -> int:
        return 0


def _config(tmp_path: Path) -> Config:
    return Config(
        site=SiteConfig(title="Евразия24", link="https://eurasia24.example/", house="Евразия24"),
        sources=(SourceConfig(id="kazinform", name="Казинформ", url="https://inform.example/rss"),),
        outputs=(OutputConfig(name="all"),),
        path=str(tmp_path / "feeds.yaml"),
    )


def _news(n: int) -> Item:
    return Item(
        id=f"https://inform.example/news/{n}",
        title=f"Новость номер {n} о тенге и нефти",
        link=f"https://inform.example/news/{n}",
        summary=f"<p>Национальный банк сообщил о событии {n}.</p>",
        published=T0 + timedelta(hours=n),
    )


def test_the_fake_satisfies_the_protocol_as_the_sqlite_store_does(tmp_path: Path):
    fake: Storage = MemoryStorage()
    real: Storage = open_storage(tmp_path / "s.sqlite")
    for store in (fake, real):
        store.sync_sources(_config(tmp_path).sources)
        state = store.get_source_state("kazinform")
        assert state is not None
        first = record_fetch(store, state, [_news(1), _news(2)], fetched_at=T0 + timedelta(days=1))
        again = record_fetch(store, state, [_news(2), _news(3)], fetched_at=T0 + timedelta(days=2))
        assert (first.new, again.new, again.unchanged) == (2, 1, 1)
        titles = [s.item.title for s in store.iter_items()]
        assert titles == [_news(n).title for n in (3, 2, 1)]
    real.close()


def test_publish_runs_on_any_storage(tmp_path: Path):
    config = _config(tmp_path)
    store = MemoryStorage()
    store.sync_sources(config.sources)
    state = store.get_source_state("kazinform")
    assert state is not None
    record_fetch(store, state, [_news(n) for n in range(5)], fetched_at=T0 + timedelta(days=1))

    publish(config, store, out_dir=tmp_path / "output")

    feed = feedparser.parse((tmp_path / "output" / "all.atom").read_bytes())
    assert [e.title for e in feed.entries] == [_news(n).title for n in (4, 3, 2, 1, 0)]


def test_each_backend_takes_the_arguments_the_protocol_states():
    # The protocol restates no body, only signatures; this keeps the backends' in step.
    import inspect

    from aggregator.store.postgres import PostgresStorage
    from aggregator.store.sqlite import SQLiteStorage

    methods = [
        name
        for name, value in vars(Storage).items()
        if callable(value) and (not name.startswith("_") or name in ("__enter__", "__exit__"))
    ]
    assert "apply_fetch" in methods and "lease" in methods

    def parameters(function):
        return [
            (p.name, p.kind, p.default) for p in inspect.signature(function).parameters.values()
        ]

    for backend in (SQLiteStorage, PostgresStorage, MemoryStorage):
        for name in methods:
            assert parameters(getattr(backend, name)) == parameters(getattr(Storage, name)), (
                f"{backend.__name__}.{name}"
            )
