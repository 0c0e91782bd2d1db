"""Editing feeds.yaml in place (aggregator/configedit.py): new sources appended,
the editor's comments and layout kept, every edit checked by the real loader; and
OPML subscription lists turned into sources."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

from aggregator.config import ConfigError, load_config
from aggregator.configedit import (
    NewSource,
    OpmlError,
    address_meant,
    append_sources,
    source_id_for,
    sources_from_opml,
)

ROOT = Path(__file__).resolve().parents[1]
VLAST = NewSource("vlast", "Власть", "https://vlast.kz/rss", "ru", ("kazakhstan", "media"))


def added_lines(before: str, after: str) -> list[str]:
    diff = list(difflib.ndiff(before.splitlines(), after.splitlines()))
    assert not [line for line in diff if line.startswith("- ")], "a line was changed or lost"
    return [line[2:] for line in diff if line.startswith("+ ")]


def test_appending_to_the_production_config_keeps_every_comment_and_line(tmp_path):
    path = tmp_path / "feeds.yaml"
    before = (ROOT / "feeds.yaml").read_text(encoding="utf-8")
    path.write_text(before, encoding="utf-8")
    config = append_sources(path, [VLAST])
    assert added_lines(before, path.read_text(encoding="utf-8")) == [
        "  - id: vlast",
        "    name: Власть",
        "    url: https://vlast.kz/rss",
        "    language: ru",
        "    tags: [kazakhstan, media]",
    ]
    assert config.source("vlast").tags == ("kazakhstan", "media")
    assert config.outputs == load_config(ROOT / "feeds.yaml").outputs


def test_another_indentation_style_is_kept(tmp_path):
    path = tmp_path / "feeds.yaml"
    before = """\
# my feeds
site:
    title: 'Digest'        # quoted with single quotes
    link: https://digest.example/
sources:
- id: first
  url: https://first.example/rss   # no name: the feed's own title
