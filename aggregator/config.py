"""feeds.yaml: the typed configuration and its loader.

The dataclasses below *are* the schema: the loader validates a YAML document
against their fields and type hints, so adding a key means adding a field here
(with its default) and a line in the README's key reference.
"""

from __future__ import annotations

import codecs
import contextlib
import dataclasses
import difflib
import functools
import hashlib
import ipaddress
import os
import pickle
import re
import sys
import tempfile
import types
import typing
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aggregator.text.urls import is_postgres_url
from aggregator.text.xml import FEED_SUFFIXES

if TYPE_CHECKING:
    import yaml


class ConfigError(Exception):
    """A feeds.yaml problem, with the file, the key path and what to write instead."""


@dataclass(frozen=True)
class SiteConfig:
    title: str
    link: str  # the publisher's home page
    language: str = "ru"
    description: str = ""
    house: str = ""  # the house's name as it signs commentary, e.g. "Евразия24"
    # Public URL under which output/ is served; feed self links are built from it.
    feeds_url: str = ""
    repost_notice: str = ""  # appended to republished content where an output asks for it
    author: str = ""
    # Where a person reads a time (index.html, commentary pages, commentary dates
    # written without an offset): an IANA name. Kazakhstan is UTC+5 since 2024.
    timezone: str = "Asia/Almaty"
    # The date in our tag: URIs (RFC 4151). Every published id contains it: set it
    # once when the site starts publishing and never change it.
    tag_date: str = "2026"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def tag_uri(self, specific: str) -> str:
        """``tag:<host of site.link>,<tag_date>:<specific>``: the ids of our feeds and
        entries, stable across formats, runs and hosts."""
        host = urlsplit(self.link).hostname or "localhost"
        return f"tag:{host},{self.tag_date}:{specific}"

    def item_id(self, key: str) -> str:
        """The id of the entry with store key ``key``, in every output and index."""
        return self.tag_uri(f"item/{quote(key, safe='')}")


@dataclass(frozen=True)
class FetchConfig:
    interval: int = 1800  # seconds between fetches of one source (durations: "30m", "2h", 90)
    timeout: float = 30.0  # whole-request deadline, seconds
    max_body_bytes: int = 10 * 1024 * 1024  # after decompression ("10MB")
    max_redirects: int = 5
    concurrency: int = 20  # requests in flight overall
    per_host: int = 2  # requests in flight per host name
    backoff_base: int = 300  # first retry after a failure, seconds
    backoff_max: int = 24 * 3600
    user_agent: str = ""  # empty: the project's own, naming its URL
    allow_private_networks: tuple[str, ...] = ()  # CIDRs every source may reach
    parser: str = "auto"  # "auto": lxml for plain RSS/Atom, else feedparser; "feedparser"
    # IANA zone of the feeds' dates that say no offset, for every source without its
    # own timezone:; "": site.timezone (a Kazakh CMS writes its wall time so).
    timezone: str = ""


@dataclass(frozen=True)
class StorageConfig:
    # A SQLite path (relative to the config file's directory) or a PostgreSQL URL
    # (postgresql://user@host/db); empty: ``path``.
    url: str = ""
    path: str = "aggregator.sqlite"  # relative to the config file's directory
    retention_days: int = 90
    keep_latest: int = 50  # never prune below this many items per source


@dataclass(frozen=True)
class SourceConfig:
    id: str  # [a-z0-9][a-z0-9._-]*
    url: str  # http(s) URL, file:// URL or a path (relative to the config file)
    name: str = ""  # "": the feed's own title where stored (publish), else the id
    language: str | None = None
    tags: tuple[str, ...] = ()
    interval: int | None = None  # overrides fetch.interval
    timeout: float | None = None  # overrides fetch.timeout
    headers: dict[str, str] = field(default_factory=dict)
    allow_private_networks: tuple[str, ...] = ()
    house: bool = False  # the house's own CMS feed (commentary posts)
    enabled: bool = True
    encoding: str | None = None  # pins the character encoding; none: declared, else detected
    # IANA zone of its dates that say no offset; none: fetch.timezone, else site.timezone
    # (the loader fills it in)
    timezone: str | None = None


@dataclass(frozen=True)
class HouseConfig:
    name: str = ""  # defaults to site.house
    commentary_dir: str = ""  # Markdown commentary files, relative to the config file
    # Wording per language; {agency} / {house} are substituted.
    attribution: dict[str, str] = field(
        default_factory=lambda: {
            "ru": "{agency} сообщает:",
            "kk": "{agency} хабарлайды:",
            "en": "{agency} reports:",
        }
    )
    heading: dict[str, str] = field(
        default_factory=lambda: {
            "ru": "{house} комментирует:",
            "kk": "{house} пікірі:",
            "en": "{house} comments:",
        }
    )
    # Credit for a retelling in the house's own words (never a quote).
    retold: dict[str, str] = field(
        default_factory=lambda: {
            "ru": "По материалам {agency}.",
            "kk": "{agency} материалдары бойынша.",
            "en": "Based on reporting by {agency}.",
        }
    )


@dataclass(frozen=True)
class OutputConfig:
    """One published feed (written as Atom, RSS and JSON Feed).

    With ``per`` set to "source" or "tag" the entry is a rule that expands into one
    output per source / per tag; ``{id}`` / ``{tag}`` / ``{name}`` in name and title
    are substituted.
    """

    name: str  # file stem: output/<name>.atom, .rss, .json
    title: str = ""
    description: str = ""
    sources: tuple[str, ...] = ()  # source ids; empty = all
    tags: tuple[str, ...] = ()  # source tags or item categories; empty = all
    languages: tuple[str, ...] = ()
    include: tuple[str, ...] = ()  # regexes on title + content; any must match
    exclude: tuple[str, ...] = ()  # regexes on title + content; none may match
    kinds: tuple[str, ...] = ("source", "commentary")  # which entries it carries
    max_entries: int = 100
    max_age: int | None = None  # seconds ("7d"); None = no limit
    repost_notice: bool = False  # append site.repost_notice to each entry's content
    archive: bool = False  # RFC 5005 monthly archives of older entries (publish/archive.py)
    per: str | None = None  # None, "source" or "tag"
    # The output's language (xml:lang, <language>); "": the one its entries share,
    # else site.language.
    language: str = ""


@dataclass(frozen=True)
class PublishConfig:
    dir: str = "output"  # relative to the config file
    html_entries: int = 50  # entries on output/index.html
    main_output: str = "all"  # the output index.html shows
    # A directory of Jinja2 templates (index.html, commentary.html, commentary-index.html,
    # base.html, strings.yaml) that replace the shipped ones; relative to the config file.
    templates: str = ""
    websub_hubs: tuple[str, ...] = ()  # WebSub hubs told of every changed output


@dataclass(frozen=True)
class RelatedConfig:
    """The "Читать далее / Related" lists (see aggregator/related.py for the ranking)."""

    enabled: bool = True
    count: int = 4  # related entries per entry, at most
    window: int = 30 * 86400  # candidates published within this long of the entry ("30d")
    min_score: float = 0.08  # below this, an entry is left out: no list beats a bad list
    title_weight: float = 1.5  # the title's share of an entry's text vector, vs. its text's
    name_weight: float = 2.0  # weight of names and figures (capitalized words, numbers)
    tag_weight: float = 0.2  # bonus factor for shared tags and categories (Jaccard)
    recency_weight: float = 0.3  # how much an old candidate loses at most, 0..1
    recency_half_life: int = 7 * 86400  # it loses half of that after this long ("7d")
    # Share of 3-word shingles (headline and text) two entries share when they are one
    # story: a reprint, listed once with the other outlets as "также".
    duplicate_threshold: float = 0.5


@dataclass(frozen=True)
class EntryProblem:
    """A mistake in the entry of one source, said as ``<file>:<line>: <key>: what; fix``."""

    source_id: str
    file: str  # the configuration file as it was named
    rest: str  # what follows the file's name: ":13: sources[1].url: ...; write ..."

    def __str__(self) -> str:
        return self.file + self.rest

    @property
    def public(self) -> str:
        """As health.json and status show it: the file without its directory (health.json
        is public, and the layout of our disk is nobody's business)."""
        return Path(self.file).name + self.rest


@dataclass(frozen=True)
class Config:
    site: SiteConfig
    sources: tuple[SourceConfig, ...]
    fetch: FetchConfig = FetchConfig()
    storage: StorageConfig = StorageConfig()
    house: HouseConfig = HouseConfig()
    publish: PublishConfig = PublishConfig()
    related: RelatedConfig = RelatedConfig()
    outputs: tuple[OutputConfig, ...] = ()
    path: str = ""  # the file it was loaded from (absolute), "" when built in code
    # Sources left out for a problem in their own entry (load_config's hold_broken_sources):
    # not fetched, but their stored items stay published; and what is wrong with them.
    held: tuple[SourceConfig, ...] = ()
    entry_problems: tuple[EntryProblem, ...] = ()  # top to bottom, as the file has them
    file_order: tuple[str, ...] = ()  # the ids of sources and held, as the file has them
    # Held sources whose entry cannot say whether they are the house's own feed (the
    # mistake is in their house: key): held as house feeds, so that no post of theirs is
    # matched as an agency's report, and their items published nowhere (an agency's
    # items as the house's words would be as wrong as the house's posts as a report).
    withheld: frozenset[str] = frozenset()

    def source(self, source_id: str) -> SourceConfig:
        for s in self.sources:
            if s.id == source_id:
                return s
        raise KeyError(source_id)

    def credited_id(self, source_ids: Sequence[str]) -> str:
        """The source an entry is credited to: the first of its sources that is
        configured (held ones too), else its first source id ("" for none)."""
        known = self._by_id()
        return next((i for i in source_ids if i in known), source_ids[0] if source_ids else "")

    def configured_source(self, source_id: str) -> SourceConfig | None:
        """The entry of ``source_id`` in feeds.yaml (held ones too), None if it has none."""
        return self._by_id().get(source_id)

    def source_name(self, source_ids: Sequence[str]) -> str:
        """The name an entry is credited to: its :meth:`credited_id`'s configured name,
        else that id."""
        source_id = self.credited_id(source_ids)
        source = self.configured_source(source_id)
        return (source.name or source.id) if source is not None else source_id

    def published_sources(self) -> tuple[SourceConfig, ...]:
        """The sources whose items are published and related: the configured ones, and
        those held for a problem in their entry (a typo must not withdraw a source), in
        the file's order (the order OPML and the per-source outputs show them in)."""
        if not self.held:
            return self.sources
        position = {source_id: i for i, source_id in enumerate(self.file_order)}
        return tuple(sorted((*self.sources, *self.held), key=lambda s: position[s.id]))

    def publishing_sources(self) -> dict[str, SourceConfig]:
        """By id, the sources whose stored items outputs and related lists show:
        :meth:`published_sources` less the ``withheld`` ones."""
        return {s.id: s for s in self.published_sources() if s.id not in self.withheld}

    @property
    def source_problems(self) -> tuple[str, ...]:
        """What is wrong in the entries of held sources, as the commands say it."""
        return tuple(str(problem) for problem in self.entry_problems)

    def problems_of(self, source_id: str) -> list[str]:
        """What is wrong in the entry of a held source (file:line: what; fix), public."""
        return [p.public for p in self.entry_problems if p.source_id == source_id]

    def _by_id(self) -> dict[str, SourceConfig]:
        by_id = self.__dict__.get("_by_id_cache")
        if by_id is None:
            by_id = {s.id: s for s in (*self.held, *self.sources)}
            object.__setattr__(self, "_by_id_cache", by_id)  # frozen; a pure cache
        return by_id


