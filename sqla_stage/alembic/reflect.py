"""Read the stages a database has, for autogenerate to compare with the metadata.

- DuckDB with the runtime: the registry (``sqla_stage.stages``) holds each stage's
  canonical ``CREATE STAGE`` text, so every property is known.
- Snowflake: ``SHOW STAGES`` gives the name, URL, comment, whether the stage has
  credentials, its storage integration and whether its directory table is on (the
  stages of the connection's default schema are compared).
- MatrixOne (``mysql``): ``SHOW STAGES`` gives the name, URL and comment.
- Databend: ``SHOW STAGES`` gives the name and comment (its ``DESC STAGE`` prints the
  parameters in a form that is not SQL, so the URL is not compared).

A `ReflectedStage` says which properties were read; autogenerate compares only
those. The warehouse readers follow the engines' documented ``SHOW STAGES`` columns and
are not run against servers in the tests.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection

from sqla_stage.ddl import ALTERABLE
from sqla_stage.stage import Stage

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReflectedStage:
    """A stage as read from the database.

    Attributes:
        stage: What was read, as a [Stage][sqla_stage.Stage] (unread properties are unset).
        known: The properties that were read (names of `sqla_stage.ddl.ALTERABLE`).
        has_credentials: Where the credentials cannot be read, whether there are any.
    """

    stage: Stage
    known: frozenset[str]
    has_credentials: bool | None = None


Reader = Callable[[Connection], list[ReflectedStage]]


def _duckdb(connection: Connection) -> list[ReflectedStage] | None:
    from sqla_stage.runtime.catalog.registry import Registry
    from sqla_stage.runtime.engine.settings import settings_of

    settings = settings_of(connection.engine)
    if settings is None:
        log.warning(
            "sqla_stage: stages not compared: the sqla_stage runtime is not enabled on "
            "this DuckDB engine (add ?plugin=sqla_stage to sqlalchemy.url)"
        )
        return None
    cursor = connection.connection.cursor()  # the same DuckDB connection and transaction
    records = Registry(cursor, settings.stage_user).stages()
    return [ReflectedStage(record.stage, frozenset(ALTERABLE)) for record in records]


def _rows(connection: Connection, sql: str) -> list[dict[str, Any]]:
    result = connection.exec_driver_sql(sql)
    return [{str(k).lower(): v for k, v in row.items()} for row in result.mappings()]


def _name(connection: Connection, name: str) -> str:
    normalized = connection.dialect.normalize_name(name)
    return normalized or name


def snowflake_stage(connection: Connection, row: Mapping[str, Any]) -> ReflectedStage:
    """A row of Snowflake's ``SHOW STAGES``."""
    url = row.get("url") or None
    integration = row.get("storage_integration") or None
    stage = Stage(
        _name(connection, row["name"]),
        schema=None,
        url=url,
        storage_integration=integration,
        directory=str(row.get("directory_enabled", "")).upper() in ("Y", "TRUE"),
        comment=row.get("comment") or None,
    )
    known = frozenset({"url", "storage_integration", "directory", "comment"})
    has_credentials = str(row.get("has_credentials", "")).upper() in ("Y", "TRUE")
    return ReflectedStage(stage, known, has_credentials)


def matrixone_stage(connection: Connection, row: Mapping[str, Any]) -> ReflectedStage:
    """A row of MatrixOne's ``SHOW STAGES`` (``STAGE_NAME, URL, STATUS, COMMENT``)."""
    stage = Stage(
        row.get("stage_name") or row["name"],
        url=row.get("url") or None,
        comment=row.get("comment") or None,
    )
    return ReflectedStage(stage, frozenset({"url", "comment"}))


def databend_stage(connection: Connection, row: Mapping[str, Any]) -> ReflectedStage:
    """A row of Databend's ``SHOW STAGES`` (``name, stage_type, ..., comment``)."""
    stage = Stage(row["name"], comment=row.get("comment") or None)
    return ReflectedStage(stage, frozenset({"comment"}))


_ROW_READERS: dict[str, Callable[[Connection, Mapping[str, Any]], ReflectedStage]] = {
    "snowflake": snowflake_stage,
    "mysql": matrixone_stage,
    "mariadb": matrixone_stage,
    "matrixone": matrixone_stage,
    "databend": databend_stage,
}


def reflect_stages(connection: Connection) -> list[ReflectedStage] | None:
    """The named stages of the database, or None when they cannot be read here."""
    name = connection.dialect.name
    if name == "duckdb":
        return _duckdb(connection)
    reader = _ROW_READERS.get(name)
    if reader is None:
        log.warning("sqla_stage: stages not compared: no stages on dialect %r", name)
        return None
    rows = _rows(connection, "SHOW STAGES")
    default = connection.dialect.default_schema_name
    if name == "snowflake" and default:
        rows = [row for row in rows if _name(connection, row["schema_name"]) == default]
    return [reader(connection, row) for row in rows]
