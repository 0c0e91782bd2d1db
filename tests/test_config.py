"""feeds.yaml: what the loader accepts, what it fills in, and how it reports mistakes."""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from aggregator.config import (
    Config,
    ConfigError,
    FetchConfig,
    HouseConfig,
    OutputConfig,
    PublishConfig,
    RelatedConfig,
    SiteConfig,
    SourceConfig,
    StorageConfig,
    language_code,
    load_config,
    resolve_path,
)

REPO = Path(__file__).resolve().parents[1]

SITE = """\
site:
  title: Евразия24
  link: https://eurasia24.media/
"""
SOURCES = """\
sources:
  - id: tengrinews
    name: Tengrinews
    url: https://tengrinews.kz/news.rss
  - id: kazinform-ru
    name: Казинформ
    url: https://www.inform.kz/rss/rus.xml
"""
MINIMAL = SITE + SOURCES


def write(tmp_path: Path, text: str, name: str = "feeds.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def load(tmp_path: Path, text: str) -> Config:
    return load_config(write(tmp_path, text))


def errors(tmp_path: Path, text: str) -> list[str]:
    """The lines of the ConfigError that loading `text` raises."""
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as excinfo:
        load_config(path)
    lines = str(excinfo.value).splitlines()
    assert all(line.startswith(str(path)) for line in lines), lines
    return lines


def one_error(tmp_path: Path, text: str) -> str:
    lines = errors(tmp_path, text)
    assert len(lines) == 1, lines
    return lines[0]


# --- the checked-in configurations ------------------------------------------------


def test_the_production_feeds_yaml_loads():
    config = load_config(REPO / "feeds.yaml")

    assert config.site.title == "Евразия24"
    assert config.site.link == "https://eurasia24.media/"
    assert "eurasia24.media" in config.site.repost_notice
    ids = {s.id for s in config.sources}
    assert {"kazinform-ru", "kazinform-kk", "kazinform-en", "tengrinews"} <= ids
    assert {
        config.source(i).language for i in ("kazinform-ru", "kazinform-kk", "kazinform-en")
    } == {
        "ru",
        "kk",
        "en",
    }
    assert all(s.url.startswith("https://") for s in config.sources)
    assert all(s.name and s.language and s.tags for s in config.sources)
    outputs = {o.name: o for o in config.outputs}
    assert outputs["commentary"].kinds == ("commentary",)
    assert "all" in outputs
    assert any(o.per == "source" for o in config.outputs)
    assert any(o.per == "tag" or o.languages for o in config.outputs)
    assert config.house.name == "Евразия24"  # from site.house
    assert config.house.commentary_dir == "commentary"


def test_the_offline_example_loads_and_points_at_its_own_sample_feeds():
    config = load_config(REPO / "examples" / "feeds.yaml")

    for source in config.sources:
        assert resolve_path(config, source.url).is_file(), source.url
    assert resolve_path(config, config.storage.path) == REPO / "examples" / "examples.sqlite"
    assert resolve_path(config, config.publish.dir) == REPO / "examples" / "output"
    assert {s.language for s in config.sources} == {"ru", "kk", "en"}


def test_the_example_sample_feeds_are_in_the_promised_formats_and_encodings():
    feeds = REPO / "examples" / "feeds"

    cp1251 = (feeds / "stepnoy-vestnik-cp1251.xml").read_bytes()
    assert cp1251.startswith(b'<?xml version="1.0" encoding="windows-1251"?>')
    with pytest.raises(UnicodeDecodeError):
        cp1251.decode("utf-8")
    assert "Наурыз" in cp1251.decode("cp1251")

    atom = (feeds / "dala-zhanalyktary.atom").read_text(encoding="utf-8")
    assert 'xmlns="http://www.w3.org/2005/Atom"' in atom
    assert set("әғқңөұүһі") <= set(atom)

    jf = json.loads((feeds / "steppe-wire.json").read_text(encoding="utf-8"))
    assert jf["version"] == "https://jsonfeed.org/version/1.1"
    assert 5 <= len(jf["items"]) <= 8

    rss = (feeds / "delovoy-almaty.xml").read_text(encoding="utf-8")
    assert "<category>" in rss and "<enclosure " in rss


# --- defaults and conversions -------------------------------------------------------


def test_minimal_config_gets_dataclass_defaults_and_two_default_outputs(tmp_path):
    config = load(tmp_path, MINIMAL)

    assert config.fetch == FetchConfig()
    assert config.storage == StorageConfig()
    assert config.publish == PublishConfig()
    assert config.house == HouseConfig()
    # Its dates without an offset are read in the site's zone (fetch.timezone says another).
    assert config.sources[0] == SourceConfig(
        id="tengrinews", name="Tengrinews", url="https://tengrinews.kz/news.rss",
        timezone="Asia/Almaty",
    )  # fmt: skip
    assert config.outputs == (
        OutputConfig(name="all", title="Евразия24"),
        OutputConfig(name="commentary", kinds=("commentary",)),
    )


def test_default_all_output_takes_the_site_title_and_description(tmp_path):
    config = load(tmp_path, SITE + "  description: Новости\n" + SOURCES)

    assert config.outputs[0] == OutputConfig(name="all", title="Евразия24", description="Новости")


def test_an_empty_outputs_list_gets_the_default_outputs_too(tmp_path):
    assert [o.name for o in load(tmp_path, MINIMAL + "outputs: []\n").outputs] == [
        "all",
        "commentary",
    ]


def test_a_per_source_rule_may_name_its_files_by_source_name(tmp_path):
    text = MINIMAL + "outputs: [{name: all}, {name: 'feed-{name}', per: source}]\n"
    assert load(tmp_path, text).outputs[1].name == "feed-{name}"


def test_house_name_defaults_to_site_house_unless_given(tmp_path):
    site = SITE + "  house: Евразия24\n"
    assert load(tmp_path, site + SOURCES).house.name == "Евразия24"
    assert load(tmp_path, site + SOURCES + "house: {name: Редакция}\n").house.name == "Редакция"


def test_an_empty_section_means_all_defaults(tmp_path):
    config = load(tmp_path, MINIMAL + "fetch:\nstorage:\n")
    assert config.fetch == FetchConfig()
    assert config.storage == StorageConfig()


def test_yaml_lists_become_tuples_and_headers_a_dict(tmp_path):
    config = load(
        tmp_path,
        SITE
        + """\
sources:
  - id: kursiv
    name: Курсив
    url: https://kz.kursiv.media/feed/
    tags: [business, kazakhstan]
    headers: {Accept-Language: ru, X-Token: abc}
    allow_private_networks: [10.0.0.0/8, "::1"]
""",
    )
    source = config.sources[0]
    assert source.tags == ("business", "kazakhstan")
    assert source.headers == {"Accept-Language": "ru", "X-Token": "abc"}
    assert source.allow_private_networks == ("10.0.0.0/8", "::1")
    assert isinstance(config.sources, tuple)


@pytest.mark.parametrize(
    "written, seconds",
    [("5400", 5400), ('"5400"', 5400), ("90s", 90), ("30m", 1800), ("2h", 7200),
     ("7d", 604800), ("1h30m", 5400), ("1w", 604800)],
)  # fmt: skip
def test_durations_are_seconds_or_number_with_unit(tmp_path, written, seconds):
    config = load(
        tmp_path,
        MINIMAL
        + f"fetch: {{interval: {written}}}\n"
        + f"outputs: [{{name: all, max_age: {written}}}]\n",
    )
    assert config.fetch.interval == seconds
    assert config.outputs[0].max_age == seconds


@pytest.mark.parametrize(
    ("written", "said"),
    [
        ("outputs: [{name: all, max_age: 7}]", "outputs[0].max_age: 7 is 7 seconds; write '7d'"),
        ("fetch: {interval: 30}", "fetch.interval: 30 is 30 seconds; write '30m'"),
        ("related: {window: '30'}", "related.window: 30 is 30 seconds; write '30d'"),
        ("fetch: {max_body_bytes: 10}", "fetch.max_body_bytes: 10 is 10 bytes; write '10MB'"),
    ],
)
def test_a_duration_written_without_its_unit_that_cannot_mean_seconds_is_said(
    tmp_path, written, said
):
    # "max_age: 7" kept entries within seven seconds of the newest: an empty output.
    assert said in one_error(tmp_path, MINIMAL + written + "\n")
    # Seconds (and bytes), meant: said so.
    seconds = written.replace("7}", "7s}").replace("30}", "30s}").replace("'30'", "30s")
    load(tmp_path, MINIMAL + seconds.replace("10}", "10KB}") + "\n")


@pytest.mark.parametrize(
    "header", ["User-Agent: Mozilla/5.0", "Accept-Language: ru", "Cookie: a=b"]
)
def test_a_request_header_written_beside_headers_not_under_it_is_said(tmp_path, header):
    # "headers:" then the header at the entry's indentation: an unknown key of the entry
    # (Accept-Language read as a typo of language).
    name = header.split(":")[0]
    message = one_error(tmp_path, MINIMAL + f"    headers:\n    {header}\n")
    assert (
        f"sources[1].{name}: unknown key; a request header goes under 'headers:', indented: "
        f"headers: {{{name}: ...}}"
    ) in message


@pytest.mark.parametrize(
    ("written", "meant"),
    [
        # As Kazakh editors name their zone: the capital (old and new names, with a
        # region too), the country, the zone's abbreviation; and letters off or in case.
        ("Asia/Astana", "Asia/Almaty"), ("Asia/Nur-Sultan", "Asia/Almaty"),
        ("Astana", "Asia/Almaty"), ("Kazakhstan", "Asia/Almaty"), ("ALMT", "Asia/Almaty"),
        ("Asia/Almati", "Asia/Almaty"), ("europe/moscow", "Europe/Moscow"),
    ],
)  # fmt: skip
def test_a_time_zone_named_as_people_name_it_is_answered_with_its_iana_name(
    tmp_path, written, meant
):
    message = one_error(tmp_path, MINIMAL.replace("site:\n", f"site:\n  timezone: {written}\n"))
    assert (
        f"site.timezone: '{written}' is not a time zone this machine knows; did you mean '{meant}'?"
        in message
    )


def test_a_placeholder_in_a_one_line_mapping_is_answered_with_the_value_in_quotes(tmp_path):
    # README's per-source outputs name '{id}'; written on one line, YAML reads it as a
    # mapping. The advice was to quote "src-{id}, per: source", per: and all.
    written = "outputs:\n  - {name: all}\n  - {name: tag-{tag}, per: tag, title: Новости {tag}}\n"
    assert (
        "YAML syntax error: a value in a '{...}' mapping has braces in it, which YAML reads as "
        'another mapping; put it in quotes: - {name: "tag-{tag}", per: tag, title: "Новости {tag}"}'
    ) in one_error(tmp_path, MINIMAL + written)


@pytest.mark.parametrize(
    ("written", "meant"),
    [("win-1251", "windows-1251"), ("win1251", "windows-1251"), ("cp-1251", "windows-1251"),
     ("koi-8r", "koi8-r")],
)  # fmt: skip
def test_an_encoding_named_as_people_write_it_is_answered_with_its_name(tmp_path, written, meant):
    message = one_error(tmp_path, MINIMAL + f"    encoding: {written}\n")
    assert (
        f"encoding: '{written}' is not a character encoding this machine knows; did you mean '{meant}'?"
        in message
    )


def test_a_source_interval_is_a_duration_too(tmp_path):
    text = MINIMAL.replace("url: https://tengrinews.kz/news.rss", "url: x.xml\n    interval: 15m")
    assert load(tmp_path, text).sources[0].interval == 900


@pytest.mark.parametrize(
    "written, size",
    [("1048576", 1048576), ("512KB", 512 * 1024), ("10MB", 10 * 1024 * 1024),
     ("10 MiB", 10 * 1024 * 1024), ("1GiB", 1024**3), ("1.5MB", 1572864), ("64k", 65536)],
)  # fmt: skip
def test_sizes_are_bytes_or_number_with_unit(tmp_path, written, size):
    config = load(tmp_path, MINIMAL + f"fetch: {{max_body_bytes: {written}}}\n")
    assert config.fetch.max_body_bytes == size


def test_timeouts_are_floats_even_when_written_as_integers(tmp_path):
    config = load(tmp_path, MINIMAL + "fetch: {timeout: 30}\n")
    assert config.fetch.timeout == 30.0
    assert isinstance(config.fetch.timeout, float)


def test_a_timeout_may_be_written_as_a_duration_as_every_other_time(tmp_path):
    text = MINIMAL.replace(
        "    url: https://tengrinews.kz/news.rss\n",
        "    url: https://tengrinews.kz/news.rss\n    timeout: 2m\n",
    )
    config = load(tmp_path, text + "fetch: {timeout: 30s}\n")
    assert (config.fetch.timeout, config.sources[0].timeout) == (30.0, 120.0)
    assert load(tmp_path, MINIMAL + "fetch: {timeout: 7.5}\n").fetch.timeout == 7.5


@pytest.mark.parametrize(
    "url",
    [
        "https://tengrinews.kz/news.rss",
        "http://127.0.0.1:8080/feed.xml",
        "file:///srv/feeds/local.xml",
        "feeds/local.xml",
        "../shared/feed.atom",
        "/srv/feeds/local.json",
    ],
)
def test_source_urls_may_be_http_urls_file_urls_or_paths(tmp_path, url):
    text = MINIMAL.replace("https://tengrinews.kz/news.rss", url)
    assert load(tmp_path, text).sources[0].url == url


def test_every_field_of_every_section_is_a_key_in_the_file(tmp_path):
    # The loader reads the schema from the dataclasses: each field's default,
    # written out as YAML, loads back to the same value.
    def as_yaml(obj) -> dict:
        out = dataclasses.asdict(obj)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in out.items()}

    source = SourceConfig(id="a", name="A", url="https://a.kz/rss")
    output = OutputConfig(name="all")
    document = {
        "site": as_yaml(SiteConfig(title="T", link="https://a.kz/")),
        "sources": [as_yaml(source)],
        "fetch": as_yaml(FetchConfig()),
        "storage": as_yaml(StorageConfig()),
        "house": as_yaml(HouseConfig(name="H")),
        "publish": as_yaml(PublishConfig()),
        "related": as_yaml(RelatedConfig()),
        "outputs": [as_yaml(output)],
    }
    assert set(document) == {f.name for f in dataclasses.fields(Config)} - {
        "path",
        "held",
        "entry_problems",
        "file_order",
        "withheld",
    }
    config = load(tmp_path, yaml.safe_dump(document, allow_unicode=True))

    assert config.fetch == FetchConfig()
    # (but a source's timezone, which the loader fills in from fetch.timezone, else the site's)
    assert config.sources == (dataclasses.replace(source, timezone="Asia/Almaty"),)
    assert config.outputs == (output,)
    assert config.house == HouseConfig(name="H")
    assert config.related == RelatedConfig()


