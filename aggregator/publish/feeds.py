"""Rendering of one selected output as Atom 1.0, RSS 2.0 (feedgen) and JSON Feed 1.1.

``publish`` decides *what* goes into a feed and hands over a :class:`FeedView`;
this module only decides *how* it is spelled.  Every renderer is a pure function
of its input, so the same view gives the same bytes (no clock, no randomness).
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import quote, urljoin

from feedgen.feed import FeedGenerator

from aggregator import __version__
from aggregator.config import Config
from aggregator.models import Author, Enclosure
from aggregator.text.html import plain_text
from aggregator.text.urls import as_uri
from aggregator.text.words import LANGUAGE_ALIASES
from aggregator.text.xml import iso, json_bytes

DC_NS = "http://purl.org/dc/elements/1.1/"
ATOM_NS = "http://www.w3.org/2005/Atom"
FH_NS = "http://purl.org/syndication/history/1.0"  # RFC 5005
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
GENERATOR = "aggregator"
GENERATOR_URI = "https://github.com/eurasia24/aggregator"
UNTITLED = "(untitled)"
SELF_TYPES = {"atom": "application/atom+xml", "rss": "application/rss+xml"}
FORMATS = {"atom": ".atom", "rss": ".rss", "json": ".json"}  # format -> file extension
FEED_TYPES = {
    "atom": "application/atom+xml",
    "rss": "application/rss+xml",
    "json": "application/feed+json",
}

_LANGUAGE_TAG = re.compile(r"[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*\Z")
_MEDIA_TYPE = re.compile(r"[\w.+-]+/[\w.+-]+\Z")
_EMAIL = re.compile(r"[^\s@<>()]+@[^\s@<>()]+\Z")


def language_tag(value: str | None) -> str | None:
    """A BCP 47-looking tag (what atom:xml:lang accepts), or None; "kz" as "kk"
    (``LANGUAGE_ALIASES``: Kazakh CMSs write Kazakhstan's country code for Kazakh)."""
    value = (value or "").strip().replace("_", "-")
    if not _LANGUAGE_TAG.match(value):
        return None
    primary, dash, rest = value.partition("-")
    alias = LANGUAGE_ALIASES.get(primary.lower())
    return f"{alias}{dash}{rest}" if alias else value


def feed_url(config: Config, name: str, fmt: str) -> str:
    """The public URL of ``output/<name>.<fmt>``: ``site.feeds_url`` (or ``site.link``) + file."""
    base = config.site.feeds_url or config.site.link
    if not base.endswith("/"):
        base += "/"
    return as_uri(urljoin(base, quote(name) + FORMATS[fmt])) or ""


def site_url(config: Config, path: str) -> str:
    """The public URL of ``output/<path>`` (a page of ours)."""
    base = config.site.feeds_url or config.site.link
    if not base.endswith("/"):
        base += "/"
    return as_uri(urljoin(base, quote(path))) or ""


@dataclass(frozen=True)
class SourceView:
    """Where an entry came from: the source feed, for attribution."""

    id: str  # the source feed's identifier (its feed URL as a URI)
    name: str
    feed_url: str | None
    home_url: str | None
    updated: datetime | None


@dataclass(frozen=True)
class EntryView:
    id: str  # ours: the same in every output and run
    original_id: str  # the id the source gave the item (guid / atom:id / url)
    title: str  # plain text
    link: str | None  # URI
    published: datetime
    updated: datetime
    summary_html: str | None
    content_html: str  # never None: Atom and JSON Feed need content or a link
    authors: tuple[Author, ...]
    categories: tuple[str, ...]
    enclosures: tuple[Enclosure, ...]
    language: str | None
    source: SourceView | None
    related: tuple[tuple[str, str], ...] = ()  # (href, title) of related entries
    via: tuple[ViaView, ...] = ()  # house commentary: the source items it comments on
    lead: str = ""  # plain text of the article's own words (no repost notice), for index.html


@dataclass(frozen=True)
class ViaView:
    """A source item a house commentary comments on (Atom link rel="via", JSON _commentary)."""

    id: str  # the item's entry id in our outputs
    url: str | None  # its link (URI)
    title: str
    source: str  # the source's name
    item_id: str  # the id the source gave it


@dataclass(frozen=True)
class FeedView:
    name: str  # the file stem
    id: str
    title: str
    description: str
    home_url: str
    language: str | None
    author: str
    updated: datetime
    self_urls: dict[str, str]  # "atom"/"rss"/"json" -> absolute URL of that file
    entries: tuple[EntryView, ...]
    single_source: bool = False  # one source's feed (index.html folds these away)
    # Feed-level links beside self/alternate, (rel, href): WebSub "hub" (publish/websub.py).
    links: tuple[tuple[str, str], ...] = ()
    # Links of one format only, fmt -> (rel, href): RFC 5005 prev-archive (publish/archive.py).
    format_links: Mapping[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    archive: bool = False  # an RFC 5005 archive document: <fh:archive/>


# --- feedgen -------------------------------------------------------------------
#
# feedgen writes atom:source with only a title and a link, cannot put a
# name-only author into RSS, and knows nothing of the original item id.  Its
# extension mechanism is the supported way to add elements, so we add them there.


class _NamespaceExtension:
    """Feed-level half of our feedgen extension: declares dc: once, on the root."""

    def extend_ns(self) -> dict[str, str]:
        return {"dc": DC_NS}

    links: tuple[tuple[str, str], ...] = ()
    archive = False

    def extend_atom(self, feed):
        self._insert_head(feed, "entry", "link")
        return feed

    def extend_rss(self, rss):
        self._insert_head(rss.find("channel"), "item", f"{{{ATOM_NS}}}link")
        return rss

    def _insert_head(self, parent, entry_tag: str, link_tag: str) -> None:
        """<fh:archive/> and the extra links, after the feed's own elements and before
        its first entry."""
        from lxml import etree

        first_entry = parent.find(entry_tag)
        at = parent.index(first_entry) if first_entry is not None else len(parent)
        head = [etree.Element(f"{{{FH_NS}}}archive", nsmap={"fh": FH_NS})] if self.archive else []
        head += [etree.Element(link_tag, rel=rel, href=href) for rel, href in self.links]
        parent[at:at] = head


class _EntryExtension:
    """Entry-level half: full atom:source, dc:identifier, dc:creator, xml:lang."""

    view: EntryView

    def extend_atom(self, entry):
        view = self.view
        if view.language:
            entry.set(XML_LANG, view.language)
        # feedgen 1.0 drops rel/type/length of entry links (its loop variable
        # shadows the link data), which would turn enclosures into alternates.
        for old in entry.findall("link") + entry.findall("source"):
            entry.remove(old)
        if view.link:
            _sub(entry, "link", href=view.link, rel="alternate", type="text/html")
        for enclosure in view.enclosures:
            attrib = {"href": enclosure.url, "rel": "enclosure"}
            if enclosure.type:
                attrib["type"] = enclosure.type
            if enclosure.length:
                attrib["length"] = str(enclosure.length)
            _sub(entry, "link", **attrib)
        _sub(entry, f"{{{DC_NS}}}identifier", view.original_id)
        if view.source is not None:
            _atom_source(entry, view.source)
        for href, title in view.related:
            _sub(entry, "link", href=href, rel="related", type="text/html", title=title)
        for via in view.via:
            if via.url:
                _sub(entry, "link", href=via.url, rel="via", type="text/html", title=via.title)
        return entry

    def extend_rss(self, item):
        _sub(item, f"{{{DC_NS}}}identifier", self.view.original_id)
        if self.view.language:
            # RSS has a language per channel only; Dublin Core gives one per item.
            _sub(item, f"{{{DC_NS}}}language", self.view.language)
        # RSS <author> must be an e-mail address ("email (name)"); a name alone
        # goes to dc:creator.  feedgen would write "email (email)" for ours.
        for old in item.findall("author"):
            item.remove(old)
        for author in self.view.authors:
            if _valid_email(author.email):
                text = f"{author.email} ({author.name})" if author.name else author.email
                _sub(item, "author", text)
            elif author.name:
                _sub(item, f"{{{DC_NS}}}creator", author.name)
        return item


def _sub(parent, tag: str, text: str | None = None, **attrib: str):
    from lxml import etree

    element = etree.SubElement(parent, tag, **attrib)
    if text is not None:
        element.text = text
    return element


def _atom_source(entry, source: SourceView) -> None:
    # feedgen builds Atom elements without a namespace (and a literal xmlns on
    # the root), so ours must be un-namespaced too.
    element = _sub(entry, "source")
    _sub(element, "id", source.id)
    _sub(element, "title", source.name)
    if source.home_url:
        _sub(element, "link", href=source.home_url, rel="alternate", type="text/html")
    if source.feed_url:
        _sub(element, "link", href=source.feed_url, rel="self")
    if source.updated is not None:
        _sub(element, "updated", iso(source.updated))


def _valid_email(email: str | None) -> bool:
    return bool(email and _EMAIL.match(email))


def _feedgen(feed: FeedView, fmt: str) -> FeedGenerator:
    fg = FeedGenerator()
    fg.register_extension("aggregator", _NamespaceExtension, _EntryExtension)
    fg.aggregator.links = (*feed.links, *feed.format_links.get(fmt, ()))
    fg.aggregator.archive = feed.archive
    fg.id(feed.id)
    fg.title(feed.title or UNTITLED)
    fg.subtitle(feed.description or feed.title or UNTITLED)  # also RSS <description>
    # Self first: feedgen takes the *last* link as RSS <channel><link>.
    fg.link(href=feed.self_urls[fmt], rel="self", type=SELF_TYPES[fmt])
    fg.link(href=feed.home_url, rel="alternate", type="text/html")
    if feed.language:
        fg.language(feed.language)
    if feed.author:
        fg.author(name=feed.author)
    fg.generator(GENERATOR, version=__version__, uri=GENERATOR_URI)
    # Both atom:updated and RSS lastBuildDate; feedgen's default is the wall clock.
    fg.updated(feed.updated)
    for view in feed.entries:
        fe = fg.add_entry(order="append")
        fe.aggregator.view = view
        fe.guid(view.id, permalink=False)  # a tag: URI is never a permalink
        fe.title(view.title or UNTITLED)
        if view.link:
            fe.link(href=view.link, rel="alternate", type="text/html")
        fe.published(view.published)
        fe.updated(view.updated)
        if view.summary_html:
            fe.summary(view.summary_html, type="html")
        if view.content_html:
            fe.content(view.content_html, type="html")
        elif not view.link:
            # RFC 4287 4.1.1.1: content or an alternate link; never an empty <content/>.
            fe.content(html.escape(view.title or UNTITLED), type="html")
        elif not view.summary_html:
            fe.summary(view.title or UNTITLED)  # a title alone: readers still get text
        for author in view.authors:
            name = author.name or author.email or ""
            if not name:
                continue
            data = {"name": name}
            if _valid_email(author.email):
                data["email"] = author.email
            if author.uri:
                data["uri"] = author.uri
            fe.author(data)
        for term in view.categories:
            fe.category(term=term)
        for enclosure in view.enclosures:
            fe.enclosure(
                enclosure.url,
                str(enclosure.length if enclosure.length is not None else 0),
                enclosure.type or "application/octet-stream",
            )
        if view.source is not None and view.source.feed_url:
            fe.source(url=view.source.feed_url, title=view.source.name)
    return fg


def render_atom(feed: FeedView) -> bytes:
    return _feedgen(feed, "atom").atom_str(pretty=True, encoding="UTF-8")


def render_rss(feed: FeedView) -> bytes:
    return _feedgen(feed, "rss").rss_str(pretty=True, encoding="UTF-8")


# --- JSON Feed 1.1 (no library writes it; the format is small) -------------------


def render_json(feed: FeedView) -> bytes:
    document: dict[str, object] = {
        "version": "https://jsonfeed.org/version/1.1",  # first, so sniffers see it
        "title": feed.title or UNTITLED,
        "home_page_url": feed.home_url,
        "feed_url": feed.self_urls["json"],
    }
    if feed.description:
        document["description"] = feed.description
    hubs = [{"type": "WebSub", "url": href} for rel, href in feed.links if rel == "hub"]
    if hubs:
        document["hubs"] = hubs
    if feed.language:
        document["language"] = feed.language
    if feed.author:
        document["authors"] = [{"name": feed.author}]
    document["items"] = [_json_item(view) for view in feed.entries]
    return json_bytes(document)


def _json_item(view: EntryView) -> dict[str, object]:
    item: dict[str, object] = {"id": view.id}
    if view.link:
        item["url"] = view.link
    item["title"] = view.title or UNTITLED
    summary = plain_text(view.summary_html)
    if view.content_html:
        item["content_html"] = view.content_html
    else:
        item["content_text"] = summary or view.title or UNTITLED  # one of the two is required
    if summary:
        item["summary"] = summary
    item["date_published"] = iso(view.published)
    item["date_modified"] = iso(view.updated)
    authors = []
    for author in view.authors:
        person: dict[str, str] = {}
        if author.name or author.email:
            person["name"] = author.name or author.email or ""
        uri = as_uri(author.uri)
        if uri:
            person["url"] = uri
        if person:
            authors.append(person)
    if authors:
        item["authors"] = authors
    if view.categories:
        item["tags"] = list(view.categories)
    if view.language:
        item["language"] = view.language
    attachments = []
    for enclosure in view.enclosures:
        attachment: dict[str, object] = {
            "url": enclosure.url,
            "mime_type": enclosure.type or "application/octet-stream",
        }
        if enclosure.length:
            attachment["size_in_bytes"] = enclosure.length
        attachments.append(attachment)
    if attachments:
        item["attachments"] = attachments
    if view.source is not None:
        source: dict[str, str] = {"id": view.source.id, "name": view.source.name}
        if view.source.home_url:
            source["url"] = view.source.home_url
        if view.source.feed_url:
            source["feed_url"] = view.source.feed_url
        if view.source.updated is not None:
            source["updated"] = iso(view.source.updated)
        source["item_id"] = view.original_id
        item["_source"] = source
    if view.via:
        # A JSON Feed extension object: what this house commentary comments on.
        item["_commentary"] = {
            "sources": [
                {
                    "id": via.id,
                    **({"url": via.url} if via.url else {}),
                    "title": via.title,
                    "source": via.source,
                    "item_id": via.item_id,
                }
                for via in view.via
            ]
        }
    return item


def media_type(value: str | None) -> str | None:
    value = (value or "").strip()
    return value if _MEDIA_TYPE.match(value) else None
