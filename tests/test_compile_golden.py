"""Golden tests: every construct compiled for every dialect, as exact SQL text.

Each case is one construct and what it compiles to on the default string form,
DuckDB (duckdb-engine), Snowflake (snowflake-sqlalchemy), Databend
(databend-sqlalchemy) and MatrixOne (SQLAlchemy's mysql dialect). Where an engine
has no faithful equivalent the expected value is ``Raises(pattern)``: a
``CompileError`` whose message names the feature and the engine.

``SAME`` means "the default text"; the four driver dialects use the ``pyformat`` /
``format`` paramstyles, so SQLAlchemy doubles every ``%`` in their compiled text
(the DBAPI turns ``%%`` back into ``%``) — ``SAME`` applies that doubling. The default
string form (``str(construct)``) and DuckDB mask the value of every secret key
(``AWS_SECRET_KEY = '***'``): the runtime takes the real values from the construct, and
that text only reaches logs. The expected default text is written with the secrets, as
``compile(compile_kwargs={"render_secrets": True})`` renders it
(`test_render_secrets_shows_the_canonical_text`).
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

import duckdb_engine
import pytest
import sqlalchemy as sa
from databend_sqlalchemy import databend_dialect
from snowflake.sqlalchemy import snowdialect
from sqlalchemy.dialects import mysql
from sqlalchemy.exc import CompileError

from sqla_stage import (
    CSV,
    JSON,
    CopyInto,
    CreateFileFormat,
    CreateStage,
    DescribeStage,
    DropFileFormat,
    DropStage,
    FileFormat,
    Get,
    ListFiles,
    LoadData,
    Parquet,
    Presign,
    Put,
    RemoveFiles,
    SelectIntoOutfile,
    ShowStages,
    Stage,
    staged,
)

DIALECTS: dict[str, Any] = {
    "default": None,
    "duckdb": duckdb_engine.Dialect(),
    "snowflake": snowdialect.SnowflakeDialect(),
    "databend": databend_dialect.DatabendDialect(),
    "mysql": mysql.dialect(),
}


class Raises(NamedTuple):
    """The construct must raise CompileError matching ``pattern`` on that dialect."""

    pattern: str


class _Same:
    def __repr__(self) -> str:
        return "SAME"


SAME: Any = _Same()

_SECRET_VALUE = re.compile(
    r"\b(AWS_KEY_ID|AWS_SECRET_KEY|AWS_TOKEN|AZURE_SAS_TOKEN|MASTER_KEY) = '(?:[^']|'')*'"
)


#: (case id, construct, default text with its secrets) of each case that has secrets.
WITH_SECRETS: list[tuple[str, Any, str]] = []


def masked(text: str) -> str:
    """``text`` with the value of every secret key replaced by ``'***'``."""
    return _SECRET_VALUE.sub(r"\1 = '***'", text)


MO = "MatrixOne"
MO_COPY = Raises(r"^COPY INTO is not supported on MatrixOne; use SelectIntoOutfile")
MO_STAGED = Raises(r"^querying staged files is not supported on MatrixOne$")

# --- the objects the cases use ---------------------------------------------------------

mytable = sa.table("mytable", sa.column("id"), sa.column("name"))
orderstiny = sa.table("orderstiny")
home_sales = sa.table("home_sales")
t1 = sa.table("t1")
user = sa.table("user")
star = sa.literal_column("*")

s = Stage("s")
my_stage = Stage("my_stage")
me = Stage.user()


def select_all(table: sa.TableClause) -> sa.Select[Any]:
    return sa.select(star).select_from(table)


# --- case tables -----------------------------------------------------------------------


def golden(
    case_id: str,
    construct: Any,
    default: str | Raises,
    *,
    duckdb: Any = SAME,
    snowflake: Any = SAME,
    databend: Any = SAME,
    mysql: Any = SAME,
) -> list[Any]:
    """One construct's expected text on every dialect, as pytest params."""
    expected = {
        "default": default,
        "duckdb": duckdb,
        "snowflake": snowflake,
        "databend": databend,
        "mysql": mysql,
    }
    if isinstance(default, str) and masked(default) != default:
        WITH_SECRETS.append((case_id, construct, default))
    params = []
    for dialect, value in expected.items():
        if value is SAME:
            value = default.replace("%", "%%") if isinstance(default, str) else default
            if dialect == "duckdb" and isinstance(value, str):
                value = masked(value)
        if dialect == "default" and isinstance(value, str):
            value = masked(value)
        params.append(pytest.param(construct, dialect, value, id=f"{case_id}-{dialect}"))
    return params


def copy_case(case_id: str, construct: Any, default: str | Raises, **kw: Any) -> list[Any]:
    """A COPY INTO case: MatrixOne has no COPY."""
    kw.setdefault("mysql", MO_COPY)
    return golden(case_id, construct, default, **kw)


def compile_on(construct: Any, dialect: str) -> str:
    compiled = construct.compile(dialect=DIALECTS[dialect], compile_kwargs={"literal_binds": True})
    return str(compiled)


def check(construct: Any, dialect: str, expected: str | Raises) -> None:
    if isinstance(expected, Raises):
        with pytest.raises(CompileError, match=expected.pattern):
            compile_on(construct, dialect)
    else:
        assert compile_on(construct, dialect) == expected


# --- spec 004: the worked examples of COPY INTO <location> -------------------------------

SPEC_004 = [
    *copy_case(
        "table-stage-format-name-gzip",
        CopyInto(
            Stage.table(orderstiny) / "result/data_",
            orderstiny,
            file_format=FileFormat("myformat", compression="gzip"),
        ),
        "COPY INTO @%orderstiny/result/data_ FROM orderstiny "
        "FILE_FORMAT = (FORMAT_NAME = 'myformat' COMPRESSION = GZIP)",
        databend=Raises(r"table stage @%orderstiny is not supported on Databend"),
    ),
    *copy_case(
        "named-stage-from-query",
        CopyInto(
            my_stage / "result/data_",
            select_all(orderstiny),
            file_format=FileFormat("myformat", compression="gzip"),
        ),
        "COPY INTO @my_stage/result/data_ FROM (SELECT * \nFROM orderstiny) "
        "FILE_FORMAT = (FORMAT_NAME = 'myformat' COMPRESSION = GZIP)",
        databend=Raises(r"overriding the named format 'myformat' .*not supported on Databend"),
    ),
    *copy_case(
        "s3-storage-integration",
        CopyInto(
            "s3://mybucket/unload/",
            mytable,
            storage_integration="myint",
            file_format=FileFormat("my_csv_format"),
        ),
        "COPY INTO 's3://mybucket/unload/' FROM mytable STORAGE_INTEGRATION = myint "
        "FILE_FORMAT = (FORMAT_NAME = 'my_csv_format')",
        databend=Raises(r"^STORAGE_INTEGRATION is not supported on Databend"),
    ),
    *copy_case(
        "s3-credentials-token",
        CopyInto(
            "s3://mybucket/unload/",
            mytable,
            credentials={"aws_key_id": "xxxx", "aws_secret_key": "xxxxx", "aws_token": "xxxxxx"},
            file_format=FileFormat("my_csv_format"),
        ),
        "COPY INTO 's3://mybucket/unload/' FROM mytable "
        "CREDENTIALS = (AWS_KEY_ID = 'xxxx' AWS_SECRET_KEY = 'xxxxx' AWS_TOKEN = 'xxxxxx') "
        "FILE_FORMAT = (FORMAT_NAME = 'my_csv_format')",
        databend="COPY INTO 's3://mybucket/unload/' CONNECTION = (ACCESS_KEY_ID = 'xxxx' "
        "SECRET_ACCESS_KEY = 'xxxxx' SESSION_TOKEN = 'xxxxxx') FROM mytable "
        "FILE_FORMAT = (FORMAT_NAME = 'my_csv_format')",
    ),
    *copy_case(
        "gcs-storage-integration",
        CopyInto(
            "gcs://mybucket/unload/",
            mytable,
            storage_integration="myint",
            file_format=FileFormat("my_csv_format"),
        ),
        "COPY INTO 'gcs://mybucket/unload/' FROM mytable STORAGE_INTEGRATION = myint "
        "FILE_FORMAT = (FORMAT_NAME = 'my_csv_format')",
        databend=Raises(r"^STORAGE_INTEGRATION is not supported on Databend"),
    ),
    *copy_case(
        "azure-storage-integration",
        CopyInto(
            "azure://myaccount.blob.core.windows.net/unload/",
            mytable,
            storage_integration="myint",
            file_format=FileFormat("my_csv_format"),
        ),
        "COPY INTO 'azure://myaccount.blob.core.windows.net/unload/' FROM mytable "
        "STORAGE_INTEGRATION = myint FILE_FORMAT = (FORMAT_NAME = 'my_csv_format')",
        databend=Raises(r"^STORAGE_INTEGRATION is not supported on Databend"),
    ),
    *copy_case(
        "azure-sas-token",
        CopyInto(
            "azure://myaccount.blob.core.windows.net/mycontainer/unload/",
            mytable,
            credentials={"azure_sas_token": "xxxx"},
            file_format=FileFormat("my_csv_format"),
        ),
        "COPY INTO 'azure://myaccount.blob.core.windows.net/mycontainer/unload/' FROM mytable "
        "CREDENTIALS = (AZURE_SAS_TOKEN = 'xxxx') FILE_FORMAT = (FORMAT_NAME = 'my_csv_format')",
        databend=Raises(r"credential 'azure_sas_token' is not supported on Databend"),
    ),
    *copy_case(
        "home-sales-null-if",
        CopyInto(
            me,
            home_sales,
            file_format=CSV(null_if=("NULL", "null"), empty_field_as_null=False),
        ),
        "COPY INTO @~ FROM home_sales "
        "FILE_FORMAT = (TYPE = CSV NULL_IF = ('NULL', 'null') EMPTY_FIELD_AS_NULL = FALSE)",
        databend=Raises(r"NULL_IF with other than one string is not supported on Databend"),
    ),
    *copy_case(
        "home-sales-single",
        CopyInto(me, home_sales, single=True),
        "COPY INTO @~ FROM home_sales SINGLE = TRUE",
        databend="COPY INTO @~ FROM home_sales "
        "FILE_FORMAT = (TYPE = CSV COMPRESSION = GZIP) SINGLE = TRUE",
    ),
    *copy_case(
        "include-query-id-parquet",
        CopyInto(Stage.table(t1), t1, file_format=Parquet(), include_query_id=True),
        "COPY INTO @%t1 FROM t1 FILE_FORMAT = (TYPE = PARQUET) INCLUDE_QUERY_ID = TRUE",
        databend=Raises(r"table stage @%t1 is not supported on Databend"),
    ),
    *copy_case(
        "validation-mode-return-rows",
        CopyInto(my_stage, select_all(orderstiny).limit(5), validation_mode="RETURN_ROWS"),
        "COPY INTO @my_stage FROM (SELECT * \nFROM orderstiny\n LIMIT 5) "
        "VALIDATION_MODE = RETURN_ROWS",
        duckdb="COPY INTO @my_stage FROM (SELECT * \nFROM orderstiny \n LIMIT 5) "
        "VALIDATION_MODE = RETURN_ROWS",
        databend=Raises(r"unload option\(s\) VALIDATION_MODE is not supported on Databend"),
    ),
    *copy_case(
        "quoted-named-stage",
        CopyInto("@mystage/path 1/file 1.csv", mytable),
        "COPY INTO '@mystage/path 1/file 1.csv' FROM mytable",
        databend="COPY INTO '@mystage/path 1/file 1.csv' FROM mytable "
        "FILE_FORMAT = (TYPE = CSV COMPRESSION = GZIP)",
    ),
    *copy_case(
        "quoted-named-stage-built",
        CopyInto(Stage("mystage") / "path 1" / "file 1.csv", mytable),
        "COPY INTO '@mystage/path 1/file 1.csv' FROM mytable",
        databend="COPY INTO '@mystage/path 1/file 1.csv' FROM mytable "
        "FILE_FORMAT = (TYPE = CSV COMPRESSION = GZIP)",
    ),
    *copy_case(
        "quoted-table-stage",
        CopyInto("@%mytable/path 1/file 1.csv", mytable),
        "COPY INTO '@%mytable/path 1/file 1.csv' FROM mytable",
        databend=Raises(r"table stage @%mytable is not supported on Databend"),
    ),
    *copy_case(
        "quoted-user-stage",
        CopyInto(me / "path 1/file 1.csv", mytable),
        "COPY INTO '@~/path 1/file 1.csv' FROM mytable",
        databend="COPY INTO '@~/path 1/file 1.csv' FROM mytable "
        "FILE_FORMAT = (TYPE = CSV COMPRESSION = GZIP)",
    ),
    *copy_case(
        "quoted-s3",
        CopyInto("s3://mybucket 1/prefix 1/file 1.csv", mytable),
        "COPY INTO 's3://mybucket 1/prefix 1/file 1.csv' FROM mytable",
        databend="COPY INTO 's3://mybucket 1/prefix 1/file 1.csv' FROM mytable "
        "FILE_FORMAT = (TYPE = CSV COMPRESSION = GZIP)",
    ),
    *copy_case(
        "quoted-azure",
        CopyInto(
            "azure://myaccount.blob.core.windows.net/mycontainer/encrypted_files/file 1.csv",
            mytable,
        ),
        "COPY INTO 'azure://myaccount.blob.core.windows.net/mycontainer/encrypted_files/"
        "file 1.csv' FROM mytable",
        databend="COPY INTO 'azure://myaccount.blob.core.windows.net/mycontainer/"
        "encrypted_files/file 1.csv' FROM mytable FILE_FORMAT = (TYPE = CSV COMPRESSION = GZIP)",
    ),
    *copy_case(
        "literal-dot-dot-s3",
        CopyInto("s3://mybucket/./../a.csv", mytable),
        "COPY INTO 's3://mybucket/./../a.csv' FROM mytable",
        databend="COPY INTO 's3://mybucket/./../a.csv' FROM mytable "
        "FILE_FORMAT = (TYPE = CSV COMPRESSION = GZIP)",
    ),
    *copy_case(
        "literal-dot-dot-azure",
        CopyInto("azure://myaccount.blob.core.windows.net/mycontainer/./../a.csv", mytable),
        "COPY INTO 'azure://myaccount.blob.core.windows.net/mycontainer/./../a.csv' FROM mytable",
        databend="COPY INTO 'azure://myaccount.blob.core.windows.net/mycontainer/./../a.csv' "
        "FROM mytable FILE_FORMAT = (TYPE = CSV COMPRESSION = GZIP)",
    ),
    *copy_case(
        "literal-dot-dot-stage-path",
        CopyInto(s / "./../a.csv", mytable, single=True),
        "COPY INTO @s/./../a.csv FROM mytable SINGLE = TRUE",
        databend="COPY INTO @s/./../a.csv FROM mytable "
        "FILE_FORMAT = (TYPE = CSV COMPRESSION = GZIP) SINGLE = TRUE",
    ),
]

