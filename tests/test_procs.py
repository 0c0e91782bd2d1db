"""Worker processes die with the run: kill -9 a run at random moments of fetch and of the
related stage, and no process it started (workers, resource tracker) is left 2 s later.

Every process a run starts stays in its session (the run is started in a new one), so
/proc tells which are left after the run is gone, even once init has adopted them."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from aggregator import procs

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/stat").exists(), reason="needs /proc to find a run's processes"
)


def rss(n: int, prefix: str) -> bytes:
    items = "".join(
        f"<item><title>{prefix} новость {i} о погоде в Алматы</title>"
        f"<link>https://kapital.kz/{prefix}/{i}</link>"
        f"<description>{'Текст новости о погоде и ценах. ' * 20}{prefix} {i}</description>"
        f"<pubDate>Wed, 25 Nov 2026 {i % 24:02d}:{i % 60:02d}:00 +0000</pubDate></item>"
        for i in range(n)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>K</title>'
        f"<link>https://kapital.kz/</link><description>d</description>{items}</channel></rss>"
    ).encode()


def site(tmp_path: Path, sources: int, items: int) -> Path:
    feeds = tmp_path / "feeds"
    feeds.mkdir()
    write_feeds(feeds, sources, items)
    lines = ["site:", "  title: Евразия24", "  link: https://eurasia24.media/", "sources:"]
    for n in range(sources):
        lines += [f"  - id: s{n}", f"    name: S{n}", f"    url: feeds/f{n}.xml"]
    config = tmp_path / "feeds.yaml"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return config


def write_feeds(feeds: Path, sources: int, items: int, edition: str = "") -> None:
    """The sources' feeds, each item new in every ``edition`` (a run has them all to parse
    and store again, not a few unchanged files to skip)."""
    for n in range(sources):
        (feeds / f"f{n}.xml").write_bytes(rss(items, f"{edition}s{n}"))


def session_processes(sid: int) -> dict[int, str]:
    """Live (not zombie) processes of session ``sid``: pid -> command line."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue  # gone meanwhile
        state, _ppid, _pgrp, session = stat.rsplit(")", 1)[1].split()[:4]
        if int(session) == sid and state != "Z":
            found[int(entry.name)] = cmdline
    return found


def start(*args: str, tmp: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "aggregator", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        # A killed related stage leaves its temporary directory: in the test's, not /tmp.
        env={**os.environ, "TMPDIR": str(tmp)},
        start_new_session=True,  # its session id is its pid; its children keep it
    )


def kill_when_workers_run(victim: subprocess.Popen, extra_delay: float, workers: int = 2) -> int:
    """Wait until the run has ``workers`` child processes besides itself, wait
    ``extra_delay`` more, kill -9 it; the number of its processes at that moment."""
    deadline = time.monotonic() + 60
    while len(session_processes(victim.pid)) < 1 + workers:
        assert victim.poll() is None, victim.communicate()
        assert time.monotonic() < deadline, "the run never started its workers"
        time.sleep(0.02)
    time.sleep(extra_delay)
    seen = len(session_processes(victim.pid))
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    return seen


