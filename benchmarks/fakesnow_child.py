"""The fakesnow side of the ``fakesnow`` load contender, run in fakesnow's own venv.

fakesnow 0.11.22 needs ``snowflake-connector-python<5`` and the project's test
environment has 5.x, so :mod:`benchmarks.fakesnow_peer` runs this script with the Python
of a virtual environment of its own (``python -I fakesnow_child.py``). It imports only
the standard library and fakesnow, nothing of ``sqla_stage`` or ``benchmarks``.

The protocol is one JSON object a line each way: the parent writes a command on stdin,
the child answers on stdout with ``{"ok": true, ...}`` or ``{"ok": false, "error": ...}``.

* ``{"command": "setup", "folder": F, "statements": [...], "prepare": P, "run": R,
  "rows": N}``: start fakesnow with database ``BENCH`` (a DuckDB file in ``F``), run
  ``statements`` (create the table and the stage), remember ``P``, ``R`` and ``N``.
* ``{"command": "prepare"}``: run ``P`` (empty the table).
* ``{"command": "run"}``: run the ``COPY INTO`` ``R``; answer ``seconds`` (measured here
  around that statement only), ``rows`` and ``files`` loaded. Fewer than ``N`` rows, or a
  file not ``LOADED``, is an error.
* ``{"command": "close"}`` or the end of stdin: stop.

Anything fakesnow or DuckDB prints goes to stderr, which keeps stdout for the protocol.
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import sys
import time
import traceback
from typing import Any, TextIO


class Loader:
    """One fakesnow instance, its table and the ``COPY INTO`` that fills it."""

    def __init__(self, instance: Any) -> None:
        """Keep ``fakesnow.instance``; nothing starts before ``setup``."""
        self.instance = instance
        self.fake: Any = None
        self.cursor: Any = None
        self.prepare_sql = ""
        self.run_sql = ""
        self.rows = 0

    def handle(self, message: dict[str, Any]) -> dict[str, Any]:
        """Carry out one command; the reply.

        Raises:
            ValueError: an unknown command, or one before ``setup``.
            RuntimeError: the load missed rows or files.
        """
        command = message.get("command")
        if command == "setup":
            return self.setup(message)
        if command == "close":
            return {"ok": True}
        if self.cursor is None:
            raise ValueError(f"command {command!r} before setup")
        if command == "prepare":
            self.cursor.execute(self.prepare_sql)
            return {"ok": True}
        if command == "run":
            return self.run()
        raise ValueError(f"unknown command {command!r}")

    def setup(self, message: dict[str, Any]) -> dict[str, Any]:
        """Start fakesnow on the folder, run the setup statements, keep the others."""
        self.close()
        folder = str(message["folder"])
        os.makedirs(folder, exist_ok=True)
        self.fake = self.instance.FakeSnow(db_path=folder)  # owns the DuckDB connection
        self.cursor = self.fake.connect(database="BENCH", schema="PUBLIC").cursor()
        for statement in message["statements"]:
            self.cursor.execute(str(statement))
        self.prepare_sql = str(message["prepare"])
        self.run_sql = str(message["run"])
        self.rows = int(message["rows"])
        return {"ok": True}

    def run(self) -> dict[str, Any]:
        """Run the ``COPY INTO``, timed alone; check that every file and row loaded.

        Raises:
            RuntimeError: a file was not loaded, or rows are missing.
        """
        start = time.perf_counter()
        self.cursor.execute(self.run_sql)
        seconds = time.perf_counter() - start
        results = self.cursor.fetchall()
        loaded = sum(int(row[3]) for row in results)
        if loaded != self.rows or any(row[1] != "LOADED" for row in results):
            raise RuntimeError(f"fakesnow loaded {loaded} rows, not {self.rows}: {results[:3]}")
        return {"ok": True, "seconds": seconds, "rows": loaded, "files": len(results)}

    def close(self) -> None:
        """Close the connection and the DuckDB database, if open."""
        if self.cursor is not None:
            self.cursor.close()
            self.cursor = None
        if self.fake is not None:
            self.fake.duck_conn.close()
            self.fake = None


def reply(out: TextIO, message: dict[str, Any]) -> None:
    """Write one answer line and flush it."""
    out.write(json.dumps(message) + "\n")
    out.flush()


def main() -> int:
    """Answer the parent's commands until ``close`` or the end of stdin."""
    out = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # stray prints go to stderr
    sys.stdout = sys.stderr
    try:
        instance = importlib.import_module("fakesnow.instance")
        stage = importlib.import_module("fakesnow.transforms.stage")
    except Exception as error:
        reply(out, {"ok": False, "error": f"cannot import fakesnow: {error!r}"})
        return 1
    loader = Loader(instance)
    try:
        for line in sys.stdin:
            if not line.strip():
                continue
            command = None
            try:
                message = json.loads(line)
                command = message.get("command")
                answer = loader.handle(message)
            except Exception as error:
                text = "".join(traceback.format_exception_only(error)).strip()
                answer = {"ok": False, "error": text, "traceback": traceback.format_exc()}
            reply(out, answer)
            if command == "close":
                break
    finally:
        loader.close()
        # fakesnow makes a temporary folder for internal stages at import and leaves it.
        shutil.rmtree(stage.LOCAL_BUCKET_PATH, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
