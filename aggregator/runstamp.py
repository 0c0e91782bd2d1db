"""What the last ``aggregator run`` related and published from: a run that finds nothing
new skips both stages, and never leaves an output stale.

After a run that related and published, a stamp goes into the output directory
(``.run-stamp``): fingerprints of everything those stages read, and the size and
modification time of what they wrote.  The next run skips them only when all of it is
as it was:

* the configuration file's bytes, the store's location, the installed code (every file
  of the package: a template or a rule may change), the house's commentary files and a
  ``publish.templates`` directory (names, sizes, modification times);
* the store's items: its change number (``Storage.item_changes``: any item stored,
  edited or removed, pruning included) and its item count;
* the sources' states as publish shows them: their feed's URL, title, link and date,
  and their health (ok, failing with which error, gone, never fetched); not the times
  and counters every fetch attempt moves (``PER_ATTEMPT``): a run that skips the stages
  rewrites health.json alone, with those times and its own;
* the hosts held (``Storage.host_holds``: a 429/503 keeps their feeds waiting), which
  health.json shows: a hold made, moved or ended since is a change;
* every file publish wrote, each related file at the top of the output directory, and
  the directories below it (a deleted file changes its directory), as the stamp has
  them;
* no WebSub announcement waiting to be retried.

Nothing else the stages write depends on the wall clock (publish counts ``max_age``
back from the newest stored item), so equal inputs give equal outputs.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from operator import attrgetter
from pathlib import Path

import aggregator
from aggregator.config import Config, resolve_path
from aggregator.files import write_if_changed
from aggregator.health import HEALTH_FILE
from aggregator.models import HostHold, SourceState
from aggregator.store import Storage

STAMP_FILE = ".run-stamp"  # JSON, but not named *.json: it is no feed of the site
FORMAT = 2  # 2: states fingerprinted as one list of field values

# Moved by every fetch attempt, also one that brings nothing.  What they mean for a
# reader stays in the comparison: whether a source failed (``consecutive_failures``
# as a yes/no, with its ``last_error``) or was ever fetched (``last_attempt``).
# Validators and the body hash are only for fetching; the items themselves are
# compared through the store's change number.
PER_ATTEMPT = frozenset(
    {
        "etag",
        "last_modified",
        "body_hash",
        "last_attempt",
        "last_success",
        "last_error_at",
        "consecutive_failures",
        "next_due",
        "backoff_until",
        "min_interval_seconds",
        "item_count",
    }
)
# Written by every run: health.json is its heartbeat (cli._relate_and_publish).
ALWAYS_WRITTEN = frozenset({STAMP_FILE, HEALTH_FILE})


@dataclass
class Stamp:
    inputs: str  # config, store location, code, commentary, templates
    store_mark: int
    items: int
    states: str
    outputs: dict[str, list[int]] = field(default_factory=dict)  # path -> [size, mtime_ns]

    def same_inputs(self, other: Stamp) -> bool:
        return (self.inputs, self.items, self.states) == (other.inputs, other.items, other.states)


def current(config: Config, storage: Storage, store_location: str | os.PathLike) -> Stamp:
    """The fingerprints of what relate and publish would read now (no outputs yet)."""
    mark = storage.item_changes(None)[0]
    holds = storage.host_holds(datetime.now(UTC))
    return Stamp(
        inputs=inputs_fingerprint(config, store_location),
        store_mark=mark,
        items=storage.items_count(),
        states=states_fingerprint(storage.source_states(), holds.values()),
    )


def unchanged_since(last: Stamp | None, now: Stamp, storage: Storage, out_dir: Path) -> bool:
    """True when ``now`` has the inputs of ``last`` and the outputs ``last`` recorded are
    in place untouched: relating and publishing again would change nothing."""
    if last is None or not last.same_inputs(now):
        return False
    mark, changed, removed = storage.item_changes(last.store_mark)
    if mark < last.store_mark or changed or removed:
        return False
    return bool(last.outputs) and outputs_as_recorded(out_dir, last.outputs)


def inputs_fingerprint(config: Config, store_location: str | os.PathLike) -> str:
    digest = hashlib.sha256(f"{FORMAT}\0{store_location}\0{config.path}\0".encode())
    if config.path:
        with contextlib.suppress(OSError):
            digest.update(Path(config.path).read_bytes())
    directories = [("code", Path(aggregator.__file__).parent, True)]
    if config.house.commentary_dir:  # house.commentary_dir(), without importing the stage
        directories.append(("commentary", resolve_path(config, config.house.commentary_dir), False))
    if config.publish.templates:
        directories.append(("templates", resolve_path(config, config.publish.templates), True))
    for label, directory, recursive in directories:
        digest.update(f"\0{label}\0{directory}".encode())
        for line in _listing(directory, recursive):
            digest.update(line.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def _listing(directory: Path, recursive: bool) -> Iterable[str]:
    """``name size mtime_ns`` of every file (not __pycache__), sorted."""
    lines = []
    stack = [directory]
    while stack:
        here = stack.pop()
        try:
            entries = list(os.scandir(here))
        except OSError:
            lines.append(f"{here} unreadable\n")
            continue
        for entry in entries:
            with contextlib.suppress(OSError):
                if entry.is_dir():
                    if recursive and entry.name != "__pycache__":
                        stack.append(Path(entry.path))
                    continue
                st = entry.stat()
                lines.append(f"{entry.path} {st.st_size} {st.st_mtime_ns}\n")
    return sorted(lines)


_SHOWN = tuple(sorted(f.name for f in dataclasses.fields(SourceState) if f.name not in PER_ATTEMPT))


def states_fingerprint(states: Sequence[SourceState], holds: Iterable[HostHold]) -> str:
    """One digest of every state's shown fields (``_SHOWN``, by name), whether it is
    failing and whether it was ever fetched, and of the hosts held: one repr for all,
    not one per state."""
    shown = attrgetter(*_SHOWN)
    rows = [
        (*shown(state), state.consecutive_failures > 0, state.last_attempt is not None)
        for state in sorted(states, key=attrgetter("source_id"))
    ]
    rows.append(sorted((h.host, h.until.timestamp(), h.source_id, h.reason) for h in holds))
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def snapshot(out_dir: Path, written: Iterable[Path]) -> dict[str, list[int]]:
    """Size and modification time of the files ``written`` (every file publish reported),
    of the related files at the top of ``out_dir``, the list blocks in
    ``related/lists/`` (what embedders read first: about 100 files at 100,000 entries)
    and the URL map's shards in ``related/urls/`` (256 at most), and of every directory
    they are in below it, or ``related/`` and its ``urls/`` (a file deleted there changes
    them)."""
    out_dir = Path(out_dir)
    related = out_dir / "related"
    paths = {Path(p) for p in written}
    paths.update(p for p in out_dir.glob("related.*") if p.is_file())
    for small in (related / "lists", related / "urls"):
        paths.update(p for p in small.glob("*.json") if p.is_file())
    directories = {p.parent for p in paths if p.parent != out_dir}
    directories.update(d for d in (related, related / "urls", related / "lists") if d.is_dir())
    recorded: dict[str, list[int]] = {}
    for path in sorted(paths | directories):
        if path.name in ALWAYS_WRITTEN and path.parent == out_dir:
            continue
        with contextlib.suppress(OSError, ValueError):
            st = path.stat()
            recorded[path.relative_to(out_dir).as_posix()] = [
                0 if path.is_dir() else st.st_size,
                st.st_mtime_ns,
            ]
    return recorded


def outputs_as_recorded(out_dir: Path, recorded: dict[str, list[int]]) -> bool:
    for name, (size, mtime_ns) in recorded.items():
        try:
            st = (Path(out_dir) / name).stat()
        except OSError:
            return False  # deleted (or unreadable): write it again
        is_dir = (st.st_mode & 0o170000) == 0o040000
        if st.st_mtime_ns != mtime_ns or (not is_dir and st.st_size != size):
            return False
    return True


def read(out_dir: Path) -> Stamp | None:
    try:
        data = json.loads((Path(out_dir) / STAMP_FILE).read_bytes())
        if data.get("format") != FORMAT:
            return None
        return Stamp(
            inputs=str(data["inputs"]),
            store_mark=int(data["store_mark"]),
            items=int(data["items"]),
            states=str(data["states"]),
            outputs={str(k): [int(v[0]), int(v[1])] for k, v in data["outputs"].items()},
        )
    except (OSError, ValueError, TypeError, KeyError, AttributeError, IndexError):
        return None  # none yet, or damaged: the run relates and publishes


def write(out_dir: Path, stamp: Stamp) -> None:
    data = {"format": FORMAT, **dataclasses.asdict(stamp)}
    write_if_changed(Path(out_dir) / STAMP_FILE, json.dumps(data, sort_keys=True).encode())


def forget(out_dir: Path) -> None:
    """No stamp: the next run relates and publishes (after a run that failed half-way)."""
    with contextlib.suppress(OSError):
        (Path(out_dir) / STAMP_FILE).unlink()
