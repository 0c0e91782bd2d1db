"""output/: related.json, related/<key>.json, the URL map and the widget files."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

import numpy as np

from aggregator.config import Config
from aggregator.files import write_if_changed
from aggregator.related.changes import Refresh
from aggregator.related.index import RelatedIndex
from aggregator.related.widget import WIDGET_CSS, WIDGET_JS
from aggregator.text.urls import http_uri
from aggregator.text.xml import clean_text, iso

# --- URL keys (shared with related.js) --------------------------------------------


def url_key(url: str) -> str | None:
    """The spelling of an article URL the widget looks up: host without ``www.``,
    port if not the default, decoded path without a trailing slash, decoded query.

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
    path = unquote(parts.path).rstrip("/")
    query = unquote(parts.query)
    return netloc + path + (f"?{query}" if query else "")


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
    ``"source"`` in the per-entry files.
    """
    exclude = exclude or {}
    entries = result.entries
    index = result.index
    stories = index.stories() if result.stories is None else result.stories
    fragments: dict[str, str] = {}  # key -> the JSON of its list item, without score
    item_id = _item_ids(config)
    # key -> its entry's URL as a URI: each is asked for by the entry's own file and by
    # every list showing it, and 100,000 of them are far past http_uri's cache.
    uris: dict[str, str | None] = {}

    def uri(key: str) -> str | None:
        try:
            return uris[key]
        except KeyError:
            found = uris[key] = http_uri(entries[key].url)
            return found

    def fragment(key: str) -> str:
        cached = fragments.get(key)
        if cached is None:
            entry = entries[key]
            item = {
                "id": item_id(key),
                "title": clean_text(entry.title),
                "url": uri(key),
                "lead": _lead_beyond_title(entry.lead, entry.title),
                "published": iso(entry.published),
                "source": clean_text(entry.source),
            }
            cached = fragments[key] = _json_text(item)
        return cached

    def listed_item(key: str, other: str, score: float) -> str:
        also = [
            {"source": clean_text(entries[k].source), "url": uri(k)}
            for k in stories.get(other, ())
            if k not in (other, key) and k in entries
        ]
        extra = f',"also":{_json_text(also)}' if also else ""
        return f'{fragment(other)[:-1]},"score":{round(score, 4)}{extra}}}'

    related_dir = out_dir / "related"
    lists_dir = related_dir / "lists"
    (related_dir / "urls").mkdir(parents=True, exist_ok=True)
    lists_dir.mkdir(parents=True, exist_ok=True)
    # Temporary files a killed run left are removed by the next run under the run lock
    # (cli): listing related/ here would cost every run a pass over 100,000 names.
    present = np.unique(index.ids() // BLOCK).tolist()
    if result.rewrite is None:
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
    urls: dict[str, dict[str, str]] = {}
    for key in sorted(rewrite & entries.keys(), key=lambda k: (entries[k].published, k)):
        name = file_key(key)
        if not _FILE_KEY.fullmatch(name):
            continue
        entry = entries[key]
        listed = ",".join(
            listed_item(key, other, score)
            for other, score in index.related(key)
            if other in entries
        )
        url = uri(key)
        head = _json_text({"id": item_id(key), "title": clean_text(entry.title), "url": url})
        page = f'{head[:-1]},"related":[{listed}]'
        sources = [fragment(k) for k in sorted(exclude.get(key, ())) if k in entries]
        if sources:
            page += f',"source":[{",".join(sources)}]'
        data = (page + "}\n").encode("utf-8")
        write_if_changed(related_dir / f"{name}.json", data, durable=False)
        link = url_key(url) if url else None
        if link:
            urls.setdefault(url_shard(link), {}).setdefault(link, name)  # the oldest wins
    write("related.js", WIDGET_JS.encode("utf-8"))
    write("related.css", WIDGET_CSS.encode("utf-8"))
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


def _url_of(path: Path) -> str | None:
    """The URL key of the entry whose file is ``path``; None when unknown (no file, a
    damaged one, an entry without a URL)."""
    try:
        url = json.loads(path.read_bytes()).get("url")
    except (OSError, ValueError, AttributeError):
        return None
    return url_key(url) if isinstance(url, str) and url else None


def file_key(key: str) -> str:
    """The name of an entry's file under related/ (and what the URL map gives): its
    key, with a commentary file's "commentary/<slug>" as "commentary--<slug>"."""
    return key.replace("/", "--")


BLOCK = 1024  # entries a related/lists/<n>.json holds (by entry number)


def _item_ids(config: Config) -> Callable[[str], str]:
    """``config.site.item_id`` with its fixed part worked out once (it parses the
    site's link on every call: 100,000 times in a rebuild's export)."""
    marker = "KEYMARKER"  # alphanumeric: item_id keeps it as it is
    prefix, _, suffix = config.site.item_id(marker).partition(marker)
    return lambda key: f"{prefix}{quote(key, safe='')}{suffix}"


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
    for path in directory.glob("*.json"):
        if path.name not in keep:
            with contextlib.suppress(OSError):
                path.unlink()
