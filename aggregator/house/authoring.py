"""Authoring: `aggregator comment new` -- a commentary file pre-filled from a stored item."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import yaml

from aggregator.config import Config
from aggregator.house.entries import SourceRef
from aggregator.house.load import CommentaryError, commentary_dir
from aggregator.models import StoredItem
from aggregator.store import Storage
from aggregator.text.slugs import latin

__all__ = ["find_item", "new_file", "slugify"]


def slugify(text: str, *, limit: int = 60) -> str:
    """A file-name-safe Latin slug: "Стоп, снято!" -> "stop-sniato"."""
    slug = "-".join(re.findall(r"[a-z0-9]+", latin(text)))
    if len(slug) > limit:
        slug = slug[:limit].rsplit("-", 1)[0]
    return slug or "commentary"


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


def new_file(
    config: Config, stored: StoredItem, source: SourceRef, *, now: datetime
) -> tuple[Path, str]:
    """(path, text) of a new commentary file on ``stored`` (credited as ``source``,
    ``entries.source_ref``), ready for an editor to fill in.

    Pre-filled: a title of the house's own for the editor to rewrite (the heading's
    wording in the item's language before the item's title, so that the outputs never
    list the agency's title twice), the date, a slug, the item as ``source:``, its
    source's name as the outputs show it as ``agency:`` and its lead paragraph as
    ``quote:``.  No ``link:``:
    the page publish derives (commentary/<slug>.html, under site.feeds_url) is the
    entry's link, and a derived URL written into the file would go stale when the
    slug or feeds_url changes; the line is there as a comment, for a house that
    publishes the commentary on a page of its own.  The body is left for the comment;
    until it is written, the file is reported as an error and not published.
    """
    directory = commentary_dir(config)
    if directory is None:
        raise CommentaryError(
            config.path or "feeds.yaml",
            None,
            "house.commentary_dir is not set; add e.g. 'commentary_dir: commentary' under 'house:'",
        )
    item = stored.item
    local = now.astimezone(config.site.tz)
    slug = slugify(item.title)
    title = f"{_heading(config, item.language)} {item.title}".strip()
    path = directory / f"{local:%Y-%m-%d}-{slug}.md"

    def value(text: str) -> str:
        return yaml.safe_dump(text, allow_unicode=True, width=10_000, default_style='"').strip()

    text = "\n".join(
        [
            "---",
            f"title: {value(title)}  # edit: the house's own title",
            f"date: {local:%Y-%m-%d %H:%M}",
            f"slug: {slug}",
            "tags: []",
            'author: ""',
            f"source: {value(item.link or stored.key)}",
            f"agency: {value(source.name)}",
            f"quote: {value(source.lead)}",
            f"# link: the house's own page, if it has one; without it the entry links to"
            f" its page commentary/{slug}.html",
            "---",
            "",
            "<!-- Write the comment here, in Markdown; it is published below the quote. -->",
            "",
        ]
    )
    return path, text


def _heading(config: Config, language: str | None) -> str:
    """house.heading in ``language`` (else the site's), e.g. "Евразия24 комментирует:".
    The house is named as the published pages name it: house.name, else site.house, else
    the site's title (never nothing: " комментирует:" is no heading)."""
    headings = config.house.heading
    primary = (language or "").split("-")[0].lower()
    wording = headings.get(primary) or headings.get(config.site.language) or ""
    house = config.house.name or config.site.house or config.site.title
    return wording.replace("{house}", house).strip()
