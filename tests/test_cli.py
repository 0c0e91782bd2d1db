"""The command line, run for real: click commands in-process, and whole processes for
locking and kill -9 (a real SQLite file and a real HTTP server on loopback)."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from configs import STAMP, unstamped, write_config
from stores import set_back

from aggregator.cli import EXIT_LOCKED, cli
from aggregator.related import url_key, url_shard
from aggregator.store import open_storage, schema
from aggregator.text.xml import iso

ROOT = Path(__file__).resolve().parents[1]


def rss(n: int, prefix: str = "Новость") -> bytes:
    items = "".join(
        f"<item><title>{prefix} {i}</title><link>https://kapital.kz/{prefix}/{i}</link>"
        f"<description>Текст {i}</description>"
        f"<pubDate>Wed, 25 Nov 2026 {i % 24:02d}:00:00 +0000</pubDate></item>"
        for i in range(n)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Kapital</title>'
        f"<link>https://kapital.kz/</link><description>d</description>{items}</channel></rss>"
    ).encode()


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_check_config_reports_what_it_found(tmp_path):
    config = write_config(tmp_path, [("kapital", "https://kapital.kz/rss")])
    result = invoke("--config", str(config), "check-config")
    assert result.exit_code == 0
    assert "1 source," in result.output


def test_a_bad_config_is_one_clear_message_and_exit_1(tmp_path):
    config = write_config(tmp_path, [("kapital", "https://kapital.kz/rss")], "fetch_:\n  x: 1\n")
    result = invoke("--config", str(config), "fetch")
    assert result.exit_code == 1
    assert "feeds.yaml" in result.output and "fetch_" in result.output
    assert "Traceback" not in result.output


def test_publishing_into_the_directory_of_feeds_yaml_is_refused_and_writes_nothing(tmp_path):
    # publish.dir: . would write index.html over the site's own and serve feeds.yaml
    # and the store with the feeds.
    config = write_config(tmp_path, [("kapital", "https://kapital.kz/rss")], "publish: {dir: .}\n")
    (tmp_path / "index.html").write_text("<p>our own page</p>", encoding="utf-8")
    before = sorted(p.name for p in tmp_path.iterdir())

    result = invoke("--config", str(config), "publish")

    assert result.exit_code == 1
    assert "publish.dir: '.' is the directory of feeds.yaml" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert (tmp_path / "index.html").read_text(encoding="utf-8") == "<p>our own page</p>"


def test_a_publish_dir_holding_a_sites_own_pages_is_refused_and_left_as_it_was(tmp_path):
    # A web server's root (or the site's own directory): publish would write index.html
    # over the site's and remove the pages of its commentary/ section.
    site = tmp_path / "www"
    (site / "commentary").mkdir(parents=True)
    (site / "index.html").write_text("<p>our own page</p>", encoding="utf-8")
    (site / "commentary" / "2024.html").write_text("<p>our column</p>", encoding="utf-8")
    config = write_config(
        tmp_path, [("kapital", "https://kapital.kz/rss")], "publish: {dir: www}\n"
    )

    checked = invoke("--config", str(config), "check-config")
    assert "note: run and publish refuse it: " in checked.output
    for command in ("publish", "run"):
        result = invoke("--config", str(config), command)
        assert result.exit_code == 1, command
        assert (
            f"Error: {config}: publish.dir: 'www' holds index.html, commentary/, which no "
            "aggregator run wrote (there is no health.json): publish would write over them"
        ) in result.output
    assert sorted(p.name for p in site.rglob("*")) == ["2024.html", "commentary", "index.html"]
    # The related widget may be embedded from the site's own directory: `related` writes
    # its files beside the site's pages, and publish is still refused there after it.
    assert invoke("--config", str(config), "related").exit_code == 0
    assert (site / "related.js").exists()
    assert invoke("--config", str(config), "publish").exit_code == 1
    assert (site / "index.html").read_text(encoding="utf-8") == "<p>our own page</p>"
    assert (site / "commentary" / "2024.html").exists()
    for name in ("related.json", "related.js", "related.css"):
        (site / name).unlink()
    shutil.rmtree(site / "related")

    (site / "index.html").unlink()
    shutil.rmtree(site / "commentary")
    # A related/ of the site's own: the relate stage of a run would remove its *.json.
    (site / "related").mkdir()
    (site / "related" / "notes.json").write_text("{}", encoding="utf-8")
    result = invoke("--config", str(config), "run")
    assert result.exit_code == 1 and "holds related/, which no aggregator" in result.output
    shutil.rmtree(site / "related")

    # Files of other names are never touched: a directory holding only them is used.
    (site / "robots.txt").write_text("User-agent: *\n", encoding="utf-8")
    assert invoke("--config", str(config), "publish").exit_code == 0
    assert invoke("--config", str(config), "publish").exit_code == 0  # published before
    assert (site / "robots.txt").read_text(encoding="utf-8") == "User-agent: *\n"
    assert (site / "index.html").exists()


@pytest.mark.parametrize("written", ["output", "output/feeds"])
def test_a_publish_dir_that_is_a_file_is_refused_before_anything_is_written(tmp_path, written):
    # It said only "File exists" (or "Not a directory"), after the store was made.
    config = write_config(
        tmp_path, [("kapital", "https://kapital.kz/rss")], f"publish: {{dir: {written}}}\n"
    )
    (tmp_path / "output").write_text("notes, not a directory\n", encoding="utf-8")
    before = sorted(p.name for p in tmp_path.iterdir())
    file = tmp_path / "output"
    if written == "output":
        said = f"{config}: publish.dir: '{written}' is a file ({file}), not a directory"
    else:
        said = (
            f"{config}: publish.dir: '{written}' cannot be made: {file} is a file, not a directory"
        )
    for command in ("check-config", "run", "publish", "related"):
        result = invoke("--config", str(config), command)
        assert result.exit_code == 1, (command, result.output)
        (line,) = [line for line in unstamped(result.output) if line.startswith("Error: ")]
        assert line.startswith(f"Error: {said}; "), (command, line)
        assert f"move {file} away" in line and "write the path of a directory" in line
        assert "File exists" not in line and "Traceback" not in result.output
        assert sorted(p.name for p in tmp_path.iterdir()) == before, command
    assert file.read_text(encoding="utf-8") == "notes, not a directory\n"


def test_a_missing_config_file_says_so(tmp_path):
    result = invoke("--config", str(tmp_path / "nope.yaml"), "status")
    assert result.exit_code == 1
    assert "nope.yaml" in result.output


def test_without_a_config_the_message_names_the_directory_it_looked_in(tmp_path, monkeypatch):
    # cron starts in the home directory: "feeds.yaml: file not found" would not say where.
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AGGREGATOR_CONFIG", raising=False)
    result = invoke("run")
    assert result.exit_code == 1
    assert f"Error: {tmp_path / 'feeds.yaml'}: file not found" in result.output
    assert "--config" in result.output


def test_an_unusable_store_is_fatal_with_a_clear_message(tmp_path):
    config = write_config(tmp_path, [("kapital", "https://kapital.kz/rss")])
    db = tmp_path / "store.sqlite"
    db.write_bytes(b"this is not a database" * 100)
    result = invoke("--config", str(config), "--db", str(db), "fetch")
    assert result.exit_code == 1
    assert str(db) in result.output
    assert "Traceback" not in result.output


def test_fetch_then_status_shows_every_source(tmp_path, feed_server):
    feed_server.route("/kapital.xml", body=rss(3))
    feed_server.route("/broken.xml", status=500)
    config = write_config(
        tmp_path,
        [("kapital", feed_server.url("/kapital.xml")), ("broken", feed_server.url("/broken.xml"))],
    )

    fetched = invoke("--config", str(config), "fetch")
    assert fetched.exit_code == 0  # a failed source is reported, not fatal
    assert "3 new items" in fetched.output
    assert "broken: error" in fetched.output

    status = invoke("--config", str(config), "status")
    assert status.exit_code == 0
    rows = {line.split()[0]: line for line in status.output.splitlines()[1:]}
    assert rows["kapital"].split()[1] == "ok"
    assert rows["broken"].split()[1] == "backoff"
    assert "HTTP 500" in rows["broken"]


def test_a_304_to_a_first_fetch_is_an_error_not_a_source_ok_with_nothing(tmp_path, feed_server):
    # "Not modified" since a copy never fetched: the source was "ok" with no item, for
    # ever, and nobody saw why.
    feed_server.route("/a.xml", status=304)
    config = write_config(tmp_path, [("a", feed_server.url("/a.xml"))])

    result = invoke("--config", str(config), "fetch")

    assert result.exit_code == 0
    said = f"a: error: HTTP 304 Not Modified at {feed_server.url('/a.xml')}, to a request"
    assert said in result.output
    status = invoke("--config", str(config), "status")
    assert "backoff" in status.output and "revalidated nothing" in status.output

    # Asked with the validators of a copy, 304 is the answer it should be.
    feed_server.route("/a.xml", body=rss(2), etag='"v1"')
    assert invoke("--config", str(config), "fetch", "--all").exit_code == 0
    again = invoke("--config", str(config), "fetch", "--all")
    assert "error" not in again.output
    assert feed_server.requests("/a.xml")[-1].headers["if-none-match"] == '"v1"'


def test_a_host_that_answered_429_holds_its_other_feeds_and_status_says_why(tmp_path, feed_server):
    feed_server.route("/ru.xml", status=429, headers={"Retry-After": "3600"})
    feed_server.route("/kk.xml", body=rss(2))
    config = write_config(
        tmp_path,
        [("inform-ru", feed_server.url("/ru.xml")), ("inform-kk", feed_server.url("/kk.xml"))],
    )
    text = config.read_text(encoding="utf-8").replace("  timeout: 5", "  timeout: 5\n  per_host: 1")
    config.write_text(text, encoding="utf-8")
    assert invoke("--config", str(config), "fetch", "--source", "inform-ru").exit_code == 0

    fetched = invoke("--config", str(config), "fetch")
    assert feed_server.count("/kk.xml") == 0  # the host asked for an hour's rest
    assert "inform-kk" not in fetched.output
    # Started all the same (--all), the kk feed waits for the ru one's answer, which holds it.
    both = invoke("--config", str(config), "fetch", "--all")
    assert feed_server.count("/kk.xml") == 0
    assert "1 failed, 1 held until " in both.output
    assert "(their host asked to retry later; the first run after that fetches them)" in both.output
    status = invoke("--config", str(config), "status")
    rows = {line.split()[0]: line for line in status.output.splitlines()[1:]}
    assert rows["inform-ru"].split()[1] == "backoff"
    assert rows["inform-kk"].split()[1] == "held"
    assert "waits: its host 127.0.0.1 answered inform-ru: HTTP 429" in rows["inform-kk"]


def test_a_run_that_outlasts_a_hosts_hold_fetches_its_held_feeds_once_it_has_passed(
    tmp_path, feed_server
):
    # inform.kz asks for a second's rest; the run goes on for longer (a slow feed elsewhere),
    # so the host's other feeds are fetched in this run, not left for the next.
    feed_server.route("/ru.xml", status=429, headers={"Retry-After": "1"})
    feed_server.route("/kk.xml", body=rss(2, "kk"))
    feed_server.route("/en.xml", body=rss(2, "en"))
    feed_server.route("/slow.xml", body=rss(1, "slow"), delay=3)
    sources = [("inform-ru", feed_server.url("/ru.xml")), ("inform-kk", feed_server.url("/kk.xml"))]
    sources += [("inform-en", feed_server.url("/en.xml"))]
    sources += [("slow", feed_server.url("/slow.xml", host="127.0.0.2"))]
    config = write_config(tmp_path, sources, "")
    text = config.read_text(encoding="utf-8").replace("  timeout: 5", "  timeout: 5\n  per_host: 1")
    config.write_text(text, encoding="utf-8")

    fetched = invoke("--config", str(config), "fetch")
    assert fetched.output.startswith("fetched 4 sources: 5 new items, 1 failed\n"), fetched.output
    assert feed_server.count("/kk.xml") == feed_server.count("/en.xml") == 1
    assert "held" not in fetched.output
    # A run that ends before the hold does says until when the rest waits.
    feed_server.route("/ru.xml", status=429, headers={"Retry-After": "60"})
    feed_server.route("/slow.xml", body=rss(1, "slow"))
    again = invoke("--config", str(config), "fetch", "--all")
    assert "1 failed, 2 held until " in again.output, again.output
    assert feed_server.count("/kk.xml") == feed_server.count("/en.xml") == 1


def test_health_json_shows_a_held_host_and_until_when_and_drops_it_when_the_hold_ends(
    tmp_path, feed_server
):
    # What a publisher's monitor reads: the kk feed is not requested while its host rests.
    feed_server.route("/ru.xml", body=rss(1, "ru"))
    feed_server.route("/kk.xml", body=rss(1, "kk"))
    config = write_config(
        tmp_path,
        [("inform-ru", feed_server.url("/ru.xml")), ("inform-kk", feed_server.url("/kk.xml"))],
    )
    health_file = tmp_path / "output" / "health.json"

    def health() -> dict:
        document = json.loads(health_file.read_text(encoding="utf-8"))
        return {"states": document["states"], **{s["id"]: s for s in document["sources"]}}

    assert invoke("--config", str(config), "run").exit_code == 0
    assert health()["inform-kk"]["held_until"] is None and health()["inform-kk"]["held_by"] is None
    feed_server.route("/ru.xml", status=429, headers={"Retry-After": "2"})
    assert invoke("--config", str(config), "fetch", "--source", "inform-ru").exit_code == 0
    with open_storage(tmp_path / "aggregator.sqlite") as storage:
        (hold,) = storage.host_holds(datetime.now(UTC)).values()

    assert invoke("--config", str(config), "run").exit_code == 0
    held = health()
    assert held["states"] == {"failing": 1, "held": 1}
    assert held["inform-kk"]["state"] == "held"
    assert held["inform-kk"]["held_until"] == iso(hold.until)
    assert held["inform-kk"]["held_by"] == {
        "host": "127.0.0.1",
        "source": "inform-ru",
        "reason": f"HTTP 429 at {feed_server.url('/ru.xml')}: the server asked us to retry later",
    }
    assert held["inform-ru"]["state"] == "failing"  # the one answered: its own failure
    assert held["inform-ru"]["held_until"] == iso(hold.until)

    # The hold over, nothing is due yet (both wait for their interval), but the monitor
    # must not go on reading "held" until the next fetch: the run publishes again.
    time.sleep(max(0.0, (hold.until - datetime.now(UTC)).total_seconds()) + 0.1)
    after = invoke("--config", str(config), "run")
    assert "nothing changed" not in after.output
    assert health()["inform-kk"]["state"] == "ok"
    assert health()["inform-kk"]["held_until"] is None
    assert health()["states"] == {"failing": 1, "ok": 1}


def test_status_shows_times_in_the_sites_time_zone_and_says_so(tmp_path, feed_server):
    # An editor in Almaty reads "last success 09:00" as nine in the morning there.
    feed_server.route("/kapital.xml", body=rss(1))
    config = write_config(tmp_path, [("kapital", feed_server.url("/kapital.xml"))])
    assert invoke("--config", str(config), "fetch").exit_code == 0
    with open_storage(tmp_path / "aggregator.sqlite") as storage:
        fetched = storage.get_source_state("kapital").last_success
    status = invoke("--config", str(config), "status")
    rows = {line.split()[0]: line for line in status.output.splitlines()[1:]}
    local = fetched.astimezone(ZoneInfo("Asia/Almaty")).strftime("%Y-%m-%d %H:%M")
    assert rows["kapital"].split()[2:4] == local.split()
    assert "times in Asia/Almaty (site.timezone)" in status.output


def test_status_of_a_store_not_made_yet_says_so_and_makes_none(tmp_path):
    config = write_config(tmp_path, [("kapital", "https://kapital.kz/rss")])
    typo = tmp_path / "sotre" / "aggregator.sqlite"
    status = invoke("--config", str(config), "--db", str(typo), "status")
    assert status.exit_code == 0, status.output
    rows = {line.split()[0]: line for line in status.output.splitlines()[1:]}
    assert rows["kapital"].split()[1] == "new"
    assert f"store: SQLite {typo} (none there yet" in status.output
    assert not typo.parent.exists()


def test_fetch_source_picks_one_and_rejects_unknown_ids(tmp_path, feed_server):
    feed_server.route("/a.xml", body=rss(1, "a"))
    feed_server.route("/b.xml", body=rss(1, "b"))
    config = write_config(
        tmp_path, [("a", feed_server.url("/a.xml")), ("b", feed_server.url("/b.xml"))]
    )

    assert invoke("--config", str(config), "fetch", "--source", "b").exit_code == 0
    assert (feed_server.count("/a.xml"), feed_server.count("/b.xml")) == (0, 1)

    unknown = invoke("--config", str(config), "fetch", "--source", "zzz")
    assert unknown.exit_code == 1
    assert "unknown source zzz" in unknown.output


def test_messages_count_in_good_english_and_say_error_once(tmp_path, feed_server):
    feed_server.route("/a.xml", body=rss(1))
    config = write_config(tmp_path, [("a", feed_server.url("/a.xml"))])
    assert "1 source, 2 outputs" in invoke("--config", str(config), "check-config").output
    fetched = invoke("--config", str(config), "fetch")
    assert fetched.output.startswith("fetched 1 source: 1 new item, 0 failed")
    related = invoke("--config", str(config), "related").output
    assert "1 list changed" in related and "; 1 entry;" in related
    copied = invoke("--config", str(config), "store", "copy", "--to", str(tmp_path / "c.sqlite"))
    assert "both stores hold 1 source, 0 URL changes, 1 item, 1 item source" in copied.output

    unknown = invoke("--config", str(config), "fetch", "--source", "zzz")
    assert STAMP.match(unknown.output)  # when it was said: cron appends it to a log
    assert unstamped(unknown.output)[0].startswith("Error: unknown source zzz")


def test_nothing_due_says_so_and_all_overrides(tmp_path, feed_server):
    feed_server.route("/a.xml", body=rss(1))
    config = write_config(tmp_path, [("a", feed_server.url("/a.xml"))])
    invoke("--config", str(config), "fetch")
    again = invoke("--config", str(config), "fetch")
    assert "nothing is due" in again.output
    assert invoke("--config", str(config), "fetch", "--all").exit_code == 0
    assert feed_server.count("/a.xml") == 2


def test_quiet_prints_nothing_when_all_is_well(tmp_path, feed_server):
    feed_server.route("/a.xml", body=rss(1))
    config = write_config(tmp_path, [("a", feed_server.url("/a.xml"))])
    result = invoke("--config", str(config), "-q", "fetch")
    assert result.exit_code == 0
    assert result.output == ""


def test_every_problem_a_run_prints_says_when_under_quiet_and_without(tmp_path, feed_server):
    # cron appends what a run prints to a log file: a line without its time is useless.
    feed_server.route("/a.xml", body=rss(1))
    feed_server.route("/gone.xml", status=404)
    config = write_config(
        tmp_path, [("a", feed_server.url("/a.xml")), ("gone", feed_server.url("/gone.xml"))]
    )
    db = tmp_path / "aggregator.sqlite"

    def run(*args: str) -> list[str]:
        done = subprocess.run(
            [sys.executable, "-m", "aggregator", "--config", str(config), *args],
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        assert done.returncode == 0, done.stderr
        return done.stderr.splitlines()

    (failed,) = run("-q", "run")
    assert STAMP.match(failed) and "gone: error: HTTP 404" in failed, failed
    # Without -q: a warning of the log (an index cut short by a full disk) too.
    Path(f"{db}.related.npz").write_bytes(b"PK\x03\x04 cut short")
    (warning,) = run("related")
    assert STAMP.match(warning) and "WARNING aggregator.related.persist: related" in warning
    (failed,) = run("fetch", "--all")
    assert STAMP.match(failed) and "gone: error: HTTP 404" in failed, failed


def test_wrong_usage_says_when_too_and_no_command_shows_the_help(tmp_path):
    # A crontab's typo: its error lands in the log like any other, after its time.
    config = write_config(tmp_path, [("a", "https://kapital.kz/rss")])
    for args in (["runn"], ["run", "--bogus"], ["--bogus", "run"], ["serve", "--port", "x"]):
        result = invoke("--config", str(config), "-q", *args)
        assert result.exit_code == 2, result.output
        last = result.output.splitlines()[-1]
        assert STAMP.match(last) and unstamped(last)[0].startswith("Error: "), result.output
        assert result.output.startswith("Usage: ")
    helped = invoke()
    assert "Fetch news feeds" in helped.output and "Error" not in helped.output


def test_run_fetches_then_publishes(tmp_path, feed_server):
    feed_server.route("/a.xml", body=rss(2))
    config = write_config(tmp_path, [("a", feed_server.url("/a.xml"))])
    result = invoke("--config", str(config), "run")
    assert result.exit_code == 0, result.output
    feed = json.loads((tmp_path / "output" / "all.json").read_text(encoding="utf-8"))
    assert sorted(i["title"] for i in feed["items"]) == ["Новость 0", "Новость 1"]


def test_an_output_dropped_from_the_config_leaves_no_frozen_feed_behind(tmp_path):
    """A renamed or removed output's feeds go (a subscriber would otherwise read a feed
    that never changes again as a quiet one); files of anyone else's stay."""
    (tmp_path / "a.xml").write_bytes(rss(2))
    sources = [("a", str(tmp_path / "a.xml"))]
    outputs = "outputs:\n  - name: all\n  - name: {}\n    languages: [ru]\n"
    config = write_config(tmp_path, sources, outputs.format("russian"))
    assert invoke("--config", str(config), "run").exit_code == 0
    out = tmp_path / "output"
    dropped = [out / f"russian.{s}" for s in ("atom", "rss", "json")] + [out / "embed/russian.json"]
    assert all(p.is_file() for p in dropped)
    (out / "robots.txt").write_text("User-agent: *\n", encoding="utf-8")
    (out / "manifest.json").write_text("{}", encoding="utf-8")

    config = write_config(tmp_path, sources, outputs.format("ru"))
    renamed = invoke("--config", str(config), "run")
    assert renamed.exit_code == 0, renamed.output
    assert "4 removed" in renamed.output
    assert [p for p in dropped if p.exists()] == []
    assert (out / "ru.atom").is_file() and (out / "all.atom").is_file()
    assert (out / "robots.txt").is_file() and (out / "manifest.json").is_file()


