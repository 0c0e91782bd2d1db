"""Publish: store -> output/ (Atom, RSS, JSON Feed, index.html, sources.opml, health.json).

Layout of the output directory (``publish.dir``)::

    <name>.atom      Atom 1.0        one triple per output in ``outputs:``
    <name>.rss       RSS 2.0         (rules with ``per: source|tag`` expand into
    <name>.json      JSON Feed 1.1    one output per source / per tag)
    index.html       the latest entries of ``publish.main_output``, with links to every feed
    sources.opml     OPML 2.0 list of every configured source
    health.json      per-source fetch status, for monitoring

Identity and determinism:

- Feed self links are ``site.feeds_url`` + file name; with ``feeds_url`` empty the
  output directory is assumed to be served at the root of ``site.link``.
- Feed ids are ``tag:<site host>,2026:feed/<name>`` and entry ids
  ``tag:<site host>,2026:item/<store key>``: the same entry has the same id in every
  output, format and run.  The id the source gave the item stays visible as
  ``dc:identifier`` (Atom, RSS) and ``_source.item_id`` (JSON Feed).
- Nothing reads the wall clock: a feed's updated/lastBuildDate is its newest entry's
  time and ``max_age`` counts back from the newest stored item, so the same store
  gives byte-identical files, and a file is only rewritten when its bytes change.
"""

from __future__ import annotations

import contextlib
import heapq
import html
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote, urljoin, urlsplit

from lxml import etree

from aggregator.config import (
    Config,
    ConfigError,
    OutputConfig,
    SourceConfig,
    config_dir,
    resolve_path,
)
from aggregator.files import remove_stale_temp_files, write_if_changed
from aggregator.house.load import FILE_KEY_PREFIX, HouseCommentary, HouseEntry
from aggregator.models import Author, Enclosure, SourceState, StoredItem
from aggregator.parse.sanitize import sanitize_html
from aggregator.publish.commentary import render_html
from aggregator.publish.feeds import (
    EntryView,
    FeedView,
    SourceView,
    ViaView,
    json_bytes,
    language_tag,
    media_type,
    render_atom,
    render_json,
    render_rss,
)
from aggregator.store import Storage
from aggregator.text.html import plain_text, shorten
from aggregator.text.urls import as_uri, http_uri
from aggregator.text.xml import clean_text, iso

FORMATS = {"atom": ".atom", "rss": ".rss", "json": ".json"}
FEED_TYPES = {
    "atom": "application/atom+xml",
    "rss": "application/rss+xml",
    "json": "application/feed+json",
}
KINDS = ("source", "commentary")
# File stems that other files in output/ already use.
RESERVED_NAMES = frozenset({"health", "related", "sources", "index"})
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_UNSAFE_NAME_CHARS = re.compile(r"[/\\\s\x00-\x1f]+")


@dataclass(frozen=True)
class PublishReport:
    written: tuple[Path, ...] = ()  # files whose bytes changed (or are new)
    unchanged: tuple[Path, ...] = ()  # files left alone, mtime preserved
    entries: Mapping[str, int] = field(default_factory=dict)  # output name -> entries
    # House commentary left out, each "file:line: what is wrong; what to do".
    problems: tuple[str, ...] = ()

    def __str__(self) -> str:
        return (
            f"{len(self.entries)} outputs, {len(self.written)} files written, "
            f"{len(self.unchanged)} unchanged"
        )


