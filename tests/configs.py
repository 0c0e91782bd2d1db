"""A feeds.yaml for CLI tests: the site, loopback fetching, the sources given."""

from __future__ import annotations

import re
from pathlib import Path


def write_config(tmp_path: Path, sources: list[tuple[str, ...]], extra: str = "") -> Path:
    """feeds.yaml in tmp_path with sources given as (id, url) or (id, url, name), the
    name being the id where none is given; ``extra`` is YAML appended after them."""
    lines = [
        "site:",
        "  title: Евразия24",
        "  link: https://eurasia24.media/",
        "fetch:",
        "  allow_private_networks: [127.0.0.0/8]",
        "  timeout: 5",
        "sources:",
    ]
    for sid, url, *name in sources:
        lines += [f"  - id: {sid}", f"    name: {name[0] if name else sid}", f"    url: {url}"]
    path = tmp_path / "feeds.yaml"
    path.write_text("\n".join(lines) + "\n" + extra, encoding="utf-8")
    return path


# What starts every warning and error line a command prints: the local time with its
# offset (cron appends them to a log file).
STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d ")


def unstamped(output: str) -> list[str]:
    """The lines of ``output``, each without the time before it (lines without one are
    given as they are)."""
    return [STAMP.sub("", line) for line in output.splitlines()]
