"""Azure stages for real: the runtime against Azurite on 127.0.0.1 (``tests/azurite_server.py``).

Every test gets its own container on the session's Azurite (the ``azurite`` fixture).
Blobs are checked with the Azure SDK, not through the runtime, so a test sees what a
warehouse reading the container would see. Stages use the spec's URL
``azure://devstoreaccount1.blob.core.windows.net/<container>/<path>`` with Azurite's
blob service as their ``ENDPOINT_URL``: no ``*.blob.core.windows.net`` name is resolved
(the suite's socket guard would refuse it).
"""

from __future__ import annotations

import hashlib
import io
import json
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa
from azurite_server import ACCOUNT, KEY, Azurite
from fault_proxy import CuttingProxy, SilentEndpoint

from sqla_stage.errors import StageRuntimeError
from sqla_stage.runtime.storage.stage_storage import open_storage

ROWS = [(1, "apple"), (2, "pear"), (3, "plum")]


def run(engine: sa.Engine, sql: str) -> list[tuple[Any, ...]]:
    with engine.begin() as conn:
        result = conn.exec_driver_sql(sql)
        return [tuple(row) for row in result] if result.returns_rows else []


@pytest.fixture
def container(azurite: Azurite) -> str:
    return azurite.new_container()


@pytest.fixture
def az(engine: sa.Engine, azurite: Azurite, container: str) -> sa.Engine:
    """``engine`` with a table ``t`` (ROWS) and a stage ``az`` on ``<container>/p/`` (a SAS)."""
    run(engine, "CREATE TABLE t (id INTEGER, name VARCHAR)")
    run(engine, "INSERT INTO t VALUES (1, 'apple'), (2, 'pear'), (3, 'plum')")
    url = azurite.url(container, "p/")
    run(engine, f"CREATE STAGE az URL = '{url}' {azurite.credentials_sql(container)}")
    return engine


def key_stage(engine: sa.Engine, azurite: Azurite, container: str, name: str = "keyed") -> None:
    """A stage with no SAS token: the account key comes from the environment."""
    run(
        engine,
        f"CREATE STAGE {name} URL = '{azurite.url(container, 'k/')}' "
        f"CREDENTIALS = (ENDPOINT_URL = '{azurite.endpoint_url}')",
    )


def test_unload_every_format_list_query_and_load(
    az: sa.Engine, azurite: Azurite, container: str
) -> None:
    run(az, "COPY INTO @az/csv/ FROM t FILE_FORMAT = (TYPE = CSV COMPRESSION = NONE) HEADER = TRUE")
    run(
        az,
        "COPY INTO @az/json/ FROM (SELECT t FROM t) FILE_FORMAT = (TYPE = JSON COMPRESSION = NONE)",
    )
    run(az, "COPY INTO @az/pq/ FROM t FILE_FORMAT = (TYPE = PARQUET)")
    keys = azurite.keys(container)
    assert {key.split("/")[1] for key in keys} == {"csv", "json", "pq"}
    assert all(key.startswith("p/") for key in keys)
    by_folder = {key.split("/")[1]: key for key in keys}
    csv_text = azurite.read(container, by_folder["csv"]).decode()
    assert csv_text.splitlines() == ["id,name", "1,apple", "2,pear", "3,plum"]
    lines = azurite.read(container, by_folder["json"]).decode().splitlines()
    assert [json.loads(line) for line in lines] == [{"id": i, "name": n} for i, n in ROWS]
    table = pq.read_table(io.BytesIO(azurite.read(container, by_folder["pq"])))
    assert sorted(zip(*table.to_pydict().values(), strict=True)) == ROWS

    listed = run(az, "LIST @az PATTERN = '.*[.]parquet'")
    assert [row[0] for row in listed] == [by_folder["pq"].removeprefix("p/")]
    parquet = azurite.read(container, by_folder["pq"])
    assert listed[0][1:3] == (len(parquet), hashlib.md5(parquet).hexdigest())
    header = [("id", "name")]
    assert sorted(run(az, "SELECT $1, $2 FROM @az/csv/")) == [(str(i), n) for i, n in ROWS] + header

    run(az, "CREATE TABLE back (id INTEGER, name VARCHAR)")
    loaded = run(az, "COPY INTO back FROM @az/csv/ FILE_FORMAT = (TYPE = CSV SKIP_HEADER = 1)")
    assert [row[1] for row in loaded] == ["LOADED"]
    assert sorted(run(az, "SELECT * FROM back")) == ROWS


