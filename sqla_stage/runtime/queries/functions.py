"""Warehouse functions inside the queries stage statements embed, as DuckDB SQL.

The queries a stage statement embeds (staged-file queries, the query of a COPY
transformation or of an unload, PARTITION BY) run on DuckDB. Under
``stage_dialect=snowflake`` or ``databend`` they are that warehouse's SQL, and may call
its functions: `translate` rewrites each call of a function of the warehouse's table
(`function_table`) into DuckDB SQL, and Snowflake's ``seq.NEXTVAL`` into
``nextval('seq')`` and ``PARSE_JSON(x):a.b`` into the element at that path. It runs
*after* the runtime's own rewriting (stage references, ``$n``, ``METADATA$``), so an
argument such as ``PARSE_JSON($1)`` already reads the staged record.

Only the calls change: the text between them is kept byte for byte, so identifiers'
case and quoting, parameters and DuckDB syntax stay as written, and a query that calls
none of these functions comes back unchanged, without being tokenized (one regular
expression decides). Under the default ``stage_dialect`` the queries are DuckDB's own
SQL and nothing is translated. A function neither table knows is left to DuckDB, whose
error names it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqla_stage.errors import StageParseError
from sqla_stage.parser.lexer import Kind, Token, tokenize
from sqla_stage.runtime.engine.context import StageContext
from sqla_stage.runtime.engine.literals import literal
from sqla_stage.runtime.queries.columns import cast_suffix, element_path, path_expression
from sqla_stage.runtime.queries.function_table import MACROS, TABLES, Call, FunctionTable

_HINTS = {
    dialect: re.compile(
        r"\b(?:"
        + "|".join(sorted(table.calls))
        + r")\s*\("
        + (r"|\.\s*nextval\b" if table.sequences else ""),
        re.I,
    )
    for dialect, table in TABLES.items()
}
_MACRO_NAMES = re.compile(r"\b(?:" + "|".join(map(re.escape, MACROS)) + r")\b")


def translate(context: StageContext, text: str) -> str:
    """``text`` with the ``stage_dialect`` warehouse's function calls in DuckDB SQL.

    Creates (as temporary macros on the connection) the DuckDB macros the translation
    calls.

    Raises:
        StageProgrammingError: a call in a form the runtime does not honour.
    """
    translated = translate_text(text, context.settings.stage_dialect)
    if translated is not text:
        for name in sorted(set(_MACRO_NAMES.findall(translated))):
            context.run(f"CREATE OR REPLACE TEMP MACRO {name}{MACROS[name]}")
    return translated


def translate_text(text: str, dialect: str | None) -> str:
    """`translate` without creating the macros: ``text`` itself when nothing changes."""
    table = TABLES.get(dialect)
    if table is None or not _HINTS[dialect].search(text):
        return text
    try:
        tokens = tokenize(text)
    except StageParseError:
        return text  # text the stage tokenizer cannot read: DuckDB reports on it
    last = len(tokens) - 1
    if last == 0:
        return text
    body = _Walker(text, tokens, table).span(0, last)
    translated = text[: tokens[0].start] + body + text[tokens[last - 1].end :]
    return text if translated == text else translated


class _Walker:
    """Rewrites the calls in token ranges of one text."""

    def __init__(self, text: str, tokens: Sequence[Token], table: FunctionTable) -> None:
        self.text, self.tokens, self.table = text, tokens, table
        self.closing = _closing_parentheses(tokens)

    def span(self, first: int, last: int) -> str:
        """The text of ``tokens[first:last]`` with its calls translated."""
        tokens, text = self.tokens, self.text
        if first >= last:
            return ""
        parts, position, index = [], tokens[first].start, first
        while index < last:
            replaced = self._call(index) or self._sequence(index, last)
            if replaced is None:
                index += 1
                continue
            sql, end = replaced
            parts.append(text[position : tokens[index].start])
            parts.append(sql)
            position, index = tokens[end].end, end + 1
        parts.append(text[position : tokens[last - 1].end])
        return "".join(parts)

    def _call(self, index: int) -> tuple[str, int] | None:
        """A call of a function of the table at ``tokens[index]``: its SQL and last index."""
        tokens = self.tokens
        token = tokens[index]
        translator = self.table.calls.get(token.upper) if token.kind is Kind.WORD else None
        if translator is None or not _is(tokens[index + 1], "(") or _after_dot(tokens, index):
            return None
        close = self.closing.get(index + 1)
        if close is None:
            return None
        ranges = _arguments(tokens, index + 2, close)
        arguments = tuple(self.span(a, b) for a, b in ranges)
        single = [tokens[a] if b - a == 1 else None for a, b in ranges]
        call = Call(
            name=token.upper,
            written=self.text[token.start : tokens[close].end],
            arguments=arguments,
            strings=tuple(t.value if t and t.kind is Kind.STRING else None for t in single),
            words=tuple(t.upper if t and t.kind is Kind.WORD else None for t in single),
        )
        sql = translator(call)
        if token.upper in self.table.element_paths:
            path, after = element_path(tokens, close + 1)
            if path:
                cast, after = cast_suffix(self.text, tokens, after)
                return path_expression(sql, path, cast), after - 1
        return sql, close

    def _sequence(self, index: int, last: int) -> tuple[str, int] | None:
        """Snowflake's ``[db.][schema.]seq.NEXTVAL`` at ``tokens[index]``."""
        tokens = self.tokens
        if not self.table.sequences or _after_dot(tokens, index):
            return None
        end = index
        while (
            tokens[end].kind in (Kind.WORD, Kind.QUOTED)
            and end + 2 < last
            and _is(tokens[end + 1], ".")
            and tokens[end + 2].kind in (Kind.WORD, Kind.QUOTED)
        ):
            end += 2
        if end == index or tokens[end].kind is not Kind.WORD or tokens[end].upper != "NEXTVAL":
            return None
        name = self.text[tokens[index].start : tokens[end - 2].end]
        return f"nextval({literal(name)})", end


def _is(token: Token, value: str) -> bool:
    return token.kind is Kind.PUNCT and token.value == value


def _after_dot(tokens: Sequence[Token], index: int) -> bool:
    return index > 0 and _is(tokens[index - 1], ".")


def _closing_parentheses(tokens: Sequence[Token]) -> dict[int, int]:
    """The index of each ``(``'s matching ``)``."""
    pairs, stack = {}, []
    for index, token in enumerate(tokens):
        if _is(token, "("):
            stack.append(index)
        elif _is(token, ")") and stack:
            pairs[stack.pop()] = index
    return pairs


def _arguments(tokens: Sequence[Token], first: int, close: int) -> list[tuple[int, int]]:
    """The token ranges of the arguments between ``first`` and the ``)`` at ``close``."""
    if first == close:
        return []
    ranges, start, depth = [], first, 0
    for index in range(first, close):
        token = tokens[index]
        if _is(token, "("):
            depth += 1
        elif _is(token, ")"):
            depth -= 1
        elif _is(token, ",") and depth == 0:
            ranges.append((start, index))
            start = index + 1
    ranges.append((start, close))
    return ranges
