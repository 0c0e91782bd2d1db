"""House commentary: Markdown files and house-feed posts, read, matched and published."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree

from aggregator.cli import cli
from aggregator.config import load_config
from aggregator.house.load import (
    CommentaryError,
    from_house_item,
    load_dir,
    parse_markdown,
    without_background,
)
from aggregator.ingest.update import record_fetch
from aggregator.models import Item, StoredItem
from aggregator.publish import publish
from aggregator.store import Storage, open_storage

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "commentary" / "2024-10-03-stop-sniato.md"
ATOM = "{http://www.w3.org/2005/Atom}"
FETCHED = datetime(2024, 10, 3, 6, 0, tzinfo=UTC)
NOTICE = (
    "Перепечатка и копирование материалов допускаются только с указанием ссылки на eurasia24.media"
)
LEAD = (
    "В Актау в рамках международного кинофестиваля стран тюркского мира «Қоркыт ата» "
    "Государственный центр поддержки национального кино Республики Казахстан заключил "
    "меморандумы о сотрудничестве с государственными организациями в сфере кинематографии "
    "Азербайджана, Кыргызстана, Туркменистана, Турции и Узбекистана."
)
SOURCE_LINK = "https://www.inform.kz/ru/kazahstan-podpisal-memorandumy-a4211"
FEEDS_YAML = f"""
site:
  title: Евразия24
  link: https://eurasia24.media/
  house: Евразия24
  feeds_url: https://eurasia24.media/feeds/
  repost_notice: "{NOTICE}"
house:
  commentary_dir: commentary
sources:
  - id: kazinform-ru
    name: Казинформ
    url: https://www.inform.kz/rss/rus.xml
    language: ru
  - id: tengrinews
    name: Tengrinews
    url: https://tengrinews.kz/news.rss
    language: ru
  - id: eurasia24
    name: Евразия24
    url: https://eurasia24.media/rss.xml
    house: true
"""


@pytest.fixture
def site(tmp_path: Path, store_at) -> Path:
    """A fresh site: feeds.yaml, an empty commentary/ and a store (of each backend in
    turn, named by storage.url) with the source item."""
    feeds_yaml = FEEDS_YAML + f"storage:\n  url: {store_at('aggregator')}\n"
    (tmp_path / "feeds.yaml").write_text(feeds_yaml, encoding="utf-8")
    (tmp_path / "commentary").mkdir()
    config = load_config(tmp_path / "feeds.yaml")
    storage = open_storage(config.storage.url)
    try:
        storage.sync_sources(config.sources)
        record(storage, "kazinform-ru", source_item())
        record(storage, "tengrinews", other_item())
    finally:
        storage.close()
    return tmp_path


def source_item() -> Item:
    return Item(
        id=SOURCE_LINK,
        title="Казахстан подписал меморандумы о сотрудничестве в кино с тюркскими странами",
        link=SOURCE_LINK,
        summary=f"<p>{LEAD}</p>",
        content=f"<p>{LEAD}</p><p>Фестиваль продлится до 6 октября, в конкурсе 42 картины.</p>",
        published=FETCHED - timedelta(hours=2),
        language="ru",
    )


def other_item() -> Item:
    return Item(
        id="tengri-1",
        title="Нацбанк сохранил базовую ставку на уровне 14,25%",
        link="https://tengrinews.kz/kazakhstan_news/stavka-1/",
        summary="<p>Национальный банк Казахстана принял решение сохранить базовую ставку.</p>",
        published=FETCHED - timedelta(hours=1),
    )


def record(storage: Storage, source_id: str, *items: Item) -> None:
    state = storage.get_source_state(source_id)
    record_fetch(storage, state, list(items), fetched_at=FETCHED)


def write(site: Path, name: str, text: str) -> Path:
    path = site / "commentary" / name
    path.write_text(text.lstrip("\n"), encoding="utf-8")
    return path


def remove_kazinform(site: Path) -> str:
    """Take kazinform-ru out of the site's feeds.yaml (its items stay stored); the
    file's text before, to put it back."""
    feeds = site / "feeds.yaml"
    configured = feeds.read_text(encoding="utf-8")
    entry = (
        "  - id: kazinform-ru\n    name: Казинформ\n"
        "    url: https://www.inform.kz/rss/rus.xml\n    language: ru\n"
    )
    assert entry in configured
    feeds.write_text(configured.replace(entry, ""), encoding="utf-8")
    return configured


