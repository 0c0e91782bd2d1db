"""The fetch stage over HTTPS, against a real TLS server on loopback.

Every real source is HTTPS.  The server is tests/feedserver.py with a certificate
issued by a CA made for the test (trustme); the fetcher trusts that CA the way an
operator trusts a private one, through SSL_CERT_FILE.  Verification is never turned
off: a certificate from an unknown CA or for another name is refused, saying which
host presented it.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme
from feedserver import FeedServer

from aggregator.config import FetchConfig
from aggregator.ingest.fetch import Fetcher
from aggregator.models import FetchOutcome, FetchRequest, FetchResult

LOOPBACK = FetchConfig(allow_private_networks=("127.0.0.0/8",))
RSS = b'<?xml version="1.0"?><rss version="2.0"><channel><title>tls</title></channel></rss>'


def fetch(request: FetchRequest | str, config: FetchConfig = LOOPBACK) -> FetchResult:
    if isinstance(request, str):
        request = FetchRequest(request)

    async def run() -> FetchResult:
        async with Fetcher(config) as fetcher:
            return await fetcher.fetch(request)

    return asyncio.run(run())


def server_context(ca: trustme.CA, *names: str) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*names).configure_cert(context)
    return context


@pytest.fixture
def ca(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> trustme.CA:
    """A CA the fetcher trusts (and only it: SSL_CERT_FILE replaces the default bundle)."""
    authority = trustme.CA()
    bundle = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    return authority


@pytest.fixture
def tls_server(ca: trustme.CA) -> Iterator[FeedServer]:
    """HTTPS on 127.0.0.1 with a certificate for "localhost" from the trusted CA."""
    with FeedServer(tls=server_context(ca, "localhost")) as server:
        yield server


def test_a_feed_is_fetched_over_https_with_sni_for_the_name(tls_server: FeedServer) -> None:
    tls_server.route("/feed", body=RSS, headers={"Content-Type": "application/rss+xml"})
    url = tls_server.url("/feed", name="localhost")
    result = fetch(url)
    assert result.outcome is FetchOutcome.OK, result.error
    assert result.body == RSS
    assert result.final_url == url
    # The guard resolved "localhost" and connected to the address it checked
    # (the listener is on 127.0.0.1), while the handshake named the host.
    assert tls_server.sni() == ["localhost"]
    assert tls_server.requests("/feed")[0].headers["host"] == url.split("/")[2]


def test_a_certificate_from_an_unknown_ca_is_refused_naming_the_host(ca: trustme.CA) -> None:
    self_made = trustme.CA()  # not in SSL_CERT_FILE: as good as self-signed
    with FeedServer(tls=server_context(self_made, "localhost")) as server:
        server.route("/feed", body=RSS)
        url = server.url("/feed", name="localhost")
        result = fetch(url)
        assert server.count() == 0  # no request was sent over the untrusted connection
    assert result.outcome is FetchOutcome.ERROR
    assert result.error.startswith("TLS certificate of localhost rejected")
    assert "unable to get local issuer certificate" in result.error
    assert url in result.error


def test_a_certificate_for_another_name_is_refused_naming_the_host(ca: trustme.CA) -> None:
    with FeedServer(tls=server_context(ca, "feeds.example.kz")) as server:
        server.route("/feed", body=RSS)
        result = fetch(server.url("/feed", name="localhost"))
        assert server.count() == 0
    assert result.outcome is FetchOutcome.ERROR
    assert result.error.startswith("TLS certificate of localhost rejected")
    assert "not valid for 'localhost'" in result.error


def test_an_address_literal_needs_a_certificate_for_that_address(
    tls_server: FeedServer,
) -> None:
    tls_server.route("/feed", body=RSS)
    result = fetch(tls_server.url("/feed"))  # https://127.0.0.1:PORT/, cert for localhost
    assert result.outcome is FetchOutcome.ERROR
    assert "TLS certificate of 127.0.0.1 rejected" in result.error


def test_the_ssrf_guard_holds_over_tls(tls_server: FeedServer) -> None:
    tls_server.route("/feed", body=RSS)
    result = fetch(tls_server.url("/feed", name="localhost"), FetchConfig())
    assert result.outcome is FetchOutcome.ERROR
    assert result.error.startswith("refused: localhost resolves to 127.0.0.1, a loopback address")
    assert tls_server.connections() == 0 and tls_server.sni() == []


def test_a_source_may_allow_its_own_private_network_over_tls(tls_server: FeedServer) -> None:
    tls_server.route("/feed", body=RSS)
    request = FetchRequest(
        tls_server.url("/feed", name="localhost"), allow_networks=("127.0.0.1/32",)
    )
    assert fetch(request, FetchConfig()).outcome is FetchOutcome.OK


def test_http_redirects_to_https(tls_server: FeedServer, feed_server: FeedServer) -> None:
    tls_server.route("/feed", body=RSS)
    secure = tls_server.url("/feed", name="localhost")
    feed_server.route("/feed", redirect=secure, status=301)
    result = fetch(feed_server.url("/feed"))
    assert result.outcome is FetchOutcome.OK, result.error
    assert result.body == RSS
    assert result.redirects == ((301, secure),)
    assert result.permanent_url == secure  # the store moves the source to https


def test_a_redirect_to_a_private_address_over_https_is_refused(
    tls_server: FeedServer, feed_server: FeedServer
) -> None:
    tls_server.route("/feed", body=RSS)
    feed_server.route("/feed", redirect=tls_server.url("/feed", name="localhost"), status=302)
    # The source may reach 127.0.0.2 (where it starts), not 127.0.0.1 (where
    # "localhost", the https hop, resolves): the guard checks every hop.
    request = FetchRequest(
        feed_server.url("/feed", host="127.0.0.2"), allow_networks=("127.0.0.2/32",)
    )
    result = fetch(request, FetchConfig())
    assert result.outcome is FetchOutcome.ERROR
    assert result.error.startswith("refused: localhost resolves to 127.0.0.1, a loopback address")
    assert feed_server.count("/feed") == 1
    assert tls_server.connections() == 0


def test_gzip_over_tls_is_decoded(tls_server: FeedServer) -> None:
    tls_server.route("/feed", body=RSS * 50, gzip=True)
    result = fetch(tls_server.url("/feed", name="localhost"))
    assert result.outcome is FetchOutcome.OK
    assert result.body == RSS * 50
    assert result.headers["content-encoding"] == "gzip"


def test_the_body_cap_holds_for_a_gzip_bomb_over_tls(tls_server: FeedServer) -> None:
    tls_server.route("/feed", body=b" " * 5_000_000, gzip=True)
    result = fetch(
        tls_server.url("/feed", name="localhost"),
        FetchConfig(allow_private_networks=("127.0.0.0/8",), max_body_bytes=1_000_000),
    )
    assert result.outcome is FetchOutcome.ERROR
    assert "body larger than 976.6 KB after decompression" in result.error


def test_304_over_tls_with_the_stored_validators(tls_server: FeedServer) -> None:
    tls_server.route("/feed", body=RSS, etag='"v1"', last_modified="Mon, 01 Jan 2024 00:00:00 GMT")
    url = tls_server.url("/feed", name="localhost")
    first = fetch(url)
    assert first.outcome is FetchOutcome.OK and first.headers["etag"] == '"v1"'
    again = fetch(FetchRequest(url, etag='"v1"'))
    assert again.outcome is FetchOutcome.NOT_MODIFIED
    assert again.body is None
    assert tls_server.requests("/feed")[1].headers["if-none-match"] == '"v1"'


def test_keep_alive_reuses_one_tls_connection_for_several_fetches(tls_server: FeedServer) -> None:
    for n in range(3):
        tls_server.route(f"/feed{n}", body=RSS)

    async def run() -> list[FetchResult]:
        async with Fetcher(FetchConfig(allow_private_networks=("127.0.0.0/8",), per_host=1)) as f:
            urls = [tls_server.url(f"/feed{n}", name="localhost") for n in range(3)]
            return [r async for r in f.fetch_many(FetchRequest(u) for u in urls)]

    results = asyncio.run(run())
    assert all(r.outcome is FetchOutcome.OK for r in results)
    assert tls_server.connections() == 1  # one handshake for three feeds
