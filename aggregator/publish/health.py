"""health.json: per-source fetch status, for monitoring."""

from __future__ import annotations

from datetime import UTC, datetime

from aggregator.config import (
    Config,
    SourceConfig,
)
from aggregator.models import SourceState
from aggregator.publish.feeds import json_bytes
from aggregator.publish.select import Catalog
from aggregator.text.xml import clean_text, iso


def health_json(
    config: Config, catalog: Catalog, websub: list[dict[str, object]] | None = None
) -> bytes:
    sources = []
    counts: dict[str, int] = {}
    for source in config.sources:
        state = catalog.states.get(source.id)
        status = _status(source, state)
        counts[status] = counts.get(status, 0) + 1
        sources.append(
            {
                "id": source.id,
                "name": catalog.source_view(source.id).name,
                "url": catalog.feed_uri(state.url if state else source.url),
                "state": status,
                "last_attempt": _iso_or_none(state and state.last_attempt),
                "last_success": _iso_or_none(state and state.last_success),
                "last_error": clean_text(state.last_error) or None if state else None,
                "last_error_at": _iso_or_none(state and state.last_error_at),
                "consecutive_failures": state.consecutive_failures if state else 0,
                "backoff_until": _iso_or_none(state and state.backoff_until),
                "item_count": state.item_count if state else 0,
                "gone": state.gone if state else False,
            }
        )
    document = {"sources_total": len(sources), "states": dict(sorted(counts.items()))}
    document["sources"] = sources
    if websub:  # each hub's last announcement (publish/websub.py)
        document["websub"] = websub
    return json_bytes(document)


def _status(source: SourceConfig, state: SourceState | None) -> str:
    """ok | failing | gone | disabled | pending (never fetched)."""
    if not source.enabled:
        return "disabled"
    if state is None or state.last_attempt is None:
        return "pending"
    if state.gone:
        return "gone"
    if state.consecutive_failures > 0:
        return "failing"
    return "ok"


def _iso_or_none(moment: datetime | None) -> str | None:
    return iso(moment.astimezone(UTC)) if moment else None
