"""URL canonicalization: one spelling per article, for dedupe and matching.

Two links are taken to name the same article when their canonical forms are equal.
The canonical form of an http(s) URL is:

- scheme ``https`` (``http`` is treated the same: agencies serve both);
- host lowercased, without a leading ``www.`` or a trailing dot, and in its ASCII
  (IDNA / punycode) spelling: ``информ.кз`` becomes ``xn--h1aicekw.xn--g1af``,
  because that is what goes over the wire and what most feeds already write;
- no default port (80, 443), no fragment;
- query without tracking parameters (``TRACKING_PARAMS``, ``TRACKING_PREFIXES``) or
  session ids (``is_session``), the rest sorted; no ``;jsessionid=`` path parameter;
- percent-encoding normalized (RFC 3986 section 6.2.2): escapes of unreserved
  characters decoded, other escapes in upper case, non-ASCII characters encoded
  as UTF-8 escapes -- so ``/ru/новость`` and ``/ru/%d0%bd%d0%be...`` agree;
- path with ``.``/``..`` segments resolved, runs of slashes collapsed and the
  trailing slash dropped (the root stays ``/``).

Anything else (other schemes, no host, unparsable text) comes back stripped of
surrounding whitespace and otherwise unchanged: it can still be compared, it just
is not normalized.
"""

from __future__ import annotations

import functools
import posixpath
import re
from urllib.parse import quote, urlsplit, urlunsplit

from aggregator.text.xml import clean_text

__all__ = [
    "is_postgres_url",
    "PATH_SESSION",
    "SESSION_PARAMS",
    "SESSION_PREFIX",
    "SESSION_TOKEN",
    "TRACKING_PARAMS",
    "TRACKING_PREFIXES",
    "as_uri",
    "canonical_url",
    "http_uri",
    "is_session",
    "is_site_root",
    "looks_like_web_address",
    "without_feed_scheme",
    "without_path_session",
    "without_userinfo",
]


def is_postgres_url(location: object) -> bool:
    """Whether a store's ``location`` names a PostgreSQL database (else it is a SQLite
    path): the one rule config, the store and the commands tell them apart by."""
    return isinstance(location, str) and location.startswith(("postgresql://", "postgres://"))


# Query parameters that say how a reader arrived, not what they asked for.
# Compared case-insensitively.
TRACKING_PARAMS: tuple[str, ...] = (
    "fbclid",  # Facebook
    "gclid",  # Google Ads
    "yclid",  # Yandex Direct
    "_openstat",  # Yandex/Openstat campaigns
    "from",  # Russian-language sites: ?from=rss, ?from=yandex
    "ref",
    "ref_src",  # Twitter/X
    "mc_cid",  # Mailchimp
    "mc_eid",
    "igshid",  # Instagram
    "si",  # YouTube / Spotify share links
)
TRACKING_PREFIXES: tuple[str, ...] = ("utm_",)

# Session ids a CMS writes into its links (and so into permalink guids): a new one for
# every visitor or build, never part of what the page is.  These names mean a session
# whatever their value (PHP, Java servlets, ColdFusion; ASP's name ends in 8 letters);
# "sid" only with a session token's value, as the Internet Archive's canonicalizer
# reads it: elsewhere "sid" is an article's own number (PHP-Nuke's ?sid=1234).
# (related.js applies the same rules, from these: aggregator.related.widget.)
SESSION_PARAMS: tuple[str, ...] = ("phpsessid", "jsessionid", "cfid", "cftoken")
SESSION_PREFIX = "aspsessionid"
SESSION_TOKEN = r"[0-9A-Za-z]{26,128}"
_SESSION_TOKEN = re.compile(SESSION_TOKEN)
# A Java servlet's session in the path: "/news/1;jsessionid=0A1B2C3D.node1?x=1".
PATH_SESSION = r";jsessionid=[^/;]*"  # case-insensitive
_PATH_SESSION = re.compile(PATH_SESSION, re.IGNORECASE)

_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_STRAY_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_SLASHES = re.compile(r"/{2,}")

# Characters left as they are in each component (RFC 3986 pchar / query).
# "%" is kept because escapes are normalized separately.
_PATH_SAFE = "/:@!$&'()*+,;=%"
_QUERY_KEY_SAFE = "/?:@!$'()*+,;%"
_QUERY_VALUE_SAFE = _QUERY_KEY_SAFE + "="