def publish(
    config: Config,
    storage: Storage,
    *,
    out_dir: Path | None = None,
    house: HouseCommentary | None = None,
) -> PublishReport:
    """Write every output of ``config`` from ``storage`` into ``out_dir``.

    ``out_dir`` defaults to ``publish.dir`` relative to the config file.  ``house`` is
    the matched commentary, when the caller loaded it already for the relate stage
    (matching may build an index over the whole store: once per run is enough).  Raises
    :class:`ConfigError` for an output configuration that cannot be published
    (a bad regex, a name that is not a file name) and ``OSError`` when the
    directory cannot be written.
    """
    out_dir = resolve_path(config, config.publish.dir) if out_dir is None else Path(out_dir)
    outputs = expand_outputs(config)
    if config.publish.main_output not in {o.name for o in outputs}:
        names = ", ".join(o.name for o in outputs)
        raise ConfigError(
            f"publish.main_output: {config.publish.main_output!r} names no output "
            f"(index.html shows it); the outputs are: {names}"
        )
    catalog = _Catalog(config, storage.source_states())
    catalog.house = house if house is not None else HouseCommentary.load(config, storage)
    newest = _newest_item(storage)
    selections = [_Selection.compile(output, catalog, newest) for output in outputs]

    picked = _select(storage, selections, catalog)
    # Atom entries link to their related entries, as the relate stage last wrote them.
    if config.related.enabled:
        catalog.related_dir = out_dir / "related"

    out_dir.mkdir(parents=True, exist_ok=True)
    remove_stale_temp_files(out_dir)
    writer = _Writer(out_dir)
    views: dict[str, FeedView] = {}
    entries_cache: dict[tuple[str, str | None], EntryView] = {}
    for selection in selections:
        output = selection.output
        entries = tuple(
            _entry_view(stored, selection, catalog, entries_cache) for stored in picked[output.name]
        )
        view = _feed_view(output, entries, catalog, newest)
        views[output.name] = view
        writer.write(f"{output.name}.atom", render_atom(view))
        writer.write(f"{output.name}.rss", render_rss(view))
        writer.write(f"{output.name}.json", render_json(view))

    main = views[config.publish.main_output]
    writer.write("index.html", _index_html(config, main, list(views.values())))
    writer.write("sources.opml", _opml(config, catalog))
    writer.write("health.json", _health(config, catalog))
    return PublishReport(
        written=tuple(writer.written),
        unchanged=tuple(writer.unchanged),
        entries={name: len(view.entries) for name, view in views.items()},
        problems=tuple(str(p) for p in catalog.house.problems),
    )


# --- outputs -------------------------------------------------------------------


def expand_outputs(config: Config) -> tuple[OutputConfig, ...]:
    """The configured outputs with ``per: source|tag`` rules expanded.

    No ``outputs:`` at all means one output, ``all``, with everything in it.
    """
    site = config.site
    rules = config.outputs or (
        OutputConfig(name="all", title=site.title, description=site.description),
    )
    expanded: list[OutputConfig] = []
    for index, rule in enumerate(rules):
        where = f"outputs[{index}] ({rule.name!r})"
        if rule.per is None:
            expanded.append(replace(rule, title=rule.title or site.title))
        elif rule.per == "source":
            wanted = set(rule.sources)
            for source in config.sources:
                if wanted and source.id not in wanted:
                    continue
                values = {"id": source.id, "name": source.name, "tag": ""}
                expanded.append(
                    replace(
                        rule,
                        name=_substitute(rule.name, values, slug=True),
                        title=_substitute(rule.title, values) or f"{site.title}: {source.name}",
                        description=_substitute(rule.description, values),
                        sources=(source.id,),
                        per=None,
                    )
                )
        elif rule.per == "tag":
            tags = sorted({tag for source in config.sources for tag in source.tags})
            if rule.tags:
                tags = [tag for tag in tags if tag in rule.tags]
            for tag in tags:
                values = {"id": tag, "name": tag, "tag": tag}
                expanded.append(
                    replace(
                        rule,
                        name=_substitute(rule.name, values, slug=True),
                        title=_substitute(rule.title, values) or f"{site.title}: {tag}",
                        description=_substitute(rule.description, values),
                        tags=(tag,),
                        per=None,
                    )
                )
        else:
            raise ConfigError(f"{where}: per must be 'source' or 'tag', not {rule.per!r}")
    seen: set[str] = set()
    for output in expanded:
        _check_name(output.name)
        if output.name in seen:
            raise ConfigError(
                f"outputs: two outputs are named {output.name!r}; "
                "give each a distinct name (use {id} or {tag} in per-rules)"
            )
        seen.add(output.name)
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


# --- selection -----------------------------------------------------------------


