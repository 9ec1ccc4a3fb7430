"""PARTITION BY of an unload: what Databend's COPY INTO <location> allows, and safe folders.

Databend's ``PARTITION BY ( <expr> )`` (docs.databend.com, COPY INTO <location>) puts each
distinct value of the expression in a subfolder of the destination, ``_NULL_`` for NULL,
as Snowflake's ``PARTITION BY <expr>`` does (`unload` writes both). Under
``stage_dialect=databend`` the runtime also refuses what Databend refuses, before anything
is written:

- an expression that does not evaluate to a string (Databend: "must evaluate to a
  ``STRING`` type"; Snowflake casts any value);
- ``SINGLE = TRUE``, ``OVERWRITE = TRUE`` and ``INCLUDE_QUERY_ID = FALSE`` together with
  ``PARTITION BY``.

Under every dialect a value with a ``..`` segment is refused once the files are written
to the scratch area and before any is published (Databend: "Path traversal (``..``) is not
allowed in partition values"): it would name a folder outside the destination. Other
values name the folder `unload_files.partition_folder` makes of them (empty and ``.``
segments dropped); values naming one folder share it, their files numbered in turn
(`unload_files.name_files`), so no two files of an unload get one name.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqla_stage.copy import CopyInto
from sqla_stage.errors import StageProgrammingError
from sqla_stage.runtime.unload.files import WrittenFile

#: The copy options Databend refuses with PARTITION BY, and the value it refuses.
_DATABEND_CONFLICTS = {"single": True, "overwrite": True, "include_query_id": False}

#: DuckDB's string types (what Databend's STRING becomes).
_STRING_TYPES = ("VARCHAR",)


def check_options(element: CopyInto, stage_dialect: str | None) -> None:
    """Refuse the options that do not combine with PARTITION BY (Databend's list).

    Raises:
        StageProgrammingError: ``SINGLE = TRUE`` (every dialect), or under
            ``stage_dialect=databend`` ``OVERWRITE = TRUE`` or ``INCLUDE_QUERY_ID = FALSE``.
    """
    if element.partition_by is None:
        return
    if element.copy_options.get("single") is True:
        raise StageProgrammingError("PARTITION BY cannot be combined with SINGLE = TRUE")
    if stage_dialect != "databend":
        return
    for name, refused in _DATABEND_CONFLICTS.items():
        if element.copy_options.get(name) is refused:
            raise StageProgrammingError(
                f"PARTITION BY cannot be combined with {name.upper()} = {str(refused).upper()} "
                "on Databend"
            )


def check_type(type_name: str, stage_dialect: str | None) -> None:
    """Under ``stage_dialect=databend``, refuse a PARTITION BY value that is not a string.

    Args:
        type_name: The DuckDB type of the expression (``DESCRIBE``).
        stage_dialect: Whose semantics the runtime follows.

    Raises:
        StageProgrammingError: the expression is not a string under Databend.
    """
    if stage_dialect == "databend" and type_name.upper() not in _STRING_TYPES:
        raise StageProgrammingError(
            f"PARTITION BY: on Databend the expression must evaluate to a STRING, not "
            f"{type_name} (cast it, e.g. PARTITION BY (CAST(... AS STRING)))"
        )


def check_values(files: Sequence[WrittenFile]) -> None:
    """Refuse a partition value with a ``..`` segment (path traversal), before publishing.

    Raises:
        StageProgrammingError: a value names a folder outside the destination.
    """
    for file in files:
        if file.partition is not None and ".." in file.partition.split("/"):
            raise StageProgrammingError(
                f"PARTITION BY: the value {file.partition!r} has a '..' segment; path "
                "traversal is not allowed in partition values (nothing was written)"
            )
