"""Rendering of Snowflake's DDL spellings, mixed into every engine's renderer.

``CREATE OR ALTER``, ``ALTER STAGE ... RENAME TO`` / ``REFRESH [SUBPATH]`` and the
directory-table settings beyond ``ENABLE``. Engines without them refuse them here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NoReturn

from sqla_stage.ddl import AlterStage, CreateFileFormat, CreateStage
from sqla_stage.options import OptionValue
from sqla_stage.stage import Stage


class DdlMoreRendering:
    """``OR ALTER``, ``RENAME TO``, ``REFRESH`` and ``DIRECTORY = (ENABLE ... AUTO_REFRESH ...)``.

    Attributes:
        or_alter_supported: Whether the engine has ``CREATE OR ALTER``.
        alter_actions_supported: Whether it has ``ALTER STAGE ... RENAME TO`` and ``REFRESH``.
    """

    or_alter_supported = True
    alter_actions_supported = True

    if TYPE_CHECKING:  # provided by the Renderer this is mixed into

        def unsupported(self, what: str, hint: str = "") -> NoReturn: ...  # noqa: D102
        def quote(self, name: str) -> str: ...  # noqa: D102
        def literal(self, value: str) -> str: ...  # noqa: D102
        def value(self, value: OptionValue) -> str: ...  # noqa: D102
        def stage_name(self, stage: Stage) -> str: ...  # noqa: D102
        def directory(self, enabled: bool | None) -> str | None: ...  # noqa: D102

    def or_alter(self, element: CreateStage | CreateFileFormat) -> str | None:
        """``OR ALTER`` when the element asks for it (refused where there is none)."""
        if not element.or_alter:
            return None
        if not self.or_alter_supported:
            what = "STAGE" if isinstance(element, CreateStage) else "FILE FORMAT"
            self.unsupported(
                f"CREATE OR ALTER {what}",
                " (OR REPLACE would drop the object, and an internal stage's files with it)",
            )
        return "OR ALTER"

    def stage_directory(self, stage: Stage) -> str | None:
        """``DIRECTORY = (ENABLE = ... [AUTO_REFRESH = ...] ...)``."""
        text = self.directory(stage.directory)
        if not stage.directory_options:
            return text
        if text is None or not text.endswith(")"):
            self.unsupported(
                f"the directory settings {', '.join(o.upper() for o in stage.directory_options)}"
            )
        entries = []
        for name, value in stage.directory_options.items():
            shown = self.literal(value) if isinstance(value, str) else self.value(value)
            entries.append(f"{name.upper()} = {shown}")
        return f"{text[:-1]} {' '.join(entries)})"

    def alter_stage_action(self, element: AlterStage) -> str | None:
        """``ALTER STAGE ... RENAME TO`` or ``REFRESH``; None for ``ALTER STAGE ... SET``."""
        if element.rename_to is None and not element.refresh:
            return None
        what = "ALTER STAGE ... RENAME TO" if element.rename_to else "ALTER STAGE ... REFRESH"
        if not self.alter_actions_supported:
            self.unsupported(what)
        head = "ALTER STAGE " + ("IF EXISTS " if element.if_exists else "")
        head += self.stage_name(element.stage)
        if element.rename_to is not None:
            return f"{head} RENAME TO {self.stage_name(element.rename_to)}"
        if element.subpath is not None:
            return f"{head} REFRESH SUBPATH = {self.literal(element.subpath)}"
        return f"{head} REFRESH"
