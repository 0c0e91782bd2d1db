"""Parse speed on the benchmark corpus, this tree against another checkout of the project.

    .venv/bin/python benchmarks/parse_speed.py [--feeds 200] [--rounds 5] [--against ../main]

Generates the corpus (benchmarks/corpus.py) once, then times parse_feed() over every
feed of it, in fresh processes that alternate between this tree and the other one
(so load on a shared machine hits both alike), and prints the best round of each
in milliseconds per feed.  Without --against it times this tree only.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

_TIMER = """
import json, sys, time
from pathlib import Path
from aggregator.parse import parse_feed
feeds = json.loads(Path(sys.argv[1]).read_text())
bodies = [(Path(f["path"]).read_bytes(), f["url"], f["headers"]) for f in feeds]
for body, url, headers in bodies:  # warm up: imports, regex compilation
    parse_feed(body, url, headers)
start = time.perf_counter()
for body, url, headers in bodies:
    parse_feed(body, url, headers)
print((time.perf_counter() - start) / len(bodies) * 1000)
"""


def _corpus(directory: Path, feeds: int) -> Path:
    spec = importlib.util.spec_from_file_location("_bench_corpus", HERE / "corpus.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    manifest = module.generate(directory, feeds)
    listing = [
        {
            "path": str(directory / info.file),
            "url": f"http://{info.host}/{info.file}",
            "headers": {"Content-Type": info.content_type} if info.content_type else {},
        }
        for info in manifest.feeds
    ]
    path = directory / "listing.json"
    path.write_text(json.dumps(listing))
    return path


def _time(tree: Path, listing: Path) -> float:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    out = subprocess.check_output(
        [sys.executable, "-c", _TIMER, str(listing)], env=env, cwd=tree, text=True
    )
    return float(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--against", type=Path, help="another checkout (e.g. ../main)")
    args = parser.parse_args()
    trees = {"this tree": ROOT}
    if args.against:
        trees[str(args.against)] = args.against.resolve()
    with tempfile.TemporaryDirectory() as tmp:
        listing = _corpus(Path(tmp), args.feeds)
        best = {name: float("inf") for name in trees}
        for _ in range(args.rounds):
            for name, tree in trees.items():
                best[name] = min(best[name], _time(tree, listing))
    for name, ms in best.items():
        print(f"{name}: {ms:.3f} ms per feed (best of {args.rounds}, {args.feeds} feeds)")
    if len(best) == 2:
        ours, other = best.values()
        print(f"this tree / other: {ours / other:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
