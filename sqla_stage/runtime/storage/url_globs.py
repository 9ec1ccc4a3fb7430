"""Databend's brace alternatives in the file name of a URL location.

``COPY INTO t FROM 'https://host/data/ontime_200{6,7,8}_200.csv'`` loads the three files
the alternatives name (Databend's example). The runtime lists the URL's folder below the
text before the first brace and keeps the names the whole pattern matches, so a missing
alternative loads nothing rather than failing, as a PATTERN does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqla_stage.errors import StageProgrammingError

_BRACES = re.compile(r"\{([^{}]*)\}")


@dataclass(frozen=True)
class BraceGlob:
    """A file name with ``{a,b}`` parts: the key prefix to list and the pattern to keep."""

    prefix: str
    pattern: str


def brace_glob(name: str) -> BraceGlob | None:
    """The listing of a URL file name with brace alternatives; None when it has none.

    Raises:
        StageProgrammingError: an unbalanced or nested brace, or an empty alternative list.
    """
    if "{" not in name and "}" not in name:
        return None
    parts, position = [], 0
    for match in _BRACES.finditer(name):
        alternatives = match.group(1).split(",")
        if match.group(1) == "" or any(part == "" for part in alternatives):
            raise StageProgrammingError(
                f"{name!r}: a brace holds alternatives separated by commas ({{a,b}})"
            )
        parts.append(re.escape(name[position : match.start()]))
        parts.append("(?:" + "|".join(re.escape(part) for part in alternatives) + ")")
        position = match.end()
    rest = name[position:]
    if "{" in rest or "}" in rest or any("{" in p or "}" in p for p in parts[::2]):
        raise StageProgrammingError(f"{name!r}: unbalanced or nested braces in the file name")
    parts.append(re.escape(rest))
    return BraceGlob(name[: name.index("{")], "".join(parts))