"""
    path.write_text(before, encoding="utf-8")
    append_sources(path, [NewSource("second", "Second: news", "https://second.example/feed")])
    assert added_lines(before, path.read_text(encoding="utf-8")) == [
        "- id: second",
        "  name: 'Second: news'",
        "  url: https://second.example/feed",
    ]


def test_an_edit_the_loader_rejects_leaves_the_file_untouched(tmp_path):
    path = tmp_path / "feeds.yaml"
    before = "site: {title: T, link: https://t.example/}\nsources:\n  - {id: a, url: https://a.example/rss}\n"
    path.write_text(before, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        append_sources(path, [NewSource("a", "Again", "https://b.example/rss")])
    message = str(caught.value)
    assert f"{path}:4: sources[1].id: duplicate source id 'a'" in message
    assert "the change was not saved" in message
    assert path.read_text(encoding="utf-8") == before
    assert [p.name for p in tmp_path.iterdir()] == ["feeds.yaml"]  # no temporary left


def test_a_new_config_starts_with_an_empty_source_list(tmp_path):
    path = tmp_path / "feeds.yaml"
    path.write_text(
        "site:\n  title: T\n  link: https://t.example/\nsources: []\n", encoding="utf-8"
    )
    with pytest.raises(ConfigError, match="no sources configured"):
        load_config(path)
    assert load_config(path, require_sources=False).sources == ()
    config = append_sources(path, [VLAST])
    assert [s.id for s in config.sources] == ["vlast"]


def test_a_source_without_a_name_is_credited_to_its_id_until_its_feed_names_it(tmp_path):
    path = tmp_path / "feeds.yaml"
    path.write_text(
        "site: {title: T, link: https://t.example/}\nsources:\n  - {id: a, url: https://a.example/rss}\n",
        encoding="utf-8",
    )
    config = load_config(path)
    assert config.source("a").name == ""
    assert config.source_name(["a"]) == "a"


@pytest.mark.parametrize(
    ("name", "url", "expected"),
    [
        ("Tengrinews", "https://tengrinews.kz/news.rss", "tengrinews"),
        ("Kursiv", "https://kz.kursiv.media/en/feed/", "kursiv-kz"),
        ("x", "https://feeds.bbci.co.uk/news/rss.xml", "bbci"),
        ("Зона.кз", "https://www.zona.kz/rss", "zona"),
        # A language's edition is named after the site, not its language alone.
        ("Azattyq", "https://rus.azattyq.org/api/", "azattyq-rus"),
        ("Tengrinews", "https://en.tengrinews.kz/rss", "tengrinews-en"),
        ("Sputnik", "https://ru.sputnik.kz/export/rss2/archive/index.xml", "sputnik-ru"),
        # A Cyrillic host or name in Latin letters.
        ("Информ", "https://информ.кз/rss", "inform"),
        ("Қазақ үні", "https://127.0.0.1/rss", "127"),
        ("Қазақ үні", "file:///srv/feeds/kazakh.xml", "qazaq-uni"),
    ],
)
def test_a_new_id_comes_from_the_host(name, url, expected):
    assert source_id_for(name, url, ()) == expected


def test_a_taken_id_gets_the_path_or_a_number():
    assert source_id_for("", "https://inform.kz/rss/kaz.xml", {"inform"}) == "inform-2"
    assert source_id_for("", "https://inform.kz/kaz/rss", {"inform"}) == "inform-kaz"
    assert source_id_for("", "https://inform.kz/kaz/rss", {"inform", "inform-kaz"}) == "inform-2"


# -- OPML ---------------------------------------------------------------------------

# An export of another reader (the layout desktop readers and web readers write:
# folders as outlines with only a text, feeds with type/text/title/xmlUrl/htmlUrl).
OTHER_READER = """<?xml version="1.0" encoding="UTF-8"?>
<opml version="1.0">
  <head><title>Subscriptions of Aigerim in NetReader</title></head>
  <body>
    <outline text="Казахстан" title="Казахстан">
      <outline type="rss" text="Tengrinews" title="Tengrinews"
               xmlUrl="https://tengrinews.kz/news.rss" htmlUrl="https://tengrinews.kz/"/>
      <outline text="Бизнес">
        <outline type="rss" text="Kapital.kz" xmlUrl="https://kapital.kz/rss"/>
        <outline type="rss" text="Курсив" xmlUrl="https://kz.kursiv.media/feed/"/>
      </outline>
    </outline>
    <outline type="rss" text="24.kg" xmlUrl="http://www.24.kg/rss/?utm_source=reader"
             category="/central-asia/kyrgyzstan" language="ru"/>
    <outline type="rss" text="Tengrinews again" xmlUrl="http://tengrinews.kz/news.rss/"/>
    <outline type="rss" text="Podcast" xmlUrl="ftp://files.example/podcast.xml"/>
    <outline type="rss" text="No URL" xmlUrl=""/>
    <outline type="link" text="A bookmark" url="https://example.kz/"/>
  </body>
</opml>
"""

BASE = """\
site:
  title: T
  link: https://t.example/
sources:
  - id: kursiv                       # configured already
    name: Курсив
    url: https://kz.kursiv.media/feed