class _Catalog:
    """What publish knows about sources: their config and their stored state."""

    def __init__(self, config: Config, states: Sequence[SourceState]) -> None:
        self.config = config
        self.sources: dict[str, SourceConfig] = {s.id: s for s in config.sources}
        self.states: dict[str, SourceState] = {s.source_id: s for s in states}
        self.base_dir = config_dir(config)
        self._views: dict[str, SourceView] = {}
        self.related_dir: Path | None = None  # output/related/, written by the relate stage
        self.house = HouseCommentary()  # the house's commentary, matched to its sources

    def commentary(self, stored: StoredItem) -> HouseEntry | None:
        return self.house.entries.get(stored.key)

    def with_commentary(
        self, items: Iterable[StoredItem], source_ids: Sequence[str], since: datetime | None
    ) -> Iterator[StoredItem]:
        """Stored items merged, newest first, with the commentary files that pass the
        store's filters (files come through no source, so a source filter drops them)."""
        files = [] if source_ids else self.house.files()
        if since is not None:
            files = [f for f in files if f.published >= since]
        if not files:
            return iter(items)
        return heapq.merge(items, files, key=lambda s: (s.published, s.key), reverse=True)

    def related_links(self, key: str) -> tuple[tuple[str, str], ...]:
        """(href, title) of an entry's related entries, from ``related/<key>.json``.

        Reading the few files of the entries being published keeps publishing cheap
        and the data flowing one way: ``aggregator related`` computes, publish reads.
        """
        if self.related_dir is None or not key.isalnum():
            return ()
        try:
            data = json.loads((self.related_dir / f"{key}.json").read_bytes())
        except (OSError, ValueError):
            return ()  # not computed yet (or unreadable): no links rather than a failure
        links = []
        for entry in data.get("related", ()) if isinstance(data, dict) else ():
            href = http_uri(entry.get("url")) if isinstance(entry, dict) else None
            if href:
                links.append((href, clean_text(entry.get("title"))))
        return tuple(links)

    def kind(self, stored: StoredItem) -> str:
        # Commentary: a commentary file, or a post of the house's own feed.
        if stored.key in self.house.entries:
            return "commentary"
        for source_id in stored.source_ids:
            source = self.sources.get(source_id)
            if source is not None and source.house:
                return "commentary"
        return "source"

    def tags(self, stored: StoredItem) -> set[str]:
        tags = {c.casefold() for c in stored.item.categories}
        for source_id in stored.source_ids:
            source = self.sources.get(source_id)
            if source is not None:
                tags.update(t.casefold() for t in source.tags)
        return tags

    def language(self, stored: StoredItem) -> str | None:
        if stored.item.language:
            return stored.item.language
        for source_id in stored.source_ids:
            source = self.sources.get(source_id)
            if source is not None and source.language:
                return source.language
        return None

    def source_view(self, source_id: str) -> SourceView:
        view = self._views.get(source_id)
        if view is None:
            view = self._views[source_id] = self._make_source_view(source_id)
        return view

    def _make_source_view(self, source_id: str) -> SourceView:
        config = self.sources.get(source_id)
        state = self.states.get(source_id)
        url = state.url if state is not None else config.url if config is not None else None
        feed_url = self.feed_uri(url)
        name = config.name if config is not None else (state and state.title) or source_id
        return SourceView(
            id=feed_url or self.config.site.tag_uri(f"source/{quote(source_id, safe='')}"),
            name=clean_text(name),
            feed_url=feed_url,
            home_url=http_uri(state.link) if state is not None else None,
            updated=state.feed_updated if state is not None else None,
        )

    def feed_uri(self, url: str | None) -> str | None:
        """A source's URL as a URI: local paths (the offline example) become file: URIs."""
        if not url:
            return None
        if urlsplit(url).scheme in ("http", "https", "file"):
            return as_uri(url)
        return (self.base_dir / url).resolve().as_uri()


