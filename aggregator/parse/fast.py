"""A fast path for plain, well-formed RSS and Atom 1.0: lxml instead of feedparser.

feedparser spends ~15 ms of a 50-item feed in its per-SAX-event Python code; lxml
builds the tree of the same bytes in ~0.4 ms.  This module walks that tree and builds
the dicts feedparser would have built (the keys normalize.py reads), then hands them
to normalize.build_feed, as the feedparser adapter does, so the normalization is
literally shared.  What goes into those dicts follows feedparser's
rules, ported from its ``mixin.py`` and ``namespaces/_base.py`` quirks and all (an
RSS ``<author>`` "mail (Name)", a permalink ``<guid>`` standing in for ``<link>``, a
second ``<description>`` taken as content, Latin-1-looking text re-read as UTF-8, C1
controls mapped to windows-1252, names lowercased); where feedparser has a small
helper we call it (``_sync_author_detail``, ``_add_tag``, ``_parse_date``...).

Anything else makes ``fast_parse`` return None and parse_feed falls back to feedparser:
a parse error, a DOCTYPE, ``xml:base`` or a ``base`` attribute, XHTML or base64
content, markup inside a text element, RSS 1.0, Atom 0.3, namespaced attributes, an
element feedparser maps into a field we use but that is not ported here (an Atom
``<source>``, ``media:title`` inside ``media:group``, ``<georss:where>``...).
Elements feedparser only files under keys we never read (``media:content``,
``itunes:duration``, ``yandex:full-text``...) are checked and skipped.
tests/parse/test_fast.py checks the result against the feedparser path, field by field.
"""

from __future__ import annotations

import contextlib
import io
import re
from datetime import datetime, timedelta
from typing import Any

from feedparser.util import FeedParserDict
from lxml import etree

from aggregator.models import ParsedFeed
from aggregator.parse.feedparser import FeedParserRules as _FeedParserMixin
from aggregator.parse.feedparser import parse_date as _parse_date
from aggregator.parse.feedparser import urljoin as _urljoin
from aggregator.parse.normalize import build_feed

__all__ = ["fallback_reason", "fast_parse"]


class _Fallback(Exception):
    """The document needs feedparser."""


_XML_NS = "http://www.w3.org/XML/1998/namespace"
# Declared on the root, these make feedparser call the document RSS 1.0 or 0.90.
_RDF_VERSION_NS = frozenset({"http://purl.org/rss/1.0/", "http://my.netscape.com/rdf/simple/0.9/"})
# feedparser's namespace URI -> prefix table (lowercased, as it matches them).
_CAN_BE_RELATIVE_URI = frozenset(_FeedParserMixin.can_be_relative_uri)
_KNOWN_NS = {uri.lower(): prefix for uri, prefix in _FeedParserMixin.namespaces.items()}
_CANONICAL_PREFIXES = frozenset(p.lower() for p in _KNOWN_NS.values() if p)
_RSS_VERSIONS = {"0.91": "rss091u", "0.92": "rss092", "0.93": "rss093", "0.94": "rss094"}

# feedparser's input preparation, repeated so that lxml sees the bytes expat sees.
_XML_DECLARATION = re.compile(r"^<\?xml[^>]*?>")  # encodings.RE_XML_DECLARATION
_NEW_DECLARATION = "<?xml version='1.0' encoding='utf-8'?>"
_FIRST_ELEMENT = re.compile(r"<\w", re.ASCII)  # on bytes, as feedparser's
_DECLARATION_IN_PROLOG = re.compile(r"<!(?!--)")  # DOCTYPE, ENTITY

_C1_CONTROLS = re.compile("[\x80-\x9f]")
_BEYOND_LATIN1 = re.compile("[^\x00-\xff]")  # text that cannot have been read as Latin-1
# What feedparser maps C1 controls to: the windows-1252 characters of those bytes
# (the five bytes windows-1252 leaves undefined stay as they are).
_CP1252 = {
    byte: bytes([byte]).decode("cp1252")
    for byte in range(0x80, 0xA0)
    if byte not in (0x81, 0x8D, 0x8F, 0x90, 0x9D)
}
_LINK_ENTITY = re.compile(r"&([A-Za-z0-9_]+);")

