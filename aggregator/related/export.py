"""output/: related.json, related/<key>.json, the URL map and the widget files."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import zipfile
from collections.abc import Callable, Collection, Mapping
from datetime import datetime
from pathlib import Path
from typing import NamedTuple
from urllib.parse import quote, unquote, urlsplit

import numpy as np

from aggregator import procs
from aggregator.config import Config
from aggregator.files import atomic_binary, write_if_changed
from aggregator.related.analyze import MAX_PROCESSES, Entry
from aggregator.related.changes import Refresh
from aggregator.related.index import RelatedIndex
from aggregator.related.widget import WIDGET_CSS, WIDGET_JS
from aggregator.text.urls import (
    TRACKING_PARAMS,
    TRACKING_PREFIXES,
    http_uri,
    is_session,
    without_path_session,
)
from aggregator.text.xml import clean_text, iso

# --- URL keys (shared with related.js) --------------------------------------------


def url_key(url: str) -> str | None:
    """The spelling of an article URL the widget looks up: host without ``www.``,
    port if not the default, decoded path without a trailing slash, decoded query
    without tracking parameters (``utm_*``, ``from``...) or session ids (``PHPSESSID``,
    ``;jsessionid=``...), as aggregator.text.urls drops them from an item's identity.

    ``related.js`` computes the same from ``new URL(...)``; keep the two in step.
    """
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not host:
        return None
    try:
        host = host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError:
        return None
    host = host.lower().removeprefix("www.")
    default = {"http": 80, "https": 443}[parts.scheme]
    netloc = host if port in (None, default) else f"{host}:{port}"
    path = unquote(without_path_session(parts.path)).rstrip("/")
    # A feed's link often says how its readers came (?utm_source=rss, ?from=rss), or
    # whose visit it was (?PHPSESSID=...); the article's page, whose canonical link the
    # widget looks up, does not.
    query = unquote("&".join(p for p in parts.query.split("&") if not _beside_the_page(p)))
    return netloc + path + (f"?{query}" if query else "")


def _beside_the_page(pair: str) -> bool:
    """A tracking parameter or a session id: no part of which page it is."""
    name, _, value = pair.partition("=")
    name = unquote(name).lower()
    return name in TRACKING_PARAMS or name.startswith(TRACKING_PREFIXES) or is_session(name, value)


def url_shard(key: str) -> str:
    """Which ``related/urls/<xx>.json`` holds a URL key: FNV-1a over its UTF-8, low byte."""
    h = 0x811C9DC5
    for byte in key.encode("utf-8"):
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    return f"{h & 0xFF:02x}"


# --- output/ -------------------------------------------------------------------------

_FILE_KEY = re.compile(r"[0-9A-Za-z_-]+")
RELATED_FORMAT = "aggregator-related/3"


def write_outputs(
    config: Config,
    result: Refresh,
    out_dir: Path,
    write: Callable[[str, bytes], object],
    *,
    exclude: Mapping[str, Collection[str]] | None = None,
    processes: int | None = None,
    manifest: Path | None = None,
    every_list: bool = False,
) -> None:
    """Write ``related.json``, ``related/lists/<n>.json``, ``related/<key>.json``,
    ``related/urls/<xx>.json``, ``related.js`` and ``related.css`` into ``out_dir``;
    remove the files of entries no longer stored.

    ``related.json`` and ``related/lists/`` are small enough to embed (about 65 bytes
    an entry): each entry's list as entry numbers with scores in thousandths, in files
    of ``BLOCK`` entries (see :func:`related_json`, :func:`list_block`); a run rewrites
    only the files of the entries whose lists, stories or presence changed.  The per-entry files carry what a page shows: titles,
    links, leads, sources, and for a listed story its reprints by other outlets
    (``also``).  ``result.rewrite`` names the entries whose files may have changed
    (None: all of them, after a rebuild); only those are rendered, and any file is
    replaced only when its bytes change.  ``write(name, data)`` (the durable
    writer) writes the widget.  ``exclude`` (a commentary's source items) appears as
    ``"source"`` in the per-entry files.  ``processes``: worker processes rendering
    what the files say of each entry after a rebuild (default: one per core, from
    ``_PARALLEL_FROM`` entries); the files are the same either way.  ``manifest``:
    a file where the export after a rebuild notes what it wrote (see
    :class:`_Written`), so that the next one need not read every file back.
    ``every_list``: write ``related.json`` and every list block (each only if its bytes
    differ), whatever changed: they were found damaged.
    """
    exclude = exclude or {}
    entries = result.entries
    index = result.index
    stories = index.stories() if result.stories is None else result.stories
    id_parts = _id_parts(config)
    # What each entry's file and every list showing it say of it, worked out once an
    # entry (100,000 of them are far past http_uri's cache); after a rebuild, for
    # every entry at once, by worker processes while this one writes the lists.
    parts: dict[str, _Parts] = {}
    pending = None
    if result.rewrite is None:
        pending = _parts_in_workers(entries, id_parts, processes)

    def part(key: str) -> _Parts:
        found = parts.get(key)
        if found is None:
            found = parts[key] = _parts_of(_fields(entries[key]), *id_parts)
        return found

    def listed_item(key: str, other: str, score: float) -> str:
        also = [
            {"source": part(k).source, "url": part(k).uri}
            for k in stories.get(other, ())
            if k not in (other, key) and k in entries
        ]
        extra = f',"also":{_json_text(also)}' if also else ""
        return f'{part(other).fragment[:-1]},"score":{round(score, 4)}{extra}}}'

    related_dir = out_dir / "related"
    lists_dir = related_dir / "lists"
    (related_dir / "urls").mkdir(parents=True, exist_ok=True)
    lists_dir.mkdir(parents=True, exist_ok=True)
    # Temporary files a killed run left are removed by the next run under the run lock
    # (cli): listing related/ here would cost every run a pass over 100,000 names.
    present = np.unique(index.ids() // BLOCK).tolist()
    if result.rewrite is None or every_list:
        blocks = present
    else:
        shown = set(result.rewrite) | result.changed
        shown.update(k for key in list(shown) for k in stories.get(key, ()))
        numbers = [*map(index.id_of, shown), *result.removed_ids]
        blocks = sorted({n // BLOCK for n in numbers if n is not None})
    for block in blocks:
        data = list_block(index, block, stories)
        if data is None:
            with contextlib.suppress(OSError):
                (lists_dir / f"{block}.json").unlink()
        else:
            write_if_changed(lists_dir / f"{block}.json", data, durable=False)
    write("related.json", related_json(config, index, present))
    rewrite = set(index.row_of) if result.rewrite is None else result.rewrite
    if pending is not None:
        parts.update(pending())
    # After a rebuild, every file is rendered: what the last such export wrote tells
    # which are as they were without reading them back.
    written = None
    if result.rewrite is None and manifest is not None:
        written = _Written.load(manifest)
    urls: dict[str, dict[str, str]] = {}
    for key in sorted(rewrite & entries.keys(), key=lambda k: (entries[k].published, k)):
        name = file_key(key)
        if not _FILE_KEY.fullmatch(name):
            continue
        listed = ",".join(
            listed_item(key, other, score)
            for other, score in index.related(key)
            if other in entries
        )
        own = part(key)
        page = f'{own.head[:-1]},"related":[{listed}]'
        sources = [part(k).fragment for k in sorted(exclude.get(key, ())) if k in entries]
        if sources:
            page += f',"source":[{",".join(sources)}]'
        data = (page + "}\n").encode("utf-8")
        if written is None:
            write_if_changed(related_dir / f"{name}.json", data, durable=False)
        else:
            written.write(related_dir, f"{name}.json", data)
        if own.link:
            urls.setdefault(own.shard, {}).setdefault(own.link, name)  # the oldest wins
    write("related.js", WIDGET_JS.encode("utf-8"))
    write("related.css", WIDGET_CSS.encode("utf-8"))
    if written is not None:
        written.save(manifest)
    if result.rewrite is None:
        for shard, mapping in urls.items():
            _write_shard(related_dir / "urls" / f"{shard}.json", mapping)
        _remove_others(related_dir, {f"{file_key(k)}.json" for k in index.row_of})
        _remove_others(related_dir / "urls", {f"{s}.json" for s in urls})
        _remove_others(lists_dir, {f"{b}.json" for b in present})
        return
    # The URL map's shards that name a removed entry: found from the URL in its file,
    # read before it goes (None: some file did not say; every shard is read then).
    removed_shards: set[str] | None = set()
    for key in result.removed:
        path = related_dir / f"{file_key(key)}.json"
        link = _url_of(path)
        if link is None:
            removed_shards = None
        elif removed_shards is not None:
            removed_shards.add(url_shard(link))
        with contextlib.suppress(OSError):
            path.unlink()
    _update_shards(
        related_dir / "urls", urls, {file_key(k) for k in result.removed}, removed_shards
    )


class _Written:
    """The entries' files an export after a rebuild wrote or found as they should be:
    by name, the file's inode, modification time and size, and a digest of its bytes.
    The next such export trusts a file only while all three are unchanged (a file
    replaced since, by a run or by anyone, is a new inode; edited in place, a new
    time) and its new bytes have the same size and digest; any other file is compared
    byte for byte by ``write_if_changed``, as without the manifest.  A run killed
    while writing leaves the old manifest, which names the files it replaced by their
    old inodes: they are compared.  Incremental runs leave the manifest alone.

    A file whose time is not older than the manifest's own is never trusted (git's
    "racily clean" entries): where the file system's clock is coarse (FAT's 2 s, some
    network mounts) an edit in place soon after the export keeps the time it noted."""

    def __init__(self, saved: dict[str, tuple[int, int, int, bytes]]) -> None:
        self.saved = saved
        self.seen: dict[str, tuple[int, int, int, bytes]] = {}

    @classmethod
    def load(cls, path: Path) -> _Written:
        try:  # a damaged manifest trusts nothing: every file is compared
            noted = os.stat(path).st_mtime_ns
            with np.load(path, allow_pickle=False) as f:
                columns = [f[k].tolist() for k in ("names", "inode", "mtime", "size", "digest")]
            saved = {n: (i, m, s, d) for n, i, m, s, d in zip(*columns, strict=True) if m < noted}
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
            return cls({})
        return cls(saved)

    def write(self, directory: Path, name: str, data: bytes) -> None:
        """``write_if_changed(directory / name, data)``, trusting the manifest where it
        may (no Path made for a file trusted: 100,000 of them cost seconds)."""
        digest = hashlib.blake2b(data, digest_size=16).digest()
        try:
            st = os.stat(os.path.join(directory, name))
        except OSError:
            st = None
        saved = self.saved.get(name)
        if (
            st is None
            or saved is None
            or saved != (st.st_ino, st.st_mtime_ns, st.st_size, digest)
            or st.st_size != len(data)
        ):
            path = directory / name
            write_if_changed(path, data, durable=False)
            st = os.stat(path)
        self.seen[name] = (st.st_ino, st.st_mtime_ns, st.st_size, digest)

    def save(self, path: Path) -> None:
        names = list(self.seen)
        values = list(self.seen.values())
        arrays = {
            "names": np.array(names, dtype="U"),
            "inode": np.array([v[0] for v in values], np.uint64),
            "mtime": np.array([v[1] for v in values], np.int64),
            "size": np.array([v[2] for v in values], np.int64),
            "digest": np.array([v[3] for v in values], "V16"),
        }
        with atomic_binary(path) as f:
            np.savez(f, **arrays)


def _url_of(path: Path) -> str | None:
    """The URL key of the entry whose file is ``path``; None when unknown (no file, a
    damaged one, an entry without a URL)."""
    try:
        url = json.loads(path.read_bytes()).get("url")
    except (OSError, ValueError, AttributeError):
        return None
    return url_key(url) if isinstance(url, str) and url else None


def writes_file(key: str) -> bool:
    """Whether an entry keyed ``key`` has a file under related/ (its name is safe)."""
    return _FILE_KEY.fullmatch(file_key(key)) is not None


def file_key(key: str) -> str:
    """The name of an entry's file under related/ (and what the URL map gives): its
    key, with a commentary file's "commentary/<slug>" as "commentary--<slug>"."""
    return key.replace("/", "--")


