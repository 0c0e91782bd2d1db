"""When to fetch what: pure functions, no I/O, no clock (callers pass ``now``).

Everything that decides "what needs updating" lives here so it can be tested as a
table of inputs and outputs, as lemon24/reader does with its update decisions.
"""

from __future__ import annotations

import email.utils
import random
import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from aggregator.config import FetchConfig, SourceConfig
from aggregator.models import HostHold, SourceState

# A feed may ask to be polled less often (ttl, max-age), but never so rarely that a
# mistaken header silences it for weeks.
MAX_INTERVAL_LOWER_BOUND = 24 * 3600
# A Retry-After further away than this is treated as this: a misconfigured server
# should not park a source for a year.
MAX_RETRY_AFTER = 7 * 24 * 3600


def is_due(state: SourceState | None, now: datetime) -> bool:
    """A source is due when it is not gone and neither its schedule nor a backoff holds it."""
    if state is None:
        return True
    if state.gone:
        return False
    if state.backoff_until is not None and state.backoff_until > now:
        return False
    return state.next_due is None or state.next_due <= now


def host_of(url: str) -> str | None:
    """The host a source's requests go to (lowercased, as fetch connects), or None for
    a local file or a URL without one."""
    try:
        split = urlsplit(url)
        host = split.hostname if split.scheme.lower() in ("http", "https") else None
    except ValueError:
        return None
    return host or None


def host_hold(
    state: SourceState | None, holds: Mapping[str, HostHold], now: datetime
) -> HostHold | None:
    """The hold of the host ``state``'s source is fetched from, while it lasts: a 429 or
    503 from one feed of a host holds all of them (a polite crawler backs off the
    host, not the one URL that was answered)."""
    if state is None or not holds:
        return None
    host = host_of(state.url)
    hold = holds.get(host) if host is not None else None
    return hold if hold is not None and hold.until > now else None


def after_host_hold(state: SourceState, hold: HostHold) -> SourceState:
    """A source not fetched because its host is held: due again when the hold ends (no
    failure of its own is counted, nothing else changes)."""
    next_due = hold.until if state.next_due is None else max(state.next_due, hold.until)
    return replace(state, next_due=next_due)


def select_due(
    sources: Iterable[SourceConfig],
    states: Mapping[str, SourceState],
    now: datetime,
    *,
    select_all: bool = False,
    only: Iterable[str] | None = None,
    holds: Mapping[str, HostHold] | None = None,
) -> list[SourceConfig]:
    """The enabled sources to fetch in this run.

    ``select_all`` ignores schedules and backoff (``fetch --all``) but still skips
    sources marked gone; naming a source explicitly (``only``) fetches it whatever
    its state, because the editor asked for exactly that one.  ``holds`` (by host):
    a source whose host asked to retry later waits with it (``host_hold``), unless
    asked for by name.
    """
    wanted = set(only) if only is not None else None
    chosen = []
    for source in sources:
        if wanted is not None:
            if source.id in wanted:
                chosen.append(source)
            continue
        if not source.enabled:
            continue
        state = states.get(source.id)
        if select_all:
            if state is None or not state.gone:
                chosen.append(source)
        elif is_due(state, now) and host_hold(state, holds or {}, now) is None:
            chosen.append(source)
    return chosen


def effective_interval(
    source: SourceConfig, fetch: FetchConfig, min_interval_seconds: int | None
) -> int:
    """The configured interval, raised to the feed's own ttl / max-age when larger."""
    interval = source.interval if source.interval is not None else fetch.interval
    if min_interval_seconds:
        interval = max(interval, min(min_interval_seconds, MAX_INTERVAL_LOWER_BOUND))
    return interval


_MAX_AGE = re.compile(r"(?:^|[,\s])(?:s-)?max-age\s*=\s*\"?(\d+)", re.IGNORECASE)


def parse_max_age(cache_control: str | None) -> int | None:
    """Seconds from a Cache-Control header's max-age, or None (no-cache/no-store -> None)."""
    if not cache_control:
        return None
    match = _MAX_AGE.search(cache_control)
    return int(match.group(1)) if match else None


