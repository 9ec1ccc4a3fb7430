"""Stage locations from text, and the location arguments of the constructs.

The forms: ``@stage/path``, ``@~/path``, ``@%table/path`` (``@[db.]schema.%table/path``),
``@db.schema."My Stage"/path`` and MatrixOne's ``stage1:/path``. A stage's ``[db.]schema``
becomes its namespace text (`sqla_stage.namespaces`). The Databend user-stage
RFC's ``@#table`` is refused: the RFC lists it among future possibilities, Databend does
not implement it (it reads ``#t`` as the name of a stage that does not exist), and reading
it as ``@%table`` would name a stage no engine knows by that text.

Bare names are case-insensitive in SQL, so they are lower-cased (SQLAlchemy's
convention, as for any unquoted identifier); double-quoted names keep their text.

`coerce_location` takes what a construct's location argument may be: a Stage, a stage
path, ``"@stage/path"`` text or a URL. This module is below the parser (which reads
locations inside statements with it), so the constructs can read location text.
"""

from __future__ import annotations

import re

from sqla_stage.errors import StageArgumentError, StageParseError
from sqla_stage.namespaces import join_namespace
from sqla_stage.stage import Location, Stage, StagePath, refuse_nul

_BARE = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")
_OUTFILE_STAGE = re.compile(r"([A-Za-z_][A-Za-z0-9_$]*):/(?!/)(.*)", re.DOTALL)


def _identifier(text: str, pos: int) -> tuple[str, int]:
    """Read one bare or double-quoted identifier at ``pos``; return it and the next offset.

    A bare identifier is returned in lower case, a quoted one as written.
    """
    if text.startswith('"', pos):
        end = pos + 1
        parts = []
        while True:
            close = text.find('"', end)
            if close < 0:
                raise StageParseError(text, pos, "a closing '\"'", "the end of the location")
            parts.append(text[end:close])
            if text.startswith('"', close + 1):
                parts.append('"')
                end = close + 2
                continue
            return "".join(parts), close + 1
    match = _BARE.match(text, pos)
    if not match:
        found = repr(text[pos]) if pos < len(text) else "the end of the location"
        raise StageParseError(text, pos, "a stage name", found)
    return match.group().lower(), match.end()


def parse_stage_location(text: str) -> StagePath:
    """Turn ``@...`` location text into a [StagePath][sqla_stage.StagePath].

    Raises:
        StageParseError: the text is not a stage location.
    """
    if not text.startswith("@"):
        raise StageParseError(text, 0, "'@'", repr(text[:1]) if text else "nothing")
    pos = 1
    if text.startswith("~", pos):
        stage, pos = Stage.user(), pos + 1
    else:
        # A table stage is @[namespace.]%table (spec 004); @%namespace.table is read too.
        names: list[str] = []
        marks: list[int] = []
        while True:
            if text.startswith("#", pos):
                raise StageArgumentError(
                    f"{text}: the table stage @#table is a future possibility of the Databend "
                    "user-stage RFC that Databend does not implement (it reads '#...' as a "
                    "stage name); a table stage is written @%table"
                )
            if text.startswith("%", pos):
                marks.append(len(names))
                if len(marks) > 1:
                    raise StageParseError(text, pos, "a stage name", "a second '%'")
                pos += 1
            name, pos = _identifier(text, pos)
            names.append(name)
            if not text.startswith(".", pos):
                break
            pos += 1
        if marks and marks[0] not in (0, len(names) - 1):
            raise StageParseError(text, 1, "'%' before the table name, not the schema", "'%'")
        if len(names) > 3:
            raise StageParseError(
                text,
                1,
                "a stage name of at most three parts (db.schema.name)",
                f"{len(names)} parts",
            )
        schema = join_namespace(names[:-1]) or None
        stage = Stage.table(names[-1], schema) if marks else Stage(names[-1], schema=schema)
    if pos == len(text):
        return StagePath(stage)
    if text[pos] != "/":
        raise StageParseError(text, pos, "'/' or the end of the location", repr(text[pos]))
    return StagePath(stage, text[pos + 1 :])


def parse_outfile_location(text: str) -> StagePath | str:
    """MatrixOne's INTO OUTFILE target: ``'stage1:/user.csv'`` or a plain file path."""
    match = _OUTFILE_STAGE.fullmatch(text)
    if match:
        return StagePath(Stage(match.group(1)), match.group(2))
    return text


#: A URL with a scheme (``s3://``, MatrixOne's ``stage1:/``) or an absolute local path.
_URL_OR_ABSOLUTE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:|/")


def coerce_location(owner: str, value: object) -> Location:
    """Accept a Stage, a StagePath, ``"@stage/path"`` text or a URL.

    Raises:
        StageArgumentError: anything else.
    """
    if isinstance(value, Stage):
        return StagePath(value)
    if isinstance(value, StagePath):
        return value
    if isinstance(value, str) and value:
        if value.startswith("@"):
            return parse_stage_location(value)
        if _URL_OR_ABSOLUTE.match(value):
            return refuse_nul(owner, "a URL", value)
        raise StageArgumentError(
            f"{owner}: {value!r} is neither a stage location ('@stage/path') nor a URL "
            "('s3://bucket/path/', 'file:///abs/path/'): a relative path is never read as a "
            f"location; did you mean '@{value}'?"
        )
    raise StageArgumentError(
        f"{owner}: expected a Stage, a stage path (stage / 'path'), '@stage/path' or a URL, "
        f"not {value!r}"
    )