def publish_site(site: Path):
    config = load_config(site / "feeds.yaml")
    storage = open_storage(config.storage.url)
    try:
        return publish(config, storage, out_dir=site / "output")
    finally:
        storage.close()


def atom_entries(path: Path) -> list:
    return etree.parse(str(path)).getroot().findall(f"{ATOM}entry")


def json_items(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["items"]


# --- the issue's example, end to end -------------------------------------------------------


def test_the_issue_example_is_matched_by_its_quote_and_published_with_attribution(site):
    shutil.copy(EXAMPLE, site / "commentary" / EXAMPLE.name)

    report = publish_site(site)

    assert report.problems == ()
    assert report.entries["commentary"] == 1
    (entry,) = atom_entries(site / "output" / "commentary.atom")
    assert entry.findtext(f"{ATOM}title") == "Стоп, снято!"
    via = [link.get("href") for link in entry.findall(f"{ATOM}link") if link.get("rel") == "via"]
    assert via == [SOURCE_LINK]
    content = entry.findtext(f"{ATOM}content")
    # The agency named is the matched source's configured name, whatever the file says.
    quote_at = content.index(f'<a href="{SOURCE_LINK}">Казинформ</a> сообщает: «В Актау')
    heading_at = content.index("<h3>Евразия24 комментирует:</h3>")
    comment_at = content.index("Чуть больше недели назад в Париже")
    notice_at = content.index(NOTICE)
    assert quote_at < heading_at < comment_at < notice_at
    assert content.count(NOTICE) == 1


def test_the_json_feed_entry_names_the_source_items_id(site):
    shutil.copy(EXAMPLE, site / "commentary" / EXAMPLE.name)
    publish_site(site)

    (commentary,) = json_items(site / "output" / "commentary.json")
    source_entry = next(
        i for i in json_items(site / "output" / "all.json") if i.get("url") == SOURCE_LINK
    )
    (referenced,) = commentary["_commentary"]["sources"]
    assert referenced["id"] == source_entry["id"]
    assert referenced["url"] == SOURCE_LINK and referenced["item_id"] == SOURCE_LINK
    assert commentary["id"] == "tag:eurasia24.media,2026:commentary/stop-sniato"


def test_commentary_is_in_the_combined_output_and_only_commentary_is_in_its_own(site):
    shutil.copy(EXAMPLE, site / "commentary" / EXAMPLE.name)
    publish_site(site)
    titles = [e.findtext(f"{ATOM}title") for e in atom_entries(site / "output" / "all.atom")]
    assert "Стоп, снято!" in titles and len(titles) == 3
    assert [e["title"] for e in json_items(site / "output" / "commentary.json")] == ["Стоп, снято!"]


def test_an_unmatched_quote_is_published_without_a_source_link_and_attributed_to_nobody(site):
    write(
        site,
        "a.md",
        """
---
title: Без источника
date: 2024-10-03 12:00
agency: Azattyq
quote: Этого текста нет ни в одной сохраненной новости, его источник еще не получен.
---
Комментарий редакции.
""",
    )
    publish_site(site)
    (entry,) = atom_entries(site / "output" / "commentary.atom")
    assert not [link for link in entry.findall(f"{ATOM}link") if link.get("rel") == "via"]
    content = entry.findtext(f"{ATOM}content")
    # Attribution is evidence: a quote found in no stored item names no agency, and is
    # not shown as anybody's quote.
    assert "<p>Этого текста нет ни в одной" in content and "<a href" not in content
    assert "Azattyq" not in content and "«" not in content and "blockquote" not in content


def test_attribution_and_heading_wording_follow_the_commentarys_language(site):
    write(
        site,
        "kk.md",
        """
---
title: Пікір
date: 2024-10-03 12:00
language: kk
source: https://www.inform.kz/ru/kazahstan-podpisal-memorandumy-a4211/
quote: В Актау в рамках международного кинофестиваля стран тюркского мира
---
Бұл жақсы жаңалық.
""",
    )
    write(
        site,
        "kk2.md",
        """
---
title: Екінші пікір
date: 2024-10-03 13:00
language: kk
source: https://www.inform.kz/ru/kazahstan-podpisal-memorandumy-a4211/
---
Бұл да жақсы жаңалық.
""",
    )
    publish_site(site)
    first, second = atom_entries(site / "output" / "commentary.atom")
    quoted = second.findtext(f"{ATOM}content")
    assert "</a> хабарлайды: «В Актау" in quoted and "<h3>Евразия24 пікірі:</h3>" in quoted
    # Quoting nothing, it credits its source in Kazakh (house.retold), with no «».
    credited = first.findtext(f"{ATOM}content")
    assert "</a> материалдары бойынша." in credited and "«" not in credited


# --- errors: clear, per file, and the rest still publishes -----------------------------------


def test_a_bad_file_is_reported_with_file_and_line_and_the_others_still_publish(site):
    shutil.copy(EXAMPLE, site / "commentary" / EXAMPLE.name)
    write(
        site,
        "broken.md",
        """
---
title: Сломанный
date: 2024-10-03
tags: [a, b
---
Текст.
""",
    )
    write(
        site,
        "unknown-source.md",
        """
---
title: Неизвестный источник
date: 2024-10-03
source: https://example.kz/never-fetched
---
Текст.
""",
    )

    write(site, "month-13.md", "---\ntitle: Тринадцатый месяц\ndate: 2024-13-03\n---\nТекст.\n")

    report = publish_site(site)

    assert report.entries["commentary"] == 1
    problems = "\n".join(report.problems)
    assert "commentary/broken.md:5: the front matter is not valid YAML" in problems
    assert "commentary/month-13.md:3: date '2024-13-03' is not a date" in problems
    assert (
        "commentary/unknown-source.md:4: source: 'https://example.kz/never-fetched' is not a stored item"
        in problems
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("title: x\n---\nbody", "t.md:1: no front matter: the file must start with a line '---'"),
        (
            "---\ntitle: x\ndate: 2024-10-03\nbody",
            "t.md:1: the front matter opened on this line is never closed",
        ),
        (
            "---\ndate: 2024-10-03\n---\nbody",
            "t.md:1: the front matter has no title; add a line 'title: ...'",
        ),
        ("---\ntitle: x\n---\nbody", "t.md:1: the front matter has no date"),
        ("---\ntitle: x\ndate: 3 октября\n---\nbody", "t.md:3: date '3 октября' is not a date"),
        # Dates YAML reads as dates, which no calendar has: PyYAML raises, publish stopped.
        ("---\ntitle: x\ndate: 2026-13-07\n---\nbody", "t.md:3: date '2026-13-07' is not a date"),
        (
            "---\ntitle: x\ndate: 2026-02-30 14:00\n---\nbody",
            "t.md:3: date '2026-02-30 14:00' is not a date",
        ),
        (
            "---\ntitle: x\ndate: 2024-10-03\ntitel: y\n---\nbody",
            "t.md:4: unknown key 'titel' in the front matter; did you mean 'title'?",
        ),
        ("---\ntitle: x\ndate: 2024-10-03\n---\n\n", "t.md:5: the comment is empty"),
        (
            "---\ntitle: [x\ndate: 2024-10-03\n---\nbody",
            "t.md:3: the front matter is not valid YAML",
        ),
    ],
)
def test_malformed_commentary_gets_a_clear_error_naming_file_and_line(site, text, message):
    config = load_config(site / "feeds.yaml")
    with pytest.raises(CommentaryError) as error:
        parse_markdown(text, "t.md", config)
    assert str(error.value).startswith(message)


