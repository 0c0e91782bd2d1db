"""One ingest run: pick the due sources, fetch them, parse what changed, store it.

This module only wires the stages together; every decision (what is due, how long
to back off, how often a feed may be polled) is made by the pure functions in
``schedule``, every HTTP detail by ``fetch``, every SQL detail by ``storage``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import logging
import multiprocessing
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from aggregator.config import Config, FetchConfig, SourceConfig, config_dir
from aggregator.ingest import schedule
from aggregator.ingest.fetch import Fetcher
from aggregator.models import FetchOutcome, FetchRequest, FetchResult, ParsedFeed, SourceState
from aggregator.store import Storage

log = logging.getLogger(__name__)

# Up to this many changed bodies in a run are parsed here: starting worker processes
# costs more than it saves.
PARSE_POOL_THRESHOLD = 8


@dataclass(frozen=True)
class SourceRun:
    """What happened to one source in one run."""

    source_id: str
    # "updated", "no new items" (parsed, nothing changed), "unchanged" (same body as
    # last time: not parsed), "not modified" (304), "error", "gone", "retry later"
    status: str
    new: int = 0
    updated: int = 0
    error: str | None = None


@dataclass
class UpdateReport:
    started: datetime
    runs: list[SourceRun] = field(default_factory=list)
    pruned: int = 0  # items removed by the retention rule
    stored_by_workers: int = 0  # changed feeds parsed and stored in worker processes

    @property
    def failed(self) -> list[SourceRun]:
        return [r for r in self.runs if r.status in ("error", "gone", "retry later")]

    @property
    def new_items(self) -> int:
        return sum(r.new for r in self.runs)


def update(
    config: Config,
    storage: Storage,
    *,
    now: datetime | None = None,
    sources: Sequence[SourceConfig] | None = None,
    select_all: bool = False,
    only: Iterable[str] | None = None,
    on_result: Callable[[SourceRun], None] | None = None,
) -> UpdateReport:
    """Fetch the due sources (or all, or the named ones) and store what changed.

    ``sources``, when given, is the list :func:`plan` returned, so a caller that
    showed a progress bar for them fetches exactly those.
    """
    now = now or datetime.now(UTC)
    # Given ``sources`` came from plan(), which registered them in the store already.
    due = (
        plan(config, storage, now, select_all=select_all, only=only) if sources is None else sources
    )
    report = UpdateReport(started=now)
    if due:
        asyncio.run(_ingest(config, storage, due, now, report, on_result))
        report.runs.sort(key=lambda r: r.source_id)
    if report.new_items:  # a store that did not grow can wait for its pruning
        report.pruned = storage.prune(
            retention_days=config.storage.retention_days,
            keep_latest=config.storage.keep_latest,
            now=now,
        )
    return report


async def _ingest(
    config: Config,
    storage: Storage,
    due: Sequence[SourceConfig],
    now: datetime,
    report: UpdateReport,
    on_result: Callable[[SourceRun], None] | None,
) -> None:
    """Fetch ``due`` concurrently; store each changed body as its fetch completes."""
    states = {s.source_id: s for s in storage.source_states()}
    bodies = _BodyStore(storage)
    try:
        async with Fetcher(config.fetch, base_dir=config_dir(config)) as fetcher:
            handled = [
                _ingest_one(config, storage, fetcher, bodies, source, states[source.id], now)
                for source in due
            ]
            for next_done in asyncio.as_completed(handled):
                run = await next_done
                report.runs.append(run)
                if on_result is not None:
                    on_result(run)
    finally:
        bodies.close()
    report.stored_by_workers = bodies.in_workers


@dataclass(frozen=True)
class BodyJob:
    """A fetched, changed body of one source, with what storing it needs (picklable)."""

    source: SourceConfig
    fetch: FetchConfig
    state: SourceState  # validators from this response already set
    body: bytes
    body_hash: str
    url: str  # the final URL, base for relative links
    headers: dict[str, str]
    max_age: int | None
    now: datetime


def store_body(storage: Storage, job: BodyJob) -> SourceRun:
    """Parse a changed body; store its items and the source's new state in one transaction."""
    # Imported here: a warm run (all 304) never parses, and starts faster without it.
    from aggregator.parse import ParseError, parse_feed

    source, state, now = job.source, job.state, job.now
    try:
        feed = parse_feed(job.body, job.url, job.headers, parser=job.fetch.parser)
    except ParseError as exc:
        error = f"{job.url}: {exc}"
        # Forget the validators: the next fetch must bring the body again to re-check it.
        state = replace(state, etag=None, last_modified=None, body_hash=None)
        storage.save_source_state(
            schedule.after_failure(state, source, job.fetch, now, error=error)
        )
        return SourceRun(source.id, "error", error=error)

    feed_min_interval = max(filter(None, (feed.ttl_seconds, job.max_age)), default=None)
    state = replace(
        state,
        body_hash=job.body_hash,
        title=feed.title or state.title,
        link=feed.link or state.link,
        feed_updated=feed.updated or state.feed_updated,
        last_error=None,
        last_error_at=None,
    )
    state = schedule.after_success(
        state, source, job.fetch, now, min_interval_seconds=feed_min_interval
    )
    counts = storage.record_fetch(state, _with_language(feed, source), fetched_at=now)
    status = "updated" if counts.new or counts.updated else "no new items"
    return SourceRun(source.id, status, new=counts.new, updated=counts.updated)


