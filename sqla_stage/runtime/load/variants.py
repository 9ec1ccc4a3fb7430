"""Databend's check of VARIANT values on a load: JSON columns converted after reading.

Databend parses every value loaded into a VARIANT column (DuckDB's ``JSON``) and fails the
statement on one that is not JSON, whatever ON_ERROR says (its COPY INTO page, example 7);
``DISABLE_VARIANT_CHECK = TRUE`` stores such a value as a JSON ``null`` instead. Under
``stage_dialect=databend`` (or with that option) the readers read a load's JSON columns as
text, and the INSERT converts them (`VariantCheck.select`), so ON_ERROR's per-row
tolerance never hides an invalid document.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from sqla_stage.runtime.load.read import TargetColumn

_JSON = "JSON"


@dataclass(frozen=True)
class VariantCheck:
    """The JSON columns of a load (by name) and what an invalid document becomes."""

    names: frozenset[str]
    as_null: bool

    def read_targets(self, targets: Sequence[TargetColumn]) -> tuple[TargetColumn, ...]:
        """The columns to read: the JSON ones as text."""
        return tuple(
            replace(target, type="VARCHAR") if target.name in self.names else target
            for target in targets
        )

    def select(self, select: str, columns: Sequence[str]) -> str:
        """``select`` (whose columns are ``columns``) with its JSON columns converted."""
        items = []
        for position, name in enumerate(columns, start=1):
            if name not in self.names:
                items.append(f"#{position}")
            elif self.as_null:
                items.append(
                    f"coalesce(TRY_CAST(#{position} AS JSON), "
                    f"CASE WHEN #{position} IS NOT NULL THEN 'null'::JSON END)"
                )
            else:
                items.append(f"CAST(#{position} AS JSON)")
        return f"SELECT {', '.join(items)} FROM ({select})"


def variant_check(
    targets: Sequence[TargetColumn], dialect: str | None, disabled: bool
) -> VariantCheck | None:
    """The check of a load into ``targets``; None when the load reads no VARIANT this way."""
    names = frozenset(t.name for t in targets if t.type.upper() == _JSON)
    if not names or not (disabled or dialect == "databend"):
        return None
    return VariantCheck(names, as_null=disabled)
