"""The Databend corpus entries that embedded Databend runs, checked there too (issue 14).

A case of ``tests/docs_corpus/databend.toml`` with ``embedded = true`` runs on embedded
Databend (PyPI ``databend``, the ``databend`` fixture of tests/conftest.py) as well as on
the runtime, and must give Databend the documented result as well: the corpus's oracle is
then the page *and* the engine. The setup is the case's, with two adaptations that the
embedded engine needs and that change no statement under test:

- ``PUT file://... @stage/path`` (a bendsql client command, not SQL) copies the files into
  the stage's folder, where Databend's internal stages keep them;
- DuckDB's ``COPY (query) TO 'file'``, which some setups use to write a Parquet sample
  file, runs on a scratch DuckDB connection.

Stages, file formats and connections are global in Databend, so every case starts by
dropping those of the earlier ones.
"""

from __future__ import annotations

import contextlib
import glob
import os
import re
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pytest
from test_docs_corpus import CASES, Case, Outcome, fill, mismatches, normalized

EMBEDDED = [case for case in CASES if case.embedded]
_PUT = re.compile(r"PUT\s+file://(\S+)\s+@(~|\w+)(/\S*)?", re.I)
_DUCKDB_COPY = re.compile(r"COPY\s*\(", re.I)
_GLOBAL_OBJECTS = (
    ("SHOW STAGES", "STAGE"),
    ("SHOW FILE FORMATS", "FILE FORMAT"),
    ("SHOW CONNECTIONS", "CONNECTION"),
)


def _rows(databend: Any, sql: str) -> tuple[list[str] | None, list[list[Any]]]:
    """Columns and rows of one statement on embedded Databend (in its folder, as it needs)."""
    with contextlib.chdir(databend.root):
        batches = databend.ctx.sql(sql).to_py_arrow() or ()
    columns = batches[0].schema.names if batches else None
    return columns, [
        [row[name] for name in batch.schema.names] for batch in batches for row in batch.to_pylist()
    ]


def _put(databend: Any, match: re.Match[str]) -> None:
    source, stage, path = match.group(1), match.group(2), (match.group(3) or "/").lstrip("/")
    base = databend.data_dir / "stage" / ("user/root" if stage == "~" else f"internal/{stage}")
    for file in glob.glob(source):
        target = base / path
        if not path or path.endswith("/"):
            target = target / os.path.basename(file)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(file, target)


def run_on_databend(case: Case, databend: Any, local: Path) -> Outcome:
    """The case's setup, statement and query on embedded Databend."""
    for show, kind in _GLOBAL_OBJECTS:
        for row in databend.sql(show):
            databend.sql(f"DROP {kind} IF EXISTS {row['name']}")
    shutil.rmtree(databend.data_dir / "stage" / "user", ignore_errors=True)
    for statement in case.setup:
        statement = fill(statement, local)
        if match := _PUT.match(statement.strip()):
            _put(databend, match)
        elif _DUCKDB_COPY.match(statement.strip()):
            duckdb.connect().execute(statement).close()
        else:
            databend.sql(statement)
    outcome = Outcome()
    try:
        outcome.columns, rows = _rows(databend, fill(case.sql, local))
        outcome.rows = [normalized(row) for row in rows] if outcome.columns else None
    except RuntimeError as error:  # the embedded engine's errors
        outcome.error = error
        return outcome
    query = case.expect.get("query")
    if query:
        outcome.query_rows = [normalized(row) for row in _rows(databend, fill(query, local))[1]]
    return outcome


@pytest.mark.parametrize("case", EMBEDDED, ids=[case.id for case in EMBEDDED])
def test_embedded_databend_gives_the_documented_result(
    case: Case, databend: Any, tmp_path: Path
) -> None:
    local = tmp_path / "local"
    local.mkdir()
    for name, content in case.files.items():
        path = local / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, "utf-8")
    outcome = run_on_databend(case, databend, local)
    if outcome.error is not None and "error" not in case.expect:
        pytest.fail(f"{case.id}: embedded Databend raised {outcome.error}")
    assert mismatches(case, outcome) == [], case.url


def test_embedded_cases_are_databend_cases_that_pass() -> None:
    assert len(EMBEDDED) >= 20
    assert all(case.engine == "databend" and case.status == "pass" for case in EMBEDDED)
    assert not any(case.buckets for case in EMBEDDED)
