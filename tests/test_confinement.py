"""Confinement: no stage statement reaches anything outside its stage's root.

The property tests run each statement kind with hostile stage paths (``..``, absolute
paths, ``%2e%2e``, backslashes, empty segments, control characters, long names, paths
through symbolic links) against one stage ``s`` and check that the files outside the
stage's root (a sentinel tree beside and above it, another user's stage, another named
stage) never change and that no row, table or downloaded file holds the sentinel's text.
The ``*_EXAMPLES`` constants are the number of cases each property tries
(``docs/security.md`` cites them).
"""

from __future__ import annotations

import contextlib
import glob
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import fsspec
import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from sqla_stage import (
    CopyInto,
    Get,
    ListFiles,
    Put,
    RemoveFiles,
    SelectIntoOutfile,
    Stage,
    staged,
)
from sqla_stage.errors import StageRuntimeError
from sqla_stage.runtime.storage.stage_storage import decode_segment, encode_segment, folder_name

#: Cases tried by each property test (the docs table cites these numbers).
PUT_EXAMPLES = 200
UNLOAD_EXAMPLES = 200
LIST_REMOVE_EXAMPLES = 200
GET_EXAMPLES = 200
SELECT_EXAMPLES = 200
LOAD_EXAMPLES = 200
OUTFILE_EXAMPLES = 200
ENCODING_EXAMPLES = 1000

SECRET = "SENTINEL-SECRET"
#: How far the stage root is below the sentinel tree's top: stages/stage/internal/s.
DEPTH = 4


class World:
    """An engine, its stage ``s``, and the sentinel files around it."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.stage_root = base / "stages"
        self.root = self.stage_root / "stage" / "internal" / "s"
        self.get_dir = base / "got"
        self.source = base / "src" / "data.csv"
        self.engine = sa.create_engine(
            f"duckdb:///{base / 'app.duckdb'}",
            plugins=["sqla_stage"],
            stage_root=str(self.stage_root),
            stage_user="alice",
        )

    def run(self, statement: Any) -> list[Any]:
        """Run one statement in its own transaction; its rows (an error is re-raised)."""
        with self.engine.begin() as conn:
            if isinstance(statement, str):
                result = conn.exec_driver_sql(statement)
            else:
                result = conn.execute(statement)
            return list(result.all()) if result.returns_rows else []

    def snapshot(self) -> dict[str, tuple[Any, ...]]:
        """Every entry outside the stage root, the GET folder and the database files."""
        entries: dict[str, tuple[Any, ...]] = {}
        skip = {self.root, self.get_dir}
        for folder, dirs, files in os.walk(self.base, followlinks=False):
            dirs[:] = [name for name in dirs if Path(folder, name) not in skip]
            for name in [*dirs, *files]:
                path = Path(folder, name)
                if name.startswith("app.duckdb"):
                    continue
                info = path.lstat()
                link = os.readlink(path) if path.is_symlink() else None
                entries[str(path)] = (info.st_size, info.st_mtime_ns, info.st_mode, link)
        return entries

    def table_rows(self) -> list[Any]:
        return self.run("SELECT * FROM t")

    def downloaded_text(self) -> str:
        return "".join(
            path.read_bytes().decode("latin-1")
            for path in self.get_dir.rglob("*")
            if path.is_file() and not path.is_symlink()
        )


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """The stage ``s`` with ordinary files and links pointing out, and sentinels around it."""
    base = tmp_path_factory.mktemp("confinement")
    world = World(base)
    secret = f"v\n{SECRET}\n"
    _write(base / "above.csv", secret)
    _write(base / "outside" / "secret.csv", secret)
    _write(base / "outside" / "deep" / "secret.csv", secret)
    _write(world.stage_root / "stage" / "user" / "bob" / "secret.csv", secret)
    _write(world.source, "v\nok\n")
    world.run("CREATE TABLE t (v VARCHAR)")
    world.run("CREATE STAGE s")
    world.run("CREATE STAGE other")
    _write(world.stage_root / "stage" / "internal" / "other" / "secret.csv", secret)
    for folder in ("", "a/", "a/b/", "%2e%2e/", "x y/"):
        world.run(Put(str(world.source), Stage("s") / folder, auto_compress=False))
    world.root.mkdir(parents=True, exist_ok=True)
    (world.root / "link_dir").symlink_to(base / "outside", target_is_directory=True)
    (world.root / "link_file.csv").symlink_to(base / "outside" / "secret.csv")
    (world.root / "a" / "link_up").symlink_to("../" * (DEPTH + 1), target_is_directory=True)
    world.get_dir.mkdir()
    previous = os.getcwd()
    os.chdir(base / "src")
    try:
        yield world
    finally:
        os.chdir(previous)
        world.engine.dispose()


#: Pieces of hostile paths; ABS is replaced by the sentinel folder's absolute path.
TOKENS = [
    ".",
    "..",
    "../",
    "/",
    "//",
    "\\",
    "..\\",
    "%2e",
    "%2E%2E",
    "%2f",
    "%",
    "%..",
    "~",
    "@",
    "a",
    "b/",
    "x y",
    "link_dir/",
    "link_dir",
    "link_file.csv",
    "a/link_up/",
    "outside/",
    "secret.csv",
    "data.csv",
    "ABS",
    "é",
    "日本",
    "\u202e",
    "\x00",
    "\n",
    "\x7f",
    "z" * 300,
    "*",
    "?",
    "[",
]


def _path_strategy() -> st.SearchStrategy[str]:
    piece = st.one_of(
        st.sampled_from(TOKENS),
        st.text(alphabet=st.characters(blacklist_characters="'"), max_size=3),
    )
    return st.lists(piece, max_size=8).map("".join)


def hostile_paths() -> st.SearchStrategy[str]:
    """Relative stage paths made of the tokens (and a few random characters)."""
    return _path_strategy()


def _concrete(world: World, path: str) -> str:
    return path.replace("ABS", str(world.base / "outside").lstrip("/"))


def _quoted(path: str) -> str:
    return path.replace("'", "''")


def check(world: World, action: Callable[[], object]) -> None:
    """Run ``action``; errors must be SQLAlchemy's, and nothing outside may change."""
    before = world.snapshot()
    with contextlib.suppress(sa.exc.SQLAlchemyError):
        action()
    assert world.snapshot() == before
    assert SECRET not in repr(world.table_rows())
    assert SECRET not in world.downloaded_text()
    for path in world.root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            assert SECRET not in path.read_bytes().decode("latin-1")