def assert_nothing_survives(sid: int) -> None:
    deadline = time.monotonic() + 2
    while (left := session_processes(sid)) and time.monotonic() < deadline:
        time.sleep(0.05)
    for pid in left:  # do not leave them to the next test, then fail
        os.kill(pid, signal.SIGKILL)
    assert not left, f"still running 2 s after the run was killed: {left}"


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: the run parses in-process")
def test_kill_9_during_fetch_leaves_no_process_behind(tmp_path):
    config = site(tmp_path, sources=60, items=150)
    db = tmp_path / "store.sqlite"
    rng = random.Random(14)
    for trial in range(4):
        # New items every trial: once a trial stored them all, the next run would find
        # nothing to parse and be over before the kill.
        write_feeds(tmp_path / "feeds", sources=60, items=150, edition=f"t{trial}")
        victim = start("--config", str(config), "--db", str(db), "fetch", "--all", tmp=tmp_path)
        seen = kill_when_workers_run(victim, extra_delay=rng.uniform(0, 0.6))
        assert seen >= 3, f"trial {trial}: the workers ended before the kill"
        assert_nothing_survives(victim.pid)
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    conn.close()

    # The next run is not refused by a lock a worker kept, and finishes the job.
    done = start("--config", str(config), "--db", str(db), "fetch", tmp=tmp_path)
    out, err = done.communicate(timeout=300)
    assert done.returncode == 0, err.decode()
    # A worker may still be finishing its exit (no command line any more) the moment the
    # run returns: the same 2 s of grace as after a kill, not an instant snapshot.
    assert_nothing_survives(done.pid)


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: related analyzes in-process")
def test_kill_9_during_a_related_rebuild_leaves_no_process_behind(tmp_path):
    config = site(tmp_path, sources=40, items=130)  # 5,200 items: analyzed in parallel
    db = tmp_path / "store.sqlite"
    fetched = start("--config", str(config), "--db", str(db), "fetch", tmp=tmp_path)
    _, err = fetched.communicate(timeout=300)
    assert fetched.returncode == 0, err.decode()

    rng = random.Random(11)
    for _ in range(2):
        victim = start(
            "--config", str(config), "--db", str(db), "related", "--rebuild", tmp=tmp_path
        )
        kill_when_workers_run(victim, extra_delay=rng.uniform(0, 0.5))
        assert_nothing_survives(victim.pid)


def test_a_worker_dies_with_its_parent_by_the_watchdog_alone(tmp_path):
    # Where prctl is missing (not Linux), the watchdog thread is all there is.
    script = (
        "import os, sys, time\n"
        "from aggregator import procs\n"
        "procs._set_parent_death_signal = lambda: False\n"
        "if os.fork() == 0:\n"
        "    procs.die_with_parent(os.getppid())\n"
        "    print(os.getpid(), flush=True)\n"
        "    time.sleep(60)\n"
        "    os._exit(0)\n"
        "time.sleep(60)\n"
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, start_new_session=True
    )
    child = int(parent.stdout.readline())
    assert child in session_processes(parent.pid)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    started = time.monotonic()
    assert_nothing_survives(parent.pid)
    assert time.monotonic() - started < 4 * procs.WATCHDOG_SECONDS + 0.5


def test_a_killed_runs_scratch_is_removed_by_the_next_run_that_needs_scratch(tmp_path, monkeypatch):
    """A run killed while its workers' files sit in a scratch directory cannot remove it;
    the next scratch directory of that purpose removes it (its process is gone and nothing
    changed in it for an hour), and leaves a live process's and a recent one alone."""
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    make = (
        "import os, sys; from aggregator import procs; "
        "scratch = procs.scratch_directory(sys.argv[1]); path = scratch.__enter__(); "
        "open(os.path.join(path, 'part.pickle'), 'wb').write(b'x' * 1000); "
        "print(path, flush=True); sys.stdin.read(); os._exit(0)"  # dies as if killed
    )

    def scratch_of_a_process(purpose: str) -> tuple[subprocess.Popen, Path]:
        child = subprocess.Popen(
            [sys.executable, "-c", make, purpose],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        return child, Path(child.stdout.readline().strip())

    killed, killed_scratch = scratch_of_a_process("lists")
    killed.communicate("")  # gone, as after kill -9: its scratch stays behind
    recent, recent_scratch = scratch_of_a_process("lists")
    recent.communicate("")
    live, live_scratch = scratch_of_a_process("lists")
    other, other_scratch = scratch_of_a_process("related")
    other.communicate("")
    an_hour_ago = time.time() - procs.SCRATCH_IDLE_SECONDS - 60
    for path in (killed_scratch, live_scratch, other_scratch):
        os.utime(path, (an_hour_ago, an_hour_ago))
    assert killed_scratch.parent == tmp_path and (killed_scratch / "part.pickle").exists()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    try:
        with procs.scratch_directory("lists") as mine:
            assert not killed_scratch.exists()
            assert recent_scratch.exists()  # changed within the hour: may be a live run's
            assert live_scratch.exists()
            assert other_scratch.exists()  # another purpose: left to its own next run
            assert Path(mine).is_dir() and Path(mine).name.startswith(
                f"aggregator-lists-{os.getpid()}-"
            )
        assert not Path(mine).exists()
    finally:
        live.communicate("")
