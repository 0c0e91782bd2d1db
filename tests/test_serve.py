"""serve: output/ over HTTP for preview, with content types, ETag/304 and CORS."""

from __future__ import annotations

import http.client
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.utils import formatdate
from pathlib import Path

import pytest

from aggregator.serve import make_server

JSON_FEED = (
    b'{\n  "version": "https://jsonfeed.org/version/1.1",\n  "title": "t",\n  "items": []\n}\n'
)


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    root = tmp_path / "output"
    root.mkdir()
    files = {
        "all.atom": b"<feed/>",
        "all.rss": b"<rss/>",
        "all.json": JSON_FEED,
        "related.json": b'{"related": {}}',
        "health.json": b'{"sources": []}',
        "sources.opml": b"<opml/>",
        "index.html": "<p>Қазақ</p>".encode(),
        ".aggregator-tmp-all.atom.x1": b"half",
        "нов ости.json": JSON_FEED,
    }
    for name, data in files.items():
        (root / name).write_bytes(data)
    (tmp_path / "secret.txt").write_text("secret")
    server = make_server(root, port=0)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield root, server.server_address[1]
    server.shutdown()
    server.server_close()


def get(port: int, path: str, headers: dict[str, str] | None = None, method: str = "GET"):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.putrequest(method, path, skip_accept_encoding=True)
    for name, value in (headers or {}).items():
        connection.putheader(name, value)
    connection.endheaders()
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response, body


@pytest.mark.parametrize(
    "path, content_type",
    [
        ("/all.atom", "application/atom+xml; charset=utf-8"),
        ("/all.rss", "application/rss+xml; charset=utf-8"),
        ("/all.json", "application/feed+json; charset=utf-8"),
        ("/related.json", "application/json; charset=utf-8"),
        ("/health.json", "application/json; charset=utf-8"),
        ("/sources.opml", "text/x-opml; charset=utf-8"),
        ("/index.html", "text/html; charset=utf-8"),
        ("/", "text/html; charset=utf-8"),
        (
            "/%D0%BD%D0%BE%D0%B2%20%D0%BE%D1%81%D1%82%D0%B8.json",
            "application/feed+json; charset=utf-8",
        ),
    ],
)
def test_files_are_served_with_their_content_type(site, path, content_type):
    _, port = site
    response, body = get(port, path)
    assert response.status == 200
    assert response.getheader("Content-Type") == content_type
    assert response.getheader("Access-Control-Allow-Origin") == "*"
    assert int(response.getheader("Content-Length")) == len(body) > 0


def test_a_strong_etag_answers_if_none_match_with_304(site):
    root, port = site
    response, body = get(port, "/all.json")
    etag = response.getheader("ETag")
    assert etag.startswith('"') and not etag.startswith("W/")
    again, again_body = get(port, "/all.json", {"If-None-Match": etag})
    assert (again.status, again_body) == (304, b"")
    assert again.getheader("ETag") == etag
    assert again.getheader("Access-Control-Allow-Origin") == "*"
    other, _ = get(port, "/all.json", {"If-None-Match": '"something-else"'})
    assert other.status == 200


def test_a_changed_file_gets_a_new_etag(site):
    root, port = site
    etag = get(port, "/all.rss")[0].getheader("ETag")
    (root / "all.rss").write_bytes(b"<rss version='2.0'/>")
    response, body = get(port, "/all.rss", {"If-None-Match": etag})
    assert response.status == 200 and body == b"<rss version='2.0'/>"
    assert response.getheader("ETag") != etag


def test_if_modified_since_answers_304_for_an_unchanged_file(site):
    root, port = site
    os.utime(root / "all.atom", (1_700_000_000, 1_700_000_000))
    response, _ = get(port, "/all.atom")
    assert response.getheader("Last-Modified") == formatdate(1_700_000_000, usegmt=True)
    assert (
        get(port, "/all.atom", {"If-Modified-Since": formatdate(1_700_000_000, usegmt=True)})[
            0
        ].status
        == 304
    )
    assert (
        get(port, "/all.atom", {"If-Modified-Since": formatdate(1_600_000_000, usegmt=True)})[
            0
        ].status
        == 200
    )
    assert get(port, "/all.atom", {"If-Modified-Since": "yesterday"})[0].status == 200