@settings(max_examples=PUT_EXAMPLES)
@given(path=hostile_paths(), as_text=st.booleans())
def test_put_stays_in_the_stage(world: World, path: str, as_text: bool) -> None:
    path = _concrete(world, path)

    def action() -> None:
        if as_text:
            world.run(f"PUT 'file://{world.source}' '@s/{_quoted(path)}' OVERWRITE = TRUE")
            return
        rows = world.run(Put(str(world.source), Stage("s") / path, overwrite=True))
        # What PUT wrote is listed under the key it was given: the mapping is reversible.
        folder = path.rstrip("/")
        key = f"{folder}/{rows[0].target}" if folder else rows[0].target
        assert key in [row.name for row in world.run(ListFiles(Stage("s") / folder))]

    check(world, action)


@settings(max_examples=UNLOAD_EXAMPLES)
@given(path=hostile_paths(), as_text=st.booleans())
def test_unload_stays_in_the_stage(world: World, path: str, as_text: bool) -> None:
    path = _concrete(world, path)
    query = sa.select(sa.literal("ok").label("v"))

    def action() -> None:
        if as_text:
            world.run(f"COPY INTO '@s/{_quoted(path)}' FROM (SELECT 'ok' AS v) OVERWRITE = TRUE")
        else:
            world.run(CopyInto(Stage("s") / path, query, overwrite=True))

    check(world, action)


