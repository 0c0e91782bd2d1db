"""The match index kept between runs: built once, then brought up to the store's changes.

Building the index reads and analyses every stored item (about ten seconds at 100,000
items); a run that stored ten items needs only those ten added.  So the index is saved
with the store's change mark it reflects (``Storage.item_changes``), and the next run that
needs it loads it, takes out what was removed or edited since, adds what was stored or
edited, and has what a full build would give: ``MatchIndex`` answers the same whatever
order its items came in and were removed (tests/house/test_saved.py compares the two on
a real store).  It is written again only once ``SAVE_AFTER`` changes came since (until
then a run re-applies them, a few milliseconds each), and built anew when items added out
of order or removed would slow its searches (``MatchIndex.needs_rebuild``).

Where: ``<store>.matchindex`` beside a SQLite store; for a PostgreSQL store, in the
config file's directory as ``<database>-<hash of its URL>.matchindex`` -- derived data that each host keeps
for itself (the change mark is the database's, so any host's index catches up).  The file
records the store, the house feeds (their posts are never sources) and the code that
made it; any other, a change mark that went back, a file that is not the user's own, or
one that cannot be read only means a full build.  A pickle, as the validated-config cache
is: written atomically by this program, beside the store it describes.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
from collections.abc import Callable, Iterable
from pathlib import Path
from urllib.parse import urlsplit

from aggregator.config import Config, config_dir
from aggregator.files import atomic_binary
from aggregator.house.index import INDEX_MODULES, MatchIndex, code_version
from aggregator.house.load import house_source_ids, may_name
from aggregator.models import StoredItem
from aggregator.store import Storage, is_postgres_url

__all__ = ["SAVE_AFTER", "index_path", "load_index", "update_index"]

FORMAT = 1
SAVE_AFTER = 300  # changes since the saved index before it is written again
READER = "house.index"  # its name among the change log's readers


def index_path(location: str, directory: Path | None = None) -> Path | None:
    """Where the match index of the store at ``location`` is kept (None: nowhere).

    A PostgreSQL store has no directory of its own: its index goes into ``directory``
    (the config file's), and nowhere for a config built in code, which has none."""
    if is_postgres_url(location):
        if directory is None:
            return None
        database = urlsplit(location).path.strip("/") or "aggregator"
        which = hashlib.sha256(location.encode()).hexdigest()[:8]  # its schema, host, port
        return directory / f"{database}-{which}.matchindex"
    if not location or not Path(location).exists():
        return None
    return Path(f"{location}.matchindex")


def load_index(storage: Storage, config: Config, *, save: bool = True) -> MatchIndex:
    """The index of every stored item matching may name (all but the house feeds'
    posts), as a full build would give it now: the saved one brought up to date, or
    built (and saved) when there is none to use.  ``save=False``: nothing is written (a
    command that only looks, run beside a run that may be saving it)."""
    path = index_path(storage.location, config_dir(config) if config.path else None)
    identity = _identity(storage.location, config)
    nameable = may_name(config)
    saved = _read(path, identity) if path is not None else None
    if path is not None and saved is not None:
        index, mark = saved
        now, changed, removed = storage.item_changes(mark)
        # Not when the mark went back (another store, or one restored from an older
        # copy), nor when the log dropped changes after it (this index went unread for
        # a month): the items removed since are not listed then, and would stay in it.
        if now >= mark and storage.changes_kept(mark):
            update_index(index, storage, changed, removed, nameable)
            if not index.needs_rebuild:
                if save and len({*changed, *removed}) >= SAVE_AFTER:
                    _write(path, identity, index, now)
                    mark = now
                if save:
                    # The change log keeps what the saved index has not read yet; said
                    # every run, so that a reader in use is never taken for one gone.
                    storage.changes_read(READER, mark)
                return index
    mark = storage.item_changes(None)[0]  # before reading: what changes later comes again
    index = MatchIndex.build(filter(nameable, storage.iter_items(newest_first=False)))
    if path is not None and save:
        _write(path, identity, index, mark)
        storage.changes_read(READER, mark)
    return index


def update_index(
    index: MatchIndex,
    storage: Storage,
    changed: Iterable[str],
    removed: Iterable[str],
    nameable: Callable[[StoredItem], bool],
) -> None:
    """Bring ``index`` up to the store: take out the ``removed`` and ``changed`` items,
    then add the ``changed`` ones as they are stored now (oldest first)."""
    for key in removed:
        index.remove(key)
    fresh: list[StoredItem] = []
    for key in dict.fromkeys(changed):
        index.remove(key)
        stored = storage.get_item(key)
        if stored is not None and nameable(stored):
            fresh.append(stored)
    fresh.sort(key=lambda s: (s.published, s.key))
    for stored in fresh:
        index.add(stored)


def _identity(location: str, config: Config) -> str:
    code = code_version(INDEX_MODULES)  # the source of the code that makes its content
    # Which items it holds follows from the house feeds and the configured sources:
    # another set of them (a source removed, or added back) is another index.
    house, published = house_source_ids(config), config.publishing_sources()
    which = (FORMAT, location, sorted(house), sorted(published), code)
    return hashlib.sha256(repr(which).encode()).hexdigest()


def _read(path: Path, identity: str) -> tuple[MatchIndex, int] | None:
    unreadable = (OSError, ValueError, TypeError, KeyError, EOFError, AttributeError)
    with contextlib.suppress(*unreadable, pickle.UnpicklingError):
        with path.open("rb") as f:
            if os.fstat(f.fileno()).st_uid != os.geteuid():
                return None  # only a file this user wrote is unpickled
            document = pickle.load(f)
        if document["identity"] == identity and isinstance(document["index"], MatchIndex):
            return document["index"], int(document["mark"])
    return None


def _write(path: Path, identity: str, index: MatchIndex, mark: int) -> None:
    document = {"identity": identity, "mark": mark, "index": index}
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_binary(path) as f:
            pickle.dump(document, f, protocol=pickle.HIGHEST_PROTOCOL)
