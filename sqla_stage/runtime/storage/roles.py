"""``CREDENTIALS = (AWS_ROLE = 'arn:...')``: the role assumed through AWS STS.

A stage or location that names an IAM role is reached with the temporary credentials of
``sts:AssumeRole`` on that role, called with the credentials the environment gives botocore
(the process's own identity, as Snowflake's storage integration user is its own). The STS
endpoint is botocore's (``AWS_ENDPOINT_URL_STS`` or ``AWS_ENDPOINT_URL`` when set), else the
stage's ``ENDPOINT_URL`` (an S3-compatible service that serves STS on its S3 endpoint, as
MinIO and moto do), else Amazon's. The credentials are kept until five minutes before they
expire, per role, endpoint and region.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from typing import Any

from sqla_stage.credentials import Credentials
from sqla_stage.errors import StageOperationalError, StageProgrammingError
from sqla_stage.runtime.engine import log_redaction
from sqla_stage.runtime.storage.credentials import S3_PROTOCOLS, endpoint_url

#: The session name the runtime gives STS (it shows in CloudTrail).
SESSION_NAME = "sqla-stage"
#: Credentials this close to their expiry are renewed.
RENEW_BEFORE = dt.timedelta(minutes=5)
#: The region STS is called in when neither the credentials nor the environment name one.
DEFAULT_REGION = "us-east-1"

_CACHE: dict[tuple[str, str | None, str], dict[str, Any]] = {}
_LOCK = threading.Lock()


def role_to_assume(
    credentials: Credentials | None, protocol: str, place: str
) -> Credentials | None:
    """``credentials`` if they name an ``aws_role`` (None if not).

    Raises:
        StageProgrammingError: an ``aws_role`` for a location that is not on S3.
    """
    if credentials is None or "aws_role" not in credentials:
        return None
    if protocol not in S3_PROTOCOLS:
        raise StageProgrammingError(
            f"{place}: CREDENTIALS = (AWS_ROLE = ...) is an AWS IAM role, for s3:// locations "
            f"only, not for a {protocol}:// location"
        )
    return credentials


def sts_endpoint(credentials: Credentials) -> str | None:
    """The STS endpoint for these credentials (None: botocore's own choice)."""
    if os.environ.get("AWS_ENDPOINT_URL_STS") or os.environ.get("AWS_ENDPOINT_URL"):
        return None
    endpoint = credentials.get("endpoint_url")
    return endpoint_url(endpoint) if endpoint else None


def assumed_role_options(credentials: Credentials, place: str) -> dict[str, str]:
    """s3fs's ``key``, ``secret`` and ``token`` of the role ``credentials`` names.

    Raises:
        StageOperationalError: STS refused the role or could not be reached.
    """
    role = credentials["aws_role"]
    endpoint = sts_endpoint(credentials)
    region = credentials.get("region") or os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION
    cache_key = (role, endpoint, region)
    now = dt.datetime.now(dt.UTC)
    with _LOCK:
        cached = _CACHE.get(cache_key)
    if cached is None or cached["Expiration"] - RENEW_BEFORE <= now:
        cached = _assume(role, endpoint, region, place)
        with _LOCK:
            _CACHE[cache_key] = cached
    log_redaction.remember(cached["AccessKeyId"], cached["SecretAccessKey"], cached["SessionToken"])
    return {
        "key": cached["AccessKeyId"],
        "secret": cached["SecretAccessKey"],
        "token": cached["SessionToken"],
    }


def _assume(role: str, endpoint: str | None, region: str, place: str) -> dict[str, Any]:
    import botocore.session  # s3fs's own dependency, loaded only for a role

    try:
        client = botocore.session.get_session().create_client(
            "sts", endpoint_url=endpoint, region_name=region
        )
        answer: dict[str, Any] = client.assume_role(RoleArn=role, RoleSessionName=SESSION_NAME)
    except Exception as error:  # botocore's client and connection errors
        raise StageOperationalError(
            f"cannot access {place}: assuming AWS_ROLE {role!r} through STS failed: "
            f"{type(error).__name__}: {error}"
        ) from None
    result: dict[str, Any] = answer["Credentials"]
    expiration = result["Expiration"]
    if expiration.tzinfo is None:
        result["Expiration"] = expiration.replace(tzinfo=dt.UTC)
    return result
