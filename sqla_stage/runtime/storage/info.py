"""What an fsspec listing entry says about a file: its checksum and modification time.

Each filesystem names them differently: s3fs's ``ETag`` and ``LastModified``, adlfs's
``content_settings.content_md5`` (the blob's Content-MD5; its ``etag`` is not an MD5, so
an Azure blob without Content-MD5 has none) and ``last_modified``, a local file's
``mtime``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any


def etag(info: dict[str, Any]) -> str | None:
    """The MD5 or ETag of a listing entry: Azure's Content-MD5, S3's ETag, a local md5."""
    if "content_settings" in info:  # adlfs
        content_md5 = (info["content_settings"] or {}).get("content_md5")
        return bytes(content_md5).hex() if content_md5 else None
    value = info.get("ETag") or info.get("etag") or info.get("md5")
    return str(value).strip('"') if value else None


def modified(info: dict[str, Any]) -> dt.datetime | None:
    """The modification time of a listing entry, in UTC (None if it has none)."""
    for name in ("LastModified", "last_modified", "mtime", "created"):
        value = info.get(name)
        if isinstance(value, dt.datetime):
            return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        if isinstance(value, (int, float)):
            return dt.datetime.fromtimestamp(value, dt.UTC)
    return None
