r"""Queries over staged files, and MatrixOne's ``INTO OUTFILE``, on the runtime.

A statement that names staged files where a table could stand is rewritten into DuckDB
SQL before DuckDB sees it:

- ``FROM @stage/path [(FILE_FORMAT => 'name' | name, PATTERN => '.*x')] [[AS] alias]``
  (after ``FROM``, ``JOIN`` or a ``,`` of a FROM list) becomes ``read_parquet([...])`` /
  ``read_csv([...])`` / ``read_json([...])`` over the matching files, listed the way LIST
  lists them (the path is a key prefix; PATTERN must match the whole key), under the
  statement's alias or a generated one. The format is the statement's, else the stage's,
  else CSV. CSV is never sniffed for a header: a first line is a header only where the
  format says so (``SKIP_HEADER = n`` skips n lines, the last of which names the columns);
  column types are sniffed. A location without a matching file is an error: DuckDB
  cannot read zero files, and there would be no columns to return.
- Snowflake's columns of staged files, ``$1``, ``t.$2``, ``$1:a.b::number``,
  ``METADATA$FILENAME``, ...: see `columns` and `staged_sources`.
- ``FROM list_stage(location => '@stage/path'[, pattern => '...'])`` (Databend) becomes a
  subquery of ``name, size, md5, last_modified, creator`` (``creator`` is NULL). The rows
  travel as typed list literals, so the statement's own parameters are untouched.
- ``FROM stage_list('stage://name/path/file')`` (MatrixOne) becomes a subquery of one
  column, ``file``: see `_stage_list`.
- Under ``stage_dialect=matrixone``, ``FROM mo_catalog.mo_stages`` becomes a subquery of
  the registered stages in MatrixOne's columns: see `mo_catalog`.
- Under ``stage_dialect=matrixone``, ``load_file(cast('stage://s/f' as datalink))`` and
  ``SELECT save_file(...)``: see `datalinks`.
- Under ``stage_dialect=databend``, ``FROM numbers(N)`` in a statement that reads staged
  files becomes DuckDB's ``range(N)`` with Databend's column, ``number`` (UBIGINT, 0 to
  N - 1); `databend_numbers` does it for a query a stage statement embeds.

Everything else in the text is kept as written, so these work inside any statement:
joins, ``INSERT INTO t SELECT ...``, ``CREATE TABLE x AS ...``, subqueries, and the query
of ``COPY INTO t FROM (SELECT ...)``. Text with no staged reference (``SELECT '@x'``,
DuckDB's ``@`` absolute value) is left to DuckDB. ``INTO OUTFILE`` is in `outfile`.
Last, the warehouse's functions in the rewritten text become DuckDB's (`functions`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqla_stage.errors import StageArgumentError, StageParseError, StageProgrammingError
from sqla_stage.files import ListFiles
from sqla_stage.formats import FORMAT_TYPES, FileFormat, FormatSpec
from sqla_stage.locations import parse_stage_location
from sqla_stage.parser.lexer import Kind, Token, tokenize
from sqla_stage.parser.options import split_format_name
from sqla_stage.runtime.engine.context import StageContext, stage_url_path
from sqla_stage.runtime.engine.duckdb_formats import refuse_parquet_as_text
from sqla_stage.runtime.engine.literals import columns_select, quote
from sqla_stage.runtime.engine.results import Query
from sqla_stage.runtime.files import list_files
from sqla_stage.runtime.queries.columns import Edit, layout, names_alias, references
from sqla_stage.runtime.queries.datalinks import datalink_calls
from sqla_stage.runtime.queries.functions import translate
from sqla_stage.runtime.queries.mo_catalog import mo_stages
from sqla_stage.runtime.queries.staged_sources import StagedSource, list_staged, staged_read
from sqla_stage.runtime.storage.patterns import glob_pattern
from sqla_stage.stage import StagePath

#: ``list_stage`` columns (Databend's), with their DuckDB types.
LIST_STAGE_COLUMNS = (
    ("name", "VARCHAR"),
    ("size", "BIGINT"),
    ("md5", "VARCHAR"),
    ("last_modified", "TIMESTAMPTZ"),
)

_KEYWORDS_BEFORE_PARENTHESES = """
    ALL AND ANY AS BY CROSS ELSE EXCEPT EXISTS FROM FULL HAVING IN INNER INTERSECT INTO JOIN
    LATERAL LEFT NATURAL NOT ON OR OUTER RETURNING RIGHT SELECT SOME TABLE THEN UNION USING
    VALUES WHEN WHERE WITH
