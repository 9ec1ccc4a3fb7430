"""CREATE / ALTER / DROP / DESC / SHOW STAGES and CREATE / DROP FILE FORMAT on the runtime.

Stages and named formats are rows of the registry (`registry`),
so they commit and roll back with the user's transaction. The answers follow Snowflake
for DDL (one ``status`` row) and Databend for DESC and SHOW (its columns), with every
secret masked.
"""

from __future__ import annotations

from sqla_stage.credentials import MASK
from sqla_stage.ddl import (
    AlterStage,
    CreateFileFormat,
    CreateStage,
    DropFileFormat,
    DropStage,
    altered_stage,
)
from sqla_stage.errors import StageProgrammingError
from sqla_stage.files import DescribeStage, ShowStages
from sqla_stage.formats import FormatSpec
from sqla_stage.namespaces import split_namespace
from sqla_stage.options import OptionValue
from sqla_stage.runtime.catalog.namespaces import Where, database
from sqla_stage.runtime.catalog.records import StageRecord
from sqla_stage.runtime.engine import warehouse_results
from sqla_stage.runtime.engine.context import (
    StageContext,
    default_format,
    stage_label,
    stage_url_path,
)
from sqla_stage.runtime.engine.results import BIGINT, TIMESTAMPTZ, VARCHAR, Column, Rows, status
from sqla_stage.runtime.storage.credentials import refuse_internal_encryption
from sqla_stage.stage import Stage, StageKind

STAGE_COLUMNS = [
    Column("name", VARCHAR),
    Column("stage_type", VARCHAR),
    Column("number_of_files", BIGINT),
    Column("creator", VARCHAR),
    Column("created_on", TIMESTAMPTZ),
    Column("comment", VARCHAR),
]
DESCRIBE_COLUMNS = [
    Column("name", VARCHAR),
    Column("stage_type", VARCHAR),
    Column("stage_params", VARCHAR),
    Column("copy_options", VARCHAR),
    Column("file_format_options", VARCHAR),
    Column("number_of_files", BIGINT),
    Column("creator", VARCHAR),
    Column("created_on", TIMESTAMPTZ),
    Column("comment", VARCHAR),
]


def create_stage(context: StageContext, element: CreateStage) -> Rows:
    """Register a stage; refuse a name in use unless IF NOT EXISTS / OR REPLACE / OR ALTER."""
    stage = element.stage
    label = stage_label(stage)
    existing = context.registry.stage(stage.schema, stage.name, secrets=False)
    if existing is not None:
        if element.if_not_exists:
            return status(f"{label} already exists, statement succeeded.")
        if element.or_alter:
            return _replace_definition(context, existing.stage, stage, "CREATE OR ALTER STAGE")
        if not element.or_replace:
            raise StageProgrammingError(
                f"stage {label} already exists (use IF NOT EXISTS or OR REPLACE)"
            )
    _refuse_masked(stage)
    stage = context.resolved_stage(stage)  # as Databend: the stage copies a connection's keys
    if stage.url:
        # a URL no filesystem handles, or an encryption it cannot apply, fails here
        context.place(stage.url, stage.credentials, stage.encryption, what=f"stage {label}")
    else:
        refuse_internal_encryption(stage.encryption, label)
    if existing is not None:
        _drop(context, existing)
    context.registry.add_stage(stage)
    return status(f"Stage area {stage.name.upper()} successfully created.")


def alter_stage(context: StageContext, element: AlterStage) -> Rows:
    """Change a registered stage in place: an internal stage keeps its files.

    An internal stage cannot be given a URL (its files would be left behind), nor an
    external one lose it: drop and create the stage for that.
    """
    stage = element.stage
    record = _registered(context, stage, element.if_exists)
    if record is None:
        if element.refresh:
            return Rows(REFRESH_COLUMNS, [])
        return status(f"Statement executed successfully ({stage.name} does not exist).")
    if element.rename_to is not None:
        return _rename(context, record.stage, element.rename_to)
    if element.refresh:
        return _refresh(context, record.stage, element.subpath)
    changed = altered_stage(record.stage, element.changes)
    return _replace_definition(context, record.stage, changed, "ALTER STAGE")


