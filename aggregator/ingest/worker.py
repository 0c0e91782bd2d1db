"""Fetch workers: processes on any hosts that fetch the due sources of one shared
(PostgreSQL) store until they are stopped.

Each worker leases due sources from the store (``Storage.lease``: ``SELECT ... FOR
UPDATE SKIP LOCKED`` and a lease expiry), fetches and stores them as ``aggregator run``
does, and releases each lease when its fetch is stored.  A source is leased by one
worker at a time, and a leased source that was fetched is no longer due, so every due
source is fetched once per due period however many workers run; a worker killed with
-9 loses only its transactions in flight, and its leases expire for another worker to
take the sources; a worker alive but slow keeps its leases (``leases.LeaseKeeper``
renews them).  What is due is decided by ``schedule`` (the store narrows by the same
rule, then each leased state is checked again here).

A worker frozen or cut off inside a transaction (a paused VM, a lost network: its
server keeps the session until TCP gives up, hours later) holds that transaction's locks
meanwhile.  So a worker's statements wait at most ``LOCK_TIMEOUT_SECONDS`` for a lock
(``open_storage(lock_timeout=...)``): a source whose store times out is left, nothing
of its fetch stored, until its lease ends, and then fetched again whole; sources whose
startup registration times out are registered again every lease period meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Callable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import UTC, datetime

from aggregator.config import Config, config_dir
from aggregator.ingest import decide, schedule
from aggregator.ingest.decide import SourceRun
from aggregator.ingest.fetch import Fetcher
from aggregator.ingest.leases import LeaseKeeper
from aggregator.ingest.update import ingest_source, stored_holds, sync_sources
from aggregator.models import SourceState
from aggregator.store import LockWaitTimeout, Storage, StorageError, open_storage

log = logging.getLogger(__name__)

POLL_SECONDS = 5.0  # how long an idle worker waits before it looks for due sources again
# How long a worker's statement waits for another session's lock.  A live worker's
# transaction (one fetch's rows) holds its locks for well under a second; a frozen
# one's, for hours.  Short, and not the lease: a store runs in the worker's event loop,
# so every second waited stalls all its fetches; a source left costs one such wait.
LOCK_TIMEOUT_SECONDS = 5.0


def holder_name() -> str:
    """Who holds a lease, for people reading the sources table."""
    return f"{socket.gethostname()} pid {os.getpid()}"


@dataclass
class WorkerReport:
    fetched: int = 0
    new_items: int = 0
    failed: int = 0
    leases_lost: int = 0  # renewed too late: another fetcher took the source meanwhile
    # Fetched, but not stored: another session held a lock its store needed (a worker
    # frozen inside a transaction); fetched again when its lease ends.
    locked: int = 0
    # Sources left for a hold on their host (a 429/503 answered to any fetcher), and
    # when the last of those holds ends.
    held: int = 0
    held_until: datetime | None = None
    runs: list[SourceRun] = field(default_factory=list)

    def add(self, run: SourceRun) -> None:
        if run.status == "locked":
            self.locked += 1
            return
        self.fetched += 1
        self.new_items += run.new
        self.failed += run.status in ("error", "gone", "retry later")
        if run.status == "held" and run.until is not None:
            self.add_held(run.until)

    def add_held(self, until: datetime) -> None:
        self.held += 1
        self.held_until = until if self.held_until is None else max(self.held_until, until)


async def work(
    config: Config,
    storage: Storage,
    stop: asyncio.Event,
    *,
    concurrency: int = 8,
    lease_seconds: float | None = None,
    poll_seconds: float = POLL_SECONDS,
    on_result: Callable[[SourceRun], None] | None = None,
) -> WorkerReport:
    """Fetch due sources, ``concurrency`` at a time, until ``stop`` is set; then finish
    the fetches in flight and return.  ``on_result`` is told of every source fetched,
    and of every source left for a hold on its host ("held", with ``until``)."""
    lease = lease_seconds or schedule.lease_seconds(config.fetch, config.sources)
    holder = holder_name()
    sources = {s.id: s for s in config.sources if s.enabled}
    # Sources not registered yet (their rows locked elsewhere) are not leased: a changed
    # URL not stored would be fetched at the old one.
    unsynced = _sync(storage, config, lease, frozenset())
    ids = sorted(set(sources) - unsynced)
    # The sources a held lock kept from being stored, said once each until one of them
    # is stored again (a hold lasts hours: not a line every lease period).
    said_locked: set[str] = set()
    sync_again = asyncio.get_running_loop().time() + lease
    report = WorkerReport()
    in_flight: set[asyncio.Task[SourceRun]] = set()
    stopping = asyncio.ensure_future(stop.wait())
    ended: BaseException | None = None
    # The fetches' failures in the order they came: when the store fails (its connection
    # lost), the first says why; the others only that the connection is closed.
    failures: list[Exception] = []

    async def one(source_id: str, state: SourceState) -> SourceRun:
        try:
            run = await ingest_source(config, storage, fetcher, sources[source_id], state)
        except LockWaitTimeout:
            # Another session (a worker frozen inside its transaction) holds a lock this
            # source's store needs: nothing of this fetch was stored (its validators
            # neither, so the next fetch brings the items again).  The lease is kept,
            # not renewed: it ends by itself, and then a worker fetches the source again.
            keeper.drop([source_id])
            log.log(
                logging.DEBUG if source_id in said_locked else logging.WARNING,
                "source %s: not stored: another worker holds its rows (frozen or cut off "
                "inside a transaction?); fetched again when its lease ends (within %gs)",
                source_id,
                lease,
            )
            said_locked.add(source_id)
            return SourceRun(source_id, "locked")
        except BaseException as exc:
            if isinstance(exc, Exception):  # not a cancellation
                failures.append(exc)
            keeper.drop([source_id])
            # The store failing (a lost connection) is what is said, not this release
            # failing the same way after it: the lease ends by itself.
            with contextlib.suppress(StorageError):
                storage.release([source_id], holder=holder)
            raise
        keeper.drop([source_id])
        storage.release([source_id], holder=holder)
        said_locked.discard(source_id)  # stored: held again later is said again
        return run

    # A fetch or a parse may outlast the lease: the keeper renews what is in flight.
    def open_store(location: str) -> Storage:
        return open_storage(location, lock_timeout=LOCK_TIMEOUT_SECONDS)

    with LeaseKeeper(storage.location, holder, lease, open_store=open_store) as keeper:
        # Another worker's hold, made while fetches of its host wait here, stops them.
        async with Fetcher(
            config.fetch, base_dir=config_dir(config), holds_elsewhere=stored_holds(storage)
        ) as fetcher:
            try:
                while not stop.is_set():
                    if unsynced and asyncio.get_running_loop().time() >= sync_again:
                        unsynced = _sync(storage, config, lease, unsynced)
                        ids = sorted(set(sources) - unsynced)
                        sync_again = asyncio.get_running_loop().time() + lease
                    room = concurrency - len(in_flight)
                    leased = []
                    # Lease in batches (half the room at least): one query per batch.
                    if room and (not in_flight or room * 2 >= concurrency):
                        now = datetime.now(UTC)
                        leased = storage.lease(
                            ids, holder=holder, seconds=lease, limit=room, due_at=now
                        )
                        keeper.hold(state.source_id for state in leased)
                        holds = storage.host_holds(now) if leased else {}
                        for state in leased:
                            hold = schedule.host_hold(state, holds, now)
                            if hold is not None:  # its host answered 429/503 to a fetcher
                                left = decide.held(sources[state.source_id], state, hold)
                                storage.save_source_state(left.state)
                                report.add_held(hold.until)
                                if on_result is not None and left.run is not None:
                                    on_result(left.run)
                            if hold is not None or not schedule.is_due(state, now):
                                # (the store's rule is schedule's)
                                keeper.drop([state.source_id])
                                storage.release([state.source_id], holder=holder)
                                continue
                            in_flight.add(asyncio.ensure_future(one(state.source_id, state)))
                    if not in_flight:
                        await asyncio.wait([stopping], timeout=poll_seconds)
                        continue
                    done, _ = await asyncio.wait(
                        [*in_flight, stopping],
                        timeout=None if leased or len(in_flight) >= concurrency else poll_seconds,
                        return_when=asyncio.FIRST_COMPLETED,
                    )
                    for task in done - {stopping}:
                        in_flight.discard(task)
                        _finish(task, report, on_result)
            except BaseException as exc:
                ended = exc
                if exc in failures and exc is not failures[0]:
                    ended = failures[0]
                    raise ended from None
                raise
            finally:
                # Stopping (SIGTERM) or failing: the fetches in flight finish and are
                # stored; each one's failure is taken (none is left for asyncio to print
                # as "never retrieved"), and the first ends the worker unless it ends
                # already.
                failed = None
                if in_flight:
                    done, _ = await asyncio.wait(in_flight)
                    for task in done:
                        if task.cancelled():
                            continue
                        if task.exception() is None:
                            _finish(task, report, on_result)
                        elif failed is None:
                            failed = failures[0] if failures else task.exception()
                stopping.cancel()
                if failed is not None and ended is None:
                    raise failed
    report.leases_lost = len(keeper.lost)
    return report


def _sync(storage: Storage, config: Config, lease: float, said: AbstractSet[str]) -> set[str]:
    """Register the configured sources (``update.sync_sources``: one at a time where
    another session holds rows, a few lock waits at most); the ids left unregistered,
    said as a warning unless they are those left last time (``said``)."""
    left = sync_sources(storage, config.sources)
    if not left:
        return left
    log.log(
        logging.DEBUG if left == said else logging.WARNING,
        "new or changed sources not registered yet, their rows held by another worker "
        "(frozen or cut off inside a transaction?): %s; tried again every %gs, the "
        "others are fetched",
        ", ".join(sorted(left)),
        lease,
    )
    return left


def _finish(
    task: asyncio.Task[SourceRun],
    report: WorkerReport,
    on_result: Callable[[SourceRun], None] | None,
) -> None:
    run = task.result()  # a StorageError ends the worker: every source would fail alike
    report.add(run)
    if on_result is not None:
        on_result(run)
