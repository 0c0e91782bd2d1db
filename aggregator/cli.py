"""The command line: `aggregator fetch | publish | related | run | status | check-config | serve`.

Exit codes (cron reads them):
  0  the run worked, even if some sources failed (those are reported);
  1  a fatal error: bad configuration, unusable or damaged store, unwritable
     directory, full disk, a bug: one line saying what, where and what to do
     (the traceback only with -vv);
  2  wrong command-line usage (click's own);
  75 another run holds the lock (EX_TEMPFAIL: try again later).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import gc
import io
import logging
import math
import os
import select
import sqlite3
import sys
import traceback
from collections.abc import Iterator
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import IO, TYPE_CHECKING

import click

from aggregator import __version__, outdir
from aggregator.config import (
    Config,
    ConfigError,
    SourceConfig,
    config_dir,
    default_zone,
    language_code,
    load_config,
    resolve_path,
    source_zone,
    store_problem,
)
from aggregator.files import OWN_MARK, TEMP_PREFIX, remove_stale_temp_files
from aggregator.models import HostHold, SourceState
from aggregator.store import (
    Storage,
    StorageError,
    StoreNotMade,
    describe_location,
    is_postgres_url,
    open_for_reading,
    open_storage,
    postgres_lock,
)
from aggregator.text.counts import counted

if TYPE_CHECKING:
    from aggregator.health import Heartbeat
    from aggregator.house import HouseCommentary
    from aggregator.publish import PublishReport

EXIT_FATAL = 1
EXIT_LOCKED = 75

DEFAULT_CONFIG = "feeds.yaml"


def stamped(line: str) -> str:
    """``line`` after the time it is said at (ISO 8601, the host's local time with its
    offset): cron mails what a run prints or appends it to a log file, where a warning
    without its time cannot be told from last week's."""
    return f"{_local_time(datetime.now())} {line}"


def _local_time(moment: datetime) -> str:
    return moment.astimezone().isoformat(timespec="seconds")


class _StampedFormatter(logging.Formatter):
    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        return _local_time(datetime.fromtimestamp(record.created))


class Fatal(click.ClickException):
    exit_code = EXIT_FATAL


class Locked(click.ClickException):
    exit_code = EXIT_LOCKED


class _Commands(click.Group):
    """The command group: whatever goes wrong in a command ends as one message (what,
    where, what to do) and exit code 1; the traceback only with -vv.  Every error that
    ends it, ours or click's (wrong usage: a crontab's typo), is said as click says it,
    its ``Error:`` line after the time as every other error line."""

    def main(self, *args, standalone_mode: bool = True, **kwargs):
        if not standalone_mode:
            return super().main(*args, standalone_mode=False, **kwargs)
        try:
            code = super().main(*args, standalone_mode=False, **kwargs)
        except click.ClickException as exc:
            said = io.StringIO()
            exc.show(said)
            lines = said.getvalue().splitlines()
            lines = [stamped(line) if line.startswith("Error: ") else line for line in lines]
            click.echo("\n".join(lines), err=True)
            sys.exit(exc.exit_code)
        except click.Abort:  # Ctrl-C
            click.echo("Aborted!", err=True)
            sys.exit(1)
        # An exit code (click.exceptions.Exit, --help), or what the command returned (None).
        sys.exit(code if isinstance(code, int) else 0)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:
            if isinstance(exc, BrokenPipeError) and _reader_gone():
                # The reader went away (`status | head`): nothing to say, as any filter
                # would; stdout goes nowhere, so that exiting does not try to flush it.
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
                raise click.exceptions.Exit(EXIT_FATAL) from None
            state = ctx.find_object(Context)
            if state is not None and state.verbosity >= 2:
                traceback.print_exception(exc, file=sys.stderr)
            raise Fatal(fatal_message(exc, state)) from None


def _reader_gone() -> bool:
    """Whether stdout is a pipe whose reader closed it (a broken pipe of our own, e.g. to
    a worker process, is an error like any other)."""
    try:
        poll = select.poll()
        poll.register(sys.stdout.fileno(), 0)  # POLLERR/POLLHUP are always reported
        return any(events & (select.POLLERR | select.POLLHUP) for _, events in poll.poll(0))
    except (AttributeError, OSError, ValueError):  # not a file (a test's), or no poll
        return False


def fatal_message(exc: BaseException, ctx: Context | None = None) -> str:
    """One line for an error that ends the run: what went wrong, where, what to do."""
    if isinstance(exc, StorageError | ConfigError):
        return str(exc)  # these say where and what to do already
    if isinstance(exc, sqlite3.DatabaseError):
        where = ctx.store_location if ctx is not None and ctx._config is not None else "the store"
        return (
            f"store {where}: {exc}: the store is damaged or unusable; move it aside (a new, "
            "empty store is created in its place) or restore it from a backup"
        )
    if isinstance(exc, OSError):
        return os_problem(exc)
    if isinstance(exc, MemoryError):
        return "out of memory; run it where more memory is free (-vv shows where it happened)"
    return (
        f"internal error: {type(exc).__name__}: {exc}; this is a bug: run the command again "
        "with -vv to see where it happened, and report it"
    )


def os_problem(exc: OSError, where: str = "") -> str:
    """``<file>: <what the system said>; <what to do>`` for a failed file operation."""
    where = str(exc.filename or where)
    return f"{where + ': ' if where else ''}{exc.strerror or exc}; {_os_fix(exc)}"


_WRITABLE = (
    "make it writable by the user running aggregator, or point the configuration "
    "(storage.path, publish.dir, --db) somewhere that is"
)
_OS_FIXES = {
    errno.ENOSPC: "free some disk space, then run again (what was written before is kept)",
    errno.EDQUOT: "free some space in the user's disk quota, then run again",
    errno.EACCES: _WRITABLE,
    errno.EPERM: _WRITABLE,
    errno.EROFS: "it is on a read-only file system: mount it writable, or point the "
    "configuration (storage.path, publish.dir, --db) somewhere writable",
    errno.ENOENT: "check that the path exists",
}


def _os_fix(exc: OSError) -> str:
    default = (
        "check the path, its permissions and the disk"
        if exc.filename
        else "run the command again with -vv to see where it happened"
    )
    return _OS_FIXES.get(exc.errno or 0, default)


