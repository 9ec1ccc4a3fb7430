"""The S3 cases: unload Parquet to an S3 stage and load it back, against a moto server.

Each case starts a moto S3 server in a thread of this process, on 127.0.0.1 and a port
the OS picks, in its ``setup``, and stops it in its ``teardown``. Three contenders:

* ``sqla_stage``: this runtime's ``COPY INTO`` against an external stage
  ``URL = 's3://<bucket>/p/'`` with the server as its ``ENDPOINT_URL``;
* ``s3fs``: only the transfer of the same bytes, with s3fs (the baseline): the upload
  of the files a local DuckDB ``COPY`` wrote, or their download;
* ``duckdb``: what a user does without the runtime, since this DuckDB cannot load
  httpfs: DuckDB's ``COPY`` to a local folder, then an s3fs upload; or an s3fs download,
  then DuckDB's ``INSERT ... SELECT`` from the local files.
"""

from __future__ import annotations

import logging
import shutil
import uuid
from pathlib import Path
from typing import Any

import duckdb
import sqlalchemy as sa

from benchmarks import common
from benchmarks.harness import Bench, Case, Contender

#: moto accepts any access key unless told to check them.
KEY, SECRET, REGION = "bench-key", "bench-secret", "us-east-1"

#: The stage, and the statements of this runtime.
STAGE = "s3bench"
UNLOAD_SQL = f"COPY INTO @{STAGE}/unload/ FROM bench FILE_FORMAT = (TYPE = PARQUET)"
LOAD_SQL = f"COPY INTO loaded FROM @{STAGE}/load/ FILE_FORMAT = (TYPE = PARQUET) FORCE = TRUE"

#: DuckDB's COPY with the options this runtime's unload uses (MAX_FILE_SIZE 16000000).
DUCKDB_COPY = (
    "COPY bench TO '{folder}' (FORMAT parquet, FILE_SIZE_BYTES 16000000, PER_THREAD_OUTPUT true)"
)

UNLOAD_NOTE = (
    "All three write the same Parquet files (DuckDB's COPY, FILE_SIZE_BYTES 16000000, one "
    "output per thread). s3fs is only their upload (concurrent requests). duckdb is the "
    "COPY into a local folder plus that upload. sqla_stage runs the same COPY into a local "
    "scratch folder, checks that no file of that name exists (a HEAD request per file, "
    "OVERWRITE = FALSE), uploads the files under a scratch prefix of the stage, one after "
    "the other, then publishes each with a server-side copy to its key and deletes the "
    "scratch prefix, so that a failed unload leaves nothing: about duckdb plus a copy "
    "and a delete per file, uploads not overlapping. moto runs in this process, so its "
    "request handling shares the CPU and the GIL with every contender."
)
LOAD_NOTE = (
    "The stage holds the Parquet files of a local DuckDB COPY (FILE_SIZE_BYTES 16000000). "
    "s3fs is only their download (concurrent requests). duckdb is that download plus "
    "DuckDB's INSERT ... SELECT from read_parquet of the local files. sqla_stage lists "
    "the stage, reads the files' schema (a DESCRIBE that fetches each footer), then reads "
    "the objects where they are, in one INSERT, through an fsspec mount of the stage "
    "(ranged GETs, no local copy), and records the load history (FORCE = TRUE loads every "
    "repetition again). Through the mount DuckDB asks for each file's size and "
    "modification time over and over: about 15 HEAD requests per file. moto runs in this "
    "process, so its request handling shares the CPU and the GIL with every contender."
)


