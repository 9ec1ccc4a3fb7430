"""Progress bars for long stage work, and the switches that turn them off.

Two kinds of work are measured, and neither passes data rows through Python:

- **Files** moved by Python (PUT, GET, publishing an unload to remote storage): a bar of
  bytes, advanced as each file (PUT and GET: each 1 MiB chunk) is written.
- **DuckDB statements** doing the data work (an unload's ``COPY``, a load's ``INSERT``
  and its checks, reading staged files): a bar of the time taken so far, redrawn by a
  thread that never calls into DuckDB (a second thread asking DuckDB for its progress
  estimate while the statement runs can deadlock, so no percentage is shown).

Where bars show depends on where the code runs:

- **A terminal** (or any process that is not a Jupyter kernel): a tqdm text bar on
  stderr, redrawn in place.
- **A Jupyter kernel with ipywidgets**: tqdm's notebook widget.
- **A Jupyter kernel without ipywidgets**: one line of HTML (with a plain-text copy),
  shown with ``IPython.display.display(..., display_id=True)`` and updated in place, so
  nothing lands in the notebook's red stderr box. A file bar shows its percentage and
  bytes; a DuckDB statement shows that it is running and for how long, then ``done in``.

Each piece of work has exactly one bar. A bar whose work raises is removed (the widget
closed, the HTML line emptied, the text line cleared) so that only the error shows. So is
every notebook bar of a statement that fails after some of its work is done (an unload
whose ``COPY`` finished but whose files could not be published): its finished bars are
emptied too. A terminal keeps the finished lines it printed. IPython is imported only
inside a running kernel, and tqdm only once a bar is opened.

A bar appears only once its work has run for `DELAY` seconds, so short work shows
nothing. Bars are on unless turned off by the engine setting ``stage_progress=False`` (a
``create_engine`` argument or URL parameter), by the execution option ``stage_progress``
(which also turns them on for a statement), or by the environment variable
``TQDM_DISABLE=1``.
"""

from __future__ import annotations

import contextlib
import contextvars
import html
import os
import sys
import threading
import time
import warnings
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from typing import IO, Any, Protocol

#: Seconds work runs before its bar appears (0 shows every bar).
DELAY = 1.0
#: Seconds between two redraws of a DuckDB statement's bar (the time taken so far).
POLL_INTERVAL = 0.1
#: Seconds between two updates of a bar drawn as a notebook's HTML line.
REDRAW_INTERVAL = 0.2
#: Where bars are written: None for the place's own (a text bar on stderr, a widget or an
#: HTML line in Jupyter). A stream (tests use a StringIO) forces a text bar written there.
OUTPUT: IO[str] | None = None
#: Bytes copied between two updates of a file bar.
CHUNK = 1 << 20

_ENABLED: ContextVar[bool] = ContextVar("sqla_stage_progress", default=False)
# The bars opened by the statement running now (see `scope`), taken back if it fails.
_OPENED: ContextVar[list[Any] | None] = ContextVar("sqla_stage_progress_bars", default=None)
_FALSE = ("0", "false", "no", "off")
_TRUE = ("1", "true", "yes", "on")
# A DuckDB statement's bar while it runs and once it is done (tqdm bar_format fields).
_RUNNING = "{desc}: running, {elapsed} elapsed"
_DONE = "{desc}: done in {elapsed}"
# A file bar as a notebook line: its text form, and the HTML form's text beside <progress>.
_BYTES_TEXT = (
    "{desc}: {percentage:3.0f}%|{bar}| {n_fmt}B/{total_fmt}B [{elapsed}<{remaining}, {rate_fmt}]"
)
_BYTES_HTML = "{desc}: {percentage:3.0f}% {n_fmt}B/{total_fmt}B [{elapsed}<{remaining}, {rate_fmt}]"
_LINE_STYLE = "font-family: var(--jp-code-font-family, monospace); white-space: pre"
_PROGRESS_STYLE = "width: 12em; vertical-align: middle; margin-right: 0.5em"
#: What a notebook line is updated to when its work fails: an empty output.
CLEARED: dict[str, str] = {"text/plain": ""}


