"""No URL reaches the engine's stage root: stage files are reached through stage paths.

Internal, user and table stages live under the engine's ``stage_root``
(``stage/internal/<name>/``, ``stage/user/<user>/``, ``stage/table/<table>/``). A URL
naming a folder there (an external stage's ``URL``, ``COPY INTO t FROM '<url>'``, a
``PUT`` source, a ``GET`` or ``INTO OUTFILE`` target, a MatrixOne ``file://`` datalink)
would let one user list, read or delete another user's ``@~``, so every location that
is not a stage path is checked against the stage root (`confine`):

* A location at the stage root or inside it is refused, after ``file://`` and
  ``local://`` are stripped, ``..`` is normalised and, on a local disk, symbolic links
  are resolved (``os.path.realpath``): a link made anywhere that points into the stage
  root is followed here, so it is refused too. The check runs when a stage is created
  or altered and again each time it is used, so a stage created before the link was
  made, or before this check existed, is refused when it is used.
* A location that holds the stage root (a parent folder of it) is *fenced*: the stage
  root's folder is not listed, and a key leading into it is refused
  (`StageStorage.path`).
* On another filesystem than the stage root's (an S3 stage with a local stage root)
  there is nothing to check. On the stage root's own kind of object store (``s3://``
  for an S3 stage root, ``memory://``), the bucket and path are compared whatever the
  endpoint or credentials: a bucket of the same name on another S3 service is refused
  too, as the runtime cannot tell two spellings of one endpoint apart.
* A chained URL (``simplecache::file://...``) over the stage root's kind of filesystem
  is refused: its real location cannot be checked.

The errors name the location as the statement gave it and where it falls below the
stage root (``stage/user/bob``), never the stage root's own path.
"""

from __future__ import annotations

import os
import posixpath
from typing import TYPE_CHECKING

import fsspec
from fsspec import AbstractFileSystem

from sqla_stage.errors import StageProgrammingError

if TYPE_CHECKING:
    from sqla_stage.runtime.storage.stage_storage import StageStorage

_ADVICE = (
    "internal, user and table stages are reached through their stage paths "
    "(@name, @~, @%table), not through a URL"
)


def fenced(path: str, fence: str | None) -> bool:
    """Whether ``path`` (a path of a storage's filesystem) is the ``fence`` or below it."""
    return fence is not None and _within(path, fence)


def fenced_error(label: str, path: str, fence: str) -> StageProgrammingError:
    """The error for a ``path`` of ``label`` that leads into the engine's stage root.

    It names the path below the stage root, not the key (which spells the root's path).
    """
    place = label if label.startswith("@") else "a URL location"  # a URL may show the root
    below = posixpath.relpath(path, fence)
    where = "at its top" if below == "." else f"at {below!r}"
    return StageProgrammingError(
        f"{place}: the path lies in the engine's stage root ({where}); {_ADVICE}"
    )


def confine(storage: StageStorage, stage_root: StageStorage, what: str) -> None:
    """Refuse ``storage`` if it lies in ``stage_root``; fence the root if it holds it.

    Args:
        storage: A location's storage (not yet used: nothing is requested).
        stage_root: The storage of the engine's stage root.
        what: How the error names the location (``stage @peek``, ``COPY location``).

    Raises:
        StageProgrammingError: ``storage`` is the stage root, lies inside it, or is a
            chained URL over the stage root's kind of filesystem.
    """
    fs, root_fs = _filesystem(storage), _filesystem(stage_root)
    family = _family(root_fs)
    inner = getattr(fs, "fs", None)
    if isinstance(inner, AbstractFileSystem) and _family(inner) & family:
        raise StageProgrammingError(
            f"{what}: a chained URL ({fs.protocol!r} over {inner.protocol!r}) cannot be "
            "checked against the engine's stage root, and is refused on its filesystem"
        )
    if not _family(fs) & family:
        return
    place, root = _resolved(storage), _resolved(stage_root)
    if _within(place, root):
        below = posixpath.relpath(place, root)
        where = "at its top" if below == "." else f"at {below!r}"
        raise StageProgrammingError(
            f"{what}: the location lies in the engine's stage root ({where}); {_ADVICE}"
        )
    if _within(root, place):
        storage.fence = f"{storage.root.rstrip('/')}/{posixpath.relpath(root, place)}"


def _filesystem(storage: StageStorage) -> AbstractFileSystem:
    """The storage's filesystem, without the S3 check of `StageStorage.fs` (no request)."""
    fs: AbstractFileSystem = storage._fs
    return fs


def _family(fs: AbstractFileSystem) -> frozenset[str]:
    """The protocols naming the kind of ``fs`` (``s3`` and ``s3a``; ``file`` and ``local``)."""
    protocols = fs.protocol if isinstance(fs.protocol, (tuple, list)) else (fs.protocol,)
    names = set(protocols)
    for name in protocols:
        try:
            kind = fsspec.get_filesystem_class(name)
        except (ImportError, ValueError):
            continue
        more = kind.protocol
        names.update(more if isinstance(more, (tuple, list)) else (more,))
    return frozenset(names)


def _resolved(storage: StageStorage) -> str:
    """The storage's root as one absolute, normalised path (symbolic links resolved locally)."""
    if storage.local:
        return os.path.realpath(storage.root)
    return posixpath.normpath("/" + storage.root.strip("/"))


def _within(path: str, folder: str) -> bool:
    """Whether ``path`` is ``folder`` or below it (both normalised, ``/``-separated)."""
    folder = folder.rstrip("/")
    return path == folder or path.startswith(folder + "/") or folder == ""
