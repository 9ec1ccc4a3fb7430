"""fakesnow as a peer of the load benchmarks: Snowflake's COPY INTO <table> on DuckDB.

fakesnow (PyPI ``fakesnow``) emulates the Snowflake Python connector on DuckDB: it
rewrites Snowflake SQL with sqlglot and runs it on a DuckDB database. Its ``COPY INTO
<table>`` reads staged files with DuckDB's ``read_csv`` / ``read_parquet``, one
``INSERT`` per file, and keeps a load history. :func:`fakesnow_load` returns a
:class:`~benchmarks.harness.Contender` named ``fakesnow`` that loads the same files as
the other load contenders.

What fakesnow 0.11.22 supports, from its source (``fakesnow/copy_into.py``):

* Stages: internal (files copied there by ``PUT``, gzip-compressed unless
  ``AUTO_COMPRESS = FALSE``) or external with a URL. An external ``s3://`` stage is read
  by DuckDB's httpfs, which the benchmark cannot load; a ``file://`` URL is read in
  place. The contender uses an external ``file://`` stage on the folder of the files, so
  nothing is copied and every contender reads the same bytes.
* Parquet: only with ``MATCH_BY_COLUMN_NAME`` into a table of several columns (without
  it, fakesnow accepts only a single VARIANT column, as Snowflake does).
* CSV: ``SKIP_HEADER``, ``FIELD_OPTIONALLY_ENCLOSED_BY`` and ``NULL_IF`` are read; an
  empty field is NULL (``EMPTY_FIELD_AS_NULL``), as DuckDB writes NULL.
* ``FORCE = TRUE`` loads files again despite the load history; ``ON_ERROR`` other than
  ``ABORT_STATEMENT`` is not supported.

fakesnow 0.11.22, its last release on DuckDB 1.x (0.12 needs DuckDB 2), imports modules
of ``snowflake-connector-python`` 4 (``converter``, ``file_util``) that version 5 removed,
and the test environment has 5 (snowflake-sqlalchemy 2 requires it). So fakesnow runs in
a child process (:mod:`benchmarks.fakesnow_child`) with the Python of a virtual
environment of its own: :func:`environment` creates it once, with :data:`PINNED` and the
DuckDB and pyarrow versions of the running benchmark, under ``<workdir>/fakesnow-env``
(or ``$BENCHMARKS_FAKESNOW_ENV``), and reuses it while its marker file matches. The
child times the ``COPY INTO`` alone and the contender's ``run`` returns that time, which
the harness takes as the sample (so the pipe to the child is not measured). One child
runs at a time: preparing another load stops the previous one (it restarts if needed),
and the last one is stopped when the process exits.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
import weakref
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path
from typing import Any, ClassVar

import pyarrow as pa
import pyarrow.parquet as pq

from benchmarks.data import Dataset
from benchmarks.harness import Contender

#: The ``COPY INTO`` options of each format (the CSV files have a header line).
LOAD_OPTIONS = {
    "parquet": "FILE_FORMAT = (TYPE = PARQUET) MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE",
    "csv": "FILE_FORMAT = (TYPE = CSV SKIP_HEADER = 1 FIELD_OPTIONALLY_ENCLOSED_BY = '\"')",
}
#: fakesnow's environment, besides the benchmark's DuckDB and pyarrow: its last release
#: on DuckDB 1.x (which pins ``duckdb~=1.5.6`` and ``sqlglot~=30.22.0``), the last 4.x
#: connector, and the sqlglot that rewrites the SQL, pinned so that it resolves alike.
PINNED = ("fakesnow==0.11.22", "snowflake-connector-python==4.8.1", "sqlglot==30.22.0")
#: Where fakesnow's environment goes instead of ``<workdir>/fakesnow-env``, if set.
ENV_VARIABLE = "BENCHMARKS_FAKESNOW_ENV"
#: The file, in the environment, naming what it was made with (it is reused while equal).
MARKER = "fakesnow-env.json"
#: The child's script.
CHILD = Path(__file__).with_name("fakesnow_child.py")
#: Whether the environment works: it imports what the child does (fakesnow makes a
#: temporary folder for internal stages at import, and leaves it: removed here).
IMPORT_CHECK = (
    "import shutil, fakesnow.instance, fakesnow.transforms.stage as stage; "
    "shutil.rmtree(stage.LOCAL_BUCKET_PATH)"
)
#: Seconds a ``pip install`` may take.
PIP_TIMEOUT = 900

#: The start of pip's lines that a failure's message leaves out.
_NOISE = "WARNING: Location '"
#: The environments checked by this process: folder -> its Python.
_READY: dict[Path, Path] = {}


def _snowflake_type(kind: Any) -> str:
    """The Snowflake column type of an Arrow type of the dataset's Parquet file.

    Raises:
        ValueError: a type the benchmark data does not use.
    """
    if pa.types.is_integer(kind):
        return "BIGINT"
    if pa.types.is_decimal(kind):
        return f"NUMBER({kind.precision}, {kind.scale})"
    if pa.types.is_floating(kind):
        return "DOUBLE"
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return "VARCHAR"
    if pa.types.is_date(kind):
        return "DATE"
    if pa.types.is_timestamp(kind):
        return "TIMESTAMP_NTZ"
    if pa.types.is_boolean(kind):
        return "BOOLEAN"
    raise ValueError(f"no Snowflake type for the Arrow type {kind}")


def requirements() -> list[str]:
    """What fakesnow's environment installs: :data:`PINNED`, this DuckDB and pyarrow."""
    return [*PINNED, f"duckdb=={version('duckdb')}", f"pyarrow=={version('pyarrow')}"]


