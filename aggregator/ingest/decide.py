"""Pure decisions of one fetch: what to write, given what came back and what is stored.

Nothing here does I/O or reads a clock: the pipeline (``update.py``) fetches, asks these
functions, and carries out what they return.  Two steps:

- ``after_fetch``: an HTTP outcome -> the source's new state, an adopted permanent URL,
  and whether there is a body to parse;
- ``plan_fetch``: a parsed feed + what the store holds of the items this source gave
  before -> a ``FetchPlan``: every item write (new / changed / unchanged) with its
  adjusted times, the counts, and the source's state.

Item rules (the store carries them out, it does not decide them):

- an item is "new" when this source never gave its id, "changed" when the source's
  version differs (content hash of everything the feed said), else "unchanged";
- stored published = the feed's published, else its updated, else when the item was
  first seen; stored updated = the feed's updated, else published; neither later than the
  fetch, updated never before published; an edit that keeps the feed's date keeps the
  stored published time;
- an id a feed lists twice: the later version wins, counted as an update of the first;
  one article link listed under two ids: the newer listing is kept, the other dropped;
- an item with no date at all is dated by ``undated_times``: one that appears in a later
  fetch when it was first seen (the fetch, or the feed's own date when that falls after
  the previous fetch); the ones a source lists on its first fetch (its backlog, of
  unknown age) below the item listed above them and below the newest item already
  stored, so that they never top the news; whole seconds, one second apart in feed order.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from aggregator.config import FetchConfig, SourceConfig
from aggregator.ingest import schedule
from aggregator.models import (
    FetchOutcome,
    FetchPlan,
    FetchRequest,
    FetchResult,
    HostHold,
    Item,
    ItemWrite,
    ParsedFeed,
    SeenItem,
    SourceState,
    UpdateCounts,
)
from aggregator.text.urls import canonical_url, is_site_root, without_userinfo

# The version of the rules by which parse turns a body into items (how relative links
# resolve, what the sanitizer keeps, ...).  It is part of every stored body hash; bump it
# when a change to them changes what gets stored: each source's next fetch is then
# unconditional and parsed again, so the items it still lists are stored afresh (an
# item whose stored version differs counts as changed), however long its feed stays
# the same.  Items a feed no longer lists keep what they were stored with.
PARSE_RULES = "r4"  # r2: relative links resolve against xml:base / the item's link;
# r3: localized RFC 822 dates are read (parse/dates.py); r4: numeric dates in the order
# their feed shows, dates without an offset in the site's zone by default


def _rules(source: SourceConfig) -> str:
    """``PARSE_RULES`` with the keys of ``source`` that change what its body's items are
    (``encoding:``, ``timezone:``): an editor who sets one (as ``status`` suggests) gets
    the items its feed lists read again by it, though the feed does not change."""
    keys = f"{source.encoding or ''}\0{source.timezone or ''}"
    return f"{PARSE_RULES}/{hashlib.sha1(keys.encode()).hexdigest()[:8]}"


def parsed_under_current_rules(state: SourceState, source: SourceConfig) -> bool:
    """Whether the source's last body was parsed under the current rules and its keys
    (or none was): if not, its next fetch sends no validators, so that the body comes
    back to parse."""
    return state.body_hash is None or state.body_hash.startswith(f"{_rules(source)}:")


def body_hash(body: bytes, source: SourceConfig) -> str:
    """What tells an unchanged body (no need to parse it again) under the same rules."""
    return f"{_rules(source)}:{hashlib.sha256(body).hexdigest()}"


@dataclass(frozen=True)
class SourceRun:
    """What happened to one source in one run."""

    source_id: str
    # "updated", "no new items" (parsed, nothing changed), "unchanged" (same body as
    # last time: not parsed), "not modified" (304), "error", "gone", "retry later",
    # "held" (not fetched: its host answered another of its sources 429/503)
    status: str
    new: int = 0
    updated: int = 0
    error: str | None = None
    until: datetime | None = None  # "held": when its host's hold ends


@dataclass(frozen=True)
class AfterFetch:
    """The decision on one HTTP outcome."""

    state: SourceState  # to save now, or (with a body) to carry into the parse
    run: SourceRun | None  # None: there is a changed body to parse
    url_change: tuple[str, str, int] | None = None  # (old, new, status) to record first
    body_hash: str | None = None
    max_age: int | None = None  # Cache-Control max-age, seconds
    host_hold: HostHold | None = None  # a 429/503: every source of the host waits


def after_fetch(
    source: SourceConfig,
    state: SourceState,
    result: FetchResult,
    fetch: FetchConfig,
    now: datetime,
) -> AfterFetch:
    """What one fetch result means for the source: the state to save and what follows.

    Every error names URLs without their login (``user:password@``): it goes to the
    cron log, ``status`` and health.json."""
    where = without_userinfo(result.final_url)
    url_change = None
    if result.permanent_url and result.permanent_url != state.url:
        status = result.redirects[-1][0] if result.redirects else 301
        url_change = (state.url, result.permanent_url, status)
        state = replace(state, url=result.permanent_url)

    def failed(new_state: SourceState, status: str, error: str) -> AfterFetch:
        return AfterFetch(new_state, SourceRun(source.id, status, error=error), url_change)

    outcome = result.outcome
    if outcome is FetchOutcome.GONE:
        error = f"410 Gone at {where}: the feed was removed; fix its url in feeds.yaml"
        return failed(schedule.after_gone(state, now, error=error), "gone", error)
    if outcome is FetchOutcome.RETRY_LATER:
        retry_at = schedule.parse_retry_after(result.headers.get("retry-after"), now)
        error = f"HTTP {result.status_code} at {where}: the server asked us to retry later"
        later = schedule.after_failure(state, source, fetch, now, error=error, retry_at=retry_at)
        host = schedule.host_of(where)
        assert later.backoff_until is not None
        hold = HostHold(host, later.backoff_until, source.id, error) if host else None
        return replace(failed(later, "retry later", error), host_hold=hold)
    if outcome is FetchOutcome.ERROR:
        error = without_userinfo(result.error or f"HTTP {result.status_code}")
        if result.status_code is not None and result.status_code >= 400:
            error = _http_error(error, result.status_code, where)
        return failed(
            schedule.after_failure(state, source, fetch, now, error=error), "error", error
        )

    if outcome is FetchOutcome.NOT_MODIFIED and not _revalidating(result.request):
        # "Not modified" since a copy we never had (a first fetch, or one read afresh):
        # taken at its word, the source would stay "ok" with nothing read, for ever.
        error = (
            f"HTTP 304 Not Modified at {where}, to a request that revalidated nothing (no "
            "ETag or Last-Modified of ours was sent): the server, or a cache before it, "
            "answers wrongly; nothing was read, tried again after the backoff"
        )
        return failed(
            schedule.after_failure(state, source, fetch, now, error=error), "error", error
        )

    max_age = schedule.parse_max_age(result.headers.get("cache-control"))
    if outcome is FetchOutcome.NOT_MODIFIED:
        etag = result.headers.get("etag") or state.etag
        last_modified = result.headers.get("last-modified") or state.last_modified
        if (etag, last_modified) != (state.etag, state.last_modified):  # mostly the same
            state = replace(state, etag=etag, last_modified=last_modified)
        fresh = schedule.after_success(state, source, fetch, now, min_interval_seconds=max_age)
        return AfterFetch(fresh, SourceRun(source.id, "not modified"), url_change)

    digest = body_hash(result.body or b"", source)
    state = replace(
        state,
        etag=result.headers.get("etag"),
        last_modified=result.headers.get("last-modified"),
    )
    if digest == state.body_hash:
        fresh = schedule.after_success(state, source, fetch, now, min_interval_seconds=max_age)
        return AfterFetch(fresh, SourceRun(source.id, "unchanged"), url_change)
    return AfterFetch(state, None, url_change, body_hash=digest, max_age=max_age)


def _revalidating(request: FetchRequest) -> bool:
    """Whether ``request`` asked the server to revalidate a copy (so 304 may answer it)."""
    asked = {name.lower() for name in request.headers}
    return bool(request.etag or request.last_modified or asked & _CONDITIONS)


_CONDITIONS = {"if-none-match", "if-modified-since"}


def _http_error(error: str, status: int, where: str) -> str:
    """An error status as the cron log and ``status`` show it: where (unless the error
    names the URL a redirect led to) and what to do."""
    if " from " not in error:
        error += f" at {where}"
    if status == 404:
        return f"{error}: no feed at this address; check the source's url in feeds.yaml"
    if status in (401, 403):
        return (
            f"{error}: the server refuses us; a feed behind a login takes it in its url "
            "(https://user:password@host/...), one that wants other headers in headers:"
        )
    if status >= 500:
        return f"{error}: the server failed; tried again after the backoff"
    return error


def held(source: SourceConfig, state: SourceState, hold: HostHold) -> AfterFetch:
    """A source not fetched because another feed of its host was answered 429/503."""
    error = f"not fetched: its host {hold.host} answered {hold.source_id}: {hold.reason}"
    return AfterFetch(
        schedule.after_host_hold(state, hold),
        SourceRun(source.id, "held", error=error, until=hold.until),
    )


def after_parse_error(
    source: SourceConfig, state: SourceState, fetch: FetchConfig, now: datetime, error: str
) -> tuple[SourceState, SourceRun]:
    """A body that is not a usable feed: a failure, and the validators are forgotten so
    that the next fetch brings the body again to re-check it (``error`` is shown
    without any URL's login)."""
    error = without_userinfo(error)
    state = replace(state, etag=None, last_modified=None, body_hash=None)
    failed = schedule.after_failure(state, source, fetch, now, error=error)
    return failed, SourceRun(source.id, "error", error=error)


def plan_fetch(
    source: SourceConfig,
    state: SourceState,
    feed: ParsedFeed,
    seen: Mapping[str, SeenItem],
    *,
    body_hash: str,
    max_age: int | None,
    fetch: FetchConfig,
    now: datetime,
    stored_times: Sequence[datetime] = (),
) -> tuple[FetchPlan, SourceRun]:
    """A parsed feed -> every write of the fetch and the source's new state.

    ``stored_times``: the times of the newest items the store holds, newest first (see
    ``undated_times``; needed only when the feed has items without a date)."""
    first_fetch, previous_fetch = state.last_success is None, state.last_success
    min_interval = max(filter(None, (feed.ttl_seconds, max_age)), default=None)
    state = replace(
        state,
        body_hash=body_hash,
        title=feed.title or state.title,
        link=feed.link or state.link,
        # A feed without a date of its own was modified when its body changed (here):
        # a fetch that finds it unchanged moves nothing publish shows.
        feed_updated=feed.updated or now,
        encoding=feed.encoding or state.encoding,
        zoneless_date=feed.zoneless_date,
        date_order=feed.date_order or state.date_order,
        ambiguous_date=feed.ambiguous_date,
        # A feed read in part (not well-formed) is a success with an error to fix.
        last_error=feed.problem and without_userinfo(f"{state.url}: {feed.problem}"),
        last_error_at=now if feed.problem else None,
    )
    state = schedule.after_success(state, source, fetch, now, min_interval_seconds=min_interval)
    writes, counts = plan_items(
        with_language(feed, source),
        seen,
        now,
        feed_updated=feed.updated,
        first_fetch=first_fetch,
        previous_fetch=previous_fetch,
        stored_times=stored_times,
    )
    plan = FetchPlan(state=state, writes=writes, fetched_at=now, counts=counts)
    status = "updated" if counts.new or counts.updated else "no new items"
    return plan, SourceRun(source.id, status, new=counts.new, updated=counts.updated)


def plan_items(
    items: Sequence[Item],
    seen: Mapping[str, SeenItem],
    fetched_at: datetime,
    *,
    feed_updated: datetime | None = None,
    first_fetch: bool = False,
    previous_fetch: datetime | None = None,
    stored_times: Sequence[datetime] = (),
) -> tuple[tuple[ItemWrite, ...], UpdateCounts]:
    """The writes for ``items`` (feed order), given what this source gave before.

    The items that carry no date are dated by ``undated_times`` (the other keywords).
    """
    known = dict(seen)
    writes: list[ItemWrite] = []
    position: dict[str, int] = {}  # item id -> its write in this plan
    new = changed = unchanged = 0
    listed = one_per_link(items)
    undated = undated_times(
        [_own_date(item, known.get(item.id)) for item in listed],
        fetched_at,
        feed_updated=feed_updated,
        first_fetch=first_fetch,
        previous_fetch=previous_fetch,
        stored_times=stored_times,
    )
    for item, undated_time in zip(listed, undated, strict=True):
        digest = content_hash(item)
        previous = known.get(item.id)
        if previous is None:
            first_seen = undated_time or fetched_at
            published, updated = adjusted_times(item, first_seen, fetched_at, None)
            write = ItemWrite("new", item, digest, published, updated)
            new += 1
        elif previous.content_hash == digest:
            unchanged += 1
            if item.id not in position:
                writes.append(ItemWrite("unchanged", item, digest, *_times(previous), previous.key))
                position[item.id] = len(writes) - 1
            continue
        else:
            published, updated = adjusted_times(item, previous.first_seen, fetched_at, previous)
            kind = writes[position[item.id]].kind if item.id in position else "changed"
            if kind == "unchanged":
                kind = "changed"
            write = ItemWrite(kind, item, digest, published, updated, previous.key)
            changed += 1
        if item.id in position:
            writes[position[item.id]] = write
        else:
            position[item.id] = len(writes)
            writes.append(write)
        known[item.id] = SeenItem(
            key=previous.key if previous else None,
            content_hash=digest,
            published=write.published,
            published_original=item.published,
            first_seen=previous.first_seen if previous else fetched_at,
        )
    return tuple(writes), UpdateCounts(new=new, updated=changed, unchanged=unchanged)


def relisted_links(items: Sequence[Item], seen: Mapping[str, SeenItem]) -> set[str]:
    """The canonical links to look up for ``relisted``: those of the items identified
    by their link (no guid) that the source never gave under that spelling."""
    if all(item.id in seen or item.id != item.link for item in items):
        return set()  # a fetch of items with guids, or of none new: nothing to look up
    return {link for item in _by_link(items) if item.id not in seen and (link := _link(item))}


def relisted(
    items: Sequence[Item],
    seen: Mapping[str, SeenItem],
    stored: Mapping[str, Sequence[tuple[str, str, SeenItem]]],
) -> dict[str, tuple[str, SeenItem]]:
    """The items identified by their link (no guid) that the source gave before under
    another spelling of it, by their new id: (the stored id, what is seen of it).

    A feed without guids whose links carry tracking parameters that change between
    builds (``?utm_campaign=<date>``) lists the same articles under new ids; stored
    again, each would be published again.  The same article is the one
    ``one_per_link`` takes one listing of: the same canonical link and title
    (``stored``: the source's stored items by canonical link, as
    ``Storage.stored_by_link`` gives them), its stored id a spelling of that link too."""
    listed = _by_link(items)
    ids = {item.id for item in listed}
    taken: set[str] = set()
    found: dict[str, tuple[str, SeenItem]] = {}
    for item in listed:
        link = _link(item) if item.id not in seen else None
        for stored_id, title, stored_seen in stored.get(link, ()) if link else ():
            if (
                stored_id in ids  # listed under that spelling too
                or stored_id in taken
                or canonical_url(stored_id) != link  # a guid of its own
                or _title_key(title) != _title_key(item.title)
            ):
                continue
            taken.add(stored_id)
            found[item.id] = (stored_id, stored_seen)
            break
    return found


def regenerated_links(items: Sequence[Item], seen: Mapping[str, SeenItem]) -> set[str]:
    """The canonical links to look up for ``regenerated``: none when the source gave any
    of ``items``' guids before (its guids are stable)."""
    if seen:
        return set()
    return {link for item in items if item.id != item.link and (link := _link(item))}


def regenerated(
    items: Sequence[Item],
    seen: Mapping[str, SeenItem],
    stored: Mapping[str, Sequence[tuple[str, str, SeenItem]]],
    *,
    unstable: bool,
) -> dict[str, tuple[str, SeenItem]]:
    """The items the source gave before under another guid, by their new id: (the
    stored id, what is seen of it), when its guids are not stable.

    A CMS that puts a session token or a build time in <guid> lists the same articles
    under new guids on every fetch; stored again, each would be published again.
    Another guid with the same link and title may be another item (a daily column
    under one page), so the rule is about the source, not one item: none of the
    guids it lists is one it gave before, and at least two of its items are stored
    under other guids with their link and title (``stored``: by canonical link, as
    ``Storage.stored_by_link`` gives them); once it is known for that (``unstable``),
    one such item is enough.  The answer is empty where the rule does not hold."""
    if seen:
        return {}
    ids = {item.id for item in items}
    taken: set[str] = set()
    found: dict[str, tuple[str, SeenItem]] = {}
    for item in one_per_link([item for item in items if item.id != item.link]):
        link = _link(item)
        for stored_id, title, stored_seen in stored.get(link, ()) if link else ():
            if (
                stored_id in ids
                or stored_id in taken
                or _title_key(title) != _title_key(item.title)
            ):
                continue
            taken.add(stored_id)
            found[item.id] = (stored_id, stored_seen)
            break
    return found if len(found) >= (1 if unstable else 2) else {}


def guids_unstable(
    state: SourceState, seen: Mapping[str, SeenItem], found: Mapping[str, object], now: datetime
) -> datetime | None:
    """Since when the source's guids are known to change on every fetch (``found``: what
    ``regenerated`` found in this one), or None: a fetch that lists a guid given before
    shows them stable again."""
    if found:
        return state.guids_unstable or now
    return None if seen else state.guids_unstable


def _by_link(items: Sequence[Item]) -> list[Item]:
    """The items (one listing per article) whose id is their link: they have no guid."""
    return one_per_link([item for item in items if item.link and item.id == item.link])


def _link(item: Item) -> str | None:
    """The item's canonical link, where it names an article (not a site's root page)."""
    url = canonical_url(item.link) if item.link else None
    return url if url is not None and not is_site_root(url) else None


def _title_key(title: str | None) -> str:
    return " ".join((title or "").casefold().split())


def one_per_link(items: Sequence[Item]) -> list[Item]:
    """``items`` with one id per article: a feed that lists one link with one title under
    two ids lists one article twice, so the id of the newer listing is kept (the first
    listed on a tie) and the other id's listings are dropped.  Listings of one id all
    pass (the id rules handle them); so do items without a link or linking the site's
    root page, and items that share a link but not a title (a live page or a section
    that every entry links to)."""
    chosen: dict[tuple[str, str], tuple[datetime, int, str]] = {}  # -> (date, -index, id)
    links: list[tuple[str, str] | None] = []
    for index, item in enumerate(items):
        url = _link(item)
        link = (url, _title_key(item.title)) if url is not None else None
        links.append(link)
        if link is None:
            continue
        candidate = (_date_of(item), -index, item.id)
        best = chosen.get(link)
        if best is None or (best[2] != item.id and candidate[:2] > best[:2]):
            chosen[link] = candidate
        elif best[2] == item.id and candidate[0] > best[0]:
            chosen[link] = (candidate[0], best[1], item.id)
    return [
        item
        for item, link in zip(items, links, strict=True)
        if link is None or chosen[link][2] == item.id
    ]


def _own_date(item: Item, previous: SeenItem | None) -> datetime | None:
    """The item's date, else the time stored for it, else None (to be dated)."""
    own = item.published or item.updated
    if own is None and previous is not None:
        return previous.published
    return own


def _date_of(item: Item) -> datetime:
    return item.updated or item.published or datetime.min.replace(tzinfo=UTC)


def undated_times(
    dates: Sequence[datetime | None],
    fetched_at: datetime,
    *,
    feed_updated: datetime | None = None,
    first_fetch: bool = False,
    previous_fetch: datetime | None = None,
    stored_times: Sequence[datetime] = (),
) -> list[datetime | None]:
    """The time to date each item by, in feed order: None for an item with a date of its
    own (``dates``: its date, or the time stored for it; None: it has none).

    - An undated item that appears in a later fetch is new since the previous fetch: it
      is dated when it was first seen, i.e. this fetch (or the feed's own date, when the
      feed says it changed after the previous fetch).
    - The undated items of a source's first fetch are its backlog: the feed listed them
      before we followed it, we cannot tell how long before, so they must not top the
      news that carries real dates.  Each is dated one second below the item listed
      above it (dated or not), and never above the feed's own date, the fetch, or one
      second below the newest item the store already holds (``stored_times[0]``).
    - Whole seconds, one second apart, and never a time an item in ``stored_times``
      (the newest stored items' times, newest first) already has: in an output that
      combines sources, no two entries share a time because of us.
    """
    second = timedelta(seconds=1)
    ceiling = fetched_at
    if feed_updated is not None and (
        first_fetch or previous_fetch is None or feed_updated > previous_fetch
    ):
        ceiling = min(ceiling, feed_updated)
    if first_fetch and stored_times:
        ceiling = min(ceiling, stored_times[0] - second)
    ceiling = ceiling.replace(microsecond=0)
    taken = set(stored_times)
    above = ceiling + second  # the time of the item listed above the next one
    times: list[datetime | None] = []
    for date in dates:
        if date is None:
            above = min(above - second, ceiling)
            while above in taken:
                above -= second
            times.append(above)
        else:
            times.append(None)
            if first_fetch:  # a later fetch dates what is new by the fetch alone
                above = min(above, date.replace(microsecond=0))
    return times


def more_stored_times_needed(undated: int, newest: Sequence[datetime]) -> bool:
    """Whether ``newest`` (the times of the newest stored items, newest first, as many as
    were asked for) may stop short of a time ``undated_times`` could give one of
    ``undated`` items: then ask for more."""
    if not newest:
        return False
    return newest[-1] >= newest[0] - timedelta(seconds=undated + len(newest) + 1)


def _times(seen: SeenItem) -> tuple[datetime, datetime]:
    return seen.published, seen.published  # not written for "unchanged"


def adjusted_times(
    item: Item, first_seen: datetime, fetched_at: datetime, previous: SeenItem | None
) -> tuple[datetime, datetime]:
    """(published, updated) as stored: see the module's item rules."""
    original = item.published
    if previous is not None and (original is None or original == previous.published_original):
        published = previous.published  # stable across edits
    elif original is not None:
        published = min(original, fetched_at)
    elif item.updated is not None:
        published = min(item.updated, fetched_at)
    else:
        published = first_seen
    updated = min(item.updated, fetched_at) if item.updated is not None else published
    return published, max(updated, published)


def content_hash(item: Item) -> str:
    """Hash of everything the feed said about the item, to notice edits."""
    fields = [
        item.title,
        item.link,
        item.summary,
        item.content,
        _iso(item.published),
        _iso(item.updated),
        item.published_raw,
        item.updated_raw,
        [vars(a) for a in item.authors],
        list(item.categories),
        [vars(e) for e in item.enclosures],
        item.language,
    ]
    data = _JSON.encode(fields)
    return hashlib.sha1(data.encode("utf-8", "surrogatepass")).hexdigest()


# json.dumps with these options builds an encoder per call; the output is the same.
_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def with_language(feed: ParsedFeed, source: SourceConfig) -> list[Item]:
    """Items keep their own language; else the feed's; else the configured source's."""
    fallback = feed.language or source.language
    if not fallback:
        return list(feed.items)
    return [it if it.language else replace(it, language=fallback) for it in feed.items]


def _iso(moment: datetime | None) -> str | None:
    # The store's spelling of a time (fixed-width UTC): hashes already stored stay equal.
    if moment is None:
        return None
    return _iso_of(moment)


@functools.lru_cache(maxsize=1024)  # an item's two times are often one, and feeds repeat them
def _iso_of(moment: datetime) -> str:
    if moment.tzinfo is not UTC:
        moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.isoformat(timespec="microseconds")
