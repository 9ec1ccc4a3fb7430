"""Google Cloud Storage stages for real: gcsfs against fake-gcs-server on 127.0.0.1.

Every test gets its own bucket on the session's fake-gcs-server (``gcs_server`` /
``gcs_bucket`` in conftest, ``tests/gcs_server.py``). Objects are checked through the
server's JSON API with urllib, not through the runtime. The stages authenticate with a
throwaway service account key whose ``token_uri`` is the session's token endpoint
(``gcs_tokens``), so the OAuth exchange google-auth makes is real and stays on loopback.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa
from fault_proxy import CuttingProxy, SilentEndpoint
from gcs_server import FakeGCS, TokenServer, service_account_key
from stage_files import FRUIT_ROWS, create_table_t, rows_of

from sqla_stage import Presign, Stage
from sqla_stage.errors import StageOperationalError, StageProgrammingError, StageRuntimeError
from sqla_stage.runtime.storage.limits import StorageLimits
from sqla_stage.runtime.storage.stage_storage import SCRATCH_PREFIX

ROWS = FRUIT_ROWS


@pytest.fixture(scope="module")
def account(gcs_tokens: TokenServer) -> tuple[dict[str, str], Any]:
    """A service account key (its dict) and its public key."""
    return service_account_key(gcs_tokens.url)


def credentials_sql(server: FakeGCS | CuttingProxy, key: dict[str, str] | None) -> str:
    """``CREDENTIALS = (GCS_SERVICE_ACCOUNT_KEY = '<json>' ENDPOINT_URL = '...')``."""
    url = server.endpoint_url if isinstance(server, FakeGCS) else server.url
    given = f"GCS_SERVICE_ACCOUNT_KEY = '{json.dumps(key)}' " if key else ""
    return f"CREDENTIALS = ({given}ENDPOINT_URL = '{url}')"


@pytest.fixture
def stage(engine: Any, gcs_server: FakeGCS, gcs_bucket: str, account: Any) -> str:
    """An external stage ``gstage`` on ``gs://<bucket>/p/`` with the account's key."""
    with engine.begin() as conn:
        conn.exec_driver_sql(
            f"CREATE STAGE gstage URL = 'gs://{gcs_bucket}/p/' "
            f"{credentials_sql(gcs_server, account[0])}"
        )
    return "gstage"


@pytest.fixture
def table_t(engine: Any) -> str:
    """A table ``t`` holding :data:`ROWS`."""
    return create_table_t(engine)


def jwt_claims(assertion: str) -> dict[str, Any]:
    payload = assertion.split(".")[1]
    claims: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    return claims


# PUT, LIST with PATTERN, GET, REMOVE, OVERWRITE, hostile keys


def test_put_list_get_remove_as_the_service_account(
    engine: Any,
    gcs_server: FakeGCS,
    gcs_bucket: str,
    gcs_tokens: TokenServer,
    account: Any,
    stage: str,
    tmp_path: Path,
) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src/a.csv").write_text("1,apple\n")
    (tmp_path / "src/b.json").write_text('{"id": 2}\n')
    before = len(gcs_tokens.grants)
    with engine.begin() as conn:
        put = conn.exec_driver_sql(f"PUT file://{tmp_path}/src/* @{stage}/in/").all()
        assert sorted((r.target, r.status) for r in put) == [
            ("a.csv.gz", "UPLOADED"),
            ("b.json.gz", "UPLOADED"),
        ]
        listed = conn.exec_driver_sql(rf"LIST @{stage} PATTERN = '.*\.csv\.gz'").all()
        assert [(r.name, r.size) for r in listed] == [
            ("in/a.csv.gz", len(gcs_server.read(gcs_bucket, "p/in/a.csv.gz")))
        ]
        conn.exec_driver_sql(f"GET @{stage}/in/a.csv.gz file://{tmp_path}/got/")
        removed = conn.exec_driver_sql(rf"REMOVE @{stage} PATTERN = '.*\.json\.gz'").all()
        assert [tuple(r) for r in removed] == [("in/b.json.gz", "removed")]
    assert gzip.decompress((tmp_path / "got/a.csv.gz").read_bytes()) == b"1,apple\n"
    assert gcs_server.keys(gcs_bucket) == ["p/in/a.csv.gz"]
    assert gzip.decompress(gcs_server.read(gcs_bucket, "p/in/a.csv.gz")) == b"1,apple\n"
    # google-auth exchanged a JWT signed with the account's key for the requests' token
    grants = [jwt_claims(g) for g in gcs_tokens.grants[before:]]
    assert grants and {g["iss"] for g in grants} == {account[0]["client_email"]}


