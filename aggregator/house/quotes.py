"""Quotes and attribution in house commentary: what is quoted, and who is named as saying it.

Two shapes are read:

- **Published structure** ("<Agency> сообщает: «…»", "<House> комментирует:", the
  comment, the repost notice): ``split_structure`` cuts it into agency, quotes and comment.
  The wording is recognised in every language ``house.attribution`` and ``house.heading``
  define, and in a few common variants ("пишет", "передает", ...).
- **Quotes in running text**: ``extract_quotes`` finds blockquotes and text in «…», „…“,
  “…” and "…".
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass

import lxml.html

from aggregator.config import Config
from aggregator.text.html import plain_text

__all__ = [
    "MIN_QUOTE_WORDS",
    "Parts",
    "blocks",
    "extract_quotes",
    "pull_attributed",
    "find_attribution",
    "quotes_in",
    "split_structure",
    "strip_quote_marks",
    "without_notice",
]

# Fewer words than this in quote marks is a name or a term («Қоркыт ата»), not a quote.
MIN_QUOTE_WORDS = 5

_WORD = re.compile(r"\w+")
_BLOCKS = frozenset(
    {"p", "div", "blockquote", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "table"}
)
# Attribution and heading wording beyond what feeds.yaml configures.
_EXTRA_ATTRIBUTION = (
    "{agency} сообщает:",
    "{agency} сообщают:",
    "{agency} пишет:",
    "{agency} передает:",
    "{agency} передаёт:",
    "{agency} хабарлайды:",
    "{agency} жазады:",
    "{agency} reports:",
    "{agency} writes:",
)
_EXTRA_HEADING = ("{house} комментирует:", "{house} пікірі:", "{house} comments:")


def strip_quote_marks(text: str) -> str:
    text = " ".join(text.split())
    pairs = {"«": "»", "„": "“", "“": "”", '"': '"'}
    while len(text) > 1 and text[0] in pairs:
        closer = pairs[text[0]]
        inner = text[1:]
        end = inner.rfind(closer)
        if end < 0:
            break
        if inner[end + 1 :].strip(" .,;…") or (text[0] == "«" and not _balanced(inner[:end])):
            break
        text = inner[:end].strip()
    return text


def _balanced(text: str) -> bool:
    depth = 0
    for char in text:
        if char == "«":
            depth += 1
        elif char == "»":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0


# --- structure: "<Agency> сообщает: «…»", "<House> комментирует:", comment, notice -------


@dataclass(frozen=True)
class Parts:
    agency: str | None  # the attribution phrase's words before the verb, as written
    quotes: tuple[str, ...]
    comment_html: str
    intro_html: str = ""  # the house's own text before the heading, when it quotes nothing


def _patterns(templates: Iterable[str], placeholder: str) -> re.Pattern[str]:
    alternatives = []
    for template in dict.fromkeys(templates):
        if "{" + placeholder + "}" not in template:
            continue
        before, _, after = template.partition("{" + placeholder + "}")
        alternatives.append(
            _loose(before) + r"((?:[^\s:«»\"“„]+\s+){0,3}[^\s:«»\"“„]+)\s*" + _loose(after)
        )
    return re.compile("|".join(f"(?:{a})" for a in alternatives), re.IGNORECASE)


def _loose(words: str) -> str:
    """A template's fixed words as a pattern: any whitespace between, space before ':'."""
    words = words.strip()
    if not words:
        return ""
    return r"\s+".join(re.escape(w) for w in words.split()).replace(":", r"\s*:")


def _heading_pattern(config: Config) -> re.Pattern[str]:
    return _patterns([*config.house.heading.values(), *_EXTRA_HEADING], "house")


def _find(pattern: re.Pattern[str], text: str) -> tuple[int, int, str] | None:
    """(start, end, name) of the first attribution/heading in ``text``.

    The name is what stands right before the verb: the trailing words that look like a
    name (capitalized, Latin or with digits), so "агентство Kazinform сообщает:" names
    "Kazinform" and the sentence before it is left alone.
    """
    found = pattern.search(text)
    if found is None:
        return None
    index = next(i for i, g in enumerate(found.groups(), 1) if g is not None)
    words = found.group(index).split()
    kept: list[str] = []
    for word in reversed(words):
        if kept and not (word[:1].isupper() or word[:1].isdigit() or word.isascii()):
            break
        kept.insert(0, word)
        if not (word[:1].isupper() or word[:1].isdigit() or word.isascii()):
            break
    name = " ".join(kept).strip(" ,;.—–-")
    start = found.start(index) + found.group(index).rfind(kept[0]) if kept else found.start()
    prefix = text[found.start() : found.start(index)]
    if prefix.strip():  # a template with words before the name: keep them
        start = found.start()
    return start, found.end(), name


