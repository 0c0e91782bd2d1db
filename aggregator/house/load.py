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
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, tzinfo
from pathlib import Path

import lxml.html
import markdown
import yaml

from aggregator.config import Config, config_dir, resolve_path
from aggregator.house.quotes import (
    pull_attributed,
    quotes_in,
    split_structure,
    strip_quote_marks,
    without_notice,
)
from aggregator.models import Author, StoredItem, configured
from aggregator.parse.sanitize import sanitize_html
from aggregator.text.html import plain_text

__all__ = [
    "Commentary",
    "CommentaryError",
    "Loaded",
    "Problem",
    "commentary_dir",
    "from_house_item",
    "house_source_ids",
    "may_name",
    "load_all",
    "load_dir",
    "parse_markdown",
    "background_sentences",
    "without_background",
]

_KEYS = ("title", "date", "slug", "tags", "author", "source", "quote", "agency", "link", "language")
_URL_IN_TEXT = re.compile(r"https?://[^\s<>\"«»“”„()]+[^\s<>\"«»“”„().,;:!?]")
_DATE_PREFIX = re.compile(r"^\d{4}-\d{2}-\d{2}[-_]")


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
    intro_html: str = ""  # the house's own retelling before its heading (not a quote)
    background_links: tuple[str, ...] = ()  # links given as background ("ранее", "напомним")

    @property
    def comment_text(self) -> str:
        return plain_text(self.comment_html)

    @property
    def text(self) -> str:
        """Everything said in it, for similarity: title, quotes, the house's intro, comment."""
        return "\n".join((self.title, *self.quotes, self.intro_text, self.comment_text))

    @property
    def intro_text(self) -> str:
        return plain_text(self.intro_html)


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
    house = set(house_source_ids(config))
    for stored in items:
        if house.intersection(stored.source_ids):
            loaded.commentary.append(from_house_item(stored, config))
    return loaded


def may_name(config: Config) -> Callable[[StoredItem], bool]:
    """Whether matching may name a stored item as a commentary's source: an item that is
    published (a source that gave it is still in feeds.yaml: a removed source's items stay
    stored but are published and related nowhere, models.configured), and no post of the
    house feed."""
    house = frozenset(house_source_ids(config))
    published = config.publishing_sources()
    return lambda stored: (
        house.isdisjoint(stored.source_ids) and configured(stored.source_ids, published)
    )


def house_source_ids(config: Config) -> list[str]:
    """The sources that are the house's own feed, held ones too (a typo keeps its posts)."""
    return [s.id for s in config.published_sources() if s.house]


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
    quotes = tuple(strip_quote_marks(q) for q in _strings(meta, "quote", where, lines))

    body_html = sanitize_html(markdown.markdown(body)) if body.strip() else ""
    parts = split_structure(body_html, config)
    if parts is not None:
        agency = agency or parts.agency
        quotes = quotes or parts.quotes
        comment_html = parts.comment_html
        intro_html = parts.intro_html
    else:
        comment_html, intro_html = body_html, ""
        pulled = None if quotes else pull_attributed(body_html, config)
        if pulled is not None:
            agency, quotes, comment_html = agency or pulled[0], pulled[1], pulled[2]
    if not plain_text(comment_html):
        raise CommentaryError(
            where,
            body_line,
            "the comment is empty; write it below the front matter's closing '---'",
        )
    separate = bool(quotes)
    if not quotes:
        quotes, named = quotes_in(comment_html, config)
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
        background_links=_background_links(body_html),
        tags=tags,
        authors=(Author(name=author),) if author else (),
        link=link,
        language=language or _language(comment_html, config),
        where=where,
        source_line=lines.get("source"),
        separate_quote=separate,
        intro_html=intro_html,
    )


