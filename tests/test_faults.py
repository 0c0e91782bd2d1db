"""Faults from outside, run for real: damaged, read-only and full stores, unwritable
directories, broken configurations. Each ends as one message (what, where, what to do)
and exit code 1, with the traceback only under -vv; nothing stored is lost."""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from configs import unstamped

from aggregator.cli import EXIT_FATAL, cli
from aggregator.files import TEMP_PREFIX, write_if_changed

ROOT = Path(__file__).resolve().parents[1]


def rss(n: int, prefix: str, text_words: int = 10) -> bytes:
    items = "".join(
        f"<item><title>{prefix} {i}</title><link>https://kapital.kz/{prefix}/{i}</link>"
        f"<description>{'Текст новости ' * text_words}{i}</description>"
        f"<pubDate>Wed, 25 Nov 2026 {i % 24:02d}:00:00 +0000</pubDate></item>"
        for i in range(n)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>K</title>'
        f"<link>https://kapital.kz/</link><description>d</description>{items}</channel></rss>"
    ).encode()


def site(tmp_path: Path, sources: int = 2, items: int = 5, text_words: int = 10, extra="") -> Path:
    """A config reading ``sources`` local feed files, its store beside it."""
    feeds = tmp_path / "feeds"
    feeds.mkdir(exist_ok=True)
    lines = ["site:", "  title: Евразия24", "  link: https://eurasia24.media/", "sources:"]
    for n in range(sources):
        (feeds / f"f{n}.xml").write_bytes(rss(items, f"s{n}", text_words))
        lines += [f"  - id: s{n}", f"    name: S{n}", f"    url: feeds/f{n}.xml"]
    config = tmp_path / "feeds.yaml"
    config.write_text("\n".join(lines) + "\n" + extra, encoding="utf-8")
    return config


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def assert_one_fatal_message(output: str, *parts: str) -> str:
    """Exactly one "Error: ..." line, holding every part, and no traceback."""
    assert "Traceback" not in output, output
    # Every one after the time it was said at: cron appends it to a log file.
    assert not [line for line in output.splitlines() if line.startswith("Error:")], output
    errors = [line for line in unstamped(output) if line.startswith("Error:")]
    assert len(errors) == 1, output
    assert not errors[0].startswith("Error: error:"), errors[0]
    for part in parts:
        assert part in errors[0], (part, errors[0])
    return errors[0]


# --- a store damaged after it opened --------------------------------------------------


def damage_items_table(db: Path) -> None:
    """Overwrite the b-tree header of the items table's root page: the file still opens
    (its schema page is intact), and the first read of an item fails."""
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        (root,) = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'items'").fetchone()
    conn.close()
    with open(db, "r+b") as f:
        f.seek((root - 1) * page_size)
        f.write(b"\xee" * 12)


@pytest.mark.parametrize("command", [["run"], ["publish"], ["related", "--rebuild"]])
def test_a_store_damaged_after_opening_is_one_message(tmp_path, command):
    config = site(tmp_path)
    db = tmp_path / "aggregator.sqlite"
    assert invoke("--config", str(config), "fetch").exit_code == 0
    damage_items_table(db)

    result = invoke("--config", str(config), *command)
    assert result.exit_code == EXIT_FATAL
    assert_one_fatal_message(result.output, str(db), "malformed", "restore it from a backup")


def test_minus_vv_shows_the_traceback_behind_the_message(tmp_path):
    config = site(tmp_path)
    assert invoke("--config", str(config), "fetch").exit_code == 0
    damage_items_table(tmp_path / "aggregator.sqlite")

    result = invoke("-vv", "--config", str(config), "publish")
    assert result.exit_code == EXIT_FATAL
    assert "Traceback (most recent call last)" in result.output
    assert unstamped(result.output.rstrip())[-1].startswith("Error: store ")


def test_a_bug_is_one_message_that_says_to_report_it(tmp_path, monkeypatch):
    # A fault that cannot be caused from outside: a bug in a stage.
    from aggregator.ingest import update

    def broken_plan(*args, **kwargs):
        raise KeyError("s9")

    monkeypatch.setattr(update, "plan", broken_plan)
    result = invoke("--config", str(site(tmp_path)), "fetch")
    assert result.exit_code == EXIT_FATAL
    assert_one_fatal_message(
        result.output, "internal error: KeyError: 's9'", "this is a bug", "-vv"
    )


def test_a_broken_pipe_that_is_not_the_readers_is_an_error(tmp_path, monkeypatch):
    # Only a reader closing stdout ends a command silently (`status | head`); a pipe of
    # our own breaking (to a worker process) is a failure to report.
    from aggregator.ingest import update

    def broken_plan(*args, **kwargs):
        raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(update, "plan", broken_plan)
    result = invoke("--config", str(site(tmp_path)), "fetch")
    assert result.exit_code == EXIT_FATAL
    assert_one_fatal_message(result.output, "Broken pipe", "-vv")


