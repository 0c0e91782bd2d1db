"""A house commentary's published HTML: attributed quote(s), the house's heading, the
comment and the repost notice."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import TYPE_CHECKING

from aggregator.config import Config
from aggregator.house import Commentary, SourceRef
from aggregator.parse.sanitize import sanitize_html

if TYPE_CHECKING:
    from aggregator.house import Match


def _wording(templates: dict[str, str], language: str, fallback: str) -> str:
    if language in templates:
        return templates[language]
    return templates.get(fallback) or next(iter(templates.values()), "")


def render_html(
    commentary: Commentary, match: Match, sources: Sequence[SourceRef], config: Config
) -> str:
    """The published content: attributed quote(s), the house's heading, the comment, the notice.

    The wording of the attribution and the heading is ``house.attribution`` /
    ``house.heading`` in the commentary's language.  The agency named is the one the
    editor named, else the matched source's name; it links to the source item.
    """
    house = config.house
    language = commentary.language
    attribution = _wording(house.attribution, language, config.site.language)
    heading = _wording(house.heading, language, config.site.language)
    name = house.name or config.site.house or config.site.title
    quotes = commentary.quotes if commentary.separate_quote else ()
    lines: list[str] = []
    if sources:
        numbers = match.quotes if len(match.quotes) == len(sources) else range(len(sources))
        for position, (source, number) in enumerate(zip(sources, numbers, strict=False)):
            text = quotes[number] if number < len(quotes) else source.lead
            agency = commentary.agency if position == 0 and commentary.agency else source.name
            lines.append(_attribution_line(attribution, agency, source.link, text))
    else:
        for quote in quotes:
            if commentary.agency:
                lines.append(_attribution_line(attribution, commentary.agency, None, quote))
            else:
                lines.append(f"<blockquote><p>{html.escape(quote)}</p></blockquote>")
    if lines:
        lines.append(f"<h3>{html.escape(heading.replace('{house}', name))}</h3>")
    lines.append(commentary.comment_html)
    if config.site.repost_notice:
        lines.append(f"<p>{html.escape(config.site.repost_notice)}</p>")
    return sanitize_html("\n".join(lines))


def _attribution_line(template: str, agency: str, link: str | None, quote: str) -> str:
    before, _, after = template.partition("{agency}")
    name = html.escape(agency)
    if link:
        name = f'<a href="{html.escape(link)}">{name}</a>'
    return f"<p>{html.escape(before)}{name}{html.escape(after)} «{html.escape(quote)}»</p>"