# --- paths ------------------------------------------------------------------------------


def test_config_path_is_absolute_and_relative_paths_stay_as_written(tmp_path, monkeypatch):
    (tmp_path / "site").mkdir()
    write(
        tmp_path / "site",
        MINIMAL.replace("https://tengrinews.kz/news.rss", "feeds/local.xml")
        + "storage: {path: data/agg.sqlite}\npublish: {dir: public}\n"
        + "house: {commentary_dir: commentary}\n",
    )
    monkeypatch.chdir(tmp_path)
    config = load_config("site/feeds.yaml")

    assert config.path == str(tmp_path / "site" / "feeds.yaml")
    assert config.sources[0].url == "feeds/local.xml"
    assert config.storage.path == "data/agg.sqlite"
    base = tmp_path / "site"
    assert resolve_path(config, config.sources[0].url) == base / "feeds" / "local.xml"
    assert resolve_path(config, config.storage.path) == base / "data" / "agg.sqlite"
    assert resolve_path(config, config.publish.dir) == base / "public"
    assert resolve_path(config, config.house.commentary_dir) == base / "commentary"


def test_resolve_path_keeps_absolute_paths(tmp_path):
    config = load(tmp_path, MINIMAL)
    assert resolve_path(config, "/var/lib/agg.sqlite") == Path("/var/lib/agg.sqlite")


