"""Text every XML (and JSON) output can carry: no characters XML forbids, RFC 3339 times."""

from __future__ import annotations

import re
from datetime import datetime

# Characters XML 1.0 cannot carry at all (lxml refuses them); removed everywhere,
# so that a title reads the same in every format.
_NOT_XML_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def clean_text(text: str | None) -> str:
    """Plain text any of our formats can carry: no characters XML forbids."""
    if not text:
        return ""
    return _NOT_XML_CHAR.sub("", text)


def iso(moment: datetime) -> str:
    """RFC 3339 in UTC, the form Atom and JSON Feed both accept."""
    return moment.isoformat().replace("+00:00", "Z")
