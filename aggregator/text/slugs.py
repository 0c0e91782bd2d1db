"""Source ids (``[a-z0-9][a-z0-9._-]*``) from what an editor has: a feed's address, its
name, or an id written in Cyrillic, in Latin letters.

``add`` and ``import-opml`` name new sources by these rules, and the configuration's
checks suggest an id by them where one is missing or not a valid id.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

__all__ = ["latin", "slug", "source_id_for"]

# Russian and Kazakh letters in ASCII, as they are spelled in this site's addresses (the
# spelling of a commentary's slug, which house/authoring builds from latin(): Стоп, снято! ->
# stop-sniato):
# Қазинформ -> qazinform, Хабар -> khabar, Ақорда -> aqorda.
_LATIN = str.maketrans(
    {
        "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh",
        "з": "z", "и": "i", "й": "i", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o",
        "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts",
        "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "iu",
        "я": "ia", "ә": "a", "ғ": "g", "қ": "q", "ң": "n", "ө": "o", "ұ": "u", "ү": "u",
        "һ": "h", "і": "i",
    }
)  # fmt: skip
_ID_CHARS = re.compile(r"[^a-z0-9._-]+")
_ID_START = re.compile(r"^[^a-z0-9]+")

# The first label of a language's or a country's edition of a site (kz.kursiv.media,
# rus.azattyq.org, en.tengrinews.kz): the site's name comes next.
_EDITIONS = frozenset(
    {"ru", "rus", "kz", "kaz", "kk", "qaz", "en", "eng", "uz", "kg", "ky", "kir", "tj", "tg"}
)


def latin(text: str) -> str:
    """``text`` lowercased, its Russian and Kazakh letters in ASCII."""
    return text.casefold().translate(_LATIN)


def slug(text: str) -> str:
    """``text`` as a source id (at most 40 characters; "" when nothing of it is left)."""
    written = _ID_CHARS.sub("-", latin(text)).strip("-.")
    return _ID_START.sub("", written)[:40].rstrip("-.")


def source_id_for(name: str, url: str, taken: Iterable[str]) -> str:
    """A new source id from a feed's title or URL: ``[a-z0-9][a-z0-9._-]*``, not taken.

    The host name is preferred (``tengrinews.kz`` -> ``tengrinews``, an edition's
    ``rus.azattyq.org`` -> ``azattyq-rus``), with the first path segment when a site
    has several feeds; titles only for hosts that give nothing.
    """
    taken = set(taken)
    split = urlsplit(url)
    host = (split.hostname or "").removeprefix("www.")
    labels = host.split(".")
    stem = labels[0] if len(labels) > 1 and labels[0] not in ("rss", "feeds", "feed") else host
    if len(labels) > 2 and labels[0] in ("rss", "feeds", "feed", "news"):
        stem = labels[1]
    elif len(labels) > 2 and labels[0] in _EDITIONS:  # rus.azattyq.org: azattyq-rus
        stem = f"{labels[1]}-{labels[0]}"
    base = slug(stem) or slug(name) or "source"
    candidates = [base]
    segment = next((p for p in split.path.split("/") if p and "." not in p), "")
    if slug(segment) and slug(segment) not in ("rss", "feed", "feeds"):
        candidates.append(f"{base}-{slug(segment)}")
    for candidate in candidates:
        if candidate not in taken:
            return candidate
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"
