"""Issue 19: a statement on one path walks only that prefix, and MD5s only what LIST returns.

A listing below a prefix reads the prefix's folder and descends only the entries the
prefix can name; its answer must be exactly the full listing's keys that start with the
prefix, on a local disk and on an fsspec memory filesystem, whatever the stored names
(escaped segments, dots, folders named like files). The MD5s are computed after the
prefix and PATTERN filters: files LIST does not return are never read.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import fsspec
import pytest
import sqlalchemy as sa
from stage_files import run

from sqla_stage.runtime.storage import checksums
from sqla_stage.runtime.storage.stage_storage import StageStorage, open_storage

#: Stored names below the stage root (``%%`` is key ``%``, ``%..`` is key ``..``).
STORED = [
    "a.csv",
    "a.csv.gz",
    "ab/x.csv",
    "a/b.csv",
    "a/bc/d.csv",
    "a/b.csv.d/e.csv",
    "b/a.csv",
    "%%",
    "%%.x",
    "%../in.csv",
    ".hidden",
    "one.csv",
    "many/f1.csv",
    "many/f2.csv",
]
PREFIXES = [
    "",
    "a",
    "a.csv",
    "a/",
    "a/b",
    "a/b.csv",
    "a/b.csv.d/",
    "ab",
    "%",
    ".",
    "..",
    "../",
    "b/a",
    "one.csv",
    "many/f",
    "zzz",
    "zzz/q",
]


def local_storage(tmp_path: Path) -> StageStorage:
    """A local storage holding `STORED`."""
    for name in STORED:
        path = tmp_path / "root" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"{name}\n")
    return open_storage(str(tmp_path / "root"), None, label="@local")


def memory_storage() -> StageStorage:
    """A memory-filesystem storage holding `STORED` (its own root)."""
    root = f"memory://prefix-{uuid.uuid4().hex}"
    fs = fsspec.filesystem("memory")
    for name in STORED:
        fs.pipe(f"{root}/{name}", f"{name}\n".encode())
    return open_storage(root, None, label="@memory")


@pytest.mark.parametrize("where", ["local", "memory"])
def test_a_prefix_lists_exactly_the_keys_it_starts(tmp_path: Path, where: str) -> None:
    storage = local_storage(tmp_path) if where == "local" else memory_storage()
    every = [info.name for info in storage.list("", checksums=False)]
    assert sorted(every) == sorted(
        name.replace("%../", "../").replace("%%", "%") if name != "%%.x" else name
        for name in STORED
    )
    for prefix in PREFIXES:
        listed = [info.name for info in storage.list(prefix, checksums=False)]
        assert listed == [key for key in every if key.startswith(prefix)], prefix


def test_a_prefix_and_pattern_list_with_checksums(tmp_path: Path) -> None:
    storage = local_storage(tmp_path)
    listed = storage.list("a", r".*\.csv", checksums=True)
    assert [info.name for info in listed] == [
        "a.csv",
        "a/b.csv",
        "a/b.csv.d/e.csv",
        "a/bc/d.csv",
        "ab/x.csv",
    ]
    assert all(info.md5 is not None and len(info.md5) == 32 for info in listed)


def stage_with_files(engine: sa.Engine, tmp_path: Path, count: int) -> Path:
    """Stage ``big``: ``one.csv``, ``one.csv.gz`` and ``count`` files in ``part/``."""
    run(engine, "CREATE STAGE big")
    folder = tmp_path / "stages" / "stage" / "internal" / "big"
    (folder / "part").mkdir(parents=True)
    for number in range(count):
        (folder / "part" / f"f{number}.csv").write_text(f"{number}\n")
    (folder / "one.csv").write_text("1\n")
    (folder / "one.csv.gz").write_text("not gzip\n")
    return folder


def cached_below(folder: Path) -> set[str]:
    """The files below ``folder`` whose MD5 the process has computed."""
    return {Path(key[0]).name for key in checksums._CACHE if key[0].startswith(str(folder))}


def test_list_computes_md5s_only_for_the_files_it_returns(
    engine: sa.Engine, tmp_path: Path
) -> None:
    folder = stage_with_files(engine, tmp_path, 30)
    rows = run(engine, "LIST @big/one.csv")
    assert [row[0] for row in rows] == ["one.csv", "one.csv.gz"]
    assert cached_below(folder) == {"one.csv", "one.csv.gz"}
    rows = run(engine, r"LIST @big PATTERN = '.*f1\d?\.csv'")
    assert sorted(row[0] for row in rows) == sorted(
        ["part/f1.csv", *(f"part/f{n}.csv" for n in range(10, 20))]
    )
    assert cached_below(folder) == {"one.csv", "one.csv.gz", "f1.csv"} | {
        f"f{n}.csv" for n in range(10, 20)
    }


def test_one_file_copy_loads_that_prefix_only(engine: sa.Engine, tmp_path: Path) -> None:
    stage_with_files(engine, tmp_path, 30)
    run(engine, "CREATE TABLE t (v VARCHAR)")
    rows = run(engine, "COPY INTO t FROM @big/part/f2 FILE_FORMAT = (TYPE = CSV)")
    assert sorted(row[0] for row in rows) == [
        "part/f2.csv",
        *(f"part/f2{n}.csv" for n in range(10)),
    ]
    assert sorted(row[0] for row in run(engine, "SELECT v FROM t")) == sorted(
        ["2", *(f"2{n}" for n in range(10))]
    )
    assert run(engine, "COPY INTO t FROM @big/part/f2 FILE_FORMAT = (TYPE = CSV)") == [
        ("Copy executed with 0 files processed.",)
    ]
