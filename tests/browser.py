"""Headless Chromium for the tests that look at our pages and scripts as a reader's
browser runs them (Debian's ``chromium``; the tests skip, saying so, without it), and
the local HTTP servers those pages come from."""

from __future__ import annotations

import contextlib
import functools
import shutil
import subprocess
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import lxml.html
import pytest

BROWSERS = ("chromium", "chromium-browser", "google-chrome")


def browser() -> str:
    """The browser's path; skips the test where there is none."""
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    pytest.skip("no headless Chromium: install Debian's 'chromium' package to run this test")


def chromium(
    tmp_path: Path, url: str, *args: str, timezone: str | None = None
) -> subprocess.CompletedProcess:
    """Run headless Chromium on ``url`` with ``args`` (``--dump-dom``, ``--screenshot=``),
    with a profile of its own in ``tmp_path``; ``timezone``: the reader's (TZ)."""
    command = [
        browser(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
        *args,
        url,
    ]
    env = None
    if timezone is not None:
        env = {"TZ": timezone, "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    done = subprocess.run(command, capture_output=True, text=True, timeout=90, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    return done


def rendered(url: str, tmp_path: Path, *, timezone: str | None = None) -> lxml.html.HtmlElement:
    """The DOM of ``url`` once its scripts ran (and fetched what they fetch)."""
    done = chromium(tmp_path, url, "--virtual-time-budget=15000", "--dump-dom", timezone=timezone)
    return lxml.html.fromstring(done.stdout)


def rendered_in_windows_1251(
    directory: Path, body: str, tmp_path: Path, *, timezone: str | None = None
) -> lxml.html.HtmlElement:
    """The DOM of a windows-1251 page (as many of the region's sites still are) with
    ``body``, served with ``directory`` by a plain static server, which sends .js with no
    charset, as most servers do: the browser decodes a script in its page's encoding."""
    (directory / "legacy-page.html").write_bytes(
        '<!DOCTYPE html><html lang="ru"><head><meta charset="windows-1251">'
        f"<title>Партнёр</title></head><body>{body}</body></html>".encode("windows-1251")
    )
    with serve_directory(directory) as base:
        return rendered(f"{base}/legacy-page.html", tmp_path, timezone=timezone)


@contextlib.contextmanager
def serve(server: ThreadingHTTPServer) -> Iterator[str]:
    """``with serve(server) as base:`` the server runs in a thread meanwhile."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield f"http://{host}:{port}"
    finally:
        server.shutdown()
        server.server_close()


def serve_directory(directory: Path) -> contextlib.AbstractContextManager[str]:
    """``with serve_directory(path) as base:`` a plain static site on 127.0.0.1 (another
    origin than our output/)."""
    handler = functools.partial(_Quiet, directory=str(directory))
    return serve(ThreadingHTTPServer(("127.0.0.1", 0), handler))


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # keep pytest's output clean
        pass
