"""The documentation site builds for real, and what it renders is what a reader should see.

``mkdocs build --strict`` runs once for the module (a subprocess in the repository root,
into a temporary folder), then the tests read the HTML it wrote: no raw Sphinx role (a
``:class:`` or ``:meth:`` before a backticked name) left from a reStructuredText docstring,
no private parameters (``_kind``, ``_table``) in the API page's signatures, the API page's
sections with their anchors and cross-references, no script or stylesheet loaded from
another host, and code highlighted by Pygments at build time (the theme's highlight.js,
from a CDN, is off).
"""

from __future__ import annotations

import html
import re
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: The build runs mkdocs in a subprocess: `pytest --core` (no docs tools) deselects the tests
#: that read the built site.
needs_docs_tools = pytest.mark.extra("mkdocs", "mkdocstrings", "pymdownx")

#: A Sphinx role as the site shows it: the backtick kept, or turned into <code> by Markdown.
SPHINX_ROLE = re.compile(r":(?:class|func|meth|data|attr|mod|exc):(?:`|<code)")
#: A URL that points at another host: http(s):// or protocol-relative //.
REMOTE = re.compile(r"^\s*(?:[a-z][a-z0-9+.-]*:)?//", re.IGNORECASE)
#: What the API page documents, by the id mkdocstrings gives its heading.
API_OBJECTS = [
    "sqla_stage.Stage",
    "sqla_stage.CopyInto",
    "sqla_stage.parse",
    "sqla_stage.staged.staged",
    "sqla_stage.StageError",
    "sqla_stage.StageRuntimeError",
    "sqla_stage.runtime.engine.plugin.StagePlugin",
    "sqla_stage.display.StageResult",
    "sqla_stage.display.ListResult",
    "sqla_stage.display.tabulate",
    "sqla_stage.alembic.operations.CreateStageOp",
    "sqla_stage.alembic.operations.DropStageOp",
    "sqla_stage.alembic.operations.AlterStageOp",
]
#: How long the build may take (it takes a few seconds).
BUILD_SECONDS = 30


