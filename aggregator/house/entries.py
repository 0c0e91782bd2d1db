"""Every commentary, loaded and matched, with the stored item it is published as.

publish asks ``HouseCommentary.load()`` once per run.  A post of the house feed is its own
stored item; a commentary file gets one made up here, keyed "commentary/<slug>", never
written to the store.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass, field

from aggregator.config import Config, shown_name
from aggregator.house.cache import match_changed
from aggregator.house.load import Commentary, Problem, house_source_ids, load_all
from aggregator.house.match import Match
from aggregator.house.quotes import blocks
from aggregator.models import Item, SourceState, StoredItem
from aggregator.store import Storage
from aggregator.text.html import plain_text, shorten

__all__ = [
    "FILE_KEY_PREFIX",
    "HouseCommentary",
    "HouseEntry",
    "SourceRef",
    "source_ref",
]

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
        house_ids = house_source_ids(config)
        posts = storage.iter_items(source_ids=house_ids) if house_ids else ()
        loaded = load_all(config, posts)
        # Matched in proportion to what changed since the last run (cache.py).
        matches: dict[str, Match] = match_changed(loaded.commentary, storage, config)
        result = cls(problems=list(loaded.problems))
        states: dict[str, SourceState] | None = None  # read once, if anything is credited
        for commentary in loaded.commentary:
            match = matches[commentary.id]
            if match.error:
                result.problems.append(
                    Problem(commentary.where, commentary.source_line, match.error)
                )
                continue
            sources = ()
            if match.confident:
                if states is None:
                    states = {s.source_id: s for s in storage.source_states()}
                sources = tuple(
                    source_ref(stored, config, states)
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


def source_ref(stored: StoredItem, config: Config, states: Mapping[str, SourceState]) -> SourceRef:
    """``stored`` as a commentary credits it: named as the outputs name its source (the
    first of its sources still configured), its configured name, else its feed's title
    (``states``, by source id), else its id."""
    item = stored.item
    lead = ""
    for fragment in (item.summary, item.content):
        found = blocks(fragment or "")
        if found:
            lead = found[0][1]
            break
    lead = shorten(plain_text(lead), _LEAD_CHARS)
    return SourceRef(
        key=stored.key,
        name=_shown_name(stored, config, states),
        title=item.title,
        link=item.link,
        item_id=item.id,
        lead=lead,
    )


def _shown_name(stored: StoredItem, config: Config, states: Mapping[str, SourceState]) -> str:
    source_id = config.credited_id(stored.source_ids)
    if not source_id:
        return ""
    state = states.get(source_id)
    return shown_name(source_id, config.configured_source(source_id), state and state.title)