def test_put_get_remove_and_overwrite(
    az: sa.Engine, azurite: Azurite, container: str, tmp_path: Path
) -> None:
    source = tmp_path / "a.csv"
    source.write_text("1,one\n")
    assert [row[6] for row in run(az, f"PUT file://{source} @az/in/ AUTO_COMPRESS = FALSE")] == [
        "UPLOADED"
    ]
    source.write_text("2,two\n")
    assert [row[6] for row in run(az, f"PUT file://{source} @az/in/ AUTO_COMPRESS = FALSE")] == [
        "SKIPPED"
    ]
    assert azurite.read(container, "p/in/a.csv") == b"1,one\n"
    run(az, f"PUT file://{source} @az/in/ AUTO_COMPRESS = FALSE OVERWRITE = TRUE")
    assert azurite.read(container, "p/in/a.csv") == b"2,two\n"

    out = tmp_path / "out"
    run(az, f"GET @az/in/ file://{out}/")
    assert (out / "a.csv").read_bytes() == b"2,two\n"

    run(az, "COPY INTO @az/u/ FROM t FILE_FORMAT = (TYPE = CSV)")
    with pytest.raises(sa.exc.SQLAlchemyError, match=r"(?i)overwrite"):
        run(az, "COPY INTO @az/u/ FROM t FILE_FORMAT = (TYPE = CSV)")
    run(az, "COPY INTO @az/u/ FROM t FILE_FORMAT = (TYPE = CSV) OVERWRITE = TRUE")

    unloaded = [key.removeprefix("p/") for key in azurite.keys(container) if "/u/" in key]
    assert len(unloaded) == 1
    removed = run(az, "REMOVE @az PATTERN = '.*[.]csv([.]gz)?'")
    assert sorted(row[0] for row in removed) == ["in/a.csv", *unloaded]
    assert azurite.keys(container) == []


def test_hostile_keys_stay_below_the_stage(
    az: sa.Engine, azurite: Azurite, container: str, tmp_path: Path
) -> None:
    source = tmp_path / "a.csv"
    source.write_text("x\n")
    run(az, f"PUT file://{source} '@az/./../' AUTO_COMPRESS = FALSE")
    assert azurite.keys(container) == ["p/%./%../a.csv"]
    assert [row[0] for row in run(az, "LIST @az")] == ["./../a.csv"]
    assert run(az, "SELECT $1 FROM '@az/./../a.csv'") == [("x",)]


def test_create_and_show_mask_the_sas_token(az: sa.Engine, azurite: Azurite) -> None:
    shown = repr(run(az, "SHOW STAGES")) + repr(run(az, "DESC STAGE az"))
    assert "sig=" not in shown and "devstoreaccount1" in shown
    with pytest.raises(StageRuntimeError) as caught:
        run(az, "SELECT $1 FROM @az/missing.csv")
    assert "sig=" not in str(caught.value)


