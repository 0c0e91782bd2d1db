"""The HTML pages: index.html, a page per house commentary (commentary/<slug>.html) and
the commentary index (commentary/index.html).

They come from Jinja2 templates shipped beside this module (``templates/``), with their
words per language in ``templates/strings.yaml`` (ru, kk, en); ``publish.templates``
names a directory whose files replace the shipped ones of the same name (and whose
``strings.yaml`` overrides single words). The engine escapes every value; the only
markup passed through is entry content, which publish sanitized.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from urllib.parse import quote

import jinja2
import yaml

from aggregator.config import Config, ConfigError, resolve_path
from aggregator.house import HouseEntry
from aggregator.publish.feeds import FEED_TYPES, FORMATS, EntryView, FeedView, language_tag
from aggregator.text.html import shorten
from aggregator.text.urls import http_uri
from aggregator.text.words import primary_language
from aggregator.text.xml import clean_text

TEMPLATES = Path(__file__).with_name("templates")
_LEAD_CHARS = 300
# "rivers , from": text that stood in inline tags leaves a space before punctuation.
_SPACE_BEFORE_PUNCTUATION = re.compile(r"\s+([,.;:!?…»)\]])")
_TIME_FORMAT = "%Y-%m-%d %H:%M"


@dataclass(frozen=True)
class Pages:
    """The template environment and the words of one site."""

    environment: jinja2.Environment
    strings: Mapping[str, Mapping[str, str]]

    @classmethod
    def load(cls, config: Config) -> Pages:
        problem = templates_problem(config)
        if problem is not None:
            raise ConfigError(problem)
        override = (
            resolve_path(config, config.publish.templates) if config.publish.templates else None
        )
        loaders: list[jinja2.BaseLoader] = [jinja2.FileSystemLoader(str(TEMPLATES))]
        strings = {lang: dict(words) for lang, words in _shipped_strings().items()}
        if override is not None:
            loaders.insert(0, jinja2.FileSystemLoader(str(override)))
            custom = override / "strings.yaml"
            if custom.is_file():
                for lang, words in _custom_strings(custom).items():
                    strings.setdefault(lang, {}).update(words)
        environment = jinja2.Environment(
            loader=jinja2.ChoiceLoader(loaders),
            autoescape=True,  # every value escaped by the engine, never by hand
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
        )
        return cls(environment, strings)

    def words(self, language: str | None, fallback: str) -> Mapping[str, str]:
        for candidate in (primary_language(language), primary_language(fallback), "en"):
            if candidate in self.strings:
                base = dict(self.strings.get("en", {}))
                base.update(self.strings[candidate])
                return base
        return {}

    def render(self, template: str, **context: object) -> bytes:
        """``template`` rendered; a mistake in a template (publish.templates' or a
        shipped one) is a ConfigError naming its file and line."""
        try:
            return self.environment.get_template(template).render(**context).encode("utf-8")
        except jinja2.TemplateSyntaxError as exc:
            where = f"{exc.filename or template}:{exc.lineno}"
            raise ConfigError(f"{where}: the template cannot be read: {exc.message}") from None
        except jinja2.TemplateError as exc:
            where = self._file(template)
            raise ConfigError(f"{where}: the template cannot be rendered: {exc}") from None
        except UnicodeDecodeError:
            raise ConfigError(f"{self._file(template)}: not UTF-8; save it as UTF-8") from None

    def _file(self, template: str) -> str:
        """The file ``template`` is read from: publish.templates' own, else the shipped."""
        for loader in getattr(self.environment.loader, "loaders", ()):
            for directory in getattr(loader, "searchpath", ()):
                if (Path(directory) / template).is_file():
                    return str(Path(directory) / template)
        return template


