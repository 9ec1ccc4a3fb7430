"""What a runtime handler works with while it runs one statement.

A `StageContext` holds the DuckDB cursor (the statement's own transaction), the
engine's settings, the statement's bind parameters, the registry, and resolves what a
statement names: a stage location to its storage and key prefix, a format to its
options (a named format's, overridden), a named connection to its credentials, a table
name to DuckDB SQL.
"""

from __future__ import annotations

import contextlib
import difflib
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqla_stage.connections import NamedConnection
from sqla_stage.credentials import Credentials, Encryption
from sqla_stage.ddl import altered_stage
from sqla_stage.errors import StageProgrammingError
from sqla_stage.formats import CSV, FORMAT_TYPES, FileFormat, FormatSpec, Parquet
from sqla_stage.locations import parse_stage_location
from sqla_stage.runtime.catalog import connections
from sqla_stage.runtime.catalog.namespaces import DEFAULT_SCHEMA, Where, canonical, resolve
from sqla_stage.runtime.catalog.registry import Registry
from sqla_stage.runtime.engine.literals import inline
from sqla_stage.runtime.engine.settings import RuntimeSettings
from sqla_stage.runtime.storage import reach as storage_reach
from sqla_stage.runtime.storage.patterns import FilePattern
from sqla_stage.runtime.storage.stage_storage import (
    FileInfo,
    StageStorage,
    folder_name,
    open_storage,
)
from sqla_stage.runtime.storage.urls import query_credentials, refuse_query_string
from sqla_stage.runtime.unload.publish_journal import recover
from sqla_stage.stage import Location, Stage, StageKind, StagePath

#: MatrixOne's error code of a stage statement that cannot run ("stage ... is not exists").
MATRIXONE_STAGE_ERROR = 20101
#: How many ``stage://`` URLs a stage may lead through to reach a real storage.
MAX_STAGE_URL_DEPTH = 8


def default_format(stage_dialect: str | None) -> FormatSpec:
    """The format of a statement and stage that name none: Parquet on Databend, else CSV."""
    return Parquet() if stage_dialect == "databend" else CSV()


def stage_url_path(url: str) -> StagePath | None:
    """MatrixOne's ``stage://name/path`` as the stage path ``@name/path`` (None for any other URL).

    Raises:
        StageProgrammingError: a ``stage://`` URL that names no stage, or whose path climbs
            with ``..``.
    """
    if url[:8].lower() != "stage://":
        return None
    name, _, path = url[8:].partition("/")
    if not name or ".." in path.split("/"):
        raise StageProgrammingError(
            f"{url!r}: a stage:// URL names a stage and a folder in it (stage://name/path/), "
            "without '..'"
        )
    return parse_stage_location(f"@{name}/{path}")


@dataclass(frozen=True)
class Place:
    """A resolved location: its storage, the key prefix inside it, and its stage.

    ``pattern_base`` is the part of a key a PATTERN does not see: empty (the pattern
    matches the whole key below the stage), or, under ``stage_dialect=databend``, the
    location's folder, as Databend matches PATTERN against the path after it.
    """

    storage: StageStorage
    prefix: str
    stage: Stage | None
    pattern_base: str = ""

    def files(self, pattern: str | None, *, checksums: bool = True) -> list[FileInfo]:
        """The files below the location whose key (after ``pattern_base``) matches."""
        return self.storage.list(self.prefix, pattern, checksums=checksums, base=self.pattern_base)

    def matching(self, pattern: FilePattern | None, keys: list[str]) -> list[str]:
        """The ``keys`` of this location that match the compiled PATTERN, in order."""
        if pattern is None:
            return keys
        found = pattern.matching([key[len(self.pattern_base) :] for key in keys])
        return [key for key, matched in zip(keys, found, strict=True) if matched]

    @property
    def label(self) -> str:
        """The location as errors name it."""
        return f"{self.storage.label}/{self.prefix}" if self.prefix else self.storage.label


def stage_label(stage: Stage) -> str:
    """``@name``, ``@~`` or ``@%table``, for messages."""
    if stage.kind is StageKind.USER:
        return "@~"
    mark = "%" if stage.kind is StageKind.TABLE else ""
    return f"@{mark}{stage.key}" if not stage.schema else f"@{stage.schema}.{mark}{stage.name}"