def test_no_output_shows_a_sources_password_or_a_local_files_path(tmp_path, feed_server):
    """A source's URL may carry the login it is fetched with (user:password@): it is
    sent, never published.  A file read from this machine: its path is published
    nowhere, not even in health.json's last error."""
    feed_server.route("/private.xml", body=rss(2))
    private = feed_server.url("/private.xml").replace("http://", "http://editor:s3cret@")
    missing = tmp_path / "feeds" / "gone.xml"
    config = write_config(tmp_path, [("private", private), ("local", str(missing))])
    assert invoke("--config", str(config), "run").exit_code == 0
    out = tmp_path / "output"
    published = {p: p.read_text(encoding="utf-8") for p in out.rglob("*") if p.is_file()}
    assert [p for p, text in published.items() if "s3cret" in text or "editor@" in text] == []
    assert [p for p, text in published.items() if str(tmp_path) in text] == []
    # Still attributed and reported, by the URL without its login.
    assert f'<source url="{feed_server.url("/private.xml")}">' in published[out / "all.rss"]
    health = json.loads(published[out / "health.json"])
    local = next(s for s in health["sources"] if s["id"] == "local")
    assert local["last_error"] == "file not found: a local file"


def test_no_error_shows_a_sources_password_in_the_log_or_status(tmp_path, feed_server):
    # cron appends stderr to a log file; status is read by a monitoring user.
    feed_server.route(
        "/page.html",
        body=b'<html><head><link rel="alternate" '
        b'type="application/rss+xml" href="/rss.xml"></head></html>',
    )
    feed_server.route("/busy.xml", status=503)
    login = "http://editor:s3cret@"
    sources = [
        ("missing", feed_server.url("/missing.xml").replace("http://", login)),
        ("page", feed_server.url("/page.html").replace("http://", login)),
        ("busy", feed_server.url("/busy.xml", host="127.0.0.2").replace("http://", login)),
        ("closed", login + "127.0.0.1:1/feed.xml"),
    ]
    config = write_config(tmp_path, sources)
    fetched = invoke("--config", str(config), "fetch")
    assert fetched.output.count(": error: ") == 3 and "busy: retry later" in fetched.output
    status = invoke("--config", str(config), "status")
    for shown in (fetched.output, status.output):
        assert "s3cret" not in shown and "editor@" not in shown
    # Still said where: the URL without its login.
    missing = feed_server.url("/missing.xml")
    assert f"HTTP 404 Not Found at {missing}: no feed at this address; check" in fetched.output
    assert f"advertises {feed_server.url('/rss.xml')} (RSS)" in fetched.output
    assert f"HTTP 503 at {feed_server.url('/busy.xml', host='127.0.0.2')}" in fetched.output


