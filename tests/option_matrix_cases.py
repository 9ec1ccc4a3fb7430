"""The option matrix of spec 004 (COPY INTO <location>) as data: options, values, locations.

One declarative table (:data:`OPTIONS`) lists every option of spec 004's syntax block with its
documented values and the formats it applies to; :func:`cases` crosses it with the location
forms (:data:`LOCATIONS`). ``tests/test_option_matrix.py`` runs the cases; this module only
describes them, so the counts of the matrix can be computed without running anything.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

FORMATS = ("CSV", "JSON", "PARQUET")


@dataclass(frozen=True)
class Option:
    """One option of spec 004: its SQL name, its values (SQL text) and where it goes.

    ``place`` is ``"format"`` (inside ``FILE_FORMAT = (...)``), ``"copy"`` (a copy option
    after it), ``"clause"`` (``PARTITION BY``, which comes before the format),
    ``"location"`` (``ENCRYPTION``, which follows an S3 URL and its credentials) or
    ``"source"`` (the table unloaded, instead of the one-object-column table of JSON).
    """

    name: str
    values: tuple[str, ...]
    formats: tuple[str, ...]
    place: str = "format"


#: ENCRYPTION of an 's3://' URL (spec 004), as SQL text.
ENCRYPTIONS = (
    "(TYPE = 'AWS_SSE_S3')",
    "(TYPE = 'AWS_SSE_KMS' KMS_KEY_ID = 'aws/key')",
    # a 256-bit AES key: the files are checked decrypted (tests/cse_envelope.py)
    "(TYPE = 'AWS_CSE' MASTER_KEY = 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=')",
    "(TYPE = NONE)",
)
#: SINGLE = TRUE with an explicit text COMPRESSION: the extension the path's file name must
#: end with (a path ending with '/' is refused: the file would be a compressed `data`).
SINGLE_EXTENSIONS = {
    "GZIP": ".gz",
    "BZ2": ".bz2",
    "BROTLI": ".br",
    "ZSTD": ".zst",
    "DEFLATE": ".deflate",
    "RAW_DEFLATE": ".raw_deflate",
}
_TEXT_COMPRESSIONS = ("AUTO", "GZIP", "BZ2", "BROTLI", "ZSTD", "DEFLATE", "RAW_DEFLATE", "NONE")

#: Every option of spec 004 and its documented values (lines 1-80, and each option's section).
OPTIONS: tuple[Option, ...] = (
    Option("COMPRESSION", _TEXT_COMPRESSIONS, ("CSV", "JSON")),
    Option("COMPRESSION", ("AUTO", "LZO", "SNAPPY", "NONE"), ("PARQUET",)),
    Option("SNAPPY_COMPRESSION", ("TRUE", "FALSE"), ("PARQUET",)),
    Option("RECORD_DELIMITER", ("'\\n'", "';'", "'\\r\\n'", "'0xDE'", "'<EOR>'", "NONE"), ("CSV",)),
    Option("FIELD_DELIMITER", ("','", "'|'", "'\\t'", "'\\\\336'", "'~~'", "NONE"), ("CSV",)),
    Option("FILE_EXTENSION", ("'txt'", "NONE"), ("CSV", "JSON")),
    Option("ESCAPE", ("'\\\\'", "'#'", "NONE"), ("CSV",)),
    Option("ESCAPE_UNENCLOSED_FIELD", ("'\\\\'", "'#'", "NONE"), ("CSV",)),
    Option("DATE_FORMAT", ("'DD/MM/YYYY'", "'YYYYMMDD'", "AUTO"), ("CSV",)),
    Option("TIME_FORMAT", ("'HH24:MI:SS.FF3'", "'HH12.MI.SS.FF3 AM'", "AUTO"), ("CSV",)),
    Option("TIMESTAMP_FORMAT", ("'DD/MM/YYYY HH24:MI:SS.FF3'", "AUTO"), ("CSV",)),
    Option("BINARY_FORMAT", ("HEX", "BASE64", "UTF8"), ("CSV",)),
    Option("FIELD_OPTIONALLY_ENCLOSED_BY", ("'\"'", "'0x27'", "NONE"), ("CSV",)),
    Option("NULL_IF", ("('NULL', 'null')", "()", "('\\\\N')"), ("CSV",)),
    Option("EMPTY_FIELD_AS_NULL", ("TRUE", "FALSE"), ("CSV",)),
    Option("OVERWRITE", ("TRUE", "FALSE"), FORMATS, "copy"),
    Option("SINGLE", ("TRUE", "FALSE"), FORMATS, "copy"),
    Option("MAX_FILE_SIZE", ("100000", "16000000"), FORMATS, "copy"),
    Option("INCLUDE_QUERY_ID", ("TRUE", "FALSE"), FORMATS, "copy"),
    Option("DETAILED_OUTPUT", ("TRUE", "FALSE"), FORMATS, "copy"),
    Option("HEADER", ("TRUE", "FALSE"), FORMATS, "copy"),
    Option("PARTITION BY", ("('y' || YEAR(d))",), FORMATS, "clause"),
    Option("VALIDATION_MODE", ("RETURN_ROWS",), FORMATS, "copy"),
    # The source: JSON unloads one VARIANT column only (spec 004's notes); a table of
    # several columns is Snowflake's "JSON file format can produce one and only one column".
    Option("FROM", ("src",), ("JSON",), "source"),
    # The S3 URL's own clause (externalLocation): crossed on the 's3://...' URL form.
    Option("ENCRYPTION", ENCRYPTIONS, FORMATS, "location"),
)

#: Refused on the runtime (value -> words the error must hold), keyed by (format, option, value).
REFUSED: dict[tuple[str, str, str], tuple[str, ...]] = {
    ("PARQUET", "COMPRESSION", "LZO"): ("LZO",),
    ("CSV", "RECORD_DELIMITER", "NONE"): ("RECORD_DELIMITER",),
}
# Snowflake's error: "JSON file format can produce one and only one column of type variant".
REFUSED[("JSON", "FROM", "src")] = ("JSON", "one and only one column")
# Spec 004: "If TRUE, FIELD_OPTIONALLY_ENCLOSED_BY must specify a character to enclose strings".
REFUSED[("CSV", "EMPTY_FIELD_AS_NULL", "TRUE")] = (
    "EMPTY_FIELD_AS_NULL",
    "FIELD_OPTIONALLY_ENCLOSED_BY",
)
# The source's binary column `b` holds bytes that are not UTF-8 (row 4): named, nothing written.
REFUSED[("CSV", "BINARY_FORMAT", "UTF8")] = ("BINARY_FORMAT = UTF8", "'b'", "not UTF-8")
# JSON's source is one VARIANT column (v): the expression names a column it does not have.
REFUSED[("JSON", "PARTITION BY", "('y' || YEAR(d))")] = ("PARTITION BY", '"d"')

#: Written and checked, but the runtime refuses to load the files back (it names the
#: option): DuckDB's CSV reader ends records with a line break only and needs a delimiter.
LOAD_REFUSED: dict[tuple[str, str, str], tuple[str, ...]] = {
    ("CSV", "RECORD_DELIMITER", "';'"): ("RECORD_DELIMITER",),
    ("CSV", "RECORD_DELIMITER", "'0xDE'"): ("RECORD_DELIMITER",),
    ("CSV", "RECORD_DELIMITER", "'<EOR>'"): ("RECORD_DELIMITER",),
    ("CSV", "FIELD_DELIMITER", "NONE"): ("FIELD_DELIMITER = NONE",),
}
# Unenclosed and unescaped, as Snowflake writes it: values holding the delimiter or a line
# break make records of other lengths, and the load of the file fails (nothing loaded).
LOAD_REFUSED[("CSV", "ESCAPE_UNENCLOSED_FIELD", "NONE")] = ("main.back", "nothing was loaded")

#: Cases today's runtime gets wrong, and why. tests/test_option_matrix.py asserts each STILL
#: fails (strict): remove the entry when its fix lands.
KNOWN_OPEN: dict[str, str] = {}

#: The location forms of spec 004's syntax block. The first is the one every option is
#: crossed with; the others get the representative set (:func:`representative`).
LOCATIONS = (
    "internal",  # @int_stage[/path]
    "internal_ns",  # @ns.int_stage[/path] (the schema `main`)
    "quoted",  # '@int_stage/path 1/' (spec 004: a quoted location may hold spaces)
    "table",  # @%table[/path]
    "table_ns",  # @ns.%table[/path]
    "user",  # @~[/path]
    "s3_stage",  # @ext_stage[/path], an external stage on S3 (moto)
    "s3_url",  # 's3://bucket/path' CREDENTIALS = (...) (moto)
    "gcs_url",  # 'gcs://bucket/path' CREDENTIALS = (ENDPOINT_URL = ...) (fake-gcs-server)
    "azure_url",  # 'azure://account.blob.core.windows.net/container/path' (Azurite)
)
#: The clouds the runtime cannot reach today, and the word the refusal must hold.
UNREACHABLE: dict[str, str] = {}
#: Forms that run the defaults of each format only (the rest of the representative set
#: adds nothing a location decides).
DEFAULTS_ONLY = (*UNREACHABLE, "gcs_url", "azure_url", "internal_ns", "table_ns")


@dataclass(frozen=True)
class Case:
    """One statement of the matrix: a location form, a format and (at most) one option."""

    location: str
    fmt: str
    option: str | None = None
    value: str | None = None
    place: str = "format"
    single: bool = False  # and SINGLE = TRUE (crossed with each COMPRESSION)
    folder: bool = False  # SINGLE = TRUE into a path ending with '/' (not a file name)

    @property
    def id(self) -> str:
        """A stable, readable id (the pytest id and the key of ``KNOWN_OPEN``)."""
        if self.option is None:
            return f"{self.location}-{self.fmt}-defaults"
        also = "+SINGLE=TRUE" if self.single else ""
        also += "+path/" if self.folder else ""
        return f"{self.location}-{self.fmt}-{self.option}={self.value}{also}"

    @property
    def single_file(self) -> str:
        """The file name a SINGLE = TRUE case's path ends with ('' for a path ending with
        '/', whose file is named ``data``): with an explicit COMPRESSION, one carrying the
        codec's extension, as the runtime requires (spec 004, SINGLE)."""
        extension = SINGLE_EXTENSIONS.get(str(self.value))
        if not self.single or self.folder or extension is None:
            return ""
        return f"data.{self.fmt.lower()}{extension}"

    @property
    def outcome(self) -> str:
        """``"refused"`` or ``"written"`` (verified files, or rows for VALIDATION_MODE).

        Every case is executed, so none is ``"compile-only"`` today; the count is kept so
        that a case added without a runtime oracle shows in docs/unload.md.
        """
        if self.location in UNREACHABLE or self.refusal:
            return "refused"
        return "written"

    @property
    def refusal(self) -> tuple[str, ...]:
        """The words a refusal must hold (empty when the case is not refused)."""
        if self.location in UNREACHABLE:
            return (UNREACHABLE[self.location],)
        if self.folder:
            return ("SINGLE = TRUE", f"COMPRESSION = {self.value}", "ending with '/'")
        return REFUSED.get((self.fmt, self.option or "", self.value or ""), ())

    @property
    def load_refusal(self) -> tuple[str, ...]:
        """The words the refusal to load the files back must hold (empty: it loads)."""
        return LOAD_REFUSED.get((self.fmt, self.option or "", self.value or ""), ())


