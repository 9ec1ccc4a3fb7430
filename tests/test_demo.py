"""``python -m sqla_stage.demo``: the README's main job, a real run on embedded DuckDB."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_demo(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``python -m sqla_stage.demo ARGS`` in ``cwd`` (the checkout on the path)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    return subprocess.run(
        [sys.executable, "-m", "sqla_stage.demo", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_demo_unloads_lists_and_loads_for_real(tmp_path: Path) -> None:
    result = run_demo(str(tmp_path), cwd=ROOT)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    # The unload wrote real Parquet files into the internal stage's folder...
    folder = tmp_path / "demo.duckdb.stages" / "stage" / "internal" / "landing" / "daily"
    files = sorted(path.name for path in folder.iterdir())
    assert files and all(re.fullmatch(r"data_0_0_\d+\.snappy\.parquet", name) for name in files)
    # ...the printed tables show them, and the load brought every row back.
    assert re.search(r"^file_name\s+\| file_size\s+\| row_count", out, re.MULTILINE)
    assert re.search(r"^name\s+\| size\s+\| md5\s+\| last_modified", out, re.MULTILINE)
    for name in files:
        assert f"daily/{name}" in out
    assert "trips: 300000 rows; trips_copy: 300000 rows" in out
    assert re.search(r"^Lima\s+\| 100000 ", out, re.MULTILINE)
    assert "COPY INTO @landing/daily/ FROM trips" in out


def test_help_prints_the_usage_and_creates_nothing(tmp_path: Path) -> None:
    result = run_demo("--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    words = " ".join(result.stdout.split())  # argparse wraps to the terminal's width
    assert words.startswith("usage: python -m sqla_stage.demo [-h] [folder]")
    assert "unload the table into the stage as Parquet files" in words
    assert "folder where to keep the database and its stages' files" in words
    assert result.stderr == ""
    assert list(tmp_path.iterdir()) == []  # no folder named --help, no database


def test_an_unknown_option_exits_2_and_creates_nothing(tmp_path: Path) -> None:
    result = run_demo("--bogus", cwd=tmp_path)
    assert result.returncode == 2
    words = " ".join(result.stderr.split())
    assert words.startswith("usage: python -m sqla_stage.demo [-h] [folder]")
    assert "error: unrecognized arguments: --bogus" in words
    assert result.stdout == ""
    assert list(tmp_path.iterdir()) == []
