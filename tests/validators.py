"""Third-party judges of our outputs: xmllint, jsonschema, newsboat, sfeed.

Each helper skips the calling test, with the reason and the Debian package to
install, when its tool is missing; it never passes silently.  The sample store
the publish and reader tests share is at the bottom.
"""

from __future__ import annotations

import email.utils
import json
import shutil
import sqlite3
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from lxml import etree

from aggregator.config import Config, OutputConfig, PublishConfig, SiteConfig, SourceConfig
from aggregator.ingest.update import record_fetch
from aggregator.models import Author, Enclosure, Item
from aggregator.store import Storage, open_storage

SCHEMAS = Path(__file__).resolve().parents[1].parent / "shared" / "schemas"
ATOM_RNG = SCHEMAS / "atom-rfc4287.rng"
JSONFEED_SCHEMA = SCHEMAS / "jsonfeed-schema-v1.1.json"
ATOM = "{http://www.w3.org/2005/Atom}"
DC = "{http://purl.org/dc/elements/1.1/}"

# Debian package that provides each tool (.ci/run installs them).
PACKAGES = {"xmllint": "libxml2-utils", "newsboat": "newsboat", "sfeed": "sfeed"}


def need_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (apt-get install {PACKAGES.get(name, name)})")
    return path


def need_file(path: Path) -> Path:
    if not path.is_file():
        pytest.skip(f"{path} is absent (the shared schemas live next to the repository)")
    return path


# --- validators ------------------------------------------------------------------