_DEFAULT_PORTS = {80, 443}


# A URL already in its canonical spelling but for the scheme and a "www.": lowercase
# ASCII host without a port, user, trailing dot or empty label; a path of segments
# that need no escaping, none empty, "." or ".." (no segment starts with a dot), and no
# path parameter (";"), a trailing slash at most (dropped); no query, no fragment.
# Nearly every article link.
_PLAIN = re.compile(
    r"https?://(www\.)?([a-z0-9-]+(?:\.[a-z0-9-]+)*)"
    r"((?:/[A-Za-z0-9_~!$&'()*+,=:@-][A-Za-z0-9._~!$&'()*+,=:@-]*)*)/?\Z"
)


# Storing a fetch asks for each new item's canonical link twice (one article per link,
# then the dedupe against stored items): the second time is a lookup.
@functools.lru_cache(maxsize=1024)
def canonical_url(url: str) -> str:
    """Return the canonical spelling of ``url`` (see the module docstring)."""
    text = url.strip()
    plain = _PLAIN.match(text)
    if plain is not None:  # the long way below gives the same, at five times the cost
        return f"https://{plain.group(2)}{plain.group(3) or '/'}"
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:  # e.g. "http://[::1" or a port that is not a number
        return text
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return text

    host = _canonical_host(parts.hostname)
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port not in _DEFAULT_PORTS:
        netloc = f"{netloc}:{port}"
    userinfo, at, _ = parts.netloc.rpartition("@")
    if at:
        netloc = f"{_normalize_escapes(userinfo, ':!$&()*+,;=%')}@{netloc}"

    return urlunsplit(
        ("https", netloc, _canonical_path(parts.path), _canonical_query(parts.query), "")
    )


def is_site_root(url: str) -> bool:
    """Whether ``url``'s path (as ``urlsplit`` reads it) is "" or "/": a link to a site's
    home page.  Read without urlsplit for a canonical https URL (canonical_url's)."""
    if url.startswith("https://") and not _SPLIT_BY_URLSPLIT.search(url):
        rest = url[8:]
        start = _AUTHORITY_END.search(rest)
        if start is None:
            return True
        end = _PATH_END.search(rest, start.start())
        path = rest[start.start() : end.start() if end else len(rest)]
        return path in ("", "/")
    return urlsplit(url).path in ("", "/")


_SPLIT_BY_URLSPLIT = re.compile(r"[\t\n\r\[\]]")  # stripped, or an IPv6 host checked
_AUTHORITY_END = re.compile(r"[/?#]")
_PATH_END = re.compile(r"[?#]")


def _canonical_host(hostname: str) -> str:
    host = hostname.lower().rstrip(".")
    if host.startswith("www.") and len(host) > 4:
        host = host[4:]
    if not host.isascii():
        try:
            return host.encode("idna").decode("ascii")
        except UnicodeError:  # not a valid IDN (label too long, ...): keep it as written
            return host
    return host


def _canonical_path(path: str) -> str:
    path = _normalize_escapes(without_path_session(path), _PATH_SAFE)
    path = _SLASHES.sub("/", path)
    if not path.startswith("/"):
        path = "/" + path
    # normpath resolves "." and ".." (never above the root) and drops the trailing slash.
    path = posixpath.normpath(path)
    return path


def _canonical_query(query: str) -> str:
    pairs: list[str] = []
    for field in query.split("&"):
        if not field:
            continue
        key, eq, value = field.partition("=")
        key = _normalize_escapes(key, _QUERY_KEY_SAFE)
        if not key or _is_tracking(key) or is_session(key, value):
            continue
        pairs.append(key + eq + _normalize_escapes(value, _QUERY_VALUE_SAFE))
    return "&".join(sorted(pairs))


def _is_tracking(key: str) -> bool:
    key = key.lower()
    return key in TRACKING_PARAMS or key.startswith(TRACKING_PREFIXES)


# A host name first ("kapital.kz/rss", "inform.kz:8080/rss"): labels, a last one of letters.
_HOST_FIRST = re.compile(r"(?:[A-Za-z0-9-]+\.)+([A-Za-z]{2,24})(?::\d+)?(/|\Z)")
_FILE_ENDINGS = frozenset({"xml", "rss", "atom", "rdf", "json", "txt", "html", "htm"})