@settings(max_examples=LIST_REMOVE_EXAMPLES)
@given(path=hostile_paths(), remove=st.booleans(), as_text=st.booleans())
def test_list_and_remove_stay_in_the_stage(
    world: World, path: str, remove: bool, as_text: bool
) -> None:
    path = _concrete(world, path)

    def action() -> None:
        if as_text:
            rows = world.run(f"{'REMOVE' if remove else 'LIST'} '@s/{_quoted(path)}'")
        else:
            kind = RemoveFiles if remove else ListFiles
            rows = world.run(kind(Stage("s") / path))
        for row in rows:  # the links (and what they point at) are not files of the stage
            assert row.name != "link_file.csv"
            assert not row.name.startswith(("link_dir/", "a/link_up/"))

    check(world, action)
    if remove:  # put the ordinary files back for the next examples
        world.run(Put(str(world.source), Stage("s") / "a/", auto_compress=False))


@settings(max_examples=GET_EXAMPLES)
@given(path=hostile_paths(), as_text=st.booleans())
def test_get_reads_only_the_stage_and_writes_only_the_folder(
    world: World, path: str, as_text: bool
) -> None:
    path = _concrete(world, path)

    def action() -> None:
        if as_text:
            world.run(f"GET '@s/{_quoted(path)}' 'file://{world.get_dir}/'")
        else:
            world.run(Get(Stage("s") / path, str(world.get_dir)))

    check(world, action)


@settings(max_examples=SELECT_EXAMPLES)
@given(path=hostile_paths(), as_text=st.booleans())
def test_select_reads_only_the_stage(world: World, path: str, as_text: bool) -> None:
    path = _concrete(world, path)

    def action() -> None:
        if as_text:
            rows = world.run(f"SELECT * FROM @s/{path}")
        else:
            files = staged(Stage("s") / path, columns=("v",))
            rows = world.run(sa.select(sa.literal_column("*")).select_from(files))
        assert SECRET not in repr(rows)

    check(world, action)


@settings(max_examples=LOAD_EXAMPLES)
@given(path=hostile_paths(), as_text=st.booleans())
def test_load_reads_only_the_stage(world: World, path: str, as_text: bool) -> None:
    path = _concrete(world, path)

    def action() -> None:
        if as_text:
            world.run(f"COPY INTO t FROM '@s/{_quoted(path)}' FORCE = TRUE")
        else:
            world.run(CopyInto(sa.table("t"), Stage("s") / path, force=True))

    check(world, action)


@settings(max_examples=OUTFILE_EXAMPLES)
@given(path=hostile_paths(), as_text=st.booleans())
def test_outfile_stays_in_the_stage(world: World, path: str, as_text: bool) -> None:
    path = _concrete(world, path)
    query = sa.select(sa.literal("ok").label("v"))

    def action() -> None:
        if as_text and not path.startswith("/"):  # 's://...' is a plain path, not a stage
            world.run(f"SELECT 'ok' AS v INTO OUTFILE 's:/{_quoted(path)}'")
        else:
            world.run(SelectIntoOutfile(query, Stage("s") / path))

    check(world, action)


# The encoding itself


@settings(max_examples=ENCODING_EXAMPLES)
@given(segment=st.lists(st.sampled_from(["%", ".", "a", "/", "\n", "é"]), max_size=5).map("".join))
def test_segment_encoding_is_reversible(segment: str) -> None:
    name = encode_segment(segment)
    assert name not in ("", ".", "..")
    if "/" not in segment and not any(ord(c) < 32 or ord(c) == 127 for c in segment):
        assert decode_segment(name) == segment
    decoded = decode_segment(segment)
    if decoded is not None:  # a stored name maps back to itself
        assert encode_segment(decoded) == segment


@settings(max_examples=ENCODING_EXAMPLES)
@given(first=st.text(max_size=5), second=st.text(max_size=5))
def test_folder_names_are_single_distinct_segments(first: str, second: str) -> None:
    name = folder_name(first)
    assert "/" not in name and "\\" not in name and name not in ("", ".", "..")
    if first != second:
        assert folder_name(second) != name


# Explicit cases


def _names(world: World, location: Any) -> list[str]:
    return [row.name for row in world.run(ListFiles(location))]


