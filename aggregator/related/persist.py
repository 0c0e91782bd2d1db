"""The related index on disk, beside the store (a PostgreSQL store's: in the config
file's directory): a *base* file, ``<store>.related.npz``, with the whole index, and a
*delta* file, ``<store>.related.delta.npz``, with what changed since (entries added and
removed, lists changed).  A run that changes a few entries rewrites only the delta:
its cost follows the changes since the base, not the index.  When the delta has grown
past ``COMPACT_FRACTION`` of the entries (at least ``COMPACT_MIN``), the next save
writes a new base and drops the delta.

Both are written atomically (a temporary file, then a rename); the delta names its
base (a random ``generation``), so a delta left beside a newer base (a run killed
between the two) is ignored.  Unreadable, of another format or of other settings ->
None (the caller rebuilds)."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import struct
import uuid
import zipfile
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from aggregator.config import RelatedConfig
from aggregator.files import atomic_binary

if TYPE_CHECKING:
    import numpy as np

    from aggregator.related.index import RelatedIndex

__all__ = ["INDEX_FORMAT", "delta_path", "index_meta", "index_path", "load_index", "save_index"]

log = logging.getLogger(__name__)

INDEX_FORMAT = 7  # bump when the saved arrays change meaning: forces a rebuild
# 5: term hashes (_hashing.term_hashes) and entry versions (changes.version_of) anew
# 7: text hashes (_hashing.text_hashes) by numpy over the word hashes, not blake2b
COMPACT_MIN = 500
COMPACT_FRACTION = 0.01
_UNREADABLE = (OSError, ValueError, KeyError, json.JSONDecodeError, zipfile.BadZipFile)


def index_path(store_path: str | os.PathLike[str], config_dir: Path | None = None) -> Path:
    """Where the index of a store lives: beside a SQLite store, as ``<store>.related.npz``;
    for a PostgreSQL store (a URL: no file to sit beside), in ``config_dir`` (the config
    file's directory) as ``<database>.related.npz``.  The delta file sits beside it."""
    if "://" in str(store_path):
        database = urlsplit(str(store_path)).path.strip("/") or "aggregator"
        return (config_dir or Path.cwd()) / f"{database}.related.npz"
    path = Path(store_path)
    return path.with_name(path.name + ".related.npz")


def delta_path(path: Path) -> Path:
    return path.with_name(path.name.removesuffix(".npz") + ".delta.npz")


def save_index(index: RelatedIndex, path: Path) -> str:
    """Save what changed since the base file (the delta), or a new base when there is
    none yet or the delta has grown past its share.

    Returns the name of this save (random; ``"saved"`` in what :func:`index_meta`
    reads): the files exported from the index are noted under it, so a later run can
    tell whether the published files are the ones this state of the index wrote."""
    path.parent.mkdir(parents=True, exist_ok=True)
    saved = uuid.uuid4().hex
    limit = max(COMPACT_MIN, COMPACT_FRACTION * len(index))
    if index.base_generation is not None and index.delta_size() <= limit:
        meta, arrays = index.delta_state()
        _write(delta_path(path), {**meta, "saved": saved}, arrays)
        return saved
    generation = uuid.uuid4().hex
    # Room for the entries the runs until the next base add: they go in place.
    meta, arrays = index.state(spare=int(limit) + 64)
    _write(path, {**meta, "generation": generation, "saved": saved}, arrays)
    index.based_on(generation)
    with contextlib.suppress(FileNotFoundError):
        delta_path(path).unlink()
    return saved


_ALIGN = 64  # bytes: where each array's data starts in the file (as .npy aligns it)
_PADDING_FIELD = 0xD935  # a zip extra field that only pads (the ID zipalign uses)


def _write(path: Path, meta: dict, arrays: dict[str, np.ndarray]) -> None:
    """An .npz file (uncompressed) whose arrays' data start at multiples of ``_ALIGN``
    bytes: mapped from the file (``_mapped``), they are aligned, and numpy works on
    them in place (np.savez leaves them unaligned: a search in the vocabulary then
    copied it first, 0.4 ms a lookup)."""
    import numpy as np
    from numpy.lib import format as npy

    meta = {"format": INDEX_FORMAT, **meta}
    members = {"meta": np.array(json.dumps(meta, ensure_ascii=False)), **arrays}
    with atomic_binary(path) as f, zipfile.ZipFile(f, "w", zipfile.ZIP_STORED) as saved:
        for name, value in members.items():
            array = np.asarray(value)  # (ascontiguousarray would make 0-d arrays 1-d)
            if not array.flags.c_contiguous:
                array = array.copy(order="C")
            header = io.BytesIO()
            npy.write_array_header_1_0(header, npy.header_data_from_array_1_0(array))
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED
            info.file_size = len(header.getvalue()) + array.nbytes
            # The local header: 30 bytes, the name, the extra field; the .npy header
            # is a multiple of 64 bytes long, so the data are aligned when this is.
            start = f.tell() + 30 + len(info.filename.encode())
            pad = -start % _ALIGN
            pad += _ALIGN if pad < 4 else 0  # an extra field is 4 bytes at least
            info.extra = struct.pack("<HH", _PADDING_FIELD, pad - 4) + bytes(pad - 4)
            with saved.open(info, "w") as member:
                member.write(header.getvalue())
                member.write(array.data if array.size else b"")


def _read_meta(path: Path) -> dict:
    """The ``meta`` member of a saved file, read without numpy (a run with nothing new
    needs nothing else): a .npy of one string, UTF-32 after a header."""
    with zipfile.ZipFile(path) as saved, saved.open("meta.npy") as member:
        data = member.read()
    if data[:6] != b"\x93NUMPY":
        raise ValueError("not a .npy member")
    size_bytes = 2 if data[6] == 1 else 4
    start = 8 + size_bytes
    header = data[start : start + int.from_bytes(data[8:start], "little")].decode("latin-1")
    if "'<U" not in header or "'shape': ()" not in header:
        raise ValueError(f"unexpected meta header {header!r}")
    text = data[start + int.from_bytes(data[8:start], "little") :].decode("utf-32-le")
    return json.loads(text.rstrip("\x00"))


def index_meta(path: Path, settings: RelatedConfig) -> dict | None:
    """The saved index's description (its store mark, exclusions, entry count...)
    without loading it: two small reads.  None where :func:`load_index` would be."""
    try:
        meta = _read_meta(path)
        if meta.get("format") != INDEX_FORMAT or not _same_settings(meta, settings):
            return None
        try:
            delta = _read_meta(delta_path(path))
        except FileNotFoundError:
            return meta
        return delta if delta.get("generation") == meta["generation"] else meta
    except FileNotFoundError:
        return None
    except _UNREADABLE:
        return None


def load_index(path: Path, settings: RelatedConfig) -> RelatedIndex | None:
    """The saved index, or None when there is none, it is unreadable, or it was made
    with other settings or another format (the caller then rebuilds)."""
    import numpy as np

    from aggregator.related.index import RelatedIndex

    try:
        meta, arrays = _mapped(path)
        if meta.get("format") != INDEX_FORMAT:
            return None
        index = RelatedIndex.from_state(settings, meta, arrays)
        if index is None:
            return None
        del arrays
        try:
            with np.load(delta_path(path), allow_pickle=False) as saved:
                delta = json.loads(str(saved["meta"]))
                if delta.get("generation") == meta["generation"]:
                    arrays = {name: saved[name] for name in saved.files if name != "meta"}
                    index.apply_delta(delta, arrays)
        except FileNotFoundError:
            pass
        return index
    except FileNotFoundError:
        return None
    except _UNREADABLE as exc:
        # BadZipFile: a file cut short (a full disk, a copy interrupted)
        log.warning("related index %s is unreadable (%s); rebuilding it", path, exc)
        return None


def _mapped(path: Path) -> tuple[dict, dict[str, np.ndarray]]:
    """(meta, arrays) of a saved file, the arrays mapped from it rather than read: a run
    that adds a few entries touches a few pages of the vectors, the inverted index and
    the sketches (reading the whole base cost more than the update).  Copy-on-write: the
    index changes its arrays in place, never the file (a new base replaces it by a
    rename, so the mapped file stays as it was)."""
    import mmap

    import numpy as np
    from numpy.lib import format as npy

    arrays: dict[str, np.ndarray] = {}
    with open(path, "rb") as f:
        with zipfile.ZipFile(f) as saved:
            members = saved.infolist()
        mapped = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_COPY)
        for member in members:
            if member.compress_type != zipfile.ZIP_STORED or not member.filename.endswith(".npy"):
                raise ValueError(f"{member.filename} is not a stored .npy member")
            # The local header: 30 bytes, then the name and an extra field of its own size.
            local = member.header_offset
            if mapped[local : local + 4] != b"PK\x03\x04":
                raise ValueError(f"no local header for {member.filename}")
            name_size = int.from_bytes(mapped[local + 26 : local + 28], "little")
            extra_size = int.from_bytes(mapped[local + 28 : local + 30], "little")
            f.seek(local + 30 + name_size + extra_size)
            version = npy.read_magic(f)
            if version == (1, 0):
                shape, fortran, dtype = npy.read_array_header_1_0(f)
            else:
                shape, fortran, dtype = npy.read_array_header_2_0(f)
            if dtype.hasobject:
                raise ValueError(f"{member.filename} holds Python objects")
            try:
                arrays[member.filename.removesuffix(".npy")] = np.ndarray(
                    shape, dtype, buffer=mapped, offset=f.tell(), order="F" if fortran else "C"
                )
            except TypeError as exc:  # "buffer is too small": a file cut short
                raise ValueError(f"{member.filename}: {exc}") from None
    meta = json.loads(str(arrays.pop("meta")))
    return meta, arrays


def _same_settings(meta: dict, settings: RelatedConfig) -> bool:
    return meta.get("settings") == asdict(settings)