def env_folder(data: Dataset) -> Path:
    """The folder of fakesnow's environment: ``$BENCHMARKS_FAKESNOW_ENV``, or by the data.

    The dataset lives in ``<workdir>/data``, so the environment is ``<workdir>/
    fakesnow-env`` (``.bench-data/fakesnow-env`` by default).
    """
    override = os.environ.get(ENV_VARIABLE)
    return Path(override) if override else data.database.parent.parent / "fakesnow-env"


def _python(folder: Path) -> Path:
    return folder / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _command(args: list[str], what: str, timeout: float = 300, hint: str = "") -> None:
    """Run a command of the environment's creation.

    Raises:
        RuntimeError: it failed, with the end of its output (and ``hint``).
    """
    try:
        done = subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise RuntimeError(
            f"fakesnow environment: {what} took more than {timeout:.0f} s: {shlex.join(args)}"
        ) from None
    if done.returncode != 0:
        # Without pip's warnings about unreachable --find-links folders (noise here).
        lines = (done.stdout + done.stderr).strip().splitlines()
        output = "\n".join([line for line in lines if not line.startswith(_NOISE)][-40:])
        raise RuntimeError(
            f"fakesnow environment: {what} failed (exit {done.returncode}): "
            f"{shlex.join(args)}\n{output}{hint}"
        )


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (two runs never build one environment twice)."""
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _usable(folder: Path, wanted: dict[str, Any]) -> bool:
    """Whether the environment was made with ``wanted`` and imports fakesnow."""
    try:
        made = json.loads((folder / MARKER).read_text())
    except (OSError, ValueError):
        return False
    if made != wanted:
        return False
    args = [str(_python(folder)), "-I", "-c", IMPORT_CHECK]
    try:
        return subprocess.run(args, capture_output=True, timeout=120, check=False).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def environment(folder: Path) -> Path:
    """The Python of fakesnow's virtual environment in ``folder`` (created if missing).

    Created with ``python -m venv`` and ``pip install`` of :func:`requirements`, checked
    with ``pip check`` and an import of fakesnow, then marked with :data:`MARKER`. An
    environment whose marker names the same requirements and Python is reused.

    Raises:
        RuntimeError: creating it failed (pip's output says why).
    """
    folder = folder.resolve()
    if folder in _READY:
        return _READY[folder]
    wanted = {"python": platform.python_version(), "requirements": requirements()}
    python = _python(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    with _locked(folder.with_name(folder.name + ".lock")):
        if not _usable(folder, wanted):
            print(f"benchmarks: creating fakesnow's environment in {folder}", file=sys.stderr)
            shutil.rmtree(folder, ignore_errors=True)
            _command([sys.executable, "-m", "venv", str(folder)], "python -m venv")
            # -I: neither the current folder nor PYTHONPATH (this project) is seen.
            pip = [str(python), "-I", "-m", "pip", "--disable-pip-version-check", "--no-input"]
            hint = (
                "\n(fakesnow 0.11.22 requires duckdb~=1.5.6, and the environment pins the "
                f"DuckDB the benchmark runs, {version('duckdb')})"
            )
            _command([*pip, "install", *wanted["requirements"]], "pip install", PIP_TIMEOUT, hint)
            _command([*pip, "check"], "pip check")
            _command([str(python), "-I", "-c", IMPORT_CHECK], "import fakesnow")
            (folder / MARKER).write_text(json.dumps(wanted, indent=2) + "\n")
    _READY[folder] = python
    return python


def _stop(process: subprocess.Popen[str]) -> None:
    """End a child: close its stdin (it stops at the end of input), kill it if it lingers."""
    if process.poll() is None:
        with contextlib.suppress(OSError):
            if process.stdin is not None:
                process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if process.stdout is not None:
        process.stdout.close()


class _Child:
    """A running ``fakesnow_child.py``; its stderr goes to ``child.log`` in its folder."""

    def __init__(self, python: Path, folder: Path) -> None:
        """Start the child in ``folder`` (it imports fakesnow before it answers)."""
        self.log = folder / "child.log"
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                [str(python), "-I", str(CHILD)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
                encoding="utf-8",
                cwd=folder,
            )
        self.close = weakref.finalize(self, _stop, self.process)  # also at exit

    def request(self, command: str, **fields: Any) -> dict[str, Any]:
        """Send a command; the child's answer.

        Raises:
            RuntimeError: the child answered with an error, or exited.
        """
        stdin, stdout = self.process.stdin, self.process.stdout
        assert stdin is not None and stdout is not None
        line = ""
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: the child is gone
            stdin.write(json.dumps({"command": command, **fields}) + "\n")
            stdin.flush()
            line = stdout.readline()
        if not line:
            self.close()
            log = self.log.read_text(errors="replace").strip().splitlines()[-30:]
            raise RuntimeError(
                f"the fakesnow child (pid {self.process.pid}) exited with code "
                f"{self.process.returncode} during {command!r}; the end of {self.log}:\n"
                + "\n".join(log)
            )
        answer: dict[str, Any] = json.loads(line)
        if not answer.get("ok"):
            detail = answer.get("traceback") or ""
            raise RuntimeError(f"fakesnow {command}: {answer.get('error')}\n{detail}".strip())
        return answer


class _Load:
    """One load of fakesnow, done by a child process started on first use."""

    #: The load whose child runs (one at a time).
    running: ClassVar[_Load | None] = None

    def __init__(self, folder: Path, env: Path, setup: dict[str, Any], rows: int) -> None:
        """Remember the load; nothing starts yet."""
        self.folder = folder
        self.env = env
        self.setup = setup
        self.rows = rows
        self.child: _Child | None = None

    def ready(self) -> _Child:
        """The child, started and set up if needed (stopping another load's child)."""
        if self.child is not None and self.child.process.poll() is None:
            return self.child
        if _Load.running is not None:
            _Load.running.stop()
        python = environment(self.env)
        self.folder.mkdir(parents=True, exist_ok=True)
        child = _Child(python, self.folder)
        try:
            child.request("setup", **self.setup)
        except BaseException:
            child.close()
            raise
        self.child, _Load.running = child, self
        return child

    def stop(self) -> None:
        """Stop the child, if any."""
        if self.child is not None:
            self.child.close()
            self.child = None
        if _Load.running is self:
            _Load.running = None

    def prepare(self) -> None:
        """Empty the table (starting the child first if needed)."""
        self.ready().request("prepare")

    def run(self) -> float:
        """Load the files; the seconds of the ``COPY INTO``, measured by the child.

        Raises:
            RuntimeError: rows are missing (the child checks too), or the child failed.
        """
        answer = self.ready().request("run")
        if int(answer["rows"]) != self.rows:
            raise RuntimeError(f"fakesnow loaded {answer['rows']} rows, not {self.rows}")
        return float(answer["seconds"])


def close() -> None:
    """Stop the running fakesnow child, if any (it is also stopped at exit)."""
    if _Load.running is not None:
        _Load.running.stop()


def fakesnow_load(workdir: Path, data: Dataset, fmt: str, many: bool) -> Contender:
    """The contender ``fakesnow``: ``COPY INTO <table> FROM @stage`` through fakesnow.

    Nothing starts here. The first ``prepare`` (untimed) creates fakesnow's environment
    if needed (:func:`environment`) and starts the child, with database ``BENCH`` in a
    DuckDB file under ``workdir/fakesnow-<fmt>-<one|many>``, a table ``LOADED`` with the
    columns of ``bench``, and an external stage on the folder of the files (``file://``).

    Args:
        workdir: Where fakesnow keeps its database file.
        data: The files to load.
        fmt: ``parquet`` or ``csv``.
        many: Load every file of ``parquet_dir`` / ``csv_dir``; else the one file
            (``FILES = (...)``).

    Returns:
        The contender; ``prepare`` empties the table, ``FORCE = TRUE`` loads every
        repetition again, and ``run`` checks that every row was loaded and returns the
        seconds of the ``COPY INTO`` alone.

    Raises:
        ValueError: an unknown format.
    """
    if fmt not in LOAD_OPTIONS:
        raise ValueError(f"fakesnow_load: unknown format {fmt!r} (parquet or csv)")
    if many:
        source, files = (data.parquet_dir if fmt == "parquet" else data.csv_dir), ""
    else:
        file = data.parquet_file if fmt == "parquet" else data.csv_file
        source, files = file.parent, f" FILES = ('{file.name}')"
    folder = (workdir / f"fakesnow-{fmt}-{'many' if many else 'one'}").resolve()
    schema = pq.read_schema(data.parquet_file)
    columns = ", ".join(f"{field.name} {_snowflake_type(field.type)}" for field in schema)
    setup = {
        "folder": str(folder),
        "statements": [
            f"CREATE OR REPLACE TABLE loaded ({columns})",
            f"CREATE OR REPLACE STAGE files URL = '{source.resolve().as_uri()}/'",
        ],
        "prepare": "TRUNCATE TABLE loaded",
        "run": f"COPY INTO loaded FROM @files{files} {LOAD_OPTIONS[fmt]} FORCE = TRUE",
        "rows": data.rows,
    }
    load = _Load(folder, env_folder(data), setup, data.rows)
    return Contender("fakesnow", load.run, prepare=load.prepare)