def test_absolute_keys_stay_in_the_stage(world: World, tmp_path: Path) -> None:
    escape = tmp_path / "escape"
    world.run(f"PUT 'file://{world.source}' '@s/{escape}'")
    world.run(f"COPY INTO '@s/{escape}/unloaded/' FROM (SELECT 1 AS v)")
    assert not escape.exists()
    key = f"{escape}/data.csv.gz"
    assert key in _names(world, Stage("s") / str(escape))
    assert (world.root / "%" / str(escape).lstrip("/") / "data.csv.gz").is_file()
    assert world.run("LIST @~//etc") == []
    # GET keeps the key below the local folder, whatever it starts with.
    target = tmp_path / "got"
    target.mkdir()
    world.run(Get(Stage("s") / "/", str(target)))
    assert (target / str(escape).lstrip("/") / "data.csv.gz").is_file()  # below the prefix /
    world.run(Get(Stage("s"), str(target)))
    assert (target / "%" / str(escape).lstrip("/") / "data.csv.gz").is_file()
    assert not any(path.is_symlink() for path in target.rglob("*"))
    world.run(RemoveFiles(Stage("s") / "/"))
    assert _names(world, Stage("s") / "/") == []


def test_dots_and_empty_segments_are_literal_names(world: World) -> None:
    keys = ["./d1", "../d2", "%../d3", "%2e%2e/d4", "a//d5", "\\d6", "...x/d7", "%/d8"]
    world.run("CREATE STAGE lit")
    root = world.stage_root / "stage" / "internal" / "lit"
    for key in keys:
        world.run(Put(str(world.source), Stage("lit") / key, auto_compress=False))
    assert _names(world, Stage("lit")) == sorted(f"{key}/data.csv" for key in keys)
    assert (root / "%." / "d1").is_dir() and (root / "%.." / "d2").is_dir()
    assert (root / "%%.." / "d3").is_dir() and (root / "%2e%2e" / "d4").is_dir()
    assert (root / "a" / "%" / "d5").is_dir() and (root / "%%" / "d8").is_dir()
    for key in keys:
        world.run(RemoveFiles(Stage("lit") / f"{key}/"))
    assert _names(world, Stage("lit")) == []


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("a\x00b/", "control characters"),
        ("a\nb/", "control characters"),
        ("x" * 300 + "/", "at most 255 bytes"),
        ("x/" * 600, "at most 1024 bytes"),
        ("\ud800/", "UTF-8"),
    ],
)
def test_bad_names_are_refused(world: World, path: str, message: str) -> None:
    with pytest.raises(StageRuntimeError, match=message):
        world.run(Put(str(world.source), Stage("s") / path))
    with pytest.raises(StageRuntimeError, match=message):
        world.run(ListFiles(Stage("s") / path))


def test_symlinks_inside_the_stage_are_not_followed(world: World) -> None:
    source = world.base / "src" / "link_file.csv"
    source.write_text("v\nreplaced\n")
    before = world.snapshot()
    names = _names(world, Stage("s"))
    assert "link_file.csv" not in names
    assert not [name for name in names if name.startswith(("link_dir/", "a/link_up/"))]
    refused = [
        ListFiles(Stage("s") / "link_dir/"),
        RemoveFiles(Stage("s") / "link_dir/"),
        RemoveFiles(Stage("s") / "a/link_up/"),
        Put(str(world.source), Stage("s") / "link_dir/"),
        Put(str(world.source), Stage("s") / "a/link_up/outside/"),
        CopyInto(Stage("s") / "link_dir/", sa.select(sa.literal(1).label("v"))),
        SelectIntoOutfile(sa.select(sa.literal(1).label("v")), Stage("s") / "link_dir/x.csv"),
        Get(Stage("s") / "link_dir/", str(world.get_dir)),
    ]
    for statement in refused:
        with pytest.raises(StageRuntimeError, match="symbolic link"):
            world.run(statement)
    # The link itself is not a file of the stage: nothing reads or replaces it.
    # (property tests may have put files whose names start with "link_file.csv")
    listed = [row.name for row in world.run(ListFiles(Stage("s") / "link_file.csv"))]
    assert "link_file.csv" not in listed
    loaded = world.run(CopyInto(sa.table("t"), Stage("s") / "link_file.csv", force=True))
    assert "link_file.csv" not in [row[0] for row in loaded]
    with pytest.raises(StageRuntimeError, match="symbolic link"):
        world.run(
            SelectIntoOutfile(sa.select(sa.literal(1).label("v")), Stage("s") / "link_file.csv")
        )
    with pytest.raises(StageRuntimeError, match="symbolic link"):
        world.run(Put(str(source), Stage("s"), auto_compress=False, overwrite=True))
    assert world.snapshot() == before
    assert SECRET not in repr(world.table_rows())
    assert (world.base / "outside" / "secret.csv").read_text() == f"v\n{SECRET}\n"


