"""The language an entry is in, when neither its feed nor its source says.

Publishing labels every output and entry with a language (Atom ``xml:lang``, RSS
``<language>`` / ``dc:language``, JSON Feed ``language``, ``lang`` in HTML). A feed
that declares none used to inherit the site's ("ru") whatever it was written in;
a wrong label is worse than none (screen readers, translation, search), so an
undeclared entry's language is guessed from its text and left unset when unsure.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from aggregator.text.words import detect_language

# Frequent function words that are (nearly) unique to one language among those the
# Latin-script feeds we follow use. A text needs a clear lead of these to be labelled.
_FUNCTION_WORDS = {
    "en": [
        "the",
        "and",
        "of",
        "to",
        "is",
        "was",
        "for",
        "that",
        "with",
        "are",
        "this",
        "from",
        "have",
        "has",
        "were",
        "will",
    ],
    "de": [
        "der",
        "die",
        "und",
        "das",
        "ist",
        "nicht",
        "mit",
        "den",
        "sich",
        "auf",
        "für",
        "dem",
        "des",
        "ein",
        "eine",
        "wird",
    ],
    "fr": [
        "le",
        "la",
        "les",
        "et",
        "est",
        "des",
        "une",
        "pour",
        "dans",
        "que",
        "qui",
        "sur",
        "pas",
        "avec",
        "sont",
        "du",
        "au",
    ],
    "pt": [
        "o",
        "os",
        "as",
        "que",
        "não",
        "uma",
        "para",
        "com",
        "por",
        "mais",
        "foi",
        "são",
        "pelo",
        "pela",
        "ao",
        "dos",
        "das",
    ],
    "es": [
        "el",
        "los",
        "las",
        "que",
        "una",
        "por",
        "con",
        "para",
        "más",
        "fue",
        "son",
        "del",
        "al",
        "pero",
        "sus",
        "esta",
    ],
}
_WORD_SETS = {lang: frozenset(words) for lang, words in _FUNCTION_WORDS.items()}
_LATIN_WORD = re.compile(r"[a-zà-ÿ]+")
_CYRILLIC = re.compile(r"[а-яёәғқңөұүһі]", re.IGNORECASE)
_LATIN = re.compile(r"[a-zà-ÿ]", re.IGNORECASE)
_MIN_HITS = 3  # fewer function words than this: too little text to tell
_HEAD = 3_000  # characters: the head of a long text is enough


def guess_language(text: str) -> str | None:
    """``ru``, ``kk``, ``en``, ``de``, ``fr``, ``pt``, ``es``; None when unsure."""
    head = text[:_HEAD]
    cyrillic = len(_CYRILLIC.findall(head))
    latin = len(_LATIN.findall(head))
    if cyrillic > latin:
        return detect_language(head)
    if latin < 20:
        return None  # another script (Arabic, Chinese, ...) or next to no text
    hits = dict.fromkeys(_WORD_SETS, 0)
    for word in _LATIN_WORD.findall(head.lower()):
        for lang, words in _WORD_SETS.items():
            if word in words:
                hits[lang] += 1
    ranked = sorted(hits.items(), key=lambda pair: pair[1], reverse=True)
    (best, count), (_, runner_up) = ranked[0], ranked[1]
    if count >= _MIN_HITS and count >= 1.5 * runner_up:
        return best
    return None


def shared_language(languages: Iterable[str | None]) -> str | None:
    """The language every one of ``languages`` is in (``en`` for en-gb and en-us), or
    None when they differ, one is unknown, or there are none."""
    tags = [(lang or "").lower() for lang in languages]
    if not tags or "" in tags:
        return None
    if len(set(tags)) == 1:
        return tags[0]
    primaries = {tag.split("-")[0] for tag in tags}
    return primaries.pop() if len(primaries) == 1 else None