def rss_with_guids(*items: tuple[str, str, str]) -> bytes:
    """An RSS feed of (guid, title, link) items."""
    body = "".join(
        f"<item><guid isPermaLink='false'>{guid}</guid><title>{title}</title><link>{link}</link>"
        f"<description>{title}.</description></item>"
        for guid, title, link in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>K</title>'
        f"<link>https://kapital.kz/</link><description>d</description>{body}</channel></rss>"
    ).encode()


def test_a_feed_whose_guids_change_on_every_build_publishes_each_article_once(
    tmp_path, feed_server
):
    # The CMS puts the build's session token in every <guid>: the same three articles
    # come under new guids at every fetch.
    articles = [(f"Новость {n}", f"https://kapital.kz/news/{n}") for n in range(3)]

    def build(token: str, listed=articles) -> bytes:
        return rss_with_guids(*((f"{link}#{token}", t, link) for t, link in listed))

    feed_server.route("/rss.xml", body=build("s1"))
    config = write_config(tmp_path, [("kapital", feed_server.url("/rss.xml"))])
    assert invoke("--config", str(config), "run").exit_code == 0
    for token in ("s2", "s3"):
        feed_server.route("/rss.xml", body=build(token))
        fetched = invoke("--config", str(config), "run", "--all")
        assert "fetched 1 source: 0 new items" in fetched.output, fetched.output
    # A new article among them is new; once the source is known for it, one old
    # article listed again is enough to know it.
    news = ("Тенге укрепился", "https://kapital.kz/news/9")
    feed_server.route("/rss.xml", body=build("s4", [news, articles[2]]))
    assert "1 new item" in invoke("--config", str(config), "run", "--all").output
    feed = json.loads((tmp_path / "output" / "all.json").read_text(encoding="utf-8"))
    assert sorted(i["title"] for i in feed["items"]) == sorted([t for t, _ in articles] + [news[0]])
    status = invoke("--config", str(config), "status").output
    assert "new guids on every fetch" in status and "known by their link" in status


@pytest.mark.parametrize(
    "session",
    [
        "?PHPSESSID={token}",
        ";jsessionid={token}.node1",
        "?id=7&sid={token}",
        "?ASPSESSIONIDQQGGQGPC={token}",
        "?CFID=91{n}&CFTOKEN=4{n}7",
    ],
)
def test_a_permalink_guid_carrying_a_session_id_is_one_item_whatever_the_session(
    tmp_path, feed_server, session
):
    # The CMS writes the visitor's session into every link, and the link is the guid
    # (isPermaLink): each fetch gets a new session, so every item a new guid and link.
    titles = ["Нацбанк сохранил ставку", "Тенге укрепился"]

    def build(n: int, listed=titles) -> bytes:
        token = f"{n:02d}f1c2d3e4a5b6c7d8e9f0a1b2c3d4e5"  # 32 letters and digits
        items = "".join(
            f"<item><guid isPermaLink='true'>{link}</guid><title>{title}</title>"
            f"<link>{link}</link><description>{title}.</description></item>"
            for k, title in enumerate(listed)
            for link in [f"https://kapital.kz/news/{k}" + session.format(token=token, n=n)]
        )
        return (
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>K</title>'
            f"<link>https://kapital.kz/</link><description>d</description>{items}</channel></rss>"
        ).encode()

    feed_server.route("/rss.xml", body=build(1))
    config = write_config(tmp_path, [("kapital", feed_server.url("/rss.xml"))])
    assert "2 new items" in invoke("--config", str(config), "fetch").output
    for n in (2, 3):
        feed_server.route("/rss.xml", body=build(n))
        fetched = invoke("--config", str(config), "fetch", "--all")
        assert "fetched 1 source: 0 new items" in fetched.output, fetched.output
    feed_server.route("/rss.xml", body=build(4, titles[:1]))  # one article alone, too
    assert "0 new items" in invoke("--config", str(config), "fetch", "--all").output
    assert invoke("--config", str(config), "publish").exit_code == 0
    feed = json.loads((tmp_path / "output" / "all.json").read_text(encoding="utf-8"))
    assert sorted(i["title"] for i in feed["items"]) == sorted(titles)


