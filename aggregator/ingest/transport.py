"""An httpx transport that speaks HTTP/1.1 itself, connecting only where the SSRF policy allows.

httpx stays the API that fetch.py speaks (requests, responses, streamed bodies);
this module moves the bytes.  httpx's own transport (httpcore over h11) parses HTTP
in pure Python and made a warm run (every feed answering 304) slower than a
thread-per-feed peer; aiohttp, tried next, costs ~0.25 s to import and ~0.3 ms a
request of its own machinery.  Here a request is one write and the response is
parsed by httptools (llhttp, the C parser of Node.js), so a conditional GET costs
a few dozen microseconds of Python.

The SSRF guarantees, kept in one place (:meth:`GuardedTransport._connect`): the name
is resolved by :func:`aggregator.ingest.netguard.resolve`, which returns only the
addresses the policy allows (and checks IP literals, in every spelling), and the
socket connects to exactly such an address; nothing looks the name up again.  A
host's checked addresses serve its new connections for DNS_TTL seconds.

Connections are kept alive per (scheme, host, port) while this transport lives;
fetch.py keeps one transport per host and network policy.  Nothing is decompressed
here: fetch.py inflates with a bound on every step.  No timeouts here either:
fetch.py's deadline covers the whole request, and a cancelled request closes its
connection.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import functools
import os
import socket
import ssl
from collections.abc import AsyncIterator, Callable, Sequence
from urllib.parse import SplitResult, unquote, urlsplit

import httptools
import httpx

from aggregator.ingest.netguard import AddressRefused, IPAddress, NetworkPolicy, resolve

# A server that sends endless headers is cut off here (aiohttp's and h11's limits are
# of the same order); the body has fetch.py's own cap.
MAX_HEADER_BYTES = 64 * 1024
# Body bytes buffered before reading from the socket pauses until fetch.py catches up.
_HIGH_WATER = 1024 * 1024
# How long a host's checked addresses serve new connections (aiohttp's default too): a
# burst of fetches from one site resolves its name once, not once per connection.
DNS_TTL = 10.0
_DEFAULT_PORTS = {"http": 80, "https": 443}


@functools.lru_cache(maxsize=4096)
def split_url(url: str) -> SplitResult:
    """``urlsplit``, remembered: fetch.py and the transport both look at every URL of
    a request (scheme, host, then the request target), a thousand URLs a run."""
    return urlsplit(url)


def tls_context() -> ssl.SSLContext:
    """Certificate checking for https, as httpx does it: certifi's bundle, or the
    PEM bundle SSL_CERT_FILE names (a private CA).  Loading one costs ~70 ms."""
    return httpx.create_ssl_context()


class GuardedTransport(httpx.AsyncBaseTransport):
    """HTTP/1.1 over connections that reach only what ``policy`` allows.

    ``tls`` is called for https requests only (loading a CA bundle costs ~70 ms).
    No connection limit of its own: the caller's semaphores bound what is in flight.
    """

    def __init__(self, policy: NetworkPolicy, tls: Callable[[], ssl.SSLContext]) -> None:
        self.policy = policy
        self._tls = tls
        self._idle: dict[tuple[str, str, int], list[_Connection]] = {}
        self._resolved: dict[tuple[str, int], tuple[float, asyncio.Future[list[IPAddress]]]] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.send(
            request.method, str(request.url), request.headers.multi_items(), request.content
        )
        response.request = request
        return response

    async def send(
        self, method: str, url: str, headers: Sequence[tuple[str, str]], body: bytes | None
    ) -> httpx.Response:
        """One request, without building an ``httpx.Request`` (its URL parsing costs
        more than the whole request here): ``url`` must be in its encoded form, as
        ``str(httpx.URL(...))`` gives it; the response has no ``.request``."""
        if method not in ("GET", "POST"):  # POST: WebSub pings
            raise httpx.UnsupportedProtocol(f"{method} requests are not sent")
        try:
            split = split_url(url)
            scheme = split.scheme.lower()
            host = split.hostname
            port = split.port or _DEFAULT_PORTS.get(scheme)
        except ValueError as exc:
            raise httpx.InvalidURL(f"{url}: {exc}") from None
        if scheme not in _DEFAULT_PORTS:
            raise httpx.UnsupportedProtocol(f"{scheme!r} URLs are not fetched: {url}")
        if not host or port is None:
            raise httpx.InvalidURL(f"no host in {url}")
        key = (scheme, host, port)
        head = _request_head(method, split, headers, body)
        while True:
            connection = self._take_idle(key)
            reused = connection is not None
            if connection is None:
                connection = await self._connect(scheme, host, port)
            try:
                return await connection.request(head, body, self, key)
            except _Stale:
                # The server closed a kept-alive connection as we sent on it: the
                # request never reached it, so a new connection may send it again.
                if not reused:
                    raise httpx.ReadError("server disconnected without a response") from None

    def _take_idle(self, key: tuple[str, str, int]) -> _Connection | None:
        idle = self._idle.get(key)
        while idle:
            connection = idle.pop()
            if connection.reusable():
                return connection
            connection.close()
        return None

    def _release(self, key: tuple[str, str, int], connection: _Connection) -> None:
        self._idle.setdefault(key, []).append(connection)

    async def _addresses(self, host: str, port: int) -> list[IPAddress]:
        """The addresses of ``host`` the policy allows (AddressRefused if none), resolved
        at most once per DNS_TTL; callers at the same moment share one lookup."""
        loop = asyncio.get_running_loop()
        key = (host, port)
        entry = self._resolved.get(key)
        if entry is None or entry[0] < loop.time():
            lookup = asyncio.ensure_future(resolve(host, port, self.policy))
            lookup.add_done_callback(_retrieve)
            entry = self._resolved[key] = (loop.time() + DNS_TTL, lookup)
        try:
            return await asyncio.shield(entry[1])
        except (OSError, AddressRefused):
            if self._resolved.get(key) is entry:  # a failure is asked again next time
                del self._resolved[key]
            raise

    async def _connect(self, scheme: str, host: str, port: int) -> _Connection:
        """A connection to ``host``, made to an address the policy allows."""
        try:
            addresses = await self._addresses(host, port)  # AddressRefused, checked
        except socket.gaierror as exc:
            raise httpx.ConnectError(f"cannot resolve {host}: {exc.strerror or exc}") from exc
        loop = asyncio.get_running_loop()
        failure: OSError | None = None
        for address in addresses:
            family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
            sock = socket.socket(family, socket.SOCK_STREAM)
            try:
                sock.setblocking(False)
                await loop.sock_connect(sock, (str(address), port))
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError as exc:
                sock.close()
                failure = exc
                continue
            except BaseException:
                sock.close()
                raise
            tls = self._tls() if scheme == "https" else None
            try:
                _, connection = await loop.create_connection(
                    _Connection, sock=sock, ssl=tls, server_hostname=host if tls else None
                )
            except ssl.SSLError as exc:  # a certificate's verify_message says what was wrong
                sock.close()
                raise httpx.ConnectError(f"{host} port {port}: {exc}") from exc
            except OSError as exc:
                sock.close()
                raise httpx.ConnectError(f"{host} port {port}: {_reason(exc)}") from exc
            except BaseException:
                sock.close()
                raise
            return connection
        assert failure is not None
        raise httpx.ConnectError(f"{host} port {port}: {_reason(failure)}") from failure

    async def aclose(self) -> None:
        for _, lookup in self._resolved.values():
            lookup.cancel()
        self._resolved = {}
        idle, self._idle = self._idle, {}
        for connections in idle.values():
            for connection in connections:
                connection.close()


def _retrieve(lookup: asyncio.Future) -> None:
    """A shared lookup's failure is its callers' to report; none left is no warning."""
    if not lookup.cancelled():
        lookup.exception()


def _reason(exc: OSError) -> str:
    """ "Connection refused", not "[Errno 111] Connect call failed (...)"."""
    return os.strerror(exc.errno) if exc.errno else str(exc) or type(exc).__name__


def _request_head(
    method: str, split, headers: Sequence[tuple[str, str]], body: bytes | None
) -> bytes:
    target = split.path or "/"
    if split.query:
        target += "?" + split.query
    host = split.netloc.rpartition("@")[2]
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}"]
    names = set()
    for name, value in headers:
        if "\r" in name or "\n" in name or "\r" in value or "\n" in value:
            raise httpx.LocalProtocolError(f"line break in the request header {name!r}")
        names.add(name.lower())
        lines.append(f"{name}: {value}")
    if split.username is not None and "authorization" not in names:
        user = f"{unquote(split.username)}:{unquote(split.password or '')}"
        lines.append("Authorization: Basic " + base64.b64encode(user.encode()).decode())
    if body is not None or method == "POST":
        lines.append(f"Content-Length: {len(body or b'')}")
    text = "\r\n".join(lines) + "\r\n\r\n"
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8")


class _Stale(Exception):
    """A reused connection was closed by the server before any response byte."""


class _Connection(asyncio.Protocol):
    """One HTTP/1.1 connection: one request at a time, the response parsed by llhttp."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self._exchange: _Exchange | None = None

    # -- asyncio.Protocol -------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        exchange = self._exchange
        if exchange is None:  # bytes nobody asked for: the connection is not reusable
            self.close()
            return
        exchange.feed(data)

    def eof_received(self) -> bool:
        return False  # close the transport; connection_lost follows

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._exchange is not None:
            self._exchange.lost(exc)

    def pause_writing(self) -> None:  # a request head is small: nothing to pace
        pass

    def resume_writing(self) -> None:
        pass

    # -- for the transport ------------------------------------------------------

    def reusable(self) -> bool:
        return not self.closed and self.transport is not None and not self.transport.is_closing()

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    async def request(
        self, head: bytes, body: bytes | None, pool: GuardedTransport, key: tuple[str, str, int]
    ) -> httpx.Response:
        assert self.transport is not None
        exchange = self._exchange = _Exchange(self, pool, key)
        try:
            self.transport.write(head + body if body else head)
            await exchange.headers_done
        except BaseException:
            self._exchange = None
            self.close()
            raise
        return httpx.Response(
            status_code=exchange.status,
            headers=exchange.headers,
            stream=BodyStream(exchange),
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": exchange.reason},
        )

    def finished(self, exchange: _Exchange, reuse: bool) -> None:
        if exchange.ended:
            return
        exchange.ended = True
        if self._exchange is exchange:
            self._exchange = None
        if reuse and self.reusable():
            exchange.pool._release(exchange.key, self)
        else:
            self.close()


