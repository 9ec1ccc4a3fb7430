"""Google Cloud Storage stages (``gs://``, ``gcs://``): gcsfs opened with the stage's key.

A ``gs://bucket/path`` or ``gcs://bucket/path`` location is opened with gcsfs (the
``gcs`` extra: ``pip install "sqla_stage[gcs]"``) as `StageGCSFileSystem`, gcsfs's
JSON-API filesystem with the runtime's limits. gcsfs's default class (its experimental
zonal and hierarchical-namespace support) asks the Storage Control API over gRPC about
each bucket, and waits a minute for it where that API is not served (an emulator).

Who the requests are made as (`gcs_filesystem`):

* ``CREDENTIALS = (GCS_SERVICE_ACCOUNT_KEY = '<key>')`` (the ``gcs_service_account_key``
  credential; Databend's ``CONNECTION = (CREDENTIAL = '<key>')``): a service account's
  JSON key, as its text or base64-encoded (as Databend takes it). Requests carry the
  account's OAuth token, which google-auth obtains from the key's ``token_uri`` with a
  JWT it signs locally; PRESIGN signs with the key, with no request at all.
* No key, no endpoint: Google's default chain (Application Default Credentials:
  ``GOOGLE_APPLICATION_CREDENTIALS``, gcloud's credentials, the metadata server of a
  Google VM). Without any of them the stage fails naming it, rather than reading as an
  anonymous user.
* No key, and an endpoint (the ``endpoint_url`` credential, or ``STORAGE_EMULATOR_HOST``
  as Google's own clients read it): anonymous requests, as Google's client libraries
  make them to an emulator.

``STORAGE_INTEGRATION`` is kept and shown by DESC STAGE but grants nothing here: it names
a warehouse object, which the runtime does not have; give the key (or the default chain).
``ENCRYPTION = (TYPE = 'GCS_SSE_KMS')`` is refused (`credentials`): the emulator the
runtime is tested against does not record an object's KMS key, so the runtime could not
show that it is applied. Other credential keys (``aws_*``, ``azure_sas_token``,
``region``, ``provider``) mean nothing to Google Cloud Storage and are refused.

The endpoint is fixed when the stage is opened (a later ``STORAGE_EMULATOR_HOST`` change
opens a new filesystem: fsspec's instance cache is not used), listings are not cached,
and a bucket is checked with one request on first use (`storage_errors.check_location`):
a missing bucket fails naming the stage. A lost endpoint fails within the engine's
`StorageLimits` (``stage_connect_timeout``, ``stage_read_timeout``, ``stage_attempts``;
by default 10 seconds to connect, 60 seconds of silence while reading, 3 attempts per
request, where gcsfs's own are 6, with pauses that add up to half a minute), and for
`LOST_SECONDS` after a request has failed to reach it the filesystem's requests fail at
once. The limits are part of the storage's identity: engines with other limits never
share a filesystem.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
import os
import time
from typing import Any, Final

from sqla_stage.credentials import Credentials, Encryption
from sqla_stage.errors import StageOperationalError, StageProgrammingError
from sqla_stage.runtime.engine import log_redaction
from sqla_stage.runtime.storage.credentials import encryption_options, endpoint_url
from sqla_stage.runtime.storage.errors import register_check
from sqla_stage.runtime.storage.limits import StorageLimits

#: The fsspec protocols of Google Cloud Storage (gcsfs's).
GCS_PROTOCOLS = ("gs", "gcs")
#: The credential keys a Google Cloud Storage location takes.
GCS_CREDENTIAL_KEYS = frozenset({"gcs_service_account_key", "endpoint_url"})
#: How long requests fail at once after one failed to reach the endpoint (seconds).
LOST_SECONDS: Final = 30.0
#: The OAuth scope of the service account's token (read and write objects).
GCS_SCOPE = "https://www.googleapis.com/auth/devstorage.read_write"
#: Where signed URLs point without an endpoint.
GOOGLE_ENDPOINT = "https://storage.googleapis.com"
#: The longest a V4 signed URL lives (Google's limit: 7 days).
MAX_SIGNED_SECONDS = 7 * 24 * 3600


class SigningRefused(NotImplementedError):
    """The stage's filesystem cannot sign this URL; the message says why."""


