"""Fixtures of the parse tests."""

from __future__ import annotations

import functools

import pytest

from aggregator import parse


@pytest.fixture(params=parse.PARSERS)
def both_parse_paths(request, monkeypatch) -> str:
    """Runs the test once per parse path: the module's ``parse_feed`` is
    ``aggregator.parse.parse_feed`` with ``parser=`` set to each choice in turn."""
    monkeypatch.setattr(
        request.module, "parse_feed", functools.partial(parse.parse_feed, parser=request.param)
    )
    return request.param