def test_resolve_path_of_a_config_built_in_code_uses_the_current_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = Config(site=SiteConfig(title="T", link="https://a.kz/"), sources=())
    assert resolve_path(config, "out") == tmp_path / "out"


# --- error messages: file, line, key path, what is wrong, what to write -----------------


def test_an_unknown_key_suggests_the_closest_known_one(tmp_path):
    message = one_error(tmp_path, MINIMAL + "pubish:\n  dir: out\n")
    assert re.fullmatch(
        r".*feeds\.yaml:\d+: pubish: unknown key; did you mean 'publish'\?", message
    )

    message = one_error(
        tmp_path, MINIMAL.replace("    name: Tengrinews", "    nmae: Tengrinews\n    name: T")
    )
    assert "sources[0].nmae: unknown key; did you mean 'name'?" in message


def test_an_unknown_key_without_a_close_match_lists_the_valid_keys(tmp_path):
    message = one_error(tmp_path, MINIMAL + "storage: {zzz: 1}\n")
    assert (
        "storage.zzz: unknown key; valid keys here: url, path, retention_days, keep_latest"
        in message
    )


def test_path_is_not_a_key_the_file_may_set(tmp_path):
    assert "path: unknown key" in one_error(tmp_path, MINIMAL + "path: /elsewhere\n")


def test_messages_carry_the_line_number(tmp_path):
    text = MINIMAL + "fetch:\n  concurrency: many\n"
    line = text.splitlines().index("  concurrency: many") + 1
    assert f"feeds.yaml:{line}: fetch.concurrency:" in one_error(tmp_path, text)


def test_a_wrong_type_names_the_expected_type_and_the_value_found(tmp_path):
    message = one_error(tmp_path, MINIMAL + "fetch: {concurrency: many}\n")
    assert "fetch.concurrency: expected a whole number, found 'many'; write digits" in message

    message = one_error(tmp_path, MINIMAL + "fetch: {timeout: fast}\n")
    assert "fetch.timeout: expected a number, found 'fast'; write seconds (30 or 7.5)" in message

    # A weight is no number of seconds.
    message = one_error(tmp_path, MINIMAL + "related: {title_weight: high}\n")
    assert message.endswith(
        "related.title_weight: expected a number, found 'high'; write a number without quotes, "
        "e.g. 0.5"
    )

    message = one_error(tmp_path, MINIMAL + "publish: [a, b]\n")
    assert "publish: expected a mapping (key: value lines), found a list" in message


def test_a_single_string_where_a_list_is_wanted_suggests_the_list(tmp_path):
    text = MINIMAL.replace("url: https://tengrinews.kz/news.rss", "url: x.xml\n    tags: economy")
    message = one_error(tmp_path, text)
    assert (
        "sources[0].tags: expected a list of strings, found 'economy'; write a list: [economy]"
        in message
    )


def test_a_yaml_boolean_where_text_is_wanted_suggests_quotes(tmp_path):
    # YAML 1.1 reads a bare `no` (Norwegian) as false.
    text = MINIMAL.replace("url: https://tengrinews.kz/news.rss", "url: x.xml\n    language: no")
    message = one_error(tmp_path, text)
    assert (
        'sources[0].language: expected a string, found false (a boolean); put it in quotes: "no"'
        in message
    )


def test_true_or_false_fields_reject_other_values(tmp_path):
    text = MINIMAL.replace(
        "url: https://tengrinews.kz/news.rss", "url: x.xml\n    enabled: sometimes"
    )
    assert "sources[0].enabled: expected true or false, found 'sometimes'" in one_error(
        tmp_path, text
    )


@pytest.mark.parametrize(
    ("written", "meant"), [('"true"', "true"), ("'false'", "false"), ('"no"', "false")]
)
def test_true_or_false_in_quotes_is_answered_with_the_value_to_write_without_them(
    tmp_path, written, meant
):
    # house: "true" is the text "true" to YAML: "found 'true'; write true or false"
    # read as if the editor had written true.
    text = MINIMAL.replace(
        "url: https://tengrinews.kz/news.rss", f"url: x.xml\n    house: {written}"
    )
    assert one_error(tmp_path, text).endswith(
        f"sources[0].house: expected true or false, found the text '{written[1:-1]}' "
        f"(in quotes); write {meant}, without quotes"
    )


@pytest.mark.parametrize("name", ["kz.atom", "kz.RSS", "kz.json", "kz.xml"])
def test_an_output_named_with_a_feeds_file_ending_is_answered_with_its_stem(tmp_path, name):
    # "name: kz.atom" published kz.atom.atom, kz.atom.rss and kz.atom.json.
    text = MINIMAL + f"outputs:\n  - {{name: all}}\n  - {{name: {name}, languages: [kk]}}\n"
    assert one_error(tmp_path, text).endswith(
        f"outputs[1].name: '{name}' ends in a feed's file ending; the name is the file's stem, "
        "publish adds .atom, .rss and .json; write 'kz'"
    )


@pytest.mark.parametrize(
    ("written", "key"),
    [("2026-13-07", "site.description"), ("[kz, 2026-02-30]", "site.description[1]")],
)
def test_a_date_no_calendar_has_is_answered_where_it_is_not_an_internal_error(
    tmp_path, written, key
):
    # YAML reads 2026-13-07 as a date, and PyYAML raised ValueError: "internal error".
    text = SITE + f"  description: {written}\n" + SOURCES
    value = written.strip("[]").split(", ")[-1]
    assert one_error(tmp_path, text).endswith(
        f"feeds.yaml:4: {key}: '{value}' reads as a date, but there is no such day; if it "
        f'is text, put it in quotes: "{value}"'
    )


PUBLISH_DOES = (
    "publish writes index.html, sources.opml, health.json, embed.js and the feeds there "
    "(over files of those names), and removes the files in its commentary/ and related/ "
    "it did not write; write a directory of its own, e.g. 'output' (beside feeds.yaml)"
)


