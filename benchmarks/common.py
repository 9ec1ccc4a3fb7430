"""What the case modules share: engines, scratch folders, and the peers (built lazily).

The peers (embedded Databend, fakesnow) live in their own modules. A case module asks
here for a peer's contender: it is built on first use, in the contender's untimed
``prepare``, so that collecting the cases (and ``--only``) starts no peer, and it is
left out when the peer's module does not import or the run says ``--without`` it.
"""

from __future__ import annotations

import importlib
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from benchmarks.data import Dataset
from benchmarks.harness import Bench, Contender, Target

#: Peers the run leaves out (``--without databend,fakesnow``).
DISABLED: set[str] = set()
#: The embedded Databend of each work folder, shared by every case that uses it.
_DATABENDS: dict[Path, Any] = {}
#: Bytes of Parquet, CSV and JSON one file may reach with SINGLE = TRUE (5 GiB, the most).
SINGLE_MAX = 5 * 1024**3


def fresh(folder: Path) -> Path:
    """Empty ``folder`` (created if missing) and return it."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


def copy_database(data: Dataset, path: Path) -> Path:
    """A private copy of the dataset's DuckDB file (each contender opens its own)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(data.database, path)
    return path


def runtime_engine(database: Path, stage_root: Path) -> sa.Engine:
    """An engine with the ``sqla_stage`` runtime on ``database``; no progress bars.

    A batch job, as the benchmark is, turns progress bars off (they would write to the
    runner's stderr); everything else is the runtime's default.
    """
    return sa.create_engine(
        f"duckdb:///{database}",
        plugins=["sqla_stage"],
        stage_root=str(stage_root),
        stage_progress=False,
    )


def table_ddl(data: Dataset, name: str) -> str:
    """``CREATE TABLE <name> (...)`` with the column types of table ``bench``."""
    import duckdb

    with duckdb.connect(str(data.database), read_only=True) as con:
        rows = con.execute("DESCRIBE bench").fetchall()
    columns = ", ".join(f'"{row[0]}" {row[1]}' for row in rows)
    return f"CREATE TABLE {name} ({columns})"


def lazy(name: str, make: Callable[[], Contender], runs: int | None = None) -> Contender:
    """A contender built by ``make()`` the first time it is prepared (untimed)."""
    built: list[Contender] = []

    def inner() -> Contender:
        if not built:
            built.append(make())
        return built[0]

    def prepare() -> None:
        contender = inner()
        if contender.prepare is not None:
            contender.prepare()

    return Contender(name, lambda: inner().run(), prepare, runs)


def _peer_module(peer: str, module: str) -> Any | None:
    if peer in DISABLED:
        return None
    try:
        return importlib.import_module(module)
    except Exception as error:  # a missing or broken peer: measure without it
        print(f"benchmarks: without {peer} ({type(error).__name__}: {error})", file=sys.stderr)
        DISABLED.add(peer)
        return None


def databend(bench: Bench, make: Callable[[Any], Contender]) -> Contender | None:
    """A ``databend`` contender: ``make(peer)`` on the shared embedded Databend."""
    module = _peer_module("databend", "benchmarks.databend_peer")
    if module is None:
        return None
    folder = bench.workdir / "databend"

    def build() -> Contender:
        peer = _DATABENDS.get(folder)
        if peer is None:
            folder.mkdir(parents=True, exist_ok=True)
            peer = _DATABENDS[folder] = module.Databend(folder, bench.data)
        return make(peer)

    return lazy("databend", build)


def fakesnow(bench: Bench, fmt: str, many: bool) -> Contender | None:
    """A ``fakesnow`` load contender (see ``benchmarks.fakesnow_peer``)."""
    module = _peer_module("fakesnow", "benchmarks.fakesnow_peer")
    if module is None:
        return None
    folder = bench.workdir / "fakesnow"

    def build() -> Contender:
        folder.mkdir(parents=True, exist_ok=True)
        contender: Contender = module.fakesnow_load(folder, bench.data, fmt, many)
        return contender

    return lazy("fakesnow", build)


def release(*resources: Any) -> None:
    """Dispose of engines and close connections; None stands for one already released."""
    for resource in resources:
        if isinstance(resource, sa.Engine):
            resource.dispose()
        elif resource is not None:
            resource.close()


def close_peers() -> None:
    """Close every embedded Databend the run started."""
    while _DATABENDS:
        _, peer = _DATABENDS.popitem()
        peer.close()


def present(contenders: list[Contender | None]) -> list[Contender]:
    """The contenders that exist (peers may be left out)."""
    return [contender for contender in contenders if contender is not None]


def reachable(targets: list[Target], contenders: list[Contender]) -> list[Target]:
    """The targets whose contenders are all measured."""
    names = {contender.name for contender in contenders}
    return [
        target
        for target in targets
        if target.contender in names and (target.versus is None or target.versus in names)
    ]
