"""Progress bars for long stage work, and the switches that turn them off.

Two kinds of work are measured, and neither passes data rows through Python:

- **Files** moved by Python (PUT, GET, publishing an unload to remote storage): a bar of
  bytes, advanced as each file (PUT and GET: each 1 MiB chunk) is written.
- **DuckDB statements** doing the data work (an unload's ``COPY``, a load's ``INSERT``
  and its checks, reading staged files): DuckDB's own estimate of the statement's
  progress (``query_progress()``), polled from a thread while the statement runs. For the
  statement DuckDB's progress tracking is switched on (``progress_bar_time = 0``) with its
  own printing off, and the connection's settings are put back afterwards. Where DuckDB
  refuses to change those settings (Jupyter without ipywidgets), the bar shows the time
  taken instead of a percentage.

Bars come from ``tqdm.auto``: a widget in Jupyter (with ipywidgets), text on stderr
elsewhere. A bar appears only once its work has run for :data:`DELAY` seconds, so short
work shows nothing. Bars are on unless turned off by the engine setting
``stage_progress=False`` (a ``create_engine`` argument or URL parameter), by the execution
option ``stage_progress`` (which also turns them on for a statement), or by the
environment variable ``TQDM_DISABLE=1``.
"""

from __future__ import annotations

import contextlib
import functools
import os
import threading
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextvars import ContextVar
from typing import IO, Any, Protocol

#: Seconds work runs before its bar appears (0 shows every bar).
DELAY = 1.0
#: Seconds between two readings of a DuckDB statement's progress.
POLL_INTERVAL = 0.1
#: Where bars are written: None for tqdm's choice (a widget in Jupyter, else stderr). A
#: stream (tests use a StringIO) forces a text bar written there.
OUTPUT: IO[str] | None = None
#: Bytes copied between two updates of a file bar.
CHUNK = 1 << 20

_ENABLED: ContextVar[bool] = ContextVar("sqla_stage_progress", default=False)
_FALSE = ("0", "false", "no", "off")
_TRUE = ("1", "true", "yes", "on")
_PERCENT_FORMAT = "{desc}: {percentage:3.0f}%|{bar}| [{elapsed}<{remaining}]"
_TIME_FORMAT = "{desc}: {elapsed}"
_TRACKING = (
    "SET enable_progress_bar_print = false; SET progress_bar_time = 0; "
    "SET enable_progress_bar = true"
)
#: Restored in this order: the wait first, so DuckDB never prints a bar meanwhile.
_SETTINGS = ("progress_bar_time", "enable_progress_bar_print", "enable_progress_bar")


class Bar(Protocol):
    """What work reports progress to: a tqdm bar, or nothing."""

    n: float

    def update(self, n: float = 1) -> bool | None:
        """Advance by ``n``."""


class _NoBar:
    """The bar of work that shows none."""

    n: float = 0

    def update(self, n: float = 1) -> bool | None:
        self.n += n
        return None


def flag(value: object, name: str = "stage_progress") -> bool:
    """A setting given as a bool or as URL text (``true``/``false``, ``1``/``0``, ...).

    Raises:
        StageArgumentError: anything else.
    """
    from sqla_stage.errors import StageArgumentError

    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
        return value.strip().lower() in _TRUE
    raise StageArgumentError(f"sqla_stage: {name} must be True or False, not {value!r}")


def _environment_disabled() -> bool:
    return os.environ.get("TQDM_DISABLE", "").strip().lower() in _TRUE


def enabled() -> bool:
    """Whether the statement running now shows progress bars."""
    return _ENABLED.get() and not _environment_disabled()


@contextlib.contextmanager
def scope(default: bool, execution_options: Mapping[str, Any]) -> Iterator[None]:
    """Run one statement with bars on or off: its ``stage_progress`` option, else ``default``."""
    given = execution_options.get("stage_progress")
    token = _ENABLED.set(default if given is None else flag(given))
    try:
        yield
    finally:
        _ENABLED.reset(token)


def _tqdm_class() -> Any:
    if OUTPUT is not None:
        from tqdm.std import tqdm  # type: ignore[import-untyped, unused-ignore]
    else:
        with warnings.catch_warnings():  # tqdm warns in Jupyter without ipywidgets
            warnings.simplefilter("ignore")
            from tqdm.auto import tqdm  # type: ignore[import-untyped, unused-ignore]
    return tqdm


def _open(description: str, total: float | None, options: dict[str, Any]) -> Any:
    if OUTPUT is not None:
        options["file"] = OUTPUT
    options.setdefault("dynamic_ncols", True)
    return _tqdm_class()(total=total, desc=description, delay=DELAY, **options)


@contextlib.contextmanager
def bar(description: str, total: float) -> Iterator[Bar]:
    """A bar for work of ``total`` bytes, or none when bars are off or there is no work."""
    if not enabled() or total <= 0:
        yield _NoBar()
        return
    with _open(description, total, {"unit": "B", "unit_scale": True, "unit_divisor": 1024}) as b:
        yield b


class _Writer(Protocol):
    def write(self, data: bytes, /) -> object: ...


def copy_stream(source: IO[bytes], target: _Writer, progress: Bar) -> None:
    """Copy a file's bytes in chunks, advancing ``progress`` by each chunk's size."""
    while chunk := source.read(CHUNK):
        target.write(chunk)
        progress.update(len(chunk))


@functools.cache
def _estimates_allowed() -> bool:
    """Whether DuckDB lets its progress settings change here (probed on a scratch database).

    In Jupyter without ipywidgets DuckDB refuses any change of them, and a refused ``SET``
    would abort the user's transaction: so it is tried on a throwaway connection first.
    """
    import duckdb

    try:
        with duckdb.connect() as scratch:
            scratch.execute(_TRACKING)
    except duckdb.Error:
        return False
    return True


def _poll(connection: Any, progress: Bar, stop: threading.Event, estimates: bool) -> None:
    while not stop.wait(POLL_INTERVAL):
        value = 0.0
        if estimates:
            try:
                value = min(float(connection.query_progress()), 100.0)
            except Exception:  # the connection went away: show the time only
                estimates = False
        progress.update(max(value - progress.n, 0))  # an update of 0 shows the time


@contextlib.contextmanager
def tracked(connection: Any, description: str) -> Iterator[None]:
    """Show the progress of the DuckDB statements run on ``connection`` inside the block.

    DuckDB's estimate (a percentage) where its settings may change; otherwise the time
    the work has taken so far.
    """
    if not enabled():
        yield
        return
    estimates = hasattr(connection, "query_progress") and _estimates_allowed()
    previous: Sequence[Any] = ()
    if estimates:
        names = ", ".join(f"current_setting('{name}')" for name in _SETTINGS)
        connection.execute(f"SELECT {names}")
        previous = connection.fetchone()
        connection.execute(_TRACKING)
    options = {"bar_format": _PERCENT_FORMAT if estimates else _TIME_FORMAT}
    try:
        with _open(description, 100 if estimates else None, options) as progress:
            stop = threading.Event()
            poller = threading.Thread(
                target=_poll,
                args=(connection, progress, stop, estimates),
                name="sqla_stage progress",
                daemon=True,
            )
            poller.start()
            try:
                yield
            finally:
                stop.set()
                poller.join()
            if estimates:
                progress.update(100 - progress.n)
    finally:
        if previous:
            restore = "; ".join(
                f"SET {name} = {value}" for name, value in zip(_SETTINGS, previous, strict=True)
            )
            with contextlib.suppress(Exception):  # an aborted transaction refuses SET
                connection.execute(restore)