# Element names (after feedparser's prefix mapping) that feedparser gives a handler.
_FEEDPARSER_HANDLED = frozenset(
    name[len(prefix) :].lower()
    for name in dir(_FeedParserMixin)
    for prefix in ("_start_", "_end_")
    if name.startswith(prefix)
)
# Keys normalize.py (or the feedparser logic we port) reads from the feed and entry
# dicts: an unhandled element filed under one of these would change the result.
_READ_KEYS = frozenset(
    {
        "author", "author_detail", "authors", "base", "content", "guidislink", "id",
        "image", "language", "link", "links", "published", "published_parsed",
        "subtitle", "subtitle_detail", "summary", "summary_detail", "tags",
        "textinput", "title", "title_detail", "ttl", "updated", "updated_parsed",
    }
)  # fmt: skip
# Elements with a feedparser handler whose effects never reach those keys;
# they may contain only elements of this kind (or unhandled ones).
_HARMLESS = frozenset(
    {
        "cloud", "contributor", "copyright", "created", "dc_contributor", "dc_publisher",
        "dc_rights", "dcterms_created", "email", "generator", "height", "homepage",
        "itunes_block", "itunes_explicit", "itunes_image", "itunes_link", "media_content",
        "media_credit", "media_group", "media_license", "media_player", "media_rating",
        "media_restriction", "media_thumbnail", "name", "rights", "uri", "url",
        "webmaster", "width", "itunes_name", "itunes_email", "georss_point",
        "georss_line", "georss_polygon", "georss_box",
    }
)  # fmt: skip
# At the feed level these only add feed-level tags, which normalize.py does not use.
_HARMLESS_IN_FEED = frozenset({"itunes_category", "itunes_keywords", "media_keywords"})
_IMAGE_CHILDREN = frozenset({"url", "title", "link", "width", "height", "description"})
_TEXTINPUT_CHILDREN = frozenset({"title", "description", "name", "link"})

_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})


def fast_parse(text: str, url: str, headers: dict[str, str]) -> ParsedFeed | None:
    """``text`` (a decoded XML document) as the feedparser adapter would return
    it, or None if the document is not one of the simple shapes handled here.

    ``headers`` are the response headers with lowercased names, as parse_feed has them.
    """
    try:
        return _FastParser(text, headers).parsed_feed(url, headers)
    except Exception:  # _Fallback, or a bug here: feedparser still gets it right
        return None


def fallback_reason(text: str, url: str, headers: dict[str, str]) -> str | None:
    """Why fast_parse() leaves ``text`` to feedparser, or None if it does not."""
    try:
        _FastParser(text, headers).parsed_feed(url, headers)
    except _Fallback as exc:
        return str(exc)
    except Exception as exc:
        return f"internal error: {exc!r}"
    return None


class _Shim:
    """Just enough of feedparser's parser state to run some of its own helpers."""

    context: dict[str, Any]

    def _get_context(self) -> dict[str, Any]:
        return self.context

    _sync_author_detail = _FeedParserMixin._sync_author_detail
    _save_author = _FeedParserMixin._save_author
    _add_tag = _FeedParserMixin._add_tag


