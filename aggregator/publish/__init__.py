"""Publish: store -> output/ (Atom, RSS, JSON Feed, index.html, sources.opml, health.json).

Layout of the output directory (``publish.dir``)::

    <name>.atom      Atom 1.0        one triple per output in ``outputs:``
    <name>.rss       RSS 2.0         (rules with ``per: source|tag`` expand into
    <name>.json      JSON Feed 1.1    one output per source / per tag)
    index.html       the latest entries of ``publish.main_output``, with links to every feed
    sources.opml     OPML 2.0 list of every configured source
    health.json      per-source fetch status and the last run's heartbeat, for monitoring
    .aggregator      the directory is publish's (written first: ``foreign_files``)

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
  The one exception is a feed with nothing to date it by (nothing stored and no
  commentary, i.e. before the first fetch): its time is when it was first published,
  kept from its own file on later runs so that it does not change every run.  And
  health.json, given a heartbeat, says when it was written: every run rewrites it
  (``aggregator.health``, which a run that changed nothing calls alone).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from aggregator.config import Config, OutputConfig, expand_outputs, resolve_path
from aggregator.files import OWN_MARK, remove_stale_temp_files, write_if_changed
from aggregator.health import HEALTH_FILE, Heartbeat, health_of
from aggregator.house import HouseCommentary
from aggregator.publish.archive import archive_output
from aggregator.publish.embed import EMBED_JS, embed_json
from aggregator.publish.feeds import (
    EntryView,
    FeedView,
    render_atom,
    render_json,
    render_rss,
    site_url,
)
from aggregator.publish.html import (
    Pages,
    commentary_index,
    commentary_page,
    index_html,
    related_items,
)
from aggregator.publish.opml import sources_opml
from aggregator.publish.select import PAGES_DIR, Catalog, Selection, newest_item, select_entries
from aggregator.publish.views import commentary_entry_view, entry_view, feed_view
from aggregator.publish.websub import announce, begin, changed_feed_urls, hub_links
from aggregator.related import EXPORTED
from aggregator.related import PUBLISHED as RELATED_FILES
from aggregator.store import Storage
from aggregator.text.counts import counted
from aggregator.text.urls import http_uri
from aggregator.text.xml import FEED_SUFFIXES


@dataclass(frozen=True)
class PublishReport:
    written: tuple[Path, ...] = ()  # files whose bytes changed (or are new)
    unchanged: tuple[Path, ...] = ()  # files left alone, mtime preserved
    removed: tuple[Path, ...] = ()  # files of outputs no longer configured
    entries: Mapping[str, int] = field(default_factory=dict)  # output name -> entries
    # House commentary left out, each "file:line: what is wrong; what to do".
    problems: tuple[str, ...] = ()
    fetched: bool = True  # False: no source was ever fetched, the outputs are empty

    def __str__(self) -> str:
        removed = f", {len(self.removed)} removed" if self.removed else ""
        return (
            f"{counted(len(self.entries), 'output')}, {counted(len(self.written), 'file')} "
            f"written, {len(self.unchanged)} unchanged{removed}"
        )


def publish(
    config: Config,
    storage: Storage,
    *,
    out_dir: Path | None = None,
    house: HouseCommentary | None = None,
    now: datetime | None = None,
    heartbeat: Heartbeat | None = None,
) -> PublishReport:
    """Write every output of ``config`` from ``storage`` into ``out_dir``.

    ``out_dir`` defaults to ``publish.dir`` relative to the config file.  ``house`` is
    the matched commentary, when the caller loaded it already for the relate stage
    (matching may build an index over the whole store: once per run is enough).  ``now``
    (default: the clock) dates a feed that has nothing else to date it by, and a
    ``heartbeat`` (the command publishing) in health.json.  Raises
    :class:`ConfigError` for an output configuration that cannot be published
    (a bad regex, a name that is not a file name) and ``OSError`` when the
    directory cannot be written.
    """
    out_dir = resolve_path(config, config.publish.dir) if out_dir is None else Path(out_dir)
    catalog = Catalog(config, storage.source_states(), storage)
    outputs = expand_outputs(
        config, {s.id: catalog.source_view(s.id).name for s in config.published_sources()}
    )
    catalog.use_house(
        house if house is not None else HouseCommentary.load(config, storage),
        _house_feed(config, outputs),
    )
    newest = newest_item(storage)
    files = catalog.house.files()
    undated = newest or (files[0].published if files else None)
    selections = [Selection.compile(output, catalog, newest) for output in outputs]

    picked = select_entries(storage, selections, catalog)
    # Atom entries link to their related entries, as the relate stage last wrote them.
    if config.related.enabled:
        catalog.related_dir = out_dir / "related"

    out_dir.mkdir(parents=True, exist_ok=True)
    remove_stale_temp_files(out_dir)
    unannounced = begin(config, out_dir)  # an earlier publish wrote and never told the hubs
    writer = _Writer(out_dir)
    views: dict[str, FeedView] = {}
    (out_dir / "embed").mkdir(exist_ok=True)
    entries_cache: dict[tuple[str, str | None], EntryView] = {}
    for selection in selections:
        output = selection.output
        entries = tuple(
            entry_view(stored, selection, catalog, entries_cache) for stored in picked[output.name]
        )
        view = feed_view(
            output, entries, catalog, undated or _first_published(out_dir, output.name, now)
        )
        if config.publish.websub_hubs:
            view = replace(view, links=hub_links(config))
        if output.archive:
            view = archive_output(
                config,
                storage,
                selection,
                catalog,
                newest,
                picked[output.name],
                view,
                lambda stored, s=selection: entry_view(stored, s, catalog, entries_cache),
                out_dir,
                writer.write,
            )
        views[output.name] = view
        writer.write(f"{output.name}.atom", render_atom(view))
        writer.write(f"{output.name}.rss", render_rss(view))
        writer.write(f"{output.name}.json", render_json(view))
        writer.write(f"embed/{output.name}.json", embed_json(view))
    removed = _remove_dropped_outputs(out_dir, views.keys())

    main = views[config.publish.main_output]
    pages = Pages.load(config)
    fetched = any(state.last_attempt is not None for state in catalog.states.values())
    index = index_html(
        config,
        pages,
        main,
        list(views.values()),
        fetched=fetched,
        has_commentary=bool(catalog.pages),
    )
    writer.write("index.html", index)
    _write_commentary_pages(config, catalog, pages, writer, out_dir)
    writer.write("sources.opml", sources_opml(config, catalog))
    writer.write("embed.js", EMBED_JS.encode("utf-8"))
    # The hubs fetch what they are told of: announce once the feeds are in place.
    written = writer.written
    if unannounced:
        written = [*written, *writer.unchanged]
    hubs = announce(config, out_dir, changed_feed_urls(views.values(), written))
    websub = [hub.as_json() for hub in hubs]
    states = list(catalog.states.values())
    writer.write(HEALTH_FILE, health_of(config, storage, states, websub, now, heartbeat))
    return PublishReport(
        written=tuple(writer.written),
        unchanged=tuple(writer.unchanged),
        removed=removed,
        entries={name: len(view.entries) for name, view in views.items()},
        problems=tuple(str(p) for p in catalog.house.problems),
        fetched=fetched,
    )


# What publish writes in out_dir besides the feeds (and the relate stage: PUBLISHED).
_WRITTEN = ("index.html", "sources.opml", "embed.js", "embed", PAGES_DIR)


def foreign_files(config: Config, out_dir: Path) -> list[str]:
    """The names in ``out_dir`` that publish (or the relate stage before it) would write
    over or remove there (index.html, commentary/, related/, a feed of an output's
    name, ...) though nothing says publish wrote them: no health.json, which it writes
    every time, nor its mark (:func:`mark_own`).  [] for a new directory, one without
    such names (a file of another name is never touched), or one published before."""
    if (out_dir / HEALTH_FILE).exists() or (out_dir / OWN_MARK).exists():
        return []
    # The relate stage's mark vouches for its own files alone: a site may embed the
    # widget from its own directory, whose index.html publish must not take.
    related = () if (out_dir / EXPORTED).exists() else RELATED_FILES
    outputs = expand_outputs(config)
    feeds = [f"{o.name}.{suffix}" for o in outputs for suffix in FEED_SUFFIXES]
    try:
        found = [out_dir / n for n in (*_WRITTEN, *related, *feeds) if (out_dir / n).exists()]
        return [path.name + ("/" if path.is_dir() else "") for path in found]
    except OSError:
        return []  # unreadable: writing there says why


def mark_own(out_dir: Path) -> None:
    """Mark ``out_dir`` as publish's (see :func:`foreign_files`), making it if need be."""
    mark = out_dir / OWN_MARK
    if not mark.exists():
        out_dir.mkdir(parents=True, exist_ok=True)
        mark.write_text(
            "aggregator publishes here: it writes and removes its files in this directory\n",
            encoding="utf-8",
        )


