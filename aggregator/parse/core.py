"""Feed bytes -> ParsedFeed: RSS 0.9x/1.0/2.0 and Atom 0.3/1.0 (feedparser), JSON Feed 1.0/1.1.

Pure: no I/O, no clock.  Everything that leaves this module is normalized: titles
are plain text, summary/content are sanitized HTML, links are absolute http(s),
times are UTC.

feedparser is not trusted with the character encoding.  It follows RFC 3023, so
a wrong ``charset`` in the Content-Type header beats a correct XML declaration,
and an undeclared Latin-1 or windows-1251 document falls back to windows-1252.
We pick the encoding ourselves (BOM, then valid UTF-8, then the declared
charsets checked against a cheap plausibility score, then a guess among the
legacy encodings our sources use) and hand feedparser UTF-8.

Relative URLs are resolved against the feed's URL, but feedparser only gets
that URL when the document uses xml:base (it is needed to chain xml:base values
correctly).  Otherwise feedparser would also resolve guids against it and turn
``<guid>12345</guid>`` into ``https://site/rss/12345``: an id that changes when
the feed moves and a link that leads nowhere.  Content HTML is sanitized and
absolutized by sanitize.py against the base feedparser reports for it.
"""

from __future__ import annotations

import codecs
import hashlib
import html
import io
import json
import os
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import feedparser

from aggregator.models import Author, Enclosure, Item, ParsedFeed
from aggregator.parse import fast as _fastparse
from aggregator.parse.sanitize import absolute_http_url, sanitize_html
from aggregator.text.html import plain_text

__all__ = ["ParseError", "parse_feed"]

# Plain RSS and Atom 1.0 go through _fastparse (lxml: the same ParsedFeed in about a
# third of the time); set False, or AGGREGATOR_FAST_PARSE=0, to force feedparser.
FAST_PATH = os.environ.get("AGGREGATOR_FAST_PARSE", "1") != "0"


class ParseError(Exception):
    """The document is not a feed we can read; the message says what it is instead."""


def parse_feed(body: bytes, url: str, headers: Mapping[str, str] | None = None) -> ParsedFeed:
    """Parse a feed document fetched from ``url`` (the final URL, after redirects).

    ``headers`` are the response headers (any case); Content-Type's charset and
    Content-Language are used.  Raises ParseError if ``body`` is not a feed.
    """
    headers = {k.lower(): v for k, v in (headers or {}).items()}
    content_type = headers.get("content-type", "")
    if not body or not body.strip():
        raise ParseError("empty document: the response body has no content")
    text = _decode(body, _charset(content_type))
    start = text.lstrip()[:1]
    if not start:
        raise ParseError("empty document: the response body is only whitespace")
    if start in "{[":
        return _parse_json_feed(text, url)
    if "json" in content_type and start != "<":
        raise ParseError(f"not a feed: Content-Type is {content_type!r} but the body is not JSON")
    return _parse_xml_feed(text, url, headers)


# --- encodings ---------------------------------------------------------------

_CHARSET = re.compile(r"""charset\s*=\s*["']?([^"';\s]+)""", re.IGNORECASE)
_XML_DECLARED_ENCODING = re.compile(
    rb"""^\s*<\?xml[^>]*?\sencoding\s*=\s*["']([A-Za-z0-9._:-]+)["']"""
)
_UNICODE_FAMILY = frozenset({"utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be"})  # fmt: skip
# WHATWG: these labels mean windows-1252, which every browser uses for them.
_LATIN1_LABELS = frozenset({"latin-1", "iso8859-1", "ascii"})
# Tried when nothing is declared or the declared charset reads badly: the
# legacy encodings our sources (Russian, Kazakh, Western European) actually use.
_GUESSES = ("cp1252", "cp1251", "koi8-r")


def _charset(content_type: str) -> str | None:
    match = _CHARSET.search(content_type)
    return match.group(1) if match else None