def session_rss(n: int, lead: str = "", more: str = "") -> bytes:
    """Two articles under session ``n`` of their links (guids the links), each's text its
    title and ``lead``; ``more`` items after them."""
    token = f"{n:02d}f1c2d3e4a5b6c7d8e9f0a1b2c3d4e5"
    items = "".join(
        f"<item><guid isPermaLink='true'>{link}</guid><title>{title}</title>"
        f"<link>{link}</link><description>{title}{lead}.</description></item>"
        for k, title in enumerate(["Нацбанк сохранил ставку", "Тенге укрепился"])
        for link in [f"https://kapital.kz/news/{k}?PHPSESSID={token}"]
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>K</title>'
        f"<link>https://kapital.kz/</link><description>d</description>{items}{more}"
        "</channel></rss>"
    ).encode()


def test_an_item_stored_with_a_session_in_its_link_before_the_upgrade_is_known_after_it(
    tmp_path, feed_server, store_at
):
    # Stored by a version whose canonical links kept session ids (before 298679f, store
    # schema 12): the upgrade's first fetch, under a new session, must not store the
    # articles again.
    location = store_at("before-sessions")
    config = write_config(tmp_path, [("kapital", feed_server.url("/rss.xml"))])
    feed_server.route("/rss.xml", body=session_rss(1))
    assert "2 new items" in invoke("--config", str(config), "--db", location, "fetch").output
    # As that version left it: the canonical link with the session (these links were
    # canonical but for it), schema 12.
    set_back(location, 12, "UPDATE items SET canonical_link = link")

    feed_server.route("/rss.xml", body=session_rss(2))
    fetched = invoke("--config", str(config), "--db", location, "fetch", "--all")
    assert "fetched 1 source: 0 new items" in fetched.output, fetched.output
    links = ["https://kapital.kz/news/0", "https://kapital.kz/news/1"]
    with open_storage(location) as storage:
        assert storage.items_count() == 2
        assert sorted(storage.stored_by_link("kapital", links)) == links


def test_an_article_stored_twice_under_two_sessions_before_the_upgrade_is_one_item_after_it(
    tmp_path, feed_server, store_at
):
    # A version whose canonical links kept session ids (before 298679f) stored each
    # article again under every new session: the upgrade makes them one item again.
    def build(n: int, lead: str) -> bytes:
        # A daily column under one page, its guid its own: an item each day, kept apart.
        column = f"https://kapital.kz/column?PHPSESSID={n:02d}f1c2d3e4a5b6c7d8e9f0a1b2c3d4e5"
        return session_rss(
            n,
            f": {lead}",
            f"<item><guid>column-{n}</guid><title>Колонка</title><link>{column}</link>"
            f"<description>День {n}.</description></item>",
        )

    location = store_at("stored-twice")
    config = write_config(tmp_path, [("kapital", feed_server.url("/rss.xml"))])
    as_stored_then = "UPDATE items SET canonical_link = link"  # the session kept
    for n, lead in [(1, "первая версия"), (2, "вторая версия")]:
        feed_server.route("/rss.xml", body=build(n, lead))
        fetched = invoke("--config", str(config), "--db", location, "fetch", "--all")
        assert "3 new items" in fetched.output, fetched.output
        if n == 1:
            with open_storage(location) as storage:
                first_keys = {s.item.title: s.key for s in storage.iter_items()}
        set_back(location, schema.SCHEMA_VERSION, as_stored_then)
    set_back(location, 12)
    with open_storage(location) as storage:  # upgraded
        items = sorted((s.item.title, s.item.id, s.key) for s in storage.iter_items())
        article = next(s for s in storage.iter_items() if s.item.title.startswith("Нацбанк"))
        count = storage.source_states()[0].item_count
    # Each article once, under its first key and id, with the newer text and link, and
    # listed through the source once; the column's two days stay two.
    session = "https://kapital.kz/news/{}?PHPSESSID=01f1c2d3e4a5b6c7d8e9f0a1b2c3d4e5"
    assert [(title, item_id) for title, item_id, _ in items] == [
        ("Колонка", "column-1"), ("Колонка", "column-2"),
        ("Нацбанк сохранил ставку", session.format(0)), ("Тенге укрепился", session.format(1)),
    ]  # fmt: skip
    assert {title: key for title, _, key in items if title != "Колонка"} == {
        title: key for title, key in first_keys.items() if title != "Колонка"
    }
    assert article.item.summary == "Нацбанк сохранил ставку: вторая версия."
    assert article.item.link.endswith("PHPSESSID=02f1c2d3e4a5b6c7d8e9f0a1b2c3d4e5")
    assert article.source_ids == ("kapital",) and count == 4

    feed_server.route("/rss.xml", body=build(3, "третья версия"))
    fetched = invoke("--config", str(config), "--db", location, "run", "--all")
    assert "fetched 1 source: 1 new item" in fetched.output, fetched.output  # the column
    feed = json.loads((tmp_path / "output" / "all.json").read_text(encoding="utf-8"))
    assert sorted(i["title"] for i in feed["items"]) == [
        "Колонка", "Колонка", "Колонка", "Нацбанк сохранил ставку", "Тенге укрепился",
    ]  # fmt: skip


def test_the_url_map_an_earlier_version_wrote_with_session_ids_is_written_again(
    tmp_path, feed_server
):
    # The widget finds an article by its page's canonical link, which has no session:
    # an output/ exported before the URL keys dropped them is written anew.
    token = "9c1185a5c5e9fc54612808977ee8f548"
    items = "".join(
        f"<item><title>Новость {k}</title><link>https://kapital.kz/news/{k}?PHPSESSID={token}"
        f"</link><description>Текст {k}</description></item>"
        for k in range(2)
    )
    feed_server.route(
        "/rss.xml",
        body=(
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>K</title>'
            f"<link>https://kapital.kz/</link><description>d</description>{items}</channel></rss>"
        ).encode(),
    )
    config = write_config(tmp_path, [("kapital", feed_server.url("/rss.xml"))])
    assert invoke("--config", str(config), "run").exit_code == 0
    related = tmp_path / "output" / "related"
    new_keys = {url_key(f"https://kapital.kz/news/{k}") for k in range(2)}

    def keys() -> set[str]:
        return {
            key
            for path in (related / "urls").glob("*.json")
            for key in json.loads(path.read_text(encoding="utf-8"))
        }

    assert keys() == new_keys
    # As the version before wrote it: each key with its session, format 2.
    for path in (related / "urls").glob("*.json"):
        path.unlink()
    for k in range(2):
        old = f"kapital.kz/news/{k}?PHPSESSID={token}"
        (related / "urls" / f"{url_shard(old)}.json").write_text(
            json.dumps({old: f"k{k}"}), "utf-8"
        )
    exported = (related / ".exported").read_text(encoding="ascii").split(" ", 1)[1]
    (related / ".exported").write_text(f"2 {exported}", encoding="ascii")

    assert invoke("--config", str(config), "related").exit_code == 0
    assert keys() == new_keys


def test_the_same_link_and_title_under_a_new_guid_beside_stable_guids_is_a_new_item(
    tmp_path, feed_server
):
    # A daily column under one page: the feed's other guids stay, so its guids are stable
    # and the column's new guid is a new item.
    column = ("Курс дня", "https://kapital.kz/kurs")
    other = ("g-other", "Нацбанк сохранил ставку", "https://kapital.kz/news/1")
    feed_server.route("/rss.xml", body=rss_with_guids(("kurs-1", *column), other))
    config = write_config(tmp_path, [("kapital", feed_server.url("/rss.xml"))])
    assert invoke("--config", str(config), "fetch").exit_code == 0
    feed_server.route("/rss.xml", body=rss_with_guids(("kurs-2", *column), other))
    assert "1 new item" in invoke("--config", str(config), "fetch", "--all").output
    assert "new guids" not in invoke("--config", str(config), "status").output


def test_an_empty_date_of_a_cms_is_no_date_not_1970(tmp_path, feed_server):
    # Unix time 0 for an item the CMS has no date for, and a Unix time feedparser reads
    # as the year 1765: dated as undated items are, not sunk below every other entry.
    def item(n: int, date: str) -> str:
        return (
            f"<item><title>Новость {n}</title><link>https://kapital.kz/n/{n}</link>"
            f"<pubDate>{date}</pubDate></item>"
        )

    body = (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>K</title>'
        "<link>https://kapital.kz/</link><description>d</description>"
        + item(0, "Wed, 25 Nov 2026 10:00:00 +0000")
        + item(1, "Thu, 01 Jan 1970 05:00:00 +0500")
        + item(2, "1765087200")
        + item(3, "Wed, 25 Nov 2026 08:00:00 +0000")
        + "</channel></rss>"
    )
    feed_server.route("/rss.xml", body=body.encode())
    config = write_config(tmp_path, [("kapital", feed_server.url("/rss.xml"))])
    assert invoke("--config", str(config), "run").exit_code == 0
    feed = json.loads((tmp_path / "output" / "all.json").read_text(encoding="utf-8"))
    dates = {i["title"]: i["date_published"] for i in feed["items"]}
    # Each dated a second below the item listed above it (the source's first fetch).
    assert dates["Новость 1"] == "2026-11-25T09:59:59Z"
    assert dates["Новость 2"] == "2026-11-25T09:59:58Z"


