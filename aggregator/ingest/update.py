"""One ingest run: pick the due sources, fetch them, parse what changed, store it.

This module only wires the stages together and does their I/O; every decision is made
by pure functions: what is due and how long to back off in ``schedule``, what a fetch
result and a parsed feed mean for the store in ``decide``.  Every HTTP detail is
``fetch``'s, every SQL detail the store's.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from aggregator.config import Config, FetchConfig, SourceConfig, config_dir
from aggregator.ingest import decide, schedule
from aggregator.ingest.decide import SourceRun
from aggregator.ingest.fetch import Fetcher
from aggregator.ingest.leases import LeaseKeeper, run_holder
from aggregator.models import (
    FetchOutcome,
    FetchPlan,
    FetchRequest,
    FetchResult,
    HostHold,
    Item,
    SeenItem,
    SourceState,
    UpdateCounts,
)
from aggregator.store import (
    LockWaitTimeout,
    Storage,
    StorageError,
    is_postgres_url,
    open_storage,
)
from aggregator.text.counts import counted
from aggregator.text.urls import without_userinfo

log = logging.getLogger(__name__)

# Up to this many changed bodies in a run are parsed here: starting worker processes
# costs more than it saves.
PARSE_POOL_THRESHOLD = 8


@dataclass
class UpdateReport:
    started: datetime
    runs: list[SourceRun] = field(default_factory=list)
    pruned: int = 0  # items removed by the retention rule
    stored_by_workers: int = 0  # changed feeds parsed and stored in worker processes
    # due, but leased to another fetcher (a worker, or a run killed within its lease)
    leased_elsewhere: list[str] = field(default_factory=list)
    lease_seconds: float = 0.0  # how long this run leased its due sources for

    @property
    def failed(self) -> list[SourceRun]:
        return [r for r in self.runs if r.status in ("error", "gone", "retry later")]

    @property
    def locked(self) -> list[SourceRun]:
        """Fetched, not stored: another session (a worker frozen inside a transaction)
        held a lock their store needed; fetched again next run."""
        return [r for r in self.runs if r.status == "locked"]

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
        # A source a worker (or a run on another host) is fetching now is theirs; the
        # leases also keep workers off the sources this run fetches (PostgreSQL).
        holder = run_holder(os.getpid())
        seconds = report.lease_seconds = schedule.lease_seconds(config.fetch, due)
        leased = {
            s.source_id: s
            for s in storage.lease([s.id for s in due], holder=holder, seconds=seconds)
        }
        report.leased_elsewhere = [s.id for s in due if s.id not in leased]
        due = [s for s in due if s.id in leased]
        try:
            # A run of many sources outlasts a lease: the keeper renews them meanwhile.
            with LeaseKeeper(storage.location, holder, seconds) as keeper:
                keeper.hold(leased)
                asyncio.run(_ingest(config, storage, due, now, report, on_result, leased))
        finally:
            storage.release([s.id for s in due], holder=holder)
        report.runs.sort(key=lambda r: r.source_id)
    if report.new_items:  # a store that did not grow can wait for its pruning
        report.pruned = _prune(config, storage, now)
    return report


def _prune(config: Config, storage: Storage, now: datetime) -> int:
    """Remove the old items (the retention rule); how many went.  Those whose rows
    another session holds (a worker frozen or cut off inside a transaction) stay for a
    later run, said in one line, as the sources a run could not store are."""
    held: list[str] = []
    try:
        pruned = storage.prune(
            retention_days=config.storage.retention_days,
            keep_latest=config.storage.keep_latest,
            now=now,
            held=held,
        )
    except LockWaitTimeout:  # a lock the prune does not skip: none of it was done
        log.warning(
            "old items not pruned this run: another worker holds rows the prune needs "
            "(frozen or cut off inside a transaction?); pruned by a later run"
        )
        return 0
    if held:
        log.warning(
            "%s not pruned this run: another worker holds %s rows (frozen or cut off "
            "inside a transaction?); pruned by a later run",
            counted(len(held), "old item"),
            "its" if len(held) == 1 else "their",
        )
    return pruned


async def _ingest(
    config: Config,
    storage: Storage,
    due: Sequence[SourceConfig],
    now: datetime,
    report: UpdateReport,
    on_result: Callable[[SourceRun], None] | None,
    states: Mapping[str, SourceState],
) -> None:
    """Fetch ``due`` concurrently (``states``: theirs, as leased); store each changed
    body as its fetch completes."""
    # Sources never fetched before: each will bring a body to parse (a first fetch).
    bodies = _BodyStore(storage, first_fetches=sum(states[s.id].body_hash is None for s in due))
    saved = _StateSaver(storage)
    started = time.monotonic()

    def clock() -> datetime:  # the run's time: ``now`` when it started
        return now + timedelta(seconds=time.monotonic() - started)

    waiting = _HeldWaiting(len(due), clock)

    async def ingest(source: SourceConfig) -> None:
        try:
            run = await _ingest_one(
                config,
                storage,
                fetcher,
                bodies,
                source,
                states[source.id],
                now,
                saved.add,
                wait_for_hold=waiting.until,
                clock=clock,
            )
        finally:
            waiting.leave()
        report.runs.append(run)
        if on_result is not None:
            on_result(run)

    try:
        # A store other fetchers share (workers): a hold one of them makes meanwhile
        # keeps this run's queued fetches of that host unsent too.  Not one there
        # before: the sources it holds are due here only when started all the same
        # (fetch --all, --source).
        holds = None
        if is_postgres_url(storage.location):
            holds = stored_holds(storage, since=storage.host_holds(now))
        async with Fetcher(
            config.fetch, base_dir=config_dir(config), holds_elsewhere=holds, clock=clock
        ) as fetcher:
            try:
                # A task group, not as_completed: each fetch reports itself as it ends,
                # and the first failure (only the store's: _ingest_one keeps every
                # source's own) cancels the rest.
                async with asyncio.TaskGroup() as group:
                    for source in due:
                        group.create_task(ingest(source))
            except BaseExceptionGroup as failures:
                exc = failures.exceptions[0]
                if isinstance(exc, StorageError):
                    # The store failed (a full disk, a damaged file), not a source: every
                    # other source would fail the same way, so the run stops here, once.
                    raise StorageError(
                        f"{exc}; the run stopped after {len(report.runs)} of "
                        f"{counted(len(due), 'source')} (what was stored is kept; the others "
                        "are fetched on the next run)"
                    ) from exc
                raise exc from None
            saved.flush()
    finally:
        bodies.close()
    report.stored_by_workers = bodies.in_workers


class _HeldWaiting:
    """The sources of a run whose host holds them (a 429/503 with Retry-After) wait for
    the hold to end while the run's other fetches go on: a run that lasts longer than
    the hold fetches them once it has passed; one that ends first leaves them for the
    next run after the hold (its summary says until when)."""

    def __init__(self, fetching: int, clock: Callable[[], datetime]) -> None:
        self.fetching = fetching  # sources of the run not done nor waiting
        self.idle = asyncio.Event()  # set when none is: the waiting ones stop waiting
        self.clock = clock

    def leave(self) -> None:
        self.fetching -= 1
        if self.fetching <= 0:
            self.idle.set()

    async def until(self, moment: datetime) -> bool:
        """Wait until ``moment`` while other sources are being fetched: True when it came
        (fetch now), False when the rest of the run was done before it."""
        self.leave()
        try:
            seconds = (moment - self.clock()).total_seconds() + HOLD_MARGIN_SECONDS
            async with asyncio.timeout(max(seconds, 0)):
                await self.idle.wait()
            return False
        except TimeoutError:
            return not self.idle.is_set()
        finally:
            self.fetching += 1


HOLD_MARGIN_SECONDS = 0.05  # past the hold's end: the fetcher sees it ended


class _StateSaver:
    """Source states after a fetch that brought nothing to store (304, errors): saved a
    batch per transaction, not one each.  A run killed in between loses only the
    times of those attempts; their validators are the ones stored already."""

    BATCH = 250

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self.pending: list[SourceState] = []

    def add(self, state: SourceState) -> None:
        self.pending.append(state)
        if len(self.pending) >= self.BATCH:
            self.flush()

    def flush(self) -> None:
        pending, self.pending = self.pending, []
        if pending:
            self.storage.save_source_states(pending)


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
    # (old, new, HTTP status): the source moved permanently; recorded once this fetch is
    # stored (one left unstored is fetched at the old URL again and moves again).
    url_change: tuple[str, str, int] | None = None


def store_body(storage: Storage, job: BodyJob) -> SourceRun:
    """Parse a changed body; store its items and the source's new state in one transaction."""
    # Imported here: a warm run (all 304) never parses, and starts faster without it.
    from aggregator.parse import ParseError, parse_feed

    try:
        feed = parse_feed(
            job.body,
            job.url,
            job.headers,
            parser=job.fetch.parser,
            encoding=job.source.encoding,
            timezone=job.source.timezone,
            date_order=job.state.date_order,
        )
    except ParseError as exc:
        error = f"{job.url}: {exc}"
        if "HTML page" in str(exc):
            from aggregator.ingest.discover import html_page_hint

            error += html_page_hint(job.body, job.url, job.headers)
        state, run = decide.after_parse_error(job.source, job.state, job.fetch, job.now, error)
        storage.save_source_state(state)
        _record_url_change(storage, job.source.id, job.url_change, job.now)
        return run
    unstable = job.state.guids_unstable is not None
    seen, renamed, listed_before, again = _seen(storage, job.source.id, feed.items, unstable)
    state = job.state
    since = decide.guids_unstable(state, listed_before, again, job.now)
    if since != state.guids_unstable:  # `status` says so
        state = replace(state, guids_unstable=since)
    undated = sum(item.published is None and item.updated is None for item in feed.items)
    stored_times: list[datetime] = []
    if undated:  # dated below the newest stored item / apart from its neighbours' times
        limit = 2 * undated + 1
        while True:
            stored_times = [s.published for s in list(storage.iter_items(limit=limit))]
            if len(stored_times) < limit or not decide.more_stored_times_needed(
                undated, stored_times
            ):
                break
            limit *= 2
    plan, run = decide.plan_fetch(
        job.source,
        state,
        feed,
        seen,
        body_hash=job.body_hash,
        max_age=job.max_age,
        fetch=job.fetch,
        now=job.now,
        stored_times=stored_times,
    )
    storage.apply_fetch(replace(plan, renamed=renamed))
    _record_url_change(storage, job.source.id, job.url_change, job.now)
    return run