def shown_name(source_id: str, source: SourceConfig | None, feed_title: str | None) -> str:
    """The name a source is shown under (attribution, health.json, a commentary's
    agency): its configured name, else the title its feed gives, else its id."""
    from aggregator.text.xml import clean_text

    return clean_text((source.name if source else "") or feed_title or source_id)


# --- loader ------------------------------------------------------------------
#
# Everything below turns a YAML document into the dataclasses above.  The schema
# is read from the dataclasses themselves (fields, defaults, type hints); the
# tables right below only add what a type hint cannot say (units, ranges, checks).


_KeyPath = tuple[str | int, ...]

# Integer seconds that may be written as "90s", "30m", "2h", "7d".
_DURATIONS = {
    (FetchConfig, "interval"),
    (FetchConfig, "backoff_base"),
    (FetchConfig, "backoff_max"),
    (SourceConfig, "interval"),
    (OutputConfig, "max_age"),
    (RelatedConfig, "window"),
    (RelatedConfig, "recency_half_life"),
}
# A bare number below these seconds (bytes) is a unit left out ("max_age: 7" meant a week, not
# seven seconds; "interval: 30" half an hour, not a request every 30 seconds): refused,
# with the unit meant; "7s" says seconds are meant.
_BARE_FLOORS = {
    (FetchConfig, "interval"): (60, "m"),
    (SourceConfig, "interval"): (60, "m"),
    (FetchConfig, "backoff_base"): (60, "m"),
    (FetchConfig, "backoff_max"): (60, "h"),
    (OutputConfig, "max_age"): (3600, "d"),
    (RelatedConfig, "window"): (3600, "d"),
    (RelatedConfig, "recency_half_life"): (3600, "d"),
    (FetchConfig, "max_body_bytes"): (1024, "MB"),  # "10": 10MB meant, every feed refused
}
_UNIT_NAMES = {"m": "minutes", "h": "hours", "d": "days"}
# Whole days, which may be written as durations of days or weeks too ("90d", "12w").
_DAYS = {(StorageConfig, "retention_days")}
# Deadlines in seconds (7.5 is one), which may be written as durations too ("30s").
_TIMEOUTS = {(FetchConfig, "timeout"), (SourceConfig, "timeout")}
# Integer bytes that may be written as "512KB", "10MB", "1GiB".
_SIZES = {(FetchConfig, "max_body_bytes")}
# Numbers that must be > 0 (every duration and size too); every other number >= 0.
_POSITIVE = (
    _DURATIONS
    | _SIZES
    | {
        (FetchConfig, "timeout"),
        (FetchConfig, "concurrency"),
        (FetchConfig, "per_host"),
        (StorageConfig, "retention_days"),
        (SourceConfig, "timeout"),
        (OutputConfig, "max_entries"),
    }
)
# Set by the loader, never written in the file.
_COMPUTED = {
    (Config, "path"),
    (Config, "held"),
    (Config, "entry_problems"),
    (Config, "file_order"),
    (Config, "withheld"),
}
_SOURCE_KEYS = [f.name for f in dataclasses.fields(SourceConfig)]
# What to suggest when a required key is missing.
_EXAMPLES = {
    (SiteConfig, "title"): '"Евразия24"',
    (SiteConfig, "link"): "https://eurasia24.media/",
    (Config, "site"): "{title: ..., link: https://...}",
    (Config, "sources"): "a list of {id: ..., name: ..., url: ...}",
    (SourceConfig, "id"): "tengrinews",
    (SourceConfig, "name"): "Tengrinews",
    (SourceConfig, "url"): "https://tengrinews.kz/news.rss",
    (OutputConfig, "name"): "all",
}

_SOURCE_ID = re.compile(r"[a-z0-9][a-z0-9._-]*")
_SCHEME_WITHOUT_COLON = re.compile(r"(https?)//", re.IGNORECASE)
# A language tag: ISO 639 (two or three letters; "kz" is read as Kazakh), then subtags.
_LANGUAGE = re.compile(r"[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*")
# What editors write instead of the code, in the languages of our sources.
_LANGUAGE_NAMES = {
    **dict.fromkeys(
        ["казахский", "казахский язык", "қазақ", "қазақша", "қазақ тілі", "kazakh", "qazaq"],
        "kk",
    ),
    **dict.fromkeys(["русский", "русский язык", "орысша", "орыс тілі", "russian", "рус"], "ru"),
    **dict.fromkeys(["английский", "английский язык", "ағылшынша", "english", "англ"], "en"),
}
# "key: value" (a list item's first key too), as _value_advice reads a line.
_KEY_VALUE_LINE = re.compile(r"\s*(?:-\s+)?([^\s'\"#\[{][^:#]*?)\s*:\s+(\S.*?)\s*")
_MARKUP_STARTS = frozenset("@`%*&!|>")
_FLOW_MAPPING_LINE = re.compile(r"(\s*(?:-\s+)?(?:[^\s'\"#{][^:#{]*:\s+)?)\{(.*)\}\s*")
_QUOTE_MARKS = "\"'`“”„‟«»‘’‚‛‹›"
_OUTPUT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_PLACEHOLDER = re.compile(r"\{(\w*)\}")
_PER = ("source", "tag")
_PER_PLACEHOLDERS = {"source": ("id", "name"), "tag": ("tag",)}
_KINDS = ("source", "commentary")
_PARSERS = ("auto", "feedparser")  # aggregator.parse.PARSERS
_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])", re.IGNORECASE)
_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*(?:([kmgt])(?:i?b)?|b)?", re.IGNORECASE)
_SIZE_UNITS = {None: 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}

_IPV6_FIX = "write an IPv6 address in matching brackets, e.g. 'http://[::1]:8080/feed'"
_DURATION_FIX = 'write seconds (90) or a duration like "90s", "30m", "2h", "7d"'
_SIZE_FIX = 'write bytes (1048576) or a size like "512KB", "10MB", "1GiB"'


class _Invalid:
    """Stands in for a value that failed validation (its problem is already recorded).

    Conversion carries on past bad values, so that checks across the whole file
    (duplicate ids, unknown source ids in outputs) still run and every problem is
    reported at once; such checks skip anything that is _INVALID.
    """

    def __repr__(self) -> str:
        return "<invalid>"


_INVALID: typing.Any = _Invalid()


class _Problems:
    """Collects every problem in one file, each with its key path and line."""

    def __init__(self, filename: str, lines: dict[_KeyPath, int], raw: dict[_KeyPath, str]):
        self.filename = filename
        self.lines = lines
        self.raw = raw  # the scalar as written, for "put it in quotes" advice
        self.found: list[tuple[int, str, _KeyPath]] = []
        self.fatal = False  # a problem that no source's entry may hold alone

    def add(self, path: _KeyPath, problem: str, fix: str = "", *, line: int | None = None) -> None:
        line = line or self.line(path)
        where = f"{self.filename}:{line}" if line else self.filename
        key = _format_path(path)
        message = f"{where}: {key}: {problem}" if key else f"{where}: {problem}"
        if fix:
            message += f"; {fix}"
        self.found.append((line or 0, message, path))

    def line(self, path: _KeyPath) -> int | None:
        # A key that is missing or was defaulted has no line: use its parent's.
        while True:
            if path in self.lines:
                return self.lines[path]
            if not path:
                return None
            path = path[:-1]

    def messages(self) -> list[str]:
        # Stable sort: top to bottom, and in check order within a line.
        return [m for _, m, _ in sorted(self.found, key=lambda f: f[0])]

    def by_source(self, sources: Sequence[SourceConfig]) -> list[EntryProblem]:
        """Each problem as the source whose entry has it, in :meth:`messages`' order; only
        when every problem is in a source's entry (:meth:`broken_sources`)."""
        return [
            EntryProblem(sources[path[1]].id, self.filename, m.removeprefix(self.filename))  # type: ignore[index]
            for _, m, path in sorted(self.found, key=lambda f: f[0])
        ]

    def raise_if_any(self) -> None:
        if self.found:
            raise ConfigError("\n".join(self.messages()))

    def unsure_house(self, broken: set[int]) -> dict[int, _KeyPath]:
        """Of the ``broken`` sources, those with a problem in their house: key (its value,
        or a key misspelt for it: ``hous:``, ``House:``), with that key's path."""
        unsure: dict[int, _KeyPath] = {}
        for _, _, path in self.found:
            if len(path) > 2 and path[0] == "sources" and path[1] in broken:
                key = path[2]
                if key == "house" or (
                    isinstance(key, str)
                    and difflib.get_close_matches(key.lower(), _SOURCE_KEYS, n=1) == ["house"]
                ):
                    unsure.setdefault(path[1], path)  # type: ignore[arg-type]
        return unsure

    def broken_sources(self, sources: Sequence[SourceConfig]) -> set[int] | None:
        """The positions of the sources whose own entries have every problem found, or
        None when a problem is elsewhere (or in an entry whose id cannot be read)."""
        if self.fatal:
            return None
        broken = set()
        for _, _, path in self.found:
            if len(path) < 2 or path[0] != "sources" or not isinstance(path[1], int):
                return None
            i = path[1]
            if i >= len(sources) or not _valid(sources[i]) or not _valid(sources[i].id):
                return None
            broken.add(i)
        return broken