def test_a_source_removed_from_the_config_is_published_no_more(tmp_path):
    # Its newest items are kept in the store for good (keep_latest): published, they
    # would stay in every output that takes all sources, long after the editor removed it.
    feeds = tmp_path / "feeds"
    feeds.mkdir()
    (feeds / "kapital.xml").write_bytes(rss(2, "kapital"))
    (feeds / "spam.xml").write_bytes(rss(3, "spam"))
    both = [("kapital", str(feeds / "kapital.xml")), ("spam", str(feeds / "spam.xml"))]

    def published() -> set[str]:
        feed = json.loads((tmp_path / "output" / "all.json").read_text(encoding="utf-8"))
        return {item["url"].split("/")[3] for item in feed["items"]}

    config = write_config(tmp_path, both)
    assert invoke("--config", str(config), "run").exit_code == 0
    assert published() == {"kapital", "spam"}
    write_config(tmp_path, both[:1])
    assert invoke("--config", str(config), "run").exit_code == 0
    assert published() == {"kapital"}
    page = (tmp_path / "output" / "index.html").read_text(encoding="utf-8")
    assert "kapital.kz/kapital/" in page and "kapital.kz/spam/" not in page
    # Its history is kept: added back, it is published again.
    write_config(tmp_path, both)
    assert invoke("--config", str(config), "run").exit_code == 0
    assert published() == {"kapital", "spam"}


def test_a_reader_that_stops_reading_gets_no_error(tmp_path):
    # `aggregator status | head`: the pipe closes after the first lines, as with any filter.
    sources = [(f"s{n}", f"https://s{n}.example.kz/rss") for n in range(3000)]
    config = write_config(tmp_path, sources)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with subprocess.Popen(
        [sys.executable, "-m", "aggregator", "--config", str(config), "status"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    ) as status:
        assert status.stdout.readline().startswith(b"SOURCE")
        status.stdout.close()  # more than a pipe's buffer is still to come
        errors = status.stderr.read().decode()
    assert status.returncode != 0  # not all was said
    assert errors == ""


def test_publish_before_any_fetch_says_what_to_run(tmp_path):
    config = write_config(tmp_path, [("a", "https://kapital.kz/rss")])
    result = invoke("--config", str(config), "publish")
    assert result.exit_code == 0, result.output
    assert "nothing has been fetched yet: run 'aggregator fetch'" in result.output
    page = (tmp_path / "output" / "index.html").read_text(encoding="utf-8")
    assert "запустите «aggregator fetch»" in page
    assert "1970" not in (tmp_path / "output" / "all.atom").read_text(encoding="utf-8")


def test_a_second_run_exits_at_once_while_one_holds_the_lock(tmp_path):
    config = write_config(tmp_path, [("a", "https://kapital.kz/rss")])
    lock = tmp_path / "aggregator.sqlite.lock"
    with open(lock, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        handle.write("pid 4242")
        handle.flush()
        started = time.monotonic()
        result = invoke("--config", str(config), "fetch")
        assert time.monotonic() - started < 5
    assert result.exit_code == EXIT_LOCKED
    assert "pid 4242" in result.output


def aggregator(*args: str, **kw) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "aggregator", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        **kw,
    )


@pytest.mark.parametrize("delay", [0.3, 0.8, 1.5])
def test_a_run_killed_mid_way_leaves_a_consistent_store_and_the_next_run_carries_on(
    tmp_path, feed_server, delay
):
    sources = []
    for n in range(40):
        # Some slow sources keep the run busy while the others are written.
        feed_server.route(f"/f{n}.xml", body=rss(50, f"s{n}"), delay=0.5 if n % 4 == 0 else 0)
        sources.append((f"s{n}", feed_server.url(f"/f{n}.xml", host=f"127.0.0.{2 + n % 4}")))
    config = write_config(tmp_path, sources)
    db = tmp_path / "store.sqlite"

    victim = aggregator("--config", str(config), "--db", str(db), "fetch")
    time.sleep(delay)
    victim.send_signal(signal.SIGKILL)
    victim.wait()

    if db.exists():
        with sqlite3.connect(db) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)

    again = aggregator("--config", str(config), "--db", str(db), "fetch", "--all")
    out, err = again.communicate(timeout=120)
    assert again.returncode == 0, err.decode()

    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("SELECT count(*) FROM items").fetchone() == (40 * 50,)
    status = invoke("--config", str(config), "--db", str(db), "status")
    assert status.output.count(" ok ") == 40


def test_a_run_killed_before_it_told_the_hubs_has_the_next_run_tell_them(tmp_path, feed_server):
    # kill -9 after the outputs were written, while the hub was being told: the next
    # run writes no file (they are in place), and the hub would never hear of them.
    feed_server.route("/a.xml", body=rss(2))
    feed_server.route("/hub", status=202, delay=60)
    config = write_config(
        tmp_path,
        [("a", feed_server.url("/a.xml"))],
        f"publish:\n  websub_hubs: ['{feed_server.url('/hub')}']\n",
    )
    victim = aggregator("--config", str(config), "run")
    deadline = time.monotonic() + 60
    while not feed_server.requests("/hub") and time.monotonic() < deadline:
        time.sleep(0.05)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    told = len(feed_server.requests("/hub"))
    assert told == 1 and (tmp_path / "output" / "all.atom").exists()

    feed_server.route("/hub", status=202)
    assert invoke("--config", str(config), "run").exit_code == 0
    forms = [r.body.decode("ascii") for r in feed_server.requests("/hub")[told:]]
    announced = {url for form in forms for url in parse_qs(form)["hub.url"]}
    assert {u.rsplit("/", 1)[1] for u in announced} >= {"all.atom", "all.rss", "all.json"}
    # Told once, the next publish tells it only of what changes.
    assert invoke("--config", str(config), "publish").exit_code == 0
    assert len(feed_server.requests("/hub")) == told + len(forms)


def test_python_dash_m_aggregator_works(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "aggregator", "--version"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ},
    )
    assert result.returncode == 0
    assert "aggregator" in result.stdout


def test_status_shows_how_each_feed_was_decoded_and_an_encoding_key_pins_it(tmp_path, feed_server):
    # Big5, declared nowhere: detected.  KZ-1048 (Kazakh) is declared wrongly: pinned.
    big5 = '<rss version="2.0"><channel><title>新聞</title><item><title>颱風預計週末登陸台灣東部</title><link>https://tw.example/1</link></item></channel></rss>'
    kazakh = '<?xml version="1.0" encoding="windows-1251"?><rss version="2.0"><channel><title>Жаңалықтар</title><item><title>Қазақстан әлемі</title><link>https://kz.example/1</link></item></channel></rss>'
    feed_server.route("/big5.xml", body=big5.encode("big5"))
    feed_server.route("/kk.xml", body=kazakh.encode("kz1048"))
    config = write_config(
        tmp_path, [("tw", feed_server.url("/big5.xml")), ("kk", feed_server.url("/kk.xml"))]
    )
    config.write_text(
        config.read_text(encoding="utf-8") + "    encoding: kz-1048\n", encoding="utf-8"
    )
    assert invoke("--config", str(config), "fetch").exit_code == 0

    status = invoke("--config", str(config), "status")
    lines = status.output.splitlines()
    assert "ENCODING" in lines[0]
    rows = {line.split()[0]: line for line in lines[1:]}
    assert "big5 (detected)" in rows["tw"]
    assert "kz-1048 (pinned)" in rows["kk"]


def test_a_feed_cut_mid_item_adds_no_phantom_and_its_error_is_on_the_source(tmp_path, feed_server):
    whole = rss(5)
    feed_server.route("/kapital.xml", body=whole[:400])  # the connection dropped mid-item
    config = write_config(tmp_path, [("kapital", feed_server.url("/kapital.xml"))])
    db = tmp_path / "store.sqlite"
    assert invoke("--config", str(config), "--db", str(db), "fetch").exit_code == 0
    status = invoke("--config", str(config), "--db", str(db), "status").output
    assert "not well-formed XML" in status and "1 incomplete item left out" in status

    feed_server.route("/kapital.xml", body=whole)
    assert invoke("--config", str(config), "--db", str(db), "fetch", "--all").exit_code == 0
    with open_storage(db) as storage:
        titles = sorted(stored.item.title for stored in storage.iter_items())
        assert storage.get_source_state("kapital").last_error is None
    assert titles == [f"Новость {i}" for i in range(5)]


def test_a_kazakh_feed_that_says_kz_is_published_as_kazakh(tmp_path, feed_server):
    # "kz" is Kazakhstan's country code, not a language; Kazakh CMSs write it for Kazakh
    # (kk) all the same. Its items belong in the Kazakh output, and are said to be Kazakh.
    items = "".join(
        f"<item><title>{title}</title><link>https://kaz.inform.kz/news/{n}</link>"
        f"<description>{title}.</description></item>"
        for n, title in enumerate(["Астанада жаңа мектеп ашылды", "Теңге нығайды"])
    )
    feed_server.route(
        "/kz.xml",
        body=(
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Kazinform</title>'
            "<link>https://kaz.inform.kz/</link><description>d</description>"
            f"<language>kz</language>{items}</channel></rss>"
        ).encode(),
    )
    config = write_config(
        tmp_path,
        [("inform-kk", feed_server.url("/kz.xml"))],
        "outputs:\n  - {name: all}\n  - {name: kazakh, languages: [kk]}\n  - {name: qazaq, languages: [kz]}\n",
    )
    assert invoke("--config", str(config), "run").exit_code == 0
    for name in ("kazakh", "qazaq"):
        feed = json.loads((tmp_path / "output" / f"{name}.json").read_text(encoding="utf-8"))
        titles = [i["title"] for i in feed["items"]]
        assert titles == ["Астанада жаңа мектеп ашылды", "Теңге нығайды"]  # the feed's order
        assert feed["language"] == "kk"
        assert {i.get("language") for i in feed["items"]} <= {"kk", None}
    atom = (tmp_path / "output" / "all.atom").read_text(encoding="utf-8")
    assert 'xml:lang="kz"' not in atom and 'xml:lang="kk"' in atom