def _remove_dropped_outputs(out_dir: Path, names: Collection[str]) -> tuple[Path, ...]:
    """Remove the feeds of outputs no longer configured (removed or renamed in
    feeds.yaml, or a ``per`` output whose source or tag is gone): left in place, such a
    feed would look alive, unchanged forever, to whoever subscribed to it.  They are
    known by ``embed/<name>.json``, which publish writes for every output and nothing
    else writes; a file of anyone else's in out_dir is never touched, nor an archive
    (``<name>/archive/``: final documents stay where readers walking them find them)."""
    removed = []
    for embed in sorted((out_dir / "embed").glob("*.json")):
        name = embed.name.removesuffix(".json")
        if name in names:
            continue
        for path in (*(out_dir / f"{name}.{suffix}" for suffix in FEED_SUFFIXES), embed):
            try:
                path.unlink()
            except FileNotFoundError:
                continue
            removed.append(path)
    return tuple(removed)


def _write_commentary_pages(
    config: Config, catalog: Catalog, pages: Pages, writer: _Writer, out_dir: Path
) -> None:
    """output/commentary/<slug>.html for every commentary, and commentary/index.html."""
    directory = out_dir / PAGES_DIR
    directory.mkdir(exist_ok=True)
    remove_stale_temp_files(directory)
    listed = []
    for key, page in sorted(catalog.pages.items(), key=lambda kv: kv[1]):
        house = catalog.house.entries[key]
        view = commentary_entry_view(house, catalog)
        canonical = http_uri(house.commentary.link) or catalog.page_url(key) or page
        # Its own list if the relate stage made one, else the list of what it comments on.
        related = related_items(catalog.related_dir, [key, *(ref.key for ref in house.sources)])
        html = commentary_page(
            config,
            pages,
            house,
            view,
            canonical=canonical,
            house_feed=catalog.house_feed,
            related=related,
        )
        writer.write(page, html)
        listed.append((page.removeprefix(PAGES_DIR + "/"), view))
    listed.sort(key=lambda pair: (pair[1].published, pair[0]), reverse=True)
    index_url = site_url(config, f"{PAGES_DIR}/index.html")
    writer.write(f"{PAGES_DIR}/index.html", commentary_index(config, pages, listed, index_url))
    keep = {Path(page).name for page in catalog.pages.values()} | {"index.html"}
    for stale in directory.glob("*.html"):
        if stale.name not in keep:  # a commentary removed or renamed
            stale.unlink()


# The feed's own <updated> comes before any entry (and its atom:source).
_FEED_UPDATED = re.compile(rb"<updated>([^<]{10,40})</updated>")


def _first_published(out_dir: Path, name: str, now: datetime | None) -> datetime:
    """When output ``name`` was first published: the time its Atom file already
    carries, else ``now`` (the clock), in whole seconds."""
    try:
        with (out_dir / f"{name}.atom").open("rb") as file:
            head = file.read(8192)
    except OSError:
        head = b""
    found = _FEED_UPDATED.search(head.split(b"<entry", 1)[0])
    if found:
        try:
            kept = datetime.fromisoformat(found.group(1).decode("ascii"))
        except (UnicodeDecodeError, ValueError):
            kept = None
        if kept is not None and kept.tzinfo is not None and kept.year > 1970:
            return kept.astimezone(UTC)
    return (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)


def _house_feed(config: Config, outputs: Sequence[OutputConfig]) -> str | None:
    """The output that carries the house's commentary alone, else the main one."""
    for output in outputs:
        if tuple(output.kinds) == ("commentary",) and not output.sources:
            return output.name
    return config.publish.main_output


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
