"""Stored items -> the views the renderers spell: one :class:`EntryView` per entry of an
output (attribution, sanitized content, related and via links), one :class:`FeedView` per
output."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import datetime
from urllib.parse import quote

from aggregator.config import (
    OutputConfig,
)
from aggregator.house import FILE_KEY_PREFIX, HouseEntry
from aggregator.models import Author, Enclosure, StoredItem
from aggregator.parse.sanitize import sanitize_html
from aggregator.publish.commentary import render_html
from aggregator.publish.feeds import (
    FORMATS,
    EntryView,
    FeedView,
    SourceView,
    ViaView,
    feed_url,
    language_tag,
    media_type,
)
from aggregator.publish.language import shared_language
from aggregator.publish.select import Catalog, Selection
from aggregator.text.html import plain_text
from aggregator.text.urls import http_uri
from aggregator.text.xml import clean_text

# An image of 1x1 (or 0) pixels: a tracking beacon, not content.
_TRACKING_PIXEL = re.compile(
    r"<img\b(?=[^>]*\bwidth=[\"']?[01](?:px)?[\"'\s/>])"
    r"(?=[^>]*\bheight=[\"']?[01](?:px)?[\"'\s/>])[^>]*>",
    re.IGNORECASE,
)
_MEDIA = re.compile(r"<(?:img|video|audio|iframe|picture|svg)\b", re.IGNORECASE)
# Before the link to the original, after the repost notice.
_SOURCE_WORD = {"ru": "Источник", "kk": "Дереккөз", "en": "Source"}


def entry_view(
    stored: StoredItem,
    selection: Selection,
    catalog: Catalog,
    cache: dict[tuple[str, str | None], EntryView],
) -> EntryView:
    # Attribute the source this output selected the item through, if it did.
    source_id = next(
        (s for s in stored.source_ids if s in selection.sources),
        stored.source_ids[0] if stored.source_ids else None,
    )
    view = cache.get((stored.key, source_id))
    if view is None:
        view = cache[(stored.key, source_id)] = _base_entry_view(stored, source_id, catalog)
    notice = catalog.config.site.repost_notice
    # Commentary carries the notice in its own content already.
    if selection.output.repost_notice and notice and catalog.commentary(stored) is None:
        view = replace(view, content_html=view.content_html + _notice_html(notice, view))
    return view


def _base_entry_view(stored: StoredItem, source_id: str | None, catalog: Catalog) -> EntryView:
    item = stored.item
    house = catalog.commentary(stored)
    if house is not None:
        return _commentary_view(house, source_id, catalog)
    # The parse stage sanitized already; cleaning again costs little and means
    # nothing in the store, whatever wrote it, reaches a reader unsanitized.
    content = _safe_html(item.content or item.summary, item.link)
    summary = _safe_html(item.summary, item.link) if item.content and item.summary else None
    return EntryView(
        id=catalog.config.site.item_id(stored.key),
        original_id=clean_text(item.id),
        title=clean_text(item.title).strip(),
        link=http_uri(item.link),
        published=stored.published,
        updated=max(stored.updated, stored.published),
        summary_html=summary,
        content_html=content,
        authors=tuple(_authors(item.authors)),
        categories=tuple(dict.fromkeys(c for c in map(clean_text, item.categories) if c)),
        enclosures=tuple(_enclosures(item.enclosures)),
        language=language_tag(catalog.language(stored)),
        source=catalog.source_view(source_id) if source_id else None,
        related=catalog.related_links(stored.key),
        lead=plain_text(summary or content),
    )


def _commentary_view(house: HouseEntry, source_id: str | None, catalog: Catalog) -> EntryView:
    """A house commentary: its own title and link; content and via links from the match."""
    stored, commentary = house.stored, house.commentary
    if stored.key.startswith(FILE_KEY_PREFIX):
        entry_id = catalog.config.site.tag_uri(quote(stored.key, safe="/"))
        name = catalog.config.house.name or catalog.config.site.house or catalog.config.site.title
        source = SourceView(
            id=catalog.config.site.tag_uri("source/house"),
            name=clean_text(name),
            feed_url=catalog.house_feed_url(),
            home_url=http_uri(catalog.config.site.link),
            updated=stored.published,
        )
    else:
        entry_id = catalog.config.site.item_id(stored.key)
        source = catalog.source_view(source_id) if source_id else None
    via = tuple(
        ViaView(
            id=catalog.config.site.item_id(ref.key),
            url=http_uri(ref.link),
            title=clean_text(ref.title),
            source=clean_text(ref.name),
            item_id=clean_text(ref.item_id),
        )
        for ref in house.sources
    )
    return EntryView(
        id=entry_id,
        original_id=clean_text(stored.item.id),
        title=clean_text(commentary.title).strip(),
        # Its own page, unless the editor gave it one elsewhere.
        link=http_uri(commentary.link) or catalog.page_url(stored.key),
        published=stored.published,
        updated=max(stored.updated, stored.published),
        summary_html=None,
        content_html=_safe_html(
            render_html(commentary, house.match, house.sources, catalog.config), commentary.link
        ),
        authors=tuple(_authors(commentary.authors)),
        categories=tuple(dict.fromkeys(c for c in map(clean_text, commentary.tags) if c)),
        enclosures=tuple(_enclosures(stored.item.enclosures)),
        language=language_tag(commentary.language),
        source=source,
        via=via,
        lead=plain_text(commentary.comment_html),
    )


def commentary_entry_view(house: HouseEntry, catalog: Catalog) -> EntryView:
    """A commentary as its own page shows it (no output's selection involved)."""
    stored = house.stored
    return _commentary_view(house, stored.source_ids[0] if stored.source_ids else None, catalog)


def _safe_html(fragment: str | None, base_url: str | None) -> str:
    if not fragment:
        return ""
    cleaned = clean_text(sanitize_html(clean_text(fragment), base_url))
    cleaned = _TRACKING_PIXEL.sub("", cleaned)
    # Markup with no text and no media in it (what a pixel leaves) is no content.
    if not plain_text(cleaned) and not _MEDIA.search(cleaned):
        return ""
    return cleaned


def _notice_html(notice: str, view: EntryView) -> str:
    text = html.escape(clean_text(notice).rstrip())
    if view.link and view.source is not None:
        # The notice is a sentence; the link to the original is a separate one.
        if not text.endswith((".", "!", "?", "…")):
            text += "."
        source = f'<a href="{html.escape(view.link)}">{html.escape(view.source.name)}</a>'
        word = _SOURCE_WORD.get((view.language or "").split("-")[0].lower(), "Source")
        return f'\n<p class="repost-notice">{text} {word}: {source}</p>'
    return f'\n<p class="repost-notice">{text}</p>'


def _authors(authors: Iterable[Author]) -> Iterator[Author]:
    for author in authors:
        name = clean_text(author.name).strip() or None
        email = clean_text(author.email).strip() or None
        uri = http_uri(author.uri)
        if name or email:
            yield Author(name=name, email=email, uri=uri)


def _enclosures(enclosures: Iterable[Enclosure]) -> Iterator[Enclosure]:
    for enclosure in enclosures:
        url = http_uri(enclosure.url)
        if url:
            length = enclosure.length if enclosure.length and enclosure.length > 0 else None
            yield Enclosure(url=url, type=media_type(enclosure.type), length=length)


def feed_view(
    output: OutputConfig,
    entries: tuple[EntryView, ...],
    catalog: Catalog,
    undated: datetime,
) -> FeedView:
    """``undated``: the feed's time when it has no entries (the store's newest item)."""
    site = catalog.config.site
    updated = max((e.updated for e in entries), default=undated)
    language = (
        language_tag(output.language)
        or (language_tag(output.languages[0]) if len(output.languages) == 1 else None)
        or shared_language(e.language for e in entries)
        or language_tag(site.language)
    )
    return FeedView(
        name=output.name,
        id=catalog.config.site.tag_uri(f"feed/{quote(output.name, safe='')}"),
        title=clean_text(output.title or site.title),
        description=clean_text(output.description or site.description),
        home_url=http_uri(site.link) or site.link,
        language=language,
        author=clean_text(site.author or site.house or site.title),
        updated=updated,
        self_urls={fmt: feed_url(catalog.config, output.name, fmt) for fmt in FORMATS},
        entries=entries,
        single_source=len(output.sources) == 1,
    )
