"""The benchmark: our ingest and publish beside lemon24/reader, on one corpus, in one run.

    python benchmarks/run.py                    # N = 100 and 1,000
    python benchmarks/run.py --quick            # N = 100 only
    python benchmarks/run.py --sizes 1000 --profile
    python benchmarks/run.py --publish-100k     # publish 10 outputs from 100,000 stored items

For each N it generates the corpus (benchmarks/corpus.py; kept between runs), starts the feed
server (benchmarks/feedserver.py, its own process), writes feeds.yaml, then measures, each in
a fresh process so that its peak RSS is its own:

    reader cold -> reader warm -> ours cold -> ours warm
    (server switches to the corpus where 10% of the feeds changed)
    reader changed -> ours changed -> ours publish

Ours runs through the real CLI (``aggregator --config .. --db .. fetch --all``); reader runs
``update_feeds(scheduled=False, workers=20)`` in its own venv (created on first use in
benchmarks/_work/venv-reader). Results: a markdown table on stdout and
benchmarks/_work/results-<N>.json. Nothing here asserts a timing.

Stdlib only: it runs under any Python >= 3.11 from a fresh clone.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
WORK = BENCH / "_work"
READER_REQUIREMENTS = ["reader==3.26", "sgmllib3k"]  # reader's bundled feedparser needs sgmllib
READER_WORKERS = 20
SEED = "aggregator-bench-1"
CHANGED_FRACTION = 0.1
PUBLISH_100K_FEEDS = 2000  # x 50 items

sys.path.insert(0, str(BENCH))
import corpus  # noqa: E402

# --- measuring a process -------------------------------------------------------------------


@dataclass
class Measured:
    cmd: list[str]
    wall_seconds: float
    peak_rss_mb: float  # the larger of: the process's own maxrss, the sampled sum over its tree
    exit_code: int
    stdout: str
    stderr: str
    cpu_seconds: float = 0.0  # user + system, the process and its waited-for children


def proc_stats() -> dict[int, tuple[int, int, int]]:
    """pid -> (parent pid, CPU clock ticks used (user + system), resident pages) of every
    process, from /proc/<pid>/stat."""
    found = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat.rsplit(b")", 1)[1].split()  # after the command, which may hold ")"
        found[int(name)] = (int(fields[1]), int(fields[11]) + int(fields[12]), int(fields[21]))
    return found


def children_map(stats: dict[int, tuple[int, int, int]] | None = None) -> dict[int, list[int]]:
    """pid -> its child processes' pids (of ``stats``, or of every process now)."""
    children: dict[int, list[int]] = defaultdict(list)
    for pid, (ppid, _, _) in (proc_stats() if stats is None else stats).items():
        children[ppid].append(pid)
    return children


def _tree_rss_bytes(root: int) -> int:
    """Resident memory of ``root`` and its descendants (worker processes count too)."""
    children = children_map()
    page = os.sysconf("SC_PAGE_SIZE")
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        try:
            with open(f"/proc/{pid}/statm", "rb") as f:
                total += int(f.read().split()[1]) * page
        except OSError:
            pass
        stack.extend(children.get(pid, ()))
    return total


def measure(cmd: list[str], *, cwd: Path | None = None, timeout: float = 3600) -> Measured:
    """Run ``cmd`` to completion; its wall time, peak RSS, CPU time and output."""
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}  # loopback only
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(
            cmd, cwd=cwd, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL
        )
        peak = 0
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.wait(0.1):
                peak = max(peak, _tree_rss_bytes(proc.pid))
                if time.perf_counter() - started > timeout:
                    proc.kill()

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        # wait4 gives this child's own rusage (maxrss, CPU), not the sum over all our children.
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        done.set()
        sampler.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Measured(
            cmd=[str(c) for c in cmd],
            wall_seconds=round(wall, 3),
            peak_rss_mb=round(max(peak, usage.ru_maxrss * 1024) / 2**20, 1),
            exit_code=proc.returncode,
            stdout=out.read().decode("utf-8", "replace"),
            stderr=err.read().decode("utf-8", "replace"),
            cpu_seconds=round(usage.ru_utime + usage.ru_stime, 3),
        )


# --- environments --------------------------------------------------------------------------


def _run(cmd: list, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in cmd], check=True, **kw)


def ensure_reader_venv() -> Path:
    """The venv with lemon24/reader (created on first use); returns its python."""
    venv = WORK / "venv-reader"
    python = venv / "bin" / "python"
    probe = [python, "-c", "import reader, sgmllib"]
    if (
        python.exists()
        and subprocess.run([str(c) for c in probe], capture_output=True).returncode == 0
    ):
        return python
    print(f"creating {venv} with {' '.join(READER_REQUIREMENTS)} ...", file=sys.stderr)
    shutil.rmtree(venv, ignore_errors=True)
    _run([sys.executable, "-m", "venv", venv])
    _run([python, "-m", "pip", "install", "-q", *READER_REQUIREMENTS])
    return python


def find_ours() -> Path | None:
    """Our ``aggregator`` executable, or None while its CLI lacks fetch/publish.

    The repo's .venv is used when present (the development install); from a fresh clone a
    venv with the package installed editable is made in benchmarks/_work/venv-ours.
    """
    exe = REPO / ".venv" / "bin" / "aggregator"
    if not exe.exists():
        venv = WORK / "venv-ours"
        exe = venv / "bin" / "aggregator"
        if not exe.exists():
            print(f"creating {venv} (pip install -e {REPO}) ...", file=sys.stderr)
            _run([sys.executable, "-m", "venv", venv])
            _run([venv / "bin" / "python", "-m", "pip", "install", "-q", "-e", REPO])
    # Byte-compiled as `pip install` leaves a package (and reader's venv is): with
    # PYTHONDONTWRITEBYTECODE set, an editable tree would be compiled again every run.
    subprocess.run([str(exe.parent / "python"), "-m", "compileall", "-q", str(REPO / "aggregator")],
                   capture_output=True)  # fmt: skip
    helped = subprocess.run([str(exe), "--help"], capture_output=True, text=True)
    commands = helped.stdout
    if helped.returncode != 0 or "fetch" not in commands or "publish" not in commands:
        return None
    return exe


