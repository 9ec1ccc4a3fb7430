"""Shared pytest configuration: Hypothesis profiles and an embedded Databend peer.

Embedded Databend (PyPI ``databend``) keeps everything under ``./.databend``, relative to
the current working directory, and it resolves that path at two different moments:

* ``import databend`` opens the metadata store (``.databend/_meta``) and fixes the table
  storage root (``.databend/_data``) relative to the CWD *at import time*;
* stage storage (``.databend/_data/stage/internal/<name>``, ``.../stage/user/<user>``) is
  resolved relative to the CWD *at query time*.

So the fixtures below import ``databend`` and create the ``SessionContext`` inside a pytest
temp directory, and :meth:`DatabendSession.sql` switches the CWD to that directory for the
duration of every query. Do not ``import databend`` at module level in test files: that
would open the metadata store in whatever directory pytest was started from. Because the
CWD is process-global, the helper is not thread-safe (tests run sequentially).

Databend stages are global (not per database), so tests must give stages unique names,
e.g. with the ``unique_name`` fixture.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "default",
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("ci", max_examples=200, deadline=None)
settings.load_profile("ci" if os.environ.get("CI", "").lower() == "true" else "default")


class DatabendSession:
    """A thin wrapper over ``databend.SessionContext`` that returns rows as dicts."""

    def __init__(self, ctx: Any, root: Path, database: str | None = None) -> None:
        self.ctx = ctx
        self.root = root
        self.database = database

    @property
    def data_dir(self) -> Path:
        """Where Databend keeps table and stage data (``<root>/.databend/_data``)."""
        return self.root / ".databend" / "_data"

    def stage_dir(self, name: str) -> Path:
        """The directory that holds the files of internal stage ``name``."""
        return self.data_dir / "stage" / "internal" / name

    def sql(self, text: str) -> list[dict[str, Any]]:
        """Run one statement and return its rows (an empty list for DDL / no rows)."""
        with contextlib.chdir(self.root):
            batches = self.ctx.sql(text).to_py_arrow()
        return [row for batch in batches or () for row in batch.to_pylist()]


@pytest.fixture(scope="session")
def databend_ctx(tmp_path_factory: pytest.TempPathFactory) -> DatabendSession:
    """One embedded Databend for the whole test session, rooted in a temp directory."""
    if "databend" in sys.modules:
        pytest.fail(
            "the `databend` module was imported before the databend_ctx fixture ran, so its "
            "metadata store was opened under the working directory of that import (probably "
            f"{Path.cwd() / '.databend'}); use the fixture instead of importing databend in "
            "test modules"
        )
    root = tmp_path_factory.mktemp("databend")
    with contextlib.chdir(root):
        databend = importlib.import_module("databend")
        ctx = databend.SessionContext()
    return DatabendSession(ctx, root)


@pytest.fixture
def databend(databend_ctx: DatabendSession) -> Iterator[DatabendSession]:
    """The session's Databend, switched to a fresh database that is dropped afterwards."""
    name = f"db_{uuid4().hex}"
    databend_ctx.sql(f"CREATE DATABASE {name}")
    databend_ctx.sql(f"USE {name}")
    yield DatabendSession(databend_ctx.ctx, databend_ctx.root, database=name)
    databend_ctx.sql("USE default")
    databend_ctx.sql(f"DROP DATABASE IF EXISTS {name}")


@pytest.fixture
def unique_name() -> Callable[[str], str]:
    """Return a function that makes collision-free object names: ``prefix_1a2b3c4d``."""
    return lambda prefix: f"{prefix}_{uuid4().hex[:8]}"


@pytest.fixture
def make_engine(tmp_path: Path) -> Iterator[Callable[..., Any]]:
    """A factory of DuckDB file engines with the stage runtime, all under ``tmp_path``.

    ``make_engine(user="alice", database="app.duckdb", stage_root=None)``; the stage root
    defaults to ``tmp_path / "stages"`` so engines of one test share their stages.
    """
    import sqlalchemy as sa

    engines: list[Any] = []

    def make(
        user: str = "alice", database: str = "app.duckdb", stage_root: str | None = None
    ) -> Any:
        engine = sa.create_engine(
            f"duckdb:///{tmp_path / database}",
            plugins=["sqla_stage"],
            stage_root=stage_root or str(tmp_path / "stages"),
            stage_user=user,
        )
        engines.append(engine)
        return engine

    yield make
    for engine in engines:
        engine.dispose()


@pytest.fixture
def engine(make_engine: Callable[..., Any]) -> Any:
    """A DuckDB file engine with the stage runtime (user ``alice``, root ``tmp/stages``)."""
    return make_engine()


@pytest.fixture(scope="session")
def s3_server() -> Iterator[Any]:
    """A moto S3 server on 127.0.0.1 for the session (see ``tests/moto_server.py``).

    It has ``endpoint_url``, ``key`` and ``secret`` (an IAM user's access key),
    ``new_bucket()``, ``credentials()`` / ``credentials_sql()`` for stages, boto3 helpers
    (``s3``, ``keys``, ``read``) and ``authenticated()`` to check signatures in a block.
    """
    from moto_server import MotoS3

    server = MotoS3.start()
    yield server
    server.stop()


@pytest.fixture
def s3_bucket(s3_server: Any) -> str:
    """A fresh, uniquely named bucket on the session's moto server."""
    name: str = s3_server.new_bucket()
    return name
