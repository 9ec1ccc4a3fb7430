"""Benchmarks of the DuckDB runtime against DuckDB itself and the peers (``nox -s bench``)."""
