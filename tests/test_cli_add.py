"""`aggregator add` and `aggregator import-opml`, run for real: a site on loopback,
a feeds.yaml on disk, then `aggregator run` publishing what was added."""

from __future__ import annotations

import json
from pathlib import Path

import feedparser
import pytest
from click.testing import CliRunner
from feedserver import FeedServer

from aggregator.cli import cli
from aggregator.config import load_config

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "feeds"
RSS = (EXAMPLES / "delovoy-almaty.xml").read_bytes()
ATOM = (EXAMPLES / "dala-zhanalyktary.atom").read_bytes()

STARTER = """\
# feeds.yaml of a new reader: a title, a home page, no sources yet.
site:
  title: "Дайджест"          # shown on every output
  link: "https://digest.example/"
fetch:
  allow_private_networks: [127.0.0.1/32]   # the test's site is on loopback
sources: []
"""


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def site_page(feed_server: FeedServer) -> str:
    feed_server.route(
        "/",
        body=b"<!DOCTYPE html><html><head><title>Delovoy</title>"
        b'<link rel="alternate" type="application/rss+xml" href="/rss.xml">'
        b'<link rel="alternate" type="application/atom+xml" href="/kk.atom"></head></html>',
        headers={"Content-Type": "text/html"},
    )
    feed_server.route("/rss.xml", body=RSS)
    feed_server.route("/kk.atom", body=ATOM)
    return feed_server.url("/")


def test_from_a_sites_address_to_a_published_output(tmp_path: Path, feed_server: FeedServer):
    config = tmp_path / "feeds.yaml"
    config.write_text(STARTER, encoding="utf-8")
    added = invoke(
        "--config", str(config), "add", site_page(feed_server), "--tags", "business,almaty"
    )
    assert added.exit_code == 0, added.output
    assert f"{feed_server.url('/')} is a page; the feeds it leads to:" in added.output
    assert f" * {feed_server.url('/rss.xml')}" in added.output
    assert f"   {feed_server.url('/kk.atom')}" in added.output
    assert "added source '127' (" in added.output  # an id from the host; the name: the feed's title
    text = config.read_text(encoding="utf-8")
    assert text.startswith(STARTER.replace("sources: []\n", "sources:\n"))  # comments kept
    assert f"url: {feed_server.url('/rss.xml')}" in text
    assert "tags: [business, almaty]" in text

    ran = invoke("--config", str(config), "run")
    assert ran.exit_code == 0, ran.output
    published = feedparser.parse((tmp_path / "output" / "all.atom").read_bytes())
    assert len(published.entries) == len(feedparser.parse(RSS).entries) > 0
    assert published.entries[0].source.title == feedparser.parse(RSS).feed.title


def test_a_feeds_language_written_as_a_name_is_added_as_its_code(
    tmp_path: Path, feed_server: FeedServer
):
    # Some CMSs write <language>Русский</language>: the source gets "ru" (its entry is
    # validated, and a language's name is no code), and what is no language, none.
    for path, language in (("/ru.xml", "Русский"), ("/xx.xml", "по-русски и по-казахски")):
        feed_server.route(
            path,
            body=RSS.replace(
                b"<language>ru</language>", f"<language>{language}</language>".encode()
            ),
        )
    config = tmp_path / "feeds.yaml"
    config.write_text(STARTER, encoding="utf-8")
    for path, source_id in (("/ru.xml", "ru-feed"), ("/xx.xml", "xx-feed")):
        added = invoke("--config", str(config), "add", feed_server.url(path), "--id", source_id)
        assert added.exit_code == 0, added.output
    sources = {s.id: s for s in load_config(config).sources}
    assert sources["ru-feed"].language == "ru"
    assert sources["xx-feed"].language is None


def test_a_feeds_link_as_a_browser_writes_it_is_added_by_its_address(
    tmp_path: Path, feed_server: FeedServer
):
    # feed://host/rss, as browsers, NetNewsWire and OPML exports write a feed's link.
    site_page(feed_server)
    config = tmp_path / "feeds.yaml"
    config.write_text(STARTER, encoding="utf-8")
    rss_url, atom_url = feed_server.url("/rss.xml"), feed_server.url("/kk.atom")
    added = invoke("--config", str(config), "add", rss_url.replace("http://", "feed://", 1))
    assert added.exit_code == 0, added.output
    opml = tmp_path / "subs.opml"
    opml.write_text(
        '<?xml version="1.0"?><opml version="2.0"><head/><body>'
        f'<outline type="rss" text="Dala" xmlUrl="feed:{atom_url}"/></body></opml>',
        encoding="utf-8",
    )
    imported = invoke("--config", str(config), "import-opml", str(opml))
    assert imported.exit_code == 0, imported.output
    assert [s.url for s in load_config(config).sources] == [rss_url, atom_url]


