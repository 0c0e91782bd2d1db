"""The fetch stage, against a real HTTP server on loopback (tests/feedserver.py)."""

from __future__ import annotations

import asyncio
import ipaddress
import os
import threading
import time
import tracemalloc
import zlib
from email.utils import formatdate
from pathlib import Path

import httpx
import pytest
from feedserver import FeedServer, Response

from aggregator import __version__
from aggregator.config import FetchConfig
from aggregator.ingest.fetch import Fetcher
from aggregator.ingest.netguard import AddressRefused, NetworkPolicy, classify, parse_ip_literal
from aggregator.ingest.transport import GuardedTransport, tls_context
from aggregator.models import FetchOutcome, FetchRequest, FetchResult

# The test server lives on loopback, which the SSRF guard refuses by default.
LOOPBACK = FetchConfig(allow_private_networks=("127.0.0.0/8",))
RSS = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'


def fetch(
    request: FetchRequest | str, config: FetchConfig = LOOPBACK, base_dir: Path | None = None
) -> FetchResult:
    if isinstance(request, str):
        request = FetchRequest(request)

    async def run() -> FetchResult:
        async with Fetcher(config, base_dir=base_dir) as fetcher:
            return await fetcher.fetch(request)

    return asyncio.run(run())


def fetch_all(requests: list[FetchRequest], config: FetchConfig = LOOPBACK) -> list[FetchResult]:
    """Results in completion order."""

    async def run() -> list[FetchResult]:
        async with Fetcher(config) as fetcher:
            return [r async for r in fetcher.fetch_many(requests)]

    return asyncio.run(run())


# -- plain responses -------------------------------------------------------------------


def test_200_is_ok_with_body_and_lowercased_headers(feed_server: FeedServer) -> None:
    feed_server.route("/feed", body=RSS, headers={"Content-Type": "application/rss+xml"})
    result = fetch(feed_server.url("/feed"))
    assert result.outcome is FetchOutcome.OK
    assert result.status_code == 200
    assert result.body == RSS
    assert result.headers["content-type"] == "application/rss+xml"
    assert result.final_url == feed_server.url("/feed")
    assert result.permanent_url is None
    assert result.redirects == ()
    assert result.error is None


def test_gzip_body_is_decoded_and_gzip_deflate_are_offered(feed_server: FeedServer) -> None:
    feed_server.route("/feed", body=RSS, gzip=True)
    result = fetch(feed_server.url("/feed"))
    assert result.body == RSS
    assert feed_server.requests("/feed")[0].headers["accept-encoding"] == "gzip, deflate"


@pytest.mark.parametrize("wbits", [zlib.MAX_WBITS, -zlib.MAX_WBITS], ids=["zlib", "raw"])
def test_deflate_body_is_decoded_whether_zlib_wrapped_or_raw(
    feed_server: FeedServer, wbits: int
) -> None:
    compressor = zlib.compressobj(wbits=wbits)
    body = compressor.compress(RSS) + compressor.flush()
    feed_server.route("/feed", body=body, headers={"Content-Encoding": "deflate"})
    assert fetch(feed_server.url("/feed")).body == RSS


def test_default_user_agent_names_the_project(feed_server: FeedServer) -> None:
    feed_server.route("/feed", body=RSS)
    fetch(feed_server.url("/feed"))
    agent = feed_server.requests("/feed")[0].headers["user-agent"]
    assert agent == f"aggregator/{__version__} (+https://github.com/eurasia24/aggregator)"


def test_configured_user_agent_and_per_source_headers_are_sent(feed_server: FeedServer) -> None:
    feed_server.route("/feed", body=RSS)
    config = FetchConfig(user_agent="Eurasia24Bot/1.0", allow_private_networks=("127.0.0.0/8",))
    fetch(FetchRequest(feed_server.url("/feed"), headers={"X-Api-Key": "k1"}), config)
    headers = feed_server.requests("/feed")[0].headers
    assert headers["user-agent"] == "Eurasia24Bot/1.0"
    assert headers["x-api-key"] == "k1"


# -- conditional GET --------------------------------------------------------------------