def from_house_item(stored: StoredItem, config: Config) -> Commentary:
    """A post of the house's CMS feed, split into quote and comment where it has the structure."""
    item = stored.item
    raw = sanitize_html(item.content or item.summary or "", item.link)
    parts = split_structure(raw, config)
    if parts is not None:
        comment_html, quotes, agency, separate = (
            parts.comment_html,
            parts.quotes,
            parts.agency,
            True,
        )
        intro_html = parts.intro_html
    else:
        comment_html, separate, intro_html = without_notice(raw, config), False, ""
        pulled = pull_attributed(comment_html, config)
        if pulled is not None:
            agency, quotes, comment_html = pulled
            separate = True
        else:
            quotes, agency = quotes_in(comment_html, config)
    return Commentary(
        id=f"item:{stored.key}",
        title=item.title,
        published=stored.published,
        slug=stored.key,
        comment_html=comment_html,
        quotes=quotes,
        agency=agency,
        links=_links(raw),
        background_links=_background_links(raw),
        tags=item.categories,
        authors=item.authors,
        link=item.link,
        language=item.language or _language(comment_html, config),
        where=f"house feed item {item.link or stored.key}",
        item_key=stored.key,
        separate_quote=separate and bool(quotes),
        intro_html=intro_html,
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
        try:
            meta = loader.construct_document(node) if node is not None else {}
        except ValueError:
            # A date no calendar has ("2026-13-07", "2026-02-30") is no YAML error but
            # PyYAML's ValueError: read the values as written, for _date to name it.
            meta = _WrittenLoader(source).get_single_data() or {}
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


class _WrittenLoader(yaml.SafeLoader):
    """YAML's safe loader reading dates as the text written."""


_WrittenLoader.yaml_implicit_resolvers = {
    first: [r for r in resolvers if r[0] != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


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


# A link in a sentence with one of these is background, not what the post comments on.
_BACKGROUND = re.compile(
    r"(?<!\w)(ранее|напомним|напомню|как сообщалось|как писал|как мы писали|"
    r"в прошлом (году|месяце)|прежде|бұған дейін|еске сал|earlier|previously|"
    r"as reported|recall)",
    re.IGNORECASE,
)
_SENTENCES = re.compile(r"(?<=[.!?…])\s+")
# What a post says it repeats from earlier reports ("как и сообщалось", "мы писали"): the
# sentence is background, not the news it tells.
_REPORTED = re.compile(
    r"(?<!\w)(как (и |уже )?сообщалось|(как )?мы (уже )?писали|напомним|напомню|"
    r"как (уже )?писал|уже сообщалось|as (previously )?reported)",
    re.IGNORECASE,
)


def background_sentences(text: str) -> list[str]:
    """The sentences of ``text`` that say they repeat an earlier report (``without_background``
    leaves them out)."""
    if not _REPORTED.search(text):
        return []
    return [s for line in text.split("\n") for s in _SENTENCES.split(line) if _REPORTED.search(s)]


def without_background(text: str) -> str:
    """``text`` without the sentences that say they repeat an earlier report ("Как и
    сообщалось, …", "Мы писали о …", "Напомним, …"): what is left is the post's news."""
    if not _REPORTED.search(text):
        return text
    lines = []
    for line in text.split("\n"):
        kept = [s for s in _SENTENCES.split(line) if not _REPORTED.search(s)]
        lines.append(" ".join(kept))
    return "\n".join(lines)


LINK_MARK = "\u2063"  # an invisible separator: where a link's own words begin and end


def linked_blocks(fragment: str) -> Iterator[tuple[str, str]]:
    """Each http(s) link of ``fragment`` with the text of its block (paragraph, list item,
    div or blockquote), whitespace collapsed and the link's own words between two
    ``LINK_MARK``s: what a post says around a link tells what the link is to it."""
    if "<a" not in fragment:
        return
    try:
        root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    except (ValueError, lxml.etree.ParserError):
        return
    for anchor in root.iter("a"):
        href = anchor.get("href") or ""
        if not href.startswith(("http://", "https://")):
            continue
        block = anchor.getparent()
        while block is not None and block.tag not in ("p", "li", "div", "blockquote"):
            block = block.getparent()
        if block is None:
            continue
        saved, ending = anchor.text, anchor.tail
        anchor.text, anchor.tail = LINK_MARK + (saved or ""), LINK_MARK + (ending or "")
        text = " ".join(block.text_content().split())
        anchor.text, anchor.tail = saved, ending
        yield href, text


def _background_links(fragment: str) -> tuple[str, ...]:
    """Links whose sentence marks them as background ("Ранее <a>сообщалось</a>…").  Of
    several links in the marked sentence, the marker belongs to the one whose clause holds
    it ("[оштрафовал лабораторию](…), а база, о которой [ранее писал Zakon.kz](…), …"):
    the others are the news."""
    marked = []  # (href, the sentence, whether the marker is in the link's own clause)
    for href, text in linked_blocks(fragment):
        before, own, after = text.split(LINK_MARK)[:3]
        # The sentence where the link begins (its end marked, a sentence could run on).
        text = " ".join(f"{before}{LINK_MARK}{own}{after}".split())
        sentence = next((s for s in _SENTENCES.split(text) if LINK_MARK in s), "")
        plain = sentence.replace(LINK_MARK, "")
        if _BACKGROUND.search(plain):
            head = _LINK_CLAUSE_END.split(before)[-1]
            clause = f"{head} {own} {_LINK_CLAUSE_END.split(after)[0]}"
            marked.append((href, plain, bool(_BACKGROUND.search(clause))))
    found = [
        href
        for href, plain, own in marked
        if own or not any(o and p == plain and h != href for h, p, o in marked)
    ]
    return tuple(dict.fromkeys(found))


# Where a link's clause ends, for which of a sentence's links its marker belongs to.
_LINK_CLAUSE_END = re.compile(r"[:;—–(),]")


def _language(fragment: str, config: Config) -> str:
    from aggregator.text.words import detect_language  # the shared text analysis

    text = plain_text(fragment)
    return detect_language(text) if text else (config.site.language or "ru")


# --- helpers for authoring ------------------------------------------------------------