@pytest.mark.parametrize(
    ("written", "more", "said"),
    [
        ("/", "", "is the root of the file system: "),
        ("'~'", "", "is the home directory: "),
        ("'~/'", "", "is the home directory: "),
        (".", "", "is the directory of feeds.yaml: a web server serving it would serve "),
        ("''", "", "is the directory of feeds.yaml: a web server serving it would serve "),
        ("site/..", "", "is the directory of feeds.yaml: a web server serving it would serve "),
        ("..", "", "holds feeds.yaml: a web server serving it would serve feeds.yaml too, and "),
        (
            "data",
            "storage: {path: data/agg.sqlite}\n",
            "holds the store (storage.path): a web server serving it would serve the store "
            "too, and ",
        ),
        (
            "drafts",
            "house: {commentary_dir: drafts/commentary}\n",
            "holds house.commentary_dir: a web server serving it would serve the editors' "
            "drafts too, and ",
        ),
        (
            "templates",
            "templates: templates\n",
            "is publish.templates: a web server serving it would serve the templates too, and ",
        ),
    ],
)
def test_a_publish_dir_that_cannot_be_meant_is_refused_saying_what_publish_does_there(
    tmp_path, monkeypatch, written, more, said
):
    # publish.dir is what a web server serves, and publish writes index.html over one there.
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    config_dir = tmp_path / "home" / "site" if written.startswith("'~") else tmp_path
    config_dir.mkdir(exist_ok=True)
    publish = f"publish:\n  dir: {written}\n"
    if more.startswith("templates"):
        publish, more = publish + "  " + more, ""
    text = MINIMAL + more + publish
    lines = errors(config_dir, text)
    assert len(lines) == 1, lines
    shown = written.strip("'")
    assert f": publish.dir: '{shown}' {said}" in lines[0] and lines[0].endswith(PUBLISH_DOES)


@pytest.mark.parametrize("written", ["output", "../public", "/srv/www/feeds", "'~/public'"])
def test_a_publish_dir_of_its_own_is_accepted(tmp_path, monkeypatch, written):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    config = load(tmp_path, MINIMAL + f"publish:\n  dir: {written}\n")
    assert config.publish.dir == written.strip("'")


@pytest.mark.parametrize("written", ["30 minutes", "-5", "2x", "h"])
def test_a_malformed_duration_says_how_to_write_one(tmp_path, written):
    message = one_error(tmp_path, MINIMAL + f"fetch: {{interval: '{written}'}}\n")
    assert f"fetch.interval: expected a duration, found '{written}'" in message
    assert '"30m", "2h", "7d"' in message


def test_a_malformed_size_says_how_to_write_one(tmp_path):
    message = one_error(tmp_path, MINIMAL + "fetch: {max_body_bytes: 10XB}\n")
    assert "fetch.max_body_bytes: expected a size, found '10XB'" in message
    assert '"10MB"' in message


def test_numbers_out_of_range_are_rejected(tmp_path):
    assert "fetch.concurrency: must be greater than 0, found 0" in one_error(
        tmp_path, MINIMAL + "fetch: {concurrency: 0}\n"
    )
    assert "storage.keep_latest: must not be negative, found -1" in one_error(
        tmp_path, MINIMAL + "storage: {keep_latest: -1}\n"
    )


def test_a_missing_required_key_is_named_with_an_example(tmp_path):
    message = one_error(tmp_path, SITE + "sources:\n  - id: tengrinews\n    name: Tengrinews\n")
    assert re.search(
        r"feeds\.yaml:\d+: sources\[0\]: missing required key 'url'; add e\.g\. 'url: https://",
        message,
    )

    assert "missing required key 'sources'" in one_error(tmp_path, SITE)
    assert "missing required key 'link'" in one_error(tmp_path, "site: {title: T}\n" + SOURCES)


def test_an_empty_sources_list_is_an_error(tmp_path):
    assert "sources: no sources configured; add at least one" in one_error(
        tmp_path, SITE + "sources: []\n"
    )


def test_a_duplicate_source_id_names_both_positions(tmp_path):
    text = MINIMAL + "  - id: tengrinews\n    name: Again\n    url: https://tengrinews.kz/x.rss\n"
    message = one_error(tmp_path, text)
    first_line = text.splitlines().index("  - id: tengrinews") + 1
    assert (
        f"sources[2].id: duplicate source id 'tengrinews', already used by sources[0] (line {first_line})"
        in message
    )


@pytest.mark.parametrize(
    "bad, suggestion",
    [
        ("Tengri News", "'tengri-news'"),
        ("_private", "'private'"),
        # Russian and Kazakh ids are suggested in Latin letters, not replaced by an example.
        ("Казинформ", "'kazinform'"),
        ("Қазинформ", "'qazinform'"),
        ("Хабар 24", "'khabar-24'"),
    ],
)
def test_a_source_id_must_be_a_lowercase_slug(tmp_path, bad, suggestion):
    message = one_error(tmp_path, MINIMAL.replace("id: tengrinews", f"id: {bad}"))
    assert f"sources[0].id: '{bad}' is not a valid source id" in message
    assert f"for example {suggestion}" in message


@pytest.mark.parametrize(
    ("source", "suggested"),
    [
        ("{name: Ақорда, url: 'https://www.akorda.kz/ru/rss'}", "akorda"),
        ("{name: Қазақ үні, url: 'https://информ.кз/rss'}", "inform"),
        ("{name: Хабар, url: feeds/khabar.xml}", "khabar"),
    ],
)
def test_a_source_without_an_id_is_offered_the_one_add_would_give_it(tmp_path, source, suggested):
    message = one_error(tmp_path, SITE + f"sources:\n  - {source}\n")
    assert message.endswith(f"sources[0]: missing required key 'id'; add e.g. 'id: {suggested}'")


@pytest.mark.parametrize(
    "url, expected",
    [
        ("htps://tengrinews.kz/news.rss", "unsupported URL scheme 'htps:'; did you mean 'https'?"),
        ("ftp://example.kz/feed", "unsupported URL scheme 'ftp:'"),
        ("https:///news.rss", "has no host name; write 'https://host/path'"),
        ("https:/tengrinews.kz/news.rss", "has no host name; write 'https://tengrinews.kz/news.rss'"),
        ("https:tengrinews.kz/news.rss", "has no host name; write 'https://tengrinews.kz/news.rss'"),
        (
            "https//tengrinews.kz/news.rss",
            "looks like a web address without the ':' after https; "
            "write 'https://tengrinews.kz/news.rss'",
        ),
        ("https://tengrinews.kz:port/", "has an invalid port"),
        ("www.zakon.kz/rss.xml", "looks like a web address without its scheme; write 'https://www.zakon.kz/rss.xml'"),
        # As a browser's address bar shows an address: without its https://.
        ("kapital.kz/rss", "looks like a web address without its scheme; write 'https://kapital.kz/rss'"),
        ("inform.kz:8080/rss", "looks like a web address without its scheme; write 'https://inform.kz:8080/rss'"),
        ("kapital.kz", "looks like a web address without its scheme; write 'https://kapital.kz'"),
        # Copied from a document or a chat, its typographic quotes and all.
        (
            "“https://kapital.kz/rss”",
            "'“https://kapital.kz/rss”' has quotation marks around it, as a document or chat "
            'wrote it; write https://kapital.kz/rss, without them (or in plain quotes: '
            '"https://kapital.kz/rss")',
        ),
        ("«https://kapital.kz/rss»", "has quotation marks around it"),
        ("feed://kapital.kz/rss", "'feed://kapital.kz/rss' is a browser's link to a feed, not its address; write 'http://kapital.kz/rss'"),
        ("feed:https://kapital.kz/rss", "write 'https://kapital.kz/rss'"),
        ("https://tengrinews.kz/news .rss", "contains spaces"),
        ("file:feeds/x.xml", "is not a file:// URL"),
        ("''", "sources[0].url: is empty"),
    ],
)  # fmt: skip
def test_a_malformed_source_url_is_rejected_with_advice(tmp_path, url, expected):
    message = one_error(tmp_path, MINIMAL.replace("https://tengrinews.kz/news.rss", url))
    assert "sources[0].url:" in message
    assert expected in message