BLOCK = 1024  # entries a related/lists/<n>.json holds (by entry number)


def _id_parts(config: Config) -> tuple[str, str]:
    """``config.site.item_id``'s fixed parts, before and after the quoted key, worked
    out once (it parses the site's link on every call: 100,000 times in a rebuild's
    export)."""
    marker = "KEYMARKER"  # alphanumeric: item_id keeps it as it is
    prefix, _, suffix = config.site.item_id(marker).partition(marker)
    return prefix, suffix


class _Parts(NamedTuple):
    """What the files say of one entry, as JSON text and strings."""

    fragment: str  # its list item, without score: {"id", "title", "url", "lead", ...}
    head: str  # its own file's start: {"id", "title", "url"}
    uri: str | None  # its URL, as a URI
    source: str  # its source's name
    link: str | None  # its URL key (the URL map's), if it has a URL
    shard: str  # the URL map's shard of that key ("" without one)


# An entry as sent to a worker: key, title, url, lead, published, source.
_Fields = tuple[str, str, str | None, str, datetime, str]


def _fields(entry: Entry) -> _Fields:
    return entry.key, entry.title, entry.url, entry.lead, entry.published, entry.source


def _parts_of(fields: _Fields, id_prefix: str, id_suffix: str) -> _Parts:
    key, title, url, lead, published, source = fields
    item_id = f"{id_prefix}{quote(key, safe='')}{id_suffix}"
    uri = http_uri(url)
    title = clean_text(title)
    source_name = clean_text(source)
    item = {
        "id": item_id,
        "title": title,
        "url": uri,
        "lead": _lead_beyond_title(lead, fields[1]),
        "published": iso(published),
        "source": source_name,
    }
    head = _json_text({"id": item_id, "title": title, "url": uri})
    link = url_key(uri) if uri else None
    shard = url_shard(link) if link else ""
    return _Parts(_json_text(item), head, uri, source_name, link, shard)


