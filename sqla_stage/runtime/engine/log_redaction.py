"""Secrets never reach the logs of the libraries the runtime drives.

At ``DEBUG`` level botocore logs every request it signs: its headers (the session
token in ``x-amz-security-token``, the access key id in ``Authorization``), its
canonical request and its signature; s3fs, aiobotocore, aiohttp and urllib3 log
requests and URLs (a presigned URL carries its credential and signature). The runtime
installs `SecretFilter` on those libraries' loggers (`install`), as
snowflake-sqlalchemy's connector masks its own logs: each record's text is rewritten
before any handler sees it, with

* the credential values the runtime has handed to a filesystem (`remember`), whatever
  the text around them;
* the values of ``Authorization``, ``x-amz-security-token``, ``X-Amz-Credential``,
  ``X-Amz-Signature``, ``Signature`` and of any ``secret`` / ``token`` / ``password``
  field, header or query parameter;
* AWS access key ids (``AKIA...``, ``ASIA...``) anywhere;
* the quoted value after each SQL spelling of a secret key (``AWS_SECRET_KEY = '...'``,
  ``MASTER_KEY``, ``SECRET_ACCESS_KEY``, ...: `SECRET_SQL_NAMES`), for the statements
  SQLAlchemy's ``echo`` logs (`install_on_engine`).

Each becomes ``****``. A logging filter on a logger applies only to the records of that
logger, not to those of its children, so `install` puts it on every logger of those
libraries that exists when a remote storage is opened (their modules create their
loggers on import), and is run again each time one is opened.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict
from typing import Any

from sqla_stage.credentials import MASK as SQL_MASK
from sqla_stage.credentials import SECRET_SQL_NAMES

#: The libraries whose loggers get the filter (and every logger below them).
LIBRARIES = ("botocore", "boto3", "s3fs", "aiobotocore", "aiohttp", "urllib3", "fsspec")
MASK = "****"
#: How many credential values are remembered (the most recent ones).
REMEMBERED = 1024

_FIELD = re.compile(
    r"""(?ix)
    ( (?:authorization|x-amz-security-token|x-amz-credential|x-amz-signature|signature
        |[\w-]*(?:secret|token|password|passwd|credential)[\w-]*)
      ['"]?\s*[:=]\s*b?['"]?\s* )
    ( [^'"\s&,;}<>]+ (?:\ [^'"\s&,;}<>]+)* )
    """
)
_KEY_ID = re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA|AROA|AIDA)[A-Z0-9]{12,}")
_SQL_SECRET = re.compile(
    r"""(?i)\b((?:NAMES)['"]?\s*=\s*)('(?:[^']|'')*')""".replace(
        "NAMES", "|".join(sorted(SECRET_SQL_NAMES))
    )
)
_KNOWN: OrderedDict[str, None] = OrderedDict()
_LOCK = threading.Lock()


def remember(*values: object) -> None:
    """Mask these credential values wherever they appear in the libraries' logs."""
    with _LOCK:
        for value in values:
            if isinstance(value, str) and len(value) >= 4:
                _KNOWN[value] = None
                _KNOWN.move_to_end(value)
        while len(_KNOWN) > REMEMBERED:
            _KNOWN.popitem(last=False)


def redact(text: str, *, sql: bool = False) -> str:
    """``text`` with every secret it holds replaced by `MASK`.

    Args:
        text: A log message.
        sql: The message is SQL (SQLAlchemy's echo): mask the values of the SQL secret
            keys instead of the fields and headers of HTTP libraries.
    """
    with _LOCK:
        known = sorted(_KNOWN, key=len, reverse=True)
    for value in known:
        if value in text:
            text = text.replace(value, MASK)
    if sql:
        text = _SQL_SECRET.sub(_sql_value, text)
    else:
        text = _FIELD.sub(lambda match: match.group(1) + MASK, text)
    return _KEY_ID.sub(MASK, text)


def _sql_value(match: re.Match[str]) -> str:
    """A secret's SQL literal masked; one the renderer already masked (``'***'``) kept."""
    value = match.group(2)
    return match.group(0) if value == f"'{SQL_MASK}'" else f"{match.group(1)}'{MASK}'"


class SecretFilter(logging.Filter):
    """Rewrites each record's message with its secrets masked (never drops a record)."""

    def __init__(self, *, sql: bool = False) -> None:
        """Mask as `redact` does, its messages being SQL when ``sql``."""
        super().__init__()
        self.sql = sql

    def filter(self, record: logging.LogRecord) -> bool:
        """Mask the record's message in place; keep the record."""
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: leave it to logging's own error report
            return True
        masked = redact(message, sql=self.sql)
        if masked != message:
            record.msg, record.args = masked, ()
        return True


_FILTER = SecretFilter()
_SQL_FILTER = SecretFilter(sql=True)


def install() -> None:
    """Put the filter on every existing logger of `LIBRARIES` (once each)."""
    names = [
        name for name in list(logging.root.manager.loggerDict) if name.split(".", 1)[0] in LIBRARIES
    ]
    for name in {*LIBRARIES, *names}:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)


def install_on_engine(engine: Any) -> None:
    """Put the filter on the logger an engine's ``echo`` writes its statements to.

    A secret typed into SQL text (``CREATE STAGE s ... CREDENTIALS = (AWS_SECRET_KEY =
    '...')``) is logged masked; constructs compiled for DuckDB are masked already.
    """
    logger = getattr(engine.logger, "logger", engine.logger)  # an echo engine's InstanceLogger
    if isinstance(logger, logging.Logger) and _SQL_FILTER not in logger.filters:
        logger.addFilter(_SQL_FILTER)
