"""The relate stage: "Читать далее / Related" lists for every stored entry.

See :mod:`aggregator.related.index` for how they are ranked and kept up to date."""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import shutil
import threading
import time
from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from aggregator.config import Config, config_dir
from aggregator.files import write_if_changed
from aggregator.models import StoredItem, configured
from aggregator.related.changes import NOTHING_CHANGED, Refresh, UpdateStats, version_of
from aggregator.related.persist import index_meta, index_path, load_index, save_index
from aggregator.store import Storage
from aggregator.text.counts import counted

if TYPE_CHECKING:
    from concurrent.futures import Executor

    from aggregator.house import HouseCommentary
    from aggregator.related._documents import Document
    from aggregator.related.analyze import Entry
    from aggregator.related.index import RelatedIndex

# numpy and scipy load only when an index is built, changed or written: a run with
# nothing new needs neither (these names come from their modules when first used).
_LAZY = {
    "Document": "aggregator.related.analyze",
    "Entry": "aggregator.related.analyze",
    "document": "aggregator.related.analyze",
    "RelatedIndex": "aggregator.related.index",
    "url_key": "aggregator.related.export",
    "url_shard": "aggregator.related.export",
    "write_outputs": "aggregator.related.export",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = [
    "EXPORTED",
    "PUBLISHED",
    "Document",
    "Entry",
    "RelatedIndex",
    "Refresh",
    "document",
    "index_path",
    "load_index",
    "save_index",
    "commentary_sources",
    "export_damage",
    "shards_damage",
    "refresh",
    "relate",
    "url_key",
    "url_shard",
    "withdraw",
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
    if house is None and _has_commentary(config):
        from aggregator.house import HouseCommentary

        house = HouseCommentary.load(config, storage)
    exclude = commentary_sources(config, storage, house)
    # Commentary files are not in the store: the house gives them as made-up items.
    files = house.files() if house is not None else []
    # A run writes only the files of what changed since the saved index: that holds
    # only while out_dir has every file that index was exported to, in this version's
    # format.  It has not after an export cut short (a full disk, a kill), when out_dir
    # is new or was emptied, or after an upgrade that spells a file otherwise; then
    # every file is written again, from a rebuild.
    path = index_path(storage.location, config_dir(config))
    meta = None if rebuild else index_meta(path, config.related)
    elsewhere = meta is not None and _export_name(meta.get("saved")) != _exported(out_dir)
    # The index's files in place, as the marker says, may still have been damaged since
    # (a copy cut short, a file written over, related/lists/ deleted): the index did not
    # change, so without a look nothing would write them again.
    damage = export_damage(out_dir) if meta is not None and not elsewhere else None
    # A shard of the URL map cut short or deleted is written from every entry, which
    # only a rebuild reads (an incremental run would write it with its new keys alone).
    shards = shards_damage(out_dir) if meta is not None and not elsewhere else None
    rebuild = rebuild or elsewhere or shards is not None
    result = refresh(config, storage, rebuild=rebuild, exclude=exclude, extra=files)
    if elsewhere:
        result.stats.reason = (
            f"{out_dir / 'related'} does not hold this index's files in this version's format"
        )
    elif shards is not None:
        result.stats.reason = f"{out_dir / 'related' / 'urls'}: a shard is damaged"
    damage = "; ".join(d for d in (damage, shards) if d) or None
    if meta is not None and not elsewhere and result.rewrite is not None:
        # An entry's file deleted since (the directory changed: the run stamp saw it).
        missing = _missing_entry_files(out_dir, result, _listed_dir(path))
        if missing:
            from aggregator.related.export import file_key

            _write_again(result, missing, config, storage, exclude, files)
            found = [f"{out_dir / 'related' / file_key(k)}.json is missing" for k in missing[:3]]
            if missing[3:]:
                found.append(f"and {counted(len(missing) - 3, 'other entry file')}")
            damage = "; ".join([damage, *found] if damage else found)
    result.damage = damage
    if result.unchanged and damage is None and (out_dir / "related.json").exists():
        # Nothing of the index to write.  The widget's two files are constants: one
        # deleted or edited since (a deploy's clean-up) is put back, as publish puts
        # back its own, or every page embedding the widget would lose it.
        from aggregator.related.widget import WIDGET_CSS, WIDGET_JS

        write_if_changed(out_dir / "related.js", WIDGET_JS.encode("utf-8"))
        write_if_changed(out_dir / "related.css", WIDGET_CSS.encode("utf-8"))
        _note_dir(out_dir, _listed_dir(path))
        return result
    from aggregator.related.export import write_outputs

    out_dir.mkdir(parents=True, exist_ok=True)
    write_outputs(
        config,
        result,
        out_dir,
        lambda name, data: write_if_changed(out_dir / name, data),
        exclude=exclude,
        manifest=_files_manifest(path),
        every_list=damage is not None,
    )
    if result.saved is not None:
        # Its second line: the URL map's shards, for the next run to see one deleted.
        urls = out_dir / "related" / "urls"
        present = sorted(n[:-5] for n in os.listdir(urls) if n.endswith(".json"))
        name = f"{_export_name(result.saved)}\n{' '.join(present)}\n".encode("ascii")
        write_if_changed(out_dir / EXPORTED, name, durable=False)
    _note_dir(out_dir, _listed_dir(path))
    return result


def _listed_dir(index_file: Path) -> Path:
    """Where the relate stage notes related/ as it left it (its inode and time), so
    that the next run lists its 100,000 names only when something changed it since:
    beside the index, not in the published directory."""
    return index_file.with_name(index_file.name.removesuffix(".npz") + ".dir")


def _dir_state(directory: Path) -> str | None:
    try:
        st = os.stat(directory)
    except OSError:
        return None
    return f"{st.st_ino} {st.st_mtime_ns}"


def _note_dir(out_dir: Path, note: Path) -> None:
    state = _dir_state(out_dir / "related")
    with contextlib.suppress(OSError):
        if state is None:
            note.unlink(missing_ok=True)
        else:
            write_if_changed(note, state.encode("ascii"), durable=False)


def shards_damage(out_dir: Path) -> str | None:
    """What is wrong with the URL map's shards (``related/urls/<xx>.json``, at most
    256): one the last export left (the marker's second line) is missing, or one ends
    as no shard does (cut short, written over); None: nothing found.  A 2-byte tail
    read a shard, as for the list blocks."""
    urls = out_dir / "related" / "urls"
    try:
        present = {n for n in os.listdir(urls) if n.endswith(".json")}
    except OSError:
        return f"{urls} is missing"
    found = [f"{urls / f'{s}.json'} is missing" for s in _exported_shards(out_dir)
             if f"{s}.json" not in present]  # fmt: skip
    found += [
        f"{urls / name} is damaged (cut short, or written over)"
        for name in sorted(present)
        if not _ends_whole(urls / name)
    ]
    if not found:
        return None
    shown = "; ".join(found[:3])
    return shown if len(found) <= 3 else f"{shown}; and {counted(len(found) - 3, 'other shard')}"


def _missing_entry_files(out_dir: Path, result: Refresh, note: Path) -> list[str]:
    """The entries whose ``related/<key>.json`` is not there, and which this run does
    not write anyway.  Nothing is read while related/ is as the last run left it
    (``note``); else a count (one listing of related/, 0.2 s at 100,000 files), and
    only when it has fewer files than the index has entries is the index read to say
    which."""
    from aggregator.related.export import file_key, writes_file

    try:
        if note.read_text(encoding="ascii") == _dir_state(out_dir / "related"):
            return []
    except OSError:
        pass
    try:
        names = {n for n in os.listdir(out_dir / "related") if n.endswith(".json")}
    except OSError:
        names = set()
    if len(names) >= result.entry_count:
        return []
    writing = result.rewrite or set()
    return sorted(
        key
        for key in result.index.row_of
        if key not in writing and writes_file(key) and f"{file_key(key)}.json" not in names
    )


def _write_again(
    result: Refresh,
    keys: list[str],
    config: Config,
    storage: Storage,
    exclude: Mapping[str, Collection[str]],
    files: Sequence[StoredItem],
) -> None:
    """Add ``keys`` to what ``result``'s export writes, with the entries their files
    show (those they list, and those lists' reprints), read from the store."""
    from aggregator.related.analyze import describe_entry

    index = result.index
    stories = index.stories() if result.stories is None else result.stories
    result.stories = stories
    result.rewrite = set(result.rewrite or ()) | set(keys)
    needed = _shown(index, keys, stories, exclude)
    sources = config.publishing_sources()
    house = config.site.house or config.site.title
    extras = {f.key: f for f in files}
    for key in sorted(needed - result.entries.keys()):
        if key in extras:
            result.entries[key] = replace(describe_entry(extras[key], sources), source=house)
        elif (stored := storage.get_item(key)) is not None:
            result.entries[key] = describe_entry(stored, sources)


def _shown(
    index: RelatedIndex,
    keys: Collection[str],
    stories: Mapping[str, Sequence[str]],
    exclude: Mapping[str, Collection[str]],
) -> set[str]:
    """The entries whose fields the files of ``keys`` show: their own, those their lists
    name and those lists' reprints (a list names a story's other entries as "also"),
    and the commentary pairs ``exclude`` names (export writes them together)."""
    needed = set(keys)
    for key in keys:
        for other, _ in index.related(key):
            needed.add(other)
            needed.update(stories.get(other, ()))
    needed.update(k for ks in exclude.values() for k in ks if k in index.row_of)
    return needed


# What the relate stage writes into out_dir (export.write_outputs), all of it.
PUBLISHED = ("related.json", "related.js", "related.css", "related")


def withdraw(out_dir: Path) -> list[str]:
    """Remove the related files from ``out_dir`` (with ``related.enabled`` turned off):
    left in place, the widget and embedders would show lists that never change again,
    of entries that may be long gone.  Only files this stage wrote go: ``related/`` is
    ours when it holds the ``.exported`` marker or ``related.json`` is our format.
    The index beside the store stays (turned on again, out_dir no longer holds its
    files, so the next run writes them all).  Returns the names removed."""
    if not ((out_dir / EXPORTED).is_file() or _ours(out_dir / "related.json")):
        return []
    removed = []
    # related.json first: embedders read it, and the widget stops at a missing
    # related/urls/ shard.
    for name in PUBLISHED:
        path = out_dir / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()
        else:
            continue
        removed.append(name)
    return removed


def export_damage(out_dir: Path) -> str | None:
    """What is wrong with ``related.json`` and ``related/lists/`` in ``out_dir``, where
    the marker says the index's files are: None when nothing is found.

    Cheap, for every run that relates: ``related.json`` is the index's head (about
    1 KB at 100,000 entries) and is read whole; of the list blocks it names, only that
    each is there and ends as every block ends (``}\\n``: a copy cut short or a file
    written over with other text does not), not their JSON."""
    head_path = out_dir / "related.json"
    try:
        head = json.loads(head_path.read_bytes())
    except FileNotFoundError:
        return f"{head_path} is missing"
    except OSError as exc:
        return f"{head_path} cannot be read ({exc.strerror or exc})"
    except ValueError:
        return f"{head_path} is damaged (not JSON: cut short, or written over)"
    blocks = head.get("blocks") if isinstance(head, dict) else None
    if not isinstance(blocks, list) or not all(type(b) is int for b in blocks):
        return f"{head_path} is damaged (no list of blocks: not the related index's head)"
    lists = out_dir / "related" / "lists"
    try:
        present = set(os.listdir(lists))
    except OSError:
        return f"{lists} is missing"
    found = []
    for block in blocks:
        name = f"{block}.json"
        if name not in present:
            found.append(f"{lists / name} is missing")
        elif not _ends_whole(lists / name):
            found.append(f"{lists / name} is damaged (cut short, or written over)")
    if not found:
        return None
    shown = "; ".join(found[:3])
    return shown if len(found) <= 3 else f"{shown}; and {counted(len(found) - 3, 'other block')}"


def _ends_whole(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            f.seek(-2, os.SEEK_END)
            return f.read(2) == b"}\n"
    except OSError:  # shorter than 2 bytes (seek), or unreadable
        return False


def _ours(path: Path) -> bool:
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and {"format", "ids", "block"} <= data.keys()


# In out_dir: the format of the files and the name of the saved index they come from,
# every one of them (written after the export, so an export cut short leaves the
# previous name).
EXPORTED = "related/.exported"
# Bump when the files export.py writes change for the same index: the next run writes
# them all.  2: URL keys without tracking parameters (utm_*, from=...).  3: nor session
# ids (PHPSESSID, ;jsessionid=...).
EXPORT_FORMAT = 3


def _export_name(saved: str | None) -> str:
    return f"{EXPORT_FORMAT} {saved}"


def _exported(out_dir: Path) -> str | None:
    try:
        return (out_dir / EXPORTED).read_text(encoding="ascii").partition("\n")[0].strip()
    except (OSError, UnicodeDecodeError):
        return None


def _exported_shards(out_dir: Path) -> list[str]:
    """The URL map's shards the last export left (none known: an older marker)."""
    try:
        return (out_dir / EXPORTED).read_text(encoding="ascii").partition("\n")[2].split()
    except (OSError, UnicodeDecodeError):
        return []


def _files_manifest(index_file: Path) -> Path:
    """Where the export after a rebuild notes the files it wrote: beside the index
    (``<store>.related.files.npz``), not in the published directory."""
    return index_file.with_name(index_file.name.removesuffix(".npz") + ".files.npz")


def commentary_sources(
    config: Config, storage: Storage, house: HouseCommentary | None = None
) -> dict[str, set[str]]:
    """Each house commentary's key -> the keys of the source items it confidently
    matched: they never fill its related list (they appear as its "source")."""
    if house is None:
        if not _has_commentary(config):
            return {}
        from aggregator.house import HouseCommentary

        house = HouseCommentary.load(config, storage)
    return {
        key: set(entry.match.keys)
        for key, entry in house.entries.items()
        if entry.match.confident and entry.match.keys
    }


def _has_commentary(config: Config) -> bool:
    """Whether the house writes commentary (files or a house feed): what
    ``house.commentary_dir`` and ``house.house_source_ids`` say, read from the config
    without importing the house stage (it loads Markdown, lxml, the fetcher: a run with
    nothing new or a few new items needs none of them)."""
    return bool(config.house.commentary_dir) or any(s.house for s in config.published_sources())


def refresh(
    config: Config,
    storage: Storage,
    *,
    rebuild: bool = False,
    exclude: Mapping[str, Collection[str]] | None = None,
    extra: Sequence[StoredItem] = (),
) -> Refresh:
    """Bring the index beside ``storage`` up to date with it, and save it.

    ``extra``: entries that are not in the store (the house's commentary files, keyed
    ``commentary/<slug>``), indexed like any other; all of them are given every run
    (they are few), and those no longer given leave the index.

    Incremental by construction: the index remembers the store's change number it is
    up to date with, and asks the store only for the entries stored, edited or
    removed since (``Storage.item_changes``); those are analyzed and the lists they
    touch recomputed, so a run costs in proportion to what changed, not to the store.
    A full rebuild happens when asked, without a usable index, when the store's
    change number went back (another store), and when the entries changed since the
    last build exceed ``REBUILD_DRIFT`` of it; it analyzes in parallel, one process
    per available core, up to ``MAX_PROCESSES``.
    """
    started = time.perf_counter()
    settings = config.related
    sources = config.publishing_sources()
    path = index_path(storage.location, config_dir(config))
    exclude = dict(exclude or {})
    extras = {s.key: s for s in extra}
    extra_versions = {key: version_of(stored) for key, stored in extras.items()}
    if not rebuild:
        meta = index_meta(path, settings)
        unchanged = _unchanged(storage, meta, exclude, extra_versions, set(sources))
        if unchanged is not None:
            stats = UpdateStats(reason=NOTHING_CHANGED)
            stats.seconds = time.perf_counter() - started
            return Refresh(
                index_or_none=None,
                entries={},
                stats=stats,
                rewrite=set(),
                unchanged=True,
                entry_count=unchanged,
                load=lambda: load_index(path, settings),
                saved=meta.get("saved") if meta is not None else None,
            )
    from aggregator.related._build import build_workers
    from aggregator.related._parse_store import parse_store
    from aggregator.related.analyze import (
        Batch,
        describe_entry,
        document,
        parse_document,
    )
    from aggregator.related.index import REBUILD_DRIFT, RelatedIndex

    index = None if rebuild else load_index(path, settings)
    stats = UpdateStats(reason="asked to" if rebuild else "no usable index")
    house_name = config.site.house or config.site.title
    entries: dict[str, Entry] = {
        key: replace(describe_entry(stored, sources), source=house_name)
        for key, stored in extras.items()
    }
    if index is not None:
        mark, changed_keys, removed_keys = storage.item_changes(index.store_mark)
        if index.store_mark is None or mark < index.store_mark:
            stats.reason = "the store is not the one indexed"
            index = None
        elif not storage.changes_kept(index.store_mark):
            # (unread for a month: the log lists no removal since, and the entries
            # pruned meanwhile would stay related)
            stats.reason = "the store's change log no longer holds every change since"
            index = None
    removed_ids: list[int] = []
    if index is not None:
        docs: list[Document] = []
        # A source removed from the configuration takes its entries out of every list;
        # added back, it brings them in again (only they are read: the store's change
        # log does not say so, as nothing changed there).
        was = index.notes.get("sources")
        before = set(was) if was is not None else {s.source_id for s in storage.source_states()}
        left, back = before - sources.keys(), sources.keys() - before
        came_back: dict[str, StoredItem] = {}  # read once here, not again below
        if left or back:
            listed = storage.iter_items(source_ids=sorted(left | back))
            with contextlib.closing(listed):
                for stored in listed:
                    if configured(stored.source_ids, sources):
                        came_back[stored.key] = stored
                    else:
                        removed_keys.append(stored.key)
        for key in dict.fromkeys([*changed_keys, *came_back]):
            stored = came_back.get(key) or storage.get_item(key)
            if stored is None:  # removed after item_changes answered
                removed_keys.append(key)
                continue
            if not configured(stored.source_ids, sources):
                removed_keys.append(key)  # its source is no longer configured
                continue
            entries[key] = describe_entry(stored, sources)
            row = index.row_of.get(key)
            if row is None or index.versions[row] != version_of(stored):
                docs.append(document(stored, sources))
        for key, stored in extras.items():
            row = index.row_of.get(key)
            if row is None or index.versions[row] != version_of(stored):
                docs.append(document(stored, sources))
        removed = [k for k in dict.fromkeys(removed_keys) if k in index.row_of]
        # Commentary files given last time and no longer (the index notes which).
        given = (index.notes.get("extras") or {}).keys()
        removed += [k for k in given if k not in extras and k in index.row_of]
        added = sum(d.key not in index.row_of for d in docs)
        drift = index.drift + len(docs) + len(removed)
        if drift > REBUILD_DRIFT * max(index.built_from, 1):
            stats.reason = f"{counted(drift, 'entry')} changed since the last full build"
            index = None
    if index is None:
        stats.rebuilt = True
        mark = storage.item_changes(None)[0]  # before reading: later changes come again
        # What the build imports (~0.5 s), imported while the analysis's workers work
        # and this process waits for them, not after with one core idle.
        warming = threading.Thread(target=_import_for_build, name="import-for-build")
        warming.start()
        with contextlib.ExitStack() as stack:
            workers: list[Executor | None] = []

            def analyzed() -> None:
                # The build's workers start (and import) as this process reads the
                # analysis's results: they are ready when the build needs them.
                count = storage.items_count() + len(extras)
                workers.append(stack.enter_context(build_workers(count)))

            parsed, stored_entries = parse_store(storage, config, analyzed=analyzed)
            warming.join()
            entries = {**stored_entries, **entries}
            if extras:
                files = Batch.of([parse_document(document(s, sources)) for s in extras.values()])
                parsed = Batch.join([parsed, files], consume=True)
            pool = workers[0] if workers else None
            index = RelatedIndex.from_batch(parsed, settings, exclude=exclude, workers=pool)
        lists_changed = set(index.row_of)
        rewrite = None
        removed = []
        stories = None
    else:
        stats.reason = ""
        stats.added, stats.removed, stats.changed = added, len(removed), len(docs) - added
        touched = {d.key for d in docs}
        # Entries that leave: removed, or edited (they come back under a new number).
        # Their old numbers' blocks change; their reprints stay behind, and so do the
        # blocks naming the story and the lists showing them with the one that left
        # as "also".
        leaving = set(removed) | (touched & index.row_of.keys())
        removed_ids = [i for i in map(index.id_of, sorted(leaving)) if i is not None]
        before = index.stories() if leaving else {}
        stayed = {k for key in leaving for k in before.get(key, ())} - set(removed)
        lists_changed = index.update(docs, removed, exclude=exclude)
        # Files to render again: changed lists, changed entries, and the lists that
        # show a changed entry or a story it joined or left (its "also").
        stories = index.stories()
        shown = touched | {k for t in touched for k in stories.get(t, ())} | stayed
        rewrite = lists_changed | shown | index.holders(shown)
        needed = _shown(index, rewrite, stories, exclude)
        for key in sorted(needed - entries.keys()):
            stored = storage.get_item(key)
            if stored is not None:
                entries[key] = describe_entry(stored, sources)
    index.store_mark = mark
    index.notes = {"extras": extra_versions, "sources": sorted(sources)}
    saved = save_index(index, path)
    storage.changes_read("related", mark)  # the store may drop what every reader has read
    stats.lists_changed = len(lists_changed)
    stats.seconds = time.perf_counter() - started
    return Refresh(
        index_or_none=index,
        entries=entries,
        stats=stats,
        changed=lists_changed,
        rewrite=rewrite,
        removed=removed,
        removed_ids=removed_ids,
        entry_count=len(index),
        stories=stories,
        saved=saved,
    )


def _import_for_build() -> None:
    importlib.import_module("scipy.sparse")
    importlib.import_module("scipy.sparse.csgraph")  # the stories


def _unchanged(
    storage: Storage,
    meta: dict | None,
    exclude: Mapping[str, Collection[str]],
    extra_versions: Mapping[str, str],
    sources: set[str],
) -> int | None:
    """The saved index's entry count when nothing it depends on changed since it was
    saved (no entry stored, edited or removed; the same commentary files, exclusions
    and configured sources), else None.  Reads the index's description only, not the
    index."""
    if meta is None or meta.get("store_mark") is None:
        return None
    # Rows, not the mark: PostgreSQL's moves with any transaction (a fetch's, a reader's).
    mark, changed, removed = storage.item_changes(meta["store_mark"])
    if changed or removed or mark < meta["store_mark"]:
        return None
    notes = meta.get("notes") or {}
    if notes.get("extras", {}) != dict(extra_versions) or set(notes.get("sources", ())) != sources:
        return None
    wanted = {k: sorted(set(v)) for k, v in sorted(exclude.items()) if v}
    if (meta.get("exclude") or {}) != wanted:
        return None
    return int(meta.get("entries", 0))