class _Exchange:
    """One response as it arrives: llhttp's callbacks fill it, the body stream drains it."""

    def __init__(self, connection: _Connection, pool: GuardedTransport, key: tuple) -> None:
        self.connection = connection
        self.pool = pool
        self.key = key
        loop = asyncio.get_running_loop()
        self.headers_done: asyncio.Future[None] = loop.create_future()
        self.parser = httptools.HttpResponseParser(self)
        self.status = 0
        self.reason = b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.header_bytes = 0
        self.received = False  # any byte of the response
        self.chunks: collections.deque[bytes] = collections.deque()
        self.buffered = 0
        self.complete = False
        self.keep_alive = False
        self.error: BaseException | None = None
        self.waiter: asyncio.Future[None] | None = None
        self.paused = False
        self.ended = False  # handed back to the connection

    # -- fed by the connection --------------------------------------------------

    def feed(self, data: bytes) -> None:
        self.received = True
        if not self.headers_done.done():
            self.header_bytes += len(data)
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self.fail(httpx.RemoteProtocolError("the server switched protocols"))
            return
        except httptools.HttpParserError as exc:
            self.fail(httpx.RemoteProtocolError(f"malformed response: {exc}"))
            return
        if not self.headers_done.done() and self.header_bytes > MAX_HEADER_BYTES:
            self.fail(httpx.RemoteProtocolError(f"response headers over {MAX_HEADER_BYTES} bytes"))
        elif self.buffered > _HIGH_WATER and not self.paused and not self.complete:
            self.paused = True
            self.connection.transport.pause_reading()

    def lost(self, exc: Exception | None) -> None:
        if self.complete:
            return
        if self.headers_done.done() and self._ends_at_close():
            self.on_message_complete()  # a body delimited by the end of the connection
            return
        if not self.received:
            self.fail(_Stale())
        elif not self.headers_done.done():
            self.fail(httpx.RemoteProtocolError("the server closed the connection mid-headers"))
        else:
            message = "incomplete body: the server closed the connection"
            if exc is not None:
                message += f" ({_describe(exc)})"
            self.fail(httpx.RemoteProtocolError(message))

    def _ends_at_close(self) -> bool:
        names = {name.lower() for name, _ in self.headers}
        return b"content-length" not in names and b"transfer-encoding" not in names

    def fail(self, error: BaseException) -> None:
        if self.error is None and not self.complete:
            self.error = error
        if not self.headers_done.done():
            self.headers_done.set_exception(error)
            self.headers_done.exception()  # retrieved: a cancelled waiter may never look
        self._wake()
        self.connection.finished(self, reuse=False)

    def _wake(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    # -- llhttp callbacks -------------------------------------------------------

    def on_status(self, reason: bytes) -> None:
        self.reason += reason

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        status = self.parser.get_status_code()
        if 100 <= status < 200:  # an interim response: the real one follows
            self.headers, self.reason = [], b""
            return
        self.status = status
        if not self.headers_done.done():
            self.headers_done.set_result(None)

    def on_body(self, body: bytes) -> None:
        self.chunks.append(body)
        self.buffered += len(body)
        self._wake()

    def on_message_complete(self) -> None:
        if self.status == 0:  # the end of an interim response
            return
        self.complete = True
        self.keep_alive = self.parser.should_keep_alive()
        self._wake()

    # -- drained by the body stream ---------------------------------------------

    async def chunks_of_body(self) -> AsyncIterator[bytes]:
        while True:
            if self.chunks:
                chunk = self.chunks.popleft()
                self.buffered -= len(chunk)
                if self.paused and self.buffered < _HIGH_WATER // 2:
                    self.paused = False
                    self.connection.transport.resume_reading()
                yield chunk
            elif self.error is not None:
                raise self.error
            elif self.complete:
                return
            else:
                self.waiter = asyncio.get_running_loop().create_future()
                await self.waiter
                self.waiter = None

    def close(self) -> None:
        """The caller is done: a body read to its end leaves the connection for the
        next request; one left half read closes it."""
        done = self.complete and self.error is None and not self.chunks
        self.connection.finished(self, reuse=done and self.keep_alive)


def _describe(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


class BodyStream(httpx.AsyncByteStream):
    """A response body as it arrives on its connection."""

    def __init__(self, exchange: _Exchange) -> None:
        self._exchange = exchange

    def at_end(self) -> bool:
        """Whether the whole body has arrived and been read: nothing left to drain (a
        304's empty body, mostly)."""
        exchange = self._exchange
        return exchange.complete and not exchange.chunks

    def close(self) -> None:
        """``aclose`` without a coroutine: ending an exchange never waits."""
        self._exchange.close()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._exchange.chunks_of_body():
            yield chunk

    async def aclose(self) -> None:
        self._exchange.close()