def load_config(
    path: str | os.PathLike, *, require_sources: bool = True, hold_broken_sources: bool = False
) -> Config:
    """Read and validate a feeds.yaml file.

    Every problem in the file is reported at once, in one :class:`ConfigError`
    whose message has one line per problem: file, line, key path (``sources[3].url``),
    what is wrong and what to write instead.  Bad input never produces a traceback.

    Defaults filled in by the loader, beyond the dataclass defaults:

    * ``Config.path`` is the absolute path of the file; relative paths in the file
      (source paths, ``storage.path``, ``publish.dir``, ``house.commentary_dir``)
      are kept as written — resolve them with :func:`resolve_path`;
    * ``house.name`` defaults to ``site.house``;
    * a source's ``timezone`` defaults to ``fetch.timezone``, else ``site.timezone``;
    * if ``outputs`` is absent (or empty), there are two outputs:
      ``{name: all, title: <site.title>, description: <site.description>}`` carrying
      everything, and ``{name: commentary, kinds: [commentary]}``.

    ``require_sources=False`` accepts ``sources: []`` (``aggregator add`` starts so).

    ``hold_broken_sources=True`` (the commands cron runs): when every problem is in the
    entry of a source whose id can be read, those sources are left out of
    ``Config.sources`` and kept in ``Config.held`` (what of them reads well; their
    stored items stay published), with the problems in ``Config.entry_problems``,
    instead of failing the whole file.
    """
    filename = os.fspath(path)
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        # A relative path says little where the current directory is not the one the
        # user thinks (cron starts in the home directory).
        where = filename if os.path.isabs(filename) else os.path.abspath(filename)
        raise ConfigError(
            f"{where}: file not found; check the path (--config, $AGGREGATOR_CONFIG), "
            "or copy examples/feeds.yaml to start"
        ) from None
    except IsADirectoryError:
        raise ConfigError(
            f"{filename}: is a directory; give the path of a feeds.yaml file"
        ) from None
    except OSError as e:
        raise ConfigError(
            f"{filename}: cannot read: {e.strerror or e}; "
            "make it readable by the user running aggregator"
        ) from None
    resolved = str(Path(path).resolve())
    cache = _LoadedConfigs(resolved, data, require_sources)
    cached = cache.get()
    if cached is not None:
        return cached
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        column = e.start - (data.rfind(b"\n", 0, e.start) + 1) + 1
        raise ConfigError(
            f"{filename}:{line}:{column}: not UTF-8 (byte 0x{data[e.start]:02x}); "
            "save the file as UTF-8"
        ) from None

    document, lines, raw, duplicates = _parse_yaml(text, filename)
    problems = _Problems(filename, lines, raw)
    if document is None:
        problems.add((), "the file is empty", "it needs at least 'site:' and 'sources:'")
    elif not isinstance(document, dict):
        problems.add(
            (),
            f"expected a mapping of keys at the top level, found {_describe(document)}",
            "start with 'site:' and 'sources:'",
        )
    problems.raise_if_any()
    _add_duplicate_keys(duplicates, document, problems)

    config = _build_dataclass(Config, document, (), problems)
    config = _fill_defaults(config, document)
    _check_config(config, problems, require_sources=require_sources)
    _check_publish_dir(config, Path(resolved), problems)
    broken = problems.broken_sources(config.sources) if hold_broken_sources else None
    if broken:
        # An id two entries give is held whole: which feed it names is the editor's
        # to say (a copied block whose id was left: the new feed's items would be
        # stored, and published, as the old source's).
        ids = {config.sources[i].id for i in broken}
        broken |= {i for i, s in enumerate(config.sources) if _valid(s) and s.id in ids}
    if broken is None:
        problems.raise_if_any()
    config = dataclasses.replace(config, path=resolved)
    if not broken:
        cache.put(config)  # a config with problems is validated again on every load
        return config
    unsure = problems.unsure_house(broken)
    for i, key in sorted(unsure.items()):
        problems.add(
            ("sources", i, "house"),
            "until it reads true or false, this source's stored items are published "
            "nowhere and matched as no agency's report (they may be the house's posts or "
            "an agency's)",
            line=problems.line(key),
        )
    return dataclasses.replace(
        config,
        sources=tuple(s for i, s in enumerate(config.sources) if i not in broken),
        held=_held(config.sources, broken, unsure),
        file_order=tuple(dict.fromkeys(s.id for s in config.sources)),
        entry_problems=tuple(problems.by_source(config.sources)),
        withheld=frozenset(config.sources[i].id for i in unsure),
    )


def _held(
    sources: Sequence[SourceConfig], broken: set[int], unsure: Collection[int]
) -> tuple[SourceConfig, ...]:
    """The broken sources, each once (the first entry of an id two give), with what of
    its entry reads well (the rest as its defaults); those ``unsure`` (of their house:
    key) as house feeds (see ``Config.withheld``)."""
    taken: set[str] = set()
    held = []
    for i in sorted(broken):
        source = sources[i]
        if source.id in taken:
            continue
        taken.add(source.id)
        defaults = {
            f.name: getattr(SourceConfig(id=source.id, url="", name=source.id), f.name)
            for f in dataclasses.fields(SourceConfig)
            if not _valid(getattr(source, f.name))
        }
        if i in unsure:
            defaults["house"] = True
        held.append(dataclasses.replace(source, **defaults))
    return tuple(held)


class _LoadedConfigs:
    """Configs validated before, kept between runs: cron loads the same file every few
    minutes, and validating a thousand sources costs more than the rest of a run that
    finds nothing new (~0.2 s against ~10 ms to read the result back).

    One pickle per config file under ``$AGGREGATOR_CACHE_DIR`` (default
    ``$XDG_CACHE_HOME/aggregator``, else ``~/.cache/aggregator``; set but empty: no
    cache), used only when it was made from the very same bytes at the same path by
    the same loader (this file's size and mtime: an upgrade rewrites it; the Python)
    and is the user's own.  Only configs that loaded without a problem are kept; a
    cache that cannot be read or written only means the file is validated again.
    """

    FORMAT = b"1"

    def __init__(self, resolved: str, data: bytes, require_sources: bool) -> None:
        self.file: Path | None = None
        directory = _cache_dir()
        if directory is None:
            return
        name = hashlib.sha256(resolved.encode("utf-8", "surrogatepass")).hexdigest()[:24]
        self.file = directory / f"config-{name}.pickle"
        loader = Path(__file__).stat()
        key = hashlib.sha256(self.FORMAT)
        for part in (resolved, require_sources, sys.version, loader.st_size, loader.st_mtime_ns):
            key.update(f"\0{part}".encode("utf-8", "surrogatepass"))
        key.update(b"\0" + data)
        self.key = key.digest()

    def get(self) -> Config | None:
        if self.file is None:
            return None
        with contextlib.suppress(Exception):  # any damage: validate the file again
            with open(self.file, "rb") as f:
                if os.fstat(f.fileno()).st_uid != os.geteuid():
                    return None  # unpickling runs code: only our own files
                if f.read(len(self.key)) != self.key:
                    return None
                config = pickle.load(f)
            if isinstance(config, Config):
                return config
        return None

    def put(self, config: Config) -> None:
        if self.file is None:
            return
        with contextlib.suppress(OSError, pickle.PicklingError):
            self.file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd, temp = tempfile.mkstemp(dir=self.file.parent, prefix=".tmp-config-")
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(self.key)
                    pickle.dump(config, f, protocol=pickle.HIGHEST_PROTOCOL)
                os.replace(temp, self.file)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(temp)
                raise


def _cache_dir() -> Path | None:
    configured = os.environ.get("AGGREGATOR_CACHE_DIR")
    if configured is not None:
        return Path(configured) if configured else None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    if not os.path.isabs(base):
        return None  # no usable home (cron as a system user): no cache
    return Path(base) / "aggregator"


def config_dir(config: Config) -> Path:
    """The directory relative paths in the config are relative to: the config file's,
    or the current directory for a Config built in code (``config.path == ""``)."""
    return Path(config.path).parent if config.path else Path.cwd()


def resolve_path(config: Config, relative: str | os.PathLike) -> Path:
    """Resolve a path from the config file against the file's directory.

    Absolute paths (and ``~/...``) are returned as they are; for a Config built in
    code (``config.path == ""``) the current directory is the base.
    """
    p = Path(relative).expanduser()
    if p.is_absolute():
        return p
    return config_dir(config) / p


# --- YAML --------------------------------------------------------------------


