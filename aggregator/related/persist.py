"""The related index on disk: ``<store>.related.npz`` beside the store (a PostgreSQL
store's: in the config file's directory), written
atomically; unreadable, of another format or of other settings -> None (rebuild)."""

from __future__ import annotations

import json
import logging
import os
import zipfile
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np

from aggregator.config import RelatedConfig
from aggregator.files import atomic_binary
from aggregator.related.index import RelatedIndex

__all__ = ["INDEX_FORMAT", "index_path", "load_index", "save_index"]

log = logging.getLogger(__name__)

INDEX_FORMAT = 2  # bump when the saved arrays change meaning: forces a rebuild


def index_path(store_path: str | os.PathLike[str], config_dir: Path | None = None) -> Path:
    """Where the index of a store lives: beside a SQLite store, as ``<store>.related.npz``;
    for a PostgreSQL store (a URL: no file to sit beside), in ``config_dir`` (the config
    file's directory) as ``<database>.related.npz``."""
    if "://" in str(store_path):
        database = urlsplit(str(store_path)).path.strip("/") or "aggregator"
        return (config_dir or Path.cwd()) / f"{database}.related.npz"
    path = Path(store_path)
    return path.with_name(path.name + ".related.npz")


def save_index(index: RelatedIndex, path: Path) -> None:
    """Write the index to ``path`` atomically (temporary file, then rename)."""
    meta, arrays = index.state()
    meta = {"format": INDEX_FORMAT, **meta}
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_binary(path) as f:
        np.savez(f, meta=np.array(json.dumps(meta, ensure_ascii=False)), **arrays)


def load_index(path: Path, settings: RelatedConfig) -> RelatedIndex | None:
    """The saved index, or None when there is none, it is unreadable, or it was made
    with other settings or another format (the caller then rebuilds)."""
    try:
        with np.load(path, allow_pickle=False) as saved:
            meta = json.loads(str(saved["meta"]))
            if meta.get("format") != INDEX_FORMAT:
                return None
            arrays = {name: saved[name] for name in saved.files if name != "meta"}
        return RelatedIndex.from_state(settings, meta, arrays)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, json.JSONDecodeError, zipfile.BadZipFile) as exc:
        # BadZipFile: a file cut short (a full disk, a copy interrupted)
        log.warning("related index %s is unreadable (%s); rebuilding it", path, exc)
        return None
