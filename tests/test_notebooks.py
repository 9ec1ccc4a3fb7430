"""Notebook support: tables (HTML and text), progress bars, reading into pandas / pyarrow.

The example notebook ``docs/notebook.ipynb`` runs top to bottom in a real Jupyter kernel
(nbclient, ipykernel) of this interpreter.
"""

from __future__ import annotations

import io
import json
import os
import re
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import CursorResult

from sqla_stage import CSV, CopyInto, CreateStage, ListFiles, Parquet, Put, Stage
from sqla_stage.display import (
    ListResult,
    StageResult,
    html_table,
    stage_html,
    stage_text,
    tabulate,
    text_table,
    wrap_result,
)
from sqla_stage.errors import StageArgumentError, StageRuntimeError
from sqla_stage.reading import read, read_arrow
from sqla_stage.runtime.engine import progress

ROOT = Path(__file__).resolve().parent.parent


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture
def bars(monkeypatch: pytest.MonkeyPatch) -> io.StringIO:
    """Progress bars written to a StringIO, shown however short the work."""
    out = io.StringIO()
    monkeypatch.setattr(progress, "OUTPUT", out)
    monkeypatch.setattr(progress, "DELAY", 0)
    monkeypatch.delenv("TQDM_DISABLE", raising=False)
    return out


@pytest.fixture
def lake(engine: Any) -> Iterator[Stage]:
    """Stage ``lake`` holding ``numbers/`` (5 rows of n, twice, label as Parquet)."""
    stage = Stage("lake", file_format=Parquet())
    with engine.begin() as conn:
        stage.create(conn)
        conn.exec_driver_sql(
            "CREATE TABLE numbers AS SELECT range AS n, range * 2 AS twice, "
            "'#' || range AS label FROM range(5)"
        )
        conn.execute(CopyInto(stage / "numbers/", sa.table("numbers"), header=True))
    yield stage


# Tables as text and HTML


def test_text_table_layout() -> None:
    table = text_table(["name", "size", "note"], [["a.csv", 12345, None], ["bb", 7, "x\ny"]])
    assert table.splitlines() == [
        "name  | size  | note",
        "------+-------+-----",
        "a.csv | 12345 | NULL",
        "bb    |     7 | x y",
    ]
    assert text_table(["a"], []).splitlines()[-1] == "(no rows)"
    assert text_table(["a"], [[1]], more=4).splitlines()[-1] == "... 4 more rows (5 in all)"
    assert text_table(["a"], [[1]], more=None).splitlines()[-1] == "... more rows after the first 1"
    clipped = text_table(["a"], [["x" * 100]]).splitlines()[-1]
    assert clipped == "x" * 57 + "..."


def test_html_table_escapes_and_aligns() -> None:
    html = html_table(["<b>", "n"], [["a&b", 1], [None, 2.5]], more=1)
    assert html.startswith('<table class="sqla-stage">')
    assert "<th" in html and "&lt;b&gt;" in html and "a&amp;b" in html and "<b>" not in html
    assert '<td style="text-align: right">2.5</td>' in html
    assert '<td style="text-align: left">NULL</td>' in html
    assert "1 more row (3 in all)" in html


def test_stage_shows_its_properties_with_secrets_masked() -> None:
    stage = Stage(
        "exports",
        schema="raw",
        url="s3://bucket/exports/",
        credentials={"aws_key_id": "AKIAKEY", "aws_secret_key": "s3cr3t", "region": "eu-1"},
        encryption={"type": "AWS_SSE_KMS", "kms_key_id": "k1"},
        file_format=CSV(compression="gzip"),
        comment="nightly",
    )
    html = stage._repr_html_()
    assert html == stage_html(stage) and "<table" in html
    for secret in ("AKIAKEY", "s3cr3t"):
        assert secret not in html and secret not in stage_text(stage)
    text = stage_text(stage)
    assert "stage       | @raw.exports" in text
    assert "credentials | aws_key_id=***, aws_secret_key=***, region=eu-1" in text
    assert "file_format | CSV(compression='GZIP')" in text
    assert "@~" in stage_html(Stage.user())
    assert "@%orders" in stage_text(Stage.table("orders"))


