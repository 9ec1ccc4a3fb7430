"""The DuckDB runtime: stage statements executed for real on an embedded DuckDB.

Enable it with ``create_engine("duckdb:///app.duckdb", plugins=["sqla_stage"])`` (or
``?plugin=sqla_stage`` in the URL). The modules, in the order a statement meets them:

- :mod:`~sqla_stage.runtime.plugin`: the ``sqlalchemy.plugins`` entry point; its settings
  and the engine events it installs.
- :mod:`~sqla_stage.runtime.intercept`: recognises a stage statement (a construct, or
  documented SQL text) in the ``do_execute`` event and hands it to its handler.
- :mod:`~sqla_stage.runtime.context`: what a handler works with (the DuckDB cursor, the
  registry, stage storage, the statement's parameters).
- :mod:`~sqla_stage.runtime.registry`: stages, named file formats and load history, kept
  in tables of the DuckDB database itself.
- :mod:`~sqla_stage.runtime.storage` and :mod:`~sqla_stage.runtime.mounts`: where a
  stage's files are (fsspec) and how DuckDB reaches them.
- The handlers: :mod:`~sqla_stage.runtime.catalog` (CREATE / DROP / DESC / SHOW),
  :mod:`~sqla_stage.runtime.file_commands` (LIST, REMOVE, PRESIGN, PUT, GET),
  :mod:`~sqla_stage.runtime.unload`, :mod:`~sqla_stage.runtime.load` and
  :mod:`~sqla_stage.runtime.queries` (SELECT over staged files, INTO OUTFILE).
- :mod:`~sqla_stage.runtime.results`: hands a handler's rows back as the cursor's result.
"""