def _parse_yaml(
    text: str, filename: str
) -> tuple[typing.Any, dict[_KeyPath, int], dict, list[_DuplicateKey]]:
    import yaml  # here: a config read back from the cache needs no YAML

    # libyaml's loader when PyYAML has it: ~9x faster on a config of 1,000 sources.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)
    try:
        node = loader.get_single_node()
        # Before constructing (merges expand too); without a '*' there is no alias.
        if node is not None and "*" in text:
            _check_expansion(node, filename)
        document = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as e:
        raise ConfigError(_yaml_error_message(e, filename, text)) from None
    except ValueError:
        # A date no calendar has ("2026-13-07") is PyYAML's ValueError, not a YAML error.
        path, line, value = _impossible_date(node)
        key = f" {_format_path(path)}:" if path else ""
        raise ConfigError(
            f"{filename}:{line}:{key} '{value}' reads as a date, but there is no such day; "
            f'if it is text, put it in quotes: "{value}"'
        ) from None
    except yaml.YAMLError as e:
        raise ConfigError(f"{filename}: YAML error: {e}") from None
    finally:
        loader.dispose()
    lines: dict[_KeyPath, int] = {}
    raw: dict[_KeyPath, str] = {}
    duplicates: list[_DuplicateKey] = []
    if node is not None:
        _index_nodes(node, (), lines, raw, duplicates, set())
    return document, lines, raw, duplicates


def _impossible_date(node, path: _KeyPath = ()) -> tuple[_KeyPath, int, str]:
    """(key path, line, text) of the first scalar under ``node`` that YAML reads as a
    date but no calendar has."""
    import yaml

    pending = [(node, path)]
    seen: set[int] = set()
    while pending:
        node, path = pending.pop(0)
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            pending += [(value, (*path, str(key.value))) for key, value in node.value]
        elif isinstance(node, yaml.SequenceNode):
            pending += [(value, (*path, i)) for i, value in enumerate(node.value)]
        elif node.tag == "tag:yaml.org,2002:timestamp":
            try:
                yaml.SafeLoader("").construct_yaml_timestamp(node)
            except ValueError:
                return path, node.start_mark.line + 1, node.value
    return (), 1, "?"


@dataclass(frozen=True)
class _DuplicateKey:
    """A key given twice in one mapping: plain YAML would silently keep the last one."""

    path: _KeyPath
    first: int  # its lines
    again: int
    same_value: bool  # both times the same scalar


def _add_duplicate_keys(
    duplicates: Sequence[_DuplicateKey], document: typing.Any, problems: _Problems
) -> None:
    """Each duplicate key as a problem where it is: one in a source's entry costs that
    source alone (load_config's hold_broken_sources), as any other mistake there does;
    but an ``id`` given twice, two ways, leaves the source's id unknown: fatal.  That
    is mostly a new source's block whose "- " was left out, so it says so."""
    entries = document.get("sources") if isinstance(document, dict) else None
    for duplicate in duplicates:
        path = duplicate.path
        problem, fix = f"duplicate key (first given at line {duplicate.first})", "keep only one"
        if (
            len(path) > 2
            and path[0] == "sources"
            and isinstance(path[1], int)
            and isinstance(entries, list)
            and isinstance(entries[path[1]], dict)
        ):
            # The entry's id as first given (YAML keeps the last one).
            source_id = problems.raw.get(("sources", path[1], "id"))
            if path[2:] == ("id",) and not duplicate.same_value:
                problems.fatal = True
                problem = (
                    f"a second id, '{entries[path[1]].get('id')}', in the entry of source "
                    f"'{source_id}' (line {duplicate.first})"
                )
                fix = (
                    f"if line {duplicate.again} starts another source, put '- ' before it; "
                    "else keep one id"
                )
            elif source_id:
                problem = (
                    f"duplicate key in the entry of source '{source_id}' (first given at "
                    f"line {duplicate.first})"
                )
        problems.add(path, problem, fix, line=duplicate.again)


def _yaml_error_message(e: yaml.MarkedYAMLError, filename: str, text: str) -> str:
    mark = e.problem_mark or e.context_mark
    where = f"{filename}:{mark.line + 1}:{mark.column + 1}" if mark else filename
    # A tab in the indentation, which an editor cannot see (PyYAML says "found character
    # that cannot start any token" for one that starts a line).
    lines = text.splitlines()
    line = lines[mark.line] if mark is not None and mark.line < len(lines) else ""
    indentation = line[: len(line) - len(line.lstrip())]
    if mark is not None and "\t" in indentation[: mark.column + 1]:
        return (
            f"{where}: YAML syntax error: a tab character; YAML indents with spaces only: "
            f"replace the tab on line {mark.line + 1} with spaces"
        )
    advice = _value_advice(line) if mark is not None else None
    if advice:
        return f"{where}: YAML syntax error: {advice}"
    what = e.problem or e.context or "invalid YAML"
    if e.context and e.problem and e.context_mark and e.context_mark is not mark:
        what += f" ({e.context} at line {e.context_mark.line + 1})"
    return (
        f"{where}: YAML syntax error: {what}; check the indentation there, and quote "
        "values that contain ': ', ' #', or start with a special character"
    )


def _value_advice(line: str) -> str | None:
    """What is wrong with the value on a ``key: value`` line YAML could not read, where
    it is one of an editor's usual mistakes: a name in quotes with more after them
    ("Қазақстан" газеті), an apostrophe inside single quotes, a value starting with a
    character YAML reads as markup (*, @, `...), or one with ': ' inside; or, in a
    mapping written on one line ({name: ..., per: ...}), a value with braces in it
    ("src-{id}")."""
    flow = _FLOW_MAPPING_LINE.fullmatch(line)
    if flow is not None:
        return _flow_advice(flow[1], flow[2])
    m = _KEY_VALUE_LINE.fullmatch(line)
    if m is None:
        return None
    key, value = m.groups()
    if " #" in value:
        return None  # a comment, or a '#' in the text: no telling which
    if value[0] in "'\"":
        end = _closing_quote(value)
        if end is None or end == len(value) - 1:
            return None
        text = value[1:-1] if len(value) > 1 and value[-1] == value[0] else value
        return (
            f"the value of '{key}' is quoted only in part ({value}); quote all of it: "
            f"{key}: {_quoted(text)}"
        )
    if value[0] in _MARKUP_STARTS:
        return (
            f"the value of '{key}' starts with '{value[0]}', which YAML reads as markup, not "
            f"text; if it is text, put it in quotes: {key}: {_quoted(value)}"
        )
    if ": " in value:
        return (
            f"the value of '{key}' contains ': ', which YAML reads as another key; put it "
            f"in quotes: {key}: {_quoted(value)}"
        )
    return None


def _flow_advice(before: str, inner: str) -> str | None:
    """The advice for ``{inner}`` (after ``before``: "- " or "key: "), a mapping on one
    line YAML could not read, where a value has braces or brackets in it: YAML reads them
    as another mapping or list ("{name: src-{id}, per: source}")."""
    pairs = [part.partition(": ") for part in inner.split(", ")]
    if not any(sep and value[:1] not in "'\"" and any(c in value for c in "{}[]")
               for _, sep, value in pairs):  # fmt: skip
        return None
    fixed = ", ".join(
        key + sep + (_quoted(value) if sep and any(c in value for c in "{}[]") else value)
        for key, sep, value in pairs
    )
    return (
        "a value in a '{...}' mapping has braces in it, which YAML reads as another "
        f"mapping; put it in quotes: {before.strip()} {{{fixed}}}".replace("  ", " ")
    )


def _closing_quote(value: str) -> int | None:
    """Where the quotation that opens ``value`` ends (YAML's escapes: \\" in double
    quotes, '' in single quotes), or None where it does not."""
    quote, i = value[0], 1
    while i < len(value):
        if quote == '"' and value[i] == "\\":
            i += 2
            continue
        if value[i] == quote:
            if quote == "'" and value[i + 1 : i + 2] == "'":
                i += 2
                continue
            return i
        i += 1
    return None


def _quoted(text: str) -> str:
    """``text`` as a YAML scalar in quotes: double, else single where it has a '"'."""
    if '"' not in text:
        return '"' + text.replace("\\", "\\\\") + '"'
    return "'" + text.replace("'", "''") + "'"


# Values a document may hold once its aliases are expanded.  A real feeds.yaml has a
# few thousand even with hundreds of sources; a "billion laughs" document has 10^9.
MAX_EXPANDED_VALUES = 200_000


def _check_expansion(root: yaml.Node, filename: str) -> None:
    """Refuse a document whose aliases (``*name``, ``<<: *name``) expand it past
    MAX_EXPANDED_VALUES, naming the line of the anchor that makes it so large.

    Each node is sized once (aliases share their node), so this takes time in
    proportion to the file, not to its expansion.
    """
    import yaml

    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()  # being sized: meeting one again is a cycle
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if id(node) in sizes:
            continue
        if not children_done and id(node) in open_nodes:
            raise ConfigError(
                f"{filename}:{node.start_mark.line + 1}: this value contains an alias to "
                "itself (*name inside its own &name); write the values out instead"
            )
        if isinstance(node, yaml.ScalarNode):
            sizes[id(node)] = 1
            continue
        children = (
            [n for pair in node.value for n in pair]
            if isinstance(node, yaml.MappingNode)
            else list(node.value)
        )
        if not children_done:
            open_nodes.add(id(node))
            stack.append((node, True))
            stack.extend((child, False) for child in children if id(child) not in sizes)
            continue
        open_nodes.discard(id(node))
        size = 1 + sum(sizes[id(child)] for child in children)
        if size > MAX_EXPANDED_VALUES:
            line = node.start_mark.line + 1
            raise ConfigError(
                f"{filename}:{line}: this value expands through its aliases (*name) to more "
                f"than {MAX_EXPANDED_VALUES:,} values; refusing to read the file; "
                "write the values out, or use fewer nested aliases"
            )
        sizes[id(node)] = size


def _index_nodes(node, path, lines, raw, duplicates, visited: set[int]) -> None:
    """Record the line of every key / list item, and the text of every scalar.

    A node reached again through an alias is not walked again: the keys under the
    alias take the line of the alias (see _Problems.line).
    """
    import yaml

    if id(node) in visited:
        return
    visited.add(id(node))
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, tuple[int, yaml.Node]] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                continue
            key = key_node.value
            sub = (*path, key)
            line = key_node.start_mark.line + 1
            if key in seen and key != "<<":
                first, first_value = seen[key]
                same = (
                    isinstance(value_node, yaml.ScalarNode)
                    and isinstance(first_value, yaml.ScalarNode)
                    and value_node.value == first_value.value
                )
                duplicates.append(_DuplicateKey(sub, first, line, same))
                continue
            seen[key] = (line, value_node)
            lines[sub] = line
            _index_nodes(value_node, sub, lines, raw, duplicates, visited)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines[(*path, i)] = item.start_mark.line + 1
            _index_nodes(item, (*path, i), lines, raw, duplicates, visited)
    elif isinstance(node, yaml.ScalarNode):
        raw[path] = node.value