@dataclass(frozen=True)
class _Selection:
    output: OutputConfig
    sources: frozenset[str]  # empty: all
    tags: frozenset[str]  # casefolded; empty: all
    languages: tuple[str, ...]  # casefolded
    include: tuple[re.Pattern[str], ...]
    exclude: tuple[re.Pattern[str], ...]
    kinds: frozenset[str]
    since: datetime | None

    @classmethod
    def compile(cls, output: OutputConfig, catalog: _Catalog, newest: datetime | None):
        where = f"outputs: {output.name!r}"
        unknown = [k for k in output.kinds if k not in KINDS]
        if unknown:
            raise ConfigError(f"{where}: kinds {unknown} unknown; use 'source' and/or 'commentary'")
        since = None
        if output.max_age is not None and newest is not None:
            since = newest - timedelta(seconds=output.max_age)
        return cls(
            output=output,
            sources=frozenset(output.sources),
            tags=frozenset(t.casefold() for t in output.tags),
            languages=tuple(lang.casefold() for lang in output.languages),
            include=tuple(_regex(p, f"{where} include") for p in output.include),
            exclude=tuple(_regex(p, f"{where} exclude") for p in output.exclude),
            kinds=frozenset(output.kinds),
            since=since,
        )

    @property
    def scan_key(self) -> tuple[tuple[str, ...], datetime | None]:
        """What the store can filter for us; selections with the same key share a scan."""
        return tuple(sorted(self.sources)), self.since

    @property
    def store_filters_all(self) -> bool:
        """True when the store's filters alone decide: the scan may stop at max_entries."""
        return not (
            self.tags or self.languages or self.include or self.exclude or len(self.kinds) < 2
        )

    def matches(self, stored: StoredItem, catalog: _Catalog, text: _LazyText) -> bool:
        if self.sources and self.sources.isdisjoint(stored.source_ids):
            return False
        if self.since is not None and stored.published < self.since:
            return False
        if len(self.kinds) < len(KINDS) and catalog.kind(stored) not in self.kinds:
            return False
        if self.tags and self.tags.isdisjoint(catalog.tags(stored)):
            return False
        if self.languages:
            language = (catalog.language(stored) or "").casefold()
            if not any(language == w or language.startswith(w + "-") for w in self.languages):
                return False
        if (
            self.include
            and not any(p.search(text.title) for p in self.include)
            and not any(p.search(text.full) for p in self.include)
        ):
            return False
        return not (self.exclude and any(p.search(text.full) for p in self.exclude))


class _LazyText:
    """The text include/exclude patterns see: the title, then the title plus the
    text of summary and content, each computed once per item and only if asked."""

    def __init__(self, stored: StoredItem) -> None:
        self._item = stored.item
        self._full: str | None = None

    @property
    def title(self) -> str:
        return self._item.title

    @property
    def full(self) -> str:
        if self._full is None:
            item = self._item
            self._full = "\n".join((item.title, plain_text(item.summary), plain_text(item.content)))
        return self._full


