"""Namespaces: the ``[database.]schema`` text a stage, file format or table lives in.

The package follows SQLAlchemy's convention for multi-part schemas (the one
snowflake-sqlalchemy and duckdb_engine apply): ``schema="db.sch"`` names schema ``sch``
of database ``db``, each part quoted on its own when rendered. A part that holds a
dot or a double quote is written double-quoted inside the text, with ``""`` for a
quote: ``schema='"my.db".sch'`` is schema ``sch`` of the database ``my.db``.

`split_namespace` reads such text into its parts, `join_namespace` writes parts back,
so ``join_namespace(split_namespace(text))`` gives the text back in its plain form.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqla_stage.errors import StageArgumentError


def split_namespace(text: str) -> list[str]:
    """The parts of ``[database.]schema`` text, split at the dots outside double quotes.

    Args:
        text: The namespace, as ``Stage(schema=...)`` or ``Table(schema=...)`` takes it.

    Returns:
        The parts, unquoted: ``'"My Db".s'`` gives ``["My Db", "s"]``.

    Raises:
        StageArgumentError: an empty part (``"a..b"``), an unclosed quote, or text
            around a quoted part (``'a"b".c'``).
    """
    parts: list[str] = []
    pos = 0
    while True:
        if text.startswith('"', pos):
            chunks = []
            end = pos + 1
            while True:
                close = text.find('"', end)
                if close < 0:
                    raise StageArgumentError(f"the namespace {text!r} has an unclosed '\"'")
                chunks.append(text[end:close])
                if not text.startswith('"', close + 1):
                    break
                chunks.append('"')
                end = close + 2
            part, pos = "".join(chunks), close + 1
            if pos < len(text) and text[pos] != ".":
                raise StageArgumentError(
                    f"the namespace {text!r} has text after a quoted part; join parts with '.'"
                )
        else:
            dot = text.find(".", pos)
            end = len(text) if dot < 0 else dot
            part = text[pos:end]
            if '"' in part:
                raise StageArgumentError(
                    f"the namespace {text!r} has a '\"' inside a part; quote the whole part"
                )
            pos = end
        if not part:
            raise StageArgumentError(f"the namespace {text!r} has an empty part")
        parts.append(part)
        if pos >= len(text):
            return parts
        pos += 1  # the dot
        if pos == len(text):
            raise StageArgumentError(f"the namespace {text!r} has an empty part")


def join_namespace(parts: Sequence[str]) -> str:
    """``[database.]schema`` text of ``parts``; a part with a dot or quote is quoted."""
    return ".".join(
        '"' + part.replace('"', '""') + '"' if "." in part or '"' in part else part
        for part in parts
    )


def check_namespace(owner: str, text: str) -> str:
    """``text`` if it is a well-formed namespace of at most two parts.

    Raises:
        StageArgumentError: a malformed namespace, or one of three parts or more.
    """
    try:
        parts = split_namespace(text)
    except StageArgumentError as error:
        raise StageArgumentError(f"{owner}: {error}") from None
    if len(parts) > 2:
        raise StageArgumentError(
            f"{owner}: the namespace {text!r} has {len(parts)} parts; "
            "it is [database.]schema, at most two"
        )
    return text


def check_database(owner: str, text: str) -> str:
    """``text`` if it names one database (one part, quoted when it holds a dot).

    Raises:
        StageArgumentError: a malformed name, or one of several parts.
    """
    try:
        parts = split_namespace(text)
    except StageArgumentError as error:
        raise StageArgumentError(f"{owner}: {error}") from None
    if len(parts) != 1:
        raise StageArgumentError(f"{owner}: {text!r} is not one database name")
    return text
