"""aggregator.files: atomic, change-only writes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from aggregator.files import TEMP_PREFIX, remove_stale_temp_files, write_if_changed


def test_a_killed_writer_never_leaves_a_partial_file(tmp_path: Path):
    # A child process rewrites one file with large payloads in a loop and is
    # SIGKILLed mid-write; the file must always be one complete payload.
    target = tmp_path / "feed.json"
    script = (
        "import sys; from pathlib import Path; from aggregator.files import write_if_changed\n"
        "target = Path(sys.argv[1]); i = 0\n"
        "while True:\n"
        "    i += 1; write_if_changed(target, (str(i % 10) * 3_000_000).encode())\n"
        "    print(i, flush=True)\n"
    )
    for _ in range(3):
        child = subprocess.Popen(
            [sys.executable, "-c", script, str(target)], stdout=subprocess.PIPE
        )
        assert child.stdout is not None
        child.stdout.readline()  # at least one complete write happened
        time.sleep(0.05)
        child.send_signal(signal.SIGKILL)
        child.wait()
        data = target.read_bytes()
        assert len(data) == 3_000_000 and data == data[:1] * 3_000_000
    visible = [p.name for p in tmp_path.iterdir() if not p.name.startswith(".")]
    assert visible == ["feed.json"]


def test_write_if_changed_reports_whether_it_wrote(tmp_path: Path):
    path = tmp_path / "a.txt"
    assert write_if_changed(path, b"one") is True
    mtime = path.stat().st_mtime_ns
    assert write_if_changed(path, b"one") is False and path.stat().st_mtime_ns == mtime
    assert write_if_changed(path, b"two") is True and path.read_bytes() == b"two"
    assert oct(path.stat().st_mode & 0o777) == oct(0o644)
    assert os.listdir(tmp_path) == ["a.txt"]


def test_write_if_changed_without_fsync_is_still_atomic_and_change_only(tmp_path: Path):
    path = tmp_path / "r.json"
    assert write_if_changed(path, b"[]", durable=False) is True
    assert write_if_changed(path, b"[]", durable=False) is False
    assert os.listdir(tmp_path) == ["r.json"]


def test_stale_temporary_files_are_removed_and_fresh_ones_kept(tmp_path: Path):
    old = tmp_path / f"{TEMP_PREFIX}all.atom.1"
    fresh = tmp_path / f"{TEMP_PREFIX}all.rss.2"
    old.write_bytes(b"x")
    fresh.write_bytes(b"y")
    os.utime(old, (time.time() - 3600, time.time() - 3600))
    remove_stale_temp_files(tmp_path)
    assert not old.exists() and fresh.exists()
    remove_stale_temp_files(tmp_path, older_than=0)  # under the run lock: all are dead
    assert not fresh.exists()