def test_two_files_with_one_slug_keep_the_first(site):
    body = "---\ntitle: x\ndate: 2024-10-03\nslug: same\n---\nТекст.\n"
    write(site, "a.md", body)
    write(site, "b.md", body)
    loaded = load_dir(site / "commentary", load_config(site / "feeds.yaml"))
    assert [c.where for c in loaded.commentary] == ["commentary/a.md"]
    assert "slug 'same' is already used by commentary/a.md" in str(loaded.problems[0])


# --- reading a commentary file ------------------------------------------------------------------


def test_front_matter_fields_are_read(site):
    config = load_config(site / "feeds.yaml")
    c = parse_markdown(
        "---\ntitle: Стоп, снято!\ndate: 2024-10-03 14:00\ntags: [кино]\nauthor: Редакция\n"
        "link: https://eurasia24.media/stop\nsource: https://inform.kz/x\n---\nТекст *комментария*.\n",
        "commentary/2024-10-03-stop.md",
        config,
        default_slug="stop",
    )
    assert (c.title, c.slug, c.tags, c.sources, c.link) == (
        "Стоп, снято!", "stop", ("кино",), ("https://inform.kz/x",), "https://eurasia24.media/stop"
    )  # fmt: skip
    assert c.published == datetime(2024, 10, 3, 9, 0, tzinfo=UTC)  # Astana time, UTC+5
    assert (
        c.comment_html == "<p>Текст <em>комментария</em>.</p>" and c.authors[0].name == "Редакция"
    )


