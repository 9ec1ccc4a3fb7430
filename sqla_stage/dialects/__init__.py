"""Rendering per engine: one module per dialect, registered with ``@compiles``.

``register(RendererClass, *dialect_names)`` installs one compile rule per construct
for those dialect names; with no names it installs the default rule, which DuckDB
and any other dialect use.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.compiler import compiles

from sqla_stage.dialects.base import CONSTRUCT_METHODS, Renderer


def register(renderer: type[Renderer], *dialect_names: str) -> None:
    """Compile every construct with ``renderer`` on the named dialects (or by default)."""
    for construct, method in CONSTRUCT_METHODS.items():

        def rule(element: Any, compiler: Any, _method: str = method, **kw: Any) -> str:
            rendered: str = getattr(renderer(compiler, **kw), _method)(element)
            return rendered

        compiles(construct, *dialect_names)(rule)


def register_all() -> None:
    """Install the rules of every engine."""
    from sqla_stage.dialects import databend, duckdb, matrixone, snowflake

    register(Renderer)
    register(duckdb.DuckDBRenderer, "duckdb")
    register(snowflake.SnowflakeRenderer, "snowflake")
    register(databend.DatabendRenderer, "databend")
    register(matrixone.MatrixOneRenderer, "mysql", "mariadb", "matrixone")