def representative() -> list[tuple[str, str | None, str | None, str]]:
    """The set crossed with every location form: defaults, and each compression value."""
    chosen: list[tuple[str, str | None, str | None, str]] = []
    for fmt in FORMATS:
        chosen.append((fmt, None, None, "format"))
        for option in OPTIONS:
            if option.name == "COMPRESSION" and fmt in option.formats:
                chosen += [(fmt, option.name, value, option.place) for value in option.values]
    return chosen


def cases() -> list[Case]:
    """The whole matrix: every option x value x format on the named internal stage (and
    SINGLE = TRUE with each COMPRESSION, into a file name and, for an explicit text
    compression, into a path ending with '/' (refused); ENCRYPTION on the S3 URL), then the
    representative set on every other location form."""
    out: list[Case] = [Case("internal", fmt) for fmt in FORMATS]
    for option in OPTIONS:
        where = "s3_url" if option.place == "location" else "internal"
        for fmt in option.formats:
            out += [Case(where, fmt, option.name, v, option.place) for v in option.values]
            if option.name == "COMPRESSION":
                out += [Case("internal", fmt, option.name, v, single=True) for v in option.values]
                out += [
                    Case("internal", fmt, option.name, v, single=True, folder=True)
                    for v in option.values
                    if v in SINGLE_EXTENSIONS and fmt != "PARQUET"
                ]
    for location in LOCATIONS[1:]:
        reps = representative()
        if location in DEFAULTS_ONLY:
            reps = [rep for rep in reps if rep[1] is None]
        out += [Case(location, fmt, name, value, place) for fmt, name, value, place in reps]
    ids = [case.id for case in out]
    assert len(ids) == len(set(ids)), "duplicate case ids"
    return out


def counts(matrix: list[Case] | None = None) -> dict[str, int]:
    """The matrix's figures: cases, and cases by outcome (as docs/unload.md states them)."""
    matrix = cases() if matrix is None else matrix
    by_outcome = Counter("known open" if case.id in KNOWN_OPEN else case.outcome for case in matrix)
    return {
        "cases": len(matrix),
        "written and verified": by_outcome["written"],
        "known open": by_outcome["known open"],
        "refused": by_outcome["refused"],
        "compile-only": by_outcome["compile-only"],
        "read back refused": sum(1 for case in matrix if case.load_refusal),
        "location forms": len({case.location for case in matrix}),
        "options": len({(case.option, case.fmt) for case in matrix if case.option}),
    }