def _record_url_change(
    storage: Storage, source_id: str, change: tuple[str, str, int] | None, at: datetime
) -> None:
    if change is not None:
        old, new, status = change
        storage.record_url_change(source_id, old, new, status, at)


class _Seen(NamedTuple):
    seen: dict[str, SeenItem]  # by the listed ids, renamed ones included
    renamed: tuple[tuple[str, str], ...]  # (stored id, new id)
    by_id: dict[str, SeenItem]  # what the source gave before under the ids it lists
    regenerated: dict[str, tuple[str, SeenItem]]  # decide.regenerated's answer


def _seen(storage: Storage, source_id: str, items: Sequence[Item], unstable: bool = False) -> _Seen:
    """What the store holds of ``items`` by their ids, those it holds under another
    spelling of their link (``decide.relisted``) or under another guid of a source
    whose guids change (``decide.regenerated``; ``unstable``: known to) included, and
    those renamings."""
    by_id = dict(storage.seen_items(source_id, (item.id for item in items)))
    seen = dict(by_id)
    links = decide.relisted_links(items, seen) | decide.regenerated_links(items, seen)
    if not links:
        return _Seen(seen, (), by_id, {})
    stored = storage.stored_by_link(source_id, links)
    found = decide.relisted(items, seen, stored)
    claimed = {stored_id for stored_id, _ in found.values()}
    unclaimed = {
        link: [entry for entry in entries if entry[0] not in claimed]
        for link, entries in stored.items()
    }
    again = decide.regenerated(items, seen, unclaimed, unstable=unstable)
    found.update(again)
    seen.update((new_id, previous) for new_id, (_, previous) in found.items())
    renamed = tuple((stored_id, new_id) for new_id, (stored_id, _) in found.items())
    return _Seen(seen, renamed, by_id, again)


