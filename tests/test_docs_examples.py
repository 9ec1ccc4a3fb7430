"""Every ```python block of docs/*.md and README.md runs without error.

Each block is a self-contained script: it is executed on its own, in a fresh namespace,
with the current directory set to a temporary folder. Blocks for output (```sql, ```text)
and shell commands (```bash) are not run.

Two pages are also run the way a reader runs them, each block a script in a subprocess:

* docs/getting-started.md, every block in order in one folder (each block a fresh script,
  as the page reads: the second finds the database and the stage the first left there).
  Each block prints what the ```text block right after it shows.
* README.md's snippet, twice in one folder: each line it prints is shown, in order, by a
  ``# -> <the printed line>`` comment on the line after the ``print(...)``, and the second
  run prints the same as the first.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import pytest
from conftest import EXTRA_MODULES, imports_in

ROOT = Path(__file__).resolve().parent.parent
DOC_FILES = [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md"]
#: The pages that document constructs: each must show at least one runnable example.
CONSTRUCT_PAGES = [
    "index.md",
    "getting-started.md",
    "stages.md",
    "unload.md",
    "load.md",
    "files.md",
    "file-formats.md",
    "parsing.md",
    "runtime.md",
    "dialects.md",
    "moving-to-a-warehouse.md",
]


def fenced_blocks(text: str) -> list[tuple[int, str, str]]:
    """The fenced blocks of a Markdown text, as (line number, language, source) triples."""
    blocks: list[tuple[int, str, str]] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        stripped = line.lstrip()
        index += 1
        if not stripped.startswith("```"):
            continue
        indent = len(line) - len(stripped)
        language = stripped[3:].strip().split(" ")[0].lower()
        start = index
        while index < len(lines) and lines[index].strip() != "```":
            index += 1
        body = [text_line[indent:] for text_line in lines[start:index]]
        index += 1  # the closing fence
        blocks.append((start + 1, language, "\n".join(body) + "\n"))
    return blocks


def python_blocks(text: str) -> list[tuple[int, str]]:
    """The ```python blocks of a Markdown text, as (line number, source) pairs."""
    return [
        (line, source) for line, language, source in fenced_blocks(text) if language == "python"
    ]


def python_blocks_with_output(text: str) -> list[tuple[int, str, str | None]]:
    """The ```python blocks with what they print: the ```text block that comes next, if any.

    Returns (line number, source, output or None) triples.
    """
    blocks = fenced_blocks(text)
    found: list[tuple[int, str, str | None]] = []
    for index, (line, language, source) in enumerate(blocks):
        if language != "python":
            continue
        following = blocks[index + 1] if index + 1 < len(blocks) else None
        output = following[2] if following is not None and following[1] == "text" else None
        found.append((line, source, output))
    return found


#: A comment showing a printed line: ``# -> <the line>``.
SHOWN = re.compile(r"^\s*# -> (?P<line>.*)$")


def shown_output(source: str) -> list[str]:
    """The lines a snippet says it prints: its ``# -> ...`` comments, in order.

    Raises:
        ValueError: a ``# ->`` comment is not on the line right after a ``print(...)``.
    """
    shown: list[str] = []
    lines = source.splitlines()
    for number, line in enumerate(lines):
        match = SHOWN.match(line)
        if match is None:
            continue
        if number == 0 or "print(" not in lines[number - 1]:
            raise ValueError(f"line {number + 1}: '# ->' does not follow a print(): {line!r}")
        shown.append(match.group("line"))
    return shown


def run_script(source: str, folder: Path, line: int = 1) -> subprocess.CompletedProcess[str]:
    """Run ``source`` as ``python -c`` in ``folder``; tracebacks give the Markdown's lines."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    return subprocess.run(
        [sys.executable, "-c", "\n" * (line - 1) + source],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


#: The module of the `test` extra behind a dialect a block names (``"snowflake://"``).
DIALECT_MODULES = {"snowflake": "snowflake", "databend": "databend_sqlalchemy"}


def block_extras(source: str) -> list[str]:
    """The modules of the `test` extra a block needs (``pytest --core`` deselects it).

    What it imports, the engines it names by URL or dialect name (``"snowflake://"``,
    ``URL.create("databend", ...)``), pandas for ``Stage.read(bind, ...)`` and polars for
    ``read_polars(...)``.
    """
    needs = imports_in(source) & EXTRA_MODULES
    for engine in re.findall(r"[\"'](snowflake|databend)(?:://|[\"'])", source):
        needs.add(DIALECT_MODULES[engine])
    if re.search(r"\.read\(\s*[^)\s]", source):  # Stage.read(bind, ...), not file.read()
        needs.add("pandas")
    if ".read_polars(" in source:
        needs.add("polars")
    return sorted(needs)


def collect() -> list[Any]:
    params = []
    for path in DOC_FILES:
        if not path.exists():
            continue
        for number, (line, source) in enumerate(python_blocks(path.read_text("utf-8"))):
            name = path.relative_to(ROOT).as_posix()
            extras = block_extras(source)
            marks = [pytest.mark.extra(*extras)] if extras else []
            params.append(pytest.param(name, line, source, id=f"{name}[{number}]", marks=marks))
    return params


@pytest.mark.parametrize(("name", "line", "source"), collect())
def test_docs_example_runs(
    name: str, line: int, source: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    # Pad with blank lines so tracebacks point at the block's line in the Markdown file.
    # dont_inherit: the block runs as a reader's script does, without this module's
    # `from __future__ import annotations`; a module of its own, in sys.modules as a
    # script's __main__ is: declarative classes resolve their Mapped[...] annotations
    # through their module (docs/orm.md).
    code = compile("\n" * (line - 1) + source, str(ROOT / name), "exec", dont_inherit=True)
    module = types.ModuleType("docs_example")
    monkeypatch.setitem(sys.modules, module.__name__, module)
    exec(code, module.__dict__)


@pytest.mark.parametrize("page", CONSTRUCT_PAGES)
def test_construct_page_has_examples(page: str) -> None:
    path = ROOT / "docs" / page
    assert path.exists(), f"docs/{page} is missing"
    assert python_blocks(path.read_text("utf-8")), f"docs/{page} has no ```python example"


