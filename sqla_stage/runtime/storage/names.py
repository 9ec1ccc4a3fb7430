"""The names of staged files: keys, their stored segments, stage folders, and `FileInfo`.

The rules a key follows on every filesystem are `storage`'s; this module holds the
mapping between a key's segments and the names stored (`encode_segment`,
`decode_segment`), the folder of a stage or table name (`folder_name`), and what a
listing returns for one file (`FileInfo`).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

#: Folders the runtime writes before it publishes; LIST and loads never see them.
SCRATCH_PREFIX = ".sqla_stage-"

#: The longest key (S3's limit) and, on a local disk, the longest segment, in bytes.
MAX_KEY_BYTES = 1024
MAX_SEGMENT_BYTES = 255

#: Segments stored with a ``%`` in front: ``%`` signs then up to two dots (``""``, ``..``).
_ESCAPED = re.compile(r"%*\.{0,2}")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class FileInfo:
    """One staged file, as LIST shows it (``detail``: the fsspec listing entry, if any)."""

    name: str
    size: int
    md5: str | None
    last_modified: dt.datetime | None
    detail: dict[str, Any] | None = field(default=None, compare=False, repr=False)


def encode_segment(segment: str) -> str:
    """The stored name of one key segment (see the module docstring)."""
    return "%" + segment if _ESCAPED.fullmatch(segment) else segment


def decode_segment(name: str) -> str | None:
    """The key segment of a stored name; None for a name no segment maps to."""
    if _ESCAPED.fullmatch(name):
        return name[1:] if name.startswith("%") else None
    return None if CONTROL.search(name) else name


def listable(key: str) -> bool:
    """Whether a key read from a folder is one the stage can name (UTF-8, not too long)."""
    try:
        return len(key.encode("utf-8")) <= MAX_KEY_BYTES
    except UnicodeEncodeError:
        return False


def folder_name(name: str) -> str:
    r"""The folder of a stage, table or user name under the stage root: one safe segment.

    ``%``, ``/``, ``\\`` and control characters are percent-encoded, and a name that is
    empty, ``.`` or ``..`` has its dots encoded too (``%2E%2E``), so distinct names get
    distinct folders and none navigates.
    """
    encoded = re.sub(r"[%/\\\x00-\x1f\x7f]", lambda match: f"%{ord(match.group()):02X}", name)
    if encoded in ("", ".", ".."):
        return encoded.replace(".", "%2E") or "%"
    return encoded


def qualified_folder(schema: str | None, name: str) -> str:
    """The folder of a stage or table name with its schema: one safe segment.

    Each part is a `folder_name` with its dots encoded too (``%2E``), and one dot
    joins them: the stage ``"a.b"`` gets ``a%2Eb`` and the stage ``b`` of schema ``a``
    gets ``a.b``, so no two names share a folder.
    """
    parts = (schema, name) if schema else (name,)
    return ".".join(folder_name(part).replace(".", "%2E") for part in parts)
