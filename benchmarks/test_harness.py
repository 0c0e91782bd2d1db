"""The benchmark harness's own checks: a deterministic corpus and a server that speaks HTTP
caching the way the benchmark relies on. No timing is asserted.

    .venv/bin/pytest benchmarks/test_harness.py
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import subprocess
import sys
from pathlib import Path

import feedparser
import pytest

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
import corpus  # noqa: E402
import run  # noqa: E402


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("corpus")
    corpus.generate(directory, 20)
    corpus.mutate(directory, 0.1)
    return directory


def test_the_same_seed_gives_the_same_bytes(tmp_path, corpus_dir):
    corpus.generate(tmp_path, 3)
    for i in range(3):
        name = f"feeds/{i:04d}.xml"
        assert (tmp_path / name).read_bytes() == (corpus_dir / name).read_bytes()


def test_feeds_are_30_to_80_kb_of_rss_and_atom_with_50_items(corpus_dir):
    manifest = corpus.Manifest.read(corpus_dir)
    assert {f.format for f in manifest.feeds} == {"rss20", "atom10"}
    for info in manifest.feeds:
        body = (corpus_dir / info.file).read_bytes()
        assert 30 * 1024 <= len(body) <= 80 * 1024, info.file
        parsed = feedparser.parse(body)
        assert not parsed.bozo, (info.file, parsed.get("bozo_exception"))
        assert parsed.version == info.format
        assert len(parsed.entries) == 50
        assert len({e.id for e in parsed.entries}) == 50
        assert all(e.get("tags") and e.get("published") and e.get("author") for e in parsed.entries)


def test_text_is_russian_kazakh_and_english(corpus_dir):
    text = "".join(
        (corpus_dir / f"feeds/{i:04d}.xml").read_bytes().decode("utf-8", "replace")
        for i in range(1, 20, 2)
    )
    assert set("әғқңөұүі") <= set(text)
    assert "Астане" in text or "Алматы" in text


def test_a_changed_feed_has_five_new_items_on_top_and_keeps_the_rest(corpus_dir):
    manifest = corpus.Manifest.read(corpus_dir)
    assert len(manifest.changed) == 2
    i = manifest.changed[0]
    old = feedparser.parse((corpus_dir / f"feeds/{i:04d}.xml").read_bytes()).entries
    new = feedparser.parse((corpus_dir / f"changed/{i:04d}.xml").read_bytes()).entries
    assert [e.id for e in new[5:]] == [e.id for e in old[:45]]
    assert [e.title for e in new[5:]] == [e.title for e in old[:45]]


@pytest.fixture(scope="module")
def server(corpus_dir):
    with run.FeedServer(corpus_dir) as s:
        yield s


def _get(host: str, port: int, path: str, headers: dict | None = None) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection(host, port, timeout=5)
    conn.request("GET", path, headers=headers or {})
    response = conn.getresponse()
    response.body = response.read()
    conn.close()
    return response


def test_server_answers_each_feed_on_its_own_address_only(server, corpus_dir):
    info = corpus.Manifest.read(corpus_dir).feeds[7]
    assert _get(info.host, server.port, info.path).status == 200
    assert _get("127.0.0.1", server.port, info.path).status == 421


def test_server_answers_304_to_etag_and_if_modified_since(server, corpus_dir):
    info = corpus.Manifest.read(corpus_dir).feeds[3]
    first = _get(info.host, server.port, info.path)
    assert first.body == (corpus_dir / info.file).read_bytes()
    again = _get(info.host, server.port, info.path, {"If-None-Match": first.getheader("ETag")})
    assert again.status == 304 and again.body == b""
    since = _get(
        info.host, server.port, info.path, {"If-Modified-Since": first.getheader("Last-Modified")}
    )
    assert since.status == 304
    stale = _get(info.host, server.port, info.path, {"If-None-Match": '"other"'})
    assert stale.status == 200


def test_server_gzips_only_when_asked(server, corpus_dir):
    info = corpus.Manifest.read(corpus_dir).feeds[2]
    zipped = _get(info.host, server.port, info.path, {"Accept-Encoding": "gzip, deflate"})
    assert zipped.getheader("Content-Encoding") == "gzip"
    assert gzip.decompress(zipped.body) == (corpus_dir / info.file).read_bytes()
    refused = _get(info.host, server.port, info.path, {"Accept-Encoding": "gzip;q=0"})
    assert refused.getheader("Content-Encoding") is None


def test_generated_config_is_yaml_our_loader_accepts(tmp_path, corpus_dir, server):
    from aggregator.config import load_config

    manifest = corpus.Manifest.read(corpus_dir)
    path = tmp_path / "feeds.yaml"
    run.write_config(path, manifest, server.url, concurrency=10, per_host=2)
    config = load_config(path)
    assert len(config.sources) == 20 and len(config.outputs) == 10
    assert config.fetch.allow_private_networks == ("127.0.0.0/8",)
    assert config.sources[5].url == server.url(manifest.feeds[5])


def test_measure_reports_wall_time_and_peak_memory_of_the_child():
    m = run.measure([sys.executable, "-c", "b = bytearray(60 * 2**20); print('ok')"])
    assert m.exit_code == 0 and m.stdout.strip() == "ok"
    assert m.peak_rss_mb >= 60
    assert m.wall_seconds > 0


def test_corpus_cli_says_what_to_do_without_arguments(tmp_path):
    done = subprocess.run(
        [sys.executable, str(BENCH / "corpus.py"), str(tmp_path)], capture_output=True, text=True
    )
    assert done.returncode == 2
    assert "give --feeds N" in done.stderr


def test_one_host_mode_serves_every_feed_on_one_address(corpus_dir):
    manifest = corpus.Manifest.read(corpus_dir)
    with run.FeedServer(corpus_dir, one_host=True) as server:
        for info in manifest.feeds[:3]:
            assert server.url(info).startswith(f"http://{run.ONE_HOST}:")
            assert _get(run.ONE_HOST, server.port, info.path).status == 200
        other = manifest.feeds[1]  # on 127.0.0.3 in the 50-host layout: nothing listens there
        with pytest.raises(ConnectionRefusedError):
            _get(other.host, server.port, other.path)


def test_fetch_settings_are_concurrency_and_per_host():
    assert run.Setting.parse("default") == run.Setting()
    assert run.Setting.parse("20/20") == run.Setting(20, 20)
    assert run.Setting.parse("100").label == "c100/hd"
    args = argparse.Namespace(concurrency=None, per_host=None, settings=run.DEFAULT_SETTINGS)
    assert [s.label for s in run.settings_of(args)] == ["default", "c20/h20", "c100/h100"]
