"""The normalizers both XML paths share, and the JSON Feed path uses in part.

Everything that leaves the parse stage goes through here: titles are plain text,
summary/content are sanitized HTML, links are absolute http(s), times are UTC.
The feedparser adapter and the lxml fast path both build feedparser-shaped dicts
(the feed's and each entry's) and hand them to :func:`build_feed`, so the
normalization is literally shared and the two paths cannot drift apart here.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from aggregator.models import Author, Enclosure, Item, ParsedFeed
from aggregator.parse.dates import plausible
from aggregator.parse.sanitize import absolute_http_url, sanitize_html
from aggregator.text.html import plain_text

__all__ = [
    "ParseError",
    "author_list",
    "build_feed",
    "clean_language",
    "dedupe",
    "enclosure_list",
    "hash_id",
]


class ParseError(Exception):
    """The document is not a feed we can read; the message says what it is instead."""


_FORMATS = {
    "rss090": "rss090",
    "rss091n": "rss091n",
    "rss091u": "rss091u",
    "rss092": "rss092",
    "rss093": "rss093",
    "rss094": "rss094",
    "rss20": "rss20",
    "rss": "rss20",  # <rss> without a version attribute
    "rss10": "rss10",
    "atom01": "atom03",  # pre-1.0 Atom drafts parse the same way
    "atom02": "atom03",
    "atom03": "atom03",
    "atom10": "atom10",
    "atom": "atom10",  # <feed> without the Atom namespace
}

_HTML_TYPES = ("text/html", "application/xhtml+xml")


def build_feed(
    version: str,
    feed: Mapping[str, Any],
    entries: Iterable[Mapping[str, Any]],
    url: str,
    headers: Mapping[str, str],
) -> ParsedFeed:
    """The ParsedFeed of feedparser-shaped dicts: ``feed`` (feedparser's ``result.feed``)
    and ``entries``, of a document whose format feedparser calls ``version``.

    ``headers`` are the response headers with lowercased names.
    """
    fmt = _FORMATS.get(version, version)
    typed = fmt.startswith("atom")  # Atom says whether a title is text or HTML; RSS does not
    get = dict.get.__get__(feed)  # plain access: FeedParserDict's key fallbacks are not wanted
    feed_language = clean_language(get("language")) or clean_language(
        headers.get("content-language")
    )
    feed_base = _join_base(url, feed)
    feed_authors = author_list(get("authors"), feed_base) if fmt.startswith("atom") else ()
    site_link = _alternate_link(feed, feed_base)
    # A file source has no web address: its relative links resolve against the site's.
    fallback_base = url if _is_http(url) else site_link
    return ParsedFeed(
        format=fmt,
        title=text_of(get("title"), get("title_detail"), typed=typed) or None,
        link=site_link,
        description=text_of(get("subtitle"), get("subtitle_detail"), typed=typed) or None,
        language=feed_language,
        updated=_utc(get("updated_parsed") or get("published_parsed")),
        updated_raw=get("updated") if get("updated_parsed") else get("published"),
        ttl_seconds=_ttl_seconds(get("ttl")),
        items=tuple(
            _build_item(entry, url, fallback_base, feed_language, feed_authors, typed)
            for entry in entries
        ),
    )


def _build_item(
    entry: Mapping[str, Any],
    url: str,
    fallback_base: str | None,
    feed_language: str | None,
    feed_authors: tuple[Author, ...],
    typed: bool,
) -> Item:
    # Plain dict access: FeedParserDict's key aliases and fallbacks are not wanted.
    get = dict.get.__get__(entry)

    title_raw = get("title") or ""
    summary_detail = get("summary_detail")  # absent when feedparser copied content into summary
    content_detail = _pick_content(get("content"))
    base = _join_base(url, content_detail or summary_detail or get("title_detail") or {})
    if not _is_http(base) and fallback_base:
        base = fallback_base

    link = _alternate_link(entry, base)
    summary = _html_field(summary_detail, url, link or base)
    content = _html_field(content_detail, url, link or base)

    guid = (get("id") or "").strip()
    if not guid:
        # No id: the link, else a hash of what the item says (raw, so a sanitizer
        # change does not change ids).
        raw_content = (content_detail or summary_detail or {}).get("value") or ""
        guid = link or hash_id(title_raw, raw_content)

    language = None
    for detail in (content_detail, summary_detail, get("title_detail")):
        if detail:
            language = clean_language(detail.get("language"))
            if language:
                break

    return Item(
        id=guid,
        title=text_of(title_raw, get("title_detail"), typed=typed),
        link=link,
        summary=summary,
        content=content,
        published=_utc(get("published_parsed")),
        updated=_utc(get("updated_parsed")),
        published_raw=get("published"),
        updated_raw=get("updated"),
        authors=_repair_email(author_list(get("authors"), base), get("author")) or feed_authors,
        categories=category_list(get("tags")),
        enclosures=enclosure_list(get("links") or (), base),
        language=language or feed_language,
    )


# Markup that is never text: comments (a "<script>" inside one is no script), and in
# text that came out of entity-escaped markup ("&amp;lt;script&amp;gt;"), script and
# style elements and doctypes.
_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.DOTALL)
_HIDDEN_MARKUP = re.compile(
    r"<(script|style|noscript|template)\b[^>]*>.*?(?:</\1\s*>|\Z)|<!--.*?(?:-->|\Z)|<!DOCTYPE\b[^>]*>",
    re.IGNORECASE | re.DOTALL,
)
_WHITESPACE = re.compile(r"\s+")


def text_of(value: str | None, detail: Mapping[str, Any] | None, *, typed: bool) -> str:
    """The text a reader should see of a title (or subtitle) ``value``.

    ``typed``: the format says what the construct is (Atom's ``type``); RSS does not,
    and feedparser calls an RSS title text/plain unless it looks like harmless HTML.
    Atom text is text: its angle brackets are characters ("History of the <blink>
    tag").  HTML is reduced to its visible text without script, style, comments or a
    doctype, even where the markup was escaped twice and only shows up once
    unescaped; an RSS title feedparser calls text loses those too.
    """
    if not value:
        return ""
    if detail and detail.get("type") == "text/plain":
        if not typed and "<" in value:
            value = _HIDDEN_MARKUP.sub(" ", value)
        return _WHITESPACE.sub(" ", value).strip()
    if "<!--" in value:
        value = _COMMENT.sub("", value)  # as browsers render "a<!-- -->b": "ab"
    text = plain_text(value)
    if "<" in text:
        text = _WHITESPACE.sub(" ", _HIDDEN_MARKUP.sub(" ", text)).strip()
    return text


def _is_http(url: str | None) -> bool:
    return bool(url) and url.startswith(("http:", "https:"))


def _join_base(url: str, detail: Mapping[str, Any]) -> str:
    """The URL relative references in ``detail`` resolve against: its xml:base
    as feedparser computed it, else the feed URL."""
    base = detail.get("base") if detail else None
    if not base:
        return url
    return absolute_http_url(base, url) or url


def _pick_content(contents: list[dict[str, Any]] | None) -> dict[str, Any] | None:
    if not contents:
        return None
    for detail in contents:
        if detail.get("type") in _HTML_TYPES and detail.get("value"):
            return detail
    return contents[0]


def _html_field(detail: Mapping[str, Any] | None, url: str, item_base: str) -> str | None:
    """The sanitized HTML of ``detail``.  Its relative references resolve against an
    xml:base the document sets, else ``item_base`` (the item's own link where it has
    one): the HTML is the article's, so "/news/2" is a page of the article's site even
    when the feed is served from another host or read from a file (as Miniflux does)."""
    if not detail:
        return None
    value = detail.get("value") or ""
    if not value.strip():
        return None
    if detail.get("type") not in _HTML_TYPES:
        value = html.escape(value, quote=False)
    base = item_base
    declared = detail.get("base")
    if declared and declared != url:  # feedparser reports the feed URL where no xml:base is
        base = absolute_http_url(declared, url) or item_base
    return sanitize_html(value, base) or None


def _alternate_link(entry: Mapping[str, Any], base: str) -> str | None:
    links = [link for link in entry.get("links") or () if link.get("href")]
    alternates = [link for link in links if link.get("rel", "alternate") == "alternate"]
    alternates.sort(key=lambda link: link.get("type") not in _HTML_TYPES)  # stable: HTML first
    for link in alternates:
        resolved = absolute_http_url(link["href"], base)
        if resolved:
            return resolved
    href = (entry.get("link") or "").strip()
    if not href or alternates:
        return None
    # feedparser copies a permalink <guid> here when there is no <link>; take it
    # only if it looks like a URL or a path, not "12345" or "news-1".
    if entry.get("guidislink") and not href.lower().startswith(("http:", "https:", "/")):
        return None
    return absolute_http_url(href, base)


def enclosure_list(links: Iterable[Mapping[str, Any]], base: str) -> tuple[Enclosure, ...]:
    enclosures: dict[str, Enclosure] = {}
    for link in links:
        if link.get("rel") != "enclosure":
            continue
        href = absolute_http_url(link.get("href"), base)
        if not href or href in enclosures:
            continue
        mime = (link.get("type") or "").strip() or None
        if mime == "text/html":  # feedparser's default for an Atom link without a type
            mime = None
        enclosures[href] = Enclosure(url=href, type=mime, length=_length(link.get("length")))
    return tuple(enclosures.values())


def author_list(authors: Iterable[Mapping[str, Any]] | None, base: str) -> tuple[Author, ...]:
    if not isinstance(authors, list | tuple):
        authors = list(authors or ())
    if not authors:
        return ()
    # Most items of a feed name one of a few authors, without a URL (so the base does
    # not matter): those are worked out once.
    try:
        key = tuple((type(d), *d.items()) for d in authors)  # type: ignore[attr-defined]
        known = _AUTHOR_LISTS.get(key)
    except (AttributeError, TypeError):  # not dicts, or unhashable values: the long way
        return _author_list(authors, base)
    if known is None:
        known = _author_list(authors, base)
        if not any(a.uri for a in known) and all(
            "href" not in d and "url" not in d for d in authors
        ):
            if len(_AUTHOR_LISTS) >= 4096:
                _AUTHOR_LISTS.clear()
            _AUTHOR_LISTS[key] = known
    return known


_AUTHOR_LISTS: dict[tuple[Any, ...], tuple[Author, ...]] = {}


def _author_list(authors: Iterable[Mapping[str, Any]], base: str) -> tuple[Author, ...]:
    result: list[Author] = []
    for detail in authors or ():
        if not isinstance(detail, Mapping):
            continue
        author = Author(
            name=plain_text(detail.get("name")) or None,
            email=(detail.get("email") or "").strip() or None,
            uri=absolute_http_url(detail.get("href") or detail.get("url"), base),
        )
        if (author.name or author.email or author.uri) and author not in result:
            result.append(author)
    return tuple(result)


# "email (Name)" (RSS) and "Name <email>": feedparser's own pattern allows only 2-4
# letters in the top-level domain, so "news@eurasia24.media (Редакция)" comes out as
# name "a (Редакция", email "news@eurasia24.medi".  We reread the raw string.
_EMAIL_THEN_NAME = re.compile(r"\A\s*([^\s()<>@]+@[^\s()<>@]+)\s*(?:\((.*)\))?\s*\Z", re.DOTALL)
_NAME_THEN_EMAIL = re.compile(r"\A(.*?)\s*<([^\s<>@]+@[^\s<>@]+)>\s*\Z", re.DOTALL)


def _repair_email(authors: tuple[Author, ...], raw: Any) -> tuple[Author, ...]:
    if not authors or not isinstance(raw, str) or "@" not in raw:
        return authors
    match = _EMAIL_THEN_NAME.match(raw)
    if match:
        email, name = match.group(1), match.group(2)
    else:
        match = _NAME_THEN_EMAIL.match(raw)
        if not match:
            return authors
        name, email = match.group(1), match.group(2)
    first = authors[0]
    if first.email == email:
        return authors
    repaired = Author(name=plain_text(name) or None, email=email, uri=first.uri)
    return (repaired, *authors[1:])


def _ttl_seconds(value: Any) -> int | None:
    try:
        minutes = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return minutes * 60 if minutes > 0 else None


def _utc(struct: Any) -> datetime | None:
    """feedparser's *_parsed values are UTC struct_times (one before the web is no date:
    ``dates.plausible``)."""
    if not struct:
        return None
    try:
        return plausible(datetime(*struct[:6], tzinfo=UTC))
    except (TypeError, ValueError, OverflowError):
        return None


def _length(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    try:
        length = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return length if length >= 0 else None


def clean_language(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    return value.strip() or None


def category_list(tags: Any) -> tuple[str, ...]:
    """The categories of feedparser's ``tags`` (term, else label, as text), each once."""
    if not tags:
        return ()
    # Items of a feed mostly repeat a few combinations of rubrics: each worked out once.
    try:
        key = tuple((type(t), *t.items()) for t in tags)
        known = _CATEGORY_LISTS.get(key)
    except (AttributeError, TypeError):  # not dicts, or unhashable values: the long way
        return _category_list(tags)
    if known is None:
        if len(_CATEGORY_LISTS) >= 4096:
            _CATEGORY_LISTS.clear()
        known = _CATEGORY_LISTS[key] = _category_list(tags)
    return known


_CATEGORY_LISTS: dict[tuple[Any, ...], tuple[str, ...]] = {}


def _category_list(tags: Iterable[Mapping[str, Any]]) -> tuple[str, ...]:
    return dedupe(plain_text(t.get("term") or t.get("label")) for t in tags)


def dedupe(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for v in values if v))


def hash_id(title: str, content: str) -> str:
    digest = hashlib.sha256(f"{title}\x00{content}".encode("utf-8", "surrogatepass"))
    return "sha256:" + digest.hexdigest()
