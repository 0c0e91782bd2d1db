"""The store's one error type, shared by every backend."""

from __future__ import annotations


class StorageError(Exception):
    """The store cannot be used (not a database, damaged, too new, locked...).

    The message names the store and says what to do.
    """


class StoreNotMade(StorageError):
    """Opened read-only, the store has no tables yet: no run has made it."""