# --- permissions (as root, in a process without the capability to ignore them) ---------


def run_unprivileged(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """``python -m aggregator ARGS`` as a process that file permissions apply to."""
    command = [sys.executable, "-m", "aggregator", *args]
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv(1): permissions cannot be tested")
        command = [setpriv, "--bounding-set", "-dac_override,-dac_read_search", *command]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(command, capture_output=True, text=True, cwd=cwd, env=env, timeout=120)


@pytest.fixture
def read_only(tmp_path) -> Iterator[list[Path]]:
    """Paths appended here are made read-only; made writable again after the test."""
    paths: list[Path] = []
    yield paths
    for path in paths:
        path.chmod(0o755 if path.is_dir() else 0o644)


def make_read_only(paths: list[Path], path: Path) -> None:
    path.chmod(0o555 if path.is_dir() else 0o444)
    paths.append(path)


def test_a_store_directory_that_cannot_be_written_is_one_message(tmp_path, read_only):
    config = site(tmp_path)
    store_dir = tmp_path / "store"
    store_dir.mkdir()
    make_read_only(read_only, store_dir)
    done = run_unprivileged("--config", str(config), "--db", "store/a.sqlite", "run", cwd=tmp_path)
    assert done.returncode == EXIT_FATAL, done.stderr
    assert_one_fatal_message(
        done.stderr,
        "cannot create the run lock store/a.sqlite.lock",
        "Permission denied",
        "make its directory writable",
    )


def read_only_store(tmp_path, read_only, extra=""):
    """A site whose store a run made, then the store and its directory made read-only
    (nor can a journal be made beside it): (its config, the store, its bytes before)."""
    config = site(tmp_path, extra=extra)
    db = tmp_path / "aggregator.sqlite"
    assert invoke("--config", str(config), "fetch").exit_code == 0
    before = db.read_bytes()
    make_read_only(read_only, db)
    make_read_only(read_only, tmp_path)
    return config, db, before


def test_a_read_only_store_is_one_message_and_stays_as_it_was(tmp_path, read_only):
    config, db, before = read_only_store(tmp_path, read_only)
    done = run_unprivileged("--config", str(config), "fetch", "--all", cwd=tmp_path)
    assert done.returncode == EXIT_FATAL, done.stderr
    assert_one_fatal_message(done.stderr, str(db))
    assert db.read_bytes() == before


def test_an_output_directory_that_cannot_be_written_is_one_message(tmp_path, read_only):
    config = site(tmp_path)
    assert invoke("--config", str(config), "fetch").exit_code == 0
    output = tmp_path / "output"
    output.mkdir()
    make_read_only(read_only, output)
    done = run_unprivileged("--config", str(config), "publish", cwd=tmp_path)
    assert done.returncode == EXIT_FATAL, done.stderr
    assert_one_fatal_message(done.stderr, str(output), "Permission denied", "writable")


def test_an_unreadable_config_is_one_message(tmp_path):
    config = site(tmp_path)
    config.chmod(0)
    try:
        done = run_unprivileged("--config", str(config), "check-config", cwd=tmp_path)
    finally:
        config.chmod(0o644)
    assert done.returncode == EXIT_FATAL, done.stderr
    assert_one_fatal_message(done.stderr, f"{config}: cannot read: Permission denied", "readable")


# --- broken configurations, through the command line -----------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("site: {title: T, link: 'http://[::1/'}\nsources: []\n", "Invalid IPv6 URL"),
        ("site:\n  title: [unclosed\nsources: []\n", "YAML syntax error"),
        ("site: {title: T, link: 'https://e.kz/'}\nsources: 5\n", "expected a list"),
    ],
)
def test_a_broken_config_is_one_message_with_its_line(tmp_path, text, expected):
    config = tmp_path / "feeds.yaml"
    config.write_text(text, encoding="utf-8")
    for command in (["check-config"], ["run"], ["fetch"], ["status"]):
        result = invoke("--config", str(config), *command)
        assert result.exit_code == EXIT_FATAL
        assert_one_fatal_message(result.output, f"{config}:", expected)


def test_a_missing_config_is_one_message_that_says_what_to_do(tmp_path):
    result = invoke("--config", str(tmp_path / "nope.yaml"), "run")
    assert result.exit_code == EXIT_FATAL
    assert_one_fatal_message(result.output, "nope.yaml: file not found", "examples/feeds.yaml")