def ensure_py_spy() -> Path | None:
    venv = WORK / "venv-tools"
    exe = venv / "bin" / "py-spy"
    if not exe.exists():
        try:
            _run([sys.executable, "-m", "venv", venv])
            _run([venv / "bin" / "python", "-m", "pip", "install", "-q", "py-spy"])
        except subprocess.CalledProcessError:
            return None
    return exe


# --- corpus and server ---------------------------------------------------------------------


def ensure_corpus(
    feeds: int, *, fraction: float = CHANGED_FRACTION, name: str = ""
) -> tuple[Path, corpus.Manifest]:
    """The corpus for ``feeds`` feeds, regenerated only when corpus.py changed."""
    directory = WORK / (name or f"corpus-{feeds}")
    stamp = hashlib.sha256((BENCH / "corpus.py").read_bytes()).hexdigest()[:16]
    stamp_file = directory / "generator.stamp"
    if not (stamp_file.exists() and stamp_file.read_text() == f"{stamp} {SEED} {fraction}"):
        shutil.rmtree(directory, ignore_errors=True)
        print(f"generating {feeds} feeds into {directory} ...", file=sys.stderr)
        corpus.generate(directory, feeds, seed=SEED)
        corpus.mutate(directory, fraction)
        stamp_file.write_text(f"{stamp} {SEED} {fraction}")
    return directory, corpus.Manifest.read(directory)


ONE_HOST = "127.0.0.2"  # feedserver.py --one-host serves every feed here


class FeedServer:
    """benchmarks/feedserver.py in its own process; restartable on the same port.

    ``one_host``: every feed on one address (one site serving all the feeds) instead of
    spread over 50.
    """

    def __init__(self, corpus_dir: Path, *, one_host: bool = False):
        self.corpus_dir = corpus_dir
        self.one_host = one_host
        self.port = 0
        self.proc: subprocess.Popen | None = None

    def start(self, *, changed: bool = False) -> None:
        cmd = [
            sys.executable,
            str(BENCH / "feedserver.py"),
            str(self.corpus_dir),
            "--port",
            str(self.port),
        ]
        if changed:
            cmd.append("--changed")
        if self.one_host:
            cmd.append("--one-host")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("READY "):
            self.stop()
            raise SystemExit(f"feed server did not start (said {line!r}); run: {' '.join(cmd)}")
        self.port = int(line.split()[1])

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=10)
            self.proc = None

    def restart(self, *, changed: bool) -> None:
        self.stop()
        self.start(changed=changed)

    def stats(self, *, reset: bool = False) -> dict:
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        url = f"http://127.0.0.1:{self.port}/_stats" + ("?reset=1" if reset else "")
        with opener.open(url, timeout=10) as response:
            return json.loads(response.read())

    def url(self, info: corpus.FeedInfo) -> str:
        host = ONE_HOST if self.one_host else info.host
        return f"http://{host}:{self.port}{info.path}"

    def __enter__(self) -> FeedServer:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


# --- configuration -------------------------------------------------------------------------


