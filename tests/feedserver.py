"""A real HTTP server on loopback for tests: register routes, fetch, then inspect.

::

    with FeedServer() as server:                      # or the `feed_server` fixture
        server.route("/feed.xml", body=b"<rss/>", etag='"v1"', gzip=True)
        server.route("/slow", body=b"x" * 100, drip=0.1)        # 0.1 s per byte
        server.route("/old", redirect="/feed.xml", status=301)  # or a full URL
        server.route("/dyn", lambda request: Response(body=request.path.encode()))

        server.url("/feed.xml")                       # http://127.0.0.1:PORT/feed.xml
        server.url("/feed.xml", host="127.0.0.2")     # same routes on another loopback address

        server.requests("/feed.xml")[0].headers["user-agent"]   # names lowercased
        server.count("/feed.xml")
        server.max_in_flight()                        # or (path=...) or (host=...)
        server.connections()                          # TCP connections accepted (keep-alive)

Routes match the path exactly (the query string is ignored); anything else is a 404.
Every address in 127.0.0.0/8 works on Linux, so several "hosts" are just several
listeners (started on first use of ``url(host=...)``), all sharing one route table.
The server speaks HTTP/1.1 with keep-alive, like a real one.

HTTPS: ``FeedServer(tls=context)`` with a server-side ``ssl.SSLContext`` (the ``tls``
fixtures of tests/ingest/test_tls.py make one from a test CA with trustme).  Its URLs
start with https://; ``url(path, name="localhost")`` spells the host as a name, so a
client sends SNI and checks the certificate for that name; ``server.sni()`` lists the
names clients sent.  A failed handshake just closes that connection.
"""

from __future__ import annotations

import gzip as gzip_module
import ssl
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

__all__ = ["FeedServer", "Request", "Response"]


@dataclass
class Response:
    """A canned response.

    ``etag`` / ``last_modified`` are sent as headers and make the server answer 304
    to a request whose If-None-Match / If-Modified-Since matches them.
    ``redirect`` sets Location (a path on the same listener, or a full URL); use it
    with a 3xx ``status`` (302 if left at 200).
    """

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    gzip: bool = False  # compress body, send Content-Encoding: gzip
    etag: str | None = None
    last_modified: str | None = None
    redirect: str | None = None
    delay: float = 0.0  # seconds to wait before the status line
    drip: float = 0.0  # seconds to wait before each byte of the body


@dataclass(frozen=True)
class Request:
    """A request as the server saw it."""

    method: str
    path: str  # without the query string
    target: str  # as sent, with the query string
    headers: dict[str, str]  # names lowercased
    host: str  # the listener address it arrived on, e.g. "127.0.0.2"
    body: bytes = b""  # of a POST


Handler = Callable[[Request], Response]