def test_a_local_path_is_no_web_address(tmp_path):
    # A file's name, a directory's path, or a path whose first part has a dot but is
    # there beside the config, are read as the local files they are.
    (tmp_path / "mirror.kz").mkdir()
    (tmp_path / "mirror.kz" / "rss").write_text("<rss/>", encoding="utf-8")
    for path in ("news.xml", "feeds/news.xml", "mirror.kz/rss"):
        config = load(tmp_path, MINIMAL.replace("https://tengrinews.kz/news.rss", path))
        assert config.sources[0].url == path


def test_site_link_and_feeds_url_must_be_http_urls(tmp_path):
    message = one_error(tmp_path, MINIMAL.replace("https://eurasia24.media/", "eurasia24.media"))
    assert "site.link: 'eurasia24.media' is not an http(s) URL" in message
    message = one_error(tmp_path, SITE + "  feeds_url: /feeds/\n" + SOURCES)
    assert "site.feeds_url: '/feeds/' is not an http(s) URL" in message


def test_private_network_cidrs_must_parse(tmp_path):
    lines = errors(
        tmp_path, MINIMAL + "fetch: {allow_private_networks: [10.0.0.1/8, localnet, 127.0.0.1]}\n"
    )
    assert len(lines) == 2
    assert "fetch.allow_private_networks[0]: '10.0.0.1/8' is not a network address" in lines[0]
    assert "write '10.0.0.0/8'" in lines[0]
    assert "fetch.allow_private_networks[1]: 'localnet' is not a network address" in lines[1]


def test_output_per_must_be_source_or_tag(tmp_path):
    message = one_error(tmp_path, MINIMAL + "outputs: [{name: 'x-{id}', per: sources}]\n")
    assert (
        "outputs[0].per: 'sources' is not allowed; did you mean 'source'? write one of: source, tag"
        in message
    )


def test_output_kinds_must_be_source_or_commentary(tmp_path):
    message = one_error(tmp_path, MINIMAL + "outputs: [{name: all, kinds: [source, comentary]}]\n")
    assert "outputs[0].kinds[1]: 'comentary' is not allowed; did you mean 'commentary'?" in message
    message = one_error(tmp_path, MINIMAL + "outputs: [{name: all, kinds: []}]\n")
    assert "outputs[0].kinds: is empty" in message


def test_output_regexes_must_compile(tmp_path):
    message = one_error(
        tmp_path, MINIMAL + "outputs: [{name: all, exclude: ['(?i)реклам', '(unclosed']}]\n"
    )
    assert "outputs[0].exclude[1]: '(unclosed' is not a valid regular expression" in message


def test_output_sources_must_be_known_source_ids(tmp_path):
    message = one_error(
        tmp_path, MINIMAL + "outputs: [{name: all, sources: [tengrinews, kazinfrom-ru]}]\n"
    )
    assert (
        "outputs[0].sources[1]: 'kazinfrom-ru' is not the id of any source; did you mean 'kazinform-ru'?"
        in message
    )


def test_output_names_must_be_unique(tmp_path):
    message = one_error(tmp_path, MINIMAL + "outputs: [{name: all}, {name: news}, {name: all}]\n")
    assert "outputs[2].name: output file name 'all' is already used by outputs[0]" in message

    text = (
        MINIMAL
        + "outputs: [{name: all}, {name: 'source-{id}', per: source}, {name: source-tengrinews}]\n"
    )
    assert (
        "outputs[2].name: output file name 'source-tengrinews' is already used by outputs[1]"
        in one_error(tmp_path, text)
    )


@pytest.mark.parametrize(
    "name, per, expected",
    [
        ("all news", None, "'all news' cannot be used as a file name"),
        ("../all", None, "cannot be used as a file name"),
        ("новости", None, "cannot be used as a file name"),
        (
            "source",
            "source",
            "'source' must contain {id}, so that every source gets its own file; write e.g. 'source-{id}'",
        ),
        ("by-tag", "tag", "must contain {tag}"),
        ("all-{id}", None, "has a placeholder but the output has no 'per:'"),
        ("tag-{id}", "tag", "must contain {tag}"),
        ("src-{id}-{tag}", "source", "cannot be used as a file name"),
    ],
)
def test_output_names_must_be_safe_file_names_with_the_right_placeholder(
    tmp_path, name, per, expected
):
    per_yaml = f", per: {per}" if per else ""
    message = one_error(
        tmp_path, MINIMAL + f"outputs: [{{name: all}}, {{name: '{name}'{per_yaml}}}]\n"
    )
    assert "outputs[1].name:" in message
    assert expected in message


def test_main_output_must_name_an_output(tmp_path):
    message = one_error(tmp_path, MINIMAL + "publish: {main_output: al}\n")
    assert "publish.main_output: 'al' is not the name of an output; did you mean 'all'?" in message
    assert "set it to one of: all, commentary" in message


def test_main_output_may_be_a_per_source_output(tmp_path):
    text = (
        MINIMAL
        + "publish: {main_output: source-tengrinews}\noutputs: [{name: 'source-{id}', per: source}]\n"
    )
    assert load(tmp_path, text).publish.main_output == "source-tengrinews"


def test_all_problems_are_reported_at_once_in_file_order(tmp_path):
    text = """\
site:
  title: Евразия24
  link: eurasia24.media
  langauge: ru
fetch:
  interval: soon
sources:
  - id: Tengri
    name: Tengrinews
    url: htps://tengrinews.kz/news.rss
  - id: zakon
    name: Zakon.kz
  - id: zakon
    name: Zakon
    url: https://www.zakon.kz/rss/
outputs:
  - name: all
    sources: [zakn]
"""
    lines = errors(tmp_path, text)

    expected = [
        (3, "site.link"),
        (4, "site.langauge"),
        (6, "fetch.interval"),
        (8, "sources[0].id"),
        (10, "sources[0].url"),
        (11, "sources[1]: missing required key 'url'"),
        (13, "sources[2].id: duplicate"),
        (18, "outputs[0].sources[0]"),
    ]
    assert len(lines) == len(expected), lines
    for line, (number, start) in zip(lines, expected, strict=True):
        assert f"feeds.yaml:{number}: {start}" in line
        assert "; " in line  # every message says what to do


# --- files that are not a config at all ---------------------------------------------------


def test_a_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match=r"nope\.yaml: file not found; check the path"):
        load_config(tmp_path / "nope.yaml")


def test_a_directory_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="is a directory"):
        load_config(tmp_path)


def test_a_yaml_syntax_error_gives_line_and_column(tmp_path):
    message = one_error(tmp_path, SITE + "sources:\n  - id: x\n     name: bad indent\n")
    assert re.search(r"feeds\.yaml:\d+:\d+: YAML syntax error: .+; check the indentation", message)