# --- spec 002 (Databend stages), 001/003 (user stage), 000 (MatrixOne) -------------------

EXTERNAL = Stage(
    "my_external_stage",
    url="s3://databend",
    credentials={
        "endpoint_url": "https://s3.example.com",
        "aws_key_id": "AKIAKEY",
        "aws_secret_key": "SECRETKEY",
    },
)

SPEC_OTHERS = [
    *golden(
        "create-internal",
        CreateStage(Stage("my_internal_stage")),
        "CREATE STAGE my_internal_stage",
        mysql=Raises(r"^a stage without a URL is not supported on MatrixOne"),
    ),
    *golden(
        "create-external-endpoint",
        CreateStage(EXTERNAL),
        "CREATE STAGE my_external_stage URL = 's3://databend' CREDENTIALS = (AWS_KEY_ID = "
        "'AKIAKEY' AWS_SECRET_KEY = 'SECRETKEY' ENDPOINT_URL = 'https://s3.example.com')",
        snowflake="CREATE STAGE my_external_stage URL = 's3compat://databend' "
        "ENDPOINT = 's3.example.com' "
        "CREDENTIALS = (AWS_KEY_ID = 'AKIAKEY' AWS_SECRET_KEY = 'SECRETKEY')",
        databend="CREATE STAGE my_external_stage URL = 's3://databend' CONNECTION = ("
        "ACCESS_KEY_ID = 'AKIAKEY' SECRET_ACCESS_KEY = 'SECRETKEY' "
        "ENDPOINT_URL = 'https://s3.example.com')",
        mysql="CREATE STAGE my_external_stage URL = 's3://databend' CREDENTIALS = "
        "{\"access_key_id\"='AKIAKEY', \"secret_access_key\"='SECRETKEY', "
        "\"endpoint\"='https://s3.example.com'}",
    ),
    *golden(
        "list-external",
        ListFiles(EXTERNAL),
        "LIST @my_external_stage",
        mysql=Raises(r"^LIST is not supported on MatrixOne"),
    ),
    *golden(
        "list-user", ListFiles(me), "LIST @~", mysql=Raises(r"^LIST is not supported on MatrixOne")
    ),
    *copy_case(
        "load-from-user-stage",
        CopyInto(sa.table("my_table"), me),
        "COPY INTO my_table FROM @~",
        databend="COPY INTO my_table FROM @~ FILE_FORMAT = (TYPE = CSV COMPRESSION = AUTO)",
    ),
    *golden(
        "presign-user",
        Presign(me / "data.csv"),
        "PRESIGN @~/data.csv",
        snowflake=Raises(
            r"GET_PRESIGNED_URL on a user or table stage is not supported on Snowflake"
        ),
        mysql=Raises(r"^PRESIGN is not supported on MatrixOne"),
    ),
    *golden(
        "remove-user-pattern",
        RemoveFiles(me, pattern="ontime.*"),
        "REMOVE @~ PATTERN = 'ontime.*'",
        mysql=Raises(r"^REMOVE is not supported on MatrixOne"),
    ),
    *golden(
        "matrixone-create-enable",
        CreateStage(Stage("stage1", url="/tmp", directory=True)),
        "CREATE STAGE stage1 URL = '/tmp' DIRECTORY = (ENABLE = TRUE)",
        snowflake=Raises(r"^the local location '/tmp' is not supported on Snowflake"),
        databend=Raises(r"^a stage directory table is not supported on Databend"),
        mysql="CREATE STAGE stage1 URL = '/tmp' ENABLE = TRUE",
    ),
    *golden(
        "matrixone-into-outfile",
        SelectIntoOutfile(select_all(user), "stage1:/user.csv"),
        "SELECT * \nFROM \"user\" INTO OUTFILE 'stage1:/user.csv'",
        snowflake=Raises(r"^SELECT \.\.\. INTO OUTFILE is not supported on Snowflake"),
        databend=Raises(r"^SELECT \.\.\. INTO OUTFILE is not supported on Databend"),
        mysql="SELECT * \nFROM user INTO OUTFILE 'stage1:/user.csv'",
    ),
    *golden(
        "matrixone-into-outfile-stage-path",
        SelectIntoOutfile(
            select_all(user).where(sa.literal_column("id") > 1), Stage("stage1") / "u/a.csv"
        ),
        "SELECT * \nFROM \"user\" \nWHERE id > 1 INTO OUTFILE 'stage1:/u/a.csv'",
        snowflake=Raises(r"INTO OUTFILE is not supported on Snowflake"),
        databend=Raises(r"INTO OUTFILE is not supported on Databend"),
        mysql="SELECT * \nFROM user \nWHERE id > 1 INTO OUTFILE 'stage1:/u/a.csv'",
    ),
    *golden(
        "matrixone-into-outfile-plain-path",
        SelectIntoOutfile(select_all(user), "~/tmp/csv2/user.txt"),
        "SELECT * \nFROM \"user\" INTO OUTFILE '~/tmp/csv2/user.txt'",
        snowflake=Raises(r"INTO OUTFILE is not supported on Snowflake"),
        databend=Raises(r"INTO OUTFILE is not supported on Databend"),
        mysql="SELECT * \nFROM user INTO OUTFILE '~/tmp/csv2/user.txt'",
    ),
]

# --- every format option ---------------------------------------------------------------


def unload_format(
    case_id: str, fmt: Any, default: str, databend: str | Raises, **kw: Any
) -> list[Any]:
    """``COPY INTO @s FROM mytable FILE_FORMAT = (<default> | <databend>)``."""
    if isinstance(databend, str):
        databend = f"COPY INTO @s FROM mytable FILE_FORMAT = ({databend})"
    return copy_case(
        case_id,
        CopyInto(s, mytable, file_format=fmt),
        f"COPY INTO @s FROM mytable FILE_FORMAT = ({default})",
        databend=databend,
        **kw,
    )


def _csv_compression(value: str) -> list[Any]:
    databend: str | Raises = f"TYPE = CSV COMPRESSION = {'GZIP' if value == 'AUTO' else value}"
    if value == "RAW_DEFLATE":
        databend = Raises(r"COMPRESSION = RAW_DEFLATE is not supported on Databend")
    return unload_format(
        f"csv-compression-{value}",
        CSV(compression=value.lower()),
        f"TYPE = CSV COMPRESSION = {value}",
        databend,
    )


def _json_compression(value: str) -> list[Any]:
    databend: str | Raises = f"TYPE = NDJSON COMPRESSION = {'GZIP' if value == 'AUTO' else value}"
    if value == "RAW_DEFLATE":
        databend = Raises(r"COMPRESSION = RAW_DEFLATE is not supported on Databend")
    return unload_format(
        f"json-compression-{value}",
        JSON(compression=value),
        f"TYPE = JSON COMPRESSION = {value}",
        databend,
    )


TEXT_COMPRESSIONS = ("AUTO", "GZIP", "BZ2", "BROTLI", "ZSTD", "DEFLATE", "RAW_DEFLATE", "NONE")
DB_GZ = " COMPRESSION = GZIP"


def _db_unsupported(option: str) -> Raises:
    return Raises(rf"the format option {option} is not supported on Databend")