# Results of the constructs


def test_list_result_is_a_table_that_keeps_its_rows(engine: Any, tmp_path: Path) -> None:
    write(tmp_path / "in" / "a.csv", "1,a\n")
    write(tmp_path / "in" / "b.csv", "2,b\n")
    stage = Stage("landing")
    with engine.begin() as conn:
        created = conn.execute(CreateStage(stage))
        assert isinstance(created, StageResult)
        assert "successfully created" in created.scalar_one()
        conn.execute(Put(str(tmp_path / "in" / "*.csv"), stage / "in/"))
        result = conn.execute(ListFiles(stage))
        assert isinstance(result, ListResult) and isinstance(result.raw, CursorResult)
        html = result._repr_html_()
        assert "<table" in html and "in/a.csv.gz" in html and "in/b.csv.gz" in html
        text = str(result)
        assert text == repr(result)
        assert text.splitlines()[0].split(" | ")[:2] == ["name" + " " * 7, "size"]
        assert list(result.keys()) == ["name", "size", "md5", "last_modified"]
        assert [row.name for row in result] == ["in/a.csv.gz", "in/b.csv.gz"]
        assert result.all() == []  # consumed, like any result...
        assert "in/b.csv.gz" in str(result)  # ...but the table still shows every row
        assert result.rowcount == -1  # a CursorResult attribute, from result.raw
        assert conn.execute(ListFiles(stage)).mappings().first()["name"] == "in/a.csv.gz"
        assert conn.execute(ListFiles(stage)).scalars().all() == ["in/a.csv.gz", "in/b.csv.gz"]
        assert conn.scalar(ListFiles(stage, pattern=r".*b\.csv\.gz")) == "in/b.csv.gz"
        one = conn.execute(ListFiles(stage, pattern=r".*a\.csv\.gz")).one()
        assert (one.name, one.size) == ("in/a.csv.gz", one[1])


def test_copy_results_are_tables(engine: Any, lake: Stage) -> None:
    with engine.begin() as conn:
        unload = conn.execute(
            CopyInto(lake / "again/", sa.table("numbers"), header=True, detailed_output=True)
        )
        assert isinstance(unload, StageResult)
        assert "file_name" in unload._repr_html_()
        assert str(unload).startswith("file_name                       | file_size | row_count")
        conn.exec_driver_sql("CREATE TABLE copy AS SELECT * FROM numbers WHERE false")
        load = conn.execute(CopyInto(sa.table("copy"), lake / "again/"))
        html = load._repr_html_()
        assert '<td style="text-align: left">LOADED</td>' in html
        assert [row.rows_loaded for row in load] == [5]