def _replace_definition(context: StageContext, current: Stage, changed: Stage, verb: str) -> Rows:
    """Store a stage's new definition in place: an internal stage keeps its files."""
    changed = context.resolved_stage(changed)
    label = stage_label(current)
    if (current.kind is StageKind.INTERNAL) != (changed.kind is StageKind.INTERNAL):
        raise StageProgrammingError(
            f"{verb} cannot turn {current.kind.value} stage {label} into "
            f"an {changed.kind.value} one (an internal stage's files would be lost); "
            "drop and create it"
        )
    if current.temporary != changed.temporary:
        raise StageProgrammingError(
            f"{verb} cannot make stage {label} temporary or permanent; drop and create it"
        )
    _refuse_masked(changed)
    if changed.url:
        # a URL no filesystem handles, or an encryption it cannot apply, fails here
        context.place(changed.url, changed.credentials, changed.encryption, what=f"stage {label}")
    else:
        refuse_internal_encryption(changed.encryption, label)
    context.registry.update_stage(changed)
    return status("Statement executed successfully.")


#: The columns of ``ALTER STAGE ... REFRESH`` (Snowflake's).
REFRESH_COLUMNS = [
    Column("file", VARCHAR),
    Column("status", VARCHAR),
    Column("description", VARCHAR),
]


#: REFRESH's status and description of a file newly registered, changed or gone.
_REFRESHED = {
    "new": ("REGISTERED_NEW", "File registered successfully."),
    "changed": ("REGISTERED_UPDATE", "File registered successfully."),
    "gone": ("REMOVED", "File removed from the directory table."),
}


def _refresh(context: StageContext, stage: Stage, subpath: str | None) -> Rows:
    """``REFRESH [SUBPATH]``: register the stage's files in its directory table.

    As in Snowflake, the answer is a row per file whose registration changed since the
    last REFRESH (below ``subpath``): new, changed (another checksum, or size and time
    where the storage gives none) or removed.
    """
    if stage.directory is not True:
        raise StageProgrammingError(
            f"ALTER STAGE ... REFRESH: stage {stage_label(stage)} has no directory table "
            "(create it with DIRECTORY = (ENABLE = TRUE))"
        )
    prefix = (subpath or "").lstrip("/")
    current = {
        info.name: info.md5 or f"{info.size}:{info.last_modified}"
        for info in context.storage(stage).list(prefix)
    }
    known = context.registry.directory(stage, prefix)
    changes = [(key, "new") for key in current if key not in known]
    changes += [(key, "changed") for key in current if known.get(key, current[key]) != current[key]]
    changes += [(key, "gone") for key in known if key not in current]
    context.registry.register_directory(stage, prefix, current)
    return Rows(REFRESH_COLUMNS, [[key, *_REFRESHED[what]] for key, what in sorted(changes)])


def _rename(context: StageContext, stage: Stage, target: Stage) -> Rows:
    """``RENAME TO``: a new name for the registered stage.

    An internal stage's files are kept in a folder named after the stage, and files are
    not transactional: moving them could not be undone by a ROLLBACK. So an internal
    stage is renamed only while it holds no files; one with files is refused.
    """
    label = stage_label(stage)
    if context.registry.stage(target.schema, target.name, secrets=False) is not None:
        raise StageProgrammingError(
            f"ALTER STAGE {label} RENAME TO: stage {stage_label(target)} already exists"
        )
    renamed = (context.registry.where(stage.schema, label), stage.name)
    for record in context.registry.stages():
        parent = stage_url_path(record.stage.url) if record.stage.url else None
        if parent is None:
            continue
        if (context.registry.where(parent.stage.schema, label), parent.stage.name) == renamed:
            raise StageProgrammingError(
                f"ALTER STAGE {label} RENAME TO: stage {stage_label(record.stage)} is a "
                f"sub-stage of it (URL {record.stage.url!r}); alter or drop that stage first"
            )
    if stage.kind is StageKind.INTERNAL and _number_of_files(context, stage):
        raise StageProgrammingError(
            f"ALTER STAGE {label} RENAME TO: the internal stage holds files, which the runtime "
            "keeps under the stage's name and cannot move within a transaction; "
            "copy them to a new stage and drop this one instead"
        )
    context.registry.rename_stage(stage, target)
    return status("Statement executed successfully.")