def test_a_body_with_the_published_structure_is_split_into_quote_and_comment(site):
    config = load_config(site / "feeds.yaml")
    c = parse_markdown(
        f"---\ntitle: t\ndate: 2024-10-03\n---\nKazinform сообщает: «{LEAD} …».\n\n"
        "Евразия24 комментирует:\n\nЧуть больше недели назад в Париже…\n",
        "t.md",
        config,
    )
    assert c.agency == "Kazinform" and c.quotes == (LEAD + " …",)
    assert c.comment_html == "<p>Чуть больше недели назад в Париже…</p>"


def test_a_house_feed_post_is_split_into_quote_and_comment(site):
    config = load_config(site / "feeds.yaml")
    content = (
        f'<p><a href="{SOURCE_LINK}">Kazinform</a> сообщает: «{LEAD} …».</p>'
        "<p><strong>Евразия24 комментирует:</strong></p>"
        "<p>Чуть больше недели назад в Париже Казахстан и Франция договорились.</p>"
        f"<p>{NOTICE}</p>"
    )
    item = Item(
        id="e24-1", title="Стоп, снято!", link="https://eurasia24.media/stop", content=content
    )
    stored = StoredItem("k1", item, ("eurasia24",), FETCHED, FETCHED, FETCHED)
    c = from_house_item(stored, config)
    assert (c.agency, c.quotes, c.links) == ("Kazinform", (LEAD + " …",), (SOURCE_LINK,))
    assert (
        c.comment_html
        == "<p>Чуть больше недели назад в Париже Казахстан и Франция договорились.</p>"
    )
    assert c.link == "https://eurasia24.media/stop" and c.item_key == "k1"


def test_a_house_feed_post_is_published_as_commentary_with_a_via_link(site):
    config = load_config(site / "feeds.yaml")
    storage = open_storage(config.storage.url)
    try:
        post = Item(
            id="e24-1",
            title="Стоп, снято!",
            link="https://eurasia24.media/stop",
            content=f"<p>Казинформ сообщает: «{LEAD}»</p><p>Евразия24 комментирует:</p><p>Мнение.</p>",
            published=FETCHED,
        )
        record(storage, "eurasia24", post)
        publish(config, storage, out_dir=site / "output")
    finally:
        storage.close()
    (entry,) = atom_entries(site / "output" / "commentary.atom")
    assert entry.findtext(f"{ATOM}title") == "Стоп, снято!"
    links = {link.get("rel"): link.get("href") for link in entry.findall(f"{ATOM}link")}
    assert links == {"alternate": "https://eurasia24.media/stop", "via": SOURCE_LINK}