def _format_path(path: _KeyPath) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif re.fullmatch(r"[\w-]+", part):
            out += f".{part}" if out else part
        else:
            out += f"[{part!r}]"
    return out


# --- type-driven conversion --------------------------------------------------


@functools.cache
def _type_hints(cls: type) -> dict[str, typing.Any]:
    # Once per class, not once per source: resolving the hints is most of the cost.
    return typing.get_type_hints(cls)


# A key of a source's entry that is an HTTP header's name ("User-Agent", "Cookie"): one
# indented as the entry's keys, not under headers:.
_HEADER_NAME = re.compile(
    r"[A-Z][a-z]+(?:-[A-Z][a-z]*)+|(?i:cookie|authorization|referer|accept|x-[a-z-]+)"
)


def _build_dataclass(cls: type, value: typing.Any, path: _KeyPath, problems: _Problems):
    if value is None:
        value = {}  # an empty section ("fetch:" with everything commented out)
    if not isinstance(value, dict):
        problems.add(
            path,
            f"expected a mapping (key: value lines), found {_describe(value)}",
            _mapping_fix(cls),
        )
        return _INVALID
    hints = _type_hints(cls)
    fields = [f for f in dataclasses.fields(cls) if (cls, f.name) not in _COMPUTED]
    names = [f.name for f in fields]
    for key in value:
        if not isinstance(key, str):
            problems.add(path, f"key {key!r} is not a name", f"valid keys here: {', '.join(names)}")
        elif key not in names:
            close = difflib.get_close_matches(key, names, n=1, cutoff=0.6)
            fix = f"did you mean '{close[0]}'?" if close else f"valid keys here: {', '.join(names)}"
            if cls is SourceConfig and _HEADER_NAME.fullmatch(key):
                fix = f"a request header goes under 'headers:', indented: headers: {{{key}: ...}}"
            problems.add((*path, key), "unknown key", fix)
    kwargs = {}
    for f in fields:
        if f.name in value:
            kwargs[f.name] = _convert(
                value[f.name], hints[f.name], (*path, f.name), problems, cls, f.name
            )
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            example = _EXAMPLES.get((cls, f.name), "...")
            if (cls, f.name) == (SourceConfig, "id") and isinstance(value.get("url"), str):
                from aggregator.text.slugs import source_id_for

                # As `aggregator add` would name it: from its host, else its name.
                name = value.get("name")
                example = source_id_for(name if isinstance(name, str) else "", value["url"], ())
            problems.add(
                path, f"missing required key '{f.name}'", f"add e.g. '{f.name}: {example}'"
            )
            kwargs[f.name] = _INVALID
    # Built even when some fields are _INVALID (see _Invalid); never returned then.
    return cls(**kwargs)


