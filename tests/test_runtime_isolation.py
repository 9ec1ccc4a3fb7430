"""User stages are private, and stages persist with their database file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from sqla_stage import ListFiles, Put, Stage
from sqla_stage.errors import StageRuntimeError


def _put(engine: Any, source: Path) -> None:
    with engine.begin() as conn:
        conn.execute(Put(str(source), Stage.user(), auto_compress=False))


def _list_or_error(conn: Any, location: str) -> str:
    """What LIST shows of a location, or the error it raises, as text."""
    try:
        return str(conn.exec_driver_sql(f"LIST {location}").all())
    except (StageRuntimeError, sa.exc.ArgumentError) as error:
        return str(error)


def test_one_users_stage_is_not_visible_to_another(make_engine: Any, tmp_path: Path) -> None:
    source = tmp_path / "secret.csv"
    source.write_text("1,alice\n")
    alice, bob = make_engine(user="alice"), make_engine(user="bob")
    _put(alice, source)
    with alice.connect() as conn:
        assert [row.name for row in conn.exec_driver_sql("LIST @~")] == ["secret.csv"]
    with bob.connect() as conn:
        assert conn.exec_driver_sql("LIST @~").all() == []
        assert conn.execute(ListFiles(Stage.user())).all() == []
        # The folders behind user stages are not reachable as named stages.
        for spelling in ("@alice", "@user", "@stage", '@"stage/user/alice"', "@~/../alice"):
            assert "secret.csv" not in _list_or_error(conn, spelling)
    assert (tmp_path / "stages" / "stage" / "user" / "alice" / "secret.csv").exists()
    assert not (tmp_path / "stages" / "stage" / "user" / "bob").exists()


def test_user_stage_files_survive_reopening(make_engine: Any, tmp_path: Path) -> None:
    source = tmp_path / "kept.csv"
    source.write_text("1\n")
    first = make_engine(user="alice")
    _put(first, source)
    first.dispose()
    with make_engine(user="alice").connect() as conn:
        assert [row.name for row in conn.exec_driver_sql("ls @~")] == ["kept.csv"]


def test_stage_user_must_be_a_plain_name(tmp_path: Path) -> None:
    for bad in ("../bob", "a/b", ".", ".."):
        with pytest.raises(sa.exc.ArgumentError, match="stage_user"):
            sa.create_engine(
                f"duckdb:///{tmp_path / 'x.duckdb'}", plugins=["sqla_stage"], stage_user=bad
            )