class Context:
    def __init__(self, config_path: str, db: str | None, verbosity: int) -> None:
        self.config_path = config_path
        self.db_override = db
        self.verbosity = verbosity
        self._config: Config | None = None
        # The commands cron runs carry on past a source with a problem in its own entry
        # (it alone is left out; see finish); the others stop at any problem.
        self.hold_broken_sources = False

    @property
    def config(self) -> Config:
        if self._config is None:
            try:
                self._config = load_config(
                    self.config_path, hold_broken_sources=self.hold_broken_sources
                )
            except ConfigError as exc:
                raise Fatal(str(exc)) from None
            for problem in self._config.source_problems:
                click.echo(stamped(f"Error: {problem}"), err=True)
        return self._config

    def finish(self) -> None:
        """Exit 1 (cron mails it) when sources were left out for problems in their
        entries, once the rest has been done."""
        if self._config is not None and self._config.source_problems:
            problems = self._config.source_problems
            raise Fatal(
                f"{self._config.path}: {counted(len(problems), 'problem')} in the entries of "
                "sources (above): those sources were left out, the rest was done; correct "
                "them ('aggregator check-config' lists every problem)"
            )

    @property
    def store_location(self) -> str | Path:
        """``--db``, else storage.url, else storage.path: a PostgreSQL URL, or a SQLite
        path (relative to the config file's directory when it comes from the config)."""
        if self.db_override:
            found = store_problem(self.db_override, "the current directory")
            if found is not None:  # not a file named "sqlite:" made in the current directory
                raise Fatal("--db: {}; {}".format(*found))
            return self.db_override if is_postgres_url(self.db_override) else Path(self.db_override)
        location = self.config.storage.url or self.config.storage.path
        if is_postgres_url(location):
            return location
        return resolve_path(self.config, location.removeprefix("file://"))

    @property
    def output_dir(self) -> Path:
        return resolve_path(self.config, self.config.publish.dir)

    def refuse_unusable_output_dir(self) -> None:
        """Fatal when ``output_dir`` is, or must be made under, something that is not a
        directory (a file left where publish.dir points): said before the run takes its
        lock or opens the store, so that such a run writes nothing.  One stat for a
        directory in place."""
        problem = outdir.not_a_directory(self.config, self.output_dir)
        if problem is not None:
            raise Fatal(problem)

    def own_output_dir(self) -> Path:
        """``output_dir``, for a command about to publish in it, marked as publish's
        (refused for ``outdir.foreign_files_problem``)."""
        if (self.output_dir / OWN_MARK).exists():
            # Marked by an earlier run: nothing to check, and a cron run with nothing new
            # does not pay for importing publish (0.15 s of a 0.5 s run).
            return self.output_dir
        from aggregator.publish import mark_own

        problem = outdir.foreign_files_problem(self.config, self.output_dir)
        if problem is not None:
            raise Fatal(problem)
        out_dir = self.output_dir
        try:
            mark_own(out_dir)
        except OSError as exc:
            raise Fatal(
                f"cannot write the outputs into {out_dir} (publish.dir): {os_problem(exc)}"
            ) from None
        return out_dir

    def echo(self, message: str = "", *, err: bool = False) -> None:
        if self.verbosity >= 0:
            click.echo(message, err=err)

    @contextlib.contextmanager
    def open_storage(
        self, *, read_only: bool = False, reading: bool = False, lock_timeout: float | None = None
    ) -> Iterator[Storage]:
        """The store; ``reading``: for a command that only reads it, which makes or
        upgrades it only where it must (``store.open_for_reading``); ``lock_timeout``:
        see ``store.open_storage``."""
        try:
            if reading:
                storage = open_for_reading(self.store_location)
            else:
                storage = open_storage(
                    self.store_location, read_only=read_only, lock_timeout=lock_timeout
                )
        except StoreNotMade:
            raise  # only read-only opening says so: the caller's to tell
        except StorageError as exc:
            raise Fatal(str(exc)) from None
        try:
            yield storage
        finally:
            storage.close()

    @contextlib.contextmanager
    def run_lock(self) -> Iterator[None]:
        """One run at a time per store: cron may start a run while the last is still going.

        SQLite: a lock file beside the store.  PostgreSQL: an advisory lock in the
        database, so that runs on several hosts exclude each other too, and a file of
        the same use as the lock file's content in the config's directory (see
        ``_holding``)."""
        location = self.store_location
        if not isinstance(location, Path):
            with postgres_lock(location, "run") as held:
                if not held:
                    raise Locked(
                        f"another aggregator run is using {describe_location(location)}; "
                        "this run exits without doing anything"
                    )
                from aggregator.related.persist import index_path

                # Beside the related index of this database: "<database>.run".
                marker = index_path(location, config_dir(self.config)).with_suffix("")
                marker = marker.with_suffix(".run")
                try:
                    handle = open(marker, "a+")  # noqa: SIM115 (closed by the with below)
                except OSError:  # cannot tell whether a run was killed: clean every time
                    self._remove_temporary_files()
                    yield
                    return
                with handle, self._holding(handle):
                    yield
            return
        lock_path = location.with_name(location.name + ".lock")
        try:
            lock_path.parent.mkdir(parents=True, exist_ok=True)
            handle = open(lock_path, "a+")  # noqa: SIM115 (closed by the with below)
        except OSError as exc:
            raise Fatal(
                f"cannot create the run lock {lock_path} beside the store: "
                f"{exc.strerror or exc}; {_os_fix(exc).replace('make it', 'make its directory')}"
            ) from None
        with handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.seek(0)
                holder = handle.read().strip() or "another process"
                raise Locked(
                    f"another aggregator run ({holder}) is using {location}; "
                    "this run exits without doing anything. If no run is active, "
                    f"something else holds {lock_path}."
                ) from None
            try:
                with self._holding(handle):
                    yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    @contextlib.contextmanager
    def _holding(self, handle: IO[str]) -> Iterator[None]:
        """Who holds the lock, in ``handle``'s file, for people; unbuffered, so a full
        disk cannot fail the close.  A run that ends empties it: a holder's pid found
        there is a run that was killed, and only then is there anything to clean
        (listing an output of 100,000 files costs a second)."""
        handle.seek(0)
        killed = handle.read().strip()
        with contextlib.suppress(OSError):
            os.ftruncate(handle.fileno(), 0)
            os.pwrite(handle.fileno(), f"pid {os.getpid()}".encode(), 0)
        if killed:
            self._remove_temporary_files()
            self._release_leases(killed)
        try:
            yield
        finally:
            with contextlib.suppress(OSError):
                os.ftruncate(handle.fileno(), 0)

    def _release_leases(self, killed: str) -> None:
        """A killed run's leases (PostgreSQL), which would keep its sources from this run
        until they end: under the lock, no run of this host is alive to hold them."""
        pid = killed.removeprefix("pid ")
        if isinstance(self.store_location, Path) or not pid.isdigit():
            return  # SQLite records no lease
        from aggregator.ingest.leases import run_holder

        with self.open_storage() as storage:
            storage.release(None, holder=run_holder(int(pid)))

    def _remove_temporary_files(self) -> None:
        """Half-written files a killed run left: under the lock, none is a live run's.

        In the output directory (and below) every temporary file is this store's; beside
        the store, only those named after it (another store may share the directory).
        """
        store = self.store_location
        if isinstance(store, Path):
            beside = store
        else:  # a PostgreSQL store's files (its related index) are in the config's directory
            from aggregator.related.persist import index_path

            beside = index_path(store, config_dir(self.config)).with_suffix("")
        for temp in beside.parent.glob(TEMP_PREFIX + beside.name + ".*"):
            with contextlib.suppress(OSError):
                temp.unlink()
        if self.output_dir.is_dir():
            for directory, _, _ in os.walk(self.output_dir):
                remove_stale_temp_files(Path(directory), older_than=0)


