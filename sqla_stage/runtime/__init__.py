"""The DuckDB runtime: stage statements executed for real on an embedded DuckDB.

Enable it with ``create_engine("duckdb:///app.duckdb", plugins=["sqla_stage"])`` (or
``?plugin=sqla_stage`` in the URL). The modules, in the order a statement meets them:

- [plugin][sqla_stage.runtime.plugin]: the ``sqlalchemy.plugins`` entry point; its settings
  and the engine events it installs.
- `intercept`: recognises a stage statement (a construct, or
  documented SQL text) in the ``do_execute`` event and hands it to its handler.
- `context`: what a handler works with (the DuckDB cursor, the
  registry, stage storage, the statement's parameters).
- `registry`: stages, named file formats and load history, kept
  in tables of the DuckDB database itself.
- `storage` and `mounts`: where a
  stage's files are (fsspec) and how DuckDB reaches them.
- The handlers: `catalog` (CREATE / DROP / DESC / SHOW),
  `file_commands` (LIST, REMOVE, PRESIGN, PUT, GET),
  `unload`, `load` and
  `queries` (SELECT over staged files, INTO OUTFILE).
- `results`: hands a handler's rows back as the cursor's result.
"""