def _codec(label: str | bytes | None) -> str | None:
    """Python's codec name for a charset label, or None if unknown/unusable."""
    if not label:
        return None
    if isinstance(label, bytes):
        label = label.decode("ascii", "replace")
    try:
        name = codecs.lookup(label.strip().strip("\"'")).name
    except (LookupError, ValueError):
        return None
    if name in _LATIN1_LABELS:
        return "cp1252"
    if name == "utf-7":  # an XSS vector, never a real feed encoding
        return None
    return name


def _decode_strict(body: bytes, codec: str) -> str | None:
    try:
        return body.decode(codec)
    except UnicodeDecodeError:
        # windows-1252 leaves five bytes undefined; Latin-1 reads them as controls.
        return body.decode("latin-1") if codec == "cp1252" else None
    except LookupError:  # not a text encoding, e.g. "base64"
        return None


def _decode(body: bytes, header_charset: str | None) -> str:
    # A byte order mark is the strongest signal there is (it wins in browsers too).
    if body.startswith(codecs.BOM_UTF8):
        return body[3:].decode("utf-8", "replace")
    if body.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return body.decode("utf-32", "replace")
    if body.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return body.decode("utf-16", "replace")
    # UTF-16/32 without a BOM: zero bytes around the first "<" (XML 1.0 appendix F).
    head = body[:4]
    if b"\x00" in head and len(head) == 4:
        if head[:3] == b"\x00\x00\x00":
            return body.decode("utf-32-be", "replace")
        if head[1:] == b"\x00\x00\x00":
            return body.decode("utf-32-le", "replace")
        if head[0] == 0 and head[2] == 0:
            return body.decode("utf-16-be", "replace")
        if head[1] == 0 and head[3] == 0:
            return body.decode("utf-16-le", "replace")
    # Non-ASCII bytes that form valid UTF-8 are practically never an accident,
    # whatever the header or declaration claims.
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    # Mostly valid UTF-8 with a few broken sequences (a truncated character, a
    # stray Latin-1 byte) is still UTF-8; read with a legacy table it would be
    # mojibake throughout.
    text = body.decode("utf-8", "replace")
    non_ascii = len(text) - len(text.encode("ascii", "ignore"))
    if text.count("\ufffd") * 20 < non_ascii:
        return text

    declared_match = _XML_DECLARED_ENCODING.match(body[:200])
    declared = []
    for label in (header_charset, declared_match.group(1) if declared_match else None):
        codec = _codec(label)
        if codec and codec not in _UNICODE_FAMILY and codec not in declared:
            declared.append(codec)
    best: tuple[float, str] | None = None
    for codec in declared:
        text = _decode_strict(body, codec)
        if text is not None:
            score = _implausibility(text)
            if score == 0:  # reads cleanly as declared: no guess can do better
                return text
            if best is None or score < best[0]:
                best = (score, text)
    # A declared charset wins unless a guess reads much better (a server-wide
    # "charset=ISO-8859-1" on a windows-1251 feed, say).
    for codec in _GUESSES:
        if codec in declared:
            continue
        text = _decode_strict(body, codec)
        if text is None:
            continue
        score = _implausibility(text)
        if best is None:
            best = (score, text)
        elif declared:
            if score * 2 + 5 < best[0]:
                best = (score, text)
        elif score < best[0]:
            best = (score, text)
    if best is None:
        return body.decode("utf-8", "replace")
    return best[1]


# Signs of text decoded with the wrong single-byte table:
# C1 controls (never in real text), box drawing (KOI8-R's upper half),
_WRONG_CHARS = re.compile(r"[\x80-\x9f\u2500-\u259f]")
# Latin next to Cyrillic inside a word ("thйrapie"),
_MIXED_SCRIPT = re.compile(
    r"[A-Za-z\u00c0-\u024f][\u0400-\u04ff]|[\u0400-\u04ff][A-Za-z\u00c0-\u024f]"
)
# lower case followed by upper case inside a word (KOI8-R read as windows-1251),
_INVERTED_CASE = re.compile(r"[a-z\u00df-\u00ff\u0430-\u045f][A-Z\u00c0-\u00de\u0400-\u042f]")
# and runs of accented Latin letters (Cyrillic read as Latin-1: "Ïðèìåð").
_ACCENTED_RUN = re.compile(r"[\u00c0-\u00ff]{3,}")