def test_glob_characters_name_one_file(world: World, tmp_path: Path) -> None:
    for name in ("g*.csv", "gx.csv", "g[x].csv", "g?.csv"):
        path = tmp_path / name
        path.write_text(f"v\n{name}\n")
        world.run(Put(glob.escape(str(path)), Stage("s") / "glob/", auto_compress=False))
    (world.root / "glob" / "glink").symlink_to(world.base / "outside", target_is_directory=True)
    for name in ("g*.csv", "g[x].csv", "g?.csv"):
        rows = world.run(f"SELECT * FROM @s/glob/ (PATTERN => 'glob/{re.escape(name)}')")
        assert [row[0] for row in rows] == ["v", name]  # no header in the format
    files = staged(Stage("s") / "glob/", columns=("v",))
    rows = world.run(sa.select(sa.literal_column("*")).select_from(files))
    names = sorted(row[0] for row in rows if row[0] != "v")
    assert names == ["g*.csv", "g?.csv", "g[x].csv", "gx.csv"]


def test_names_no_key_maps_to_are_not_listed(world: World) -> None:
    _write(world.root / "odd" / "new\nline.csv", "v\nx\n")
    _write(world.root / "odd" / "plain.csv", "v\nx\n")
    assert _names(world, Stage("s") / "odd/") == ["odd/plain.csv"]


def test_stage_table_and_user_names_stay_in_their_folders(make_engine: Any) -> None:
    alice, bob = make_engine(user="alice"), make_engine(user="bob")
    with bob.begin() as conn:
        conn.exec_driver_sql("COPY INTO @~/private/ FROM (SELECT 'bob-only' AS v)")
    with alice.begin() as conn:
        conn.exec_driver_sql("COPY INTO @~/mine/ FROM (SELECT 1 AS v)")
        for name in ("..", ".", "user", "a/b", "../user/bob", "%2E%2E"):
            quoted = name.replace('"', '""')
            conn.exec_driver_sql(f'CREATE STAGE "{quoted}"')
            assert conn.exec_driver_sql(f'LIST @"{quoted}"').all() == []
            conn.exec_driver_sql(f'COPY INTO @"{quoted}"/x/ FROM (SELECT 1 AS v)')
            assert len(conn.exec_driver_sql(f'LIST @"{quoted}"').all()) == 1
        conn.exec_driver_sql('CREATE TABLE "../user/bob" (v VARCHAR)')
        assert conn.exec_driver_sql('LIST @%"../user/bob"').all() == []
        conn.exec_driver_sql('REMOVE @%"../user/bob"')
        for spelling in ("@~/../bob", "@~/../../user/bob", "@user", '@"user"/bob', "@bob"):
            try:
                rows = conn.exec_driver_sql(f"LIST {spelling}").all()
            except sa.exc.SQLAlchemyError:
                continue
            assert not [row for row in rows if "private" in row.name]
        with pytest.raises(sa.exc.ProgrammingError):
            conn.exec_driver_sql('LIST @"~"')
        with pytest.raises(sa.exc.ProgrammingError):
            conn.exec_driver_sql('CREATE STAGE "~"')
        for name in ("..", ".", "user", "a/b", "../user/bob", "%2E%2E"):
            quoted = name.replace('"', '""')
            conn.exec_driver_sql(f'DROP STAGE "{quoted}"')
    with bob.connect() as conn:
        assert [row.name.split("/")[0] for row in conn.exec_driver_sql("LIST @~")] == ["private"]
    with alice.connect() as conn:
        assert [row.name.split("/")[0] for row in conn.exec_driver_sql("LIST @~")] == ["mine"]


