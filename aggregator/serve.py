"""A small preview server for output/: right content types, ETag/304, CORS.

Meant for ``aggregator serve`` on localhost, not as the production web server;
it serves files only, never lists a directory, and never leaves its directory.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import signal
import threading
from datetime import UTC
from email.utils import formatdate, parsedate_to_datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

__all__ = ["make_server", "serve_until_stopped"]

CONTENT_TYPES = {
    ".atom": "application/atom+xml; charset=utf-8",
    ".rss": "application/rss+xml; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".opml": "text/x-opml; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".xml": "application/xml; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}
JSON_FEED_TYPE = "application/feed+json; charset=utf-8"
# A JSON Feed says so in its first key (publish writes "version" first).
_JSON_FEED_MARK = b'"version": "https://jsonfeed.org/version/'


def make_server(directory: Path, host: str = "127.0.0.1", port: int = 8080) -> ThreadingHTTPServer:
    """A server (not yet serving) for the files in ``directory``; port 0 picks a free one.

    Call ``serve_forever()`` on it, and ``server_close()`` when done.
    """
    root = Path(directory).resolve()

    class Handler(_Handler):
        pass

    Handler.root = root
    return ThreadingHTTPServer((host, port), Handler)


def serve_until_stopped(server: ThreadingHTTPServer) -> None:
    """Serve until SIGTERM or SIGINT (Ctrl-C) comes, then close the server and return.

    A process manager stops with SIGTERM, and a shell without job control starts a
    background command with SIGINT ignored: that stays ignored (Ctrl-C at the terminal is
    not for it), SIGTERM stops it all the same.  Call from the main thread.
    """

    def stop(signum: int, frame: object) -> None:
        # shutdown() waits for serve_forever() to return, which runs in this very thread
        # under the handler: ask from another one.
        threading.Thread(target=server.shutdown, daemon=True).start()

    stopping = [signal.SIGTERM]
    if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
        stopping.append(signal.SIGINT)
    previous = {signum: signal.signal(signum, stop) for signum in stopping}
    try:
        server.serve_forever()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        server.server_close()


class _Handler(BaseHTTPRequestHandler):
    root: Path
    server_version = "aggregator-preview"

    def do_GET(self) -> None:
        self._serve(body=True)

    def do_HEAD(self) -> None:
        self._serve(body=False)

    def do_OPTIONS(self) -> None:
        # CORS preflight: any origin may read; only GET and HEAD exist.
        self.send_response(HTTPStatus.NO_CONTENT)
        self._cors()
        self.send_header("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS")
        self.send_header("Access-Control-Allow-Headers", "If-None-Match, If-Modified-Since")
        self.send_header("Access-Control-Max-Age", "86400")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _serve(self, *, body: bool) -> None:
        path = self._file_for(self.path)
        if path is None:
            if self._file_for(self._as_directory(self.path)) is not None:
                # "/commentary": its page is "/commentary/", where relative links work.
                self._redirect(self._as_directory(self.path))
                return
            self._error(HTTPStatus.NOT_FOUND, "not found")
            return
        try:
            with open(path, "rb") as f:
                stat = os.fstat(f.fileno())
                data = f.read()
        except OSError:
            self._error(HTTPStatus.NOT_FOUND, "not found")
            return
        etag = '"' + hashlib.sha256(data).hexdigest()[:32] + '"'
        last_modified = formatdate(int(stat.st_mtime), usegmt=True)
        headers = {
            "Content-Type": _content_type(path, data),
            "ETag": etag,
            "Last-Modified": last_modified,
            # Revalidate every time: cheap with the ETag, and a preview must be fresh.
            "Cache-Control": "no-cache",
        }
        if self._not_modified(etag, int(stat.st_mtime)):
            self.send_response(HTTPStatus.NOT_MODIFIED)
            self._cors()
            for name in ("ETag", "Last-Modified", "Cache-Control"):
                self.send_header(name, headers[name])
            self.end_headers()
            return
        self.send_response(HTTPStatus.OK)
        self._cors()
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if body:
            self.wfile.write(data)

    def _file_for(self, request_path: str) -> Path | None:
        """The file a request path names, or None: nothing outside root, nothing hidden."""
        path = unquote(urlsplit(request_path).path)
        if "\x00" in path or "\\" in path:
            return None
        parts = [p for p in posixpath.normpath("/" + path).split("/") if p]
        if any(p.startswith(".") for p in parts):  # "..", dotfiles, our temp files
            return None
        candidate = self.root.joinpath(*parts)
        if path.endswith("/") or not parts:
            candidate = candidate / "index.html"
        try:
            resolved = candidate.resolve(strict=True)
        except (OSError, RuntimeError):
            return None
        if not resolved.is_relative_to(self.root) or not resolved.is_file():
            return None
        return resolved

    @staticmethod
    def _as_directory(request_path: str) -> str:
        """The request path with a slash after its path (before any query)."""
        parts = urlsplit(request_path)
        if parts.path.endswith("/"):
            return request_path
        return parts.path + "/" + (f"?{parts.query}" if parts.query else "")

    def _redirect(self, location: str) -> None:
        self.send_response(HTTPStatus.MOVED_PERMANENTLY)
        self._cors()
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _not_modified(self, etag: str, mtime: int) -> bool:
        # RFC 9110 §13.2.2: If-None-Match wins; If-Modified-Since only without it.
        if_none_match = self.headers.get("If-None-Match")
        if if_none_match is not None:
            tags = [t.strip() for t in if_none_match.split(",")]
            return "*" in tags or etag in tags or f"W/{etag}" in tags
        if_modified_since = self.headers.get("If-Modified-Since")
        if if_modified_since:
            try:
                since = parsedate_to_datetime(if_modified_since)
            except (TypeError, ValueError, IndexError):
                return False
            if since.tzinfo is None:  # "-0000": UTC, says RFC 5322
                since = since.replace(tzinfo=UTC)
            return mtime <= since.timestamp()
        return False

    def _cors(self) -> None:
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Access-Control-Expose-Headers", "ETag, Last-Modified")

    def _error(self, status: HTTPStatus, message: str) -> None:
        data = f"{status.value} {message}\n".encode()
        self.send_response(status)
        self._cors()
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)


def _content_type(path: Path, data: bytes) -> str:
    suffix = path.suffix.lower()
    if suffix == ".json" and _JSON_FEED_MARK in data[:200]:
        return JSON_FEED_TYPE
    return CONTENT_TYPES.get(suffix, "application/octet-stream")