def test_matching_etag_gets_not_modified_without_body(feed_server: FeedServer) -> None:
    feed_server.route("/feed", body=RSS, etag='"v1"')
    first = fetch(feed_server.url("/feed"))
    assert first.headers["etag"] == '"v1"'

    result = fetch(FetchRequest(feed_server.url("/feed"), etag='"v1"'))
    assert result.outcome is FetchOutcome.NOT_MODIFIED
    assert result.status_code == 304
    assert result.body is None
    assert feed_server.requests("/feed")[1].headers["if-none-match"] == '"v1"'


def test_matching_last_modified_gets_not_modified(feed_server: FeedServer) -> None:
    stamp = "Mon, 02 Mar 2026 10:00:00 GMT"
    feed_server.route("/feed", body=RSS, last_modified=stamp)
    result = fetch(FetchRequest(feed_server.url("/feed"), last_modified=stamp))
    assert result.outcome is FetchOutcome.NOT_MODIFIED
    assert feed_server.requests("/feed")[0].headers["if-modified-since"] == stamp


def test_changed_etag_gets_the_new_body(feed_server: FeedServer) -> None:
    feed_server.route("/feed", body=RSS, etag='"v2"')
    result = fetch(FetchRequest(feed_server.url("/feed"), etag='"v1"'))
    assert result.outcome is FetchOutcome.OK
    assert result.body == RSS


# -- redirects --------------------------------------------------------------------------


def redirect_chain(server: FeedServer, statuses: list[int]) -> str:
    """/r0 -> /r1 -> ... -> /feed with the given statuses; returns the first URL."""
    server.route("/feed", body=RSS)
    for i, status in enumerate(statuses):
        target = f"/r{i + 1}" if i + 1 < len(statuses) else "/feed"
        server.route(f"/r{i}", redirect=target, status=status)
    return server.url("/r0")


@pytest.mark.parametrize("statuses", [[301], [308], [301, 308, 301]])
def test_all_permanent_redirects_set_permanent_url(
    feed_server: FeedServer, statuses: list[int]
) -> None:
    result = fetch(redirect_chain(feed_server, statuses))
    assert result.outcome is FetchOutcome.OK
    assert result.body == RSS
    assert result.final_url == feed_server.url("/feed")
    assert result.permanent_url == feed_server.url("/feed")


@pytest.mark.parametrize("statuses", [[302], [303], [307], [301, 302], [302, 301], [308, 307]])
def test_any_temporary_redirect_keeps_the_configured_url(
    feed_server: FeedServer, statuses: list[int]
) -> None:
    result = fetch(redirect_chain(feed_server, statuses))
    assert result.outcome is FetchOutcome.OK
    assert result.final_url == feed_server.url("/feed")
    assert result.permanent_url is None


def test_every_redirect_hop_is_recorded(feed_server: FeedServer) -> None:
    result = fetch(redirect_chain(feed_server, [301, 302]))
    assert result.redirects == ((301, feed_server.url("/r1")), (302, feed_server.url("/feed")))


def test_permanent_redirect_to_not_modified_still_reports_the_new_url(
    feed_server: FeedServer,
) -> None:
    feed_server.route("/old", redirect="/feed", status=301)
    feed_server.route("/feed", body=RSS, etag='"v1"')
    result = fetch(FetchRequest(feed_server.url("/old"), etag='"v1"'))
    assert result.outcome is FetchOutcome.NOT_MODIFIED
    assert result.permanent_url == feed_server.url("/feed")


def test_more_redirects_than_allowed_is_an_error(feed_server: FeedServer) -> None:
    config = FetchConfig(max_redirects=2, allow_private_networks=("127.0.0.0/8",))
    result = fetch(redirect_chain(feed_server, [302, 302, 302]), config)
    assert result.outcome is FetchOutcome.ERROR
    assert result.error.startswith("too many redirects (3 > 2)")
    assert len(result.redirects) == 3
    assert feed_server.count("/feed") == 0


def test_redirect_loop_stops_at_the_cap(feed_server: FeedServer) -> None:
    feed_server.route("/a", redirect="/b", status=302)
    feed_server.route("/b", redirect="/a", status=302)
    result = fetch(feed_server.url("/a"))
    assert result.error.startswith("too many redirects (6 > 5)")


