"""The everyday calls on a stage (issue 15, part D), on the DuckDB runtime.

``landing.list/put/get/remove/unload/load(bind, ...)`` through a Connection, an Engine and
an ORM Session, each returning what executing its construct returns; mapped classes as
sources and targets; ``read_polars()``; the typed options kept in step with the option
tables; and the layer rule for the new modules.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, get_type_hints

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    aliased,
    mapped_column,
    relationship,
    scoped_session,
    sessionmaker,
)

import sqla_stage
from sqla_stage import (
    CSV,
    CopyInto,
    Get,
    ListFiles,
    Parquet,
    Put,
    RemoveFiles,
    Stage,
    StageArgumentError,
    StageProgrammingError,
)
from sqla_stage.option_types import GetOptions, LoadOptions, PutOptions, UnloadOptions
from sqla_stage.options import GET_OPTIONS, LOAD_OPTIONS, PUT_OPTIONS, UNLOAD_OPTIONS


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    name: Mapped[str]
    orders: Mapped[list[Order]] = relationship(back_populates="user")


class Order(Base):
    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    total: Mapped[int]
    user: Mapped[User] = relationship(back_populates="orders")


#: A Core table shaped like ``users``: the construct's side of the load comparisons.
users_copy = sa.Table(
    "users_copy",
    Base.metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("name", sa.String, nullable=False),
)
landing = Stage("landing", Base.metadata)

BINDS = ["connection", "engine", "session"]
Rows = tuple[list[str], list[tuple[Any, ...]]]


def fetched(result: Any) -> Rows:
    return list(result.keys()), [tuple(row) for row in result.all()]


def call(kind: str, engine: sa.Engine, work: Callable[[Any], Any]) -> Rows:
    """Run ``work(bind)`` with a Connection, the Engine or a Session as ``bind``."""
    if kind == "connection":
        with engine.begin() as conn:
            return fetched(work(conn))
    if kind == "engine":
        return fetched(work(engine))  # read after the engine's connection is gone
    with Session(engine) as session, session.begin():
        return fetched(work(session))


def construct(engine: sa.Engine, statement: Any) -> Rows:
    with engine.begin() as conn:
        return fetched(conn.execute(statement))


@pytest.fixture
def db(engine: sa.Engine) -> Iterator[sa.Engine]:
    Base.metadata.create_all(engine)
    with Session(engine) as session, session.begin():
        ada, bob = User(id=1, name="ada"), User(id=2, name="bob")
        session.add_all([ada, bob])
        session.add_all([Order(id=10, user=ada, total=5), Order(id=11, user=bob, total=7)])
    yield engine


@pytest.fixture
def local_csv(tmp_path: Path) -> Path:
    path = tmp_path / "local" / "users.csv"
    path.parent.mkdir()
    path.write_text("id,name\n3,cy\n4,di\n", "utf-8")
    return path


@pytest.mark.parametrize("kind", BINDS)
def test_list_equals_list_files(db: sa.Engine, kind: str) -> None:
    landing.unload(db, User, "u/", file_format=Parquet())
    landing.unload(db, Order, "o/", file_format=Parquet())
    expected = construct(db, ListFiles(landing / "u/", pattern=r".*\.parquet"))
    assert call(kind, db, lambda b: landing.list(b, path="u/", pattern=r".*\.parquet")) == (
        expected
    )
    names = [row[0] for row in call(kind, db, landing.list)[1]]
    assert sorted(name.split("/")[0] for name in names) == ["o", "u"]
    assert expected[0] == ["name", "size", "md5", "last_modified"]


@pytest.mark.parametrize("kind", BINDS)
def test_unload_equals_copy_into(db: sa.Engine, kind: str) -> None:
    got = call(kind, db, lambda b: landing.unload(b, User, "a/", file_format=CSV(), header=True))
    expected = construct(
        db, CopyInto(landing / "b/", User.__table__, file_format=CSV(), header=True)
    )
    assert got == expected
    assert got == (
        ["rows_unloaded", "input_bytes", "output_bytes"],
        [(2, got[1][0][1], got[1][0][2])],
    )
    files = landing.read_arrow(db, "a/", file_format=CSV(skip_header=1))
    assert files.column_names == ["id", "name"] and files.num_rows == 2


@pytest.mark.parametrize("kind", BINDS)
def test_unload_of_an_orm_query_and_an_alias(db: sa.Engine, kind: str) -> None:
    query = sa.select(User).where(User.name == "bob")
    got = call(
        kind, db, lambda b: landing.unload(b, query, "q/", file_format=Parquet(), header=True)
    )
    assert got == construct(db, CopyInto(landing / "r/", query, file_format=Parquet(), header=True))
    assert landing.read_arrow(db, "q/", file_format=Parquet()).to_pylist() == [
        {"id": 2, "name": "bob"}
    ]
    rich = aliased(Order)
    call(kind, db, lambda b: landing.unload(b, rich, "al/", file_format=Parquet(), header=True))
    frame = landing.read_arrow(db, "al/", file_format=Parquet())
    assert sorted(frame.column("total").to_pylist()) == [5, 7]


@pytest.mark.parametrize("kind", BINDS)
def test_load_into_a_mapped_class_equals_copy_into(db: sa.Engine, kind: str) -> None:
    landing.unload(db, User, "u/", file_format=Parquet(), header=True)
    for table in (Order, User):  # DuckDB checks foreign keys per transaction
        with db.begin() as conn:
            conn.execute(sa.delete(table))
    got = call(kind, db, lambda b: landing.load(b, User, "u/", file_format=Parquet()))
    expected = construct(db, CopyInto(users_copy, landing / "u/", file_format=Parquet()))
    assert got == expected
    assert got[0][:4] == ["file", "status", "rows_parsed", "rows_loaded"]
    assert [row[1:4] for row in got[1]] == [("LOADED", 2, 2)]
    with Session(db) as session:
        assert [u.name for u in session.scalars(sa.select(User).order_by(User.id))] == [
            "ada",
            "bob",
        ]


def test_load_options_reach_the_statement(db: sa.Engine, local_csv: Path) -> None:
    landing.put(db, str(local_csv), "in/")
    with Session(db) as session, session.begin():
        rows = landing.load(
            session,
            User,
            "in/",
            file_format=CSV(skip_header=1),
            pattern=r".*users.*",
            purge=True,
        ).all()
        assert [(row.status, row.rows_loaded) for row in rows] == [("LOADED", 2)]
    assert landing.list(db, path="in/").all() == []  # PURGE, once the session committed
    with Session(db) as session:
        assert session.get(User, 3) is not None


def test_a_session_rollback_undoes_a_load(db: sa.Engine, local_csv: Path) -> None:
    landing.put(db, str(local_csv), "in/")
    factory = sessionmaker(db)
    with factory() as session:
        landing.load(session, User, "in/", file_format=CSV(skip_header=1))
        assert session.scalar(sa.select(sa.func.count()).select_from(User)) == 4
        session.rollback()
    with factory() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(User)) == 2


@pytest.mark.parametrize("kind", BINDS)
def test_put_and_get_equal_their_constructs(
    db: sa.Engine, kind: str, local_csv: Path, tmp_path: Path
) -> None:
    got = call(kind, db, lambda b: landing.put(b, str(local_csv), "p/", overwrite=True))
    assert got == construct(db, Put(str(local_csv), landing / "q/", overwrite=True))
    assert got[1][0][:2] == ("users.csv", "users.csv.gz")
    out, ref = tmp_path / f"out-{kind}", tmp_path / f"ref-{kind}"
    got = call(kind, db, lambda b: landing.get(b, "p/", str(out), pattern=r".*\.gz"))
    assert got == construct(db, Get(landing / "p/", str(ref), pattern=r".*\.gz"))
    assert (out / "users.csv.gz").read_bytes() == (ref / "users.csv.gz").read_bytes()


@pytest.mark.parametrize("kind", BINDS)
def test_remove_equals_remove_files(db: sa.Engine, kind: str, local_csv: Path) -> None:
    for folder in ("a/", "b/"):
        landing.put(db, str(local_csv), folder)
    got = call(kind, db, lambda b: landing.remove(b, path="a/", pattern=r".*\.gz"))
    expected = construct(db, RemoveFiles(landing / "b/", pattern=r".*\.gz"))
    assert got[0] == expected[0] == ["name", "result"]
    assert got[1] == [(name.replace("b/", "a/", 1), *rest) for name, *rest in expected[1]]
    assert landing.list(db).all() == []


def test_a_list_of_an_engine_keeps_its_rows_and_says_why_it_cannot_read(db: sa.Engine) -> None:
    landing.unload(db, Order, "o/", file_format=Parquet(), header=True)
    listed = landing.list(db)
    assert type(listed).__name__ == "ListResult"
    assert [row.name for row in listed] == ["o/data_0_0_0.snappy.parquet"]
    with pytest.raises(StageProgrammingError, match="connection this LIST ran on is closed"):
        listed.read_arrow(file_format=Parquet())
    with db.connect() as conn:  # on a connection kept open, it reads
        assert landing.list(conn).read_arrow(file_format=Parquet()).num_rows == 2


def test_scoped_session_is_a_bind(db: sa.Engine) -> None:
    scoped = scoped_session(sessionmaker(db))
    try:
        landing.unload(scoped, Order, "o/", file_format=Parquet(), header=True)
        scoped.commit()
        assert [row.name for row in landing.list(scoped)] == ["o/data_0_0_0.snappy.parquet"]
        frame = landing.read_arrow(scoped, "o/", file_format=Parquet())
        assert sum(frame.column("total").to_pylist()) == 12
    finally:
        scoped.remove()


@pytest.mark.extra("polars")
@pytest.mark.parametrize("kind", BINDS)
def test_read_polars_is_read_arrow_as_polars(db: sa.Engine, kind: str) -> None:
    import polars

    landing.unload(db, Order, "o/", file_format=Parquet(), header=True)
    arrow = landing.read_arrow(db, "o/", file_format=Parquet())
    if kind == "connection":
        with db.connect() as conn:
            frame = landing.read_polars(conn, "o/", file_format=Parquet())
    elif kind == "engine":
        frame = landing.read_polars(db, "o/", file_format=Parquet())
    else:
        with Session(db) as session:
            frame = landing.read_polars(session, "o/", file_format=Parquet())
    assert isinstance(frame, polars.DataFrame)
    assert frame.equals(polars.from_arrow(arrow))
    assert frame.columns == ["id", "user_id", "total"]


def test_read_polars_without_polars_names_the_extra(
    db: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    landing.unload(db, Order, "o/", file_format=Parquet(), header=True)
    monkeypatch.setitem(sys.modules, "polars", None)
    with pytest.raises(ImportError, match=r"pip install 'sqla-stage\[polars\]'"):
        landing.read_polars(db, "o/", file_format=Parquet())


def test_a_session_sees_its_own_uncommitted_unload(db: sa.Engine) -> None:
    with Session(db) as session:
        session.add(User(id=9, name="zed"))
        session.flush()
        landing.unload(session, sa.select(User).where(User.id == 9), "z/", header=True)
        frame = landing.read_arrow(session, "z/", file_format=CSV(skip_header=1))
        assert frame.column("name").to_pylist() == ["zed"]
        session.rollback()


def test_wrong_arguments_are_refused_clearly(db: sa.Engine) -> None:
    with pytest.raises(StageArgumentError, match="target of a load must be a Table"):
        landing.load(db, "users", "u/")
    with pytest.raises(StageArgumentError, match="the source must be a Table, a mapped class"):
        landing.unload(db, "users", "u/")
    with pytest.raises(StageArgumentError, match="expected a Connection, an Engine or a Session"):
        landing.list(42)  # type: ignore[arg-type]
    with pytest.raises(StageArgumentError, match="'max_file_size' is an unload option"):
        landing.load(db, User, "u/", max_file_size=10)  # type: ignore[call-arg]
    with pytest.raises(StageArgumentError, match="unknown option 'headr'"):
        landing.unload(db, User, "u/", headr=True)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("typed", "table", "extra"),
    [
        (UnloadOptions, UNLOAD_OPTIONS, {"file_format", "partition_by"}),
        (LoadOptions, LOAD_OPTIONS, {"file_format", "columns"}),
        (PutOptions, PUT_OPTIONS, set()),
        (GetOptions, GET_OPTIONS, set()),
    ],
)
def test_typed_options_mirror_the_option_tables(typed: Any, table: Any, extra: set[str]) -> None:
    assert set(get_type_hints(typed)) == set(table) | extra


#: What the everyday calls need and stage.py must not import (issue 20): the constructs
#: built on Stage (an import cycle) and the layers above them.
NOT_IN_STAGE = (
    "sqla_stage.ddl",
    "sqla_stage.files",
    "sqla_stage.copy",
    "sqla_stage.reading",
    "sqla_stage.runtime",
    "sqla_stage.stage_calls",
)
#: The layers above the constructs, which stage_methods.py and option_types.py never import.
HIGHER = (
    "sqla_stage.reading",
    "sqla_stage.display",
    "sqla_stage.runtime",
    "sqla_stage.stage_calls",
)


def imports_of(module: str) -> set[str]:
    tree = ast.parse(Path(sqla_stage.__file__).with_name(f"{module}.py").read_text("utf-8"))
    found = {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return found


def test_stage_py_imports_neither_the_calls_constructs_nor_the_readers() -> None:
    assert not {name for name in imports_of("stage") if name.startswith(NOT_IN_STAGE)}


@pytest.mark.parametrize("module", ["stage_methods", "option_types"])
def test_the_new_construct_layer_modules_import_nothing_above_them(module: str) -> None:
    assert not {name for name in imports_of(module) if name.startswith(HIGHER)}
