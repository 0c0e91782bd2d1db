"""output/: related.json, related/<key>.json, the URL map and the widget files."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from urllib.parse import unquote, urlsplit

from aggregator.config import Config
from aggregator.files import (
    remove_stale_temp_files,
    streamed_text_if_changed,
    write_if_changed,
)
from aggregator.related.index import Refresh
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


def write_outputs(
    config: Config,
    result: Refresh,
    out_dir: Path,
    write: Callable[[str, bytes], object],
    *,
    exclude: Mapping[str, Collection[str]] | None = None,
) -> None:
    """Write ``related.json``, ``related/<key>.json``, ``related/urls/<xx>.json``,
    ``related.js`` and ``related.css`` into ``out_dir``, and remove the per-entry and
    URL-map files of entries no longer stored.

    ``write(name, data)`` (publish's durable writer) writes the widget; the data files
    are derived, many and rewritten by every run, so they are replaced atomically but
    without an fsync each, and only when their bytes change.  ``related.json`` is
    streamed, never held in memory whole.  ``exclude`` (a commentary's source items)
    appears as ``"source"`` in the per-entry files.
    """
    exclude = exclude or {}
    entries = result.entries
    fragments: dict[str, str] = {}  # key -> the JSON of its list item, without score

    def fragment(key: str) -> str:
        cached = fragments.get(key)
        if cached is None:
            entry = entries[key]
            cached = fragments[key] = _json_text(
                {
                    "id": config.site.item_id(key),
                    "title": clean_text(entry.title),
                    "url": http_uri(entry.url),
                    "lead": clean_text(entry.lead),
                    "published": iso(entry.published),
                    "source": clean_text(entry.source),
                }
            )
        return cached

    related_dir = out_dir / "related"
    (related_dir / "urls").mkdir(parents=True, exist_ok=True)
    for directory in (related_dir, related_dir / "urls"):  # left by a killed run
        remove_stale_temp_files(directory)
    files: set[str] = set()
    urls: dict[str, dict[str, str]] = {}
    with streamed_text_if_changed(out_dir / "related.json") as everything:
        everything.write("{")
        first = True
        for key in sorted(entries, key=lambda k: (entries[k].published, k)):
            if not _FILE_KEY.fullmatch(key):
                continue
            listed = ",".join(
                f'{fragment(other)[:-1]},"score":{round(score, 4)}}}'
                for other, score in result.index.related(key)
                if other in entries
            )
            entry = entries[key]
            this_id = config.site.item_id(key)
            everything.write(f"{'' if first else ','}{_json_text(this_id)}:[{listed}]")
            first = False
            url = http_uri(entry.url)
            head = _json_text({"id": this_id, "title": clean_text(entry.title), "url": url})
            page = f'{head[:-1]},"related":[{listed}]'
            sources = [fragment(k) for k in sorted(exclude.get(key, ())) if k in entries]
            if sources:
                page += f',"source":[{",".join(sources)}]'
            write_if_changed(
                related_dir / f"{key}.json", (page + "}\n").encode("utf-8"), durable=False
            )
            files.add(f"{key}.json")
            link = url_key(url) if url else None
            if link:
                urls.setdefault(url_shard(link), {}).setdefault(link, key)  # the oldest wins
        everything.write("}\n")
    for shard, mapping in urls.items():
        data = (_json_text(dict(sorted(mapping.items()))) + "\n").encode("utf-8")
        write_if_changed(related_dir / "urls" / f"{shard}.json", data, durable=False)
    write("related.js", WIDGET_JS.encode("utf-8"))
    write("related.css", WIDGET_CSS.encode("utf-8"))
    _remove_others(related_dir, files)
    _remove_others(related_dir / "urls", {f"{s}.json" for s in urls})


def _json_text(value: object) -> str:
    # Like _feeds.json_bytes (<, >, & escaped: safe even inside a <script>), but
    # compact: related.json holds every entry.
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _remove_others(directory: Path, keep: set[str]) -> None:
    for path in directory.glob("*.json"):
        if path.name not in keep:
            with contextlib.suppress(OSError):
                path.unlink()