def test_redirect_to_a_file_url_is_refused(feed_server: FeedServer) -> None:
    feed_server.route("/feed", redirect="file:///etc/passwd", status=302)
    result = fetch(feed_server.url("/feed"))
    assert result.outcome is FetchOutcome.ERROR
    assert result.error.startswith("refused redirect to file:")
    assert result.error.endswith("/etc/passwd: only http and https URLs are fetched")


def test_authorization_is_not_sent_to_another_host(feed_server: FeedServer) -> None:
    feed_server.route("/feed", body=RSS)
    feed_server.route("/moved", redirect=feed_server.url("/feed", host="127.0.0.2"), status=301)
    request = FetchRequest(
        feed_server.url("/moved"), headers={"Authorization": "Bearer s3cret", "X-Key": "k"}
    )
    assert fetch(request).outcome is FetchOutcome.OK
    assert feed_server.requests("/moved")[0].headers["authorization"] == "Bearer s3cret"
    final_headers = feed_server.requests("/feed")[0].headers
    assert "authorization" not in final_headers
    assert final_headers["x-key"] == "k"


# -- statuses ---------------------------------------------------------------------------


def test_410_is_gone(feed_server: FeedServer) -> None:
    feed_server.route("/feed", status=410)
    result = fetch(feed_server.url("/feed"))
    assert result.outcome is FetchOutcome.GONE
    assert result.status_code == 410
    assert result.body is None


@pytest.mark.parametrize("status", [429, 503])
def test_429_and_503_are_retry_later_with_retry_after_passed_through(
    feed_server: FeedServer, status: int
) -> None:
    feed_server.route("/feed", status=status, headers={"Retry-After": "120"})
    result = fetch(feed_server.url("/feed"))
    assert result.outcome is FetchOutcome.RETRY_LATER
    assert result.status_code == status
    assert result.headers["retry-after"] == "120"


@pytest.mark.parametrize(
    ("status", "error"), [(404, "HTTP 404 Not Found"), (500, "HTTP 500 Internal Server Error")]
)
def test_other_error_statuses_are_errors(feed_server: FeedServer, status: int, error: str) -> None:
    feed_server.route("/feed", status=status, body=b"oops")
    result = fetch(feed_server.url("/feed"))
    assert result.outcome is FetchOutcome.ERROR
    assert result.status_code == status
    assert result.error == error
    assert result.body is None


def test_error_after_a_redirect_names_the_url_that_failed(feed_server: FeedServer) -> None:
    feed_server.route("/old", redirect="/gone-wrong", status=301)
    result = fetch(feed_server.url("/old"))
    assert result.error == f"HTTP 404 Not Found from {feed_server.url('/gone-wrong')}"
    assert result.permanent_url is None


def test_refused_connection_is_an_error_naming_the_address() -> None:
    result = fetch("http://127.0.0.1:1/feed")
    assert result.outcome is FetchOutcome.ERROR
    assert result.error == (
        "could not connect to http://127.0.0.1:1/feed: 127.0.0.1 port 1: Connection refused"
    )


def test_unknown_scheme_is_an_error() -> None:
    result = fetch("ftp://example.com/feed.xml")
    assert result.outcome is FetchOutcome.ERROR
    assert "unsupported URL scheme 'ftp'" in result.error


# -- deadline and size cap ------------------------------------------------------------


def test_deadline_cuts_off_a_server_that_drips_bytes(feed_server: FeedServer) -> None:
    # A byte every 50 ms: no read ever times out, the whole body would take 50 s.
    feed_server.route("/feed", body=b"x" * 1000, drip=0.05)
    started = time.monotonic()
    result = fetch(FetchRequest(feed_server.url("/feed"), timeout=0.5))
    assert time.monotonic() - started < 1.5
    assert result.outcome is FetchOutcome.ERROR
    assert result.error == f"deadline of 0.5 s exceeded while reading {feed_server.url('/feed')}"


def test_deadline_covers_waiting_for_headers(feed_server: FeedServer) -> None:
    feed_server.route("/feed", body=RSS, delay=2)
    config = FetchConfig(timeout=0.3, allow_private_networks=("127.0.0.0/8",))
    started = time.monotonic()
    result = fetch(feed_server.url("/feed"), config)
    assert time.monotonic() - started < 1.0
    assert result.error.startswith("deadline of 0.3 s exceeded while requesting")


