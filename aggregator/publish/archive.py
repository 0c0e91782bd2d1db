"""Complete archives of an output: RFC 5005 ("Feed Paging and Archiving") section 4.

An output with ``archive: true`` keeps its subscription document (``<name>.atom``,
``.rss``) as it is, the newest ``max_entries``, and writes every older entry it selects
to monthly archive documents::

    output/<name>/archive/2026-10.atom   (and .rss)
    output/<name>/archive/2026-11.atom

Each archive document carries ``<fh:archive/>``, ``rel="current"`` (the subscription
document), ``rel="prev-archive"`` and ``rel="next-archive"`` (its neighbours in the
chain), and the subscription document links ``rel="prev-archive"`` to the newest one.
A client that walks the chain from the subscription document sees every entry once.

A month (UTC, by the entry's published time) is in the archive when entries of it have
left the subscription document.  Archive documents are immutable once final, as RFC
5005 asks: a month becomes final when every entry of it has left the subscription
document and a later archive document exists (its ``next-archive`` link is then
known).  Until then it is rewritten (only when its bytes change, like every output).
Final months are listed in ``<name>/archive/.final.json`` and never written again,
even when the store later prunes their items.  An item that arrives with a published
time inside a final month is left out of the archive (it would change an immutable
document); it still appears in the subscription document while it is new enough.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from urllib.parse import quote, urljoin

from aggregator.config import Config
from aggregator.models import StoredItem
from aggregator.publish.feeds import EntryView, FeedView, render_atom, render_rss
from aggregator.publish.select import Catalog, Selection, select_entries
from aggregator.store import Storage
from aggregator.text.urls import as_uri

__all__ = [
    "ARCHIVE_FORMATS",
    "ArchivePlan",
    "archive_chain",
    "archive_dir",
    "archive_output",
    "archive_url",
    "month_of",
]

ARCHIVE_FORMATS = {"atom": ".atom", "rss": ".rss"}
_FINAL = ".final.json"
# The selection of an archived output without its size and age limits.
UNLIMITED = 1 << 62


def month_of(stored: StoredItem) -> str:
    return stored.published.strftime("%Y-%m")


def archive_dir(out_dir: Path, name: str) -> Path:
    return out_dir / name / "archive"


def archive_url(config: Config, name: str, month: str, fmt: str) -> str:
    base = config.site.feeds_url or config.site.link
    if not base.endswith("/"):
        base += "/"
    path = f"{quote(name)}/archive/{month}{ARCHIVE_FORMATS[fmt]}"
    return as_uri(urljoin(base, path)) or ""


@dataclass(frozen=True)
class ArchivePlan:
    """What one archived output writes this run."""

    months: tuple[str, ...]  # the whole chain, oldest first
    write: dict[str, list[StoredItem]]  # month -> its entries, newest first (non-final months)
    final: tuple[str, ...]  # months final after this run
    newly_final: tuple[str, ...]  # months that become final with this run's write


def archive_chain(
    subscription: Sequence[StoredItem], everything: Sequence[StoredItem], final: Sequence[str]
) -> ArchivePlan:
    """Which months to (re)write, given the subscription document's entries, every
    entry the output selects (newest first) and the months already final."""
    current = {s.key for s in subscription}
    oldest_current = min(((s.published, s.key) for s in subscription), default=None)
    final_set = set(final)
    by_month: dict[str, list[StoredItem]] = {}
    for stored in everything:
        if stored.key in current:
            continue
        if oldest_current is not None and (stored.published, stored.key) > oldest_current:
            continue  # newer than the subscription document's oldest: not archived yet
        month = month_of(stored)
        if month in final_set:
            continue
        by_month.setdefault(month, []).append(stored)
    chain = sorted(final_set | set(by_month))
    open_month = (
        month_of(min(subscription, key=lambda s: (s.published, s.key))) if subscription else None
    )
    newly_final = []
    for i, month in enumerate(chain):
        if month in final_set:
            continue
        left_entirely = open_month is None or month < open_month
        if left_entirely and i + 1 < len(chain):
            newly_final.append(month)
    return ArchivePlan(
        months=tuple(chain),
        write=by_month,
        final=tuple(sorted(final_set | set(newly_final))),
        newly_final=tuple(newly_final),
    )


def read_final(directory: Path) -> list[str]:
    with contextlib.suppress(OSError, ValueError):
        data = json.loads((directory / _FINAL).read_text(encoding="utf-8"))
        if isinstance(data, list):
            return [m for m in data if isinstance(m, str)]
    return []


def write_archives(
    config: Config,
    current: FeedView,
    plan: ArchivePlan,
    views: Callable[[StoredItem], EntryView],
    write: Callable[[str, bytes], None],
) -> tuple[tuple[str, str], ...]:
    """Write the plan's documents with ``write(relative path, bytes)``; return the
    links the subscription document carries (its prev-archive)."""
    name = current.name
    months = plan.months
    for i, month in enumerate(months):
        if month not in plan.write:
            continue  # final: never rewritten
        entries = tuple(views(s) for s in plan.write[month])
        for fmt, ext in ARCHIVE_FORMATS.items():
            links: list[tuple[str, str]] = [("current", current.self_urls[fmt])]
            if i > 0:
                links.append(("prev-archive", archive_url(config, name, months[i - 1], fmt)))
            if i + 1 < len(months):
                links.append(("next-archive", archive_url(config, name, months[i + 1], fmt)))
            view = replace(
                current,
                title=f"{current.title} ({month})",
                updated=max((e.updated for e in entries), default=current.updated),
                self_urls={**current.self_urls, fmt: archive_url(config, name, month, fmt)},
                entries=entries,
                links=(*current.links, *links),
                archive=True,
            )
            render = render_atom if fmt == "atom" else render_rss
            write(f"{name}/archive/{month}{ext}", render(view))
    if plan.newly_final or plan.final:
        data = json.dumps(list(plan.final), indent=0) + "\n"
        write(f"{name}/archive/{_FINAL}", data.encode("utf-8"))
    if not months:
        return ()
    return tuple(
        ("prev-archive", archive_url(config, name, months[-1], fmt)) for fmt in ARCHIVE_FORMATS
    )


def archive_output(
    config: Config,
    storage: Storage,
    selection: Selection,
    catalog: Catalog,
    newest: datetime | None,
    subscription: Sequence[StoredItem],
    current: FeedView,
    views: Callable[[StoredItem], EntryView],
    out_dir: Path,
    write: Callable[[str, bytes], None],
) -> FeedView:
    """Write ``current``'s archive documents; return it with its prev-archive links."""
    unlimited = replace(selection.output, max_entries=UNLIMITED, max_age=None)
    everything = select_entries(storage, [Selection.compile(unlimited, catalog, newest)], catalog)
    directory = archive_dir(out_dir, current.name)
    plan = archive_chain(subscription, everything[unlimited.name], read_final(directory))
    if plan.write or plan.newly_final:
        directory.mkdir(parents=True, exist_ok=True)
    links = write_archives(config, current, plan, views, write)
    format_links = {fmt: (link,) for fmt, link in zip(ARCHIVE_FORMATS, links, strict=False)}
    return replace(current, format_links=format_links) if format_links else current
