r"""Where a stage's files are: an fsspec filesystem, a root folder in it, and safe keys.

A file in a stage is named by its *key*, the path below the stage's root (``a/b.csv``).
Keys are literal names, as in spec 004, and no key can leave the root. The rules, on
every filesystem (`StageStorage.path` and its inverse `StageStorage.key_of`):

* A key is split at ``/`` into segments, each stored as one name below the root. The
  segments a filesystem cannot hold or would navigate with, the empty one (``a//b``,
  a leading ``/``), ``.`` and ``..``, are stored with a ``%`` in front (``%``, ``%.``,
  ``%..``); so is any segment made only of ``%`` signs followed by up to two dots, which
  keeps the mapping reversible (``%..`` is stored as ``%%..``). Every other segment is
  stored as it is: ``%2e%2e``, ``..x`` or a backslash are ordinary characters (POSIX).
* A key with a control character (NUL included), or that is not valid UTF-8 text, is
  refused with a [StageRuntimeError][sqla_stage.StageRuntimeError], as is a key longer than
  1024 bytes or, on a local disk, a segment longer than 255 bytes.
* On a local disk no part of the path below the root may be a symbolic link: a key that
  goes through one (or names one) is refused, LIST does not show links, and a linked
  folder is not descended. Names below the root that no key maps to (``\n`` in a name,
  written by another program) are not listed either, so every listed file can be read,
  removed or given to DuckDB, which only ever gets paths of listed regular files (with
  its glob characters ``*``, ``?`` and ``[`` escaped by the loads and queries).
* A stage's folder under the engine's stage root is named by `folder_name`, so no
  stage, table or user name (``..``, ``a/b``) reaches another stage's folder, and no
  other location lies in the stage root or shows it (`reach`: a storage whose
  root holds the stage root has it as its ``fence``, which keys and listings skip).

Links are checked when a statement runs, not locked: a program that swaps a folder for a
link while a statement runs is not guarded against.

DuckDB reads a local stage through its own file system and any other stage through the
mount filesystem (`mounts`). S3 (s3fs) and GCS (gcsfs, `gcs`) storage is opened without
fsspec's listings cache, so every statement sees the bucket as it is (objects written by
other clients included). A bucket (an Azure container) is checked the first time a
statement touches it (`StageStorage.fs`, `errors.check_location`, each cloud's check): a
missing bucket, refused credentials or an unreachable endpoint fail there with an error
naming the stage, instead of LIST answering "no files" and PUT creating the bucket
(s3fs's ``makedirs`` creates a missing bucket).
"""

from __future__ import annotations

import datetime as dt
import os
import stat
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import fsspec
from fsspec import AbstractFileSystem
from fsspec.implementations.local import LocalFileSystem

from sqla_stage.credentials import Credentials, Encryption
from sqla_stage.errors import StageOperationalError, StageProgrammingError, StageRuntimeError
from sqla_stage.runtime.engine import log_redaction
from sqla_stage.runtime.storage import azure as storage_azure
from sqla_stage.runtime.storage import mounts
from sqla_stage.runtime.storage import reach as storage_reach
from sqla_stage.runtime.storage.checksums import checksummed
from sqla_stage.runtime.storage.client_encryption import master_key
from sqla_stage.runtime.storage.credentials import (
    S3_PROTOCOLS,
    encryption_options,
    storage_options,
)
from sqla_stage.runtime.storage.errors import check_location, has_check
from sqla_stage.runtime.storage.gcs import GCS_PROTOCOLS, gcs_filesystem
from sqla_stage.runtime.storage.info import etag, modified
from sqla_stage.runtime.storage.instances import open_filesystem
from sqla_stage.runtime.storage.limits import StorageLimits, limiter_of
from sqla_stage.runtime.storage.names import (
    CONTROL,
    MAX_KEY_BYTES,
    MAX_SEGMENT_BYTES,
    SCRATCH_PREFIX,
    FileInfo,
    decode_segment,
    encode_segment,
    folder_name,
    listable,
    qualified_folder,
)
from sqla_stage.runtime.storage.patterns import compile_pattern
from sqla_stage.runtime.storage.roles import assumed_role_options, role_to_assume