pass_ctx = click.make_pass_decorator(Context)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    default=lambda: os.environ.get("AGGREGATOR_CONFIG", DEFAULT_CONFIG),
    show_default="feeds.yaml, or $AGGREGATOR_CONFIG",
    # readable=False: the loader says what is wrong with the file, and exits 1.
    type=click.Path(dir_okay=False, readable=False),
    help="The configuration file.",
)
@click.option(
    "--db",
    default=None,
    type=click.Path(dir_okay=False),
    help="The store: a SQLite file or postgresql://USER@HOST/DB. Default: storage.url "
    "(or storage.path) in the config, aggregator.sqlite beside the config file.",
)
@click.option("-v", "--verbose", count=True, help="More detail; -vv for debug logs.")
@click.option("-q", "--quiet", is_flag=True, help="Only errors (for cron).")
@click.version_option(__version__, prog_name="aggregator")
@click.pass_context
def cli(ctx: click.Context, config_path: str, db: str | None, verbose: int, quiet: bool) -> None:
    """Fetch news feeds, store their items, and publish combined feeds."""
    verbosity = -1 if quiet else verbose
    level = {-1: logging.ERROR, 0: logging.WARNING, 1: logging.INFO}.get(verbosity, logging.DEBUG)
    handler = logging.StreamHandler()
    handler.setFormatter(_StampedFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler])
    ctx.obj = Context(config_path, db, verbosity)


@cli.command("check-config")
@pass_ctx
def check_config(ctx: Context) -> None:
    """Validate the configuration and say what it contains."""
    from aggregator.house import commentary_dir
    from aggregator.publish.html import templates_problem

    config = ctx.config
    # (Directories are looked at here, not by the loader: a validated file is reused
    # while its bytes stay the same, and a directory may be made meanwhile.)
    problem = templates_problem(config) or outdir.not_a_directory(config, ctx.output_dir)
    if problem is not None:
        raise Fatal(problem)
    click.echo(
        f"{config.path}: OK — {counted(len(config.sources), 'source')}, "
        f"{counted(len(config.outputs), 'output')}, store {describe_location(ctx.store_location)}"
    )
    commentary = commentary_dir(config)
    if commentary is not None and not commentary.exists():
        click.echo(
            f"note: house.commentary_dir: {commentary} does not exist: no commentary file is "
            "read until it does ('aggregator comment new' makes it)"
        )
    problem = outdir.foreign_files_problem(config, ctx.output_dir)
    if problem is not None:  # `related` alone may still write its widget there
        click.echo(f"note: run and publish refuse it: {problem}")


@cli.command()
@click.option("--all", "select_all", is_flag=True, help="Ignore schedules and backoff.")
@click.option(
    "--source", "only", multiple=True, metavar="ID", help="Fetch only this source (repeatable)."
)
@pass_ctx
def fetch(ctx: Context, select_all: bool, only: tuple[str, ...]) -> None:
    """Fetch the sources that are due, and store their new items."""
    ctx.hold_broken_sources = True
    with ctx.run_lock():
        _fetch(ctx, select_all=select_all, only=only)
    ctx.finish()