class StageContext:
    """The runtime's view of one statement execution."""

    def __init__(
        self,
        settings: RuntimeSettings,
        cursor: Any,
        parameters: Any,
        committed: list[Callable[[], object]] | None = None,
    ) -> None:
        """Work through ``cursor`` with the statement's ``parameters``.

        Args:
            settings: The engine's runtime settings.
            cursor: The DuckDB cursor of the statement.
            parameters: The statement's parameters.
            committed: The connection's after-commit queue
                (`after_commit`); without one, work queued with
                `after_commit` runs at once.
        """
        self.settings = settings
        self.cursor = cursor
        self.parameters = parameters
        # Databend's and MatrixOne's stages are global: not in the current schema
        global_names = settings.stage_dialect in ("databend", "matrixone")
        self.registry = Registry(
            cursor, settings.stage_user, DEFAULT_SCHEMA if global_names else None
        )
        self._committed = committed
        self._recovered: set[tuple[object, ...]] = set()
        #: Decompressed copies of staged files, by (DuckDB path, codec): see
        #: `storage.read_compression`. Removed by `close`.
        self.decompressed: dict[tuple[str, str], str] = {}
        #: The path DuckDB reads for a staged file's path, by (path, purpose), when it
        #: is decided once a statement (`load.read_escapes`); temporary ones are also in
        #: `decompressed`.
        self.read_paths: dict[tuple[str, str], str] = {}

    def close(self) -> None:
        """End the statement: remove its temporary files (decompressed staged files)."""
        while self.decompressed:
            _, path = self.decompressed.popitem()
            with contextlib.suppress(OSError):
                os.unlink(path)

    def after_commit(self, action: Callable[[], object]) -> None:
        """Run ``action`` once the user's transaction commits (dropped on rollback)."""
        if self._committed is None:
            action()
        else:
            self._committed.append(action)

    def run(self, sql: str, parameters: Any = None) -> Any:
        """Execute DuckDB SQL on the statement's cursor and return the cursor."""
        if parameters:
            self.cursor.execute(sql, parameters)
        else:
            self.cursor.execute(sql)
        return self.cursor

    # Connections

    def credentials(self, credentials: Credentials | None, url: str | None) -> Credentials | None:
        """``credentials``, or those of the connection a `NamedConnection` names.

        Raises:
            StageProgrammingError: the connection does not exist or cannot serve ``url``.
        """
        if isinstance(credentials, NamedConnection):
            return connections.resolve(self.registry, credentials, url) or None
        return credentials

    def resolved_stage(self, stage: Stage) -> Stage:
        """``stage`` with a named connection replaced by a copy of its credentials.

        Under ``stage_dialect=matrixone`` the keys of its URL's query string become
        credentials too (`query_credentials`).
        """
        changes: dict[str, Any] = {}
        credentials = stage.credentials
        if isinstance(credentials, NamedConnection):
            credentials = changes["credentials"] = self.credentials(credentials, stage.url)
        moved = None
        if stage.url and self.settings.stage_dialect == "matrixone":
            moved = query_credentials(stage.url, credentials)
        if moved is not None:
            changes["url"], changes["credentials"] = moved
        return altered_stage(stage, changes) if changes else stage

    # Stages and locations

    def registered_stage(self, stage: Stage) -> Stage:
        """The registered definition of a named stage.

        Raises:
            StageRuntimeError: no such stage.
        """
        record = self.registry.stage(stage.schema, stage.name)
        if record is None:
            raise self.no_such_stage(stage)
        return record.stage

    def no_such_stage(self, stage: Stage) -> StageProgrammingError:
        """The error for a named stage that is not registered, naming the nearest names.

        Under ``stage_dialect=matrixone`` it is MatrixOne's own: error 20101, "internal
        error: stage 'stage1' is not exists, please check".
        """
        given = stage.key if not stage.schema else f"{stage.schema}.{stage.name}"
        if self.settings.stage_dialect == "matrixone":
            return StageProgrammingError(
                f"internal error: stage '{given}' is not exists, please check",
                code=MATRIXONE_STAGE_ERROR,
            )
        near = difflib.get_close_matches(given, self.registry.stage_names(), n=3, cutoff=0.6)
        hint = f"; did you mean {' or '.join('@' + name for name in near)}?" if near else ""
        return StageProgrammingError(f"stage {stage_label(stage)} does not exist{hint}")

    def where(self, schema: str | None, what: str) -> Where:
        """Resolve a ``[database.]schema`` namespace (`namespaces`) for ``what``.

        Raises:
            StageProgrammingError: the database is not attached, or the namespace is malformed.
        """
        return resolve(self.cursor, schema, what)

    def table_exists(self, name: str, schema: str | None) -> bool:
        """Whether the DuckDB table ``[[database.]schema.]name`` exists (for table stages)."""
        where = self.where(schema, f"table {name}")
        row = self.run(
            inline(
                "SELECT count(*) FROM duckdb_tables() WHERE table_name = ? "
                "AND schema_name = coalesce(?, current_schema()) AND database_name = "
                "coalesce(?, current_database())",
                [name, where.schema, where.catalog],
            )
        ).fetchone()
        return bool(row[0])

    def root_storage(self, kind: str, folder: str) -> StageStorage:
        """Storage under the engine's stage root: ``stage/<kind>/<folder>``.

        ``folder`` is one encoded segment (`folder_name`,
        `qualified_folder`), so a stage called ``..`` or
        a table called ``../user/bob`` stays in its own folder.
        """
        root = self.settings.stage_root.rstrip("/")
        return open_storage(
            f"{root}/stage/{kind}/{folder}", None, label=None, limits=self.settings.limits
        )

    def outside_root(
        self,
        url: str,
        what: str,
        credentials: Credentials | None = None,
        encryption: Encryption | None = None,
        label: str | None = None,
    ) -> StageStorage:
        """The storage at ``url``, which must not lie in the engine's stage root.

        Args:
            url: A location that is not a stage path (a URL or a local path).
            what: How an error names it (``stage @peek``, ``GET's local folder``).
            credentials: The location's credentials.
            encryption: The encryption of the files written there.
            label: How other errors name the storage (default: ``url``).

        Raises:
            StageRuntimeError: ``url`` lies in the stage root (`storage.reach`).
        """
        limits = self.settings.limits
        storage = open_storage(url, credentials, label, encryption, limits)
        root = open_storage(self.settings.stage_root, None, "the stage root", limits=limits)
        storage_reach.confine(storage, root, what)
        storage.before_use = self._recover
        return storage

    def _recover(self, storage: StageStorage) -> None:
        """Finish interrupted writes at the storage's root, once per statement (`recover`)."""
        place = (*storage.identity, storage.root)
        if place not in self._recovered:
            self._recovered.add(place)
            recover(storage)

    def storage(self, stage: Stage, depth: int = 0) -> StageStorage:
        """The storage of a stage of any kind.

        A stage whose URL is MatrixOne's ``stage://parent/sub/`` (a sub-stage) is the
        folder ``sub/`` of the stage ``parent``'s storage.

        Raises:
            StageRuntimeError: the stage (or, for ``@%t``, the table) does not exist.
        """
        label = stage_label(stage)
        if stage.kind is StageKind.USER:
            storage = self.root_storage("user", folder_name(self.settings.stage_user))
        elif stage.kind is StageKind.TABLE:
            if not self.table_exists(stage.name, stage.schema):
                raise StageProgrammingError(
                    f"table stage {label}: table {stage.key} does not exist"
                )
            # %t, main.%t and app.main.%t are one table (the current schema main): one folder
            where = canonical(self.cursor, stage.schema, f"table stage {label}")
            storage = self.root_storage("table", where.folder(stage.name))
        else:
            defined = self.registered_stage(stage)
            parent = stage_url_path(defined.url) if defined.url else None
            if parent is not None:
                if depth >= MAX_STAGE_URL_DEPTH:
                    raise StageProgrammingError(
                        f"stage {label}: its stage:// URL leads through more than "
                        f"{MAX_STAGE_URL_DEPTH} stages (a cycle?)"
                    )
                storage = self.storage(parent.stage, depth + 1).child(parent.path, label)
            elif defined.kind is StageKind.EXTERNAL and defined.url:
                credentials = self.credentials(defined.credentials, defined.url)
                storage = self.outside_root(
                    defined.url, f"stage {label}", credentials, defined.encryption, label
                )
            else:
                # st, main.st and app.main.st are one stage (the schema main): one folder
                where = self.registry.where(defined.schema, f"stage {label}")
                storage = self.root_storage("internal", where.folder(defined.name))
        storage.label = label
        storage.before_use = self._recover
        return storage

    def place(
        self,
        location: Location,
        credentials: Credentials | None = None,
        encryption: Encryption | None = None,
        what: str = "a URL location",
    ) -> Place:
        """Resolve a stage path or URL to its storage and key prefix.

        A URL's ``encryption`` is applied to the files written there, or refused here
        (`encryption_options`); a stage path's is its stage's. A URL must not lie in the
        engine's stage root (`outside_root`; ``what`` names it in that error).
        """
        if isinstance(location, str):
            location = stage_url_path(location) or location
        if isinstance(location, StagePath):
            path = location.path
            base = ""
            if self.settings.stage_dialect == "databend":
                base = path if path.endswith("/") else path[: path.rfind("/") + 1]
            return Place(self.storage(location.stage), path, location.stage, base)
        refuse_query_string(location)
        credentials = self.credentials(credentials, location)
        storage = self.outside_root(location, what, credentials, encryption)
        return Place(storage, "", None)

    # File formats

    def resolve_format(self, spec: FormatSpec | None, default: FormatSpec) -> FormatSpec:
        """A concrete CSV / JSON / Parquet format: a named one looked up and overridden.

        Raises:
            StageRuntimeError: a named format does not exist.
        """
        if spec is None:
            return default
        if not isinstance(spec, FileFormat):
            return spec
        record = self.registry.file_format(spec.schema, spec.name)
        if record is None:
            raise StageProgrammingError(f"file format {spec.qualified_name!r} does not exist")
        base = record.format
        overrides = {k: v for k, v in spec.options.items() if k in base.option_specs}
        cls = FORMAT_TYPES[base.type_name]
        return cls(**{**base.options, **overrides})

    def stage_format(self, place: Place, spec: FormatSpec | None) -> FormatSpec:
        """The statement's format, else the stage's own, else the default (`default_format`)."""
        if (
            spec is None
            and place.stage is not None
            and place.stage.kind
            in (
                StageKind.INTERNAL,
                StageKind.EXTERNAL,
            )
        ):
            spec = self.registered_stage(place.stage).file_format
        return self.resolve_format(spec, default_format(self.settings.stage_dialect))
