"""How long a stage waits for a cloud endpoint that does not answer: bounded, per engine.

The cloud SDKs' own defaults wait long and retry often: botocore waits 60 seconds to
connect and retries each request four times with a growing pause, and s3fs retries some
failures five more times, so against a server that has stopped one request took about ten
seconds to fail and a statement touching hundreds of files could run for the better part
of an hour. Every remote filesystem a stage opens gets `StorageLimits` instead:

* ``connect_timeout`` (default 10 s): the longest wait for a connection;
* ``read_timeout`` (default 60 s): the longest silence while waiting for an answer or
  reading one (a slow but live transfer is not cut);
* ``attempts`` (default 3): tries per request, the first included, with the SDK's short
  pause between them, and no library retry on top.

An endpoint that refuses connections (a stopped server) fails a request at once, after
its attempts; one that takes connections and never answers fails it after ``attempts``
times ``read_timeout`` plus the pauses (about 3 minutes with the defaults). A statement stops
at its first such failure (`load.checks` does not try the other files against it), with
an error naming the stage.

An engine sets its own limits (`plugin`): ``create_engine(..., stage_connect_timeout=2,
stage_read_timeout=30, stage_attempts=2)`` or the same names in the engine URL's query;
they apply to every stage, location and stage root the engine uses. Each filesystem takes
the limits through the `Limiter` registered for its protocols (`register_limiter`), which
`storage_instances.open_filesystem` applies to every filesystem a stage opens; a protocol
with no limiter (a local disk, ``memory://``) gets none. Google Cloud Storage and Azure,
whose filesystems `gcs` and `azure` open themselves, take the same limits
from `storage.open_storage` and apply them there; on every cloud the limits are part of
the storage's identity, so no filesystem is shared between engines with other limits.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqla_stage.errors import StageArgumentError


@dataclass(frozen=True)
class StorageLimits:
    """The waits and attempts of every request to a remote storage (see the module)."""

    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    attempts: int = 3

    @classmethod
    def of(cls, connect_timeout: object, read_timeout: object, attempts: object) -> StorageLimits:
        """The limits of an engine's settings (None: the default; text from a URL query).

        Raises:
            StageArgumentError: a timeout that is not a positive number of seconds, or
                attempts that are not a whole number of at least 1.
        """
        default = cls()
        return cls(
            _seconds("stage_connect_timeout", connect_timeout, default.connect_timeout),
            _seconds("stage_read_timeout", read_timeout, default.read_timeout),
            _count("stage_attempts", attempts, default.attempts),
        )


def _seconds(name: str, value: object, default: float) -> float:
    if value is None or value == "":
        return default
    try:
        seconds = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        seconds = math.nan
    if isinstance(value, bool) or not math.isfinite(seconds) or seconds <= 0:
        raise StageArgumentError(
            f"sqla_stage: {name} must be a positive number of seconds, not {value!r}"
        )
    return seconds


def _count(name: str, value: object, default: int) -> int:
    if value is None or value == "":
        return default
    text = str(value).strip()
    if isinstance(value, bool) or not text.isdigit() or int(text) < 1:
        raise StageArgumentError(f"sqla_stage: {name} must be a whole number >= 1, not {value!r}")
    return int(text)


@dataclass(frozen=True)
class Limiter:
    """How one kind of filesystem takes `StorageLimits`.

    Attributes:
        options: The filesystem's keyword arguments with the limits added.
        opened: Applies what cannot be given as an argument to the opened filesystem.
    """

    options: Callable[[dict[str, Any], StorageLimits], dict[str, Any]]
    opened: Callable[[Any, StorageLimits], None] = lambda fs, limits: None


_LIMITERS: dict[str, Limiter] = {}


def register_limiter(protocols: Iterable[str], limiter: Limiter) -> None:
    """Apply ``limiter`` to every filesystem opened for one of ``protocols``."""
    for protocol in protocols:
        _LIMITERS[protocol] = limiter


def limiter_of(protocol: str) -> Limiter | None:
    """The limiter of a protocol, if one is registered."""
    return _LIMITERS.get(protocol)


def _s3_options(options: dict[str, Any], limits: StorageLimits) -> dict[str, Any]:
    """s3fs's ``config_kwargs`` (botocore ``Config``): timeouts and standard retries."""
    config = {
        "connect_timeout": limits.connect_timeout,
        "read_timeout": limits.read_timeout,
        # botocore's ``max_attempts`` counts retries only: one more try than it says.
        "retries": {"total_max_attempts": limits.attempts, "mode": "standard"},
    }
    return {**options, "config_kwargs": {**config, **options.get("config_kwargs", {})}}


def _s3_opened(fs: Any, limits: StorageLimits) -> None:
    """One s3fs attempt per call (its class default is 5); botocore makes the attempts."""
    fs.retries = 1


register_limiter(("s3", "s3a"), Limiter(_s3_options, _s3_opened))
