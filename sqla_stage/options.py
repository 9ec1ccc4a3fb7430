"""Option tables: what each keyword option accepts, and its validation.

Every ``KEY = value`` option of the documented SQL is a Python keyword argument.
This module says, for each family of options (copy options, format options), the
type of value each takes, and turns what a user passed into a canonical, hashable
value: ``bool``, ``int``, ``str``, ``tuple[str, ...]`` or `Keyword` (a value
written bare in SQL, like ``GZIP`` or ``NONE``). Canonical values make equal
constructs compare and cache-key equal, and let parsed SQL round-trip.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqla_stage.errors import StageArgumentError

#: Snowflake's documented MAX_FILE_SIZE ceiling for cloud stages (5 GB).
MAX_FILE_SIZE_LIMIT = 5 * 1024**3


class Keyword(str):
    """A value rendered bare (unquoted, upper case) in SQL, like ``GZIP`` or ``NONE``."""

    __slots__ = ()

    def __new__(cls, value: str) -> Keyword:
        """Create the keyword, upper-cased."""
        return super().__new__(cls, value.upper())

    def __repr__(self) -> str:
        return f"Keyword({str(self)!r})"


OptionValue = bool | int | str | Keyword | tuple[str, ...]

NONE = Keyword("NONE")
AUTO = Keyword("AUTO")


@dataclass(frozen=True)
class OptionSpec:
    """What one option accepts.

    Attributes:
        kind: ``"bool"``, ``"int"``, ``"str"``, ``"keyword"`` or ``"strings"``.
        choices: For ``"keyword"``: the allowed values (upper case).
        pattern: For ``"keyword"``: a regular expression for values beyond ``choices``.
        none_allowed: Python ``None`` stands for the ``NONE`` keyword.
        keywords: For ``"str"``: strings that are written as keywords (``AUTO``).
        minimum: For ``"int"``: the smallest value accepted.
        maximum: For ``"int"``: the largest value accepted.
    """

    kind: str
    choices: tuple[str, ...] = ()
    pattern: str | None = None
    none_allowed: bool = False
    keywords: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None

    def describe(self) -> str:
        """A short phrase for error messages: what this option accepts."""
        if self.kind == "keyword":
            text = "one of " + ", ".join(self.choices)
            if self.pattern:
                text += f" (or matching {self.pattern})"
            return text
        text = {
            "bool": "True or False",
            "int": "an integer",
            "str": "a string",
            "strings": "a string or a sequence of strings",
        }[self.kind]
        if self.none_allowed:
            text += " or None (NONE)"
        return text


def _bool() -> OptionSpec:
    return OptionSpec("bool")


def _keyword(*choices: str, pattern: str | None = None) -> OptionSpec:
    return OptionSpec("keyword", choices=choices, pattern=pattern)


def _str(*, none: bool = False, keywords: tuple[str, ...] = ()) -> OptionSpec:
    return OptionSpec("str", none_allowed=none, keywords=keywords)


def _int(minimum: int = 0, maximum: int | None = None) -> OptionSpec:
    return OptionSpec("int", minimum=minimum, maximum=maximum)


COMPRESSIONS_TEXT = ("AUTO", "GZIP", "BZ2", "BROTLI", "ZSTD", "DEFLATE", "RAW_DEFLATE", "NONE")
COMPRESSIONS_PARQUET = ("AUTO", "LZO", "SNAPPY", "NONE")

#: FILE_FORMAT options for TYPE = CSV (spec 004, formatTypeOptions), in rendering order.
CSV_OPTIONS: Mapping[str, OptionSpec] = {
    "compression": _keyword(*COMPRESSIONS_TEXT),
    "record_delimiter": _str(none=True),
    "field_delimiter": _str(none=True),
    "file_extension": _str(none=True),
    "skip_header": _int(),
    "escape": _str(none=True),
    "escape_unenclosed_field": _str(none=True),
    "date_format": _str(keywords=("AUTO",)),
    "time_format": _str(keywords=("AUTO",)),
    "timestamp_format": _str(keywords=("AUTO",)),
    "binary_format": _keyword("HEX", "BASE64", "UTF8"),
    "field_optionally_enclosed_by": _str(none=True),
    "null_if": OptionSpec("strings"),
    "empty_field_as_null": _bool(),
    "parse_header": _bool(),
    "error_on_column_count_mismatch": _bool(),
    "output_header": _bool(),
}

#: Databend's MISSING_FIELD_AS (NDJSON, Parquet): what a field the file lacks becomes.
MISSING_FIELD_AS = _keyword("ERROR", "NULL", "FIELD_DEFAULT")

#: FILE_FORMAT options for TYPE = TSV (Databend): backslash-escaped, never quoted.
TSV_OPTIONS: Mapping[str, OptionSpec] = {
    "compression": _keyword(*COMPRESSIONS_TEXT),
    "record_delimiter": _str(),
    "field_delimiter": _str(),
    "skip_header": _int(),
}

#: FILE_FORMAT options for TYPE = JSON.
JSON_OPTIONS: Mapping[str, OptionSpec] = {
    "compression": _keyword(*COMPRESSIONS_TEXT),
    "file_extension": _str(none=True),
    "strip_outer_array": _bool(),
    "missing_field_as": MISSING_FIELD_AS,
}

#: FILE_FORMAT options for TYPE = PARQUET.
PARQUET_OPTIONS: Mapping[str, OptionSpec] = {
    "compression": _keyword(*COMPRESSIONS_PARQUET),
    "snappy_compression": _bool(),
    "binary_as_text": _bool(),
    "use_logical_type": _bool(),
    "use_vectorized_scanner": _bool(),
    "missing_field_as": MISSING_FIELD_AS,
}

#: Options a named format (FORMAT_NAME = ...) may override: any format's options.
NAMED_FORMAT_OPTIONS: Mapping[str, OptionSpec] = {
    **CSV_OPTIONS,
    **TSV_OPTIONS,
    **JSON_OPTIONS,
    **PARQUET_OPTIONS,
    "compression": _keyword(*dict.fromkeys(COMPRESSIONS_TEXT + COMPRESSIONS_PARQUET)),
}

#: Copy options of COPY INTO <location> (unload), spec 004, in rendering order.
UNLOAD_OPTIONS: Mapping[str, OptionSpec] = {
    "overwrite": _bool(),
    "single": _bool(),
    "max_file_size": _int(minimum=1, maximum=MAX_FILE_SIZE_LIMIT),
    "include_query_id": _bool(),
    "detailed_output": _bool(),
    "validation_mode": _keyword("RETURN_ROWS"),
    "header": _bool(),
}

ON_ERROR = _keyword("CONTINUE", "SKIP_FILE", "ABORT_STATEMENT", pattern=r"SKIP_FILE_\d+%?")
MATCH_BY_COLUMN_NAME = _keyword("CASE_SENSITIVE", "CASE_INSENSITIVE", "NONE")

#: Copy options of COPY INTO <table> (load), in rendering order.
LOAD_OPTIONS: Mapping[str, OptionSpec] = {
    "files": OptionSpec("strings"),
    "pattern": _str(),
    "on_error": ON_ERROR,
    "force": _bool(),
    "purge": _bool(),
    "match_by_column_name": MATCH_BY_COLUMN_NAME,
    "validation_mode": _keyword("RETURN_ERRORS", "RETURN_ALL_ERRORS", pattern=r"RETURN_\d+_ROWS"),
    "disable_variant_check": _bool(),
}

#: COPY_OPTIONS = (...) a stage may carry as defaults for loads from it.
STAGE_COPY_OPTIONS: Mapping[str, OptionSpec] = {
    "on_error": ON_ERROR,
    "size_limit": _int(minimum=1),
    "purge": _bool(),
    "force": _bool(),
    "match_by_column_name": MATCH_BY_COLUMN_NAME,
}


def _reject(owner: str, name: str, spec: OptionSpec, value: object) -> StageArgumentError:
    return StageArgumentError(f"{owner}: option {name!r} takes {spec.describe()}, not {value!r}")


def canonical_value(owner: str, name: str, spec: OptionSpec, value: object) -> OptionValue:
    """Check one option value and return its canonical form.

    Raises:
        StageArgumentError: the value is of the wrong type or out of range.
    """
    if value is None or (isinstance(value, Keyword) and value == NONE):
        if spec.none_allowed or (spec.kind == "keyword" and "NONE" in spec.choices):
            return NONE
        raise _reject(owner, name, spec, value)
    if spec.kind == "bool":
        if isinstance(value, bool):
            return value
        raise _reject(owner, name, spec, value)
    if spec.kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise _reject(owner, name, spec, value)
        if spec.minimum is not None and value < spec.minimum:
            raise StageArgumentError(
                f"{owner}: option {name!r} must be >= {spec.minimum}, not {value}"
            )
        if spec.maximum is not None and value > spec.maximum:
            raise StageArgumentError(
                f"{owner}: option {name!r} must be <= {spec.maximum}, not {value}"
            )
        return value
    if spec.kind == "strings":
        items: Iterable[object] = (value,) if isinstance(value, str) else value  # type: ignore[assignment]
        if not isinstance(items, Iterable):
            raise _reject(owner, name, spec, value)
        result = tuple(items)
        if not all(isinstance(item, str) for item in result):
            raise _reject(owner, name, spec, value)
        return tuple(str(item) for item in result)
    if not isinstance(value, str):
        raise _reject(owner, name, spec, value)
    if spec.kind == "keyword":
        upper = value.upper()
        if upper in spec.choices or (spec.pattern and re.fullmatch(spec.pattern, upper)):
            return Keyword(upper)
        raise _reject(owner, name, spec, value)
    if isinstance(value, Keyword) or value.upper() in spec.keywords:
        if value.upper() in spec.keywords:
            return Keyword(value)
        raise _reject(owner, name, spec, value)
    return str(value)


def check_options(
    owner: str, specs: Mapping[str, OptionSpec], given: Mapping[str, object]
) -> dict[str, OptionValue]:
    """Validate keyword options against ``specs`` and return them canonical, in spec order.

    Args:
        owner: What the options belong to, for error messages (``"CSV"``, ``"PUT"``).
        specs: The accepted options.
        given: The options passed by the user.

    Raises:
        StageArgumentError: ``given`` is not a mapping, an option is unknown or its value
            is not accepted.
    """
    if not isinstance(given, Mapping):
        raise StageArgumentError(
            f"{owner}: options must be a mapping of names to values, not {given!r}"
        )
    for name in given:
        if not isinstance(name, str):
            raise StageArgumentError(f"{owner}: an option's name must be a string, not {name!r}")
        if name not in specs:
            close = difflib.get_close_matches(name, specs, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise StageArgumentError(
                f"{owner}: unknown option {name!r}{hint} (accepted: {', '.join(sorted(specs))})"
            )
    return {
        name: canonical_value(owner, name, spec, given[name])
        for name, spec in specs.items()
        if name in given
    }


def options_key(options: Mapping[str, OptionValue]) -> tuple[tuple[str, str, OptionValue], ...]:
    """A hashable identity of canonical options, for cache keys and equality.

    The value's type is part of the key: ``Keyword("NONE")`` (rendered ``NONE``) and the
    string ``"NONE"`` (rendered ``'NONE'``) compare equal as ``str`` but differ in SQL.
    """
    return tuple((name, type(value).__name__, value) for name, value in options.items())


def options_repr(options: Mapping[str, OptionValue]) -> str:
    """Render options as Python keyword arguments, for ``repr()``."""
    parts = []
    for name, value in options.items():
        if isinstance(value, Keyword):
            parts.append(f"{name}={None if value == NONE else str(value)!r}")
        else:
            parts.append(f"{name}={value!r}")
    return ", ".join(parts)


#: Options of PUT (Snowflake), in rendering order.
PUT_OPTIONS: Mapping[str, OptionSpec] = {
    "parallel": _int(minimum=1, maximum=99),
    "auto_compress": _bool(),
    "source_compression": _keyword("AUTO_DETECT", *COMPRESSIONS_TEXT[1:]),
    "overwrite": _bool(),
}

#: Options of GET (Snowflake), in rendering order.
GET_OPTIONS: Mapping[str, OptionSpec] = {
    "parallel": _int(minimum=1, maximum=99),
    "pattern": _str(),
}
