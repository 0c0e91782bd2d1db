"""`aggregator run` when nothing changed: relate and publish are skipped, no file is
rewritten but health.json, the run's heartbeat; and every change they would show (a new item, the config, a commentary file,
a deleted output, a source that starts failing) makes the run relate and publish again.

Real parts: click commands in-process, a real SQLite store, feeds over HTTP on loopback.
"""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import pytest
from click.testing import CliRunner
from configs import write_config

from aggregator.cli import cli
from aggregator.runstamp import STAMP_FILE


def rss(titles: list[str], site: str = "kapital.kz") -> bytes:
    items = "".join(
        f"<item><title>{t}</title><link>https://{site}/news/{n}</link>"
        f"<description>Сообщение о том, что {t.lower()}, и подробности.</description>"
        f"<pubDate>Wed, 25 Nov 2026 {n % 24:02d}:00:00 +0000</pubDate></item>"
        for n, t in enumerate(titles)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Kapital</title>'
        "<link>https://kapital.kz/</link><description>d</description>"
        f"<lastBuildDate>Wed, 25 Nov 2026 23:00:00 +0000</lastBuildDate>{items}</channel></rss>"
    ).encode()


TITLES = [
    "Парламент принял закон о бюджете",
    "В Астане открылась новая школа",
    "Курс тенге укрепился к доллару",
]


@pytest.fixture
def site(tmp_path, feed_server):
    feed_server.route("/a.xml", body=rss(TITLES), etag='"v1"')
    feed_server.route(
        "/b.xml", body=rss(["Погода в Алматы: снег и ветер"], "pogoda.kz"), etag='"b1"'
    )
    (tmp_path / "commentary").mkdir()
    write_config(
        tmp_path,
        [("a", feed_server.url("/a.xml"), "Kapital"), ("b", feed_server.url("/b.xml"), "Погода")],
        "house:\n  commentary_dir: commentary\n",
    )
    return tmp_path