FORMAT_OPTIONS = [
    *(case for value in TEXT_COMPRESSIONS for case in _csv_compression(value)),
    *(case for value in TEXT_COMPRESSIONS for case in _json_compression(value)),
    *unload_format(
        "csv-record-delimiter",
        CSV(record_delimiter=";"),
        "TYPE = CSV RECORD_DELIMITER = ';'",
        "TYPE = CSV RECORD_DELIMITER = ';'" + DB_GZ,
    ),
    *unload_format(
        "csv-record-delimiter-none",
        CSV(record_delimiter=None),
        "TYPE = CSV RECORD_DELIMITER = NONE",
        Raises(r"^RECORD_DELIMITER = NONE is not supported on Databend"),
    ),
    *unload_format(
        "csv-field-delimiter",
        CSV(field_delimiter="|"),
        "TYPE = CSV FIELD_DELIMITER = '|'",
        "TYPE = CSV FIELD_DELIMITER = '|'" + DB_GZ,
    ),
    *unload_format(
        "csv-field-delimiter-none",
        CSV(field_delimiter=None),
        "TYPE = CSV FIELD_DELIMITER = NONE",
        Raises(r"^FIELD_DELIMITER = NONE is not supported on Databend"),
    ),
    *unload_format(
        "csv-field-delimiter-string-NONE",
        CSV(field_delimiter="NONE"),
        "TYPE = CSV FIELD_DELIMITER = 'NONE'",
        "TYPE = CSV FIELD_DELIMITER = 'NONE'" + DB_GZ,
    ),
    *unload_format(
        "csv-file-extension",
        CSV(file_extension="csv.gz"),
        "TYPE = CSV FILE_EXTENSION = 'csv.gz'",
        _db_unsupported("FILE_EXTENSION"),
    ),
    *unload_format(
        "csv-file-extension-none",
        CSV(file_extension=None),
        "TYPE = CSV FILE_EXTENSION = NONE",
        Raises(r"^FILE_EXTENSION = NONE is not supported on Databend"),
    ),
    *unload_format(
        "csv-skip-header",
        CSV(skip_header=1),
        "TYPE = CSV SKIP_HEADER = 1",
        "TYPE = CSV SKIP_HEADER = 1" + DB_GZ,
    ),
    *unload_format(
        "csv-escape-backslash",
        CSV(escape="\\"),
        "TYPE = CSV ESCAPE = '\\'",
        "TYPE = CSV ESCAPE = '\\\\'" + DB_GZ,
        # Snowflake string literals read backslash escapes: the backslash is doubled.
        snowflake="COPY INTO @s FROM mytable FILE_FORMAT = (TYPE = CSV ESCAPE = '\\\\')",
    ),
    *unload_format(
        "csv-escape-none",
        CSV(escape=None),
        "TYPE = CSV ESCAPE = NONE",
        Raises(r"^ESCAPE = NONE is not supported on Databend"),
    ),
    *unload_format(
        "csv-escape-unenclosed-field",
        CSV(escape_unenclosed_field="#"),
        "TYPE = CSV ESCAPE_UNENCLOSED_FIELD = '#'",
        _db_unsupported("ESCAPE_UNENCLOSED_FIELD"),
    ),
    *unload_format(
        "csv-escape-unenclosed-field-none",
        CSV(escape_unenclosed_field=None),
        "TYPE = CSV ESCAPE_UNENCLOSED_FIELD = NONE",
        Raises(r"^ESCAPE_UNENCLOSED_FIELD = NONE is not supported on Databend"),
    ),
    *unload_format(
        "csv-date-format",
        CSV(date_format="YYYY-MM-DD"),
        "TYPE = CSV DATE_FORMAT = 'YYYY-MM-DD'",
        _db_unsupported("DATE_FORMAT"),
    ),
    *unload_format(
        "csv-date-format-auto",
        CSV(date_format="auto"),
        "TYPE = CSV DATE_FORMAT = AUTO",
        _db_unsupported("DATE_FORMAT"),
    ),
    *unload_format(
        "csv-time-format",
        CSV(time_format="HH24:MI:SS"),
        "TYPE = CSV TIME_FORMAT = 'HH24:MI:SS'",
        _db_unsupported("TIME_FORMAT"),
    ),
    *unload_format(
        "csv-time-format-auto",
        CSV(time_format="AUTO"),
        "TYPE = CSV TIME_FORMAT = AUTO",
        _db_unsupported("TIME_FORMAT"),
    ),
    *unload_format(
        "csv-timestamp-format",
        CSV(timestamp_format="YYYY-MM-DD HH24:MI:SS.FF3"),
        "TYPE = CSV TIMESTAMP_FORMAT = 'YYYY-MM-DD HH24:MI:SS.FF3'",
        _db_unsupported("TIMESTAMP_FORMAT"),
    ),
    *unload_format(
        "csv-timestamp-format-auto",
        CSV(timestamp_format="AUTO"),
        "TYPE = CSV TIMESTAMP_FORMAT = AUTO",
        _db_unsupported("TIMESTAMP_FORMAT"),
    ),
    *unload_format(
        "csv-binary-format-hex",
        CSV(binary_format="hex"),
        "TYPE = CSV BINARY_FORMAT = HEX",
        "TYPE = CSV BINARY_FORMAT = HEX" + DB_GZ,
    ),
    *unload_format(
        "csv-binary-format-base64",
        CSV(binary_format="BASE64"),
        "TYPE = CSV BINARY_FORMAT = BASE64",
        "TYPE = CSV BINARY_FORMAT = BASE64" + DB_GZ,
    ),
    *unload_format(
        "csv-binary-format-utf8",
        CSV(binary_format="UTF8"),
        "TYPE = CSV BINARY_FORMAT = UTF8",
        Raises(r"^BINARY_FORMAT = UTF8 is not supported on Databend"),
    ),
    *unload_format(
        "csv-enclosed-by-double-quote",
        CSV(field_optionally_enclosed_by='"'),
        "TYPE = CSV FIELD_OPTIONALLY_ENCLOSED_BY = '\"'",
        "TYPE = CSV QUOTE = '\"'" + DB_GZ,
    ),
    *unload_format(
        "csv-enclosed-by-single-quote",
        CSV(field_optionally_enclosed_by="'"),
        "TYPE = CSV FIELD_OPTIONALLY_ENCLOSED_BY = ''''",
        "TYPE = CSV QUOTE = ''''" + DB_GZ,
    ),
    *unload_format(
        "csv-enclosed-by-none",
        CSV(field_optionally_enclosed_by=None),
        "TYPE = CSV FIELD_OPTIONALLY_ENCLOSED_BY = NONE",
        Raises(r"^FIELD_OPTIONALLY_ENCLOSED_BY = NONE is not supported on Databend"),
    ),
    *unload_format(
        "csv-null-if-one",
        CSV(null_if="\\N"),
        "TYPE = CSV NULL_IF = ('\\N')",
        "TYPE = CSV NULL_DISPLAY = '\\\\N'" + DB_GZ,
        snowflake="COPY INTO @s FROM mytable FILE_FORMAT = (TYPE = CSV NULL_IF = ('\\\\N'))",
    ),
    *unload_format(
        "csv-null-if-empty-string",
        CSV(null_if=[""]),
        "TYPE = CSV NULL_IF = ('')",
        "TYPE = CSV NULL_DISPLAY = ''" + DB_GZ,
    ),
    *unload_format(
        "csv-null-if-percent",
        CSV(null_if=("n/a%",)),
        "TYPE = CSV NULL_IF = ('n/a%')",
        "TYPE = CSV NULL_DISPLAY = 'n/a%%'" + DB_GZ,
    ),
    *unload_format(
        "csv-empty-field-as-null-true",
        CSV(empty_field_as_null=True),
        "TYPE = CSV EMPTY_FIELD_AS_NULL = TRUE",
        "TYPE = CSV EMPTY_FIELD_AS = NULL" + DB_GZ,
    ),
    *unload_format(
        "csv-empty-field-as-null-false",
        CSV(empty_field_as_null=False),
        "TYPE = CSV EMPTY_FIELD_AS_NULL = FALSE",
        "TYPE = CSV EMPTY_FIELD_AS = STRING" + DB_GZ,
    ),
    *unload_format(
        "csv-several-options-in-spec-order",
        CSV(null_if="NULL", field_delimiter="|", compression="gzip", skip_header=0),
        "TYPE = CSV COMPRESSION = GZIP FIELD_DELIMITER = '|' SKIP_HEADER = 0 NULL_IF = ('NULL')",
        "TYPE = CSV COMPRESSION = GZIP FIELD_DELIMITER = '|' SKIP_HEADER = 0 NULL_DISPLAY = 'NULL'",
    ),
    *unload_format(
        "json-file-extension",
        JSON(file_extension="ndjson"),
        "TYPE = JSON FILE_EXTENSION = 'ndjson'",
        _db_unsupported("FILE_EXTENSION"),
    ),
    *unload_format("json-plain", JSON, "TYPE = JSON", "TYPE = NDJSON" + DB_GZ),
    *unload_format("parquet-plain", Parquet(), "TYPE = PARQUET", "TYPE = PARQUET"),
    *unload_format("parquet-by-name", "parquet", "TYPE = PARQUET", "TYPE = PARQUET"),
    *(
        case
        for value in ("AUTO", "LZO", "SNAPPY", "NONE")
        for case in unload_format(
            f"parquet-compression-{value}",
            Parquet(compression=value),
            f"TYPE = PARQUET COMPRESSION = {value}",
            Raises(r"the Parquet option\(s\) 'compression' is not supported on Databend"),
        )
    ),
    *unload_format(
        "parquet-snappy-compression",
        Parquet(snappy_compression=False),
        "TYPE = PARQUET SNAPPY_COMPRESSION = FALSE",
        Raises(r"the Parquet option\(s\) 'snappy_compression' is not supported on Databend"),
    ),
    *unload_format(
        "named-format",
        FileFormat("my_csv_format"),
        "FORMAT_NAME = 'my_csv_format'",
        "FORMAT_NAME = 'my_csv_format'",
    ),
    *unload_format(
        "named-format-schema",
        FileFormat("my_csv_format", schema="db.sch"),
        "FORMAT_NAME = 'db.sch.my_csv_format'",
        Raises(r"schema-qualified file format 'db.sch.my_csv_format' is not supported on Databend"),
    ),
    *unload_format(
        "named-format-overrides",
        FileFormat("f", compression="snappy", field_delimiter=";"),
        "FORMAT_NAME = 'f' COMPRESSION = SNAPPY FIELD_DELIMITER = ';'",
        Raises(
            r"overriding the named format 'f' with 'compression', 'field_delimiter' is not "
            r"supported on Databend"
        ),
    ),
    *unload_format(
        "named-format-quoted-name",
        FileFormat("My Format"),
        "FORMAT_NAME = 'My Format'",
        Raises(r"the file format name 'My Format' is not supported on Databend"),
    ),
]