def _implausibility(text: str) -> float:
    """How much ``text`` looks like mojibake: 0 for clean text, higher is worse."""
    text = text[:16384]  # plenty of evidence, bounded cost for big feeds
    return (
        5 * len(_WRONG_CHARS.findall(text))
        + len(_MIXED_SCRIPT.findall(text))
        + len(_INVERTED_CASE.findall(text))
        + sum(len(run) for run in _ACCENTED_RUN.findall(text))
    )


# --- XML: RSS and Atom via feedparser ---------------------------------------

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

_ROOT = re.compile(
    r"\A\s*(?:<\?.*?\?>\s*|<!--.*?-->\s*|<!DOCTYPE\s+([^\s>\[]+)[^>\[]*(?:\[.*?\])?\s*>\s*)*<([A-Za-z_][\w:.-]*)",
    re.DOTALL | re.IGNORECASE,
)
_HTML_ROOTS = frozenset({"html", "head", "body"})
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffd]")

_HTML_TYPES = ("text/html", "application/xhtml+xml")


def _parse_xml_feed(text: str, url: str, headers: dict[str, str]) -> ParsedFeed:
    if FAST_PATH:
        parsed = _fastparse.fast_parse(text, url, headers)
        if parsed is not None:
            return parsed
    # We decoded already, so feedparser gets UTF-8 and is told so.  Content-Location
    # is its base URL; see the module docstring for why it is usually left out.
    response_headers = {k: v for k, v in headers.items() if k != "content-location"}
    response_headers["content-type"] = "application/xml; charset=utf-8"
    if "xml:base" in text:
        response_headers["content-location"] = url
    result = feedparser.parse(
        io.BytesIO(text.encode("utf-8", "surrogatepass")),
        response_headers=response_headers,
        sanitize_html=False,  # sanitize.py does it, with nh3
        resolve_relative_uris=False,
    )
    version = result.get("version") or ""
    if not version:
        raise ParseError(_not_a_feed_reason(text))
    fmt = _FORMATS.get(version, version)

    feed = result["feed"]
    feed_language = _language(dict.get(feed, "language")) or _language(
        headers.get("content-language")
    )
    feed_base = _join_base(url, feed)
    feed_authors = _authors(dict.get(feed, "authors"), feed_base) if fmt.startswith("atom") else ()

    items = tuple(_xml_item(entry, url, feed_language, feed_authors) for entry in result["entries"])
    return ParsedFeed(
        format=fmt,
        title=plain_text(dict.get(feed, "title")) or None,
        link=_alternate_link(feed, feed_base),
        description=plain_text(dict.get(feed, "subtitle")) or None,
        language=feed_language,
        updated=_utc(dict.get(feed, "updated_parsed") or dict.get(feed, "published_parsed")),
        ttl_seconds=_ttl_seconds(dict.get(feed, "ttl")),
        items=items,
    )


def _not_a_feed_reason(text: str) -> str:
    sample = text[:2000]
    if len(_CONTROL_CHARS.findall(sample)) > len(sample) // 20:
        return "not a feed: binary data, not a text document"
    match = _ROOT.match(text[:20000])
    if match is None:
        if "<" not in sample:
            start = " ".join(sample[:40].split())
            return f"not a feed: plain text without markup (starts with {start!r})"
        return "not a feed: no root element found (is the document truncated or not XML?)"
    doctype, root = match.group(1), match.group(2)
    if root.lower() in _HTML_ROOTS or (doctype or "").lower() == "html":
        return (
            f"not a feed: the document is an HTML page (<{root}> root); find the page's feed link"
        )
    return f"not a feed: XML document with root <{root}>, expected <rss>, <rdf:RDF> or Atom <feed>"