# --- the command line ----------------------------------------------------------------------------


def test_comment_new_names_the_house_by_the_sites_title_where_no_house_name_is_set(
    site, monkeypatch
):
    # Without site.house or house.name the published pages sign with the site's title;
    # the pre-filled title does too, not " комментирует: ..." with nobody before it.
    feeds_yaml = site / "feeds.yaml"
    text = feeds_yaml.read_text(encoding="utf-8")
    text = text.replace("  title: Евразия24\n", "  title: Степные вести\n")
    feeds_yaml.write_text(text.replace("  house: Евразия24\n", "", 1), encoding="utf-8")
    monkeypatch.chdir(site)

    created = CliRunner().invoke(cli, ["comment", "new", SOURCE_LINK])

    assert created.exit_code == 0, created.output
    (path,) = (site / "commentary").glob("*.md")
    text = path.read_text(encoding="utf-8")
    assert 'title: "Степные вести комментирует: Казахстан подписал меморандумы' in text


def test_comment_new_and_the_published_attribution_name_the_source_as_its_entries_do(
    site, monkeypatch
):
    # Without a configured name the outputs credit a source's entries to its feed's own
    # title; the commentary's agency: line and its "<Agency> сообщает" line do too, not
    # the id an editor never sees in the outputs.
    feeds = site / "feeds.yaml"
    text = feeds.read_text(encoding="utf-8").replace("    name: Казинформ\n", "", 1)
    feeds.write_text(text, encoding="utf-8")
    with open_storage(load_config(feeds).storage.url) as storage:
        state = storage.get_source_state("kazinform-ru")
        storage.save_source_state(replace(state, title="Kazinform: новости"))
    monkeypatch.chdir(site)
    runner = CliRunner()

    created = runner.invoke(cli, ["comment", "new", SOURCE_LINK])

    assert created.exit_code == 0, created.output
    (path,) = (site / "commentary").glob("*.md")
    assert 'agency: "Kazinform: новости"' in path.read_text(encoding="utf-8")
    path.write_text(path.read_text(encoding="utf-8") + "\nНаш комментарий.\n", encoding="utf-8")
    assert runner.invoke(cli, ["publish"]).exit_code == 0
    (entry,) = atom_entries(site / "output" / "commentary.atom")
    assert f'<a href="{SOURCE_LINK}">Kazinform: новости</a> сообщает: «' in entry.findtext(
        f"{ATOM}content"
    )
    (item,) = [i for i in json_items(site / "output" / "all.json") if i["url"] == SOURCE_LINK]
    assert item["_source"]["name"] == "Kazinform: новости"
    (commented,) = json_items(site / "output" / "commentary.json")
    assert commented["_commentary"]["sources"][0]["source"] == "Kazinform: новости"


def test_comment_new_refuses_an_item_no_commentary_may_name(site, monkeypatch):
    # A file naming it would be refused by publish; say so before the editor writes it.
    remove_kazinform(site)
    monkeypatch.chdir(site)

    created = CliRunner().invoke(cli, ["comment", "new", SOURCE_LINK])

    assert created.exit_code == 1
    assert (
        f"Error: source: '{SOURCE_LINK}' is an item of kazinform-ru, no longer in feeds.yaml"
        in created.output
    )
    assert not list((site / "commentary").iterdir())