def _missing_extra(place: str) -> StageOperationalError:
    return StageOperationalError(
        f'cannot open {place}: Google Cloud Storage needs gcsfs: pip install "sqla_stage[gcs]"'
    )


def service_account_info(key: str, place: str) -> dict[str, Any]:
    """The service account key ``key`` (JSON text, or base64 of it) as a dict.

    Raises:
        StageProgrammingError: the key is neither, or is not a service account's key; the
            message never quotes it.
    """
    text = key.strip()
    if not text.startswith("{"):
        try:
            text = base64.b64decode(text, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            text = ""
    try:
        info = json.loads(text) if text else None
    except json.JSONDecodeError:
        info = None
    needed = ("client_email", "private_key", "token_uri")
    if not isinstance(info, dict) or info.get("type") != "service_account":
        raise StageProgrammingError(
            f"{place}: GCS_SERVICE_ACCOUNT_KEY must be a service account's JSON key "
            '(its text or base64 of it, with "type": "service_account")'
        )
    missing = [name for name in needed if not isinstance(info.get(name), str)]
    if missing:
        raise StageProgrammingError(f"{place}: GCS_SERVICE_ACCOUNT_KEY lacks {', '.join(missing)}")
    return info


def _endpoint(credentials: Credentials | None) -> str | None:
    """The endpoint: the ``endpoint_url`` credential, else ``STORAGE_EMULATOR_HOST``."""
    if credentials is not None and "endpoint_url" in credentials:
        return endpoint_url(credentials["endpoint_url"]).rstrip("/")
    emulator = os.environ.get("STORAGE_EMULATOR_HOST", "")
    if emulator in ("", "default"):
        return None
    return (emulator if "://" in emulator else f"http://{emulator}").rstrip("/")


def gcs_filesystem(
    url: str,
    credentials: Credentials | None,
    place: str,
    limits: StorageLimits,
    encryption: Encryption | None = None,
) -> tuple[Any, str, tuple[object, ...], str | None]:
    """Open ``url`` on Google Cloud Storage: the filesystem, root, identity and endpoint.

    The identity (`StageStorage`'s) holds the endpoint, a digest of the key (never the
    key itself) and the engine's ``limits``.

    Raises:
        StageProgrammingError: any ``encryption``, a credential Google Cloud Storage does
            not take, or a key that is not a service account's.
        StageOperationalError: gcsfs is not installed, or (no key, no endpoint) Google's
            default chain has no credentials.
    """
    encryption_options(encryption, "gs", place)  # refuses any encryption
    other = sorted(set(credentials or {}) - GCS_CREDENTIAL_KEYS)
    if other:
        raise StageProgrammingError(
            f"{place}: a gs:// location takes the credentials gcs_service_account_key and "
            f"endpoint_url, not {', '.join(map(repr, other))}"
        )
    try:
        import gcsfs.core  # noqa: F401
    except ImportError:
        raise _missing_extra(place) from None
    endpoint = _endpoint(credentials)
    key = credentials.get("gcs_service_account_key") if credentials else None
    identity = {"endpoint_url": endpoint or GOOGLE_ENDPOINT}
    token: Any
    project = ""
    if key is not None:
        from google.oauth2 import service_account

        log_redaction.remember(key)
        info = service_account_info(key, place)
        log_redaction.remember(info["private_key"])
        token = service_account.Credentials.from_service_account_info(  # type: ignore[no-untyped-call]
            info, scopes=[GCS_SCOPE]
        )
        project = str(info.get("project_id") or "")
        identity["key"] = hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]
    elif endpoint is not None:
        token = "anon"
    else:
        token = _default_credentials(place)
    fs_class = _filesystem_class()
    fs = fs_class(
        project=project,
        token=token,
        endpoint_url=endpoint,
        skip_instance_cache=True,
        use_listings_cache=False,
        requests_timeout=_timeout(limits),
    )
    fs.stage_attempts = limits.attempts
    log_redaction.install()  # gcsfs and google-auth are imported now
    root = fs._strip_protocol(url)
    return fs, root, ("gs", root, tuple(sorted(identity.items())), limits), endpoint


def _default_credentials(place: str) -> Any:
    """Google's Application Default Credentials, or an error naming the place."""
    import google.auth
    from google.auth.exceptions import DefaultCredentialsError

    try:
        credentials, _ = google.auth.default(scopes=[GCS_SCOPE])
    except DefaultCredentialsError:
        raise StageOperationalError(
            f"cannot open {place}: no Google credentials: give CREDENTIALS = "
            "(GCS_SERVICE_ACCOUNT_KEY = '<the service account JSON key>'), or set up "
            "Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS)"
        ) from None
    return credentials


