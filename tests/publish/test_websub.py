"""WebSub, the publisher's side: hub links in every output, and a ping to each hub
for every output file that changed, against a hub stub on loopback that records them."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path
from urllib.parse import parse_qs

import feedparser
import pytest
from click.testing import CliRunner
from feedserver import FeedServer, Request, Response
from validators import build_store, jsonfeed_errors, relaxng_errors, rss_errors, sample_config

from aggregator.config import Config, FetchConfig, PublishConfig
from aggregator.models import FetchRequest
from aggregator.publish import publish
from aggregator.publish.websub import STATE_FILE, hub_statuses

FEEDS = "https://eurasia24.kz/feeds/"


def with_hubs(*hubs: str, timeout: float = 5) -> Config:
    config = sample_config()
    return replace(
        config,
        publish=PublishConfig(html_entries=20, websub_hubs=hubs),
        fetch=FetchConfig(allow_private_networks=("127.0.0.1/32",), timeout=timeout),
    )


def pinged(server: FeedServer, path: str = "/hub") -> list[str]:
    """The hub.url values the hub received, in order; checks each request's form."""
    urls = []
    for request in server.requests(path):
        assert request.method == "POST"
        assert request.headers["content-type"] == "application/x-www-form-urlencoded"
        form = parse_qs(request.body.decode("ascii"), strict_parsing=True)
        assert form["hub.mode"] == ["publish"]
        urls += form["hub.url"]
    return urls


def feed_urls(out: Path) -> set[str]:
    return {
        FEEDS + p.name
        for p in out.iterdir()
        if p.suffix in (".atom", ".rss", ".json") and p.stem != "health" and p.name != STATE_FILE
    }


@pytest.fixture
def storage(tmp_path: Path):
    storage = build_store(tmp_path / "store.sqlite", sample_config())
    yield storage
    storage.close()


def test_every_output_names_the_hubs_beside_its_self_link(tmp_path, storage, feed_server):
    feed_server.route("/hub", status=202)
    feed_server.route("/hub2", status=202)
    hub, hub2 = feed_server.url("/hub"), feed_server.url("/hub2")
    out = tmp_path / "output"
    publish(with_hubs(hub, hub2), storage, out_dir=out)

    atom = feedparser.parse((out / "all.atom").read_bytes())
    links = {(link.rel, link.href) for link in atom.feed.links}
    assert {("hub", hub), ("hub", hub2), ("self", FEEDS + "all.atom")} <= links
    assert not relaxng_errors(out / "all.atom")
    rss = feedparser.parse((out / "all.rss").read_bytes())
    links = {(link.rel, link.href) for link in rss.feed.links}
    assert {("hub", hub), ("self", FEEDS + "all.rss")} <= links
    assert rss_errors(out / "all.rss") == []
    document = json.loads((out / "all.json").read_text(encoding="utf-8"))
    assert document["hubs"] == [
        {"type": "WebSub", "url": hub},
        {"type": "WebSub", "url": hub2},
    ]
    assert document["feed_url"] == FEEDS + "all.json"
    assert jsonfeed_errors(out / "all.json") == []


def test_without_hubs_outputs_carry_no_hub_link(tmp_path, storage):
    out = tmp_path / "output"
    publish(sample_config(), storage, out_dir=out)
    assert b'rel="hub"' not in (out / "all.atom").read_bytes()
    assert "hubs" not in json.loads((out / "all.json").read_text(encoding="utf-8"))
    assert not (out / STATE_FILE).exists()


def test_each_changed_output_is_announced_once_and_an_unchanged_one_never(
    tmp_path, storage, feed_server
):
    feed_server.route("/hub", status=204)
    config = with_hubs(feed_server.url("/hub"))
    out = tmp_path / "output"
    publish(config, storage, out_dir=out)
    first = pinged(feed_server)
    assert sorted(first) == sorted(feed_urls(out))  # every file was new
    assert len(first) == len(set(first))

    publish(config, storage, out_dir=out)  # same store: no file changed
    assert pinged(feed_server) == first

    (out / "kazakh.atom").write_bytes(b"stale")  # one file differs from what publish writes
    publish(config, storage, out_dir=out)
    assert pinged(feed_server)[len(first) :] == [FEEDS + "kazakh.atom"]
    [status] = hub_statuses(config, out)
    assert status.pending == () and status.last_error is None and status.last_success