def test_adding_a_feed_twice_is_refused(tmp_path: Path, feed_server: FeedServer):
    config = tmp_path / "feeds.yaml"
    config.write_text(STARTER, encoding="utf-8")
    url = site_page(feed_server)
    assert invoke("--config", str(config), "add", feed_server.url("/rss.xml")).exit_code == 0
    before = config.read_text(encoding="utf-8")
    again = invoke("--config", str(config), "add", url)
    assert again.exit_code == 1
    # One "Error: " and what went wrong (click adds the "Error: ").
    assert f"Error: {feed_server.url('/rss.xml')} is already configured as source" in again.output
    assert config.read_text(encoding="utf-8") == before


def test_id_name_and_a_taken_id(tmp_path: Path, feed_server: FeedServer):
    config = tmp_path / "feeds.yaml"
    config.write_text(STARTER, encoding="utf-8")
    site_page(feed_server)
    args = ("--config", str(config), "add")
    done = invoke(*args, feed_server.url("/kk.atom"), "--id", "dala", "--name", "Дала")
    assert done.exit_code == 0, done.output
    assert "added source 'dala' (Дала)" in done.output
    taken = invoke(*args, feed_server.url("/rss.xml"), "--id", "dala")
    assert taken.exit_code == 1 and "Error: the id 'dala' is taken" in taken.output


def test_an_address_that_leads_to_no_feed_changes_nothing(tmp_path: Path, feed_server: FeedServer):
    config = tmp_path / "feeds.yaml"
    config.write_text(STARTER, encoding="utf-8")
    feed_server.route("/", body=b"<html><body>just a page</body></html>")
    result = invoke("--config", str(config), "add", feed_server.url("/"))
    assert result.exit_code == 1
    assert "advertises no feed" in result.output and "Traceback" not in result.output
    assert config.read_text(encoding="utf-8") == STARTER


def test_a_source_pointing_at_a_page_reports_the_feeds_it_advertises(
    tmp_path: Path, feed_server: FeedServer
):
    url = site_page(feed_server)
    config = tmp_path / "feeds.yaml"
    config.write_text(
        STARTER.replace("sources: []", f"sources:\n  - id: delovoy\n    url: {url}"),
        encoding="utf-8",
    )
    invoke("--config", str(config), "fetch")
    status = invoke("--config", str(config), "status")
    assert "not a feed: the document is an HTML page" in status.output
    health = invoke("--config", str(config), "publish")
    assert health.exit_code == 0
    text = (tmp_path / "output" / "health.json").read_text(encoding="utf-8")
    assert f"the page advertises {feed_server.url('/rss.xml')} (RSS)" in text


def test_import_opml_then_the_published_sources_opml_round_trips(tmp_path: Path):
    opml = tmp_path / "reader.opml"
    opml.write_text(
        """<?xml version="1.0"?><opml version="2.0"><head/><body>
        <outline text="Новости"><outline text="Tengrinews" xmlUrl="https://tengrinews.kz/news.rss"
          language="ru"/></outline>
        <outline text="Kapital" xmlUrl="https://kapital.kz/rss" category="/business"/>
        <outline text="Kapital" xmlUrl="https://www.kapital.kz/rss/"/>
        <outline text="Broken" xmlUrl="kapital.kz"/>
        </body></opml>""",
        encoding="utf-8",
    )
    config = tmp_path / "feeds.yaml"
    config.write_text(STARTER, encoding="utf-8")
    result = invoke("--config", str(config), "import-opml", str(opml))
    assert result.exit_code == 0, result.output
    assert "added 2 sources" in result.output
    assert "skipped 1 already configured or listed twice, 1 broken" in result.output
    assert "line 6: outline 'Broken' has xmlUrl 'kapital.kz': not an http(s) URL" in result.output

    assert invoke("--config", str(config), "publish").exit_code == 0
    exported = tmp_path / "output" / "sources.opml"
    second = tmp_path / "second" / "feeds.yaml"
    second.parent.mkdir()
    second.write_text(STARTER, encoding="utf-8")
    assert invoke("--config", str(second), "import-opml", str(exported)).exit_code == 0
    first_text = config.read_text(encoding="utf-8")
    assert second.read_text(encoding="utf-8") == first_text
    again = invoke("--config", str(second), "import-opml", str(exported))
    assert "added 0 sources" in again.output and "skipped 2 already configured" in again.output
    assert second.read_text(encoding="utf-8") == first_text


