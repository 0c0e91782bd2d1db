"""Atomic, change-only file writes: the one way any stage puts a file in place.

Every published file is written to a temporary file in the same directory and renamed
over the target, so a reader (a web server, a feed reader, a crash) sees the old file or
the new one, never a part; and only when the bytes differ, so an unchanged output keeps
its mtime and its HTTP validators.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

TEMP_PREFIX = ".aggregator-tmp-"  # every temporary file we leave behind starts so
STALE_TEMP_SECONDS = 600

# Written into publish.dir before anything else publish writes there: a first run killed
# before its health.json leaves the directory known as ours all the same (publish.mark_own).
OWN_MARK = ".aggregator"


def write_if_changed(path: Path, data: bytes, *, durable: bool = True) -> bool:
    """Replace ``path`` with ``data`` atomically; False (and no write) if already equal.

    ``durable`` fsyncs the file and its directory, so the rename survives a power cut;
    derived files that are many and rewritten every run (the related index's) skip it.
    """
    with contextlib.suppress(OSError):
        if path.stat().st_size == len(data) and path.read_bytes() == data:
            return False
    with _temporary(path) as (f, temp):
        f.write(data)
        if durable:
            f.flush()
            os.fsync(f.fileno())
        f.close()
        os.chmod(temp, 0o644)  # mkstemp makes 0600; the files are for serving
        os.replace(temp, path)
    if durable:
        fsync_directory(path.parent)
    return True


@contextlib.contextmanager
def atomic_binary(path: Path) -> Iterator[IO[bytes]]:
    """A binary file written in pieces, put in place atomically (always) on success."""
    with _temporary(path) as (f, temp):
        yield f
        f.close()
        os.replace(temp, path)


@contextlib.contextmanager
def _temporary(path: Path) -> Iterator[tuple[IO[bytes], str]]:
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=TEMP_PREFIX + path.name + ".")
    f = os.fdopen(fd, "wb")
    try:
        yield f, temp
    except BaseException:
        # Closing flushes what is buffered, which fails again on a full disk: the
        # temporary file goes all the same.
        with contextlib.suppress(OSError):
            f.close()
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    finally:
        f.close()


def fsync_directory(directory: Path) -> None:
    """Make a rename in ``directory`` durable (not every platform can open a directory)."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def remove_stale_temp_files(directory: Path, *, older_than: float = STALE_TEMP_SECONDS) -> None:
    """Temporary files left in ``directory`` by a killed run (old enough not to be a live
    run's; pass ``older_than=0`` when the caller holds the run lock)."""
    cutoff = time.time() - older_than
    for temp in directory.glob(TEMP_PREFIX + "*"):
        with contextlib.suppress(OSError):
            if temp.stat().st_mtime <= cutoff:
                temp.unlink()
