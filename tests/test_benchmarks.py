"""The benchmarks run: ``python -m benchmarks --smoke`` measures every case and reports it.

This is not a timed test: targets are not checked (at smoke size they mean nothing). It
fails when a case crashes, when a case or a contender is missing from the report, or
when the report lacks its Targets table or the command that reproduces it. It runs
``--without fakesnow``: fakesnow needs a virtual environment of its own (hundreds of MB,
benchmarks/fakesnow_peer.py), which only ``nox -s bench`` builds.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: Where ``nox -s bench`` (python -m benchmarks' default) makes fakesnow's environment.
FAKESNOW_ENV = ROOT / ".bench-data" / "fakesnow-env"
#: The peer the test leaves out (``nox -s bench`` measures it).
WITHOUT = "fakesnow"
#: Contenders issue 6 requires, by the report's group (fakesnow only in ``nox -s bench``).
REQUIRED = {
    "Unload": {"sqla_stage", "duckdb", "databend"},
    "Load": {"sqla_stage", "duckdb", "databend"},
    "Files": {"sqla_stage", "databend"},
    "S3": {"sqla_stage"},
    "Memory": {"sqla_stage", "duckdb"},
    "Overhead": {"sqla_stage", "duckdb"},
    "Scaling": {"sqla_stage H=0", "sqla_stage H=1k", "sqla_stage F=1", "sqla_stage F=200"},
}


def benchmarks(workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    # Were fakesnow measured after all, its environment would be made here (and seen).
    env["BENCHMARKS_FAKESNOW_ENV"] = str(workdir / "fakesnow-env")
    command = ["-m", "benchmarks", "--smoke", "--without", WITHOUT, "--workdir", str(workdir)]
    return subprocess.run(
        [sys.executable, *command, *args],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


def tables(page: str) -> dict[str, list[list[str]]]:
    """The rows of each ``### <title>`` table of the page."""
    found: dict[str, list[list[str]]] = {}
    title = ""
    for line in page.splitlines():
        if line.startswith("### "):
            title = line[4:].strip()
        elif line.startswith("| ") and title and not line.startswith("| ---"):
            found.setdefault(title, []).append(
                [cell.strip() for cell in line.strip("|").split("|")]
            )
    return {name: rows[1:] for name, rows in found.items()}  # without the header row


# The run measures embedded Databend and an S3 case on a moto server (pandas reads one load).
@pytest.mark.extra("databend", "moto", "pandas")
@pytest.mark.timeout(300)
def test_smoke_run_reports_every_case_and_contender(tmp_path: Path) -> None:
    had_fakesnow_env = FAKESNOW_ENV.exists()
    out = tmp_path / "performance.md"
    done = benchmarks(tmp_path, "--out", str(out))
    assert done.returncode == 0, done.stderr[-5000:]
    listed = benchmarks(tmp_path, "--list")
    assert listed.returncode == 0, listed.stderr[-5000:]
    expected = {tuple(line.split("\t")) for line in listed.stdout.splitlines() if line}

    # No fakesnow: not listed, not measured, no environment made for it.
    assert expected and all(name != "fakesnow" for _, name in expected), expected
    assert "fakesnow" not in done.stderr.lower(), done.stderr[-5000:]
    assert not (tmp_path / "fakesnow-env").exists()
    assert not (tmp_path / "fakesnow").exists()
    assert FAKESNOW_ENV.exists() == had_fakesnow_env

    page = out.read_text()
    assert "Reproduce with `python -m benchmarks --smoke --without fakesnow" in page
    found = tables(page)
    measured = {
        (row[0], row[1]): group
        for group, rows in found.items()
        if group not in ("Targets", "Notes")
        for row in rows
    }
    assert set(measured) == expected
    for group, required in REQUIRED.items():
        names = {name for (_, name), where in measured.items() if where == group}
        assert required <= names, (group, names)
    loads = {row[0] for row in found["Load"] if row[0].startswith(("load Parquet, ", "load CSV, "))}
    assert len(loads) == 4, found["Load"]
    assert all(row[1] != "fakesnow" for rows in found.values() for row in rows), found
    assert not [row for row in found["Targets"] if "fakesnow" in row[1]], found["Targets"]
    targets = found["Targets"]
    assert targets and all(row[3] in ("yes", "**no**") for row in targets)
    cases = {case for case, _ in measured}
    assert {row[0] for row in targets} <= cases
    assert any(row[0].startswith("LIST") and "0.5 s" in row[1] for row in targets)
    # Issue 19: peak RSS of an unload in every format and of a load of each file format;
    # the split gzip unload against DuckDB's one-file gzip and Databend.
    memory = {row[0].split(" rows ")[1] for row in found["Memory"]}
    assert memory == {
        "to Parquet",
        "to CSV",
        "to gzip CSV",
        "to JSON",
        "from Parquet",
        "from CSV",
    }, found["Memory"]
    gzip_targets = {row[1] for row in targets if row[0].startswith("unload gzip CSV, split")}
    assert "at least 4x faster than DuckDB's single-file gzip COPY" in gzip_targets
    assert "at least 1.5x faster than Databend" in gzip_targets
