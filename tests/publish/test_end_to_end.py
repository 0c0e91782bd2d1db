"""The whole run as a new user tries it: the offline example plus every real-world feed
in ../shared/realfeeds as sources, judged by the W3C feedvalidator, the schemas and
three feed readers (issue 12's done-when). The warnings the validator may still give
are listed in JUSTIFIED and explained in README ("Validator warnings").
"""

from __future__ import annotations

import calendar
import concurrent.futures
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import feedparser
import lxml.html
import pytest
import yaml
from click.testing import CliRunner
from lxml import etree
from validators import (
    ATOM,
    atom_entries,
    jsonfeed_errors,
    need_tool,
    newsboat_entries,
    relaxng_errors,
    rss_entries,
    sfeed_entries,
)

from aggregator.cli import cli

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"
FEEDVALIDATOR = SHARED / "validators" / "fv.py"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
# Warning classes the README justifies (see "Validator warnings" there).
JUSTIFIED = {
    # A plain-text title that contains "&1" or "<tag>"-like text: correct (escaped) text
    # the validator's heuristic takes for markup.
    "ContainsUndeclaredHTML",
    "ContainsHTML",
    # Several items with one time: the feeds themselves give it (guardian.rss,
    # encoding.rss, craigslist.rss, no_encoding_ISO-8859-1.xml): only in their own outputs.
    "DuplicateUpdated",
}
# The outputs a justified warning may come from, where not any: the feeds that give
# several items one time (never a combined output: undated items never share a time).
JUSTIFIED_ONLY_IN = {
    "DuplicateUpdated": (
        "source-rss-parser-guardian.",
        "source-rss-parser-encoding.",
        "source-rss-parser-craigslist.",
        "source-rss-parser-uolnoticias.",
        "source-miniflux-no-encoding-iso-8859-1.",
    ),
}


