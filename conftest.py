"""What every pytest run in this tree shares (tests/ and benchmarks/ alike)."""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

_CACHE_DIR = pytest.StashKey[str]()


def pytest_configure(config: pytest.Config) -> None:
    # Validated configs are cached between runs (config.py): here in a directory of the
    # run's own, never the user's ~/.cache; the subprocesses tests start inherit it.
    directory = tempfile.mkdtemp(prefix="aggregator-test-cache-")
    config.stash[_CACHE_DIR] = directory
    os.environ["AGGREGATOR_CACHE_DIR"] = directory


def pytest_unconfigure(config: pytest.Config) -> None:
    # Every test, and every process a test started, is done by now.
    directory = config.stash.get(_CACHE_DIR, None)
    if directory is not None:
        shutil.rmtree(directory, ignore_errors=True)