def _regex(pattern: str, where: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise ConfigError(
            f"{where}: {pattern!r} is not a valid regular expression: {exc}"
        ) from None


def _newest_item(storage: Storage) -> datetime | None:
    with contextlib.closing(iter(storage.iter_items(limit=1, newest_first=True))) as items:
        for stored in items:
            return stored.published
    return None


def _select(
    storage: Storage, selections: Sequence[_Selection], catalog: _Catalog
) -> dict[str, list[StoredItem]]:
    """Pick each output's entries, newest first, in as few store scans as possible.

    Outputs whose store-side filters agree share one scan, which stops as soon as
    every one of them is full, so memory stays bounded by the outputs' sizes.
    """
    picked: dict[str, list[StoredItem]] = {s.output.name: [] for s in selections}
    groups: dict[tuple[tuple[str, ...], datetime | None], list[_Selection]] = {}
    for selection in selections:
        if selection.output.max_entries > 0:
            groups.setdefault(selection.scan_key, []).append(selection)
    for (source_ids, since), group in groups.items():
        limit = None
        if all(s.store_filters_all for s in group):
            limit = max(s.output.max_entries for s in group)
        active = list(group)
        items = storage.iter_items(
            source_ids=list(source_ids) or None, since=since, limit=limit, newest_first=True
        )
        items = catalog.with_commentary(items, source_ids, since)
        with contextlib.closing(iter(items)) as items:
            for stored in items:
                text = _LazyText(stored)
                for selection in list(active):
                    if selection.matches(stored, catalog, text):
                        chosen = picked[selection.output.name]
                        chosen.append(stored)
                        if len(chosen) >= selection.output.max_entries:
                            active.remove(selection)
                if not active:
                    break
    for chosen in picked.values():
        # The store's order may tie; ours must not.
        chosen.sort(key=lambda s: (s.published, s.key), reverse=True)
    return picked


# --- views ---------------------------------------------------------------------


def _entry_view(
    stored: StoredItem,
    selection: _Selection,
    catalog: _Catalog,
    cache: dict[tuple[str, str | None], EntryView],
) -> EntryView:
    # Attribute the source this output selected the item through, if it did.
    source_id = next(
        (s for s in stored.source_ids if s in selection.sources),
        stored.source_ids[0] if stored.source_ids else None,
    )
    view = cache.get((stored.key, source_id))
    if view is None:
        view = cache[(stored.key, source_id)] = _base_entry_view(stored, source_id, catalog)
    notice = catalog.config.site.repost_notice
    # Commentary carries the notice in its own content already.
    if selection.output.repost_notice and notice and catalog.commentary(stored) is None:
        view = replace(view, content_html=view.content_html + _notice_html(notice, view))
    return view


def _base_entry_view(stored: StoredItem, source_id: str | None, catalog: _Catalog) -> EntryView:
    item = stored.item
    house = catalog.commentary(stored)
    if house is not None:
        return _commentary_view(house, source_id, catalog)
    # The parse stage sanitized already; cleaning again costs little and means
    # nothing in the store, whatever wrote it, reaches a reader unsanitized.
    content = _safe_html(item.content or item.summary, item.link)
    summary = _safe_html(item.summary, item.link) if item.content and item.summary else None
    return EntryView(
        id=catalog.config.site.item_id(stored.key),
        original_id=clean_text(item.id),
        title=clean_text(item.title).strip(),
        link=http_uri(item.link),
        published=stored.published,
        updated=max(stored.updated, stored.published),
        summary_html=summary,
        content_html=content,
        authors=tuple(_authors(item.authors)),
        categories=tuple(dict.fromkeys(c for c in map(clean_text, item.categories) if c)),
        enclosures=tuple(_enclosures(item.enclosures)),
        language=language_tag(catalog.language(stored)),
        source=catalog.source_view(source_id) if source_id else None,
        related=catalog.related_links(stored.key),
        lead=plain_text(summary or content),
    )


def _commentary_view(house: HouseEntry, source_id: str | None, catalog: _Catalog) -> EntryView:
    """A house commentary: its own title and link; content and via links from the match."""
    stored, commentary = house.stored, house.commentary
    if stored.key.startswith(FILE_KEY_PREFIX):
        entry_id = catalog.config.site.tag_uri(quote(stored.key, safe="/"))
        name = catalog.config.house.name or catalog.config.site.house or catalog.config.site.title
        source = SourceView(
            id=catalog.config.site.tag_uri("source/house"),
            name=clean_text(name),
            feed_url=None,
            home_url=http_uri(catalog.config.site.link),
            updated=None,
        )
    else:
        entry_id = catalog.config.site.item_id(stored.key)
        source = catalog.source_view(source_id) if source_id else None
    via = tuple(
        ViaView(
            id=catalog.config.site.item_id(ref.key),
            url=http_uri(ref.link),
            title=clean_text(ref.title),
            source=clean_text(ref.name),
            item_id=clean_text(ref.item_id),
        )
        for ref in house.sources
    )
    return EntryView(
        id=entry_id,
        original_id=clean_text(stored.item.id),
        title=clean_text(commentary.title).strip(),
        link=http_uri(commentary.link),
        published=stored.published,
        updated=max(stored.updated, stored.published),
        summary_html=None,
        content_html=_safe_html(
            render_html(commentary, house.match, house.sources, catalog.config), commentary.link
        ),
        authors=tuple(_authors(commentary.authors)),
        categories=tuple(dict.fromkeys(c for c in map(clean_text, commentary.tags) if c)),
        enclosures=tuple(_enclosures(stored.item.enclosures)),
        language=language_tag(commentary.language),
        source=source,
        via=via,
        lead=plain_text(commentary.comment_html),
    )


def _safe_html(fragment: str | None, base_url: str | None) -> str:
    return clean_text(sanitize_html(clean_text(fragment), base_url)) if fragment else ""


def _notice_html(notice: str, view: EntryView) -> str:
    text = html.escape(clean_text(notice))
    if view.link and view.source is not None:
        link = f' <a href="{html.escape(view.link)}">{html.escape(view.source.name)}</a>'
        return f'\n<p class="repost-notice">{text}{link}</p>'
    return f'\n<p class="repost-notice">{text}</p>'


def _authors(authors: Iterable[Author]) -> Iterator[Author]:
    for author in authors:
        name = clean_text(author.name).strip() or None
        email = clean_text(author.email).strip() or None
        uri = http_uri(author.uri)
        if name or email:
            yield Author(name=name, email=email, uri=uri)


def _enclosures(enclosures: Iterable[Enclosure]) -> Iterator[Enclosure]:
    for enclosure in enclosures:
        url = http_uri(enclosure.url)
        if url:
            length = enclosure.length if enclosure.length and enclosure.length > 0 else None
            yield Enclosure(url=url, type=media_type(enclosure.type), length=length)


def _feed_view(
    output: OutputConfig,
    entries: tuple[EntryView, ...],
    catalog: _Catalog,
    newest: datetime | None,
) -> FeedView:
    site = catalog.config.site
    updated = max((e.updated for e in entries), default=newest or _EPOCH)
    return FeedView(
        name=output.name,
        id=catalog.config.site.tag_uri(f"feed/{quote(output.name, safe='')}"),
        title=clean_text(output.title or site.title),
        description=clean_text(output.description or site.description),
        home_url=http_uri(site.link) or site.link,
        language=language_tag(site.language),
        author=clean_text(site.author or site.house or site.title),
        updated=updated,
        self_urls={fmt: feed_url(catalog.config, output.name, fmt) for fmt in FORMATS},
        entries=entries,
    )


def feed_url(config: Config, name: str, fmt: str) -> str:
    """The public URL of ``output/<name>.<fmt>``: ``site.feeds_url`` (or ``site.link``) + file."""
    base = config.site.feeds_url or config.site.link
    if not base.endswith("/"):
        base += "/"
    return as_uri(urljoin(base, quote(name) + FORMATS[fmt])) or ""


# --- index.html, sources.opml, health.json ---------------------------------------


def _index_html(config: Config, main: FeedView, feeds: Sequence[FeedView]) -> bytes:
    site = config.site
    e = html.escape

    def rel(name: str) -> str:
        return e(quote(name))

    lines = [
        "<!DOCTYPE html>",
        f'<html lang="{e(language_tag(site.language) or "und")}">',
        "<head>",
        '<meta charset="utf-8">',
        # No script of ours runs here, so none may run at all.
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; img-src 'none'\">",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(clean_text(site.title))}</title>",
    ]
    for fmt, ext in FORMATS.items():
        lines.append(
            f'<link rel="alternate" type="{FEED_TYPES[fmt]}" '
            f'title="{e(main.title)} ({fmt.upper()})" href="{rel(main.name + ext)}">'
        )
    lines += [
        "<style>body{font-family:sans-serif;max-width:50em;margin:auto;padding:1em}"
        ".meta{color:#555;font-size:.9em}li{margin:.3em 0}</style>",
        "</head>",
        "<body>",
        f"<h1>{e(clean_text(site.title))}</h1>",
    ]
    if site.description:
        lines.append(f"<p>{e(clean_text(site.description))}</p>")
    lines += ["<h2>Feeds</h2>", "<ul>"]
    for feed in feeds:
        links = " · ".join(
            f'<a href="{rel(feed.name + ext)}" type="{FEED_TYPES[fmt]}">{fmt.upper()}</a>'
            for fmt, ext in FORMATS.items()
        )
        lines.append(f"<li>{e(feed.title)}: {links}</li>")
    lines += [
        '<li><a href="sources.opml">sources.opml</a> · <a href="health.json">health.json</a></li>',
        "</ul>",
        f"<h2>{e(main.title)}</h2>",
    ]
    for entry in main.entries[: max(config.publish.html_entries, 0)]:
        title = e(entry.title or "(untitled)")
        heading = f'<a href="{e(entry.link)}">{title}</a>' if entry.link else title
        meta = [entry.published.strftime("%Y-%m-%d %H:%M UTC")]
        if entry.source is not None:
            meta.insert(0, e(entry.source.name))
        lines.append(f"<article><h3>{heading}</h3>")
        lines.append(f'<p class="meta">{" · ".join(meta)}</p>')
        if entry.lead:
            lines.append(f"<p>{e(shorten(entry.lead, 300))}</p>")
        lines.append("</article>")
    lines += ["</body>", "</html>", ""]
    return "\n".join(lines).encode("utf-8")


