"""Progress bars for long stage work, and the switches that turn them off.

Two kinds of work are measured, and neither passes data rows through Python:

- **Files** moved by Python (PUT, GET, publishing an unload to remote storage): a bar of
  bytes, advanced as each file (PUT and GET: each 1 MiB chunk) is written.
- **DuckDB statements** doing the data work (an unload's ``COPY``, a load's ``INSERT``
  and its checks, reading staged files): a bar of the time taken so far, redrawn by a
  thread that never calls into DuckDB (a second thread asking DuckDB for its progress
  estimate while the statement runs can deadlock, so no percentage is shown).

Bars come from ``tqdm.auto``: a widget in Jupyter (with ipywidgets), text on stderr
elsewhere. A bar appears only once its work has run for :data:`DELAY` seconds, so short
work shows nothing. Bars are on unless turned off by the engine setting
``stage_progress=False`` (a ``create_engine`` argument or URL parameter), by the execution
option ``stage_progress`` (which also turns them on for a statement), or by the
environment variable ``TQDM_DISABLE=1``.
"""

from __future__ import annotations

import contextlib
import os
import threading
import warnings
from collections.abc import Iterator, Mapping
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
_TIME_FORMAT = "{desc}: {elapsed}"


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


def _tick(progress: Bar, stop: threading.Event) -> None:
    while not stop.wait(POLL_INTERVAL):
        progress.update(0)  # redraws the bar with the time taken so far


@contextlib.contextmanager
def tracked(connection: Any, description: str) -> Iterator[None]:
    """Show the time taken by the DuckDB statements run inside the block.

    The ticking thread never touches ``connection``: calling into a DuckDB connection
    from a second thread while it executes (``query_progress()``) can deadlock, so no
    percentage is shown.
    """
    if not enabled():
        yield
        return
    with _open(description, None, {"bar_format": _TIME_FORMAT}) as progress:
        stop = threading.Event()
        ticker = threading.Thread(
            target=_tick, args=(progress, stop), name="sqla_stage progress", daemon=True
        )
        ticker.start()
        try:
            yield
        finally:
            stop.set()
            ticker.join()