def split_structure(fragment: str, config: Config) -> Parts | None:
    """Split published structure into agency, quotes, the house's own intro and the comment.

    What stands before "<House> комментирует:" is a quote only where it is marked as one
    (quote marks, a blockquote) or follows an explicit "<Agency> сообщает:"; otherwise it
    is the house's own retelling of the news (``intro_html``), never a quote.  None if the
    fragment has no heading.
    """
    parts = blocks(fragment)
    heading = _heading_pattern(config)
    for index, (_, text) in enumerate(parts):
        found = _find(heading, text)
        if found is None:
            continue
        # A heading sits at the start of a block or ends the quote's paragraph.
        before = text[: found[0]].strip()
        after = text[found[1] :].strip()
        region = "\n".join([*(t for _, t in parts[:index]), before]).strip()
        rest = [markup for markup, _ in parts[index + 1 :]]
        if after:
            rest.insert(0, f"<p>{html.escape(after)}</p>")
        comment = without_notice("\n".join(rest), config)
        quoted = [t for m, t in parts[:index] if m.startswith("<blockquote")]
        agency, quotes = _quote_region(region, config, quoted)
        if not quotes and not region:
            # The heading first: the attributed quote may follow the comment.
            pulled = pull_attributed(comment, config)
            if pulled is not None:
                return Parts(pulled[0], pulled[1], pulled[2], "")
        intro = ""
        if not quotes and region:
            kept = [m for m, _ in parts[:index]]
            if before:
                kept.append(f"<p>{html.escape(before)}</p>")
            intro = "\n".join(kept)
        return Parts(agency, quotes, comment, intro)
    return None


def pull_attributed(
    fragment: str, config: Config
) -> tuple[str | None, tuple[str, ...], str] | None:
    """(agency phrase, quotes, the rest) where a block of ``fragment`` is an attributed
    quote ("Tengrinews сообщает: «…»", or a blockquote followed by "(Tengrinews)"); None
    if no block is.  For posts with the heading first or without one."""
    parts = blocks(fragment)
    for number, (markup, text) in enumerate(parts):
        if markup.startswith("<blockquote"):
            quote = strip_quote_marks(text)
            if _words(quote) < MIN_QUOTE_WORDS:
                continue
            agency = None
            taken = {number}
            following = parts[number + 1][1].strip() if number + 1 < len(parts) else ""
            if following.startswith("(") and following.endswith(")") and len(following) < 60:
                agency = following.strip("()")
                taken.add(number + 1)
            rest = "\n".join(m for n, (m, _) in enumerate(parts) if n not in taken)
            return agency, (quote,), rest
        found = find_attribution(text, config)
        if found is None or found[0] > 0:
            continue
        agency, quotes = _quote_region(text, config, [])
        if quotes:
            rest = "\n".join(m for n, (m, _) in enumerate(parts) if n != number)
            return agency, quotes, rest
    return None


def _quote_region(
    region: str, config: Config, quoted: list[str]
) -> tuple[str | None, tuple[str, ...]]:
    agency = None
    found = find_attribution(region, config)
    if found is not None:
        agency = found[2] or None
        region = region[found[1] :]
    quotes = [strip_quote_marks(q) for q in quoted if _words(q) >= MIN_QUOTE_WORDS]
    quotes += [q for q in _marked_quotes(region) if q not in quotes]
    if not quotes and found is not None:
        # An explicit "<Agency> сообщает:" line: what follows it is the quote, marks or not.
        whole = strip_quote_marks(region.strip())
        quotes = [whole] if _words(whole) >= MIN_QUOTE_WORDS else []
    return agency, tuple(quotes)


_SENTENCE_END = re.compile(r"(?:[.!?…]\s|\n)")
_CLAUSE_WORDS = 14


def find_attribution(text: str, config: Config) -> tuple[int, int, str] | None:
    """(start, end, phrase) of the first attribution ("<Agency> сообщает:") in ``text``.

    The phrase is every word of the clause before the verb, as written: "МИА «Казинформ»",
    "Tengrinews со ссылкой на пресс-службу МВД", "Kazinform (русская версия)".  Who it
    names is decided against the configured source names by the matcher, never by
    guessing which word is the name.
    """
    found = _verb_pattern(config).search(text)
    if found is None:
        return None
    head = text[: found.start()]
    starts = [m.end() for m in _SENTENCE_END.finditer(head)]
    start = starts[-1] if starts else 0
    words = head[start:].split()
    if len(words) > _CLAUSE_WORDS:
        words = words[-_CLAUSE_WORDS:]
        start = found.start() - len(" ".join(words)) - 1
    phrase = " ".join(words).strip(" ,;:—–-")
    return max(start, 0), found.end(), phrase


def _verb_pattern(config: Config) -> re.Pattern[str]:
    verbs = []
    for template in dict.fromkeys([*config.house.attribution.values(), *_EXTRA_ATTRIBUTION]):
        before, placeholder, after = template.partition("{agency}")
        if placeholder and not before.strip() and after.strip():
            verbs.append(_loose(after))
    return re.compile(r"(?<!\w)(?:" + "|".join(verbs) + ")", re.IGNORECASE)


