"""Every ```python block of docs/*.md and README.md runs without error.

Each block is a self-contained script: it is executed on its own, in a fresh namespace,
with the current directory set to a temporary folder. Blocks for output (```sql, ```text)
and shell commands (```bash) are not run.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

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


def python_blocks(text: str) -> list[tuple[int, str]]:
    """The ```python blocks of a Markdown text, as (line number, source) pairs."""
    blocks: list[tuple[int, str]] = []
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
        if language == "python":
            blocks.append((start + 1, "\n".join(body) + "\n"))
    return blocks


def collect() -> list[Any]:
    params = []
    for path in DOC_FILES:
        if not path.exists():
            continue
        for number, (line, source) in enumerate(python_blocks(path.read_text("utf-8"))):
            name = path.relative_to(ROOT).as_posix()
            params.append(pytest.param(name, line, source, id=f"{name}[{number}]"))
    return params


@pytest.mark.parametrize(("name", "line", "source"), collect())
def test_docs_example_runs(
    name: str, line: int, source: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    # Pad with blank lines so tracebacks point at the block's line in the Markdown file.
    code = compile("\n" * (line - 1) + source, str(ROOT / name), "exec")
    exec(code, {"__name__": "__main__"})


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