# Loads: Databend writes the spec's default compression (AUTO) out; Snowflake's is implied.
LOAD_FORMATS = [
    *copy_case(
        "load-csv",
        CopyInto(mytable, s, file_format=CSV(skip_header=1)),
        "COPY INTO mytable FROM @s FILE_FORMAT = (TYPE = CSV SKIP_HEADER = 1)",
        databend="COPY INTO mytable FROM @s "
        "FILE_FORMAT = (TYPE = CSV SKIP_HEADER = 1 COMPRESSION = AUTO)",
    ),
    *copy_case(
        "load-json-gzip",
        CopyInto(mytable, s, file_format=JSON(compression="gzip")),
        "COPY INTO mytable FROM @s FILE_FORMAT = (TYPE = JSON COMPRESSION = GZIP)",
        databend="COPY INTO mytable FROM @s FILE_FORMAT = (TYPE = NDJSON COMPRESSION = GZIP)",
    ),
    *copy_case(
        "load-parquet",
        CopyInto(mytable, s / "p/", file_format=Parquet),
        "COPY INTO mytable FROM @s/p/ FILE_FORMAT = (TYPE = PARQUET)",
    ),
    *copy_case(
        "load-named-format",
        CopyInto(mytable, s, file_format=FileFormat("ff")),
        "COPY INTO mytable FROM @s FILE_FORMAT = (FORMAT_NAME = 'ff')",
    ),
]

# --- every copy option -----------------------------------------------------------------


def unload_option(
    case_id: str, default_tail: str, databend: str | Raises, **options: Any
) -> list[Any]:
    """``COPY INTO @s FROM mytable <options>`` (Databend writes the format out)."""
    if isinstance(databend, str):
        databend = f"COPY INTO @s FROM mytable {databend}"
    return copy_case(
        case_id,
        CopyInto(s, mytable, **options),
        f"COPY INTO @s FROM mytable {default_tail}",
        databend=databend,
    )


DB_CSV = "FILE_FORMAT = (TYPE = CSV COMPRESSION = GZIP)"

UNLOAD_OPTIONS = [
    *unload_option(
        "overwrite-true", "OVERWRITE = TRUE", f"{DB_CSV} OVERWRITE = TRUE", overwrite=True
    ),
    *unload_option(
        "overwrite-false", "OVERWRITE = FALSE", f"{DB_CSV} OVERWRITE = FALSE", overwrite=False
    ),
    *unload_option("single", "SINGLE = TRUE", f"{DB_CSV} SINGLE = TRUE", single=True),
    *unload_option("single-false", "SINGLE = FALSE", f"{DB_CSV} SINGLE = FALSE", single=False),
    *unload_option(
        "max-file-size",
        "MAX_FILE_SIZE = 16000000",
        f"{DB_CSV} MAX_FILE_SIZE = 16000000",
        max_file_size=16_000_000,
    ),
    *unload_option(
        "max-file-size-5gb",
        "MAX_FILE_SIZE = 5368709120",
        f"{DB_CSV} MAX_FILE_SIZE = 5368709120",
        max_file_size=5 * 1024**3,
    ),
    *unload_option(
        "include-query-id",
        "INCLUDE_QUERY_ID = TRUE",
        f"{DB_CSV} INCLUDE_QUERY_ID = TRUE",
        include_query_id=True,
    ),
    *unload_option(
        "detailed-output",
        "DETAILED_OUTPUT = TRUE",
        f"{DB_CSV} DETAILED_OUTPUT = TRUE",
        detailed_output=True,
    ),
    *unload_option(
        "validation-mode",
        "VALIDATION_MODE = RETURN_ROWS",
        Raises(r"unload option\(s\) VALIDATION_MODE is not supported on Databend"),
        validation_mode="return_rows",
    ),
    *unload_option(
        "header-true",
        "HEADER = TRUE",
        "FILE_FORMAT = (TYPE = CSV COMPRESSION = GZIP OUTPUT_HEADER = TRUE)",
        header=True,
    ),
    *unload_option(
        "header-false",
        "HEADER = FALSE",
        "FILE_FORMAT = (TYPE = CSV COMPRESSION = GZIP OUTPUT_HEADER = FALSE)",
        header=False,
    ),
    *unload_option(
        "all-options-in-spec-order",
        "FILE_FORMAT = (TYPE = CSV) OVERWRITE = FALSE SINGLE = TRUE MAX_FILE_SIZE = 100 "
        "DETAILED_OUTPUT = FALSE HEADER = TRUE",
        "FILE_FORMAT = (TYPE = CSV COMPRESSION = GZIP OUTPUT_HEADER = TRUE) OVERWRITE = FALSE "
        "SINGLE = TRUE MAX_FILE_SIZE = 100 DETAILED_OUTPUT = FALSE",
        header=True,
        detailed_output=False,
        max_file_size=100,
        single=True,
        overwrite=False,
        file_format=CSV,
    ),
    *unload_option(
        "header-parquet",
        "FILE_FORMAT = (TYPE = PARQUET) HEADER = TRUE",
        "FILE_FORMAT = (TYPE = PARQUET)",
        header=True,
        file_format=Parquet(),
    ),
    *unload_option(
        "header-false-parquet",
        "FILE_FORMAT = (TYPE = PARQUET) HEADER = FALSE",
        Raises(r"HEADER = FALSE for Parquet is not supported on Databend"),
        header=False,
        file_format=Parquet(),
    ),
    *unload_option(
        "header-json",
        "FILE_FORMAT = (TYPE = JSON) HEADER = TRUE",
        "FILE_FORMAT = (TYPE = NDJSON COMPRESSION = GZIP)",
        header=True,
        file_format=JSON(),
    ),
    *unload_option(
        "header-named-format",
        "FILE_FORMAT = (FORMAT_NAME = 'ff') HEADER = TRUE",
        Raises(r"HEADER with a named format is not supported on Databend"),
        header=True,
        file_format=FileFormat("ff"),
    ),
    *unload_option(
        "partition-by-expression",
        "PARTITION BY 'date=' || to_varchar(d) FILE_FORMAT = (TYPE = PARQUET)",
        "PARTITION BY (concat(%(param_1)s, to_varchar(d))) FILE_FORMAT = (TYPE = PARQUET)",
        partition_by=sa.literal("date=") + sa.func.to_varchar(sa.column("d")),
        file_format=Parquet(),
    ),
    *unload_option(
        "partition-by-text",
        "PARTITION BY region",
        f"PARTITION BY (region) {DB_CSV}",
        partition_by="region",
    ),
    *unload_option(
        "partition-by-with-overwrite",
        "PARTITION BY region OVERWRITE = TRUE",
        Raises(r"^PARTITION BY with OVERWRITE = TRUE is not supported on Databend"),
        partition_by="region",
        overwrite=True,
    ),
    *unload_option(
        "partition-by-without-query-id",
        "PARTITION BY region INCLUDE_QUERY_ID = FALSE",
        Raises(r"^PARTITION BY with INCLUDE_QUERY_ID = FALSE is not supported on Databend"),
        partition_by="region",
        include_query_id=False,
    ),
]


def load_option(
    case_id: str, default_tail: str, databend: str | Raises, **options: Any
) -> list[Any]:
    """``COPY INTO mytable FROM @s <options>``."""
    if isinstance(databend, str):
        databend = f"COPY INTO mytable FROM @s {databend}"
    return copy_case(
        case_id,
        CopyInto(mytable, s, **options),
        f"COPY INTO mytable FROM @s {default_tail}",
        databend=databend,
    )


DB_LOAD_CSV = "FILE_FORMAT = (TYPE = CSV COMPRESSION = AUTO)"