def _custom_strings(path: Path) -> dict[str, dict[str, str]]:
    """publish.templates' strings.yaml: words by language, as the shipped one has them."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8; save it as UTF-8") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        raise ConfigError(f"{where}: not valid YAML: {exc.problem or exc}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(document, dict) or not all(
        isinstance(words, dict) or words is None for words in document.values()
    ):
        raise ConfigError(
            f"{path}: expected the words by language, as the shipped strings.yaml has them: "
            "a line 'ru:', then indented 'key: word' lines"
        )
    return {
        str(lang): {str(k): str(v) for k, v in (words or {}).items()}
        for lang, words in document.items()
    }


def templates_problem(config: Config) -> str | None:
    """What is wrong with ``publish.templates`` (a directory that is not there: the
    site would be published with the shipped pages, the editor's never read), or None."""
    if not config.publish.templates:
        return None
    directory = resolve_path(config, config.publish.templates)
    if directory.is_dir():
        return None
    return (
        f"{config.path}: publish.templates: {directory} is not a directory; create it with "
        f"the templates to change (copies of those in {TEMPLATES}), or remove the key"
    )


@cache
def _shipped_strings() -> dict[str, dict[str, str]]:
    return yaml.safe_load((TEMPLATES / "strings.yaml").read_text(encoding="utf-8"))


def local_time(config: Config, moment: datetime) -> str:
    """A time as a person in ``site.timezone`` reads it."""
    return moment.astimezone(config.site.tz).strftime(_TIME_FORMAT)


def reader_lead(text: str) -> str:
    return shorten(_SPACE_BEFORE_PUNCTUATION.sub(r"\1", text), _LEAD_CHARS)


# The formats by their names: Atom is a name, not an acronym.
_FORMAT_NAMES = {"atom": "Atom", "rss": "RSS", "json": "JSON Feed"}


def _feed_links(name: str, prefix: str = "") -> list[dict[str, str]]:
    return [
        {"href": prefix + quote(name) + ext, "type": FEED_TYPES[fmt], "label": _FORMAT_NAMES[fmt]}
        for fmt, ext in FORMATS.items()
    ]


def index_html(
    config: Config,
    pages: Pages,
    main: FeedView,
    feeds: Sequence[FeedView],
    *,
    fetched: bool,
    has_commentary: bool,
) -> bytes:
    site = config.site
    language = language_tag(site.language) or "und"
    entries = [
        {
            "title": entry.title,
            "link": entry.link,
            "source": entry.source.name if entry.source is not None else "",
            "iso": entry.published.isoformat(),
            "time": local_time(config, entry.published),
            "lead": reader_lead(entry.lead),
            # "" says "unknown" (instead of inheriting the page's language).
            "lang": (entry.language or "") if entry.language != language else None,
        }
        for entry in main.entries[: max(config.publish.html_entries, 0)]
    ]
    # One line per output; the per-source feeds (one source each) folded away.
    lines, per_source = [], []
    for feed in feeds:
        line = {"title": feed.title, "links": _feed_links(feed.name)}
        (per_source if feed.single_source else lines).append(line)
    alternates = [
        {
            "type": FEED_TYPES[fmt],
            "title": f"{main.title} ({_FORMAT_NAMES[fmt]})",
            "href": quote(main.name) + ext,
        }
        for fmt, ext in FORMATS.items()
    ]
    return pages.render(
        "index.html",
        lang=language,
        t=pages.words(site.language, site.language),
        site_title=clean_text(site.title),
        site_description=clean_text(site.description),
        alternates=alternates,
        entries=entries,
        fetched=fetched,
        feeds=lines,
        per_source=per_source,
        commentary_index="commentary/index.html" if has_commentary else None,
    )


def commentary_page(
    config: Config,
    pages: Pages,
    house: HouseEntry,
    view: EntryView,
    *,
    canonical: str,
    house_feed: str | None,
    related: Sequence[Mapping[str, object]],
) -> bytes:
    """The seed page of one commentary: title, date, the attributed quote, the house's
    heading, the comment, the notice, and the "Читать далее" block from the relate
    stage's data for it."""
    site = config.site
    language = view.language or language_tag(site.language) or "und"
    alternates = []
    if house_feed:
        alternates = [
            {
                "type": FEED_TYPES[fmt],
                "title": f"{site.title} ({_FORMAT_NAMES[fmt]})",
                "href": f"../{quote(house_feed)}{ext}",
            }
            for fmt, ext in FORMATS.items()
        ]
    words = pages.words(language, site.language)
    description = reader_lead(view.lead)
    return pages.render(
        "commentary.html",
        lang=language,
        t=words,
        site_title=clean_text(site.title),
        home=http_uri(site.link) or "../index.html",
        alternates=alternates,
        page={
            "title": view.title or words.get("untitled", ""),
            "canonical": canonical,
            "description": description,
            "locale": _locale(language),
            "iso": view.published.isoformat(),
            "time": local_time(config, view.published),
            "author": ", ".join(a.name for a in view.authors if a.name),
            "content_html": view.content_html,
        },
        related=[
            {
                "title": clean_text(str(item.get("title") or "")),
                "url": item["url"],
                "source": clean_text(str(item.get("source") or "")),
                "time": _item_time(config, item.get("published")),
            }
            for item in related
        ],
    )


def commentary_index(
    config: Config, pages: Pages, entries: Iterable[tuple[str, EntryView]], canonical: str
) -> bytes:
    site = config.site
    language = language_tag(site.language) or "und"
    listed = [
        {
            "href": href,
            "title": view.title,
            "iso": view.published.isoformat(),
            "time": local_time(config, view.published),
            "lead": reader_lead(view.lead),
            "lang": (view.language or "") if view.language != language else None,
        }
        for href, view in entries
    ]
    return pages.render(
        "commentary-index.html",
        lang=language,
        t=pages.words(site.language, site.language),
        site_title=clean_text(site.title),
        home="../index.html",
        canonical=canonical,
        alternates=[],
        pages=listed,
    )


def related_items(related_dir: Path | None, keys: Iterable[str]) -> list[dict[str, object]]:
    """The related entries the relate stage wrote for the first of ``keys`` that has a
    list (``related/<key>.json``): read, never recomputed."""
    if related_dir is None:
        return []
    for key in keys:
        if not re.fullmatch(r"[0-9A-Za-z_-]+", key):
            continue
        try:
            data = json.loads((related_dir / f"{key}.json").read_bytes())
        except (OSError, ValueError):
            continue
        listed = data.get("related") if isinstance(data, dict) else None
        if not isinstance(listed, list):
            continue
        items = []
        for item in listed:
            url = http_uri(item.get("url")) if isinstance(item, dict) else None
            if url:
                items.append({**item, "url": url})
        if items:
            return items
    return []


def _item_time(config: Config, value: object) -> str:
    if not isinstance(value, str):
        return ""
    try:
        return local_time(config, datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        return ""


def _locale(language: str) -> str:
    return {"ru": "ru_RU", "kk": "kk_KZ", "en": "en_US"}.get(
        language.split("-")[0], language.replace("-", "_")
    )