class Bar(Protocol):
    """What work reports progress to: a tqdm bar, a notebook line, or nothing."""

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
    """Run one statement with bars on or off: its ``stage_progress`` option, else ``default``.

    If the statement raises, the notebook bars it opened are taken back, finished or not,
    so that only its error shows. The bars of a scope opened inside another belong to
    the outer statement too.
    """
    given = execution_options.get("stage_progress")
    token = _ENABLED.set(default if given is None else flag(given))
    outer = _OPENED.get()
    opened: list[Any] = []
    bars = _OPENED.set(opened)
    try:
        yield
    except BaseException:
        for shown in opened:
            with contextlib.suppress(Exception):  # the statement's error is what matters
                _remove(shown)
        raise
    finally:
        _OPENED.reset(bars)
        _ENABLED.reset(token)
        if outer is not None:
            outer.extend(opened)


def in_kernel() -> bool:
    """Whether this process is a Jupyter kernel (IPython is never imported to find out).

    Only an IPython already imported and running as a kernel's shell counts: a terminal
    IPython, or a script that merely imported IPython, gets text bars.
    """
    ipython = sys.modules.get("IPython")
    get_ipython = getattr(ipython, "get_ipython", None)
    if get_ipython is None:
        return False
    try:
        shell = get_ipython()
        if shell is None:
            return False
        if any(cls.__name__ == "ZMQInteractiveShell" for cls in type(shell).__mro__):
            return True
        return "IPKernelApp" in shell.config
    except Exception:
        return False