def test_deadline_covers_all_redirect_hops(feed_server: FeedServer) -> None:
    feed_server.route("/a", Response(status=302, redirect="/b", delay=0.2))
    feed_server.route("/b", Response(status=302, redirect="/c", delay=0.2))
    feed_server.route("/c", Response(body=RSS, delay=0.2))
    result = fetch(FetchRequest(feed_server.url("/a"), timeout=0.5))
    assert result.outcome is FetchOutcome.ERROR
    assert "deadline of 0.5 s exceeded" in result.error
    assert result.redirects == ((302, feed_server.url("/b")), (302, feed_server.url("/c")))


def gzip_bomb(inflated_size: int) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    zeros = bytes(1024 * 1024)
    parts = [compressor.compress(zeros) for _ in range(inflated_size // len(zeros))]
    return b"".join(parts) + compressor.flush()


def test_gzip_bomb_is_refused_without_inflating_it_in_memory(feed_server: FeedServer) -> None:
    bomb = gzip_bomb(128 * 1024 * 1024)
    assert len(bomb) < 256 * 1024
    feed_server.route("/feed", body=bomb, headers={"Content-Encoding": "gzip"})
    config = FetchConfig(max_body_bytes=1024 * 1024, allow_private_networks=("127.0.0.0/8",))
    tracemalloc.start()
    try:
        result = fetch(feed_server.url("/feed"), config)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.outcome is FetchOutcome.ERROR
    assert result.error.startswith("body larger than 1 MB after decompression from http://")
    assert peak < 16 * 1024 * 1024


def test_plain_body_over_the_cap_is_refused(feed_server: FeedServer) -> None:
    feed_server.route("/feed", body=b"x" * 5000)
    config = FetchConfig(max_body_bytes=4096, allow_private_networks=("127.0.0.0/8",))
    result = fetch(feed_server.url("/feed"), config)
    assert result.outcome is FetchOutcome.ERROR
    assert result.error.startswith("body larger than 4 KB from http://")


def test_body_at_the_cap_is_accepted(feed_server: FeedServer) -> None:
    feed_server.route("/feed", body=b"x" * 4096, gzip=True)
    config = FetchConfig(max_body_bytes=4096, allow_private_networks=("127.0.0.0/8",))
    assert fetch(feed_server.url("/feed"), config).body == b"x" * 4096


# -- SSRF guard -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/feed",
        "http://localhost/feed",
        "http://2130706433/feed",  # decimal
        "http://0x7f000001/feed",  # hex
        "http://0177.0.0.1/feed",  # octal
        "http://127.1/feed",  # short form
        "http://0.0.0.0/feed",  # reaches localhost on Linux
        "http://[::1]/feed",
        "http://[::ffff:127.0.0.1]/feed",  # IPv4-mapped IPv6
        "https://127.0.0.2:8443/feed",
    ],
)
def test_loopback_in_any_spelling_is_refused_by_default(url: str) -> None:
    result = fetch(url, FetchConfig())
    assert result.outcome is FetchOutcome.ERROR
    assert result.error.startswith("refused: ")
    assert "allow it with allow_private_networks: [" in result.error


def test_refusal_says_what_the_name_resolved_to_and_how_to_allow_it() -> None:
    result = fetch("http://localhost:8080/feed", FetchConfig())
    assert result.error == (
        "refused: localhost resolves to 127.0.0.1, a loopback address; "
        "allow it with allow_private_networks: [127.0.0.0/8]"
    )


def test_refusal_is_not_a_connection(feed_server: FeedServer) -> None:
    feed_server.route("/feed", body=RSS)
    assert fetch(feed_server.url("/feed"), FetchConfig()).outcome is FetchOutcome.ERROR
    assert feed_server.count() == 0


def test_source_allow_networks_lets_a_source_reach_loopback(feed_server: FeedServer) -> None:
    feed_server.route("/feed", body=RSS)
    request = FetchRequest(feed_server.url("/feed"), allow_networks=("127.0.0.0/8",))
    assert fetch(request, FetchConfig()).outcome is FetchOutcome.OK


