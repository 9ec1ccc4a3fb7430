"""Storage failures as the runtime's errors: a full disk, a lost endpoint, an impossible path.

The filesystems under a stage fail with Python's and their SDK's own exceptions: an
``OSError`` for a full disk (``ENOSPC``), a file over the process's size limit
(``EFBIG``, errno 27) or a folder where a file should be (``FileExistsError``), a
``ValueError`` for a path no filesystem can hold (an embedded NUL) or raised inside a
filesystem's own code, and botocore's
``EndpointConnectionError`` (not an ``OSError``) when an S3 server stops answering
(azure-core's ``ServiceRequestError`` when an Azure one does).
`storage_failures` turns each into a
[StageOperationalError][sqla_stage.errors.StageOperationalError] that names the statement
and its stage, so no raw Python or SDK exception leaves a stage statement. DuckDB's own
errors and the package's pass through unchanged, and so does a ``ValueError`` raised by
the package's own code (a bug shows as itself, for the fuzzers to find).

A location on an object store is checked once, the first time a statement uses it
(`check_location`), by the check registered for its protocol (`register_check`; S3's
lists one key, GCS's reads the bucket, Azure's lists one blob): a missing bucket or
container, refused credentials or an unreachable endpoint fail there with an error
naming the stage, instead of LIST answering "no files" and a write creating the bucket.
A protocol with no check (a local disk) is not checked.
"""

from __future__ import annotations

import errno
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any

import duckdb

from sqla_stage.errors import StageError, StageOperationalError
from sqla_stage.runtime.storage.credentials import S3_PROTOCOLS

#: Modules whose exceptions are storage failures though they are not ``OSError``s.
_STORAGE_MODULES = (
    "botocore.",
    "aiobotocore.",
    "aiohttp.",
    "s3fs.",
    "fsspec.",
    "urllib3.",
    "azure.",
    "adlfs.",
)
#: Modules whose ``ValueError``s are storage failures (a filesystem refusing a path).
_PATH_MODULES = (*_STORAGE_MODULES, "os", "posixpath", "ntpath", "shutil", "pathlib", "io")


def _raised_in(traceback: TracebackType | None) -> str:
    """The module of the innermost Python frame of ``traceback`` ('' without one)."""
    module = ""
    while traceback is not None:
        module = str(traceback.tb_frame.f_globals.get("__name__", ""))
        traceback = traceback.tb_next
    return module


def _is_path_value_error(error: ValueError) -> bool:
    """Whether a ``ValueError`` is a filesystem's refusal, not a bug of the package."""
    if "null" in str(error):
        return True
    module = _raised_in(error.__traceback__)
    return any(
        module == m.rstrip(".") or (m.endswith(".") and module.startswith(m)) for m in _PATH_MODULES
    )


def is_storage_failure(error: BaseException) -> bool:
    """Whether ``error`` is a storage failure (not a DuckDB error, not the package's)."""
    if isinstance(error, (StageError, duckdb.Error)):
        return False
    if isinstance(error, ValueError):
        return _is_path_value_error(error)
    if isinstance(error, (OSError, EOFError)):
        return True
    return any(type(error).__module__.startswith(m) for m in _STORAGE_MODULES)


#: What botocore, aiohttp and the OS call a storage that cannot be reached at all.
_LOST = re.compile(
    r"EndpointConnectionError|ConnectTimeoutError|ConnectionClosedError|ReadTimeoutError"
    r"|ClientConnectorError|ServerDisconnectedError|Connection refused|Could not connect"
    r"|ServiceRequestError|Cannot connect to host"
)


def lost_connection(error: BaseException) -> bool:
    """Whether ``error`` (a DuckDB error over a mounted file too) says the storage is gone.

    Reading more files, or the same file again, would only wait for each to fail.
    """
    return bool(_LOST.search(f"{type(error).__name__}: {error}"))


def failure_reason(error: BaseException) -> str:
    """What went wrong, for a message: ``No space left on device (ENOSPC)`` and the like."""
    if isinstance(error, (FileExistsError, IsADirectoryError, NotADirectoryError)):
        return f"a file and a folder of the same name clash ({type(error).__name__})"
    if isinstance(error, OSError):
        code = errno.errorcode.get(error.errno or -1)
        if code and error.strerror:
            return f"{error.strerror} ({code})"  # not the file name: it may be a scratch path
    if isinstance(error, ValueError) and "null" in str(error):
        return "a path cannot hold a NUL character"
    text = str(error) or "no detail"
    return f"{type(error).__name__}: {text}"


@contextmanager
def storage_failures(what: str) -> Iterator[None]:
    """Raise a storage failure inside the block as a StageOperationalError about ``what``.

    Args:
        what: The statement and its stage, as the message begins (``"PUT @s/in/"``).
    """
    try:
        yield
    except Exception as error:
        if not is_storage_failure(error):
            raise
        raise StageOperationalError(f"{what}: {failure_reason(error)}") from None


#: A first-use check: ``(fs, bucket, key prefix)``; raises ``FileNotFoundError`` for a
#: missing bucket, ``PermissionError`` for refused credentials, or the SDK's error.
LocationCheck = Callable[[Any, str, str], None]
_CHECKS: dict[str, tuple[LocationCheck, str]] = {}


def register_check(protocols: Iterable[str], check: LocationCheck, noun: str = "bucket") -> None:
    """Check locations of ``protocols`` on first use; ``noun`` names their top folder."""
    for protocol in protocols:
        _CHECKS[protocol] = (check, noun)


def has_check(protocol: str) -> bool:
    """Whether locations of ``protocol`` are checked on first use."""
    return protocol in _CHECKS


def check_location(protocol: str, fs: Any, root: str, label: str) -> None:
    """Run the first-use check of ``protocol`` on ``root`` (``bucket/prefix``), if any.

    Raises:
        StageOperationalError: the bucket does not exist, the credentials are refused,
            or the endpoint cannot be reached; the message names ``label`` and the place.
    """
    if protocol not in _CHECKS:
        return
    check, noun = _CHECKS[protocol]
    bucket, _, key = root.strip("/").partition("/")
    try:
        check(fs, bucket, key)
        return
    except FileNotFoundError:
        reason = f"the {noun} {bucket!r} does not exist"
    except PermissionError as error:
        reason = f"access denied, check the credentials ({error})"
    except Exception as error:  # the SDKs' connection errors are not OSErrors
        reason = f"{type(error).__name__}: {error}"
    place = label
    if "://" not in place:  # a stage: say where it points
        place += f" ({protocol}://{root.strip('/')}/)"
    raise StageOperationalError(f"cannot access {place}: {reason}") from None


def _check_s3(fs: Any, bucket: str, key: str) -> None:
    """One listing request (s3fs's ``exists`` would answer False for any failure)."""
    fs.call_s3("list_objects_v2", Bucket=bucket, Prefix=f"{key}/" if key else "", MaxKeys=1)


register_check(S3_PROTOCOLS, _check_s3)