def relaxng_errors(document: Path) -> str:
    """xmllint's complaints about an Atom document under RFC 4287's schema ("" if valid)."""
    xmllint = need_tool("xmllint")
    schema = need_file(ATOM_RNG)
    result = subprocess.run(
        [xmllint, "--noout", "--relaxng", str(schema), str(document)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return "" if result.returncode == 0 else result.stderr


def jsonfeed_errors(document: Path) -> list[str]:
    """JSON Feed 1.1 schema violations, with format checks (uri, date-time) on."""
    import jsonschema

    schema = json.loads(need_file(JSONFEED_SCHEMA).read_text(encoding="utf-8"))
    validator_class = jsonschema.validators.validator_for(schema)
    validator = validator_class(schema, format_checker=validator_class.FORMAT_CHECKER)
    data = json.loads(document.read_text(encoding="utf-8"))
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
        for e in validator.iter_errors(data)
    ]


def rss_errors(document: Path) -> list[str]:
    """RSS 2.0 rules readers rely on: required channel elements, RFC 822 dates with a
    zone, and guid isPermaLink="true" only for a guid that is the item's link."""
    problems: list[str] = []
    root = etree.parse(str(document)).getroot()
    if root.tag != "rss" or root.get("version") != "2.0":
        return [f"root is <{root.tag} version={root.get('version')!r}>, not <rss version='2.0'>"]
    channel = root.find("channel")
    if channel is None:
        return ["no <channel>"]
    for name in ("title", "link", "description"):
        if not (channel.findtext(name) or "").strip():
            problems.append(f"channel has no <{name}>")
    dates = [("channel", channel.find(n)) for n in ("pubDate", "lastBuildDate")]
    for index, item in enumerate(channel.findall("item")):
        where = f"item {index}"
        dates.append((where, item.find("pubDate")))
        if item.find("title") is None and item.find("description") is None:
            problems.append(f"{where}: neither <title> nor <description>")
        guid = item.find("guid")
        if guid is not None:
            permalink = guid.get("isPermaLink", "true") == "true"  # RSS default: true
            if permalink and guid.text != item.findtext("link"):
                problems.append(f"{where}: isPermaLink guid {guid.text!r} is not the item link")
        enclosure = item.find("enclosure")
        if enclosure is not None and not all(enclosure.get(a) for a in ("url", "length", "type")):
            problems.append(f"{where}: <enclosure> lacks url, length or type")
    for where, element in dates:
        if element is None:
            continue
        parsed = email.utils.parsedate_tz(element.text or "")
        if parsed is None or parsed[9] is None:
            problems.append(f"{where}: <{element.tag}> {element.text!r} is not RFC 822 with a zone")
    return problems


# --- what we wrote, read with lxml ----------------------------------------------


def atom_entries(document: Path) -> list[dict[str, str]]:
    root = etree.parse(str(document)).getroot()
    entries = []
    for entry in root.iter(f"{ATOM}entry"):
        link = entry.find(f"{ATOM}link[@rel='alternate']")
        entries.append(
            {
                "id": entry.findtext(f"{ATOM}id"),
                "title": entry.findtext(f"{ATOM}title"),
                "link": link.get("href") if link is not None else "",
            }
        )
    return entries


def rss_entries(document: Path) -> list[dict[str, str]]:
    root = etree.parse(str(document)).getroot()
    return [
        {
            "id": item.findtext("guid"),
            "title": item.findtext("title"),
            "link": item.findtext("link") or "",
        }
        for item in root.iter("item")
    ]


# --- real readers ----------------------------------------------------------------


def newsboat_entries(document: Path, workdir: Path) -> list[dict[str, str]]:
    """What newsboat stores after reloading ``document`` headless, in feed order.

    newsboat reads the feed through an ``exec:`` URL (no network) and we read its
    SQLite cache.  One cache per document: newsboat treats a guid as global.
    """
    newsboat = need_tool("newsboat")
    workdir.mkdir(parents=True, exist_ok=True)
    urls = workdir / "urls"
    urls.write_text(f'"exec:cat {document}"\n', encoding="utf-8")
    (workdir / "config").write_text("", encoding="utf-8")
    cache = workdir / "cache.db"
    result = subprocess.run(
        [
            newsboat,
            "-x",
            "reload",
            "-u",
            str(urls),
            "-c",
            str(cache),
            "-C",
            str(workdir / "config"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={"HOME": str(workdir), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
    )
    assert result.returncode == 0, f"newsboat failed: {result.stderr}"
    with sqlite3.connect(cache) as db:
        rows = db.execute(
            "SELECT guid, title, url FROM rss_item ORDER BY pubDate DESC, id"
        ).fetchall()
    return [{"id": guid, "title": title, "link": url} for guid, title, url in rows]


SFEED_FIELDS = (
    "timestamp",
    "title",
    "link",
    "content",
    "content_type",
    "id",
    "author",
    "enclosure",
    "category",
)


def sfeed_entries(document: Path) -> list[dict[str, str]]:
    """sfeed's TSV for ``document`` (its fields, unescaped), in feed order."""
    sfeed = need_tool("sfeed")
    result = subprocess.run(
        [sfeed], input=document.read_bytes(), capture_output=True, timeout=60, check=True
    )
    entries = []
    for line in result.stdout.decode("utf-8").splitlines():
        fields = [_sfeed_unescape(f) for f in line.split("\t")]
        entries.append(dict(zip(SFEED_FIELDS, fields, strict=False)))
    return entries


def _sfeed_unescape(field: str) -> str:
    return field.replace("\\t", "\t").replace("\\n", "\n").replace("\\\\", "\\")


# --- a sample store --------------------------------------------------------------

FETCHED_AT = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
KAZAKH = "Қазақстан: ә ғ қ ң ө ұ ү һ і — Әлем жаңалықтары"
RUSSIAN = "Новости: съешь же ещё этих мягких французских булок"
HOSTILE_TITLES = ("<script>alert(1)</script>", '"><img src=x onerror=alert(1)>')


def sample_config(**site_overrides: object) -> Config:
    site = SiteConfig(
        title="Евразия24",
        link="https://eurasia24.kz/",
        language="ru",
        description="Новости Казахстана и мира",
        house="Евразия24",
        feeds_url="https://eurasia24.kz/feeds/",
        repost_notice="Перепечатка и копирование материалов допускаются только с указанием ссылки на источник.",
        author="Редакция Евразия24",
    )
    site = SiteConfig(**{**vars(site), **site_overrides})
    sources = (
        SourceConfig(
            id="tengri",
            name="Tengrinews",
            url="https://tengrinews.kz/news.rss",
            language="ru",
            tags=("kz", "news"),
        ),
        SourceConfig(
            id="inform-kk",
            name="Kazinform (қазақша)",
            url="https://www.inform.kz/rss/kaz.xml",
            language="kk",
            tags=("kz",),
        ),
        SourceConfig(
            id="bbc",
            name="BBC <World>",
            url="https://feeds.bbci.co.uk/news/world/rss.xml",
            language="en",
            tags=("world",),
        ),
        SourceConfig(
            id="house", name="Евразия24 CMS", url="https://eurasia24.kz/cms.rss", house=True
        ),
    )
    outputs = (
        OutputConfig(name="all", title="Евразия24: все новости", repost_notice=True),
        OutputConfig(name="source-{id}", per="source", title="{name}"),
        OutputConfig(name="tag-{tag}", per="tag"),
        OutputConfig(name="commentary", kinds=("commentary",)),
        OutputConfig(name="kazakh", languages=("kk",)),
    )
    return Config(
        site=site, sources=sources, outputs=outputs, publish=PublishConfig(html_entries=20)
    )


def sample_items(source_id: str) -> list[Item]:
    """A few items per source, one hour apart, with everything an entry can carry."""
    base = {"tengri": 0, "inform-kk": 1, "bbc": 2, "house": 3}[source_id] * 10
    titles = {
        "tengri": [RUSSIAN, HOSTILE_TITLES[0], "Экономика: курс тенге"],
        "inform-kk": [KAZAKH, HOSTILE_TITLES[1], "Үкімет отырысы өтті"],
        "bbc": ["World news & analysis", "Markets <rally>", "Weather"],
        "house": ["Комментарий редакции", "Пікір: ә ғ қ ң ө ұ ү һ і", "Итоги недели"],
    }[source_id]
    items = []
    for index, title in enumerate(titles):
        published = FETCHED_AT - timedelta(hours=base + index)
        items.append(
            Item(
                id=f"https://{source_id}.example/guid/{index}",
                title=title,
                link=f"https://{source_id}.example/новости/{index}",
                summary=f"<p>Кратко: {title}</p>".replace("<script>", "&lt;script&gt;"),
                content=f"<p>Текст: <b>{source_id}</b> {index}</p>",
                published=published,
                updated=published + timedelta(minutes=5),
                authors=(
                    Author(name="Айгүл Сәрсенова"),
                    Author(name="Desk", email="desk@example.kz"),
                ),
                categories=("Политика",) if index == 0 else ("Экономика", "Спорт"),
                enclosures=(
                    (
                        Enclosure(
                            url=f"https://{source_id}.example/photo{index}.jpg",
                            type="image/jpeg",
                            length=12345,
                        ),
                    )
                    if index == 1
                    else ()
                ),
                language=None,
            )
        )
    return items


def build_store(path: str | Path, config: Config | None = None) -> Storage:
    """A real store (a SQLite path or a PostgreSQL URL) holding :func:`sample_items` for every configured source."""
    config = config or sample_config()
    storage = open_storage(path)
    storage.sync_sources(config.sources)
    for source in config.sources:
        state = storage.get_source_state(source.id)
        assert state is not None
        state.title = source.name
        state.link = f"https://{source.id}.example/"
        state.feed_updated = FETCHED_AT - timedelta(minutes=30)
        state.last_attempt = state.last_success = FETCHED_AT
        record_fetch(storage, state, sample_items(source.id), fetched_at=FETCHED_AT)
    return storage
