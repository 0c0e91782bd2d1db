"""Item HTML made safe to republish, and URLs made absolute.

Feed content is untrusted HTML from third parties that we serve under our own
domain, so it goes through an allowlist (nh3, i.e. Rust's ammonia, which parses
HTML the way browsers do): unknown tags are unwrapped, script-like tags are
removed with their content, only a few attributes survive, and URLs are parsed
with the WHATWG rules a browser uses, so ``&#106;avascript:``, ``java\\tscript:``
or `` JAVASCRIPT:`` are recognised for what they are and dropped.

Links get no ``rel`` and no ``target``: without ``target`` there is no
``window.opener`` to protect, and we want the sources we republish to see the
referrer traffic we send them.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

import nh3

__all__ = ["absolute_http_url", "sanitize_html"]

# Ordinary article formatting; everything else is unwrapped (its text kept).
_TAGS = frozenset(
    {
        "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "col",
        "colgroup", "dd", "del", "div", "dl", "dt", "em", "figcaption", "figure",
        "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "li", "mark",
        "ol", "p", "pre", "q", "s", "small", "span", "strong", "sub", "sup",
        "table", "tbody", "td", "tfoot", "th", "thead", "time", "tr", "u", "ul",
    }
)  # fmt: skip

# Removed together with their content: code, embedded documents, form controls.
_CLEAN_CONTENT_TAGS = frozenset(
    {
        "script", "style", "iframe", "frame", "frameset", "object", "embed", "applet",
        "template", "svg", "math", "button", "select", "textarea", "option", "datalist",
    }
)  # fmt: skip

# No style, class, id or on* attributes anywhere, and URLs only in a@href and
# img@src, the attributes ammonia checks (it passes e.g. blockquote@cite as is).
_ATTRIBUTES = {
    "a": {"href", "title", "hreflang"},
    "abbr": {"title"},
    "del": {"datetime"},
    "ins": {"datetime"},
    "img": {"src", "alt", "title", "width", "height"},
    "ol": {"start", "reversed"},
    "time": {"datetime"},
    "td": {"colspan", "rowspan", "headers"},
    "th": {"colspan", "rowspan", "headers", "scope"},
    "col": {"span"},
    "colgroup": {"span"},
    "*": {"lang", "dir"},
}

_URL_SCHEMES = frozenset({"http", "https", "mailto"})
_HTTP_SCHEMES = ("http", "https")

# WHATWG URL parsing removes these anywhere in a URL and C0/space at the ends.
_URL_TABS_NEWLINES = re.compile(r"[\t\n\r]")
_C0_AND_SPACE = "".join(chr(c) for c in range(0x21))

# Inside <noscript> a browser-like parser sees raw text, which would show up as
# escaped markup; lazy-loading pages put the real <img> there, so unwrap it.
_NOSCRIPT_TAG = re.compile(r"</?noscript\b[^>]*>", re.IGNORECASE)
# nh3 output is normalized, so this reliably finds images whose src was dropped.
_IMG_WITHOUT_SRC = re.compile(r"<img(?![^>]*\ssrc=)[^>]*>")

_WHITESPACE = re.compile(r"\s+")


# Building a Cleaner converts the allowlists into Rust sets; nh3.clean() does that on
# every call, which costs about twice the cleaning itself.  Items of one feed share a
# base URL, so a small cache of Cleaners keyed by base serves nearly every call.
_CLEANERS: dict[str | None, nh3.Cleaner] = {}
_CLEANERS_MAX = 256


def _cleaner(base_url: str | None) -> nh3.Cleaner:
    cleaner = _CLEANERS.get(base_url)
    if cleaner is None:
        if len(_CLEANERS) >= _CLEANERS_MAX:
            _CLEANERS.clear()
        cleaner = nh3.Cleaner(
            tags=_TAGS,
            clean_content_tags=_CLEAN_CONTENT_TAGS,
            attributes=_ATTRIBUTES,
            url_schemes=_URL_SCHEMES,
            url_relative=("rewrite_with_base", base_url) if base_url else "deny",
            link_rel=None,
            strip_comments=True,
        )
        _CLEANERS[base_url] = cleaner
    return cleaner


def sanitize_html(fragment: str, base_url: str | None = None) -> str:
    """Return ``fragment`` reduced to safe formatting HTML.

    Relative ``href``/``src`` URLs are resolved against ``base_url``
    (the item's xml:base or the feed's URL); without an http(s) base they are
    dropped, because they would otherwise resolve against *our* site.
    """
    if not fragment:
        return ""
    if "noscript" in fragment:
        fragment = _NOSCRIPT_TAG.sub("", fragment)
    if base_url and base_url.startswith(_HTTP_SCHEMES):
        cleaned = _clean(fragment, base_url)
    else:
        cleaned = _cleaner(None).clean(fragment)
    if "<img" in cleaned:
        cleaned = _IMG_WITHOUT_SRC.sub("", cleaned)
    return cleaned


# The base of an item's HTML is its own link, so nearly every call has another base,
# and a Cleaner per base cost three times the cleaning.  But the base shows in the
# result only where a relative URL took its host: ammonia joins every URL attribute
# onto the base, and an absolute URL comes out the same on any base, a
# scheme-relative one ("//cdn/x") the same on any base of the same scheme.  So the
# fragment is cleaned with a stand-in base of the base's scheme; only when the
# stand-in's host shows in the result is it cleaned again with its own base.
_STAND_IN_HOST = "relative-url.aggregator.invalid"
_AUTHORITY_END = re.compile(r"[/?#\\]")
_BASE_PARSES: dict[tuple[str, str], bool] = {}


def _clean(fragment: str, base_url: str) -> str:
    """``fragment`` cleaned against ``base_url`` (an http(s) URL), as
    :func:`_clean_exactly` does, without building a Cleaner for each base."""
    scheme, sep, rest = base_url.partition("://")
    scheme = scheme.lower()
    if sep and scheme in _HTTP_SCHEMES:
        authority = _AUTHORITY_END.split(rest, 1)[0]
        if _base_parses(scheme, authority):
            cleaned = _cleaner(f"{scheme}://{_STAND_IN_HOST}/").clean(fragment)
            if _STAND_IN_HOST not in cleaned:
                return cleaned
    return _clean_exactly(fragment, base_url)


def _clean_exactly(fragment: str, base_url: str) -> str:
    try:
        return _cleaner(base_url).clean(fragment)
    except ValueError:
        # ammonia rejects a base it cannot parse ("http://[bad"); drop relatives instead.
        return _cleaner(None).clean(fragment)


def _base_parses(scheme: str, authority: str) -> bool:
    """Whether ammonia accepts a base of this scheme and authority: for http(s), only
    the host and port can make a URL fail to parse, never the path, query or fragment."""
    key = (scheme, authority)
    parses = _BASE_PARSES.get(key)
    if parses is None:
        if len(_BASE_PARSES) >= _CLEANERS_MAX:
            _BASE_PARSES.clear()
        try:
            nh3.Cleaner(url_relative=("rewrite_with_base", f"{scheme}://{authority}/"))
            parses = True
        except ValueError:
            parses = False
        _BASE_PARSES[key] = parses
    return parses


def absolute_http_url(url: str | None, base_url: str | None = None) -> str | None:
    """``url`` resolved against ``base_url`` if it is an http(s) URL with a host,
    else None (javascript:, data:, mailto:, ftp:, garbage, relative without a base)."""
    if not url:
        return None
    url = _URL_TABS_NEWLINES.sub("", url).strip(_C0_AND_SPACE)
    if not url:
        return None
    if _PLAIN_HTTP_URL.match(url) and (not base_url or _base_splits(base_url)):
        return url
    return _resolve(url, base_url)


# An absolute http(s) URL with a plain ASCII host and no query, fragment or ";" params:
# urljoin onto any base that urlsplit accepts, and urlsplit, leave it as it is.
_PLAIN_HTTP_URL = re.compile(r"https?://[A-Za-z0-9.-]+(?::[0-9]*)?(?:/[^?#;]*)?\Z")
_BASE_SPLITS: dict[str, bool] = {}


def _base_splits(base_url: str) -> bool:
    splits = _BASE_SPLITS.get(base_url)
    if splits is None:
        if len(_BASE_SPLITS) >= _CLEANERS_MAX:
            _BASE_SPLITS.clear()
        try:
            urlsplit(_URL_TABS_NEWLINES.sub("", base_url).strip(_C0_AND_SPACE))
            splits = True
        except ValueError:
            splits = False
        _BASE_SPLITS[base_url] = splits
    return splits


def _resolve(url: str, base_url: str | None) -> str | None:
    """absolute_http_url's long way, for every URL (``url`` is stripped already)."""
    try:
        if base_url:
            url = urljoin(_URL_TABS_NEWLINES.sub("", base_url).strip(_C0_AND_SPACE), url)
        parts = urlsplit(url)
        if parts.scheme not in _HTTP_SCHEMES or not parts.hostname:
            return None
    except ValueError:  # e.g. an unbalanced "[" in the host
        return None
    if not url.startswith(_HTTP_SCHEMES):  # "HTTP://..." -> "http://..."
        url = parts.scheme + url[len(parts.scheme) :]
    return url