def _parts_chunk(chunk: list[_Fields], id_parts: tuple[str, str]) -> list[_Parts]:
    """In a worker process: :func:`_parts_of` of each entry of ``chunk``."""
    return [_parts_of(fields, *id_parts) for fields in chunk]


_PARALLEL_FROM = 20_000  # entries; below, starting processes costs more than it saves
_PARTS_CHUNKS = 8  # per worker: one slow worker does not hold up the rest


def _parts_in_workers(
    entries: Mapping[str, Entry], id_parts: tuple[str, str], processes: int | None
) -> Callable[[], dict[str, _Parts]] | None:
    """:func:`_parts_of` of every entry, by worker processes (``processes``; default:
    one per available core, up to ``MAX_PROCESSES``, none below ``_PARALLEL_FROM``
    entries): handed to them at once; the function returned waits for the results.
    None without workers (the caller works each out when first needed)."""
    if processes is None:
        try:
            cores = len(os.sched_getaffinity(0))
        except AttributeError:  # not on Linux
            cores = os.cpu_count() or 1
        processes = min(cores, MAX_PROCESSES) if len(entries) >= _PARALLEL_FROM else 1
    if processes < 2 or not entries:
        return None
    fields = [_fields(entry) for entry in entries.values()]
    pool = procs.executor(processes)
    chunks = processes * _PARTS_CHUNKS
    edges = [len(fields) * k // chunks for k in range(chunks + 1)]
    futures = [
        pool.submit(_parts_chunk, fields[a:b], id_parts)
        for a, b in zip(edges, edges[1:], strict=False)
        if b > a
    ]
    del fields

    def results() -> dict[str, _Parts]:
        try:
            done = (part for future in futures for part in future.result())
            return dict(zip(entries.keys(), done, strict=True))
        finally:
            pool.shutdown()

    return results


def related_json(config: Config, index: RelatedIndex, blocks: list[int]) -> bytes:
    """``related.json``: ``{"format", "ids": {"prefix", "suffix"}, "block": B,
    "blocks": [n, ...]}``; the lists are in ``related/lists/<n>.json`` (see
    :func:`list_block`), entries numbered ``n*B`` to ``n*B + B - 1`` in file ``n``."""
    marker = "KEYMARKER"  # store keys are alphanumeric: item_id keeps them as they are
    prefix, _, suffix = config.site.item_id(marker).partition(marker)
    head = {
        "format": RELATED_FORMAT,
        "ids": {"prefix": prefix, "suffix": suffix},
        "block": BLOCK,
        "blocks": blocks,
    }
    return (_json_text(head) + "\n").encode("utf-8")


def list_block(index: RelatedIndex, block: int, stories: Mapping[str, list[str]]) -> bytes | None:
    """``related/lists/<block>.json``: ``{"keys": [...], "lists": [[number, score in
    thousandths, number, score, ...], ...], "stories": [[number, ...], ...]}``: entry
    number ``block*B + i`` is ``keys[i]`` (null: no longer stored) and its list is
    ``lists[i]``, best first, naming entries by number; a story's reprints are one list
    entry, and ``stories`` names the stories of this block's entries (all members).
    None when no entry of the block is left."""
    numbers, block_keys, listed, scores = index.numbered(block * BLOCK, (block + 1) * BLOCK)
    if not len(numbers):
        return None
    slots = (numbers - block * BLOCK).tolist()
    width = slots[-1] + 1
    keys: list[str | None] = [None] * width
    lists: list[list[int]] = [[] for _ in range(width)]
    # Lists are filled from the left (-1 after the last entry): one array of
    # (number, thousandths) pairs per row, cut at its length; json encodes it in C.
    pairs = np.stack([listed, np.rint(scores * 1000).astype(np.int64)], axis=-1)
    pairs = pairs.reshape(len(listed), -1)
    lengths = (2 * (listed >= 0).sum(axis=1)).tolist()
    groups: dict[tuple[int, ...], None] = {}
    for key, slot, row_pairs, length in zip(
        block_keys, slots, pairs.tolist(), lengths, strict=True
    ):
        keys[slot] = key
        lists[slot] = row_pairs[:length]
        members = stories.get(key)
        if members:
            numbered = (index.id_of(m) for m in members)
            groups[tuple(sorted(n for n in numbered if n is not None))] = None
    text = (
        f'{{"keys":{_json_text(keys)},"lists":{_json_text(lists)},'
        f'"stories":{_json_text([list(g) for g in groups])}}}\n'
    )
    return text.encode("utf-8")


def _lead_beyond_title(lead: str, title: str) -> str:
    """The lead, or "" where it only repeats the title."""
    lead_text, title_text = clean_text(lead), clean_text(title)
    folded = " ".join(lead_text.casefold().split()).rstrip(" .…")
    if folded and folded == " ".join(title_text.casefold().split()).rstrip(" .…"):
        return ""
    return lead_text


def _write_shard(path: Path, mapping: Mapping[str, str]) -> None:
    data = (_json_text(dict(sorted(mapping.items()))) + "\n").encode("utf-8")
    write_if_changed(path, data, durable=False)


def _update_shards(
    directory: Path,
    added: dict[str, dict[str, str]],
    removed: set[str],
    removed_shards: set[str] | None,
) -> None:
    """Add URL keys to their shards and drop those of removed entries from
    ``removed_shards`` (None: from every shard, the removed entries' URLs unknown)."""
    if not removed:
        shards: set[str] = set()
    elif removed_shards is None:
        shards = {path.stem for path in directory.glob("*.json")}
    else:
        shards = removed_shards
    for shard in sorted(shards | added.keys()):
        path = directory / f"{shard}.json"
        try:
            mapping = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            mapping = {}
        if not isinstance(mapping, dict):
            mapping = {}
        kept = {k: v for k, v in mapping.items() if v not in removed}
        for link, key in added.get(shard, {}).items():
            kept.setdefault(link, key)
        if kept != mapping or not path.exists():
            if kept:
                _write_shard(path, kept)
            else:
                with contextlib.suppress(OSError):
                    path.unlink()


def _json_text(value: object) -> str:
    # Like publish's JSON (<, >, & escaped: safe even inside a <script>), but compact.
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _remove_others(directory: Path, keep: set[str]) -> None:
    # Names, not Paths: related/ holds 100,000 files.
    with os.scandir(directory) as found:
        gone = [e.path for e in found if e.name.endswith(".json") and e.name not in keep]
    for path in gone:
        with contextlib.suppress(OSError):
            os.unlink(path)