def test_a_hub_that_hangs_costs_the_deadline_and_is_retried_on_the_next_run(
    tmp_path, storage, feed_server
):
    feed_server.route("/slow", status=202, delay=5)
    feed_server.route("/fast", status=202)
    config = with_hubs(feed_server.url("/slow"), feed_server.url("/fast"), timeout=1)
    out = tmp_path / "output"
    started = time.monotonic()
    report = publish(config, storage, out_dir=out)
    assert time.monotonic() - started < 4.5  # the hubs are pinged at once, under the deadline
    assert report.entries["all"] > 0  # the publish itself went through
    assert sorted(pinged(feed_server, "/fast")) == sorted(feed_urls(out))

    slow, fast = hub_statuses(config, out)
    assert slow.last_error.startswith("deadline of 1 s exceeded")
    assert sorted(slow.pending) == sorted(feed_urls(out))
    assert fast.pending == ()
    health = json.loads((out / "health.json").read_text(encoding="utf-8"))
    assert [h["state"] for h in health["websub"]] == ["pending", "ok"]
    assert health["websub"][0]["last_error"] == slow.last_error

    feed_server.route("/slow", status=202)  # the hub is back
    publish(config, storage, out_dir=out)  # nothing changed, but the backlog is owed
    assert sorted(pinged(feed_server, "/slow")[-len(slow.pending) :]) == sorted(slow.pending)
    assert len(pinged(feed_server, "/fast")) == len(feed_urls(out))  # nothing new for it
    slow, _ = hub_statuses(config, out)
    assert slow.pending == () and slow.last_error is None


def test_a_hub_refusing_the_ping_is_reported_with_its_status(tmp_path, storage, feed_server):
    feed_server.route("/hub", status=400, body=b"hub.url is not a topic we know")
    config = with_hubs(feed_server.url("/hub"))
    out = tmp_path / "output"
    publish(config, storage, out_dir=out)
    [status] = hub_statuses(config, out)
    assert status.last_error == "HTTP 400 Bad Request"
    assert status.pending


def test_a_hub_on_a_private_address_is_refused_by_the_ssrf_guard(tmp_path, storage, feed_server):
    feed_server.route("/hub", status=202)
    config = with_hubs(feed_server.url("/hub", host="127.0.0.2"))  # only 127.0.0.1 allowed
    out = tmp_path / "output"
    publish(config, storage, out_dir=out)
    assert feed_server.count("/hub") == 0
    [status] = hub_statuses(config, out)
    assert status.last_error.startswith("refused: 127.0.0.2 is a loopback address")


def test_a_hub_redirect_is_not_followed_with_the_ping(tmp_path, storage, feed_server):
    feed_server.route("/old-hub", redirect="/hub", status=302)
    feed_server.route("/hub", status=202)
    config = with_hubs(feed_server.url("/old-hub"))
    out = tmp_path / "output"
    publish(config, storage, out_dir=out)
    [status] = hub_statuses(config, out)
    assert "redirect" in status.last_error and feed_server.count("/hub") == 0


def test_the_hub_check_config_and_status_commands(tmp_path, feed_server):
    def hub(request: Request) -> Response:
        return Response(status=202)

    feed_server.route("/hub", hub)
    feed_server.route(
        "/feed.xml",
        body=(Path(__file__).parents[2] / "examples" / "feeds" / "delovoy-almaty.xml").read_bytes(),
    )
    config = tmp_path / "feeds.yaml"
    config.write_text(
        f"""site:
  title: T
  link: https://t.example/
  feeds_url: https://t.example/feeds/
fetch:
  allow_private_networks: [127.0.0.1/32]
publish:
  websub_hubs: ["{feed_server.url("/hub")}"]
sources:
  - id: delovoy
    url: {feed_server.url("/feed.xml")}
""",
        encoding="utf-8",
    )
    runner = CliRunner()
    assert runner.invoke(runner_cli(), ["--config", str(config), "run"]).exit_code == 0
    assert "https://t.example/feeds/all.atom" in pinged(feed_server)
    status = runner.invoke(runner_cli(), ["--config", str(config), "status"])
    assert f"WebSub hub {feed_server.url('/hub')}: ok" in status.output


def test_a_hub_must_be_an_http_url(tmp_path):
    from aggregator.config import ConfigError, load_config

    path = tmp_path / "feeds.yaml"
    path.write_text(
        "site: {title: T, link: https://t.example/}\npublish:\n  websub_hubs: [hub.example]\n"
        "sources: [{id: a, url: https://a.example/rss}]\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"feeds.yaml:3: publish.websub_hubs\[0\]"):
        load_config(path)


def runner_cli():
    from aggregator.cli import cli

    return cli


def test_a_post_through_the_fetcher_carries_its_body(feed_server):
    import asyncio

    from aggregator.ingest.fetch import Fetcher

    feed_server.route("/hub", status=202)

    async def run():
        async with Fetcher(FetchConfig(allow_private_networks=("127.0.0.1/32",))) as fetcher:
            return await fetcher.fetch(
                FetchRequest(feed_server.url("/hub"), method="POST", body=b"a=1")
            )

    result = asyncio.run(run())
    assert result.status_code == 202
    assert feed_server.requests("/hub")[0].body == b"a=1"