def _widget_class() -> Any:
    """The widget bar of ``tqdm.notebook``, or None when ipywidgets cannot draw one."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from tqdm import notebook  # type: ignore[import-untyped, unused-ignore]
    except ImportError:
        return None
    return notebook.tqdm if getattr(notebook, "IProgress", None) is not None else None


class _NotebookLine:
    """A bar drawn as one line of a notebook cell's output, updated in place.

    The line is a display (HTML with a plain-text copy) made with ``display_id``, so
    updates replace it and nothing is written to stderr. Updates may come from the
    ticking thread or from the threads of a parallel copy, hence the lock.
    """

    def __init__(self, description: str, total: float | None) -> None:
        self.n: float = 0
        self.description = description
        self.total = total
        self.start = time.monotonic()
        self._lock = threading.Lock()
        self._handle: Any = None
        self._shown: dict[str, str] | None = None
        self._drawn = 0.0
        self._closed = False
        if DELAY <= 0:
            self._draw(self.start, done=False)

    def update(self, n: float = 1) -> bool | None:
        with self._lock:
            self.n += n
        now = time.monotonic()
        if now - self.start >= DELAY and (
            self._handle is None or now - self._drawn >= REDRAW_INTERVAL
        ):
            self._draw(now, done=False)
        return None

    def close(self, failed: bool) -> None:
        """Draw the final state, or empty the line (once) when the work failed."""
        if failed:
            with self._lock:
                self._closed = True
                if self._handle is not None and self._shown is not CLEARED:
                    self._handle.update(CLEARED, raw=True)
                    self._shown = CLEARED
            return
        self._draw(time.monotonic(), done=True)

    def _draw(self, now: float, done: bool) -> None:
        with self._lock:
            if self._closed or (done and self._handle is None):  # closed, or never shown
                return
            self._closed = done
            bundle = self._bundle(now - self.start, done)
            if bundle == self._shown:
                return
            if self._handle is None:
                from IPython.display import display

                show: Any = display  # untyped in some IPython versions
                self._handle = show(bundle, raw=True, display_id=True)
            else:
                self._handle.update(bundle, raw=True)
            self._shown = bundle
            self._drawn = now

    def _bundle(self, elapsed: float, done: bool) -> dict[str, str]:
        from tqdm.std import tqdm  # type: ignore[import-untyped, unused-ignore]

        if self.total is None:
            text = (_DONE if done else _RUNNING).format(
                desc=self.description, elapsed=tqdm.format_interval(elapsed)
            )
            meter = '<progress value="1" max="1"' if done else "<progress"  # no value: busy
            line = text
        else:
            meter = f'<progress value="{min(self.n, self.total)}" max="{self.total}"'
            scale = {
                "unit": "B",
                "unit_scale": True,
                "unit_divisor": 1024,
                "prefix": self.description,
            }
            text = tqdm.format_meter(self.n, self.total, elapsed, bar_format=_BYTES_TEXT, **scale)
            line = tqdm.format_meter(self.n, self.total, elapsed, bar_format=_BYTES_HTML, **scale)
        return {
            "text/plain": text,
            "text/html": f'<div class="sqla-stage-progress" style="{_LINE_STYLE}">'
            f'{meter} style="{_PROGRESS_STYLE}"></progress>{html.escape(line)}</div>',
        }


def _tqdm(cls: Any, description: str, total: float | None, options: dict[str, Any]) -> Any:
    options.setdefault("dynamic_ncols", True)
    if total is None:
        options["bar_format"] = _RUNNING
    else:
        options.update(unit="B", unit_scale=True, unit_divisor=1024)
    return cls(total=total, desc=description, delay=DELAY, **options)


def _open(description: str, total: float | None) -> Any:
    """The bar of one piece of work: ``total`` bytes, or None for a DuckDB statement.

    The bar is remembered by the statement's `scope`, which takes it back if the
    statement fails later.
    """
    if OUTPUT is None and in_kernel():
        widget = _widget_class()
        if widget is None:
            shown: Any = _NotebookLine(description, total)
        else:
            shown = _tqdm(widget, description, total, {})
    else:
        from tqdm.std import tqdm  # type: ignore[import-untyped, unused-ignore]

        shown = _tqdm(tqdm, description, total, {} if OUTPUT is None else {"file": OUTPUT})
    opened = _OPENED.get()
    if opened is not None:
        opened.append(shown)
    return shown


def _remove(shown: Any) -> None:
    """Take a notebook bar back: empty its HTML line, or hide and close its widget.

    A text bar is left alone: a terminal keeps what was printed.
    """
    if isinstance(shown, _NotebookLine):
        shown.close(failed=True)
        return
    container = getattr(shown, "container", None)  # the widget, which tqdm leaves red
    if container is not None:
        with contextlib.suppress(Exception):
            container.layout.visibility = "hidden"
        with contextlib.suppress(Exception):
            container.close()


def _finish(shown: Any, failed: bool) -> None:
    """Close a bar: its final state after success, nothing left of it after a failure."""
    if isinstance(shown, _NotebookLine):
        shown.close(failed)
        return
    if failed:
        shown.leave = False  # a text bar clears its line
    elif shown.total is None:
        shown.bar_format = _DONE
    shown.close()
    if failed:
        _remove(shown)


@contextlib.contextmanager
def bar(description: str, total: float) -> Iterator[Bar]:
    """A bar for work of ``total`` bytes, or none when bars are off or there is no work."""
    if not enabled() or total <= 0:
        yield _NoBar()
        return
    shown = _open(description, total)
    failed = True
    try:
        yield shown
        failed = False
    finally:
        _finish(shown, failed)


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
    percentage is shown. The thread runs in a copy of the caller's context, so a kernel
    that routes output by context sends its redraws to the caller's cell.
    """
    if not enabled():
        yield
        return
    shown = _open(description, None)
    stop = threading.Event()
    ticker = threading.Thread(
        target=contextvars.copy_context().run,
        args=(_tick, shown, stop),
        name="sqla_stage progress",
        daemon=True,
    )
    ticker.start()
    failed = True
    try:
        yield
        failed = False
    finally:
        stop.set()
        ticker.join()
        _finish(shown, failed)
