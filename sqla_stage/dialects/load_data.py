r"""Rendering of [LoadData][sqla_stage.LoadData]: MatrixOne's ``LOAD DATA`` statement.

MatrixOne's ``SELECT ... INTO OUTFILE`` renders here too (`render_select_into_outfile`): it
shares the ``FIELDS`` / ``LINES`` clauses.

MatrixOne (the ``mysql`` dialects) and the canonical form (DuckDB, the default string
form) write the same statement, each with its own string literals::

    LOAD DATA [LOCAL] INFILE '<path>' | 'stage://<stage>/<path>'
        | {'filepath'='<path>', 'format'='jsonline', 'jsondata'='array'}
      INTO TABLE <table> [CHARACTER SET <name>]
      [FIELDS [TERMINATED BY '...'] [[OPTIONALLY] ENCLOSED BY '.'] [ESCAPED BY '.']]
      [LINES [STARTING BY '...'] [TERMINATED BY '...']] [IGNORE <n> LINES]
      [(<column> | @<var>, ...)] [SET <column> = <expr>, ...]
      [PARALLEL 'TRUE' | 'FALSE'] [STRICT 'TRUE' | 'FALSE']

or ``LOAD DATA URL s3option {'endpoint'='...', 'filepath'='...', ...} INTO TABLE ...``.
Snowflake and Databend have no LOAD DATA: their renderers raise ``CompileError`` and point
at [CopyInto][sqla_stage.CopyInto], whose file formats do not share MySQL's escaping rules
(``\N``, an escape character outside quotes, ``LINES STARTING BY``), so no translation
would load the same rows.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from sqla_stage.credentials import MASK
from sqla_stage.load_data import SECRET_S3_KEYS, LoadData, set_expression
from sqla_stage.outfile import SelectIntoOutfile
from sqla_stage.stage import StagePath

if TYPE_CHECKING:
    from sqla_stage.dialects.base import Renderer

_STAGE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")
_CLAUSES = {
    "fields_terminated_by": "TERMINATED BY",
    "enclosed_by": "ENCLOSED BY",
    "escaped_by": "ESCAPED BY",
    "lines_starting_by": "STARTING BY",
    "lines_terminated_by": "TERMINATED BY",
}


def render_load_data(renderer: Renderer, element: LoadData, *, mask_secrets: bool = False) -> str:
    """``LOAD DATA ...`` with ``renderer``'s identifiers and literals.

    Args:
        renderer: The dialect's renderer.
        element: The statement.
        mask_secrets: Write the secret s3option values as ``'***'`` (DuckDB's text).

    Raises:
        CompileError: a stage path whose ``stage://`` form would read back differently.
    """
    fields, lines = _text_clauses(renderer, element.text_options, element.optionally_enclosed)
    columns = [name if name.startswith("@") else renderer.quote(name) for name in element.columns]
    assignments = [
        f"{renderer.quote(name)} = {renderer.sql.process(set_expression(text), **renderer.kw)}"
        for name, text in element.assignments
    ]
    return renderer.join(
        "LOAD DATA",
        "LOCAL" if element.local else None,
        _source(renderer, element, mask_secrets),
        "INTO TABLE",
        renderer.table(element.table),
        f"CHARACTER SET {element.character_set}" if element.character_set else None,
        fields,
        lines,
        f"IGNORE {element.ignore_lines} LINES" if element.ignore_lines is not None else None,
        "(" + ", ".join(columns) + ")" if columns else None,
        "SET " + ", ".join(assignments) if assignments else None,
        _flag(renderer, "PARALLEL", element.parallel),
        _flag(renderer, "STRICT", element.strict),
    )


def _text_clauses(
    renderer: Renderer, options: dict[str, str], optionally: bool
) -> tuple[str | None, str | None]:
    """``FIELDS ...`` and ``LINES ...`` (None where no option of the clause is given)."""
    clauses: list[str | None] = []
    for names in (list(_CLAUSES)[:3], list(_CLAUSES)[3:]):
        parts = []
        for name in names:
            if name in options:
                text = f"{_CLAUSES[name]} {renderer.literal(options[name])}"
                parts.append(f"OPTIONALLY {text}" if name == "enclosed_by" and optionally else text)
        keyword = "FIELDS" if names[0].startswith("fields") else "LINES"
        clauses.append(f"{keyword} {' '.join(parts)}" if parts else None)
    return clauses[0], clauses[1]


def render_select_into_outfile(renderer: Renderer, element: SelectIntoOutfile) -> str:
    """MatrixOne's ``<query> INTO OUTFILE '<stage>:/<path>'`` with its FORMAT, FIELDS, LINES.

    Raises:
        CompileError: a stage path whose ``stage:/path`` form would read back differently.
    """
    location = element.location
    if isinstance(location, StagePath):
        name, path = location.stage.name, location.path
        if not _STAGE_NAME.fullmatch(name) or path.startswith("/"):
            # 'My Stage:/x' would read as a file path and 's://x' as a URL.
            renderer.unsupported(
                f"INTO OUTFILE to stage {name!r} path {path!r}",
                " (the 'stage:/path' form needs a plain stage name and a relative path)",
            )
        target = f"{name}:/{path}"
    else:
        target = location
    fields, lines = _text_clauses(renderer, element.text_options, element.optionally_enclosed)
    return renderer.join(
        renderer.embedded(element.query),
        "INTO OUTFILE",
        renderer.literal(target),
        f"FORMAT {renderer.literal(element.format)}" if element.format else None,
        fields,
        lines,
    )


def _flag(renderer: Renderer, keyword: str, value: bool | None) -> str | None:
    return None if value is None else f"{keyword} {renderer.literal('TRUE' if value else 'FALSE')}"


def _braces(renderer: Renderer, entries: dict[str, str]) -> str:
    return (
        "{"
        + ", ".join(f"{renderer.literal(k)}={renderer.literal(v)}" for k, v in entries.items())
        + "}"
    )


def _source(renderer: Renderer, element: LoadData, mask_secrets: bool) -> str:
    if element.s3option is not None:
        entries = {
            key: MASK if mask_secrets and key in SECRET_S3_KEYS else value
            for key, value in element.s3option.items()
        }
        return f"URL s3option {_braces(renderer, entries)}"
    path = element.path
    if isinstance(path, StagePath):
        name = path.stage.name
        if not _STAGE_NAME.fullmatch(name) or path.path.startswith("/"):
            renderer.unsupported(
                f"LOAD DATA from stage {name!r} path {path.path!r}",
                " (the 'stage://name/path' form needs a plain stage name and a relative path)",
            )
        text = f"stage://{name}/{path.path}"
    else:
        assert path is not None
        text = path
    if element.format == "csv":
        return f"INFILE {renderer.literal(text)}"
    entries = {"filepath": text, "format": element.format}
    if element.jsondata is not None:
        entries["jsondata"] = element.jsondata
    return f"INFILE {_braces(renderer, entries)}"