#: A local file's path and ``os.stat`` result, for its checksum.
_Local = tuple[str, os.stat_result]

__all__ = [
    "MAX_KEY_BYTES",
    "MAX_SEGMENT_BYTES",
    "SCRATCH_PREFIX",
    "FileInfo",
    "StageStorage",
    "decode_segment",
    "encode_segment",
    "folder_name",
    "open_storage",
    "qualified_folder",
]


class StageStorage:
    """A stage's files: a filesystem and a root folder in it.

    Args:
        fs: The filesystem.
        root: The root folder, as a path of ``fs`` (no protocol, no trailing ``/``).
        label: How errors name the place (``@landing``, a URL without credentials).
        identity: What makes two storages the same place (for mounts and load history).
    """

    def __init__(
        self, fs: AbstractFileSystem, root: str, label: str, identity: tuple[object, ...]
    ) -> None:
        """Describe the storage; nothing is touched until a method is called."""
        self._fs = fs
        self.root = root.rstrip("/") or "/"
        self.label = label
        self.identity = identity
        self.local = isinstance(fs, LocalFileSystem)
        self._mount: str | None = None
        self._checked = not has_check(str(identity[0]))
        #: The S3-compatible service's URL, where the credentials name one.
        self.endpoint: str | None = None
        #: Credentials naming an ``aws_role``, assumed on first use (`roles`).
        self.role: Credentials | None = None
        #: The engine's stage root, where it lies below this root (`reach`).
        self.fence: str | None = None
        #: The AWS_CSE MASTER_KEY its files are encrypted with (`client_encryption`).
        self.client_key: bytes | None = None
        #: The engine's waits and attempts (`limits`), for a reopened filesystem.
        self.limits = StorageLimits()
        #: Called once, before the first key is resolved (`publish_journal.recover`).
        self.before_use: Callable[[StageStorage], object] | None = None

    def child(self, folder: str, label: str) -> StageStorage:
        """The storage of ``folder`` (a key prefix) inside this one: a sub-stage's files."""
        root = f"{self.root.rstrip('/')}/{folder.strip('/')}" if folder.strip("/") else self.root
        child = StageStorage(self._fs, root, label, (self.identity[0], root, *self.identity[2:]))
        child.endpoint, child.role, child.fence = self.endpoint, self.role, self.fence
        child.client_key, child.limits = self.client_key, self.limits
        return child

    @property
    def fs(self) -> AbstractFileSystem:
        """The filesystem; a bucket or container is checked on first use, once (`check_location`).

        Raises:
            StageRuntimeError: the bucket does not exist, the credentials are refused,
                or the endpoint cannot be reached.
        """
        if self.role is not None:
            self._assume_role(self.role)
        if not self._checked:
            check_location(str(self.identity[0]), self._fs, self.root, self.label)
            self._checked = True
        return self._fs

    def _assume_role(self, credentials: Credentials) -> None:
        """Reopen the filesystem with the temporary credentials of the role (`roles`)."""
        options = {**self._fs.storage_options, **assumed_role_options(credentials, self.label)}
        self._fs = type(self._fs)(skip_instance_cache=True, **options)
        limiter = limiter_of(str(self.identity[0]))
        if limiter is not None:
            limiter.opened(self._fs, self.limits)
        self.identity = (*self.identity, options["key"])  # new credentials, a new mount
        self.role = None

    def path(self, key: str) -> str:
        """The filesystem path of ``key``, always below the root.

        Raises:
            StageRuntimeError: the key has a control character, is too long, (on a
                local disk) goes through or names a symbolic link, or lies in the
                engine's stage root (`reach`).
        """
        if self.before_use is not None:  # every file is reached through a key
            hook, self.before_use = self.before_use, None
            hook(self)
        if not key:
            return self.root
        self._check_key(key)
        names = [encode_segment(segment) for segment in key.split("/")]
        if self.local:
            self._check_links(key, names)
        path = f"{self.root.rstrip('/')}/{'/'.join(names)}"
        if self.fence is not None and storage_reach.fenced(path, self.fence):
            raise storage_reach.fenced_error(self.label, path, self.fence)
        return path

    def _check_key(self, key: str) -> None:
        if CONTROL.search(key):
            raise StageProgrammingError(
                f"{self.label}: a stage path cannot hold control characters: {key!r}"
            )
        try:
            size = len(key.encode("utf-8"))
        except UnicodeEncodeError:
            raise StageProgrammingError(
                f"{self.label}: a stage path must be valid UTF-8 text: {key!r}"
            ) from None
        if size > MAX_KEY_BYTES:
            raise StageProgrammingError(
                f"{self.label}: a stage path is at most {MAX_KEY_BYTES} bytes long "
                f"({size} given: {key[:40]!r}...)"
            )
        if self.local:
            for segment in key.split("/"):
                if len(encode_segment(segment).encode("utf-8")) > MAX_SEGMENT_BYTES:
                    raise StageProgrammingError(
                        f"{self.label}: a file or folder name in a stage is at most "
                        f"{MAX_SEGMENT_BYTES} bytes long: {segment[:40]!r}..."
                    )

    def _check_links(self, key: str, names: list[str]) -> None:
        """Refuse a key whose path below the root goes through a symbolic link."""
        current = self.root
        for name in names:
            current = os.path.join(current, name)
            try:
                mode = os.lstat(current).st_mode
            except FileNotFoundError:
                return
            except OSError as error:
                raise StageOperationalError(f"{self.label}: cannot use {key!r}: {error}") from None
            if stat.S_ISLNK(mode):
                raise StageProgrammingError(
                    f"{self.label}: {key!r} goes through a symbolic link, which stages "
                    "do not follow"
                )

    def key_of(self, path: str) -> str | None:
        """The key of a filesystem path below the root; None if no key names it."""
        root = self.root.rstrip("/") + "/"
        if not path.startswith(root):
            return None
        segments = [decode_segment(name) for name in path[len(root) :].split("/")]
        if any(segment is None for segment in segments):
            return None
        key = "/".join(segment for segment in segments if segment is not None)
        try:
            self._check_key(key)
        except StageRuntimeError:
            return None
        return key

    def pinned(self, files: Iterable[FileInfo]) -> AbstractContextManager[object]:
        """While open, DuckDB's checks of these files use this listing (no request each).

        DuckDB asks a Python filesystem for a file's details many times per statement
        (about 15 requests a file on S3); a statement that has just listed its files
        answers from that listing (`pinned`).
        """
        if self.local:
            return nullcontext()
        entries = {f.name: f.detail for f in files if f.detail is not None}
        if not entries:
            return nullcontext()
        self.duckdb_path("")  # mounts the filesystem
        assert self._mount is not None
        return mounts.pinned(
            {f"{self._mount}/{self.path(key)}": detail for key, detail in entries.items()}
        )

    def duckdb_path(self, key: str, path: str | None = None) -> str:
        """How DuckDB names ``key``: a local path, or a URL of the mount filesystem.

        The path is not glob-escaped: give it to DuckDB through
        `glob_escape`, so it names that one file. ``path`` is ``key``'s `path`, if known.
        """
        path = path or self.path(key)
        if self.local:
            return path
        if self._mount is None:
            self._mount = mounts.mount(self.fs, self.identity)
        return mounts.duckdb_url(self._mount, path)

    def url(self, key: str, path: str | None = None) -> str:
        """A stable name of ``key`` for the load history (no credentials).

        With an ``endpoint_url`` it is the object's URL at that endpoint, so one bucket
        name on two S3 services is two places. ``path`` is ``key``'s `path`, if known.
        """
        path = path or self.path(key)
        if self.endpoint:
            return f"{self.endpoint.rstrip('/')}/{path.lstrip('/')}"
        return f"{self.identity[0]}://{path.lstrip('/')}"

    def located(self, key: str) -> tuple[str, str]:
        """``key``'s `duckdb_path` and `url`, its path checked once for both."""
        path = self.path(key)
        return self.duckdb_path(key, path), self.url(key, path)

    def list(
        self,
        prefix: str = "",
        pattern: str | None = None,
        *,
        checksums: bool = True,
        base: str = "",
    ) -> list[FileInfo]:
        """The files below ``prefix`` whose key after ``base`` fully matches ``pattern``.

        Only the prefix is walked: the folder that holds it is read, and of its entries
        only those the prefix can name are descended (a local folder is read without a
        ``stat`` of the names that do not match). MD5s are computed last, for the files
        returned. ``checksums=False`` leaves ``md5`` None for local files instead of
        reading them (loads identify files by size and modification time).

        Raises:
            StageRuntimeError: the storage cannot be listed, or ``pattern`` is not a
                valid regular expression.
        """
        regex = compile_pattern(pattern)
        if self.fence is not None and prefix:
            self.path(prefix.rstrip("/") or prefix)  # a prefix in the stage root is refused
        try:
            found = [item for item in self._walk(prefix) if item[0].name.startswith(prefix)]
            if regex is not None:
                matched = regex.matching([info.name[len(base) :] for info, _ in found])
                found = [item for item, keep in zip(found, matched, strict=True) if keep]
            files = [
                checked
                for info, local in found
                if (checked := checksummed(info, local) if checksums and local else info)
            ]
        except OSError as error:
            raise StageOperationalError(f"cannot list {self.label}: {error}") from None
        files.sort(key=lambda info: info.name)
        return files

    def _walk(self, prefix: str) -> Iterator[tuple[FileInfo, _Local | None]]:
        folder = prefix.rsplit("/", 1)[0] if "/" in prefix else ""
        base = self.path(folder)
        if self.local:
            yield from self._walk_local(base, prefix)
            return
        if not self.fs.exists(base):
            return
        for path, info in self._find(base, prefix).items():
            key = self.key_of(path)
            if key is None or SCRATCH_PREFIX in key or storage_reach.fenced(path, self.fence):
                continue
            size = int(info.get("size") or 0)
            yield FileInfo(key, size, etag(info), modified(info), info), None

    def _find(self, base: str, prefix: str) -> dict[str, dict[str, Any]]:
        """The fsspec entries below ``base`` that ``prefix`` (in that folder) can name."""
        if not prefix or prefix.endswith("/"):
            return dict(self.fs.find(base, detail=True))
        found: dict[str, dict[str, Any]] = {}
        for info in self.fs.ls(base, detail=True):
            key = self.key_of(str(info["name"]))
            if key is None or not key.startswith(prefix):
                continue
            if info.get("type") == "directory":
                found.update(self.fs.find(info["name"], detail=True))
            else:
                found[str(info["name"])] = info
        return found

    def _walk_local(self, base: str, prefix: str) -> Iterator[tuple[FileInfo, _Local]]:
        # Keys are built folder by folder (each name decoded once), not from full paths.
        if not os.path.isdir(base):
            return
        at_root = base.rstrip("/") == self.root.rstrip("/")
        start = "" if at_root else self.key_of(base)
        if start is None:
            return
        stack = [(base, start + "/" if start else "")]
        while stack:
            folder, above = stack.pop()
            for entry, key in self._entries(folder, above, prefix):
                if entry.is_dir(follow_symlinks=False):
                    if key.startswith(prefix) or prefix.startswith(key + "/"):
                        stack.append((entry.path, key + "/"))
                elif key.startswith(prefix) and entry.is_file(follow_symlinks=False):
                    if not listable(key):
                        continue
                    try:  # a file removed meanwhile (another connection's REMOVE) is skipped
                        status = entry.stat(follow_symlinks=False)
                    except FileNotFoundError:
                        continue
                    modified = dt.datetime.fromtimestamp(status.st_mtime, dt.UTC)
                    info = FileInfo(key, status.st_size, None, modified)
                    yield info, (entry.path, status)

    def _entries(
        self, folder: str, above: str, prefix: str
    ) -> Iterator[tuple[os.DirEntry[str], str]]:
        """The listable entries of a local folder and their keys (none if it vanished).

        A name that cannot start a key below ``prefix`` is skipped before it is decoded
        (a stored name is its segment, or the segment behind a ``%``).
        """
        rest = prefix[len(above) :] if prefix.startswith(above) else ""
        head = rest.split("/", 1)[0]
        try:
            with os.scandir(folder) as listing:
                entries = [
                    entry
                    for entry in listing
                    if entry.name.startswith(head) or entry.name.startswith("%")
                ]
        except FileNotFoundError:
            return
        for entry in entries:
            segment = decode_segment(entry.name)
            if segment is None or entry.name.startswith(SCRATCH_PREFIX):
                continue
            if not storage_reach.fenced(entry.path, self.fence):
                yield entry, above + segment

    def remove(self, keys: Iterable[str]) -> None:
        """Delete files by key (missing ones are ignored)."""
        for key in keys:
            try:
                self.fs.rm_file(self.path(key))
            except FileNotFoundError:
                continue
            except OSError as error:
                raise StageOperationalError(
                    f"cannot remove {key!r} from {self.label}: {error}"
                ) from None

    def head(self, key: str, size: int) -> bytes:
        """The first ``size`` bytes of file ``key`` (fewer for a short file, none if unreadable)."""
        try:
            with self.fs.open(self.path(key), "rb") as file:
                data: bytes = file.read(size)
        except (OSError, ValueError):
            return b""
        return data

    def exists(self, key: str) -> bool:
        """Whether a file ``key`` exists."""
        return bool(self.fs.isfile(self.path(key)))


