"""The tokenizer of the stage SQL parser.

It turns one statement's text into `Token` objects: words (keywords and bare
identifiers), quoted identifiers (``"..."`` and MySQL backticks), single-quoted strings,
numbers, stage locations (``@stage/path``, ``@~``, ``@%table``), unquoted local file URLs
(``file:///tmp/*.csv``, as PUT and GET take them), punctuation
(``( ) , = => { } ; .``) and, for any other character, a one-character ``OTHER`` token, so
that a query inside a statement (``COPY INTO @s FROM (SELECT ...)``) tokenizes too and can
be taken back from the text as it was written. Whitespace and ``--`` / ``/* */`` comments
are skipped.

Two settings follow the dialect that produced the text: whether a backslash escapes the
next character in a string (Snowflake, Databend and MySQL) and whether ``%`` was doubled
(drivers with the ``pyformat``/``format`` parameter styles double every ``%`` in the SQL
text; the tokenizer halves ``%%`` again in strings, identifiers, words and locations).
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from sqla_stage.errors import StageParseError


class Kind(enum.Enum):
    """What a token is."""

    WORD = "word"
    QUOTED = "quoted identifier"
    STRING = "string"
    NUMBER = "number"
    LOCATION = "stage location"
    LOCAL = "local file URL"
    PUNCT = "punctuation"
    OTHER = "other"
    END = "end"


@dataclass(frozen=True)
class Token:
    """One token.

    Attributes:
        kind: What the token is.
        value: Its value: the word as written, the decoded string or identifier, the
            location text (with ``%%`` halved), the punctuation mark.
        start: Offset of its first character in the statement text.
        end: Offset just after its last character.
    """

    kind: Kind
    value: str
    start: int
    end: int

    @property
    def upper(self) -> str:
        """The value in upper case (for keyword comparisons)."""
        return self.value.upper() if self.kind is Kind.WORD else ""


_SPACE = re.compile(r"\s+")
_WORD = re.compile(r"[^\W\d][\w$]*%*")
_BARE_NAME = re.compile(r"[^\W\d][\w$]*")
_NUMBER = re.compile(r"\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")
#: An unquoted local file URL (PUT / GET), ``file:///tmp/data/*.csv`` (BendSQL writes
#: ``fs:///tmp/data/*.csv``): up to a space or ``;``.
_LOCAL = re.compile(r"(?:file|fs)://[^\s;]*", re.IGNORECASE)
#: Characters that end a bare location's path.
_PATH_END = re.compile(r"[\s;,()]")
_PUNCT = "(),={};."
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", "0": "\0", "Z": "\x1a"}


def _found(sql: str, pos: int) -> str:
    return repr(sql[pos]) if pos < len(sql) else "the end of the statement"


class _Lexer:
    def __init__(self, sql: str, backslash_escapes: bool, double_percents: bool) -> None:
        self.sql = sql
        self.backslash_escapes = backslash_escapes
        self.double_percents = double_percents

    def halve(self, text: str) -> str:
        return text.replace("%%", "%") if self.double_percents else text

    def skip(self, pos: int) -> int:
        """Skip whitespace and comments from ``pos``."""
        sql = self.sql
        while pos < len(sql):
            space = _SPACE.match(sql, pos)
            if space:
                pos = space.end()
            elif sql.startswith("--", pos):
                newline = sql.find("\n", pos)
                pos = len(sql) if newline < 0 else newline + 1
            elif sql.startswith("/*", pos):
                close = sql.find("*/", pos + 2)
                if close < 0:
                    raise StageParseError(
                        sql, pos, "'*/' closing the comment", _found(sql, len(sql))
                    )
                pos = close + 2
            else:
                break
        return pos

    def string(self, pos: int) -> Token:
        """A single-quoted string at ``pos``."""
        sql, parts, i = self.sql, [], pos + 1
        while True:
            if i >= len(sql):
                raise StageParseError(sql, pos, 'a closing "\'" ending the string', _found(sql, i))
            char = sql[i]
            if char == "'":
                if sql.startswith("'", i + 1):
                    parts.append("'")
                    i += 2
                    continue
                return Token(Kind.STRING, self.halve("".join(parts)), pos, i + 1)
            if char == "\\" and self.backslash_escapes and i + 1 < len(sql):
                following = sql[i + 1]
                if following in "%_":  # MySQL keeps \% and \_ (they are LIKE escapes)
                    parts.append("\\" + following)
                else:
                    parts.append(_ESCAPES.get(following, following))
                i += 2
                continue
            parts.append(char)
            i += 1

    def quoted(self, pos: int) -> tuple[str, int]:
        """A ``"..."`` or backtick identifier at ``pos``: its name and end offset."""
        sql, mark, parts, i = self.sql, self.sql[pos], [], pos + 1
        while True:
            close = sql.find(mark, i)
            if close < 0:
                raise StageParseError(
                    sql, pos, f"a closing {mark!r} ending the identifier", _found(sql, len(sql))
                )
            parts.append(sql[i:close])
            if sql.startswith(mark, close + 1):
                parts.append(mark)
                i = close + 2
                continue
            return self.halve("".join(parts)), close + 1

    def location(self, pos: int) -> Token | None:
        """A bare stage location at ``pos`` (the ``@``), or None when none starts here."""
        sql, i = self.sql, pos + 1
        if sql.startswith("~", i):
            i += 1
        else:
            while True:
                if sql.startswith("%", i):  # @%table, @schema.%table
                    i += 2 if self.double_percents and sql.startswith("%%", i) else 1
                elif sql.startswith("#", i):  # @#table: read whole, then refused (locations)
                    i += 1
                if sql.startswith('"', i):
                    i = self.quoted(i)[1]
                else:
                    name = _BARE_NAME.match(sql, i)
                    if not name:
                        return None
                    i = name.end()
                if not sql.startswith(".", i):
                    break
                i += 1
        if sql.startswith("/", i):
            end = _PATH_END.search(sql, i)
            i = len(sql) if end is None else end.start()
        return Token(Kind.LOCATION, self.halve(sql[pos:i]), pos, i)

    def token(self, pos: int) -> Token:
        """The token starting at ``pos`` (not whitespace)."""
        sql = self.sql
        char = sql[pos]
        if char == "'":
            return self.string(pos)
        if char in '"`':
            name, end = self.quoted(pos)
            return Token(Kind.QUOTED, name, pos, end)
        if char == "@":
            location = self.location(pos)
            if location is not None:
                return location
        elif char == "=" and sql.startswith("=>", pos):
            return Token(Kind.PUNCT, "=>", pos, pos + 2)
        elif char in _PUNCT:
            return Token(Kind.PUNCT, char, pos, pos + 1)
        local = _LOCAL.match(sql, pos)
        if local:
            return Token(Kind.LOCAL, self.halve(local.group()), pos, local.end())
        word = _WORD.match(sql, pos)
        if word:
            return Token(Kind.WORD, self.halve(word.group()), pos, word.end())
        number = _NUMBER.match(sql, pos)
        if number:
            return Token(Kind.NUMBER, number.group(), pos, number.end())
        return Token(Kind.OTHER, char, pos, pos + 1)


def tokenize(
    sql: str, *, backslash_escapes: bool = False, double_percents: bool = False
) -> list[Token]:
    r"""Split ``sql`` into tokens, ending with an ``END`` token.

    Args:
        sql: The statement text.
        backslash_escapes: A backslash in a string escapes the next character (``\'``,
            ``\\``, ``\n``, ...), as in Snowflake, Databend and MySQL.
        double_percents: The text comes from a driver that doubles ``%``: halve ``%%``
            in strings, quoted identifiers, words and stage locations.

    Returns:
        The tokens, the last of kind ``END``.

    Raises:
        StageParseError: an unterminated string, quoted identifier or comment.
    """
    lexer = _Lexer(sql, backslash_escapes, double_percents)
    tokens = []
    pos = lexer.skip(0)
    while pos < len(sql):
        token = lexer.token(pos)
        tokens.append(token)
        pos = lexer.skip(token.end)
    tokens.append(Token(Kind.END, "", len(sql), len(sql)))
    return tokens