def test_status_of_a_store_its_user_may_only_read_is_shown(tmp_path, read_only):
    # A monitoring user with read access only: the file and its directory read-only.
    config, db, before = read_only_store(tmp_path, read_only)
    done = run_unprivileged("--config", str(config), "status", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    rows = {line.split()[0]: line.split()[1] for line in done.stdout.splitlines()[1:3]}
    assert rows == {"s0": "ok", "s1": "ok"}
    assert db.read_bytes() == before
    # A command that writes says what is wrong and what to do.
    done = run_unprivileged("--config", str(config), "fetch", "--all", cwd=tmp_path)
    assert done.returncode == EXIT_FATAL
    assert_one_fatal_message(
        done.stderr, str(db), "must be able to write the file, its directory", "owner"
    )


def test_the_commands_that_only_read_the_store_work_where_its_user_may_only_read_it(
    tmp_path, read_only
):
    # A backup mounted read-only, another user's store: the file and its directory
    # read-only; the commentary files and the copy go elsewhere.
    (tmp_path / "commentary").mkdir()
    (tmp_path / "copies").mkdir()
    extra = "house:\n  commentary_dir: commentary\n"
    config, db, before = read_only_store(tmp_path, read_only, extra=extra)

    def run(*args: str) -> subprocess.CompletedProcess:
        done = run_unprivileged("--config", str(config), *args, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        return done

    run("comment", "new", "https://kapital.kz/s0/3")
    (written,) = (tmp_path / "commentary").glob("*.md")
    written.write_text(written.read_text(encoding="utf-8") + "Мнение редакции.\n", "utf-8")
    listed = run("comment", "list").stdout
    assert "ok       source 1.00" in listed
    assert "1 commentary: 1 matched" in listed
    copied = run("store", "copy", "--to", str(tmp_path / "copies" / "copy.sqlite")).stdout
    assert "verified: both stores hold 2 sources, 0 URL changes, 10 items" in copied
    assert db.read_bytes() == before


def test_a_look_by_another_user_leaves_nothing_that_stops_the_owners_next_run():
    # The store's directory is writable by the monitoring user too (a shared group, a
    # world-writable directory): status must not leave a -wal and -shm of its own there,
    # which the owner's cron run could not write.
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("running as two other users needs root and setpriv(1)")
    owner, monitor = 1000, 65534
    with tempfile.TemporaryDirectory() as shared:
        directory = Path(shared)
        config = site(directory)
        for path in (directory, *directory.rglob("*")):
            os.chown(path, owner, owner)
        directory.chmod(0o777)

        def run_as(uid: int, *args: str) -> subprocess.CompletedProcess:
            command = ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups"]
            command += [sys.executable, "-m", "aggregator", "--config", str(config), *args]
            env = {**os.environ, "PYTHONPATH": str(ROOT), "AGGREGATOR_CACHE_DIR": ""}
            return subprocess.run(
                command, capture_output=True, text=True, cwd=directory, env=env, timeout=120
            )

        assert run_as(owner, "fetch").returncode == 0
        looked = run_as(monitor, "status")
        assert looked.returncode == 0, looked.stderr
        assert looked.stdout.splitlines()[1].split()[:2] == ["s0", "ok"]
        fetched = run_as(owner, "fetch", "--all")
        assert fetched.returncode == 0, fetched.stderr
        assert "fetched 2 sources: 0 new items, 0 failed" in fetched.stdout


# --- a full disk --------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path) -> Iterator[Path]:
    """A 512 KiB tmpfs mounted for the test (needs root; skips where it cannot mount)."""
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a small file system needs root and mount(8)")
    mountpoint = tmp_path / "small"
    mountpoint.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(mountpoint)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.strip()}")
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", "-l", str(mountpoint)], check=False)


def test_a_full_disk_during_fetch_stops_the_run_with_one_message_and_loses_nothing(
    tmp_path, small_disk
):
    # 13 sources of ~150 KB of items each: three times what the disk holds.
    config = site(tmp_path, sources=13, items=60, text_words=80)
    db = small_disk / "store.sqlite"

    result = invoke("--config", str(config), "--db", str(db), "fetch")
    assert result.exit_code == EXIT_FATAL
    message = assert_one_fatal_message(
        result.output, str(db), "full", "free some disk space", "the run stopped after"
    )
    assert "of 13 sources" in message
    assert "unexpected failure" not in result.output  # no log line per source either
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    conn.close()

    # With room again, the next run stores everything.
    subprocess.run(["mount", "-o", "remount,size=16m", str(small_disk)], check=True)
    again = invoke("--config", str(config), "--db", str(db), "fetch")
    assert again.exit_code == 0, again.output
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM items").fetchone() == (13 * 60,)
    conn.close()


def test_a_full_disk_during_publish_is_one_message(tmp_path, small_disk):
    config = site(
        tmp_path, sources=4, items=60, text_words=80, extra=f"publish:\n  dir: {small_disk}\n"
    )
    assert invoke("--config", str(config), "fetch").exit_code == 0
    result = invoke("--config", str(config), "publish")
    assert result.exit_code == EXIT_FATAL
    assert_one_fatal_message(
        result.output, str(small_disk), "No space left on device", "free some disk space"
    )
    assert not list(small_disk.glob(".aggregator-tmp-*"))  # no half-written file left


@pytest.mark.parametrize("size", [100, 3000, 6000, 20000])
def test_a_file_that_does_not_fit_leaves_no_temporary_file(small_disk, size):
    # A file smaller than the write buffer fails at its flush, and closing it flushes
    # (and fails) again: the temporary file was left, a half-written file in output/.
    filler = small_disk / "filler"
    with contextlib.suppress(OSError), filler.open("wb") as f:
        while True:
            f.write(b"x" * 4096)
            f.flush()
    with pytest.raises(OSError):
        write_if_changed(small_disk / "all.atom", b"y" * size)
    assert sorted(p.name for p in small_disk.iterdir()) == ["filler"]


# --- what a killed run leaves behind ---------------------------------------------------


@pytest.mark.parametrize("command", [["publish"], ["related"], ["run"], ["fetch"]])
def test_temporary_files_of_a_killed_run_are_removed_by_the_next_run(tmp_path, command):
    config = site(tmp_path)
    assert invoke("--config", str(config), "run").exit_code == 0
    output = tmp_path / "output"
    # What a kill -9 in the middle of writing leaves: fresh, so no age rule removes them.
    left = [
        output / f"{TEMP_PREFIX}all.atom.x1y2",
        output / "related" / f"{TEMP_PREFIX}k.json.a1b2",
        output / "related" / "urls" / f"{TEMP_PREFIX}0a.json.c3d4",
        tmp_path / f"{TEMP_PREFIX}aggregator.sqlite.related.npz.e5f6",
    ]
    for path in left:
        path.write_bytes(b"half a file")
    # ... and its pid in the run lock (a run that ends empties it).
    (tmp_path / "aggregator.sqlite.lock").write_text("pid 999999")
    other_store = tmp_path / f"{TEMP_PREFIX}other.sqlite.related.npz.g7h8"  # not our lock's
    other_store.write_bytes(b"another store's run is writing this")

    assert invoke("--config", str(config), *command).exit_code == 0
    assert [path for path in left if path.exists()] == []
    assert other_store.exists()
    assert (output / "all.atom").exists()


def test_a_run_that_ends_leaves_the_lock_empty_so_the_next_lists_no_output(tmp_path):
    config = site(tmp_path)
    assert invoke("--config", str(config), "run").exit_code == 0
    lock = tmp_path / "aggregator.sqlite.lock"
    assert lock.read_text() == ""  # nobody holds it; nothing to clean up
    # A temporary file of no killed run (nothing said one died) is not looked for:
    # the output is not listed, whatever its size.
    unlisted = tmp_path / "output" / f"{TEMP_PREFIX}all.atom.x1y2"
    unlisted.write_bytes(b"not ours to know")
    assert invoke("--config", str(config), "related").exit_code == 0
    assert unlisted.exists()
    assert lock.read_text() == ""


def test_on_postgresql_a_file_in_the_configs_directory_tells_whether_a_run_was_killed(
    tmp_path, postgres
):
    """No lock file beside a PostgreSQL store (an advisory lock instead): a marker file
    beside its related index does the lock file's other job, so a run after one that
    ended lists no output, and a run after a killed one removes what it left."""
    config = site(tmp_path, extra=f"storage: {{url: '{postgres.new_store('marker')}'}}\n")
    assert invoke("--config", str(config), "run").exit_code == 0
    [marker] = tmp_path.glob("*.run")
    assert marker.read_text() == ""
    unlisted = tmp_path / "output" / f"{TEMP_PREFIX}all.atom.x1y2"
    unlisted.write_bytes(b"not ours to know")
    assert invoke("--config", str(config), "related").exit_code == 0
    assert unlisted.exists() and marker.read_text() == ""
    [index] = tmp_path.glob("*.related.npz")
    left = [unlisted, tmp_path / f"{TEMP_PREFIX}{index.name}.e5f6"]
    left[1].write_bytes(b"half an index")
    marker.write_text("pid 999999")  # what a kill -9 leaves
    assert invoke("--config", str(config), "related").exit_code == 0
    assert [path for path in left if path.exists()] == []
    assert marker.read_text() == ""


def test_serve_on_a_port_in_use_is_one_message(tmp_path):
    import socket

    config = site(tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = invoke("--config", str(config), "serve", "--port", str(port))
    assert result.exit_code == EXIT_FATAL
    assert_one_fatal_message(
        result.output, f"cannot serve on 127.0.0.1:{port}", "in use", "choose another --port"
    )
