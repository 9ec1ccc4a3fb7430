"""MatrixOne's ``SELECT ... INTO OUTFILE 'stage1:/user.csv'`` (spec 000)."""

from __future__ import annotations

from sqlalchemy.sql.elements import TextClause
from sqlalchemy.sql.selectable import SelectBase
from sqlalchemy.sql.visitors import InternalTraversal

from sqla_stage.errors import StageArgumentError
from sqla_stage.stage import Location, StageKind, StagePath, coerce_location
from sqla_stage.statement import StageStatement


class SelectIntoOutfile(StageStatement):
    """``<select> INTO OUTFILE '<stage>:/<path>'``: write a query's rows to a file.

    Args:
        query: A ``select()`` (or SQL text).
        location: A stage path (``stage / "user.csv"``), ``"stage1:/user.csv"``, or a
            plain file path (refused by MatrixOne while an enabled stage exists).
    """

    __visit_name__ = "sqla_stage_select_into_outfile"
    _traverse_internals = [
        ("_sql_key", InternalTraversal.dp_plain_obj),
        ("query", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, query: SelectBase | TextClause, location: object) -> None:
        """Write the rows of ``query`` to ``location``."""
        owner = "SelectIntoOutfile"
        if not isinstance(query, (SelectBase, TextClause)):
            raise StageArgumentError(f"{owner}: expected a select(), not {query!r}")
        self.query = query
        if isinstance(location, str) and not location.startswith("@"):
            from sqla_stage.parser.locations import parse_outfile_location

            self.location: Location = parse_outfile_location(location)
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
        )

    def __repr__(self) -> str:
        return f"SelectIntoOutfile(select(...), {self.location!r})"
