"""``Stage``: a named place for data files, as a SQLAlchemy schema item.

A stage is internal (its files live in the warehouse's own storage), external
(it points at a URL such as ``s3://bucket/path/``), the current user's stage
(``@~``, [Stage.user][sqla_stage.Stage.user]) or a table's stage (``@%t``,
[Stage.table][sqla_stage.Stage.table]).
``stage / "a/b/"`` is a [StagePath][sqla_stage.StagePath], which renders as ``@stage/a/b/``.

Stages given a ``MetaData`` join it like a ``Sequence``: ``create_all`` creates
them after the tables, ``drop_all`` drops them before (see `sqla_stage.metadata`).
The everyday calls (``stage.list(conn)``, ``stage.unload(conn, User)``, ``stage.read(conn)``,
...) come from its base class `sqla_stage.stage_methods.StageMethods`.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import MetaData
from sqlalchemy.schema import SchemaItem
from sqlalchemy.sql.expression import TableClause

from sqla_stage.credentials import Credentials, Encryption
from sqla_stage.display_hooks import shown_stage
from sqla_stage.entity_tables import stage_table
from sqla_stage.errors import StageArgumentError
from sqla_stage.formats import FormatSpec, coerce_format
from sqla_stage.metadata import add_stage
from sqla_stage.namespaces import check_namespace
from sqla_stage.options import (
    STAGE_COPY_OPTIONS,
    OptionValue,
    check_options,
    options_key,
    options_repr,
)
from sqla_stage.stage_methods import StageMethods

if TYPE_CHECKING:
    from sqlalchemy.orm.util import AliasedClass


class StageKind(enum.Enum):
    """The four kinds of stage of the Databend and Snowflake texts."""

    INTERNAL = "internal"
    EXTERNAL = "external"
    USER = "user"
    TABLE = "table"


_INTERNAL_ENCRYPTION = ("SNOWFLAKE_FULL", "SNOWFLAKE_SSE")


class Stage(StageMethods, SchemaItem):
    """A named stage.

    Args:
        name: The stage's name.
        metadata: A ``MetaData`` the stage joins, so ``create_all``/``drop_all`` manage it.
        schema: The namespace (``schema`` or ``database.schema``) the stage lives in; a
            part with a dot is double-quoted in it (``'"my.db".sch'``, see
            `sqla_stage.namespaces`).
        url: For an external stage, where its files are (``s3://bucket/path/``, a
            local path, ...). Without a URL the stage is internal.
        credentials: For an external stage: ``aws_key_id``, ``aws_secret_key``,
            ``aws_token``, ``aws_role``, ``azure_sas_token``, ``endpoint_url``, ``region``.
        encryption: ``{"type": "AWS_SSE_KMS", "kms_key_id": "..."}`` and the like.
        storage_integration: A Snowflake storage integration, instead of credentials.
        file_format: The stage's default format: ``CSV(...)``, ``JSON(...)``,
            ``Parquet(...)`` or ``FileFormat(name)``.
        copy_options: Default load options (``on_error``, ``purge``, ``force``,
            ``size_limit``, ``match_by_column_name``).
        directory: Enable the directory table (Snowflake ``DIRECTORY = (ENABLE = ...)``,
            MatrixOne ``ENABLE = ...``).
        directory_options: Snowflake's other directory-table settings, with ``directory``:
            ``auto_refresh`` and, for an external stage, ``refresh_on_create`` (True or
            False) and ``notification_integration`` (a name). The runtime's directory is
            always current, so there they change nothing; they render back for Snowflake.
        comment: A comment.
        temporary: A temporary stage (Snowflake).

    Raises:
        StageArgumentError: an option is unknown, of the wrong type, or does not fit
            the stage's kind (credentials on an internal stage, say).
    """

    __visit_name__ = "sqla_stage_stage"

    def __init__(
        self,
        name: str,
        metadata: MetaData | None = None,
        *,
        schema: str | None = None,
        url: str | None = None,
        credentials: Mapping[str, str] | None = None,
        encryption: Mapping[str, str] | None = None,
        storage_integration: str | None = None,
        file_format: FormatSpec | type[FormatSpec] | str | None = None,
        copy_options: Mapping[str, object] | None = None,
        directory: bool | None = None,
        directory_options: Mapping[str, bool | str] | None = None,
        comment: str | None = None,
        temporary: bool = False,
        _kind: StageKind | None = None,
        _table: TableClause | None = None,
    ) -> None:
        """Define the stage; see the class docstring for the arguments."""
        owner = f"Stage({name!r})"
        if not isinstance(name, str) or not name:
            raise StageArgumentError(f"Stage: the name must be a non-empty string, not {name!r}")
        if _kind is None and name == "~":
            raise StageArgumentError("Stage: use Stage.user() for the user stage @~")
        for label, value in (
            ("schema", schema),
            ("url", url),
            ("comment", comment),
            ("storage_integration", storage_integration),
        ):
            if value is not None and not isinstance(value, str):
                raise StageArgumentError(f"{owner}: {label} must be a string, not {value!r}")
        if url is not None:
            refuse_nul(owner, "url", url)
        if url == "" or schema == "" or storage_integration == "":
            raise StageArgumentError(
                f"{owner}: url, schema and storage_integration cannot be empty"
            )
        for label, flag in (("directory", directory), ("temporary", temporary)):
            if flag is not None and not isinstance(flag, bool):
                raise StageArgumentError(f"{owner}: {label} must be True or False, not {flag!r}")
        self.name = name
        self.schema = None if schema is None else check_namespace(owner, schema)
        self.kind = _kind or (StageKind.EXTERNAL if url else StageKind.INTERNAL)
        self.owner_table = _table
        self.url = url
        self.credentials = Credentials.coerce(owner, credentials)
        self.encryption = Encryption.coerce(owner, encryption)
        self.storage_integration = storage_integration
        self.file_format = coerce_format(owner, file_format)
        given = {} if copy_options is None else copy_options
        self.copy_options: dict[str, OptionValue] = check_options(
            f"{owner} copy_options", STAGE_COPY_OPTIONS, given
        )
        self.directory = directory
        self.directory_options = _directory_options(owner, directory, directory_options)
        self.comment = comment
        self.temporary = temporary
        self._check_kind(owner)
        if self.kind is not StageKind.EXTERNAL and self.directory_options:
            external = sorted(set(self.directory_options) - {"auto_refresh"})
            if external:
                raise StageArgumentError(
                    f"{owner}: directory {', '.join(external)} need an external stage (a url)"
                )
        self.metadata = metadata
        if metadata is not None:
            add_stage(metadata, self)

    def _check_kind(self, owner: str) -> None:
        if self.credentials is not None and self.storage_integration is not None:
            raise StageArgumentError(f"{owner}: give credentials or storage_integration, not both")
        if self.kind is StageKind.EXTERNAL:
            if self.encryption is not None and self.encryption["type"] in _INTERNAL_ENCRYPTION:
                raise StageArgumentError(
                    f"{owner}: encryption type {self.encryption['type']} is for internal stages"
                )
            return
        if self.credentials is not None or self.storage_integration is not None:
            raise StageArgumentError(
                f"{owner}: credentials and storage_integration need an external stage (a url)"
            )
        if self.encryption is not None and self.encryption["type"] not in (
            *_INTERNAL_ENCRYPTION,
            "NONE",
        ):
            raise StageArgumentError(
                f"{owner}: an internal stage takes encryption type SNOWFLAKE_FULL or "
                f"SNOWFLAKE_SSE, not {self.encryption['type']}"
            )
        if self.kind in (StageKind.USER, StageKind.TABLE):
            given = [
                label
                for label, value in (
                    ("file_format", self.file_format),
                    ("copy_options", self.copy_options or None),
                    ("encryption", self.encryption),
                    ("directory", self.directory),
                    ("comment", self.comment),
                    ("temporary", self.temporary or None),
                )
                if value is not None
            ]
            if given:
                what = "the user stage @~" if self.kind is StageKind.USER else "a table stage"
                raise StageArgumentError(
                    f"{owner}: {what} takes no {', '.join(given)}; it cannot be created, "
                    "altered or given format options (give them to the COPY statement)"
                )

    @classmethod
    def user(cls, **options: Any) -> Stage:
        """The current user's stage, ``@~``.

        It exists for every user, cannot be created, dropped or altered, and takes no
        URL, credentials or format options (Databend user-stage RFC).

        Raises:
            StageArgumentError: any option was given.
        """
        if options:
            raise StageArgumentError(
                f"Stage.user(): the user stage @~ takes no {', '.join(sorted(options))}; "
                "it has no URL and cannot be given format or copy options "
                "(give them to the COPY statement)"
            )
        return cls("~", _kind=StageKind.USER)

    @classmethod
    def table(
        cls, table: TableClause | type[Any] | AliasedClass[Any] | str, schema: str | None = None
    ) -> Stage:
        """The stage of table ``table``, ``@%table``.

        Args:
            table: A ``Table``, a mapped class or ``aliased()`` entity (the stage of the
                table it is mapped to: ``Stage.table(User)`` is ``@%users``), or a name.
            schema: The namespace (``schema`` or ``database.schema``) of a table given by name.

        Raises:
            StageArgumentError: anything else, or a class mapped to a join or a select.
        """
        if not isinstance(table, (TableClause, str)):
            mapped = stage_table("Stage.table()", table)
            table = table if mapped is None else mapped
        if isinstance(table, TableClause):
            return cls(table.name, schema=table.schema, _kind=StageKind.TABLE, _table=table)
        if isinstance(table, str) and table:
            return cls(table, schema=schema, _kind=StageKind.TABLE)
        raise StageArgumentError(
            f"Stage.table(): expected a Table, a mapped class or a name, not {table!r}"
        )

    @property
    def key(self) -> str:
        """The name qualified by its schema: the key in ``MetaData``."""
        return f"{self.schema}.{self.name}" if self.schema else self.name

    def __truediv__(self, path: str) -> StagePath:
        """``stage / "a/b/"``: the stage path ``@stage/a/b/``."""
        return StagePath(self, "") / path

    def cache_key(self) -> tuple[object, ...]:
        """A hashable identity of everything that changes the SQL of this stage."""
        return (
            self.kind.value,
            self.schema,
            self.name,
            self.url,
            self.credentials.cache_key() if self.credentials else None,
            self.encryption.cache_key() if self.encryption else None,
            self.storage_integration,
            self.file_format.cache_key() if self.file_format else None,
            options_key(self.copy_options),
            self.directory,
            tuple(sorted((self.directory_options or {}).items())),
            self.comment,
            self.temporary,
        )

    def _repr_html_(self) -> str:
        return shown_stage(self)

    def __repr__(self) -> str:
        if self.kind is StageKind.USER:
            return "Stage.user()"
        if self.kind is StageKind.TABLE:
            extra = f", schema={self.schema!r}" if self.schema else ""
            return f"Stage.table({self.name!r}{extra})"
        parts = [repr(self.name)]
        for label in (
            "schema",
            "url",
            "credentials",
            "encryption",
            "storage_integration",
            "file_format",
            "directory",
            "directory_options",
            "comment",
        ):
            value = getattr(self, label)
            if value is not None:
                parts.append(f"{label}={value!r}")
        if self.copy_options:
            parts.append(f"copy_options=dict({options_repr(self.copy_options)})")
        if self.temporary:
            parts.append("temporary=True")
        return f"Stage({', '.join(parts)})"


class StagePath:
    """A path inside a stage: ``@stage/path``.

    Paths are literal prefixes (spec 004): ``./`` and ``../`` are part of the name,
    not navigation.
    """

    __slots__ = ("path", "stage")

    def __init__(self, stage: Stage, path: str = "") -> None:
        """Point at ``path`` inside ``stage``."""
        if not isinstance(stage, Stage):
            raise StageArgumentError(f"StagePath: expected a Stage, not {stage!r}")
        if not isinstance(path, str):
            raise StageArgumentError(f"StagePath: the path must be a string, not {path!r}")
        self.stage = stage
        self.path = path

    def __truediv__(self, more: str) -> StagePath:
        """Append ``more`` to the path, with a ``/`` between them when needed."""
        if not isinstance(more, str):
            raise StageArgumentError(f"StagePath: a path must be a string, not {more!r}")
        if not self.path or self.path.endswith("/") or not more:
            return StagePath(self.stage, self.path + more)
        return StagePath(self.stage, f"{self.path}/{more}")

    def cache_key(self) -> tuple[object, ...]:
        """A hashable identity for statement cache keys."""
        return ("stage_path", self.stage.cache_key(), self.path)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, StagePath):
            return NotImplemented
        return self.cache_key() == other.cache_key()

    def __hash__(self) -> int:
        return hash(self.cache_key())

    def __repr__(self) -> str:
        return f"{self.stage!r} / {self.path!r}" if self.path else repr(self.stage)


#: Where files are: a stage path, or an external URL (``s3://...``, a local path).
Location = StagePath | str


def refuse_nul(owner: str, label: str, value: str) -> str:
    """``value``, refused when it holds a NUL character, which no file name or URL can.

    Raises:
        StageArgumentError: ``value`` holds a NUL.
    """
    if "\0" in value:
        raise StageArgumentError(f"{owner}: {label} cannot hold a NUL character: {value!r}")
    return value


#: The directory-table settings besides ENABLE, and the type of each.
DIRECTORY_OPTIONS: dict[str, type] = {
    "auto_refresh": bool,
    "refresh_on_create": bool,
    "notification_integration": str,
}


def _directory_options(
    owner: str, directory: bool | None, options: Mapping[str, bool | str] | None
) -> dict[str, bool | str] | None:
    """Check Snowflake's directory settings; they need ``directory`` (ENABLE) given."""
    if not options:
        return None
    if not isinstance(options, Mapping):
        raise StageArgumentError(f"{owner}: directory_options must be a mapping, not {options!r}")
    if directory is None:
        raise StageArgumentError(f"{owner}: directory_options need directory=True or False")
    checked: dict[str, bool | str] = {}
    for name, value in options.items():
        kind = DIRECTORY_OPTIONS.get(name)
        if kind is None:
            raise StageArgumentError(
                f"{owner}: unknown directory option {name!r} "
                f"(known: {', '.join(DIRECTORY_OPTIONS)})"
            )
        if not isinstance(value, kind) or value == "":
            wanted = "True or False" if kind is bool else "a non-empty string"
            raise StageArgumentError(f"{owner}: directory {name} must be {wanted}, not {value!r}")
        checked[name] = value
    return checked