def _yaml_scalar(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(str(value), ensure_ascii=False)  # a JSON string is a YAML double-quoted one


def to_yaml(data: dict, indent: int = 0) -> str:
    """Block YAML for the dicts, lists and scalars of a generated config."""
    pad = " " * indent
    lines: list[str] = []
    for key, value in data.items():
        if isinstance(value, dict):
            lines.append(f"{pad}{key}:")
            lines.append(to_yaml(value, indent + 2))
        elif isinstance(value, list | tuple) and value and isinstance(value[0], dict):
            lines.append(f"{pad}{key}:")
            for entry in value:
                block = to_yaml(entry, indent + 4).splitlines()
                lines.append(f"{pad}  - " + block[0].lstrip())
                lines.extend(block[1:])
        elif isinstance(value, list | tuple):
            lines.append(f"{pad}{key}: [" + ", ".join(_yaml_scalar(v) for v in value) + "]")
        else:
            lines.append(f"{pad}{key}: {_yaml_scalar(value)}")
    return "\n".join(lines)


# Ten outputs, as a publisher would configure: everything, per language, per rubric, a filter.
OUTPUTS = [
    {"name": "all", "title": "Все новости"},
    {"name": "ru", "title": "Новости на русском", "languages": ["ru"]},
    {"name": "kk", "title": "Қазақша жаңалықтар", "languages": ["kk"]},
    {"name": "en", "title": "News in English", "languages": ["en"]},
    {"name": "politics", "title": "Политика", "tags": ["politics"]},
    {"name": "economy", "title": "Экономика", "tags": ["economy"]},
    {"name": "sport", "title": "Спорт", "tags": ["sport"]},
    {"name": "regions", "title": "Регионы", "tags": ["regions"]},
    {"name": "astana", "title": "Астана", "include": ["Астан", "Astana"]},
    {
        "name": "no-sport",
        "title": "Без спорта",
        "exclude": ["[Сс]порт|[Тт]урнир|tournament"],
        "max_entries": 50,
    },
]


def write_config(
    path: Path,
    manifest: corpus.Manifest,
    url_of,
    *,
    concurrency: int | None = None,
    per_host: int | None = None,
    commentary_dir: str | None = None,
) -> None:
    fetch: dict = {"timeout": 60, "allow_private_networks": ["127.0.0.0/8"]}
    if concurrency is not None:
        fetch["concurrency"] = concurrency
    if per_host is not None:
        fetch["per_host"] = per_host
    config = {
        "site": {
            "title": "Бенчмарк",
            "link": "https://bench.example.com/",
            "language": "ru",
            "feeds_url": "https://bench.example.com/feeds/",
            "house": "Бенчмарк",
        },
        "fetch": fetch,
        "storage": {"path": "aggregator.sqlite"},
        **({"house": {"commentary_dir": commentary_dir}} if commentary_dir else {}),
        "publish": {"dir": "output"},
        "outputs": OUTPUTS,
        "sources": [
            {
                "id": f"feed-{f.index:04d}",
                "name": f.title,
                "url": url_of(f),
                "language": f.language,
                "tags": f.tags,
            }
            for f in manifest.feeds
        ],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("# generated by benchmarks/run.py\n" + to_yaml(config) + "\n")


# --- the two sides ---------------------------------------------------------------------------


@dataclass
class RunResult:
    side: str  # "ours" or "reader"
    run: str  # "cold", "warm", "changed", "publish"
    setting: str  # ours: "c20/h2" (fetch.concurrency / per_host); reader: "w20" (workers)
    wall_seconds: float
    peak_rss_mb: float
    cpu_seconds: float
    exit_code: int
    feeds: int
    items_stored: int | None = None  # after the run
    new_items: int | None = None
    requests: dict = field(default_factory=dict)  # the feed server's counts for this run
    detail: dict = field(default_factory=dict)

    @property
    def feeds_per_second(self) -> float:
        return self.feeds / self.wall_seconds if self.wall_seconds else 0.0


def _last_json(text: str) -> dict:
    for line in reversed(text.strip().splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    return {}


def _check(m: Measured, what: str) -> None:
    if m.exit_code != 0:
        print(f"warning: {what} exited {m.exit_code}:\n{m.stderr[-2000:]}", file=sys.stderr)


class Reader:
    def __init__(self, python: Path, workdir: Path, urls: list[str]):
        self.python = python
        self.db = workdir / "reader.sqlite"
        self.urls_file = workdir / "reader-urls.json"
        workdir.mkdir(parents=True, exist_ok=True)
        self.urls_file.write_text(json.dumps(urls))
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.db}{suffix}").unlink(missing_ok=True)
        self.items_before = 0

    def run(self, label: str, server: FeedServer, workers: int) -> RunResult:
        server.stats(reset=True)
        cmd = [self.python, BENCH / "reader_bench.py", "--db", self.db, "--urls", self.urls_file,
               "--workers", workers]  # fmt: skip
        m = measure([str(c) for c in cmd])
        _check(m, f"reader {label}")
        detail = _last_json(m.stdout)
        items = detail.get("entries_total")
        result = RunResult(
            side="reader",
            run=label,
            setting=f"w{workers}",
            wall_seconds=m.wall_seconds,
            peak_rss_mb=m.peak_rss_mb,
            cpu_seconds=m.cpu_seconds,
            exit_code=m.exit_code,
            feeds=len(json.loads(self.urls_file.read_text())),
            items_stored=items,
            new_items=None if items is None else items - self.items_before,
            requests=server.stats(),
            detail=detail,
        )
        self.items_before = items or 0
        return result


class Ours:
    """Our product, driven through its CLI exactly as cron would run it."""

    def __init__(self, exe: Path, config: Path, setting: str = "", *, keep: bool = False):
        self.exe = exe
        self.setting = setting
        self.python = exe.parent / "python"
        self.config = config
        self.db = config.parent / "aggregator.sqlite"
        if not keep:  # a fresh start: no store, no outputs
            for suffix in ("", "-wal", "-shm", ".lock"):
                Path(f"{self.db}{suffix}").unlink(missing_ok=True)
            shutil.rmtree(config.parent / "output", ignore_errors=True)
        self.items_before = 0

    def base(self) -> list[str]:
        return [str(self.exe), "--config", str(self.config), "--db", str(self.db)]

    def timed(self, out: Path, command: list[str]) -> list[str]:
        """``aggregator <command>`` through stages.py: the same process, with the time of
        each stage of a run written to ``out`` (JSON)."""
        return [str(self.python), str(BENCH / "stages.py"), str(out), *self.base()[1:], *command]

    def count(self) -> dict:
        cmd = [
            self.python,
            BENCH / "storetool.py",
            "count",
            "--config",
            self.config,
            "--db",
            self.db,
        ]
        done = subprocess.run([str(c) for c in cmd], capture_output=True, text=True)
        if done.returncode != 0:
            print(f"warning: counting our store failed: {done.stderr[-1000:]}", file=sys.stderr)
            return {}
        return _last_json(done.stdout)

    def fetch(self, label: str, server: FeedServer, feeds: int) -> RunResult:
        server.stats(reset=True)
        m = measure([*self.base(), "fetch", "--all"])
        _check(m, f"ours {label}")
        counts = self.count()
        items = counts.get("items")
        result = RunResult(
            side="ours",
            run=label,
            setting=self.setting,
            wall_seconds=m.wall_seconds,
            peak_rss_mb=m.peak_rss_mb,
            cpu_seconds=m.cpu_seconds,
            exit_code=m.exit_code,
            feeds=feeds,
            items_stored=items,
            new_items=None if items is None else items - self.items_before,
            requests=server.stats(),
            detail={"stdout": m.stdout.strip()[-500:], **counts},
        )
        self.items_before = items or 0
        return result

    def publish(self, feeds: int) -> RunResult:
        m = measure([*self.base(), "publish"])
        _check(m, "ours publish")
        out = self.config.parent / "output"
        files = [p for p in out.rglob("*") if p.is_file()] if out.exists() else []
        return RunResult(
            side="ours",
            run="publish",
            setting=self.setting,
            wall_seconds=m.wall_seconds,
            peak_rss_mb=m.peak_rss_mb,
            cpu_seconds=m.cpu_seconds,
            exit_code=m.exit_code,
            feeds=feeds,
            items_stored=self.items_before,
            detail={
                "files_written": len(files),
                "bytes_written": sum(p.stat().st_size for p in files),
                "stdout": m.stdout.strip()[-500:],
            },
        )

    def profile_command(self, out_stem: Path, command: list[str]) -> Path | None:
        """``aggregator <command>`` under py-spy; the summary in ``<stem>.txt``."""
        py_spy = ensure_py_spy()
        if py_spy is None:
            return None
        raw, summary = out_stem.with_suffix(".folded"), out_stem.with_suffix(".txt")
        measure([str(py_spy), "record", "--subprocesses", "--rate", "250", "--format", "raw",
                 "-o", str(raw), "--", *self.base(), *command])  # fmt: skip
        if raw.exists():
            summary.write_text(summarize_folded(raw.read_text()))
            return summary
        return None

    def profile(self, out_stem: Path, *, use_py_spy: bool = True, warm_too: bool = False) -> Path:
        """A cold ingest under py-spy (all threads and subprocesses); cProfile if py-spy fails.

        ``warm_too``: then a warm one (every feed 304) into ``<stem>-warm.txt``.
        """
        for suffix in ("", "-wal", "-shm", ".lock"):
            Path(f"{self.db}{suffix}").unlink(missing_ok=True)
        py_spy = ensure_py_spy() if use_py_spy else None
        raw = out_stem.with_suffix(".folded")
        summary = out_stem.with_suffix(".txt")
        if py_spy is not None:
            cmd = [str(py_spy), "record", "--subprocesses", "--rate", "250", "--format", "raw",
                   "-o", str(raw), "--", *self.base(), "fetch", "--all"]  # fmt: skip
            m = measure(cmd)
            if m.exit_code == 0 and raw.exists():
                summary.write_text(summarize_folded(raw.read_text()))
                if warm_too:
                    warm = out_stem.with_name(out_stem.name.replace("cold", "warm"))
                    cmd[cmd.index(str(raw))] = str(warm.with_suffix(".folded"))
                    measure(cmd)
                    folded = warm.with_suffix(".folded")
                    if folded.exists():
                        warm.with_suffix(".txt").write_text(summarize_folded(folded.read_text()))
                return summary
            print(f"warning: py-spy failed ({m.stderr[-500:]}); using cProfile", file=sys.stderr)
            for suffix in ("", "-wal", "-shm", ".lock"):
                Path(f"{self.db}{suffix}").unlink(missing_ok=True)
        # cProfile sees only the main process: parse workers' time shows as waiting on them.
        prof = out_stem.with_suffix(".prof")
        code = (
            "import cProfile, sys; from aggregator.cli import main; "
            f"sys.argv = {[*self.base(), 'fetch', '--all']!r}; "
            f"cProfile.run('main()', {str(prof)!r})"
        )
        measure([str(self.python), "-c", code])
        stats = subprocess.run(
            [str(self.python), "-c",
             f"import pstats; s = pstats.Stats({str(prof)!r}); s.sort_stats('tottime').print_stats(30); "
             "s.sort_stats('cumulative').print_stats(30)"],
            capture_output=True, text=True,
        )  # fmt: skip
        summary.write_text(stats.stdout)
        return summary


_PLUMBING = ("click/", "asyncio/", "multiprocessing/", "concurrent/", "selectors.py", "threading.py",
             "runpy.py", "<module>", "process ", "sys_path")  # fmt: skip


def _function(frame: str) -> str:
    """'name (path/file.py:123)' -> 'name (path/file.py)': lines of one function add up."""
    name, _, where = frame.partition(" (")
    return f"{name} ({where.rsplit(':', 1)[0]})" if where else frame


def summarize_folded(folded: str, top: int = 25) -> str:
    """Where the time went, from py-spy's folded stacks: per process, then per function.

    Pool workers are forked from the main process, so they carry its stack below their own;
    inclusive figures therefore skip plumbing frames (click, asyncio, multiprocessing).
    """
    per_process: dict[str, int] = defaultdict(int)
    own: dict[str, int] = defaultdict(int)
    own_by_process: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    inclusive: dict[str, int] = defaultdict(int)
    total = 0
    for line in folded.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        # A worker's stack sits under its parent's "process" frame: the last one is its own.
        labels = [f.split(":", 1)[0] for f in frames if f.startswith("process ")]
        pid = labels[-1] if labels else "process ?"
        total += count
        per_process[pid] += count
        leaf = _function(frames[-1])
        own[leaf] += count
        own_by_process[pid][leaf] += count
        for fn in {_function(f) for f in frames if not any(p in f for p in _PLUMBING)}:
            inclusive[fn] += count
    if not total:
        return "no samples\n"
    main_pid = min(per_process, key=lambda p: int(p.split()[1]) if p.split()[1].isdigit() else 0)

    def pct(n: int) -> str:
        return f"{100 * n / total:5.1f}%"

    out = [
        f"{total} samples (py-spy, all threads and processes; % of all samples)",
        "",
        "processes:",
    ]
    for pid, n in sorted(per_process.items(), key=lambda kv: -kv[1]):
        out.append(f"  {pct(n)}  {pid} {'(main)' if pid == main_pid else '(parse worker)'}")
    out += ["", "own time, by function:"]
    out += [f"  {pct(n)}  {fn}" for fn, n in sorted(own.items(), key=lambda kv: -kv[1])[:top]]
    out += ["", "own time in the main process:"]
    main_own = own_by_process[main_pid]
    out += [f"  {pct(n)}  {fn}" for fn, n in sorted(main_own.items(), key=lambda kv: -kv[1])[:top]]
    out += ["", "inclusive time (plumbing frames left out):"]
    out += [f"  {pct(n)}  {fn}" for fn, n in sorted(inclusive.items(), key=lambda kv: -kv[1])[:top]]
    return "\n".join(out) + "\n"


# --- the suite ------------------------------------------------------------------------------


def machine() -> dict:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass

    def git(*args: str) -> str:
        done = subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else ""

    revision = git("rev-parse", "--short", "HEAD") or "unknown"
    if git("status", "--porcelain", "--", "aggregator"):
        revision += "+uncommitted"
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "revision": revision,
        "cores": os.cpu_count(),
        "cpu": cpu,
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def median_runs(results: list[RunResult]) -> list[RunResult]:
    """Per (side, run), the repetition with the median wall time (the slower middle one)."""
    groups: dict[tuple[str, str, str], list[RunResult]] = defaultdict(list)
    for r in results:
        groups[(r.side, r.run, r.setting)].append(r)
    return [sorted(g, key=lambda r: r.wall_seconds)[len(g) // 2] for g in groups.values()]


def _as_dict(r: RunResult) -> dict:
    return asdict(r) | {"feeds_per_second": round(r.feeds_per_second, 1)}


@dataclass(frozen=True)
class Setting:
    """Our fetch.concurrency / fetch.per_host; None: the product's default (no key written)."""

    concurrency: int | None = None
    per_host: int | None = None

    @property
    def label(self) -> str:
        if self.concurrency is None and self.per_host is None:
            return "default"
        return f"c{self.concurrency or 'd'}/h{self.per_host or 'd'}"

    @classmethod
    def parse(cls, text: str) -> Setting:
        """ "default", "20/20" (concurrency/per_host) or "100" (concurrency only)."""
        text = text.strip()
        if text == "default":
            return cls()
        c, _, h = text.partition("/")
        return cls(int(c), int(h) if h else None)


DEFAULT_SETTINGS = "default,20/20,100/100"


def settings_of(args: argparse.Namespace) -> list[Setting]:
    if args.concurrency is not None or args.per_host is not None:
        return [Setting(args.concurrency, args.per_host)]
    return [Setting.parse(t) for t in args.settings.split(",") if t.strip()]


def run_size(feeds: int, args: argparse.Namespace, *, one_host: bool = False) -> dict:
    """Every run for ``feeds`` feeds on one host layout: reader once, ours per setting."""
    corpus_dir, manifest = ensure_corpus(feeds)
    hosts = 1 if one_host else corpus.HOSTS
    workdir = WORK / f"run-{feeds}-{hosts}host"
    results: list[RunResult] = []
    ours_exe = None if args.skip_ours else find_ours()
    if ours_exe is None and not args.skip_ours:
        print(
            "note: aggregator's CLI has no fetch/publish yet; measuring reader only",
            file=sys.stderr,
        )
    reader_python = None if args.skip_reader else ensure_reader_venv()
    changed = len(manifest.changed)
    settings = settings_of(args)

    def note(r: RunResult) -> None:
        results.append(r)
        print(f"  {r.side:6} {r.setting:9} {r.run:8} {r.wall_seconds:7.2f} s  {r.peak_rss_mb:6.1f} MB  "
              f"items {r.items_stored}  requests {r.requests}", file=sys.stderr)  # fmt: skip

    with FeedServer(corpus_dir, one_host=one_host) as server:
        urls = [server.url(f) for f in manifest.feeds]
        configs = {}
        for setting in settings:
            configs[setting] = workdir / f"ours-{setting.label.replace('/', '-')}" / "feeds.yaml"
            write_config(
                configs[setting],
                manifest,
                server.url,
                concurrency=setting.concurrency,
                per_host=setting.per_host,
            )
        print(f"N={feeds}, {hosts} host(s): server on port {server.port}", file=sys.stderr)
        ours = None
        for repetition in range(args.repeat):
            if repetition:
                server.restart(changed=False)
            # New objects: each repetition starts from empty stores.
            reader = Reader(reader_python, workdir / "reader", urls) if reader_python else None
            sides = [Ours(ours_exe, configs[s], s.label) for s in settings] if ours_exe else []
            if reader:
                note(reader.run("cold", server, args.workers))
                note(reader.run("warm", server, args.workers))
            for ours in sides:
                note(ours.fetch("cold", server, feeds))
                note(ours.fetch("warm", server, feeds))
            server.restart(changed=True)
            if reader:
                note(reader.run("changed", server, args.workers))
            for ours in sides:
                note(ours.fetch("changed", server, feeds))
                note(ours.publish(feeds))
        profile = None
        if ours and args.profile:
            server.restart(changed=False)
            stem = WORK / f"profile-cold-{feeds}-{hosts}host"
            profile = ours.profile(stem, warm_too=True)
            print(f"profile of our cold and warm ingest: {profile}", file=sys.stderr)

    report = {
        "feeds": feeds,
        "hosts": hosts,
        "items_per_feed": corpus.ITEMS_PER_FEED,
        "changed_feeds": changed,
        "corpus_mb": round(sum(f.bytes for f in manifest.feeds) / 1e6, 1),
        "reader_workers": args.workers,
        "ours_fetch_settings": [asdict(s) | {"label": s.label} for s in settings],
        "machine": machine(),
        "load_before": os.getloadavg(),
        "command": " ".join(sys.argv),
        "repeat": args.repeat,
        "runs": [_as_dict(r) for r in median_runs(results)],
        "all_runs": [_as_dict(r) for r in results] if args.repeat > 1 else [],
        "profile": str(profile) if profile else None,
    }
    out = WORK / f"results-{feeds}-{hosts}host.json"
    out.write_text(json.dumps(report, ensure_ascii=False, indent=1))
    print(f"results: {out}", file=sys.stderr)
    return report


def _fmt(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def table(report: dict) -> str:
    """Markdown: one row per run and setting, ours beside reader, with reader/ours ratios."""
    runs = {(r["side"], r["run"], r["setting"]): r for r in report["runs"]}
    readers = {run: r for (side, run, _), r in runs.items() if side == "reader"}
    settings = [s["label"] for s in report["ours_fetch_settings"]]
    n = report["feeds"]
    lines = [
        f"N = {n:,} feeds × {report['items_per_feed']} items on {report.get('hosts', 50)} host(s) "
        f"({report['corpus_mb']} MB; {report['changed_feeds']} changed; median of "
        f"{report.get('repeat', 1)}), {report['machine']['cores']} cores, "
        f"{report['machine']['date']}, revision {report['machine'].get('revision')}; "
        f"reader: {report['reader_workers']} workers; load average before: "
        + ", ".join(f"{x:.2f}" for x in report.get("load_before", ())),
        "",
        "| run | ours setting | ours s | reader s | reader/ours time | ours feeds/s | ours items/s | ours peak RSS MB | reader peak RSS MB | server answers (ours) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for run in ("cold", "warm", "changed", "publish"):
        for setting in settings or [""]:
            o, r = runs.get(("ours", run, setting)), readers.get(run)
            if not o and not r:
                continue
            ratio = (
                f"{r['wall_seconds'] / o['wall_seconds']:.2f}×"
                if o and r and o["wall_seconds"]
                else "—"
            )
            items_s = None
            if o and o.get("new_items") is not None and run != "publish":
                items_s = o["new_items"] / o["wall_seconds"]
            answers = ""
            if o and o["requests"]:
                q = o["requests"]
                answers = (
                    f"{q.get('200_gzip', 0) + q.get('200_identity', 0)}×200, {q.get('304', 0)}×304"
                )
            if run == "publish" and o:
                answers = f"{o['detail'].get('files_written')} files written"
            lines.append(
                f"| {run} | {setting} | {_fmt(o and o['wall_seconds'])} | {_fmt(r and r['wall_seconds'])} | {ratio} "
                f"| {_fmt(o and o['feeds_per_second'], 0) if run != 'publish' else '—'} | {_fmt(items_s, 0)} "
                f"| {_fmt(o and o['peak_rss_mb'], 0)} | {_fmt(r and r['peak_rss_mb'], 0)} | {answers} |"
            )
    reader_only = [
        f"{run} {r['detail'].get('update_seconds')} s"
        for run in ("cold", "warm", "changed")
        if (r := readers.get(run)) and r["detail"]
    ]
    if reader_only:
        lines += [
            "",
            "reader's update_feeds() alone (without process start and add_feed): "
            + ", ".join(reader_only),
        ]
    stored = [
        f"{side} {setting} {run}: {x['items_stored']}"
        for (side, run, setting), x in runs.items()
        if run != "publish" and x["items_stored"] is not None
    ]
    if stored:
        lines += ["items stored after each run: " + "; ".join(stored)]
    return "\n".join(lines)


def publish_100k(args: argparse.Namespace) -> dict:
    """Publish 10 outputs from a store of 100,000 items built directly through Storage."""
    exe = find_ours()
    if exe is None:
        raise SystemExit("aggregator's CLI has no publish command yet: nothing to measure")
    workdir = WORK / "publish-100k"
    manifest = corpus.Manifest(SEED)
    for i in range(PUBLISH_100K_FEEDS):
        plan = corpus.plan_feed(SEED, i)
        manifest.feeds.append(
            corpus.FeedInfo(
                index=i,
                path=f"/feeds/{i:04d}.xml",
                file="",
                host=corpus.host_for(i),
                format=plan.format,
                language=plan.lang,
                encoding=plan.encoding,
                content_type="",
                tags=plan.tags,
                title=plan.title,
                items=corpus.ITEMS_PER_FEED,
                bytes=0,
            )
        )
    config = workdir / "feeds.yaml"
    # Port 9 (discard): never fetched, the sources only need valid URLs.
    write_config(config, manifest, lambda f: f"http://{f.host}:9{f.path}")
    ours = Ours(exe, config)
    print(
        f"building a store of {PUBLISH_100K_FEEDS * corpus.ITEMS_PER_FEED:,} items ...",
        file=sys.stderr,
    )
    build = measure([str(ours.python), str(BENCH / "storetool.py"), "build", "--config", str(config),
                     "--db", str(ours.db), "--seed", SEED])  # fmt: skip
    _check(build, "building the store")
    ours.items_before = _last_json(build.stdout).get("items", 0)
    pub = ours.publish(PUBLISH_100K_FEEDS)
    report = {
        "items": ours.items_before,
        "outputs": len(OUTPUTS),
        "build_seconds": build.wall_seconds,
        "publish": asdict(pub),
        "machine": machine(),
        "command": " ".join(sys.argv),
    }
    (WORK / "results-publish-100k.json").write_text(
        json.dumps(report, ensure_ascii=False, indent=1)
    )
    print(
        f"\npublish from {report['items']:,} stored items, {len(OUTPUTS)} outputs: "
        f"{pub.wall_seconds:.2f} s, peak RSS {pub.peak_rss_mb:.0f} MB, "
        f"{pub.detail['files_written']} files ({report['machine']['date']}, {report['machine']['cores']} cores)"
    )
    return report


CRON_FEEDS = 2000  # x 50 items = 100,000 stored
CRON_NEW_ITEMS = 10
CRON_COMMENTARY = 40


def write_commentary(directory: Path, manifest: corpus.Manifest) -> None:
    """House commentary files, each quoting the lead of a stored corpus item (for matching)."""
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    for k in range(CRON_COMMENTARY):
        index = (k * 47 + 5) % len(manifest.feeds)
        plan = corpus.plan_feed(SEED, index)
        item = corpus.feed_items(SEED, plan)[(k * 7) % corpus.ITEMS_PER_FEED]
        when = item.published + timedelta(hours=6)  # read as Astana time: an hour after it
        front = {
            "title": f"Комментарий: {item.title}",
            "date": when.strftime("%Y-%m-%d %H:%M"),
            "slug": f"comment-{k:03d}",
            "agency": plan.title,
            "quote": item.summary_text,
        }
        body = (
            f"Редакция следит за этой новостью. {item.title}. Что это значит для читателей, "
            "станет ясно в ближайшие недели: мы вернёмся к теме, когда появятся подробности.\n"
        )
        text = "---\n" + to_yaml(front) + "\n---\n\n" + body
        (directory / f"{when:%Y-%m-%d}-comment-{k:03d}.md").write_text(text, encoding="utf-8")


def _mtimes(directory: Path) -> dict[str, int]:
    return {
        str(p.relative_to(directory)): p.stat().st_mtime_ns
        for p in directory.rglob("*")
        if p.is_file() and not p.name.startswith("aggregator.sqlite")
    }


def _port_free(port: int) -> bool:
    """Whether the feed server could listen on ``port`` (it binds 127.0.0.1 first)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server does
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _restore(snapshot: Path, state: Path) -> None:
    """``state`` as ``snapshot`` (modification times as they were).  Every file a run
    writes but the store is replaced by a rename (aggregator/files.py), never written in
    place, so the ~100,000 files of a run's directory are hard links to the snapshot's
    (a copy of each took minutes on a loaded machine); the store's files are copied."""
    shutil.rmtree(state, ignore_errors=True)

    def link_or_copy(source: str, target: str) -> None:
        if Path(source).name.startswith("aggregator.sqlite") and not source.endswith(
            (".matchindex", ".npz")
        ):
            shutil.copy2(source, target)
        else:
            os.link(source, target)

    shutil.copytree(snapshot, state, copy_function=link_or_copy)
    # The relate stage notes related/ as a run left it (its inode and time, beside the
    # index) and lists its ~100,000 names only when that changed.  A copy has new inodes,
    # which no cron run sees between runs: where the note holds the directory's time (the
    # run before left it so), it is carried over to the copy's inode.
    for note in snapshot.glob("*.related.dir"):
        noted_time = note.read_text().split()[-1]
        for directory in snapshot.glob("*/related"):
            st = directory.stat()
            if noted_time == str(st.st_mtime_ns):
                copy = (state / directory.relative_to(snapshot)).stat()
                (state / note.name).write_text(f"{copy.st_ino} {copy.st_mtime_ns}")


_LOAD_MATCH_INDEX = """
import sys
from aggregator.config import load_config
from aggregator.house.saved import load_index
from aggregator.store import open_storage
config = load_config(sys.argv[1])
with open_storage(sys.argv[2]) as storage:
    load_index(storage, config)
"""


def cron_100k(args: argparse.Namespace) -> dict:
    """``aggregator run --all`` on a store of 100,000 items: nothing new, then 10 new items.

    The store is made the way a user makes it (a cold ``fetch --all`` of 2,000 served feeds
    of 50 items, then a first ``run`` that builds the related index and publishes); a
    snapshot of that state is restored before every measured run.
    """
    exe = find_ours()
    if exe is None:
        raise SystemExit("aggregator's CLI has no run command yet: nothing to measure")
    fraction = CRON_NEW_ITEMS / corpus.NEW_ITEMS_WHEN_CHANGED / CRON_FEEDS
    corpus_dir, manifest = ensure_corpus(
        CRON_FEEDS, fraction=fraction, name=f"corpus-cron-{CRON_FEEDS}"
    )
    workdir = WORK / "cron-100k"
    state, snapshot = workdir / "state", workdir / "snapshot"
    config = state / "feeds.yaml"
    port_file = workdir / "port"
    results: list[dict] = []

    def note(label: str, m: Measured, before: dict[str, int] | None = None, **extra) -> dict:
        _check(m, f"ours {label}")
        row = {"run": label, "wall_seconds": m.wall_seconds, "peak_rss_mb": m.peak_rss_mb,
               "cpu_seconds": m.cpu_seconds, "exit_code": m.exit_code,
               "stdout": m.stdout.strip()[-800:], **extra}  # fmt: skip
        if before is not None:
            after = _mtimes(state)
            row["files_rewritten"] = sorted(k for k, v in after.items() if before.get(k) != v)
            row["files_removed"] = sorted(set(before) - set(after))
        results.append(row)
        rewritten = len(row.get("files_rewritten", ()))
        shown = {k: v for k, v in extra.items() if k != "stages"}
        print(f"  ours {label:12} {m.wall_seconds:7.2f} s  {m.cpu_seconds:6.2f} s CPU  "
              f"{m.peak_rss_mb:6.1f} MB  files rewritten {rewritten}  {shown}",
              file=sys.stderr)  # fmt: skip
        if extra.get("stages"):
            print("    " + _stage_line(extra["stages"]), file=sys.stderr)
        return row

    with FeedServer(corpus_dir) as server:
        reuse = args.keep_store and (snapshot / "aggregator.sqlite").exists() and port_file.exists()
        if reuse and not _port_free(int(port_file.read_text())):
            # The kept store's URLs name that port; another process (another checkout's
            # benchmark server) holds it now.
            print(f"note: port {port_file.read_text()} of the kept store is taken: "
                  "building the store anew", file=sys.stderr)  # fmt: skip
            reuse = False
        if reuse:
            server.port = int(port_file.read_text())
            server.restart(changed=False)
            # One unmeasured run brings the kept state up to the current code (the run
            # stamp names the code it published with), then it is the snapshot again.
            _restore(snapshot, state)
            kept = Ours(exe, config, keep=True)
            note("refresh run", measure([*kept.base(), "run", "--all"]))
            # The saved match index names the code that built it: a run that finds
            # nothing new never reads it, so it is brought up to the current code here,
            # as the first run with news after an upgrade would (else every measured
            # *10 new* run, restored from the snapshot, would build it anew).
            note("match index", measure([str(kept.python), "-c", _LOAD_MATCH_INDEX,
                                         str(config), str(kept.db)]))  # fmt: skip
            shutil.rmtree(snapshot)
            _restore(state, snapshot)
        if not reuse:
            shutil.rmtree(workdir, ignore_errors=True)
            state.mkdir(parents=True)
            port_file.write_text(str(server.port))
            write_commentary(state / "commentary", manifest)
            write_config(config, manifest, server.url, commentary_dir="commentary",
                         concurrency=args.concurrency, per_host=args.per_host)  # fmt: skip
            ours = Ours(exe, config)
            print(f"building a store of {CRON_FEEDS * corpus.ITEMS_PER_FEED:,} items ...",
                  file=sys.stderr)  # fmt: skip
            note("cold fetch", measure([*ours.base(), "fetch", "--all"]), items=ours.count())
            note("first run", measure([*ours.base(), "run", "--all"]))
            _restore(state, snapshot)
        ours = Ours(exe, config, keep=True)  # the stored state stays
        stages = workdir / "stages.json"
        for _ in range(args.repeat):
            _restore(snapshot, state)
            server.stats(reset=True)
            before = _mtimes(state)
            m = measure(ours.timed(stages, ["run", "--all"]))
            note("nothing new", m, before, requests=server.stats(), stages=_stages(stages))
            _restore(snapshot, state)
            server.restart(changed=True)
            server.stats(reset=True)
            before = _mtimes(state)
            m = measure(ours.timed(stages, ["run", "--all"]))
            note(f"{CRON_NEW_ITEMS} new", m, before, requests=server.stats(),
                 stages=_stages(stages), items=ours.count())  # fmt: skip
            server.restart(changed=False)
        if args.profile:
            for label, changed in (("nothing-new", False), (f"{CRON_NEW_ITEMS}-new", True)):
                _restore(snapshot, state)
                server.restart(changed=changed)
                stem = WORK / f"profile-cron-100k-{label}"
                ours.profile_command(stem, ["run", "--all"])
                print(f"profile of run --all, {label}: {stem}.txt", file=sys.stderr)
            server.restart(changed=False)

    medians = {}
    for label in ("nothing new", f"{CRON_NEW_ITEMS} new"):
        runs = sorted((r for r in results if r["run"] == label), key=lambda r: r["wall_seconds"])
        if runs:
            medians[label] = runs[len(runs) // 2]
    report = {
        "items": CRON_FEEDS * corpus.ITEMS_PER_FEED,
        "sources": CRON_FEEDS,
        "commentary": CRON_COMMENTARY,
        "machine": machine(),
        "load_before": os.getloadavg(),
        "command": " ".join(sys.argv),
        "repeat": args.repeat,
        "median": medians,
        "all_runs": results,
    }
    (WORK / "results-cron-100k.json").write_text(json.dumps(report, ensure_ascii=False, indent=1))
    print(
        f"\n`aggregator run --all` on {report['items']:,} stored items from {CRON_FEEDS:,} feeds "
        f"(all served; {CRON_COMMENTARY} commentary files), median of {args.repeat}, "
        f"{report['machine']['date']}, revision {report['machine']['revision']}:"
    )
    print(
        "\n| run | s | peak RSS MB | files rewritten | server answers |\n|---|---:|---:|---:|---|"
    )
    for label, r in medians.items():
        q = r.get("requests", {})
        answers = f"{q.get('200_gzip', 0) + q.get('200_identity', 0)}×200, {q.get('304', 0)}×304"
        print(f"| {label} | {r['wall_seconds']:.2f} | {r['peak_rss_mb']:.0f} "
              f"| {len(r['files_rewritten'])} | {answers} |")  # fmt: skip
    print(stage_table(medians))
    return report


# The stages of a run as stages.py names them: fetch contains parse, store and prune.
STAGE_ORDER = ("start", "fetch", "parse", "store", "prune", "runstamp", "match", "related",
               "publish", "other", "total")  # fmt: skip
_PARTS_OF_FETCH = ("parse", "store", "prune")


def _stages(path: Path) -> dict[str, dict[str, float]]:
    """stages.py's table of the run just measured, with "other": the total's time outside
    every top-level stage (the store's opening and closing, the run lock, config)."""
    try:
        stages = json.loads(path.read_text())
        path.unlink()
    except (OSError, ValueError):
        return {}
    total = stages.get("total")
    if total:
        top = [v for k, v in stages.items() if k not in (*_PARTS_OF_FETCH, "plan", "total")]
        stages["other"] = {
            what: total[what] - sum(v[what] for v in top) for what in ("wall", "cpu")
        }
    return stages


def _stage_line(stages: dict) -> str:
    return (
        "  ".join(
            f"{name} {stages[name]['wall']:.2f}/{stages[name]['cpu']:.2f}"
            for name in STAGE_ORDER
            if name in stages
        )
        + "  (wall/CPU s; fetch includes parse, store, prune)"
    )


def stage_table(medians: dict[str, dict]) -> str:
    """Per stage, wall and CPU seconds of each median run (CPU: this process only, plus
    the worker processes it waited for, shown apart)."""
    labels = [label for label, r in medians.items() if r.get("stages")]
    if not labels:
        return ""
    head = "| stage | " + " | ".join(f"{label}: wall s | CPU s" for label in labels) + " |"
    rule = "|---|" + "---:|---:|" * len(labels)
    lines = ["", "Where each run's time went (`benchmarks/stages.py`; fetch includes parse, "
             "store and prune; workers' CPU in brackets):", "", head, rule]  # fmt: skip
    for name in STAGE_ORDER:
        cells = []
        for label in labels:
            row = medians[label]["stages"].get(name)
            if row is None:
                cells += ["", ""]
                continue
            cpu = f"{row['cpu']:.3f}"
            if row.get("cpu_children", 0) >= 0.0005 and name != "total":
                cpu += f" (+{row['cpu_children']:.3f})"
            cells += [f"{row['wall']:.3f}", cpu]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--sizes", default="100,1000", help="comma-separated feed counts (default 100,1000)"
    )
    parser.add_argument("--quick", action="store_true", help="N = 100 only")
    parser.add_argument(
        "--workers", type=int, default=READER_WORKERS, help="reader's update_feeds workers"
    )
    parser.add_argument(
        "--settings",
        default=DEFAULT_SETTINGS,
        help="our fetch settings to run, comma-separated: 'default' (the product's), "
        f"'C/H' (concurrency/per_host) (default {DEFAULT_SETTINGS})",
    )
    parser.add_argument(
        "--hosts",
        default="50,1",
        help="host layouts, comma-separated: 50 (feed i on 127.0.0.(2 + i mod 50)), "
        "1 (every feed on 127.0.0.2) (default 50,1)",
    )
    parser.add_argument("--concurrency", type=int, help="one setting: our fetch.concurrency")
    parser.add_argument("--per-host", type=int, help="one setting: our fetch.per_host")
    parser.add_argument(
        "--repeat", type=int, default=1, help="run the sequence K times; report medians"
    )
    parser.add_argument("--skip-reader", action="store_true")
    parser.add_argument("--skip-ours", action="store_true")
    parser.add_argument(
        "--profile", action="store_true", help="also profile our cold ingest (py-spy)"
    )
    parser.add_argument(
        "--publish-100k", action="store_true", help="only the 100,000-item publish benchmark"
    )
    parser.add_argument(
        "--cron-100k",
        action="store_true",
        help="only `aggregator run --all` on a 100,000-item store: nothing new, then 10 new items",
    )
    parser.add_argument(
        "--keep-store",
        action="store_true",
        help="--cron-100k: reuse the store built by the last --cron-100k run",
    )
    parser.add_argument(
        "--workers-pg",
        metavar="N,N,...",
        help="only fetch workers against one PostgreSQL, e.g. 1,2,4 processes, beside SQLite "
        "(benchmarks/workers_pg.py)",
    )
    parser.add_argument(
        "--pg-feeds", type=int, default=2000, help="--workers-pg: feeds (x 50 items; 2000)"
    )
    parser.add_argument(
        "--pg-run", action="store_true", help="--workers-pg: also one fetch --all on PostgreSQL"
    )
    parser.add_argument(
        "--pg-url", help="--workers-pg: a PostgreSQL server to use (default: a throw-away one)"
    )
    args = parser.parse_args(argv)
    WORK.mkdir(parents=True, exist_ok=True)
    # The feed server and the clients each hold one socket per connection; raise a low limit.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 4096 <= hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (4096, hard))
    if args.publish_100k:
        publish_100k(args)
        return 0
    if args.cron_100k:
        cron_100k(args)
        return 0
    if args.workers_pg:
        import workers_pg

        workers_pg.run_workers_pg(args)
        return 0
    try:
        sizes = [100] if args.quick else [int(s) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        parser.error(f"--sizes takes numbers separated by commas, not {args.sizes!r}")
    layouts = [h.strip() for h in args.hosts.split(",") if h.strip()]
    if not set(layouts) <= {"1", str(corpus.HOSTS)}:
        parser.error(f"--hosts takes 1 and/or {corpus.HOSTS}, not {args.hosts!r}")
    reports = [run_size(n, args, one_host=h == "1") for n in sizes for h in layouts]
    print()
    for report in reports:
        print(table(report))
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
