"""Alembic support, driven through the real ``alembic`` command in temporary projects.

One project autogenerates, upgrades, alters and downgrades stages on the DuckDB runtime
(which needs the reflection fix of ``sqla_stage.runtime.engine.reflection``); another holds a
hand-written migration whose offline SQL (``alembic upgrade --sql``) is checked for each
engine. The operations' ``reverse()``, the rendering and the reading of stages are
tested directly.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate.api import AutogenContext
from alembic.runtime.migration import MigrationContext
from sqlalchemy.dialects import mysql as sa_mysql

import sqla_stage.alembic  # noqa: F401 - registers the operations
from sqla_stage import CSV, JSON, FileFormat, ListFiles, Put, Stage
from sqla_stage.alembic import compare, reflect, render
from sqla_stage.alembic.operations import (
    AlterStageOp,
    CreateStageOp,
    DropStageOp,
    statement_groups,
)
from sqla_stage.errors import StageArgumentError
from sqla_stage.runtime.engine import reflection

ROOT = Path(__file__).resolve().parent.parent
KEY_ID = "AKIA0SQLA0STAGE0TEST"
SECRET = "sEcReT/k3y+never-in-a-file"
SECRETS_ENV = {
    "APP_AWS_KEY_ID": KEY_ID,  # what the application's models read
    "APP_AWS_SECRET": SECRET,
    "SQLA_STAGE_EXPORTS_AWS_KEY_ID": KEY_ID,  # what the rendered migrations read
    "SQLA_STAGE_EXPORTS_AWS_SECRET_KEY": SECRET,
}
INDEX_WARNING = "ignore:duckdb-engine doesn't yet support reflection on indices"
#: A STRUCT column makes SQLAlchemy look the type up among domains (the domain query).
STRUCT_WARNING = "ignore:Did not recognize type 'struct'"

MODELS = """\
import os

import sqlalchemy as sa
from sqla_stage import CSV, Stage