def blocks(fragment: str) -> list[tuple[str, str]]:
    """Top-level blocks of an HTML fragment as (markup, text); loose text makes its own."""
    if not fragment.strip():
        return []
    try:
        root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    except (ValueError, lxml.etree.ParserError):
        return [(fragment, plain_text(fragment))]
    found: list[tuple[str, str]] = []
    loose: list[str] = []

    def flush() -> None:
        markup = "".join(loose).strip()
        if plain_text(markup):
            found.append((f"<p>{markup}</p>", plain_text(markup)))
        loose.clear()

    if root.text:
        loose.append(html.escape(root.text))
    for child in root:
        if not isinstance(child.tag, str):
            continue
        tail, child.tail = child.tail, None
        markup = lxml.html.tostring(child, encoding="unicode")
        if child.tag in _BLOCKS:
            flush()
            found.append((markup, _block_text(child)))
        elif child.tag == "br":
            flush()
        else:
            loose.append(markup)
        if tail:
            loose.append(html.escape(tail))
    flush()
    return found


def _block_text(element) -> str:
    return " ".join(element.text_content().split())


def without_notice(fragment: str, config: Config) -> str:
    """The comment without the repost notice the house CMS appends (publish adds its own)."""
    notice = _norm(config.site.repost_notice)
    if not notice:
        return fragment
    kept = [m for m, t in blocks(fragment) if not (t and _norm(t).startswith(notice[:40]))]
    return "\n".join(kept)


def _norm(text: str) -> str:
    return " ".join(_WORD.findall(text.casefold()))


# --- quotes in running text ----------------------------------------------------------


def extract_quotes(fragment: str) -> list[str]:
    """Quoted passages in an HTML (or plain text) fragment, in order.

    Blockquotes first, then text in «…» (nesting allowed: «… «Қоркыт ата» …»), „…“,
    “…” and "…".  Passages shorter than ``MIN_QUOTE_WORDS`` words are names or terms,
    not quotes, and are left out.
    """
    quotes: list[str] = []
    text = fragment
    if "<" in fragment:
        try:
            root = lxml.html.fragment_fromstring(fragment, create_parent="div")
        except (ValueError, lxml.etree.ParserError):
            root = None
        if root is not None:
            for quote in root.iter("blockquote"):
                if quote.getparent() is not None and quote.getparent().tag == "blockquote":
                    continue
                quoted = strip_quote_marks(_block_text(quote))
                if _words(quoted) >= MIN_QUOTE_WORDS:
                    quotes.append(quoted)
                quote.drop_tree()
            text = "\n".join(t for _, t in blocks(lxml.html.tostring(root, encoding="unicode")))
        else:
            text = plain_text(fragment)
    return quotes + _marked_quotes(text)


# Who said the words, right after the closing mark: "«…», – сказал заместитель председателя
# Канат Алдабергенов." The agency reported that too; without it the speaker's words would be
# published as the agency's own.  The clause ends at the sentence's end (not at an initial).
_SPEAKER = re.compile(
    r",?[ \xa0]*[–—-][ \xa0]*(?:сказал|заявил|отметил|подчеркнул|пояснил|сообщил|рассказал"
    r"|добавил|уточнил|считает|говорит|деді|атап өтті|мәлімдеді|said|says|told)\w*"
    r"(?:[^\n.!?]|(?<=\s\w)\.)*[.!?]?"
)


def _marked_quotes(text: str) -> list[str]:
    found: list[tuple[int, str]] = []
    depth, start = 0, 0
    for index, char in enumerate(text):
        if char == "«":
            if depth == 0:
                start = index + 1
            depth += 1
        elif char == "»" and depth > 0:
            depth -= 1
            if depth == 0:
                speaker = _SPEAKER.match(text, index + 1)
                if speaker is None:
                    found.append((start, text[start:index]))
                else:
                    found.append((start, f"«{text[start:index]}»{speaker.group()}"))
    masked = re.sub(r"«[^«»]*»", lambda m: " " * len(m.group()), text)
    while "«" in masked and "»" in masked and re.search(r"«[^«»]*»", masked):
        masked = re.sub(r"«[^«»]*»", lambda m: " " * len(m.group()), masked)
    for pattern in (r"„([^“”„\n]+)[“”]", r"“([^“”\n]+)”", r'"([^"\n]+)"'):
        for match in re.finditer(pattern, masked):
            # From the text itself: «…» inside „…“ was only masked to be skipped above.
            found.append((match.start(1), text[match.start(1) : match.end(1)]))
        masked = re.sub(pattern, lambda m: " " * len(m.group()), masked)
    found.sort()
    # A comma or semicolon just inside the closing mark is the sentence's around the
    # quote (English puts it there: "... in Zhanakorgan," the chief said), not the quote's.
    quotes = (q.strip().rstrip(",;").rstrip() for _, q in found)
    return [q for q in quotes if _words(q) >= MIN_QUOTE_WORDS]


def quotes_in(fragment: str, config: Config) -> tuple[tuple[str, ...], str | None]:
    """Quotes inside a comment, and the agency an attribution names just before one."""
    quotes = tuple(extract_quotes(fragment))
    agency = None
    if quotes:
        found = find_attribution(plain_text(fragment), config)
        if found is not None:
            agency = found[2] or None
    return quotes, agency


def _words(text: str) -> int:
    return len(_WORD.findall(text))
