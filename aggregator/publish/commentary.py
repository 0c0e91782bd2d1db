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
    """The published content: what the house retells or quotes, the heading, the comment, the notice.

    Attribution is evidence, not parsing:

    - "<Agency> сообщает: «…»" (``house.attribution``) only for a quote the matcher found in
      that source item (``match.quote_of``), the agency being the source's configured name,
      linked to the item; the quote as written, its inner quote marks kept;
    - the house's own retelling is published as the house's text, followed by
      "По материалам <Agency>" (``house.retold``) linked to the source: never in «», never
      as a blockquote; so is a quote found in no source item (its marks dropped: nobody is
      named as having said it); a post quoting nothing credits its source the same way.
    """
    house = config.house
    language = commentary.language
    attribution = _wording(house.attribution, language, config.site.language)
    retold = _wording(house.retold, language, config.site.language)
    heading = _wording(house.heading, language, config.site.language)
    name = house.name or config.site.house or config.site.title
    quotes = commentary.quotes if commentary.separate_quote else ()
    lines: list[str] = []
    verified: set[int] = set()
    credits: list[SourceRef] = []
    for source in sources:
        number = match.quote_of(source.key)
        if 0 <= number < len(quotes) and number not in verified:
            verified.add(number)
            lines.append(_attribution_line(attribution, source.name, source.link, quotes[number]))
        else:
            credits.append(source)
    for number, quote in enumerate(quotes):
        if number not in verified:
            lines.append(f"<p>{html.escape(quote)}</p>")
    if commentary.intro_html:
        lines.append(commentary.intro_html)
    if credits:
        names = ", ".join(_agency(source) for source in credits)
        before, _, after = retold.partition("{agency}")
        lines.append(f"<p>{html.escape(before)}{names}{html.escape(after)}</p>")
    if lines:
        lines.append(f"<h3>{html.escape(heading.replace('{house}', name))}</h3>")
    lines.append(commentary.comment_html)
    if config.site.repost_notice:
        lines.append(f"<p>{html.escape(config.site.repost_notice)}</p>")
    return sanitize_html("\n".join(lines))


def _agency(source: SourceRef) -> str:
    name = html.escape(source.name)
    return f'<a href="{html.escape(source.link)}">{name}</a>' if source.link else name


def _attribution_line(template: str, agency: str, link: str | None, quote: str) -> str:
    """ "<Agency> сообщает: «quote»." -- the quote's own marks and final stop kept."""
    before, _, after = template.partition("{agency}")
    name = html.escape(agency)
    if link:
        name = f'<a href="{html.escape(link)}">{name}</a>'
    stop = "" if quote.rstrip()[-1:] in ".!?…" else "."
    quoted = f"«{html.escape(quote)}»{stop}"
    return f"<p>{html.escape(before)}{name}{html.escape(after)} {quoted}</p>"
