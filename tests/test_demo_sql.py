"""``python -m sqla_stage.demo_sql`` runs and shows the SQL of each engine."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run_demo(*python_args: str) -> str:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    result = subprocess.run(
        [sys.executable, *python_args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def demo_output() -> str:
    return run_demo("-m", "sqla_stage.demo_sql")


@pytest.mark.parametrize(
    "engine",
    [
        pytest.param("snowflake", marks=pytest.mark.extra("snowflake")),
        pytest.param("databend", marks=pytest.mark.extra("databend_sqlalchemy")),
    ],
)
def test_demo_shows_create_stage(demo_output: str, engine: str) -> None:
    assert re.search(rf"^\s*{engine}\s+CREATE STAGE ", demo_output, re.MULTILINE)


def test_demo_shows_copy_into(demo_output: str) -> None:
    assert re.search(r"^\s*\w+\s+COPY INTO @landing/daily/ FROM ", demo_output, re.MULTILINE)
    assert re.search(r"^\s*\w+\s+COPY INTO users FROM @landing/daily/", demo_output, re.MULTILINE)


def test_demo_shows_unsupported_constructs(demo_output: str) -> None:
    assert re.search(r"^\s*matrixone\s+not supported: ", demo_output, re.MULTILINE)
    assert re.search(r"^\s*matrixone\s+SELECT ", demo_output, re.MULTILINE)


def test_demo_masks_secrets_in_repr(demo_output: str) -> None:
    assert "credentials=Credentials({'aws_key_id': '***', 'aws_secret_key': '***'" in demo_output


def test_demo_runs_without_the_optional_dialects() -> None:
    # As in a venv with only the core dependencies: importing the optional dialects fails.
    output = run_demo(
        "-c",
        "import runpy, sys\n"
        "sys.modules['snowflake'] = None\n"
        "sys.modules['databend_sqlalchemy'] = None\n"
        "runpy.run_module('sqla_stage.demo_sql', run_name='__main__')\n",
    )
    assert "note: snowflake: skipped" in output
    assert "note: databend: skipped" in output
    assert re.search(r"^\s*duckdb\s+CREATE STAGE landing", output, re.MULTILINE)
    assert not re.search(r"^\s*snowflake\s+CREATE", output, re.MULTILINE)