class _FastParser:
    def __init__(self, text: str, headers: dict[str, str]) -> None:
        if "xml:base" in text or text.startswith("\ufeff"):
            raise _Fallback("xml:base or a byte order mark")
        # What feedparser.encodings.convert_to_utf8 does to the document we give it.
        if _XML_DECLARATION.match(text):
            document = _XML_DECLARATION.sub(_NEW_DECLARATION, text, count=1)
        else:
            document = _NEW_DECLARATION + "\n" + text
        first = _FIRST_ELEMENT.search(document)
        if first is None or _DECLARATION_IN_PROLOG.search(document, 0, first.start()):
            raise _Fallback("a DOCTYPE or entity declarations")
        try:
            events = etree.iterparse(
                io.BytesIO(document.encode("utf-8")),
                events=("start-ns",),
                resolve_entities=False,
                no_network=True,
                remove_comments=True,  # expat does not report them either: text around joins
                remove_pis=True,
            )
            declarations = [declaration for _, declaration in events]
        except (etree.XMLSyntaxError, UnicodeEncodeError, ValueError):
            raise _Fallback("not well-formed XML") from None
        self.root = events.root
        if self.root.getroottree().docinfo.doctype:
            raise _Fallback("a DOCTYPE or entity declarations")
        self._scan_namespaces(declarations)
        self.names: dict[str, str] = {}
        self.shim = _Shim()
        self.title_depth = -1
        self.has_content = False
        self.feed: dict[str, Any] = {}
        self.entries: list[dict[str, Any]] = []
        self.base_language = headers.get("content-language")
        if self.base_language:
            self.feed["language"] = self.base_language.replace("_", "-")

    # --- document structure ------------------------------------------------------

    def parsed_feed(self, url: str, headers: dict[str, str]) -> ParsedFeed:
        root = self.root
        name = self._name(root.tag)
        attrs = self._attrs(root)
        if any(uri.lower() in _RDF_VERSION_NS for uri in root.nsmap.values()):
            raise _Fallback("an RSS 1.0/0.90 namespace on the root")
        lang = self._lang(attrs, self.base_language)
        if lang:
            self.feed["language"] = lang.replace("_", "-")
        if name == "rss":
            # feedparser's _start_rss; the version changes nothing but the name.
            version = attrs.get("version", "")
            self.version = _RSS_VERSIONS.get(version) or (
                "rss20" if version.startswith("2.") else "rss"
            )
            channels = [child for child in root if self._name(child.tag) == "channel"]
            if len(channels) != 1 or len(root) != 1:
                raise _Fallback("<rss> without exactly one <channel>")
            channel = channels[0]
            channel_attrs = self._attrs(channel)
            if "lastmod" in channel_attrs or "href" in channel_attrs:
                raise _Fallback("CDF attributes on <channel>")
            self._feed_children(channel, self._lang(channel_attrs, lang), 3)
        elif name == "feed":
            if root.tag != "{http://www.w3.org/2005/Atom}feed":
                raise _Fallback("Atom other than 1.0")
            self.version = "atom10"
            self._feed_children(root, lang, 2)
        else:
            raise _Fallback(f"root element <{root.tag}>")
        return self._assemble(url, headers)

    def _assemble(self, url: str, headers: dict[str, str]) -> ParsedFeed:
        return build_feed(self.version, self.feed, self.entries, url, headers)

    def _feed_children(self, container: Any, lang: str | None, depth: int) -> None:
        rss = self.version.startswith("rss")
        entry_name = "item" if rss else "entry"
        for child in container:
            name = self._name(child.tag)
            attrs = self._attrs(child)
            child_lang = self._lang(attrs, lang)
            if name == entry_name:
                if attrs.keys() & {"lastmod", "href"}:
                    raise _Fallback("CDF attributes on an item")
                entry: dict[str, Any] = {}
                self.entries.append(entry)
                self.title_depth = -1
                for grandchild in child:
                    self._element(grandchild, entry, True, child_lang, depth + 1)
                self.has_content = False
            elif name == "image" and rss:
                self.title_depth = -1
                self._check_plain_children(child, _IMAGE_CHILDREN, depth + 1)
            elif name == "textinput" and rss:
                self.title_depth = -1
                self._check_plain_children(child, _TEXTINPUT_CHILDREN, depth + 1)
            else:
                self._element(child, self.feed, False, lang, depth, name, attrs, child_lang)

    def _check_plain_children(self, container: Any, allowed: frozenset[str], depth: int) -> None:
        # <image> and <textInput> keep their children's values to themselves only as
        # long as every child is one of these (feedparser's "special hack").
        for child in container:
            name = self._name(child.tag)
            self._attrs(child)
            if name not in allowed or len(child):
                raise _Fallback(f"<{child.tag}> in <{container.tag}>")
            if name == "title" and _strip(child.text):
                self.title_depth = depth

    # --- one element in a feed or entry -----------------------------------------

    def _element(
        self,
        el: Any,
        ctx: dict[str, Any],
        in_entry: bool,
        parent_lang: str | None,
        depth: int,
        name: str | None = None,
        attrs: dict[str, str] | None = None,
        lang: str | None = None,
    ) -> None:
        if name is None:
            name = self._name(el.tag)
            attrs = self._attrs(el)
            lang = self._lang(attrs, parent_lang)
        assert attrs is not None
        if not in_entry and (
            name in _HARMLESS_IN_FEED
            # <itunes:owner> names a feed author, used for Atom only
            or (name == "itunes_owner" and self.version.startswith("rss"))
        ):
            self._check_harmless(el, "", in_entry)
            return
        handler = _HANDLERS.get(name)
        if handler is not None:
            handler(self, el, name, attrs, lang, ctx, in_entry, depth)
        elif name == "ttl":
            # Unhandled by feedparser, so filed as is; normalize.py reads it.
            text = _leaf(el)
            ctx["ttl"] = attrs if attrs else self._text(text, "ttl")
        else:
            self._check_harmless(el, name, in_entry)

    def _check_harmless(self, el: Any, name: str, in_entry: bool) -> None:
        """Raise _Fallback unless feedparser files ``el`` and everything inside it
        under keys we do not read (``name`` "" if ``el`` itself is known to be fine)."""
        if not name or name in _HARMLESS or (not in_entry and name in _HARMLESS_IN_FEED):
            pass
        elif name in _FEEDPARSER_HANDLED or _filed_under(name) in _READ_KEYS:
            raise _Fallback(f"<{el.tag}>")
        for child in el:
            self._check_harmless(child, self._name(child.tag), in_entry)
            self._attrs(child)

    # --- feedparser's handlers, for the elements we take on ------------------------

    def _title(self, el, name, attrs, lang, ctx, in_entry, depth):
        detail = self._content_params(attrs, "text/plain", lang)
        value = self._text(_leaf(el), "title", detail)
        if not (-1 < self.title_depth <= depth):
            ctx["title"] = value
            ctx["title_detail"] = detail
        if value and name != "media_title":  # feedparser restores it after media:title
            self.title_depth = depth

    def _subtitle(self, el, name, attrs, lang, ctx, in_entry, depth):
        detail = self._content_params(attrs, "text/plain", lang)
        ctx["subtitle"] = self._text(_leaf(el), "subtitle", detail)
        ctx["subtitle_detail"] = detail

    def _description(self, el, name, attrs, lang, ctx, in_entry, depth):
        if "summary" in ctx and not self.has_content:
            # A second description: feedparser takes it as content.
            return self._content(el, "content", attrs, lang, ctx, in_entry, depth)
        detail = self._content_params(attrs, "text/html", lang)
        key = "summary" if in_entry else "subtitle"
        ctx[key] = self._text(_leaf(el), "description", detail)
        ctx[key + "_detail"] = detail

    def _summary(self, el, name, attrs, lang, ctx, in_entry, depth):
        if "summary" in ctx and not self.has_content:
            return self._content(el, "content", attrs, lang, ctx, in_entry, depth)
        detail = self._content_params(attrs, "text/plain", lang)
        ctx["summary"] = self._text(_leaf(el), "summary", detail)
        ctx["summary_detail"] = detail

    def _source(self, el, name, attrs, lang, ctx, in_entry, depth):
        if len(el):
            raise _Fallback("an Atom <source>")
        self.title_depth = -1

    def _content(self, el, name, attrs, lang, ctx, in_entry, depth):
        if not in_entry:
            raise _Fallback("content outside an entry")
        self.has_content = True
        default = "text/html" if name == "content_encoded" else "text/plain"
        detail = self._content_params(attrs, default, lang)
        if name == "content" and attrs.get("src"):
            detail["src"] = attrs["src"]
        self._text(_leaf(el), "content", detail)  # fills detail["value"]
        ctx.setdefault("content", []).append(detail)
        # feedparser also copies text/HTML content to "summary" when there is none;
        # that only matters to a later description, which has_content already decides.

    def _guid(self, el, name, attrs, lang, ctx, in_entry, depth):
        is_link = attrs.get("ispermalink", "true") == "true"
        value = self._text(_leaf(el), "id", resolve=is_link)
        ctx["id"] = value
        ctx.setdefault("guidislink", is_link and "link" not in ctx)
        if is_link:
            ctx.setdefault("link", value)

    def _link(self, el, name, attrs, lang, ctx, in_entry, depth):
        attrs = dict(attrs)
        attrs.setdefault("rel", "alternate")
        if attrs["rel"] == "self":
            attrs.setdefault("type", "application/atom+xml")
        else:
            attrs.setdefault("type", "text/html")
        attrs = _FeedParserMixin._enforce_href(attrs)
        if "href" in attrs:
            attrs["href"] = _urljoin("", attrs["href"])
        # A plain dict: normalize.py reads no key that FeedParserDict would remap.
        link = attrs
        ctx.setdefault("links", []).append(link)
        if "href" in attrs:
            if len(el):
                raise _Fallback("markup inside a link")
            if (
                attrs.get("rel") == "alternate"
                and _FeedParserMixin.map_content_type(attrs.get("type")) in _HTML_TYPES
            ):
                ctx["link"] = attrs["href"]
            return
        value = self._text(_leaf(el), "link")
        # feedparser "fixes" query strings that look like entities ("?a=1&b;=2")
        if "&" in value:
            if in_entry:
                value = value.replace("&amp;", "&")
            value = _LINK_ENTITY.sub(r"&\g<1>", value)
        ctx["link"] = value
        if value or not in_entry:
            link["href"] = value

    def _enclosure(self, el, name, attrs, lang, ctx, in_entry, depth):
        if len(el):
            raise _Fallback("markup inside an enclosure")
        attrs = _FeedParserMixin._enforce_href(dict(attrs))
        attrs["rel"] = "enclosure"
        ctx.setdefault("links", []).append(attrs)

    def _published(self, el, name, attrs, lang, ctx, in_entry, depth):
        value = self._text(_leaf(el), "published")
        ctx["published"] = value
        ctx["published_parsed"] = _date(value)

    def _updated(self, el, name, attrs, lang, ctx, in_entry, depth):
        value = self._text(_leaf(el), "updated")
        ctx["updated"] = value
        ctx["updated_parsed"] = _date(value)

    def _language(self, el, name, attrs, lang, ctx, in_entry, depth):
        ctx["language"] = self._text(_leaf(el), "language")

    def _category(self, el, name, attrs, lang, ctx, in_entry, depth):
        shim = self.shim
        shim.context = ctx
        if name == "media_category":
            attrs = {**attrs}
            attrs.setdefault("scheme", "http://search.yahoo.com/mrss/category_schema")
        shim._add_tag(
            attrs.get("term"), attrs.get("scheme", attrs.get("domain")), attrs.get("label")
        )
        value = self._text(_leaf(el), "category")
        if not value:
            return
        tags = ctx["tags"]
        if tags and not tags[-1]["term"]:
            tags[-1]["term"] = value
        else:
            shim._add_tag(value, None, None)

    def _itunes_category(self, el, name, attrs, lang, ctx, in_entry, depth):
        self.shim.context = ctx
        self.shim._add_tag(attrs.get("text"), "http://www.itunes.com/", None)
        self._category(el, "category", {}, lang, ctx, in_entry, depth)

    def _itunes_keywords(self, el, name, attrs, lang, ctx, in_entry, depth):
        text = _leaf(el)
        if attrs:
            return  # not pushed, so feedparser's _end_itunes_keywords fails quietly
        self.shim.context = ctx
        for term in self._text(text, "itunes_keywords").split(","):
            if term.strip():
                self.shim._add_tag(term.strip(), "http://www.itunes.com/", None)

    def _author(self, el, name, attrs, lang, ctx, in_entry, depth):
        # feedparser's bookkeeping of an author costs more than the rest of an item's
        # elements; an entry's first author element of a shape seen before is filed
        # as that one was (what it files depends on nothing else).
        key = None
        if "authors" not in ctx and "author" not in ctx and "author_detail" not in ctx:
            key = (
                el.text,
                *((self._name(c.tag), tuple(c.items()), c.text, c.tail, len(c)) for c in el),
            )
            filed = _AUTHORS_FILED.get(key)
            if filed is not None:
                _file_author(ctx, *filed)
                return
        self._author_the_long_way(el, ctx)
        if key is not None:
            if len(_AUTHORS_FILED) >= _AUTHORS_FILED_MAX:
                _AUTHORS_FILED.clear()
            detail = ctx.get("author_detail")
            (first,) = ctx["authors"]
            _AUTHORS_FILED[key] = (
                dict(first),
                ctx.get("author"),
                None if detail is None else True if detail is first else dict(detail),
            )

    def _author_the_long_way(self, el, ctx):
        shim = self.shim
        shim.context = ctx
        ctx.setdefault("authors", []).append(FeedParserDict())
        pieces = [el.text or ""]
        for child in el:
            child_name = self._name(child.tag)
            child_attrs = self._attrs(child)
            if child_name in ("name", "email"):
                shim._save_author(child_name, _strip(_leaf(child)))
            elif child_name in ("uri", "url", "homepage"):
                shim._save_author("href", self._text(_leaf(child), "href"))
            elif (
                child_name in _FEEDPARSER_HANDLED
                or _filed_under(child_name) in _READ_KEYS
                or len(child)
            ):
                raise _Fallback(f"<{child.tag}> in an author")
            elif child_attrs:
                # feedparser keeps no text for an unknown element with attributes:
                # it goes to the enclosing <author>.
                pieces.append(child.text or "")
            pieces.append(child.tail or "")
        ctx["author"] = self._text("".join(pieces), "author")
        shim._sync_author_detail()

    # --- feedparser's pop(), push_content() and attribute handling --------------

    def _text(
        self, text: str, element: str, detail: dict[str, Any] | None = None, resolve: bool = True
    ) -> str:
        """The value feedparser's pop() makes of an element's text."""
        output = text.strip()
        # feedparser's _urljoin("", x) only removes slashes after "scheme://".
        if ":///" in output and element in _CAN_BE_RELATIVE_URI and resolve:
            output = _urljoin("", output)
        if (
            detail is not None
            and not self.version.startswith("atom")
            and detail["type"] == "text/plain"
            and _FeedParserMixin.looks_like_html(output)
        ):
            detail["type"] = "text/html"
        if not output.isascii():  # ASCII is left as it is by both steps
            if not _BEYOND_LATIN1.search(output):
                with contextlib.suppress(UnicodeDecodeError):
                    output = output.encode("iso-8859-1").decode("utf-8")  # UTF-8 read as Latin-1
            if _C1_CONTROLS.search(output):
                output = output.translate(_CP1252)
        if detail is not None:
            detail["value"] = output
        return output

    def _content_params(
        self, attrs: dict[str, str], default: str, lang: str | None
    ) -> dict[str, Any]:
        content_type = _FeedParserMixin.map_content_type(attrs.get("type", default))
        if content_type == "application/xhtml+xml":
            raise _Fallback("XHTML content")
        base64 = attrs.get("mode", "") == "base64" or not (
            content_type.startswith("text/") or content_type.endswith(("+xml", "/xml"))
        )
        if base64:
            raise _Fallback("base64 content")
        if lang:
            lang = lang.replace("_", "-")
        return {"type": content_type, "language": lang, "base": ""}

    def _lang(self, attrs: dict[str, str], parent: str | None) -> str | None:
        lang = attrs.get("xml:lang", attrs.get("lang"))
        if lang == "":
            return None
        if lang is None:
            return parent
        return lang

    def _attrs(self, el: Any) -> dict[str, str]:
        """The element's attributes as feedparser's unknown_starttag sees them."""
        items = el.items()
        if not items:
            return {}
        attrs = {}
        for key, value in items:
            if key[0] == "{":
                namespace, _, local = key[1:].partition("}")
                if namespace != _XML_NS:
                    raise _Fallback("a namespaced attribute")
                key = "xml:" + local
            key = key.lower()
            if key in ("rel", "type"):
                value = value.lower()
            attrs[key] = value
        if "base" in attrs or "xml:base" in attrs:
            raise _Fallback("a base attribute")
        return attrs

    def _name(self, tag: Any) -> str:
        """The element name feedparser dispatches on: "title", "dc_creator"..."""
        name = self.names.get(tag)
        if name is not None:
            return name
        if tag[0] != "{":
            name = tag.lower()
        else:
            namespace, _, local = tag[1:].partition("}")
            lower = namespace.lower()
            if "backend.userland.com/rss" in lower:
                lower = "http://backend.userland.com/rss"
            prefix = _KNOWN_NS.get(lower)
            if prefix is None:
                prefix = self.unknown_prefixes.get(namespace)
                if prefix is None:
                    raise _Fallback(f"an element in the unknown default namespace {namespace}")
            name = f"{prefix.lower()}_{local.lower()}" if prefix else local.lower()
        self.names[tag] = name
        return name

    def _scan_namespaces(self, declarations: list[tuple[str, str]]) -> None:
        """feedparser maps prefixes document-wide, not per scope; work out which
        prefix it gives every namespace, or give up if that depends on order."""
        known_prefixes: dict[str, str] = {}  # document prefix -> feedparser's prefix
        known_declared: set[str] = set()  # feedparser's prefixes of namespaces declared
        unknown: dict[str, str] = {}  # unknown namespace -> its document prefix
        for prefix, uri in declarations:  # (prefix or "", URI), in document order
            lower = uri.lower()
            if "backend.userland.com/rss" in lower:
                lower = "http://backend.userland.com/rss"
            canonical = _KNOWN_NS.get(lower)
            if canonical is not None:
                known_declared.add(canonical.lower())
                if prefix and known_prefixes.setdefault(prefix, canonical) != canonical:
                    raise _Fallback("one prefix for two namespaces")
            elif not prefix or unknown.setdefault(uri, prefix) != prefix:
                raise _Fallback("a default or ambiguous prefix for an unknown namespace")
        unknown_lower = [p.lower() for p in unknown.values()]
        if len(set(unknown_lower)) != len(unknown_lower):
            raise _Fallback("one prefix for two namespaces")
        # feedparser's namespace tables are keyed by these prefixes, document-wide.
        taken = {p.lower() for p in known_prefixes} | known_declared
        if any(p in taken for p in unknown_lower):
            raise _Fallback("a prefix feedparser already uses")
        for prefix, canonical in known_prefixes.items():
            if prefix in _CANONICAL_PREFIXES and prefix != canonical.lower():
                raise _Fallback("a standard prefix for another namespace")
        self.unknown_prefixes = unknown


