"""WebSub (W3C Recommendation, 23 January 2018), the publisher's side.

With ``publish.websub_hubs`` set, every Atom and RSS output advertises the hubs
(``<link rel="hub">`` beside its ``rel="self"`` link; JSON Feed: ``hubs``), and after
a publish each output file whose bytes changed is announced to every hub: a POST of
``hub.mode=publish`` and ``hub.url=<the file's self URL>`` (the form hubs take since
PubSubHubbub 0.4; WebSub leaves the publisher-to-hub call to the hub, and this is the
one they share).  Subscribers then learn of a new entry at once instead of at their
next poll.

The pings go through the fetch stage's :class:`Fetcher` (SSRF guard, deadline), all
hubs at once, so a hub that hangs costs at most ``fetch.timeout`` and never fails the
publish.  A hub that failed keeps its announcements pending in ``.websub.json`` (in
the output directory) and gets them again on the next run, with whatever changed
since.  ``health.json`` and ``aggregator status`` show each hub's last attempt.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

from aggregator.config import Config
from aggregator.files import write_if_changed
from aggregator.ingest.fetch import Fetcher
from aggregator.models import FetchOutcome, FetchRequest
from aggregator.publish.feeds import FORMATS, FeedView

__all__ = [
    "STATE_FILE",
    "HubStatus",
    "announce",
    "begin",
    "changed_feed_urls",
    "hub_links",
    "hub_statuses",
]

log = logging.getLogger(__name__)

STATE_FILE = ".websub.json"
# URLs per request: hubs accept hub.url repeated; a bound keeps one request small.
_BATCH = 50


@dataclass(frozen=True)
class HubStatus:
    """What the last publish told one hub."""

    hub: str
    last_attempt: str | None = None  # RFC 3339, UTC
    last_success: str | None = None
    last_error: str | None = None
    pending: tuple[str, ...] = ()  # self URLs still to announce

    def as_json(self) -> dict[str, object]:
        return {
            "hub": self.hub,
            "state": "pending" if self.pending else "ok" if self.last_success else "idle",
            "last_attempt": self.last_attempt,
            "last_success": self.last_success,
            "last_error": self.last_error,
            "pending": list(self.pending),
        }


def hub_statuses(config: Config, out_dir: Path) -> list[HubStatus]:
    """Every configured hub's status, as the last publish left it."""
    state = _load(out_dir)
    return [_status(hub, state.get(hub, {})) for hub in config.publish.websub_hubs]


# In the state file while a publish writes the outputs, until it has told the hubs.
_WRITING = "~writing"


def begin(config: Config, out_dir: Path) -> bool:
    """Note that a publish is about to write the outputs; True when an earlier one
    noted so and never announced (killed in between, or its disk full): which of its
    files changed is not known, so every feed is announced this time (a hub told of
    an unchanged feed fetches it and finds nothing new; one not told of a changed feed
    would wait for the next change)."""
    if not config.publish.websub_hubs:
        return False
    state = _load(out_dir)
    if _WRITING in state:
        return True
    _save(out_dir, {**state, _WRITING: {}})
    return False


def announce(
    config: Config, out_dir: Path, changed: Iterable[str], *, now: datetime | None = None
) -> list[HubStatus]:
    """Tell every hub about the ``changed`` self URLs (and what failed before).

    Never raises for a hub's failure: the returned statuses say what happened.  Once
    the hubs are told (or their announcements kept pending), ``begin``'s note goes.
    """
    hubs = config.publish.websub_hubs
    if not hubs:
        return []
    now = now or datetime.now(UTC)
    stamp = now.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    state = _load(out_dir)
    changed = list(dict.fromkeys(changed))
    todo: dict[str, list[str]] = {}
    for hub in hubs:
        pending = [str(u) for u in state.get(hub, {}).get("pending", ())]
        todo[hub] = list(dict.fromkeys([*pending, *changed]))
    errors = _ping_all(config, {hub: urls for hub, urls in todo.items() if urls})
    new_state: dict[str, dict[str, object]] = {}
    for hub in hubs:
        entry = dict(state.get(hub, {}))
        if todo[hub]:
            entry["last_attempt"] = stamp
            error = errors.get(hub)
            if error is None:
                entry.update(last_success=stamp, last_error=None, pending=[])
            else:
                log.warning("WebSub hub %s: %s", hub, error)
                entry.update(last_error=error, pending=todo[hub])
        new_state[hub] = entry
    _save(out_dir, new_state)
    return [_status(hub, new_state[hub]) for hub in hubs]


def _ping_all(config: Config, todo: Mapping[str, list[str]]) -> dict[str, str]:
    """hub -> error, for the hubs whose announcement failed."""
    if not todo:
        return {}

    async def run() -> dict[str, str]:
        async with Fetcher(config.fetch) as fetcher:
            jobs = {hub: _ping(fetcher, hub, urls) for hub, urls in todo.items()}
            done = await asyncio.gather(*jobs.values())
        return {hub: error for hub, error in zip(jobs, done, strict=True) if error}

    try:
        return asyncio.run(run())
    except Exception as exc:  # a bug must not fail the publish; say so and retry later
        log.exception("WebSub announcements failed")
        return {hub: f"unexpected error: {exc}" for hub in todo}


async def _ping(fetcher: Fetcher, hub: str, urls: list[str]) -> str | None:
    for start in range(0, len(urls), _BATCH):
        fields = [("hub.mode", "publish")] + [("hub.url", u) for u in urls[start : start + _BATCH]]
        request = FetchRequest(
            hub,
            method="POST",
            body=urlencode(fields).encode("ascii"),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        result = await fetcher.fetch(request)
        accepted = result.status_code is not None and 200 <= result.status_code < 300
        if not accepted or result.outcome is FetchOutcome.ERROR and result.status_code != 204:
            return result.error or f"HTTP {result.status_code}"
    return None


def _status(hub: str, entry: Mapping[str, object]) -> HubStatus:
    pending = entry.get("pending") or ()
    return HubStatus(
        hub=hub,
        last_attempt=_str_or_none(entry.get("last_attempt")),
        last_success=_str_or_none(entry.get("last_success")),
        last_error=_str_or_none(entry.get("last_error")),
        pending=tuple(str(u) for u in pending) if isinstance(pending, list) else (),
    )


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _load(out_dir: Path) -> dict[str, dict[str, object]]:
    with contextlib.suppress(OSError, ValueError):
        data = json.loads((out_dir / STATE_FILE).read_text(encoding="utf-8"))
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if isinstance(v, dict)}
    return {}


def _save(out_dir: Path, state: Mapping[str, object]) -> None:
    data = json.dumps(state, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
    write_if_changed(out_dir / STATE_FILE, data.encode("utf-8"))


def hub_links(config: Config) -> tuple[tuple[str, str], ...]:
    """The ("hub", URL) links every output carries."""
    return tuple(("hub", hub) for hub in config.publish.websub_hubs)


def changed_feed_urls(views: Iterable[FeedView], written: Iterable[Path]) -> list[str]:
    """The self URLs of the feed files a publish wrote (new or changed bytes)."""
    names = {path.name for path in written}
    return [
        view.self_urls[fmt]
        for view in views
        for fmt, ext in FORMATS.items()
        if f"{view.name}{ext}" in names
    ]
