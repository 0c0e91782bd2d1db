"""index.html: the latest entries of ``publish.main_output``, with links to every feed."""

from __future__ import annotations

import html
from collections.abc import Sequence
from urllib.parse import quote

from aggregator.config import (
    Config,
)
from aggregator.publish.feeds import FEED_TYPES, FORMATS, FeedView, language_tag
from aggregator.text.html import shorten
from aggregator.text.xml import clean_text


def index_html(config: Config, main: FeedView, feeds: Sequence[FeedView]) -> bytes:
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