# The two spellings nearly every feed uses, read as feedparser's _parse_date reads them
# (its W3DTF handler; for RFC 822, its RFC 822 handler, after the W3DTF one declined)
# at a tenth of the cost; anything else, or a value these cannot take, goes to it.
_W3DTF = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.\d+)?(?:Z|([+-])(\d\d):(\d\d))\Z"
)
_RFC822 = re.compile(
    r"(?:mon|tue|wed|thu|fri|sat|sun), (\d\d?) (jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec) "
    r"(\d{4}) (\d\d):(\d\d):(\d\d) (?:gmt|([+-])(\d\d)(\d\d))\Z",
    re.IGNORECASE,
)
_MONTHS = {
    name: number
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}


def _date(value: str) -> Any:
    """feedparser's ``_parse_date(value)``: a UTC struct_time, or None."""
    match = _W3DTF.match(value)
    if match is not None:
        year, month, day, hour, minute, second, sign, zone_hours, zone_minutes = match.groups()
    else:
        match = _RFC822.match(value)
        if match is None:
            return _parse_date(value)
        day, month, year, hour, minute, second, sign, zone_hours, zone_minutes = match.groups()
        month = _MONTHS[month.lower()]
    try:
        stamp = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second))
        if sign is not None:
            offset = _OFFSETS.get((sign, zone_hours, zone_minutes))
            if offset is None:
                offset = timedelta(hours=int(zone_hours), minutes=int(zone_minutes))
                _OFFSETS[sign, zone_hours, zone_minutes] = offset = (
                    offset if sign == "+" else -offset
                )
            stamp -= offset
        return stamp.utctimetuple()
    except (ValueError, OverflowError):
        return _parse_date(value)