LOAD_OPTIONS = [
    *load_option(
        "files",
        "FILES = ('a.csv', 'b 1.csv')",
        f"FILES = ('a.csv', 'b 1.csv') {DB_LOAD_CSV}",
        files=["a.csv", "b 1.csv"],
    ),
    *load_option(
        "files-one", "FILES = ('a.csv')", f"FILES = ('a.csv') {DB_LOAD_CSV}", files="a.csv"
    ),
    *load_option(
        "pattern", "PATTERN = '.*[.]csv'", f"PATTERN = '.*[.]csv' {DB_LOAD_CSV}", pattern=".*[.]csv"
    ),
    *load_option(
        "pattern-percent",
        "PATTERN = '.*%.csv'",
        f"PATTERN = '.*%%.csv' {DB_LOAD_CSV}",
        pattern=".*%.csv",
    ),
    *load_option(
        "on-error-continue",
        "ON_ERROR = CONTINUE",
        f"{DB_LOAD_CSV} ON_ERROR = CONTINUE",
        on_error="continue",
    ),
    *load_option(
        "on-error-skip-file",
        "ON_ERROR = SKIP_FILE",
        f"{DB_LOAD_CSV} ON_ERROR = SKIP_FILE",
        on_error="SKIP_FILE",
    ),
    *load_option(
        "on-error-skip-file-n",
        "ON_ERROR = SKIP_FILE_10",
        f"{DB_LOAD_CSV} ON_ERROR = SKIP_FILE_10",
        on_error="skip_file_10",
    ),
    *load_option(
        "on-error-skip-file-percent",
        "ON_ERROR = 'SKIP_FILE_10%'",
        Raises(r"^ON_ERROR = SKIP_FILE_10% is not supported on Databend"),
        on_error="skip_file_10%",
    ),
    *load_option(
        "on-error-abort",
        "ON_ERROR = ABORT_STATEMENT",
        f"{DB_LOAD_CSV} ON_ERROR = ABORT",
        on_error="abort_statement",
    ),
    *load_option("force", "FORCE = TRUE", f"{DB_LOAD_CSV} FORCE = TRUE", force=True),
    *load_option("purge", "PURGE = FALSE", f"{DB_LOAD_CSV} PURGE = FALSE", purge=False),
    *load_option(
        "match-by-column-name",
        "MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE",
        Raises(r"load option\(s\) MATCH_BY_COLUMN_NAME is not supported on Databend"),
        match_by_column_name="case_insensitive",
    ),
    *load_option(
        "match-by-column-name-none",
        "MATCH_BY_COLUMN_NAME = NONE",
        Raises(r"load option\(s\) MATCH_BY_COLUMN_NAME is not supported on Databend"),
        match_by_column_name=None,
    ),
    *load_option(
        "validation-mode-errors",
        "VALIDATION_MODE = RETURN_ERRORS",
        Raises(r"load option\(s\) VALIDATION_MODE is not supported on Databend"),
        validation_mode="RETURN_ERRORS",
    ),
    *load_option(
        "validation-mode-all-errors",
        "VALIDATION_MODE = RETURN_ALL_ERRORS",
        Raises(r"load option\(s\) VALIDATION_MODE is not supported on Databend"),
        validation_mode="return_all_errors",
    ),
    *load_option(
        "validation-mode-n-rows",
        "VALIDATION_MODE = RETURN_10_ROWS",
        Raises(r"load option\(s\) VALIDATION_MODE is not supported on Databend"),
        validation_mode="return_10_rows",
    ),
    *load_option(
        "files-pattern-before-format-rest-after",
        "FILES = ('a.csv') PATTERN = 'a.*' FILE_FORMAT = (TYPE = CSV) ON_ERROR = CONTINUE "
        "FORCE = TRUE PURGE = TRUE",
        "FILES = ('a.csv') PATTERN = 'a.*' FILE_FORMAT = (TYPE = CSV COMPRESSION = AUTO) "
        "ON_ERROR = CONTINUE FORCE = TRUE PURGE = TRUE",
        purge=True,
        force=True,
        on_error="continue",
        pattern="a.*",
        files=("a.csv",),
        file_format=CSV(),
    ),
    *copy_case(
        "load-columns",
        CopyInto(mytable, s / "p/", columns=[mytable.c.id, "name"]),
        "COPY INTO mytable (id, name) FROM @s/p/",
        databend=f"COPY INTO mytable (id, name) FROM @s/p/ {DB_LOAD_CSV}",
    ),
    *copy_case(
        "load-from-url-credentials",
        CopyInto(
            mytable,
            "s3://bucket/data/",
            credentials={"aws_key_id": "K", "aws_secret_key": "S"},
            encryption={"type": "AWS_SSE_S3"},
            pattern=".*",
        ),
        "COPY INTO mytable FROM 's3://bucket/data/' CREDENTIALS = (AWS_KEY_ID = 'K' "
        "AWS_SECRET_KEY = 'S') ENCRYPTION = (TYPE = 'AWS_SSE_S3') PATTERN = '.*'",
        databend=Raises(r"^ENCRYPTION is not supported on Databend"),
    ),
    *copy_case(
        "load-from-url-connection",
        CopyInto(
            mytable,
            "s3://bucket/data/",
            credentials={"aws_key_id": "K", "aws_secret_key": "S", "region": "us-east-2"},
            pattern=".*",
        ),
        "COPY INTO mytable FROM 's3://bucket/data/' CREDENTIALS = (AWS_KEY_ID = 'K' "
        "AWS_SECRET_KEY = 'S' REGION = 'us-east-2') PATTERN = '.*'",
        snowflake=Raises(r"the credential 'region' is not supported on Snowflake"),
        databend="COPY INTO mytable FROM 's3://bucket/data/' CONNECTION = (ACCESS_KEY_ID = 'K' "
        f"SECRET_ACCESS_KEY = 'S' REGION = 'us-east-2') PATTERN = '.*' {DB_LOAD_CSV}",
    ),
    *copy_case(
        "load-from-local-folder",
        CopyInto(mytable, "/data/in/", file_format=Parquet()),
        "COPY INTO mytable FROM '/data/in/' FILE_FORMAT = (TYPE = PARQUET)",
        snowflake=Raises(r"^the local location '/data/in/' is not supported on Snowflake"),
        databend="COPY INTO mytable FROM 'fs:///data/in/' FILE_FORMAT = (TYPE = PARQUET)",
    ),
    *copy_case(
        "load-transform-staged-options-move-to-copy-on-databend",
        CopyInto(
            mytable,
            sa.select(sa.literal_column("$1"), sa.literal_column("$2")).select_from(
                staged(s / "p/", file_format=FileFormat("ff"), pattern=".*[.]csv")
            ),
        ),
        "COPY INTO mytable FROM (SELECT $1, $2 \nFROM @s/p/ "
        "(FILE_FORMAT => 'ff', PATTERN => '.*[.]csv'))",
        databend="COPY INTO mytable FROM (SELECT $1, $2 \nFROM @s/p/) PATTERN = '.*[.]csv' "
        "FILE_FORMAT = (FORMAT_NAME = 'ff')",
    ),
    *copy_case(
        "load-transform-copy-format",
        CopyInto(
            mytable,
            sa.select(sa.literal_column("t.$1")).select_from(staged(s)),
            file_format=Parquet(),
            pattern=".*",
        ),
        "COPY INTO mytable FROM (SELECT t.$1 \nFROM @s) PATTERN = '.*' "
        "FILE_FORMAT = (TYPE = PARQUET)",
    ),
    *copy_case(
        "load-transform-conflicting-formats",
        CopyInto(
            mytable,
            sa.select(star).select_from(staged(s, file_format=FileFormat("a"))),
            file_format=Parquet(),
        ),
        "COPY INTO mytable FROM (SELECT * \nFROM @s (FILE_FORMAT => 'a')) "
        "FILE_FORMAT = (TYPE = PARQUET)",
        databend=Raises(
            r"different formats or patterns for the staged files and the COPY is "
            r"not supported on Databend"
        ),
    ),
]

# --- credentials and encryption --------------------------------------------------------


def create_external(case_id: str, stage: Stage, default: str, **kw: Any) -> list[Any]:
    return golden(case_id, CreateStage(stage), default, **kw)


CREDENTIALS = [
    *create_external(
        "stage-keys",
        Stage("e", url="s3://b/p/", credentials={"aws_key_id": "K", "aws_secret_key": "S"}),
        "CREATE STAGE e URL = 's3://b/p/' CREDENTIALS = (AWS_KEY_ID = 'K' AWS_SECRET_KEY = 'S')",
        databend="CREATE STAGE e URL = 's3://b/p/' "
        "CONNECTION = (ACCESS_KEY_ID = 'K' SECRET_ACCESS_KEY = 'S')",
        mysql="CREATE STAGE e URL = 's3://b/p/' "
        "CREDENTIALS = {\"access_key_id\"='K', \"secret_access_key\"='S'}",
    ),
    *create_external(
        "stage-keys-token",
        Stage(
            "e",
            url="s3://b/p/",
            credentials={"aws_token": "T", "aws_secret_key": "S", "aws_key_id": "K"},
        ),
        "CREATE STAGE e URL = 's3://b/p/' "
        "CREDENTIALS = (AWS_KEY_ID = 'K' AWS_SECRET_KEY = 'S' AWS_TOKEN = 'T')",
        databend="CREATE STAGE e URL = 's3://b/p/' "
        "CONNECTION = (ACCESS_KEY_ID = 'K' SECRET_ACCESS_KEY = 'S' SESSION_TOKEN = 'T')",
        mysql=Raises(r"the credential 'aws_token' is not supported on MatrixOne"),
    ),
    *create_external(
        "stage-role",
        Stage("e", url="s3://b/p/", credentials={"aws_role": "arn:aws:iam::1:role/r"}),
        "CREATE STAGE e URL = 's3://b/p/' CREDENTIALS = (AWS_ROLE = 'arn:aws:iam::1:role/r')",
        databend="CREATE STAGE e URL = 's3://b/p/' "
        "CONNECTION = (ROLE_ARN = 'arn:aws:iam::1:role/r')",
        mysql=Raises(r"the credential 'aws_role' is not supported on MatrixOne"),
    ),
    *create_external(
        "stage-sas",
        Stage(
            "e",
            url="azure://a.blob.core.windows.net/c/",
            credentials={"azure_sas_token": "?sv=1&sig=x"},
        ),
        "CREATE STAGE e URL = 'azure://a.blob.core.windows.net/c/' "
        "CREDENTIALS = (AZURE_SAS_TOKEN = '?sv=1&sig=x')",
        databend=Raises(r"the credential 'azure_sas_token' is not supported on Databend"),
        mysql=Raises(r"the credential 'azure_sas_token' is not supported on MatrixOne"),
    ),
    *create_external(
        "stage-endpoint-only",
        Stage("e", url="s3://b/", credentials={"endpoint_url": "http://127.0.0.1:9000/"}),
        "CREATE STAGE e URL = 's3://b/' CREDENTIALS = (ENDPOINT_URL = 'http://127.0.0.1:9000/')",
        snowflake="CREATE STAGE e URL = 's3compat://b/' ENDPOINT = '127.0.0.1:9000'",
        databend="CREATE STAGE e URL = 's3://b/' CONNECTION = (ENDPOINT_URL = 'http://127.0.0.1:9000/')",
        mysql="CREATE STAGE e URL = 's3://b/' CREDENTIALS = {\"endpoint\"='http://127.0.0.1:9000/'}",
    ),
    *create_external(
        "stage-endpoint-gcs",
        Stage("e", url="gcs://b/", credentials={"endpoint_url": "https://storage.example"}),
        "CREATE STAGE e URL = 'gcs://b/' CREDENTIALS = (ENDPOINT_URL = 'https://storage.example')",
        snowflake=Raises(r"an endpoint_url for a gcs:// URL is not supported on Snowflake"),
        databend="CREATE STAGE e URL = 'gcs://b/' "
        "CONNECTION = (ENDPOINT_URL = 'https://storage.example')",
        mysql="CREATE STAGE e URL = 'gcs://b/' CREDENTIALS = {\"endpoint\"='https://storage.example'}",
    ),
    *create_external(
        "stage-region",
        Stage(
            "e",
            url="s3://b/",
            credentials={"region": "eu-west-1", "aws_key_id": "K", "aws_secret_key": "S"},
        ),
        "CREATE STAGE e URL = 's3://b/' "
        "CREDENTIALS = (AWS_KEY_ID = 'K' AWS_SECRET_KEY = 'S' REGION = 'eu-west-1')",
        snowflake=Raises(r"the credential 'region' is not supported on Snowflake"),
        databend="CREATE STAGE e URL = 's3://b/' "
        "CONNECTION = (ACCESS_KEY_ID = 'K' SECRET_ACCESS_KEY = 'S' REGION = 'eu-west-1')",
        mysql="CREATE STAGE e URL = 's3://b/' CREDENTIALS = "
        "{\"access_key_id\"='K', \"secret_access_key\"='S', \"region\"='eu-west-1'}",
    ),
    *create_external(
        "stage-secret-with-quote",
        Stage("e", url="s3://b/", credentials={"aws_key_id": "K", "aws_secret_key": "a'b"}),
        "CREATE STAGE e URL = 's3://b/' CREDENTIALS = (AWS_KEY_ID = 'K' AWS_SECRET_KEY = 'a''b')",
        databend="CREATE STAGE e URL = 's3://b/' "
        "CONNECTION = (ACCESS_KEY_ID = 'K' SECRET_ACCESS_KEY = 'a''b')",
        mysql="CREATE STAGE e URL = 's3://b/' "
        "CREDENTIALS = {\"access_key_id\"='K', \"secret_access_key\"='a''b'}",
    ),
    *create_external(
        "stage-storage-integration",
        Stage("e", url="gcs://b/", storage_integration="gcs_int"),
        "CREATE STAGE e URL = 'gcs://b/' STORAGE_INTEGRATION = gcs_int",
        databend=Raises(r"^STORAGE_INTEGRATION is not supported on Databend"),
        mysql=Raises(r"^a storage integration is not supported on MatrixOne"),
    ),
    *create_external(
        "stage-local-folder",
        Stage("e", url="/data/files/"),
        "CREATE STAGE e URL = '/data/files/'",
        snowflake=Raises(r"^the local location '/data/files/' is not supported on Snowflake"),
        databend="CREATE STAGE e URL = 'fs:///data/files/'",
    ),
    *create_external(
        "stage-file-url",
        Stage("e", url="file:///data/files/"),
        "CREATE STAGE e URL = 'file:///data/files/'",
        snowflake=Raises(r"the local location 'file:///data/files/' is not supported on Snowflake"),
        databend="CREATE STAGE e URL = 'fs:///data/files/'",
    ),
    *copy_case(
        "copy-url-role",
        CopyInto("s3://b/u/", mytable, credentials={"aws_role": "arn:r"}),
        "COPY INTO 's3://b/u/' FROM mytable CREDENTIALS = (AWS_ROLE = 'arn:r')",
        databend=f"COPY INTO 's3://b/u/' CONNECTION = (ROLE_ARN = 'arn:r') FROM mytable {DB_CSV}",
    ),
    *copy_case(
        "copy-url-endpoint",
        CopyInto(
            "s3://b/u/",
            mytable,
            credentials={
                "endpoint_url": "http://minio:9000",
                "aws_key_id": "K",
                "aws_secret_key": "S",
            },
        ),
        "COPY INTO 's3://b/u/' FROM mytable "
        "CREDENTIALS = (AWS_KEY_ID = 'K' AWS_SECRET_KEY = 'S' ENDPOINT_URL = 'http://minio:9000')",
        snowflake=Raises(
            r"an endpoint_url on an ad hoc COPY location is not supported on Snowflake"
        ),
        databend="COPY INTO 's3://b/u/' CONNECTION = (ACCESS_KEY_ID = 'K' SECRET_ACCESS_KEY = 'S' "
        f"ENDPOINT_URL = 'http://minio:9000') FROM mytable {DB_CSV}",
    ),
    *copy_case(
        "copy-url-local-folder",
        CopyInto("/exports/", mytable),
        "COPY INTO '/exports/' FROM mytable",
        snowflake=Raises(r"^the local location '/exports/' is not supported on Snowflake"),
        databend=f"COPY INTO 'fs:///exports/' FROM mytable {DB_CSV}",
    ),
]


