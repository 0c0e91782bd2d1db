"""The store's one error type, shared by every backend."""

from __future__ import annotations


class StorageError(Exception):
    """The store cannot be used (not a database, damaged, too new, locked...).

    The message names the store and says what to do.
    """


class LockWaitTimeout(StorageError):
    """A statement waited longer than the session's lock timeout for a lock another
    session holds (PostgreSQL: a worker frozen or cut off inside a transaction).  The
    statement's transaction was rolled back; nothing of it was stored."""


class StoreNotMade(StorageError):
    """Opened read-only, the store has no tables yet: no run has made it."""


class StoreOutdated(StorageError):
    """Opened read-only, the store is of an earlier schema: only a writer upgrades it."""


def older_than_read_only(location: str, version: int, current: int) -> StoreOutdated:
    """A store of an earlier schema, opened read-only: nothing may migrate it here."""
    return StoreOutdated(
        f"store {location} is of an earlier version of aggregator (schema {version}, this "
        f"version's is {current}) and is opened read-only here: the next run (as a user "
        "who may write it) upgrades it"
    )