def test_a_mistake_in_one_sources_entry_costs_that_source_alone(tmp_path, feed_server):
    feed_server.route("/a.xml", body=rss(2, "a"))
    feed_server.route("/b.xml", body=rss(2, "b"))
    feed_server.route("/c.xml", body=rss(2, "c"))
    three = [(s, feed_server.url(f"/{s}.xml"), s.upper()) for s in "abc"]
    config = write_config(tmp_path, three)
    assert invoke("--config", str(config), "run").exit_code == 0

    def published() -> set[str]:
        feed = json.loads((tmp_path / "output" / "all.json").read_text(encoding="utf-8"))
        return {item["url"].split("/")[3] for item in feed["items"]}

    # b's entry gets a typo, c's url becomes a's (a block copied, its url left): a is
    # fetched, b and c are not, their stored items stay published; the run exits 1.
    feed_server.route("/a.xml", body=rss(3, "a"))
    feed_server.route("/b.xml", body=rss(3, "b"))
    text = config.read_text(encoding="utf-8")
    text = text.replace("    name: B\n", "    name: B\n    intervl: 5m\n")
    text = text.replace(feed_server.url("/c.xml"), feed_server.url("/a.xml"))
    config.write_text(text, encoding="utf-8")
    result = invoke("--config", str(config), "run", "--all")
    assert result.exit_code == 1, result.output
    lines = unstamped(result.output)
    assert f"Error: {config}:13: sources[1].intervl: unknown key; did you mean 'interval'?" in lines
    assert any(
        line.startswith(f"Error: {config}:17: sources[2].url: the same feed as sources[0]")
        for line in lines
    )
    problems = [line for line in result.output.splitlines() if "Error: " in line]
    assert len(problems) == 3 and all(STAMP.match(line) for line in problems)
    assert "fetched 1 source: 1 new item" in result.output
    assert published() == {"a", "b", "c"}
    feed = json.loads((tmp_path / "output" / "all.json").read_text(encoding="utf-8"))
    titles = {item["title"] for item in feed["items"]}
    assert {"a 2", "c 0", "c 1"} <= titles and "b 2" not in titles
    related = json.loads((tmp_path / "output" / "related.json").read_text(encoding="utf-8"))
    assert related  # still written
    # publish alone too: the held source's entries stay, under its name.
    result = invoke("--config", str(config), "publish")
    assert result.exit_code == 1
    assert published() == {"a", "b", "c"}
    page = (tmp_path / "output" / "index.html").read_text(encoding="utf-8")
    assert "kapital.kz/c/" in page
    # Monitoring sees the held sources, and why, exactly when they need attention.
    health = json.loads((tmp_path / "output" / "health.json").read_text(encoding="utf-8"))
    by_id = {s["id"]: s for s in health["sources"]}
    assert health["sources_total"] == 3 and health["states"] == {"config_error": 2, "ok": 1}
    assert by_id["b"]["state"] == "config_error" and by_id["b"]["item_count"] == 2
    assert by_id["b"]["config_problems"] == [  # the file, not our disk's layout: it is public
        "feeds.yaml:13: sources[1].intervl: unknown key; did you mean 'interval'?"
    ]
    assert by_id["c"]["config_problems"][0].startswith("feeds.yaml:17: sources[2].url: the same")
    assert by_id["a"]["state"] == "ok" and by_id["a"]["config_problems"] == []
    assert health["last_run"]["outcome"] == "failing"
    assert [(f["id"], f["state"]) for f in health["last_run"]["failing"]] == [
        ("b", "config_error"),
        ("c", "config_error"),
    ]
    status = invoke("--config", str(config), "status")
    assert status.exit_code == 1
    rows = {line.split()[0]: line for line in status.output.splitlines() if line.strip()}
    assert rows["a"].split()[1] == "ok"
    assert rows["b"].split()[1] == "config_error" and "not fetched" in rows["b"]
    assert "b: not fetched until its entry is corrected: feeds.yaml:13: sources[1].intervl" in (
        status.output
    )

    only = invoke("--config", str(config), "fetch", "--source", "b")
    assert only.exit_code == 1 and "b: not fetched for the problems above" in only.output

    check = invoke("--config", str(config), "check-config")
    assert check.exit_code == 1
    assert "sources[1].intervl" in check.output and "sources[2].url" in check.output


def test_a_key_twice_or_an_id_twice_in_a_sources_entry_holds_that_source(tmp_path, feed_server):
    for s in "abcd":
        feed_server.route(f"/{s}.xml", body=rss(2, s))
    three = [(s, feed_server.url(f"/{s}.xml"), s.upper()) for s in "abc"]
    config = write_config(tmp_path, three)
    assert invoke("--config", str(config), "run").exit_code == 0
    for s in "abc":
        feed_server.route(f"/{s}.xml", body=rss(3, s))
    # a's block gets its url twice (an edit pasted under the old line); a block is
    # copied for d and its id left as c's. a and c are held, b is fetched.
    text = config.read_text(encoding="utf-8")
    a_url = f"    url: {feed_server.url('/a.xml')}\n"
    text = text.replace(a_url, a_url + f"    url: {feed_server.url('/a.xml')}?v=2\n")
    text += f"  - id: c\n    name: D\n    url: {feed_server.url('/d.xml')}\n"
    config.write_text(text, encoding="utf-8")
    result = invoke("--config", str(config), "run", "--all")
    assert result.exit_code == 1, result.output
    lines = unstamped(result.output)
    assert (
        f"Error: {config}:11: sources[0].url: duplicate key in the entry of source 'a' "
        "(first given at line 10); keep only one"
    ) in lines
    assert any(
        line.startswith(f"Error: {config}:18: sources[3].id: duplicate source id 'c'")
        for line in lines
    )
    assert "fetched 1 source: 1 new item" in result.output
    # health.json and status: both held sources, each with its problem.
    health = json.loads((tmp_path / "output" / "health.json").read_text(encoding="utf-8"))
    by_id = {s["id"]: s for s in health["sources"]}
    assert {s: by_id[s]["state"] for s in "abc"} == {
        "a": "config_error",
        "b": "ok",
        "c": "config_error",
    }
    c = by_id["c"]
    assert c["name"] == "C" and c["item_count"] == 2
    assert c["config_problems"][0].startswith("feeds.yaml:18: sources[3].id: duplicate source id")
    assert [f["id"] for f in health["last_run"]["failing"]] == ["a", "c"]
    status = invoke("--config", str(config), "status")
    assert status.exit_code == 1
    table = status.output[status.output.index("SOURCE ") :].splitlines()
    rows = sorted(line.split()[:2] for line in table[1:4])
    assert rows == [["a", "config_error"], ["b", "ok"], ["c", "config_error"]]
    assert "a: not fetched until its entry is corrected: feeds.yaml:11: sources[0].url" in (
        status.output
    )
    assert "c: not fetched until its entry is corrected: feeds.yaml:18: sources[3].id" in (
        status.output
    )
    feed = json.loads((tmp_path / "output" / "all.json").read_text(encoding="utf-8"))
    assert {item["url"].split("/")[3] for item in feed["items"]} == {"a", "b", "c"}
    assert "d 0" not in {item["title"] for item in feed["items"]}


def test_a_held_source_keeps_its_place_in_every_list_a_reader_shows(tmp_path, feed_server):
    for s in "abc":
        feed_server.route(f"/{s}.xml", body=rss(2, s))
    three = [(s, feed_server.url(f"/{s}.xml"), s.upper()) for s in "abc"]
    per_source = "outputs:\n  - {name: all}\n  - {name: 'src-{id}', per: source}\n"
    config = write_config(tmp_path, three, per_source)
    assert invoke("--config", str(config), "run").exit_code == 0
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("    name: A\n", "    name: A\n    intervl: 5m\n"), "utf-8")
    assert invoke("--config", str(config), "run", "--all").exit_code == 1

    def order(text: str, marks: list[str]) -> list[str]:
        return sorted(marks, key=text.index)

    out = tmp_path / "output"
    opml = (out / "sources.opml").read_text(encoding="utf-8")
    assert order(opml, ['text="B"', 'text="C"', 'text="A"']) == ['text="A"', 'text="B"', 'text="C"']
    index = (out / "index.html").read_text(encoding="utf-8")
    marks = ['href="src-b.atom"', 'href="src-c.atom"', 'href="src-a.atom"']
    assert order(index, marks) == sorted(marks)
    health = json.loads((out / "health.json").read_text(encoding="utf-8"))
    assert [s["id"] for s in health["sources"]] == ["a", "b", "c"]
    status = invoke("--config", str(config), "status").output
    table = status[status.index("SOURCE ") :].splitlines()
    assert [line.split()[0] for line in table[1:4]] == ["a", "b", "c"]


def test_a_per_source_output_of_a_source_without_a_name_is_titled_with_its_feeds_title(
    tmp_path, feed_server
):
    # name "" means the feed's own title (README); the output was "Евразия24: ", and
    # 'src-{name}' named every such source's output "src-" (two: publish stopped).
    feed_server.route("/a.xml", body=rss(2, "a"))
    feed_server.route("/b.xml", body=rss(2, "b").replace(b"<title>Kapital", b"<title>Vlast.kz"))
    config = write_config(
        tmp_path,
        [("a", feed_server.url("/a.xml")), ("b", feed_server.url("/b.xml"))],
        "outputs:\n  - {name: all}\n  - {name: 'src-{id}', per: source}\n"
        "  - {name: 'by-{name}', per: source, title: 'Лента {name}'}\n",
    )
    config.write_text(config.read_text(encoding="utf-8").replace("    name: a\n", ""), "utf-8")
    result = invoke("--config", str(config), "run")
    assert result.exit_code == 0, result.output
    out = tmp_path / "output"
    a = json.loads((out / "src-a.json").read_text(encoding="utf-8"))
    assert a["title"] == "Евразия24: Kapital"
    assert json.loads((out / "by-Kapital.json").read_text(encoding="utf-8"))["title"] == (
        "Лента Kapital"
    )
    assert json.loads((out / "src-b.json").read_text(encoding="utf-8"))["title"] == "Евразия24: b"