def encrypted_copy(case_id: str, url: str, encryption: dict[str, str], clause: str) -> list[Any]:
    return copy_case(
        case_id,
        CopyInto(url, mytable, encryption=encryption),
        f"COPY INTO '{url}' FROM mytable {clause}",
        databend=Raises(r"^ENCRYPTION is not supported on Databend"),
    )


ENCRYPTION = [
    *encrypted_copy(
        "aws-cse",
        "s3://b/",
        {"type": "aws_cse", "master_key": "MK=="},
        "ENCRYPTION = (TYPE = 'AWS_CSE' MASTER_KEY = 'MK==')",
    ),
    *encrypted_copy(
        "aws-cse-implied-by-master-key",
        "s3://b/",
        {"master_key": "MK=="},
        "ENCRYPTION = (TYPE = 'AWS_CSE' MASTER_KEY = 'MK==')",
    ),
    *encrypted_copy(
        "aws-sse-s3", "s3://b/", {"type": "AWS_SSE_S3"}, "ENCRYPTION = (TYPE = 'AWS_SSE_S3')"
    ),
    *encrypted_copy(
        "aws-sse-kms", "s3://b/", {"type": "AWS_SSE_KMS"}, "ENCRYPTION = (TYPE = 'AWS_SSE_KMS')"
    ),
    *encrypted_copy(
        "aws-sse-kms-key",
        "s3://b/",
        {"type": "AWS_SSE_KMS", "kms_key_id": "kms-1"},
        "ENCRYPTION = (TYPE = 'AWS_SSE_KMS' KMS_KEY_ID = 'kms-1')",
    ),
    *encrypted_copy(
        "gcs-sse-kms",
        "gcs://b/",
        {"type": "GCS_SSE_KMS", "kms_key_id": "k"},
        "ENCRYPTION = (TYPE = 'GCS_SSE_KMS' KMS_KEY_ID = 'k')",
    ),
    *encrypted_copy(
        "azure-cse",
        "azure://a.blob.core.windows.net/c/",
        {"type": "AZURE_CSE", "master_key": "MK"},
        "ENCRYPTION = (TYPE = 'AZURE_CSE' MASTER_KEY = 'MK')",
    ),
    *encrypted_copy("none", "gcs://b/", {"type": "none"}, "ENCRYPTION = (TYPE = NONE)"),
    *golden(
        "internal-snowflake-full",
        CreateStage(Stage("i", encryption={"type": "SNOWFLAKE_FULL"})),
        "CREATE STAGE i ENCRYPTION = (TYPE = 'SNOWFLAKE_FULL')",
        databend=Raises(r"^ENCRYPTION is not supported on Databend"),
        mysql=Raises(r"^a stage without a URL is not supported on MatrixOne"),
    ),
    *golden(
        "internal-snowflake-sse",
        CreateStage(Stage("i", encryption={"type": "snowflake_sse"})),
        "CREATE STAGE i ENCRYPTION = (TYPE = 'SNOWFLAKE_SSE')",
        databend=Raises(r"^ENCRYPTION is not supported on Databend"),
        mysql=Raises(r"^a stage without a URL is not supported on MatrixOne"),
    ),
    *golden(
        "external-stage-kms",
        CreateStage(
            Stage(
                "e",
                url="s3://b/",
                storage_integration="si",
                encryption={"type": "AWS_SSE_KMS", "kms_key_id": "k"},
            )
        ),
        "CREATE STAGE e URL = 's3://b/' STORAGE_INTEGRATION = si "
        "ENCRYPTION = (TYPE = 'AWS_SSE_KMS' KMS_KEY_ID = 'k')",
        databend=Raises(r"^ENCRYPTION is not supported on Databend"),
        mysql=Raises(r"^stage encryption is not supported on MatrixOne"),
    ),
]

# --- stage DDL -------------------------------------------------------------------------

DDL = [
    *golden(
        "create-or-replace",
        CreateStage(Stage("s", url="s3://b/"), or_replace=True),
        "CREATE OR REPLACE STAGE s URL = 's3://b/'",
        mysql=Raises(r"^OR REPLACE is not supported on MatrixOne"),
    ),
    *golden(
        "create-if-not-exists",
        CreateStage(Stage("s", url="s3://b/"), if_not_exists=True),
        "CREATE STAGE IF NOT EXISTS s URL = 's3://b/'",
    ),
    *golden(
        "create-temporary",
        CreateStage(Stage("s", temporary=True), if_not_exists=True),
        "CREATE TEMPORARY STAGE IF NOT EXISTS s",
        databend=Raises(r"^a temporary stage is not supported on Databend"),
        mysql=Raises(r"stage without a URL is not supported on MatrixOne"),
    ),
    *golden(
        "create-temporary-external",
        CreateStage(Stage("s", url="s3://b/", temporary=True)),
        "CREATE TEMPORARY STAGE s URL = 's3://b/'",
        databend=Raises(r"^a temporary stage is not supported on Databend"),
        mysql=Raises(r"^a temporary stage is not supported on MatrixOne"),
    ),
    *golden(
        "create-directory-false",
        CreateStage(Stage("s", url="s3://b/", directory=False)),
        "CREATE STAGE s URL = 's3://b/' DIRECTORY = (ENABLE = FALSE)",
        databend=Raises(r"^a stage directory table is not supported on Databend"),
        mysql="CREATE STAGE s URL = 's3://b/' ENABLE = FALSE",
    ),
    *golden(
        "create-comment",
        CreateStage(Stage("s", url="s3://b/", comment="it's nightly")),
        "CREATE STAGE s URL = 's3://b/' COMMENT = 'it''s nightly'",
    ),
    *golden(
        "create-schema-qualified",
        CreateStage(Stage("s", schema="db.sch", url="s3://b/")),
        "CREATE STAGE db.sch.s URL = 's3://b/'",
        databend=Raises(r"schema-qualified stage 'db.sch.s' is not supported on Databend"),
        mysql=Raises(r"schema-qualified stage 'db.sch.s' is not supported on MatrixOne"),
    ),
    *golden(
        "create-quoted-name",
        CreateStage(Stage("My Stage", url="s3://b/")),
        "CREATE STAGE \"My Stage\" URL = 's3://b/'",
        databend=Raises(r"the stage name 'My Stage' is not supported on Databend"),
        mysql="CREATE STAGE `My Stage` URL = 's3://b/'",
    ),
    *golden(
        "create-format-and-copy-options",
        CreateStage(
            Stage(
                "s",
                file_format=CSV(compression="gzip", skip_header=1),
                copy_options={"size_limit": 100, "on_error": "continue"},
            )
        ),
        "CREATE STAGE s FILE_FORMAT = (TYPE = CSV COMPRESSION = GZIP SKIP_HEADER = 1) "
        "COPY_OPTIONS = (ON_ERROR = CONTINUE SIZE_LIMIT = 100)",
        databend="CREATE STAGE s FILE_FORMAT = (TYPE = CSV COMPRESSION = GZIP SKIP_HEADER = 1) "
        "ON_ERROR = CONTINUE SIZE_LIMIT = 100",
        mysql=Raises(r"stage without a URL is not supported on MatrixOne"),
    ),
    *golden(
        "create-all-stage-copy-options",
        CreateStage(
            Stage(
                "s",
                copy_options={
                    "match_by_column_name": "case_sensitive",
                    "force": True,
                    "purge": False,
                    "size_limit": 1,
                    "on_error": "abort_statement",
                },
            )
        ),
        "CREATE STAGE s COPY_OPTIONS = (ON_ERROR = ABORT_STATEMENT SIZE_LIMIT = 1 PURGE = FALSE "
        "FORCE = TRUE MATCH_BY_COLUMN_NAME = CASE_SENSITIVE)",
        databend=Raises(r"the stage copy option PURGE is not supported on Databend"),
        mysql=Raises(r"stage without a URL is not supported on MatrixOne"),
    ),
    *golden(
        "create-stage-on-error-abort",
        CreateStage(Stage("s", copy_options={"on_error": "ABORT_STATEMENT"})),
        "CREATE STAGE s COPY_OPTIONS = (ON_ERROR = ABORT_STATEMENT)",
        databend="CREATE STAGE s ON_ERROR = ABORT",
        mysql=Raises(r"stage without a URL is not supported on MatrixOne"),
    ),
    *golden(
        "create-stage-named-format",
        CreateStage(Stage("s", file_format=FileFormat("ff"))),
        "CREATE STAGE s FILE_FORMAT = (FORMAT_NAME = 'ff')",
        mysql=Raises(r"stage without a URL is not supported on MatrixOne"),
    ),
    *golden(
        "create-stage-format-on-matrixone",
        CreateStage(Stage("s", url="s3://b/", file_format=Parquet())),
        "CREATE STAGE s URL = 's3://b/' FILE_FORMAT = (TYPE = PARQUET)",
        mysql=Raises(r"^a stage file format is not supported on MatrixOne"),
    ),
    *golden(
        "create-stage-copy-options-on-matrixone",
        CreateStage(Stage("s", url="s3://b/", copy_options={"purge": True})),
        "CREATE STAGE s URL = 's3://b/' COPY_OPTIONS = (PURGE = TRUE)",
        databend=Raises(r"the stage copy option PURGE is not supported on Databend"),
        mysql=Raises(r"^stage copy options is not supported on MatrixOne"),
    ),
    *golden("drop", DropStage(Stage("s")), "DROP STAGE s"),
    *golden("drop-by-name", DropStage("s"), "DROP STAGE s"),
    *golden("drop-if-exists", DropStage("s", if_exists=True), "DROP STAGE IF EXISTS s"),
    *golden(
        "drop-schema-qualified",
        DropStage(Stage("s", schema="sch"), if_exists=True),
        "DROP STAGE IF EXISTS sch.s",
        databend=Raises(r"schema-qualified stage 'sch.s' is not supported on Databend"),
        mysql=Raises(r"schema-qualified stage 'sch.s' is not supported on MatrixOne"),
    ),
    *golden(
        "describe",
        DescribeStage(Stage("s", schema="sch")),
        "DESC STAGE sch.s",
        databend=Raises(r"schema-qualified stage 'sch.s' is not supported on Databend"),
        mysql=Raises(r"^DESC STAGE is not supported on MatrixOne"),
    ),
    *golden(
        "describe-by-name",
        DescribeStage("my_internal_stage"),
        "DESC STAGE my_internal_stage",
        mysql=Raises(r"^DESC STAGE is not supported on MatrixOne"),
    ),
    *golden(
        "describe-user",
        DescribeStage(me),
        "DESC STAGE @~",
        snowflake=Raises(r"^DESC STAGE @~ is not supported on Snowflake"),
        mysql=Raises(r"^DESC STAGE is not supported on MatrixOne"),
    ),
    *golden(
        "describe-table-stage",
        DescribeStage(Stage.table(t1)),
        "DESC STAGE @%t1",
        snowflake=Raises(r"^DESC STAGE @%t1 is not supported on Snowflake"),
        databend=Raises(r"table stage @%t1 is not supported on Databend"),
        mysql=Raises(r"^DESC STAGE is not supported on MatrixOne"),
    ),
    *golden("show", ShowStages(), "SHOW STAGES"),
    *golden(
        "show-like",
        ShowStages(like="my%"),
        "SHOW STAGES LIKE 'my%'",
        databend=Raises(r"^SHOW STAGES LIKE is not supported on Databend"),
    ),
    *golden(
        "create-file-format-csv",
        CreateFileFormat("my_csv_format", CSV(field_delimiter="|", skip_header=1)),
        "CREATE FILE FORMAT my_csv_format TYPE = CSV FIELD_DELIMITER = '|' SKIP_HEADER = 1",
        mysql=Raises(r"^CREATE FILE FORMAT is not supported on MatrixOne"),
    ),
    *golden(
        "create-file-format-json-if-not-exists",
        CreateFileFormat("jf", JSON(compression="gzip"), if_not_exists=True),
        "CREATE FILE FORMAT IF NOT EXISTS jf TYPE = JSON COMPRESSION = GZIP",
        databend="CREATE FILE FORMAT IF NOT EXISTS jf TYPE = NDJSON COMPRESSION = GZIP",
        mysql=Raises(r"^CREATE FILE FORMAT is not supported on MatrixOne"),
    ),
    *golden(
        "create-file-format-parquet-or-replace",
        CreateFileFormat("pf", Parquet, or_replace=True),
        "CREATE OR REPLACE FILE FORMAT pf TYPE = PARQUET",
        mysql=Raises(r"^CREATE FILE FORMAT is not supported on MatrixOne"),
    ),
    *golden(
        "create-file-format-temporary-comment-schema",
        CreateFileFormat("ff", "csv", schema="sch", temporary=True, comment="c"),
        "CREATE TEMPORARY FILE FORMAT sch.ff TYPE = CSV COMMENT = 'c'",
        databend=Raises(r"^TEMPORARY or COMMENT on a file format is not supported on Databend"),
        mysql=Raises(r"^CREATE FILE FORMAT is not supported on MatrixOne"),
    ),
    *golden(
        "create-file-format-schema",
        CreateFileFormat("ff", CSV(), schema="sch"),
        "CREATE FILE FORMAT sch.ff TYPE = CSV",
        databend=Raises(r"schema-qualified file format 'sch.ff' is not supported on Databend"),
        mysql=Raises(r"^CREATE FILE FORMAT is not supported on MatrixOne"),
    ),
    *golden(
        "drop-file-format",
        DropFileFormat("ff", if_exists=True),
        "DROP FILE FORMAT IF EXISTS ff",
        mysql=Raises(r"^DROP FILE FORMAT is not supported on MatrixOne"),
    ),
    *golden(
        "drop-file-format-schema",
        DropFileFormat("ff", schema="db.sch"),
        "DROP FILE FORMAT db.sch.ff",
        databend=Raises(r"schema-qualified file format 'db.sch.ff' is not supported on Databend"),
        mysql=Raises(r"^DROP FILE FORMAT is not supported on MatrixOne"),
    ),
]

