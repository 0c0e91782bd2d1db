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
from dataclasses import dataclass

from aggregator.text.counts import counted

__all__ = ["Decoded", "charset_of", "decode"]

_CHARSET = re.compile(r"""charset\s*=\s*["']?([^"';\s]+)""", re.IGNORECASE)
_XML_DECLARED_ENCODING = re.compile(
    rb"""^\s*<\?xml[^>]*?\sencoding\s*=\s*["']([A-Za-z0-9._:-]+)["']"""
)
_UNICODE_FAMILY = frozenset({"utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be"})  # fmt: skip
# WHATWG: these labels mean windows-1252, which every browser uses for them.
_LATIN1_LABELS = frozenset({"latin-1", "iso8859-1", "ascii"})
# Tried when nothing is declared or the declared charset reads badly: the
# legacy encodings our sources (Russian, Kazakh, Western European) actually use.
# KZ-1048 is no guess of its own: it is windows-1251 with Kazakh letters where that
# has Serbian, Macedonian, Ukrainian and Belarusian ones, so it is told from
# windows-1251 by what those letters spell (_kazakh_if_so).
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
    label = label.strip().strip("\"'")
    try:
        name = codecs.lookup(label).name
    except (LookupError, ValueError):
        # WHATWG's "windows-874" (Thai) is Python's cp874
        if not label.lower().startswith("windows-"):
            return None
        try:
            name = codecs.lookup("cp" + label[8:]).name
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


@dataclass(frozen=True)
class Decoded:
    """A document's text and how its encoding was found."""

    text: str
    encoding: str  # a label people know: "utf-8", "windows-1251", "big5"
    how: str  # "byte order mark", "valid", "declared", "detected", "pinned", ...

    @property
    def note(self) -> str:
        """What an editor sees in ``aggregator status``: "windows-1251 (detected)"."""
        return self.encoding if self.how == "valid" else f"{self.encoding} ({self.how})"


def decode(
    body: bytes,
    header_charset: str | None,
    *,
    pinned: str | None = None,
) -> Decoded:
    """The text of ``body``: BOM, then valid UTF-8, then the declared charsets
    (``header_charset`` and the XML declaration) if they read plausibly, then a
    detector's answer, Cyrillic first where it points at a Cyrillic code page.

    ``pinned`` (a source's ``encoding:`` key) beats everything but a BOM.
    """
    # A byte order mark is the strongest signal there is (it wins in browsers too),
    # unless what follows a UTF-8 one is not UTF-8: a PHP include saved with a BOM
    # before a windows-1251 page (the pin could not mend that, nor the declaration).
    if body.startswith(codecs.BOM_UTF8):
        after = _Utf8(body[3:])
        if not after.broken or after.mostly_valid:
            how = f"byte order mark, {counted(after.broken, 'invalid byte')} replaced"
            return Decoded(after.text, "utf-8", how if after.broken else "byte order mark")
        rest = decode(body[3:], header_charset, pinned=pinned)
        return Decoded(rest.text, rest.encoding, f"{rest.how}, after a stray UTF-8 byte order mark")
    if body.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return Decoded(body.decode("utf-32", "replace"), "utf-32", "byte order mark")
    if body.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return Decoded(body.decode("utf-16", "replace"), "utf-16", "byte order mark")
    codec = _codec(pinned)
    if codec:
        return Decoded(body.decode(codec, "replace"), _label(codec), "pinned")
    # UTF-16/32 without a BOM: zero bytes around the first "<" (XML 1.0 appendix F).
    head = body[:4]
    if b"\x00" in head and len(head) == 4:
        for codec, pattern in _UTF_WITHOUT_BOM:
            if all(head[k] == 0 if zero else True for k, zero in enumerate(pattern)):
                return Decoded(body.decode(codec, "replace"), codec, "zero bytes")
    # Non-ASCII bytes that form valid UTF-8 are practically never an accident,
    # whatever the header or declaration claims.
    try:
        return Decoded(body.decode("utf-8"), "utf-8", "valid")
    except UnicodeDecodeError:
        pass
    utf8 = _Utf8(body)
    if utf8.mostly_valid:
        return Decoded(utf8.text, "utf-8", f"{counted(utf8.broken, 'invalid byte')} replaced")

    declared_match = _XML_DECLARED_ENCODING.match(body[:200])
    labels = (header_charset, declared_match.group(1) if declared_match else None)
    # Declared UTF-8 that reads with fewer broken sequences than good characters is
    # damaged UTF-8, not a legacy encoding: a legacy code page read as UTF-8 makes
    # almost no valid sequences at all.
    declares_utf8 = "utf-8" in {_codec(label) for label in labels}
    if declares_utf8 and utf8.broken < utf8.non_ascii - utf8.broken:
        replaced = counted(utf8.broken, "invalid byte")
        return Decoded(utf8.text, "utf-8", f"declared, {replaced} replaced")
    declared = []
    for label in labels:
        codec = _codec(label)
        if codec and codec not in _UNICODE_FAMILY and codec not in declared:
            declared.append(codec)
    best: tuple[float, str, str] | None = None  # (implausibility, text, codec)
    for codec in declared:
        text = _decode_strict(body, codec)
        if text is not None:
            score = _implausibility(text)
            if score == 0:  # reads cleanly as declared: no guess can do better
                return _kazakh_if_so(body, text, codec, "declared")
            if best is None or score < best[0]:
                best = (score, text, codec)
    how = "declared"
    # A declared charset wins unless a guess reads much better (a server-wide
    # "charset=ISO-8859-1" on a windows-1251 feed, say).
    for codec in _guesses(_detect(body)):
        if codec in declared:
            continue
        text = _decode_strict(body, codec)
        if text is None:
            continue
        score = _implausibility(text)
        if best is None or (score * 2 + 5 < best[0] if declared else score < best[0]):
            best, how = (score, text, codec), "detected"
    if best is None:
        return Decoded(body.decode("utf-8", "replace"), "utf-8", "nothing else reads")
    return _kazakh_if_so(body, best[1], best[2], how)