def record_fetch(
    storage: Storage, state: SourceState, items: Sequence[Item], *, fetched_at: datetime
) -> UpdateCounts:
    """Store ``items`` as one fetch of ``state``'s source (decide, then apply): for
    callers that already have items, such as benchmarks and tests."""
    seen, renamed, _, _ = _seen(storage, state.source_id, items, state.guids_unstable is not None)
    writes, counts = decide.plan_items(items, seen, fetched_at)
    storage.apply_fetch(FetchPlan(state, writes, fetched_at, counts, renamed))
    return counts


class _BodyStore:
    """Runs :func:`store_body` here for the first few bodies, then in a process pool.

    Parsing and storing are the CPU-bound part of a run, so with many changed feeds
    they go to one worker per core, each with its own connection to the store (SQLite
    serializes their short transactions), while this process keeps fetching.  A run
    with only a few changed feeds never pays for starting the workers.
    """

    def __init__(self, storage: Storage, *, first_fetches: int = 0) -> None:
        self.storage = storage
        # A run with many first fetches (a new store, a batch of new sources) starts the
        # workers with its first body: they start up while this process fetches on,
        # instead of after it parsed the first few bodies itself.
        self.many_bodies = first_fetches > PARSE_POOL_THRESHOLD
        self.started = 0
        self.in_workers = 0
        self.pool: concurrent.futures.ProcessPoolExecutor | None = None
        self.can_pool = (os.cpu_count() or 1) > 1
        self.location = ""  # the store's, for the workers: looked up once (a path resolves)
        # Theirs too: a lock another session holds for long fails their store as here.
        self.lock_timeout = storage.lock_timeout

    async def store(self, job: BodyJob) -> SourceRun:
        self.started += 1
        if (
            self.pool is None
            and self.can_pool
            and (self.many_bodies or self.started > PARSE_POOL_THRESHOLD)
        ):
            self.pool = _worker_pool()
        if self.pool is None:
            return store_body(self.storage, job)
        self.in_workers += 1
        self.location = self.location or self.storage.location
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self.pool, _store_body_in_worker, self.location, job, self.lock_timeout
        )

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)