@pytest.mark.parametrize(
    "name, expected",
    [
        # A name with its quotation marks, as Russian and Kazakh write newspapers' names.
        (
            '"Қазақстан" газеті',
            "the value of 'name' is quoted only in part (\"Қазақстан\" газеті); quote all "
            "of it: name: '\"Қазақстан\" газеті'",
        ),
        (
            "'Kazakhstan's news'",
            "the value of 'name' is quoted only in part ('Kazakhstan's news'); quote all of "
            'it: name: "Kazakhstan\'s news"',
        ),
        (
            "*Капитал*",
            "the value of 'name' starts with '*', which YAML reads as markup, not text; if "
            'it is text, put it in quotes: name: "*Капитал*"',
        ),
        (
            "@kapital_kz",
            "the value of 'name' starts with '@', which YAML reads as markup, not text; if "
            'it is text, put it in quotes: name: "@kapital_kz"',
        ),
        (
            "Капитал: деловой",
            "the value of 'name' contains ': ', which YAML reads as another key; put it in "
            'quotes: name: "Капитал: деловой"',
        ),
    ],
)
def test_a_value_yaml_cannot_read_is_said_with_the_quotes_it_needs(tmp_path, name, expected):
    message = one_error(tmp_path, MINIMAL.replace("name: Tengrinews", f"name: {name}"))
    assert re.fullmatch(r".*feeds\.yaml:6:\d+: YAML syntax error: (.*)", message)
    assert message.split("YAML syntax error: ", 1)[1] == expected


@pytest.mark.parametrize(
    "indented",
    [
        "\t- id: x\n    url: https://x.kz/rss\n",  # a tab starts the line
        "  - id: x\n\turl: https://x.kz/rss\n",  # a tab for the indentation
        "  - id: x\n    url: https://x.kz/rss\n  \t\n",  # a blank line with a tab
    ],
)
def test_a_tab_in_the_indentation_is_said_to_be_a_tab(tmp_path, indented):
    # An editor sees no tab: the message names it, and the line to mend.
    message = one_error(tmp_path, SITE + "sources:\n" + indented)
    line = 5 + indented.count("\n", 0, indented.index("\t"))
    assert f"feeds.yaml:{line}:" in message
    assert message.endswith(
        f"YAML syntax error: a tab character; YAML indents with spaces only: "
        f"replace the tab on line {line} with spaces"
    )


def test_two_sources_of_one_feed_are_an_error(tmp_path):
    # A block copied for a new source, its url left as it was (another spelling of it).
    text = MINIMAL + (
        "  - id: tengri-copy\n    name: Tengri Copy\n    url: http://www.tengrinews.kz/news.rss/\n"
    )
    message = one_error(tmp_path, text)
    line = text.splitlines().index("    url: https://tengrinews.kz/news.rss") + 1
    assert (
        f"sources[2].url: the same feed as sources[0] ('tengrinews', line {line}); each feed is "
        "fetched and published through one source: remove this one, or correct its url"
    ) in message


def test_one_feed_may_be_asked_for_in_two_languages_or_kept_disabled_for_its_history(tmp_path):
    same = "    url: https://tengrinews.kz/news.rss\n"
    load(
        tmp_path,
        MINIMAL
        + "  - id: tengri-kk\n"
        + same
        + "    headers: {Accept-Language: kk}\n"
        + "  - id: tengri-old\n"
        + same
        + "    enabled: false\n",
    )


def test_a_duplicate_key_is_an_error_not_a_silent_override(tmp_path):
    message = one_error(tmp_path, MINIMAL + "fetch: {interval: 60}\nfetch: {interval: 90}\n")
    assert re.search(
        r"feeds\.yaml:\d+: fetch: duplicate key \(first given at line \d+\); keep only one", message
    )


def test_an_empty_file_says_what_it_needs(tmp_path):
    assert "the file is empty; it needs at least 'site:' and 'sources:'" in one_error(
        tmp_path, "# nothing\n"
    )


def test_a_top_level_list_is_an_error(tmp_path):
    assert "expected a mapping of keys at the top level, found a list" in one_error(
        tmp_path, "- a\n- b\n"
    )


def test_a_file_that_is_not_utf8_is_an_error_at_its_line(tmp_path):
    path = tmp_path / "feeds.yaml"
    path.write_bytes(MINIMAL.encode("cp1251"))
    with pytest.raises(ConfigError) as excinfo:
        load_config(path)
    # The first non-ASCII letter is the "Е" of "  title: Евразия24", line 2, column 10.
    assert str(excinfo.value) == (
        f"{path}:2:10: not UTF-8 (byte 0x{'Е'.encode('cp1251')[0]:02x}); save the file as UTF-8"
    )


def nested_aliases(levels: int, width: int = 10) -> str:
    """A "billion laughs" document: each level lists the one below ``width`` times."""
    lines = [f"l0: &l0 [{', '.join(['lol'] * width)}]"]
    for n in range(1, levels):
        lines.append(f"l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * width)}]")
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_is_refused_fast_and_in_little_memory(tmp_path):
    # 10^7 references in a few hundred bytes: expanding them took > 3 GB.
    path = write(tmp_path, MINIMAL + nested_aliases(7))
    assert path.stat().st_size < 1024
    probe = (
        "import resource, sys\n"
        "resource.setrlimit(resource.RLIMIT_AS, (512 << 20, 512 << 20))\n"
        "from aggregator.config import ConfigError, load_config\n"
        "try:\n"
        "    load_config(sys.argv[1])\n"
        "except ConfigError as e:\n"
        "    print(e)\n"
    )
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", probe, str(path)], capture_output=True, text=True, timeout=60
    )
    assert time.monotonic() - started < 10
    assert done.returncode == 0, done.stderr[-2000:]
    # The anchor whose expansion passes the limit: l5 holds 10^6 values, on line 16.
    assert done.stdout.startswith(f"{path}:16: this value expands through its aliases")
    assert "refusing to read the file" in done.stdout


def test_a_few_aliases_are_fine_and_values_under_them_are_checked_at_each_use(tmp_path):
    two_sources = (
        SITE + "sources:\n"
        "  - id: a\n    name: A\n    url: https://a.kz/rss\n    headers: &h {X-Site: e24}\n"
        "  - id: b\n    name: B\n    url: https://b.kz/rss\n    headers: *h\n"
    )
    assert load(tmp_path, two_sources).sources[1].headers == {"X-Site": "e24"}

    lines = errors(tmp_path, two_sources.replace("{X-Site: e24}", "{X-Site: 24}"))
    # Once where the anchor is written, once at the line of the alias.
    assert [line.split(": ", 2)[:2] for line in lines] == [
        [f"{tmp_path / 'feeds.yaml'}:8", "sources[0].headers.X-Site"],
        [f"{tmp_path / 'feeds.yaml'}:12", "sources[1].headers.X-Site"],
    ]


def test_an_alias_to_itself_is_refused(tmp_path):
    message = one_error(tmp_path, MINIMAL + "outputs: &o [{name: all}, *o]\n")
    assert message == (
        f"{tmp_path / 'feeds.yaml'}:11: this value contains an alias to itself "
        "(*name inside its own &name); write the values out instead"
    )


@pytest.mark.parametrize("key", ["site.link", "sources[0].url", "site.feeds_url"])
def test_a_malformed_ipv6_url_is_a_config_error(tmp_path, key):
    bad = {
        "site.link": ("https://eurasia24.media/", "http://[::1/"),
        "sources[0].url": ("https://tengrinews.kz/news.rss", "http://[::1/feed"),
        "site.feeds_url": ("  link:", "  feeds_url: 'http://[fe80::1/'\n  link:"),
    }
    message = one_error(tmp_path, MINIMAL.replace(*bad[key]))
    assert f"{key}: '" in message and "is not a valid URL: Invalid IPv6 URL" in message
    assert "write an IPv6 address in matching brackets" in message


