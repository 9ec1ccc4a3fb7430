"""MatrixOne's DATALINK functions, ``load_file()`` and ``save_file()``, on the runtime.

Under ``stage_dialect=matrixone`` a query's ``load_file(cast('<link>' as datalink))`` (or
``load_file('<link>')``) becomes a DuckDB scalar subquery over ``read_blob`` of the file
the link names, and ``SELECT save_file(cast('<link>' as datalink), '<content>')`` writes the
file and answers the number of bytes written, as MatrixOne's pages (DATALINK type,
LOAD_FILE, SAVE_FILE) show. A link is ``file://<path>`` (a file of the machine the runtime
runs on) or ``stage://<stage>/<path>`` (a file of a stage, of any storage; a doubled ``/``
after the stage name is one, as the LOAD_FILE page's ``stage://stage1//t1.csv`` reads),
optionally followed by ``?offset=<n>&size=<n>``: ``load_file`` then returns ``size`` bytes
from byte ``offset`` (0-based), to the end of the file without ``size``.

``load_file`` returns VARCHAR: the bytes decoded as UTF-8 (DuckDB text must be UTF-8, so a
binary file, or an offset or size that cuts a character, is an error naming the link). The
file's bytes are read by DuckDB; Python only resolves the link to the file.

What the runtime does not do, and refuses with an error naming the function:

- ``load_file(col2)``, a link read from a column: DuckDB's file readers take constant
  arguments only, and reading each row's file from Python would take the data out of
  DuckDB. Give the link as a literal, or load the files with ``LOAD DATA`` / ``stage_list``.
- ``save_file`` anywhere but as the whole statement ``SELECT save_file(<link>, '<text>')``
  with a literal link and a literal text: the file is written when the statement runs,
  once, and a call inside a larger query would be run for a number of rows the runtime
  cannot know beforehand.

Files are not transactional: as in MatrixOne, the file ``save_file`` writes stays when
the transaction rolls back. It is written under a scratch name and moved into place, so
a failed write leaves no partial file, and an existing file is replaced.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqla_stage.errors import StageProgrammingError
from sqla_stage.parser.lexer import Kind, Token
from sqla_stage.runtime.engine.context import StageContext, stage_url_path
from sqla_stage.runtime.engine.literals import literal
from sqla_stage.runtime.load.read import glob_escape
from sqla_stage.runtime.queries.columns import Edit
from sqla_stage.runtime.storage.client_encryption import refuse_plain_access
from sqla_stage.runtime.storage.stage_storage import SCRATCH_PREFIX, StageStorage
from sqla_stage.runtime.unload.publish_journal import scratch_file

_FUNCTIONS = ("LOAD_FILE", "SAVE_FILE")
_PARAMETER = re.compile(r"(offset|size)=(\d+)")


@dataclass(frozen=True)
class _Link:
    """A resolved DATALINK: the storage and key of its file, and the part to read."""

    text: str
    storage: StageStorage
    key: str
    offset: int
    size: int | None


def _argument(tokens: Sequence[Token], index: int) -> tuple[str, int] | None:
    """A literal link at ``tokens[index]``: ``'...'`` or ``cast('...' as datalink)``.

    Returns:
        The link's text and the index of the token after the argument, or None.
    """
    token = tokens[index]
    if token.kind is Kind.STRING:
        return token.value, index + 1
    if token.upper != "CAST" or index + 5 >= len(tokens):
        return None
    opening, value, as_, kind, closing = tokens[index + 1 : index + 6]
    if (
        _punct(opening, "(")
        and value.kind is Kind.STRING
        and as_.upper == "AS"
        and kind.upper == "DATALINK"
        and _punct(closing, ")")
    ):
        return value.value, index + 6
    return None


def _punct(token: Token, value: str) -> bool:
    return token.kind is Kind.PUNCT and token.value == value


def _resolve(context: StageContext, text: str, function: str) -> _Link:
    """The file a ``file://`` or ``stage://`` link names, and its offset and size.

    Raises:
        StageProgrammingError: another scheme, a malformed ``?offset=&size=``, a missing
            stage.
    """
    address, _, query = text.partition("?")
    offset, size = 0, None
    if query:
        values: dict[str, int] = {}
        for part in query.split("&"):
            match = _PARAMETER.fullmatch(part)
            if match is None or match.group(1) in values:
                raise StageProgrammingError(
                    f"{function}({text!r}): a DATALINK's parameters are ?offset=<n>&size=<n> "
                    f"(whole numbers, each once), not {query!r}"
                )
            values[match.group(1)] = int(match.group(2))
        offset, size = values.get("offset", 0), values.get("size")
    scheme = address[:8].lower()
    if scheme == "stage://":
        name, _, path = address[8:].partition("/")
        location = stage_url_path(f"stage://{name}/{re.sub('/+', '/', path).lstrip('/')}")
        assert location is not None
        place = context.place(location)
        refuse_plain_access(
            place.storage.client_key, place.label, function, "does not decrypt or encrypt"
        )
        if not place.prefix or place.prefix.endswith("/"):
            raise StageProgrammingError(f"{function}({text!r}): the link names no file")
        return _Link(text, place.storage, place.prefix, offset, size)
    if address[:7].lower() == "file://" and address[7:].startswith("/"):
        folder, _, name = address[7:].rpartition("/")
        if not name:
            raise StageProgrammingError(f"{function}({text!r}): the link names no file")
        storage = context.outside_root(folder or "/", f"{function}: the DATALINK")
        return _Link(text, storage, name, offset, size)
    raise StageProgrammingError(
        f"{function}({text!r}): a DATALINK is 'file:///path/file' or "
        "'stage://stage/path/file' (with ?offset=<n>&size=<n>)"
    )


def _load_file(context: StageContext, link: _Link) -> str:
    """The scalar subquery that reads the link's bytes as text.

    Raises:
        StageProgrammingError: the file does not exist.
    """
    if not link.storage.exists(link.key):
        raise StageProgrammingError(f"load_file({link.text!r}): the file does not exist")
    last = "" if link.size is None else str(link.offset + link.size)
    part = f"content[{link.offset + 1}:{last}]"
    message = literal(f"load_file({link.text!r}): the bytes read are not UTF-8 text")
    path = literal(glob_escape(link.storage.duckdb_path(link.key)))
    return f"(SELECT coalesce(try(decode({part})), error({message})) FROM read_blob({path}))"


def _save_file(context: StageContext, link: _Link, content: str) -> int:
    """Write ``content`` to the link's file (replacing it); the number of bytes written."""
    if link.offset or link.size is not None:
        raise StageProgrammingError(
            f"save_file({link.text!r}): ?offset= and size= are for reading (load_file)"
        )
    storage, data = link.storage, content.encode("utf-8")
    folder = link.key.rpartition("/")[0]
    scratch = (f"{folder}/" if folder else "") + f"{SCRATCH_PREFIX}{uuid.uuid4().hex}"
    temporary = storage.path(scratch)
    storage.fs.makedirs(storage.path(folder), exist_ok=True)
    with scratch_file(storage, temporary):
        storage.fs.pipe_file(temporary, data)
        storage.fs.mv(temporary, storage.path(link.key))
    return len(data)


