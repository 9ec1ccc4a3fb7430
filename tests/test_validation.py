"""Bad input is refused when a construct is built, with a message that says what is wrong."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import ArgumentError

from sqla_stage import (
    CSV,
    JSON,
    CopyInto,
    CreateFileFormat,
    CreateStage,
    DropStage,
    FileFormat,
    ListFiles,
    Parquet,
    Presign,
    Put,
    SelectIntoOutfile,
    Stage,
    StageArgumentError,
    staged,
)

t = sa.table("t", sa.column("a"))
s = Stage("s")
KEYS = {"aws_key_id": "AKIA", "aws_secret_key": "SECRET"}

BAD: list[tuple[str, Callable[[], Any], str]] = [
    # unknown options, with a close-match hint
    (
        "unknown-unload-option",
        lambda: CopyInto(s, t, singel=True),
        r"COPY INTO <location>: unknown option 'singel'; did you mean 'single'\?",
    ),
    (
        "unknown-load-option",
        lambda: CopyInto(t, s, on_eror="continue"),
        r"COPY INTO <table>: unknown option 'on_eror'; did you mean 'on_error'\?",
    ),
    (
        "unknown-format-option",
        lambda: CSV(field_delimeter=","),
        r"CSV: unknown option 'field_delimeter'; did you mean 'field_delimiter'\?",
    ),
    (
        "unknown-option-no-hint",
        lambda: JSON(zzz=1),
        r"^JSON: unknown option 'zzz' \(accepted: compression, file_extension, missing_field_as, "
        r"strip_outer_array\)$",
    ),
    (
        "unknown-stage-copy-option",
        lambda: Stage("x", copy_options={"purg": True}),
        r"Stage\('x'\) copy_options: unknown option 'purg'; did you mean 'purge'\?",
    ),
    (
        "unknown-put-option",
        lambda: Put("/a", s, paralel=2),
        r"PUT: unknown option 'paralel'; did you mean 'parallel'\?",
    ),
    # values of the wrong type
    (
        "bool-given-str",
        lambda: CopyInto(s, t, header="yes"),
        r"'header' takes True or False, not 'yes'",
    ),
    ("bool-given-int", lambda: CopyInto(s, t, single=1), r"'single' takes True or False, not 1"),
    (
        "bool-format-option",
        lambda: CSV(empty_field_as_null="false"),
        r"CSV: option 'empty_field_as_null' takes True or False, not 'false'",
    ),
    (
        "int-given-str",
        lambda: CopyInto(s, t, max_file_size="10"),
        r"'max_file_size' takes an integer, not '10'",
    ),
    (
        "int-given-bool",
        lambda: CopyInto(s, t, max_file_size=True),
        r"'max_file_size' takes an integer, not True",
    ),
    ("int-given-float", lambda: CSV(skip_header=1.5), r"'skip_header' takes an integer, not 1.5"),
    ("int-negative", lambda: CSV(skip_header=-1), r"'skip_header' must be >= 0, not -1"),
    (
        "keyword-unknown-value",
        lambda: CopyInto(t, s, on_error="explode"),
        r"'on_error' takes one of CONTINUE, SKIP_FILE, ABORT_STATEMENT .*not 'explode'",
    ),
    (
        "keyword-given-int",
        lambda: CSV(compression=5),
        r"CSV: option 'compression' takes one of AUTO, GZIP, .*, not 5",
    ),
    (
        "keyword-none-not-allowed",
        lambda: CopyInto(t, s, on_error=None),
        r"'on_error' takes one of .*, not None",
    ),
    (
        "keyword-binary-format",
        lambda: CSV(binary_format="base32"),
        r"'binary_format' takes one of HEX, BASE64, UTF8, not 'base32'",
    ),
    (
        "keyword-load-validation-mode",
        lambda: CopyInto(t, s, validation_mode="RETURN_ROWS"),
        r"'validation_mode' takes one of RETURN_ERRORS, RETURN_ALL_ERRORS .*not 'RETURN_ROWS'",
    ),
    (
        "keyword-unload-validation-mode",
        lambda: CopyInto(s, t, validation_mode="RETURN_ERRORS"),
        r"'validation_mode' takes one of RETURN_ROWS, not 'RETURN_ERRORS'",
    ),
    (
        "strings-given-int-items",
        lambda: CSV(null_if=[1]),
        r"'null_if' takes a string or a sequence of strings, not \[1\]",
    ),
    (
        "strings-given-int",
        lambda: CopyInto(t, s, files=5),
        r"'files' takes a string or a sequence of strings, not 5",
    ),
    (
        "str-given-int",
        lambda: CSV(field_delimiter=5),
        r"'field_delimiter' takes a string or None \(NONE\), not 5",
    ),
    (
        "str-none-not-allowed",
        lambda: CSV(date_format=None),
        r"'date_format' takes a string, not None",
    ),
    (
        "put-parallel-range",
        lambda: Put("/a", s, parallel=100),
        r"'parallel' must be <= 99, not 100",
    ),
    # spec 004's combination rules and limits
    (
        "include-query-id-with-single",
        lambda: CopyInto(s, t, include_query_id=True, single=True),
        r"include_query_id=True cannot be combined with single=True",
    ),
    (
        "include-query-id-with-overwrite",
        lambda: CopyInto(s, t, overwrite=True, include_query_id=True),
        r"include_query_id=True cannot be combined with overwrite=True",
    ),
    (
        "include-query-id-with-both",
        lambda: CopyInto(s, t, overwrite=True, include_query_id=True, single=True),
        r"include_query_id=True cannot be combined with single=True or overwrite=True",
    ),
    (
        "max-file-size-zero",
        lambda: CopyInto(s, t, max_file_size=0),
        r"'max_file_size' must be >= 1, not 0",
    ),
    (
        "max-file-size-negative",
        lambda: CopyInto(s, t, max_file_size=-5),
        r"'max_file_size' must be >= 1, not -5",
    ),
    (
        "max-file-size-over-5gb",
        lambda: CopyInto(s, t, max_file_size=5 * 1024**3 + 1),
        r"'max_file_size' must be <= 5368709120, not 5368709121",
    ),
    (
        "parquet-gzip",
        lambda: Parquet(compression="gzip"),
        r"PARQUET: option 'compression' takes one of AUTO, LZO, SNAPPY, NONE, not 'gzip'",
    ),
    (
        "json-lzo",
        lambda: JSON(compression="lzo"),
        r"JSON: option 'compression' takes one of AUTO, GZIP, .*, not 'lzo'",
    ),
    ("csv-snappy", lambda: CSV(compression="snappy"), r"CSV: option 'compression' .*not 'snappy'"),
    (
        "bad-format",
        lambda: CopyInto(s, t, file_format="xml"),
        r"file_format must be CSV\(\.\.\.\).*not 'xml'",
    ),
    # credentials
    (
        "role-with-keys",
        lambda: Stage("e", url="s3://b/", credentials={"aws_role": "arn", **KEYS}),
        r"either 'aws_role' or 'aws_key_id'/'aws_secret_key', not both",
    ),
    (
        "key-without-secret",
        lambda: Stage("e", url="s3://b/", credentials={"aws_key_id": "AKIA"}),
        r"credentials need both 'aws_key_id' and 'aws_secret_key'",
    ),
    (
        "secret-without-key",
        lambda: CopyInto("s3://b/", t, credentials={"aws_secret_key": "x"}),
        r"credentials need both 'aws_key_id' and 'aws_secret_key'",
    ),
    (
        "token-without-keys",
        lambda: CopyInto("s3://b/", t, credentials={"aws_token": "x"}),
        r"'aws_token' needs 'aws_key_id' and 'aws_secret_key'",
    ),
    (
        "unknown-credential-key",
        lambda: Stage("e", url="s3://b/", credentials={"password": "x"}),
        r"unknown credential key\(s\) 'password' \(accepted: aws_key_id, ",
    ),
    (
        "credential-not-a-string",
        lambda: Stage("e", url="s3://b/", credentials={"aws_key_id": 1, "aws_secret_key": "x"}),
        r"credentials key 'aws_key_id' must be a non-empty string",
    ),
    (
        "credentials-not-a-mapping",
        lambda: Stage("e", url="s3://b/", credentials=[("aws_role", "x")]),
        r"credentials must be a mapping, not list",
    ),
    (
        "azure-with-aws",
        lambda: Stage("e", url="s3://b/", credentials={"azure_sas_token": "x", "aws_role": "r"}),
        r"Azure and AWS credentials cannot be combined",
    ),
    (
        "credentials-with-storage-integration",
        lambda: CopyInto("s3://b/", t, credentials=KEYS, storage_integration="si"),
        r"give credentials or storage_integration, not both",
    ),
    (
        "credentials-on-internal-stage",
        lambda: Stage("i", credentials=KEYS),
        r"Stage\('i'\): credentials and storage_integration need an external stage",
    ),
    # encryption
    (
        "encryption-unknown-type",
        lambda: CopyInto("s3://b/", t, encryption={"type": "ROT13"}),
        r"unknown encryption type 'ROT13' \(accepted: AWS_CSE, ",
    ),
    (
        "encryption-unknown-key",
        lambda: CopyInto("s3://b/", t, encryption={"master_key": "m", "salt": "x"}),
        r"unknown encryption key\(s\) 'salt' \(accepted: type, master_key, kms_key_id\)",
    ),
    (
        "encryption-without-type",
        lambda: CopyInto("s3://b/", t, encryption={"kms_key_id": "k"}),
        r"encryption needs a 'type'",
    ),
    (
        "encryption-master-key-on-sse",
        lambda: CopyInto("s3://b/", t, encryption={"type": "AWS_SSE_S3", "master_key": "m"}),
        r"encryption type AWS_SSE_S3 takes no 'master_key'",
    ),
    (
        "encryption-cse-without-master-key",
        lambda: CopyInto("azure://a/c/", t, encryption={"type": "AZURE_CSE"}),
        r"encryption type AZURE_CSE needs a 'master_key'",
    ),
    (
        "encryption-kms-key-on-cse",
        lambda: CopyInto(
            "s3://b/", t, encryption={"type": "AWS_CSE", "master_key": "m", "kms_key_id": "k"}
        ),
        r"encryption type AWS_CSE takes no 'kms_key_id'",
    ),
    (
        "encryption-internal-type-on-external",
        lambda: Stage("e", url="s3://b/", encryption={"type": "SNOWFLAKE_SSE"}),
        r"encryption type SNOWFLAKE_SSE is for internal stages",
    ),
    (
        "encryption-external-type-on-internal",
        lambda: Stage("i", encryption={"type": "AWS_SSE_S3"}),
        r"an internal stage takes encryption type SNOWFLAKE_FULL or SNOWFLAKE_SSE, not AWS_SSE_S3",
    ),
    # the user stage and table stages
    ("user-stage-url", lambda: Stage.user(url="s3://x/"), r"the user stage @~ takes no url"),
    (
        "user-stage-format",
        lambda: Stage.user(file_format=CSV()),
        r"the user stage @~ takes no file_format",
    ),
    ("user-stage-by-name", lambda: Stage("~"), r"use Stage.user\(\) for the user stage @~"),
    (
        "create-user-stage",
        lambda: CreateStage(Stage.user()),
        r"CreateStage: the user stage @~ cannot be created",
    ),
    (
        "drop-user-stage",
        lambda: DropStage(Stage.user()),
        r"DropStage: the user stage @~ cannot be dropped",
    ),
    ("drop-user-stage-by-text", lambda: DropStage("@~"), r"the user stage @~ cannot be dropped"),
    (
        "create-table-stage",
        lambda: CreateStage(Stage.table(t)),
        r"the table stage @%t cannot be created",
    ),
    (
        "drop-table-stage",
        lambda: DropStage(Stage.table("t")),
        r"the table stage @%t cannot be dropped",
    ),
    (
        "table-stage-bad-table",
        lambda: Stage.table(42),
        r"Stage.table\(\): expected a Table, a mapped class or a name, not 42",
    ),
    # where credentials go
    (
        "credentials-on-named-stage",
        lambda: CopyInto(s, t, credentials=KEYS),
        r"COPY INTO <location>: credentials apply only to a URL location; a named stage carries",
    ),
    (
        "encryption-on-stage-path-load",
        lambda: CopyInto(t, s / "p/", encryption={"type": "AWS_SSE_S3"}),
        r"COPY INTO <table>: encryption apply only to a URL location",
    ),
    (
        "storage-integration-on-named-stage",
        lambda: CopyInto(s, t, storage_integration="si"),
        r"storage_integration apply only to a URL location",
    ),
    (
        "credentials-on-transform-load",
        lambda: CopyInto(t, sa.select(t), credentials=KEYS),
        r"credentials apply only to a URL location",
    ),
    # options of the other direction
    (
        "load-option-on-unload",
        lambda: CopyInto(s, t, on_error="continue"),
        r"^COPY INTO <location>: 'on_error' is a load option, and this COPY is an unload$",
    ),
    (
        "load-options-on-unload",
        lambda: CopyInto(s, t, files=["a"], purge=True),
        r"'files', 'purge' is a load option, and this COPY is an unload",
    ),
    (
        "unload-option-on-load",
        lambda: CopyInto(t, s, single=True),
        r"^COPY INTO <table>: 'single' is an unload option, and this COPY is a load$",
    ),
    (
        "header-on-load",
        lambda: CopyInto(t, s, header=True),
        r"'header' is an unload option, and this COPY is a load",
    ),
    (
        "partition-by-on-load",
        lambda: CopyInto(t, s, partition_by="a"),
        r"partition_by is an unload option",
    ),
    ("columns-on-unload", lambda: CopyInto(s, t, columns=["a"]), r"columns is a load option"),
    (
        "columns-as-string",
        lambda: CopyInto(t, s, columns="a"),
        r"columns must be a sequence of names",
    ),
    # sources and targets of the wrong kind
    (
        "unload-source-int",
        lambda: CopyInto(s, 42),
        r"the source must be a Table, a mapped class, an aliased\(\) entity or a select\(\), "
        r"not 42",
    ),
    (
        "unload-source-stage",
        lambda: CopyInto(s, Stage("other")),
        r"the source must be a Table, a mapped class, an aliased\(\) entity or a select\(\), "
        r"not Stage\('other'\)",
    ),
    (
        "unload-source-sql-string",
        lambda: CopyInto(s, "SELECT 1"),
        r"the source must be a Table, a mapped class, an aliased\(\) entity or a select\(\), "
        r"not 'SELECT 1'",
    ),
    (
        "load-source-int",
        lambda: CopyInto(t, 42),
        r"COPY INTO <table>: expected a Stage, a stage path .*not 42",
    ),
    (
        "load-source-none",
        lambda: CopyInto(t, None),
        r"COPY INTO <table>: expected a Stage.*not None",
    ),
    (
        "unload-target-int",
        lambda: CopyInto(42, t),
        r"COPY INTO: the target 42 is neither a table.*\(a load\) nor a Stage.*\(an unload\) "
        r"\(the target comes first",
    ),
    (
        "unload-target-empty",
        lambda: CopyInto("", t),
        r"COPY INTO <location>: expected a Stage.*not ''",
    ),
    (
        "partition-by-int",
        lambda: CopyInto(s, t, partition_by=5),
        r"partition_by must be an expression",
    ),
    # other constructs
    ("stage-empty-name", lambda: Stage(""), r"Stage: the name must be a non-empty string"),
    ("stage-url-not-str", lambda: Stage("x", url=5), r"Stage\('x'\): url must be a string, not 5"),
    (
        "stage-directory-not-bool",
        lambda: Stage("x", directory="yes"),
        r"directory must be True or False",
    ),
    (
        "create-replace-and-if-not-exists",
        lambda: CreateStage(s, if_not_exists=True, or_replace=True),
        r"if_not_exists and or_replace cannot be combined",
    ),
    ("create-not-a-stage", lambda: CreateStage("s"), r"CreateStage: expected a Stage, not 's'"),
    (
        "drop-flag-not-bool",
        lambda: DropStage("s", if_exists="yes"),
        r"if_exists must be True or False",
    ),
    (
        "file-format-of-a-name",
        lambda: CreateFileFormat("x", FileFormat("y")),
        r"file_format must be CSV\(\.\.\.\), JSON\(\.\.\.\) or Parquet\(\.\.\.\)",
    ),
    (
        "file-format-empty-name",
        lambda: FileFormat(""),
        r"FileFormat: the name must be a non-empty string",
    ),
    (
        "list-of-a-url",
        lambda: ListFiles("s3://b/"),
        r"ListFiles: expected a stage or stage path, not the URL",
    ),
    (
        "presign-expire-zero",
        lambda: Presign(s / "a", expire=0),
        r"expire must be a positive number",
    ),
    (
        "presign-method",
        lambda: Presign(s / "a", method="DELETE"),
        r"method must be 'DOWNLOAD' or 'UPLOAD'",
    ),
    ("staged-of-a-url", lambda: staged("s3://x/"), r"staged: expected a stage or stage path"),
    (
        "outfile-to-user-stage",
        lambda: SelectIntoOutfile(sa.select(t), Stage.user() / "a.csv"),
        r"INTO OUTFILE writes to a named stage \('stage1:/path'\), not Stage.user\(\)",
    ),
    (
        "outfile-to-schema-stage",
        lambda: SelectIntoOutfile(sa.select(t), Stage("st", schema="db") / "a.csv"),
        r"INTO OUTFILE writes to a named stage",
    ),
    (
        "outfile-not-a-select",
        lambda: SelectIntoOutfile(t, "stage1:/a.csv"),
        r"expected a select\(\)",
    ),
]


@pytest.mark.parametrize(("build", "message"), [pytest.param(b, m, id=i) for i, b, m in BAD])
def test_bad_input_is_refused(build: Callable[[], Any], message: str) -> None:
    with pytest.raises(StageArgumentError, match=message) as caught:
        build()
    assert isinstance(caught.value, ArgumentError)  # a SQLAlchemy error, as documented


def test_case_ids_are_unique() -> None:
    ids = [case_id for case_id, _, _ in BAD]
    assert len(ids) == len(set(ids))


GOOD: list[tuple[str, Callable[[], Any]]] = [
    ("max-file-size-5gb", lambda: CopyInto(s, t, max_file_size=5 * 1024**3)),
    ("max-file-size-1", lambda: CopyInto(s, t, max_file_size=1)),
    ("include-query-id-alone", lambda: CopyInto(s, t, include_query_id=True, single=False)),
    ("parquet-lzo", lambda: Parquet(compression="lzo")),
    ("json-brotli", lambda: JSON(compression="brotli")),
    ("keys-and-token", lambda: CopyInto("s3://b/", t, credentials={**KEYS, "aws_token": "x"})),
    ("master-key-implies-aws-cse", lambda: CopyInto("s3://b/", t, encryption={"master_key": "m"})),
    ("validation-mode-both-directions", lambda: CopyInto(t, s, validation_mode="return_3_rows")),
    ("skip-file-percent", lambda: CopyInto(t, s, on_error="SKIP_FILE_5%")),
]


@pytest.mark.parametrize("build", [pytest.param(b, id=i) for i, b in GOOD])
def test_boundaries_are_accepted(build: Callable[[], Any]) -> None:
    assert build() is not None


def test_options_are_canonical() -> None:
    """Accepted values are normalized, so equal options give equal constructs."""
    assert CSV(compression="gzip").options == CSV(compression="GZIP").options
    assert CSV(null_if="x").options == {"null_if": ("x",)}
    copy = CopyInto(t, s, on_error="skip_file_5%", files=["a", "b"])
    assert copy.copy_options == {"files": ("a", "b"), "on_error": "SKIP_FILE_5%"}
    encryption = CopyInto("s3://b/", t, encryption={"master_key": "m"}).encryption
    assert dict(encryption or {}) == {"master_key": "m", "type": "AWS_CSE"}


def test_close_match_hint_only_when_close() -> None:
    with pytest.raises(StageArgumentError) as caught:
        CopyInto(s, t, compression="gzip")
    assert "did you mean" not in str(caught.value)
    assert re.search(
        r"unknown option 'compression' \(accepted: detailed_output, ", str(caught.value)
    )
