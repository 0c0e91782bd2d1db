"""Fetch stage: HTTP(S) URLs and local files -> FetchResult.

One :class:`Fetcher` per run.  ``fetch()`` never raises for a bad source: whatever
goes wrong (network, deadline, size cap, SSRF refusal, HTTP status) becomes a
FetchResult with outcome ERROR and a message saying what went wrong and where.

Guards, each because a feed URL is input we do not control:

* one deadline for the whole request (connect, headers, body, every redirect hop),
  so a server dripping a byte a second cannot hold a worker for long;
* a cap on the body *after* decompression, enforced while inflating, so a small
  gzip bomb is refused without ever being held in memory;
* the SSRF policy of :mod:`aggregator.netguard`, checked on the resolved address
  of every connection, redirects included;
* redirects followed by hand, at most ``max_redirects``, to http(s) only.

Requests and responses are httpx's; they travel over our own HTTP/1.1 transport (see
:mod:`aggregator.ingest.transport`: its HTTP parser is C, httpcore's is Python).
Connections are pooled per host: a host's pool is closed when its last queued
fetch ends, so open sockets track requests in flight, not the number of hosts.
Pools are also kept per network policy, so a connection opened for a source
allowed to reach a private network is never reused by one that is not.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import re
import ssl
import time
import zlib
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import formatdate, parsedate_to_datetime
from http import HTTPStatus
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

import httpx

from aggregator import __version__
from aggregator.config import FetchConfig
from aggregator.ingest.netguard import AddressRefused, NetworkPolicy, parse_networks
from aggregator.ingest.transport import BodyStream, GuardedTransport, split_url, tls_context
from aggregator.models import FetchOutcome, FetchRequest, FetchResult, HostHold
from aggregator.text.counts import counted
from aggregator.text.urls import looks_like_web_address

log = logging.getLogger(__name__)

DEFAULT_USER_AGENT = f"aggregator/{__version__} (+https://github.com/eurasia24/aggregator)"
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, "
    "application/json;q=0.9, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.8"
)
# Only what _Decoder can inflate with a bounded output size.
ACCEPT_ENCODING = "gzip, deflate"

_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_PERMANENT_STATUSES = frozenset({301, 308})
_RETRY_LATER_STATUSES = frozenset({429, 503})
# Sent only to the origin the source names, not to whoever it redirects to.
_ORIGIN_ONLY_HEADERS = ("authorization", "cookie")


# A response body read to its end lets the pool keep the connection alive; one
# closed half-read costs a new connection.  Redirect and 304 bodies are tiny, but
# a hostile one could be endless: past this many bytes, dropping it is cheaper.
_DRAIN_LIMIT = 64 * 1024


async def _drain(response: httpx.Response) -> None:
    if isinstance(response.stream, BodyStream) and response.stream.at_end():
        return
    read = 0
    async for chunk in response.stream:  # raw bytes; httpx's aiter_raw costs more than a 304
        read += len(chunk)
        if read > _DRAIN_LIMIT:
            return


def _header_dict(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    """Response headers by lowercased name; a repeated header's values joined by ", "
    (as httpx.Headers.items() gives them)."""
    headers: dict[str, str] = {}
    for name, value in raw:
        key, text = name.decode("latin-1").lower(), value.decode("latin-1")
        headers[key] = f"{headers[key]}, {text}" if key in headers else text
    return headers


class _Failure(Exception):
    """A fetch failed with a message ready for FetchResult.error."""


@dataclass
class _Progress:
    """How far one fetch got; what an error result reports."""

    url: str
    phase: str = "requesting"
    status_code: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    redirects: list[tuple[int, str]] = field(default_factory=list)


@dataclass
class _HostPool:
    transport: GuardedTransport
    users: int = 0  # fetches using or queued for this host


class Fetcher:
    """Fetches sources concurrently within global and per-host limits.

    Use as an async context manager; pooled connections are closed on exit::

        async with Fetcher(config.fetch, base_dir=config_dir) as fetcher:
            async for result in fetcher.fetch_many(requests):
                ...
    """

    def __init__(
        self,
        config: FetchConfig,
        *,
        base_dir: Path | None = None,
        holds_elsewhere: Callable[[str], HostHold | None] | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        """``holds_elsewhere(host)``: the hold other fetchers made of ``host`` (workers on
        other hosts, through a shared store), if any: asked before a request that had to
        wait for its slot, as a hold may have come meanwhile (one that did not wait
        starts right after its caller looked).  ``clock``: the time holds end by (the
        caller's, which made them; default: now, UTC)."""
        self.config = config
        self._clock = clock or _utc_now
        self._holds_elsewhere = holds_elsewhere
        self.base_dir = Path(base_dir) if base_dir is not None else None
        self.user_agent = config.user_agent or DEFAULT_USER_AGENT
        self._allow = parse_networks(config.allow_private_networks)
        self._policies: dict[tuple[str, ...], NetworkPolicy] = {}
        self._global_slots = asyncio.Semaphore(max(1, config.concurrency))
        self._host_slots: dict[str, asyncio.Semaphore] = {}
        self._pools: dict[tuple[NetworkPolicy, str], _HostPool] = {}
        self._tls: ssl.SSLContext | None = None
        self._fine_hosts: set[tuple[NetworkPolicy, str]] = set()
        # Hosts that answered 429/503 (the caller holds them, ``hold``): a fetch queued
        # for one sends no request, and comes back HELD.
        self._holds: dict[str, HostHold] = {}

    def hold(self, hold: HostHold) -> None:
        """Send no request to ``hold.host`` until ``hold.until`` (the later of two holds)."""
        kept = self._holds.get(hold.host)
        if kept is None or kept.until < hold.until:
            self._holds[hold.host] = hold

    def hold_of(self, url: str) -> HostHold | None:
        """The hold of the host ``url`` is fetched from, if any (a HELD result's)."""
        try:
            return self._holds.get(_host(url))
        except _Failure:
            return None

    def _hold_on(self, host: str) -> HostHold | None:
        """The hold of ``host`` that has not ended by the clock.  One that has is forgotten
        here, the one place: a fetcher outliving it (a long run, a worker) requests the
        host again, unless another fetcher holds it now (``holds_elsewhere``)."""
        hold = self._holds.get(host)
        if hold is not None and hold.until <= self._clock():
            del self._holds[host]
            return None
        return hold

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close every pooled connection."""
        pools, self._pools = list(self._pools.values()), {}
        await asyncio.gather(*(p.transport.aclose() for p in pools), return_exceptions=True)

    async def fetch_many(self, requests: Iterable[FetchRequest]) -> AsyncIterator[FetchResult]:
        """Fetch all ``requests`` concurrently; yield results as they complete.

        Each result carries its request (``result.request``).  A slow source delays
        only itself.  Leaving the loop early cancels the fetches still running.
        """
        tasks = [asyncio.ensure_future(self.fetch(r)) for r in requests]
        try:
            for next_done in asyncio.as_completed(tasks):
                yield await next_done
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def fetch(self, request: FetchRequest) -> FetchResult:
        """Fetch one source.  Never raises for a bad source; see FetchResult.error."""
        started = time.monotonic()
        try:
            try:
                scheme = split_url(request.url).scheme.lower()
            except ValueError as exc:
                return _error(request, f"invalid URL {request.url}: {exc}", started=started)
            if scheme in ("http", "https"):
                return await self._fetch_http(request)
            if scheme in ("", "file") or (len(scheme) == 1 and os.name == "nt"):
                return await asyncio.to_thread(self._fetch_file, request, started)
            return _error(
                request,
                f"unsupported URL scheme {scheme!r} in {request.url}; "
                "use an http(s) URL, a file:// URL or a path",
                started=started,
            )
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug, not a bad source: keep the run going
            log.exception("unexpected error while fetching %s", request.url)
            return _error(
                request,
                f"unexpected error while fetching {request.url}: {_describe(exc)}",
                started=started,
            )

    # -- HTTP -------------------------------------------------------------------

    async def _fetch_http(self, request: FetchRequest) -> FetchResult:
        started = time.monotonic()
        try:
            policy = self._policy(request.allow_networks)
            host = _host(request.url)
        except _Failure as exc:
            return _error(request, str(exc), started=started)
        slot = self._host_slots.get(host)
        if slot is None:
            slot = self._host_slots[host] = asyncio.Semaphore(max(1, self.config.per_host))
        # Holding the host's pool while queued keeps its connections alive for the
        # next source on that host.  Host slot before global slot: waiting for a
        # busy host must not hold a global slot.
        pool = self._enter_pool(policy, host)
        waits = slot.locked() or self._global_slots.locked()
        try:
            async with slot, self._global_slots:
                hold = self._hold_on(host)
                if hold is None and waits and self._holds_elsewhere is not None:
                    hold = self._holds_elsewhere(host)
                    if hold is not None:
                        self.hold(hold)
                if hold is not None:
                    return FetchResult(request, FetchOutcome.HELD, final_url=request.url)
                started = time.monotonic()
                timeout = request.timeout if request.timeout is not None else self.config.timeout
                progress = _Progress(url=request.url)
                deadline = asyncio.timeout(timeout)
                try:
                    async with deadline:
                        return await self._follow(
                            request, policy, progress, started, pool.transport
                        )
                except TimeoutError:
                    if not deadline.expired():
                        raise
                    message = (
                        f"deadline of {timeout:g} s exceeded while {progress.phase} {progress.url}"
                    )
                except (_Failure, AddressRefused) as exc:
                    message = str(exc)
                except httpx.ConnectError as exc:
                    rejected = _certificate_error(exc)
                    if rejected is not None:
                        message = _certificate_message(progress.url, rejected)
                    else:
                        message = f"could not connect to {progress.url}: {_describe(exc)}"
                except httpx.ProtocolError as exc:
                    message = f"bad HTTP response from {progress.url}: {_describe(exc)}"
                except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
                    message = f"invalid URL {progress.url}: {_describe(exc)}"
                except httpx.TransportError as exc:
                    message = (
                        f"connection failed while {progress.phase} {progress.url}: {_describe(exc)}"
                    )
                except zlib.error as exc:
                    message = f"could not decompress the body of {progress.url}: {exc}"
                return _error(request, message, started=started, progress=progress)
        finally:
            await self._leave_pool(policy, host, pool)

    def _policy(self, allow_networks: tuple[str, ...]) -> NetworkPolicy:
        key = tuple(sorted(allow_networks))
        policy = self._policies.get(key)
        if policy is None:
            try:
                extra = parse_networks(allow_networks)
            except ValueError as exc:
                raise _Failure(f"in the source's allow_private_networks: {exc}") from None
            policy = self._policies[key] = NetworkPolicy(self._allow + extra)
        return policy

    @contextlib.asynccontextmanager
    async def _pool(self, policy: NetworkPolicy, host: str) -> AsyncIterator[GuardedTransport]:
        """The transport (connection pool) for ``host``, closed when its last user is done.

        Closing then bounds open sockets by what is in flight, not by the number
        of hosts in a run (1,000 idle keep-alive sockets would hit ulimit -n).
        """
        pool = self._enter_pool(policy, host)
        try:
            yield pool.transport
        finally:
            await self._leave_pool(policy, host, pool)

    def _enter_pool(self, policy: NetworkPolicy, host: str) -> _HostPool:
        """``_pool`` without the context manager, for the path every fetch takes."""
        key = (policy, host)
        pool = self._pools.get(key)
        if pool is None:
            pool = self._pools[key] = _HostPool(GuardedTransport(policy, self._tls_for))
        pool.users += 1
        return pool

    async def _leave_pool(self, policy: NetworkPolicy, host: str, pool: _HostPool) -> None:
        pool.users -= 1
        key = (policy, host)
        if pool.users == 0 and self._pools.get(key) is pool:
            del self._pools[key]
            await pool.transport.aclose()

    def _tls_for(self) -> ssl.SSLContext:
        """Certificate checking for https: made on the first https request of a run."""
        if self._tls is None:
            self._tls = tls_context()
        return self._tls

    def _headers(self, request: FetchRequest) -> list[tuple[str, str]]:
        """The request's headers: a source's own ones replace ours of the same name,
        except the encodings we can inflate and the validators of the stored state."""
        headers = {"user-agent": ("User-Agent", self.user_agent), "accept": ("Accept", ACCEPT)}
        for name, value in request.headers.items():
            headers[name.lower()] = (name, value)
        headers["accept-encoding"] = ("Accept-Encoding", ACCEPT_ENCODING)
        if request.etag:
            headers["if-none-match"] = ("If-None-Match", request.etag)
        if request.last_modified:
            headers["if-modified-since"] = ("If-Modified-Since", request.last_modified)
        return list(headers.values())

    def _check_literal(self, policy: NetworkPolicy, host: str) -> None:
        """Refuse spellings like 0177.0.0.1 that URL parsers pass; a host once found
        fine (a name, or an allowed address) is not parsed again."""
        if (policy, host) not in self._fine_hosts:
            policy.check_literal(host)
            self._fine_hosts.add((policy, host))

    async def _follow(
        self,
        request: FetchRequest,
        policy: NetworkPolicy,
        progress: _Progress,
        started: float,
        first: GuardedTransport,
    ) -> FetchResult:
        """Request ``request.url`` (over ``first``, its host's pool, held by the caller),
        following redirects; the deadline is the caller's."""
        headers = self._headers(request)
        url = request.url
        first_host = _host(url)
        while True:
            progress.url, progress.phase = url, "requesting"
            if split_url(url).scheme.lower() not in ("http", "https"):
                raise _Failure(f"refused redirect to {url}: only http and https URLs are fetched")
            host = _host(url)
            self._check_literal(policy, host)
            if host == first_host:
                outcome = await self._hop(request, first, url, headers, progress, started)
            else:
                async with self._pool(policy, host) as transport:
                    outcome = await self._hop(request, transport, url, headers, progress, started)
            if isinstance(outcome, FetchResult):
                return outcome
            url = outcome

    async def _hop(
        self,
        request: FetchRequest,
        transport: GuardedTransport,
        url: str,
        headers: list[tuple[str, str]],
        progress: _Progress,
        started: float,
    ) -> FetchResult | str:
        """One request of a fetch: its result, or where a redirect leads."""
        # Straight to the transport: httpx's client would add a cookie jar shared by
        # every source on a host, and costs more than the request.
        response = await transport.send(request.method, _encoded(url), headers, request.body)
        try:
            progress.status_code = response.status_code
            progress.headers = _header_dict(response.headers.raw)
            if response.status_code not in _REDIRECT_STATUSES:
                return await self._result(request, response, progress, started)
            next_url = self._redirect(request, response, progress, headers)
            await _drain(response)
            return next_url
        finally:
            if isinstance(response.stream, BodyStream):  # httpx's aclose costs more than a 304
                response.stream.close()
            else:
                await response.aclose()

    def _redirect(
        self,
        request: FetchRequest,
        response: httpx.Response,
        progress: _Progress,
        headers: list[tuple[str, str]],
    ) -> str:
        """Record a redirect hop and return where it leads; raise past the cap."""
        status, here = response.status_code, progress.url
        location = response.headers.get("location")
        if not location:
            raise _Failure(f"HTTP {status} without a Location header from {here}")
        try:
            here_url = httpx.URL(here)
            next_url = str(here_url.join(location.strip()))
        except httpx.InvalidURL as exc:
            raise _Failure(f"bad redirect Location {location!r} from {here}: {exc}") from None
        if request.method != "GET":
            raise _Failure(
                f"HTTP {status} redirect from {here} to {next_url} not followed for a "
                f"{request.method}; configure the final URL"
            )
        progress.redirects.append((status, next_url))
        hops, cap = len(progress.redirects), self.config.max_redirects
        if hops > cap:
            raise _Failure(f"too many redirects ({hops} > {cap}) starting at {request.url}")
        if httpx.URL(next_url).netloc != here_url.netloc:
            headers[:] = [(n, v) for n, v in headers if n.lower() not in _ORIGIN_ONLY_HEADERS]
        return next_url

    async def _result(
        self,
        request: FetchRequest,
        response: httpx.Response,
        progress: _Progress,
        started: float,
    ) -> FetchResult:
        status = response.status_code
        redirects = tuple(progress.redirects)
        permanent_url = None
        if redirects and all(s in _PERMANENT_STATUSES for s, _ in redirects):
            permanent_url = progress.url
        if status == 304:
            outcome, body, error = FetchOutcome.NOT_MODIFIED, None, None
            await _drain(response)
        elif 200 <= status < 300 and status != 204:
            progress.phase = "reading"
            outcome, error = FetchOutcome.OK, None
            body = await _read_body(response, progress.url, self.config.max_body_bytes)
        else:
            permanent_url, body = None, None
            error = f"HTTP {status} {_reason(response)}"
            if redirects:
                error += f" from {progress.url}"
            if status == 410:
                outcome = FetchOutcome.GONE
            elif status in _RETRY_LATER_STATUSES:
                outcome = FetchOutcome.RETRY_LATER
            else:
                outcome = FetchOutcome.ERROR
        return FetchResult(
            request=request,
            outcome=outcome,
            final_url=progress.url,
            permanent_url=permanent_url,
            status_code=status,
            body=body,
            headers=progress.headers,
            error=error,
            redirects=redirects,
            elapsed=time.monotonic() - started,
        )

    # -- local files ------------------------------------------------------------

    def _local_path(self, url: str) -> Path:
        path = local_path(url, self.base_dir)
        if path is None:
            raise _Failure(f"file URL with a host is not supported: {url}")
        return path

    def _fetch_file(self, request: FetchRequest, started: float) -> FetchResult:
        """Read a local source; runs in a worker thread."""
        try:
            path = self._local_path(request.url)
        except _Failure as exc:
            return _error(request, str(exc), started=started)
        final_url = path.as_uri()
        limit = self.config.max_body_bytes
        try:
            with path.open("rb") as f:
                st = os.fstat(f.fileno())
                headers = {
                    "last-modified": formatdate(st.st_mtime, usegmt=True),
                    "etag": f'"{st.st_mtime_ns:x}-{st.st_size:x}"',
                    "content-length": str(st.st_size),
                }
                if _file_not_modified(request, headers, st.st_mtime):
                    return FetchResult(
                        request=request,
                        outcome=FetchOutcome.NOT_MODIFIED,
                        final_url=final_url,
                        headers=headers,
                        elapsed=time.monotonic() - started,
                    )
                body = f.read(limit + 1)
        except FileNotFoundError:
            message = f"file not found: {path}"
            if looks_like_web_address(request.url):  # "tengrinews.kz/news.rss": a path here
                message += f"; if it is a web address, write https://{request.url}"
            return _error(request, message, started=started, final_url=final_url)
        except IsADirectoryError:
            return _error(request, f"not a file: {path}", started=started, final_url=final_url)
        except OSError as exc:
            message = f"cannot read {path}: {exc.strerror or exc}"
            return _error(request, message, started=started, final_url=final_url)
        if len(body) > limit:
            message = f"file larger than {_size(limit)}: {path}; raise fetch.max_body_bytes if it is really a feed"
            return _error(request, message, started=started, final_url=final_url)
        return FetchResult(
            request=request,
            outcome=FetchOutcome.OK,
            final_url=final_url,
            body=body,
            headers=headers,
            elapsed=time.monotonic() - started,
        )


# A host name and a path without a scheme ("tengrinews.kz/news.rss"), which a source's
# url reads as a local path: a dotted name ending in a label of letters, then "/".
def local_path(url: str, base_dir: Path | None = None) -> Path | None:
    """The file a local source's ``url`` (a path, relative to ``base_dir`` or else the
    current directory, or a file:// URL) names; None for a file URL with a host."""
    split = urlsplit(url)
    if split.scheme.lower() == "file":
        if split.netloc not in ("", "localhost"):
            return None
        path = Path(url2pathname(split.path))
    else:
        path = Path(url).expanduser()
    if not path.is_absolute():
        path = (base_dir or Path.cwd()) / path
    return path


def _file_not_modified(request: FetchRequest, headers: dict[str, str], mtime: float) -> bool:
    # As in HTTP, a validator beats a date when both are given.
    if request.etag:
        return request.etag == headers["etag"]
    if request.last_modified:
        try:
            since = parsedate_to_datetime(request.last_modified).timestamp()
        except (TypeError, ValueError):
            return False
        return int(mtime) <= since
    return False


class _Decoder:
    """Inflates a Content-Encoding with a bound on the output of every step.

    httpx's own decoders inflate each network chunk completely, which for a gzip bomb
    means ~1000x the chunk in memory at once; here no step yields more than asked.
    """

    def __init__(self, content_encoding: str, url: str) -> None:
        self.coding = content_encoding.strip().lower()
        self._deflate_header_unknown = False
        if self.coding in ("", "identity"):
            self._z = None
        elif self.coding in ("gzip", "x-gzip"):
            self._z = zlib.decompressobj(zlib.MAX_WBITS | 32)  # gzip or zlib header
        elif self.coding == "deflate":
            # "deflate" should be zlib-wrapped, but some servers send raw deflate.
            self._z = zlib.decompressobj()
            self._deflate_header_unknown = True
        else:
            raise _Failure(
                f"unsupported Content-Encoding {self.coding!r} from {url} "
                f"(asked for {ACCEPT_ENCODING})"
            )

    def decode(self, data: bytes, max_length: int) -> bytes:
        """Up to ``max_length`` (>= 1) bytes of output for ``data``."""
        if self._z is None:
            return data
        try:
            out = self._z.decompress(data, max_length)
        except zlib.error:
            if not self._deflate_header_unknown:
                raise
            self._z = zlib.decompressobj(-zlib.MAX_WBITS)
            self._deflate_header_unknown = False
            return self.decode(data, max_length)
        self._deflate_header_unknown = False
        # Concatenated gzip members are one body.
        if self._z.eof and self._z.unused_data and len(out) < max_length:
            rest = self._z.unused_data
            self._z = zlib.decompressobj(zlib.MAX_WBITS | 32)
            out += self.decode(rest, max_length - len(out))
        return out


async def _read_body(response: httpx.Response, url: str, limit: int) -> bytes:
    decoder = _Decoder(response.headers.get("content-encoding", ""), url)
    compressed = decoder.coding not in ("", "identity")
    after = " after decompression" if compressed else ""
    too_big = f"body larger than {_size(limit)}{after} from {url}; raise fetch.max_body_bytes if this feed is really that big"
    length = response.headers.get("content-length", "")
    if not compressed and length.isdigit() and int(length) > limit:
        raise _Failure(too_big)
    body = bytearray()
    async for chunk in response.aiter_raw():
        body += decoder.decode(chunk, limit - len(body) + 1)
        if len(body) > limit:
            raise _Failure(too_big)
    return bytes(body)


# A URL of only these characters is sent as written; any other (non-ASCII, spaces, a
# '%' that may not start an escape) is normalized by httpx first, as it always was.
_PLAIN_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]*")


def _encoded(url: str) -> str:
    """``url`` as a request line carries it (percent-encoded), parsed only when needed."""
    return url if _PLAIN_URL.fullmatch(url) else str(httpx.URL(url))


@functools.lru_cache(maxsize=4096)
def _host(url: str) -> str:
    try:
        host = split_url(url).hostname
    except ValueError as exc:
        raise _Failure(f"invalid URL {url}: {exc}") from None
    if not host:
        raise _Failure(f"invalid URL {url}: no host name")
    return host.lower()


def _error(
    request: FetchRequest,
    message: str,
    *,
    started: float,
    progress: _Progress | None = None,
    final_url: str | None = None,
) -> FetchResult:
    return FetchResult(
        request=request,
        outcome=FetchOutcome.ERROR,
        final_url=progress.url if progress else final_url or request.url,
        status_code=progress.status_code if progress else None,
        headers=progress.headers if progress else {},
        error=message,
        redirects=tuple(progress.redirects) if progress else (),
        elapsed=time.monotonic() - started,
    )


def _certificate_error(exc: BaseException) -> ssl.SSLCertVerificationError | None:
    """The certificate verification failure behind a connection error, if that was it."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def _certificate_message(url: str, exc: ssl.SSLCertVerificationError) -> str:
    host = urlsplit(url).hostname or url
    reason = exc.verify_message or _describe(exc)
    return (
        f"TLS certificate of {host} rejected ({reason}) at {url}; "
        "the server must present a certificate for that name from a trusted CA "
        "(for a private CA, point SSL_CERT_FILE at a PEM bundle that includes it)"
    )


def _reason(response: httpx.Response) -> str:
    try:
        return HTTPStatus(response.status_code).phrase
    except ValueError:
        return response.reason_phrase or "(unknown status)"


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return text if text else type(exc).__name__


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _size(n: int) -> str:
    mb, kb = 1024 * 1024, 1024
    if n >= mb:
        return f"{n // mb} MB" if n % mb == 0 else f"{n / mb:.1f} MB"
    if n >= kb:
        return f"{n // kb} KB" if n % kb == 0 else f"{n / kb:.1f} KB"
    return counted(n, "byte")
