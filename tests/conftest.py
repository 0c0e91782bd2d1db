"""Shared pytest fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from feedserver import FeedServer


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    """A running FeedServer on 127.0.0.1 (see tests/feedserver.py); stopped after the test."""
    with FeedServer() as server:
        yield server
