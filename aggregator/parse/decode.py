"""Feed bytes -> text: the character encoding, picked by us, not by feedparser.

feedparser follows RFC 3023, so a wrong ``charset`` in the Content-Type header beats
a correct XML declaration, and an undeclared Latin-1 or windows-1251 document falls
back to windows-1252.  We pick the encoding ourselves (BOM, then valid UTF-8, then
the declared charsets checked against a cheap plausibility score, then a guess among
the legacy encodings our sources use) and hand both parse paths text.
"""

from __future__ import annotations

import codecs
import re

__all__ = ["charset_of", "decode"]

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


def charset_of(content_type: str) -> str | None:
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


def decode(body: bytes, header_charset: str | None) -> str:
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