def nav_pages(config: str) -> list[str]:
    """The pages listed under ``nav:`` in the text of a mkdocs.yml."""
    pages: list[str] = []
    in_nav = False
    for line in config.splitlines():
        if re.match(r"\S", line):  # a top-level key starts or ends the nav
            in_nav = line.startswith("nav:")
            continue
        if in_nav:
            pages += re.findall(r"([\w./-]+\.md)\s*$", line)
    return pages


def test_every_page_is_in_the_nav() -> None:
    listed = nav_pages((ROOT / "mkdocs.yml").read_text("utf-8"))
    pages = sorted(path.name for path in (ROOT / "docs").glob("*.md"))
    assert [page for page in pages if page not in listed] == []
    assert len(listed) == len(set(listed)), "a page is listed twice in the nav"


def test_nav_pages() -> None:
    config = "nav:\n  - Home: index.md\n  - Group:\n      - a/b.md\nplugins:\n  - c.md\n"
    assert nav_pages(config) == ["index.md", "a/b.md"]


def test_block_collection() -> None:
    text = (
        "intro\n"
        "```python\nprint(1)\n```\n"
        "```text\n1\n```\n"
        "- a list item:\n\n"
        "    ```python\n    x = 2\n    print(x)\n    ```\n"
        "```bash\necho no\n```\n"
    )
    assert python_blocks(text) == [(3, "print(1)\n"), (11, "x = 2\nprint(x)\n")]


def test_block_output_pairing() -> None:
    text = (
        "```python\nprint(1)\n```\nprose\n```text\n1\n```\n"
        "```python\nx = 2\n```\n"
        "```python\nprint(3)\n```\n```bash\necho 3\n```\n"
    )
    assert python_blocks_with_output(text) == [
        (2, "print(1)\n", "1\n"),
        (9, "x = 2\n", None),
        (12, "print(3)\n", None),
    ]


def test_getting_started_runs_in_order_in_one_folder(tmp_path: Path) -> None:
    page = ROOT / "docs" / "getting-started.md"
    blocks = python_blocks_with_output(page.read_text("utf-8"))
    assert len(blocks) >= 3
    for line, source, output in blocks:
        where = f"docs/getting-started.md, the block of line {line}"
        result = run_script(source, tmp_path, line)
        assert result.returncode == 0, f"{where} failed after the blocks above:\n{result.stderr}"
        assert output is not None, f"{where}: no ```text block shows what it prints"
        assert result.stdout.splitlines() == output.splitlines(), where


def readme_snippet() -> tuple[int, str]:
    """README.md's one ```python block, as (line number, source)."""
    blocks = python_blocks((ROOT / "README.md").read_text("utf-8"))
    assert len(blocks) == 1, "README.md should have exactly one ```python block"
    return blocks[0]


def test_readme_snippet_prints_what_it_shows_twice_in_one_folder(tmp_path: Path) -> None:
    line, source = readme_snippet()
    shown = shown_output(source)
    assert shown, "the README snippet shows no output ('# -> ...' after a print)"
    assert len(shown) == source.count("print("), "a print() of the README has no '# ->' line"
    runs = []
    for attempt in ("first", "second"):
        result = run_script(source, tmp_path, line)
        assert result.returncode == 0, f"README.md snippet, {attempt} run:\n{result.stderr}"
        assert result.stdout.splitlines() == shown, f"{attempt} run"
        runs.append(result.stdout)
    assert runs[1] == runs[0]


def test_shown_output() -> None:
    source = "x = 1\nprint(x)\n# -> 1\nprint([x])  # a note\n    # -> [1]\n"
    assert shown_output(source) == ["1", "[1]"]
    with pytest.raises(ValueError, match="does not follow a print"):
        shown_output("x = 1\n# -> 1\n")
