"""Stage statements in ORM Sessions on the DuckDB runtime, with two related declarative models.

A Session's rollback undoes a load and its load history, PURGE waits for the session's
commit, ``Session.begin()``, ``sessionmaker`` and ``scoped_session`` behave, ORM events
see the statements, pending objects are flushed before a load or unload (SQLAlchemy
autoflushes before Core statements too), savepoints are refused clearly, and files (an
unload's, a PURGE's) follow the rules docs/orm.md states.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    mapped_column,
    relationship,
    scoped_session,
    selectinload,
    sessionmaker,
)

from sqla_stage import (
    CSV,
    CopyInto,
    CreateStage,
    ListFiles,
    Put,
    RemoveFiles,
    Stage,
    StageProgrammingError,
)


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    # DuckDB has no SERIAL: an Integer primary key needs autoincrement=False.
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    name: Mapped[str]
    orders: Mapped[list[Order]] = relationship(back_populates="user", order_by="Order.id")


class Order(Base):
    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    amount: Mapped[int]
    user: Mapped[User] = relationship(back_populates="orders")


landing = Stage("landing", Base.metadata)
USERS = User.__table__
ORDERS = Order.__table__


@pytest.fixture
def engine(make_engine: Callable[..., Any]) -> Any:
    """A file database with the models and the stage."""
    engine = make_engine(stage_progress=False)
    Base.metadata.create_all(engine)
    return engine


@pytest.fixture
def put(engine: Any, tmp_path: Path) -> Callable[[str, str], None]:
    """Stage a CSV file (``name``, ``text``) on @landing, committed."""

    def put(name: str, text: str) -> None:
        local = tmp_path / "local" / name
        local.parent.mkdir(exist_ok=True)
        local.write_text(text)
        with engine.begin() as conn:
            conn.execute(Put(str(local), landing, auto_compress=False))

    return put


def staged_names(engine: Any) -> list[str]:
    with engine.connect() as conn:
        return sorted(row.name for row in conn.execute(ListFiles(landing)))


def count(bind: Any, table: sa.Table) -> int:
    return int(bind.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def history(bind: Any) -> list[tuple[Any, ...]]:
    rows = bind.execute(sa.text("SELECT table_name, file_url FROM sqla_stage.load_history"))
    return [tuple(row) for row in rows]


def load_users(**options: Any) -> CopyInto:
    return CopyInto(USERS, landing, file_format=CSV(), pattern=r"users.*", **options)


def test_rollback_undoes_the_load_and_its_history(engine: Any, put: Any) -> None:
    put("users.csv", "1,ann\n2,bob\n")
    session = Session(engine)
    result = session.execute(load_users()).mappings().all()
    assert [(r["file"], r["status"], r["rows_loaded"]) for r in result] == [
        ("users.csv", "LOADED", 2)
    ]
    assert session.scalars(sa.select(User.name).order_by(User.id)).all() == ["ann", "bob"]
    assert len(history(session)) == 1
    session.rollback()
    assert count(session, USERS) == 0
    assert history(session) == []
    # Nothing remembers the rolled-back load: the same file loads again.
    again = session.execute(load_users()).mappings().all()
    assert [(r["status"], r["rows_loaded"]) for r in again] == [("LOADED", 2)]
    session.commit()
    session.close()
    with Session(engine) as fresh:
        assert fresh.scalars(sa.select(User.name).order_by(User.id)).all() == ["ann", "bob"]
        # Committed history skips the file now.
        status = fresh.execute(load_users()).scalar_one()
        assert status == "Copy executed with 0 files processed."


def test_purge_happens_when_the_session_commits(engine: Any, put: Any) -> None:
    put("users.csv", "1,ann\n")
    with Session(engine) as session:
        session.execute(load_users(purge=True))
        assert staged_names(engine) == ["users.csv"]  # still there before COMMIT
        assert [r.name for r in session.execute(ListFiles(landing))] == ["users.csv"]
        session.commit()
        assert staged_names(engine) == []
        assert count(session, USERS) == 1


def test_purge_never_happens_after_a_rollback(engine: Any, put: Any) -> None:
    put("users.csv", "1,ann\n")
    session = Session(engine)
    session.execute(load_users(purge=True))
    session.rollback()
    assert staged_names(engine) == ["users.csv"]
    # A later commit on the same connection runs nothing of the rolled-back load.
    session.add(User(id=7, name="zed"))
    session.commit()
    assert staged_names(engine) == ["users.csv"]
    session.close()


def test_a_session_closed_without_commit_keeps_the_files(engine: Any, put: Any) -> None:
    put("users.csv", "1,ann\n")
    with Session(engine) as session:
        session.execute(load_users(purge=True))
    with Session(engine) as later:
        later.add(User(id=7, name="zed"))
        later.commit()
        assert count(later, USERS) == 1
    assert staged_names(engine) == ["users.csv"]


def test_an_abandoned_connection_never_purges(
    engine: Any, put: Any, make_engine: Callable[..., Any]
) -> None:
    put("users.csv", "1,ann\n")
    # One pooled connection (same database and stages): it serves the next commit too.
    single = make_engine(pool_size=1, max_overflow=0, stage_progress=False)

    def abandon() -> None:
        conn = single.connect()  # never closed: the pool rolls it back when collected
        conn.execute(load_users(purge=True))

    abandon()
    gc.collect()
    with Session(single) as session, session.begin():
        session.add(User(id=7, name="zed"))
    assert staged_names(engine) == ["users.csv"]
    with engine.connect() as conn:
        assert count(conn, USERS) == 1
        assert history(conn) == []


def test_sessionmaker_begin_blocks(engine: Any, put: Any) -> None:
    put("users.csv", "1,ann\n2,bob\n")
    maker = sessionmaker(engine)
    with pytest.raises(RuntimeError), maker.begin() as session:
        session.execute(load_users(purge=True))
        raise RuntimeError("the block fails: rolled back")
    assert staged_names(engine) == ["users.csv"]
    with maker.begin() as session:
        session.execute(load_users(purge=True))
    assert staged_names(engine) == []
    with maker() as session:
        assert session.scalars(sa.select(User.id).order_by(User.id)).all() == [1, 2]


def test_loaded_rows_are_mapped_objects_with_relationships(engine: Any, put: Any) -> None:
    put("users.csv", "1,ann\n2,bob\n")
    put("orders.csv", "10,1,5\n11,1,7\n12,2,3\n")
    with Session(engine) as session, session.begin():
        session.execute(load_users())
        orders = CopyInto(ORDERS, landing, file_format=CSV(), pattern=r"orders.*")
        assert session.execute(orders).mappings().one()["rows_loaded"] == 3
    with Session(engine) as session:
        users = session.scalars(
            sa.select(User).options(selectinload(User.orders)).order_by(User.id)
        ).all()
        assert [(u.name, [o.amount for o in u.orders]) for u in users] == [
            ("ann", [5, 7]),
            ("bob", [3]),
        ]


def test_do_orm_execute_sees_stage_statements(engine: Any, put: Any) -> None:
    put("users.csv", "1,ann\n")
    maker = sessionmaker(engine)
    seen: list[str] = []

    @sa.event.listens_for(maker, "do_orm_execute")
    def record(state: Any) -> None:
        seen.append(type(state.statement).__name__)

    with maker.begin() as session:
        session.execute(load_users())
        session.execute(ListFiles(landing))
        session.execute(sa.text("LIST @landing"))
    assert seen == ["CopyInto", "ListFiles", "TextClause"]


def test_pending_objects_are_flushed_before_an_unload(engine: Any) -> None:
    with Session(engine) as session, session.begin():
        session.add_all([User(id=1, name="ann"), User(id=2, name="bob")])
        unload = CopyInto(landing / "out/", sa.select(USERS), file_format=CSV(), header=True)
        assert session.execute(unload).mappings().one()["rows_unloaded"] == 2
        session.add(User(id=3, name="cy"))
        with session.no_autoflush:  # the ORM's switch is honoured
            again = CopyInto(landing / "kept/", USERS, file_format=CSV())
            assert session.execute(again).mappings().one()["rows_unloaded"] == 2


def test_pending_objects_are_flushed_before_stage_sql_text(engine: Any) -> None:
    with Session(engine) as session, session.begin():
        session.add(User(id=1, name="ann"))
        unload = sa.text("COPY INTO @landing/text/ FROM users FILE_FORMAT = (TYPE = CSV)")
        assert session.execute(unload).mappings().one()["rows_unloaded"] == 1


def test_pending_objects_are_flushed_before_a_load(engine: Any, put: Any) -> None:
    put("orders.csv", "10,1,5\n")
    with Session(engine) as session, session.begin():
        session.add(User(id=1, name="ann"))  # the orders' user, still pending
        load = CopyInto(ORDERS, landing, file_format=CSV(), pattern=r"orders.*")
        assert session.execute(load).mappings().one()["status"] == "LOADED"
    with Session(engine) as session:
        assert session.get(User, 1) is not None
        assert [o.amount for o in session.scalars(sa.select(Order))] == [5]


def test_unload_files_stay_after_a_rollback(engine: Any) -> None:
    with Session(engine) as session:
        session.add(User(id=1, name="ann"))
        session.flush()
        unload = CopyInto(landing / "out/", USERS, file_format=CSV())
        assert session.execute(unload).mappings().one()["rows_unloaded"] == 1
        listed = [r.name for r in session.execute(ListFiles(landing / "out/"))]
        assert len(listed) == 1 and listed[0].startswith("out/")
        session.rollback()
        # The rows are gone, the files are not: files are not transactional.
        assert count(session, USERS) == 0
    assert staged_names(engine) == listed


def test_savepoints_are_refused_and_the_outer_transaction_goes_on(engine: Any, put: Any) -> None:
    put("users.csv", "1,ann\n")
    with Session(engine) as session:
        session.execute(load_users(purge=True))
        refused = r"savepoints.*begin_nested\(\)"
        with pytest.raises(StageProgrammingError, match=refused), session.begin_nested():
            session.add(User(id=9, name="never"))
        assert session.in_transaction()
        session.commit()  # the outer load commits, and its PURGE runs
        assert session.scalars(sa.select(User.name)).all() == ["ann"]
    assert staged_names(engine) == []


def test_savepoint_text_is_refused(engine: Any) -> None:
    with engine.connect() as conn:
        conn.begin()
        with pytest.raises(StageProgrammingError, match="DuckDB has no savepoints"):
            conn.exec_driver_sql("SAVEPOINT before_load")
        with pytest.raises(StageProgrammingError, match="savepoints"):
            conn.begin_nested()
        assert conn.in_transaction()


def test_scoped_sessions_in_two_threads(make_engine: Callable[..., Any], put: Any) -> None:
    engine = make_engine(database="threads.duckdb", stage_progress=False)
    Base.metadata.create_all(engine)
    with Session(engine) as session, session.begin():
        session.add_all([User(id=1, name="ann"), User(id=2, name="bob")])
    with engine.begin() as conn:
        for name, text in [("orders_a.csv", "10,1,5\n"), ("orders_b.csv", "20,2,8\n")]:
            local = Path(engine.url.database).parent / name
            local.write_text(text)
            conn.execute(Put(str(local), landing, auto_compress=False))
    registry = scoped_session(sessionmaker(engine))
    both_loaded = threading.Barrier(2)
    sessions: dict[str, int] = {}
    errors: list[BaseException] = []

    def work(name: str, commit: bool) -> None:
        try:
            session = registry()
            sessions[name] = id(session)
            load = CopyInto(ORDERS, landing / name, file_format=CSV(), purge=True)
            session.execute(load)
            both_loaded.wait(timeout=30)  # both transactions are open at once
            session.commit() if commit else session.rollback()
        except BaseException as error:  # reported by the main thread
            errors.append(error)
        finally:
            registry.remove()

    threads = [
        threading.Thread(target=work, args=("orders_a.csv", True)),
        threading.Thread(target=work, args=("orders_b.csv", False)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sessions["orders_a.csv"] != sessions["orders_b.csv"]  # one Session a thread
    assert staged_names(engine) == ["orders_b.csv"]  # only the committed load purged
    with Session(engine) as session:
        assert session.scalars(sa.select(Order.id)).all() == [10]


def test_an_in_memory_database_is_one_database_a_thread() -> None:
    # duckdb-engine pools ":memory:" per thread (SingletonThreadPool), and each DuckDB
    # connection to ":memory:" is a database of its own: threads need a database file
    # or a named in-memory database (":memory:<name>"), as docs/orm.md says.
    def tables_seen_by_a_thread(url: str) -> list[str]:
        engine = sa.create_engine(url, plugins=["sqla_stage"], stage_progress=False)
        try:
            with engine.begin() as conn:
                conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
            seen: list[str] = []

            def look() -> None:
                with engine.connect() as conn:
                    seen.extend(sa.inspect(conn).get_table_names())

            thread = threading.Thread(target=look)
            thread.start()
            thread.join(timeout=30)
            return seen
        finally:
            engine.dispose()

    assert tables_seen_by_a_thread("duckdb:///:memory:") == []
    assert tables_seen_by_a_thread("duckdb:///:memory:sessions_shared") == ["t"]


def test_a_session_joined_to_an_outer_transaction(engine: Any, put: Any) -> None:
    put("users.csv", "1,ann\n")
    with engine.connect() as conn:
        conn.begin()
        joined = Session(bind=conn, join_transaction_mode="create_savepoint")
        with pytest.raises(StageProgrammingError, match="rollback_only"):
            joined.execute(load_users(purge=True))
        conn.rollback()
        conn.begin()
        session = Session(bind=conn, join_transaction_mode="rollback_only")
        session.execute(load_users(purge=True))
        session.commit()  # the outer transaction decides
        assert staged_names(engine) == ["users.csv"]
        conn.rollback()
        assert count(conn, USERS) == 0
    assert staged_names(engine) == ["users.csv"]


def test_stage_ddl_is_transactional_file_commands_are_not(engine: Any, put: Any) -> None:
    put("users.csv", "1,ann\n")
    put("orders.csv", "10,1,5\n")
    scratch = Stage("scratch", sa.MetaData())
    with Session(engine) as session:
        session.execute(CreateStage(scratch))
        session.execute(RemoveFiles(landing, pattern=r"orders.*"))
        session.rollback()
        # The stage's definition (a registry row) is gone; the removed file is too.
        with pytest.raises(StageProgrammingError, match="scratch"):
            session.execute(ListFiles(scratch))
    assert staged_names(engine) == ["users.csv"]


def test_two_sessions_loading_one_file_conflict(engine: Any, put: Any) -> None:
    put("orders.csv", "10,1,5\n")
    with Session(engine) as session, session.begin():
        session.add(User(id=1, name="ann"))
    load = CopyInto(ORDERS, landing, file_format=CSV(), pattern=r"orders.*", purge=True)
    first, second = Session(engine), Session(engine)
    first.execute(load)
    second.execute(load)  # both transactions see the file as not loaded yet
    first.commit()
    with pytest.raises(sa.exc.OperationalError, match="Failed to commit"):
        second.commit()
    second.close()
    first.close()
    with Session(engine) as session:
        assert session.scalars(sa.select(Order.id)).all() == [10]  # loaded once
    assert staged_names(engine) == []  # the committed load's PURGE