def test_put_overwrite_rules_and_objects_written_by_others(
    engine: Any, gcs_server: FakeGCS, gcs_bucket: str, stage: str, tmp_path: Path
) -> None:
    source = tmp_path / "x.csv.gz"
    source.write_bytes(gzip.compress(b"1,a\n"))
    with engine.begin() as conn:
        assert conn.exec_driver_sql(f"LIST @{stage}/in/").all() == []
        gcs_server.write(gcs_bucket, "p/in/x.csv.gz", b"theirs")
        put = conn.exec_driver_sql(f"PUT file://{source} @{stage}/in/").one()
        assert (put.status, put.target_size) == ("SKIPPED", 6)
        assert gcs_server.read(gcs_bucket, "p/in/x.csv.gz") == b"theirs"
        put = conn.exec_driver_sql(f"PUT file://{source} @{stage}/in/ OVERWRITE = TRUE").one()
        assert put.status == "UPLOADED"
    assert gcs_server.read(gcs_bucket, "p/in/x.csv.gz") == source.read_bytes()


def test_unload_overwrite_rules(
    engine: Any, gcs_server: FakeGCS, gcs_bucket: str, stage: str, table_t: str
) -> None:
    unload = f"COPY INTO @{stage}/o/ FROM t FILE_FORMAT = (TYPE = CSV COMPRESSION = NONE)"
    with engine.begin() as conn:
        conn.exec_driver_sql(unload)
    first = gcs_server.read(gcs_bucket, "p/o/data_0_0_0.csv")
    gcs_server.write(gcs_bucket, "p/o/data_0_0_0.csv", b"9,theirs\n")
    with (
        pytest.raises(StageRuntimeError, match="Files already existing at the unload destination"),
        engine.begin() as conn,
    ):
        conn.exec_driver_sql(unload)
    assert gcs_server.read(gcs_bucket, "p/o/data_0_0_0.csv") == b"9,theirs\n"
    with engine.begin() as conn:
        conn.exec_driver_sql(unload + " OVERWRITE = TRUE")
    assert gcs_server.read(gcs_bucket, "p/o/data_0_0_0.csv") == first
    assert gcs_server.keys(gcs_bucket) == ["p/o/data_0_0_0.csv"]


def test_hostile_keys_stay_below_the_stage(
    engine: Any, gcs_server: FakeGCS, gcs_bucket: str, stage: str, tmp_path: Path
) -> None:
    (tmp_path / "a.csv").write_text("1\n")
    with engine.begin() as conn:
        conn.exec_driver_sql(f"PUT file://{tmp_path}/a.csv @{stage}/./../ AUTO_COMPRESS = FALSE")
        assert [r.name for r in conn.exec_driver_sql(f"LIST @{stage}")] == ["./../a.csv"]
        conn.exec_driver_sql(f"GET @{stage}/./../a.csv file://{tmp_path}/got/")
        assert (tmp_path / "got/a.csv").read_text() == "1\n"
    assert gcs_server.keys(gcs_bucket) == ["p/%./%../a.csv"]  # literal names below p/
    with engine.begin() as conn:
        conn.exec_driver_sql(f"REMOVE @{stage}/./../a.csv")
    assert gcs_server.keys(gcs_bucket) == []


# COPY INTO both ways, in every format, and a staged query


def _decoded(kind: str, data: bytes) -> list[tuple[Any, ...]]:
    if kind == "PARQUET":
        table = pq.read_table(io.BytesIO(data))
        return sorted(zip(*(table.column(i).to_pylist() for i in range(2)), strict=True))
    text = gzip.decompress(data).decode()
    if kind == "JSON":
        return sorted((d["id"], d["name"]) for d in map(json.loads, text.splitlines()))
    return sorted(
        (int(i), None if n == r"\N" else n)
        for i, n in (line.split(",") for line in text.splitlines())
    )


