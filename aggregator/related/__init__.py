"""The relate stage: "Читать далее / Related" lists for every stored entry.

See :mod:`aggregator.related.index` for how they are ranked and kept up to date."""

from __future__ import annotations

import time
from collections.abc import Collection, Mapping
from pathlib import Path

from aggregator.config import Config
from aggregator.files import write_if_changed
from aggregator.house import HouseCommentary, commentary_dir, house_source_ids
from aggregator.related.analyze import (
    Document,
    Entry,
    describe_entry,
    document,
    parse_store,
    version_of,
)
from aggregator.related.export import url_key, url_shard, write_outputs
from aggregator.related.index import REBUILD_DRIFT, Refresh, RelatedIndex, UpdateStats
from aggregator.related.persist import index_path, load_index, save_index
from aggregator.store import Storage

__all__ = [
    "Document",
    "Entry",
    "RelatedIndex",
    "Refresh",
    "document",
    "index_path",
    "load_index",
    "save_index",
    "commentary_sources",
    "refresh",
    "relate",
    "url_key",
    "url_shard",
    "write_outputs",
]


def relate(
    config: Config,
    storage: Storage,
    out_dir: Path,
    *,
    rebuild: bool = False,
    house: HouseCommentary | None = None,
) -> Refresh:
    """The relate stage: bring the index up to date with the store, then write
    ``related.json``, ``related/`` and the widget into ``out_dir`` for publish and
    for the sites that embed them.  ``house``: the matched commentary, if loaded."""
    exclude = commentary_sources(config, storage, house)
    result = refresh(config, storage, rebuild=rebuild, exclude=exclude)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_outputs(
        config,
        result,
        out_dir,
        lambda name, data: write_if_changed(out_dir / name, data),
        exclude=exclude,
    )
    return result


def commentary_sources(
    config: Config, storage: Storage, house: HouseCommentary | None = None
) -> dict[str, set[str]]:
    """Each house commentary's key -> the keys of the source items it confidently
    matched: they never fill its related list (they appear as its "source")."""
    if house is None:
        if not house_source_ids(config) and commentary_dir(config) is None:
            return {}
        house = HouseCommentary.load(config, storage)
    return {
        key: set(entry.match.keys)
        for key, entry in house.entries.items()
        if entry.match.confident and entry.match.keys
    }


def refresh(
    config: Config,
    storage: Storage,
    *,
    rebuild: bool = False,
    exclude: Mapping[str, Collection[str]] | None = None,
) -> Refresh:
    """Bring the index beside ``storage`` up to date with it, and save it.

    One scan of the store: every entry's fingerprint is compared with the index;
    only new, edited and removed entries are analyzed (see the module docstring for
    when a full rebuild happens instead; a full build analyzes in parallel, one
    process per available core, up to ``MAX_PROCESSES``).
    """
    started = time.perf_counter()
    settings = config.related
    sources = {s.id: s for s in config.sources}
    path = index_path(storage.location)
    index = None if rebuild else load_index(path, settings)
    stats = UpdateStats(reason="asked to" if rebuild else "no usable index")
    exclude = dict(exclude or {})
    entries: dict[str, Entry] = {}
    if index is not None:
        docs: list[Document] = []
        versions: dict[str, str] = {}
        for stored in storage.iter_items(newest_first=False):
            entries[stored.key] = describe_entry(stored, sources)
            version = versions[stored.key] = version_of(stored)
            row = index.row_of.get(stored.key)
            if row is None or index.versions[row] != version:
                docs.append(document(stored, sources))
        added, removed, changed = index.diff(versions)
        drift = index.drift + len(added) + len(removed) + len(changed)
        if drift > REBUILD_DRIFT * max(index.built_from, 1):
            stats.reason = f"{drift} entries changed since the last full build"
            index = None
    if index is None:
        stats.rebuilt = True
        parsed, entries = parse_store(storage, config)
        index = RelatedIndex.from_batch(parsed, settings, exclude=exclude)
        changed_keys = set(index.keys)
    else:
        stats.reason = ""
        stats.added, stats.removed, stats.changed = len(added), len(removed), len(changed)
        changed_keys = index.update(docs, removed, exclude=exclude)
    save_index(index, path)
    stats.lists_changed = len(changed_keys)
    stats.seconds = time.perf_counter() - started
    return Refresh(index=index, entries=entries, stats=stats, changed=changed_keys)