def test_python_specific_yaml_tags_are_refused(tmp_path):
    message = one_error(tmp_path, MINIMAL + "fetch: !!python/object:os.system {}\n")
    assert "YAML syntax error" in message


def test_a_main_output_left_at_its_default_must_still_exist(tmp_path):
    message = one_error(tmp_path, MINIMAL + "outputs: [{name: news}]\n")
    assert "publish.main_output: 'all' is not the name of an output (it is the default)" in message
    assert "set it to one of: news, or name an output 'all'" in message


def test_fetch_parser_is_auto_or_feedparser(tmp_path):
    assert load(tmp_path, MINIMAL + "fetch: {parser: feedparser}\n").fetch.parser == "feedparser"
    message = one_error(tmp_path, MINIMAL + "fetch: {parser: feedparsr}\n")
    assert "fetch.parser: 'feedparsr' is not allowed; did you mean 'feedparser'?" in message


def test_a_source_encoding_must_be_one_this_machine_knows(tmp_path):
    source = "sources: [{id: a, name: A, url: 'https://a.kz/rss', encoding: %s}]\n"
    config = load(tmp_path, SITE + source % "windows-874")
    assert config.sources[0].encoding == "windows-874"
    message = one_error(tmp_path, SITE + source % "cp-1251")
    assert (
        "sources[0].encoding: 'cp-1251' is not a character encoding this machine knows" in message
    )


# --- validated configs kept between runs ------------------------------------------


def test_a_config_loaded_again_comes_back_equal_and_an_edit_is_seen(tmp_path, monkeypatch):
    monkeypatch.setenv("AGGREGATOR_CACHE_DIR", str(tmp_path / "cache"))
    path = write(tmp_path, MINIMAL)
    first = load_config(path)
    assert len(list((tmp_path / "cache").glob("config-*.pickle"))) == 1
    assert load_config(path) == first
    # The same size, a changed byte: validated again, not read back.
    path.write_text(MINIMAL.replace("Tengrinews", "Tengrinewz"), encoding="utf-8")
    assert load_config(path).sources[0].name == "Tengrinewz"


def test_a_kept_config_is_reused_only_for_the_same_file_at_the_same_path(tmp_path, monkeypatch):
    monkeypatch.setenv("AGGREGATOR_CACHE_DIR", str(tmp_path / "cache"))
    a = write(tmp_path, MINIMAL, "a.yaml")
    b = write(tmp_path, MINIMAL, "b.yaml")
    assert load_config(a).path == str(a.resolve())
    assert load_config(b).path == str(b.resolve())
    assert load_config(a).path == str(a.resolve())


def test_a_config_with_problems_is_never_kept(tmp_path, monkeypatch):
    monkeypatch.setenv("AGGREGATOR_CACHE_DIR", str(tmp_path / "cache"))
    path = write(tmp_path, MINIMAL.replace("https://tengrinews.kz/news.rss", "ftp://x/"))
    for _ in range(2):
        with pytest.raises(ConfigError, match="unsupported URL scheme"):
            load_config(path)
    assert not list((tmp_path / "cache").glob("config-*"))

    # Nor one whose broken sources were held: every load says their problems again.
    for _ in range(2):
        held = load_config(path, hold_broken_sources=True)
        assert [s.id for s in held.held] == ["tengrinews"]
        assert len(held.source_problems) == 1
    assert not list((tmp_path / "cache").glob("config-*"))
    with pytest.raises(ConfigError, match="unsupported URL scheme"):
        load_config(path)  # check-config's way: every problem is fatal


def test_a_damaged_or_foreign_cache_only_means_validating_again(tmp_path, monkeypatch):
    monkeypatch.setenv("AGGREGATOR_CACHE_DIR", str(tmp_path / "cache"))
    path = write(tmp_path, MINIMAL)
    expected = load_config(path)
    (kept,) = (tmp_path / "cache").glob("config-*.pickle")
    kept.write_bytes(kept.read_bytes()[:100])  # cut short
    assert load_config(path) == expected
    kept.write_bytes(b"not a pickle at all")
    assert load_config(path) == expected
    # A cache directory that cannot be made (a file in its place) is no error either.
    monkeypatch.setenv("AGGREGATOR_CACHE_DIR", str(path))
    assert load_config(path) == expected


def test_an_empty_cache_setting_keeps_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("AGGREGATOR_CACHE_DIR", "")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    load_config(write(tmp_path, MINIMAL))
    assert not (tmp_path / "xdg").exists()


# --- a problem in one source's entry costs that source alone (the cron commands) ----


def test_a_source_with_a_problem_in_its_entry_is_held_and_the_others_load(tmp_path):
    text = (
        MINIMAL
        + """\
  - id: kapital
    name: Капитал
    url: https//kapital.kz/rss
    intervl: 5m
  - id: tengrinews
    name: Tengrinews again
    url: https://tengrinews.kz/other.rss
  - id: copy
    url: https://www.inform.kz/rss/rus.xml
"""
    )
    path = write(tmp_path, text)
    config = load_config(path, hold_broken_sources=True)
    assert [s.id for s in config.sources] == ["kazinform-ru"]
    # Held: named as its entry names it; the url it lacks is none (never fetched). An id
    # two entries give is held whole, as its first entry has it: which feed it names is
    # for the editor to say, not for the order of the file.
    assert [(s.id, s.name, s.url) for s in config.held] == [
        ("tengrinews", "Tengrinews", "https://tengrinews.kz/news.rss"),
        ("kapital", "Капитал", ""),
        ("copy", "", "https://www.inform.kz/rss/rus.xml"),
    ]
    # Published (OPML, per-source outputs, status, health.json) in the file's order.
    assert [s.id for s in config.published_sources()] == [
        "tengrinews",
        "kazinform-ru",
        "kapital",
        "copy",
    ]
    assert config.problems_of("tengrinews") == [
        "feeds.yaml:15: sources[3].id: duplicate source id 'tengrinews', already used by "
        "sources[0] (line 5); give every source its own id (until then, a run fetches neither)"
    ]
    assert config.source_name(["kapital"]) == "Капитал"
    lines = config.source_problems
    assert len(lines) == 4 and all(line.startswith(f"{path}:") for line in lines)
    assert lines[0].startswith(f"{path}:13: sources[2].url: 'https//kapital.kz/rss' looks like")
    assert lines[1].startswith(f"{path}:14: sources[2].intervl: unknown key")
    assert lines[2].startswith(f"{path}:15: sources[3].id: duplicate source id 'tengrinews'")
    assert lines[3].startswith(f"{path}:19: sources[4].url: the same feed as sources[1]")
    # Without holding (check-config, add): the same problems, fatal.
    assert errors(tmp_path, text) == list(lines)


def test_a_key_given_twice_in_one_sources_entry_holds_that_source(tmp_path):
    text = MINIMAL.replace(
        "    url: https://tengrinews.kz/news.rss\n",
        "    url: https://tengrinews.kz/news.rss\n    url: https://tengrinews.kz/rss\n",
    )
    path = write(tmp_path, text)
    config = load_config(path, hold_broken_sources=True)
    assert [s.id for s in config.sources] == ["kazinform-ru"]
    assert [s.id for s in config.held] == ["tengrinews"]
    assert config.source_problems == (
        f"{path}:8: sources[0].url: duplicate key in the entry of source 'tengrinews' "
        "(first given at line 7); keep only one",
    )
    # check-config: the same problem, with every other one of the file.
    text += "  - id: kapital\n    url: https://kapital.kz/rss\n    intervl: 5m\n"
    assert [line.split(": ")[1] for line in errors(tmp_path, text)] == [
        "sources[0].url",
        "sources[2].intervl",
    ]