def parse_retry_after(value: str | None, now: datetime) -> datetime | None:
    """Retry-After as seconds ("120") or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        seconds = int(value)
    else:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = max(0, int((when - now).total_seconds()))
    return now + timedelta(seconds=min(seconds, MAX_RETRY_AFTER))


def backoff_seconds(failures: int, fetch: FetchConfig, rng: random.Random | None = None) -> float:
    """Exponential backoff with jitter: base * 2**(failures-1), capped, times 0.5..1.0.

    The jitter spreads retries of many sources that failed together (a shared host
    going down) so they do not all return at the same second.
    """
    failures = max(1, failures)
    delay = min(fetch.backoff_max, fetch.backoff_base * 2 ** min(failures - 1, 32))
    jitter = (rng or random).uniform(0.5, 1.0)
    return delay * jitter


def after_success(
    state: SourceState,
    source: SourceConfig,
    fetch: FetchConfig,
    now: datetime,
    *,
    min_interval_seconds: int | None = None,
) -> SourceState:
    """State after a fetch that worked (200 parsed, 200 unchanged, or 304)."""
    min_interval = min_interval_seconds or state.min_interval_seconds
    interval = effective_interval(source, fetch, min_interval)
    return replace(
        state,
        last_attempt=now,
        last_success=now,
        consecutive_failures=0,
        failing_since=None,
        backoff_until=None,
        next_due=now + timedelta(seconds=interval),
        min_interval_seconds=min_interval,
        gone=False,
    )


def after_failure(
    state: SourceState,
    source: SourceConfig,
    fetch: FetchConfig,
    now: datetime,
    *,
    error: str,
    retry_at: datetime | None = None,
    rng: random.Random | None = None,
) -> SourceState:
    """State after a failed fetch: count it, and back off (or obey the server's Retry-After)."""
    failures = state.consecutive_failures + 1
    if retry_at is not None:
        until = retry_at
    else:
        until = now + timedelta(seconds=backoff_seconds(failures, fetch, rng))
    interval = effective_interval(source, fetch, state.min_interval_seconds)
    return replace(
        state,
        last_attempt=now,
        last_error=error,
        last_error_at=now,
        consecutive_failures=failures,
        failing_since=_failing_since(state, now),
        backoff_until=until,
        next_due=max(until, now + timedelta(seconds=interval)),
    )


def after_gone(state: SourceState, now: datetime, *, error: str) -> SourceState:
    """410 Gone: stop fetching until the editor changes the URL or fetches it by name."""
    return replace(
        state,
        last_attempt=now,
        last_error=error,
        last_error_at=now,
        consecutive_failures=state.consecutive_failures + 1,
        failing_since=_failing_since(state, now),
        gone=True,
        next_due=None,
        backoff_until=None,
    )


def _failing_since(state: SourceState, now: datetime) -> datetime:
    """The start of a source's failures: ``now`` for the first after a success."""
    if state.consecutive_failures and state.failing_since is not None:
        return state.failing_since
    return now


def health(state: SourceState, now: datetime, hold: HostHold | None = None) -> str:
    """One word for `aggregator status` and health.json (``hold``: its host's, if any)."""
    if state.gone:
        return "gone"
    if state.consecutive_failures and state.backoff_until is not None and state.backoff_until > now:
        return "backoff"
    if hold is not None and hold.until > now:
        return "held"
    if state.last_attempt is None:
        return "new"
    if state.consecutive_failures == 0:
        return "ok"
    return "failing"


def lease_seconds(fetch: FetchConfig, sources: Iterable[SourceConfig]) -> float:
    """How long a fetcher holds a source: long enough for the slowest source's deadline
    plus parsing and storing, short enough that a killed worker's sources wait little."""
    slowest = max([fetch.timeout, *(s.timeout or 0 for s in sources)])
    return max(120.0, 4 * slowest)