"""
_KEYWORDS_AFTER_FROM_LIST = """
    EXCEPT FETCH GROUP HAVING INTERSECT LIMIT OFFSET ON ORDER QUALIFY RETURNING SELECT SET
    UNION USING VALUES WHERE WINDOW
"""
#: Words after which ``(`` opens a subquery or a list, not a function's arguments.
_NOT_FUNCTIONS = frozenset(_KEYWORDS_BEFORE_PARENTHESES.split())
#: Words that end a FROM list at their depth.
_FROM_ENDS = frozenset(_KEYWORDS_AFTER_FROM_LIST.split())
_KEYWORDS_NOT_ALIASES = """
    ANTI ASOF CROSS FROM FULL INNER INTO JOIN LATERAL LEFT NATURAL OUTER PIVOT POSITIONAL
    RIGHT SAMPLE SEMI TABLESAMPLE UNPIVOT
"""
#: Words that cannot be the alias of a FROM item.
_NOT_ALIASES = _FROM_ENDS | frozenset(_KEYWORDS_NOT_ALIASES.split())
_STAGED_ARGUMENTS = ("FILE_FORMAT", "PATTERN")
_LIST_STAGE_ARGUMENTS = ("LOCATION", "PATTERN")
#: Arguments whose value may be a name rather than a string.
_NAMED_VALUES = ("FILE_FORMAT",)


def rewrite(context: StageContext, text: str) -> Query | None:
    """DuckDB SQL for a statement that reads staged files; None when it reads none.

    Raises:
        StageRuntimeError: a stage, file format or file the statement names is missing.
    """
    return rewrite_sql(context, text, context.parameters)


def rewrite_sql(
    context: StageContext,
    text: str,
    parameters: Any,
    *,
    file_format: FormatSpec | None = None,
    pattern: str | None = None,
) -> Query | None:
    """`rewrite` for ``text`` run with ``parameters``.

    ``file_format`` and ``pattern`` (a COPY's, around a transformation) apply to each
    staged location that gives no ``FILE_FORMAT =>`` / ``PATTERN =>`` of its own.
    """
    try:
        tokens = tokenize(text)
    except StageParseError:
        return None  # text the stage tokenizer cannot read: DuckDB reports on it
    edits: list[Edit] = []
    sources: list[StagedSource] = []
    generated: list[Edit] = []
    scopes = None
    databend = context.settings.stage_dialect == "databend"
    for index in _source_positions(tokens):
        if scopes is None:
            scopes = layout(tokens).scope
        source = _staged_files(
            context, text, tokens, index, scopes[index], len(sources) + 1, (file_format, pattern)
        )
        if source is not None:
            sources.append(source)
            continue
        edit = (
            _list_stage(context, text, tokens, index)
            or _stage_list(context, text, tokens, index)
            or mo_stages(context, tokens, index, _NOT_ALIASES)
        )
        if edit is not None:
            edits.append(edit)
        elif databend and (edit := _numbers(text, tokens, index)) is not None:
            generated.append(edit)
    edits.extend(datalink_calls(context, text, tokens))
    if not edits and not sources:
        return None  # numbers(N) alone is left to DuckDB: the text reads no stage
    edits.extend(generated)
    edits.extend(references(text, tokens, sources, parameters))
    edits.extend(Edit(source.start, source.end, source.render()) for source in sources)
    edits.sort(key=lambda edit: edit.start)
    parts, position = [], 0
    for edit in edits:
        parts.append(text[position : edit.start])
        parts.append(edit.text)
        position = edit.end
    parts.append(text[position:])
    return Query(translate(context, "".join(parts)), parameters)


def _source_positions(tokens: Sequence[Token]) -> list[int]:
    """Indexes of the tokens that stand where a FROM clause names a table."""
    positions = []
    # One entry a parenthesis depth: (inside a function's arguments, inside a FROM list).
    stack = [[False, False]]
    for index, token in enumerate(tokens[:-1]):
        state = stack[-1]
        if token.kind is Kind.PUNCT and token.value == "(":
            before = tokens[index - 1] if index else None
            call = before is not None and (
                (before.kind is Kind.WORD and before.upper not in _NOT_FUNCTIONS)
                or before.kind is Kind.QUOTED
            )
            stack.append([call, False])
        elif token.kind is Kind.PUNCT and token.value == ")":
            if len(stack) > 1:
                stack.pop()
        elif token.upper in ("FROM", "JOIN") and not state[0]:
            state[1] = True
            positions.append(index + 1)
        elif token.upper in _FROM_ENDS:
            state[1] = False
        elif token.kind is Kind.PUNCT and token.value == "," and state[1]:
            positions.append(index + 1)
    return positions


def _named_arguments(
    text: str, tokens: Sequence[Token], index: int, names: tuple[str, ...], what: str
) -> tuple[dict[str, str], int]:
    """``(NAME => 'value', ...)`` at ``tokens[index]``: the values and the ``)`` index.

    Raises:
        StageRuntimeError: anything else inside the parentheses.
    """
    values: dict[str, str] = {}
    position = index + 1
    while True:
        if position + 3 >= len(tokens):
            raise StageProgrammingError(f"{what}: ')' is missing")
        name, arrow, value = tokens[position : position + 3]
        named = name.upper in _NAMED_VALUES and value.kind in (Kind.WORD, Kind.QUOTED)
        if named:
            while tokens[position + 3].value == "." and tokens[position + 4].kind in (
                Kind.WORD,
                Kind.QUOTED,
            ):
                position += 2
            value = Token(Kind.STRING, text[value.start : tokens[position + 2].end], 0, 0)
        if (
            name.upper not in names
            or name.upper in values
            or arrow.value != "=>"
            or value.kind is not Kind.STRING
        ):
            allowed = ", ".join(f"{n} => '...'" for n in names)
            raise StageProgrammingError(
                f"{what}: expected ({allowed}) at offset {name.start}, found "
                f"{text[name.start : name.start + 30]!r}"
            )
        values[name.upper] = value.value
        closing = tokens[position + 3]
        if closing.kind is Kind.PUNCT and closing.value == ")":
            return values, position + 3
        if not (closing.kind is Kind.PUNCT and closing.value == ","):
            raise StageProgrammingError(f"{what}: expected ',' or ')' at offset {closing.start}")
        position += 4


def _is_arguments(tokens: Sequence[Token], index: int, names: tuple[str, ...]) -> bool:
    """Whether ``tokens[index]`` opens ``(NAME => ...``."""
    if index + 2 >= len(tokens):
        return False
    opening, name, arrow = tokens[index : index + 3]
    return (
        opening.kind is Kind.PUNCT
        and opening.value == "("
        and name.upper in names
        and arrow.value == "=>"
    )


def _format_spec(name: str | None, what: str) -> FormatSpec | None:
    if name is None:
        return None
    if name.upper() in FORMAT_TYPES:
        return FORMAT_TYPES[name.upper()]()
    if not name:
        raise StageProgrammingError(f"{what}: FILE_FORMAT => '' names no format")
    schema, base = split_format_name(name)
    return FileFormat(base, schema)


def _staged_files(
    context: StageContext,
    text: str,
    tokens: Sequence[Token],
    index: int,
    scope: int,
    key: int,
    defaults: tuple[FormatSpec | None, str | None] = (None, None),
) -> StagedSource | None:
    """``@stage/path [(FILE_FORMAT => ..., PATTERN => ...)] [[AS] alias]`` at ``tokens[index]``.

    A quoted ``'@stage/path 1/'`` is a location too (spec 004 quotes paths with spaces),
    not a local file name DuckDB would read.
    """
    token = tokens[index]
    quoted = token.kind is Kind.STRING and token.value.startswith("@")
    if token.kind is not Kind.LOCATION and not quoted:
        return None
    try:
        location = parse_stage_location(token.value)
    except StageParseError as error:
        raise StageProgrammingError(f"{token.value}: not a stage location ({error})") from None
    except StageArgumentError as error:  # a refused form (@#table)
        raise StageProgrammingError(str(error)) from None
    last, arguments = index, dict[str, str]()
    if _is_arguments(tokens, index + 1, _STAGED_ARGUMENTS):
        arguments, last = _named_arguments(text, tokens, index + 1, _STAGED_ARGUMENTS, token.value)
    spec = _format_spec(arguments.get("FILE_FORMAT"), token.value) or defaults[0]
    pattern = arguments.get("PATTERN", defaults[1])
    place = context.place(location)
    files = list_staged(context, place, pattern)
    concrete = context.stage_format(place, spec)
    refuse_parquet_as_text(place.label, place.storage, files[0].name, concrete)
    following = last + 1
    if tokens[following].upper == "AS":
        following += 1
    alias_token = tokens[following]
    if names_alias(alias_token, _NOT_ALIASES):
        alias = text[alias_token.start : alias_token.end]
        names = {alias_token.value if alias_token.kind is Kind.QUOTED else alias_token.upper}
        last = following
    else:
        alias, names = quote(f"__sqla_stage_s{key}"), set()
    return StagedSource(
        context=context,
        place=place,
        spec=concrete,
        files=files,
        pattern=pattern,
        start=token.start,
        end=tokens[last].end,
        alias=alias,
        names=frozenset(names),
        scope=scope,
        key=key,
    )


def read_staged(
    context: StageContext, location: StagePath, spec: FormatSpec | None, pattern: str | None
) -> str:
    """The DuckDB read call over the files of ``location`` matching ``pattern``.

    Raises:
        StageRuntimeError: no such stage or format, or no file matches.
    """
    place = context.place(location)
    files = list_staged(context, place, pattern)
    concrete = context.stage_format(place, spec)
    refuse_parquet_as_text(place.label, place.storage, files[0].name, concrete)
    return staged_read(context, place, concrete, files)


def _list_stage(
    context: StageContext, text: str, tokens: Sequence[Token], index: int
) -> Edit | None:
    """``list_stage(location => '@s/p', pattern => '...')`` at ``tokens[index]``."""
    token = tokens[index]
    if token.upper != "LIST_STAGE" or not (
        tokens[index + 1].kind is Kind.PUNCT and tokens[index + 1].value == "("
    ):
        return None
    what = "list_stage(...)"
    arguments, closing = _named_arguments(text, tokens, index + 1, _LIST_STAGE_ARGUMENTS, what)
    if "LOCATION" not in arguments:
        raise StageProgrammingError(f"{what}: location => '@stage/path' is required")
    try:
        location = parse_stage_location(arguments["LOCATION"])
    except StageParseError as error:
        raise StageProgrammingError(f"{what}: location => {error.sql!r} ({error})") from None
    except StageArgumentError as error:  # a refused form (@#table)
        raise StageProgrammingError(f"{what}: {error}") from None
    rows = list_files(context, ListFiles(location, pattern=arguments.get("PATTERN"))).rows
    items = columns_select(LIST_STAGE_COLUMNS, rows)
    return Edit(token.start, tokens[closing].end, f"(SELECT {items}, NULL::VARCHAR AS creator)")


def _stage_list(
    context: StageContext, text: str, tokens: Sequence[Token], index: int
) -> Edit | None:
    """MatrixOne's ``stage_list('stage://name/path/file_name')`` at ``tokens[index]``.

    As MatrixOne's page shows: without a file name (``stage://name``, ``stage://name/dir/``)
    the rows are the folder's entries, its files and sub-folders; with one, the files of
    the folder whose name matches it, ``*`` matching any run of characters (a sub-folder
    is not a file, so ``stage://name/dir`` gives no row). ``file`` is the entry's full
    path: the local path of a ``file://`` stage, else its URL (never a credential).
    Folders are what file keys imply: an object store has no empty folder.

    Raises:
        StageProgrammingError: more than one argument, or ``*`` in a folder name.
    """
    token = tokens[index]
    if token.upper != "STAGE_LIST" or not _is_call(tokens, index, 1):
        return None
    argument, closing = tokens[index + 2], tokens[index + 3]
    url = argument.value if argument.kind is Kind.STRING else ""
    if url[:8].lower() != "stage://":
        return None  # not MatrixOne's: DuckDB says what it makes of it
    if not _is_punct(closing, ")"):
        raise StageProgrammingError(
            f"stage_list(...): expected one 'stage://name/path' string, found "
            f"{text[token.start : closing.end]!r}"
        )
    folder, _, name = url[8:].partition("/")[2].rpartition("/")
    if "*" in folder:
        raise StageProgrammingError(
            f"stage_list({url!r}): '*' matches file names only, not folders"
        )
    location = stage_url_path(url[: len(url) - len(name)])
    assert location is not None
    place = context.place(location)
    storage, prefix = place.storage, place.prefix
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    entries = set()
    listed = storage.list(prefix, checksums=False)
    if not name:
        entries = {prefix + info.name[len(prefix) :].split("/", 1)[0] for info in listed}
    else:
        names = [info.name[len(prefix) :] for info in listed]
        matching = glob_pattern(name).select([rest for rest in names if "/" not in rest])
        entries = {prefix + rest for rest in matching}
    files = [storage.path(key) if storage.local else storage.url(key) for key in sorted(entries)]
    items = columns_select((("file", "VARCHAR"),), [(path,) for path in files])
    return Edit(token.start, closing.end, f"(SELECT {items})")


def _is_punct(token: Token, value: str) -> bool:
    return token.kind is Kind.PUNCT and token.value == value


def _is_call(tokens: Sequence[Token], index: int, arguments: int) -> bool:
    """Whether ``tokens[index]`` is followed by ``(`` and room for its arguments and ``)``."""
    return index + arguments + 2 < len(tokens) and _is_punct(tokens[index + 1], "(")


def _numbers(text: str, tokens: Sequence[Token], index: int) -> Edit | None:
    """Databend's ``numbers(N)`` at ``tokens[index]``, as DuckDB's ``range(N)``.

    Raises:
        StageProgrammingError: an argument other than one whole number.
    """
    token = tokens[index]
    if token.upper != "NUMBERS" or not _is_call(tokens, index, 1):
        return None
    count, closing = tokens[index + 2], tokens[index + 3]
    if not (count.kind is Kind.NUMBER and count.value.isdigit() and _is_punct(closing, ")")):
        raise StageProgrammingError(
            f"numbers(...): Databend's table function takes one whole number, found "
            f"{text[token.start : closing.end]!r}"
        )
    after = tokens[index + 4]
    aliased = after.upper == "AS" or names_alias(after, _NOT_ALIASES)
    alias = "" if aliased else " AS numbers"
    sql = f"(SELECT range::UBIGINT AS number FROM range({count.value})){alias}"
    return Edit(token.start, closing.end, sql)


def databend_numbers(text: str) -> str:
    """``text`` with each ``FROM numbers(N)`` (Databend's table function) as DuckDB's.

    Raises:
        StageProgrammingError: ``numbers`` with an argument other than one whole number.
    """
    try:
        tokens = tokenize(text)
    except StageParseError:
        return text  # text the stage tokenizer cannot read: DuckDB reports on it
    edits = [
        edit
        for index in _source_positions(tokens)
        if (edit := _numbers(text, tokens, index)) is not None
    ]
    for edit in reversed(edits):
        text = text[: edit.start] + edit.text + text[edit.end :]
    return text