@pytest.mark.parametrize(
    "mistake",
    [
        ("fetch: {interval: 60}\n", "fetch: {interval: 60}\nfetch: {interval: 90}\n"),
        ("house:\n  name: Е24\n", "house:\n  name: Е24\n  name: Е-24\n"),
    ],
)
def test_a_key_given_twice_outside_a_sources_entry_stays_fatal(tmp_path, mistake):
    text = MINIMAL + "fetch: {interval: 60}\nhouse:\n  name: Е24\n"
    path = write(tmp_path, text.replace(*mistake))
    with pytest.raises(ConfigError) as excinfo:
        load_config(path, hold_broken_sources=True)
    assert "duplicate key" in str(excinfo.value)


def test_a_new_sources_block_without_its_dash_is_said_so(tmp_path):
    # The "- " left out: the new block's keys repeat the entry above. Two ids in one
    # entry: whose source it is cannot be told, so the file stops every command.
    text = MINIMAL + "    id: kapital\n    name: Капитал\n    url: https://kapital.kz/rss\n"
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as excinfo:
        load_config(path, hold_broken_sources=True)
    assert str(excinfo.value).splitlines() == [
        f"{path}:11: sources[1].id: a second id, 'kapital', in the entry of source "
        "'kazinform-ru' (line 8); if line 11 starts another source, put '- ' before it; "
        "else keep one id",
        f"{path}:12: sources[1].name: duplicate key in the entry of source 'kazinform-ru' "
        "(first given at line 9); keep only one",
        f"{path}:13: sources[1].url: duplicate key in the entry of source 'kazinform-ru' "
        "(first given at line 10); keep only one",
    ]


def test_an_id_given_twice_the_same_way_holds_that_source(tmp_path):
    text = MINIMAL.replace("    name: Tengrinews\n", "    name: Tengrinews\n    id: tengrinews\n")
    config = load_config(write(tmp_path, text), hold_broken_sources=True)
    assert [s.id for s in config.held] == ["tengrinews"]


@pytest.mark.parametrize(
    "mistake",
    [
        ("  link: https://eurasia24.media/", "  link: eurasia24"),  # site
        ("  - id: kazinform-ru", "  - id: Kazinform RU"),  # an id that cannot be read
        ("  - id: kazinform-ru", "  - ident: kazinform-ru"),  # no id at all
    ],
)
def test_a_problem_outside_a_readable_sources_entry_stays_fatal(tmp_path, mistake):
    text = MINIMAL + "  - id: kapital\n    url: https://kapital.kz/rss\n    intervl: 5m\n"
    path = write(tmp_path, text.replace(*mistake))
    with pytest.raises(ConfigError) as excinfo:
        load_config(path, hold_broken_sources=True)
    assert "sources[2].intervl: unknown key" in str(excinfo.value)  # every problem said


# --- languages: codes, and a language's name said with its code ----------------------


@pytest.mark.parametrize(
    "where, expected",
    [
        ("  language: казахский\n", "site.language: 'казахский' is not a language code; write 'kk'"),
        ("outputs: [{name: all, languages: [Kazakh]}]\n", "outputs[0].languages[0]: 'Kazakh' is not a language code; write 'kk'"),
        ("outputs: [{name: all, language: Русский язык}]\n", "outputs[0].language: 'Русский язык' is not a language code; write 'ru'"),
        ("outputs: [{name: all, languages: [russ kaz]}]\n", "'russ kaz' is not a language code; write a language code: ru, kk (Kazakh) or en, say"),
    ],
)  # fmt: skip
def test_a_language_that_is_no_code_is_said_with_the_code_meant(tmp_path, where, expected):
    # Unchecked, an output of languages [казахский] was empty, and a source's
    # "language: казахский" was published as the site's language.
    text = SITE + where + SOURCES if where.startswith("  ") else MINIMAL + where
    assert expected in one_error(tmp_path, text)


def test_a_sources_language_name_holds_that_source_alone(tmp_path):
    text = MINIMAL.replace(
        "    name: Tengrinews\n", "    name: Tengrinews\n    language: қазақша\n"
    )
    config = load_config(write(tmp_path, text), hold_broken_sources=True)
    assert [s.id for s in config.held] == ["tengrinews"]
    assert (
        "sources[0].language: 'қазақша' is not a language code; write 'kk'"
        in (config.source_problems[0])
    )


def test_language_codes_pass_as_written():
    for code in ("ru", "kk", "kz", "en-GB", "ru_RU", "zh-Hant-TW"):
        assert language_code(code) == code
    assert language_code("Қазақ тілі") == "kk"
    assert language_code("по-русски") is None


def test_an_empty_language_is_none_as_before(tmp_path):
    text = MINIMAL.replace("    name: Tengrinews\n", '    name: Tengrinews\n    language: ""\n')
    assert load(tmp_path, text).sources[0].language == ""


def test_retention_may_be_written_in_days_or_weeks_as_durations_are(tmp_path):
    def retention(value: str) -> int:
        return load(
            tmp_path, MINIMAL + f"storage: {{retention_days: {value}}}\n"
        ).storage.retention_days

    assert (retention("90"), retention("90d"), retention("12w")) == (90, 90, 84)
    assert one_error(tmp_path, MINIMAL + "storage: {retention_days: 2h}\n").endswith(
        "storage.retention_days: expected a number of days, found '2h'; write days (90) or a "
        'duration in days or weeks like "90d", "12w"'
    )


@pytest.mark.parametrize(
    ("url", "fix"),
    [
        # SQLAlchemy's spellings, which Django, Alembic and most tutorials use.
        (
            "sqlite:///aggregator.sqlite",
            "write aggregator.sqlite (relative to this file's directory)",
        ),
        ("sqlite:////var/lib/aggregator/a.sqlite", "write /var/lib/aggregator/a.sqlite"),
        (
            "sqlite:///var/lib/a.sqlite",
            "write var/lib/a.sqlite (relative to this file's directory), or /var/lib/a.sqlite "
            "from the root",
        ),
        # A password is never shown, in the fix either.
        ("postgresql+psycopg://u:secret@h/db", "write postgresql://u:***@h/db (no driver"),
    ],
)
def test_a_sqlalchemy_style_storage_url_is_answered_with_what_to_write(tmp_path, url, fix):
    message = one_error(tmp_path, MINIMAL + f"storage:\n  url: '{url}'\n")
    assert "storage.url: " in message and fix in message, message
    assert "secret" not in message


@pytest.mark.parametrize(
    ("url", "fix"),
    [
        ("PostgreSQL://u:secret@h/db", "write postgresql://u:***@h/db"),
        ("POSTGRES://u@h:5433/db", "write postgres://u@h:5433/db"),
    ],
)
def test_a_postgresql_url_with_a_capitalized_scheme_is_answered_with_what_to_write(
    tmp_path, url, fix
):
    # libpq reads only postgresql:// and postgres:// in lower case: it was taken as a
    # SQLite path ("PostgreSQL:/u:secret@h/db" beside feeds.yaml, with its directories).
    message = one_error(tmp_path, MINIMAL + f"storage:\n  url: '{url}'\n")
    assert "storage.url: " in message and "lower case" in message and fix in message, message
    assert "secret" not in message