def test_allowing_one_source_does_not_allow_another(feed_server: FeedServer) -> None:
    feed_server.route("/feed", body=RSS)
    url = feed_server.url("/feed")
    allowed = FetchRequest(url, allow_networks=("127.0.0.0/8",))
    results = fetch_all([allowed, FetchRequest(url)], FetchConfig())
    outcomes = {r.request.allow_networks: r.outcome for r in results}
    assert outcomes == {("127.0.0.0/8",): FetchOutcome.OK, (): FetchOutcome.ERROR}


def test_redirect_to_a_forbidden_address_is_refused_at_the_hop(feed_server: FeedServer) -> None:
    feed_server.route("/secret", body=b"internal")
    feed_server.route("/feed", redirect=feed_server.url("/secret"), status=302)
    start = feed_server.url("/feed", host="127.0.0.2")
    result = fetch(FetchRequest(start, allow_networks=("127.0.0.2/32",)), FetchConfig())
    assert result.outcome is FetchOutcome.ERROR
    assert result.error.startswith("refused: 127.0.0.1 is a loopback address")
    assert result.redirects == ((302, feed_server.url("/secret")),)
    assert feed_server.count("/feed") == 1
    assert feed_server.count("/secret") == 0


def _send_through_transport(url: str, policy: NetworkPolicy) -> int:
    """One GET straight through the transport, past fetch.py's own checks of the URL."""

    async def run() -> int:
        transport = GuardedTransport(policy, tls_context)
        try:
            response = await transport.handle_async_request(httpx.Request("GET", url))
            await response.aclose()
            return response.status_code
        finally:
            await transport.aclose()

    return asyncio.run(run())


def test_the_transport_refuses_an_address_literal_before_connecting(
    feed_server: FeedServer,
) -> None:
    feed_server.route("/feed", body=RSS)
    with pytest.raises(AddressRefused, match="127.0.0.1 is a loopback address"):
        _send_through_transport(feed_server.url("/feed"), NetworkPolicy())
    assert feed_server.count() == 0
    allowed = NetworkPolicy(["127.0.0.0/8"])
    assert _send_through_transport(feed_server.url("/feed"), allowed) == 200


def test_the_transport_resolves_names_through_the_guard(feed_server: FeedServer) -> None:
    feed_server.route("/feed", body=RSS)
    url = feed_server.url("/feed").replace("127.0.0.1", "localhost")
    with pytest.raises(AddressRefused, match="localhost resolves to"):
        _send_through_transport(url, NetworkPolicy())
    assert feed_server.count() == 0


def test_bad_allow_network_is_an_error_not_an_exception() -> None:
    result = fetch(FetchRequest("http://example.com/", allow_networks=("intranet",)))
    assert result.outcome is FetchOutcome.ERROR
    assert "not a network: 'intranet'" in result.error


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("10.1.2.3", "a private address"),
        ("172.16.0.1", "a private address"),
        ("192.168.1.1", "a private address"),
        ("100.64.0.1", "a carrier-grade NAT address"),
        ("169.254.169.254", "a link-local address"),
        ("224.0.0.1", "a multicast address"),
        ("0.0.0.0", "an unspecified address"),
        ("240.0.0.1", "a reserved address"),
        ("::", "an unspecified address"),
        ("::1", "a loopback address"),
        ("fc00::1", "a private address"),
        ("fe80::1", "a link-local address"),
        ("ff02::1", "a multicast address"),
        ("::ffff:10.0.0.1", "a private address embedded in IPv6"),
        ("2002:a9fe:a9fe::1", "a link-local address embedded in IPv6"),  # 6to4
        ("64:ff9b::7f00:1", "a loopback address embedded in IPv6"),  # NAT64
    ],
)
def test_non_public_addresses_are_classified(address: str, reason: str) -> None:
    assert classify(ipaddress.ip_address(address)) == reason