def _worker_pool() -> concurrent.futures.ProcessPoolExecutor:
    """Workers that die with this process and inherit none of its descriptors (the run
    lock above all): see aggregator/procs.py."""
    from aggregator import procs  # here: a run with few changed feeds starts no workers

    return procs.executor(max_workers=os.cpu_count() or 1)


_worker_storage: dict[str, Storage] = {}


def _store_body_in_worker(
    location: str, job: BodyJob, lock_timeout: float | None = None
) -> SourceRun:
    storage = _worker_storage.get(location)
    if storage is None:
        storage = _worker_storage[location] = open_storage(location, lock_timeout=lock_timeout)
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
    unsynced = sync_sources(storage, config.sources)
    if unsynced:
        log.warning(
            "sources not registered, their rows held by another worker (frozen or cut off "
            "inside a transaction?): %s; not fetched this run, tried again next run",
            ", ".join(sorted(unsynced)),
        )
    states = {s.source_id: s for s in storage.source_states()}
    holds = storage.host_holds(now)
    sources = [s for s in config.sources if s.id not in unsynced]
    return schedule.select_due(sources, states, now, select_all=select_all, only=only, holds=holds)


SYNC_WAITS = 3  # lock waits a registration of the configured sources may take


def sync_sources(storage: Storage, sources: Sequence[SourceConfig]) -> set[str]:
    """Register ``sources`` (``Storage.sync_sources``); the ids left unregistered
    because another session holds their rows (a store opened with a lock timeout)."""
    try:
        storage.sync_sources(sources)
        return set()
    except LockWaitTimeout:
        pass
    # One at a time, so that a locked row holds up only its own source; a few waits at
    # most (each costs the lock timeout), the rest are tried next time.
    unsynced = set(storage.unsynced_sources(sources))
    left: set[str] = set()
    waits = 0
    for source in sources:
        if source.id not in unsynced:
            continue
        if waits >= SYNC_WAITS:
            left.add(source.id)
            continue
        try:
            storage.sync_sources([source])
        except LockWaitTimeout:
            left.add(source.id)
            waits += 1
    return left


STORED_HOLDS_SECONDS = 1.0  # how long stored_holds answers from its last read


def stored_holds(
    storage: Storage, *, since: Mapping[str, HostHold] | None = None
) -> Callable[[str], HostHold | None]:
    """``Fetcher``'s ``holds_elsewhere``: a host's hold as the store has it (made by
    any fetcher sharing it), read at most once per ``STORED_HOLDS_SECONDS`` however many
    requests wait (a run of 2,000 sources on 20 slots would ask 1,980 times); with
    ``since`` (the holds there were), only one made or moved later since."""
    read: list[tuple[float, dict[str, HostHold]]] = []

    def held(host: str) -> HostHold | None:
        now = datetime.now(UTC)
        if not read or time.monotonic() - read[0][0] >= STORED_HOLDS_SECONDS:
            read[:] = [(time.monotonic(), storage.host_holds(now))]
        hold = read[0][1].get(host)
        before = since.get(host) if since else None
        if hold is None or hold.until <= now or (before and hold.until <= before.until):
            return None
        return hold

    return held