def test_sources_opml_cannot_carry_a_slash_or_a_comma_in_a_tag_as_readme_says(tmp_path: Path):
    # OPML category: comma-separated "/"-paths, no escape for either (README says so).
    config = tmp_path / "feeds.yaml"
    config.write_text(
        STARTER.replace(
            "sources: []",
            "sources:\n  - id: inform\n    url: https://www.inform.kz/rss\n"
            "    tags: [Экономика, Қазақстан / Әлем, 'Нефть, газ']",
        ),
        encoding="utf-8",
    )
    assert invoke("--config", str(config), "publish").exit_code == 0
    second = tmp_path / "second" / "feeds.yaml"
    second.parent.mkdir()
    second.write_text(STARTER, encoding="utf-8")
    exported = tmp_path / "output" / "sources.opml"
    assert invoke("--config", str(second), "import-opml", str(exported)).exit_code == 0
    (source,) = load_config(second).sources
    assert source.tags == ("Экономика", "Қазақстан", "Әлем", "Нефть  газ")


def test_a_source_without_a_name_is_credited_with_its_feeds_title(
    tmp_path: Path, feed_server: FeedServer
):
    feed_server.route("/rss.xml", body=RSS)
    config = tmp_path / "feeds.yaml"
    config.write_text(
        STARTER.replace(
            "sources: []", f"sources:\n  - id: delovoy\n    url: {feed_server.url('/rss.xml')}"
        ),
        encoding="utf-8",
    )
    assert invoke("--config", str(config), "run").exit_code == 0
    title = feedparser.parse(RSS).feed.title
    published = feedparser.parse((tmp_path / "output" / "all.atom").read_bytes())
    assert {entry.source.title for entry in published.entries} == {title}
    health = json.loads((tmp_path / "output" / "health.json").read_text(encoding="utf-8"))
    assert health["sources"][0]["name"] == title
    opml = (tmp_path / "output" / "sources.opml").read_text(encoding="utf-8")
    assert f'text="{title}"' in opml


@pytest.mark.parametrize(
    ("written", "said", "fetch_zone"),
    [
        # A CMS writing its wall time: read in the site's zone; the editor is told how to
        # say UTC.
        (
            "20.03.2026 12:00",
            "its dates say no offset from UTC ('20.03.2026 12:00') and are read as Asia/Almaty "
            "time (site.timezone); if they are UTC, add 'timezone: UTC'",
            "",
        ),
        # Where every source's are read as UTC, how to say the site's zone.
        (
            "20.03.2026 12:00",
            "and are read as UTC time (fetch.timezone); if they are Asia/Almaty time, add "
            "'timezone: Asia/Almaty'",
            "UTC",
        ),
        (
            "03/05/2026 12:00 +0500",
            "its dates such as '03/05/2026 12:00 +0500' may be day or month first, and none of "
            "them shows which: such items are dated when first seen until one does",
            "",
        ),
    ],
)
def test_adding_a_feed_whose_dates_say_no_offset_or_no_order_says_so(
    tmp_path: Path, feed_server: FeedServer, written: str, said: str, fetch_zone: str
):
    feed_server.route(
        "/odd.xml", body=RSS.replace(b"Fri, 20 Mar 2026 12:00:00 +0500", written.encode())
    )
    feed_server.route("/rss.xml", body=RSS)
    config = tmp_path / "feeds.yaml"
    zone = f"  timezone: {fetch_zone}\n" if fetch_zone else ""
    config.write_text(STARTER.replace("fetch:\n", "fetch:\n" + zone), encoding="utf-8")
    odd = invoke("--config", str(config), "add", feed_server.url("/odd.xml"), "--id", "odd")
    assert odd.exit_code == 0, odd.output
    assert said in odd.output
    # A feed whose dates say their offset and their order is added without a word on them.
    plain = invoke("--config", str(config), "add", feed_server.url("/rss.xml"), "--id", "plain")
    assert plain.exit_code == 0 and "timezone" not in plain.output
    assert "day or month" not in plain.output
