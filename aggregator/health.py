"""health.json: per-source fetch status, for monitoring, and the last run's heartbeat.

Publish writes it with the outputs; a run that publishes nothing (nothing changed)
writes it alone, by :func:`write_health`, without the publish stage: this module reads
only the configuration and the sources' states, so such a run imports none of it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from aggregator.config import (
    Config,
    SourceConfig,
    config_dir,
    resolve_path,
    shown_name,
    source_zone,
)
from aggregator.files import write_if_changed
from aggregator.ingest.fetch import local_path
from aggregator.ingest.schedule import host_hold
from aggregator.models import HostHold, SourceState
from aggregator.store import Storage
from aggregator.text.urls import http_uri, without_userinfo
from aggregator.text.xml import clean_text, iso, json_bytes

HEALTH_FILE = "health.json"


@dataclass(frozen=True)
class Heartbeat:
    """The command that writes health.json, for ``"last_run"``: a monitor tells from its
    time that cron is alive, also when the run changed nothing."""

    command: str  # "run" | "publish"
    fetched: int | None = None  # sources the run fetched (None: the command fetches none)
    published: bool = True  # False: nothing changed, the outputs were left as they were


def public_feed_uri(url: str | None) -> str | None:
    """A source's public URL as a URI; None for a file read from this machine (its path
    means nothing to a reader and tells the world about our disk).  Without the
    ``user:password@`` the URL may carry to log in with."""
    return http_uri(without_userinfo(url)) if url else None


def write_health(
    config: Config,
    storage: Storage,
    heartbeat: Heartbeat,
    websub: list[dict[str, object]],
    *,
    out_dir: Path | None = None,
    now: datetime | None = None,
) -> Path:
    """Rewrite health.json alone (atomically), for a run that changed nothing else: the
    sources' states as the store has them, and ``websub``, each hub's state as the last
    publish left it (``publish.websub.hub_statuses``)."""
    out_dir = resolve_path(config, config.publish.dir) if out_dir is None else Path(out_dir)
    path = out_dir / HEALTH_FILE
    write_if_changed(
        path, health_of(config, storage, storage.source_states(), websub, now, heartbeat)
    )
    return path


def health_of(
    config: Config,
    storage: Storage,
    states: Sequence[SourceState],
    websub: list[dict[str, object]],
    now: datetime | None,
    heartbeat: Heartbeat | None,
) -> bytes:
    """health.json's bytes for ``states``, with the hosts ``storage`` holds at ``now``."""
    clock = now or datetime.now(UTC)
    by_id = {state.source_id: state for state in states}
    holds = storage.host_holds(clock)
    return health_json(config, by_id, websub, holds=holds, now=clock, heartbeat=heartbeat)


def health_json(
    config: Config,
    states: Mapping[str, SourceState],
    websub: list[dict[str, object]] | None = None,
    *,
    holds: Mapping[str, HostHold] | None = None,
    now: datetime | None = None,
    heartbeat: Heartbeat | None = None,
) -> bytes:
    """``holds``: the hosts held at ``now`` (``Storage.host_holds``): their feeds are
    not requested until the hold ends, which a monitor is to see.  ``heartbeat``: the
    command writing it now, said as ``"last_run"`` with ``now`` and its outcome."""
    sources = []
    counts: dict[str, int] = {}
    now = now or datetime.now(UTC)
    held = {source.id for source in config.held}
    for source in config.published_sources():
        state = states.get(source.id)
        hold = None if source.id in held else host_hold(state, holds or {}, now)
        # A source held for a mistake in its entry is not fetched: the entry is to mend.
        status = "config_error" if source.id in held else _status(source, state, hold)
        counts[status] = counts.get(status, 0) + 1
        sources.append(
            {
                "id": source.id,
                "name": shown_name(source.id, source, state and state.title),
                "url": public_feed_uri(state.url if state else source.url),
                "state": status,
                "last_attempt": _iso_or_none(state and state.last_attempt),
                "last_success": _iso_or_none(state and state.last_success),
                "last_error": _public_error(config, state),
                "last_error_at": _iso_or_none(state and state.last_error_at),
                "consecutive_failures": state.consecutive_failures if state else 0,
                "failing_since": None if source.id in held else _iso_or_none(_failing(state)),
                "backoff_until": _iso_or_none(state and state.backoff_until),
                "item_count": state.item_count if state else 0,
                "gone": state.gone if state else False,
                "held_until": _iso_or_none(hold and hold.until),
                "held_by": _held_by(hold),
                "config_problems": [
                    without_userinfo(clean_text(problem))
                    for problem in config.problems_of(source.id)
                ],
                **_date_notes(config, source, state),
            }
        )
    document: dict[str, object] = {}
    if heartbeat is not None:
        document["last_run"] = _last_run(heartbeat, now, sources)
    document.update(sources_total=len(sources), states=dict(sorted(counts.items())))
    document["sources"] = sources
    if websub:  # each hub's last announcement (publish/websub.py)
        document["websub"] = websub
    return json_bytes(document)


def _last_run(heartbeat: Heartbeat, now: datetime, sources: list[dict]) -> dict[str, object]:
    """When the run ended, what it did, and its outcome: "ok", or "failing" with every
    source whose fetches fail (or that is gone, or not fetched for a mistake in its
    entry) and since when."""
    failing = [
        {"id": s["id"], "state": s["state"], "since": s["failing_since"]}
        for s in sources
        if s["state"] in ("failing", "gone", "config_error")
    ]
    return {
        "finished": _iso_or_none(now.replace(microsecond=0)),
        "command": heartbeat.command,
        "fetched": heartbeat.fetched,
        "published": heartbeat.published,
        "outcome": "failing" if failing else "ok",
        "failing": failing,
    }


def _date_notes(
    config: Config, source: SourceConfig, state: SourceState | None
) -> dict[str, str | None]:
    """What the source's last parsed feed's dates were like, as ``status`` says it: one
    of its dates that say no offset and the zone they are read in; one of its numeric
    dates that may be day or month first with none showing which (its items go undated)."""
    zoneless = clean_text(state.zoneless_date or "") if state else ""
    ambiguous = clean_text(state.ambiguous_date or "") if state else ""
    return {
        "zoneless_date": zoneless or None,
        "zoneless_zone": source_zone(config, source) if zoneless else None,
        "ambiguous_date": ambiguous or None,
    }


def _failing(state: SourceState | None) -> datetime | None:
    """Since when a source's fetches fail; None while they work."""
    if state is None or not state.consecutive_failures:
        return None
    return state.failing_since or state.last_error_at


def _public_error(config: Config, state: SourceState | None) -> str | None:
    """A source's last error as the world may read it: no URL's password, and for a
    file read from this machine, not its path ("file not found: a local file")."""
    error = clean_text(state.last_error) if state is not None else ""
    if not error:
        return None
    error = without_userinfo(error)
    if public_feed_uri(state.url) is None:
        path = local_path(state.url, config_dir(config))
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