def test_comment_new_prefills_a_file_and_comment_list_reports_every_commentary(site, monkeypatch):
    monkeypatch.chdir(site)
    runner = CliRunner()

    created = runner.invoke(cli, ["comment", "new", SOURCE_LINK + "?utm_source=telegram"])

    assert created.exit_code == 0, created.output
    (path,) = (site / "commentary").glob("*.md")
    assert path.name.endswith("-kazakhstan-podpisal-memorandumy-o-sotrudnichestve-v-kino-s.md")
    text = path.read_text(encoding="utf-8")
    assert f'source: "{SOURCE_LINK}"' in text and 'agency: "Казинформ"' in text
    assert 'quote: "В Актау в рамках международного кинофестиваля' in text
    # A title of the house's own (its heading's wording before the item's title, for the
    # editor to rewrite), never the agency's title: a reader sees two entries, not one twice.
    assert 'title: "Евразия24 комментирует: Казахстан подписал меморандумы' in text
    # No link: line: the derived page (commentary/<slug>.html) is the entry's link.
    assert not any(line.startswith("link:") for line in text.splitlines())
    assert "commentary/kazakhstan-podpisal-memorandumy-o-sotrudnichestve-v-kino-s.html" in text

    listed = runner.invoke(cli, ["comment", "list"])
    assert "ERROR" in listed.output and "the comment is empty" in listed.output
    assert listed.exit_code == 1  # a cron job or a pre-commit hook sees it

    path.write_text(text + "\nНаш комментарий.\n", encoding="utf-8")
    published = runner.invoke(cli, ["publish"])
    assert published.exit_code == 0, published.output
    titles = [item["title"] for item in json_items(site / "output" / "all.json")]
    assert len(titles) == len(set(titles))
    (entry,) = json_items(site / "output" / "commentary.json")
    assert entry["url"] == (
        "https://eurasia24.media/feeds/commentary/"
        "kazakhstan-podpisal-memorandumy-o-sotrudnichestve-v-kino-s.html"
    )
    write(
        site, "z.md", "---\ntitle: Ни о чем\ndate: 2024-10-03\n---\nФутбол и погода в Караганде.\n"
    )
    listed = runner.invoke(cli, ["comment", "list"])
    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()
    assert any(
        line.split()[:3] == ["ok", "source", "1.00"] and SOURCE_LINK in line for line in lines
    )
    assert any(line.split()[:2] == ["NO", "MATCH"] for line in lines)
    assert "    evidence: the editor's source:" in lines
    assert lines[-1] == "2 commentaries: 1 matched, 0 to review, 1 without a match, 0 with errors"

    # A source: that names nothing stored is an ERROR too, and the exit status says so.
    write(
        site, "y.md", "---\ntitle: Не то\ndate: 2024-10-03\nsource: inform.kz/ru/net\n---\nТекст.\n"
    )
    listed = runner.invoke(cli, ["comment", "list"])
    assert listed.exit_code == 1
    assert "source: 'inform.kz/ru/net' is not a stored item" in listed.output


def test_comment_list_shows_the_results_the_last_run_kept_and_writes_nothing(site, monkeypatch):
    """What publish matched and kept is what `comment list` shows, without matching it
    again or building the index; it writes nothing (a run may be writing meanwhile)."""
    import aggregator.house.cache as cache
    from aggregator.house.cache import DOCUMENT

    monkeypatch.chdir(site)
    body = f"Казинформ сообщает: «{LEAD}»\n\nЕвразия24 комментирует: кино снимут у моря.\n"
    write(site, "kino.md", f"---\ntitle: Кино у моря\ndate: 2024-10-03\n---\n{body}")
    runner = CliRunner()
    assert runner.invoke(cli, ["publish"]).exit_code == 0
    matched: list[int] = []
    full_match = cache.match_all
    monkeypatch.setattr(
        cache, "match_all", lambda c, *a, **k: matched.append(len(c)) or full_match(c, *a, **k)
    )

    def kept() -> str | None:
        with open_storage(load_config(site / "feeds.yaml").storage.url) as storage:
            return storage.get_derived(DOCUMENT)

    before = kept()
    listed = runner.invoke(cli, ["comment", "list"])
    assert listed.exit_code == 0, listed.output
    assert any(line.split()[:2] == ["ok", "quote"] for line in listed.output.splitlines())
    assert matched == [] and kept() == before

    write(site, "kino.md", f"---\ntitle: Кино у моря!\ndate: 2024-10-03\n---\n{body}")
    listed = runner.invoke(cli, ["comment", "list"])
    assert any(line.split()[:2] == ["ok", "quote"] for line in listed.output.splitlines())
    assert matched == [1] and kept() == before  # the edited one matched, nothing kept