def looks_like_web_address(value: str) -> bool:
    """Whether ``value`` is a web address written without its scheme, as a browser's
    address bar shows one (``kapital.kz/rss``, ``www.kapital.kz``), rather than a
    file's path (``feeds/news.xml``; ``news.xml`` alone is a file's name)."""
    if "://" in value:
        return False
    if value.lower().startswith("www."):
        return True
    m = _HOST_FIRST.match(value)
    return m is not None and (bool(m.group(2)) or m.group(1).lower() not in _FILE_ENDINGS)


def without_feed_scheme(url: str) -> str:
    """``url`` without the ``feed:`` pseudo-scheme readers and browsers write for a feed's
    link (never standardized; read by every reader as the address after it):
    ``feed://host/rss`` is ``http://host/rss``, ``feed:https://host/rss`` is
    ``https://host/rss``.  Any other URL as it is."""
    scheme, colon, rest = url.partition(":")
    if not colon or scheme.lower() != "feed":
        return url
    if rest.lower().startswith(("http://", "https://")):
        return rest
    return "http:" + rest if rest.startswith("//") else url


def is_session(key: str, value: str) -> bool:
    """Whether the query parameter ``key=value`` is a visitor's session id, no part of
    what the page is."""
    key = key.lower()
    if key == "sid":
        return _SESSION_TOKEN.fullmatch(value) is not None
    return key in SESSION_PARAMS or key.startswith(SESSION_PREFIX)


def without_path_session(path: str) -> str:
    """``path`` without a Java servlet's ``;jsessionid=...`` parameter."""
    return _PATH_SESSION.sub("", path)


def _normalize_escapes(text: str, safe: str) -> str:
    """Decode escaped unreserved characters, upper-case other escapes, encode the rest."""
    text = _STRAY_PERCENT.sub("%25", text)
    text = _ESCAPE.sub(_decode_if_unreserved, text)
    return quote(text, safe=safe)


def _decode_if_unreserved(match: re.Match[str]) -> str:
    char = chr(int(match.group(1), 16))
    return char if char in _UNRESERVED else "%" + match.group(1).upper()


# --- URIs for outputs ------------------------------------------------------------

_BARE_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_URI_PATH_SAFE = "/:@!$&'()*+,;=~-._%"
_URI_QUERY_SAFE = _URI_PATH_SAFE + "?"


@functools.lru_cache(maxsize=16384)  # publish asks again for every entry of a source
def as_uri(url: str | None) -> str | None:
    """An IRI as a URI (RFC 3987 §3.1): IDNA host, percent-encoded UTF-8 elsewhere.

    Readers and the JSON Feed schema want URIs; sources hand us Cyrillic paths and
    host names.  Returns None for anything without a scheme.
    """
    url = clean_text(url).strip()
    if not url:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if not parts.scheme:
        return None
    netloc = parts.netloc
    if not netloc.isascii():
        userinfo, at, hostport = netloc.rpartition("@")
        host, colon, port = hostport.partition(":")
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            host = quote(host, safe="")
        netloc = f"{quote(userinfo, safe=':%')}{at}{host}{colon}{port}"
    netloc = netloc.replace(" ", "%20")

    def enc(part: str, safe: str) -> str:
        return quote(_BARE_PERCENT.sub("%25", part), safe=safe)

    return urlunsplit(
        (
            parts.scheme.lower(),
            netloc,
            enc(parts.path, _URI_PATH_SAFE),
            enc(parts.query, _URI_QUERY_SAFE),
            enc(parts.fragment, _URI_QUERY_SAFE),
        )
    )


@functools.lru_cache(maxsize=16384)
def http_uri(url: str | None) -> str | None:
    """Like :func:`as_uri`, but only http(s): what we dare to put into an HTML href."""
    uri = as_uri(url)
    if not uri:
        return None
    parts = urlsplit(uri)
    if parts.scheme not in ("http", "https"):
        return None
    if not parts.path:  # "https://site.kz" is "https://site.kz/" (RFC 3986 6.2.3), as
        uri = parts._replace(path="/").geturl()  # readers (newsboat) show it
    return uri


# "user:password@" (or "user@") after the "//" of a URL, up to the host: a source's URL
# may carry what it logs in with.
_USERINFO = re.compile(r"(?<=//)[^/?#@\s]*@")


def without_userinfo(text: str) -> str:
    """``text`` (a URL, or a message naming URLs) with no URL's ``user:password@``."""
    return _USERINFO.sub("", text) if "@" in text else text
