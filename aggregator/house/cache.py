"""Match results kept between runs: a cron run that finds nothing new does no matching.

A result is reused when both what it was computed from are unchanged: the commentary
(every field of it, hashed) and the store (its item count and, per source, the hash of
the last body fetched and its item count -- all read through the ``Storage`` protocol, so
a new or edited item of any feed changes it).  Any change of the store re-matches
everything (the index is rebuilt); an edited commentary is matched again on its own.

The cache is a JSON file beside the store (``<store>.matches.json``), written atomically;
a missing, unreadable or outdated file only means matching runs as it would without it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

from aggregator.files import write_if_changed
from aggregator.house.load import Commentary
from aggregator.house.match import Match
from aggregator.store import Storage

__all__ = ["MatchCache", "commentary_key", "store_state"]

FORMAT = 1


def store_state(storage: Storage) -> str:
    """A fingerprint of everything matching reads from the store."""
    parts = [str(storage.items_count())]
    for state in sorted(storage.source_states(), key=lambda s: s.source_id):
        parts.append(f"{state.source_id}\t{state.body_hash}\t{state.item_count}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def commentary_key(commentary: Commentary) -> str:
    """A hash of every field of ``commentary``: any edit gives another key."""
    return hashlib.sha256(repr(commentary).encode()).hexdigest()


class MatchCache:
    """Match results by commentary, valid for one store state."""

    def __init__(self, path: Path | None, state: str) -> None:
        self.path = path
        self.state = state
        self._entries: dict[str, dict] = {}
        self._changed = False
        if path is not None:
            with contextlib.suppress(OSError, ValueError, TypeError, KeyError):
                document = json.loads(path.read_text(encoding="utf-8"))
                if document["format"] == FORMAT and document["state"] == state:
                    self._entries = dict(document["entries"])

    @classmethod
    def for_storage(cls, storage: Storage) -> MatchCache:
        location = getattr(storage, "location", "")
        path = Path(f"{location}.matches.json") if location and Path(location).exists() else None
        return cls(path, store_state(storage))

    def get(self, commentary: Commentary) -> Match | None:
        entry = self._entries.get(commentary_key(commentary))
        if entry is None:
            return None
        with contextlib.suppress(TypeError, ValueError):
            return _match(entry)
        return None

    def put(self, commentary: Commentary, match: Match) -> None:
        self._entries[commentary_key(commentary)] = dataclasses.asdict(match)
        self._changed = True

    def save(self, keep: Sequence[Commentary]) -> None:
        """Write the results of ``keep`` (the commentary of this run) if any changed."""
        if self.path is None:
            return
        wanted = {commentary_key(c) for c in keep}
        entries = {k: v for k, v in self._entries.items() if k in wanted}
        if not self._changed and len(entries) == len(self._entries):
            return
        document = {"format": FORMAT, "state": self.state, "entries": entries}
        with contextlib.suppress(OSError):
            data = json.dumps(document, ensure_ascii=False, sort_keys=True).encode()
            write_if_changed(self.path, data, durable=False)


def _match(entry: dict) -> Match:
    return Match(
        keys=tuple(entry["keys"]),
        method=entry["method"],
        confidence=float(entry["confidence"]),
        candidates=tuple((str(k), float(c)) for k, c in entry["candidates"]),
        quotes=tuple(int(n) for n in entry["quotes"]),
        error=entry["error"],
        note=entry["note"],
        related=tuple(entry["related"]),
        evidence=tuple(entry["evidence"]),
    )
