"""Mapped classes wherever a Table is taken: CopyInto, Stage.table, columns= (issue 15, A).

A declarative model set of two related models (``User`` and ``Order``), compiled for
Snowflake and Databend and run on the DuckDB runtime.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from databend_sqlalchemy import databend_dialect
from snowflake.sqlalchemy import snowdialect
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    aliased,
    column_property,
    mapped_column,
)

from sqla_stage import CSV, CopyInto, ListFiles, Parquet, Put, Stage
from sqla_stage.entity_tables import unload_source
from sqla_stage.errors import StageArgumentError


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column("user_name")  # the column's name is not the attribute's
    active: Mapped[bool] = mapped_column(server_default=sa.true())


class Order(Base):
    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    total: Mapped[int]


landing = Stage("landing", Base.metadata)

SNOWFLAKE = snowdialect.SnowflakeDialect()
DATABEND = databend_dialect.DatabendDialect()


def sql(statement: Any, dialect: Any) -> str:
    return str(statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


# Golden compile tests: the same ORM-built statements for Snowflake and Databend

ACTIVE = sa.select(User).where(User.active)
BIG_ORDERS = (
    sa.select(User.name, Order.total)
    .join(Order, Order.user_id == User.id)
    .where(Order.total > 10)
    .order_by(Order.id)
)

GOLDEN = [
    pytest.param(
        CopyInto(landing / "u/", User),
        "COPY INTO @landing/u/ FROM users",
        'COPY INTO @landing/u/ FROM "users" FILE_FORMAT = (TYPE = CSV COMPRESSION = GZIP)',
        id="unload-class",
    ),
    pytest.param(
        CopyInto(landing / "u/", ACTIVE, file_format=Parquet()),
        "COPY INTO @landing/u/ FROM (SELECT users.id, users.user_name, users.active \n"
        "FROM users \nWHERE users.active) FILE_FORMAT = (TYPE = PARQUET)",
        'COPY INTO @landing/u/ FROM (SELECT "users".id, "users".user_name, "users".active \n'
        'FROM "users" \nWHERE "users".active) FILE_FORMAT = (TYPE = PARQUET)',
        id="unload-orm-select",
    ),
    pytest.param(
        CopyInto(landing / "u/", aliased(User, name="u"), header=True),
        "COPY INTO @landing/u/ FROM (SELECT u.id, u.user_name, u.active \n"
        "FROM users AS u) HEADER = TRUE",
        "COPY INTO @landing/u/ FROM (SELECT u.id, u.user_name, u.active \n"
        'FROM "users" AS u) FILE_FORMAT = (TYPE = CSV COMPRESSION = GZIP OUTPUT_HEADER = TRUE)',
        id="unload-aliased",
    ),
    pytest.param(
        CopyInto(landing / "big/", BIG_ORDERS),
        "COPY INTO @landing/big/ FROM (SELECT users.user_name, orders.total \n"
        "FROM users JOIN orders ON orders.user_id = users.id \n"
        "WHERE orders.total > 10 ORDER BY orders.id)",
        'COPY INTO @landing/big/ FROM (SELECT "users".user_name, orders.total \n'
        'FROM "users" JOIN orders ON orders.user_id = "users".id \n'
        "WHERE orders.total > 10 ORDER BY orders.id) "
        "FILE_FORMAT = (TYPE = CSV COMPRESSION = GZIP)",
        id="unload-join",
    ),
    pytest.param(
        CopyInto(User, landing / "u/", file_format=CSV(skip_header=1)),
        "COPY INTO users FROM @landing/u/ FILE_FORMAT = (TYPE = CSV SKIP_HEADER = 1)",
        'COPY INTO "users" FROM @landing/u/ '
        "FILE_FORMAT = (TYPE = CSV SKIP_HEADER = 1 COMPRESSION = AUTO)",
        id="load-class",
    ),
    pytest.param(
        CopyInto(Order, landing / "o/", columns=[Order.id, Order.total], file_format=CSV()),
        "COPY INTO orders (id, total) FROM @landing/o/ FILE_FORMAT = (TYPE = CSV)",
        "COPY INTO orders (id, total) FROM @landing/o/ "
        "FILE_FORMAT = (TYPE = CSV COMPRESSION = AUTO)",
        id="load-attribute-columns",
    ),
    pytest.param(
        CopyInto(aliased(User), landing / "u/", columns=[User.id, User.name]),
        "COPY INTO users (id, user_name) FROM @landing/u/",
        'COPY INTO "users" (id, user_name) FROM @landing/u/ '
        "FILE_FORMAT = (TYPE = CSV COMPRESSION = AUTO)",
        id="load-aliased",
    ),
]


@pytest.mark.parametrize(("statement", "snowflake", "databend"), GOLDEN)
def test_orm_statements_compile_for_snowflake_and_databend(
    statement: CopyInto, snowflake: str, databend: str
) -> None:
    assert sql(statement, SNOWFLAKE) == snowflake
    assert sql(statement, DATABEND) == databend


def test_stage_table_of_a_mapped_class() -> None:
    assert sql(ListFiles(Stage.table(User)), SNOWFLAKE) == "LIST @%%users"  # pyformat doubles %
    assert Stage.table(User).owner_table is User.__table__
    assert Stage.table(aliased(User, name="u")).name == "users"  # the table, not the alias
    assert sql(ListFiles(Stage.table(Order)), SNOWFLAKE) == sql(
        ListFiles(Stage.table(Order.__table__)), SNOWFLAKE
    )
    load = CopyInto(aliased(User), Stage.table(User), columns=[User.id, User.name])
    assert sql(load, SNOWFLAKE) == "COPY INTO users (id, user_name) FROM @%%users"


def test_match_by_column_name_renders_for_a_mapped_class() -> None:
    copy = CopyInto(
        User, landing / "u/", file_format=Parquet(), match_by_column_name="CASE_SENSITIVE"
    )
    assert sql(copy, SNOWFLAKE) == (
        "COPY INTO users FROM @landing/u/ FILE_FORMAT = (TYPE = PARQUET) "
        "MATCH_BY_COLUMN_NAME = CASE_SENSITIVE"
    )


# What a mapped class means as an unload source


def test_a_plain_mapped_class_unloads_its_table_and_others_their_select() -> None:
    class Other(DeclarativeBase):
        pass

    class Deferring(Other):
        __tablename__ = "deferring"
        id: Mapped[int] = mapped_column(primary_key=True)
        bio: Mapped[str] = mapped_column(deferred=True)

    class Computing(Other):
        __tablename__ = "computing"
        id: Mapped[int] = mapped_column(primary_key=True)
        double: Mapped[int] = column_property(id * 2)

    assert unload_source(User) is User.__table__
    # deferral is a loading option of objects: the unload has every column, as a
    # subquery of select(Deferring) has
    assert unload_source(Deferring) is Deferring.__table__
    assert sql(CopyInto(landing / "d/", sa.select(Deferring)), SNOWFLAKE) == (
        "COPY INTO @landing/d/ FROM (SELECT deferring.id, deferring.bio \nFROM deferring)"
    )
    assert "SELECT computing.id * :param_1 AS anon_1, computing.id" in str(
        CopyInto(landing / "c/", Computing).compile()
    )
    assert unload_source("users") is None and unload_source(sa.select(User)) is None


def test_inheritance_unloads_what_select_returns_and_loads_are_refused() -> None:
    class Other(DeclarativeBase):
        pass

    class Employee(Other):
        __tablename__ = "employees"
        id: Mapped[int] = mapped_column(primary_key=True)
        kind: Mapped[str]
        __mapper_args__ = {"polymorphic_on": "kind", "polymorphic_identity": "employee"}

    class Manager(Employee):
        __mapper_args__ = {"polymorphic_identity": "manager"}

    class Engineer(Employee):
        __tablename__ = "engineers"
        id: Mapped[int] = mapped_column(sa.ForeignKey("employees.id"), primary_key=True)
        __mapper_args__ = {"polymorphic_identity": "engineer"}

    managers = sql(CopyInto(landing / "m/", Manager), SNOWFLAKE)
    assert "WHERE employees.kind IN ('manager')" in managers  # only the managers' rows
    assert "JOIN engineers" in sql(CopyInto(landing / "e/", Engineer), SNOWFLAKE)
    with pytest.raises(StageArgumentError, match="Manager is a single-table-inheritance"):
        CopyInto(Manager, landing / "m/")
    with pytest.raises(StageArgumentError, match="Engineer stores its rows in more than one"):
        CopyInto(Engineer, landing / "e/")
    assert (
        sql(CopyInto(Employee, landing / "e/"), SNOWFLAKE) == "COPY INTO employees FROM @landing/e/"
    )
    assert Stage.table(Engineer).name == "engineers"


# Errors name the direction and the argument


def test_a_wrong_target_names_both_directions() -> None:
    with pytest.raises(StageArgumentError) as info:
        CopyInto(42, User)
    message = str(info.value)
    assert "neither a table, mapped class or aliased() entity (a load)" in message
    assert "nor a Stage, stage path" in message and "(an unload)" in message
    assert "the target comes first" in message
    with pytest.raises(StageArgumentError, match="the source must be a Table, a mapped class"):
        CopyInto(landing / "u/", 42)
    with pytest.raises(StageArgumentError, match=r"COPY INTO <table>: expected a Stage"):
        CopyInto(User, 42)  # a load: the location is what is wrong
    with pytest.raises(StageArgumentError, match="did you mean '@u/'"):
        CopyInto("u/", User)  # text that is almost a location keeps its own message


def test_columns_of_another_table_or_of_no_kind_are_refused() -> None:
    with pytest.raises(
        StageArgumentError, match="column 'id' belongs to orders, not to the target table users"
    ):
        CopyInto(User, landing / "u/", columns=[Order.id])
    with pytest.raises(StageArgumentError, match="belongs to orders"):
        CopyInto(User, landing / "u/", columns=[Order.__table__.c.total])
    with pytest.raises(StageArgumentError, match="a name, a Column or a mapped attribute"):
        CopyInto(User, landing / "u/", columns=[42])
    with pytest.raises(StageArgumentError, match="columns is a load option"):
        CopyInto(landing / "u/", User, columns=[User.id])
    alias = aliased(User)
    assert CopyInto(
        User, landing / "u/", columns=[alias.name, sa.column("id"), "active"]
    ).columns == (
        "user_name",
        "id",
        "active",
    )


def test_an_aliased_select_is_not_a_table() -> None:
    subset = aliased(User, sa.select(User.__table__).where(User.active).subquery())
    with pytest.raises(StageArgumentError, match=r"aliased\(User\) aliases a select"):
        CopyInto(subset, landing / "u/")
    with pytest.raises(StageArgumentError, match=r"aliased\(User\) aliases a select"):
        Stage.table(subset)
    with pytest.raises(StageArgumentError, match="expected a Table, a mapped class or a name"):
        Stage.table(42)  # type: ignore[arg-type]


# On the DuckDB runtime


@pytest.fixture
def engine(make_engine: Callable[..., Any]) -> Iterator[Any]:
    engine = make_engine()
    Base.metadata.create_all(engine, tables=[User.__table__, Order.__table__])
    with Session(engine) as session, session.begin():
        session.add_all(
            [
                User(id=1, name="ann", active=True),
                User(id=2, name="bob", active=False),
                User(id=3, name="cyd", active=True),
            ]
        )
    with Session(engine) as session, session.begin():
        session.add_all(
            [
                Order(id=10, user_id=1, total=5),
                Order(id=11, user_id=1, total=50),
                Order(id=12, user_id=3, total=30),
                Order(id=13, user_id=2, total=99),
            ]
        )
    yield engine


def users(conn: sa.Connection) -> list[tuple[Any, ...]]:
    return [
        tuple(row)
        for row in conn.execute(sa.select(User.id, User.name, User.active).order_by(User.id))
    ]


def test_unload_an_orm_select_and_load_it_back_into_the_class(engine: Any) -> None:
    with engine.begin() as conn:
        result = conn.execute(
            CopyInto(landing / "active/", ACTIVE, file_format=Parquet(), header=True)
        )
        row = result.one()
        assert row.rows_unloaded == 2
    with engine.begin() as conn:
        conn.execute(sa.delete(Order))
    with engine.begin() as conn:  # DuckDB checks foreign keys against committed rows
        conn.execute(sa.delete(User))
        loaded = conn.execute(CopyInto(User, landing / "active/", file_format=Parquet())).all()
        assert [row.rows_loaded for row in loaded] == [2]
        assert users(conn) == [(1, "ann", True), (3, "cyd", True)]


def test_unload_a_mapped_class_and_an_aliased_entity(engine: Any) -> None:
    with engine.begin() as conn:
        conn.execute(
            CopyInto(landing / "all/", User, file_format=Parquet(), header=True, single=True)
        )
        conn.execute(
            CopyInto(
                landing / "alias/", aliased(User), file_format=Parquet(), header=True, single=True
            )
        )
        whole = landing.read(conn, "all/", file_format=Parquet())
        aliased_rows = landing.read(conn, "alias/", file_format=Parquet())
    assert list(whole.columns) == ["id", "user_name", "active"]
    assert whole.sort_values("id")["user_name"].tolist() == ["ann", "bob", "cyd"]
    assert aliased_rows.sort_values("id").values.tolist() == whole.sort_values("id").values.tolist()


def test_unload_a_join_with_a_where_clause(engine: Any) -> None:
    with engine.begin() as conn:
        conn.execute(
            CopyInto(landing / "big/", BIG_ORDERS, file_format=Parquet(), header=True, single=True)
        )
        frame = landing.read(conn, "big/", file_format=Parquet())
    assert frame.values.tolist() == [["ann", 50], ["cyd", 30], ["bob", 99]]


def test_load_columns_given_as_attributes(engine: Any, tmp_path: Path) -> None:
    local = tmp_path / "new_users.csv"
    local.write_text("dee,4\neve,5\n")
    with engine.begin() as conn:
        conn.execute(Put(str(local), landing / "new/"))
        conn.execute(
            CopyInto(User, landing / "new/", columns=[User.name, User.id], file_format=CSV())
        )
        # active was not listed: it takes the column's default
        assert users(conn)[3:] == [(4, "dee", True), (5, "eve", True)]


def test_match_by_column_name_uses_the_column_names_not_the_attributes(engine: Any) -> None:
    reordered = sa.select(User.active, User.name, (User.id + 100).label("id"))
    renamed = sa.select((User.id + 200).label("id"), User.name.label("name"), User.active)
    with engine.begin() as conn:
        conn.execute(
            CopyInto(
                landing / "by_name/", reordered, file_format=Parquet(), header=True, single=True
            )
        )
        conn.execute(
            CopyInto(landing / "renamed/", renamed, file_format=Parquet(), header=True, single=True)
        )
        conn.execute(
            CopyInto(
                User,
                landing / "by_name/",
                file_format=Parquet(),
                match_by_column_name="CASE_INSENSITIVE",
            )
        )
        assert users(conn)[3:] == [(101, "ann", True), (102, "bob", False), (103, "cyd", True)]
    # a file column named after the attribute ("name") is not the column "user_name"
    with engine.begin() as conn, pytest.raises(sa.exc.DBAPIError, match="user_name"):
        conn.execute(
            CopyInto(
                User,
                landing / "renamed/",
                file_format=Parquet(),
                match_by_column_name="CASE_INSENSITIVE",
            )
        )


def test_the_table_stage_of_a_mapped_class(engine: Any, tmp_path: Path) -> None:
    local = tmp_path / "orders.csv"
    local.write_text("20,3,7\n21,1,8\n")
    with engine.begin() as conn:
        conn.execute(Put(str(local), Stage.table(Order)))
        assert [row.name for row in conn.execute(ListFiles(Stage.table(Order)))] == [
            "orders.csv.gz"
        ]
        conn.execute(CopyInto(Order, Stage.table(Order), file_format=CSV()))
        totals = conn.execute(
            sa.select(User.name, sa.func.sum(Order.total))
            .join(Order, Order.user_id == User.id)
            .group_by(User.name)
            .order_by(User.name)
        ).all()
    assert [tuple(row) for row in totals] == [("ann", 63), ("bob", 99), ("cyd", 37)]


def test_an_unload_result_keeps_its_columns_whatever_the_query(engine: Any) -> None:
    three = sa.select(User.__table__)  # as many columns as the result: once mislabelled
    with engine.begin() as conn:
        plain = conn.execute(CopyInto(landing / "k/", three, overwrite=True))
        assert list(plain.keys()) == ["rows_unloaded", "input_bytes", "output_bytes"]
        detailed = conn.execute(
            CopyInto(landing / "k/", ACTIVE, overwrite=True, detailed_output=True)
        )
        assert list(detailed.keys()) == ["file_name", "file_size", "row_count"]


def test_a_deferred_column_is_unloaded_as_the_statement_says(make_engine: Any) -> None:
    class Other(DeclarativeBase):
        pass

    class Note(Other):
        __tablename__ = "notes"
        id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
        body: Mapped[str] = mapped_column(deferred=True)

    engine = make_engine(database="notes.duckdb")
    Other.metadata.create_all(engine)
    stage = Stage("notes_stage")
    with Session(engine) as session, session.begin():
        session.add(Note(id=1, body="hello"))
        stage.create(session.connection())
        statement = CopyInto(stage / "n/", sa.select(Note), file_format=Parquet(), header=True)
        assert "notes.body" in sql(statement, SNOWFLAKE)
        session.execute(statement)
        frame = stage.read(session.connection(), "n/", file_format=Parquet())
    assert frame.values.tolist() == [[1, "hello"]]