def run(site: Path) -> str:
    result = CliRunner().invoke(
        cli, ["--config", str(site / "feeds.yaml"), "run", "--all"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    return result.output


def files(site: Path) -> dict[str, tuple[int, bytes]]:
    """Every file the run wrote or keeps beside the store, with its mtime and bytes."""
    found = {}
    for path in sorted(site.rglob("*")):
        if path.is_file() and not path.name.startswith("aggregator.sqlite"):
            found[str(path.relative_to(site))] = (path.stat().st_mtime_ns, path.read_bytes())
    return found


def titles(site: Path, name: str = "all") -> list[str]:
    return [
        e.title for e in feedparser.parse((site / "output" / f"{name}.atom").read_bytes()).entries
    ]


# The run's own line, not the related stage's "index unchanged (nothing changed since ...)".
SKIPPED = "nothing changed since the last run: the related lists and outputs"


def health(site: Path) -> dict:
    return json.loads((site / "output" / "health.json").read_bytes())


def test_a_run_that_finds_nothing_new_rewrites_no_file_but_its_heartbeat(site, feed_server):
    assert SKIPPED not in run(site)
    before = files(site)
    assert "output/all.atom" in before and f"output/{STAMP_FILE}" in before
    assert any(name.startswith("output/related/") for name in before)
    out = run(site)
    assert SKIPPED in out
    assert feed_server.count("/a.xml") == 2  # it did fetch: every source answered 304
    after = files(site)
    beat = after.pop("output/health.json")
    assert beat != before.pop("output/health.json")
    assert after == before  # not one byte, not one modification time
    # The related index and the house's match cache beside the store are untouched too.
    index = [p for p in site.glob("aggregator.sqlite.*") if not p.name.endswith(".lock")]
    mtimes = {p: p.stat().st_mtime_ns for p in index}
    run(site)
    assert {p: p.stat().st_mtime_ns for p in index} == mtimes


def test_a_new_item_is_related_and_published(site, feed_server):
    run(site)
    feed_server.route("/a.xml", body=rss([*TITLES, "Нацбанк снизил базовую ставку"]), etag='"v2"')
    assert SKIPPED not in run(site)
    assert "Нацбанк снизил базовую ставку" in titles(site)
    assert SKIPPED in run(site)


def test_an_edited_config_is_published(site):
    run(site)
    config = site / "feeds.yaml"
    config.write_text(config.read_text().replace("name: Погода", "name: Погода Казахстана"))
    assert SKIPPED not in run(site)
    assert "Погода Казахстана" in (site / "output" / "all.atom").read_text(encoding="utf-8")


def test_a_new_or_edited_commentary_file_is_published(site):
    run(site)
    text = (
        "---\ntitle: Бюджет принят\ndate: 2026-11-26 10:00\nslug: budget\nagency: Kapital\n"
        "quote: Парламент принял закон о бюджете\n---\n\nРедакция считает это важным.\n"
    )
    comment = site / "commentary" / "2026-11-26-budget.md"
    comment.write_text(text, encoding="utf-8")
    assert SKIPPED not in run(site)
    page = site / "output" / "commentary" / "budget.html"
    assert "Редакция считает это важным" in page.read_text(encoding="utf-8")
    comment.write_text(text.replace("важным", "своевременным"), encoding="utf-8")
    assert SKIPPED not in run(site)
    assert "своевременным" in page.read_text(encoding="utf-8")
    comment.unlink()
    assert SKIPPED not in run(site)
    assert not page.exists()


@pytest.mark.parametrize("victim", ["all.atom", "index.html", "embed/all.json", "related.json"])
def test_a_deleted_output_file_is_written_again(site, victim):
    run(site)
    path = site / "output" / victim
    data = path.read_bytes()
    path.unlink()
    assert SKIPPED not in run(site)
    assert path.read_bytes() == data


def test_a_deleted_related_list_means_the_stages_run(site):
    # Which per-entry files the relate stage writes again is its own rule
    # (aggregator/related); here: the run does not take the outputs as current.
    run(site)
    next((site / "output" / "related").glob("*.json")).unlink()
    assert SKIPPED not in run(site)


def test_a_hand_edited_output_file_is_written_again(site):
    run(site)
    path = site / "output" / "all.rss"
    data = path.read_bytes()
    path.write_bytes(data.replace(b"Kapital", b"KAPITAL"))
    os.utime(path, ns=(0, 0))
    run(site)
    assert path.read_bytes() == data


def test_every_run_leaves_its_time_and_outcome_in_health_json(site, feed_server):
    # A monitor tells from health.json alone that cron is alive: also a run that found
    # nothing due, or nothing changed, says when it ran and how the sources fare.
    config = ["--config", str(site / "feeds.yaml")]
    first = datetime.now(UTC).replace(microsecond=0)
    run(site)
    published = health(site)["last_run"]
    assert published == {
        "finished": published["finished"],
        "command": "run",
        "fetched": 2,
        "published": True,
        "outcome": "ok",
        "failing": [],
    }
    assert datetime.fromisoformat(published["finished"]) >= first
    time.sleep(1.1)  # the heartbeat's time is in whole seconds

    nothing_due = CliRunner().invoke(cli, [*config, "run"], catch_exceptions=False)
    assert "nothing is due" in nothing_due.output and SKIPPED in nothing_due.output
    beat = health(site)["last_run"]
    assert beat["finished"] > published["finished"]
    assert (beat["fetched"], beat["published"], beat["outcome"]) == (0, False, "ok")
    time.sleep(1.1)

    assert SKIPPED in run(site)  # fetched again, every source answered 304
    again = health(site)
    assert again["last_run"]["finished"] > beat["finished"]
    assert (again["last_run"]["fetched"], again["last_run"]["published"]) == (2, False)
    # The sources' own times are this run's too, not those of the last run that published.
    attempts = [datetime.fromisoformat(s["last_attempt"]) for s in again["sources"]]
    assert min(attempts) > datetime.fromisoformat(beat["finished"])

    publish = CliRunner().invoke(cli, [*config, "publish"], catch_exceptions=False)
    assert publish.exit_code == 0
    assert health(site)["last_run"]["command"] == "publish"
    assert health(site)["last_run"]["fetched"] is None


def test_health_json_says_which_sources_fail_and_since_when(site, feed_server):
    run(site)
    feed_server.route("/b.xml", status=500)
    run(site)
    failing = health(site)
    (b,) = [s for s in failing["sources"] if s["id"] == "b"]
    since = b["failing_since"]
    assert since == b["last_error_at"]
    assert failing["last_run"]["outcome"] == "failing"
    assert failing["last_run"]["failing"] == [{"id": "b", "state": "failing", "since": since}]
    time.sleep(0.01)
    run(site)  # fails again: since when is the first failure's time
    (b,) = [s for s in health(site)["sources"] if s["id"] == "b"]
    assert (b["failing_since"], b["consecutive_failures"]) == (since, 2)
    assert b["last_error_at"] > since
    feed_server.route("/b.xml", body=rss(["Погода в Алматы: снег и ветер"], "pogoda.kz"))
    run(site)
    recovered = health(site)
    assert recovered["last_run"]["outcome"] == "ok" and recovered["last_run"]["failing"] == []
    assert [s["failing_since"] for s in recovered["sources"]] == [None, None]


def test_a_source_that_starts_failing_shows_in_health_json(site, feed_server):
    run(site)
    feed_server.route("/b.xml", status=500)
    assert SKIPPED not in run(site)
    health = json.loads((site / "output" / "health.json").read_bytes())
    (b,) = [s for s in health["sources"] if s["id"] == "b"]
    assert b["state"] == "failing" and "500" in b["last_error"]
    # Failing again the same way changes nothing a reader sees.
    assert SKIPPED in run(site)


def test_a_damaged_stamp_means_relating_and_publishing(site):
    run(site)
    (site / "output" / STAMP_FILE).write_text("{not json")
    assert SKIPPED not in run(site)
    assert SKIPPED in run(site)


def test_publish_and_related_alone_never_skip(site):
    run(site)
    for command in ("publish", "related"):
        result = CliRunner().invoke(cli, ["--config", str(site / "feeds.yaml"), command])
        assert result.exit_code == 0 and SKIPPED not in result.output


def run_logged(site: Path) -> tuple[str, str]:
    """A cron run (``-q``: only what goes into its log), its stdout and stderr."""
    result = CliRunner().invoke(cli, ["--config", str(site / "feeds.yaml"), "-q", "run", "--all"])
    assert result.exit_code == 0, result.output
    return result.stdout, result.stderr


def related_lists(site: Path) -> dict[str, bytes]:
    """related.json and related/lists/: what the widget and embedders read first."""
    out = site / "output"
    found = {"related.json": (out / "related.json").read_bytes()}
    for path in sorted((out / "related" / "lists").glob("*.json")):
        found[str(path.relative_to(out))] = path.read_bytes()
    return found


@pytest.mark.parametrize(
    "damage, said",
    [
        (lambda data: data[: len(data) // 2], "related.json is damaged (not JSON"),
        (lambda data: b"<html>502 Bad Gateway</html>\n", "related.json is damaged (not JSON"),
        (lambda data: b'{"format": "aggregator-related/3"}\n', "related.json is damaged"),
    ],
    ids=["truncated", "not JSON", "no blocks"],
)
def test_a_damaged_related_json_is_repaired_by_an_ordinary_run(site, damage, said):
    # It was mended only by `aggregator related --rebuild`: the run saw the file change,
    # but the related index had not, and the stage wrote nothing.
    run(site)
    before = related_lists(site)
    path = site / "output" / "related.json"
    path.write_bytes(damage(path.read_bytes()))
    out, log = run_logged(site)
    assert related_lists(site) == before
    assert said in log and str(path) in log and "written again from the related index" in log
    assert log.startswith(datetime.now().astimezone().strftime("%Y-"))  # a stamped line
    assert SKIPPED in run(site)


def test_a_deleted_related_lists_directory_is_written_again_by_an_ordinary_run(site):
    run(site)
    before = related_lists(site)
    lists = site / "output" / "related" / "lists"
    assert len(before) > 1
    for path in lists.iterdir():
        path.unlink()
    lists.rmdir()
    _, log = run_logged(site)
    assert related_lists(site) == before
    assert f"{lists} is missing" in log
    assert SKIPPED in run(site)


@pytest.mark.parametrize("damage", ["deleted", "truncated"])
def test_a_damaged_related_list_block_is_written_again_by_an_ordinary_run(site, damage):
    run(site)
    before = related_lists(site)
    block = site / "output" / "related" / "lists" / "0.json"
    if damage == "deleted":
        block.unlink()
    else:
        block.write_bytes(block.read_bytes()[:40])
    _, log = run_logged(site)
    assert related_lists(site) == before
    assert str(block) in log
    assert SKIPPED in run(site)


def related_files(site: Path) -> dict[str, bytes]:
    """Every file under related/ (the per-entry files, the URL map's shards, the lists)."""
    related = site / "output" / "related"
    return {
        str(path.relative_to(related)): path.read_bytes()
        for path in sorted(related.rglob("*.json"))
    }


@pytest.mark.parametrize("damage", ["deleted", "truncated"])
def test_a_damaged_related_url_shard_is_written_again_by_an_ordinary_run(site, damage):
    # The URL map's shards were not checked: a shard cut short stayed so (the widget
    # found no entry for the pages it named), and the next run that added a URL to it
    # wrote it with its new keys alone.
    run(site)
    before = related_files(site)
    shards = sorted((site / "output" / "related" / "urls").glob("*.json"))
    assert len(shards) > 1
    shard = shards[0]
    if damage == "deleted":
        shard.unlink()
    else:
        shard.write_bytes(shard.read_bytes()[:20])
    _, log = run_logged(site)
    assert related_files(site) == before  # nothing lost, in any file
    assert str(shard) in log and "written again from the related index" in log
    assert log.startswith(datetime.now().astimezone().strftime("%Y-"))  # a stamped line
    assert SKIPPED in run(site)


@pytest.mark.parametrize("how_many", [1, 4])
def test_a_deleted_related_entry_file_is_written_again_by_an_ordinary_run(site, how_many):
    run(site)
    before = related_files(site)
    entries = sorted(p for p in (site / "output" / "related").glob("*.json"))
    assert len(entries) >= how_many
    for path in entries[:how_many]:
        path.unlink()
    _, log = run_logged(site)
    assert related_files(site) == before
    assert f"{entries[0]} is missing" in log and "written again from the related index" in log
    if how_many > 3:  # the first three named, then how many more
        assert "; and 1 other entry file" in log
    assert SKIPPED in run(site)


def test_an_intact_related_export_is_not_written_again(site):
    # The check costs a run that finds the lists whole nothing: no file is rewritten.
    run(site)
    lists = site / "output" / "related" / "lists"
    times = {p.name: p.stat().st_mtime_ns for p in lists.iterdir()}
    config = site / "feeds.yaml"
    config.write_text(config.read_text().replace("name: Погода", "name: Погода Казахстана"))
    out, log = run_logged(site)
    assert "damaged" not in log and "missing" not in log
    assert {p.name: p.stat().st_mtime_ns for p in lists.iterdir()} == times
