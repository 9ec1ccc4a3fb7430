"""File formats: ``CSV``, ``TSV``, ``JSON``, ``Parquet`` and named formats (``FileFormat``).

A format is an immutable value: its type and its canonical options. It renders as
``FILE_FORMAT = (TYPE = CSV ...)`` or ``FILE_FORMAT = (FORMAT_NAME = 'name' ...)``
through each dialect's renderer; this module only holds and validates it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from sqla_stage.delimiters import check_csv_characters
from sqla_stage.errors import StageArgumentError
from sqla_stage.namespaces import check_namespace, join_namespace, split_namespace
from sqla_stage.options import (
    CSV_OPTIONS,
    JSON_OPTIONS,
    NAMED_FORMAT_OPTIONS,
    PARQUET_OPTIONS,
    TSV_OPTIONS,
    Keyword,
    OptionSpec,
    OptionValue,
    check_options,
    options_key,
    options_repr,
)


class FormatSpec:
    """Base of the file formats: a type name and validated options."""

    type_name: ClassVar[str] = ""
    option_specs: ClassVar[Mapping[str, OptionSpec]] = {}

    options: dict[str, OptionValue]

    def __init__(self, **options: object) -> None:
        """Validate and keep the format options (see the class for the accepted names)."""
        self.options = check_options(self.type_name, self.option_specs, options)

    @property
    def compression(self) -> Keyword | None:
        """The COMPRESSION option, if given."""
        value = self.options.get("compression")
        return value if isinstance(value, Keyword) else None

    def cache_key(self) -> tuple[object, ...]:
        """A hashable identity for statement cache keys and equality."""
        return (type(self).__name__, self.type_name, options_key(self.options))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FormatSpec):
            return NotImplemented
        return self.cache_key() == other.cache_key()

    def __hash__(self) -> int:
        return hash(self.cache_key())

    def __repr__(self) -> str:
        return f"{type(self).__name__}({options_repr(self.options)})"


class CSV(FormatSpec):
    """``TYPE = CSV``.

    It takes the options of spec 004 (``compression``, ``field_delimiter``,
    ``null_if``, ``empty_field_as_null``, ...) plus ``skip_header`` for loading,
    Snowflake's ``parse_header`` and ``error_on_column_count_mismatch`` and Databend's
    ``output_header``.

    Example:
        >>> CSV(compression="gzip", null_if=("NULL", "null"), empty_field_as_null=False)
        CSV(compression='GZIP', null_if=('NULL', 'null'), empty_field_as_null=False)
    """

    type_name = "CSV"
    option_specs = CSV_OPTIONS

    def __init__(self, **options: object) -> None:
        """Validate the options, and the delimiters together (see `sqla_stage.delimiters`)."""
        super().__init__(**options)
        if type(self) is CSV:
            check_csv_characters(self.options)


class TSV(CSV):
    r"""``TYPE = TSV`` (Databend): tab-separated values, backslash-escaped, never quoted.

    A TSV file has fields by position as a CSV file does, so TSV is a kind of `CSV`
    (``isinstance(TSV(), CSV)``), with options and escaping of its own.

    It takes ``compression``, ``record_delimiter`` (default ``'\n'``),
    ``field_delimiter`` (default ``'\t'``) and ``skip_header``. In a field a backslash
    escapes ``\b \f \r \n \t \0 \\ \'``, and a field of just ``\N`` is NULL.
    """

    type_name = "TSV"
    option_specs = TSV_OPTIONS


class JSON(FormatSpec):
    """``TYPE = JSON`` (newline-delimited JSON).

    Options: ``compression``, ``file_extension``, ``strip_outer_array`` (Snowflake: a file
    holding one array gives one row per element) and ``missing_field_as`` (Databend).
    """

    type_name = "JSON"
    option_specs = JSON_OPTIONS


class Parquet(FormatSpec):
    """``TYPE = PARQUET`` with ``compression`` (AUTO, LZO, SNAPPY, NONE).

    Snowflake's ``binary_as_text``, ``use_logical_type`` and ``use_vectorized_scanner``
    and Databend's ``missing_field_as`` are accepted too.
    """

    type_name = "PARQUET"
    option_specs = PARQUET_OPTIONS


class FileFormat(FormatSpec):
    """A named file format, ``FORMAT_NAME = '[schema.]name'``, with optional overrides.

    Args:
        name: The format's name, as created by [CreateFileFormat][sqla_stage.CreateFileFormat].
        schema: The namespace (``schema`` or ``database.schema``) it lives in.
        **options: Format options to override, e.g. ``compression="gzip"``.
    """

    type_name = "FORMAT_NAME"
    option_specs = NAMED_FORMAT_OPTIONS

    def __init__(self, name: str, schema: str | None = None, **options: object) -> None:
        """Refer to the named format ``name``."""
        if not isinstance(name, str) or not name:
            raise StageArgumentError(
                f"FileFormat: the name must be a non-empty string, not {name!r}"
            )
        if schema is not None and (not isinstance(schema, str) or not schema):
            raise StageArgumentError(
                f"FileFormat: the schema must be a non-empty string, not {schema!r}"
            )
        self.name = name
        self.schema = None if schema is None else check_namespace("FileFormat", schema)
        super().__init__(**options)

    @property
    def qualified_name(self) -> str:
        """``[db.]schema.name`` or ``name``; a part with a dot is double-quoted."""
        if not self.schema:
            return self.name
        return join_namespace([*split_namespace(self.schema), self.name])

    def cache_key(self) -> tuple[object, ...]:
        """A hashable identity, including the name."""
        return (*super().cache_key(), self.schema, self.name)

    def __repr__(self) -> str:
        extra = f", schema={self.schema!r}" if self.schema else ""
        opts = options_repr(self.options)
        return f"FileFormat({self.name!r}{extra}{', ' + opts if opts else ''})"


#: The concrete format types by their SQL TYPE name.
FORMAT_TYPES: Mapping[str, type[FormatSpec]] = {
    "CSV": CSV,
    "JSON": JSON,
    "NDJSON": JSON,
    "PARQUET": Parquet,
    "TSV": TSV,
    "TEXT": TSV,
}


def coerce_format(owner: str, value: object) -> FormatSpec | None:
    """Accept a format instance, a format class (``CSV``), a type name or ``None``.

    Raises:
        StageArgumentError: anything else.
    """
    if value is None or isinstance(value, FormatSpec):
        return value
    if isinstance(value, type) and issubclass(value, FormatSpec) and value is not FileFormat:
        return value()
    if isinstance(value, str) and value.upper() in FORMAT_TYPES:
        return FORMAT_TYPES[value.upper()]()
    raise StageArgumentError(
        f"{owner}: file_format must be CSV(...), TSV(...), JSON(...), Parquet(...) or "
        "FileFormat(name), "
        f"not {value!r}"
    )
