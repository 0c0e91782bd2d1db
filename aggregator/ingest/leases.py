"""Keeping a fetcher's leases while it works, however long a fetch or a parse takes.

A lease (``Storage.lease``) expires so that a killed fetcher's sources go to another;
a fetcher that is alive but slow (a server that drips, a huge feed to parse) must not
lose its sources the same way, or a second fetcher would fetch and store them at the
same time.  ``LeaseKeeper`` renews the leases in flight every third of the lease time,
from a thread with its own connection to the store: a parse or a write that blocks the
fetcher's event loop does not stop the renewals.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable, Iterable

from aggregator.store import Storage, StorageError, open_storage
from aggregator.text.counts import counted

log = logging.getLogger(__name__)


def run_holder(pid: int) -> str:
    """The holder name of the leases of ``aggregator run`` (or fetch) process ``pid``
    on this host: the next run releases those of one that was killed."""
    return f"run on {socket.gethostname()} pid {pid}"


__all__ = ["LeaseKeeper"]


class LeaseKeeper:
    """``with LeaseKeeper(location, holder, seconds) as keeper:`` renews ``holder``'s
    leases of the sources ``keeper.hold(ids)`` names until ``keeper.drop(ids)`` (or the
    end of the ``with``).  A lease another fetcher took meanwhile (this one was stopped
    longer than the lease: a frozen host) is not taken back: it goes to ``lost``."""

    def __init__(
        self,
        location: str,
        holder: str,
        seconds: float,
        *,
        open_store: Callable[[str], Storage] = open_storage,
    ) -> None:
        self.location = location
        self.holder = holder
        self.seconds = seconds
        self.every = seconds / 3  # two renewals may fail before a lease runs out
        self.lost: set[str] = set()
        self.renewals = 0
        self._open_store = open_store
        self._held: set[str] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lease keeper", daemon=True)

    def hold(self, source_ids: Iterable[str]) -> None:
        with self._lock:
            self._held.update(source_ids)

    def drop(self, source_ids: Iterable[str]) -> None:
        with self._lock:
            self._held.difference_update(source_ids)

    def __enter__(self) -> LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        store: Storage | None = None
        try:
            while not self._stop.wait(self.every):
                with self._lock:
                    held = sorted(self._held)
                if not held:
                    continue
                try:
                    if store is None:
                        store = self._open_store(self.location)
                    kept = set(store.renew(held, holder=self.holder, seconds=self.seconds))
                except StorageError as exc:
                    # The fetches will meet the same failure and say so; keep trying.
                    log.warning(
                        "cannot renew the leases of %s: %s", counted(len(held), "source"), exc
                    )
                    if store is not None:
                        store.close()
                        store = None
                    continue
                self.renewals += 1
                with self._lock:
                    # Dropped (and released) since the snapshot: not lost, just done.
                    lost = (set(held) - kept) & self._held
                    self._held -= lost
                    self.lost |= lost
                if lost:
                    log.warning(
                        "leases of %s expired before they were renewed and another fetcher "
                        "took them: this one was stopped longer than the lease (%ss); "
                        "raise --lease",
                        ", ".join(sorted(lost)),
                        self.seconds,
                    )
        finally:
            if store is not None:
                store.close()
