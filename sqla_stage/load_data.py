"""MatrixOne's ``LOAD DATA [LOCAL] INFILE ... INTO TABLE ...`` (issue 14).

`LoadData` holds what the statement says: the file (a path, or a stage path that MatrixOne
writes ``stage://stage/path``), the table, the CSV-like ``FIELDS`` / ``LINES`` clauses or
the JSON-lines form, ``IGNORE n LINES``, the column list (``@vars`` included), the ``SET``
assignments and MatrixOne's ``CHARACTER SET``, ``PARALLEL`` and ``STRICT``; ``LOAD DATA URL
s3option {...}`` is a mapping as the source. How it renders is in
`sqla_stage.dialects.load_data`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy.sql import literal_column
from sqlalchemy.sql.elements import ColumnClause, TextClause
from sqlalchemy.sql.expression import TableClause
from sqlalchemy.sql.visitors import InternalTraversal

from sqla_stage.credentials import MASK
from sqla_stage.errors import StageArgumentError
from sqla_stage.stage import Stage, StageKind, StagePath, refuse_nul
from sqla_stage.statement import StageStatement

#: ``@name``: a user variable of the column list.
VARIABLE = re.compile(r"@[A-Za-z_][A-Za-z0-9_$]*")
#: The keys of ``LOAD DATA URL s3option {...}`` that hold secrets (masked in repr).
SECRET_S3_KEYS = frozenset({"access_key_id", "secret_access_key", "session_token"})
FORMATS = ("csv", "jsonline")
JSON_DATA = ("object", "array")
#: The FIELDS / LINES keyword arguments, in the order MatrixOne writes them.
TEXT_OPTIONS = (
    "fields_terminated_by",
    "enclosed_by",
    "escaped_by",
    "lines_starting_by",
    "lines_terminated_by",
)


class LoadData(StageStatement):
    r"""MatrixOne's ``LOAD DATA``: read a file into a table.

    Options left as None are not written, so MatrixOne's defaults apply: ``FIELDS
    TERMINATED BY '\t' ENCLOSED BY '"' ESCAPED BY '\\' LINES TERMINATED BY '\n'``.

    Args:
        table: The target table (a ``Table`` or ``table()``).
        source: The file: a path (``"/data/t1.csv"``), a stage path (``Stage("s") /
            "t1.csv"``, or MatrixOne's ``"stage://s/t1.csv"``), or for ``LOAD DATA URL
            s3option {...}`` a mapping of the s3option keys (``endpoint``, ``filepath``, ...).
        local: ``LOAD DATA LOCAL INFILE`` (the file is on the client).
        format: ``"csv"`` (the default) or ``"jsonline"``.
        jsondata: For JSON lines: ``"object"`` (keys are column names) or ``"array"``.
        fields_terminated_by: The field separator (one or more characters).
        enclosed_by: The quote character around fields ('' for none).
        optionally_enclosed: ``OPTIONALLY ENCLOSED BY`` (a field may or may not be enclosed).
        escaped_by: The escape character ('' for none).
        lines_starting_by: A prefix each line starts with.
        lines_terminated_by: The line separator.
        ignore_lines: ``IGNORE n LINES``: lines skipped at the start of the file.
        columns: The column list: column names, and ``"@var"`` for a field kept in a variable.
        set: ``SET`` assignments, column name to SQL text (``{"id": "nullif(id, 'null')"}``).
        character_set: ``CHARACTER SET name``.
        parallel: ``PARALLEL 'TRUE' | 'FALSE'``.
        strict: ``STRICT 'TRUE' | 'FALSE'``.

    Raises:
        StageArgumentError: a value of the wrong type, an enclosure or escape of more than
            one character, an empty terminator, FIELDS / LINES options on JSON lines, a
            column listed twice, a stage that is not a plain named stage, and the like.
    """

    __visit_name__ = "sqla_stage_load_data"
    _traverse_internals = [
        ("_sql_key", InternalTraversal.dp_plain_obj),
        ("table", InternalTraversal.dp_clauseelement),
    ]

    def __init__(
        self,
        table: TableClause,
        source: object,
        *,
        local: bool = False,
        format: str = "csv",
        jsondata: str | None = None,
        fields_terminated_by: str | None = None,
        enclosed_by: str | None = None,
        optionally_enclosed: bool = False,
        escaped_by: str | None = None,
        lines_starting_by: str | None = None,
        lines_terminated_by: str | None = None,
        ignore_lines: int | None = None,
        columns: Iterable[object] | None = None,
        set: Mapping[object, object] | None = None,
        character_set: str | None = None,
        parallel: bool | None = None,
        strict: bool | None = None,
    ) -> None:
        """Build the statement; see the class docstring."""
        owner = "LoadData"
        if not isinstance(table, TableClause):
            raise StageArgumentError(f"{owner}: the target must be a Table, not {table!r}")
        self.table = table
        self.path: str | StagePath | None = None
        self.s3option: dict[str, str] | None = None
        if isinstance(source, Mapping):
            self.s3option = _s3option(owner, source)
        else:
            self.path = _path(owner, source)
        for label, flag in (("local", local), ("optionally_enclosed", optionally_enclosed)):
            if not isinstance(flag, bool):
                raise StageArgumentError(f"{owner}: {label} must be True or False, not {flag!r}")
        self.local = local
        self.optionally_enclosed = optionally_enclosed
        if self.s3option is not None and local:
            raise StageArgumentError(f"{owner}: LOCAL reads a client file, not an s3option URL")
        self.format = _choice(owner, "format", format, FORMATS)
        self.jsondata = (
            None if jsondata is None else _choice(owner, "jsondata", jsondata, JSON_DATA)
        )
        if self.jsondata is not None and self.format != "jsonline":
            raise StageArgumentError(f"{owner}: jsondata applies to format='jsonline'")
        self.text_options = text_options(
            owner,
            (fields_terminated_by, enclosed_by, escaped_by, lines_starting_by, lines_terminated_by),
            optionally_enclosed,
        )
        if self.format == "jsonline" and self.text_options:
            raise StageArgumentError(
                f"{owner}: FIELDS and LINES options apply to CSV, not to JSON lines"
            )
        if self.s3option is not None and self.format != "csv":
            raise StageArgumentError(f"{owner}: with s3option, give 'format' among its keys")
        if ignore_lines is not None and (
            isinstance(ignore_lines, bool) or not isinstance(ignore_lines, int) or ignore_lines < 0
        ):
            raise StageArgumentError(
                f"{owner}: ignore_lines must be a non-negative int, not {ignore_lines!r}"
            )
        self.ignore_lines = ignore_lines
        self.columns = _columns(owner, columns)
        self.assignments = _assignments(owner, set)
        if character_set is not None and (
            not isinstance(character_set, str) or not re.fullmatch(r"\w+", character_set)
        ):
            raise StageArgumentError(
                f"{owner}: character_set must be a name like 'utf8', not {character_set!r}"
            )
        self.character_set = character_set
        for label, flag_value in (("parallel", parallel), ("strict", strict)):
            if flag_value is not None and not isinstance(flag_value, bool):
                raise StageArgumentError(
                    f"{owner}: {label} must be True, False or None, not {flag_value!r}"
                )
        self.parallel = parallel
        self.strict = strict
        self._sql_key = (
            self.path.cache_key() if isinstance(self.path, StagePath) else self.path,
            tuple(sorted(self.s3option.items())) if self.s3option is not None else None,
            self.local,
            self.format,
            self.jsondata,
            tuple(self.text_options.items()),
            self.optionally_enclosed,
            self.ignore_lines,
            self.columns,
            self.assignments,
            self.character_set,
            self.parallel,
            self.strict,
        )

    @property
    def variables(self) -> tuple[str, ...]:
        """The ``@var`` entries of the column list."""
        return tuple(name for name in self.columns if name.startswith("@"))

    def __repr__(self) -> str:
        parts = [f"table({self.table.name!r})"]
        if self.s3option is not None:
            shown = {k: MASK if k in SECRET_S3_KEYS else v for k, v in self.s3option.items()}
            parts.append(repr(shown))
        else:
            parts.append(repr(self.path))
        for label in ("local", "optionally_enclosed"):
            if getattr(self, label):
                parts.append(f"{label}=True")
        if self.format != "csv":
            parts.append(f"format={self.format!r}")
        parts += [f"{name}={value!r}" for name, value in self.text_options.items()]
        for label in ("jsondata", "ignore_lines", "character_set", "parallel", "strict"):
            value = getattr(self, label)
            if value is not None:
                parts.append(f"{label}={value!r}")
        if self.columns:
            parts.append(f"columns={self.columns!r}")
        if self.assignments:
            parts.append(f"set={dict(self.assignments)!r}")
        return f"LoadData({', '.join(parts)})"


def text_options(
    owner: str, values: tuple[str | None, ...], optionally_enclosed: bool
) -> dict[str, str]:
    """The FIELDS / LINES options given (`TEXT_OPTIONS` order), checked.

    ``LOAD DATA`` and ``SELECT ... INTO OUTFILE`` share the clauses (MatrixOne's LOAD DATA
    page says so), and so this check.

    Raises:
        StageArgumentError: a value that is not a string, an enclosure or escape of more
            than one character, an empty terminator, OPTIONALLY without an enclosure.
    """
    options: dict[str, str] = {}
    for name, value in zip(TEXT_OPTIONS, values, strict=True):
        if value is None:
            continue
        if not isinstance(value, str):
            raise StageArgumentError(f"{owner}: {name} must be a string, not {value!r}")
        if name in ("enclosed_by", "escaped_by") and len(value) > 1:
            raise StageArgumentError(f"{owner}: {name} is one character or '', not {value!r}")
        if name.endswith("terminated_by") and not value:
            raise StageArgumentError(f"{owner}: {name} cannot be empty")
        options[name] = value
    if optionally_enclosed and "enclosed_by" not in options:
        raise StageArgumentError(f"{owner}: optionally_enclosed needs enclosed_by")
    return options


def _choice(owner: str, label: str, value: object, allowed: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value.lower() not in allowed:
        raise StageArgumentError(
            f"{owner}: {label} must be one of {', '.join(map(repr, allowed))}, not {value!r}"
        )
    return value.lower()


def _path(owner: str, source: object) -> str | StagePath:
    """A file path, or a stage path (``stage://name/path`` becomes one)."""
    if isinstance(source, Stage):
        source = StagePath(source)
    if isinstance(source, StagePath):
        stage = source.stage
        if stage.kind not in (StageKind.INTERNAL, StageKind.EXTERNAL) or stage.schema:
            raise StageArgumentError(
                f"{owner}: MatrixOne reads a named stage ('stage://name/path'), not {source!r}"
            )
        return source
    if not isinstance(source, str) or not source:
        raise StageArgumentError(
            f"{owner}: the source must be a file path, a stage path, 'stage://name/path' "
            f"or an s3option mapping, not {source!r}"
        )
    if source[:8].lower() == "stage://":
        name, _, path = source[8:].partition("/")
        if not name:
            raise StageArgumentError(f"{owner}: {source!r} names no stage (stage://name/path)")
        return Stage(name) / path
    return refuse_nul(owner, "the file path", source)


def _s3option(owner: str, source: Mapping[Any, Any]) -> dict[str, str]:
    options: dict[str, str] = {}
    for key, value in source.items():
        if not isinstance(key, str) or not re.fullmatch(r"\w+", key) or not isinstance(value, str):
            raise StageArgumentError(
                f"{owner}: s3option maps names to strings, not {key!r}: {type(value).__name__}"
            )
        options[key.lower()] = value
    if "filepath" not in options:
        raise StageArgumentError(f"{owner}: s3option needs a 'filepath'")
    refuse_nul(owner, "the s3option filepath", options["filepath"])
    return options


def _columns(owner: str, columns: Iterable[object] | None) -> tuple[str, ...]:
    if columns is None:
        return ()
    if isinstance(columns, str):
        raise StageArgumentError(f"{owner}: columns must be a sequence of names, not a string")
    names: list[str] = []
    for column in columns:
        name = getattr(column, "name", column)
        if (
            not isinstance(name, str)
            or not name
            or (name.startswith("@") and not VARIABLE.fullmatch(name))
        ):
            raise StageArgumentError(
                f"{owner}: a column is a name, a Column or '@variable', not {column!r}"
            )
        if name.lower() in (n.lower() for n in names):
            raise StageArgumentError(f"{owner}: {name!r} is listed twice")
        names.append(name)
    return tuple(names)


def _assignments(owner: str, given: Mapping[object, object] | None) -> tuple[tuple[str, str], ...]:
    if not given:
        return ()
    pairs: list[tuple[str, str]] = []
    for column, value in given.items():
        name = getattr(column, "name", column)
        if not isinstance(name, str) or not name or name.startswith("@"):
            raise StageArgumentError(f"{owner}: SET assigns a column, not {column!r}")
        if isinstance(value, TextClause):
            text = value.text
        elif isinstance(value, ColumnClause) and value.is_literal:
            text = value.name
        else:
            text = value if isinstance(value, str) else ""
        if not text.strip():
            raise StageArgumentError(
                f"{owner}: SET {name} takes SQL text or literal_column(), not {value!r}"
            )
        if name.lower() in (n.lower() for n, _ in pairs):
            raise StageArgumentError(f"{owner}: SET assigns {name!r} twice")
        pairs.append((name, text.strip()))
    return tuple(pairs)


def set_expression(text: str) -> ColumnClause[Any]:
    """A SET assignment's SQL text as the ``literal_column()`` the renderers process."""
    return literal_column(text)