def _registered(
    context: StageContext, stage: Stage, if_exists: bool, *, secrets: bool = True
) -> StageRecord | None:
    """The stage's record; None when it is missing and ``IF EXISTS`` allows that.

    ``secrets=False`` masks its secrets, for what needs none (`Registry.stage`).

    Raises:
        StageRuntimeError: the stage does not exist and there is no ``IF EXISTS``.
    """
    record = context.registry.stage(stage.schema, stage.name, secrets=secrets)
    if record is None and not if_exists:
        raise context.no_such_stage(stage)
    return record


def _refuse_masked(stage: Stage) -> None:
    """Refuse secrets that are the mask: DuckDB-compiled text replayed as SQL (``--sql``)."""
    for secrets in (stage.credentials, stage.encryption):
        if secrets is None:
            continue
        masked = [key for key, value in secrets.masked().items() if value == MASK == secrets[key]]
        if masked:
            raise StageProgrammingError(
                f"stage {stage_label(stage)}: {', '.join(masked)} is the mask {MASK!r}, not a "
                "secret (SQL compiled for DuckDB masks secrets; give the real values)"
            )


def drop_stage(context: StageContext, element: DropStage) -> Rows:
    """Unregister a stage; an internal stage's files go with it."""
    stage = element.stage
    existing = _registered(context, stage, element.if_exists, secrets=False)
    if existing is None:
        return status(f"Drop statement executed successfully ({stage.name} already dropped).")
    _drop(context, existing)
    return status(f"{stage.name.upper()} successfully dropped.")


def _drop(context: StageContext, record: StageRecord) -> None:
    stage = record.stage
    storage = context.storage(stage) if stage.kind is StageKind.INTERNAL else None
    context.registry.drop_stage(stage.schema, stage.name)
    if storage is not None and storage.fs.exists(storage.root):
        storage.fs.rm(storage.root, recursive=True)


def _clause(stage_name: str, **parts: object) -> str:
    """The canonical text of some CREATE STAGE parameters, for DESC (secrets masked)."""
    prefix = str(CreateStage(Stage(stage_name)).compile())
    text = str(CreateStage(Stage(stage_name, **parts)).compile())  # type: ignore[arg-type]
    return text[len(prefix) :].strip()


def _params(stage: Stage) -> str:
    if stage.kind is not StageKind.EXTERNAL:
        return ""
    return _clause(
        stage.name,
        url=stage.url,
        credentials=stage.credentials.masked() if stage.credentials else None,
        encryption=stage.encryption.masked() if stage.encryption else None,
        storage_integration=stage.storage_integration,
    )


def _format_text(spec: FormatSpec | None) -> str:
    return _clause("s", file_format=spec) if spec is not None else ""


def _copy_options_text(options: dict[str, OptionValue]) -> str:
    return _clause("s", copy_options=options) if options else ""


def _number_of_files(context: StageContext, stage: Stage) -> int | None:
    if stage.kind is StageKind.EXTERNAL:
        return None  # as Databend: counting would list remote storage
    return len(context.storage(stage).list())


def _type_name(stage: Stage) -> str:
    return stage.kind.value.capitalize()