def request_for(source: SourceConfig, state: SourceState) -> FetchRequest:
    conditional = decide.parsed_under_current_rules(state, source)
    return FetchRequest(
        url=state.url,
        etag=state.etag if conditional else None,
        last_modified=state.last_modified if conditional else None,
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
    save_state: Callable[[SourceState], None],
    *,
    wait_for_hold: Callable[[datetime], Awaitable[bool]] | None = None,
    clock: Callable[[], datetime] | None = None,
    leave_locked: bool = True,
) -> SourceRun:
    """``wait_for_hold(until)``: whether to fetch again when its host's hold ends (a
    run's other fetches still going on then); ``clock``: the time an answer came (a
    Retry-After counts from it); ``leave_locked``: a source whose store meets another
    session's lock (``LockWaitTimeout``) is "locked", said here (a run's), or the
    error is raised (a fetch worker's: it leaves the source itself, lease and all)."""
    try:
        while True:
            result = await fetcher.fetch(request_for(source, state))
            held = result.outcome is FetchOutcome.HELD and wait_for_hold is not None
            hold = fetcher.hold_of(result.final_url) if held else None
            if hold is None or wait_for_hold is None or not await wait_for_hold(hold.until):
                break
        if result.outcome is FetchOutcome.RETRY_LATER and clock is not None:
            # Late in a long run, "Retry-After: 120" counts from the answer, not the start.
            now = max(now, clock().replace(microsecond=0))
        return await _handle_result(
            config, storage, fetcher, bodies, source, state, result, now, save_state
        )
    except LockWaitTimeout:
        if not leave_locked:
            raise  # a fetch worker's: it says so itself
        # Another session (a worker frozen inside its transaction) holds a lock this
        # source's store needs: the store's transaction rolled back, nothing of this
        # fetch stored (its validators neither, so the next fetch brings the items again).
        log.warning(
            "source %s: not stored: another worker holds its rows (frozen or cut off "
            "inside a transaction?); fetched again next run",
            source.id,
        )
        return SourceRun(source.id, "locked")
    except StorageError:
        raise  # not this source's fault: _ingest stops the run
    except Exception as exc:  # a bug must not stop the other sources
        log.exception("unexpected failure on source %s", source.id)
        error = without_userinfo(f"internal error: {type(exc).__name__}: {exc}")
        storage.save_source_state(
            schedule.after_failure(state, source, config.fetch, now, error=error)
        )
        return SourceRun(source.id, "error", error=error)


async def _handle_result(
    config: Config,
    storage: Storage,
    fetcher: Fetcher,
    bodies: _BodyStore,
    source: SourceConfig,
    state: SourceState,
    result: FetchResult,
    now: datetime,
    save_state: Callable[[SourceState], None],
) -> SourceRun:
    hold = fetcher.hold_of(result.final_url) if result.outcome is FetchOutcome.HELD else None
    if hold is not None:
        decision = decide.held(source, state, hold)
    else:
        decision = decide.after_fetch(source, state, result, config.fetch, now)
    if decision.host_hold is not None:
        # The host's other sources wait too: those queued in this fetcher now, those
        # of later runs and of other workers through the store.
        fetcher.hold(decision.host_hold)
        storage.hold_host(decision.host_hold, now)
    if decision.url_change is not None:
        log.info("%s moved permanently to %s", source.id, decision.url_change[1])
    if decision.run is not None:
        save_state(decision.state)
        _record_url_change(storage, source.id, decision.url_change, now)
        return decision.run
    assert decision.body_hash is not None
    job = BodyJob(
        source=source,
        fetch=config.fetch,
        state=decision.state,
        body=result.body or b"",
        body_hash=decision.body_hash,
        url=result.final_url,
        headers=result.headers,
        max_age=decision.max_age,
        now=now,
        url_change=decision.url_change,  # recorded with what is stored, not before
    )
    return await bodies.store(job)


async def ingest_source(
    config: Config, storage: Storage, fetcher: Fetcher, source: SourceConfig, state: SourceState
) -> SourceRun:
    """Fetch one source and store what changed, all in this process (a fetch worker's
    unit of work: a worker scales by processes, not by a parse pool of its own)."""
    bodies = _BodyStore(storage)
    bodies.can_pool = False
    return await _ingest_one(
        config,
        storage,
        fetcher,
        bodies,
        source,
        state,
        datetime.now(UTC),
        storage.save_source_state,
        leave_locked=False,  # the worker leaves such a source itself, lease and all
    )