def _convert(value, hint, path: _KeyPath, problems: _Problems, owner: type, name: str):
    if (owner, name) in _DURATIONS or (owner, name) in _SIZES:
        if value is None and _is_optional(hint):
            return None
        parse, fix = (
            (_parse_duration, _DURATION_FIX)
            if (owner, name) in _DURATIONS
            else (_parse_size, _SIZE_FIX)
        )
        result = parse(value)
        if result is None:
            kind = "a duration" if parse is _parse_duration else "a size"
            problems.add(path, f"expected {kind}, found {_describe(value)}", fix)
            return _INVALID
        floor, unit = _BARE_FLOORS.get((owner, name), (0, ""))
        if 0 < result < floor and re.fullmatch(r"\s*\d+\s*", str(value)):
            if parse is _parse_size:  # no feed fits in under a kilobyte: never meant
                said, fix = f"{result} bytes", f"write '{result}MB' (or '{result}KB')"
            else:
                said = f"{result} seconds"
                fix = (
                    f"write '{result}{unit}' for {_UNIT_NAMES[unit]} (or another unit: "
                    f"'{result}h', '{result}d'), or '{result}s' if seconds are meant"
                )
            problems.add(path, f"{value} is {said}", fix)
            return _INVALID
        return _check_range(result, path, problems, owner, name)

    if dataclasses.is_dataclass(hint):
        return _build_dataclass(hint, value, path, problems)

    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        (inner,) = [a for a in args if a is not type(None)]  # only X | None is used
        return _convert(value, inner, path, problems, owner, name)

    if origin is tuple:
        item_hint = args[0]
        if value is None:
            return ()
        if not isinstance(value, list):
            problems.add(
                path,
                f"expected {_type_name(hint)}, found {_describe(value)}",
                _list_fix(value, item_hint),
            )
            return _INVALID
        return tuple(
            _convert(v, item_hint, (*path, i), problems, owner, name) for i, v in enumerate(value)
        )

    if origin is dict:
        if value is None:
            return {}
        if not isinstance(value, dict):
            problems.add(
                path,
                f"expected {_type_name(hint)}, found {_describe(value)}",
                "write one 'key: value' per line, indented under it",
            )
            return _INVALID
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                problems.add(path, f"key {k!r} is not text", f"put it in quotes: '{k}'")
            elif not isinstance(v, str):
                problems.add(
                    (*path, k),
                    f"expected a string, found {_describe(v)}",
                    _quote_fix(problems, (*path, k), v),
                )
            else:
                out[k] = v
        return out

    if hint is bool:
        if isinstance(value, bool):
            return value
        meant = _QUOTED_BOOLS.get(value.strip().lower()) if isinstance(value, str) else None
        if meant is not None:  # house: "true": YAML reads text in quotes as text
            problems.add(
                path,
                f"expected true or false, found the text {_describe(value)} (in quotes)",
                f"write {meant}, without quotes",
            )
            return _INVALID
        problems.add(
            path, f"expected true or false, found {_describe(value)}", "write true or false"
        )
        return _INVALID

    if hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return _check_range(value, path, problems, owner, name)
        if (owner, name) in _DAYS and isinstance(value, str) and not value.strip().isdigit():
            # "90d", "12w", as every duration may be written
            seconds = _parse_duration(value)
            if seconds is not None and seconds % 86400 == 0:
                return _check_range(seconds // 86400, path, problems, owner, name)
            problems.add(
                path,
                f"expected a number of days, found {_describe(value)}",
                'write days (90) or a duration in days or weeks like "90d", "12w"',
            )
            return _INVALID
        problems.add(
            path,
            f"expected a whole number, found {_describe(value)}",
            "write digits without quotes, e.g. 5",
        )
        return _INVALID

    if hint is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return _check_range(float(value), path, problems, owner, name)
        if (owner, name) in _TIMEOUTS:  # "30s", "2m", as every other duration is written
            seconds = _parse_duration(value) if isinstance(value, str) else None
            if seconds is not None:
                return _check_range(float(seconds), path, problems, owner, name)
            fix = 'write seconds (30 or 7.5) or a duration like "30s", "2m"'
        else:  # a weight or a score (related.*)
            fix = "write a number without quotes, e.g. 0.5"
        problems.add(path, f"expected a number, found {_describe(value)}", fix)
        return _INVALID

    if hint is str:
        if isinstance(value, str):
            check = _STRING_CHECKS.get((owner, name))
            if check is not None and not check(value, path, problems):
                return _INVALID
            return value
        problems.add(
            path, f"expected a string, found {_describe(value)}", _quote_fix(problems, path, value)
        )
        return _INVALID

    raise TypeError(f"config loader: unsupported type hint {hint!r} for {owner.__name__}.{name}")


def _is_optional(hint) -> bool:
    return typing.get_origin(hint) in (typing.Union, types.UnionType) and type(
        None
    ) in typing.get_args(hint)


def _check_range(value, path, problems, owner, name):
    if (owner, name) in _POSITIVE:
        if value <= 0:
            problems.add(path, f"must be greater than 0, found {value}", "write a positive value")
            return _INVALID
    elif value < 0:
        problems.add(path, f"must not be negative, found {value}", "write 0 or more")
        return _INVALID
    return value


def _parse_duration(value) -> int | None:
    """Seconds from 90, "90", "90s", "30m", "2h", "7d", "1w" or "1h30m"; None if malformed."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if not isinstance(value, str):
        return None
    text = value.strip()
    if re.fullmatch(r"\d+", text):
        return int(text)
    parts = _DURATION.findall(text)
    if not parts or _DURATION.sub("", text).strip():
        return None
    return round(sum(float(n) * _DURATION_UNITS[unit.lower()] for n, unit in parts))


def _parse_size(value) -> int | None:
    """Bytes from 1048576, "512KB", "10MB", "10 MiB", "1G"; None if malformed.

    KB/MB/GB are taken as 1024-based, like KiB/MiB/GiB: the unit people write in
    a config means "about that much", and 10MB is 10 * 1024 * 1024 in our defaults.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if not isinstance(value, str):
        return None
    m = _SIZE.fullmatch(value.strip())
    if not m:
        return None
    unit = m.group(2).lower() if m.group(2) else None
    return round(float(m.group(1)) * _SIZE_UNITS[unit])


def _type_name(hint) -> str:
    if typing.get_origin(hint) is tuple:
        inner = typing.get_args(hint)[0]
        if dataclasses.is_dataclass(inner):
            return "a list of mappings"
        return f"a list of {_type_name(inner)[2:]}s"  # "a string" -> "a list of strings"
    if typing.get_origin(hint) is dict:
        return "a mapping of names to strings"
    return {str: "a string", int: "a whole number", float: "a number", bool: "true or false"}.get(
        hint, getattr(hint, "__name__", str(hint))
    )


# What YAML reads as true or false without quotes, as editors quote it.
_QUOTED_BOOLS = {
    **dict.fromkeys(("true", "yes", "on", "y"), "true"),
    **dict.fromkeys(("false", "no", "off", "n"), "false"),
}


def _describe(value) -> str:
    if value is None:
        return "an empty value"
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        shown = value if len(value) <= 60 else value[:57] + "..."
        return f"'{shown}'"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"{value!r} (a {type(value).__name__})"


def _quote_fix(problems: _Problems, path: _KeyPath, value) -> str:
    if value is None:
        return "write a value, or '\"\"' for an empty string, or remove the key"
    if isinstance(value, list | dict):
        return "write a single value"
    # YAML reads no/yes/on/off as booleans and 2026-01-01 as a date: quote them.
    written = problems.raw.get(path, str(value))
    return f'put it in quotes: "{written}"'


def _list_fix(value, item_hint) -> str:
    if dataclasses.is_dataclass(item_hint):
        return "write one '- key: value' block per entry"
    if isinstance(value, str):
        return f"write a list: [{value}]"
    return "write a list: [a, b] or one '- item' per line"


def _mapping_fix(cls) -> str:
    names = [f.name for f in dataclasses.fields(cls) if (cls, f.name) not in _COMPUTED]
    return f"write 'key: value' lines indented under it (keys: {', '.join(names)})"


# --- per-value checks --------------------------------------------------------
# Each returns True if the value is fine, after recording any problem.


def _check_source_id(value: str, path, problems) -> bool:
    if _SOURCE_ID.fullmatch(value):
        return True
    from aggregator.text.slugs import slug

    written = slug(value)  # Cyrillic in Latin letters: Қазинформ -> qazinform
    fix = f"for example '{written}'" if written else "for example 'kazinform-ru'"
    problems.add(
        path,
        f"'{value}' is not a valid source id",
        f"use lowercase Latin letters, digits, '.', '_' and '-', starting with a letter or digit; {fix}",
    )
    return False


def _check_source_url(value: str, path, problems) -> bool:
    fix = "write an http(s):// URL with a host, a file:// URL, or a path to a local file"
    if not value.strip():
        problems.add(path, "is empty", fix)
        return False
    # Copied from a document or a chat: “https://…”, «https://…» (YAML keeps them).
    if value[0] in _QUOTE_MARKS or value[-1] in _QUOTE_MARKS:
        bare = value.strip(_QUOTE_MARKS + " ")
        problems.add(
            path,
            f"'{value}' has quotation marks around it, as a document or chat wrote it",
            f'write {bare}, without them (or in plain quotes: "{bare}")',
        )
        return False
    # Spaces inside a path are fine; around a value, or in a URL, they are a typo.
    if value != value.strip() or ("://" in value and any(c.isspace() for c in value)):
        problems.add(path, f"'{value}' contains spaces", "remove them, or write %20 inside a URL")
        return False
    if _looks_like_a_host(value, problems.filename):
        problems.add(
            path,
            f"'{value}' looks like a web address without its scheme",
            f"write 'https://{value}'",
        )
        return False
    m = re.match(r"([A-Za-z][A-Za-z0-9+.-]*):", value)
    if m is None or len(m.group(1)) == 1:  # no scheme, or a Windows drive letter: a path
        typo = _SCHEME_WITHOUT_COLON.match(value)
        if typo:  # "https//kapital.kz/rss" would be read as a local path
            problems.add(
                path,
                f"'{value}' looks like a web address without the ':' after {typo.group(1)}",
                f"write '{typo.group(1).lower()}://{value[typo.end() :]}'",
            )
            return False
        return True
    scheme = m.group(1).lower()
    if scheme == "file":
        if not value[5:].startswith("//"):
            problems.add(
                path,
                f"'{value}' is not a file:// URL",
                "write file:///absolute/path, or just the path",
            )
            return False
        return True
    if scheme == "feed":  # "feed://host/rss", as a browser or another reader links it
        from aggregator.text.urls import without_feed_scheme

        meant = without_feed_scheme(value)
        if meant != value:
            problems.add(
                path,
                f"'{value}' is a browser's link to a feed, not its address",
                f"write '{meant}'",
            )
            return False
    if scheme not in ("http", "https"):
        close = difflib.get_close_matches(scheme, ["http", "https", "file"], n=1, cutoff=0.5)
        hint = f"did you mean '{close[0]}'? " if close else ""
        problems.add(path, f"unsupported URL scheme '{scheme}:'", hint + fix)
        return False
    try:
        parts = urlsplit(value)
    except ValueError as e:  # "Invalid IPv6 URL": an unclosed or stray bracket
        problems.add(path, f"'{value}' is not a valid URL: {e}", _IPV6_FIX)
        return False
    try:
        host, _ = parts.hostname, parts.port
    except ValueError:
        problems.add(path, f"'{value}' has an invalid port", "write the host as host or host:port")
        return False
    if not value[len(scheme) + 1 :].startswith("//") or not host:
        # "https:/kapital.kz/rss", "https:kapital.kz/rss": a slash short, the host is there
        after = value[len(scheme) + 1 :]
        rest = after.lstrip("/")
        short = not after.startswith("//") and rest and not rest.startswith(("?", "#"))
        meant = f"{scheme}://{rest}" if short else None
        fix = f"write '{meant}'" if meant else f"write '{scheme}://host/path'"
        problems.add(path, f"'{value}' has no host name", fix)
        return False
    return True


def _looks_like_a_host(value: str, config_file: str) -> bool:
    """A web address without its https:// (text/urls), and no file of that name beside
    the config."""
    from aggregator.text.urls import looks_like_web_address

    return looks_like_web_address(value) and not (Path(config_file).parent / value).exists()


def _check_optional_http_url(value: str, path, problems) -> bool:
    return value == "" or _check_http_url(value, path, problems)


def _check_http_url(value: str, path, problems) -> bool:
    try:
        parts = urlsplit(value)
    except ValueError as e:
        problems.add(path, f"'{value}' is not a valid URL: {e}", _IPV6_FIX)
        return False
    if parts.scheme in ("http", "https") and parts.netloc:
        return True
    problems.add(
        path,
        f"'{value}' is not an http(s) URL",
        "write it in full, e.g. 'https://eurasia24.media/'",
    )
    return False


def _check_cidr(value: str, path, problems) -> bool:
    try:
        ipaddress.ip_network(value)
    except ValueError as e:
        try:
            fix = f"write '{ipaddress.ip_network(value, strict=False)}'"
        except ValueError:
            fix = "write a network like '10.0.0.0/8', '127.0.0.1' or 'fd00::/8'"
        problems.add(path, f"'{value}' is not a network address: {e}", fix)
        return False
    return True


def _check_regex(value: str, path, problems) -> bool:
    try:
        re.compile(value)
    except re.error as e:
        problems.add(
            path,
            f"'{value}' is not a valid regular expression: {e}",
            "fix the pattern; escape special characters like ( [ + ? with a backslash",
        )
        return False
    return True


def _check_choice(choices: tuple[str, ...]) -> Callable[[str, _KeyPath, _Problems], bool]:
    def check(value: str, path, problems) -> bool:
        if value in choices:
            return True
        close = difflib.get_close_matches(value, choices, n=1, cutoff=0.5)
        hint = f"did you mean '{close[0]}'? " if close else ""
        problems.add(path, f"'{value}' is not allowed", f"{hint}write one of: {', '.join(choices)}")
        return False

    return check


def _check_encoding(value: str, path, problems) -> bool:
    try:
        codecs.lookup(value)
    except LookupError:
        windows = value.lower().startswith("windows-") and _known_codec("cp" + value[8:])
        if not windows:
            close = _close_encoding(value)
            problems.add(
                path,
                f"'{value}' is not a character encoding this machine knows",
                (f"did you mean '{close}'? " if close else "")
                + "write a name like windows-1251, koi8-r, big5 or shift_jis, as "
                "`aggregator status` shows it",
            )
            return False
    return True


def _close_encoding(value: str) -> str | None:
    """The encoding ``value`` likely means: "win-1251", "win1251", "windows1251",
    "cp-1251" are windows-1251, "koi-8r" koi8-r; None if none is."""
    lower = value.lower()
    number = re.search(r"\d{3,4}", lower)
    if lower.startswith(("win", "cp")) and number and _known_codec(f"cp{number.group()}"):
        return f"windows-{number.group()}"
    koi = re.fullmatch(r"koi-?8-?([ru])", lower)
    return f"koi8-{koi[1]}" if koi else None


def _known_codec(name: str) -> bool:
    try:
        codecs.lookup(name)
    except LookupError:
        return False
    return True


def language_code(value: str | None) -> str | None:
    """``value`` as a language tag (BCP 47: ru, kk, en-GB): itself where it is one, the
    code of a language's name editors write ("казахский", "Russian"), else None."""
    if value is None:
        return None
    if _LANGUAGE.fullmatch(value.strip()):
        return value.strip()
    return _LANGUAGE_NAMES.get(" ".join(value.lower().split()))


def _check_language(value: str, path, problems) -> bool:
    """A language tag, what xml:lang and the outputs' language filters compare; a
    language's name is said with its code."""
    if _LANGUAGE.fullmatch(value.strip()):
        return True
    code = language_code(value)
    fix = f"write '{code}'" if code else "write a language code: ru, kk (Kazakh) or en, say"
    problems.add(path, f"'{value}' is not a language code", fix)
    return False


def _check_optional_language(value: str, path, problems) -> bool:
    return value == "" or _check_language(value, path, problems)


def _check_timezone(value: str, path, problems) -> bool:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        close = _close_zone(value)
        hint = f"did you mean '{close}'? " if close else ""
        if close and close.startswith("Etc/"):  # a fixed offset: rarely what a site keeps
            hint = f"a fixed offset is '{close}' (the sign inverted, as POSIX has it); "
        problems.add(
            path,
            f"'{value}' is not a time zone this machine knows",
            f'{hint}write an IANA name like "Asia/Almaty" or "Europe/Moscow"',
        )
        return False
    return True


def _check_optional_timezone(value: str, path, problems) -> bool:
    return not value or _check_timezone(value, path, problems)


# Cities (and a country, and zone abbreviations) people name that the IANA database
# files under another one: alone or after a region ("Asia/Astana", "Asia/Nur-Sultan").
# Kazakhstan has kept one time (UTC+5) since March 2024: Asia/Almaty names it.
_ZONE_CITIES = {
    "astana": "Asia/Almaty", "nur-sultan": "Asia/Almaty", "nursultan": "Asia/Almaty",
    "akmola": "Asia/Almaty", "kazakhstan": "Asia/Almaty", "almt": "Asia/Almaty",
    "msk": "Europe/Moscow", "kiev": "Europe/Kyiv",
}  # fmt: skip
_FIXED_OFFSET = re.compile(r"(?:UTC|GMT)?\s*([+-])0?(\d{1,2})(?::?00)?", re.IGNORECASE)


def _close_zone(value: str) -> str | None:
    """The IANA zone ``value`` likely means: the same name in other case ("asia/almaty"),
    a city alone ("Almaty"), one letter off ("Asia/Almati"), a fixed offset ("UTC+5":
    Etc/GMT-5, whose sign POSIX inverts); None if none is close."""
    from zoneinfo import available_timezones  # reads the zone list: only for a mistake

    offset = _FIXED_OFFSET.fullmatch(value.strip())
    if offset is not None and int(offset[2]) <= 14:
        return f"Etc/GMT{'-' if offset[1] == '+' else '+'}{int(offset[2])}"
    zones = sorted(available_timezones())
    by_lower = {zone.lower(): zone for zone in zones}
    wanted = value.strip().replace(" ", "_").lower()
    city = wanted.rsplit("/", 1)[-1]
    if city in _ZONE_CITIES:
        return _ZONE_CITIES[city]
    if wanted in by_lower:
        return by_lower[wanted]
    cities = {zone.rsplit("/", 1)[-1].lower(): zone for zone in zones if "/" in zone}
    if wanted in cities:
        return cities[wanted]
    close = difflib.get_close_matches(wanted, list(by_lower), n=1, cutoff=0.8)
    return by_lower[close[0]] if close else None


def _check_storage_url(value: str, path, problems) -> bool:
    found = store_problem(value, "this file's directory")
    if found is not None:
        problems.add(path, *found)
    return found is None


def store_problem(value: str, relative_to: str) -> tuple[str, str] | None:
    """What is wrong with ``value`` as a store (storage.url, --db), and what to write
    instead; None if it is a SQLite path (relative ones to ``relative_to``) or a
    PostgreSQL URL naming a database."""
    written = value.split("://", 1)[0] if "://" in value else ""
    scheme = written.lower()
    if scheme in ("postgresql", "postgres") and written != scheme:
        # libpq knows the scheme in lower case only; the store would be a SQLite path.
        return (
            f"'{_mask(value)}': the scheme must be in lower case",
            f"write {_mask(scheme + value[len(written) :])}",
        )
    if scheme in ("", "file") or scheme in ("postgresql", "postgres"):
        if scheme.startswith("postgres") and not urlsplit(value).path.strip("/"):
            return f"'{_mask(value)}' names no database", "write postgresql://USER@HOST/DATABASE"
        return None
    fix = "write a path such as data/aggregator.sqlite, or postgresql://USER@HOST/DATABASE"
    rest = value.split("://", 1)[1] if scheme else ""
    if scheme in ("sqlite", "sqlite3") and rest.split("?", 1)[0].strip("/"):
        # SQLAlchemy's spelling: sqlite:///relative.db, sqlite:////absolute.db.
        plain = rest.split("?", 1)[0].removeprefix("/")
        fix = f"SQLite is named by its file's path here: write {plain}"
        if not plain.startswith("/"):
            fix += f" (relative to {relative_to})"
            if "/" in plain:
                fix += f", or /{plain} from the root"
    elif scheme.startswith(("postgresql+", "postgres+")):  # SQLAlchemy's driver suffix
        fix = f"write {_mask('postgresql://' + rest)} (no driver after the scheme)"
    return f"'{_mask(value)}' is neither a SQLite path nor a postgresql:// URL", fix


def _mask(url: str) -> str:
    """A URL without its password, for messages."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    return url.replace(f":{parts.password}@", ":***@", 1)


_STRING_CHECKS: dict[tuple[type, str], Callable[[str, _KeyPath, _Problems], bool]] = {
    (SiteConfig, "link"): _check_http_url,
    (SiteConfig, "timezone"): _check_timezone,
    (SiteConfig, "language"): _check_optional_language,
    (SourceConfig, "language"): _check_optional_language,
    (OutputConfig, "languages"): _check_language,
    (OutputConfig, "language"): _check_optional_language,
    (SiteConfig, "feeds_url"): _check_optional_http_url,
    (PublishConfig, "websub_hubs"): _check_http_url,
    (SourceConfig, "id"): _check_source_id,
    (SourceConfig, "url"): _check_source_url,
    (SourceConfig, "allow_private_networks"): _check_cidr,
    (FetchConfig, "allow_private_networks"): _check_cidr,
    (OutputConfig, "include"): _check_regex,
    (OutputConfig, "exclude"): _check_regex,
    (OutputConfig, "per"): _check_choice(_PER),
    (OutputConfig, "kinds"): _check_choice(_KINDS),
    (FetchConfig, "parser"): _check_choice(_PARSERS),
    (SourceConfig, "encoding"): _check_encoding,
    (SourceConfig, "timezone"): _check_timezone,
    (FetchConfig, "timezone"): _check_optional_timezone,
    (StorageConfig, "url"): _check_storage_url,
}


# --- whole-config defaults and checks ----------------------------------------


def _valid(*values) -> bool:
    return all(v is not _INVALID for v in values)


def default_zone(config: Config) -> tuple[str, str]:
    """The zone in which a source without ``timezone:`` reads its dates that say no
    offset, and the key that says it: ``fetch.timezone``, else ``site.timezone``."""
    if config.fetch.timezone:
        return config.fetch.timezone, "fetch.timezone"
    return config.site.timezone, "site.timezone"


def source_zone(config: Config, source: SourceConfig) -> str:
    """The zone in which ``source`` reads its dates that say no offset: its own
    ``timezone:``, else :func:`default_zone`'s (a held source's entry may lack it)."""
    return source.timezone or default_zone(config)[0]


def _fill_defaults(config: Config, document: dict) -> Config:
    changes: dict[str, typing.Any] = {}
    site, house, fetch = config.site, config.house, config.fetch
    if _valid(site, fetch, config.sources) and _valid(site.timezone, fetch.timezone):
        zone, _ = default_zone(config)
        changes["sources"] = tuple(
            dataclasses.replace(s, timezone=zone) if _valid(s) and s.timezone is None else s
            for s in config.sources
        )
    if _valid(site, house) and _valid(house.name, site.house) and not house.name and site.house:
        changes["house"] = dataclasses.replace(house, name=site.house)
    if not document.get("outputs") and _valid(site) and _valid(site.title, site.description):
        changes["outputs"] = (
            OutputConfig(name="all", title=config.site.title, description=config.site.description),
            OutputConfig(name="commentary", kinds=("commentary",)),
        )
    return dataclasses.replace(config, **changes) if changes else config


def _check_same_feeds(sources: Sequence[SourceConfig], problems: _Problems) -> None:
    """Two enabled sources of one feed (the same URL, compared canonically, and the same
    request headers): a block copied for a new source whose url was not changed, which
    would publish the old feed's items under the new name.  A disabled one may keep a
    renamed source's history; other headers may ask the server for another language."""
    from aggregator.text.urls import canonical_url

    first: dict[tuple[str, tuple[tuple[str, str], ...]], int] = {}
    for i, source in enumerate(sources):
        if not _valid(source) or not _valid(source.url, source.headers, source.enabled):
            continue
        if not source.enabled:
            continue
        feed = (canonical_url(source.url), tuple(sorted(source.headers.items())))
        if feed not in first:
            first[feed] = i
            continue
        j = first[feed]
        line = problems.line(("sources", j, "url"))
        problems.add(
            ("sources", i, "url"),
            f"the same feed as sources[{j}] ('{sources[j].id}'{f', line {line}' if line else ''})",
            "each feed is fetched and published through one source: remove this one, or "
            "correct its url",
        )


