"""ORM entities resolved to the Core objects the constructs keep (issue 15)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, aliased, mapped_column

from sqla_stage.entities import column_name, entity_table


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column("nm")


def test_a_mapped_class_gives_its_table_and_an_alias_its_alias() -> None:
    assert entity_table(User) is User.__table__
    alias = aliased(User)
    assert entity_table(alias) is sa.inspect(alias).selectable
    assert entity_table(sa.table("t")) is None and entity_table("users") is None


def test_attributes_give_their_column_names() -> None:
    assert column_name(User.id) == "id"
    assert column_name(User.name) == "nm"  # the column's name, not the attribute's
    assert column_name(aliased(User).name) == "nm"
    assert column_name(sa.column("q")) == "q"
    assert column_name("name") is None and column_name(42) is None
