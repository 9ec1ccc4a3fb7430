"""The generic renderer: the canonical stage SQL.

It renders the default string form and DuckDB's, and is the base that each
engine's renderer adjusts.

The canonical form is Snowflake's syntax (spec 004) plus the statements only the
other engines have (Databend's ``PRESIGN``, MatrixOne's ``INTO OUTFILE``).
Identifiers go through the dialect's ``IdentifierPreparer`` and string values
through its ``render_literal_value``: no user value is pasted into SQL as is.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, NoReturn, TypeVar

from sqlalchemy import String
from sqlalchemy.exc import CompileError
from sqlalchemy.sql.compiler import Compiled, SQLCompiler

from sqla_stage.connections import NamedConnection
from sqla_stage.copy import CopyInto
from sqla_stage.credentials import CREDENTIAL_KEYS, Credentials, Encryption, _SecretMapping
from sqla_stage.ddl import AlterStage, CreateFileFormat, CreateStage, DropFileFormat, DropStage
from sqla_stage.dialects.connections import CONNECTION_METHODS, ConnectionRendering
from sqla_stage.dialects.ddl_more import DdlMoreRendering
from sqla_stage.dialects.load_data import render_load_data, render_select_into_outfile
from sqla_stage.dialects.names import NameRendering
from sqla_stage.dialects.nested import nested_sql
from sqla_stage.dialects.staged_files import typed_files
from sqla_stage.files import DescribeStage, Get, ListFiles, Presign, Put, RemoveFiles, ShowStages
from sqla_stage.formats import FileFormat, FormatSpec
from sqla_stage.load_data import LoadData
from sqla_stage.options import Keyword, OptionValue
from sqla_stage.outfile import SelectIntoOutfile
from sqla_stage.stage import Location, Stage, StageKind, StagePath
from sqla_stage.staged import StagedFiles

#: Path characters that may stand bare after ``@stage/``; anything else is quoted.
_BARE_PATH = re.compile(r"[A-Za-z0-9_./-]*")
_CREDENTIAL_NAMES = {key: key.upper() for key in CREDENTIAL_KEYS}
_LOCATION_LOAD_OPTIONS = ("files", "pattern")
#: The compile keyword that renders real secret values on every renderer:
#: ``construct.compile(compile_kwargs={"render_secrets": True})``.
RENDER_SECRETS = "render_secrets"
_Secrets = TypeVar("_Secrets", bound=_SecretMapping)


class Renderer(ConnectionRendering, DdlMoreRendering, NameRendering):
    """Renders each construct for one compilation. Subclass per engine.

    Attributes:
        engine: The engine's name, for error messages.
        shows_secrets: Whether secret values are rendered as they are (a warehouse's
            text, which executes) or as ``'***'`` (the default string form and DuckDB's,
            which only reach logs and messages). The compile keyword `RENDER_SECRETS`
            shows them on any renderer.
    """

    engine = "the default dialect"
    shows_secrets = False

    def __init__(self, compiler: Compiled, **kw: Any) -> None:
        """Render with ``compiler`` (an SQL or DDL compiler) and its keyword arguments."""
        self.compiler = compiler
        self.sql: SQLCompiler = getattr(compiler, "sql_compiler", compiler)  # type: ignore[arg-type]
        self.preparer = compiler.preparer
        self.kw = kw
        self.shows_secrets = self.shows_secrets or bool(kw.get(RENDER_SECRETS))
        self.percent = "%%" if getattr(self.preparer, "_double_percents", False) else "%"

    # -- primitives ---------------------------------------------------------------

    def unsupported(self, what: str, hint: str = "") -> NoReturn:
        """Raise CompileError: ``what`` has no faithful equivalent on this engine."""
        raise CompileError(f"{what} is not supported on {self.engine}{hint}")

    def quote(self, name: str) -> str:
        """One identifier, quoted when it needs to be."""
        return str(self.preparer.quote(name))

    def literal(self, value: str) -> str:
        """A string literal, escaped by the dialect."""
        return str(self.sql.render_literal_value(value, String()))

    def secrets_of(self, value: _Secrets | None) -> _Secrets | None:
        """``value``, its secrets masked unless this rendering `shows_secrets`."""
        return value if value is None or self.shows_secrets else value.with_masked_secrets()

    def keyword(self, value: str) -> str:
        """A bare keyword value (``GZIP``, ``SKIP_FILE_10%``)."""
        return value.replace("%", self.percent)

    def value(self, value: OptionValue) -> str:
        """An option value in SQL."""
        if isinstance(value, bool):
            return "TRUE" if value else "FALSE"
        if isinstance(value, int):
            return str(value)
        if isinstance(value, Keyword):
            if value.endswith("%"):
                # Snowflake writes the percent form quoted: ON_ERROR = 'SKIP_FILE_10%'.
                return self.literal(value)
            return self.keyword(value)
        if isinstance(value, tuple):
            return "(" + ", ".join(self.literal(item) for item in value) + ")"
        return self.literal(value)

    def assignments(self, options: Mapping[str, OptionValue]) -> list[str]:
        """``NAME = value`` for each option, in order."""
        return [f"{name.upper()} = {self.value(value)}" for name, value in options.items()]

    @staticmethod
    def join(*parts: str | None) -> str:
        """Join the non-empty parts with spaces."""
        return " ".join(part for part in parts if part)

    # -- stages and locations -----------------------------------------------------

    def stage_name(self, stage: Stage) -> str:
        """The stage's name as in DDL: ``schema.name``."""
        return self.qualified(stage.schema, stage.name)

    def stage_reference(self, stage: Stage) -> str:
        """What follows ``@``: ``~``, ``[schema.]%table`` or ``[schema.]name``."""
        if stage.kind is StageKind.USER:
            return "~"
        if stage.kind is StageKind.TABLE:
            # spec 004: @[<namespace>.]%<table_name>, the namespace before the %.
            namespace = "".join(self.quote(part) + "." for part in self.namespace(stage.schema))
            return namespace + self.percent + self.quote(stage.name)
        return self.qualified(stage.schema, stage.name)

    def stage_location(self, location: StagePath) -> str:
        """``@stage/path``, or ``'@stage/path'`` when the path needs quoting."""
        text = "@" + self.stage_reference(location.stage)
        if location.path:
            text += "/" + location.path.replace("%", self.percent)
        if _BARE_PATH.fullmatch(location.path):
            return text
        return self.quoted_location(text)

    def quoted_location(self, text: str) -> str:
        """The quoted form ``'@stage/path 1/'`` of spec 004."""
        if self.percent == "%%":
            text = text.replace("%%", "%")
        return self.literal(text)

    def url(self, url: str) -> str:
        """An external location's URL, as a literal."""
        return self.literal(url)

    def location(self, location: Location) -> str:
        """A stage path or a URL."""
        if isinstance(location, StagePath):
            return self.stage_location(location)
        return self.url(location)

    # -- clauses --------------------------------------------------------------------

    def format_type(self, spec: FormatSpec) -> str:
        """The TYPE (or FORMAT_NAME) entry of a format."""
        if isinstance(spec, FileFormat):
            return f"FORMAT_NAME = {self.literal(spec.qualified_name)}"
        return f"TYPE = {spec.type_name}"

    def format_options(self, spec: FormatSpec, *, unload: bool | None = None) -> list[str]:
        """The options of a format, ``COMPRESSION = GZIP ...``."""
        return self.assignments(spec.options)

    def file_format(self, spec: FormatSpec | None, *, unload: bool | None = None) -> str | None:
        """``FILE_FORMAT = (...)``."""
        if spec is None:
            return None
        entries = [self.format_type(spec), *self.format_options(spec, unload=unload)]
        return f"FILE_FORMAT = ({' '.join(entries)})"

    def credentials(self, credentials: Credentials | None) -> str | None:
        """``CREDENTIALS = (AWS_KEY_ID = '...' ...)``, or a named connection."""
        if isinstance(credentials, NamedConnection):
            return self.connection_reference(credentials)
        credentials = self.secrets_of(credentials)
        if not credentials:
            return None
        entries = [f"{_CREDENTIAL_NAMES[k]} = {self.literal(v)}" for k, v in credentials.items()]
        return f"CREDENTIALS = ({' '.join(entries)})"

    def encryption(self, encryption: Encryption | None) -> str | None:
        """``ENCRYPTION = (TYPE = '...' ...)``."""
        encryption = self.secrets_of(encryption)
        if not encryption:
            return None
        entries = []
        for key, value in encryption.items():
            shown = "NONE" if key == "type" and value == "NONE" else self.literal(value)
            entries.append(f"{key.upper()} = {shown}")
        return f"ENCRYPTION = ({' '.join(entries)})"

    def storage_integration(self, name: str | None) -> str | None:
        """``STORAGE_INTEGRATION = name``."""
        return f"STORAGE_INTEGRATION = {self.quote(name)}" if name else None

    def external_access(
        self,
        credentials: Credentials | None,
        encryption: Encryption | None,
        storage_integration: str | None,
    ) -> list[str | None]:
        """The clauses that give access to an external location."""
        return [
            self.storage_integration(storage_integration),
            self.credentials(credentials),
            self.encryption(encryption),
        ]

    def directory(self, enabled: bool | None) -> str | None:
        """The directory-table clause."""
        if enabled is None:
            return None
        return f"DIRECTORY = (ENABLE = {self.value(enabled)})"

    def stage_copy_options(self, options: Mapping[str, OptionValue]) -> str | None:
        """A stage's default copy options."""
        return f"COPY_OPTIONS = ({' '.join(self.assignments(options))})" if options else None

    def comment(self, comment: str | None) -> str | None:
        """``COMMENT = '...'``."""
        return None if comment is None else f"COMMENT = {self.literal(comment)}"

    def subquery(self, query: Any) -> str:
        """A query as ``(SELECT ...)``."""
        return f"({self.embedded(query)})"

    def embedded(self, query: Any, **kw: Any) -> str:
        """A query the statement carries as data, compiled as a nested query (`nested`)."""
        self.check_query_names(query)
        return nested_sql(self.sql, query, **{**self.kw, **kw})

    # -- constructs -----------------------------------------------------------------

    def create_stage(self, element: CreateStage) -> str:
        """CREATE STAGE."""
        stage = element.stage
        return self.join(
            "CREATE",
            "OR REPLACE" if element.or_replace else self.or_alter(element),
            "TEMPORARY" if stage.temporary else None,
            "STAGE",
            "IF NOT EXISTS" if element.if_not_exists else None,
            self.stage_name(stage),
            *self.stage_params(stage),
            self.comment(stage.comment),
        )

    def stage_params(self, stage: Stage) -> list[str | None]:
        """Everything between the stage's name and its comment."""
        return [
            f"URL = {self.url(stage.url)}" if stage.url else None,
            *self.external_access(stage.credentials, stage.encryption, stage.storage_integration),
            self.stage_directory(stage),
            self.file_format(stage.file_format),
            self.stage_copy_options(stage.copy_options),
        ]

    def alter_stage(self, element: AlterStage) -> str:
        """``ALTER STAGE [IF EXISTS] name SET ...`` (Snowflake's syntax)."""
        exists = "IF EXISTS" if element.if_exists else None
        if action := self.alter_stage_action(element):
            return action
        clauses = [self.alter_clause(element.altered, name) for name in element.changes]
        return self.join("ALTER STAGE", exists, self.stage_name(element.stage), "SET", *clauses)

    def alter_clause(self, stage: Stage, name: str) -> str:
        """What ``SET`` gives one changed property; a removed one is set to its default."""
        if name == "url":
            return f"URL = {self.url(stage.url)}" if stage.url else ""
        if name == "storage_integration" and stage.storage_integration is None:
            self.unsupported("removing a storage integration", "; set credentials instead")
        if name == "copy_options":
            return self.stage_copy_options(stage.copy_options) or "COPY_OPTIONS = ()"
        default = {
            "credentials": "CREDENTIALS = ()",
            "encryption": "ENCRYPTION = (TYPE = NONE)",
            "directory": "DIRECTORY = (ENABLE = FALSE)",
            "file_format": "FILE_FORMAT = (TYPE = CSV)",
            "comment": "COMMENT = ''",
        }
        return getattr(self, name)(getattr(stage, name)) or default[name]

    def drop_stage(self, element: DropStage) -> str:
        """DROP STAGE."""
        exists = "IF EXISTS" if element.if_exists else None
        return self.join("DROP STAGE", exists, self.stage_name(element.stage))

    def describe_stage(self, element: DescribeStage) -> str:
        """DESC STAGE."""
        stage = element.stage
        if stage.kind in (StageKind.USER, StageKind.TABLE):
            return f"DESC STAGE @{self.stage_reference(stage)}"
        return f"DESC STAGE {self.stage_name(stage)}"

    def show_stages(self, element: ShowStages) -> str:
        """SHOW STAGES [LIKE ...] [IN ACCOUNT | DATABASE [db] | SCHEMA [[db.]schema]]."""
        like = f"LIKE {self.literal(element.like)}" if element.like else None
        return self.join("SHOW STAGES", like, self.show_scope(element))

    def create_file_format(self, element: CreateFileFormat) -> str:
        """CREATE FILE FORMAT."""
        return self.join(
            "CREATE",
            "OR REPLACE" if element.or_replace else self.or_alter(element),
            "TEMPORARY" if element.temporary else None,
            "FILE FORMAT",
            "IF NOT EXISTS" if element.if_not_exists else None,
            self.qualified(element.name.schema, element.name.name),
            self.format_type(element.file_format),
            *self.format_options(element.file_format),
            self.comment(element.comment),
        )

    def drop_file_format(self, element: DropFileFormat) -> str:
        """DROP FILE FORMAT."""
        exists = "IF EXISTS" if element.if_exists else None
        return self.join(
            "DROP FILE FORMAT", exists, self.qualified(element.name.schema, element.name.name)
        )

    def copy_into(self, element: CopyInto) -> str:
        """COPY INTO, either direction."""
        return self.copy_unload(element) if element.is_unload else self.copy_load(element)

    def copy_source(self, element: CopyInto) -> str:
        """The FROM of an unload: a table or ``(query)``."""
        if element.table is not None:
            return self.table(element.table)
        return self.subquery(element.query)

    def copy_unload(self, element: CopyInto) -> str:
        """COPY INTO <location>."""
        assert element.location is not None
        return self.join(
            "COPY INTO",
            self.location(element.location),
            "FROM",
            self.copy_source(element),
            *self.external_access(
                element.credentials, element.encryption, element.storage_integration
            ),
            self.partition_by(element),
            self.file_format(element.file_format, unload=True),
            *self.assignments(element.copy_options),
        )

    def partition_by(self, element: CopyInto) -> str | None:
        """``PARTITION BY <expr>``."""
        if element.partition_by is None:
            return None
        return f"PARTITION BY {self.sql.process(element.partition_by, **self.kw)}"

    def copy_target(self, element: CopyInto) -> str:
        """The target of a load: ``table [(columns)]``."""
        target = self.table(element.table)
        if element.columns:
            target += " (" + ", ".join(self.quote(name) for name in element.columns) + ")"
        return target

    def copy_load(self, element: CopyInto) -> str:
        """COPY INTO <table>."""
        source, spec, options = self.load_source(element)
        located = {k: v for k, v in options.items() if k in _LOCATION_LOAD_OPTIONS}
        rest = {k: v for k, v in options.items() if k not in _LOCATION_LOAD_OPTIONS}
        return self.join(
            "COPY INTO",
            self.copy_target(element),
            "FROM",
            source,
            *self.external_access(
                element.credentials, element.encryption, element.storage_integration
            ),
            *self.assignments(located),
            self.load_file_format(element, spec),
            *self.load_options(rest),
        )

    def load_source(
        self, element: CopyInto
    ) -> tuple[str, FormatSpec | None, dict[str, OptionValue]]:
        """What a load reads (a location or ``(query)``), its format and its options."""
        if element.location is not None:
            source = self.location(element.location)
        else:
            source = self.subquery(element.query)
        return source, element.file_format, dict(element.copy_options)

    def load_file_format(self, element: CopyInto, spec: FormatSpec | None) -> str | None:
        """The FILE_FORMAT of a load."""
        return self.file_format(spec, unload=False)

    def load_options(self, options: Mapping[str, OptionValue]) -> list[str]:
        """The copy options of a load after its format."""
        return self.assignments(options)

    def list_files(self, element: ListFiles) -> str:
        """LIST."""
        return self.join(
            "LIST", self.stage_location(element.location), self.pattern(element.pattern)
        )

    def remove_files(self, element: RemoveFiles) -> str:
        """REMOVE."""
        return self.join(
            "REMOVE", self.stage_location(element.location), self.pattern(element.pattern)
        )

    def pattern(self, pattern: str | None) -> str | None:
        """``PATTERN = '...'``."""
        return f"PATTERN = {self.literal(pattern)}" if pattern else None

    def presign(self, element: Presign) -> str:
        """PRESIGN (Databend's statement)."""
        expire = f"EXPIRE = {element.expire}" if element.expire else None
        return self.join("PRESIGN", element.method, self.stage_location(element.location), expire)

    def put(self, element: Put) -> str:
        """PUT."""
        return self.join(
            "PUT",
            self.literal(element.local_url),
            self.stage_location(element.location),
            *self.assignments(element.transfer_options),
        )

    def get(self, element: Get) -> str:
        """GET."""
        return self.join(
            "GET",
            self.stage_location(element.location),
            self.literal(element.local_url),
            *self.assignments(element.transfer_options),
        )

    def select_into_outfile(self, element: SelectIntoOutfile) -> str:
        """MatrixOne's ``SELECT ... INTO OUTFILE`` (`sqla_stage.dialects.load_data`)."""
        return render_select_into_outfile(self, element)

    def load_data(self, element: LoadData) -> str:
        """MatrixOne's ``LOAD DATA`` (`sqla_stage.dialects.load_data`)."""
        return render_load_data(self, element, mask_secrets=not self.shows_secrets)

    def staged_format(self, spec: FormatSpec | None) -> str | None:
        """The FILE_FORMAT argument of staged files: a type name or a format's name."""
        if spec is None:
            return None
        if isinstance(spec, FileFormat):
            if spec.options:
                self.unsupported("format options on staged files", "; create a named format")
            return spec.qualified_name
        if spec.options:
            self.unsupported(
                "format options on staged files", "; use FileFormat(name) with a created format"
            )
        return spec.type_name

    def staged(self, element: StagedFiles) -> str:
        """``@stage/path (FILE_FORMAT => '...', PATTERN => '...')``."""
        arguments = []
        name = self.staged_format(element.file_format)
        if name:
            arguments.append(f"FILE_FORMAT => {self.literal(name)}")
        if element.pattern:
            arguments.append(f"PATTERN => {self.literal(element.pattern)}")
        text = self.stage_location(element.location)
        files = f"{text} ({', '.join(arguments)})" if arguments else text
        return typed_files(element, files, self.quote, self.sql.dialect.type_compiler_instance)


#: Which renderer method renders which construct.
CONSTRUCT_METHODS: Mapping[type[Any], str] = {
    CreateStage: "create_stage",
    DropStage: "drop_stage",
    AlterStage: "alter_stage",
    DescribeStage: "describe_stage",
    ShowStages: "show_stages",
    CreateFileFormat: "create_file_format",
    DropFileFormat: "drop_file_format",
    CopyInto: "copy_into",
    ListFiles: "list_files",
    RemoveFiles: "remove_files",
    Presign: "presign",
    Put: "put",
    Get: "get",
    SelectIntoOutfile: "select_into_outfile",
    LoadData: "load_data",
    StagedFiles: "staged",
    **CONNECTION_METHODS,
}
