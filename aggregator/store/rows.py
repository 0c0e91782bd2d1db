"""What both backends derive the same way: item keys, the JSON of list columns, and
the mapping between rows and our types (each backend passes its ``Codec``: how it
stores times, text and flags)."""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any

from aggregator.models import (
    Author,
    Enclosure,
    Item,
    ItemText,
    ItemWrite,
    SourceState,
    StoredItem,
)

__all__ = [
    "ITEM_COLUMNS",
    "SAVED_SOURCE_COLUMNS",
    "SOURCE_COLUMNS",
    "Codec",
    "first_key",
    "item_row",
    "item_text",
    "json_text",
    "sha1",
    "source_row",
    "source_state",
    "stored_item",
    "utc",
    "without_nones",
]


def first_key(source_id: str, item_id: str) -> str:
    """An item's key: 8 hex digits of its first source (so one fetch's inserts land
    together in the indexes), 12 of that source's item id; see sqlite.py's notes."""
    return sha1(source_id)[:8] + sha1(f"{source_id}\0{item_id}")[:12]


def sha1(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()


def json_text(value: Any) -> str:
    if not value and isinstance(value, list):
        return "[]"  # most items have no enclosures, many no authors
    return _JSON.encode(value)


# json.dumps with these options builds an encoder per call; the output is the same.
_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def utc(moment: datetime) -> datetime:
    """``moment`` in UTC; a naive one is taken as UTC (the contract is aware UTC: local
    time must not creep in)."""
    if moment.tzinfo is UTC:  # nearly always: every time we make is
        return moment
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def without_nones(mapping: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in mapping.items() if v is not None}


# -- rows <-> types -------------------------------------------------------------------


def _same(value: Any) -> Any:
    return value


@dataclass(frozen=True)
class Codec:
    """How one backend stores what our types hold."""

    time: Callable[[datetime], Any]  # an aware UTC datetime -> the stored value
    read_time: Callable[[Any], datetime]
    text: Callable[[str], str] = _same  # what the backend's text can hold
    flag: Callable[[bool], Any] = _same
    source_ids: Callable[[Any], Sequence[str]] = _same  # the aggregated column -> ids

    def time_or_none(self, moment: datetime | None) -> Any:
        return None if moment is None else self.time(moment)

    def read_time_or_none(self, value: Any) -> datetime | None:
        return None if value is None else self.read_time(value)

    def text_or_none(self, value: str | None) -> str | None:
        return None if value is None else self.text(value)


SOURCE_COLUMNS = (
    "id",
    "url",
    "configured_url",
    "etag",
    "last_modified",
    "body_hash",
    "title",
    "link",
    "feed_updated",
    "last_attempt",
    "last_success",
    "last_error",
    "last_error_at",
    "consecutive_failures",
    "next_due",
    "backoff_until",
    "gone",
    "item_count",
    "min_interval_seconds",
    "encoding",
    "guids_unstable",
    "failing_since",
    "zoneless_date",
    "date_order",
    "ambiguous_date",
)
SOURCE_TIMES = (
    "feed_updated",
    "last_attempt",
    "last_success",
    "last_error_at",
    "next_due",
    "backoff_until",
    "guids_unstable",
    "failing_since",
)
SAVED_SOURCE_COLUMNS = [c for c in SOURCE_COLUMNS if c != "item_count"]

ITEM_COLUMNS = (
    "key",
    "id",
    "canonical_link",
    "title",
    "link",
    "summary",
    "content",
    "published",
    "updated",
    "published_original",
    "updated_original",
    "published_raw",
    "updated_raw",
    "first_seen",
    "authors",
    "categories",
    "enclosures",
    "language",
    "content_hash",
)


def source_row(state: SourceState, codec: Codec) -> dict[str, Any]:
    text = codec.text_or_none
    row: dict[str, Any] = {
        "id": state.source_id,
        "url": codec.text(state.url),
        "configured_url": codec.text(state.configured_url),
        "etag": text(state.etag),
        "last_modified": text(state.last_modified),
        "body_hash": state.body_hash,
        "title": text(state.title),
        "link": text(state.link),
        "last_error": text(state.last_error),
        "consecutive_failures": state.consecutive_failures,
        "gone": codec.flag(state.gone),
        "min_interval_seconds": state.min_interval_seconds,
        "encoding": text(state.encoding),
        "zoneless_date": text(state.zoneless_date),
        "date_order": state.date_order,
        "ambiguous_date": text(state.ambiguous_date),
    }
    for name in SOURCE_TIMES:
        row[name] = codec.time_or_none(getattr(state, name))
    return row


# SOURCE_COLUMNS are SourceState's fields in order (id for source_id): a row becomes
# a state by position, which a warm run does for a thousand sources, three times.
if tuple(f.name for f in fields(SourceState)) != ("source_id", *SOURCE_COLUMNS[1:]):
    raise ImportError("SOURCE_COLUMNS must list SourceState's fields in order")
_SOURCE_TIME_INDEXES = tuple(SOURCE_COLUMNS.index(name) for name in SOURCE_TIMES)
_SOURCE_GONE_INDEX = SOURCE_COLUMNS.index("gone")


def source_state(row: Sequence[Any], codec: Codec) -> SourceState:
    if len(row) != len(SOURCE_COLUMNS):
        raise ValueError(f"a sources row has {len(SOURCE_COLUMNS)} columns, not {len(row)}")
    values = list(row)
    read_time = codec.read_time
    for index in _SOURCE_TIME_INDEXES:
        if values[index] is not None:
            values[index] = read_time(values[index])
    values[_SOURCE_GONE_INDEX] = bool(values[_SOURCE_GONE_INDEX])
    return SourceState(*values)


def item_row(
    write: ItemWrite, key: str, canonical_link: str | None, fetched: Any, codec: Codec
) -> dict[str, Any]:
    """The row of one item write; ``fetched`` is already in the backend's form."""
    item = write.item
    text = codec.text_or_none
    return {
        "key": key,
        "id": codec.text(item.id),
        "canonical_link": canonical_link,
        "title": codec.text(item.title),
        "link": text(item.link),
        "summary": text(item.summary),
        "content": text(item.content),
        "published": codec.time(write.published),
        "updated": codec.time(write.updated),
        "published_original": codec.time_or_none(item.published),
        "updated_original": codec.time_or_none(item.updated),
        "published_raw": text(item.published_raw),
        "updated_raw": text(item.updated_raw),
        "first_seen": fetched,
        "authors": codec.text(_authors_json(item.authors)),
        "categories": codec.text(_categories_json(item.categories)),
        "enclosures": codec.text(json_text([without_nones(vars(e)) for e in item.enclosures])),
        "language": item.language,
        "content_hash": write.content_hash,
    }


# A feed's items repeat a few authors and rubrics: each list's JSON is written once.
def _authors_json(authors: Sequence[Author]) -> str:
    if isinstance(authors, tuple):
        return _tuple_json(authors)
    return json_text([without_nones(vars(a)) for a in authors])


def _categories_json(categories: Sequence[str]) -> str:
    if isinstance(categories, tuple):
        return _tuple_json(categories)
    return json_text(list(categories))


@functools.lru_cache(maxsize=1024)
def _tuple_json(values: tuple[Any, ...]) -> str:
    """Authors (frozen) or category names as the stored JSON list."""
    return json_text([without_nones(vars(v)) if isinstance(v, Author) else v for v in values])


def stored_item(row: Sequence[Any], codec: Codec) -> StoredItem:
    (
        key,
        item_id,
        title,
        link,
        summary,
        content,
        published,
        updated,
        published_raw,
        updated_raw,
        authors,
        categories,
        enclosures,
        language,
        first_seen,
        source_ids,
    ) = row
    published_dt, updated_dt = codec.read_time(published), codec.read_time(updated)
    item = Item(
        id=item_id,
        title=title,
        link=link,
        summary=summary,
        content=content,
        published=published_dt,
        updated=updated_dt,
        published_raw=published_raw,
        updated_raw=updated_raw,
        authors=tuple(Author(**a) for a in json.loads(authors)),
        categories=tuple(json.loads(categories)),
        enclosures=tuple(Enclosure(**e) for e in json.loads(enclosures)),
        language=language,
    )
    return StoredItem(
        key=key,
        item=item,
        source_ids=tuple(codec.source_ids(source_ids)),
        first_seen=codec.read_time(first_seen),
        published=published_dt,
        updated=updated_dt,
    )


def item_text(row: Sequence[Any], codec: Codec) -> ItemText:
    """The ``ItemText`` of a row of ``SQLStorage._select_item_text``: the same values as
    :func:`stored_item`'s, without the JSON of authors and enclosures."""
    key, title, link, summary, content, language, published, categories, source_ids = row
    return ItemText(
        key,
        title,
        link,
        summary,
        content,
        language,
        codec.read_time(published),
        () if categories == "[]" else tuple(json.loads(categories)),
        tuple(codec.source_ids(source_ids)),
    )