"""


def test_an_opml_export_of_another_reader_becomes_sources(tmp_path):
    path = tmp_path / "feeds.yaml"
    path.write_text(BASE, encoding="utf-8")
    found = sources_from_opml(OTHER_READER.encode(), load_config(path), "reader.opml")
    assert found.sources == (
        NewSource(
            "tengrinews", "Tengrinews", "https://tengrinews.kz/news.rss", None, ("Казахстан",)
        ),
        NewSource("kapital", "Kapital.kz", "https://kapital.kz/rss", None, ("Казахстан", "Бизнес")),
        NewSource(
            "24",
            "24.kg",
            "http://www.24.kg/rss/?utm_source=reader",
            "ru",
            ("central-asia", "kyrgyzstan"),
        ),
    )
    assert found.duplicates == (
        "line 10: https://kz.kursiv.media/feed/: already configured as source 'kursiv'",
        "line 15: http://tengrinews.kz/news.rss/: listed before, added as source 'tengrinews'",
    )
    assert found.broken == (
        "line 16: outline 'Podcast' has xmlUrl 'ftp://files.example/podcast.xml': not an http(s) URL; skipped",
        # A feed by its type, with nothing to fetch: said, not lost silently (a bookmark is
        # no feed).
        "line 17: outline 'No URL' is an RSS feed without an xmlUrl; skipped",
    )
    config = append_sources(path, found.sources)
    assert [s.id for s in config.sources] == ["kursiv", "tengrinews", "kapital", "24"]
    assert "# configured already" in path.read_text(encoding="utf-8")


def test_1000_outlines_with_duplicates_and_broken_ones(tmp_path):
    outlines = []
    for n in range(1000):
        if n % 10 == 3:  # a duplicate of the previous feed, spelled differently
            outlines.append(
                f'<outline text="Dup {n}" xmlUrl="HTTP://WWW.site{n - 1}.example/rss/"/>'
            )
        elif n % 10 == 7:
            outlines.append(f'<outline text="Broken {n}" xmlUrl="site{n}.example/rss"/>')
        else:
            outlines.append(f'<outline text="Site {n}" xmlUrl="https://site{n}.example/rss"/>')
    folders = "".join(
        f'<outline text="Folder {f}">{"".join(outlines[f * 100 : (f + 1) * 100])}</outline>'
        for f in range(10)
    )
    opml = f'<?xml version="1.0"?><opml version="2.0"><head/><body>{folders}</body></opml>'
    path = tmp_path / "feeds.yaml"
    path.write_text("site: {title: T, link: https://t.example/}\nsources: []\n", encoding="utf-8")
    found = sources_from_opml(opml.encode(), load_config(path, require_sources=False))
    config = append_sources(path, found.sources)
    assert (len(found.sources), len(found.duplicates), len(found.broken)) == (800, 100, 100)
    assert len(config.sources) == 800
    assert len({s.id for s in config.sources}) == 800
    assert config.source("site999").tags == ("Folder 9",)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"<opml><body><outline text='a'", r"x\.opml:1: not well-formed XML"),
        (b"<rss version='2.0'><channel/></rss>", r"the root element is <rss>, not <opml>"),
        (b"<opml version='2.0'><head/></opml>", r"no <body>"),
        (
            b'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
            b'<opml><body><outline text="&e;" xmlUrl="https://a.example/rss"/></body></opml>',
            r"x\.opml:1: not well-formed XML: Attribute references external entity 'e'",
        ),
    ],
)
def test_a_file_that_is_not_opml_says_what_it_is(tmp_path, data, message):
    path = tmp_path / "feeds.yaml"
    path.write_text("site: {title: T, link: https://t.example/}\nsources: []\n", encoding="utf-8")
    config = load_config(path, require_sources=False)
    with pytest.raises(OpmlError, match=message):
        sources_from_opml(data, config, "x.opml")


def test_the_address_a_user_means(tmp_path):
    # aggregator add's argument: as a browser's address bar or feed link shows it.
    assert address_meant("tengrinews.kz", tmp_path) == "https://tengrinews.kz"
    assert address_meant(" kapital.kz/rss ", tmp_path) == "https://kapital.kz/rss"
    assert address_meant("feed://kapital.kz/rss", tmp_path) == "http://kapital.kz/rss"
    assert address_meant("https://kapital.kz/rss", tmp_path) == "https://kapital.kz/rss"
    assert address_meant("feeds/news.xml", tmp_path) == "feeds/news.xml"
    (tmp_path / "mirror.kz").write_text("<rss/>", encoding="utf-8")  # a file of that name
    assert address_meant("mirror.kz", tmp_path) == "mirror.kz"
