"""The runtime's gzip unloads are read by every gzip reader, pandas included (issue 19).

`tests/test_deflate.py` checks the gzip module, ``zcat`` and DuckDB on the library's own
members; this module unloads through the runtime (ISA-L, several members a file) and
reads the files with pandas, the reader a user of the files most often reaches for.
"""

from __future__ import annotations

import gzip
import subprocess
from pathlib import Path
from typing import Any

import pandas as pd

ROWS = 200_000
SOURCE = f"SELECT i, md5(CAST(i AS VARCHAR)) AS h, i * 0.5 AS half FROM range({ROWS}) t(i)"


def test_pandas_zcat_and_gzip_read_the_split_gzip_unload(engine: Any, tmp_path: Path) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE STAGE s")
        conn.exec_driver_sql(
            f"COPY INTO @s/out/ FROM ({SOURCE}) FILE_FORMAT = (TYPE = CSV COMPRESSION = GZIP) "
            "HEADER = TRUE MAX_FILE_SIZE = 2000000"
        )
    files = sorted((tmp_path / "stages" / "stage" / "internal" / "s" / "out").iterdir())
    assert len(files) > 1 and all(path.name.endswith(".csv.gz") for path in files)
    frame = pd.concat(pd.read_csv(path, compression="gzip") for path in files)
    assert list(frame.columns) == ["i", "h", "half"]
    assert len(frame) == ROWS and frame["i"].sum() == sum(range(ROWS))
    for path in files:
        zcat = subprocess.run(["zcat", str(path)], capture_output=True, check=True)
        assert zcat.stdout == gzip.decompress(path.read_bytes())