class FeedServer:
    """Threaded HTTP server on 127.0.0.1 (port chosen by the OS) with routes."""

    def __init__(self, host: str = "127.0.0.1", *, tls: ssl.SSLContext | None = None) -> None:
        self.host = host
        self.tls = tls
        self._sni: list[str | None] = []
        if tls is not None:
            tls.sni_callback = self._record_sni
        self._routes: dict[str, Handler] = {}
        self._requests: list[Request] = []
        self._lock = threading.Lock()
        self._in_flight: Counter[tuple[str, str]] = Counter()
        self._max_in_flight: Counter[tuple[str, str]] = Counter()
        self._connections: Counter[str] = Counter()
        self._listeners: dict[str, ThreadingHTTPServer] = {}
        self.port = 0

    # -- lifecycle ----------------------------------------------------------------

    def start(self) -> FeedServer:
        self._listen(self.host)
        return self

    def stop(self) -> None:
        for listener in self._listeners.values():
            listener.shutdown()
            listener.server_close()
        self._listeners.clear()

    def __enter__(self) -> FeedServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _listen(self, host: str) -> None:
        if host in self._listeners:
            return
        try:
            listener = _Listener((host, self.port), _RequestHandler)
        except OSError:  # the port is taken on that address: any port will do
            listener = _Listener((host, 0), _RequestHandler)
        listener.feed_server = self
        if not self.port:
            self.port = listener.server_address[1]
        self._listeners[host] = listener
        # A short poll interval keeps stop() quick; serve_forever only checks for
        # shutdown between polls.
        threading.Thread(target=listener.serve_forever, args=(0.02,), daemon=True).start()

    # -- set-up -------------------------------------------------------------------

    def route(self, path: str, response: Response | Handler | None = None, **fields) -> None:
        """Serve ``path`` with a Response, a ``handler(request) -> Response``, or a
        Response built from keyword arguments (``body=``, ``status=``, ...)."""
        if response is None:
            response = Response(**fields)
        elif fields:
            raise TypeError("give either a response/handler or keyword fields, not both")
        if isinstance(response, Response):
            canned = response
            self._routes[path] = lambda request: canned
        else:
            self._routes[path] = response

    def url(self, path: str = "/", host: str | None = None, name: str | None = None) -> str:
        """The URL of ``path``; ``host`` is another loopback address to serve it on;
        ``name`` a host name that resolves to it (e.g. "localhost") to put in the URL."""
        host = host or self.host
        self._listen(host)
        port = self._listeners[host].server_address[1]
        scheme = "https" if self.tls is not None else "http"
        return f"{scheme}://{name or host}:{port}{path}"

    def sni(self) -> list[str | None]:
        """The server names clients sent in their TLS handshakes (None: no SNI)."""
        with self._lock:
            return list(self._sni)

    def _record_sni(self, sock: object, name: str | None, context: object) -> None:
        with self._lock:
            self._sni.append(name)

    # -- inspection ---------------------------------------------------------------

    def requests(self, path: str | None = None) -> list[Request]:
        """Requests received so far (for ``path`` only, if given), oldest first."""
        with self._lock:
            return [r for r in self._requests if path is None or r.path == path]

    def count(self, path: str | None = None) -> int:
        return len(self.requests(path))

    def max_in_flight(self, path: str | None = None, host: str | None = None) -> int:
        """The most requests served at once: overall, for one path, or on one host."""
        key = ("path", path) if path else ("host", host) if host else ("all", "")
        with self._lock:
            return self._max_in_flight[key]

    def connections(self, host: str | None = None) -> int:
        """TCP connections accepted so far (overall or on one host)."""
        with self._lock:
            return self._connections[host] if host else self._connections.total()

    # -- serving (called from the handler threads) -----------------------------------

    def _connected(self, host: str) -> None:
        with self._lock:
            self._connections[host] += 1

    def _begin(self, request: Request) -> list[tuple[str, str]]:
        keys = [("all", ""), ("path", request.path), ("host", request.host)]
        with self._lock:
            self._requests.append(request)
            for key in keys:
                self._in_flight[key] += 1
                self._max_in_flight[key] = max(self._max_in_flight[key], self._in_flight[key])
        return keys

    def _end(self, keys: list[tuple[str, str]]) -> None:
        with self._lock:
            for key in keys:
                self._in_flight[key] -= 1

    def _respond(self, request: Request) -> Response:
        handler = self._routes.get(request.path)
        if handler is None:
            return Response(status=404, body=b"no route for " + request.path.encode())
        return handler(request)


class _Listener(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    feed_server: FeedServer

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that rejects our certificate or hangs up is part of the tests


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Listener

    def log_message(self, format: str, *args: object) -> None:  # keep test output clean
        pass

    def setup(self) -> None:  # once per connection
        tls = self.server.feed_server.tls
        if tls is not None:  # handshake here, in the connection's own thread
            self.request.settimeout(10)
            self.request = tls.wrap_socket(self.request, server_side=True)
            self.request.settimeout(None)
        super().setup()
        self.server.feed_server._connected(self.server.server_address[0])

    def do_HEAD(self) -> None:
        self._serve()

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _serve(self) -> None:
        server = self.server.feed_server
        request = Request(
            method=self.command,
            path=urlsplit(self.path).path,
            target=self.path,
            headers={k.lower(): v for k, v in self.headers.items()},
            host=self.server.server_address[0],
            body=self.rfile.read(int(self.headers.get("Content-Length") or 0)),
        )
        keys = server._begin(request)
        try:
            response = server._respond(request)
            self._send(request, response)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up, e.g. at its deadline
        finally:
            server._end(keys)

    def _send(self, request: Request, response: Response) -> None:
        if response.delay:
            time.sleep(response.delay)
        status, body = response.status, response.body
        headers = dict(response.headers)
        if response.etag:
            headers["ETag"] = response.etag
        if response.last_modified:
            headers["Last-Modified"] = response.last_modified
        if response.redirect:
            headers["Location"] = response.redirect
            status = status if 300 <= status < 400 else 302
        if _not_modified(request, response):
            status, body = 304, b""
        elif response.gzip:
            body = gzip_module.compress(body)
            headers["Content-Encoding"] = "gzip"
        if status == 304:
            body = b""
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if request.method == "HEAD" or not body:
            return
        if not response.drip:
            self.wfile.write(body)
            return
        for i in range(len(body)):
            time.sleep(response.drip)
            self.wfile.write(body[i : i + 1])
            self.wfile.flush()


def _not_modified(request: Request, response: Response) -> bool:
    if response.etag and "if-none-match" in request.headers:
        tags = [t.strip() for t in request.headers["if-none-match"].split(",")]
        return response.etag in tags or "*" in tags
    if response.last_modified and "if-modified-since" in request.headers:
        return request.headers["if-modified-since"] == response.last_modified
    return False
