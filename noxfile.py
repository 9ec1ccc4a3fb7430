"""Nox sessions: tests (per SQLAlchemy minor), core, lint, typecheck, docs, bench."""

from __future__ import annotations

import nox

nox.options.default_venv_backend = "virtualenv"
nox.options.sessions = ["tests", "core", "lint", "typecheck"]


@nox.session
@nox.parametrize("sqlalchemy", ["2.0", "2.1"])
def tests(session: nox.Session, sqlalchemy: str) -> None:
    """The whole suite on the newest SQLAlchemy of a minor."""
    session.install("-e", ".[test]")
    session.install(f"sqlalchemy~={sqlalchemy}.0")
    # The suite must run on that minor, not on the newest one the extra allows.
    check = "import sqlalchemy as sa, sys; v = sa.__version__; assert v.startswith(sys.argv[1]), v"
    session.run("python", "-c", check, f"{sqlalchemy}.")
    session.run("pytest", *session.posargs)


@nox.session
def core(session: nox.Session) -> None:
    """The tests that need only the core dependencies, installed alone (`pytest --core`)."""
    session.install("-e", ".")
    # pytest-timeout: pyproject.toml's `timeout = 300` is its option.
    session.install("pytest>=8", "pytest-timeout>=2.3")
    session.run("pytest", "--core", "-q", *session.posargs)


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
