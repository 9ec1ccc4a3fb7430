r"""CSV lines built by one DuckDB expression, so any separator is written byte for byte.

DuckDB's CSV writer takes a one-byte field delimiter (it keeps the first character of a
longer one, and a multi-byte character such as ``Þ`` breaks the database instance). The
writers that need any separator (`formats`'s CSV writer for spec 004's
multi-character delimiters, `queries.outfile` for MatrixOne's ``FIELDS TERMINATED BY``)
build each line as one text value here and have DuckDB write it as a one-column CSV
without quoting (`RAW_LINE_OPTIONS`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqla_stage.runtime.engine.literals import literal

#: The options of a ``COPY ... TO`` writing the built lines as they are.
RAW_LINE_OPTIONS = ("FORMAT csv", "QUOTE ''", "ESCAPE ''", "NULLSTR ''")


@dataclass(frozen=True)
class LineFormat:
    """How fields become a line.

    Attributes:
        separator: Between fields (any text, empty for none).
        enclosure: Encloses a field (empty for none).
        escape: Put before the enclosure and itself inside an enclosed field; empty: the
            enclosure is doubled.
        null: The text of NULL.
        specials: Text whose presence in a value has it enclosed (when not always).
        empty: An empty value is enclosed too (when not always), to tell it from NULL.
    """

    separator: str
    enclosure: str
    escape: str
    null: str
    specials: tuple[str, ...] = ()
    empty: bool = False

    def _escaped(self, text: str) -> str:
        if self.escape:
            text = f"replace({text}, {literal(self.escape)}, {literal(self.escape * 2)})"
            mark = self.escape + self.enclosure
        else:
            mark = self.enclosure * 2
        return f"replace({text}, {literal(self.enclosure)}, {literal(mark)})"

    def field(self, text: str, *, enclose: bool | None) -> str:
        """SQL of one field from ``text`` (a VARCHAR expression, possibly NULL).

        ``enclose``: True always, False never, None when the value holds a special text.
        """
        if self.enclosure and enclose is not False:
            enclosed = f"{literal(self.enclosure)} || {self._escaped(text)} || "
            enclosed += literal(self.enclosure)
            if enclose:
                text = enclosed
            elif self.specials or self.empty:
                tests = [f"contains({text}, {literal(mark)})" for mark in self.specials]
                found = " OR ".join([*tests, f"{text} = ''"] if self.empty else tests)
                text = f"CASE WHEN {found} THEN {enclosed} ELSE {text} END"
        return f"coalesce({text}, {literal(self.null)})"

    def line(self, fields: Sequence[str]) -> str:
        """SQL of the whole line: the fields joined by the separator."""
        return f" || {literal(self.separator)} || ".join(fields)

    def header(self, names: Sequence[str]) -> str:
        """The header line: each name enclosed when it holds a special text."""
        shown = []
        for name in names:
            if self.enclosure and any(mark in name for mark in self.specials):
                inner = name.replace(self.escape, self.escape * 2) if self.escape else name
                mark = self.escape + self.enclosure if self.escape else self.enclosure * 2
                name = self.enclosure + inner.replace(self.enclosure, mark) + self.enclosure
            shown.append(name)
        return self.separator.join(shown)