def test_memory_stage_keys_stay_below_its_root(world: World) -> None:
    world.run("CREATE STAGE mem URL = 'memory://confined/stage'")
    fs = fsspec.filesystem("memory")
    fs.pipe("/confined/beside.csv", b"v\nSENTINEL\n")
    for key in ("../x/", "/abs/", "a//b/", "./c/", "%2e%2e/"):
        world.run(Put(str(world.source), Stage("mem") / key, auto_compress=False))
        assert f"{key}data.csv" in _names(world, Stage("mem") / key)
    inside = [path for path in fs.find("/confined") if not path.startswith("/confined/stage/")]
    assert inside == ["/confined/beside.csv"]
    assert [row.name for row in world.run(RemoveFiles(Stage("mem") / "../"))] == ["../x/data.csv"]
    assert fs.cat("/confined/beside.csv") == b"v\nSENTINEL\n"


def test_quoted_staged_location_is_read_from_the_stage(world: World) -> None:
    # The module's property tests may have removed it: put it back.
    world.run(Put(str(world.source), Stage("s") / "x y/", auto_compress=False, overwrite=True))
    decoy = world.base / "src" / "@s" / "x y" / "data.csv"
    _write(decoy, f"v\n{SECRET}\n")
    try:
        files = staged(Stage("s") / "x y/data.csv", columns=("v",))
        rows = world.run(sa.select(sa.literal_column("*")).select_from(files))
    finally:
        decoy.unlink()
        decoy.parent.rmdir()
        decoy.parent.parent.rmdir()
    assert [row[0] for row in rows] == ["v", "ok"]  # no header in the format


def test_qualified_and_dotted_names_get_distinct_folders(engine: Any, tmp_path: Path) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE SCHEMA a")
        conn.exec_driver_sql('CREATE STAGE "a.b"')
        conn.exec_driver_sql("CREATE STAGE a.b")
        conn.exec_driver_sql("COPY INTO @\"a.b\"/one/ FROM (SELECT 'dotted' AS v)")
        conn.exec_driver_sql("COPY INTO @a.b/two/ FROM (SELECT 'qualified' AS v)")
        conn.exec_driver_sql('CREATE TABLE "a.t" (v VARCHAR)')
        conn.exec_driver_sql("CREATE TABLE a.t (v VARCHAR)")
        conn.exec_driver_sql('COPY INTO @%"a.t"/three/ FROM (SELECT 1 AS v)')
        assert [row.name.split("/")[0] for row in conn.exec_driver_sql('LIST @"a.b"')] == ["one"]
        assert [row.name.split("/")[0] for row in conn.exec_driver_sql("LIST @a.b")] == ["two"]
        assert conn.exec_driver_sql("LIST @a.%t").all() == []
    internal = tmp_path / "stages" / "stage" / "internal"
    assert sorted(os.listdir(internal)) == ["a%2Eb", "a.b"]
    assert sorted(os.listdir(tmp_path / "stages" / "stage" / "table")) == ["a%2Et"]


def test_messages_name_what_was_refused(engine: Any, tmp_path: Path) -> None:
    plain_file = tmp_path / "plain.txt"
    plain_file.write_text("not a folder")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (v VARCHAR)")
        conn.exec_driver_sql("CREATE STAGE s")
        conn.exec_driver_sql("COPY INTO @s/x/ FROM (SELECT 1 AS v)")
    with engine.begin() as conn, pytest.raises(StageRuntimeError) as missing:
        conn.exec_driver_sql("COPY INTO t FROM @s FILES = ('/etc/passwd')")
    assert str(missing.value) == (
        "COPY INTO: FILES '/etc/passwd' (key 'etc/passwd') not found in @s: FILES names "
        "files below the stage location, never a path outside the stage"
    )
    with engine.begin() as conn, pytest.raises(StageRuntimeError) as into_file:
        conn.exec_driver_sql(f"GET @s/x/ 'file://{plain_file}'")
    assert str(into_file.value) == (
        f"GET @s/x/: the local target {str(plain_file)!r} is a file; GET writes the staged "
        "files into a folder"
    )
    assert plain_file.read_text() == "not a folder"