def test_long_results_show_their_first_rows(
    engine: Any, lake: Stage, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqla_stage.display as display

    monkeypatch.setattr(display, "DISPLAY_ROWS", 2)
    with engine.begin() as conn:
        for index in range(2):
            conn.execute(CopyInto(lake / f"more{index}/", sa.table("numbers")))
        listed = conn.execute(ListFiles(lake))
        assert str(listed).splitlines()[-1] == "... 1 more row (3 in all)"
        monkeypatch.setattr(StageResult, "buffer_rows", 3)
        streamed = tabulate(conn.exec_driver_sql("SELECT range AS n FROM range(10)"))
        assert str(streamed).splitlines()[-1] == "... more rows after the first 2"
        assert [row.n for row in streamed] == list(range(10))


def test_text_statements_keep_sqlalchemy_results(engine: Any) -> None:
    with engine.begin() as conn:
        plain = conn.exec_driver_sql("LIST @~")
        assert type(plain) is CursorResult
        shown = tabulate(conn.exec_driver_sql("SHOW STAGES"))
        assert isinstance(shown, StageResult) and "<table" in shown._repr_html_()
        assert list(shown.keys()) == [
            "name",
            "stage_type",
            "number_of_files",
            "creator",
            "created_on",
            "comment",
        ]


def test_a_result_without_rows_is_left_alone() -> None:
    engine = sa.create_engine("sqlite://")
    with engine.connect() as conn:
        result = conn.exec_driver_sql("CREATE TABLE t (a)")
        assert wrap_result(result, None) is result


def test_statements_take_execution_options() -> None:
    listing = ListFiles(Stage("s")).execution_options(stage_progress=False)
    assert isinstance(listing, ListFiles)
    assert listing.get_execution_options() == {"stage_progress": False}


# Progress


def test_put_and_get_of_many_files_show_bars(
    engine: Any, tmp_path: Path, bars: io.StringIO
) -> None:
    for index in range(40):
        write(tmp_path / "many" / f"part{index:02}.csv", "1,a\n" * 500)
    stage = Stage("landing")
    with engine.begin() as conn:
        stage.create(conn)
        conn.execute(Put(str(tmp_path / "many" / "*.csv"), stage / "in/"))
        assert "PUT @landing/in/: 100%" in bars.getvalue()
        assert "78.1k/78.1k" in bars.getvalue()  # 40 files of 2000 bytes
        conn.execute(sa.text(f"GET @landing/in/ 'file://{tmp_path / 'got'}/'"))
    assert "GET @landing/in/: 100%" in bars.getvalue()
    assert len(list((tmp_path / "got").iterdir())) == 40


def test_short_work_shows_no_bar(
    engine: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = io.StringIO()
    monkeypatch.setattr(progress, "OUTPUT", out)  # the real delay: 1 s
    monkeypatch.delenv("TQDM_DISABLE", raising=False)
    write(tmp_path / "one.csv", "1,a\n")
    with engine.begin() as conn:
        Stage("landing").create(conn)
        conn.execute(Put(str(tmp_path / "one.csv"), Stage("landing")))
        conn.exec_driver_sql("CREATE TABLE t AS SELECT range AS n FROM range(10)")
        conn.exec_driver_sql("COPY INTO @landing/t/ FROM t")
    assert out.getvalue() == ""


def test_unload_and_load_show_duckdb_progress(engine: Any, lake: Stage, bars: io.StringIO) -> None:
    with engine.begin() as conn:
        conn.execute(CopyInto(lake / "copy/", sa.table("numbers")))
        assert re.search(r"COPY INTO @lake/copy/: running, \d\d:\d\d elapsed", bars.getvalue())
        assert re.search(r"COPY INTO @lake/copy/: done in \d\d:\d\d *\n", bars.getvalue())
        conn.exec_driver_sql("CREATE TABLE copy AS SELECT * FROM numbers WHERE false")
        conn.execute(CopyInto(sa.table("copy"), lake / "copy/"))
        assert re.search(r"COPY INTO main.copy: done in \d\d:\d\d", bars.getvalue())
        conn.execute(CopyInto(sa.table("copy"), lake / "numbers/", on_error="continue"))
        assert re.search(r"COPY INTO main.copy: checking files: done in \d\d:\d\d", bars.getvalue())


def test_progress_can_be_turned_off(
    make_engine: Callable[..., Any], tmp_path: Path, bars: io.StringIO, monkeypatch: Any
) -> None:
    write(tmp_path / "a.csv", "1,a\n")
    put = Put(str(tmp_path / "a.csv"), Stage.user(), overwrite=True)
    quiet = sa.create_engine(
        f"duckdb:///{tmp_path / 'q.duckdb'}", plugins=["sqla_stage"], stage_progress=False
    )
    from_url = sa.create_engine(
        f"duckdb:///{tmp_path / 'u.duckdb'}?plugin=sqla_stage&stage_progress=0"
    )
    for engine in (quiet, from_url):
        with engine.begin() as conn:
            conn.execute(put)
        engine.dispose()
    with make_engine().begin() as conn:
        conn.execute(put, execution_options={"stage_progress": False})
        conn.execute(put.execution_options(stage_progress="false"))
        monkeypatch.setenv("TQDM_DISABLE", "1")
        conn.execute(put)
        assert bars.getvalue() == ""
        monkeypatch.delenv("TQDM_DISABLE")
        conn.execution_options(stage_progress=False)  # the connection from now on
        conn.execute(put)
        assert bars.getvalue() == ""
        conn.execute(put, execution_options={"stage_progress": True})
    assert "PUT @~: 100%" in bars.getvalue()


def test_stage_progress_must_be_a_flag(tmp_path: Path) -> None:
    with pytest.raises(StageArgumentError, match="stage_progress must be True or False"):
        sa.create_engine(
            f"duckdb:///{tmp_path / 'x.duckdb'}", plugins=["sqla_stage"], stage_progress="maybe"
        )


class Untouchable:
    """A DuckDB connection the ticking thread must never call."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the progress thread called connection.{name}")


def test_tracked_shows_the_time_and_never_calls_duckdb(
    bars: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(progress, "POLL_INTERVAL", 0.01)
    with progress.scope(True, {}), progress.tracked(Untouchable(), "work"):
        time.sleep(0.15)
    assert "work: running, 00:00 elapsed" in bars.getvalue() and "%" not in bars.getvalue()
    assert re.search(r"\rwork: done in 00:00 *\n\Z", bars.getvalue())  # padded over "running"
    with progress.scope(False, {}), progress.tracked(Untouchable(), "off"):
        pass
    assert "off" not in bars.getvalue()


# Reading staged data


@pytest.mark.extra("pandas")
def test_read_returns_a_dataframe(engine: Any, lake: Stage) -> None:
    with engine.connect() as conn:
        frame = lake.read(conn, "numbers/")
    assert type(frame).__name__ == "DataFrame"
    assert frame.to_dict("list") == {
        "n": [0, 1, 2, 3, 4],
        "twice": [0, 2, 4, 6, 8],
        "label": ["#0", "#1", "#2", "#3", "#4"],
    }
    assert str(frame["n"].dtype) == "int64"


def test_read_arrow_returns_a_table(engine: Any, lake: Stage) -> None:
    table = lake.read_arrow(engine, "numbers/")  # an Engine opens its own connection
    assert isinstance(table, pa.Table)
    assert table.schema.field("twice").type == pa.int64()
    assert table.schema.field("label").type in (pa.string(), pa.large_string())
    assert table.column("n").to_pylist() == [0, 1, 2, 3, 4]


@pytest.mark.extra("pandas")
def test_read_csv_with_format_options_and_pattern(engine: Any, tmp_path: Path) -> None:
    write(tmp_path / "a.txt", "id|score\n1|10\n2|20\n")
    write(tmp_path / "b.txt", "id|score\n3|30\n")
    me = Stage.user()
    with engine.begin() as conn:
        conn.execute(Put(str(tmp_path / "*.txt"), me / "raw/", auto_compress=False))
        spec = CSV(skip_header=1, field_delimiter="|")
        frame = read(conn, "@~/raw/", file_format=spec, pattern=r"raw/a\.txt")
        assert frame.values.tolist() == [[1, 10], [2, 20]]
        both = read_arrow(conn, me / "raw/", file_format=spec)
        assert sorted(both.column(0).to_pylist()) == [1, 2, 3]


@pytest.mark.extra("pandas")
def test_list_result_reads_the_files_it_listed(engine: Any, lake: Stage) -> None:
    with engine.begin() as conn:
        conn.execute(CopyInto(lake / "other/", sa.table("numbers"), header=True))
        listed = conn.execute(ListFiles(lake, pattern=r"other/.*"))
        assert listed.read().shape == (5, 3)
        assert listed.read_arrow(file_format=Parquet()).num_rows == 5
        nothing = conn.execute(ListFiles(lake, pattern="none"))
        with pytest.raises(StageRuntimeError, match="listed no file"):
            nothing.read_arrow()


@pytest.mark.extra("pandas")
def test_read_sees_the_transaction(engine: Any, tmp_path: Path) -> None:
    write(tmp_path / "x.csv", "a,b\n1,2\n")
    with engine.begin() as conn:
        fresh = Stage("fresh")
        fresh.create(conn)  # not committed yet
        conn.execute(Put(str(tmp_path / "x.csv"), fresh))
        # The first line is a header only where the format says so.
        assert fresh.read_arrow(conn).to_pylist() == [
            {"column0": "a", "column1": "b"},
            {"column0": "1", "column1": "2"},
        ]
        with_header = fresh.read_arrow(conn, file_format=CSV(skip_header=1))
        assert with_header.to_pylist() == [{"a": 1, "b": 2}]
        with pytest.raises(StageRuntimeError, match="no staged file"):
            fresh.read(conn, "missing/")


def test_read_shows_progress(engine: Any, lake: Stage, bars: io.StringIO) -> None:
    with engine.connect() as conn:
        lake.read_arrow(conn, "numbers/")
    assert re.search(r"read @lake/numbers/: done in \d\d:\d\d", bars.getvalue())


def test_read_needs_the_duckdb_runtime(tmp_path: Path) -> None:
    for engine in (sa.create_engine("sqlite://"), sa.create_engine("duckdb:///:memory:")):
        with pytest.raises(StageRuntimeError, match="DuckDB runtime"):
            read_arrow(engine, Stage("s") / "p/")
        engine.dispose()
    with pytest.raises(StageArgumentError, match="stage or stage path"):
        read_arrow(sa.create_engine("sqlite://"), "s3://bucket/p/")


def test_read_without_pandas_says_what_to_install(
    engine: Any, lake: Stage, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match=r"sqla-stage\[pandas\]"):
        lake.read(engine, "numbers/")
    assert lake.read_arrow(engine, "numbers/").num_rows == 5


# A real Jupyter kernel

#: What the kernel sent for one cell: (cell index, message type, content).
Message = tuple[int, str, dict[str, Any]]


def execute_in_kernel(
    notebook: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, allow_errors: bool = False
) -> list[Message]:
    """Run ``notebook`` in place on a real kernel of this interpreter; the display messages.

    The kernel's working directory is ``tmp_path``. nbclient folds each
    ``update_display_data`` into the output it updates, so the notebook keeps the final state
    of every display; the returned messages tell what was sent on the way.
    """
    import nbclient

    # A "python3" kernel spec of this interpreter, found before any other installed one.
    spec = tmp_path / "jupyter" / "kernels" / "python3"
    spec.mkdir(parents=True)
    path = os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])
    kernel = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (tests)",
        "language": "python",
        "env": {"PYTHONPATH": path},
    }
    (spec / "kernel.json").write_text(json.dumps(kernel))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    sent: list[Message] = []

    class Recording(nbclient.NotebookClient):  # type: ignore[misc, unused-ignore]
        def process_message(self, msg: dict[str, Any], cell: Any, cell_index: int) -> Any:
            if msg["msg_type"] in ("display_data", "update_display_data", "stream", "error"):
                sent.append((cell_index, msg["msg_type"], msg["content"]))
            return super().process_message(msg, cell, cell_index)

    client = Recording(
        notebook,
        kernel_name="python3",
        timeout=300,
        allow_errors=allow_errors,
        resources={"metadata": {"path": tmp_path}},
    )
    client.execute()
    return sent


def stderr_of(notebook: Any, sent: list[Message]) -> list[str]:
    """Everything the cells wrote to stderr (Jupyter's red box), as outputs or as messages."""
    outputs = [
        output.text
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        if output.output_type == "stream" and output.name == "stderr"
    ]
    return outputs + [
        content["text"] for _, kind, content in sent if content.get("name") == "stderr"
    ]


def displays(cell: Any) -> list[Any]:
    """The ``display_data`` outputs of a cell (a bar: a result is an ``execute_result``)."""
    return [output for output in cell.outputs if output.output_type == "display_data"]


#: One bar of a cell: its final data, and each state the kernel sent for it, in order.
Shown = tuple[dict[str, str], list[dict[str, str]]]


def bars_in(notebook: Any, sent: list[Message], index: int) -> list[Shown]:
    """The bars of cell ``index``, in the order they appeared.

    Fails unless each bar was displayed once (one output of the cell) and only updated
    after that (nbclient folded the updates into that output).
    """
    states: dict[str, list[dict[str, str]]] = {}
    for cell, kind, content in sent:
        if cell != index or kind not in ("display_data", "update_display_data"):
            continue
        display_id = content["transient"]["display_id"]
        assert (display_id in states) == (kind == "update_display_data"), (index, kind)
        states.setdefault(display_id, []).append(content["data"])
    finals = [dict(output.data) for output in displays(notebook.cells[index])]
    assert len(finals) == len(states), (index, finals)
    return list(zip(finals, states.values(), strict=True))


def errors(notebook: Any) -> dict[int, str]:
    """The cells that raised: index -> the error's name and message."""
    return {
        index: f"{output.ename}: {output.evalue}"
        for index, cell in enumerate(notebook.cells)
        for output in cell.get("outputs", [])
        if output.output_type == "error"
    }


PROGRESS_CELLS = [
    # 0: setup. No ipywidgets (made certain: an import of it fails), so bars are HTML lines.
    """
import sys
sys.modules["ipywidgets"] = None

import time
from pathlib import Path

import sqlalchemy as sa
from sqla_stage import CopyInto, Put, Stage
from sqla_stage.runtime.engine import progress

assert progress.in_kernel()
Path("many").mkdir()
for index in range(40):
    Path("many", f"part{index:02}.csv").write_text("1,a\\n" * 500)  # 2000 bytes each
Path("bad.csv").write_text("one,a\\n")
engine = sa.create_engine("duckdb:///progress.duckdb", plugins=["sqla_stage"])
landing = Stage("landing")
with engine.begin() as conn:
    landing.create(conn)
    conn.exec_driver_sql("CREATE TABLE t (n INTEGER, s VARCHAR)")
    conn.exec_driver_sql("INSERT INTO t SELECT range, 'row ' || range FROM range(300000)")
    conn.execute(Put("bad.csv", landing / "bad/"))
""",
    # 1: the default delay, short work: no bar.
    """
assert progress.DELAY == 1.0
with engine.begin() as conn:
    conn.execute(Put("many/*.csv", landing / "quiet/"))
    quiet = conn.execute(CopyInto(landing / "quiet_out/", sa.table("t")))
quiet
""",
    # 2: every bar shown from now on; PUT, a file bar.
    """
progress.DELAY = 0
with engine.begin() as conn:
    put = conn.execute(Put("many/*.csv", landing / "in/"))
put
""",
    # 3: an unload, a DuckDB statement's bar.
    """
with engine.begin() as conn:
    unloaded = conn.execute(CopyInto(landing / "out/", sa.table("t")))
unloaded
""",
    # 4: a load that fails inside its INSERT ("one" is no INTEGER).
    """
with engine.begin() as conn:
    conn.execute(CopyInto(sa.table("t"), landing / "bad/"))
""",
    # 5: an unload that fails after its COPY finished: the files exist, no OVERWRITE.
    """
with engine.begin() as conn:
    conn.execute(CopyInto(landing / "out/", sa.table("t")))
""",
    # 6: work that raises while its (DuckDB statement) bar shows.
    """
with progress.scope(True, {}), progress.tracked(None, "work"):
    time.sleep(0.3)
    raise ValueError("failed while its bar showed")
""",
    # 7: work that raises while its file bar shows.
    """
with progress.scope(True, {}), progress.bar("bytes", 100) as shown:
    shown.update(40)
    raise ValueError("failed at 40%")
""",
    # 8: a delay again: bars first drawn once the work has run that long (by the ticking
    # thread for a DuckDB statement, by an update for a file bar).
    """
progress.DELAY = 0.3
with progress.scope(True, {}):
    with progress.tracked(None, "slow"):
        time.sleep(0.8)
    with progress.bar("slow bytes", 300) as shown:
        shown.update(100)  # too early to draw
        time.sleep(0.6)
        shown.update(100)  # drawn: 200 of 300 bytes
        shown.update(100)  # too soon after that to draw again
""",
]


@pytest.mark.extra("nbclient", "nbformat", "ipykernel")
def test_progress_in_a_kernel_without_ipywidgets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import nbformat

    v4: Any = nbformat.v4  # untyped
    notebook = v4.new_notebook(cells=[v4.new_code_cell(source) for source in PROGRESS_CELLS])
    sent = execute_in_kernel(notebook, tmp_path, monkeypatch, allow_errors=True)

    assert stderr_of(notebook, sent) == []  # nothing red, ever
    failed = errors(notebook)
    assert sorted(failed) == [4, 5, 6, 7], failed
    assert failed[4].startswith("StageDataError: COPY INTO main.t: file 'bad/bad.csv.gz'")
    assert "Files already existing at the unload destination" in failed[5]
    assert failed[6] == "ValueError: failed while its bar showed"
    assert failed[7] == "ValueError: failed at 40%"

    # The default delay and short work: no bar, just the result.
    quiet = notebook.cells[1]
    assert displays(quiet) == [] and not [message for message in sent if message[0] == 1]
    assert [output.output_type for output in quiet.outputs] == ["execute_result"]

    # PUT: one line, updated in place from 0% to 100% of 40 files of 2000 bytes.
    [(final, states)] = bars_in(notebook, sent, 2)
    assert re.fullmatch(
        r"PUT @landing/in/: 100%\|█{10}\| 78\.1kB/78\.1kB \[.*B/s\]", final["text/plain"]
    )
    assert '<progress value="80000" max="80000"' in final["text/html"]
    assert "PUT @landing/in/: 100% 78.1kB/78.1kB [" in final["text/html"]
    assert states[0]["text/plain"].startswith("PUT @landing/in/:   0%|")
    assert "0.00B/78.1kB" in states[0]["text/plain"] and states[-1] == final
    assert notebook.cells[2].outputs[-1].output_type == "execute_result"  # the PUT table

    # A (gzipped CSV) unload: DuckDB's COPY, "running" with a busy <progress>, then
    # "done in"; then the gzip of the files it wrote, in percent and bytes.
    [(copy, copy_states), (gzip, gzip_states)] = bars_in(notebook, sent, 3)
    assert re.fullmatch(r"COPY INTO @landing/out/: done in \d\d:\d\d", copy["text/plain"])
    assert '<progress value="1" max="1"' in copy["text/html"]
    assert re.fullmatch(
        r"COPY INTO @landing/out/: running, \d\d:\d\d elapsed", copy_states[0]["text/plain"]
    )
    assert '<progress style="' in copy_states[0]["text/html"]  # no value: indeterminate
    compressed = re.fullmatch(
        r"COPY INTO @landing/out/: compressing: 100%\|█{10}\| (\S+)B/(\S+)B \[.*\]",
        gzip["text/plain"],
    )
    assert compressed and compressed[1] == compressed[2] and compressed[1][-1] == "M"
    assert re.search(r'<progress value="(\d+)" max="\1"', gzip["text/html"])
    assert gzip_states[0]["text/plain"].startswith("COPY INTO @landing/out/: compressing:   0%")
    assert ">rows_unloaded<" in notebook.cells[3].outputs[-1].data["text/html"]

    # Failures: each bar was shown, then emptied: the error is all that shows.
    for index, first in [(4, "COPY INTO main.t: running"), (6, "work: running")]:
        [(final, states)] = bars_in(notebook, sent, index)
        assert final == {"text/plain": ""} and states[-1] == final, index
        assert states[0]["text/plain"].startswith(first), index
        assert "<progress" in states[0]["text/html"]
    [(final, states)] = bars_in(notebook, sent, 7)
    assert final == {"text/plain": ""}
    assert states[0]["text/plain"].startswith("bytes:   0%|          | 0.00B/100B")
    # The unload's two pieces of work finished before its files could not be published:
    # the statement failed, so both bars are taken back.
    [(copy, copy_states), (gzip, gzip_states)] = bars_in(notebook, sent, 5)
    assert copy == gzip == {"text/plain": ""}
    assert copy_states[-2]["text/plain"].startswith("COPY INTO @landing/out/: done in ")
    assert gzip_states[-2]["text/plain"].startswith("COPY INTO @landing/out/: compressing: 100%")
    # After a delay: drawn late, still one line each, in the cell that ran the work.
    [(slow, slow_states), (data, data_states)] = bars_in(notebook, sent, 8)
    assert re.fullmatch(r"slow: running, \d\d:\d\d elapsed", slow_states[0]["text/plain"])
    assert re.fullmatch(r"slow: done in \d\d:\d\d", slow["text/plain"])
    assert [state["text/plain"][:16] for state in data_states] == [
        "slow bytes:  67%",
        "slow bytes: 100%",
    ]
    assert re.fullmatch(r"slow bytes: 100%\|█{10}\| 300B/300B \[.*\]", data["text/plain"])
    assert '<progress value="300" max="300"' in data["text/html"]
    for index, count in [(4, 1), (5, 2), (6, 1), (7, 1)]:
        kinds = [output.output_type for output in notebook.cells[index].outputs]
        assert kinds == ["display_data"] * count + ["error"], (index, kinds)


# The example notebook


@pytest.mark.extra("nbclient", "nbformat", "ipykernel")
def test_example_notebook_runs_in_a_real_kernel(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import nbformat

    read_notebook: Any = nbformat.read  # untyped
    notebook = read_notebook(ROOT / "docs" / "notebook.ipynb", as_version=4)
    sent = execute_in_kernel(notebook, tmp_path, monkeypatch)

    outputs = [
        output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs
    ]
    assert not [output for output in outputs if output.output_type == "error"]
    tables = [
        output.data["text/html"]
        for output in outputs
        if "text/html" in output.get("data", {}) and "<table" in output.data["text/html"]
    ]
    assert len(tables) >= 7
    assert any(">@landing<" in table for table in tables)  # the stage
    assert any("***" in table and "do-not-show" not in table for table in tables)
    assert any(">rows_unloaded<" in table for table in tables)  # the unload
    assert any("daily/data_0_0_0.snappy.parquet" in t and ">md5<" in t for t in tables)  # LIST
    assert any(">LOADED<" in table for table in tables)  # the load
    orm = next(c for c in notebook.cells if c.cell_type == "code" and "staged_entity(" in c.source)
    shown = orm.outputs[0].data["text/plain"]  # staged files as three Trip objects
    assert shown.count("('Trip', 'Oslo', Decimal(") == 3, shown
    assert stderr_of(notebook, sent) == []
    bars = [output for output in outputs if output.output_type == "display_data"]
    assert len(bars) == 1  # the unload with DELAY = 0; not the one with stage_progress=False
    assert re.fullmatch(r"COPY INTO @landing/again/: done in \d\d:\d\d", bars[0].data["text/plain"])
    assert "<progress" in bars[0].data["text/html"]
