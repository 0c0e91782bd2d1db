"""An httpx transport over aiohttp, connecting only where the SSRF policy allows.

httpx stays the API that fetch.py speaks (requests, responses, streamed bodies);
this module moves the bytes.  httpx's own transport (httpcore over h11) parses
HTTP in pure Python and made a warm run (every feed answering 304) slower than a
thread-per-feed peer; aiohttp parses in C and keeps its pool in a dict per host.

The SSRF guarantees, kept at two points:

* the connector's resolver (:class:`GuardedResolver`) resolves the name itself and
  returns only the addresses the policy allows, so aiohttp connects to a checked
  address and never looks the name up again;
* every socket is made by :func:`_guarded_socket`, which checks the very address
  it is about to connect to: this also covers IP literals, which aiohttp does not
  send through the resolver.

Nothing is decompressed here (``auto_decompress=False``): fetch.py inflates with a
bound on every step.  No timeouts here either: fetch.py's deadline covers the
whole request.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import ssl
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import httpx

from aggregator.ingest.netguard import NetworkPolicy, resolve


def _import_aiohttp_without_its_default_contexts() -> None:
    """Import aiohttp without loading a CA store for TLS contexts we never use.

    On import, aiohttp makes two default SSL contexts from the system's CA store
    (~0.1 s of a warm run's CPU).  Every https request here passes its own context
    (tls_context()), so they are made over an empty store: were one ever used, it
    would refuse every certificate, never accept one.
    """
    if "aiohttp" in sys.modules:
        return
    names = ("SSL_CERT_FILE", "SSL_CERT_DIR")
    saved = {name: os.environ.get(name) for name in names}
    try:
        for name in names:
            os.environ[name] = os.devnull
        import aiohttp  # noqa: F401
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


_import_aiohttp_without_its_default_contexts()

import aiohttp  # noqa: E402
from aiohttp.abc import AbstractResolver, ResolveResult  # noqa: E402
from yarl import URL  # noqa: E402


class GuardedResolver(AbstractResolver):
    """Resolves a name to the addresses ``policy`` allows (AddressRefused if none)."""

    def __init__(self, policy: NetworkPolicy) -> None:
        self.policy = policy

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        addresses = await resolve(host, port, self.policy)
        return [
            {
                "hostname": host,
                "host": str(address),
                "port": port,
                "family": socket.AF_INET6 if address.version == 6 else socket.AF_INET,
                "proto": 0,
                "flags": socket.AI_NUMERICHOST,
            }
            for address in addresses
        ]

    async def close(self) -> None:
        pass


def _guarded_socket(policy: NetworkPolicy):
    def make(addr_info: tuple[Any, ...]) -> socket.socket:
        family, type_, proto, _, sockaddr = addr_info
        policy.check(ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0]))
        return socket.socket(family=family, type=type_, proto=proto)

    return make


def tls_context() -> ssl.SSLContext:
    """Certificate checking for https, as httpx does it: certifi's bundle, or the
    PEM bundle SSL_CERT_FILE names (a private CA).  Loading one costs ~70 ms."""
    return httpx.create_ssl_context()


def new_session(policy: NetworkPolicy) -> aiohttp.ClientSession:
    """A session whose connections reach only what ``policy`` allows.

    No connection limit of its own: the caller's semaphores bound what is in flight.
    trust_env=False: a proxy would resolve names itself, past the guard.
    """
    connector = aiohttp.TCPConnector(
        resolver=GuardedResolver(policy),
        socket_factory=_guarded_socket(policy),
        limit=0,
        keepalive_timeout=30.0,
        ttl_dns_cache=10,
    )
    return aiohttp.ClientSession(
        connector=connector,
        timeout=aiohttp.ClientTimeout(total=None),
        trust_env=False,
        auto_decompress=False,
        skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding"),
        cookie_jar=aiohttp.DummyCookieJar(),
    )


class AiohttpTransport(httpx.AsyncBaseTransport):
    """Sends httpx requests through an aiohttp session; the body is streamed."""

    def __init__(self, session: aiohttp.ClientSession, tls: Callable[[], ssl.SSLContext]) -> None:
        self.session = session
        self._tls = tls  # called for https requests only

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
        more than aiohttp's whole request): ``url`` must be in its encoded form, as
        ``str(httpx.URL(...))`` gives it; the response has no ``.request``."""
        if method not in ("GET", "HEAD", "POST"):  # POST: WebSub pings
            raise httpx.UnsupportedProtocol(f"{method} requests are not sent")
        try:
            response = await self.session.request(
                method,
                URL(url, encoded=True),
                headers=headers,
                data=body or None,
                allow_redirects=False,
                ssl=self._tls() if url[:6].lower() == "https:" else True,
            )
        except aiohttp.ClientConnectorCertificateError as exc:
            # From the ssl module's own error, whose verify_message says what was wrong.
            raise httpx.ConnectError(_connect_reason(exc)) from exc.certificate_error
        except aiohttp.ClientConnectorError as exc:
            raise httpx.ConnectError(_connect_reason(exc)) from exc
        except aiohttp.InvalidURL as exc:
            raise httpx.InvalidURL(str(exc)) from exc
        except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError) as exc:
            raise httpx.ReadError(str(exc) or type(exc).__name__) from exc
        except aiohttp.ClientResponseError as exc:  # a malformed status line or headers
            raise httpx.RemoteProtocolError(exc.message or str(exc)) from exc
        except aiohttp.ClientError as exc:
            raise httpx.TransportError(str(exc) or type(exc).__name__) from exc
        return httpx.Response(
            status_code=response.status,
            headers=response.raw_headers,
            stream=_ResponseStream(response),
            extensions={
                "http_version": b"HTTP/1.1",
                "reason_phrase": (response.reason or "").encode("latin-1", "replace"),
            },
        )

    async def aclose(self) -> None:
        await self.session.close()


class _ResponseStream(httpx.AsyncByteStream):
    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._response.content.iter_any():
                yield chunk
        except aiohttp.ClientPayloadError as exc:
            raise httpx.RemoteProtocolError(str(exc) or "incomplete body") from exc
        except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError) as exc:
            raise httpx.ReadError(str(exc) or type(exc).__name__) from exc

    async def aclose(self) -> None:
        # A body read to its end returns the connection to the pool; one left half
        # read closes it.
        self._response.release()


def _connect_reason(exc: aiohttp.ClientConnectorError) -> str:
    """ "127.0.0.1 port 9: Connection refused", not aiohttp's wrapper text."""
    cause = exc.os_error
    if isinstance(cause, socket.gaierror) or isinstance(exc, aiohttp.ClientConnectorDNSError):
        return f"cannot resolve {exc.host}: {cause.strerror or cause}"
    if isinstance(exc, aiohttp.ClientConnectorCertificateError | aiohttp.ClientSSLError):
        return f"{exc.host} port {exc.port}: {cause}"
    reason = os.strerror(cause.errno) if cause.errno else str(cause) or type(cause).__name__
    return f"{exc.host} port {exc.port}: {reason}"
