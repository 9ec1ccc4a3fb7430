r"""MatrixOne's ``<query> INTO OUTFILE '<stage>:/<path>'`` on the runtime (spec 000).

The target is ``'stage1:/user.csv'`` or ``'stage://stage1/user.csv'`` (the key ``user.csv``
of stage ``stage1``, whatever kind of stage it is) or a plain file path. A stage turned off
with ``ENABLE = FALSE`` (``Stage(directory=False)``) is refused with MatrixOne's "stage
'stage1' is invalid, please check"; a file of a stage is overwritten, as MatrixOne's docs
show for an export run again. While any stage has ``ENABLE = TRUE``, a plain path is
refused with MatrixOne's error 20101, "stage exists, please try to check and use a stage
instead"; with no enabled stage it is written as given (``~`` is the user's home folder),
and, as MySQL does, an existing plain file is not overwritten.

The file is MatrixOne's CSV: a header line of the column names, ``,`` between fields,
``\n`` after each row, text (and any type whose text could hold a ``,``) in double quotes
with ``"`` doubled, numbers, booleans, dates and times bare, and NULL as ``\N``.
``FIELDS TERMINATED BY`` (any string), ``[OPTIONALLY] ENCLOSED BY`` (one character, or ''
for none: the enclosure is doubled inside a field) and ``LINES TERMINATED BY`` (any string)
change those three; as in MatrixOne's own exports, only text is enclosed either way.
``ESCAPED BY`` and ``LINES STARTING BY`` are refused (MatrixOne's export page shows neither).
Each line is built by one DuckDB expression and written as a one-column CSV without
quoting, so every separator is written exactly as given. ``FORMAT 'parquet'`` writes the
query's rows as Parquet, with DuckDB's types.

DuckDB writes the file with ``COPY (...) TO`` under a scratch name next to the target, and
the file is moved into place once complete; a failed query leaves no file behind.
"""

from __future__ import annotations

import os
import re
import uuid
from dataclasses import dataclass
from typing import Any

from sqla_stage.errors import StageProgrammingError
from sqla_stage.outfile import SelectIntoOutfile
from sqla_stage.runtime.engine.context import MATRIXONE_STAGE_ERROR, StageContext, stage_url_path
from sqla_stage.runtime.engine.literals import literal, quote
from sqla_stage.runtime.engine.results import Query, Rows
from sqla_stage.runtime.queries.rewrite import rewrite_sql
from sqla_stage.runtime.queries.sources import embedded_query
from sqla_stage.runtime.storage.client_encryption import refuse_plain_access
from sqla_stage.runtime.storage.stage_storage import SCRATCH_PREFIX, StageStorage
from sqla_stage.runtime.unload.csv_lines import RAW_LINE_OPTIONS, LineFormat
from sqla_stage.runtime.unload.publish_journal import scratch_file
from sqla_stage.runtime.unload.statement import DETAILED_COLUMNS
from sqla_stage.stage import StagePath

#: MatrixOne's error when a plain path is given while an enabled stage exists.
STAGE_EXISTS = "stage exists, please try to check and use a stage instead"

#: DuckDB types written bare; any other is written as quoted text.
_BARE_TYPES = re.compile(
    r"(U?(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT)|FLOAT|DOUBLE|DECIMAL\(\d+,\s*\d+\)"
    r"|BOOLEAN|DATE|TIME|TIMESTAMP(_S|_MS|_NS)?|TIMESTAMP WITH TIME ZONE"
    r"|TIME WITH TIME ZONE|INTERVAL|UUID)",
)


@dataclass(frozen=True)
class _Target:
    """Where the file goes: a storage, the key in it, and the name the result shows."""

    storage: StageStorage
    key: str
    name: str
    in_stage: bool


def write_outfile(context: StageContext, element: SelectIntoOutfile) -> Rows:
    """Write the rows of the element's query to its file.

    Raises:
        StageRuntimeError: a plain path while an enabled stage exists (code 20101), an
            unknown stage, a target that is a folder or exists already.
    """
    target = _target(context, element.location)
    embedded = embedded_query(context.parameters, element.query, "INTO OUTFILE")
    query = rewrite_sql(context, embedded.sql, embedded.parameters) or Query(
        embedded.sql, embedded.parameters
    )
    _refuse_folder(target)
    if not target.in_stage and target.storage.exists(target.key):
        raise StageProgrammingError(
            f"INTO OUTFILE: {target.name} already exists (an existing file is not overwritten)"
        )
    rows, size = _publish(context, element, target, query)
    return Rows(DETAILED_COLUMNS, [[target.name, size, rows]])


def _refuse_folder(target: _Target) -> None:
    """Refuse a target that is an existing folder (nothing is written).

    Raises:
        StageProgrammingError: it is one.
    """
    if target.storage.fs.isdir(target.storage.path(target.key)):
        raise StageProgrammingError(f"INTO OUTFILE: {target.name} is a folder; give a file name")


