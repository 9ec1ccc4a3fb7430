"""Reading ``KEY = value`` options and mapping each engine's spelling to the canonical names.

Values: ``'text'`` is a string, ``TRUE``/``FALSE`` a bool, ``123`` an int, ``NONE`` is None,
any other bare word a `Keyword`, ``('a', 'b')`` a tuple. Each
value is checked against the option table of `sqla_stage.options` where it is read,
so a bad value is reported at its position. Options are separated by spaces, commas or
newlines.

Engine spellings read back: Databend's ``CONNECTION = (ACCESS_KEY_ID = ...)``,
``TYPE = NDJSON``, ``QUOTE``, ``NULL_DISPLAY``, ``EMPTY_FIELD_AS``, ``OUTPUT_HEADER`` and
``ON_ERROR = ABORT``; MatrixOne's ``CREDENTIALS = {"access_key_id"='...'}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sqla_stage.connections import NamedConnection
from sqla_stage.errors import StageArgumentError
from sqla_stage.formats import FORMAT_TYPES, FileFormat, FormatSpec
from sqla_stage.namespaces import join_namespace, split_namespace
from sqla_stage.options import (
    CSV_OPTIONS,
    JSON_OPTIONS,
    NAMED_FORMAT_OPTIONS,
    PARQUET_OPTIONS,
    TSV_OPTIONS,
    Keyword,
    OptionSpec,
    OptionValue,
    canonical_value,
)
from sqla_stage.parser.lexer import Kind, Token
from sqla_stage.parser.stream import TokenStream, choices

#: Every spelling of a credential key (Snowflake, Databend, MatrixOne) -> canonical key.
CREDENTIAL_KEYS = {
    "AWS_KEY_ID": "aws_key_id",
    "ACCESS_KEY_ID": "aws_key_id",
    "AWS_SECRET_KEY": "aws_secret_key",
    "SECRET_ACCESS_KEY": "aws_secret_key",
    "AWS_TOKEN": "aws_token",
    "SESSION_TOKEN": "aws_token",
    "AWS_ROLE": "aws_role",
    "ROLE_ARN": "aws_role",
    "AZURE_SAS_TOKEN": "azure_sas_token",
    "GCS_SERVICE_ACCOUNT_KEY": "gcs_service_account_key",
    "CREDENTIAL": "gcs_service_account_key",
    "ENDPOINT_URL": "endpoint_url",
    "ENDPOINT": "endpoint_url",
    "REGION": "region",
    "AWS_REGION": "region",
    "PROVIDER": "provider",
}
#: The other keys of MatrixOne's stage CREDENTIALS = {...} (its ALTER STAGE page): where the
#: files are, with URL = "endpoint"='host' (`statements`), and what it does not support.
MATRIXONE_STAGE_KEYS = ("BUCKET", "FILEPATH", "COMPRESSION", "EXTERNAL_ID")
ENCRYPTION_KEYS = ("TYPE", "MASTER_KEY", "KMS_KEY_ID")
#: Words the warehouses document where an option or a format type stands, that sqla_stage
#: does not support: the parse error names them, so that they are not taken for typos.
NOT_SUPPORTED = {
    "LANCE": "Databend's TYPE = LANCE (Lance datasets)",
    "USE_RAW_PATH": "Databend's USE_RAW_PATH",
    "SCHEMA_EVOLUTION": "Databend's SCHEMA_EVOLUTION (new columns from the files)",
    "LOAD_MODE": "Snowflake's LOAD_MODE (Iceberg tables)",
}


def not_supported(token: Token) -> str:
    """``"; <feature> is not supported by sqla_stage"`` when ``token`` names one, else ``""``."""
    feature = NOT_SUPPORTED.get(token.upper)
    return f"; {feature} is not supported by sqla_stage" if feature else ""


#: Format option spellings -> canonical names; Databend's are mapped in ``_format_entry``.
_FORMAT_NAMES = {name.upper(): name for name in NAMED_FORMAT_OPTIONS}
_DATABEND_FORMAT_NAMES = ("QUOTE", "NULL_DISPLAY", "EMPTY_FIELD_AS")
FORMAT_KEYS = ("TYPE", "FORMAT_NAME", *_FORMAT_NAMES, *_DATABEND_FORMAT_NAMES)
_FORMAT_SPECS: Mapping[str, Mapping[str, OptionSpec]] = {
    "CSV": CSV_OPTIONS,
    "TSV": TSV_OPTIONS,
    "JSON": JSON_OPTIONS,
    "PARQUET": PARQUET_OPTIONS,
}


def describe_spec(spec: OptionSpec) -> str:
    """What an option accepts, in SQL terms (for error messages)."""
    if spec.kind == "keyword":
        text = choices(spec.choices)
        return text + (f" (or matching {spec.pattern})" if spec.pattern else "")
    text = {
        "bool": "TRUE or FALSE",
        "int": "an integer",
        "str": "a quoted string",
        "strings": "a quoted string or a list ('a', 'b')",
    }[spec.kind]
    if spec.keywords:
        text += " or " + choices(spec.keywords)
    return text + (" or NONE" if spec.none_allowed else "")


def read_value(stream: TokenStream) -> tuple[object, Token]:
    """One option value and its first token.

    Raises:
        StageParseError: no value is next.
    """
    token = stream.peek()
    if token.kind is Kind.STRING:
        stream.next()
        return token.value, token
    if token.kind is Kind.NUMBER:
        stream.next()
        if token.value.isdigit() and len(token.value) < 40:
            return int(token.value), token
        raise stream.error("an integer", token)
    if token.kind is Kind.WORD:
        stream.next()
        word = token.upper
        if word in ("TRUE", "FALSE"):
            return word == "TRUE", token
        return (None if word == "NONE" else Keyword(token.value)), token
    if stream.at_punct("("):
        stream.next()
        items: list[str] = []
        while not stream.accept_punct(")"):
            if items:
                stream.accept_punct(",")
            items.append(stream.string("a quoted string or ')'"))
        return tuple(items), token
    raise stream.error("a value (a quoted string, a number, TRUE, FALSE or a keyword)")


def checked(
    stream: TokenStream, name: str, spec: OptionSpec, value: object, token: Token
) -> OptionValue:
    """``value`` in canonical form for option ``name``, or a parse error at ``token``."""
    try:
        return canonical_value(name.upper(), name, spec, value)
    except StageArgumentError:
        raise stream.error(f"{describe_spec(spec)} for {name.upper()}", token) from None


def read_key(stream: TokenStream, keys: tuple[str, ...] | Mapping[str, object], what: str) -> Token:
    """A known option key followed by ``=``; ``=`` may be omitted only before ``(``."""
    token = stream.peek()
    if token.upper not in keys:
        raise stream.error(what + not_supported(token))
    stream.next()
    if not stream.accept_punct("=") and not stream.at_punct("("):
        raise stream.error(f"'=' after {token.value}")
    return token


def read_option(
    stream: TokenStream,
    specs: Mapping[str, OptionSpec],
    into: dict[str, OptionValue],
    what: str,
) -> None:
    """``KEY = value`` for one of the options ``specs``, checked, stored in ``into``."""
    key = read_key(stream, {name.upper(): name for name in specs}, what)
    name = key.value.lower()
    if name in into:
        raise stream.error(f"each option once, not a second {key.value.upper()}", key)
    value, token = read_value(stream)
    if name == "on_error" and isinstance(value, Keyword) and value == "ABORT":
        value = "ABORT_STATEMENT"  # Databend's spelling
    into[name] = checked(stream, name, specs[name], value, token)


def read_group(stream: TokenStream, what: str, *, braces: bool = False) -> None:
    """Read the opening ``(`` (or ``{``) of an option group."""
    mark = "{" if braces else "("
    stream.expect_punct(mark, f"{mark!r} opening {what}")


def group_done(stream: TokenStream, *, braces: bool = False) -> bool:
    """At the end of a group: read its ``)`` (or ``}``); otherwise skip a separating comma."""
    if stream.accept_punct("}" if braces else ")"):
        return True
    if stream.peek().kind is Kind.END:
        raise stream.error(repr("}" if braces else ")"))
    stream.accept_punct(",")
    return stream.accept_punct("}" if braces else ")")


# -- credentials and encryption -------------------------------------------------------------


def read_credentials(
    stream: TokenStream,
    into: dict[str, str],
    *,
    braces: bool = False,
    stage_keys: dict[str, str] | None = None,
) -> NamedConnection | None:
    """Read credentials into ``into``; the connection named, if that is what they are.

    The forms: ``(AWS_KEY_ID = '...' ...)``, ``(ACCESS_KEY_ID = '...' ...)`` or MatrixOne's
    ``{"access_key_id"='...', ...}``. Databend's ``(CONNECTION_NAME = 'name')`` names a
    connection instead, and is returned. With ``stage_keys``, MatrixOne's other stage keys
    in braces (`MATRIXONE_STAGE_KEYS`: ``"bucket"``, ``"filepath"``, ...) go there.
    """
    read_group(stream, "the credentials", braces=braces)
    if not braces and stream.at_keyword("CONNECTION_NAME"):
        read_key(stream, ("CONNECTION_NAME",), "CONNECTION_NAME")
        token = stream.peek()
        name = stream.string("the connection's name as a quoted string")
        if not name:
            raise stream.error("a non-empty connection name", token)
        if not group_done(stream):
            raise stream.error("')' (CONNECTION_NAME takes no other credential)")
        return NamedConnection(name)
    while not group_done(stream, braces=braces):
        token = stream.next()
        key = token.value.upper() if token.kind in (Kind.WORD, Kind.QUOTED, Kind.STRING) else ""
        if braces and stage_keys is not None and key in MATRIXONE_STAGE_KEYS:
            stream.expect_punct("=", f"'=' after {token.value}")
            if key.lower() in stage_keys:
                raise stream.error(f"each key once, not a second {token.value}", token)
            stage_keys[key.lower()] = stream.string(f"a quoted string for {token.value}")
            continue
        if key not in CREDENTIAL_KEYS:
            raise stream.error(f"a credential key ({choices(CREDENTIAL_KEYS)})", token)
        stream.expect_punct("=", f"'=' after {token.value}")
        name = CREDENTIAL_KEYS[key]
        if name in into:
            raise stream.error(f"each credential once, not a second {token.value}", token)
        value = stream.peek()
        into[name] = stream.string(f"a quoted string for {token.value}")
        if not into[name]:
            raise stream.error(f"a non-empty string for {token.value}", value)
    return None


def read_encryption(stream: TokenStream) -> dict[str, str]:
    """Read ``(TYPE = 'AWS_SSE_KMS' KMS_KEY_ID = '...')``, ``(TYPE = NONE)`` and the like."""
    read_group(stream, "the encryption settings")
    values: dict[str, str] = {}
    while not group_done(stream):
        what = f"an encryption setting ({choices(ENCRYPTION_KEYS)})"
        key = read_key(stream, ENCRYPTION_KEYS, what)
        token = stream.peek()
        if key.upper == "TYPE" and token.kind is Kind.WORD:
            stream.next()
            value = token.value.upper()
        else:
            value = stream.string(f"a quoted string for {key.value}")
        if not value:
            raise stream.error(f"a non-empty string for {key.value}", token)
        values[key.value.lower()] = value
    return values


# -- file formats ---------------------------------------------------------------------------


@dataclass
class FormatEntries:
    """The entries of a ``FILE_FORMAT = (...)`` group (or of CREATE FILE FORMAT), unchecked.

    Attributes:
        type_name: The TYPE given (CSV, JSON or PARQUET).
        name: The FORMAT_NAME given, as (schema, name).
        options: Canonical option name -> (value, token of the value).
        header: Unused: Databend's OUTPUT_HEADER is the CSV option ``output_header``
            (`read_file_format` turns it into the copy option HEADER in a COPY).
        start: The token where the entries start, for errors.
    """

    start: Token
    type_name: str | None = None
    name: tuple[str | None, str] | None = None
    options: dict[str, tuple[object, Token]] = field(default_factory=dict)
    keys: dict[str, Token] = field(default_factory=dict)
    header: tuple[object, Token] | None = None

    def build(self, stream: TokenStream) -> FormatSpec:
        """The format these entries describe.

        Raises:
            StageParseError: no TYPE or FORMAT_NAME, both, or an option the type lacks.
        """
        if self.type_name is None and self.name is None:
            raise stream.error("TYPE = ... or FORMAT_NAME = ... in the file format", self.start)
        if self.type_name is not None and self.name is not None:
            raise stream.error("TYPE or FORMAT_NAME, not both", self.keys["FORMAT_NAME"])
        specs = NAMED_FORMAT_OPTIONS if self.type_name is None else _FORMAT_SPECS[self.type_name]
        options: dict[str, OptionValue] = {}
        for name, (value, token) in self.options.items():
            if name not in specs:
                what = "a named format" if self.type_name is None else f"TYPE = {self.type_name}"
                raise stream.error(f"an option of {what}", self.keys[name])
            options[name] = checked(stream, name, specs[name], value, token)
        if self.name is not None:
            return FileFormat(self.name[1], self.name[0], **options)
        return FORMAT_TYPES[self.type_name or ""](**options)


def split_format_name(text: str) -> tuple[str | None, str]:
    """``'[db.][schema.]name'`` split at its last dot outside double quotes.

    A part may be double-quoted (``'"my.db".s.fmt'``, `sqla_stage.namespaces`); text
    that does not read as such parts (an empty part, an unclosed quote) is one name.
    """
    try:
        parts = split_namespace(text)
    except StageArgumentError:
        return None, text
    if len(parts) == 1 or len(parts) > 3:
        return None, text
    return join_namespace(parts[:-1]), parts[-1]


def format_name(stream: TokenStream) -> tuple[str | None, str]:
    """A format's name: ``'[schema.]name'`` (split at the last dot) or a dotted identifier."""
    token = stream.peek()
    if token.kind is Kind.STRING:
        stream.next()
        if not token.value:
            raise stream.error("a format name", token)
        return split_format_name(token.value)
    return stream.qualified_name("a format name")


def read_format_entry(stream: TokenStream, entries: FormatEntries) -> None:
    """One ``KEY = value`` of a file format, in any engine's spelling."""
    key = read_key(stream, FORMAT_KEYS, f"a file format option ({choices(FORMAT_KEYS[:4])}, ...)")
    upper = key.upper
    if upper in entries.keys:
        raise stream.error(f"each option once, not a second {key.value}", key)
    if upper == "TYPE":
        token = stream.next()
        kind = token.value.upper() if token.kind in (Kind.WORD, Kind.STRING) else ""
        if kind not in FORMAT_TYPES:
            raise stream.error(
                f"a format type ({choices(FORMAT_TYPES)}{not_supported(token)})", token
            )
        entries.type_name = FORMAT_TYPES[kind].type_name
        entries.keys[upper] = key
        return
    if upper == "FORMAT_NAME":
        entries.name = format_name(stream)
        entries.keys[upper] = key
        return
    value, token = read_value(stream)
    if upper == "QUOTE":
        name = "field_optionally_enclosed_by"
    elif upper == "NULL_DISPLAY":
        name, value = "null_if", (value,) if isinstance(value, str) else value
    elif upper == "EMPTY_FIELD_AS":
        name = "empty_field_as_null"
        if not isinstance(value, str) or value.upper() not in ("NULL", "STRING"):
            raise stream.error("NULL or STRING for EMPTY_FIELD_AS", token)
        value = value.upper() == "NULL"
    else:
        name = _FORMAT_NAMES[upper]
    if name in entries.options:
        raise stream.error(f"each option once, not a second {key.value}", key)
    entries.options[name] = (value, token)
    entries.keys[name] = key


def read_file_format(stream: TokenStream) -> tuple[FormatSpec, bool | None]:
    """``FILE_FORMAT = ( ... )`` after the key: the format, and Databend's OUTPUT_HEADER.

    In a COPY (or a stage's format) OUTPUT_HEADER is returned apart, as the copy option
    HEADER; in CREATE FILE FORMAT it stays the CSV option ``output_header``.
    ``FILE_FORMAT = my_format`` and ``FILE_FORMAT = 'my_format'``, without parentheses,
    name a file format as ``FORMAT_NAME`` does (the warehouses' docs write both).
    """
    start = stream.peek()
    if not stream.at_punct("("):
        name = format_name(stream)
        return FileFormat(name[1], name[0]), None
    read_group(stream, "the file format")
    entries = FormatEntries(start)
    while not group_done(stream):
        read_format_entry(stream, entries)
    given = entries.options.pop("output_header", None)
    spec = entries.build(stream)
    header = None
    if given is not None:
        value, token = given
        if not isinstance(value, bool):
            raise stream.error("TRUE or FALSE for OUTPUT_HEADER", token)
        header = value
    return spec, header