class S3World:
    """What one S3 case runs against, made in ``setup`` and undone in ``teardown``.

    A moto server and a bucket on it, an s3fs filesystem, a DuckDB engine with this
    runtime holding the stage ``s3bench`` on ``s3://<bucket>/p/``, a plain DuckDB
    connection (each on its own copy of the benchmark database), and the Parquet files of
    a local DuckDB ``COPY`` of ``bench`` (``reference``).
    """

    def __init__(self, bench: Bench, folder: Path) -> None:
        """Remember where to work; nothing starts before :meth:`setup`."""
        self.bench = bench
        self.folder = folder
        self.bucket = f"bench-{uuid.uuid4().hex[:12]}"
        self.reference = folder / "reference"
        self._server: Any = None
        self._fs: Any = None
        self._engine: sa.Engine | None = None
        self._duckdb: duckdb.DuckDBPyConnection | None = None

    @property
    def fs(self) -> Any:
        """The s3fs filesystem on the server."""
        if self._fs is None:
            raise RuntimeError("the S3 case is not set up")
        return self._fs

    @property
    def engine(self) -> sa.Engine:
        """The DuckDB engine with this runtime."""
        if self._engine is None:
            raise RuntimeError("the S3 case is not set up")
        return self._engine

    @property
    def duckdb(self) -> duckdb.DuckDBPyConnection:
        """The plain DuckDB connection."""
        if self._duckdb is None:
            raise RuntimeError("the S3 case is not set up")
        return self._duckdb

    def setup(self) -> None:
        """Start the server, make the bucket, the stage and the reference files.

        A failure stops what was started (the harness calls ``teardown`` only after a
        successful ``setup``) and is raised.
        """
        try:
            self._start()
        except BaseException:
            self.teardown()
            raise

    def _start(self) -> None:
        import s3fs
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
        common.fresh(self.folder)
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        self._fs = s3fs.S3FileSystem(
            key=KEY,
            secret=SECRET,
            endpoint_url=endpoint,
            client_kwargs={"region_name": REGION},
            skip_instance_cache=True,
            use_listings_cache=False,
        )
        self._fs.call_s3("create_bucket", Bucket=self.bucket)
        data = self.bench.data
        runtime = common.copy_database(data, self.folder / "runtime.duckdb")
        self._engine = common.runtime_engine(runtime, self.folder / "stages")
        plain = common.copy_database(data, self.folder / "duckdb.duckdb")
        self._duckdb = duckdb.connect(str(plain))
        self.duckdb.execute(DUCKDB_COPY.format(folder=self.reference))
        with self.engine.begin() as conn:
            conn.exec_driver_sql(
                f"CREATE STAGE {STAGE} URL = 's3://{self.bucket}/p/' CREDENTIALS = ("
                f"AWS_KEY_ID = '{KEY}' AWS_SECRET_KEY = '{SECRET}' ENDPOINT_URL = '{endpoint}')"
            )
            conn.exec_driver_sql(f"LIST @{STAGE}")  # the first use checks the bucket
            conn.exec_driver_sql("CREATE TABLE loaded AS SELECT * FROM bench LIMIT 0")
        self.duckdb.execute("CREATE TABLE loaded AS SELECT * FROM bench LIMIT 0")

    def teardown(self) -> None:
        """Close the connections, stop the server, remove the case's folder."""
        if self._engine is not None:
            self._engine.dispose()
        if self._duckdb is not None:
            self._duckdb.close()
        if self._server is not None:
            self._server.stop()
        self._engine = self._duckdb = self._server = self._fs = None
        shutil.rmtree(self.folder, ignore_errors=True)

    # Transfers

    def url(self, prefix: str) -> str:
        """The s3fs path of a prefix of the stage (``unload/`` -> ``bucket/p/unload/``)."""
        return f"{self.bucket}/p/{prefix}"

    def clear(self, prefix: str) -> None:
        """Remove every object under a prefix of the stage."""
        keys = self.fs.find(self.url(prefix))
        if keys:
            self.fs.rm(keys)

    def put(self, local: Path, prefix: str) -> int:
        """Upload the files of a local folder under a prefix of the stage; how many."""
        files = sorted(path for path in local.iterdir() if path.is_file())
        self.fs.put([str(path) for path in files], [self.url(prefix + p.name) for p in files])
        return len(files)

    def get(self, prefix: str, local: Path) -> None:
        """Download every object under a prefix of the stage into a local folder."""
        local.mkdir(parents=True, exist_ok=True)
        keys = self.fs.find(self.url(prefix))
        self.fs.get(keys, [str(local / key.rpartition("/")[2]) for key in keys])


def _unload_case(world: S3World) -> Case:
    """Unload ``bench`` as Parquet (split at 16 MB) to the bucket."""
    rows = world.bench.data.rows
    local = world.folder / "duckdb-out"

    def runtime() -> None:
        with world.engine.begin() as conn:
            row = conn.exec_driver_sql(UNLOAD_SQL).one()
        if row.rows_unloaded != rows:
            raise RuntimeError(f"sqla_stage unloaded {row.rows_unloaded} rows, not {rows}")

    def raw() -> None:
        world.put(world.reference, "s3fs/")

    def plain() -> None:
        world.duckdb.execute(DUCKDB_COPY.format(folder=local))
        world.put(local, "duckdb/")

    def plain_prepare() -> None:
        shutil.rmtree(local, ignore_errors=True)
        world.clear("duckdb/")

    return Case(
        name="unload Parquet to S3 (split)",
        group="S3",
        contenders=[
            Contender("sqla_stage", runtime, prepare=lambda: world.clear("unload/")),
            Contender("duckdb", plain, prepare=plain_prepare),
            Contender("s3fs", raw, prepare=lambda: world.clear("s3fs/")),
        ],
        baseline="s3fs",
        note=UNLOAD_NOTE,
        setup=world.setup,
        teardown=world.teardown,
    )


def _load_case(world: S3World) -> Case:
    """Load the Parquet files of the bucket into a table."""
    rows = world.bench.data.rows
    local = world.folder / "download"

    def setup() -> None:
        world.setup()
        world.put(world.reference, "load/")

    def runtime_prepare() -> None:
        with world.engine.begin() as conn:
            conn.exec_driver_sql("DELETE FROM loaded")

    def runtime() -> None:
        with world.engine.begin() as conn:
            loaded = sum(row.rows_loaded for row in conn.exec_driver_sql(LOAD_SQL))
        if loaded != rows:
            raise RuntimeError(f"sqla_stage loaded {loaded} rows, not {rows}")

    def raw() -> None:
        world.get("load/", local)

    def plain_prepare() -> None:
        shutil.rmtree(local, ignore_errors=True)
        world.duckdb.execute("DELETE FROM loaded")

    def plain() -> None:
        world.get("load/", local)
        source = f"read_parquet('{local}/*.parquet')"
        result = world.duckdb.execute(f"INSERT INTO loaded SELECT * FROM {source}").fetchone()
        loaded = result[0] if result else 0
        if loaded != rows:
            raise RuntimeError(f"duckdb loaded {loaded} rows, not {rows}")

    return Case(
        name="load Parquet from S3",
        group="S3",
        contenders=[
            Contender("sqla_stage", runtime, prepare=runtime_prepare),
            Contender("duckdb", plain, prepare=plain_prepare),
            Contender("s3fs", raw, prepare=lambda: shutil.rmtree(local, ignore_errors=True)),
        ],
        baseline="s3fs",
        note=LOAD_NOTE,
        setup=setup,
        teardown=world.teardown,
    )


def cases(bench: Bench) -> list[Case]:
    """The S3 cases, each with its own moto server (started in its ``setup``)."""
    folder = bench.workdir / "s3"
    return [
        _unload_case(S3World(bench, folder / "unload")),
        _load_case(S3World(bench, folder / "load")),
    ]
