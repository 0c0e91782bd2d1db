"""The HTTP/1.1 transport on the wire: framing, keep-alive, and servers that misbehave.

Each test's server is a raw socket on 127.0.0.1 that answers every request on a
connection with the bytes the test gives, so that framings and faults a well-behaved
server never produces can be sent.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Callable

import httpx
import pytest

from aggregator.ingest import transport as transport_module
from aggregator.ingest.netguard import NetworkPolicy
from aggregator.ingest.transport import MAX_HEADER_BYTES, GuardedTransport, tls_context

LOOPBACK = NetworkPolicy(["127.0.0.0/8"])


class RawServer:
    """Accepts connections; ``answer(n)`` gives the bytes for the n-th request of the
    server (0-based) and whether to close the connection after them."""

    def __init__(self, answer: Callable[[int], tuple[bytes, bool]]) -> None:
        self.answer = answer
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.connections = 0
        self.requests: list[bytes] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, path: str = "/feed") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            buffer = b""
            while True:
                while b"\r\n\r\n" not in buffer:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buffer += data
                head, _, buffer = buffer.partition(b"\r\n\r\n")
                self.requests.append(head)
                data, close = self.answer(len(self.requests) - 1)
                try:
                    conn.sendall(data)
                except OSError:
                    return
                if close:
                    return

    def close(self) -> None:
        self.listener.close()


@pytest.fixture
def raw_server():
    servers: list[RawServer] = []

    def start(answer: Callable[[int], tuple[bytes, bool]]) -> RawServer:
        servers.append(RawServer(answer))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def get_all(urls: list[str], policy: NetworkPolicy = LOOPBACK) -> list[tuple[int, bytes]]:
    """GET each URL in turn through one transport; status and whole body of each."""

    async def run() -> list[tuple[int, bytes]]:
        transport = GuardedTransport(policy, tls_context)
        results = []
        try:
            for url in urls:
                response = await transport.send("GET", url, [("Accept", "*/*")], None)
                try:
                    body = b"".join([chunk async for chunk in response.stream])
                finally:
                    await response.aclose()
                results.append((response.status_code, body))
        finally:
            await transport.aclose()
        return results

    return asyncio.run(run())


OK = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"


def test_requests_to_one_host_share_a_kept_alive_connection(raw_server) -> None:
    server = raw_server(lambda n: (OK, False))
    assert get_all([server.url()] * 3) == [(200, b"hello")] * 3
    assert server.connections == 1
    assert server.requests[0].startswith(b"GET /feed HTTP/1.1\r\nHost: 127.0.0.1:")


def test_a_chunked_body_is_read_whole(raw_server) -> None:
    chunked = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n"
    )
    server = raw_server(lambda n: (chunked, False))
    assert get_all([server.url()] * 2) == [(200, b"abcdefg")] * 2
    assert server.connections == 1


def test_a_body_ended_by_closing_the_connection_is_read_whole(raw_server) -> None:
    server = raw_server(lambda n: (b"HTTP/1.1 200 OK\r\n\r\nto the end", True))
    assert get_all([server.url()] * 2) == [(200, b"to the end")] * 2
    assert server.connections == 2


def test_a_kept_alive_connection_the_server_closed_is_replaced(raw_server) -> None:
    # The server closes after each answer without saying so: the next request finds
    # the connection gone and is sent again on a new one.
    server = raw_server(lambda n: (OK, True))
    assert get_all([server.url()] * 3) == [(200, b"hello")] * 3
    assert server.connections == 3


def test_a_connection_closed_before_any_answer_is_an_error(raw_server) -> None:
    server = raw_server(lambda n: (b"", True))
    with pytest.raises(httpx.ReadError, match="disconnected without a response"):
        get_all([server.url()])


def test_a_body_cut_short_is_an_error(raw_server) -> None:
    server = raw_server(lambda n: (b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort", True))
    with pytest.raises(httpx.RemoteProtocolError, match="incomplete body"):
        get_all([server.url()])


def test_endless_headers_are_cut_off(raw_server) -> None:
    header = b"X-Filler: " + b"x" * 1000 + b"\r\n"
    flood = b"HTTP/1.1 200 OK\r\n" + header * (MAX_HEADER_BYTES // len(header) + 2)
    server = raw_server(lambda n: (flood, False))
    with pytest.raises(httpx.RemoteProtocolError, match="response headers over"):
        get_all([server.url()])


def test_a_malformed_response_is_a_protocol_error(raw_server) -> None:
    server = raw_server(lambda n: (b"SPDY/9 banana\r\n\r\n", True))
    with pytest.raises(httpx.RemoteProtocolError, match="malformed response"):
        get_all([server.url()])


def test_an_interim_response_is_skipped(raw_server) -> None:
    server = raw_server(lambda n: (b"HTTP/1.1 100 Continue\r\n\r\n" + OK, False))
    assert get_all([server.url()]) == [(200, b"hello")]


def test_a_line_break_in_a_header_is_never_sent(raw_server) -> None:
    server = raw_server(lambda n: (OK, False))

    async def run() -> None:
        transport = GuardedTransport(LOOPBACK, tls_context)
        try:
            await transport.send("GET", server.url(), [("X-Evil", "a\r\nHost: other")], None)
        finally:
            await transport.aclose()

    with pytest.raises(httpx.LocalProtocolError, match="line break"):
        asyncio.run(run())
    assert server.requests == []


def test_a_name_is_resolved_once_for_connections_made_together(raw_server, monkeypatch) -> None:
    server = raw_server(lambda n: (OK, True))  # every request needs a new connection
    lookups = []
    resolve = transport_module.resolve

    async def counted(host, port, policy):
        lookups.append(host)
        return await resolve(host, port, policy)

    monkeypatch.setattr(transport_module, "resolve", counted)
    url = server.url().replace("127.0.0.1", "localhost")
    assert get_all([url] * 3, NetworkPolicy(["127.0.0.0/8", "::1/128"])) == [(200, b"hello")] * 3
    assert server.connections == 3
    assert lookups == ["localhost"]
