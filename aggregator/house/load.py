"""House commentary: what the editors wrote, read from Markdown files and from the house's feed.

Two ways in, one shape out (:class:`Commentary`):

- **Markdown files** in ``house.commentary_dir``, each with YAML front matter::

      ---
      title: Стоп, снято!
      date: 2024-10-03 11:20          # a time without an offset is Astana time (UTC+5)
      slug: stop-snyato               # default: the file name without a leading date
      tags: [кино]
      author: Редакция
      source: https://www.inform.kz/ru/...   # optional: the source item (URL, id or key)
      quote: «В Актау ...»                   # optional: the quoted text (or a list of two)
      agency: Kazinform                      # optional: who the attribution line names
      link: https://eurasia24.media/...      # optional: the house's own page
      language: ru                           # optional: default detected from the text
      ---
      The comment, in Markdown.

  The body may also carry the whole published structure ("Kazinform сообщает: «…»",
  "Евразия24 комментирует:", the comment); it is split like a post of the house feed.

- **Posts of the house's CMS feed** (a source with ``house: true``): stored items whose
  content reads "<Agency> сообщает: «…»", "<House> комментирует:", the comment, the
  repost notice.  The wording is recognised in every language ``house.attribution`` and
  ``house.heading`` define, and in a few common variants ("пишет", "передает", ...).

A file that cannot be read (malformed front matter, no title, no date, an empty comment)
becomes a :class:`Problem` naming the file and line; the other commentary still loads.
"""

from __future__ import annotations

import contextlib
import difflib
import html
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING

import lxml.html
import markdown
import yaml

from aggregator.config import Config, config_dir, resolve_path
from aggregator.models import Author, Item, StoredItem
from aggregator.parse.sanitize import sanitize_html
from aggregator.text.html import plain_text, shorten

if TYPE_CHECKING:
    from aggregator.house.match import Match
    from aggregator.store import Storage

__all__ = [
    "Commentary",
    "CommentaryError",
    "HouseCommentary",
    "HouseEntry",
    "Loaded",
    "Problem",
    "SourceRef",
    "commentary_dir",
    "extract_quotes",
    "find_item",
    "from_house_item",
    "house_source_ids",
    "load_all",
    "load_dir",
    "new_file",
    "parse_markdown",
    "slugify",
]

# A date or time in front matter without an offset is the house's (Astana, UTC+5).
# Fewer words than this in quote marks is a name or a term («Қоркыт ата»), not a quote.
MIN_QUOTE_WORDS = 5

_KEYS = ("title", "date", "slug", "tags", "author", "source", "quote", "agency", "link", "language")
_WORD = re.compile(r"\w+")
_URL_IN_TEXT = re.compile(r"https?://[^\s<>\"«»“”„()]+[^\s<>\"«»“”„().,;:!?]")
_DATE_PREFIX = re.compile(r"^\d{4}-\d{2}-\d{2}[-_]")
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
_TRANSLIT = str.maketrans(
    {
        "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh",
        "з": "z", "и": "i", "й": "i", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o",
        "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts",
        "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "iu",
        "я": "ia", "ә": "a", "ғ": "g", "қ": "q", "ң": "n", "ө": "o", "ұ": "u", "ү": "u",
        "һ": "h", "і": "i",
    }
)  # fmt: skip


class CommentaryError(Exception):
    """One commentary that cannot be used; ``str()`` is ``file:line: what; what to do``."""

    def __init__(self, path: str, line: int | None, message: str) -> None:
        self.problem = Problem(path, line, message)
        super().__init__(str(self.problem))


@dataclass(frozen=True)
class Problem:
    where: str  # the file (as the editor knows it) or "house feed item <key>"
    line: int | None
    message: str

    def __str__(self) -> str:
        return (
            f"{self.where}:{self.line}: {self.message}"
            if self.line
            else f"{self.where}: {self.message}"
        )