def _kazakh_if_so(body: bytes, text: str, codec: str, how: str) -> Decoded:
    """``text`` as ``codec`` read it, unless that is windows-1251 and the document is
    Kazakh written in KZ-1048 (_reads_as_kazakh)."""
    if codec == "cp1251":
        kazakh = _decode_strict(body, "kz1048")
        if kazakh is not None and _reads_as_kazakh(kazakh):
            return Decoded(kazakh, "kz-1048", "detected")
    return Decoded(text, _label(codec), how)


class _Utf8:
    """A body read as UTF-8, each broken sequence replaced by U+FFFD."""

    def __init__(self, body: bytes) -> None:
        self.text = body.decode("utf-8", "replace")
        self.broken = self.text.count("\ufffd")
        self.non_ascii = len(self.text) - len(self.text.encode("ascii", "ignore"))

    @property
    def mostly_valid(self) -> bool:
        """Mostly valid UTF-8 with a few broken sequences (a truncated character, a
        stray Latin-1 byte) is still UTF-8: read with a legacy table it would be
        mojibake throughout."""
        return self.broken * 20 < self.non_ascii


_UTF_WITHOUT_BOM = (
    ("utf-32-be", (True, True, True, False)),
    ("utf-32-le", (False, True, True, True)),
    ("utf-16-be", (True, False, True, False)),
    ("utf-16-le", (False, True, False, True)),
)
# The code pages our own plausibility score tells apart well; a detector's answer
# among them is only where we start.  Cyrillic first when it says Cyrillic: our
# sources are Russian and Kazakh, and short Cyrillic text fools detectors most.
_CYRILLIC = frozenset(
    {"cp1251", "kz1048", "koi8-r", "koi8-u", "cp866", "iso8859-5", "mac-cyrillic"}
)
_WESTERN = frozenset({"cp1252", "iso8859-15", "mac-roman"})


def _guesses(detected: str | None) -> tuple[str, ...]:
    """The legacy encodings to try, in order of preference (first wins a tie)."""
    if detected in _CYRILLIC:
        return tuple(dict.fromkeys(("cp1251", "koi8-r", detected, "cp1252")))
    if detected is None or detected in _WESTERN:
        return _GUESSES
    return (detected,)  # CJK, Thai, Hebrew, Greek, Central European...: trust it


def _detect(body: bytes) -> str | None:
    """The detector's codec for ``body`` (chardetng, Firefox's detector for
    undeclared legacy web pages), or None.

    Without the top-level domain hint chardetng can take: with "kz" it reads Big5 or
    EUC-JP as windows-1251, and our own Cyrillic preference (_guesses) does better.
    """
    import chardetng_py  # only documents that are neither UTF-8 nor cleanly declared

    try:
        label = chardetng_py.detect(body, allow_utf8=False)
    except ValueError:
        return None
    return _codec(label) or _codec(label.lower().removeprefix("x-"))