@pytest.mark.parametrize(
    ("kind", "name"),
    [
        ("CSV", "data_0_0_0.csv.gz"),
        ("JSON", "data_0_0_0.json.gz"),
        ("PARQUET", "data_0_0_0.snappy.parquet"),
    ],
)
def test_unload_every_format_and_load_back(
    engine: Any,
    gcs_server: FakeGCS,
    gcs_bucket: str,
    stage: str,
    table_t: str,
    kind: str,
    name: str,
) -> None:
    source = "(SELECT t FROM t)" if kind == "JSON" else "t"  # JSON: one object a row
    with engine.begin() as conn:
        result = conn.exec_driver_sql(
            f"COPY INTO @{stage}/out/ FROM {source} FILE_FORMAT = (TYPE = {kind})"
        ).one()
        assert result.rows_unloaded == len(ROWS)
    assert gcs_server.keys(gcs_bucket) == [f"p/out/{name}"]
    data = gcs_server.read(gcs_bucket, f"p/out/{name}")
    assert result.output_bytes == len(data)
    assert _decoded(kind, data) == sorted(ROWS, key=lambda r: r[0])
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t2 (id INTEGER, name VARCHAR)")
        transform = (
            "(SELECT $1:id, $1:name FROM @gstage/out/)" if kind == "JSON" else "@gstage/out/"
        )
        loaded = conn.exec_driver_sql(
            f"COPY INTO t2 FROM {transform} FILE_FORMAT = (TYPE = {kind})"
        ).all()
        assert [(r.status, r.rows_loaded) for r in loaded] == [("LOADED", 4)]
        assert rows_of(conn, "t2") == ROWS


def test_staged_query(engine: Any, gcs_server: FakeGCS, gcs_bucket: str, stage: str) -> None:
    gcs_server.write(gcs_bucket, "p/q/a.csv", b"1,apple\n2,pear\n")
    gcs_server.write(gcs_bucket, "p/q/b.csv", b"3,plum\n")
    gcs_server.write(gcs_bucket, "p/q/skip.txt", b"9,no\n")
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            rf"SELECT $1, $2 FROM @{stage}/q/ (FILE_FORMAT => 'csv', PATTERN => '.*\.csv') "
            "ORDER BY 1"
        ).all()
    assert [tuple(r) for r in rows] == [("1", "apple"), ("2", "pear"), ("3", "plum")]


# PRESIGN: signed locally with the key, URLs that the server answers