def test_if_none_match_takes_precedence_over_if_modified_since(site):
    _, port = site
    response, _ = get(port, "/all.atom")
    headers = {"If-None-Match": '"stale"', "If-Modified-Since": response.getheader("Last-Modified")}
    assert get(port, "/all.atom", headers)[0].status == 200


def test_head_sends_headers_without_a_body(site):
    _, port = site
    response, body = get(port, "/all.atom", method="HEAD")
    assert response.status == 200 and body == b""
    assert response.getheader("Content-Length") == str(len(b"<feed/>"))


def test_cors_preflight_is_allowed(site):
    _, port = site
    response, _ = get(port, "/all.json", {"Origin": "https://example.kz"}, method="OPTIONS")
    assert response.status == 204
    assert response.getheader("Access-Control-Allow-Origin") == "*"


@pytest.mark.parametrize(
    "path",
    [
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/..%2fsecret.txt",
        "/%2e%2e%2fsecret.txt",
        "/./../secret.txt",
        "//etc/passwd",
        "/..\\secret.txt",
        "/.aggregator-tmp-all.atom.x1",
        "/missing.atom",
        "/all.atom%00.html",
    ],
)
def test_nothing_outside_the_directory_nor_hidden_nor_missing_is_served(site, path):
    _, port = site
    response, body = get(port, path)
    assert response.status == 404
    assert b"secret" not in body and b"half" not in body


def test_a_directory_without_its_slash_is_redirected_to_its_page(site):
    # As a web server does: "/commentary" typed or linked is the page "/commentary/",
    # whose relative links ("index.html", "../all.atom") work only from there.
    root, port = site
    (root / "commentary").mkdir()
    (root / "commentary" / "index.html").write_text("<p>Пікірлер</p>", encoding="utf-8")
    (root / "related").mkdir()  # no index.html: nothing to show, never a listing
    response, body = get(port, "/commentary?from=widget")
    assert response.status == 301 and body == b""
    assert response.getheader("Location") == "/commentary/?from=widget"
    response, body = get(port, "/commentary/")
    assert response.status == 200 and "Пікірлер" in body.decode()
    assert get(port, "/related")[0].status == 404
    assert get(port, "/missing")[0].status == 404


def test_a_symlink_out_of_the_directory_is_not_followed(site):
    root, port = site
    (root / "link.txt").symlink_to(root.parent / "secret.txt")
    assert get(port, "/link.txt")[0].status == 404


@contextmanager
def serve_command(config: Path, *, sigint: signal.Handlers = signal.SIG_DFL) -> Iterator[ServeRun]:
    """`aggregator serve --port 0` as a child process started with SIGINT at ``sigint``
    (SIG_IGN: as a shell without job control starts a background command), and its port.

    The body stops it (``run.stop(signal)``); leaving it kills a server that is still up.
    Its output is read by threads, so that nothing waits without end: a server that does
    not start or stop within 10 s fails the test instead of hanging it.
    """
    command = [sys.executable, "-m", "aggregator", "--config", str(config), "serve", "--port", "0"]
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, sigint),
    )
    run = ServeRun(process, _Lines(process.stdout), _Lines(process.stderr))
    try:
        line = run.out.next_line()  # "serving <dir> on http://127.0.0.1:PORT/ ..."
        if "serving" not in line:
            process.kill()
            pytest.fail(f"serve did not start: {line!r} {run.err.rest()}")
        run.port = int(line.split("http://127.0.0.1:")[1].split("/")[0])
        yield run
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)


