"""The store: every stage that reads or writes items goes through ``Storage``."""

from aggregator.store.sqlite import Storage, StorageError

__all__ = ["Storage", "StorageError"]