# --- locations, files, PUT / GET / PRESIGN, staged() ---------------------------------

NO_LIST = Raises(r"^LIST is not supported on MatrixOne")
NO_REMOVE = Raises(r"^REMOVE is not supported on MatrixOne")
NO_PRESIGN = Raises(r"^PRESIGN is not supported on MatrixOne")

FILES = [
    *golden(
        "list-path-pattern",
        ListFiles(s / "a/b/", pattern=r".*\.csv"),
        "LIST @s/a/b/ PATTERN = '.*\\.csv'",
        snowflake="LIST @s/a/b/ PATTERN = '.*\\\\.csv'",
        databend="LIST @s/a/b/ PATTERN = '.*\\\\.csv'",
        mysql=NO_LIST,
    ),
    *golden("list-text-location", ListFiles("@s/a/"), "LIST @s/a/", mysql=NO_LIST),
    *golden(
        "list-schema-stage",
        ListFiles(Stage("s", schema="db.sch") / "p"),
        "LIST @db.sch.s/p",
        databend=Raises(r"schema-qualified stage 'db.sch.s' is not supported on Databend"),
        mysql=NO_LIST,
    ),
    *golden(
        "list-table-stage-schema",
        ListFiles(Stage.table("t", schema="db.sch") / "p/"),
        "LIST @db.sch.%t/p/",
        databend=Raises(r"table stage @%t is not supported on Databend"),
        mysql=NO_LIST,
    ),
    *golden(
        "list-table-stage-from-table",
        ListFiles(Stage.table(sa.Table("tt", sa.MetaData(), schema="sch"))),
        "LIST @sch.%tt",
        databend=Raises(r"table stage @%tt is not supported on Databend"),
        mysql=NO_LIST,
    ),
    *golden(
        "list-quoted-path",
        ListFiles(s / "path 1/"),
        "LIST '@s/path 1/'",
        databend=Raises(r"LIST of the path 'path 1/' is not supported on Databend"),
        mysql=NO_LIST,
    ),
    *golden(
        "list-quoted-stage-name",
        ListFiles(Stage("My Stage")),
        'LIST @"My Stage"',
        databend=Raises(r"the stage name 'My Stage' is not supported on Databend"),
        mysql=NO_LIST,
    ),
    *golden("remove", RemoveFiles(s / "old/"), "REMOVE @s/old/", mysql=NO_REMOVE),
    *golden(
        "remove-quoted-path",
        RemoveFiles(me / "it's/", pattern="x"),
        "REMOVE '@~/it''s/' PATTERN = 'x'",
        databend=Raises(r"REMOVE of the path \"it's/\" is not supported on Databend"),
        mysql=NO_REMOVE,
    ),
    *golden(
        "presign",
        Presign(s / "a.csv"),
        "PRESIGN @s/a.csv",
        snowflake="SELECT GET_PRESIGNED_URL(@s, 'a.csv')",
        mysql=NO_PRESIGN,
    ),
    *golden(
        "presign-expire-download",
        Presign(s / "a.csv", expire=7200, method="download"),
        "PRESIGN DOWNLOAD @s/a.csv EXPIRE = 7200",
        snowflake="SELECT GET_PRESIGNED_URL(@s, 'a.csv', 7200)",
        mysql=NO_PRESIGN,
    ),
    *golden(
        "presign-upload",
        Presign(Stage("s", schema="sch") / "a.csv", method="UPLOAD"),
        "PRESIGN UPLOAD @sch.s/a.csv",
        snowflake=Raises(r"^PRESIGN UPLOAD is not supported on Snowflake"),
        databend=Raises(r"schema-qualified stage 'sch.s' is not supported on Databend"),
        mysql=NO_PRESIGN,
    ),
    *golden(
        "presign-quoted-path",
        Presign(s / "a b.csv"),
        "PRESIGN '@s/a b.csv'",
        snowflake="SELECT GET_PRESIGNED_URL(@s, 'a b.csv')",
        databend=Raises(r"PRESIGN of the path 'a b.csv' is not supported on Databend"),
        mysql=NO_PRESIGN,
    ),
    *golden(
        "put",
        Put("/tmp/data/mydata.csv", my_stage),
        "PUT 'file:///tmp/data/mydata.csv' @my_stage",
        databend=Raises(r"^PUT is not supported on Databend"),
        mysql=Raises(r"^PUT is not supported on MatrixOne"),
    ),
    *golden(
        "put-all-options",
        Put(
            "file:///tmp/data/*.csv",
            me / "in/",
            overwrite=True,
            source_compression="auto_detect",
            auto_compress=False,
            parallel=4,
        ),
        "PUT 'file:///tmp/data/*.csv' @~/in/ PARALLEL = 4 AUTO_COMPRESS = FALSE "
        "SOURCE_COMPRESSION = AUTO_DETECT OVERWRITE = TRUE",
        databend=Raises(r"^PUT is not supported on Databend"),
        mysql=Raises(r"^PUT is not supported on MatrixOne"),
    ),
    *golden(
        "put-table-stage",
        Put("/tmp/a b.csv", Stage.table(t1), source_compression="gzip"),
        "PUT 'file:///tmp/a b.csv' @%t1 SOURCE_COMPRESSION = GZIP",
        databend=Raises(r"^PUT is not supported on Databend"),
        mysql=Raises(r"^PUT is not supported on MatrixOne"),
    ),
    *golden(
        "get",
        Get(my_stage / "unload/", "/tmp/out/"),
        "GET @my_stage/unload/ 'file:///tmp/out/'",
        databend=Raises(r"^GET is not supported on Databend"),
        mysql=Raises(r"^GET is not supported on MatrixOne"),
    ),
    *golden(
        "get-options",
        Get(me, "file:///tmp/out/", pattern=".*[.]gz", parallel=10),
        "GET @~ 'file:///tmp/out/' PARALLEL = 10 PATTERN = '.*[.]gz'",
        databend=Raises(r"^GET is not supported on Databend"),
        mysql=Raises(r"^GET is not supported on MatrixOne"),
    ),
    *golden(
        "put-external-stage",
        Put("/tmp/a.csv", EXTERNAL),
        "PUT 'file:///tmp/a.csv' @my_external_stage",
        snowflake=Raises(r"^PUT into an external stage is not supported on Snowflake"),
        databend=Raises(r"^PUT is not supported on Databend"),
        mysql=Raises(r"^PUT is not supported on MatrixOne"),
    ),
    *golden(
        "get-external-stage",
        Get(EXTERNAL / "x/", "/tmp/out/"),
        "GET @my_external_stage/x/ 'file:///tmp/out/'",
        snowflake=Raises(r"^GET from an external stage is not supported on Snowflake"),
        databend=Raises(r"^GET is not supported on Databend"),
        mysql=Raises(r"^GET is not supported on MatrixOne"),
    ),
]