def assert_signed_by(url: str, method: str, public_key: Any) -> None:
    """Check a V4 signed URL's signature with the account's public key (Google's algorithm)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    parts = urllib.parse.urlsplit(url)
    fields = parts.query.split("&")
    signature = next(f for f in fields if f.startswith("X-Goog-Signature="))
    query = dict(urllib.parse.parse_qsl(parts.query))
    canonical = "\n".join(
        [
            method,
            parts.path,
            "&".join(sorted(f for f in fields if f != signature)),
            f"host:{parts.netloc}\n",
            "host",
            "UNSIGNED-PAYLOAD",
        ]
    )
    scope = query["X-Goog-Credential"].split("/", 1)[1]
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    signed = f"GOOG4-RSA-SHA256\n{query['X-Goog-Date']}\n{scope}\n{digest}"
    public_key.verify(
        bytes.fromhex(signature.split("=", 1)[1]),
        signed.encode(),
        padding.PKCS1v15(),
        hashes.SHA256(),
    )  # raises InvalidSignature otherwise


def test_presign_download_and_upload(
    engine: Any, gcs_server: FakeGCS, gcs_bucket: str, account: Any, stage: str
) -> None:
    data = b"presigned bytes\n" * 100
    gcs_server.write(gcs_bucket, "p/in/file.csv", data)
    with engine.connect() as conn:
        row = conn.exec_driver_sql(f"PRESIGN @{stage}/in/file.csv EXPIRE = 600").one()
        upload = conn.execute(Presign(Stage(stage) / "up/new.txt", method="UPLOAD")).one()
    assert row.method == "GET" and upload.method == "PUT"
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(row.url).query)
    assert row.url.startswith(f"{gcs_server.endpoint_url}/{gcs_bucket}/p/in/file.csv?")
    assert query["X-Goog-Algorithm"] == ["GOOG4-RSA-SHA256"]
    assert query["X-Goog-Expires"] == ["600"]
    assert query["X-Goog-Credential"][0].startswith(account[0]["client_email"] + "/")
    assert_signed_by(row.url, "GET", account[1])
    assert_signed_by(upload.url, "PUT", account[1])
    with urllib.request.urlopen(row.url, timeout=10) as response:
        assert response.read() == data
    request = urllib.request.Request(upload.url, data=b"uploaded", method="PUT")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
    assert gcs_server.read(gcs_bucket, "p/up/new.txt") == b"uploaded"


def test_presign_without_a_key_is_refused_naming_the_stage(
    engine: Any, gcs_server: FakeGCS, gcs_bucket: str, account: Any
) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql(
            f"CREATE STAGE anon URL = 'gs://{gcs_bucket}/' {credentials_sql(gcs_server, None)}"
        )
    for method in ("", " UPLOAD"):  # Databend's PRESIGN UPLOAD too
        with pytest.raises(StageProgrammingError) as error, engine.connect() as conn:
            conn.exec_driver_sql(f"PRESIGN{method} @anon/a.csv")
        assert "@anon" in str(error.value) and "GCS_SERVICE_ACCOUNT_KEY" in str(error.value)
    with engine.begin() as conn:
        keyed = credentials_sql(gcs_server, account[0])
        conn.exec_driver_sql(f"CREATE STAGE keyed URL = 'gs://{gcs_bucket}/' {keyed}")
    expected = r"@keyed/a\.csv: EXPIRE = 700000: .* 1 to 604800"
    with pytest.raises(StageProgrammingError, match=expected), engine.connect() as conn:
        conn.exec_driver_sql("PRESIGN @keyed/a.csv EXPIRE = 700000")


# Internal stages whose engine stage_root is a bucket; the endpoint is not cached


def test_internal_stage_under_a_gcs_stage_root(
    make_engine: Any,
    gcs_server: FakeGCS,
    gcs_bucket: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs_server.endpoint_url)
    engine = make_engine(stage_root=f"gs://{gcs_bucket}/root", stage_attempts=1)
    (tmp_path / "a.csv").write_text("1,apple\n2,pear\n")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE STAGE landing")
        conn.exec_driver_sql(f"PUT file://{tmp_path}/a.csv @landing/in/")
        conn.exec_driver_sql("CREATE TABLE t (id INTEGER, name VARCHAR)")
        conn.exec_driver_sql("COPY INTO t FROM @landing/in/")
        assert rows_of(conn, "t") == [(1, "apple"), (2, "pear")]
        conn.exec_driver_sql("COPY INTO @~/u/ FROM t FILE_FORMAT = (TYPE = PARQUET)")
    assert gcs_server.keys(gcs_bucket) == [
        "root/stage/internal/landing/in/a.csv.gz",
        "root/stage/user/alice/u/data_0_0_0.snappy.parquet",
    ]
    # a changed STORAGE_EMULATOR_HOST is a new filesystem (no instance reused from the cache)
    dead = CuttingProxy(("127.0.0.1", gcs_server.port), cut_after=0)
    dead.close()
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", dead.url)
    with pytest.raises(StageOperationalError) as error, engine.connect() as conn:
        conn.exec_driver_sql("LIST @landing")
    assert "@landing" in str(error.value) and "ClientConnectorError" in str(error.value)


def test_two_stages_keep_their_own_settings(
    engine: Any,
    gcs_server: FakeGCS,
    gcs_bucket: str,
    gcs_tokens: TokenServer,
    account: Any,
    stage: str,
) -> None:
    """An anonymous stage beside a keyed one on the same bucket is not given its token."""
    gcs_server.write(gcs_bucket, "p/a.csv", b"1\n")
    with engine.begin() as conn:
        conn.exec_driver_sql(
            f"CREATE STAGE anon URL = 'gs://{gcs_bucket}/p/' {credentials_sql(gcs_server, None)}"
        )
        assert [r.name for r in conn.exec_driver_sql(f"LIST @{stage}")] == ["a.csv"]
        before = len(gcs_tokens.grants)
        assert [r.name for r in conn.exec_driver_sql("LIST @anon")] == ["a.csv"]
        assert len(gcs_tokens.grants) == before
        with pytest.raises(StageProgrammingError, match="GCS_SERVICE_ACCOUNT_KEY"):
            conn.exec_driver_sql("PRESIGN @anon/a.csv")
        assert conn.exec_driver_sql(f"PRESIGN @{stage}/a.csv").one().url


# Failures: a missing bucket, a stopped server, credentials that do not fit


def test_missing_bucket_fails_naming_the_stage(
    engine: Any, gcs_server: FakeGCS, account: Any, tmp_path: Path
) -> None:
    (tmp_path / "a.csv").write_text("1\n")
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE STAGE gone URL = 'gs://no-such-bucket/p/' "
            f"{credentials_sql(gcs_server, account[0])}"
        )
    for statement in (
        "LIST @gone",
        f"PUT file://{tmp_path}/a.csv @gone",
        "COPY INTO @gone FROM (SELECT 1)",
    ):
        with pytest.raises(StageOperationalError) as error, engine.begin() as conn:
            conn.exec_driver_sql(statement)
        message = str(error.value)
        assert "@gone" in message and "'no-such-bucket' does not exist" in message, message
        assert account[0]["private_key"].splitlines()[1] not in message


@pytest.mark.parametrize("direction", ["unload", "load"])
def test_server_stopped_mid_statement(
    engine: Any, gcs_server: FakeGCS, gcs_bucket: str, account: Any, direction: str
) -> None:
    for number in range(6):
        gcs_server.write(gcs_bucket, f"p/in/f{number}.csv", b"1\n2\n")
    proxy = CuttingProxy(("127.0.0.1", gcs_server.port), cut_after=4)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (i INTEGER)")
        conn.exec_driver_sql(
            f"CREATE STAGE cut URL = 'gs://{gcs_bucket}/p/' {credentials_sql(proxy, account[0])}"
        )
    statement = (
        "COPY INTO t FROM @cut/in/"
        if direction == "load"
        else "COPY INTO @cut/out/ FROM (SELECT i FROM range(30000) t(i)) MAX_FILE_SIZE = 20000"
    )
    started = time.monotonic()
    try:
        with pytest.raises(StageRuntimeError) as error, engine.begin() as conn:
            conn.exec_driver_sql(statement)
    finally:
        proxy.close()
    elapsed = time.monotonic() - started
    assert proxy.cut.is_set()
    assert "@cut" in str(error.value), error.value
    defaults = StorageLimits()
    assert elapsed < defaults.connect_timeout * defaults.attempts, (elapsed, str(error.value))
    keys = gcs_server.keys(gcs_bucket)
    assert [k for k in keys if SCRATCH_PREFIX not in k and not k.startswith("p/in/")] == []
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM t").scalar_one() == 0


@pytest.mark.extra("gcsfs")
def test_silent_endpoint_fails_within_each_engines_limits(
    make_engine: Any, silent_endpoint: SilentEndpoint
) -> None:
    """Two engines, one and two attempts of half a second, on the same stage URL."""
    for attempts in (1, 2):
        engine = make_engine(
            database=f"a{attempts}.duckdb", stage_read_timeout=0.5, stage_attempts=attempts
        )
        with engine.begin() as conn:
            conn.exec_driver_sql(
                f"CREATE STAGE mute URL = 'gs://bucket/p/' {credentials_sql(silent_endpoint, None)}"
            )
        held, started = len(silent_endpoint.held), time.monotonic()
        with pytest.raises(StageRuntimeError) as error, engine.connect() as conn:
            conn.exec_driver_sql("LIST @mute")
        elapsed = time.monotonic() - started
        assert "@mute" in str(error.value) and "Timeout" in str(error.value), str(error.value)
        assert len(silent_endpoint.held) - held == attempts  # one connection a try, no more
        assert 0.5 * attempts <= elapsed < 2 + 2.5 * attempts, elapsed  # waits, gcsfs's pause


def test_credentials_that_do_not_fit_are_refused_before_anything_is_written(
    engine: Any,
    gcs_server: FakeGCS,
    gcs_bucket: str,
    account: Any,
    monkeypatch: pytest.MonkeyPatch,
    table_t: str,
) -> None:
    secret = account[0]["private_key"].splitlines()[1]
    cases = {
        f"'gs://{gcs_bucket}/' CREDENTIALS = (AWS_KEY_ID = 'k' AWS_SECRET_KEY = 's' "
        f"ENDPOINT_URL = '{gcs_server.endpoint_url}')": "not 'aws_key_id', 'aws_secret_key'",
        f"'gcs://{gcs_bucket}/' CREDENTIALS = (GCS_SERVICE_ACCOUNT_KEY = 'bm90IGEga2V5' "
        f"ENDPOINT_URL = '{gcs_server.endpoint_url}')": "must be a service account's JSON key",
        f"'gs://{gcs_bucket}/' {credentials_sql(gcs_server, account[0])} "
        "ENCRYPTION = (TYPE = 'GCS_SSE_KMS' KMS_KEY_ID = 'k')": "GCS_SSE_KMS') is not applied",
    }
    for location, expected in cases.items():
        with pytest.raises(sa.exc.SQLAlchemyError) as error, engine.begin() as conn:
            conn.exec_driver_sql(f"COPY INTO {location} FROM t")
        assert expected in str(error.value) and secret not in str(error.value), str(error.value)
    # no key, no endpoint: Google's default chain, which has nothing here
    monkeypatch.delenv("STORAGE_EMULATOR_HOST", raising=False)
    with pytest.raises(StageOperationalError) as error, engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE STAGE dflt URL = 'gs://{gcs_bucket}/'")
    assert f"cannot open gs://{gcs_bucket}/: no Google credentials" in str(error.value)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SHOW STAGES").all() == []  # nothing registered
    assert gcs_server.keys(gcs_bucket) == []


def test_a_databend_gcs_connection(
    make_engine: Any, gcs_server: FakeGCS, gcs_bucket: str, gcs_tokens: TokenServer, account: Any
) -> None:
    engine = make_engine(stage_dialect="databend")
    encoded = base64.b64encode(json.dumps(account[0]).encode()).decode()
    gcs_server.write(gcs_bucket, "c/x.csv", b"1\n2\n")
    before = len(gcs_tokens.grants)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE CONNECTION g STORAGE_TYPE = 'gcs' CREDENTIAL = '{encoded}'")
        conn.exec_driver_sql("CREATE TABLE t (id INT)")
        with pytest.MonkeyPatch.context() as env:  # the connection names no endpoint
            env.setenv("STORAGE_EMULATOR_HOST", gcs_server.endpoint_url)
            conn.exec_driver_sql(
                f"COPY INTO t FROM 'gcs://{gcs_bucket}/c/' CONNECTION = (CONNECTION_NAME = 'g') "
                "FILE_FORMAT = (TYPE = CSV)"
            )
        assert rows_of(conn, "t") == [(1,), (2,)]
        shown = repr(conn.exec_driver_sql("SHOW CONNECTIONS").all())
    assert encoded not in shown
    assert len(gcs_tokens.grants) > before  # made as the connection's service account


def test_base64_key_and_databend_credential_spelling(
    make_engine: Any, gcs_server: FakeGCS, gcs_bucket: str, gcs_tokens: TokenServer, account: Any
) -> None:
    engine = make_engine(stage_dialect="databend")
    encoded = base64.b64encode(json.dumps(account[0]).encode()).decode()
    gcs_server.write(gcs_bucket, "d/x.csv", b"1\n")
    with engine.begin() as conn:
        conn.exec_driver_sql(
            f"CREATE STAGE db URL = 'gcs://{gcs_bucket}/d/' CONNECTION = (CREDENTIAL = '{encoded}' "
            f"ENDPOINT_URL = '{gcs_server.endpoint_url}')"
        )
        assert [r.name for r in conn.exec_driver_sql("LIST @db")] == ["x.csv"]
        shown = repr(conn.exec_driver_sql("DESC STAGE db").all())
    assert encoded not in shown and account[0]["private_key"].splitlines()[1] not in shown


def test_without_the_gcs_extra_the_error_names_it(tmp_path: Path) -> None:
    """In a child process where ``import gcsfs`` fails, as when the extra is not installed."""
    script = (
        "import sys; sys.modules['gcsfs'] = None\n"
        "from sqla_stage.runtime.storage.stage_storage import open_storage\n"
        "try:\n    open_storage('gs://b/p/', None, '@s')\n"
        "except Exception as error:\n    print(type(error).__name__, error)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == (
        "StageOperationalError cannot open @s: Google Cloud Storage needs gcsfs: "
        'pip install "sqla_stage[gcs]"'
    )
