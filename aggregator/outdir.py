"""``publish.dir``: whether the outputs may be written there, said before a command
writes anything (``cli``'s checks: ``check-config``, and ``run``, ``publish`` and
``related`` before they take the lock or open the store).

Each answer is a message (which key, which path, what to do) or None.  Light: a cron
run with nothing new does not import ``aggregator.publish`` for them (0.15 s of a 0.5 s
run); it is imported only to look for files publish did not write.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from aggregator.config import Config


def foreign_files_problem(config: Config, out: Path) -> str | None:
    """Why publish may not write in ``out`` (``config``'s publish.dir): it holds files
    of the names publish writes that it did not write (a web server's root with its
    own index.html, a site's own commentary/); None if it may."""
    from aggregator.publish import foreign_files

    found = foreign_files(config, out)
    if not found:
        return None
    written = config.publish.dir
    return (
        f"{config.path}: publish.dir: '{written}' holds {', '.join(found)}, "
        "which no aggregator run wrote (there is no health.json): publish would "
        "write over them, and remove the files in commentary/ and related/ it did "
        f"not write; write a directory of its own, e.g. '{Path(written) / 'feeds'}', "
        "or remove them if an earlier aggregator run did write them"
    )


def not_a_directory(config: Config, out: Path) -> str | None:
    """Why ``out`` (``config``'s publish.dir) cannot hold the outputs because it, or the
    nearest of its parents that exists, is not a directory; None when it is one, or can
    be made.  One stat for a directory in place."""
    for path in (out, *out.parents):
        try:
            mode = path.stat().st_mode  # a link to a directory is a directory
        except (FileNotFoundError, NotADirectoryError):
            if os.path.islink(path):
                kind = f"is a symbolic link to nothing ({os.readlink(path)})"
                break
            continue  # not there: made by the first run, if its parents allow
        except OSError:
            return None  # unreadable: writing there says why
        if stat.S_ISDIR(mode):
            return None
        kind = "is a file" if stat.S_ISREG(mode) else "is not a directory"
        break
    else:
        return None
    written = config.publish.dir
    if path == out:
        where = f"'{written}' {kind} ({out}), not a directory"
    else:
        where = f"'{written}' cannot be made: {path} {kind}, not a directory"
    return (
        f"{config.path}: publish.dir: {where}; the outputs are files written into "
        f"a directory: write the path of a directory (one not there yet is made), "
        f"or move {path} away"
    )