STAGED = [
    *golden(
        "staged-bare",
        sa.select(sa.literal_column("$1")).select_from(staged(s / "p/")),
        "SELECT $1 \nFROM @s/p/",
        mysql=MO_STAGED,
    ),
    *golden(
        "staged-named-format-pattern",
        sa.select(sa.literal_column("$1"), sa.literal_column("$2")).select_from(
            staged(s, file_format=FileFormat("my_csv_format"), pattern=".*[.]csv")
        ),
        "SELECT $1, $2 \nFROM @s (FILE_FORMAT => 'my_csv_format', PATTERN => '.*[.]csv')",
        mysql=MO_STAGED,
    ),
    *golden(
        "staged-inline-type",
        sa.select(staged(me / "d/", file_format=Parquet(), columns=["a", "b"]).c.a),
        # Qualified by the files' alias: a join with a table's "a" compares the right column.
        "SELECT anon_1.a \nFROM @~/d/ (FILE_FORMAT => 'PARQUET') AS anon_1",
        snowflake=Raises(r"an inline PARQUET format on staged files is not supported on Snowflake"),
        mysql=MO_STAGED,
    ),
    *golden(
        "staged-json",
        sa.select(star).select_from(staged(s, file_format=JSON)),
        "SELECT * \nFROM @s (FILE_FORMAT => 'JSON')",
        snowflake=Raises(r"an inline JSON format on staged files is not supported on Snowflake"),
        databend="SELECT * \nFROM @s (FILE_FORMAT => 'NDJSON')",
        mysql=MO_STAGED,
    ),
    *golden(
        "staged-inline-options",
        sa.select(star).select_from(staged(s, file_format=CSV(skip_header=1))),
        Raises(r"^format options on staged files is not supported on the default dialect"),
        duckdb=Raises(r"^format options on staged files is not supported on DuckDB"),
        snowflake=Raises(r"an inline CSV format on staged files is not supported on Snowflake"),
        databend=Raises(r"^format options on staged files is not supported on Databend"),
        mysql=MO_STAGED,
    ),
    *golden(
        "staged-where-and-table-stage",
        sa.select(sa.literal_column("$1"))
        .select_from(staged(Stage.table(t1), pattern="a%"))
        .where(sa.literal_column("$2") == "x"),
        "SELECT $1 \nFROM @%t1 (PATTERN => 'a%') \nWHERE $2 = 'x'",
        databend=Raises(r"table stage @%t1 is not supported on Databend"),
        mysql=MO_STAGED,
    ),
]

# --- namespaces: [database.]schema, each part quoted on its own (issue 16) -------------

_ns_md = sa.MetaData()
t_db_schema = sa.Table("t", _ns_md, sa.Column("a", sa.Integer), schema="m.myschema")
t_quoted = sa.Table("t", _ns_md, sa.Column("a", sa.Integer), schema='"My Db".s')
NS_LOAD_DB = "FILE_FORMAT = (TYPE = CSV COMPRESSION = AUTO)"
NS_UNLOAD_DB = "FILE_FORMAT = (TYPE = CSV COMPRESSION = GZIP)"

NAMESPACES = [
    *copy_case(
        "ns-load-into-database-schema-table",
        CopyInto(t_db_schema, Stage("st") / "x/"),
        "COPY INTO m.myschema.t FROM @st/x/",
        databend=f"COPY INTO m.myschema.t FROM @st/x/ {NS_LOAD_DB}",
    ),
    *copy_case(
        "ns-unload-database-schema-table",
        CopyInto(Stage("st") / "", t_db_schema),
        "COPY INTO @st FROM m.myschema.t",
        databend=f"COPY INTO @st FROM m.myschema.t {NS_UNLOAD_DB}",
    ),
    *copy_case(
        "ns-quoted-parts",
        CopyInto(Stage("st", schema='"my.db".S') / "a/", t_quoted),
        'COPY INTO @"my.db"."S".st/a/ FROM "My Db".s.t',
        databend=Raises(r"schema-qualified stage '\"my.db\".S.st' is not supported on Databend"),
    ),
    *copy_case(
        "ns-table-stage-database-schema",
        CopyInto(t_db_schema, Stage.table("t", schema="m.myschema") / "x/"),
        "COPY INTO m.myschema.t FROM @m.myschema.%t/x/",
        databend=Raises(r"table stage @%t is not supported on Databend"),
    ),
    *golden(
        "ns-create-stage-dotted-database",
        CreateStage(Stage("st", schema='"my.db".sch', url="s3://b/")),
        """CREATE STAGE "my.db".sch.st URL = 's3://b/'""",
        databend=Raises(r"schema-qualified stage '\"my.db\".sch.st' is not supported on Databend"),
        mysql=Raises(r"schema-qualified stage '\"my.db\".sch.st' is not supported on MatrixOne"),
    ),
    *copy_case(
        "ns-format-name-dotted-database",
        CopyInto(t1, Stage("st") / "", file_format=FileFormat("ff", schema='"my.db".sch')),
        """COPY INTO t1 FROM @st FILE_FORMAT = (FORMAT_NAME = '"my.db".sch.ff')""",
        databend=Raises(r"schema-qualified file format '\"my.db\".sch.ff' is not supported"),
    ),
    *golden(
        "ns-load-data-database-schema-table",
        LoadData(t_db_schema, Stage("stage_fs") / "t.csv"),
        "LOAD DATA INFILE 'stage://stage_fs/t.csv' INTO TABLE m.myschema.t",
        snowflake=Raises(r"^LOAD DATA is not supported on Snowflake"),
        databend=Raises(r"^LOAD DATA is not supported on Databend"),
        mysql=Raises(r"table name 'm.myschema.t' is not supported on MatrixOne \(its tables"),
    ),
    *copy_case(
        "ns-unload-query-database-schema-table",
        CopyInto(Stage("st") / "", sa.select(t_db_schema.c.a)),
        'COPY INTO @st FROM (SELECT "m.myschema".t.a \nFROM "m.myschema".t)',
        duckdb="COPY INTO @st FROM (SELECT m.myschema.t.a \nFROM m.myschema.t)",
        snowflake="COPY INTO @st FROM (SELECT m.myschema.t.a \nFROM m.myschema.t)",
        databend=Raises(r"table 'm.myschema.t' inside a query is not supported on Databend"),
    ),
    *golden(
        "ns-into-outfile-database-schema-table",
        SelectIntoOutfile(sa.select(t_db_schema.c.a), Stage("stage1") / "t.csv"),
        'SELECT "m.myschema".t.a \nFROM "m.myschema".t INTO OUTFILE \'stage1:/t.csv\'',
        duckdb="SELECT m.myschema.t.a \nFROM m.myschema.t INTO OUTFILE 'stage1:/t.csv'",
        snowflake=Raises(r"INTO OUTFILE is not supported on Snowflake"),
        databend=Raises(r"INTO OUTFILE is not supported on Databend"),
        mysql=Raises(r"table 'm.myschema.t' inside a query is not supported on MatrixOne"),
    ),
    *golden(
        "ns-show-stages-in-schema",
        ShowStages("a%", in_schema='"My Db".s'),
        """SHOW STAGES LIKE 'a%' IN SCHEMA "My Db".s""",
        databend=Raises(r"SHOW STAGES LIKE is not supported on Databend"),
        mysql=Raises(r"SHOW STAGES IN SCHEMA is not supported on MatrixOne"),
    ),
    *golden(
        "ns-show-stages-in-account",
        ShowStages(in_account=True),
        "SHOW STAGES IN ACCOUNT",
        databend=Raises(r"SHOW STAGES IN ACCOUNT is not supported on Databend \(stages are global"),
        mysql=Raises(r"SHOW STAGES IN ACCOUNT is not supported on MatrixOne"),
    ),
]

ALL_CASES = [
    *SPEC_004,
    *SPEC_OTHERS,
    *FORMAT_OPTIONS,
    *LOAD_FORMATS,
    *UNLOAD_OPTIONS,
    *LOAD_OPTIONS,
    *CREDENTIALS,
    *ENCRYPTION,
    *DDL,
    *FILES,
    *STAGED,
    *NAMESPACES,
]


@pytest.mark.parametrize(("construct", "dialect", "expected"), ALL_CASES)
def test_golden(construct: Any, dialect: str, expected: str | Raises) -> None:
    check(construct, dialect, expected)


@pytest.mark.parametrize(
    ("construct", "expected"),
    [pytest.param(construct, text, id=case_id) for case_id, construct, text in WITH_SECRETS],
)
def test_render_secrets_shows_the_canonical_text(construct: Any, expected: str) -> None:
    """``render_secrets`` renders the real values on the default dialect (the registry's)."""
    compiled = construct.compile(compile_kwargs={"literal_binds": True, "render_secrets": True})
    assert str(compiled) == expected
    assert str(construct) == masked(expected)


def test_case_ids_are_unique() -> None:
    ids = [param.id for param in ALL_CASES]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize(
    "construct",
    [
        CreateStage(EXTERNAL),
        CopyInto(Stage.table(t1), t1),
        ListFiles(me / "a b/"),
        sa.select(star).select_from(staged(s)),
    ],
    ids=["ddl", "copy", "list", "staged"],
)
def test_str_is_the_default_dialect(construct: Any) -> None:
    """``str(construct)`` is the default dialect's text (no ``%`` doubling)."""
    assert str(construct) == compile_on(construct, "default")
    assert "%%" not in str(construct)


def test_percent_doubling_is_undone_by_the_driver_paramstyle() -> None:
    """A ``%%`` in pyformat text is one ``%`` once the DBAPI formats it."""
    text = compile_on(CopyInto(Stage.table(t1) / "p 1/", t1), "snowflake")
    assert text == "COPY INTO '@%%t1/p 1/' FROM t1"
    assert text % () == "COPY INTO '@%t1/p 1/' FROM t1"


def test_bind_parameters_without_literal_binds() -> None:
    """A query with a bound value keeps its parameter when not compiled with literal binds."""
    query = sa.select(star).select_from(orderstiny).where(sa.literal_column("id") == 5)
    compiled = CopyInto(my_stage, query).compile(dialect=DIALECTS["snowflake"])
    assert (
        str(compiled)
        == "COPY INTO @my_stage FROM (SELECT * \nFROM orderstiny \nWHERE id = %(id_1)s)"
    )
    assert compiled.params == {"id_1": 5}


@pytest.mark.parametrize(
    ("location", "problem"),
    [(Stage("My Stage") / "x.csv", "'My Stage'"), (Stage("s") / "/x.csv", "'/x.csv'")],
)
def test_outfile_targets_that_would_read_back_wrong_are_refused(location, problem):
    query = sa.select(sa.literal_column("id")).select_from(sa.table("users"))
    with pytest.raises(CompileError, match=problem):
        SelectIntoOutfile(query, location).compile(dialect=mysql.dialect())


def test_duckdb_literals_keep_backslashes_as_characters():
    """DuckDB strings are standard SQL: a backslash is data, on SQLAlchemy 2.0 and 2.1."""
    text = str(ListFiles(s, pattern=r".*\.csv").compile(dialect=duckdb_engine.Dialect()))
    assert text.endswith(r"PATTERN = '.*\.csv'")