@pytest.fixture(scope="module")
def output(tmp_path_factory) -> Path:
    realfeeds = SHARED / "realfeeds"
    if not realfeeds.is_dir():
        pytest.skip(f"{realfeeds} is absent (the shared sample feeds live next to the repository)")
    site = tmp_path_factory.mktemp("e2e")
    shutil.copytree(REPO / "examples", site, dirs_exist_ok=True)
    shutil.copytree(REPO / "commentary", site / "commentary")
    config = yaml.safe_load((REPO / "examples" / "feeds.yaml").read_text(encoding="utf-8"))
    config["house"] = {"commentary_dir": "commentary"}
    (site / "real").mkdir()
    for feed in sorted(realfeeds.glob("*/*")):
        if feed.name.startswith("LICENSE") or feed.suffix == ".md":
            continue
        copy = site / "real" / f"{feed.parent.name}-{feed.name}"
        shutil.copy(feed, copy)
        source_id = re.sub(r"[^a-z0-9]+", "-", copy.stem.lower()).strip("-")
        config["sources"].append({"id": source_id, "name": feed.name, "url": f"real/{copy.name}"})
    (site / "feeds.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    result = CliRunner().invoke(cli, ["--config", str(site / "feeds.yaml"), "-q", "run", "--all"])
    assert result.exit_code == 0, result.output
    return site / "output"


def feeds(output: Path, *suffixes: str) -> list[Path]:
    # Our feeds: not health.json or related.json (data files of their own).
    return sorted(
        p for p in output.iterdir() if p.suffix in suffixes and p.stem not in ("health", "related")
    )


def test_the_w3c_feed_validator_finds_no_errors_and_only_justified_warnings(output):
    if not FEEDVALIDATOR.is_file():
        pytest.skip(
            f"{FEEDVALIDATOR} is absent (the shared validators live next to the repository)"
        )
    pytest.importorskip("rdflib", reason="the feedvalidator needs rdflib (test extras)")
    pytest.importorskip("html5lib", reason="the feedvalidator needs html5lib (test extras)")
    warnings: dict[str, int] = {}
    for path in feeds(output, ".atom", ".rss"):
        done = subprocess.run(
            [sys.executable, str(FEEDVALIDATOR), str(path), "--json"],
            capture_output=True,
            text=True,
            timeout=300,
        )
        report = json.loads(done.stdout)
        assert report["errors"] == 0, (path.name, report["events"])
        for event in report["events"]:
            only = JUSTIFIED_ONLY_IN.get(event["event"])
            assert only is None or path.name.startswith(only), (path.name, event)
            count = re.search(r"\((\d+) occurrences\)", event["message"])
            warnings[event["event"]] = warnings.get(event["event"], 0) + int(
                count.group(1) if count else 1
            )
    print(f"\nfeedvalidator warnings: {warnings}")
    assert sorted(set(warnings) - JUSTIFIED) == []


def test_every_output_is_valid_atom_rss_and_json_feed(output):
    for path in feeds(output, ".atom"):
        assert relaxng_errors(path) == "", path.name
    for path in feeds(output, ".json"):
        assert jsonfeed_errors(path) == [], path.name


def readers_disagree(path: Path, workdir: Path) -> list[str]:
    """Where newsboat, sfeed or feedparser read an entry's title, link or date otherwise
    than we wrote it."""
    ours = atom_entries(path) if path.suffix == ".atom" else rss_entries(path)
    wrote = {e["id"]: (e["title"], e["link"]) for e in ours}
    newsboat = {e["id"]: (e["title"], e["link"]) for e in newsboat_entries(path, workdir)}
    found = [
        f"newsboat {i}: {newsboat.get(i)} != {wrote.get(i)}"
        for i in wrote.keys() | newsboat.keys()
        if newsboat.get(i) != wrote.get(i)
    ]
    sfeed = sfeed_entries(path)
    parsed = feedparser.parse(path.read_bytes()).entries
    if not len(sfeed) == len(parsed) == len(ours):
        return [*found, f"counts: sfeed {len(sfeed)}, feedparser {len(parsed)}, ours {len(ours)}"]
    for seen, read, mine in zip(sfeed, parsed, ours, strict=True):
        ours_read = (mine["id"], mine["title"], mine["link"])
        if (seen["id"], seen["title"], seen["link"]) != ours_read:
            found.append(f"sfeed {(seen['id'], seen['title'], seen['link'])} != {ours_read}")
        if (read.id, read.title, read.get("link", "")) != ours_read:
            found.append(f"feedparser {(read.id, read.title, read.get('link'))} != {ours_read}")
        when = read.get("published_parsed") or read.get("updated_parsed")
        if seen["timestamp"] != str(calendar.timegm(when)):
            found.append(f"date of {mine['title']!r}: sfeed {seen['timestamp']}, feedparser {when}")
    return found


def test_newsboat_sfeed_and_feedparser_agree_on_every_title_link_and_date(output, tmp_path):
    # Every Atom and RSS document, so every entry of every source, not only the newest
    # hundred that all.* holds (newsboat is slow to start: four at a time).
    need_tool("newsboat")
    need_tool("sfeed")
    paths = feeds(output, ".atom", ".rss")
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        found = pool.map(lambda p: readers_disagree(p, tmp_path / p.name), paths)
        disagreements = {p.name: f for p, f in zip(paths, found, strict=True) if f}
    assert disagreements == {}


def test_no_local_path_anywhere_in_the_output(output):
    for path in output.rglob("*"):
        if path.is_file():
            assert b"file:" not in path.read_bytes(), path.relative_to(output)


def test_site_relative_links_of_file_sources_lead_to_the_article_site(output):
    delovoy = (output / "source-delovoy-almaty.atom").read_text(encoding="utf-8")
    assert "https://delovoy-almaty.example/news/khorgos-hub/foto" in delovoy
    craigslist = (output / "source-rss-parser-craigslist.atom").read_text(encoding="utf-8")
    assert "http://sfbay.craigslist.org/fb/sfo/apa/6178016537" in craigslist


def test_every_output_and_entry_of_a_known_language_says_it(output):
    for path in feeds(output, ".atom"):
        root = etree.parse(str(path)).getroot()
        assert root.get(XML_LANG), path.name
        for entry in root.iter(f"{ATOM}entry"):  # never left to inherit the feed's
            assert entry.get(XML_LANG), (path.name, entry.findtext(f"{ATOM}title"))
    # The Kazakh output is Kazakh, English sources are English, never the site's "ru".
    assert etree.parse(str(output / "kk.atom")).getroot().get(XML_LANG) == "kk"
    for name, language in [
        ("source-steppe-wire", "en"),
        ("source-rss-parser-guardian", "en-gb"),
        ("source-miniflux-encoding-iso-8859-1", "de"),
        ("source-rss-parser-heise", "de"),
        ("source-miniflux-large-atom", "en"),
        # Feeds that declare none, with items too short to tell one by one.
        ("source-miniflux-rdf-utf8", "de"),
        ("source-rss-parser-uolnoticias", "pt"),
        ("source-rss-parser-reddit", "en"),
        ("source-miniflux-no-encoding-iso-8859-1", "fr"),
    ]:
        root = etree.parse(str(output / f"{name}.atom")).getroot()
        assert root.get(XML_LANG) == language, name
        assert json.loads((output / f"{name}.json").read_bytes())["language"] == language
        for entry in root.iter(f"{ATOM}entry"):
            assert entry.get(XML_LANG, language).split("-")[0] == language.split("-")[0]


def test_every_commentary_has_a_page_and_its_entries_link_to_it(output):
    feeds_url = "http://127.0.0.1:8000/"  # examples/feeds.yaml's site.feeds_url
    pages = {p.name for p in (output / "commentary").glob("*.html")} - {"index.html"}
    assert pages

    def its_page_or_its_own(link: str) -> str:
        if link.startswith(feeds_url):  # ours: its page
            assert link.startswith(f"{feeds_url}commentary/"), link
            assert link.rsplit("/", 1)[-1] in pages, link
        return link

    atom = etree.parse(str(output / "commentary.atom")).getroot()
    atom_links = [
        its_page_or_its_own(e.find(f"{ATOM}link[@rel='alternate']").get("href"))
        for e in atom.iter(f"{ATOM}entry")
    ]
    rss = etree.parse(str(output / "commentary.rss")).getroot()
    rss_links = []
    for item in rss.iter("item"):
        rss_links.append(its_page_or_its_own(item.findtext("link")))
        # Where it comes from: the house's own feed, as every other item names its source.
        assert item.find("source").get("url") == f"{feeds_url}commentary.rss"
    json_links = [
        its_page_or_its_own(item["url"])
        for item in json.loads((output / "commentary.json").read_bytes())["items"]
    ]
    assert len(pages) == len(atom_links)
    assert sorted(atom_links) == sorted(rss_links) == sorted(json_links)
    listing = lxml.html.fromstring((output / "commentary" / "index.html").read_bytes())
    assert sorted(listing.xpath("//article//a/@href")) == sorted(pages)


def test_index_html_shows_the_news_first_and_folds_the_per_source_feeds(output):
    page = lxml.html.fromstring((output / "index.html").read_bytes())
    assert len(page.xpath("//main//article")) == 50  # publish.html_entries
    per_source = {p.stem for p in feeds(output, ".atom") if p.stem.startswith("source-")}
    assert len(per_source) > 20
    folded = page.xpath("//footer//details//li/a[1]/@href")
    assert {href.removesuffix(".atom") for href in folded} == per_source
    shown = page.xpath("//footer/ul[@class='feeds']/li/a[1]/@href")
    assert shown and not any(href.startswith("source-") for href in shown)
