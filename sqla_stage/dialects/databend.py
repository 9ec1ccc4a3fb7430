"""Databend rendering.

Databend spells several things its own way: ``CONNECTION = (ACCESS_KEY_ID = ...)``
for credentials, ``fs://`` for local folders, ``TYPE = NDJSON`` for JSON,
``CREDENTIAL`` (base64) for a Google service account key,
``QUOTE``/``NULL_DISPLAY``/``EMPTY_FIELD_AS``/``OUTPUT_HEADER`` for CSV options,
``ON_ERROR = ABORT`` for ``ABORT_STATEMENT``. Its defaults differ from the spec's
(unloads write Parquet, uncompressed), so an unload without a format is rendered
with the spec's defaults written out: ``TYPE = CSV COMPRESSION = GZIP``. What has
no Databend equivalent raises ``CompileError``.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from sqlalchemy.sql import visitors

from sqla_stage.connections import NamedConnection
from sqla_stage.copy import CopyInto
from sqla_stage.credentials import Credentials, Encryption
from sqla_stage.ddl import AlterStage, CreateFileFormat, CreateStage, DropFileFormat
from sqla_stage.dialects.base import Renderer
from sqla_stage.formats import CSV, JSON, FileFormat, FormatSpec
from sqla_stage.options import Keyword, OptionValue
from sqla_stage.stage import Stage, StageKind, StagePath
from sqla_stage.staged import StagedFiles

_CONNECTION_NAMES = {
    "endpoint_url": "ENDPOINT_URL",
    "aws_key_id": "ACCESS_KEY_ID",
    "aws_secret_key": "SECRET_ACCESS_KEY",
    "aws_token": "SESSION_TOKEN",
    "aws_role": "ROLE_ARN",
    "region": "REGION",
    "gcs_service_account_key": "CREDENTIAL",
}
#: Spec CSV option -> Databend option, for those that only change name.
_CSV_NAMES = {
    "compression": "COMPRESSION",
    "record_delimiter": "RECORD_DELIMITER",
    "field_delimiter": "FIELD_DELIMITER",
    "skip_header": "SKIP_HEADER",
    "escape": "ESCAPE",
    "field_optionally_enclosed_by": "QUOTE",
    "binary_format": "BINARY_FORMAT",
    "output_header": "OUTPUT_HEADER",
    "error_on_column_count_mismatch": "ERROR_ON_COLUMN_COUNT_MISMATCH",
    "missing_field_as": "MISSING_FIELD_AS",
}
_STAGE_COPY_OPTIONS = ("on_error", "size_limit")
_UNLOAD_OPTIONS = ("single", "max_file_size", "overwrite", "include_query_id", "detailed_output")
#: The unload options Databend refuses together with PARTITION BY, and the refused value.
_NOT_WITH_PARTITIONS = {"single": True, "overwrite": True, "include_query_id": False}
_LOAD_OPTIONS = ("files", "pattern", "on_error", "force", "purge", "disable_variant_check")
#: Compile keyword: staged files are being rendered inside a COPY's query.
_IN_COPY = "sqla_stage_in_copy"


def _parenthesized(expression: str) -> str:
    """``expression`` in parentheses, unless one pair already encloses all of it."""
    if expression.startswith("(") and expression.endswith(")"):
        depth, quote = 0, ""
        for index, char in enumerate(expression):
            if quote:
                quote = "" if char == quote else quote
            elif char in "'\"":
                quote = char
            elif char == "(":
                depth += 1
            elif char == ")":
                depth -= 1
                if depth == 0:
                    if index == len(expression) - 1:
                        return expression
                    break
    return f"({expression})"


class DatabendRenderer(Renderer):
    """Renders for ``databend-sqlalchemy``'s dialect."""

    shows_secrets = True
    engine = "Databend"
    dialect_splits_schemas = False
    or_alter_supported = False
    alter_actions_supported = False

    # -- locations ------------------------------------------------------------------

    def bare_name(self, what: str, schema: str | None, name: str) -> str:
        """A stage or file format name: Databend's are global and never quoted.

        Databend keeps quote characters as part of such a name (``CREATE STAGE "s"``
        creates a stage called ``"s"``) and reads ``@db.s`` as a stage called ``db.s``.
        """
        if schema:
            self.unsupported(
                f"the schema-qualified {what} '{schema}.{name}'", f" ({what}s are global)"
            )
        if self.quote(name) != name:
            self.unsupported(f"the {what} name {name!r}", " (it needs quoting)")
        return name

    def stage_name(self, stage: Stage) -> str:
        """A bare, unqualified stage name."""
        return self.bare_name("stage", stage.schema, stage.name)

    def connection_name(self, name: str) -> str:
        """A bare connection name (global, as stage names are)."""
        return self.bare_name("connection", None, name)

    def stage_reference(self, stage: Stage) -> str:
        """``~`` or a bare stage name; Databend has no table stages."""
        if stage.kind is StageKind.USER:
            return "~"
        if stage.kind is StageKind.TABLE:
            self.unsupported(
                f"the table stage @%{stage.name}", " (it has internal, external and user stages)"
            )
        return self.stage_name(stage)

    def bare_location(self, location: StagePath, statement: str) -> str:
        """LIST, REMOVE and PRESIGN take only the bare ``@stage/path`` form."""
        text = self.stage_location(location)
        if not text.startswith("@"):
            self.unsupported(f"{statement} of the path {location.path!r}", " (it needs quoting)")
        return text

    def url(self, url: str) -> str:
        """Local folders are ``fs://`` URLs in Databend."""
        if url.startswith("file://"):
            url = "fs://" + url[len("file://") :]
        elif url.startswith("/"):
            url = "fs://" + url
        return super().url(url)

    # -- clauses --------------------------------------------------------------------

    def credentials(self, credentials: Credentials | None) -> str | None:
        """``CONNECTION = (ACCESS_KEY_ID = '...' ...)``, or ``(CONNECTION_NAME = '...')``."""
        if isinstance(credentials, NamedConnection):
            return self.connection_reference(credentials)
        if not credentials:
            return None
        entries = []
        for key, value in credentials.items():
            if key not in _CONNECTION_NAMES:
                self.unsupported(f"the credential {key!r}")
            if key == "gcs_service_account_key" and value.lstrip().startswith("{"):
                value = base64.b64encode(value.encode("utf-8")).decode("ascii")  # Databend's form
            entries.append(f"{_CONNECTION_NAMES[key]} = {self.literal(value)}")
        return f"CONNECTION = ({' '.join(entries)})"

    def external_access(
        self,
        credentials: Credentials | None,
        encryption: Encryption | None,
        storage_integration: str | None,
    ) -> list[str | None]:
        """Databend connects with CONNECTION only."""
        if encryption is not None:
            self.unsupported("ENCRYPTION")
        if storage_integration is not None:
            self.unsupported("STORAGE_INTEGRATION", "; give credentials instead")
        return [self.credentials(credentials)]

    def format_type(self, spec: FormatSpec) -> str:
        """JSON is NDJSON in Databend; a named format has a bare, global name."""
        if isinstance(spec, JSON):
            return "TYPE = NDJSON"
        if isinstance(spec, FileFormat):
            self.bare_name("file format", spec.schema, spec.name)
        return super().format_type(spec)

    def format_options(self, spec: FormatSpec, *, unload: bool | None = None) -> list[str]:
        """Databend's names for the spec's format options."""
        options = dict(spec.options)
        if isinstance(spec, FileFormat) and options:
            # Databend silently ignores options next to FORMAT_NAME.
            self.unsupported(
                f"overriding the named format {spec.name!r} with {', '.join(map(repr, options))}",
                "; create a format with those options",
            )
        if (
            unload is not None
            and not isinstance(spec, FileFormat)
            and spec.type_name != "PARQUET"
            and options.get("compression") in (None, "AUTO")
        ):
            # The spec's AUTO compression: gzip when writing, detect when reading. Databend's
            # own AUTO writes uncompressed files, so AUTO is written out for unloads too.
            options["compression"] = Keyword("GZIP" if unload else "AUTO")
        other = [name for name in options if name != "missing_field_as"]
        if spec.type_name == "PARQUET" and other:
            self.unsupported(f"the Parquet option(s) {', '.join(map(repr, other))}")
        entries = []
        for name, value in options.items():
            entries.append(self.format_option(name, value))
        return entries

    def format_option(self, name: str, value: OptionValue) -> str:
        """One CSV/JSON option in Databend's spelling."""
        if value == "NONE" and isinstance(value, Keyword) and name != "compression":
            self.unsupported(f"{name.upper()} = NONE")
        if name == "compression" and value == "RAW_DEFLATE":
            self.unsupported("COMPRESSION = RAW_DEFLATE")
        if name == "binary_format" and value == "UTF8":
            self.unsupported("BINARY_FORMAT = UTF8")
        if name in _CSV_NAMES:
            return f"{_CSV_NAMES[name]} = {self.value(value)}"
        if name == "null_if":
            assert isinstance(value, tuple)
            if len(value) != 1:
                self.unsupported(
                    "NULL_IF with other than one string", " (Databend has NULL_DISPLAY)"
                )
            return f"NULL_DISPLAY = {self.literal(value[0])}"
        if name == "empty_field_as_null":
            return f"EMPTY_FIELD_AS = {'NULL' if value else 'STRING'}"
        self.unsupported(f"the format option {name.upper()}")

    def header(self, element: CopyInto, spec: FormatSpec) -> list[str]:
        """HEADER becomes the CSV option OUTPUT_HEADER."""
        header = element.copy_options.get("header")
        if header is not None and "output_header" in spec.options:
            self.unsupported("both HEADER and the format's OUTPUT_HEADER", "; give one")
        if header is None or spec.type_name == "JSON":
            return []
        if spec.type_name == "TSV":
            if header is True:
                self.unsupported("HEADER = TRUE for TSV", " (Databend's TSV has no header)")
            return []
        if spec.type_name == "PARQUET":
            if header is False:
                self.unsupported("HEADER = FALSE for Parquet", " (Databend keeps column names)")
            return []
        if isinstance(spec, FileFormat):
            self.unsupported("HEADER with a named format", "; set OUTPUT_HEADER in the format")
        return [f"OUTPUT_HEADER = {self.value(header)}"]

    def copy_file_format(self, element: CopyInto, spec: FormatSpec | None = None) -> str:
        """The FILE_FORMAT of a COPY, written out even when defaulted (see the module).

        Without a format of its own, a COPY through a stage uses the stage's format.
        """
        if spec is None:
            stage_format = element.stage.file_format if element.stage is not None else None
            spec = element.file_format or stage_format or CSV()
        entries = [
            self.format_type(spec),
            *self.format_options(spec, unload=element.is_unload),
            *self.header(element, spec),
        ]
        return f"FILE_FORMAT = ({' '.join(entries)})"

    def stage_copy_options(self, options: Mapping[str, OptionValue]) -> str | None:
        """Databend takes ON_ERROR and SIZE_LIMIT directly in CREATE STAGE."""
        for name in options:
            if name not in _STAGE_COPY_OPTIONS:
                self.unsupported(f"the stage copy option {name.upper()}")
        return " ".join(self.copy_options(options)) or None

    def copy_options(self, options: Mapping[str, OptionValue]) -> list[str]:
        """Copy options, with ON_ERROR in Databend's spelling."""
        entries = []
        for name, value in options.items():
            if name == "on_error":
                if value.endswith("%"):  # type: ignore[union-attr]
                    self.unsupported(f"ON_ERROR = {value}")
                if value == "ABORT_STATEMENT":
                    value = Keyword("ABORT")
            entries.append(f"{name.upper()} = {self.value(value)}")
        return entries

    def directory(self, enabled: bool | None) -> str | None:
        """Databend stages have no directory table."""
        if enabled is not None:
            self.unsupported("a stage directory table")
        return None

    # -- constructs -----------------------------------------------------------------

    def stage_params(self, stage: Stage) -> list[str | None]:
        """URL [CONNECTION], FILE_FORMAT and copy options."""
        if stage.temporary:
            self.unsupported("a temporary stage")
        params = super().stage_params(stage)
        return params

    def alter_stage(self, element: AlterStage) -> str:
        """Databend has no ALTER STAGE: ``CREATE OR REPLACE STAGE`` with the new definition."""
        self.alter_stage_action(element)  # RENAME TO and REFRESH: refused
        return self.create_stage(CreateStage(element.altered, or_replace=True))

    def create_file_format(self, element: CreateFileFormat) -> str:
        """Databend file formats have no TEMPORARY or COMMENT."""
        if element.temporary or element.comment is not None:
            self.unsupported("TEMPORARY or COMMENT on a file format")
        self.bare_name("file format", element.name.schema, element.name.name)
        return super().create_file_format(element)

    def drop_file_format(self, element: DropFileFormat) -> str:
        """DROP FILE FORMAT of a bare, global name."""
        self.bare_name("file format", element.name.schema, element.name.name)
        return super().drop_file_format(element)

    def show_stages(self, element: Any) -> str:
        """SHOW STAGES, without LIKE or IN (Databend's stages are global)."""
        if element.like:
            self.unsupported("SHOW STAGES LIKE")
        if element.scope is not None:
            self.unsupported(f"SHOW STAGES IN {element.scope[0]}", " (stages are global)")
        return super().show_stages(element)

    def copy_unload(self, element: CopyInto) -> str:
        """``COPY INTO <location> [CONNECTION = (...)] FROM ... FILE_FORMAT = (...) options``."""
        assert element.location is not None
        unknown = [k for k in element.copy_options if k not in (*_UNLOAD_OPTIONS, "header")]
        if unknown:
            self.unsupported(f"the unload option(s) {', '.join(k.upper() for k in unknown)}")
        options = {k: v for k, v in element.copy_options.items() if k != "header"}
        return self.join(
            "COPY INTO",
            self.location(element.location),
            *self.external_access(
                element.credentials, element.encryption, element.storage_integration
            ),
            "FROM",
            self.copy_source(element),
            self.partition_by(element),
            self.copy_file_format(element),
            *self.copy_options(options),
        )

    def partition_by(self, element: CopyInto) -> str | None:
        """``PARTITION BY ( <expr> )``, without the options Databend refuses with it."""
        if element.partition_by is None:
            return None
        for name, refused in _NOT_WITH_PARTITIONS.items():
            if element.copy_options.get(name) is refused:
                self.unsupported(f"PARTITION BY with {name.upper()} = {str(refused).upper()}")
        expression = str(self.sql.process(element.partition_by, **self.kw))
        return f"PARTITION BY {_parenthesized(expression)}"

    def copy_load(self, element: CopyInto) -> str:
        """``COPY INTO t [(cols)] FROM <location> [CONNECTION] [FILES] [PATTERN] FILE_FORMAT``."""
        unknown = [k for k in element.copy_options if k not in _LOAD_OPTIONS]
        if unknown:
            self.unsupported(f"the load option(s) {', '.join(k.upper() for k in unknown)}")
        return super().copy_load(element)

    def load_source(
        self, element: CopyInto
    ) -> tuple[str, FormatSpec | None, dict[str, OptionValue]]:
        """Staged files in a load's query hand their format and pattern to the COPY."""
        if element.location is not None:
            return super().load_source(element)
        spec, pattern = self.staged_in_copy(element)
        options = dict(element.copy_options)
        if pattern is not None:
            options["pattern"] = pattern
        assert element.query is not None
        source = f"({self.embedded(element.query, **{_IN_COPY: True})})"
        return source, spec, options

    def load_file_format(self, element: CopyInto, spec: FormatSpec | None) -> str | None:
        """Always written out (see the module)."""
        return self.copy_file_format(element, spec)

    def load_options(self, options: Mapping[str, OptionValue]) -> list[str]:
        """ON_ERROR in Databend's spelling."""
        return self.copy_options(options)

    def staged_in_copy(self, element: CopyInto) -> tuple[FormatSpec | None, str | None]:
        """The format and pattern of a load from ``select(...).select_from(staged(...))``.

        Databend refuses options on staged files inside COPY ("apply them in the outer
        copy stmt"), so the staged files render bare and their format and pattern move
        to the COPY, where they must agree with the COPY's own.
        """
        staged = [e for e in visitors.iterate(element.query) if isinstance(e, StagedFiles)]
        formats = {s.file_format for s in staged if s.file_format is not None}
        patterns = {s.pattern for s in staged if s.pattern is not None}
        if element.file_format is not None:
            formats.add(element.file_format)
        if isinstance(given := element.copy_options.get("pattern"), str):
            patterns.add(given)
        if len(formats) > 1 or len(patterns) > 1:
            self.unsupported(
                "different formats or patterns for the staged files and the COPY",
                " (one FILE_FORMAT and PATTERN apply to the whole COPY)",
            )
        return next(iter(formats), None), next(iter(patterns), None)

    def list_files(self, element: Any) -> str:
        """LIST @stage/path [PATTERN]."""
        return self.join(
            "LIST", self.bare_location(element.location, "LIST"), self.pattern(element.pattern)
        )

    def remove_files(self, element: Any) -> str:
        """REMOVE @stage/path [PATTERN]."""
        location = self.bare_location(element.location, "REMOVE")
        return self.join("REMOVE", location, self.pattern(element.pattern))

    def presign(self, element: Any) -> str:
        """PRESIGN [DOWNLOAD | UPLOAD] @stage/path [EXPIRE = n]."""
        self.bare_location(element.location, "PRESIGN")
        return super().presign(element)

    def put(self, element: Any) -> str:
        """PUT is a BendSQL client command, not Databend server SQL."""
        self.unsupported("PUT", " (it is a BendSQL client command, not server SQL)")

    def get(self, element: Any) -> str:
        """GET is a BendSQL client command, not Databend server SQL."""
        self.unsupported("GET", " (it is a BendSQL client command, not server SQL)")

    def select_into_outfile(self, element: Any) -> str:
        """Databend has no INTO OUTFILE."""
        self.unsupported("SELECT ... INTO OUTFILE", "; use CopyInto(stage / 'p/', query)")

    def staged(self, element: StagedFiles) -> str:
        """Staged files; bare inside a COPY, whose FILE_FORMAT and PATTERN apply to them."""
        if self.kw.get(_IN_COPY):
            return self.stage_location(element.location)
        return super().staged(element)

    def staged_format(self, spec: FormatSpec | None) -> str | None:
        """JSON is NDJSON in Databend; a named format has a bare, global name."""
        if isinstance(spec, FileFormat):
            self.bare_name("file format", spec.schema, spec.name)
        name = super().staged_format(spec)
        return "NDJSON" if name == "JSON" and not isinstance(spec, FileFormat) else name

    def load_data(self, element: Any) -> str:
        """LOAD DATA is MatrixOne's statement; COPY INTO loads files here."""
        self.unsupported(
            "LOAD DATA", " (it is MatrixOne's statement); use CopyInto(table, stage / 'path')"
        )
