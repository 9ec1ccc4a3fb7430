"""SHOW STAGES, DESC STAGE and LIST in the shape of the warehouse ``stage_dialect`` names.

The warehouses answer the same statement with different columns. With the engine setting
``stage_dialect`` (`RuntimeSettings`), the runtime answers as that warehouse's docs show;
without it, with its own columns (`catalog`). Secrets are never shown: a
credential or key is only ever reported as present.

- Snowflake: SHOW STAGES has 17 columns (``created_on, name, ..., directory_enabled``)
  with names in upper case, as unquoted identifiers are; DESC STAGE is one row per property
  (``parent_property, property, property_type, property_value, property_default``).
- Databend: SHOW STAGES and DESC STAGE share 13 columns (``name, stage_type, storage_type,
  url, ...``); LIST adds ``creator``.
- MatrixOne: SHOW STAGES is ``STAGE_NAME, URL, STATUS, COMMENT``, the status ``ENABLED``
  or ``DISABLED`` (``ENABLE = TRUE | FALSE``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqla_stage.formats import CSV, FormatSpec
from sqla_stage.namespaces import split_namespace
from sqla_stage.options import OptionValue
from sqla_stage.runtime.catalog.records import StageRecord
from sqla_stage.runtime.engine.results import BIGINT, BOOLEAN, TIMESTAMPTZ, VARCHAR, Column, Rows
from sqla_stage.stage import Stage, StageKind

_SNOWFLAKE_SHOW = [
    Column("created_on", TIMESTAMPTZ),
    *(Column(name, VARCHAR) for name in ("name", "database_name", "schema_name", "url")),
    *(Column(name, VARCHAR) for name in ("has_credentials", "has_encryption_key", "owner")),
    *(Column(name, VARCHAR) for name in ("comment", "region", "type", "cloud")),
    *(Column(name, VARCHAR) for name in ("notification_channel", "storage_integration")),
    *(Column(name, VARCHAR) for name in ("endpoint", "owner_role_type", "directory_enabled")),
]
_SNOWFLAKE_DESCRIBE = [
    Column(name, VARCHAR)
    for name in ("parent_property", "property", "property_type", "property_value")
] + [Column("property_default", VARCHAR)]
_DATABEND_STAGE = [
    *(Column(name, VARCHAR) for name in ("name", "stage_type", "storage_type", "url")),
    Column("endpoint", VARCHAR),
    Column("has_credentials", BOOLEAN),
    Column("has_encryption_key", BOOLEAN),
    *(Column(name, VARCHAR) for name in ("storage_params", "file_format_options", "creator")),
    Column("created_on", TIMESTAMPTZ),
    Column("comment", VARCHAR),
    Column("owner", VARCHAR),
]
_MATRIXONE_SHOW = [Column(name, VARCHAR) for name in ("STAGE_NAME", "URL", "STATUS", "COMMENT")]
DATABEND_LIST = [
    Column("name", VARCHAR),
    Column("size", BIGINT),
    Column("md5", VARCHAR),
    Column("last_modified", TIMESTAMPTZ),
    Column("creator", VARCHAR),
]

#: Snowflake's CSV file format properties and their defaults, in DESC STAGE's order.
_SNOWFLAKE_CSV_DEFAULTS: Sequence[tuple[str, str, str]] = (
    ("TYPE", "String", "CSV"),
    ("RECORD_DELIMITER", "String", "\\n"),
    ("FIELD_DELIMITER", "String", ","),
    ("FILE_EXTENSION", "String", ""),
    ("SKIP_HEADER", "Integer", "0"),
    ("DATE_FORMAT", "String", "AUTO"),
    ("TIME_FORMAT", "String", "AUTO"),
    ("TIMESTAMP_FORMAT", "String", "AUTO"),
    ("BINARY_FORMAT", "String", "HEX"),
    ("ESCAPE", "String", "NONE"),
    ("ESCAPE_UNENCLOSED_FIELD", "String", "\\\\"),
    ("TRIM_SPACE", "Boolean", "false"),
    ("FIELD_OPTIONALLY_ENCLOSED_BY", "String", "NONE"),
    ("NULL_IF", "List", "[\\\\N]"),
    ("COMPRESSION", "String", "AUTO"),
    ("ERROR_ON_COLUMN_COUNT_MISMATCH", "Boolean", "true"),
    ("VALIDATE_UTF8", "Boolean", "true"),
    ("SKIP_BLANK_LINES", "Boolean", "false"),
    ("REPLACE_INVALID_CHARACTERS", "Boolean", "false"),
    ("EMPTY_FIELD_AS_NULL", "Boolean", "true"),
    ("SKIP_BYTE_ORDER_MARK", "Boolean", "true"),
    ("ENCODING", "String", "UTF8"),
)
#: Snowflake's copy options of a stage and their defaults.
_SNOWFLAKE_COPY_DEFAULTS: Sequence[tuple[str, str, str]] = (
    ("ON_ERROR", "String", "ABORT_STATEMENT"),
    ("SIZE_LIMIT", "Long", ""),
    ("PURGE", "Boolean", "false"),
    ("RETURN_FAILED_ONLY", "Boolean", "false"),
    ("ENFORCE_LENGTH", "Boolean", "true"),
    ("TRUNCATECOLUMNS", "Boolean", "false"),
    ("FORCE", "Boolean", "false"),
)


def _text(value: OptionValue) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, tuple):
        return "[" + ", ".join(map(str, value)) + "]"
    return str(value)


def _storage_type(stage: Stage) -> str | None:
    if stage.kind is not StageKind.EXTERNAL or not stage.url:
        return None
    scheme = stage.url.partition("://")[0].lower()
    return {"s3a": "s3", "gs": "gcs", "azure": "azblob", "az": "azblob"}.get(scheme, scheme)


def _cloud(stage: Stage) -> str | None:
    return {"s3": "AWS", "gcs": "GCP", "azblob": "AZURE"}.get(_storage_type(stage) or "")


def _has_credentials(stage: Stage) -> bool:
    return stage.credentials is not None and not stage.credentials.is_empty


def _endpoint(stage: Stage) -> str | None:
    return stage.credentials.get("endpoint_url") if stage.credentials else None


def show_stages(dialect: str, records: Iterable[StageRecord], database: str, schema: str) -> Rows:
    """SHOW STAGES as ``dialect`` (snowflake, databend or matrixone) answers it."""
    rows: list[list[Any]] = []
    if dialect == "snowflake":
        for record in records:
            stage = record.stage
            external = stage.kind is StageKind.EXTERNAL
            # a stage's namespace is [database.]schema (sqla_stage.namespaces)
            given = split_namespace(stage.schema) if stage.schema else [schema]
            parts = [database, *given][-2:]
            rows.append(
                [
                    record.created_on,
                    stage.name.upper(),
                    parts[0].upper(),
                    parts[1].upper(),
                    stage.url or "",
                    "Y" if _has_credentials(stage) else "N",
                    "Y" if stage.encryption is not None else "N",
                    record.owner,
                    stage.comment or "",
                    None,
                    "EXTERNAL" if external else "INTERNAL",
                    _cloud(stage),
                    None,
                    stage.storage_integration,
                    _endpoint(stage),
                    "ROLE",
                    "Y" if stage.directory else "N",
                ]
            )
        return Rows(_SNOWFLAKE_SHOW, rows)
    if dialect == "databend":
        return Rows(_DATABEND_STAGE, [databend_row(record, None) for record in records])
    for record in records:
        stage = record.stage
        status = "ENABLED" if stage.directory else "DISABLED"
        rows.append([stage.name, stage.url or "", status, stage.comment or ""])
    return Rows(_MATRIXONE_SHOW, rows)


def databend_row(record: StageRecord, format_text: str | None) -> list[Any]:
    """One stage in Databend's 13 columns of SHOW STAGES and DESC STAGE."""
    stage = record.stage
    kind = "External" if stage.kind is StageKind.EXTERNAL else "Internal"
    return [
        stage.name,
        kind,
        _storage_type(stage),
        stage.url if stage.kind is StageKind.EXTERNAL else None,
        _endpoint(stage),
        _has_credentials(stage),
        stage.encryption is not None,
        None,
        format_text,
        record.owner,
        record.created_on,
        stage.comment or "",
        record.owner,
    ]


