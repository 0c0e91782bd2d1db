"""A throw-away PostgreSQL server for the tests: initdb + pg_ctl in a temporary directory.

    with PostgresCluster.start() as cluster:      # or the session's `postgres` fixture
        url = cluster.new_store("store")   # postgresql://aggregator@127.0.0.1:PORT/aggregator?options=...

The server listens on 127.0.0.1 on a free port, trusts local connections (no password)
and runs without fsync: it holds test data only.  initdb refuses to run as root, so as
root the server runs as the ``postgres`` user (Debian's package creates it) through
``runuser``.  ``PostgresCluster.binaries()`` says why a server cannot be started, for a
skip reason.
"""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

USER = "aggregator"


def _bin_dir() -> Path | None:
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).resolve().parent
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresCluster:
    def __init__(self, bin_dir: Path, run_as: str | None) -> None:
        self.bin_dir = bin_dir
        self.run_as = run_as
        self.dir = Path(tempfile.mkdtemp(prefix="aggregator-pg-"))
        self.port = _free_port()
        self._names = itertools.count(1)

    @staticmethod
    def binaries() -> tuple[Path | None, str | None, str]:
        """(bin dir, user to run as or None, why not) for starting a server here."""
        bin_dir = _bin_dir()
        if bin_dir is None:
            return (
                None,
                None,
                (
                    "PostgreSQL is not installed (no initdb on PATH or in /usr/lib/postgresql/*/bin); "
                    "apt-get install postgresql"
                ),
            )
        if os.geteuid() != 0:
            return bin_dir, None, ""
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return None, None, "running as root and there is no 'postgres' user to run initdb as"
        if not shutil.which("runuser"):
            return None, None, "running as root and runuser is missing"
        return bin_dir, "postgres", ""

    @classmethod
    def start(cls) -> PostgresCluster:
        bin_dir, run_as, why = cls.binaries()
        if bin_dir is None:
            raise RuntimeError(why)
        cluster = cls(bin_dir, run_as)
        try:
            cluster._init_and_start()
        except BaseException:
            cluster.stop()
            raise
        return cluster

    def _run(self, *args: str) -> None:
        command = [str(self.bin_dir / args[0]), *args[1:]]
        if self.run_as:
            command = ["runuser", "-u", self.run_as, "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            log = self.dir / "server.log"
            server_log = log.read_text(errors="replace") if log.exists() else ""
            raise RuntimeError(
                f"{' '.join(command)} failed ({result.returncode}):\n"
                f"{result.stdout}{result.stderr}{server_log}"
            )

    def _init_and_start(self) -> None:
        if self.run_as:
            user = pwd.getpwnam(self.run_as)
            os.chown(self.dir, user.pw_uid, user.pw_gid)
        data = self.dir / "data"
        self._run(
            "initdb", "-D", str(data), "-U", USER, "-A", "trust", "-E", "UTF8",
            "--no-locale", "--no-sync",
        )  # fmt: skip
        options = (
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c max_connections=200"
        )
        self._run(
            "pg_ctl", "-D", str(data), "-o", options, "-l", str(self.dir / "server.log"),
            "-w", "-t", "60", "start",
        )  # fmt: skip
        self.started = True

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{database}"

    def new_store(self, name: str = "store") -> str:
        """The URL of a new, empty store: a schema of its own in the database
        ``aggregator`` (libpq's ``options`` set its search_path).  A schema costs a
        tenth of what a new database does."""
        import psycopg

        schema = f"{name.lower().replace('-', '_').replace('.', '_')}_{next(self._names)}"
        with psycopg.connect(self.url(), autocommit=True) as db:
            if not getattr(self, "database_ready", False):
                db.execute("CREATE DATABASE aggregator")
                self.database_ready = True
        with psycopg.connect(self.url("aggregator"), autocommit=True) as db:
            db.execute(f'CREATE SCHEMA "{schema}"')
        return self.url("aggregator") + f"?options=-csearch_path%3D{schema}"

    def stop(self) -> None:
        if getattr(self, "started", False):
            with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
                self._run("pg_ctl", "-D", str(self.dir / "data"), "-m", "immediate", "-w", "stop")
            self.started = False
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> PostgresCluster:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