def _check_config(config: Config, problems: _Problems, *, require_sources: bool = True) -> None:
    sources = config.sources if _valid(config.sources) else ()
    outputs = config.outputs if _valid(config.outputs) else ()
    if config.sources == () and require_sources:
        problems.add(
            ("sources",),
            "no sources configured",
            "add at least one '- id: ..., name: ..., url: ...'",
        )

    first_use: dict[str, int] = {}
    for i, source in enumerate(sources):
        if not _valid(source) or not _valid(source.id):
            continue
        if source.id in first_use:
            j = first_use[source.id]
            line = problems.line(("sources", j, "id"))
            at = f" (line {line})" if line else ""
            problems.add(
                ("sources", i, "id"),
                f"duplicate source id '{source.id}', already used by sources[{j}]{at}",
                "give every source its own id (until then, a run fetches neither)",
            )
        else:
            first_use[source.id] = i
    _check_same_feeds(sources, problems)

    source_ids = list(first_use)
    names: dict[str, int] = {}  # output file stem -> position of the output that writes it
    fixed: list[str] = []  # names of outputs that are not per-source/per-tag rules
    all_named = all(_valid(o) for o in outputs)  # else main_output may name a broken one
    for i, output in enumerate(outputs):
        if not _valid(output):
            continue
        path: _KeyPath = ("outputs", i)
        if output.kinds == ():
            problems.add(
                (*path, "kinds"),
                "is empty, so the output would carry nothing",
                f"list at least one of: {', '.join(_KINDS)}",
            )
        for k, source_id in enumerate(output.sources if _valid(output.sources) else ()):
            if _valid(source_id) and source_id not in first_use:
                close = difflib.get_close_matches(source_id, source_ids, n=1, cutoff=0.6)
                fix = f"did you mean '{close[0]}'?" if close else "use an id from the sources list"
                problems.add(
                    (*path, "sources", k), f"'{source_id}' is not the id of any source", fix
                )
        if not _valid(output.name, output.per) or not _check_output_name(
            output, (*path, "name"), problems
        ):
            all_named = False
            continue
        if output.per == "source" and "{id}" in output.name:
            ids = [s for s in output.sources if _valid(s)] if _valid(output.sources) else []
            stems = [output.name.replace("{id}", s) for s in ids or source_ids]
        else:
            stems = [output.name]  # per: tag -- the tags are only known at publish time
        if output.per is None:
            fixed.append(output.name)
        for stem in stems:
            if stem in names:
                j = names[stem]
                problems.add(
                    (*path, "name"),
                    f"output file name '{stem}' is already used by outputs[{j}]",
                    "give every output its own name",
                )
                break
            names[stem] = i

    main = config.publish.main_output if _valid(config.publish) else _INVALID
    # An output expanded from a per: tag rule (or a per: source rule named by {name})
    # may be the main one; its name is only known at publish time.
    open_rule = any(
        _valid(o) and (o.per == "tag" or (o.per == "source" and "{id}" not in o.name))
        for o in outputs
    )
    if _valid(main) and outputs and all_named and main not in names and not open_rule:
        close = difflib.get_close_matches(main, list(names), n=1, cutoff=0.6)
        hint = f"did you mean '{close[0]}'? " if close else ""
        shown = ", ".join(fixed) or "(none)"
        written = ("publish", "main_output") in problems.lines
        problems.add(
            ("publish", "main_output"),
            f"'{main}' is not the name of an output" + ("" if written else " (it is the default)"),
            f"{hint}set it to one of: {shown}"
            + ("" if written else f", or name an output '{main}'"),
        )


