"""HTML to text: the one conversion every stage uses, and the one lead rule."""

from __future__ import annotations

import html as _html
import re

_DROP_ELEMENTS = re.compile(
    r"<(script|style|noscript|template)\b[^>]*>.*?(?:</\1\s*>|\Z)", re.IGNORECASE | re.DOTALL
)
_COMMENTS = re.compile(r"<!--.*?(?:-->|\Z)|<!\[CDATA\[|\]\]>", re.DOTALL)
# Inline elements join their text to the neighbours ("Ка<b>зах</b>стан" renders as
# one word); every other tag separates words ("<p>a</p><p>b</p>" is "a b").
# The lookahead, the names' first letters, fails most tags ("p", "div", "br") at once
# instead of after each of the alternatives (~4.6 -> ~1.9 us a 3,000-character content).
_INLINE_TAGS = re.compile(
    r"</?(?=[abcdefikmqstuvw])"
    r"(?:a|abbr|b|bdi|bdo|cite|code|data|dfn|em|font|i|kbd|mark|q|s|samp|small|span|"
    r"strong|sub|sup|time|u|var|wbr)\b[^>]*>",
    re.IGNORECASE,
)
# A tag starts with a letter, "/", "!" or "?" after "<"; "a < b" in text is not one.
# The tags in a row and the whitespace after each become one space together: the
# same text once whitespace is collapsed, with fewer runs of it left to collapse
# ("</p>\n<p>" between paragraphs: no line break, and no two spaces, left).
_OTHER_TAGS = re.compile(r"<[A-Za-z/!?][^>]*>(?:\s*<[A-Za-z/!?][^>]*>)*\s*")


def plain_text(html: str | None, limit: int | None = None) -> str:
    """Return the visible text of an HTML fragment, whitespace collapsed; ``limit``:
    only its first ``limit`` characters (``plain_text(html)[:limit]``, cheaper).

    Fast and regex-based (this runs on every stored item): ``<script>``, ``<style>``,
    ``<noscript>`` and ``<template>`` are dropped with their contents, comments are
    dropped, tags are removed, entities are unescaped. Plain text passes through
    (entities still unescaped). ``None`` gives ``""``.
    """
    if not html:
        return ""
    text = html
    if "<" in text:
        text = _DROP_ELEMENTS.sub(" ", text)
        # The pattern is slow to try everywhere; so is looking for "<!" or "]]>" in a
        # text (~3 ns a character here), unlike for one character (memchr).
        if ("!" in text and "<!" in text) or ("]" in text and "]]>" in text):
            text = _COMMENTS.sub(" ", text)
        text = _INLINE_TAGS.sub("", text)
        text = _OTHER_TAGS.sub(" ", text)
    if "&" in text:
        text = _html.unescape(text)
    if limit is not None:
        return _collapsed_head(text, limit)
    return _collapsed_whitespace(text)


def _collapsed_head(text: str, limit: int) -> str:
    """``_collapsed_whitespace(text)[:limit]``, collapsing a head of the text only when
    that gives ``limit`` characters: whitespace collapsed in a prefix of a text is
    always a prefix of it collapsed in the whole text."""
    size = limit + limit // 4 + 64
    if len(text) > size:
        head = _collapsed_whitespace(text[:size])
        if len(head) >= limit:
            return head[:limit]
    return _collapsed_whitespace(text)[:limit]


def _collapsed_whitespace(text: str) -> str:
    """``" ".join(text.split())``: every run of whitespace (str.isspace, what r"\\s"
    matches) one space, none at either end.  Without a string a word where the only
    whitespace is spaces, tabs and line breaks: every other whitespace character is
    not printable (str.isprintable: Unicode's "Separator" and "Other" but the ASCII
    space), so a printable text's whitespace, once those are spaces, is spaces; runs
    of them are made one (~5 against ~30 us for a 2,000-character text)."""
    if not text.isprintable():  # else it holds no line break or tab either
        for char in "\n\t\r":
            if char in text:
                text = text.replace(char, " ")
        if not text.isprintable():
            return " ".join(text.split())
    return _single_spaces(text).strip(" ")


def _single_spaces(text: str) -> str:
    """``text`` with every run of spaces one space: the runs found by ``str.find`` and
    the text put together once (halving them by ``replace`` until none is left read
    and copied the whole text each round: ~9.5 against ~5 us for 2,000 characters)."""
    at = text.find("  ")
    if at < 0:
        return text
    parts = []
    start = 0
    while at >= 0:
        parts.append(text[start : at + 1])
        start = _SPACES.match(text, at).end()  # type: ignore[union-attr]  (a space is there)
        at = text.find("  ", start)
    parts.append(text[start:])
    return "".join(parts)


_SPACES = re.compile(" +")


def lead(fragment: str | None, limit: int = 200) -> str:
    """The first ``limit`` characters of an HTML fragment's text, cut at a word, with
    "…" where it was cut: the teaser of index.html, the related lists and the house
    commentary's source reference."""
    text = plain_text(fragment)
    return shorten(text, limit)


def shorten(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters at a word boundary, "…" appended."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:—-") + "…"