class _BodyStore:
    """Runs :func:`store_body` here for the first few bodies, then in a process pool.

    Parsing and storing are the CPU-bound part of a run, so with many changed feeds
    they go to one worker per core, each with its own connection to the store (SQLite
    serializes their short transactions), while this process keeps fetching.  A run
    with only a few changed feeds never pays for starting the workers.
    """

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self.started = 0
        self.in_workers = 0
        self.pool: concurrent.futures.ProcessPoolExecutor | None = None
        self.can_pool = (os.cpu_count() or 1) > 1

    async def store(self, job: BodyJob) -> SourceRun:
        self.started += 1
        if self.pool is None and self.can_pool and self.started > PARSE_POOL_THRESHOLD:
            self.pool = _worker_pool()
        if self.pool is None:
            return store_body(self.storage, job)
        self.in_workers += 1
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self.pool, _store_body_in_worker, str(self.storage.path.resolve()), job
        )

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)


def _worker_pool() -> concurrent.futures.ProcessPoolExecutor:
    """Workers come from a fork server, not a plain fork: a forked worker would inherit
    the run lock's file descriptor and keep holding the lock after a kill -9 of
    this process, refusing the next run.
    """
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["aggregator.ingest.update", "aggregator.parse"])
    return concurrent.futures.ProcessPoolExecutor(max_workers=os.cpu_count(), mp_context=context)


_worker_storage: dict[str, Storage] = {}


def _store_body_in_worker(db_path: str, job: BodyJob) -> SourceRun:
    storage = _worker_storage.get(db_path)
    if storage is None:
        storage = _worker_storage[db_path] = Storage(db_path)
    return store_body(storage, job)


def plan(
    config: Config,
    storage: Storage,
    now: datetime,
    *,
    select_all: bool = False,
    only: Iterable[str] | None = None,
) -> list[SourceConfig]:
    """The sources this run will fetch (registering new ones in the store first)."""
    storage.sync_sources(config.sources)
    states = {s.source_id: s for s in storage.source_states()}
    return schedule.select_due(config.sources, states, now, select_all=select_all, only=only)


def request_for(source: SourceConfig, state: SourceState) -> FetchRequest:
    return FetchRequest(
        url=state.url,
        etag=state.etag,
        last_modified=state.last_modified,
        headers=dict(source.headers),
        timeout=source.timeout,
        allow_networks=tuple(source.allow_private_networks),
    )


async def _ingest_one(
    config: Config,
    storage: Storage,
    fetcher: Fetcher,
    bodies: _BodyStore,
    source: SourceConfig,
    state: SourceState,
    now: datetime,
) -> SourceRun:
    try:
        result = await fetcher.fetch(request_for(source, state))
        return await _handle_result(config, storage, bodies, source, state, result, now)
    except Exception as exc:  # a bug must not stop the other sources
        log.exception("unexpected failure on source %s", source.id)
        error = f"internal error: {type(exc).__name__}: {exc}"
        storage.save_source_state(
            schedule.after_failure(state, source, config.fetch, now, error=error)
        )
        return SourceRun(source.id, "error", error=error)


async def _handle_result(
    config: Config,
    storage: Storage,
    bodies: _BodyStore,
    source: SourceConfig,
    state: SourceState,
    result: FetchResult,
    now: datetime,
) -> SourceRun:
    fetch_config = config.fetch
    where = result.final_url

    if result.permanent_url and result.permanent_url != state.url:
        status = result.redirects[-1][0] if result.redirects else 301
        storage.record_url_change(source.id, state.url, result.permanent_url, status, now)
        log.info("%s moved permanently to %s", source.id, result.permanent_url)
        state = replace(state, url=result.permanent_url)

    outcome = result.outcome
    if outcome is FetchOutcome.GONE:
        error = f"410 Gone at {where}: the feed was removed; fix its url in feeds.yaml"
        storage.save_source_state(schedule.after_gone(state, now, error=error))
        return SourceRun(source.id, "gone", error=error)

    if outcome is FetchOutcome.RETRY_LATER:
        retry_at = schedule.parse_retry_after(result.headers.get("retry-after"), now)
        error = f"HTTP {result.status_code} at {where}: the server asked us to retry later"
        storage.save_source_state(
            schedule.after_failure(state, source, fetch_config, now, error=error, retry_at=retry_at)
        )
        return SourceRun(source.id, "retry later", error=error)

    if outcome is FetchOutcome.ERROR:
        error = result.error or f"HTTP {result.status_code} at {where}"
        storage.save_source_state(
            schedule.after_failure(state, source, fetch_config, now, error=error)
        )
        return SourceRun(source.id, "error", error=error)

    max_age = schedule.parse_max_age(result.headers.get("cache-control"))
    if outcome is FetchOutcome.NOT_MODIFIED:
        state = replace(
            state,
            etag=result.headers.get("etag") or state.etag,
            last_modified=result.headers.get("last-modified") or state.last_modified,
        )
        storage.save_source_state(
            schedule.after_success(state, source, fetch_config, now, min_interval_seconds=max_age)
        )
        return SourceRun(source.id, "not modified")

    body = result.body or b""
    body_hash = hashlib.sha256(body).hexdigest()
    state = replace(
        state,
        etag=result.headers.get("etag"),
        last_modified=result.headers.get("last-modified"),
    )
    if body_hash == state.body_hash:
        storage.save_source_state(
            schedule.after_success(state, source, fetch_config, now, min_interval_seconds=max_age)
        )
        return SourceRun(source.id, "unchanged")

    job = BodyJob(
        source=source,
        fetch=fetch_config,
        state=state,
        body=body,
        body_hash=body_hash,
        url=result.final_url,
        headers=result.headers,
        max_age=max_age,
        now=now,
    )
    return await bodies.store(job)


def _with_language(feed: ParsedFeed, source: SourceConfig) -> list:
    """Items keep their own language; else the feed's; else the configured source's."""
    fallback = feed.language or source.language
    if not fallback:
        return list(feed.items)
    return [it if it.language else replace(it, language=fallback) for it in feed.items]
