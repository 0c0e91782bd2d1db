"""Counts as people read them: ``1 source``, ``2 sources``, ``1 entry``, ``3 entries``."""

from __future__ import annotations


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` and ``noun`` in the number ``n`` asks for; ``plural`` where the English
    rule (``-ies`` after a consonant's ``y``, ``-es`` after a sibilant, else ``-s``)
    does not give it."""
    return f"{n} {noun if n == 1 else plural or plural_of(noun)}"


def plural_of(noun: str) -> str:
    """The plural of an English noun phrase (its last word's)."""
    if noun.endswith("y") and noun[-2:-1] not in ("a", "e", "o", "u", ""):
        return noun[:-1] + "ies"
    if noun.endswith(("s", "x", "z", "ch", "sh")):
        return noun + "es"
    return noun + "s"