class _Lines:
    """The lines a child process writes to ``stream``, read by a thread as they come."""

    def __init__(self, stream) -> None:
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream) -> None:
        for line in stream:
            self._lines.put(line)
        self._lines.put(None)  # the end

    def next_line(self) -> str:
        """The next line ("" at the end); a failure after 10 s without one."""
        try:
            return self._lines.get(timeout=10) or ""
        except queue.Empty:
            pytest.fail("serve printed nothing within 10 s")

    def rest(self) -> str:
        """Every line after those taken, once the process has ended."""
        self._thread.join(timeout=10)
        lines = []
        while not self._lines.empty():
            lines.append(self._lines.get() or "")
        return "".join(lines)


@dataclass
class ServeRun:
    process: subprocess.Popen
    out: _Lines
    err: _Lines
    port: int = 0
    stdout: str = ""  # what it printed after its first line, once stopped
    stderr: str = ""

    def stop(self, signum: signal.Signals) -> int:
        """Send ``signum``; its exit status once it has stopped (a failure after 10 s)."""
        self.process.send_signal(signum)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
            pytest.fail(f"serve did not stop within 10 s of {signum.name}")
        self.stdout, self.stderr = self.out.rest(), self.err.rest()
        return self.process.returncode


def write_site(tmp_path: Path) -> Path:
    (tmp_path / "output").mkdir()
    (tmp_path / "output" / "index.html").write_text("<p>Жаңалықтар</p>", encoding="utf-8")
    config = tmp_path / "feeds.yaml"
    config.write_text(
        "site: {title: T, link: 'https://eurasia24.media/'}\n"
        "sources:\n"
        "  - {id: a, url: 'https://a.kz/rss'}\n"
        "  - {id: b, url: 'https://b.kz/rss', intervl: 5m}\n",
        encoding="utf-8",
    )
    return config


def test_the_serve_command_serves_past_a_typo_in_one_sources_entry(tmp_path: Path):
    # An editor previewing the site while someone's source entry has a typo: the preview
    # needs publish.dir alone.  The problem is said; the outputs are served.
    with serve_command(write_site(tmp_path)) as run:
        response, body = get(run.port, "/index.html")
        assert response.status == 200 and "Жаңалықтар" in body.decode()
        assert run.stop(signal.SIGINT) == 0
    assert "sources[1].intervl: unknown key" in run.stderr


@pytest.mark.parametrize(
    "sigint, stop",
    [
        (signal.SIG_DFL, signal.SIGINT),  # Ctrl-C at the terminal
        (signal.SIG_DFL, signal.SIGTERM),  # systemd, supervisord, kill PID
        (signal.SIG_IGN, signal.SIGTERM),  # `aggregator serve &` in a script: SIGINT ignored
    ],
)
def test_the_serve_command_stops_cleanly_on_sigterm_and_ctrl_c(tmp_path: Path, sigint, stop):
    with serve_command(write_site(tmp_path), sigint=sigint) as run:
        assert get(run.port, "/index.html")[0].status == 200
        assert run.stop(stop) == 0
        assert "Traceback" not in run.stderr
    with pytest.raises(ConnectionRefusedError):  # the port is closed, not left to a child
        get(run.port, "/index.html")


def test_the_serve_command_says_when_nothing_is_published_yet(tmp_path: Path):
    # Before the first run every page is 404: the command says why, and what to run.
    config = write_site(tmp_path)
    (tmp_path / "output" / "index.html").unlink()
    with serve_command(config) as run:
        assert get(run.port, "/")[0].status == 404
        assert run.stop(signal.SIGTERM) == 0
    assert run.stdout.startswith(
        f"nothing is published in {tmp_path / 'output'} yet (no index.html): `aggregator run`"
    )


def test_a_background_serve_is_not_stopped_by_ctrl_c(tmp_path: Path):
    # A shell without job control ignores SIGINT in the commands it starts in the
    # background, so that Ctrl-C at the terminal does not stop them: serve keeps that.
    with serve_command(write_site(tmp_path), sigint=signal.SIG_IGN) as run:
        run.process.send_signal(signal.SIGINT)
        with pytest.raises(subprocess.TimeoutExpired):
            run.process.wait(timeout=1)
        assert get(run.port, "/index.html")[0].status == 200
        assert run.stop(signal.SIGTERM) == 0