_OFFSETS: dict[tuple[str, str, str], timedelta] = {}  # a handful of zones per run


# An author element's shape -> what it files: its "authors" entry, "author" and
# "author_detail" (None: not filed; True: the same dict as the "authors" entry).
_AUTHORS_FILED: dict[tuple[Any, ...], tuple[dict[str, Any], str | None, Any]] = {}
_AUTHORS_FILED_MAX = 4096


def _file_author(
    ctx: dict[str, Any], first: dict[str, Any], author: str | None, detail: Any
) -> None:
    entry = FeedParserDict(first)
    ctx["authors"] = [entry]
    if author is not None:
        ctx["author"] = author
    if detail is True:
        ctx["author_detail"] = entry
    elif detail is not None:
        ctx["author_detail"] = FeedParserDict(detail)


def _leaf(el: Any) -> str:
    if len(el):
        raise _Fallback(f"markup inside <{el.tag}>")
    return el.text or ""


def _strip(text: str | None) -> str:
    return (text or "").strip()


def _filed_under(name: str) -> str:
    """The key FeedParserDict stores an element under ("date" is "updated")."""
    key = FeedParserDict.keymap.get(name, name)
    return key[0] if isinstance(key, list) else key


_HANDLERS = {
    "title": _FastParser._title,
    "dc_title": _FastParser._title,
    "media_title": _FastParser._title,
    "subtitle": _FastParser._subtitle,
    "tagline": _FastParser._subtitle,
    "itunes_subtitle": _FastParser._subtitle,
    "description": _FastParser._description,
    "dc_description": _FastParser._description,
    "media_description": _FastParser._description,
    "summary": _FastParser._summary,
    "itunes_summary": _FastParser._summary,
    "source": _FastParser._source,
    "content": _FastParser._content,
    "content_encoded": _FastParser._content,
    "guid": _FastParser._guid,
    "id": _FastParser._guid,
    "link": _FastParser._link,
    "enclosure": _FastParser._enclosure,
    "published": _FastParser._published,
    "pubdate": _FastParser._published,
    "issued": _FastParser._published,
    "dcterms_issued": _FastParser._published,
    "updated": _FastParser._updated,
    "modified": _FastParser._updated,
    "lastbuilddate": _FastParser._updated,
    "dc_date": _FastParser._updated,
    "dcterms_modified": _FastParser._updated,
    "language": _FastParser._language,
    "dc_language": _FastParser._language,
    "category": _FastParser._category,
    "keywords": _FastParser._category,
    "dc_subject": _FastParser._category,
    "media_category": _FastParser._category,
    "itunes_category": _FastParser._itunes_category,
    "itunes_keywords": _FastParser._itunes_keywords,
    "author": _FastParser._author,
    "dc_author": _FastParser._author,
    "dc_creator": _FastParser._author,
    "itunes_author": _FastParser._author,
    "managingeditor": _FastParser._author,
}


def _main(paths: list[str]) -> None:
    """python -m aggregator.parse.fast FEED...: time both paths, say why one falls back."""
    import time
    from pathlib import Path

    from aggregator import parse
    from aggregator.parse.decode import decode

    def per_call(body: bytes, parser: str) -> float:
        parse.parse_feed(body, "https://example.com/feed", parser=parser)
        start, runs = time.perf_counter(), 0
        while time.perf_counter() - start < 0.5:
            parse.parse_feed(body, "https://example.com/feed", parser=parser)
            runs += 1
        return (time.perf_counter() - start) / runs * 1000

    for path in paths:
        body = Path(path).read_bytes()
        reason = fallback_reason(decode(body, None).text, "https://example.com/feed", {})
        fast = per_call(body, "auto")
        reference = per_call(body, "feedparser")
        items = len(parse.parse_feed(body, "https://example.com/feed").items)
        print(
            f"{path}: {items} items, fast path {fast:.1f} ms, feedparser {reference:.1f} ms"
            f" (x{reference / fast:.1f}){f'; falls back: {reason}' if reason else ''}"
        )


if __name__ == "__main__":
    import sys

    _main(sys.argv[1:])
