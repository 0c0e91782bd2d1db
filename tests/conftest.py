"""Shared pytest fixtures."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from feedserver import FeedServer
from pgcluster import PostgresCluster

# The config cache of a test run: ../conftest.py.


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    """A running FeedServer on 127.0.0.1 (see tests/feedserver.py); stopped after the test."""
    with FeedServer() as server:
        yield server


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresCluster]:
    """One throw-away PostgreSQL server for the session (tests/pgcluster.py); skips the
    test, with the reason, where PostgreSQL is not installed."""
    bin_dir, _, why = PostgresCluster.binaries()
    if bin_dir is None:
        pytest.skip(why)
    with PostgresCluster.start() as cluster:
        yield cluster


# Every store backend: tests that take `store_at` / `module_store_at` run once per backend.
BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request) -> str:
    return request.param


def _store_factory(backend: str, base: Path, request) -> Callable[[str], str]:
    made: dict[str, str] = {}

    def store_at(name: str = "store") -> str:
        """The location of a store named ``name`` (the same name, the same store): a
        SQLite file in the test's directory, or a new PostgreSQL schema."""
        if name not in made:
            if backend == "sqlite":
                made[name] = str(base / f"{name}.sqlite")
            else:
                made[name] = request.getfixturevalue("postgres").new_store(name)
        return made[name]

    return store_at


@pytest.fixture
def store_at(backend: str, tmp_path: Path, request) -> Callable[[str], str]:
    """``store_at(name)``: where a new store of the test's backend is (see BACKENDS)."""
    return _store_factory(backend, tmp_path, request)


@pytest.fixture(scope="module")
def module_store_at(backend: str, tmp_path_factory, request) -> Callable[[str], str]:
    """``store_at`` for module-scoped fixtures."""
    return _store_factory(backend, tmp_path_factory.mktemp("stores"), request)