def _label(codec: str) -> str:
    """The label people know for a Python codec name: cp1251 -> windows-1251."""
    if codec.startswith("cp125") or codec == "cp874":
        return "windows-" + codec[2:]
    return _LABELS.get(codec, codec)


_LABELS = {
    "iso8859-1": "iso-8859-1", "iso8859-2": "iso-8859-2", "iso8859-5": "iso-8859-5",
    "iso8859-7": "iso-8859-7", "iso8859-8": "iso-8859-8", "iso8859-15": "iso-8859-15",
    "cp866": "ibm866", "kz1048": "kz-1048", "mac-cyrillic": "x-mac-cyrillic",
    "gb2312": "gb2312", "gbk": "gbk", "gb18030": "gb18030", "big5": "big5",
    "euc_jp": "euc-jp", "shift_jis": "shift_jis", "cp932": "shift_jis", "euc_kr": "euc-kr",
    "cp949": "euc-kr", "iso2022_jp": "iso-2022-jp", "tis-620": "tis-620",
}  # fmt: skip


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

# The bytes where KZ-1048 differs from windows-1251 hold, in windows-1251, Serbian and
# Macedonian letters (ћ ќ ј ѕ) and Ukrainian and Belarusian ones (ґ є ї ў); in KZ-1048,
# Kazakh ones (һ қ ә ң; ө ғ ү ұ).  So a Serbian page read as KZ-1048 has Kazakh letters
# too (је as әе, ћерка as һерка), a Macedonian one (ќе as қе), a Ukrainian one (її as
# үү), and each reads cleanly both ways.  The document is Kazakh when its KZ-1048
# reading has such letters inside words that are otherwise Cyrillic, in quantity, and
# hardly any of the letters both tables hold that Kazakh never writes (ђ љ њ џ ѓ); and
# either of both halves (Kazakh writes both in nearly every sentence, each of those
# languages one only) or, of one half, densely (one letter in 20 at least: not a
# Ukrainian name quoted in a Russian feed) with letters the languages of that half
# never write: Serbian and Macedonian no ы or і, Ukrainian no ы, Belarusian no и.
_KAZAKH_FOR_SOUTH_SLAVIC = "ҚқҺһӘәҢң"
_KAZAKH_FOR_EAST_SLAVIC = "ӨөҒғҮүҰұ"
_KAZAKH_IN_WORD = re.compile(
    "(?<=[\u0400-\u04ff])[{0}]|[{0}](?=[\u0400-\u04ff])".format(
        _KAZAKH_FOR_SOUTH_SLAVIC + _KAZAKH_FOR_EAST_SLAVIC
    )
)
_SOUTH_SLAVIC = re.compile("[ЂђЉљЊњЏџЃѓ]")
_CYRILLIC_LETTER = re.compile("[\u0400-\u04ff]")
_KAZAKH_EVIDENCE = 3  # letters at least


def _reads_as_kazakh(text: str) -> bool:
    """Whether ``text``, a document read as KZ-1048, is Kazakh (see above)."""
    text = text[:16384]
    found = _KAZAKH_IN_WORD.findall(text)
    if len(found) < _KAZAKH_EVIDENCE or len(found) <= 3 * len(_SOUTH_SLAVIC.findall(text)):
        return False
    south = any(letter in _KAZAKH_FOR_SOUTH_SLAVIC for letter in found)
    east = any(letter in _KAZAKH_FOR_EAST_SLAVIC for letter in found)
    if south and east:
        return True
    if len(found) * 20 < len(_CYRILLIC_LETTER.findall(text)):
        return False
    letters = set(text.lower())
    if south:
        return "ы" in letters or "і" in letters
    return "ы" in letters and "и" in letters


def _implausibility(text: str) -> float:
    """How much ``text`` looks like mojibake: 0 for clean text, higher is worse."""
    text = text[:16384]  # plenty of evidence, bounded cost for big feeds
    return (
        5 * len(_WRONG_CHARS.findall(text))
        + len(_MIXED_SCRIPT.findall(text))
        + len(_INVERTED_CASE.findall(text))
        + sum(len(run) for run in _ACCENTED_RUN.findall(text))
    )