def _target(context: StageContext, location: StagePath | str) -> _Target:
    if isinstance(location, str):
        location = stage_url_path(location) or location
    if isinstance(location, StagePath):
        if context.registered_stage(location.stage).directory is False:
            raise StageProgrammingError(f"stage '{location.stage.name}' is invalid, please check")
        place = context.place(location)
        refuse_plain_access(
            place.storage.client_key,
            place.label,
            "INTO OUTFILE",
            "does not encrypt; unload with COPY INTO the stage, which does",
        )
        if not place.prefix or place.prefix.endswith("/"):
            raise StageProgrammingError(
                f"INTO OUTFILE: {place.label} names a folder; give a file name ('stage1:/user.csv')"
            )
        return _Target(place.storage, place.prefix, place.prefix, in_stage=True)
    if any(record.stage.directory is True for record in context.registry.stages()):
        raise StageProgrammingError(STAGE_EXISTS, code=MATRIXONE_STAGE_ERROR)
    path = location if "://" in location else os.path.expanduser(location)
    folder, _, name = path.rpartition("/")
    if not name:
        raise StageProgrammingError(f"INTO OUTFILE: {location!r} names a folder; give a file name")
    if not folder:
        folder = "/" if path.startswith("/") else "."
    storage = context.outside_root(folder, "INTO OUTFILE: the file")
    return _Target(storage, name, path, in_stage=False)


def _columns(context: StageContext, query: Query) -> list[tuple[str, str]]:
    """The query's column names and DuckDB types (a ``LIMIT 0`` run)."""
    cursor = context.run(f"SELECT * FROM ({query.sql}) LIMIT 0", query.parameters)
    return [(str(item[0]), str(item[1])) for item in cursor.description]


def _line(columns: list[tuple[str, str]], options: dict[str, str]) -> tuple[str, str]:
    r"""One line of the file as a DuckDB expression over the query's columns, and the header.

    Columns are taken by position (names may repeat); NULL is ``\N``.
    """
    separator = options.get("fields_terminated_by", ",")
    enclosure = options.get("enclosed_by", '"')
    specials = (separator, enclosure or '"', "\r", "\n")
    line = LineFormat(separator, enclosure, "", "\\N", specials)
    fields = [
        line.field(f"CAST(#{position} AS VARCHAR)", enclose=not _BARE_TYPES.fullmatch(kind))
        for position, (_, kind) in enumerate(columns, start=1)
    ]
    return line.line(fields), line.header([name for name, _ in columns])


def _copy_sql(
    element: SelectIntoOutfile, query: Query, columns: list[tuple[str, str]], path: str
) -> str:
    """The DuckDB COPY that writes the file at ``path``."""
    if element.format == "parquet":
        return f"COPY (SELECT * FROM ({query.sql})) TO {literal(path)} (FORMAT parquet)"
    options = element.text_options
    for name, clause in (("escaped_by", "ESCAPED BY"), ("lines_starting_by", "STARTING BY")):
        if name in options:
            raise StageProgrammingError(
                f"INTO OUTFILE: {clause} is not supported by the runtime "
                "(MatrixOne's export page documents FIELDS TERMINATED BY, ENCLOSED BY and "
                "LINES TERMINATED BY)"
            )
    line, header = _line(columns, options)
    terminator = options.get("lines_terminated_by", "\n")
    copy_options = ", ".join(
        [*RAW_LINE_OPTIONS, "HEADER true", f"NEW_LINE {literal(terminator)}", "COMPRESSION 'none'"]
    )
    return (
        f"COPY (SELECT {line} AS {quote(header)} FROM ({query.sql})) "
        f"TO {literal(path)} ({copy_options})"
    )


def _publish(
    context: StageContext, element: SelectIntoOutfile, target: _Target, query: Query
) -> tuple[int, int]:
    """COPY the rows to a scratch file, move it into place; the row count and size."""
    storage = target.storage
    folder = target.key.rpartition("/")[0]
    scratch = f"{folder}/" if folder else ""
    scratch += f"{SCRATCH_PREFIX}{uuid.uuid4().hex}"
    columns = _columns(context, query)
    sql = _copy_sql(element, query, columns, storage.duckdb_path(scratch))
    temporary, final = storage.path(scratch), storage.path(target.key)
    storage.fs.makedirs(storage.path(folder), exist_ok=True)
    with scratch_file(storage, temporary):
        row: Any = context.run(sql, query.parameters).fetchone()
        _refuse_folder(target)  # made meanwhile: moving would put the file inside it
        storage.fs.mv(temporary, final)
    return int(row[0]), int(storage.fs.size(final))