def _timeout(limits: StorageLimits) -> Any:
    import aiohttp

    return aiohttp.ClientTimeout(sock_connect=limits.connect_timeout, sock_read=limits.read_timeout)


_CLASS: list[type] = []


def _filesystem_class() -> type:
    """`StageGCSFileSystem`, defined once gcsfs is imported (it is an optional extra)."""
    if not _CLASS:
        _CLASS.append(_define_filesystem())
    return _CLASS[0]


def _define_filesystem() -> type:
    import aiohttp
    from gcsfs.core import GCSFileSystem
    from gcsfs.retry import retry_request

    raw_request = GCSFileSystem._request.__wrapped__
    raw_get_file = GCSFileSystem._get_file_request.__wrapped__

    class StageGCSFileSystem(GCSFileSystem):
        """gcsfs's JSON-API filesystem with the engine's attempts per request, and V4 signing.

        Once a request has failed to reach the endpoint in all its attempts, the requests
        of the next `LOST_SECONDS` fail at once with the same error: a statement that
        touches many files does not wait for each.
        """

        #: Tries per request, the first included (`gcs_filesystem` sets the engine's).
        stage_attempts: int = StorageLimits().attempts

        async def _get_file_request(self, *args: Any, **kwargs: Any) -> Any:
            retried = retry_request(retries=self.stage_attempts)(raw_get_file)
            return await retried(self, *args, **kwargs)

        _lost: tuple[float, BaseException] | None = None

        async def _request(self, *args: Any, **kwargs: Any) -> Any:
            if self._lost is not None and time.monotonic() < self._lost[0]:
                raise self._lost[1]
            try:
                retried = retry_request(retries=self.stage_attempts)(raw_request)
                return await retried(self, *args, **kwargs)
            except aiohttp.ClientConnectionError as error:
                self._lost = (time.monotonic() + LOST_SECONDS, error)
                raise

        def sign(self, path: str, expiration: int = 100, **kwargs: Any) -> str:
            """A V4 signed URL of ``path``, signed with the service account key.

            ``client_method="put_object"`` (as s3fs names it) signs an upload (PUT).

            Raises:
                SigningRefused: no service account key, or an expiration Google refuses.
            """
            return signed_url(self, path, expiration, kwargs.get("client_method"))

    return StageGCSFileSystem


def signed_url(fs: Any, path: str, expiration: int, client_method: str | None) -> str:
    """A V4 signed URL (GET, or PUT for ``put_object``) of ``path`` on ``fs``.

    Raises:
        SigningRefused: no service account key, or an expiration Google refuses.
    """
    from google.oauth2 import service_account

    credentials = fs.credentials.credentials
    if not isinstance(credentials, service_account.Credentials):
        raise SigningRefused(
            "a gs:// stage signs URLs with a service account key; give CREDENTIALS = "
            "(GCS_SERVICE_ACCOUNT_KEY = '<the service account JSON key>')"
        )
    if not 1 <= expiration <= MAX_SIGNED_SECONDS:
        raise SigningRefused(
            f"EXPIRE = {expiration}: a Google Cloud Storage signed URL lives 1 to "
            f"{MAX_SIGNED_SECONDS} seconds (7 days)"
        )
    from google.cloud import storage

    endpoint = fs._endpoint or GOOGLE_ENDPOINT
    client = storage.Client(
        project=fs.project or "-",
        credentials=credentials,
        client_options={"api_endpoint": endpoint},
    )
    bucket, key, _ = fs.split_path(path)
    url: str = (
        client.bucket(bucket)
        .blob(key)
        .generate_signed_url(
            expiration=dt.timedelta(seconds=expiration),
            method="PUT" if client_method == "put_object" else "GET",
            version="v4",
            api_access_endpoint=endpoint,
        )
    )
    return url


def _check_bucket(fs: Any, bucket: str, key: str) -> None:
    """One request for the bucket (`storage_errors.check_location` names a failure)."""
    fs.call("GET", "b/{}", bucket, json_out=True)


register_check(GCS_PROTOCOLS, _check_bucket)