@pytest.mark.parametrize("address", ["93.184.215.14", "2606:4700:4700::1111", "::ffff:8.8.8.8"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert NetworkPolicy().refusal(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(
    "host", ["2130706433", "0x7f000001", "0177.0.0.1", "127.1", "0x7f.1", "[::1]", "127.0.0.1."]
)
def test_numeric_host_spellings_are_read_as_addresses(host: str) -> None:
    assert parse_ip_literal(host) in (
        ipaddress.ip_address("127.0.0.1"),
        ipaddress.ip_address("::1"),
    )


@pytest.mark.parametrize("host", ["example.com", "1.cafe", "kz", "127.0.0.1.nip.io"])
def test_names_are_not_read_as_addresses(host: str) -> None:
    assert parse_ip_literal(host) is None


# -- concurrency ----------------------------------------------------------------------


def test_a_slow_source_does_not_delay_the_others(feed_server: FeedServer) -> None:
    # The slow server answers only once every other result is in: a fetcher that made
    # the others wait for it would never get them first, and the slow one would give up
    # (503 after 10 s).  How long fetches take is measured in benchmarks/, not here.
    others_in = threading.Event()

    def slow_server(request) -> Response:
        if not others_in.wait(timeout=10):
            return Response(status=503)
        return Response(body=RSS)

    feed_server.route("/slow", slow_server)
    feed_server.route("/fast", body=RSS)
    slow = FetchRequest(feed_server.url("/slow", host="127.0.0.2"))
    fast = [FetchRequest(feed_server.url(f"/fast?{i}", host="127.0.0.3")) for i in range(6)]

    async def run() -> list[FetchResult]:
        results = []
        async with Fetcher(LOOPBACK) as fetcher:
            async for result in fetcher.fetch_many([slow, *fast]):
                results.append(result)
                if len(results) == len(fast):
                    others_in.set()
        return results

    results = asyncio.run(run())
    assert len(results) == 7 and results[-1].request == slow
    assert all(r.outcome is FetchOutcome.OK for r in results), [r.error for r in results]


def test_per_host_limit_is_honoured(feed_server: FeedServer) -> None:
    feed_server.route("/feed", body=RSS, delay=0.1)
    config = FetchConfig(per_host=2, concurrency=10, allow_private_networks=("127.0.0.0/8",))
    requests = [FetchRequest(feed_server.url(f"/feed?{i}", host="127.0.0.2")) for i in range(6)]
    requests += [FetchRequest(feed_server.url(f"/feed?{i}", host="127.0.0.3")) for i in range(6)]
    results = fetch_all(requests, config)
    assert all(r.outcome is FetchOutcome.OK for r in results)
    assert feed_server.max_in_flight(host="127.0.0.2") == 2
    assert feed_server.max_in_flight(host="127.0.0.3") == 2
    assert feed_server.max_in_flight() == 4


def test_connections_are_kept_alive_across_sources_on_one_host(feed_server: FeedServer) -> None:
    feed_server.route("/feed", body=RSS)
    config = FetchConfig(per_host=2, allow_private_networks=("127.0.0.0/8",))
    fetch_all([FetchRequest(feed_server.url(f"/feed?{i}")) for i in range(10)], config)
    assert feed_server.count("/feed") == 10
    assert feed_server.connections() <= 2


@pytest.mark.parametrize("answer", ["304", "redirect"])
def test_304s_and_redirects_keep_the_connection_alive_too(
    feed_server: FeedServer, answer: str
) -> None:
    # A warm run is all 304s: a new connection for each would double its cost.
    feed_server.route("/feed", body=RSS, etag='"v1"')
    feed_server.route("/moved", redirect="/feed", status=302)
    path = "/feed" if answer == "304" else "/moved"
    config = FetchConfig(per_host=2, allow_private_networks=("127.0.0.0/8",))
    requests = [FetchRequest(feed_server.url(f"{path}?{i}"), etag='"v1"') for i in range(10)]
    results = fetch_all(requests, config)
    assert all(r.outcome is FetchOutcome.NOT_MODIFIED for r in results)
    assert feed_server.connections() <= 2


def test_global_limit_is_honoured(feed_server: FeedServer) -> None:
    feed_server.route("/feed", body=RSS, delay=0.1)
    config = FetchConfig(per_host=2, concurrency=3, allow_private_networks=("127.0.0.0/8",))
    requests = [FetchRequest(feed_server.url("/feed", host=f"127.0.0.{i}")) for i in range(2, 10)]
    results = fetch_all(requests, config)
    assert len(results) == 8
    assert all(r.outcome is FetchOutcome.OK for r in results)
    assert feed_server.max_in_flight() == 3


def test_many_sources_on_many_hosts(feed_server: FeedServer) -> None:
    feed_server.route("/feed", body=RSS)
    urls = [feed_server.url(f"/feed?{i}", host=f"127.0.0.{2 + i % 20}") for i in range(200)]
    results = fetch_all([FetchRequest(u) for u in urls])
    assert sorted(r.final_url for r in results) == sorted(urls)
    assert all(r.body == RSS for r in results)


# -- local files ----------------------------------------------------------------------


def test_local_path_is_read_relative_to_base_dir(tmp_path: Path) -> None:
    (tmp_path / "feeds").mkdir()
    (tmp_path / "feeds" / "house.xml").write_bytes(RSS)
    result = fetch("feeds/house.xml", base_dir=tmp_path)
    assert result.outcome is FetchOutcome.OK
    assert result.body == RSS
    assert result.final_url == (tmp_path / "feeds" / "house.xml").as_uri()


def test_file_url_is_read(tmp_path: Path) -> None:
    path = tmp_path / "лента.xml"  # non-ASCII names survive the URL round trip
    path.write_bytes(RSS)
    assert fetch(path.as_uri()).body == RSS


def test_local_file_reports_last_modified_and_honours_it(tmp_path: Path) -> None:
    path = tmp_path / "feed.xml"
    path.write_bytes(RSS)
    os.utime(path, (1_700_000_000, 1_700_000_000))
    first = fetch(str(path))
    assert first.headers["last-modified"] == formatdate(1_700_000_000, usegmt=True)

    again = fetch(FetchRequest(str(path), last_modified=first.headers["last-modified"]))
    assert again.outcome is FetchOutcome.NOT_MODIFIED
    assert again.body is None

    os.utime(path, (1_700_000_100, 1_700_000_100))
    changed = fetch(FetchRequest(str(path), last_modified=first.headers["last-modified"]))
    assert changed.outcome is FetchOutcome.OK


def test_local_file_etag_changes_with_the_file(tmp_path: Path) -> None:
    path = tmp_path / "feed.xml"
    path.write_bytes(RSS)
    etag = fetch(str(path)).headers["etag"]
    assert fetch(FetchRequest(str(path), etag=etag)).outcome is FetchOutcome.NOT_MODIFIED
    path.write_bytes(RSS + b"\n")
    assert fetch(FetchRequest(str(path), etag=etag)).outcome is FetchOutcome.OK


def test_missing_local_file_is_an_error(tmp_path: Path) -> None:
    result = fetch("nope.xml", base_dir=tmp_path)
    assert result.outcome is FetchOutcome.ERROR
    assert result.error == f"file not found: {tmp_path / 'nope.xml'}"


def test_a_missing_file_named_like_a_web_address_says_how_to_write_one(tmp_path: Path) -> None:
    # An editor's "url: tengrinews.kz/news.rss" (no https://) is a path to a local file.
    result = fetch("tengrinews.kz/news.rss", base_dir=tmp_path)
    assert result.error == (
        f"file not found: {tmp_path / 'tengrinews.kz/news.rss'}; "
        "if it is a web address, write https://tengrinews.kz/news.rss"
    )
    # A site's address alone too, as an address bar shows it; a file's name is a file's.
    assert fetch("tengrinews.kz", base_dir=tmp_path).error.endswith(
        "; if it is a web address, write https://tengrinews.kz"
    )
    assert fetch("news.xml", base_dir=tmp_path).error == f"file not found: {tmp_path / 'news.xml'}"
    for path in ("feeds/nope.xml", "feeds.d/nope.xml", "nope.xml"):
        assert "web address" not in fetch(path, base_dir=tmp_path).error, path


def test_local_file_over_the_cap_is_refused(tmp_path: Path) -> None:
    (tmp_path / "big.xml").write_bytes(b"x" * 2048)
    config = FetchConfig(max_body_bytes=1024)
    result = fetch("big.xml", config, base_dir=tmp_path)
    assert result.outcome is FetchOutcome.ERROR
    assert result.error.startswith("file larger than 1 KB: ")