@dataclass(frozen=True)
class Commentary:
    """One piece of house commentary, whichever way it arrived."""

    id: str  # "file:<slug>" or "item:<store key>": stable across runs
    title: str
    published: datetime  # UTC
    slug: str
    comment_html: str  # the comment alone, sanitized
    quotes: tuple[str, ...] = ()  # quoted source text, as written (no outer quote marks)
    agency: str | None = None  # whom the attribution names ("Kazinform")
    sources: tuple[str, ...] = ()  # the editor's explicit references (URL, item id or key)
    links: tuple[str, ...] = ()  # http(s) links anywhere in it (one may be the source)
    tags: tuple[str, ...] = ()
    authors: tuple[Author, ...] = ()
    link: str | None = None  # the house's own page for it
    language: str = "ru"
    where: str = ""  # for messages: "commentary/x.md" or "house feed item <key>"
    source_line: int | None = None  # the line of `source:` in the file
    item_key: str | None = None  # a post of the house feed: its store key
    separate_quote: bool = False  # the quote stands apart from the comment (not inside it)

    @property
    def comment_text(self) -> str:
        return plain_text(self.comment_html)

    @property
    def text(self) -> str:
        """Everything said in it, for similarity: title, quotes, comment."""
        return "\n".join((self.title, *self.quotes, self.comment_text))


@dataclass
class Loaded:
    commentary: list[Commentary] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


# --- loading -----------------------------------------------------------------------


def commentary_dir(config: Config) -> Path | None:
    """``house.commentary_dir`` resolved against the config file, or None if unset."""
    if not config.house.commentary_dir:
        return None
    return resolve_path(config, config.house.commentary_dir)


def load_all(config: Config, items: Iterable[StoredItem] = ()) -> Loaded:
    """Every commentary: the Markdown files, then ``items`` that are posts of the house feed.

    Pass the stored items of the house sources (others are ignored), e.g.
    ``storage.iter_items(source_ids=[...house ids...])``.
    """
    loaded = Loaded()
    directory = commentary_dir(config)
    if directory is not None:
        files = load_dir(directory, config)
        loaded.commentary += files.commentary
        loaded.problems += files.problems
    house = {s.id for s in config.sources if s.house}
    for stored in items:
        if house.intersection(stored.source_ids):
            loaded.commentary.append(from_house_item(stored, config))
    return loaded


def house_source_ids(config: Config) -> list[str]:
    return [s.id for s in config.sources if s.house]


def load_dir(directory: Path, config: Config) -> Loaded:
    """Every ``*.md`` file in ``directory`` (sorted by name); bad ones become problems."""
    loaded = Loaded()
    if not directory.is_dir():
        if directory.exists():
            loaded.problems.append(
                Problem(str(directory), None, "house.commentary_dir is not a directory")
            )
        return loaded  # no commentary written yet
    base = config_dir(config)
    seen: dict[str, str] = {}
    for path in sorted(directory.glob("*.md")):
        shown = _shown(path, base)
        try:
            text = path.read_text(encoding="utf-8")
            commentary = parse_markdown(text, shown, config, default_slug=_slug_from_name(path))
        except UnicodeDecodeError as exc:
            loaded.problems.append(
                Problem(shown, None, f"is not UTF-8 text ({exc.reason}); save it as UTF-8")
            )
            continue
        except OSError as exc:
            loaded.problems.append(Problem(shown, None, f"cannot be read: {exc.strerror or exc}"))
            continue
        except CommentaryError as exc:
            loaded.problems.append(exc.problem)
            continue
        if commentary.slug in seen:
            loaded.problems.append(
                Problem(
                    shown,
                    None,
                    f"slug {commentary.slug!r} is already used by {seen[commentary.slug]}; "
                    "give each commentary its own slug",
                )
            )
            continue
        seen[commentary.slug] = shown
        loaded.commentary.append(commentary)
    return loaded


def _shown(path: Path, base: Path) -> str:
    with contextlib.suppress(ValueError):
        return str(path.relative_to(base))
    return str(path)


def _slug_from_name(path: Path) -> str:
    return _DATE_PREFIX.sub("", path.stem) or path.stem