# What publish and the relate stage do in publish.dir, as a refusal says it.
_PUBLISH_DOES = (
    "publish writes index.html, sources.opml, health.json, embed.js and the feeds there "
    "(over files of those names), and removes the files in its commentary/ and related/ "
    "it did not write"
)
_OWN_DIRECTORY = "write a directory of its own, e.g. 'output' (beside feeds.yaml)"


def _check_publish_dir(config: Config, config_file: Path, problems: _Problems) -> None:
    """publish.dir is what a web server serves: refuse one that cannot be meant (the
    root, the home directory, feeds.yaml's own directory) or that holds what must not be
    served or written over (feeds.yaml, the SQLite store, the drafts, the templates)."""
    if not (_valid(config.publish) and _valid(config.publish.dir)):
        return
    written = config.publish.dir
    base = config_file.parent
    out = (base / Path(written).expanduser()).resolve()
    kept = [(config_file, config_file.name, config_file.name)]
    storage = config.storage if _valid(config.storage) else StorageConfig()
    location = storage.url or storage.path
    if _valid(location) and not is_postgres_url(location):
        store = Path(location.removeprefix("file://")).expanduser()
        kept.append((base / store, "the store (storage.path)", "the store"))
    house = config.house if _valid(config.house) else HouseConfig()
    if _valid(house.commentary_dir) and house.commentary_dir:
        drafts = Path(house.commentary_dir).expanduser()
        kept.append((base / drafts, "house.commentary_dir", "the editors' drafts"))
    templates = config.publish.templates
    if _valid(templates) and templates:
        kept.append((base / Path(templates).expanduser(), "publish.templates", "the templates"))
    try:
        home: Path | None = Path.home().resolve()
    except RuntimeError:  # no home directory known
        home = None
    served = ""
    if out == Path(out.anchor):
        said = "is the root of the file system"
    elif out == home:
        said = "is the home directory"
    elif out == base.resolve():
        said, served = f"is the directory of {config_file.name}", config_file.name
    else:
        for path, name, what in kept:
            if out == path.resolve():
                said, served = f"is {name}", what
                break
            if out in path.resolve().parents:
                said, served = f"holds {name}", what
                break
        else:
            if home is None or out not in home.parents:
                return
            said = "holds the home directory"
    problems.add(
        ("publish", "dir"),
        f"'{written}' {said}: "
        + (f"a web server serving it would serve {served} too, and " if served else "")
        + _PUBLISH_DOES,
        _OWN_DIRECTORY,
    )


def _check_output_name(output: OutputConfig, path: _KeyPath, problems: _Problems) -> bool:
    # publish substitutes the placeholders, slugified; a rule needs one that differs
    # between the outputs it expands into.
    allowed = _PER_PLACEHOLDERS.get(output.per, ()) if output.per else ()
    used = _PLACEHOLDER.findall(output.name)
    if not allowed and used:
        problems.add(
            path,
            f"'{output.name}' has a placeholder but the output has no 'per:'",
            "add 'per: source' (for {id}) or 'per: tag' (for {tag}), or remove the braces",
        )
        return False
    if allowed and not set(used) & set(allowed):
        problems.add(
            path,
            f"'{output.name}' must contain {{{allowed[0]}}}, so that every {output.per} gets its own file",
            f"write e.g. '{output.per}-{{{allowed[0]}}}'",
        )
        return False
    stem = output.name
    for placeholder in allowed:
        stem = stem.replace("{" + placeholder + "}", "x")
    base, dot, ending = output.name.rpartition(".")
    # (.xml: what many feeds are named; publish would write kz.xml.atom ...)
    if dot and base and ending.lower() in (*FEED_SUFFIXES, "xml"):
        # "kz.atom" would be published as kz.atom.atom, kz.atom.rss and kz.atom.json
        problems.add(
            path,
            f"'{output.name}' ends in a feed's file ending; the name is the file's stem, "
            f"publish adds .atom, .rss and .json",
            f"write '{base}'",
        )
        return False
    if not _OUTPUT_NAME.fullmatch(stem):
        shown = " or ".join("{" + p + "}" for p in allowed)
        problems.add(
            path,
            f"'{output.name}' cannot be used as a file name",
            "use Latin letters, digits, '.', '_' and '-' only (starting with a letter or digit), "
            "e.g. 'economy-ru'" + (f"; the placeholders here are {shown}" if allowed else ""),
        )
        return False
    return True


# --- outputs as publish writes them ---------------------------------------------

# File stems that other files in output/ already use.
RESERVED_NAMES = frozenset({"health", "related", "sources", "index"})
_UNSAFE_NAME_CHARS = re.compile(r"[/\\\s\x00-\x1f]+")


def expand_outputs(
    config: Config, names: Mapping[str, str] | None = None
) -> tuple[OutputConfig, ...]:
    """The configured outputs with ``per: source|tag`` rules expanded.

    No ``outputs:`` at all means one output, ``all``, with everything in it.  A
    source's ``{name}`` is ``names[id]`` where given (publish gives the name each is
    shown under: without one configured, its feed's title), else its name, else its id.
    """
    site = config.site
    rules = config.outputs or (
        OutputConfig(name="all", title=site.title, description=site.description),
    )
    expanded: list[OutputConfig] = []
    for index, rule in enumerate(rules):
        where = f"outputs[{index}] ({rule.name!r})"
        if rule.per is None:
            expanded.append(dataclasses.replace(rule, title=rule.title or site.title))
            continue
        # One output for each source or tag: (placeholder values, what the title
        # names, the output's narrowed selection).
        if rule.per == "source":
            wanted = set(rule.sources)
            shown = {
                s.id: (names or {}).get(s.id) or s.name or s.id for s in config.published_sources()
            }
            each = [
                ({"id": s.id, "name": shown[s.id], "tag": ""}, shown[s.id], {"sources": (s.id,)})
                for s in config.published_sources()
                if not wanted or s.id in wanted
            ]
        elif rule.per == "tag":
            tags = sorted({tag for source in config.published_sources() for tag in source.tags})
            if rule.tags:
                tags = [tag for tag in tags if tag in rule.tags]
            each = [({"id": tag, "name": tag, "tag": tag}, tag, {"tags": (tag,)}) for tag in tags]
        else:
            raise ConfigError(f"{where}: per must be 'source' or 'tag', not {rule.per!r}")
        for values, label, narrowed in each:
            expanded.append(
                dataclasses.replace(
                    rule,
                    name=_substitute(rule.name, values, slug=True),
                    title=_substitute(rule.title, values) or f"{site.title}: {label}",
                    description=_substitute(rule.description, values),
                    per=None,
                    **narrowed,
                )
            )
    seen: set[str] = set()
    for output in expanded:
        _check_name(output.name)
        if output.name in seen:
            raise ConfigError(
                f"outputs: two outputs are named {output.name!r}; "
                "give each a distinct name (use {id} or {tag} in per-rules)"
            )
        seen.add(output.name)
    if config.publish.main_output not in seen:
        names = ", ".join(o.name for o in expanded)
        raise ConfigError(
            f"publish.main_output: {config.publish.main_output!r} names no output "
            f"(index.html shows it); the outputs are: {names}"
        )
    return tuple(expanded)


def _substitute(template: str, values: Mapping[str, str], *, slug: bool = False) -> str:
    # str.replace, not str.format: titles may contain other braces.
    for key, value in values.items():
        if slug:
            value = _UNSAFE_NAME_CHARS.sub("-", value).strip("-.")
        template = template.replace("{" + key + "}", value)
    return template


def _check_name(name: str) -> None:
    if not name or name.startswith(".") or _UNSAFE_NAME_CHARS.search(name):
        raise ConfigError(
            f"outputs: name {name!r} is not usable as a file name; use letters, digits, "
            "'-', '_' or '.', not starting with '.'"
        )
    if name in RESERVED_NAMES:
        raise ConfigError(
            f"outputs: name {name!r} clashes with {name}.* written by publish; choose another name"
        )
