"""Worker processes that die with the run that started them.

A run killed with ``kill -9`` cannot stop its workers: before, forkserver workers lived on
for good, owned by init, holding the killed run's stdout/stderr open (a cron job piping the
output hung on them). Every process pool of the project comes from here, so that:

* workers are *spawned* (a fresh interpreter): no fork server stays behind, and a worker
  inherits none of the run's descriptors -- in particular not the run lock, which a forked
  worker would keep holding after the run died;
* each worker asks the kernel to kill it when its parent dies (``PR_SET_PDEATHSIG``, Linux),
  and a watchdog thread in it exits when it finds itself orphaned (every POSIX platform;
  within ``WATCHDOG_SECONDS``);
* the resource tracker, which multiprocessing starts beside the pool, exits by itself once
  the run and the workers are gone (its pipe closes);
* the scratch files a run hands its workers (``scratch_directory``) do not outlive it for
  long: a killed run cannot remove them, so the next run that asks for one removes those of
  runs that are gone (they can be hundreds of megabytes at 100,000 entries).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import ctypes
import ctypes.util
import multiprocessing
import multiprocessing.context
import multiprocessing.pool
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

WATCHDOG_SECONDS = 0.25  # an orphaned worker exits within about this long
SCRATCH_IDLE_SECONDS = 3600  # a gone run's scratch directory unchanged this long is removed
_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def context() -> multiprocessing.context.SpawnContext:
    """The multiprocessing context of every worker pool (see the module docstring)."""
    return multiprocessing.get_context("spawn")


def executor(max_workers: int) -> concurrent.futures.ProcessPoolExecutor:
    """A ProcessPoolExecutor whose workers die with this process."""
    return concurrent.futures.ProcessPoolExecutor(
        max_workers=max_workers,
        mp_context=context(),
        initializer=die_with_parent,
        initargs=(os.getpid(),),
    )


def pool(processes: int) -> multiprocessing.pool.Pool:
    """A multiprocessing Pool whose workers die with this process."""
    return context().Pool(processes, initializer=die_with_parent, initargs=(os.getpid(),))


def die_with_parent(parent_pid: int) -> None:
    """Run in a worker as it starts: end this process when ``parent_pid`` is gone."""
    _set_parent_death_signal()
    if os.getppid() != parent_pid:  # the parent died before the signal was asked for
        os._exit(1)
    watchdog = threading.Thread(
        target=_watch_parent, args=(parent_pid,), name="die-with-parent", daemon=True
    )
    watchdog.start()


def _set_parent_death_signal() -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        return libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _watch_parent(parent_pid: int) -> None:
    # An orphan is adopted by init (or a subreaper): its parent pid changes.
    while os.getppid() == parent_pid:
        time.sleep(WATCHDOG_SECONDS)
    os._exit(1)


@contextlib.contextmanager
def scratch_directory(purpose: str) -> Iterator[str]:
    """A fresh directory under the system's temporary directory, removed on leaving.

    Its name, ``aggregator-<purpose>-<pid>-<random>``, says which process made it: first,
    the directories of this purpose whose process is gone (killed: SIGKILL, or SIGTERM,
    which runs no ``finally``) and that nothing changed for ``SCRATCH_IDLE_SECONDS`` are
    removed, so a killed run's scratch lasts only until a later run needs scratch of its
    own.  (The age is for a temporary directory shared across PID namespaces, where
    another container's live run can look gone from here.)"""
    base = Path(tempfile.gettempdir())
    idle_since = time.time() - SCRATCH_IDLE_SECONDS
    for left in base.glob(f"aggregator-{purpose}-*-*"):
        pid = left.name.removeprefix(f"aggregator-{purpose}-").split("-", 1)[0]
        with contextlib.suppress(OSError):
            if (
                pid.isdigit()
                and not _alive(int(pid))
                and left.is_dir()
                and not left.is_symlink()
                and left.stat().st_mtime < idle_since
            ):
                shutil.rmtree(left, ignore_errors=True)
    with tempfile.TemporaryDirectory(prefix=f"aggregator-{purpose}-{os.getpid()}-") as path:
        yield path


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive, and not ours to judge
        return True
    return True