def parse_markdown(
    text: str, where: str, config: Config, *, default_slug: str = "commentary"
) -> Commentary:
    """One commentary file's text -> :class:`Commentary`; raises :class:`CommentaryError`."""
    meta, lines, body, body_line = _front_matter(text, where)
    unknown = [k for k in meta if k not in _KEYS]
    if unknown:
        key = unknown[0]
        close = difflib.get_close_matches(str(key), _KEYS, n=1, cutoff=0.6)
        hint = f"did you mean '{close[0]}'? " if close else ""
        raise CommentaryError(
            where,
            lines.get(key, 1),
            f"unknown key '{key}' in the front matter; {hint}the keys are: {', '.join(_KEYS)}",
        )
    title = _string(meta, "title", where, lines)
    if not title:
        raise CommentaryError(where, 1, "the front matter has no title; add a line 'title: ...'")
    if meta.get("date") in (None, ""):
        raise CommentaryError(
            where, 1, "the front matter has no date; add a line like 'date: 2024-10-03 11:20'"
        )
    published = _date(meta["date"], where, lines.get("date", 1), config.site.tz)
    slug = _string(meta, "slug", where, lines) or default_slug
    language = _string(meta, "language", where, lines)
    link = _string(meta, "link", where, lines) or None
    if link and not link.startswith(("http://", "https://")):
        raise CommentaryError(
            where, lines.get("link"), f"link {link!r} is not an http(s) URL; write the full URL"
        )
    author = _string(meta, "author", where, lines)
    agency = _string(meta, "agency", where, lines) or None
    tags = _strings(meta, "tags", where, lines)
    sources = _strings(meta, "source", where, lines)
    quotes = tuple(_strip_quote_marks(q) for q in _strings(meta, "quote", where, lines))

    body_html = sanitize_html(markdown.markdown(body)) if body.strip() else ""
    parts = _split(body_html, config)
    if parts is not None:
        agency = agency or parts.agency
        quotes = quotes or parts.quotes
        comment_html = parts.comment_html
    else:
        comment_html = body_html
    if not plain_text(comment_html):
        raise CommentaryError(
            where,
            body_line,
            "the comment is empty; write it below the front matter's closing '---'",
        )
    separate = bool(quotes)
    if not quotes:
        quotes, named = _quotes_in(comment_html, config)
        agency = agency or named
    return Commentary(
        id=f"file:{slug}",
        title=title,
        published=published,
        slug=slug,
        comment_html=comment_html,
        quotes=tuple(q for q in quotes if q),
        agency=agency,
        sources=sources,
        links=_links(body_html),
        tags=tags,
        authors=(Author(name=author),) if author else (),
        link=link,
        language=language or _language(comment_html, config),
        where=where,
        source_line=lines.get("source"),
        separate_quote=separate,
    )


def from_house_item(stored: StoredItem, config: Config) -> Commentary:
    """A post of the house's CMS feed, split into quote and comment where it has the structure."""
    item = stored.item
    raw = sanitize_html(item.content or item.summary or "", item.link)
    parts = _split(raw, config)
    if parts is not None:
        comment_html, quotes, agency, separate = (
            parts.comment_html,
            parts.quotes,
            parts.agency,
            True,
        )
    else:
        comment_html, separate = _without_notice(raw, config), False
        quotes, agency = _quotes_in(comment_html, config)
    return Commentary(
        id=f"item:{stored.key}",
        title=item.title,
        published=stored.published,
        slug=stored.key,
        comment_html=comment_html,
        quotes=quotes,
        agency=agency,
        links=_links(raw),
        tags=item.categories,
        authors=item.authors,
        link=item.link,
        language=item.language or _language(comment_html, config),
        where=f"house feed item {item.link or stored.key}",
        item_key=stored.key,
        separate_quote=separate and bool(quotes),
    )


# --- front matter ------------------------------------------------------------------


def _front_matter(text: str, where: str) -> tuple[dict, dict[str, int], str, int]:
    """(mapping, line of each key, body, line the body starts on); lines are 1-based."""
    text = text.lstrip("\ufeff")
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        raise CommentaryError(
            where,
            1,
            "no front matter: the file must start with a line '---', then 'title: ...', "
            "'date: ...' and the other keys, then a line '---', then the comment",
        )
    end = next((i for i in range(1, len(lines)) if lines[i].strip() in ("---", "...")), None)
    if end is None:
        raise CommentaryError(
            where,
            1,
            "the front matter opened on this line is never closed; add a line '---' after it",
        )
    source = "".join(lines[1:end])
    loader = yaml.SafeLoader(source)
    try:
        node = loader.get_single_node()
        meta = loader.construct_document(node) if node is not None else {}
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 2 if mark is not None else 2
        problem = exc.problem or "cannot be read"
        raise CommentaryError(
            where,
            line,
            f"the front matter is not valid YAML: {problem}; "
            "quote values that contain ':' or start with a quote mark, e.g. title: \"…\"",
        ) from None
    except yaml.YAMLError as exc:
        raise CommentaryError(where, 2, f"the front matter is not valid YAML: {exc}") from None
    finally:
        loader.dispose()
    if not isinstance(meta, dict):
        raise CommentaryError(
            where, 2, "the front matter must be 'key: value' lines (title:, date:, ...)"
        )
    key_lines: dict[str, int] = {}
    if isinstance(node, yaml.MappingNode):
        for key_node, _ in node.value:
            key_lines[str(key_node.value)] = key_node.start_mark.line + 2
    return meta, key_lines, "".join(lines[end + 1 :]), end + 2