def _opml(config: Config, catalog: _Catalog) -> bytes:
    opml = etree.Element("opml", version="2.0")
    head = etree.SubElement(opml, "head")
    etree.SubElement(head, "title").text = clean_text(f"{config.site.title}: sources")
    if config.site.author:
        etree.SubElement(head, "ownerName").text = clean_text(config.site.author)
    body = etree.SubElement(opml, "body")
    for source in config.sources:
        state = catalog.states.get(source.id)
        attrs = {
            "type": "rss",
            "text": clean_text(source.name),
            "title": clean_text(source.name),
            "xmlUrl": catalog.feed_uri(state.url if state else source.url) or "",
        }
        home = http_uri(state.link) if state else None
        if home:
            attrs["htmlUrl"] = home
        if source.language:
            attrs["language"] = clean_text(source.language)
        if source.tags:
            # OPML 2.0: comma-separated, slash-delimited category strings.
            attrs["category"] = ",".join("/" + clean_text(t).replace(",", " ") for t in source.tags)
        etree.SubElement(body, "outline", attrs)
    return etree.tostring(opml, encoding="UTF-8", xml_declaration=True, pretty_print=True)


def _health(config: Config, catalog: _Catalog) -> bytes:
    sources = []
    counts: dict[str, int] = {}
    for source in config.sources:
        state = catalog.states.get(source.id)
        status = _status(source, state)
        counts[status] = counts.get(status, 0) + 1
        sources.append(
            {
                "id": source.id,
                "name": clean_text(source.name),
                "url": catalog.feed_uri(state.url if state else source.url),
                "state": status,
                "last_attempt": _iso_or_none(state and state.last_attempt),
                "last_success": _iso_or_none(state and state.last_success),
                "last_error": clean_text(state.last_error) or None if state else None,
                "last_error_at": _iso_or_none(state and state.last_error_at),
                "consecutive_failures": state.consecutive_failures if state else 0,
                "backoff_until": _iso_or_none(state and state.backoff_until),
                "item_count": state.item_count if state else 0,
                "gone": state.gone if state else False,
            }
        )
    document = {"sources_total": len(sources), "states": dict(sorted(counts.items()))}
    document["sources"] = sources
    return json_bytes(document)


def _status(source: SourceConfig, state: SourceState | None) -> str:
    """ok | failing | gone | disabled | pending (never fetched)."""
    if not source.enabled:
        return "disabled"
    if state is None or state.last_attempt is None:
        return "pending"
    if state.gone:
        return "gone"
    if state.consecutive_failures > 0:
        return "failing"
    return "ok"


def _iso_or_none(moment: datetime | None) -> str | None:
    return iso(moment.astimezone(UTC)) if moment else None


# --- atomic writes -------------------------------------------------------------


class _Writer:
    """Writes files atomically, and only when their bytes changed."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.written: list[Path] = []
        self.unchanged: list[Path] = []

    def write(self, name: str, data: bytes) -> None:
        path = self.directory / name
        if write_if_changed(path, data):
            self.written.append(path)
        else:
            self.unchanged.append(path)