class Resources(HTMLParser):
    """The ids, in-page links and loaded resources (scripts, stylesheets, ...) of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.fragments: list[str] = []
        #: (tag, attribute value) of what the browser fetches when it shows the page.
        self.loads: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if "id" in values:
            self.ids.add(values["id"])
        if tag == "a" and values.get("href", "").startswith("#") and values["href"] != "#":
            self.fragments.append(values["href"][1:])  # not the theme's bare "#" toggles
        if tag in ("script", "img", "iframe", "audio", "video", "source") and "src" in values:
            self.loads.append((tag, values["src"]))
        if tag == "link" and "href" in values:
            rel = values.get("rel", "").lower().split()
            if not {"canonical", "alternate", "next", "prev"}.intersection(rel):
                self.loads.append((f"link rel={' '.join(rel)}", values["href"]))


def parse_page(text: str) -> Resources:
    parser = Resources()
    parser.feed(text)
    parser.close()
    return parser


def visible_text(text: str) -> str:
    """The text of an HTML page, tags removed and entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", text))


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site, built once with ``mkdocs build --strict`` into a temporary folder."""
    folder = tmp_path_factory.mktemp("site")
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(folder)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    elapsed = time.monotonic() - started
    assert result.returncode == 0, f"mkdocs build --strict failed:\n{result.stderr}"
    assert elapsed < BUILD_SECONDS, f"the build took {elapsed:.1f} s"
    return folder


@pytest.fixture(scope="module")
def pages(site: Path) -> dict[str, str]:
    """Every built HTML page, by its path in the site."""
    found = {
        path.relative_to(site).as_posix(): path.read_text("utf-8") for path in site.rglob("*.html")
    }
    assert "api/index.html" in found and "getting-started/index.html" in found, sorted(found)
    return found


@needs_docs_tools
def test_every_page_of_the_nav_is_built(pages: dict[str, str]) -> None:
    expected = {
        "index.html" if path.stem == "index" else f"{path.stem}/index.html"
        for path in (ROOT / "docs").glob("*.md")
    }
    assert expected - set(pages) == set()


@needs_docs_tools
def test_no_page_shows_a_raw_sphinx_role(pages: dict[str, str]) -> None:
    assert SPHINX_ROLE.search(pages["api/index.html"]) is None
    found = {
        name: sorted(set(SPHINX_ROLE.findall(text)))
        for name, text in pages.items()
        if SPHINX_ROLE.search(text)
    }
    assert found == {}


def test_sphinx_role_pattern() -> None:
    # Both ways a role reaches the HTML, and prose that only looks like one.
    assert SPHINX_ROLE.search("see :class:<code>Stage</code>")
    assert SPHINX_ROLE.search("see :meth:`~Stage.create`")
    assert SPHINX_ROLE.search("an :exc:<code>Error</code>")
    assert not SPHINX_ROLE.search("the class: <code>Stage</code>, data: rows")


@needs_docs_tools
def test_api_page_hides_private_parameters(pages: dict[str, str]) -> None:
    text = visible_text(pages["api/index.html"])
    assert re.findall(r"(?<!\w)_(?:kind|table)\b.{0,30}", text) == []
    # The signature those parameters belong to is on the page, without them.
    signature = re.search(r"__init__\(name, metadata=None, \*, schema=None[^)]*\)", text)
    assert signature is not None
    assert "comment=None" in signature.group(0)


@needs_docs_tools
def test_api_page_documents_each_object(pages: dict[str, str]) -> None:
    page = pages["api/index.html"]
    for ident in API_OBJECTS:
        heading = re.search(
            rf'<h[2-6] id="{re.escape(ident)}" class="doc doc-heading">(.*?)</h[2-6]>',
            page,
            re.DOTALL,
        )
        assert heading is not None, f"no heading for {ident}"
        assert ident.rsplit(".", 1)[-1] in visible_text(heading.group(1)), ident


@needs_docs_tools
def test_api_page_cross_references_resolve(pages: dict[str, str]) -> None:
    page = pages["api/index.html"]
    parsed = parse_page(page)
    # The links of the prose (docs/api.md) and of the docstrings point at headings there.
    for ident in (
        "sqla_stage.display.StageResult",
        "sqla_stage.display.ListResult",
        "sqla_stage.display.tabulate",
        "sqla_stage.Stage",
    ):
        assert ident in parsed.fragments, f"nothing links to {ident}"
    assert sorted(set(parsed.fragments) - parsed.ids) == []
    # An unresolved [title][identifier] would be left as text.
    assert [name for name, text in pages.items() if "][sqla_stage" in visible_text(text)] == []


@needs_docs_tools
def test_no_page_loads_anything_from_another_host(site: Path, pages: dict[str, str]) -> None:
    remote = {
        name: [load for load in parse_page(text).loads if REMOTE.match(load[1])]
        for name, text in pages.items()
    }
    assert {name: loads for name, loads in remote.items() if loads} == {}
    for name, text in pages.items():
        assert not re.search(r"<script[^>]*\ssrc=[\"']?(?:https?:)?//", text), name
        assert not re.search(r"<link[^>]*\shref=[\"']?(?:https?:)?//[^>]*\.css", text), name
    # Nor do the stylesheets (an @import or a font from a CDN).
    for css in site.rglob("*.css"):
        assert not re.search(r"(?:@import|url\()\s*[\"']?(?:https?:)?//", css.read_text("utf-8"))


def test_remote_pattern() -> None:
    loads = parse_page(
        '<script src="https://cdn.example/h.js"></script><script src="../js/theme.js"></script>'
        '<link rel="stylesheet" href="//cdn.example/a.css"><link rel="canonical" href="http://x/">'
        '<a href="https://www.mkdocs.org/">MkDocs</a>'
    ).loads
    assert [load for load in loads if REMOTE.match(load[1])] == [
        ("script", "https://cdn.example/h.js"),
        ("link rel=stylesheet", "//cdn.example/a.css"),
    ]


@needs_docs_tools
def test_code_is_highlighted_at_build_time(site: Path, pages: dict[str, str]) -> None:
    page = pages["getting-started/index.html"]
    blocks = re.findall(r'<div class="[^"]*\bhighlight\b[^"]*"><pre>(.*?)</pre>', page, re.DOTALL)
    assert blocks, "no highlighted code block"
    python = [block for block in blocks if '<span class="kn">import</span>' in block]
    assert python, "the Python blocks have no Pygments token spans"
    assert re.search(r'<span class="s[12]?">', "".join(python)), "strings are not highlighted"
    # Pygments' styles ship with the site, and no page runs highlight.js.
    assert "css/pygments.css" in page
    assert ".highlight .kn" in (site / "css" / "pygments.css").read_text("utf-8")
    assert [
        name for name, text in pages.items() if re.search(r"highlight(?:\.min)?\.js|hljs", text)
    ] == []