def test_publish_reports_commentary_it_left_out_and_still_succeeds(site, monkeypatch):
    monkeypatch.chdir(site)
    shutil.copy(EXAMPLE, site / "commentary" / EXAMPLE.name)
    write(site, "notitle.md", "---\ndate: 2024-10-03\n---\nТекст.\n")
    result = CliRunner().invoke(cli, ["publish"])
    assert result.exit_code == 0, result.output
    assert (
        "commentary not published: commentary/notitle.md:1: the front matter has no title"
        in result.output
    )
    assert len(json_items(site / "output" / "commentary.json")) == 1


def test_comment_new_says_clearly_when_the_item_is_not_stored(site, monkeypatch):
    monkeypatch.chdir(site)
    result = CliRunner().invoke(cli, ["comment", "new", "https://example.kz/nothing"])
    assert result.exit_code == 1
    assert "no stored item has the URL, key or id 'https://example.kz/nothing'" in result.output


def test_a_retelling_is_published_as_the_houses_text_credited_to_its_source(site):
    config = load_config(site / "feeds.yaml")
    storage = open_storage(config.storage.url)
    try:
        post = Item(
            id="e24-2",
            title="Кино без границ",
            link="https://eurasia24.media/kino",
            content=(
                "<p>В Актау Казахстан подписал меморандумы о совместном кино с пятью странами.</p>"
                "<p>Евразия24 комментирует:</p><p>Посмотрим, что из этого выйдет.</p>"
                f'<p>Подробнее: <a href="{SOURCE_LINK}">здесь</a>.</p>'
            ),
            published=FETCHED,
        )
        record(storage, "eurasia24", post)
        publish(config, storage, out_dir=site / "output")
    finally:
        storage.close()
    (entry,) = atom_entries(site / "output" / "commentary.atom")
    content = entry.findtext(f"{ATOM}content")
    assert "<p>В Актау Казахстан подписал меморандумы" in content
    assert f'По материалам <a href="{SOURCE_LINK}">Казинформ</a>.' in content
    assert "«В Актау Казахстан" not in content and "blockquote" not in content


def test_a_run_with_nothing_new_does_no_matching(site, monkeypatch):
    import aggregator.house.cache as cache

    shutil.copy(EXAMPLE, site / "commentary" / EXAMPLE.name)
    first = publish_site(site)
    matched = []
    real = cache.match_all
    monkeypatch.setattr(
        cache, "match_all", lambda c, *a, **k: matched.append(len(c)) or real(c, *a, **k)
    )
    second = publish_site(site)
    assert matched == [] and second.entries == first.entries

    write(site, "z.md", "---\ntitle: Ни о чем\ndate: 2024-10-03\n---\nФутбол и погода.\n")
    publish_site(site)
    assert matched == [1]  # only the new commentary


def test_a_source_removed_from_feeds_yaml_is_no_commentarys_source_until_it_is_back(site):
    # Its items stay stored but are published and related nowhere: a commentary quoting
    # one is the house's text, crediting nobody, not "kazinform-ru сообщает" linking an
    # item no output has.  Added back, the source is named again.
    write(
        site,
        "2024-10-03-kino.md",
        f"---\ntitle: Кино без границ\ndate: 2024-10-03 14:00\nquote: «{LEAD}»\n---\n"
        "Договориться легко, снять вместе труднее.\n",
    )

    def via_and_content() -> tuple[list[str], str]:
        publish_site(site)
        (published,) = atom_entries(site / "output" / "commentary.atom")
        links = published.findall(f"{ATOM}link")
        return [x.get("href") for x in links if x.get("rel") == "via"], published.findtext(
            f"{ATOM}content"
        )

    assert via_and_content()[0] == [SOURCE_LINK]
    configured = remove_kazinform(site)
    via, content = via_and_content()
    assert via == [] and SOURCE_LINK not in content and "сообщает" not in content
    (site / "feeds.yaml").write_text(configured, encoding="utf-8")
    assert via_and_content()[0] == [SOURCE_LINK]


