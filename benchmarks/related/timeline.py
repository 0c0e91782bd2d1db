"""Where the full rebuild's wall time goes, process by process.

    .venv/bin/python benchmarks/related/timeline.py [--bin SECONDS] [--entries 100000]

Runs ``related.refresh(rebuild=True)`` on speed.py's store (``benchmarks/_work/related-<N>/``,
made by ``benchmarks/related/speed.py`` first) in a fresh process pinned to two cores
(``taskset -c 0,1`` where available), as speed.py's rebuild does, and meanwhile samples every
process of its tree from /proc every 0.2 s (Linux): each one's CPU time and the tree's RSS.
Prints the main process's stage marks (wall and its own CPU at each: ``parse_store``,
``RelatedIndex.from_batch``, ``save_index``), then per time bin the CPU each process used
(1.00 = one core busy) and the tree's RSS, then each process's CPU in all: which core
idles when, the serial parts, a worker finishing late.  The machine is often shared: the
CPU figures compare across runs, the wall only on an idle machine.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "benchmarks")]

from run import children_map, proc_stats  # noqa: E402  benchmarks/run.py: /proc's process table

_CHILD = r"""
import sys, time
started = time.time()
def mark(name):
    print(f"mark {name}: {time.time() - started:.2f} s wall, main CPU {time.process_time():.2f} s",
          file=sys.stderr, flush=True)
mark("start")
import aggregator.related as related
import aggregator.related._parse_store as parsing
import aggregator.related.index as index
from aggregator.config import load_config
from aggregator.store import open_storage
mark("imported")
def wrapped(name, f):
    def call(*args, **kwargs):
        mark(f"{name} >"); result = f(*args, **kwargs); mark(f"{name} <"); return result
    return call
parsing.parse_store = wrapped("parse_store", parsing.parse_store)
index.RelatedIndex.from_batch = classmethod(
    wrapped("from_batch", index.RelatedIndex.from_batch.__func__))
related.save_index = wrapped("save_index", related.save_index)
config = load_config(sys.argv[1])
with open_storage(sys.argv[2]) as storage:
    related.refresh(config, storage, rebuild=True)
mark("end")
"""


def _tree(root: int, tick: int) -> dict[int, tuple[float, float]]:
    """pid -> (CPU seconds, RSS MB) of ``root`` and every process under it."""
    stats = proc_stats()
    children = children_map(stats)
    page_mb = os.sysconf("SC_PAGE_SIZE") / 2**20
    info = {pid: (ticks / tick, pages * page_mb) for pid, (_, ticks, pages) in stats.items()}
    found, todo = {}, [root]
    while todo:
        pid = todo.pop()
        if pid in info:
            found[pid] = info[pid]
        todo += children.get(pid, [])
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--bin", type=float, default=2.0, help="seconds a row of the table covers")
    args = parser.parse_args(argv)
    work = ROOT / "benchmarks" / "_work" / f"related-{args.entries}"
    if not (work / "generator.stamp").exists():
        sys.exit(
            f"no store in {work}: run benchmarks/related/speed.py --entries {args.entries} first"
        )
    cmd = [sys.executable, "-c", _CHILD, str(work / "feeds.yaml"), str(work / "aggregator.sqlite")]
    taskset = shutil.which("taskset")
    if taskset and (os.cpu_count() or 1) >= 2:
        cmd = [taskset, "-c", "0,1", *cmd]
    tick = os.sysconf("SC_CLK_TCK")
    started = time.time()
    process = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
    marks: list[str] = []
    reader = threading.Thread(target=lambda: marks.extend(process.stderr))
    reader.start()
    samples = []
    while process.poll() is None:
        samples.append((time.time() - started, _tree(process.pid, tick)))
        time.sleep(0.2)
    reader.join()
    wall = time.time() - started
    print("".join(marks), end="")
    used: dict[int, dict[int, float]] = defaultdict(lambda: defaultdict(float))
    rss: dict[int, float] = defaultdict(float)
    last: dict[int, float] = {}
    for at, processes in samples:
        row = int(at // args.bin)
        rss[row] = max(rss[row], sum(r for _, r in processes.values()))
        for pid, (cpu, _) in processes.items():
            used[row][pid] += cpu - last.get(pid, 0.0)
            last[pid] = cpu
    shown = [process.pid] + [p for p in sorted(last) if p != process.pid and last[p] > 1.0]
    print(
        f"wall {wall:.1f} s, CPU of the tree {sum(last.values()):.1f} s (sampled), "
        f"peak RSS of the tree {max(rss.values(), default=0):.0f} MB (sampled)"
    )
    print(
        "     s   "
        + " ".join(f"{'main' if p == process.pid else p:>7}" for p in shown)
        + "    all      RSS"
    )
    for row in sorted(used):
        cells = " ".join(f"{used[row].get(p, 0) / args.bin:7.2f}" for p in shown)
        print(
            f"{row * args.bin:6.1f}   {cells}  {sum(used[row].values()) / args.bin:5.2f}  {rss[row]:5.0f} MB"
        )
    print(
        "CPU s by process:",
        ", ".join(f"{'main' if p == process.pid else p} {last[p]:.1f}" for p in shown),
    )
    return process.returncode or 0


if __name__ == "__main__":
    sys.exit(main())