def _fetch(ctx: Context, *, select_all: bool, only: tuple[str, ...]) -> int:
    """Fetch what is due (or ``select_all``, or ``only`` these); how many were fetched."""
    # Here, not at the top: the fetcher (httpx, aiohttp, the parsers) costs `related`
    # and `publish` half a second of imports they do not use.
    from aggregator.ingest import update

    config = ctx.config
    known = {s.id for s in config.sources}
    unknown = [s for s in only if s not in known]
    held = [s for s in unknown if s in {h.id for h in config.held}]
    if held:
        raise Fatal(
            f"{', '.join(held)}: not fetched for the problems above in its entry in "
            f"{config.path}; correct them"
        )
    if unknown:
        raise Fatal(
            f"unknown source {', '.join(unknown)}; the sources in {config.path} are: "
            + ", ".join(sorted(known))
        )
    from aggregator.ingest.worker import LOCK_TIMEOUT_SECONDS

    # Beside workers (PostgreSQL), a lock a worker frozen inside its transaction holds
    # costs the sources that need it, not the run (SQLite: no such option, unchanged).
    with ctx.open_storage(lock_timeout=LOCK_TIMEOUT_SECONDS) as storage:
        now = datetime.now(UTC)
        due = update.plan(config, storage, now, select_all=select_all, only=only or None)
        if not due:
            ctx.echo("nothing is due; use --all to fetch every source now")
            return 0
        show_bar = ctx.verbosity >= 0 and sys.stderr.isatty()
        with click.progressbar(
            length=len(due), label="fetching", file=sys.stderr, hidden=not show_bar
        ) as bar:
            report = update.update(
                config, storage, now=now, sources=due, on_result=lambda _run: bar.update(1)
            )
    failed = report.failed
    held = [run.until for run in report.runs if run.status == "held" and run.until]
    ctx.echo(
        f"fetched {counted(len(report.runs), 'source')}: {counted(report.new_items, 'new item')}, "
        f"{len(failed)} failed"
        + (
            f", {len(held)} held until {_when(max(held), config.site.tz)} (their host asked "
            "to retry later; the first run after that fetches them)"
            if held
            else ""
        )
        + (
            f", {len(report.locked)} not stored for another worker's locks (fetched again next run)"
            if report.locked
            else ""
        )
        + (f", {counted(report.pruned, 'old item')} pruned" if report.pruned else "")
        + _leased_elsewhere(report.leased_elsewhere, report.lease_seconds)
    )
    for run in failed:
        click.echo(stamped(f"{run.source_id}: {run.status}: {run.error}"), err=True)
    if ctx.verbosity > 0:
        ctx.echo(
            f"  {counted(report.stored_by_workers, 'changed feed')} parsed and stored by worker "
            "processes"
        )
        for run in report.runs:
            ctx.echo(f"  {run.source_id}: {run.status} (+{run.new} new, {run.updated} updated)")
    return len(report.runs)


def _leased_elsewhere(ids: list[str], lease_seconds: float) -> str:
    """Due sources another fetcher holds: a worker's, or another host's run's (one killed
    there keeps them until its leases end; this host's next run takes back those of a
    run killed here).  A run elsewhere leases what is due there as this run leased its
    due sources (``lease_seconds``), so it is said how long such leases last."""
    if not ids:
        return ""
    minutes = math.ceil(lease_seconds / 60)
    return (
        f"; {counted(len(ids), 'due source')} left to another fetcher that leased "
        f"{'it' if len(ids) == 1 else 'them'} ({', '.join(ids[:5])}{', ...' if len(ids) > 5 else ''}):"
        f" a worker, or another host's run (a killed one's leases end within {minutes} min)"
    )