def test_a_source_naming_an_item_no_commentary_may_name_says_why_and_what_to_do(site, monkeypatch):
    # The item is stored: "not a stored item ... or wait until its feed is fetched" would
    # send the editor waiting for a fetch that never comes.
    monkeypatch.chdir(site)
    runner = CliRunner()
    write(
        site,
        "kino.md",
        f"---\ntitle: Кино\ndate: 2024-10-03\nsource: {SOURCE_LINK}\n---\nТекст.\n",
    )
    configured = remove_kazinform(site)

    published = runner.invoke(cli, ["publish"])
    listed = runner.invoke(cli, ["comment", "list"])

    removed = (
        f"commentary/kino.md:4: source: '{SOURCE_LINK}' is an item of kazinform-ru, no longer "
        "in feeds.yaml: its items stay stored but are published nowhere; add kazinform-ru back "
        "to feeds.yaml's sources, or give the URL, id or key of an item of a source it lists"
    )
    assert published.exit_code == 0 and removed in published.output
    assert listed.exit_code == 1 and "kino.md:4: source: " in listed.output
    assert "wait until its feed is fetched" not in published.output + listed.output

    feeds = site / "feeds.yaml"
    feeds.write_text(configured, encoding="utf-8")
    with open_storage(load_config(feeds).storage.url) as storage:
        post = Item(id="e24-9", title="Наш пост", link="https://eurasia24.media/p/9")
        record(storage, "eurasia24", post)
    write(
        site,
        "kino.md",
        "---\ntitle: Кино\ndate: 2024-10-03\nsource: https://eurasia24.media/p/9\n---\nТекст.\n",
    )
    listed = runner.invoke(cli, ["comment", "list"])
    assert listed.exit_code == 1
    assert (
        "source: 'https://eurasia24.media/p/9' is a post of the house's own feed (eurasia24), "
        "not an agency's item; give the URL, id or key of the item it comments on"
    ) in listed.output

    # A source whose house: key is a mistake is held as the house's until it is mended:
    # its items are not the house's posts, but may not be named either.
    feeds.write_text(
        configured.replace(
            "    url: https://tengrinews.kz/news.rss\n",
            "    url: https://tengrinews.kz/news.rss\n    house: maybe\n",
        ),
        encoding="utf-8",
    )
    tengri = other_item().link
    write(site, "kino.md", f"---\ntitle: Кино\ndate: 2024-10-03\nsource: {tengri}\n---\nТекст.\n")
    listed = runner.invoke(cli, ["comment", "list"])
    assert (
        f"source: '{tengri}' is an item of tengrinews, whose entry in feeds.yaml cannot say "
        "whether it is the house's own feed; mend its house: key"
    ) in listed.output


def test_sentences_that_repeat_an_earlier_report_are_background_not_the_news():
    text = (
        "Наш корреспондент побывал на Шардаринской плотине. Водохранилище, как и "
        "сообщалось, заполнено на 94%. У посёлка Кызылкум засыпают пятно фильтрации.\n"
        "Евразия24 комментирует: мы писали об этом вчера. Напомним, дамбу чинили в 2019-м."
    )
    assert without_background(text) == (
        "Наш корреспондент побывал на Шардаринской плотине. У посёлка Кызылкум засыпают "
        "пятно фильтрации.\n"
    )
    assert without_background("Ранее здесь был пустырь.") == "Ранее здесь был пустырь."
