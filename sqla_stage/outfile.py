"""MatrixOne's ``SELECT ... INTO OUTFILE 'stage1:/user.csv'`` (spec 000).

With MatrixOne's export options: ``FORMAT 'csv' | 'parquet'`` and the ``FIELDS`` /
``LINES`` clauses it shares with ``LOAD DATA`` (checked by `load_data.text_options`).
"""

from __future__ import annotations

from sqlalchemy.sql.elements import TextClause
from sqlalchemy.sql.selectable import SelectBase
from sqlalchemy.sql.visitors import InternalTraversal

from sqla_stage.errors import StageArgumentError
from sqla_stage.load_data import text_options
from sqla_stage.locations import coerce_location, parse_outfile_location
from sqla_stage.stage import Location, StageKind, StagePath, refuse_nul
from sqla_stage.statement import StageStatement

#: ``FORMAT '...'`` values of INTO OUTFILE (MatrixOne's select-into-outfile page).
OUTFILE_FORMATS = ("csv", "parquet")


class SelectIntoOutfile(StageStatement):
    r"""``<select> INTO OUTFILE '<stage>:/<path>'``: write a query's rows to a file.

    Args:
        query: A ``select()`` (or SQL text).
        location: A stage path (``stage / "user.csv"``), ``"stage1:/user.csv"``,
            ``"stage://stage1/user.csv"``, or a plain file path (refused by MatrixOne while
            an enabled stage exists).
        format: ``FORMAT 'csv'`` or ``'parquet'``; None (MatrixOne's default, CSV) writes
            no FORMAT clause.
        fields_terminated_by: ``FIELDS TERMINATED BY``: the field separator (``,``).
        enclosed_by: ``ENCLOSED BY``: the quote around text fields (``"``; '' for none).
        optionally_enclosed: ``OPTIONALLY ENCLOSED BY``.
        escaped_by: ``ESCAPED BY``.
        lines_starting_by: ``LINES STARTING BY``.
        lines_terminated_by: ``LINES TERMINATED BY``: the line end (``\n``).

    Raises:
        StageArgumentError: an unknown format, FIELDS / LINES options with Parquet, or
            an option `load_data.text_options` refuses.
    """

    __visit_name__ = "sqla_stage_select_into_outfile"
    _traverse_internals = [
        ("_sql_key", InternalTraversal.dp_plain_obj),
        ("query", InternalTraversal.dp_clauseelement),
    ]

    def __init__(
        self,
        query: SelectBase | TextClause,
        location: object,
        *,
        format: str | None = None,
        fields_terminated_by: str | None = None,
        enclosed_by: str | None = None,
        optionally_enclosed: bool = False,
        escaped_by: str | None = None,
        lines_starting_by: str | None = None,
        lines_terminated_by: str | None = None,
    ) -> None:
        """Write the rows of ``query`` to ``location``; see the class docstring."""
        owner = "SelectIntoOutfile"
        if format is not None and (
            not isinstance(format, str) or format.lower() not in OUTFILE_FORMATS
        ):
            raise StageArgumentError(
                f"{owner}: format must be one of {', '.join(map(repr, OUTFILE_FORMATS))}, "
                f"not {format!r}"
            )
        self.format = None if format is None else format.lower()
        if not isinstance(optionally_enclosed, bool):
            raise StageArgumentError(f"{owner}: optionally_enclosed must be True or False")
        self.optionally_enclosed = optionally_enclosed
        self.text_options = text_options(
            owner,
            (fields_terminated_by, enclosed_by, escaped_by, lines_starting_by, lines_terminated_by),
            optionally_enclosed,
        )
        if self.format == "parquet" and self.text_options:
            raise StageArgumentError(f"{owner}: FIELDS and LINES options apply to CSV, not Parquet")
        if not isinstance(query, (SelectBase, TextClause)):
            raise StageArgumentError(f"{owner}: expected a select(), not {query!r}")
        self.query = query
        if isinstance(location, str) and not location.startswith("@"):
            self.location: Location = parse_outfile_location(location)
            if isinstance(self.location, str):  # a file ('stage1:/path' is a stage's key)
                refuse_nul(owner, "the file", self.location)
        else:
            self.location = coerce_location(owner, location)
        if isinstance(self.location, StagePath):
            stage = self.location.stage
            if stage.kind not in (StageKind.INTERNAL, StageKind.EXTERNAL) or stage.schema:
                # 'stage1:/path' names one unqualified, created stage (spec 000).
                raise StageArgumentError(
                    f"{owner}: INTO OUTFILE writes to a named stage ('stage1:/path'), "
                    f"not {self.location!r}"
                )
        self._sql_key = (
            self.location.cache_key() if isinstance(self.location, StagePath) else self.location,
            self.format,
            tuple(self.text_options.items()),
            self.optionally_enclosed,
        )

    def __repr__(self) -> str:
        parts = ["select(...)", repr(self.location)]
        if self.format is not None:
            parts.append(f"format={self.format!r}")
        if self.optionally_enclosed:
            parts.append("optionally_enclosed=True")
        parts += [f"{name}={value!r}" for name, value in self.text_options.items()]
        return f"SelectIntoOutfile({', '.join(parts)})"
