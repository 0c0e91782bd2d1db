"""Run the ``aggregator`` CLI with the time of each stage of ``run`` written down.

    .venv/bin/python benchmarks/stages.py OUT.json --config feeds.yaml run --all

The same process as the ``aggregator`` executable (``aggregator.cli.main`` with the
arguments after OUT.json), with a few of its functions wrapped so that their wall time
and CPU time (this process, and the worker processes it waited for) are added up per
stage.  OUT.json gets, per stage, ``wall``, ``cpu`` (user + system of this process),
``cpu_children`` and ``calls``; times are inclusive: ``fetch`` contains ``parse``,
``store`` and ``prune``.  ``start`` is from the process's start to the CLI's first
line (interpreter, imports of the CLI), ``total`` to the CLI's return.

Used by ``run.py --cron-100k``.  It names the functions it wraps; one that a revision
lacks is left out of the table (printed to stderr), so the same file times older
checkouts too (``PYTHONPATH``-free: it imports whichever ``aggregator`` the python has).
Stdlib only; nothing here changes what the run does.
"""

from __future__ import annotations

import atexit
import functools
import importlib
import importlib.abc
import json
import os
import resource
import sys
import time

# (stage, module, attribute): attribute "Class.method" wraps a method (a classmethod too).
STAGES: tuple[tuple[str, str, str], ...] = (
    ("fetch", "aggregator.cli", "_fetch"),
    ("plan", "aggregator.ingest.update", "plan"),
    ("parse", "aggregator.parse", "parse_feed"),
    ("store", "aggregator.store.sql", "SQLStorage.seen_items"),
    ("store", "aggregator.store.sql", "SQLStorage.apply_fetch"),
    ("prune", "aggregator.store.sql", "SQLStorage.prune"),
    ("runstamp", "aggregator.runstamp", "current"),
    ("runstamp", "aggregator.runstamp", "unchanged_since"),
    ("match", "aggregator.house.entries", "HouseCommentary.load"),
    ("related", "aggregator.cli", "_relate"),
    ("publish", "aggregator.cli", "_publish"),
)


def _clock() -> tuple[float, float, float]:
    own = os.times()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (time.perf_counter(), own.user + own.system, children.ru_utime + children.ru_stime)


def _process_age() -> tuple[float, float]:
    """Seconds since this process started (wall), and its CPU seconds so far."""
    with open("/proc/self/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    started = int(fields[19]) / ticks  # field 22: starttime, after boot
    with open("/proc/uptime") as f:
        uptime = float(f.read().split()[0])
    own = os.times()
    return uptime - started, own.user + own.system


class Recorder:
    def __init__(self) -> None:
        self.totals: dict[str, dict[str, float]] = {}
        self.active: dict[str, int] = {}  # a stage's calls in progress (recursion counts once)

    def add(self, stage: str, before: tuple, after: tuple) -> None:
        row = self.totals.setdefault(
            stage, {"wall": 0.0, "cpu": 0.0, "cpu_children": 0.0, "calls": 0}
        )
        row["wall"] += after[0] - before[0]
        row["cpu"] += after[1] - before[1]
        row["cpu_children"] += after[2] - before[2]
        row["calls"] += 1

    def wrap(self, stage: str, function):
        @functools.wraps(function)
        def timed(*args, **kwargs):
            if self.active.get(stage):
                return function(*args, **kwargs)
            self.active[stage] = 1
            before = _clock()
            try:
                return function(*args, **kwargs)
            finally:
                self.active[stage] = 0
                self.add(stage, before, _clock())

        return timed


def _patch(recorder: Recorder, module: object, stage: str, attribute: str) -> bool:
    owner_name, _, name = attribute.rpartition(".")
    owner = getattr(module, owner_name, None) if owner_name else module
    raw = vars(owner).get(name) if owner is not None else None
    if raw is None:
        return False
    if isinstance(raw, classmethod):
        setattr(owner, name, classmethod(recorder.wrap(stage, raw.__func__)))
    else:
        setattr(owner, name, recorder.wrap(stage, raw))
    return True


class _WrapOnImport(importlib.abc.MetaPathFinder):
    """Wraps a module's functions when the run imports it: importing them up front
    would add imports (the parser, the matcher) to runs that never use them."""

    def __init__(self, recorder: Recorder, wanted: dict[str, list[tuple[str, str]]]) -> None:
        self.recorder, self.wanted = recorder, wanted
        self.missing: list[str] = []

    def find_spec(self, name, path, target=None):
        if name not in self.wanted:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None and spec.loader is not None:
                break
        else:
            return None
        loader, todo = spec.loader, self.wanted.pop(name)

        def exec_module(module, _exec=loader.exec_module):
            _exec(module)
            for stage, attribute in todo:
                if not _patch(self.recorder, module, stage, attribute):
                    self.missing.append(f"{name}.{attribute}")

        loader.exec_module = exec_module
        return spec


def install(recorder: Recorder) -> _WrapOnImport:
    """Wrap every function of STAGES: now for the modules already imported, else when
    the run imports them.  The hook's ``missing`` names those this checkout lacks."""
    wanted: dict[str, list[tuple[str, str]]] = {}
    for stage, module_name, attribute in STAGES:
        wanted.setdefault(module_name, []).append((stage, attribute))
    hook = _WrapOnImport(recorder, {})
    for module_name, todo in wanted.items():
        module = sys.modules.get(module_name)
        if module is None:
            hook.wanted[module_name] = todo
            continue
        for stage, attribute in todo:
            if not _patch(recorder, module, stage, attribute):
                hook.missing.append(f"{module_name}.{attribute}")
    sys.meta_path.insert(0, hook)
    return hook


def main() -> None:
    out, argv = sys.argv[1], sys.argv[2:]
    recorder = Recorder()
    from aggregator import cli  # the CLI's own imports count to "start", as they would

    age, cpu = _process_age()
    recorder.add("start", (0.0, 0.0, 0.0), (age, cpu, 0.0))
    hook = install(recorder)

    def write() -> None:
        if hook.missing:
            print(f"stages.py: not in this checkout: {', '.join(hook.missing)}", file=sys.stderr)
        end = _clock()
        total = recorder.totals.setdefault(
            "total", {"wall": 0.0, "cpu": 0.0, "cpu_children": 0.0, "calls": 1}
        )
        age, cpu = _process_age()
        total.update(wall=age, cpu=cpu, cpu_children=end[2])
        with open(out, "w") as f:
            json.dump(recorder.totals, f, indent=1)

    atexit.register(write)
    sys.argv = ["aggregator", *argv]
    cli.main()


if __name__ == "__main__":
    main()
