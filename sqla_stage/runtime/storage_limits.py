"""How long an S3 stage waits for an endpoint that does not answer.

botocore's defaults wait 60 seconds to connect and retry each request four times with a
growing pause, and s3fs retries some failures five more times: against a server that
has stopped, one request takes about ten seconds to fail, and a statement that touches
hundreds of files could run for the better part of an hour before it reported anything.
The runtime opens every S3 filesystem with tighter, fixed limits: 10 seconds to connect,
60 seconds of silence while reading (a slow but live transfer is not cut), three
attempts per request in botocore's ``standard`` retry mode, and no s3fs retry on top. A lost
endpoint then fails one request in a few seconds, and the statement stops at the first
such failure (`load_checks` does not re-read the other files against it).
"""

from __future__ import annotations

from typing import Any

#: botocore ``Config`` settings (s3fs ``config_kwargs``).
S3_CONFIG: dict[str, Any] = {
    "connect_timeout": 10,
    "read_timeout": 60,
    "retries": {"max_attempts": 3, "mode": "standard"},
}
#: s3fs's own attempts at a call (its class default is 5), each made of botocore's.
S3_ATTEMPTS = 1


def s3_limits(options: dict[str, Any]) -> dict[str, Any]:
    """``options`` (s3fs keyword arguments) with the runtime's botocore limits added."""
    return {**options, "config_kwargs": {**S3_CONFIG, **options.get("config_kwargs", {})}}


def limit_attempts(fs: Any) -> None:
    """Make one attempt per s3fs call (botocore still retries it, see `S3_CONFIG`)."""
    fs.retries = S3_ATTEMPTS