def test_presign_download_and_upload_with_the_account_key(
    engine: sa.Engine, azurite: Azurite, container: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AZURE_STORAGE_ACCOUNT_KEY", KEY)
    key_stage(engine, azurite, container)
    azurite.write(container, "k/d.csv", b"download me\n")
    [(method, headers, url)] = run(engine, "PRESIGN DOWNLOAD @keyed/d.csv EXPIRE = 600")
    assert (method, json.loads(headers)) == ("GET", {})
    assert url.startswith(f"{azurite.endpoint_url}/{container}/k/d.csv?")
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.read() == b"download me\n"

    [(method, headers, url)] = run(engine, "PRESIGN UPLOAD @keyed/up.csv")
    assert method == "PUT"
    request = urllib.request.Request(
        url, data=b"uploaded\n", method="PUT", headers=json.loads(headers)
    )
    urllib.request.urlopen(request, timeout=10).close()
    assert azurite.read(container, "k/up.csv") == b"uploaded\n"

    [(_, _, read_only)] = run(engine, "PRESIGN @keyed/d.csv")
    refused = urllib.request.Request(
        read_only, data=b"x", method="PUT", headers=json.loads(headers)
    )
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(refused, timeout=10)
    assert caught.value.code == 403
    assert azurite.read(container, "k/d.csv") == b"download me\n"


def test_presign_with_only_a_sas_token_is_refused(az: sa.Engine) -> None:
    for method in ("DOWNLOAD", "UPLOAD"):
        with pytest.raises(sa.exc.ProgrammingError, match="account key") as caught:
            run(az, f"PRESIGN {method} @az/x.csv")
        assert "sig=" not in str(caught.value) and "@az" in str(caught.value)


def test_internal_stages_with_the_stage_root_on_azure(
    make_engine: Any, azurite: Azurite, container: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "AZURE_STORAGE_CONNECTION_STRING",
        f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={KEY};"
        f"BlobEndpoint={azurite.endpoint_url};",
    )
    engine = make_engine(stage_root=azurite.url(container, "root"))
    run(engine, "CREATE TABLE t (id INTEGER, name VARCHAR)")
    run(engine, "INSERT INTO t VALUES (1, 'apple'), (2, 'pear'), (3, 'plum')")
    run(engine, "CREATE STAGE inner_stage")
    run(engine, "COPY INTO @inner_stage/x/ FROM t FILE_FORMAT = (TYPE = CSV)")
    run(engine, "COPY INTO @~/mine/ FROM t FILE_FORMAT = (TYPE = PARQUET)")
    keys = azurite.keys(container)
    assert len(keys) == 2 and all(key.startswith("root/stage/") for key in keys)
    assert sorted(run(engine, "SELECT $1, $2 FROM @inner_stage/x/")) == [
        (str(i), name) for i, name in ROWS
    ]
    [mine] = [row[0] for row in run(engine, "LIST @~ PATTERN = 'mine/.*'")]
    assert mine.endswith(".parquet")
    peek = azurite.url(container, "root/stage/user/")
    with pytest.raises(sa.exc.ProgrammingError, match="stage root"):
        run(engine, f"CREATE STAGE peek URL = '{peek}' {azurite.credentials_sql(container)}")
    assert len(azurite.keys(container)) == 2


@pytest.mark.extra("adlfs")
def test_urls_name_the_account_and_its_host_without_a_request() -> None:
    """Where each URL form reaches (nothing is requested until a statement lists or reads)."""
    reached = {
        "azure://acct.blob.core.chinacloudapi.cn/c/p/": "https://acct.blob.core.chinacloudapi.cn/c/p/k",
        "abfs://c@acct.dfs.core.windows.net/p/": "https://acct.blob.core.windows.net/c/p/k",
        "azure://acct.blob.core.windows.net/c/p": "https://acct.blob.core.windows.net/c/p/k",
    }
    for url, where in reached.items():
        assert open_storage(url, None).url("k") == where


def test_missing_container_names_the_stage(engine: sa.Engine, azurite: Azurite) -> None:
    url = azurite.url("nosuchcontainer", "p/")
    run(engine, f"CREATE STAGE gone URL = '{url}' {azurite.credentials_sql()}")
    for sql in ("LIST @gone", "COPY INTO @gone FROM (SELECT 1 AS a)", "SELECT $1 FROM @gone"):
        with pytest.raises(sa.exc.OperationalError) as caught:
            run(engine, sql)
        message = str(caught.value)
        assert "@gone" in message and "'nosuchcontainer' does not exist" in message, message
    assert "nosuchcontainer" not in [c.name for c in azurite.service.list_containers()]


def test_stopped_server_mid_statement_fails_fast_naming_the_stage(
    engine: sa.Engine, azurite: Azurite, container: str
) -> None:
    for i in range(6):
        azurite.write(container, f"p/f{i}.csv", f"{i},n{i}\n".encode())
    run(engine, "CREATE TABLE back (id INTEGER, name VARCHAR)")
    proxy = CuttingProxy(("127.0.0.1", azurite.port))
    try:
        credentials = azurite.credentials_sql(container, through=proxy.url)
        run(engine, f"CREATE STAGE cut URL = '{azurite.url(container, 'p/')}' {credentials}")
        proxy.cut_after = 3
        started = time.monotonic()
        with pytest.raises(StageRuntimeError) as caught:
            run(engine, "COPY INTO back FROM @cut FILE_FORMAT = (TYPE = CSV)")
        elapsed = time.monotonic() - started
    finally:
        proxy.close()
    assert proxy.cut.is_set()
    assert "@cut" in str(caught.value) and "sig=" not in str(caught.value)
    assert elapsed < 15, elapsed  # three attempts of ~3 s in all per request (the defaults)
    assert run(engine, "SELECT count(*) FROM back") == [(0,)]


def test_silent_endpoint_fails_within_each_engines_limits(
    make_engine: Any, azurite: Azurite, container: str, silent_endpoint: SilentEndpoint
) -> None:
    """Two engines, one and two attempts of half a second, on the same stage URL."""
    for attempts in (1, 2):
        engine = make_engine(
            database=f"a{attempts}.duckdb", stage_read_timeout=0.5, stage_attempts=attempts
        )
        credentials = azurite.credentials_sql(container, through=silent_endpoint.url)
        run(engine, f"CREATE STAGE mute URL = '{azurite.url(container, 'p/')}' {credentials}")
        held, started = len(silent_endpoint.held), time.monotonic()
        with pytest.raises(StageRuntimeError) as caught:
            run(engine, "LIST @mute")
        elapsed = time.monotonic() - started
        message = str(caught.value)
        assert "@mute" in message and "sig=" not in message, message
        assert len(silent_endpoint.held) - held == attempts  # one connection a try, no more
        assert 0.5 * attempts <= elapsed < 2 + 2 * attempts, elapsed  # waits, the ~1 s pause


def test_stopped_server_mid_unload_publishes_nothing(
    engine: sa.Engine, azurite: Azurite, container: str
) -> None:
    run(engine, "CREATE TABLE big AS SELECT i AS id, md5(i::VARCHAR) AS s FROM range(6000) t(i)")
    unload = "COPY INTO @cut/{}/ FROM big MAX_FILE_SIZE = 20000"  # about eight files
    proxy = CuttingProxy(("127.0.0.1", azurite.port))
    try:
        credentials = azurite.credentials_sql(container, through=proxy.url)
        run(engine, f"CREATE STAGE cut URL = '{azurite.url(container, 'p/')}' {credentials}")
        proxy.requests = 0
        run(engine, unload.format("counted"))
        proxy.cut_after = proxy.requests // 2  # while the files are uploaded
        proxy.requests = 0
        with pytest.raises(StageRuntimeError) as caught:
            run(engine, unload.format("out"))
    finally:
        proxy.close()
    assert proxy.cut.is_set() and "@cut/out/" in str(caught.value)
    assert any("/out/" in key for key in azurite.keys(container))  # cut midway
    # The next statement on the location, the server reachable again, finishes the cut
    # publication's journal (docs/unload.md): nothing of the unload is left.
    url = azurite.url(container, "p/")
    run(engine, f"CREATE STAGE direct URL = '{url}' {azurite.credentials_sql(container)}")
    run(engine, "LIST @direct")
    assert [key for key in azurite.keys(container) if "/out/" in key] == []


def test_no_connection_settings_leak_between_stages(
    engine: sa.Engine, azurite: Azurite, container: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    azurite.write(container, "p/a.csv", b"1\n")
    url = azurite.url(container, "p/")
    endpoint = azurite.endpoint_url
    run(engine, f"CREATE STAGE good URL = '{url}' {azurite.credentials_sql(container)}")
    other = azurite.new_container()
    wrong_sas = azurite.sas(other)  # valid, but for another container
    run(
        engine,
        f"CREATE STAGE bad URL = '{url}' CREDENTIALS = (AZURE_SAS_TOKEN = '{wrong_sas}' "
        f"ENDPOINT_URL = '{endpoint}')",
    )
    assert [row[0] for row in run(engine, "LIST @good")] == ["a.csv"]
    with pytest.raises(sa.exc.OperationalError, match="access denied"):
        run(engine, "LIST @bad")
    monkeypatch.setenv("AZURE_STORAGE_ACCOUNT_KEY", KEY)
    key_stage(engine, azurite, container)
    assert run(engine, "LIST @keyed") == []
    monkeypatch.setenv("AZURE_STORAGE_ACCOUNT_KEY", KEY.replace("E", "F", 1))
    with pytest.raises(sa.exc.OperationalError, match="access denied"):
        run(engine, "LIST @keyed")


def test_url_forms_and_refused_settings(
    engine: sa.Engine, azurite: Azurite, container: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    azurite.write(container, "p/a.csv", b"1\n")
    credentials = azurite.credentials_sql(container)
    for url in (f"az://{container}/p/", f"abfs://{container}/p/"):
        run(engine, f"CREATE OR REPLACE STAGE form URL = '{url}' {credentials}")
        assert [row[0] for row in run(engine, "LIST @form")] == ["a.csv"]
    refused = {
        f"azure://other.blob.core.windows.net/{container}/": "must agree",
        f"azure://{ACCOUNT}/{container}/": "names the account's host",
    }
    run(engine, "CREATE TABLE t (a VARCHAR)")
    for url, reason in refused.items():
        with pytest.raises(sa.exc.ProgrammingError, match=reason):
            run(engine, f"COPY INTO t FROM '{url}' {credentials}")
    with pytest.raises(sa.exc.ProgrammingError, match="not AWS_KEY_ID"):
        run(
            engine,
            f"CREATE STAGE aws URL = '{azurite.url(container)}' "
            "CREDENTIALS = (AWS_KEY_ID = 'a' AWS_SECRET_KEY = 'b')",
        )
    with pytest.raises(sa.exc.ProgrammingError, match="AZURE_CSE"):
        run(
            engine,
            f"CREATE STAGE cse URL = '{azurite.url(container)}' {credentials} "
            "ENCRYPTION = (TYPE = 'AZURE_CSE' MASTER_KEY = 'a2V5')",
        )
    assert run(engine, "SHOW STAGES LIKE 'aws'") == []


def test_missing_adlfs_names_the_extra(tmp_path: Path) -> None:
    """In a Python where adlfs cannot be imported, the error names the extra to install."""
    blocker = tmp_path / "adlfs.py"
    blocker.write_text("raise ImportError('adlfs is not installed')\n")
    script = (
        "import sqlalchemy as sa\n"
        "e = sa.create_engine('duckdb:///', plugins=['sqla_stage'], "
        f"stage_root={str(tmp_path)!r})\n"
        "with e.begin() as c:\n"
        "    try:\n"
        "        c.exec_driver_sql(\"CREATE STAGE s URL = 'azure://a.blob.core.windows.net/c/'\")\n"
        "        c.exec_driver_sql('LIST @s')\n"
        "    except sa.exc.OperationalError as error:\n"
        "        print(error)\n"
    )
    import subprocess

    env = {"PYTHONPATH": f"{tmp_path}:{Path(__file__).parent.parent}", "PATH": "/usr/bin"}
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60
    )
    assert 'pip install "sqla_stage[azure]"' in result.stdout, result.stdout + result.stderr