metadata = sa.MetaData()
users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("name", sa.String(50)),
)
landing = Stage("landing", metadata, comment={landing_comment!r})
archive = Stage("archive", metadata, url={archive_url!r}, file_format=CSV(compression="gzip"))
exports = Stage(
    "exports",
    metadata,
    url="s3://bucket/exports/",
    credentials={{
        "aws_key_id": os.environ["APP_AWS_KEY_ID"],
        "aws_secret_key": os.environ["APP_AWS_SECRET"],
        "endpoint_url": "http://127.0.0.1:9",
    }},
    comment="nightly",
)
"""

WAREHOUSE_MIGRATION = '''\
"""Stages on a warehouse."""
import os

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def credentials():
    return {
        "aws_key_id": os.environ["SQLA_STAGE_EXPORTS_AWS_KEY_ID"],
        "aws_secret_key": os.environ["SQLA_STAGE_EXPORTS_AWS_SECRET_KEY"],
    }


def upgrade():
    op.create_stage(
        "exports", url="s3://bucket/exports/", credentials=credentials(), comment="nightly"
    )
    op.alter_stage(
        "exports",
        comment="v2",
        existing_comment="nightly",
        existing_url="s3://bucket/exports/",
        existing_credentials=credentials(),
        existing_file_format=None,
        existing_copy_options=None,
    )
    op.alter_stage(
        "exports",
        url="s3://bucket/v2/",
        comment="v3",
        existing={"url": "s3://bucket/exports/", "credentials": credentials(), "comment": "v2"},
    )


def downgrade():
    op.drop_stage("exports")
'''


def alembic(project: Path, *args: str, ok: bool = True, **env_vars: str) -> str:
    """Run ``python -m alembic`` in ``project``; its output (stdout and stderr).

    ``ok``: whether it must succeed (else fail); ``env_vars``: more environment.
    """
    env = {**os.environ, **SECRETS_ENV, **env_vars}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    result = subprocess.run(
        [sys.executable, "-m", "alembic", *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = result.stdout + result.stderr
    assert (result.returncode == 0) is ok, output
    return output


def init_project(project: Path, url: str) -> None:
    """``alembic init``, then an env.py that imports sqla_stage.alembic and takes -x url=."""
    project.mkdir(parents=True, exist_ok=True)
    alembic(project, "init", "migrations")
    env_py = project / "migrations" / "env.py"
    text = env_py.read_text()
    text = text.replace(
        "target_metadata = None",
        "import sqla_stage.alembic  # noqa: F401\n"
        "try:\n    from models import metadata as target_metadata\n"
        "except ImportError:\n    target_metadata = None",
    )
    text = text.replace(
        'url = config.get_main_option("sqlalchemy.url")',
        'url = context.get_x_argument(as_dictionary=True).get("url") or '
        'config.get_main_option("sqlalchemy.url")',
    )
    env_py.write_text(text)
    ini = project / "alembic.ini"
    ini.write_text(
        ini.read_text().replace("driver://user:pass@localhost/dbname", url.replace("%", "%%"))
    )


def write_models(project: Path, landing_comment: str, archive: str) -> None:
    archive_url = str(project / archive) + "/"
    (project / archive).mkdir(exist_ok=True)
    models = MODELS.format(landing_comment=landing_comment, archive_url=archive_url)
    (project / "models.py").write_text(models)


def revision_files(project: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in (project / "migrations" / "versions").glob("*.py")}


#: The output of each ``alembic revision --autogenerate`` (Alembic logs what it detects).
LOGS: list[str] = []


def autogenerate(project: Path, message: str) -> str:
    before = set(revision_files(project))
    LOGS.append(alembic(project, "revision", "--autogenerate", "-m", message))
    (new,) = set(revision_files(project)) - before
    return revision_files(project)[new]


def no_secret_anywhere(project: Path) -> None:
    for path in (project / "migrations").rglob("*.py"):
        text = path.read_text()
        assert KEY_ID not in text and SECRET not in text, path


@pytest.fixture
def runtime_url(tmp_path: Path) -> str:
    return f"duckdb:///{tmp_path}/app.duckdb?plugin=sqla_stage&stage_root={tmp_path}/stages"


def stages_in(url: str) -> dict[str, Any]:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            return {row.name: row for row in conn.exec_driver_sql("SHOW STAGES")}
    finally:
        engine.dispose()


# -- the whole cycle on the DuckDB runtime -----------------------------------------------------


def test_autogenerate_upgrade_alter_downgrade(tmp_path: Path, runtime_url: str) -> None:
    project = tmp_path / "project"
    init_project(project, runtime_url)
    write_models(project, "raw files", "archive")

    first = autogenerate(project, "stages")
    assert "op.create_stage('landing', comment='raw files')" in first
    assert "Detected added stage 'landing'" in LOGS[-1] and "stage 'users'" not in LOGS[-1]
    assert "file_format=CSV(compression='GZIP')" in first
    assert "from sqla_stage import CSV" in first and "import os" in first
    assert "os.environ['SQLA_STAGE_EXPORTS_AWS_KEY_ID']" in first
    assert "'endpoint_url': 'http://127.0.0.1:9'" in first
    assert "op.drop_stage('landing')" in first.split("def downgrade")[1]
    assert first.index("op.create_table('users'") < first.index("op.create_stage(")
    assert "drop_table" not in first.split("def downgrade")[0]  # the registry is not a table
    no_secret_anywhere(project)

    alembic(project, "upgrade", "head")
    stages = stages_in(runtime_url)
    assert sorted(stages) == ["archive", "exports", "landing"]
    assert stages["landing"].comment == "raw files"
    engine = sa.create_engine(runtime_url, poolclass=sa.pool.NullPool)
    (tmp_path / "a.csv").write_text("1,a\n")
    with engine.begin() as conn:
        conn.execute(Put(str(tmp_path / "a.csv"), Stage("landing") / ""))
    engine.dispose()

    again = autogenerate(project, "nothing")
    assert "_stage(" not in again and "op." not in again.split("def upgrade")[1]
    for name, text in revision_files(project).items():
        if text == again:
            (project / "migrations" / "versions" / name).unlink()

    write_models(project, "landed files", "archive2")
    second = autogenerate(project, "alter")
    upgrade, downgrade = second.split("def downgrade")
    assert (
        "op.alter_stage('landing', comment='landed files', existing={'comment': 'raw files'})"
        in upgrade
    )
    assert f"url='{project}/archive2/'" in upgrade and f"'url': '{project}/archive/'" in upgrade
    assert (
        "op.alter_stage('landing', comment='raw files', existing={'comment': 'landed files'})"
        in downgrade
    )
    assert "Detected changed stage 'landing' (comment)" in LOGS[-1]
    assert "Detected changed stage 'archive' (url)" in LOGS[-1]
    no_secret_anywhere(project)

    alembic(project, "upgrade", "head")
    assert stages_in(runtime_url)["landing"].comment == "landed files"
    assert "No new upgrade operations detected" in alembic(project, "check")
    engine = sa.create_engine(runtime_url, poolclass=sa.pool.NullPool)
    with engine.connect() as conn:  # the internal stage was altered, not re-created
        assert [f.name for f in conn.execute(ListFiles(Stage("landing")))] == ["a.csv.gz"]
        archive = conn.exec_driver_sql("DESC STAGE archive").one()
        assert f"{project}/archive2/" in archive.stage_params
    engine.dispose()

    offline = alembic(project, "upgrade", "head", "--sql")
    assert "CREATE STAGE landing COMMENT = 'raw files';" in offline
    assert "ALTER STAGE landing SET COMMENT = 'landed files';" in offline

    alembic(project, "downgrade", "-1")
    assert stages_in(runtime_url)["landing"].comment == "raw files"
    alembic(project, "downgrade", "base")
    assert stages_in(runtime_url) == {}
    assert not (tmp_path / "stages" / "stage" / "internal" / "landing").exists()


# -- offline SQL for each engine -----------------------------------------------------------------


@pytest.fixture(scope="module")
def warehouse_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = tmp_path_factory.mktemp("warehouse")
    init_project(project, "duckdb:///unused.duckdb")
    (project / "migrations" / "versions" / "0001_stages.py").write_text(WAREHOUSE_MIGRATION)
    return project


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "snowflake://user:pw@account/db/public",
            [
                f"CREATE STAGE exports URL = 's3://bucket/exports/' CREDENTIALS = "
                f"(AWS_KEY_ID = '{KEY_ID}' AWS_SECRET_KEY = '{SECRET}') COMMENT = 'nightly';",
                "ALTER STAGE exports SET COMMENT = 'v2';",
                "ALTER STAGE exports SET URL = 's3://bucket/v2/' COMMENT = 'v3';",
            ],
        ),
        (
            "databend://user:pw@localhost:8000/default",
            [
                "CREATE STAGE exports URL = 's3://bucket/exports/' CONNECTION = "
                f"(ACCESS_KEY_ID = '{KEY_ID}' SECRET_ACCESS_KEY = '{SECRET}') COMMENT = 'nightly';",
                "CREATE OR REPLACE STAGE exports URL = 's3://bucket/exports/' CONNECTION = "
                f"(ACCESS_KEY_ID = '{KEY_ID}' SECRET_ACCESS_KEY = '{SECRET}') COMMENT = 'v2';",
                "CREATE OR REPLACE STAGE exports URL = 's3://bucket/v2/' CONNECTION = ",
            ],
        ),
        (
            "mysql+pymysql://user:pw@localhost/db",
            [
                "CREATE STAGE exports URL = 's3://bucket/exports/' CREDENTIALS = "
                f"{{\"access_key_id\"='{KEY_ID}', \"secret_access_key\"='{SECRET}'}} "
                "COMMENT = 'nightly';",
                "ALTER STAGE exports SET COMMENT = 'v2';",
                "ALTER STAGE exports SET URL = 's3://bucket/v2/';\n\nALTER STAGE exports SET "
                "COMMENT = 'v3';",
            ],
        ),
        (
            "duckdb:///app.duckdb",
            [
                "CREATE STAGE exports URL = 's3://bucket/exports/' CREDENTIALS = ",
                "ALTER STAGE exports SET COMMENT = 'v2';",
                "ALTER STAGE exports SET URL = 's3://bucket/v2/' COMMENT = 'v3';",
            ],
        ),
    ],
    ids=["snowflake", "databend", "matrixone", "duckdb"],
)
def test_offline_sql_per_dialect(warehouse_project: Path, url: str, expected: list[str]) -> None:
    output = alembic(warehouse_project, "-x", f"url={url}", "upgrade", "head", "--sql")
    for text in expected:
        assert text in output
    down = alembic(warehouse_project, "-x", f"url={url}", "downgrade", "0001:base", "--sql")
    assert "DROP STAGE exports;" in down


# -- operations and their reverse ----------------------------------------------------------------


def test_create_stage_reverses_to_a_drop_that_reverses_back() -> None:
    stage = Stage("exports", url="s3://b/", file_format=CSV(), comment="c")
    drop = CreateStageOp(stage).reverse()
    assert isinstance(drop, DropStageOp)
    assert (drop.stage_name, drop.existing) == ("exports", stage)
    assert drop.reverse().stage is stage
    assert drop.to_diff_tuple() == ("remove_stage", stage)


def test_a_drop_without_its_definition_is_not_reversible() -> None:
    with pytest.raises(ValueError, match="definition is unknown"):
        DropStageOp("landing").reverse()


def test_alter_stage_reverses_to_the_existing_values() -> None:
    op = AlterStageOp(
        "archive",
        changes={"url": "s3://b/new/", "comment": None},
        existing={"url": "s3://b/old/", "comment": "old", "file_format": CSV()},
    )
    back = op.reverse()
    assert back.changes == {"url": "s3://b/old/", "comment": "old"}
    assert back.existing == {"url": "s3://b/new/", "file_format": CSV(), "comment": None}
    assert back.reverse().changes == op.changes
    with pytest.raises(ValueError, match="existing_comment"):
        AlterStageOp("s", changes={"comment": "x"}).reverse()
    with pytest.raises(StageArgumentError, match="unknown properties name"):
        AlterStageOp("s", changes={"name": "x"})


def test_alter_is_split_as_each_engine_alters() -> None:
    changes = {"url": "s3://b/", "credentials": None, "directory": True, "comment": "c"}
    assert statement_groups("duckdb", changes) == [changes]
    assert statement_groups("mysql", changes) == [
        {"url": "s3://b/", "credentials": None},
        {"directory": True},
        {"comment": "c"},
    ]
    assert statement_groups("snowflake", changes) == [
        {"url": "s3://b/", "credentials": None, "comment": "c"},
        {"directory": True},
    ]


def test_operations_run_online_on_the_runtime(runtime_url: str) -> None:
    from alembic.operations import Operations

    engine = sa.create_engine(runtime_url, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        op: Any = Operations(MigrationContext.configure(conn))
        op.create_stage("lake", comment="one", file_format=JSON())
        op.alter_stage("lake", comment="two", existing_comment="one")
        assert conn.exec_driver_sql("SHOW STAGES").one().comment == "two"
        with pytest.raises(StageArgumentError, match="unknown arguments colour"):
            op.alter_stage("lake", colour="red")
        op.drop_stage("lake")
        op.drop_stage("lake", if_exists=True)
        assert conn.exec_driver_sql("SHOW STAGES").all() == []
    engine.dispose()


# -- rendering -------------------------------------------------------------------------------------


def autogen_context(dialect: str = "duckdb") -> AutogenContext:
    url = sa.engine.make_url(f"{dialect}://")
    context = MigrationContext.configure(dialect=url.get_dialect()())
    return AutogenContext(context, opts={"alembic_module_prefix": "op."})


def test_secret_variables_name_the_stage_and_key() -> None:
    assert render.secret_variable("exports", "aws_key_id") == "SQLA_STAGE_EXPORTS_AWS_KEY_ID"
    assert (
        render.secret_variable("my-stage", "master_key", schema="raw.Land")
        == "SQLA_STAGE_RAW_LAND_MY_STAGE_MASTER_KEY"
    )


def test_rendered_create_stage_reads_secrets_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stage = Stage(
        "vault",
        schema="raw",
        url="s3://b/v/",
        credentials={"aws_key_id": KEY_ID, "aws_secret_key": SECRET, "region": "eu-west-1"},
        encryption={"type": "AWS_CSE", "master_key": SECRET},
        file_format=FileFormat("fmt"),
        copy_options={"on_error": "continue", "purge": True},
        directory=True,
        comment="it's",
    )
    context = autogen_context()
    code = render.render_create_stage(context, CreateStageOp(stage))
    assert KEY_ID not in code and SECRET not in code
    assert "os.environ['SQLA_STAGE_RAW_VAULT_AWS_SECRET_KEY']" in code
    assert "os.environ['SQLA_STAGE_RAW_VAULT_MASTER_KEY']" in code
    assert "'region': 'eu-west-1'" in code
    assert context.imports == {"import os", "from sqla_stage import FileFormat"}
    for name in ("AWS_KEY_ID", "AWS_SECRET_KEY", "MASTER_KEY"):
        monkeypatch.setenv(f"SQLA_STAGE_RAW_VAULT_{name}", SECRET if "SECRET" in name else KEY_ID)
    monkeypatch.setenv("SQLA_STAGE_RAW_VAULT_MASTER_KEY", SECRET)
    created: list[Stage] = []
    fake_op = SimpleNamespace(create_stage=lambda *args, **kw: created.append(Stage(*args, **kw)))
    exec(code, {"op": fake_op, "os": os, "FileFormat": FileFormat})
    assert created[0].cache_key() == stage.cache_key()


def test_rendered_alter_carries_the_whole_definition_and_credentials(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    existing = {
        "url": "s3://b/",
        "credentials": {"aws_key_id": KEY_ID, "aws_secret_key": SECRET, "region": "eu-west-1"},
        "file_format": CSV(),
        "comment": "old",
    }
    op = AlterStageOp("exports", changes={"comment": "new"}, existing=existing, complete=True)
    context = autogen_context()  # rendered on DuckDB, the same for any dialect
    code = render.render_alter_stage(context, op)
    assert code == (
        "op.alter_stage(\n"
        "    'exports',\n"
        "    comment='new',\n"
        "    existing={\n"
        "        'url': 's3://b/',\n"
        "        'credentials': {\n"
        "            'aws_key_id': os.environ['SQLA_STAGE_EXPORTS_AWS_KEY_ID'],\n"
        "            'aws_secret_key': os.environ['SQLA_STAGE_EXPORTS_AWS_SECRET_KEY'],\n"
        "            'region': 'eu-west-1',\n"
        "        },\n"
        "        'file_format': CSV(),\n"
        "        'comment': 'old',\n"
        "    },\n"
        ")"
    )
    assert context.imports == {"import os", "from sqla_stage import CSV"}
    monkeypatch.setenv("SQLA_STAGE_EXPORTS_AWS_KEY_ID", KEY_ID)
    monkeypatch.setenv("SQLA_STAGE_EXPORTS_AWS_SECRET_KEY", SECRET)
    calls: list[dict[str, Any]] = []
    fake_op = SimpleNamespace(alter_stage=lambda *args, **kw: calls.append(kw))
    exec(code, {"op": fake_op, "os": os, "CSV": CSV})
    assert calls == [{"comment": "new", "existing": existing}]

    short = AlterStageOp("s", changes={"comment": "b"}, existing={"comment": "a"}, complete=True)
    assert render.render_alter_stage(context, short) == (
        "op.alter_stage('s', comment='b', existing={'comment': 'a'})"
    )
    partial = AlterStageOp("s", changes={"comment": "b"}, existing={"comment": "a"})
    assert render.render_alter_stage(context, partial) == (
        "op.alter_stage('s', comment='b', existing_comment='a')"
    )
    assert render.render_drop_stage(autogen_context(), DropStageOp("x", if_exists=True)) == (
        "op.drop_stage('x', if_exists=True)"
    )


# -- comparing -------------------------------------------------------------------------------------


def test_only_the_properties_read_are_compared() -> None:
    found = reflect.ReflectedStage(Stage("s", comment="a"), frozenset({"comment"}))
    wanted = Stage("s", url="s3://b/", comment="b", file_format=CSV())
    assert compare.changed_properties(found, wanted) == ["comment"]
    presence = reflect.ReflectedStage(Stage("s", url="s3://b/"), frozenset({"url"}), False)
    with_keys = Stage("s", url="s3://b/", credentials={"aws_role": "arn:aws:iam::1:role/r"})
    (op,) = compare.stage_operations(presence, with_keys)
    assert isinstance(op, AlterStageOp) and list(op.changes) == ["credentials"]
    assert op.complete and "credentials" not in op.existing


def test_a_stage_that_changes_kind_is_dropped_and_created() -> None:
    found = reflect.ReflectedStage(Stage("s"), frozenset(compare.ALTERABLE))
    ops = compare.stage_operations(found, Stage("s", url="s3://b/"))
    assert [type(op) for op in ops] == [DropStageOp, CreateStageOp]
    assert compare.stage_operations(found, Stage("s", comment="")) == []


def test_show_stages_rows_of_the_warehouses() -> None:
    from snowflake.sqlalchemy import snowdialect

    snowflake = SimpleNamespace(dialect=snowdialect.dialect())
    row = {
        "name": "EXPORTS",
        "url": "s3://b/",
        "has_credentials": "Y",
        "comment": "",
        "storage_integration": None,
        "directory_enabled": "N",
    }
    found = reflect.snowflake_stage(snowflake, row)  # type: ignore[arg-type]
    assert (found.stage.name, found.stage.url, found.has_credentials) == (
        "exports",
        "s3://b/",
        True,
    )
    mysql = SimpleNamespace(dialect=sa_mysql.dialect())
    row = {"stage_name": "st", "url": "s3://b/", "status": "ENABLED", "comment": "c"}
    assert reflect.matrixone_stage(mysql, row).stage.comment == "c"  # type: ignore[arg-type]
    databend = reflect.databend_stage(mysql, {"name": "d", "comment": None})  # type: ignore[arg-type]
    assert databend.known == frozenset({"comment"})


def test_no_stages_are_compared_without_the_runtime(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    engine = sa.create_engine(f"duckdb:///{tmp_path}/plain.duckdb")
    with engine.connect() as conn:
        assert reflect.reflect_stages(conn) is None
    assert "runtime is not enabled" in caplog.text
    engine.dispose()


# -- the reflection fix ----------------------------------------------------------------------------


@pytest.fixture
def runtime_engine(runtime_url: str) -> Iterator[sa.Engine]:
    engine = sa.create_engine(runtime_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE p (id INTEGER PRIMARY KEY)")
        conn.exec_driver_sql(
            "CREATE TABLE t (a INTEGER NOT NULL, b VARCHAR DEFAULT 'x', c DECIMAL(10, 2) "
            "CHECK (c > 0), pid INTEGER REFERENCES p (id), s STRUCT(x INTEGER))"
        )
        conn.exec_driver_sql("COMMENT ON COLUMN t.b IS 'bee'")
        conn.exec_driver_sql("CREATE STAGE landing")
    yield engine
    engine.dispose()


@pytest.mark.filterwarnings(STRUCT_WARNING)
def test_get_columns_works_on_the_runtime(runtime_engine: sa.Engine) -> None:
    columns = {c["name"]: c for c in sa.inspect(runtime_engine).get_columns("t")}
    assert list(columns) == ["a", "b", "c", "pid", "s"]
    assert columns["a"]["nullable"] is False and columns["b"]["comment"] == "bee"
    assert isinstance(columns["c"]["type"], sa.Numeric) and columns["c"]["type"].scale == 2


@pytest.mark.filterwarnings(INDEX_WARNING, STRUCT_WARNING)
def test_metadata_reflect_works_on_the_runtime(runtime_engine: sa.Engine) -> None:
    metadata = sa.MetaData()
    metadata.reflect(runtime_engine)
    assert sorted(metadata.tables) == ["p", "t"]  # not the registry's tables
    table = metadata.tables["t"]
    assert [fk.column.table.name for fk in table.foreign_keys] == ["p"]
    assert table.dialect_options["postgresql"].get("tablespace") is None
    assert sa.inspect(runtime_engine).get_table_names(schema="sqla_stage") == [
        "connections",
        "directory_files",
        "file_formats",
        "load_claims",
        "load_history",
        "stages",
    ]


def test_the_fix_touches_only_the_failing_queries(monkeypatch: pytest.MonkeyPatch) -> None:
    failing = "SELECT 1 FROM pg_catalog.pg_description WHERE classoid = CAST($2 AS REGCLASS)"
    assert reflection.rewrite(failing) == (
        "SELECT 1 FROM pg_catalog.pg_description WHERE classoid = CAST(NULLIF($2, $2) AS BIGINT)"
    )
    assert reflection.rewrite("SELECT * FROM pg_catalog.pg_class") is None
    assert reflection.rewrite("SELECT 'pg_catalog.pg_collation'") is None  # unknown form
    monkeypatch.setattr(reflection, "ACTIVE", False)  # a fixed duckdb-engine
    assert reflection.rewrite(failing) is None


def test_the_fix_switches_off_with_a_fixed_duckdb_engine() -> None:
    assert (reflection._installed_duckdb_engine() <= (0, 17, 0)) is reflection.ACTIVE
    plain = sa.create_engine("duckdb:///:memory:")
    assert "get_multi_columns" not in vars(plain.dialect)  # engines without the runtime
