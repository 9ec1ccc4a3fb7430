"""The token stream the statement parsers read from.

With it, the small readers they share: keywords, punctuation, (dotted) names, stage
locations and raw SQL fragments.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from sqla_stage.credentials import SECRET_SQL_GROUPS, SECRET_SQL_NAMES
from sqla_stage.errors import StageParseError
from sqla_stage.locations import parse_stage_location
from sqla_stage.namespaces import join_namespace
from sqla_stage.parser.lexer import Kind, Token
from sqla_stage.stage import StagePath

#: Punctuation that opens and closes a nesting level.
_OPEN = {"(": ")", "{": "}"}
#: A URL written without quotes (``FROM s3://bucket/path/``): a scheme, ``://``, and
#: everything up to white space, ``;`` or a ``)``.
_BARE_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s;()]*")


def describe(token: Token, sql: str) -> str:
    """How ``token`` is named in an error message: its text, quoted, or the end."""
    if token.kind is Kind.END:
        return "the end of the statement"
    text = sql[token.start : token.end]
    return repr(text if len(text) <= 40 else text[:37] + "...")


def may_be_secret(tokens: list[Token], index: int) -> bool:
    """Whether ``tokens[index]`` may be a secret, so an error must not quote it.

    It may when it stands where a secret key's value goes (``AWS_SECRET_KEY = <here>``,
    or ``AWS_SECRET_KEY <here>`` without the ``=``), or when it is a string, number or
    stray character inside a ``CREDENTIALS``, ``CONNECTION`` or ``ENCRYPTION`` group.
    """
    before = [token.value.upper() for token in tokens[max(index - 2, 0) : index]]
    if before[-1:] and before[-1] in SECRET_SQL_NAMES:
        return True
    if len(before) == 2 and before[1] == "=" and before[0] in SECRET_SQL_NAMES:
        return True
    if tokens[index].kind not in (Kind.STRING, Kind.NUMBER, Kind.OTHER, Kind.QUOTED):
        return False
    depth = 0
    for back in range(index - 1, -1, -1):
        token = tokens[back]
        if token.kind is Kind.PUNCT and token.value in (")", "}"):
            depth += 1
        elif token.kind is Kind.PUNCT and token.value in _OPEN:
            if depth == 0:
                names = [t.upper for t in tokens[max(back - 2, 0) : back] if t.value != "="]
                return bool(names) and names[-1] in SECRET_SQL_GROUPS
            depth -= 1
    return False


def choices(words: Iterable[str]) -> str:
    """``A, B or C``."""
    items = list(words)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


class TokenStream:
    """Tokens of one statement, with a read position.

    Attributes:
        sql: The statement text.
        tokens: Its tokens, ending with an ``END`` token.
        index: The position of the next token to read.
        double_percents: ``%`` is doubled in the text (pyformat drivers).
    """

    def __init__(self, sql: str, tokens: list[Token], *, double_percents: bool) -> None:
        """Read ``tokens`` of ``sql`` from the start."""
        self.sql = sql
        self.tokens = tokens
        self.index = 0
        self.double_percents = double_percents

    # -- looking and moving -----------------------------------------------------------

    def peek(self, offset: int = 0) -> Token:
        """The token ``offset`` places ahead (the END token past the end)."""
        return self.tokens[min(self.index + offset, len(self.tokens) - 1)]

    def next(self) -> Token:
        """Read one token."""
        token = self.peek()
        if token.kind is not Kind.END:
            self.index += 1
        return token

    def error(self, expected: str, token: Token | None = None) -> StageParseError:
        """A parse error at ``token`` (the next token by default)."""
        token = token or self.peek()
        found = describe(token, self.sql)
        if token in self.tokens and may_be_secret(self.tokens, self.tokens.index(token)):
            found = f"a {token.kind.value} (not shown: it may be a secret)"
        return StageParseError(self.sql, token.start, expected, found)

    # -- keywords and punctuation -------------------------------------------------------

    def at_keyword(self, *words: str, offset: int = 0) -> bool:
        """Whether the token ``offset`` ahead is one of the keywords ``words``."""
        return self.peek(offset).upper in words

    def accept_keyword(self, *words: str) -> Token | None:
        """Read a keyword if it is one of ``words``."""
        return self.next() if self.at_keyword(*words) else None

    def expect_keyword(self, *words: str, expected: str | None = None) -> Token:
        """Read one of the keywords ``words``, or fail."""
        if not self.at_keyword(*words):
            raise self.error(expected or choices(words))
        return self.next()

    def accept_words(self, *words: str) -> bool:
        """Read the keyword sequence ``words`` (like ``IF NOT EXISTS``) if it is next."""
        if all(self.at_keyword(word, offset=i) for i, word in enumerate(words)):
            self.index += len(words)
            return True
        return False

    def expect_words(self, *words: str) -> None:
        """Read the keyword sequence ``words``, or fail at the first one missing."""
        for word in words:
            self.expect_keyword(word, expected=" ".join(words))

    def at_punct(self, mark: str, offset: int = 0) -> bool:
        """Whether the token ``offset`` ahead is the punctuation ``mark``."""
        token = self.peek(offset)
        return token.kind is Kind.PUNCT and token.value == mark

    def accept_punct(self, mark: str) -> bool:
        """Read ``mark`` if it is next."""
        if self.at_punct(mark):
            self.index += 1
            return True
        return False

    def expect_punct(self, mark: str, expected: str | None = None) -> Token:
        """Read ``mark``, or fail."""
        if not self.at_punct(mark):
            raise self.error(expected or repr(mark))
        return self.next()

    def expect_end(self, expected: str = "the end of the statement") -> None:
        """Read an optional ``;`` and then require the end."""
        self.accept_punct(";")
        if self.peek().kind is not Kind.END:
            raise self.error(expected)

    def at_end(self) -> bool:
        """Whether only an optional ``;`` is left."""
        token = self.peek()
        return token.kind is Kind.END or (
            token.kind is Kind.PUNCT and token.value == ";" and self.peek(1).kind is Kind.END
        )

    # -- names, strings, locations --------------------------------------------------------

    def name_part(self, what: str) -> tuple[str, Token]:
        """One identifier: a bare word (lower-cased) or a quoted identifier (as written)."""
        token = self.peek()
        if token.kind is Kind.WORD:
            self.index += 1
            return token.value.lower(), token
        if token.kind is Kind.QUOTED and token.value:
            self.index += 1
            return token.value, token
        raise self.error(what)

    def qualified_name(self, what: str) -> tuple[str | None, str]:
        """A dotted name ``[db.][schema.]name``: its namespace and name.

        The namespace is ``[db.]schema`` text (`sqla_stage.namespaces`): a part with a
        dot stays quoted in it, so ``"my.db".s.t`` keeps its two namespace parts.
        """
        start = self.peek()
        parts = [self.name_part(what)[0]]
        while self.at_punct("."):
            self.index += 1
            parts.append(self.name_part(f"a name after '.' in {what}")[0])
        if len(parts) > 3:
            raise StageParseError(
                self.sql,
                start.start,
                f"{what} of at most three parts (db.schema.name)",
                (f"{len(parts)} parts"),
            )
        return join_namespace(parts[:-1]) or None, parts[-1]

    def string(self, what: str = "a quoted string") -> str:
        """A single-quoted string's value."""
        token = self.peek()
        if token.kind is not Kind.STRING:
            raise self.error(what)
        self.index += 1
        return token.value

    def at_location(self) -> bool:
        """Whether a stage location (bare, or quoted as ``'@...'``) is next."""
        token = self.peek()
        return token.kind is Kind.LOCATION or (
            token.kind is Kind.STRING and token.value.startswith("@")
        )

    def location(self, what: str = "a stage location (@stage/path)") -> StagePath:
        """A stage location, ``@stage/path`` or ``'@stage/path 1/'``, as a stage path."""
        if not self.at_location():
            raise self.error(what)
        token = self.next()
        try:
            return parse_stage_location(token.value)
        except StageParseError as error:
            offset = token.start + error.position if token.kind is Kind.LOCATION else token.start
            raise StageParseError(self.sql, offset, error.expected, error.found) from None

    def at_bare_url(self) -> bool:
        """Whether an unquoted URL (``s3://bucket/path/``) is next."""
        token = self.peek()
        if token.kind is Kind.LOCAL:  # file:///path, which the lexer reads whole
            return True
        return token.kind is Kind.WORD and _BARE_URL.match(self.sql, token.start) is not None

    def bare_url(self) -> str:
        """An unquoted URL, as written; the tokens the lexer made of it are consumed."""
        if not self.at_bare_url():
            raise self.error("a URL")
        if self.peek().kind is Kind.LOCAL:
            return self.next().value
        match = _BARE_URL.match(self.sql, self.peek().start)
        assert match is not None
        while self.peek().kind is not Kind.END and self.peek().start < match.end():
            self.index += 1
        return match.group()

    # -- raw fragments ----------------------------------------------------------------------

    def raw(self, start: int, end: int) -> str:
        """The text between two token indexes (``end`` excluded), ``%%`` halved, stripped."""
        if end <= start:
            return ""
        text = self.sql[self.tokens[start].start : self.tokens[end - 1].end]
        return (text.replace("%%", "%") if self.double_percents else text).strip()

    def skip_group(self) -> int:
        """At an opening ``(``, move past its matching ``)``; return the index of the ``)``."""
        open_token = self.next()
        depth = 1
        while True:
            token = self.next()
            if token.kind is Kind.END:
                raise self.error(
                    f"{_OPEN[open_token.value]!r} closing the {open_token.value!r} "
                    f"at offset {open_token.start}",
                    token,
                )
            if token.kind is Kind.PUNCT:
                if token.value in _OPEN:
                    depth += 1
                elif token.value in _OPEN.values():
                    depth -= 1
                    if depth == 0:
                        return self.index - 1

    def parenthesized_text(self, what: str) -> str:
        """``( text )``: the text inside the parentheses, as written."""
        if not self.at_punct("("):
            raise self.error(what)
        start = self.index + 1
        close = self.skip_group()
        text = self.raw(start, close)
        if not text:
            raise self.error(what, self.tokens[close])
        return text

    def scan_top_level(self, stop: Iterable[str]) -> int:
        """From here, the index of the first keyword in ``stop`` outside parentheses (or END)."""
        words = set(stop)
        depth = 0
        for index in range(self.index, len(self.tokens)):
            token = self.tokens[index]
            if token.kind is Kind.END:
                return index
            punct = token.value if token.kind is Kind.PUNCT else ""
            if punct in ("(", "{"):
                depth += 1
            elif punct in (")", "}"):
                depth -= 1
            elif depth == 0 and token.upper in words:
                return index
        return len(self.tokens) - 1