def test_another_sources_typo_does_not_stop_an_editors_comment_commands(tmp_path, feed_server):
    feed_server.route("/a.xml", body=rss(2, "a"))
    feed_server.route("/b.xml", body=rss(2, "b"))
    config = write_config(
        tmp_path,
        [("a", feed_server.url("/a.xml")), ("b", feed_server.url("/b.xml"))],
        "house: {commentary_dir: commentary}\n",
    )
    assert invoke("--config", str(config), "run").exit_code == 0
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("    name: b\n", "    name: b\n    intervl: 5m\n"), "utf-8")

    created = invoke("--config", str(config), "comment", "new", "https://kapital.kz/a/1")
    assert "created " in created.output, created.output
    (path,) = (tmp_path / "commentary").glob("*.md")
    path.write_text(path.read_text(encoding="utf-8") + "\nНаш комментарий.\n", "utf-8")
    listed = invoke("--config", str(config), "comment", "list")
    assert "1 commentary: 1 matched" in listed.output, listed.output
    # Both say the problem and exit 1, as publish does: the problem is to be mended.
    for result in (created, listed):
        assert "sources[1].intervl: unknown key" in result.output
        assert result.exit_code == 1


def test_a_sources_typo_does_not_stop_a_store_copy(tmp_path, feed_server):
    feed_server.route("/a.xml", body=rss(2, "a"))
    config = write_config(tmp_path, [("a", feed_server.url("/a.xml")), ("b", "b.xml")])
    assert invoke("--config", str(config), "fetch").exit_code == 0
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("    name: b\n", "    name: b\n    intervl: 5m\n"), "utf-8")
    copied = invoke("--config", str(config), "store", "copy", "--to", str(tmp_path / "c.sqlite"))
    assert "verified: both stores hold 2 sources" in copied.output, copied.output
    assert "sources[1].intervl: unknown key" in copied.output and copied.exit_code == 1


def test_a_templates_or_commentary_directory_that_is_not_there_is_said(tmp_path, feed_server):
    # A typo in either path read nothing, and said nothing: the site went out with the
    # shipped pages, or without the commentary written.
    feed_server.route("/a.xml", body=rss(1, "a"))
    config = write_config(
        tmp_path,
        [("a", feed_server.url("/a.xml"))],
        "publish:\n  templates: mytemplatse\nhouse:\n  commentary_dir: commentry\n",
    )
    (tmp_path / "mytemplates").mkdir()
    checked = invoke("--config", str(config), "check-config")
    published = invoke("--config", str(config), "run")
    for result in (checked, published):
        assert result.exit_code == 1
        assert (
            f"publish.templates: {tmp_path / 'mytemplatse'} is not a directory; create it"
        ) in result.output, result.output
    assert not (tmp_path / "output" / "index.html").exists()

    config.write_text(
        config.read_text(encoding="utf-8").replace("mytemplatse", "mytemplates"), "utf-8"
    )
    checked = invoke("--config", str(config), "check-config")
    assert checked.exit_code == 0
    assert (
        f"note: house.commentary_dir: {tmp_path / 'commentry'} does not exist: no commentary "
        "file is read"
    ) in checked.output


def test_a_mistake_outside_the_sources_still_stops_every_command(tmp_path, feed_server):
    feed_server.route("/a.xml", body=rss(2, "a"))
    config = write_config(tmp_path, [("a", feed_server.url("/a.xml"))])
    config.write_text(
        config.read_text(encoding="utf-8").replace("  link:", "  lnk:"), encoding="utf-8"
    )
    result = invoke("--config", str(config), "run")
    assert result.exit_code == 1
    assert "feeds.yaml:3: site.lnk: unknown key" in result.output
    assert "fetched" not in result.output and not (tmp_path / "output").exists()


# An agency's report, and a house post quoting its lead (matched to it by the quote).
LEAD = (
    "В Актау в рамках международного кинофестиваля стран тюркского мира «Қоркыт ата» "
    "Государственный центр поддержки национального кино Республики Казахстан заключил "
    "меморандумы о сотрудничестве с государственными организациями в сфере кинематографии "
    "Азербайджана, Кыргызстана, Туркменистана, Турции и Узбекистана."
)


def one_item_rss(title: str, link: str, html: str, published: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>'
        f"<link>{link}</link><description>d</description><item><title>{title}</title>"
        f"<link>{link}</link><description><![CDATA[{html}]]></description>"
        f"<pubDate>{published}</pubDate></item></channel></rss>"
    ).encode()


@pytest.mark.parametrize("typo_in", ["house", "kazinform"])
def test_a_typo_in_any_sources_entry_keeps_house_commentary_crediting_its_source(
    tmp_path, feed_server, typo_in
):
    report = "https://www.inform.kz/ru/kazahstan-podpisal-memorandumy-a4211"
    feed_server.route(
        "/agency.xml",
        body=one_item_rss(
            "Казахстан подписал меморандумы",
            report,
            f"<p>{LEAD}</p>",
            "Thu, 03 Oct 2024 06:00:00 +0000",
        ),
    )
    # Another agency carried the same text first: the attribution tells them apart.
    feed_server.route(
        "/other.xml",
        body=one_item_rss(
            "Меморандумы о кино",
            "https://tengrinews.kz/kazakhstan_news/memorandumy",
            f"<p>{LEAD}</p>",
            "Thu, 03 Oct 2024 05:00:00 +0000",
        ),
    )
    feed_server.route(
        "/house.xml",
        body=one_item_rss(
            "Стоп, снято!",
            "https://eurasia24.media/stop",
            f"<p>Казинформ сообщает: «{LEAD}»</p><p>Евразия24 комментирует:</p><p>Мнение.</p>",
            "Thu, 03 Oct 2024 09:00:00 +0000",
        ),
    )
    config = write_config(
        tmp_path,
        [
            ("kazinform", feed_server.url("/agency.xml"), "Казинформ"),
            ("tengrinews", feed_server.url("/other.xml"), "Tengrinews"),
            ("house", feed_server.url("/house.xml"), "Евразия24"),
        ],
    )
    text = config.read_text(encoding="utf-8").replace(
        "    name: Евразия24\n", "    name: Евразия24\n    house: true\n"
    )
    config.write_text(text, encoding="utf-8")

    def credited() -> list:
        path = tmp_path / "output" / "commentary.json"
        feed = json.loads(path.read_text(encoding="utf-8"))
        return [
            (s["url"], s["source"])
            for i in feed["items"]
            for s in i.get("_commentary", {}).get("sources", ())
        ]

    assert invoke("--config", str(config), "run").exit_code == 0
    assert credited() == [(report, "Казинформ")]

    # A typo in one entry holds that source alone (522076c): its posts, and the reports
    # they comment on, are still published -- and so is what credits one to the other.
    name = "Евразия24" if typo_in == "house" else "Казинформ"
    text = config.read_text(encoding="utf-8")
    config.write_text(
        text.replace(f"    name: {name}\n", f"    name: {name}\n    intervl: 5m\n"), "utf-8"
    )
    result = invoke("--config", str(config), "publish")
    assert "intervl: unknown key" in result.output
    assert credited() == [(report, "Казинформ")]


@pytest.mark.parametrize("mistake", ["house: ture", "hous: true", "House: true"])
def test_a_house_feed_whose_house_key_is_mistyped_is_never_published_or_matched_as_a_report(
    tmp_path, feed_server, mistake
):
    report = "https://www.inform.kz/ru/kazahstan-podpisal-memorandumy-a4211"
    feed_server.route(
        "/agency.xml",
        body=one_item_rss(
            "Казахстан подписал меморандумы", report, f"<p>{LEAD}</p>",
            "Thu, 03 Oct 2024 06:00:00 +0000",
        ),
    )  # fmt: skip
    feed_server.route(
        "/house.xml",
        body=one_item_rss(
            "Стоп, снято!", "https://eurasia24.media/stop",
            f"<p>Казинформ сообщает: «{LEAD}»</p><p>Евразия24 комментирует:</p><p>Мнение.</p>",
            "Thu, 03 Oct 2024 09:00:00 +0000",
        ),
    )  # fmt: skip
    config = write_config(
        tmp_path,
        [
            ("kazinform", feed_server.url("/agency.xml"), "Казинформ"),
            ("house", feed_server.url("/house.xml"), "Евразия24"),
        ],
        "house:\n  commentary_dir: commentary\n",
    )
    text = config.read_text(encoding="utf-8")
    config.write_text(
        text.replace("    name: Евразия24\n", "    name: Евразия24\n    house: true\n"), "utf-8"
    )
    assert invoke("--config", str(config), "run").exit_code == 0

    # The house's entry loses its house: key to a typo; an editor's file names its post.
    config.write_text(
        text.replace("    name: Евразия24\n", f"    name: Евразия24\n    {mistake}\n"), "utf-8"
    )
    (tmp_path / "commentary").mkdir()
    (tmp_path / "commentary" / "2024-10-03-kino.md").write_text(
        "---\ntitle: Ещё о кино\ndate: 2024-10-03 16:00\nsource: https://eurasia24.media/stop\n---\n"
        "Меморандумы подписаны.\n",
        encoding="utf-8",
    )
    result = invoke("--config", str(config), "run")
    assert result.exit_code == 1
    withheld = result.output.index("published nowhere and matched as no agency's report")
    assert result.output.index(mistake.split(":")[0] + ":") < withheld  # after its problem

    def entries(name: str) -> list:
        feed = json.loads((tmp_path / "output" / name).read_text(encoding="utf-8"))
        return [
            (i["title"], [s["url"] for s in i.get("_commentary", {}).get("sources", ())])
            for i in feed["items"]
        ]

    # Its post is no agency's item in the outputs, nor the report a commentary credits.
    published = entries("all.json") + entries("commentary.json")
    assert "Стоп, снято!" not in [title for title, _ in published]
    assert not any("https://eurasia24.media/stop" in sources for _, sources in published)
    health = json.loads((tmp_path / "output" / "health.json").read_text(encoding="utf-8"))
    (house,) = [s for s in health["sources"] if s["id"] == "house"]
    assert house["state"] == "config_error"
    assert any("published nowhere" in p for p in house["config_problems"])