def describe_stage(dialect: str, record: StageRecord, spec: FormatSpec | None) -> Rows:
    """DESC STAGE as ``dialect`` answers it; ``spec`` is the stage's format, resolved."""
    if dialect == "databend":
        text = None if spec is None else f"TYPE = {spec.type_name}"
        return Rows(_DATABEND_STAGE, [databend_row(record, text)])
    if dialect == "matrixone":
        return show_stages(dialect, [record], "", "")
    stage = record.stage
    spec = spec or CSV()
    rows: list[list[Any]] = []
    given = {name.upper(): value for name, value in spec.options.items()}
    for name, kind, default in _SNOWFLAKE_CSV_DEFAULTS:
        value = spec.type_name if name == "TYPE" else given.get(name)
        shown = default if value is None else _text(value)
        rows.append(["STAGE_FILE_FORMAT", name, kind, shown, default])
    copied = {name.upper(): value for name, value in stage.copy_options.items()}
    for name, kind, default in _SNOWFLAKE_COPY_DEFAULTS:
        value = copied.get(name)
        rows.append(
            ["STAGE_COPY_OPTIONS", name, kind, default if value is None else _text(value), default]
        )
    url = f'["{stage.url}"]' if stage.url else ""
    rows.append(["STAGE_LOCATION", "URL", "String", url, ""])
    if stage.storage_integration:
        integration = stage.storage_integration
        rows.append(["STAGE_INTEGRATION", "STORAGE_INTEGRATION", "String", integration, ""])
    has_key = "true" if stage.credentials and "aws_key_id" in stage.credentials else "false"
    rows.append(["STAGE_CREDENTIALS", "AWS_KEY_ID", "Boolean", has_key, "false"])
    auto = (stage.directory_options or {}).get("auto_refresh") is True
    rows.append(["DIRECTORY", "LAST_REFRESHED_ON", "Timestamp", "", ""])
    rows.append(["DIRECTORY", "ENABLE", "Boolean", "true" if stage.directory else "false", "false"])
    rows.append(["DIRECTORY", "AUTO_REFRESH", "Boolean", "true" if auto else "false", "false"])
    return Rows(_SNOWFLAKE_DESCRIBE, rows)
