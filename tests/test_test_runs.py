"""A test run cleans up after itself: what it writes lives in pytest's own temporary
directories, never left in the system's temporary directory or the user's home."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    "test",
    [
        # Loads a config, so the config cache is written (and a CLI subprocess inherits it).
        "tests/test_cli.py::test_check_config_reports_what_it_found",
        # The benchmarks' tests load configs too, run without tests/conftest.py.
        "benchmarks/test_harness.py::test_generated_config_is_yaml_our_loader_accepts",
    ],
)
def test_a_test_run_leaves_nothing_in_tmp_or_home(tmp_path, test):
    tmp, home = tmp_path / "tmp", tmp_path / "home"
    tmp.mkdir()
    home.mkdir()
    env = {
        k: v for k, v in os.environ.items() if k not in {"AGGREGATOR_CACHE_DIR", "XDG_CACHE_HOME"}
    }
    env.update(TMPDIR=str(tmp), HOME=str(home))
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         f"--basetemp={tmp_path / 'base'}", test],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert sorted(p.name for p in tmp.iterdir()) == []
    assert sorted(str(p.relative_to(home)) for p in home.rglob("*")) == []