def _string(meta: dict, key: str, where: str, lines: dict[str, int]) -> str:
    value = meta.get(key)
    if value is None:
        return ""
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return str(value).strip()
    raise CommentaryError(where, lines.get(key), f"{key} must be text, not {type(value).__name__}")


def _strings(meta: dict, key: str, where: str, lines: dict[str, int]) -> tuple[str, ...]:
    value = meta.get(key)
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if isinstance(value, list) and all(
        isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in value
    ):
        return tuple(s for s in (str(v).strip() for v in value) if s)
    raise CommentaryError(
        where, lines.get(key), f"{key} must be text or a list of texts, e.g. {key}: [a, b]"
    )


def _date(value: object, where: str, line: int, local: tzinfo) -> datetime:
    """A front-matter date; written without an offset, it is the site's local time."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time())
    else:
        text = str(value).strip()
        try:
            moment = datetime.fromisoformat(text.replace(" ", "T", 1) if " " in text else text)
        except ValueError:
            raise CommentaryError(
                where,
                line,
                f"date {text!r} is not a date; write e.g. 2024-10-03 or 2024-10-03 11:20",
            ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=local)
    return moment.astimezone(UTC)


def _strip_quote_marks(text: str) -> str:
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
class _Parts:
    agency: str | None
    quotes: tuple[str, ...]
    comment_html: str


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


def _attribution_pattern(config: Config) -> re.Pattern[str]:
    return _patterns([*config.house.attribution.values(), *_EXTRA_ATTRIBUTION], "agency")


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


def _split(fragment: str, config: Config) -> _Parts | None:
    """Split published structure into (agency, quotes, comment HTML); None if it has none."""
    blocks = _blocks(fragment)
    heading = _heading_pattern(config)
    for index, (_, text) in enumerate(blocks):
        found = _find(heading, text)
        if found is None:
            continue
        # A heading sits at the start of a block or ends the quote's paragraph.
        before = text[: found[0]].strip()
        after = text[found[1] :].strip()
        region = "\n".join([*(t for _, t in blocks[:index]), before]).strip()
        rest = [markup for markup, _ in blocks[index + 1 :]]
        if after:
            rest.insert(0, f"<p>{html.escape(after)}</p>")
        comment = _without_notice("\n".join(rest), config)
        agency, quotes = _quote_region(region, config)
        return _Parts(agency, quotes, comment)
    return None


def _quote_region(region: str, config: Config) -> tuple[str | None, tuple[str, ...]]:
    agency = None
    found = _find(_attribution_pattern(config), region)
    if found is not None:
        agency = found[2] or None
        region = region[found[1] :]
    quotes = _marked_quotes(region)
    if not quotes:
        whole = _strip_quote_marks(region.strip().rstrip("."))
        quotes = [whole] if _words(whole) >= MIN_QUOTE_WORDS else []
    return agency, tuple(quotes)


def _blocks(fragment: str) -> list[tuple[str, str]]:
    """Top-level blocks of an HTML fragment as (markup, text); loose text makes its own."""
    if not fragment.strip():
        return []
    try:
        root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    except (ValueError, lxml.etree.ParserError):
        return [(fragment, plain_text(fragment))]
    blocks: list[tuple[str, str]] = []
    loose: list[str] = []

    def flush() -> None:
        markup = "".join(loose).strip()
        if plain_text(markup):
            blocks.append((f"<p>{markup}</p>", plain_text(markup)))
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
            blocks.append((markup, _block_text(child)))
        elif child.tag == "br":
            flush()
        else:
            loose.append(markup)
        if tail:
            loose.append(html.escape(tail))
    flush()
    return blocks


def _block_text(element) -> str:
    return " ".join(element.text_content().split())


def _without_notice(fragment: str, config: Config) -> str:
    """The comment without the repost notice the house CMS appends (publish adds its own)."""
    notice = _norm(config.site.repost_notice)
    if not notice:
        return fragment
    kept = [m for m, t in _blocks(fragment) if not (t and _norm(t).startswith(notice[:40]))]
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
                quoted = _strip_quote_marks(_block_text(quote))
                if _words(quoted) >= MIN_QUOTE_WORDS:
                    quotes.append(quoted)
                quote.drop_tree()
            text = "\n".join(t for _, t in _blocks(lxml.html.tostring(root, encoding="unicode")))
        else:
            text = plain_text(fragment)
    return quotes + _marked_quotes(text)


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
                found.append((start, text[start:index]))
    masked = re.sub(r"«[^«»]*»", lambda m: " " * len(m.group()), text)
    while "«" in masked and "»" in masked and re.search(r"«[^«»]*»", masked):
        masked = re.sub(r"«[^«»]*»", lambda m: " " * len(m.group()), masked)
    for pattern in (r"„([^“”„\n]+)[“”]", r"“([^“”\n]+)”", r'"([^"\n]+)"'):
        for match in re.finditer(pattern, masked):
            found.append((match.start(1), match.group(1)))
        masked = re.sub(pattern, lambda m: " " * len(m.group()), masked)
    found.sort()
    return [q.strip() for _, q in found if _words(q) >= MIN_QUOTE_WORDS]


def _quotes_in(fragment: str, config: Config) -> tuple[tuple[str, ...], str | None]:
    """Quotes inside a comment, and the agency an attribution names just before one."""
    quotes = tuple(extract_quotes(fragment))
    agency = None
    if quotes:
        found = _find(_attribution_pattern(config), plain_text(fragment))
        if found is not None:
            agency = found[2] or None
    return quotes, agency


def _words(text: str) -> int:
    return len(_WORD.findall(text))


def _links(fragment: str) -> tuple[str, ...]:
    links: list[str] = []
    if "<a" in fragment:
        try:
            root = lxml.html.fragment_fromstring(fragment, create_parent="div")
            links += [a.get("href") for a in root.iter("a") if a.get("href")]
        except (ValueError, lxml.etree.ParserError):
            pass
    links += _URL_IN_TEXT.findall(plain_text(fragment))
    return tuple(dict.fromkeys(u for u in links if u.startswith(("http://", "https://"))))


def _language(fragment: str, config: Config) -> str:
    from aggregator.text.words import detect_language  # the shared text analysis

    text = plain_text(fragment)
    return detect_language(text) if text else (config.site.language or "ru")


# --- helpers for authoring ------------------------------------------------------------


def slugify(text: str, *, limit: int = 60) -> str:
    """A file-name-safe Latin slug: "Стоп, снято!" -> "stop-sniato"."""
    latin = text.casefold().translate(_TRANSLIT)
    slug = "-".join(re.findall(r"[a-z0-9]+", latin))
    if len(slug) > limit:
        slug = slug[:limit].rsplit("-", 1)[0]
    return slug or "commentary"


# --- publishing ------------------------------------------------------------------------
#
# publish asks HouseCommentary.load() once per run: every commentary, matched, each with
# the stored item it is published as (a post of the house feed is its own stored item; a
# file gets one made up here, keyed "commentary/<slug>", never written to the store).

FILE_KEY_PREFIX = "commentary/"
_LEAD_CHARS = 400


@dataclass(frozen=True)
class SourceRef:
    """A matched source item, as the attribution line and the via link need it."""

    key: str
    name: str  # the source's name
    title: str
    link: str | None
    item_id: str  # the id the source gave it
    lead: str  # its first paragraph, as text (quoted when the commentary quotes nothing)


@dataclass(frozen=True)
class HouseEntry:
    commentary: Commentary
    match: Match
    sources: tuple[SourceRef, ...]  # the confident match only; empty otherwise
    stored: StoredItem  # what outputs select: the house feed's item, or one made for a file


@dataclass
class HouseCommentary:
    entries: dict[str, HouseEntry] = field(default_factory=dict)  # by store key
    problems: list[Problem] = field(default_factory=list)

    @classmethod
    def load(cls, config: Config, storage: Storage) -> HouseCommentary:
        """Every commentary, matched; the ones with errors are left out and reported."""
        from aggregator.house.match import match_all

        house_ids = house_source_ids(config)
        posts = storage.iter_items(source_ids=house_ids) if house_ids else ()
        loaded = load_all(config, posts)
        matches = match_all(loaded.commentary, storage, config)
        result = cls(problems=list(loaded.problems))
        for commentary in loaded.commentary:
            match = matches[commentary.id]
            if match.error:
                result.problems.append(
                    Problem(commentary.where, commentary.source_line, match.error)
                )
                continue
            sources = ()
            if match.confident:
                sources = tuple(
                    _source_ref(stored, config)
                    for stored in map(storage.get_item, match.keys)
                    if stored is not None
                )
            stored = _stored(commentary, storage)
            if stored is None:
                continue
            result.entries[stored.key] = HouseEntry(commentary, match, sources, stored)
        return result

    def files(self) -> list[StoredItem]:
        """The made-up stored items of commentary files, newest first."""
        made = [e.stored for e in self.entries.values() if e.stored.key.startswith(FILE_KEY_PREFIX)]
        made.sort(key=lambda s: (s.published, s.key), reverse=True)
        return made


def _stored(commentary: Commentary, storage: Storage) -> StoredItem | None:
    if commentary.item_key is not None:
        return storage.get_item(commentary.item_key)
    item = Item(
        id=commentary.link or f"{FILE_KEY_PREFIX}{commentary.slug}",
        title=commentary.title,
        link=commentary.link,
        # What include/exclude patterns of outputs see.
        content="\n".join(
            [*(f"<p>{html.escape(q)}</p>" for q in commentary.quotes), commentary.comment_html]
        ),
        published=commentary.published,
        updated=commentary.published,
        authors=commentary.authors,
        categories=commentary.tags,
        language=commentary.language,
    )
    moment = commentary.published
    return StoredItem(FILE_KEY_PREFIX + commentary.slug, item, (), moment, moment, moment)


def _source_ref(stored: StoredItem, config: Config) -> SourceRef:
    item = stored.item
    lead = ""
    for fragment in (item.summary, item.content):
        blocks = _blocks(fragment or "")
        if blocks:
            lead = blocks[0][1]
            break
    lead = shorten(plain_text(lead), _LEAD_CHARS)
    return SourceRef(
        key=stored.key,
        name=config.source_name(stored.source_ids),
        title=item.title,
        link=item.link,
        item_id=item.id,
        lead=lead,
    )


# --- authoring ---------------------------------------------------------------------------


def find_item(storage: Storage, reference: str) -> StoredItem | None:
    """The stored item a reference names: its store key, its URL (canonical), or its id."""
    reference = reference.strip()
    found = storage.get_item(reference)
    if found is None and "://" in reference:
        found = storage.item_by_link(reference)
    if found is None:
        # By the id the source gave it: no index for that, so a scan (editors' use only).
        found = next((s for s in storage.iter_items() if s.item.id == reference), None)
    return found


def new_file(config: Config, stored: StoredItem, *, now: datetime) -> tuple[Path, str]:
    """(path, text) of a new commentary file on ``stored``, ready for an editor to fill in.

    Pre-filled: the item's title (to be replaced by the house's own), the date, a slug,
    the item as ``source:``, its source's name as ``agency:`` and its lead paragraph as
    ``quote:``.  The body is left for the comment; until it is written, the file is
    reported as an error and not published.
    """
    directory = commentary_dir(config)
    if directory is None:
        raise CommentaryError(
            config.path or "feeds.yaml",
            None,
            "house.commentary_dir is not set; add e.g. 'commentary_dir: commentary' under 'house:'",
        )
    item = stored.item
    agency = config.source_name(stored.source_ids)
    lead = _source_ref(stored, config).lead
    local = now.astimezone(config.site.tz)
    slug = slugify(item.title)
    path = directory / f"{local:%Y-%m-%d}-{slug}.md"

    def value(text: str) -> str:
        return yaml.safe_dump(text, allow_unicode=True, width=10_000, default_style='"').strip()

    text = "\n".join(
        [
            "---",
            f"title: {value(item.title)}  # the house's own title",
            f"date: {local:%Y-%m-%d %H:%M}",
            f"slug: {slug}",
            "tags: []",
            'author: ""',
            f"source: {value(item.link or stored.key)}",
            f"agency: {value(agency)}",
            f"quote: {value(lead)}",
            "---",
            "",
            "<!-- Write the comment here, in Markdown; it is published below the quote. -->",
            "",
        ]
    )
    return path, text
