"""The DuckDB runtime: stage statements executed for real on an embedded DuckDB.

Enable it with ``create_engine("duckdb:///app.duckdb", plugins=["sqla_stage"])`` (or
``?plugin=sqla_stage`` in the URL). One package per family, in the order a statement
meets them:

- `engine`: the ``sqlalchemy.plugins`` entry point (`engine.plugin`) and its settings,
  the ``do_execute`` hook that recognises a stage statement (`engine.intercept`), what a
  handler works with (`engine.context`) and how its rows go back (`engine.results`).
- `catalog`: stages, named file formats, connections and load history, kept in tables of
  the DuckDB database itself, and the statements on them (CREATE / DROP / DESC / SHOW).
- `storage`: where a stage's files are (fsspec, one module per cloud) and how DuckDB
  reaches them (`storage.mounts`).
- The other handlers: `unload` (COPY INTO <location>), `load` (COPY INTO <table>, LOAD
  DATA), `queries` (SELECT over staged files, INTO OUTFILE) and `files` (LIST, REMOVE,
  PRESIGN, PUT, GET).

Inside the runtime, modules import across families but never in a circle
(`tests/test_layers.py`).
"""