def test_a_sources_timezone_dates_its_local_times_and_a_misspelt_one_is_said_plainly(
    tmp_path, feed_server
):
    # An Almaty CMS writing its wall time with no offset: 06:00 there is 01:00 UTC.
    local = rss(1, "a").replace(b"Wed, 25 Nov 2026 00:00:00 +0000", b"03.10.2024 06:00")
    feed_server.route("/a.xml", body=local)
    feed_server.route("/b.xml", body=local.replace(b"/a/", b"/b/"))
    config = write_config(
        tmp_path, [("a", feed_server.url("/a.xml")), ("b", feed_server.url("/b.xml"))]
    )
    text = config.read_text(encoding="utf-8")
    text = text.replace("    name: a\n", "    name: a\n    timezone: Asia/Almaty\n")
    config.write_text(text + "    timezone: Asia/Almati\n", encoding="utf-8")

    result = invoke("--config", str(config), "run")
    # The misspelt one is held (the others go on), and said: where, which key, what to write.
    line = text.count("\n") + 1
    assert (
        f"{config}:{line}: sources[1].timezone: 'Asia/Almati' is not a time zone this machine "
        "knows; did you mean 'Asia/Almaty'?"
    ) in result.output, result.output
    assert result.exit_code == 1
    feed = json.loads((tmp_path / "output" / "all.json").read_text(encoding="utf-8"))
    assert [(i["url"], i["date_published"]) for i in feed["items"]] == [
        ("https://kapital.kz/a/0", "2024-10-03T01:00:00Z")
    ]


@pytest.mark.parametrize(
    ("fetch_zone", "published"),
    [
        # No key at all: the site's zone (a Kazakh CMS's wall time), 06:00 Almaty.
        ("", {"a": "2024-10-03T01:00:00Z", "b": "2024-10-03T01:00:00Z"}),
        # Once for every source; a source's own timezone: still wins.
        ("UTC", {"a": "2024-10-03T06:00:00Z", "b": "2024-10-03T01:00:00Z"}),
    ],
)
def test_dates_without_an_offset_are_read_in_the_sites_zone_unless_fetch_timezone_says(
    tmp_path, feed_server, fetch_zone, published
):
    local = rss(1, "a").replace(b"Wed, 25 Nov 2026 00:00:00 +0000", b"2024-10-03T06:00:00")
    feed_server.route("/a.xml", body=local)
    feed_server.route("/b.xml", body=local.replace(b"/a/", b"/b/"))
    config = write_config(
        tmp_path, [("a", feed_server.url("/a.xml")), ("b", feed_server.url("/b.xml"))]
    )
    text = config.read_text(encoding="utf-8") + "    timezone: Asia/Almaty\n"
    if fetch_zone:
        text = text.replace("fetch:\n", f"fetch:\n  timezone: {fetch_zone}\n")
    config.write_text(text, encoding="utf-8")
    assert invoke("--config", str(config), "run").exit_code == 0
    feed = json.loads((tmp_path / "output" / "all.json").read_text(encoding="utf-8"))
    assert {i["url"].split("/")[-2]: i["date_published"] for i in feed["items"]} == published


def dated_rss(prefix: str, *dates: str) -> bytes:
    items = "".join(
        f"<item><title>{prefix} {i}</title><link>https://kapital.kz/{prefix}/{i}</link>"
        f"<pubDate>{date}</pubDate></item>"
        for i, date in enumerate(dates)
    )
    return f"<rss version='2.0'><channel><title>t</title>{items}</channel></rss>".encode()


def test_status_says_whose_dates_say_no_offset_or_no_order_and_an_order_once_shown_is_kept(
    tmp_path, feed_server
):
    feed_server.route("/a.xml", body=dated_rss("a", "2026-11-25T06:00:00"))
    # US dates: 11/24 shows month first, so 11/05 is 5 November.
    feed_server.route(
        "/b.xml", body=dated_rss("b", "11/24/2026 10:00 +0500", "11/05/2026 10:00 +0500")
    )
    feed_server.route(
        "/c.xml", body=dated_rss("c", "12/03/2026 10:00 +0500", "12/01/2026 10:00 +0500")
    )
    config = write_config(
        tmp_path, [(name, feed_server.url(f"/{name}.xml")) for name in ("a", "b", "c")]
    )

    def dates() -> dict[str, str]:
        feed = json.loads((tmp_path / "output" / "all.json").read_text(encoding="utf-8"))
        return {
            i["url"].removeprefix("https://kapital.kz/"): i["date_published"] for i in feed["items"]
        }

    assert invoke("--config", str(config), "run").exit_code == 0
    assert dates()["b/1"] == "2026-11-05T05:00:00Z"
    # c's dates show no order: they are read as undated ones, not as 3 December or 12 March.
    assert "2026-12-03T05:00:00Z" not in dates().values()
    status = invoke("--config", str(config), "status").output
    header, *rows = status.splitlines()[:4]
    column = header.index("DATES")
    assert [(row.split()[0], row[column:].split("  ")[0]) for row in rows] == [
        ("a", "no offset: Asia/Almaty"), ("b", "-"), ("c", "day/month?"),
    ]  # fmt: skip
    assert (
        "DATES no offset: ZONE: the feed's dates say no offset from UTC ('2026-11-25T06:00:00') "
        "and are read as ZONE's time; if they are another zone's, say which in the source's "
        "entry (timezone: UTC)"
    ) in status
    assert (
        "DATES day/month?: the feed's dates may be day or month first ('12/03/2026 10:00 "
        "+0500'), and none of them shows which"
    ) in status

    # b's next feed shows no order itself: the one its earlier dates showed reads it.
    feed_server.route("/b.xml", body=dated_rss("b", "12/03/2026 10:00 +0500"))
    assert invoke("--config", str(config), "run", "--all").exit_code == 0
    assert dates()["b/0"] == "2026-12-03T05:00:00Z"


def test_health_json_says_what_status_says_of_each_sources_dates(tmp_path, feed_server):
    # A monitor reads health.json, not status: a feed whose dates say no offset (and the
    # zone they are read in), one whose numeric dates could be day or month first (its
    # items go undated), one of neither.
    feed_server.route("/a.xml", body=dated_rss("a", "2026-11-25T06:00:00"))
    feed_server.route("/m.xml", body=dated_rss("m", "2026-11-25T06:00:00"))
    feed_server.route("/b.xml", body=dated_rss("b", "Wed, 25 Nov 2026 06:00:00 +0500"))
    feed_server.route(
        "/c.xml", body=dated_rss("c", "12/03/2026 10:00 +0500", "12/01/2026 10:00 +0500")
    )
    config = write_config(
        tmp_path, [(name, feed_server.url(f"/{name}.xml")) for name in ("a", "m", "b", "c")]
    )
    text = config.read_text(encoding="utf-8")
    config.write_text(
        text.replace("    name: m\n", "    name: m\n    timezone: Europe/Moscow\n"), "utf-8"
    )
    assert invoke("--config", str(config), "run").exit_code == 0
    health = json.loads((tmp_path / "output" / "health.json").read_text(encoding="utf-8"))
    notes = {
        s["id"]: (s["zoneless_date"], s["zoneless_zone"], s["ambiguous_date"])
        for s in health["sources"]
    }
    assert notes == {
        "a": ("2026-11-25T06:00:00", "Asia/Almaty", None),
        "m": ("2026-11-25T06:00:00", "Europe/Moscow", None),
        "b": (None, None, None),
        "c": (None, None, "12/03/2026 10:00 +0500"),
    }


def test_a_sqlalchemy_style_db_or_copy_target_is_answered_with_the_path_and_makes_nothing(
    tmp_path, feed_server, monkeypatch
):
    feed_server.route("/a.xml", body=rss(1))
    config = write_config(tmp_path, [("a", feed_server.url("/a.xml"))])
    monkeypatch.chdir(tmp_path)
    fetched = invoke("--config", str(config), "--db", "sqlite:///store.sqlite", "fetch")
    assert fetched.exit_code == 1
    assert (
        "--db: 'sqlite:///store.sqlite' is neither a SQLite path nor a postgresql:// URL; "
        "SQLite is named by its file's path here: write store.sqlite (relative to the current "
        "directory)"
    ) in fetched.output
    assert invoke("--config", str(config), "run").exit_code == 0
    copied = invoke("--config", str(config), "store", "copy", "--to", "sqlite:////tmp/x.sqlite")
    assert copied.exit_code == 1
    assert "--to: " in copied.output and "write /tmp/x.sqlite" in copied.output
    # Before, --db made a directory named "sqlite:" here and a store in it.
    assert not (tmp_path / "sqlite:").exists()
