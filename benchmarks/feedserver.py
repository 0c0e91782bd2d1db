"""A fast loopback HTTP/1.1 server for the benchmark corpus.

    python benchmarks/feedserver.py CORPUS_DIR [--port 0] [--changed] [--one-host]

Serves ``/feeds/NNNN.xml`` of a corpus written by corpus.py, each on its own loopback
address (127.0.0.2 .. 127.0.0.51, see manifest.json; one listening socket per address, all
on one port), so that per-host limits work as they do against real sites. A request for a
feed on an address other than its own gets 421.
With ``--changed`` the feeds written by ``corpus.py --mutate`` replace their originals.
With ``--one-host`` every feed is served on 127.0.0.2 (one site serving all the feeds, as a
news agency with many rubric feeds does).

It behaves as a well-configured news site: strong ETag, Last-Modified, 304 for If-None-Match
or If-Modified-Since, gzip when the client accepts it, keep-alive. Bodies and their gzip forms
are prepared once at start, so a request costs only parsing and a write.

``GET /_stats`` (any address) returns request counts as JSON; ``GET /_stats?reset=1`` also
zeroes them. On start it prints ``READY <port>`` on stdout, then serves until SIGTERM/SIGINT.

Runs in its own process (stdlib asyncio only) so that it does not share a GIL with the client
being measured.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import hashlib
import json
import signal
import socket
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path

# Last-Modified of every feed: fixed, so that it survives a restart; changed feeds get a later one.
LAST_MODIFIED = datetime(2024, 5, 20, 9, 0, tzinfo=UTC)
LAST_MODIFIED_CHANGED = datetime(2024, 5, 20, 12, 0, tzinfo=UTC)
MAX_HEADER_BYTES = 16 * 1024


@dataclass
class Resource:
    host: str
    body: bytes
    gzipped: bytes
    etag: str
    last_modified: datetime
    last_modified_text: str
    content_type: str


ONE_HOST = "127.0.0.2"


def load_resources(corpus: Path, *, changed: bool, one_host: bool = False) -> dict[str, Resource]:
    manifest = json.loads((corpus / "manifest.json").read_text())
    resources: dict[str, Resource] = {}
    for info in manifest["feeds"]:
        use_changed = changed and info.get("changed_file")
        body = (corpus / (info["changed_file"] if use_changed else info["file"])).read_bytes()
        modified = LAST_MODIFIED_CHANGED if use_changed else LAST_MODIFIED
        resources[info["path"]] = Resource(
            host=ONE_HOST if one_host else info["host"],
            body=body,
            # mtime=0: the same bytes on every start, as a cache in front of a site would keep.
            gzipped=gzip.compress(body, compresslevel=6, mtime=0),
            etag='"' + hashlib.sha1(body).hexdigest()[:20] + '"',
            last_modified=modified,
            last_modified_text=format_datetime(modified, usegmt=True),
            content_type=info["content_type"],
        )
    return resources


def _accepts_gzip(value: str) -> bool:
    for part in value.split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip().lower() in ("gzip", "*"):
            q = params.strip().lower()
            return not (q.startswith("q=") and float(q[2:] or 0) == 0)
    return False


def _not_modified(res: Resource, headers: dict[str, str]) -> bool:
    inm = headers.get("if-none-match")
    if inm is not None:  # takes precedence over If-Modified-Since (RFC 9110 13.2.2)
        tags = [t.strip().removeprefix("W/") for t in inm.split(",")]
        return "*" in tags or res.etag in tags
    ims = headers.get("if-modified-since")
    if ims:
        try:
            return res.last_modified <= parsedate_to_datetime(ims)
        except (TypeError, ValueError):
            return False
    return False


class FeedServer:
    def __init__(self, resources: dict[str, Resource]):
        self.resources = resources
        self.stats: Counter[str] = Counter()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        local_host = writer.get_extra_info("sockname")[0]
        self.stats["connections"] += 1
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                except asyncio.LimitOverrunError:
                    writer.write(
                        b"HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    )
                    return
                keep_alive = self.respond(head, local_host, writer)
                await writer.drain()
                if not keep_alive:
                    return
        except ConnectionError:
            return
        finally:
            writer.close()

    def respond(self, head: bytes, local_host: str, writer: asyncio.StreamWriter) -> bool:
        lines = head.decode("latin-1").split("\r\n")
        try:
            method, target, version = lines[0].split(" ", 2)
        except ValueError:
            self._send(writer, 400, [], b"bad request line\n", False, False)
            return False
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if sep:
                headers[name.strip().lower()] = value.strip()
        connection = headers.get("connection", "").lower()
        keep_alive = connection != "close" if version == "HTTP/1.1" else connection == "keep-alive"
        head_only = method == "HEAD"
        if not target.startswith("/_stats"):
            self.stats["requests"] += 1
        if method not in ("GET", "HEAD"):
            self._send(writer, 405, [("Allow", "GET, HEAD")], b"", head_only, keep_alive)
            return keep_alive
        path, _, query = target.partition("?")
        if path.startswith("http://"):  # absolute-form request target
            path = "/" + path.split("/", 3)[3] if path.count("/") >= 3 else "/"
        if path == "/_stats":
            body = json.dumps(dict(self.stats)).encode()
            if "reset=1" in query:
                self.stats.clear()
            self._send(
                writer, 200, [("Content-Type", "application/json")], body, head_only, keep_alive
            )
            return keep_alive
        res = self.resources.get(path)
        if res is None:
            self.stats["404"] += 1
            self._send(writer, 404, [], b"no such feed\n", head_only, keep_alive)
            return keep_alive
        if res.host != local_host:
            self.stats["421"] += 1
            self._send(
                writer, 421, [], f"{path} is served on {res.host}\n".encode(), head_only, keep_alive
            )
            return keep_alive
        common = [
            ("ETag", res.etag),
            ("Last-Modified", res.last_modified_text),
            ("Cache-Control", "max-age=300"),
            ("Vary", "Accept-Encoding"),
        ]
        if _not_modified(res, headers):
            self.stats["304"] += 1
            self._send(writer, 304, common, None, True, keep_alive)
            return keep_alive
        if _accepts_gzip(headers.get("accept-encoding", "")):
            self.stats["200_gzip"] += 1
            self.stats["bytes"] += len(res.gzipped)
            extra = [("Content-Type", res.content_type), ("Content-Encoding", "gzip")]
            self._send(writer, 200, common + extra, res.gzipped, head_only, keep_alive)
        else:
            self.stats["200_identity"] += 1
            self.stats["bytes"] += len(res.body)
            self._send(
                writer,
                200,
                common + [("Content-Type", res.content_type)],
                res.body,
                head_only,
                keep_alive,
            )
        return keep_alive

    @staticmethod
    def _send(
        writer, status: int, headers, body: bytes | None, head_only: bool, keep_alive: bool
    ) -> None:
        reason = {
            200: "OK",
            304: "Not Modified",
            400: "Bad Request",
            404: "Not Found",
            405: "Method Not Allowed",
            421: "Misdirected Request",
        }[status]
        out = [f"HTTP/1.1 {status} {reason}"]
        out += [f"{k}: {v}" for k, v in headers]
        if body is not None:
            out.append(f"Content-Length: {len(body)}")
        out.append("Connection: keep-alive" if keep_alive else "Connection: close")
        writer.write(("\r\n".join(out) + "\r\n\r\n").encode("latin-1"))
        if body and not head_only:
            writer.write(body)


def _listen(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    return sock


async def serve(corpus: Path, port: int, *, changed: bool, one_host: bool = False) -> None:
    resources = load_resources(corpus, changed=changed, one_host=one_host)
    app = FeedServer(resources)
    # One listening socket per loopback address, all on one port; never a wildcard address,
    # so nothing outside this machine can reach the server.
    first = _listen("127.0.0.1", port)
    port = first.getsockname()[1]
    socks = [first] + [_listen(h, port) for h in sorted({r.host for r in resources.values()})]
    servers = [
        await asyncio.start_server(app.handle, sock=s, backlog=1024, limit=MAX_HEADER_BYTES)
        for s in socks
    ]
    print(f"READY {port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    for server in servers:
        server.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--port", type=int, default=0, help="0: any free port (printed on start)")
    parser.add_argument("--changed", action="store_true", help="serve the mutated feeds")
    parser.add_argument("--one-host", action="store_true", help=f"serve every feed on {ONE_HOST}")
    args = parser.parse_args(argv)
    if not (args.corpus / "manifest.json").is_file():
        parser.error(
            f"{args.corpus}/manifest.json not found: generate a corpus with corpus.py first"
        )
    asyncio.run(serve(args.corpus, args.port, changed=args.changed, one_host=args.one_host))
    return 0


if __name__ == "__main__":
    sys.exit(main())
