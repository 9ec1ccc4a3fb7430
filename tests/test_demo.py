"""``python -m sqla_stage.demo``: the README's main job, a real run on embedded DuckDB."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_demo_unloads_lists_and_loads_for_real(tmp_path: Path) -> None:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    result = subprocess.run(
        [sys.executable, "-m", "sqla_stage.demo", str(tmp_path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
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