def open_storage(
    url: str,
    credentials: Credentials | None,
    label: str | None = None,
    encryption: Encryption | None = None,
    limits: StorageLimits | None = None,
) -> StageStorage:
    """The storage at ``url`` (a local path, ``file://``, ``memory://``, ``s3://``, ``gs://``...).

    Every stage's filesystem is opened here, through `storage_instances.open_filesystem`
    (the engine's `StorageLimits`, no instance shared across credentials or environments),
    or by `gcs` / `azure` for their clouds, with the same limits. Nothing
    is requested yet: an ``aws_role`` is assumed, and a bucket or container checked, when
    the storage is first used (`StageStorage.fs`).

    Raises:
        StageRuntimeError: no fsspec filesystem handles the URL's protocol, it is Aliyun
            OSS, or ``encryption`` cannot be applied there (`encryption_options`).
    """
    limits = limits or StorageLimits()
    if storage_azure.is_azure(url):  # adlfs, opened by `azure`
        encryption_options(encryption, "azure", label or url)  # refuses any (AZURE_CSE too)
        fs, root, identity = storage_azure.open_azure(url, credentials, label or url, limits)
        azure = StageStorage(fs, root, label or url, identity)
        azure.endpoint, azure.limits = fs.account_url, limits
        return azure
    protocol = fsspec.core.split_protocol(url)[0]
    if protocol in GCS_PROTOCOLS:  # `gcs`
        fs, root, identity, endpoint = gcs_filesystem(
            url, credentials, label or url, limits, encryption
        )
        storage = StageStorage(fs, root, label or url, identity)
        storage.endpoint, storage.limits = endpoint, limits
        return storage
    options = storage_options(credentials, url, label or url)
    if protocol in S3_PROTOCOLS:
        options["use_listings_cache"] = False  # see the module docstring
        options.update(encryption_options(encryption, protocol, label or url))
    try:
        fs, root, environment = open_filesystem(url, options, limits)
    except (ImportError, ValueError) as error:
        raise StageOperationalError(
            f"cannot open {label or url}: {error} (install the fsspec package for this protocol)"
        ) from None
    protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
    if not isinstance(fs, LocalFileSystem):
        log_redaction.install()  # the filesystem's libraries are imported now
    settings = tuple(sorted((k, repr(v)) for k, v in options.items()))
    identity = (protocol, root, settings, environment, limits)
    if isinstance(fs, LocalFileSystem):
        root = os.path.abspath(root)
    if protocol not in S3_PROTOCOLS:
        encryption_options(encryption, protocol, label or url)  # refuses any encryption
    storage = StageStorage(fs, root, label or url, identity)
    storage.endpoint = options.get("endpoint_url")
    storage.limits = limits
    storage.role = role_to_assume(credentials, protocol, label or url)
    storage.client_key = master_key(encryption, label or url) if protocol in S3_PROTOCOLS else None
    return storage