def _xml_item(
    entry: dict[str, Any], url: str, feed_language: str | None, feed_authors: tuple[Author, ...]
) -> Item:
    # Plain dict access: FeedParserDict's key aliases and fallbacks are not wanted.
    get = dict.get.__get__(entry)

    title_raw = get("title") or ""
    summary_detail = get("summary_detail")  # absent when feedparser copied content into summary
    content_detail = _pick_content(get("content"))
    base = _join_base(url, content_detail or summary_detail or get("title_detail") or {})

    summary = _html_field(summary_detail, url)
    content = _html_field(content_detail, url)
    link = _alternate_link(entry, base)

    guid = (get("id") or "").strip()
    if not guid:
        # No id: the link, else a hash of what the item says (raw, so a sanitizer
        # change does not change ids).
        raw_content = (content_detail or summary_detail or {}).get("value") or ""
        guid = link or _hash_id(title_raw, raw_content)

    language = None
    for detail in (content_detail, summary_detail, get("title_detail")):
        if detail:
            language = _language(detail.get("language"))
            if language:
                break

    return Item(
        id=guid,
        title=plain_text(title_raw),
        link=link,
        summary=summary,
        content=content,
        published=_utc(get("published_parsed")),
        updated=_utc(get("updated_parsed")),
        published_raw=get("published"),
        updated_raw=get("updated"),
        authors=_repair_email(_authors(get("authors"), base), get("author")) or feed_authors,
        categories=_dedupe(plain_text(t.get("term") or t.get("label")) for t in get("tags") or ()),
        enclosures=_xml_enclosures(get("links") or (), base),
        language=language or feed_language,
    )


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


def _html_field(detail: Mapping[str, Any] | None, url: str) -> str | None:
    if not detail:
        return None
    value = detail.get("value") or ""
    if not value.strip():
        return None
    if detail.get("type") not in _HTML_TYPES:
        value = html.escape(value, quote=False)
    return sanitize_html(value, _join_base(url, detail)) or None


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


def _xml_enclosures(links: Iterable[Mapping[str, Any]], base: str) -> tuple[Enclosure, ...]:
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


def _authors(authors: Iterable[Mapping[str, Any]] | None, base: str) -> tuple[Author, ...]:
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


# --- JSON Feed ---------------------------------------------------------------

_JSONFEED_VERSION = re.compile(r"\Ahttps?://jsonfeed\.org/version/(\d+(?:\.\d+)?)/?\Z")


def _parse_json_feed(text: str, url: str) -> ParsedFeed:
    try:
        document = json.loads(text)
    except ValueError as exc:
        line = getattr(exc, "lineno", "?")
        column = getattr(exc, "colno", "?")
        message = getattr(exc, "msg", str(exc))
        raise ParseError(
            f"not a feed: invalid JSON at line {line} column {column}: {message}"
        ) from None
    version = document.get("version") if isinstance(document, dict) else None
    match = _JSONFEED_VERSION.match(version) if isinstance(version, str) else None
    if match is None:
        raise ParseError(
            "not a feed: JSON document that is not a JSON Feed "
            '(no "version": "https://jsonfeed.org/version/1.1")'
        )
    fmt = "json10" if match.group(1) in ("1", "1.0") else "json11"
    items = document.get("items")
    if items is None:
        items = []
    if not isinstance(items, list):
        raise ParseError('not a feed: JSON Feed "items" is not a list')

    feed_language = _language(_string(document.get("language")))
    feed_authors = _json_authors(document, url)
    return ParsedFeed(
        format=fmt,
        title=plain_text(_string(document.get("title"))) or None,
        link=absolute_http_url(_string(document.get("home_page_url")), url),
        description=plain_text(_string(document.get("description"))) or None,
        language=feed_language,
        items=tuple(
            _json_item(item, url, feed_language, feed_authors)
            for item in items
            if isinstance(item, dict)
        ),
    )


