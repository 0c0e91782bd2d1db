"""health.json: per-source fetch status, for monitoring."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from aggregator.config import (
    Config,
    SourceConfig,
    config_dir,
)
from aggregator.ingest.fetch import local_path
from aggregator.ingest.schedule import host_hold
from aggregator.models import HostHold, SourceState
from aggregator.publish.feeds import json_bytes
from aggregator.publish.select import Catalog
from aggregator.text.urls import without_userinfo
from aggregator.text.xml import clean_text, iso


def health_json(
    config: Config,
    catalog: Catalog,
    websub: list[dict[str, object]] | None = None,
    *,
    holds: Mapping[str, HostHold] | None = None,
    now: datetime | None = None,
) -> bytes:
    """``holds``: the hosts held at ``now`` (``Storage.host_holds``): their feeds are
    not requested until the hold ends, which a monitor is to see."""
    sources = []
    counts: dict[str, int] = {}
    now = now or datetime.now(UTC)
    for source in config.sources:
        state = catalog.states.get(source.id)
        hold = host_hold(state, holds or {}, now)
        status = _status(source, state, hold)
        counts[status] = counts.get(status, 0) + 1
        sources.append(
            {
                "id": source.id,
                "name": catalog.source_view(source.id).name,
                "url": catalog.feed_uri(state.url if state else source.url),
                "state": status,
                "last_attempt": _iso_or_none(state and state.last_attempt),
                "last_success": _iso_or_none(state and state.last_success),
                "last_error": _public_error(catalog, state),
                "last_error_at": _iso_or_none(state and state.last_error_at),
                "consecutive_failures": state.consecutive_failures if state else 0,
                "backoff_until": _iso_or_none(state and state.backoff_until),
                "item_count": state.item_count if state else 0,
                "gone": state.gone if state else False,
                "held_until": _iso_or_none(hold and hold.until),
                "held_by": _held_by(hold),
            }
        )
    document = {"sources_total": len(sources), "states": dict(sorted(counts.items()))}
    document["sources"] = sources
    if websub:  # each hub's last announcement (publish/websub.py)
        document["websub"] = websub
    return json_bytes(document)


def _public_error(catalog: Catalog, state: SourceState | None) -> str | None:
    """A source's last error as the world may read it: no URL's password, and for a
    file read from this machine, not its path ("file not found: a local file")."""
    error = clean_text(state.last_error) if state is not None else ""
    if not error:
        return None
    error = without_userinfo(error)
    if catalog.feed_uri(state.url) is None:
        path = local_path(state.url, config_dir(catalog.config))
        if path is not None:  # as the fetch stage names it: the path, or its file URL
            for named in (path.as_uri(), str(path)):
                error = error.replace(named, "a local file")
    return error


def _held_by(hold: HostHold | None) -> dict[str, str] | None:
    """The answer that holds a source's host: which host, which source it answered, how
    (its error, without a URL's password)."""
    if hold is None:
        return None
    return {
        "host": hold.host,
        "source": hold.source_id,
        "reason": without_userinfo(clean_text(hold.reason)),
    }


def _status(source: SourceConfig, state: SourceState | None, hold: HostHold | None) -> str:
    """ok | failing | gone | disabled | held (its host answered 429/503: not requested
    until the hold ends) | pending (never fetched)."""
    if not source.enabled:
        return "disabled"
    if state is not None and state.gone:
        return "gone"
    if state is not None and state.consecutive_failures > 0:
        return "failing"
    if hold is not None:
        return "held"
    if state is None or state.last_attempt is None:
        return "pending"
    return "ok"


def _iso_or_none(moment: datetime | None) -> str | None:
    return iso(moment.astimezone(UTC)) if moment else None
