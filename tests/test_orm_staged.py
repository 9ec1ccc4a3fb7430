"""Staged files as mapped objects: ``staged(..., columns=User)`` and ``staged_entity``.

A declarative model set (``User`` and ``Order``, an ``Order.user`` relationship over a
ForeignKey) on the DuckDB runtime, through ``Session``: staged Parquet and CSV files come
back as ``User`` / ``Order`` instances with the mapped types, filter, order and join like
the classes do; a join of staged files with a table sharing column names compares the
right columns; a value that does not convert is an error. The same ORM-built queries
on Snowflake and Databend: test_orm_staged_dialects.py.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    aliased,
    column_property,
    mapped_column,
    relationship,
)

from sqla_stage import CopyInto, FileFormat, Parquet, Stage, staged, staged_entity
from sqla_stage.errors import StageArgumentError


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    name: Mapped[str]
    born: Mapped[dt.date]
    orders: Mapped[list[Order]] = relationship(back_populates="user")


class Order(Base):
    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    total: Mapped[Decimal] = mapped_column(sa.Numeric(10, 2))
    user: Mapped[User] = relationship(back_populates="orders")


class Renamed(Base):
    """An attribute whose column has another name, and a computed attribute."""

    __tablename__ = "renamed"
    key: Mapped[int] = mapped_column("id", primary_key=True, autoincrement=False)
    label: Mapped[str] = mapped_column("name")
    shout = column_property(sa.func.upper(sa.literal_column("'x'")))


landing = Stage("landing", Base.metadata)
hcsv = FileFormat("hcsv")

USERS_CSV = "id,name,born\n1,ann,1990-01-02\n2,bob,1991-03-04\n3,cy,1992-05-06\n"
ORDERS_CSV = "id,user_id,total\n10,1,1.50\n11,2,2.25\n12,1,10.05\n13,3,7.00\n"


def stage_file(tmp_path: Path, key: str, text: str) -> None:
    path = tmp_path / "stages" / "stage" / "internal" / "landing" / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def stage_dir(tmp_path: Path) -> Path:
    return tmp_path / "stages" / "stage" / "internal" / "landing"


@pytest.fixture
def db(make_engine: Callable[..., Any], tmp_path: Path) -> Any:
    """Users 1 and 2 (and their orders) in the tables; users 1-3 and orders staged."""
    engine = make_engine()
    Base.metadata.create_all(engine)
    stage_file(tmp_path, "csv/users/u.csv", USERS_CSV)
    stage_file(tmp_path, "csv/orders/o.csv", ORDERS_CSV)
    parquet = stage_dir(tmp_path) / "pq/users/u.parquet"
    parquet.parent.mkdir(parents=True)
    with Session(engine) as session:
        session.execute(sa.text("CREATE FILE FORMAT hcsv TYPE = CSV SKIP_HEADER = 1"))
        session.execute(
            sa.text(
                "COPY (SELECT * FROM read_csv(:path, header = true, "
                "columns = {'id': 'INTEGER', 'name': 'VARCHAR', 'born': 'DATE'})) "
                f"TO '{parquet}' (FORMAT parquet)"
            ),
            {"path": str(stage_dir(tmp_path) / "csv/users/u.csv")},
        )
        session.add_all(
            [
                User(id=1, name="ann", born=dt.date(1990, 1, 2)),
                User(id=2, name="bob", born=dt.date(1991, 3, 4)),
            ]
        )
        session.flush()
        session.add_all(
            [
                Order(id=10, user_id=1, total=Decimal("1.50")),
                Order(id=11, user_id=2, total=Decimal("2.25")),
                Order(id=12, user_id=1, total=Decimal("10.05")),
            ]
        )
        session.commit()
    return engine


# Staged files as User instances


def test_staged_entity_returns_mapped_instances_filtered_and_ordered(db: Any) -> None:
    staged_users = staged_entity(User, landing / "pq/users/", file_format=Parquet())
    query = sa.select(staged_users).where(staged_users.id > 1).order_by(staged_users.name.desc())
    with Session(db) as session:
        users = session.scalars(query).all()
    assert all(type(user) is User for user in users)
    assert [(u.id, u.name, u.born) for u in users] == [
        (3, "cy", dt.date(1992, 5, 6)),
        (2, "bob", dt.date(1991, 3, 4)),
    ]


def test_aliased_over_staged_with_mapped_columns(db: Any) -> None:
    """The spelled-out form staged_entity() stands for."""
    files = staged(landing / "pq/users/", file_format=Parquet(), columns=User)
    staged_users = aliased(User, files, adapt_on_names=True)
    query = sa.select(staged_users).where(staged_users.name.in_(["ann", "cy"]))
    with Session(db) as session:
        names = [u.name for u in session.scalars(query.order_by(staged_users.id))]
    assert names == ["ann", "cy"]
    assert [c.type._type_affinity for c in files.c] == [sa.Integer, sa.String, sa.Date]


def test_csv_fields_come_back_as_the_mapped_types(db: Any) -> None:
    staged_orders = staged_entity(Order, landing / "csv/orders/", file_format=hcsv)
    staged_users = staged_entity(User, landing / "csv/users/", file_format=hcsv)
    with Session(db) as session:
        orders = session.scalars(sa.select(staged_orders).order_by(staged_orders.id)).all()
        user = session.scalars(sa.select(staged_users).where(staged_users.id == 3)).one()
        total = session.scalar(sa.select(sa.func.sum(staged_orders.total)))
    assert [(o.id, o.user_id, o.total) for o in orders] == [
        (10, 1, Decimal("1.50")),
        (11, 2, Decimal("2.25")),
        (12, 1, Decimal("10.05")),
        (13, 3, Decimal("7.00")),
    ]
    assert all(isinstance(o.total, Decimal) and isinstance(o.id, int) for o in orders)
    assert (user.name, user.born) == ("cy", dt.date(1992, 5, 6))
    assert total == Decimal("20.80")


def test_staged_orders_join_the_users_table(db: Any) -> None:
    """Order 13 belongs to user 3, who is in the files but not in the table."""
    staged_orders = staged_entity(Order, landing / "csv/orders/", file_format=hcsv)
    by_condition = (
        sa.select(staged_orders.id, User.name)
        .join(User, User.id == staged_orders.user_id)
        .order_by(staged_orders.id)
    )
    by_relationship = (
        sa.select(staged_orders)
        .join(staged_orders.user)
        .where(User.name == "ann")
        .order_by(staged_orders.total.desc())
    )
    with Session(db) as session:
        assert session.execute(by_condition).all() == [(10, "ann"), (11, "bob"), (12, "ann")]
        anns = session.scalars(by_relationship).all()
        assert [(o.id, o.total) for o in anns] == [(12, Decimal("10.05")), (10, Decimal("1.50"))]


def test_staged_users_join_staged_orders(db: Any) -> None:
    staged_users = staged_entity(User, landing / "pq/users/", file_format=Parquet())
    staged_orders = staged_entity(Order, landing / "csv/orders/", file_format=hcsv)
    query = (
        sa.select(staged_users, staged_orders)
        .join(staged_orders, staged_orders.user_id == staged_users.id)
        .where(staged_users.name == "cy")
    )
    with Session(db) as session:
        ((user, order),) = session.execute(query).all()
    assert (user.id, order.id, order.total) == (3, 13, Decimal("7.00"))


def test_a_join_on_shared_column_names_compares_the_right_sides(db: Any) -> None:
    """Files and table both have ``id`` and ``name``: only the matching rows come back."""
    users = User.__table__
    files = staged(
        landing / "csv/users/",
        file_format=hcsv,
        columns=[sa.column("id", sa.Integer), sa.column("name", sa.String)],
    )
    query = (
        sa.select(files.c.id, files.c.name, users.c.name.label("table_name"))
        .join(users, files.c.id == users.c.id)
        .where(files.c.name != "bob")
    )
    text = str(query.compile(db))
    assert re.search(r"ON (anon_1\.id = users\.id|users\.id = anon_1\.id)", text)
    assert "WHERE anon_1.name != " in text
    with db.connect() as conn:
        assert conn.execute(query.order_by(files.c.id)).all() == [(1, "ann", "ann")]
        # user 3 is only in the files: an outer join keeps it, unmatched
        outer = sa.select(files.c.id, users.c.id).outerjoin(users, files.c.id == users.c.id)
        assert sorted(conn.execute(outer).all()) == [(1, 1), (2, 2), (3, None)]


def test_columns_as_typed_core_columns_and_orm_attributes(db: Any) -> None:
    where = landing / "csv/users/"
    core = staged(where, file_format=hcsv, columns=[sa.column("id", sa.Integer), "born"])
    orm = staged(where, file_format=hcsv, columns=[User.id, User.born])
    with db.connect() as conn:
        # "born" given as a name stays the CSV text; User.born is a DATE
        assert conn.execute(sa.select(core).where(core.c.id == 1)).one() == (1, "1990-01-02")
        assert conn.execute(sa.select(orm).where(orm.c.id == 1)).one() == (
            1,
            dt.date(1990, 1, 2),
        )


def test_columns_named_by_their_column_not_their_attribute(db: Any, tmp_path: Path) -> None:
    files = staged(landing / "csv/users/", file_format=hcsv, columns=Renamed)
    assert [c.name for c in files.c] == ["id", "name"]  # no column for column_property
    staged_renamed = staged_entity(Renamed, landing / "csv/users/", file_format=hcsv)
    query = sa.select(staged_renamed).where(staged_renamed.label == "bob")
    with Session(db) as session:
        row = session.scalars(query).one()
    assert (row.key, row.label, row.shout) == (2, "bob", "X")


def test_the_identity_map_keeps_objects_already_loaded(db: Any) -> None:
    """Staged rows are User identities: a User the session holds is returned as it is."""
    stage_file(
        Path(str(db.url.database)).parent, "csv/v2/u.csv", "id,name,born\n1,ANN,2000-01-01\n"
    )
    staged_users = staged_entity(User, landing / "csv/v2/", file_format=hcsv)
    with Session(db) as session:
        held = session.get(User, 1)
        assert held is not None
        assert session.scalars(sa.select(staged_users)).one() is held
        assert held.name == "ann"  # the table's value, not the file's
    with Session(db) as session:  # a session of its own reads the files' values
        assert session.scalars(sa.select(staged_users)).one().name == "ANN"


# A value that does not convert is an error, never a NULL


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("id,user_id,total\nten,1,1.50\n", "ten"),
        ("id,user_id,total\n10,1,one\n", "one"),
    ],
)
def test_a_csv_value_that_does_not_convert_is_an_error(
    db: Any, tmp_path: Path, text: str, message: str
) -> None:
    stage_file(tmp_path, "bad/o.csv", text)
    staged_orders = staged_entity(Order, landing / "bad/", file_format=hcsv)
    with Session(db) as session, pytest.raises(sa.exc.DBAPIError, match=message):
        session.scalars(sa.select(staged_orders)).all()


def test_a_csv_date_that_does_not_convert_is_an_error(db: Any, tmp_path: Path) -> None:
    stage_file(tmp_path, "bad/u.csv", "id,name,born\n1,ann,1990-13-45\n")
    staged_users = staged_entity(User, landing / "bad/", file_format=hcsv)
    with Session(db) as session, pytest.raises(sa.exc.DBAPIError, match="1990-13-45"):
        session.scalars(sa.select(staged_users)).all()


def test_a_parquet_value_that_does_not_convert_is_an_error(db: Any) -> None:
    with db.begin() as conn:
        conn.execute(
            CopyInto(
                landing / "pq/bad/",
                sa.select(sa.literal("x1").label("id"), sa.literal("ann").label("name")),
                file_format=Parquet(),
                header=True,
            )
        )
    files = staged(landing / "pq/bad/", file_format=Parquet(), columns=[User.id, User.name])
    with db.connect() as conn, pytest.raises(sa.exc.DBAPIError, match="x1"):
        conn.execute(sa.select(files)).all()


def test_a_missing_column_is_an_error(db: Any) -> None:
    files = staged(landing / "pq/users/", file_format=Parquet(), columns=Order)
    with db.connect() as conn, pytest.raises(sa.exc.DBAPIError, match="user_id"):
        conn.execute(sa.select(files)).all()


# Arguments


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        ("id", "columns must be a list of names"),
        ([sa.literal(1)], "columns must be names, columns or mapped attributes"),
        ([User.__table__], "columns must be names, columns or mapped attributes"),
        ([User.id, sa.column("id")], "the column 'id' is given twice"),
        (42, "columns must be a mapped class or a list of columns"),
        ([""], "columns must be names"),
    ],
)
def test_wrong_columns_are_refused(columns: Any, message: str) -> None:
    with pytest.raises(StageArgumentError, match=message):
        staged(landing / "p/", columns=columns)


def test_staged_entity_takes_a_mapped_class_only() -> None:
    with pytest.raises(StageArgumentError, match="not a mapped class"):
        staged_entity(User.__table__, landing / "p/")  # type: ignore[arg-type]


def test_column_types_are_part_of_the_cache_key() -> None:
    where = landing / "p/"
    as_int = sa.select(staged(where, columns=[sa.column("a", sa.Integer)]))
    as_text = sa.select(staged(where, columns=[sa.column("a", sa.String)]))
    assert as_int._generate_cache_key() != as_text._generate_cache_key()
    assert "CAST(a AS INTEGER)" in str(as_int)
    assert "CAST(a AS VARCHAR)" in str(as_text)
