"""feeds.yaml: the typed configuration and its loader.

The dataclasses below *are* the schema: the loader validates a YAML document
against their fields and type hints, so adding a key means adding a field here
(with its default) and a line in the README's key reference.
"""

from __future__ import annotations

from dataclasses import dataclass, field


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


@dataclass(frozen=True)
class StorageConfig:
    path: str = "aggregator.sqlite"  # relative to the config file's directory
    retention_days: int = 90
    keep_latest: int = 50  # never prune below this many items per source


@dataclass(frozen=True)
class SourceConfig:
    id: str  # [a-z0-9][a-z0-9._-]*
    name: str
    url: str  # http(s) URL, file:// URL or a path (relative to the config file)
    language: str | None = None
    tags: tuple[str, ...] = ()
    interval: int | None = None  # overrides fetch.interval
    timeout: float | None = None  # overrides fetch.timeout
    headers: dict[str, str] = field(default_factory=dict)
    allow_private_networks: tuple[str, ...] = ()
    house: bool = False  # the house's own CMS feed (commentary posts)
    enabled: bool = True


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
    per: str | None = None  # None, "source" or "tag"


@dataclass(frozen=True)
class PublishConfig:
    dir: str = "output"  # relative to the config file
    html_entries: int = 50  # entries on output/index.html
    main_output: str = "all"  # the output index.html shows


@dataclass(frozen=True)
class Config:
    site: SiteConfig
    sources: tuple[SourceConfig, ...]
    fetch: FetchConfig = FetchConfig()
    storage: StorageConfig = StorageConfig()
    house: HouseConfig = HouseConfig()
    publish: PublishConfig = PublishConfig()
    outputs: tuple[OutputConfig, ...] = ()
    path: str = ""  # the file it was loaded from (absolute), "" when built in code

    def source(self, source_id: str) -> SourceConfig:
        for s in self.sources:
            if s.id == source_id:
                return s
        raise KeyError(source_id)
