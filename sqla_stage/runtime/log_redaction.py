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
* AWS access key ids (``AKIA...``, ``ASIA...``) anywhere.

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


def redact(text: str) -> str:
    """``text`` with every secret it holds replaced by `MASK`."""
    with _LOCK:
        known = sorted(_KNOWN, key=len, reverse=True)
    for value in known:
        if value in text:
            text = text.replace(value, MASK)
    text = _FIELD.sub(lambda match: match.group(1) + MASK, text)
    return _KEY_ID.sub(MASK, text)


class SecretFilter(logging.Filter):
    """Rewrites each record's message with its secrets masked (never drops a record)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Mask the record's message in place; keep the record."""
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: leave it to logging's own error report
            return True
        masked = redact(message)
        if masked != message:
            record.msg, record.args = masked, ()
        return True


_FILTER = SecretFilter()


def install() -> None:
    """Put the filter on every existing logger of `LIBRARIES` (once each)."""
    names = [
        name for name in list(logging.root.manager.loggerDict) if name.split(".", 1)[0] in LIBRARIES
    ]
    for name in {*LIBRARIES, *names}:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