def describe_stage(context: StageContext, element: DescribeStage) -> Rows:
    """DESC STAGE: one row of properties (or the ``stage_dialect`` warehouse's answer)."""
    stage = element.stage
    dialect = context.settings.stage_dialect
    if dialect is not None and stage.kind in (StageKind.INTERNAL, StageKind.EXTERNAL):
        record = _registered(context, stage, False, secrets=False)
        assert record is not None
        spec = context.resolve_format(record.stage.file_format, default_format(dialect))
        return warehouse_results.describe_stage(dialect, record, spec)
    if stage.kind in (StageKind.USER, StageKind.TABLE):
        context.storage(stage)  # a table stage needs its table
        files = _number_of_files(context, stage)
        row = [stage_label(stage)[1:], _type_name(stage), "", "", "", files, None, None, None]
        return Rows(DESCRIBE_COLUMNS, [row])
    record = context.registry.stage(stage.schema, stage.name, secrets=False)
    if record is None:
        raise context.no_such_stage(stage)
    found = record.stage
    return Rows(
        DESCRIBE_COLUMNS,
        [
            [
                found.name,
                _type_name(found),
                _params(found),
                _copy_options_text(found.copy_options),
                _format_text(found.file_format),
                _number_of_files(context, found),
                record.owner,
                record.created_on,
                found.comment,
            ]
        ],
    )


def show_stages(context: StageContext, element: ShowStages) -> Rows:
    """SHOW STAGES [LIKE] [IN ...]: one row a named stage (the user stage is not listed).

    Without IN, the stages of the current database; IN ACCOUNT, those of every
    attached database too (`namespaces`).
    """
    row = context.run("SELECT current_database(), current_schema()").fetchone()
    database, schema = (str(row[0]), str(row[1])) if row else ("", "")
    records = _scoped_stages(context, element, schema)
    dialect = context.settings.stage_dialect
    if dialect is not None:
        return warehouse_results.show_stages(dialect, records, database, schema)
    rows = [
        [
            record.stage.name,
            _type_name(record.stage),
            _number_of_files(context, record.stage),
            record.owner,
            record.created_on,
            record.stage.comment,
        ]
        for record in records
    ]
    return Rows(STAGE_COLUMNS, rows)


def _scoped_stages(context: StageContext, element: ShowStages, current: str) -> list[StageRecord]:
    """The registered stages SHOW STAGES lists: ``current`` is the current schema's name.

    A record without a namespace is of the current schema (`RegistryAt.namespace`).
    """
    word, name = element.scope or ("DATABASE", None)
    if word == "ACCOUNT":
        return context.registry.stages(element.like)
    if word == "DATABASE":
        catalog = None if name is None else database(context.cursor, name, "SHOW STAGES")
        return context.registry.stages(element.like, [catalog])
    where = context.registry.where(name, "SHOW STAGES") if name else Where(None, current)
    records = context.registry.stages(element.like, [where.catalog])
    wanted = where.schema or current
    return [
        record
        for record in records
        if (split_namespace(record.stage.schema)[-1] if record.stage.schema else current) == wanted
    ]


def create_file_format(context: StageContext, element: CreateFileFormat) -> Rows:
    """Register a named file format."""
    name = element.name
    existing = context.registry.file_format(name.schema, name.name)
    if existing is not None:
        if element.if_not_exists:
            return status(f"{name.qualified_name} already exists, statement succeeded.")
        if element.or_alter:
            context.registry.update_file_format(element)
            return status("Statement executed successfully.")
        if not element.or_replace:
            raise StageProgrammingError(
                f"file format {name.qualified_name!r} already exists "
                "(use IF NOT EXISTS or OR REPLACE)"
            )
        context.registry.drop_file_format(name.schema, name.name)
    context.registry.add_file_format(element)
    return status(f"File format {name.name.upper()} successfully created.")


def drop_file_format(context: StageContext, element: DropFileFormat) -> Rows:
    """Unregister a named file format."""
    name = element.name
    if not context.registry.drop_file_format(name.schema, name.name):
        if element.if_exists:
            return status(f"Drop statement executed successfully ({name.name} already dropped).")
        raise StageProgrammingError(f"file format {name.qualified_name!r} does not exist")
    return status(f"{name.name.upper()} successfully dropped.")