def _whole_statement(tokens: Sequence[Token], index: int, end: int) -> bool:
    """Whether ``SELECT <call>[;]`` is the whole statement, the call at ``index``..``end``."""
    rest = tokens[end:]
    if rest and _punct(rest[0], ";"):
        rest = rest[1:]
    return index == 1 and tokens[0].upper == "SELECT" and all(t.kind is Kind.END for t in rest)


def datalink_calls(context: StageContext, text: str, tokens: Sequence[Token]) -> list[Edit]:
    """The edits that put ``load_file`` / ``save_file`` calls of ``text`` in DuckDB's terms.

    Raises:
        StageProgrammingError: a call the runtime cannot honour (see the module
            docstring), a link it cannot resolve, a missing file for ``load_file``.
    """
    if context.settings.stage_dialect != "matrixone":
        return []
    edits = []
    for index, token in enumerate(tokens[:-2]):
        if token.upper not in _FUNCTIONS or not _punct(tokens[index + 1], "("):
            continue
        if index and _punct(tokens[index - 1], "."):
            continue  # schema.load_file(...): the user's own function
        function = token.value.lower()
        found = _argument(tokens, index + 2)
        if function == "load_file":
            if found is None or not _punct(tokens[found[1]], ")"):
                raise StageProgrammingError(
                    "load_file(): the runtime reads a DATALINK given as a literal, "
                    "load_file(cast('stage://stage/file' as datalink)); a link from a column "
                    "or an expression is not supported"
                )
            link = _resolve(context, found[0], function)
            sql = _load_file(context, link)
            edits.append(Edit(token.start, tokens[found[1]].end, sql))
            continue
        content = tokens[found[1] + 1] if found is not None else None
        if (
            found is None
            or not _punct(tokens[found[1]], ",")
            or content is None
            or content.kind is not Kind.STRING
            or not _punct(tokens[found[1] + 2], ")")
            or not _whole_statement(tokens, index, found[1] + 3)
        ):
            raise StageProgrammingError(
                "save_file(): the runtime runs it as a statement of its own with literal "
                "arguments, SELECT save_file(cast('stage://stage/file' as datalink), 'text')"
            )
        written = _save_file(context, _resolve(context, found[0], function), content.value)
        edits.append(Edit(token.start, tokens[found[1] + 2].end, f"{written}::BIGINT"))
    return edits
