"""Text every XML (and JSON) output can carry: no characters XML forbids, RFC 3339 times,
JSON safe inside a page's <script>; the file endings of an output's three formats."""

from __future__ import annotations

import functools
import json
import re
from datetime import datetime

# The files of an output (besides embed/<name>.json): <name>.atom, .rss, .json.  Publish
# writes (and removes) them; config refuses an output name that already ends so.
FEED_SUFFIXES = ("atom", "rss", "json")


@functools.cache
def _not_xml_char() -> re.Pattern[str]:
    """Characters XML 1.0 cannot carry at all (lxml refuses them); removed everywhere,
    so that a title reads the same in every format.  Compiled on first use: the class
    costs ~8 ms to compile, and a run that fetches only 304s never needs it."""
    return re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def clean_text(text: str | None) -> str:
    """Plain text any of our formats can carry: no characters XML forbids."""
    if not text:
        return ""
    return _not_xml_char().sub("", text)


def iso(moment: datetime) -> str:
    """RFC 3339 in UTC, the form Atom and JSON Feed both accept."""
    return moment.isoformat().replace("+00:00", "Z")


def json_bytes(document: object) -> bytes:
    """Pretty UTF-8 JSON, with <, > and & escaped: safe even inside someone's <script>."""
    text = json.dumps(document, ensure_ascii=False, indent=2)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return (text + "\n").encode("utf-8")