def _json_item(
    item: dict[str, Any], url: str, feed_language: str | None, feed_authors: tuple[Author, ...]
) -> Item:
    title_raw = _string(item.get("title"))
    link = absolute_http_url(_string(item.get("url")), url) or absolute_http_url(
        _string(item.get("external_url")), url
    )
    content_html = _string(item.get("content_html"))
    content_text = _string(item.get("content_text"))
    if content_html.strip():
        content = sanitize_html(content_html, url) or None
    elif content_text.strip():
        content = _text_to_html(content_text)
    else:
        content = None
    summary_text = _string(item.get("summary"))  # plain text, per the spec
    summary = _text_to_html(summary_text) if summary_text.strip() else None

    raw_id = item.get("id")
    guid = "" if raw_id is None or isinstance(raw_id, bool) else str(raw_id).strip()
    if not guid:
        guid = link or _hash_id(title_raw, content_html or content_text or summary_text)

    published_raw = _string(item.get("date_published")) or None
    updated_raw = _string(item.get("date_modified")) or None
    tags = item.get("tags")
    return Item(
        id=guid,
        title=plain_text(title_raw),
        link=link,
        summary=summary,
        content=content,
        published=_rfc3339(published_raw),
        updated=_rfc3339(updated_raw),
        published_raw=published_raw,
        updated_raw=updated_raw,
        authors=_json_authors(item, url) or feed_authors,
        categories=_dedupe(
            plain_text(tag)
            for tag in (tags if isinstance(tags, list) else ())
            if isinstance(tag, str)
        ),
        enclosures=_json_attachments(item.get("attachments"), url),
        language=_language(_string(item.get("language"))) or feed_language,
    )


def _json_authors(document: dict[str, Any], url: str) -> tuple[Author, ...]:
    # 1.1 has "authors" (a list); 1.0 has "author" (an object), which 1.1 deprecates.
    authors = document.get("authors")
    if not isinstance(authors, list) or not authors:
        author = document.get("author")
        authors = [author] if isinstance(author, dict) else []
    return _authors(
        [
            {"name": _string(a.get("name")), "href": _string(a.get("url"))}
            for a in authors
            if isinstance(a, dict)
        ],
        url,
    )


def _json_attachments(attachments: Any, url: str) -> tuple[Enclosure, ...]:
    if not isinstance(attachments, list):
        return ()
    links = [
        {
            "rel": "enclosure",
            "href": _string(a.get("url")),
            "type": _string(a.get("mime_type")),
            "length": a.get("size_in_bytes"),
        }
        for a in attachments
        if isinstance(a, dict)
    ]
    return _xml_enclosures(links, url)


def _rfc3339(value: str | None) -> datetime | None:
    if not value:
        return None
    value = value.strip()
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        try:  # RFC 822 dates are common in hand-written JSON Feeds
            parsed = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)  # as feedparser does for zoneless dates
    try:
        return parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


def _text_to_html(text: str) -> str:
    return html.escape(text.strip(), quote=False).replace("\n", "<br>")


def _string(value: Any) -> str:
    return value if isinstance(value, str) else ""


# --- shared helpers ----------------------------------------------------------


def _utc(struct: Any) -> datetime | None:
    """feedparser's *_parsed values are UTC struct_times."""
    if not struct:
        return None
    try:
        return datetime(*struct[:6], tzinfo=UTC)
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


def _language(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    return value.strip() or None


def _dedupe(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for v in values if v))


def _hash_id(title: str, content: str) -> str:
    digest = hashlib.sha256(f"{title}\x00{content}".encode("utf-8", "surrogatepass"))
    return "sha256:" + digest.hexdigest()