@cli.command()
@pass_ctx
def status(ctx: Context) -> None:
    """A table of every source's health."""
    from aggregator.ingest import schedule  # email.utils: costs other commands' start

    ctx.hold_broken_sources = True  # a mistake in one entry: the others' table, that one's why
    config = ctx.config
    location = ctx.store_location
    # A look, not a run: a store that is not there (a first run still to come, or a
    # mistyped --db) is said so, not made, with its directory, as an empty one.
    missing = isinstance(location, Path) and not location.exists()
    states: dict[str, SourceState] = {}
    now = datetime.now(UTC)
    holds: dict[str, HostHold] = {}
    if not missing:
        # Read-only: a monitoring user who may read the store, not write it, gets the
        # table (a source not registered yet shows as new, as it would after a sync).
        try:
            with ctx.open_storage(read_only=True) as storage:
                states = {s.source_id: s for s in storage.source_states()}
                holds = storage.host_holds(now)
        except StoreNotMade:
            missing = True  # a database with no tables yet: as a missing file
    rows = [
        ("SOURCE", "STATE", "LAST SUCCESS", "BACKOFF UNTIL", "ITEMS", "ENCODING", "DATES",
         "LAST ERROR"),
    ]  # fmt: skip
    held = {source.id for source in config.held}
    dates = _DateNotes(config)
    for source in config.published_sources():
        state = states.get(source.id) or SourceState(source.id, source.url, source.url)
        hold = None if source.id in held else schedule.host_hold(state, holds, now)
        health = "config_error" if source.id in held else schedule.health(state, now, hold)
        until, error = state.backoff_until, state.last_error or ""
        if source.id in held:
            until, error = None, "not fetched: a mistake in its entry in feeds.yaml (below)"
        elif health == "held" and hold is not None:  # why it waits, not its last error
            until = hold.until
            error = f"waits: its host {hold.host} answered {hold.source_id}: {hold.reason}"
        elif not error and state.guids_unstable is not None:
            error = (
                "note: its feed gives its items new guids on every fetch (since "
                f"{_when(state.guids_unstable, config.site.tz)}): they are known by their link"
            )
        rows.append(
            (
                source.id,
                health if source.enabled or source.id in held else "disabled",
                _when(state.last_success, config.site.tz),
                _when(until, config.site.tz),
                str(state.item_count),
                state.encoding or "-",
                dates.cell(source, state),
                error[:160],
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        click.echo("  ".join([*cells, row[-1]]).rstrip())
    for problem in config.entry_problems:
        click.echo(
            f"{problem.source_id}: not fetched until its entry is corrected: {problem.public}"
        )
    for line in dates.legend():
        click.echo(line)
    click.echo(f"times in {config.site.timezone} (site.timezone)")
    none_yet = " (none there yet: a fetch or run makes it; check storage.path / --db)"
    click.echo(f"store: {describe_location(location)}{none_yet if missing else ''}")
    _websub_status(ctx)
    ctx.finish()


class _DateNotes:
    """The DATES column of ``status``: what a source's last parsed feed's dates were like
    (dates without an offset, and the zone they are read in; numeric ones that may be
    day or month first), and, once below the table, what each note means."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.zoneless: tuple[str, str] | None = None  # (an example, its zone)
        self.ambiguous: str | None = None  # an example

    def cell(self, source: SourceConfig, state: SourceState) -> str:
        notes = []
        if state.zoneless_date:
            zone = source_zone(self.config, source)
            notes.append(f"no offset: {zone}")
            self.zoneless = self.zoneless or (state.zoneless_date, zone)
        if state.ambiguous_date:
            notes.append("day/month?")
            self.ambiguous = self.ambiguous or state.ambiguous_date
        return ", ".join(notes) or "-"

    def legend(self) -> list[str]:
        lines = []
        if self.zoneless:
            example, zone = self.zoneless
            lines.append(
                f"DATES no offset: ZONE: the feed's dates say no offset from UTC ({example!r})"
                " and are read as ZONE's time; if they are another zone's, say which in the "
                f"source's entry (timezone: {_other_zone(zone, self.config)})"
            )
        if self.ambiguous:
            lines.append(
                f"DATES day/month?: the feed's dates may be day or month first ("
                f"{self.ambiguous!r}), and none of them shows which: those items are dated "
                "as undated ones (when first seen)"
            )
        return lines


def _websub_status(ctx: Context) -> None:
    from aggregator.publish.websub import hub_statuses

    for hub in hub_statuses(ctx.config, ctx.output_dir):
        line = f"WebSub hub {hub.hub}: {hub.as_json()['state']}"
        if hub.last_success:
            line += f", last announced {hub.last_success}"
        if hub.pending:
            line += f", {counted(len(hub.pending), 'feed')} to announce on the next run: {hub.last_error}"
        click.echo(line)


def _when(moment: datetime | None, zone: tzinfo) -> str:
    """A stored time (UTC) as the site's people read it (site.timezone)."""
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M") if moment else "-"


@cli.command()
@pass_ctx
def publish(ctx: Context) -> None:
    """Write every output (Atom, RSS, JSON Feed, HTML, OPML, health) from the store."""
    from aggregator.health import Heartbeat

    ctx.hold_broken_sources = True
    ctx.refuse_unusable_output_dir()
    with ctx.run_lock():
        ctx.own_output_dir()
        _publish(ctx, Heartbeat("publish"))
    ctx.finish()


def _publish(
    ctx: Context, heartbeat: Heartbeat, house: HouseCommentary | None = None
) -> PublishReport:
    from aggregator.publish import publish as publish_outputs

    with ctx.open_storage() as storage:
        try:
            report = publish_outputs(
                ctx.config, storage, out_dir=ctx.output_dir, house=house, heartbeat=heartbeat
            )
        except ConfigError as exc:
            raise Fatal(str(exc)) from None
        except OSError as exc:
            raise Fatal(
                f"cannot write the outputs into {ctx.output_dir} (publish.dir): {os_problem(exc)}"
            ) from None
    ctx.echo(f"published into {ctx.output_dir}: {report}")
    if not report.fetched:
        ctx.echo(
            "  nothing has been fetched yet: run 'aggregator fetch' (or 'aggregator run')"
            " to fill the outputs"
        )
    for problem in report.problems:
        click.echo(stamped(f"commentary not published: {problem}"), err=True)
    return report


@cli.command()
@click.option("--rebuild", is_flag=True, help="Rebuild the index from scratch (fresh IDF).")
@pass_ctx
def related(ctx: Context, rebuild: bool) -> None:
    """Update the related-entries index; write related.json, related/ and the widget
    (with related.enabled false: remove them)."""
    ctx.hold_broken_sources = True
    ctx.refuse_unusable_output_dir()
    with ctx.run_lock():
        if ctx.config.related.enabled:
            _relate(ctx, rebuild=rebuild)
        elif not _withdraw_related(ctx):
            ctx.echo(f"related.enabled is false in {ctx.config.path}: nothing to do")
    ctx.finish()


def _withdraw_related(ctx: Context) -> list[str]:
    """related.enabled is false: the files an earlier run published go (their names)."""
    from aggregator.related import withdraw

    try:
        removed = withdraw(ctx.output_dir)
    except OSError as exc:
        raise Fatal(
            f"related.enabled is false in {ctx.config.path}, but the related files could "
            f"not be removed: {os_problem(exc, str(ctx.output_dir))}"
        ) from None
    if removed:
        ctx.echo(
            f"related.enabled is false in {ctx.config.path}: removed {', '.join(removed)} "
            f"from {ctx.output_dir}"
        )
    return removed


def _relate(ctx: Context, *, rebuild: bool = False, house: HouseCommentary | None = None) -> None:
    from aggregator.related import relate

    config, out_dir = ctx.config, ctx.output_dir
    with ctx.open_storage() as storage:
        try:
            result = relate(config, storage, out_dir, rebuild=rebuild, house=house)
        except OSError as exc:
            raise Fatal(
                f"cannot write the related index or its files: {os_problem(exc, str(out_dir))}"
            ) from None
    if result.damage is not None:  # a warning: cron's log (-q) keeps it
        click.echo(
            stamped(f"related: {result.damage}: written again from the related index"), err=True
        )
    ctx.echo(f"related: {result.stats}; {counted(result.entry_count, 'entry')}; files in {out_dir}")


@cli.command()
@click.option("--all", "select_all", is_flag=True, help="Ignore schedules and backoff.")
@pass_ctx
def run(ctx: Context, select_all: bool) -> None:
    """Fetch, update the related index, then publish: the command cron runs."""
    ctx.hold_broken_sources = True
    ctx.refuse_unusable_output_dir()
    with ctx.run_lock():
        ctx.own_output_dir()  # before fetching: a run that cannot publish says so first
        fetched = _fetch(ctx, select_all=select_all, only=())
        _relate_and_publish(ctx, fetched)
    ctx.finish()


def _relate_and_publish(ctx: Context, fetched: int) -> None:
    """The relate and publish stages of ``run``, skipped when nothing they read changed
    since the last run that ran them and what they wrote is in place (runstamp.py):
    then health.json alone is rewritten, the run's heartbeat."""
    from aggregator import runstamp
    from aggregator.health import Heartbeat, write_health

    out_dir = ctx.output_dir
    with ctx.open_storage() as storage:
        inputs = runstamp.current(ctx.config, storage, ctx.store_location)
        last = runstamp.read(out_dir)
        if runstamp.unchanged_since(last, inputs, storage, out_dir) and not _websub_pending(ctx):
            heartbeat = Heartbeat("run", fetched=fetched, published=False)
            try:
                write_health(ctx.config, storage, heartbeat, _websub_state(ctx), out_dir=out_dir)
            except OSError as exc:
                raise Fatal(
                    f"cannot write health.json into {out_dir} (publish.dir): {os_problem(exc)}"
                ) from None
            ctx.echo(
                "nothing changed since the last run: the related lists and outputs in "
                f"{out_dir} are current"
            )
            return
        # The next run asks what changed since this one's mark: kept in the change log.
        storage.changes_read("run", inputs.store_mark)
    runstamp.forget(out_dir)  # until this run has written everything
    from aggregator.house import HouseCommentary

    # Matched once for both stages: matching may index the whole store.
    with ctx.open_storage() as storage:
        house = HouseCommentary.load(ctx.config, storage)
    if ctx.config.related.enabled:
        _relate(ctx, house=house)
    else:
        _withdraw_related(ctx)
    report = _publish(ctx, Heartbeat("run", fetched=fetched), house=house)
    inputs.outputs = runstamp.snapshot(out_dir, [*report.written, *report.unchanged])
    runstamp.write(out_dir, inputs)


def _websub_pending(ctx: Context) -> bool:
    """Announcements a hub has still to get: publish retries them."""
    return any(hub["pending"] for hub in _websub_state(ctx))


def _websub_state(ctx: Context) -> list[dict[str, object]]:
    """Each WebSub hub's state as the last publish left it (no hubs: no import)."""
    if not ctx.config.publish.websub_hubs:
        return []
    from aggregator.publish.websub import hub_statuses

    return [hub.as_json() for hub in hub_statuses(ctx.config, ctx.output_dir)]


@cli.command()
@click.option(
    "--concurrency",
    default=8,
    show_default=True,
    type=click.IntRange(1, 1000),
    help="Sources this worker fetches at once.",
)
@click.option(
    "--lease",
    "lease_seconds",
    default=None,
    type=click.FloatRange(min=1),
    help="Seconds a source stays leased to this worker (default: 4x the longest fetch "
    "timeout, at least 120); renewed while its fetch runs, so a killed worker's sources "
    "wait this long for another.",
)
@click.option("--poll", "poll_seconds", default=5.0, hidden=True, type=click.FloatRange(min=0.05))
@pass_ctx
def worker(
    ctx: Context, concurrency: int, lease_seconds: float | None, poll_seconds: float
) -> None:
    """Fetch due sources until stopped (PostgreSQL store; run any number, on any hosts).

    SIGTERM or Ctrl-C: the fetches in flight finish and are stored, then it exits 0."""
    import asyncio
    import signal

    from aggregator.ingest.worker import LOCK_TIMEOUT_SECONDS, work

    # A mistake in one source's entry costs that source alone, as in a run: said when
    # the worker starts (its log), and in health.json and status as config_error.
    ctx.hold_broken_sources = True
    if isinstance(ctx.store_location, Path):
        raise Fatal(
            f"workers share a PostgreSQL store; {ctx.store_location} is SQLite: set "
            "storage.url to postgresql://USER@HOST/DB (or pass --db), or fetch with "
            "`aggregator run` from cron"
        )

    tz = ctx.config.site.tz

    def show(run) -> None:  # a SourceRun
        if run.status == "locked":
            return  # said as a warning
        if ctx.verbosity > 0 and run.status == "held" and run.until is not None:
            ctx.echo(f"  {run.source_id}: held until {_when(run.until, tz)} ({run.error})")
        elif ctx.verbosity > 0:
            ctx.echo(f"  {run.source_id}: {run.status} (+{run.new} new, {run.updated} updated)")

    async def until_stopped(storage: Storage):  # -> WorkerReport
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        return await work(
            ctx.config,
            storage,
            stop,
            concurrency=concurrency,
            lease_seconds=lease_seconds,
            poll_seconds=poll_seconds,
            on_result=show,
        )

    with ctx.open_storage(lock_timeout=LOCK_TIMEOUT_SECONDS) as storage:
        ctx.echo(f"worker: fetching due sources of {describe_location(ctx.store_location)}")
        if ctx.config.held:
            click.echo(
                stamped(
                    f"worker: {counted(len(ctx.config.held), 'source')} left out for the "
                    f"problems above in {ctx.config.path} (the others are fetched); correct "
                    "them, then restart the workers"
                ),
                err=True,
            )
        try:
            report = asyncio.run(until_stopped(storage))
        except StorageError as exc:  # its connection lost, the server gone: said once
            from aggregator.ingest.schedule import lease_seconds as default_lease

            lease = lease_seconds or default_lease(ctx.config.fetch, ctx.config.sources)
            raise Fatal(
                f"worker stopped: {exc}; the sources it was fetching go to the other "
                f"workers when its leases end (within {lease:g} s); start it again once "
                "the store answers (systemd's Restart=always does)"
            ) from None
    ctx.echo(
        f"worker stopped: fetched {counted(report.fetched, 'source')}, "
        f"{counted(report.new_items, 'new item')}, {report.failed} failed"
        + (
            f", {report.held} held until {_when(report.held_until, tz)} at the latest (their "
            "host asked to retry later; a worker fetches them after that)"
            if report.held
            else ""
        )
        + (
            f", {counted(report.leases_lost, 'lease')} lost (raise --lease)"
            if report.leases_lost
            else ""
        )
        + (
            f", {report.locked} not stored for another worker's locks (fetched again "
            "when their leases ended)"
            if report.locked
            else ""
        )
    )


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int)
@pass_ctx
def serve(ctx: Context, host: str, port: int) -> None:
    """Serve the output directory for preview (with ETag/304 and CORS)."""
    from aggregator.serve import make_server, serve_until_stopped

    # It reads publish.dir alone: a typo in a source's entry is said, not a reason to stop.
    ctx.hold_broken_sources = True

    try:
        server = make_server(ctx.output_dir, host=host, port=port)
    except OSError as exc:  # a port in use, a host name that does not resolve
        raise Fatal(
            f"cannot serve on {host}:{port}: {exc.strerror or exc}; "
            "choose another --port (or --host), or stop what is using it"
        ) from None
    bound_host, bound_port = server.server_address[:2]
    click.echo(
        f"serving {ctx.output_dir} on http://{bound_host}:{bound_port}/ (Ctrl-C or SIGTERM stops)"
    )
    if not (ctx.output_dir / "index.html").is_file():
        # Else every page is "404 not found", and nothing says why.
        click.echo(
            f"nothing is published in {ctx.output_dir} yet (no index.html): "
            "`aggregator run` fetches and publishes (`aggregator publish`: from the store alone)"
        )
    serve_until_stopped(server)


@cli.group("store")
def store_group() -> None:
    """The store itself: copy it into another (SQLite <-> PostgreSQL)."""


@store_group.command("copy")
@click.option(
    "--to",
    "target",
    required=True,
    metavar="URL|PATH",
    help="The store to copy into: postgresql://USER@HOST/DB or a SQLite file.",
)
@click.option(
    "--replace",
    is_flag=True,
    help="Delete what the target holds first (in the copy's transaction).",
)
@pass_ctx
def store_copy(ctx: Context, target: str, replace: bool) -> None:
    """Copy the configured store (sources, fetch states, URL history, items) into
    another, then verify the counts of every table in both.

    Stop cron and workers first: what they write after the copy begins is not copied."""
    from aggregator.store.copy import copy_store, rows

    ctx.hold_broken_sources = True  # the store is copied whole; a typo in a source aside
    found = store_problem(target, "the current directory")
    if found is not None:
        raise Fatal("--to: {}; {}".format(*found))
    source = ctx.store_location
    ctx.echo(f"copying {describe_location(source)} into {describe_location(target)}")

    def show(label: str, rows: int) -> None:
        ctx.echo(f"  {label}: {rows}")

    try:
        report = copy_store(source, target, replace=replace, on_table=show)
    except StorageError as exc:
        raise Fatal(str(exc)) from None
    if report.replaced:
        ctx.echo(f"replaced {counted(report.replaced, 'row')} the target held")
    counts = ", ".join(rows(n, label) for label, n in report.counts.items())
    ctx.echo(
        f"verified: both stores hold {counts} ({report.seconds:.1f} s). "
        f"Point storage.url (or --db) at {describe_location(target).split(' ', 1)[1]} to use it."
    )
    ctx.finish()


@cli.group()
def comment() -> None:
    """House commentary: start one on a stored item, see what each one matched."""


@comment.command("new")
@click.argument("source")
@pass_ctx
def comment_new(ctx: Context, source: str) -> None:
    """Create a commentary file on SOURCE (a stored item's URL, store key or id)."""
    from aggregator.house import CommentaryError, find_item, new_file, source_ref
    from aggregator.house.load import may_name
    from aggregator.house.match import why_unnameable

    ctx.hold_broken_sources = True  # another source's typo must not stop an editor
    config = ctx.config
    with ctx.open_storage(reading=True) as storage:
        stored = find_item(storage, source)
        if stored is None:
            raise Fatal(
                f"no stored item has the URL, key or id {source!r}; "
                "fetch its feed first (aggregator fetch), or check the link"
            )
        if not may_name(config)(stored):
            # A file naming it would be refused by publish: say so before it is written.
            raise Fatal(why_unnameable(source, stored, config))
        states = {s.source_id: s for s in storage.source_states(stored.source_ids)}
    try:
        path, text = new_file(
            config, stored, source_ref(stored, config, states), now=datetime.now(UTC)
        )
    except CommentaryError as exc:
        raise Fatal(str(exc)) from None
    if path.exists():
        raise Fatal(f"{path} already exists; edit it, or rename it to start another")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    click.echo(f"created {path}: write the comment below the front matter, then publish")
    ctx.finish()


@comment.command("list")
@pass_ctx
def comment_list(ctx: Context) -> None:
    """Every commentary with its matched source, method and confidence; flags what needs an editor."""
    from aggregator.house import house_source_ids, load_all, match_changed

    ctx.hold_broken_sources = True  # as publish sees the sources: another's typo aside
    config = ctx.config
    with ctx.open_storage(reading=True) as storage:
        house = house_source_ids(config)
        loaded = load_all(config, storage.iter_items(source_ids=house) if house else ())
        # The results the last run kept (and its saved index for what changed since), as
        # publish has them; read only: a run may be writing them meanwhile.
        matches = match_changed(loaded.commentary, storage, config, keep=False)

        def describe(key: str) -> str:
            stored = storage.get_item(key)
            if stored is None:
                return key
            source = config.source_name(stored.source_ids) or "?"
            return f"{source} — {stored.item.title}  {stored.item.link or key}"

        def short(key: str) -> str:
            stored = storage.get_item(key)
            if stored is None:
                return key
            return f"{config.source_name(stored.source_ids) or '?'} — {stored.item.title}"

        counts = {"ok": 0, "REVIEW": 0, "NO MATCH": 0, "ERROR": 0}
        for commentary in sorted(loaded.commentary, key=lambda c: c.published, reverse=True):
            match = matches[commentary.id]
            flag = {"confident": "ok", "review": "REVIEW", "none": "NO MATCH"}.get(
                match.status, "ERROR"
            )
            counts[flag] += 1
            click.echo(f"{commentary.where}  «{commentary.title}»")
            method = f"{match.method or '-'} {match.confidence:.2f}"
            if flag == "ok":
                for key in match.keys:
                    click.echo(f"  {flag:<9}{method:<17}{describe(key)}")
                for key in match.related:
                    click.echo(f"  {'related':<26}{describe(key)}")
            elif flag == "REVIEW":
                click.echo(f"  {flag:<9}{method:<17}{match.note}; is one of these the source?")
                for key, confidence in match.candidates:
                    click.echo(f"    {confidence:.2f}  {describe(key)}")
            elif flag == "NO MATCH":
                click.echo(f"  {flag:<9}{method:<17}{match.note}; add 'source:' if it is stored")
            else:
                line = f":{commentary.source_line}" if commentary.source_line else ""
                click.echo(f"  {flag:<9}{commentary.where}{line}: {match.error}")
            if flag != "ERROR":
                # Why: the quote found where, the names and numbers shared with the item.
                for line in (match.note, *match.evidence):
                    for key in (*match.keys, *(k for k, _ in match.candidates)):
                        line = line.replace(key, short(key))  # the item, not its store key
                    if line:
                        click.echo(f"    evidence: {line}")
        for problem in loaded.problems:
            counts["ERROR"] += 1
            click.echo(f"{problem.where}\n  {'ERROR':<9}{problem}")
    total = len(loaded.commentary) + len(loaded.problems)
    click.echo(
        f"{counted(total, 'commentary')}: {counts['ok']} matched, {counts['REVIEW']} to review, "
        f"{counts['NO MATCH']} without a match, {counts['ERROR']} with errors"
    )
    if counts["ERROR"]:
        raise Fatal(
            f"{counted(counts['ERROR'], 'commentary')} with errors: fix the files named ERROR above"
        )
    ctx.finish()


# -- adding sources: `add` and `import-opml` edit feeds.yaml, keeping its comments ----


def _editable_config(ctx: Context) -> Config:
    """The config to add to; ``sources: []`` is fine here (a new file starts so)."""
    try:
        return load_config(ctx.config_path, require_sources=False)
    except ConfigError as exc:
        raise Fatal(f"{exc}") from None


@cli.command()
@click.argument("url")
@click.option("--id", "source_id", metavar="ID", help="The source's id (default: from its host).")
@click.option("--name", help="The name shown in attribution (default: the feed's own title).")
@click.option(
    "--tags", multiple=True, metavar="TAG[,TAG]", help="Tags for the source (repeatable)."
)
@pass_ctx
def add(
    ctx: Context, url: str, source_id: str | None, name: str | None, tags: tuple[str, ...]
) -> None:
    """Add the feed at URL, or the feed a site's page at URL advertises, to feeds.yaml."""
    import asyncio
    from urllib.parse import urlsplit

    from aggregator.configedit import (
        NewSource,
        address_meant,
        append_sources,
        known_urls,
        source_id_for,
    )
    from aggregator.ingest.discover import DiscoveryError, discover
    from aggregator.ingest.fetch import Fetcher
    from aggregator.text.urls import canonical_url

    config = _editable_config(ctx)
    url = address_meant(url, config_dir(config))

    async def find():
        async with Fetcher(config.fetch, base_dir=config_dir(config)) as fetcher:
            return await discover(url, fetcher)

    try:
        found = asyncio.run(find())
    except DiscoveryError as exc:
        raise Fatal(f"{exc}") from None
    if found.page_url:
        ctx.echo(f"{found.page_url} is a page; the feeds it leads to:")
    for n, candidate in enumerate(found.feeds):
        feed = candidate.feed
        mark = "*" if n == 0 else " "
        ctx.echo(
            f" {mark} {candidate.url}\n     «{feed.title or '(no title)'}», "
            f"{feed.format}, language {feed.language or '(not given)'}, {counted(len(feed.items), 'item')}"
        )
    for problem in found.problems:
        ctx.echo(f"   not used: {problem}")
    chosen = found.feeds[0]
    known = known_urls(config)
    for candidate_url in (chosen.url, url):
        existing = known.get(canonical_url(candidate_url))
        if existing:
            raise Fatal(f"{chosen.url} is already configured as source '{existing}'")
    taken = {s.id for s in config.sources}
    if source_id and source_id in taken:
        raise Fatal(f"the id '{source_id}' is taken; choose another with --id")
    title = " ".join((chosen.feed.title or "").split())
    new = NewSource(
        id=source_id or source_id_for(name or title, chosen.url, taken),
        name=name or title or (urlsplit(chosen.url).hostname or chosen.url),
        url=chosen.url,
        language=language_code(chosen.feed.language),  # a feed's "Русский": ru
        tags=tuple(t.strip() for value in tags for t in value.split(",") if t.strip()),
    )
    try:
        append_sources(ctx.config_path, [new])
    except ConfigError as exc:
        raise Fatal(f"{exc}") from None
    ctx.echo(f"added source '{new.id}' ({new.name}) to {ctx.config_path}")
    zoneless = chosen.feed.zoneless_date
    if zoneless:
        zone, key = default_zone(config)
        other = _other_zone(zone, config)
        ctx.echo(
            f"its dates say no offset from UTC ({zoneless!r}) and are read as {zone} time "
            f"({key}); if they are {'UTC' if other == 'UTC' else other + ' time'}, add "
            f"'timezone: {other}' (or the zone they are in) to its entry"
        )
    if chosen.feed.ambiguous_date:
        ctx.echo(
            f"its dates such as {chosen.feed.ambiguous_date!r} may be day or month first, and "
            "none of them shows which: such items are dated when first seen until one does"
        )
    if len(found.feeds) > 1:
        ctx.echo("to add another of the feeds above: aggregator add URL")
    ctx.echo("fetch and publish it: aggregator run")


def _other_zone(zone: str, config: Config) -> str:
    """The zone to suggest for dates without an offset read in ``zone``: UTC, or the
    site's where they are read as UTC."""
    if zone.upper() in ("UTC", "ETC/UTC", "GMT", "ETC/GMT", "UCT", "ZULU"):
        return config.site.timezone
    return "UTC"


@cli.command("import-opml")
@click.argument("file", type=click.Path(dir_okay=False))
@pass_ctx
def import_opml(ctx: Context, file: str) -> None:
    """Add every feed of an OPML subscription list (another reader's export) to feeds.yaml."""
    from aggregator.configedit import OpmlError, append_sources, sources_from_opml

    config = _editable_config(ctx)
    try:
        data = Path(file).read_bytes()
    except OSError as exc:
        raise Fatal(f"{file}: cannot read: {exc.strerror or exc}") from None
    try:
        found = sources_from_opml(data, config, file)
    except OpmlError as exc:
        raise Fatal(f"{exc}") from None
    for line in found.broken:
        ctx.echo(stamped(f"{file}: {line}"), err=True)
    if found.sources:
        try:
            append_sources(ctx.config_path, found.sources)
        except ConfigError as exc:
            raise Fatal(f"{exc}") from None
    ctx.echo(
        f"{file}: added {counted(len(found.sources), 'source')} to {ctx.config_path}; "
        f"skipped {len(found.duplicates)} already configured or listed twice, "
        f"{len(found.broken)} broken"
    )
    if ctx.verbosity > 0:
        for line in found.duplicates:
            ctx.echo(f"  skipped {line}")


def main() -> None:
    # What is imported by now lives as long as the process: left out of the cycle
    # collector's passes, which a run's thousands of short-lived objects set off
    # (~0.05 s of a warm run walking every module's objects again and again).
    gc.freeze()
    cli(prog_name="aggregator")
