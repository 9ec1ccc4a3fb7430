"""MatrixOne's current stage syntax on the runtime, as its documentation writes it (issue 14).

Sub-stages (``URL = 'stage://parent/sub/'``), ``INTO OUTFILE 'stage://name/file'``, a stage
turned off with ``ENABLE = FALSE``, an export run again, ``SET COMMENT 'x'`` without ``=``,
and the ``'PROVIDER'`` credential.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

from sqla_stage import CreateStage, StageParseError, parse

USER_CSV = 'id,user_name,sex\n1,"weder","man"\n2,"tom","man"\n'


@pytest.fixture
def engine(engine: sa.Engine, tmp_path: Path) -> sa.Engine:
    """The runtime engine of tests/conftest.py, with the tables the tests use."""
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE user (id int, user_name varchar(255), sex varchar)")
        conn.exec_driver_sql("INSERT INTO user VALUES (1, 'weder', 'man'), (2, 'tom', 'man')")
        conn.exec_driver_sql(f"CREATE STAGE fs_stage URL = 'file://{tmp_path / 'local'}'")
    return engine


def test_a_sub_stage_is_a_folder_of_its_parent(engine: sa.Engine, tmp_path: Path) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql("create stage sub_stage url = 'stage://fs_stage/test1/'")
        written = conn.exec_driver_sql(
            "select * from user into outfile 'stage://sub_stage/user.csv'"
        ).one()
        assert tuple(written) == ("user.csv", len(USER_CSV), 2)
        assert [row.name for row in conn.exec_driver_sql("LIST @sub_stage")] == ["user.csv"]
        assert [row.name for row in conn.exec_driver_sql("LIST @fs_stage")] == ["test1/user.csv"]
    assert (tmp_path / "local" / "test1" / "user.csv").read_text() == USER_CSV


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("stage://fs_stage/../x/", "without '..'"),
        ("stage:///x/", "a stage:// URL names a stage"),
        ("stage://nowhere/x/", "stage @nowhere does not exist"),
    ],
)
def test_a_bad_stage_url_is_refused_and_nothing_is_registered(
    engine: sa.Engine, url: str, message: str
) -> None:
    with engine.connect() as conn, pytest.raises(sa.exc.ProgrammingError, match=message):
        conn.exec_driver_sql(f"create stage bad url = '{url}'")
    with engine.connect() as conn:
        names = conn.exec_driver_sql("SELECT name FROM sqla_stage.stages").scalars().all()
    assert names == ["fs_stage"]


def test_an_export_run_again_overwrites_the_stage_file(engine: sa.Engine, tmp_path: Path) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql("select * from user into outfile 'stage://fs_stage/user.csv'")
        conn.exec_driver_sql("DELETE FROM user WHERE id = 2")
        conn.exec_driver_sql("select * from user into outfile 'stage://fs_stage/user.csv'")
    assert (tmp_path / "local" / "user.csv").read_text() == 'id,user_name,sex\n1,"weder","man"\n'


def test_an_export_onto_a_folder_is_refused(engine: sa.Engine, tmp_path: Path) -> None:
    (tmp_path / "local" / "user.csv").mkdir(parents=True)
    with engine.connect() as conn, pytest.raises(sa.exc.ProgrammingError, match="is a folder"):
        conn.exec_driver_sql("select * from user into outfile 'stage://fs_stage/user.csv'")
    assert list((tmp_path / "local" / "user.csv").iterdir()) == []


def test_a_disabled_stage_is_invalid_until_enabled_again(engine: sa.Engine, tmp_path: Path) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql("ALTER STAGE fs_stage SET ENABLE = FALSE")
    with (
        engine.connect() as conn,
        pytest.raises(sa.exc.ProgrammingError, match="stage 'fs_stage' is invalid, please check"),
    ):
        conn.exec_driver_sql("SELECT * FROM user INTO OUTFILE 'stage://fs_stage/user.csv'")
    assert not (tmp_path / "local" / "user.csv").exists()
    with engine.begin() as conn:
        conn.exec_driver_sql("ALTER STAGE fs_stage SET ENABLE = TRUE")
        conn.exec_driver_sql("SELECT * FROM user INTO OUTFILE 'fs_stage:/user.csv'")
    assert (tmp_path / "local" / "user.csv").read_text() == USER_CSV


def test_set_comment_without_equals(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql("ALTER STAGE fs_stage SET COMMENT 'user stage'")
        comment = conn.exec_driver_sql("SELECT comment FROM sqla_stage.stages").scalar_one()
    assert comment == "user stage"


PROVIDER_STAGE = (
    "CREATE STAGE my_s3_stage URL = 's3://bucket/path/' CREDENTIALS = {'AWS_KEY_ID'='k', "
    "'AWS_SECRET_KEY'='s', 'AWS_REGION'='us-west-2', 'PROVIDER'='Amazon', "
    "'ENDPOINT'='s3.us-west-2.amazonaws.com'}"
)


def test_the_provider_credential_is_kept_and_rendered_for_matrixone() -> None:
    ddl = parse(PROVIDER_STAGE)
    assert isinstance(ddl, CreateStage) and ddl.stage.credentials is not None
    assert ddl.stage.credentials["provider"] == "Amazon"
    assert "\"provider\"='Amazon'" in str(ddl.compile(dialect=mysql.dialect()))


def test_a_provider_other_than_amazon_needs_its_endpoint(engine: sa.Engine) -> None:
    with engine.connect() as conn, pytest.raises(sa.exc.ProgrammingError, match="needs its"):
        conn.exec_driver_sql("CREATE STAGE m URL = 's3://b/p/' CREDENTIALS = {'PROVIDER'='minio'}")


def test_an_unknown_credential_key_is_still_refused() -> None:
    with pytest.raises(StageParseError, match="expected a credential key"):
        parse("CREATE STAGE m URL = 's3://b/p/' CREDENTIALS = {'VENDOR'='x'}")
