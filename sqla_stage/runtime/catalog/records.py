"""What the registry (`registry`) hands back: stage and file format records.

A definition is stored as canonical ``CREATE`` text and parsed back here; the record's
name is the one it is registered under (`RegistryAt`), with the attached database it
lives in (`namespaces`), whatever name the text was written with.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqla_stage.ddl import ALTERABLE, CreateStage
from sqla_stage.dialects.base import RENDER_SECRETS
from sqla_stage.formats import FormatSpec
from sqla_stage.namespaces import join_namespace, split_namespace
from sqla_stage.runtime.catalog.namespaces import DEFAULT_SCHEMA, LEGACY_KEY, Where
from sqla_stage.stage import Stage


@dataclass(frozen=True)
class StageRecord:
    """One registered stage."""

    stage: Stage
    owner: str | None
    created_on: dt.datetime


@dataclass(frozen=True)
class FormatRecord:
    """One registered named file format."""

    namespace: str
    name: str
    format: FormatSpec
    comment: str | None
    owner: str | None
    created_on: dt.datetime


@dataclass(frozen=True)
class RegistryAt:
    """One database's registry: its tables in SQL and the resolved namespace there.

    ``current`` is the schema a name without one is in (`namespaces.canonical`).
    """

    tables: str
    where: Where
    current: str = DEFAULT_SCHEMA

    def namespace(self, key: str) -> str:
        """The namespace of a row keyed ``key`` as a statement names it here.

        ``""`` for the current database's current schema (a name without a namespace,
        as SQLAlchemy reflects the default schema's), else ``schema`` or ``db.schema``.
        A row keyed ``""`` (a release before namespaces) is in the schema ``main``.
        """
        schema = split_namespace(key) if key != LEGACY_KEY else [DEFAULT_SCHEMA]
        if self.where.catalog is None and schema == [self.current]:
            return ""
        parts = [self.where.catalog] if self.where.catalog else []
        return join_namespace([*parts, *schema])


def named_stage(stage: Stage, schema: str | None, name: str) -> Stage:
    """``stage`` under another name and namespace, all else the same."""
    return Stage(
        name,
        schema=schema or None,
        temporary=stage.temporary,
        _kind=stage.kind,
        **{option: getattr(stage, option) for option in (*ALTERABLE, "directory_options")},
    )


def definition(stage: Stage, schema: str | None, name: str) -> str:
    """The canonical ``CREATE STAGE`` text of ``stage`` named ``[schema.]name``.

    Its secret values are written as they are: the registry passes them sealed
    (`sealed_secrets`).
    """
    element = CreateStage(named_stage(stage, schema, name))
    return str(element.compile(compile_kwargs={RENDER_SECRETS: True}))


def stage_record(
    at: RegistryAt, key: str, text: str, owner: str | None, created_on: dt.datetime
) -> StageRecord:
    """The stage a registry row defines, named as it is registered."""
    from sqla_stage.parser import parse

    stage: Stage = parse(text).stage
    schema = at.namespace(key) or None
    if stage.schema != schema:
        stage = named_stage(stage, schema, stage.name)
    return StageRecord(stage, owner, created_on)


def format_record(
    at: RegistryAt,
    key: str,
    name: str,
    text: str,
    comment: str | None,
    owner: str | None,
    created_on: dt.datetime,
) -> FormatRecord:
    """The named file format a registry row defines."""
    from sqla_stage.parser import parse

    element: Any = parse(text)
    return FormatRecord(at.namespace(key), name, element.file_format, comment, owner, created_on)
