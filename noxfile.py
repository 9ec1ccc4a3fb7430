"""Nox sessions: tests (per SQLAlchemy minor), lint, typecheck, docs, bench."""

from __future__ import annotations

import nox

nox.options.default_venv_backend = "virtualenv"
nox.options.sessions = ["tests", "lint", "typecheck"]


@nox.session
@nox.parametrize("sqlalchemy", ["2.0", "2.1"])
def tests(session: nox.Session, sqlalchemy: str) -> None:
    session.install("-e", ".[test]")
    session.install(f"sqlalchemy~={sqlalchemy}.0")
    session.run("pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    session.install("ruff>=0.6")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    session.install("-e", ".[test]")
    session.run("mypy")


@nox.session
def docs(session: nox.Session) -> None:
    session.install("-e", ".[docs]")
    session.run("mkdocs", "build", "--strict")


@nox.session
def bench(session: nox.Session) -> None:
    """Run the benchmarks (docs/performance.md); arguments go to `python -m benchmarks`."""
    session.install("-e", ".[test]")
    session.run("python", "-m", "benchmarks", *session.posargs)
