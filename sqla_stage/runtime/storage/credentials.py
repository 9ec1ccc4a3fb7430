"""A stage's credentials and encryption as the options of its fsspec filesystem (s3fs's names).

``ENCRYPTION`` is applied by the filesystem itself on the S3 locations (``s3://``,
``s3a://``): ``AWS_SSE_S3`` and ``AWS_SSE_KMS`` [``KMS_KEY_ID``] become s3fs's
``s3_additional_kwargs`` (``ServerSideEncryption``, ``SSEKMSKeyId``), which s3fs sends with
every request that writes an object (PUT, multipart uploads, copies) and filters out of the
others. ``AWS_CSE`` (a MASTER_KEY) is applied by the runtime itself (`client_encryption`:
files are encrypted before they are uploaded and decrypted after they are downloaded); its
key is checked here. Every other encryption is refused (`encryption_options`), before
anything is written: ``AZURE_CSE`` is not implemented, a type of another cloud does not
fit an ``s3://`` location, and no type is applied on other locations.
An internal stage's ``SNOWFLAKE_SSE`` or ``SNOWFLAKE_FULL`` is refused too
(`refuse_internal_encryption`): an internal stage is a folder under the engine's
``stage_root``, which the runtime does not encrypt at rest.
"""

from __future__ import annotations

from typing import Any

from sqla_stage.credentials import Credentials, Encryption
from sqla_stage.errors import StageProgrammingError
from sqla_stage.runtime.engine import log_redaction
from sqla_stage.runtime.storage.client_encryption import master_key

#: MatrixOne's PROVIDER values that mean Amazon's own S3 (no endpoint needed).
AMAZON_PROVIDERS = frozenset({"amazon", "aws", "s3"})
#: PROVIDER values that mean Aliyun OSS.
ALIYUN_PROVIDERS = frozenset({"aliyun", "oss", "alibaba", "alibabacloud"})

#: The credentials masked in the logs of the libraries the runtime drives.
SECRET_NAMES = (
    "aws_key_id",
    "aws_secret_key",
    "aws_token",
    "azure_sas_token",
    "gcs_service_account_key",
)

#: Protocols whose filesystem is s3fs.
S3_PROTOCOLS = ("s3", "s3a")

#: The cloud each external encryption type belongs to.
_CLOUD_OF_TYPE = {
    "AWS_CSE": "Amazon S3",
    "AWS_SSE_S3": "Amazon S3",
    "AWS_SSE_KMS": "Amazon S3",
    "GCS_SSE_KMS": "Google Cloud Storage",
    "AZURE_CSE": "Microsoft Azure",
}


def storage_options(credentials: Credentials | None, url: str, place: str) -> dict[str, Any]:
    """The fsspec options of a stage's credentials (s3fs names; others pass through).

    MatrixOne's ``provider`` names who serves the S3 API: any provider but Amazon is reached
    through its ``endpoint_url``, so a provider without one is refused rather than sent to
    Amazon. An ``aws_role`` gives no option here: the role is assumed when the storage is
    first used (`roles`). Aliyun OSS is refused (`refuse_aliyun_oss`).

    Args:
        credentials: The stage's or statement's credentials (None: none).
        url: The location.
        place: How errors name the location (a stage or a URL without credentials).

    Raises:
        StageProgrammingError: a provider other than Amazon without an endpoint; Aliyun OSS.
    """
    refuse_aliyun_oss(credentials, url, place)
    if credentials is None:
        return {}
    provider = credentials.get("provider")
    if provider and provider.lower() not in AMAZON_PROVIDERS and "endpoint_url" not in credentials:
        raise StageProgrammingError(
            f"CREDENTIALS 'PROVIDER' = {provider!r} needs its 'ENDPOINT': without it the "
            "runtime would reach Amazon S3"
        )
    names = {
        "aws_key_id": "key",
        "aws_secret_key": "secret",
        "aws_token": "token",
        "azure_sas_token": "sas_token",
    }
    options: dict[str, Any] = {}
    log_redaction.remember(*(credentials.get(name) for name in SECRET_NAMES))
    for name, value in credentials.items():
        if name == "region":
            options.setdefault("client_kwargs", {})["region_name"] = value
        elif name == "endpoint_url":
            options["endpoint_url"] = endpoint_url(value)
        elif name in names:
            options[names[name]] = value
    return options


def refuse_aliyun_oss(credentials: Credentials | None, url: str, place: str) -> None:
    """Refuse Aliyun OSS: an ``oss://`` URL, an ``*.aliyuncs.com`` endpoint or provider.

    MatrixOne's stages (spec 000) and Databend's locations may be on Aliyun OSS. The
    runtime would reach it through fsspec's ``ossfs``, but this project tests every
    storage it serves against a local service, and there is no OSS service or emulator
    here (moto emulates S3, whose requests OSS's own API does not take: it signs and
    addresses buckets differently). Rather than send untested requests, it refuses.

    Raises:
        StageProgrammingError: the location is on Aliyun OSS.
    """
    given = credentials or Credentials({})
    endpoint, provider = given.get("endpoint_url") or "", given.get("provider") or ""
    host = endpoint.partition("://")[2] or endpoint
    if (
        url.lower().startswith("oss://")
        or host.split("/")[0].split(":")[0].lower().endswith("aliyuncs.com")
        or provider.lower() in ALIYUN_PROVIDERS
    ):
        raise StageProgrammingError(
            f"{place}: Aliyun OSS is not supported by the DuckDB runtime (it would need "
            "fsspec's ossfs, and there is no OSS service or emulator to test it against; "
            "moto emulates Amazon S3 only)"
        )


def endpoint_url(endpoint: str) -> str:
    """The URL of an endpoint written with or without its scheme: ``https://`` unless given.

    MatrixOne's ``'ENDPOINT'='s3.us-west-2.amazonaws.com'`` and Snowflake's ``ENDPOINT =
    'host'`` name a host; MatrixOne's object storage client gives such an endpoint the
    scheme ``https``, and so does the runtime. A service without TLS (a local MinIO) is
    written with its scheme: ``'http://127.0.0.1:9000'``.
    """
    return endpoint if "://" in endpoint else f"https://{endpoint}"


def encryption_options(encryption: Encryption | None, protocol: str, place: str) -> dict[str, Any]:
    """The fsspec options that apply ``ENCRYPTION`` to every object written at ``place``.

    Args:
        encryption: The stage's or statement's encryption settings (None: none).
        protocol: The location's fsspec protocol (``s3``, ``file``, ``gcs``, ...).
        place: How errors name the location (a stage or a URL without credentials).

    Raises:
        StageProgrammingError: an encryption the runtime cannot apply at this location.
    """
    if encryption is None or encryption["type"] == "NONE":
        return {}
    kind = encryption["type"]
    what = f"{place}: ENCRYPTION = (TYPE = '{kind}')"
    cloud = _CLOUD_OF_TYPE.get(kind)
    if protocol not in S3_PROTOCOLS:
        raise StageProgrammingError(
            f"{what} is not applied by the DuckDB runtime on a {protocol}:// location "
            "(it applies AWS_CSE, AWS_SSE_S3 and AWS_SSE_KMS on s3:// locations only)"
        )
    if cloud != "Amazon S3":
        raise StageProgrammingError(
            f"{what} is an encryption of {cloud or 'internal stages'}, not of an s3:// location"
        )
    if kind == "AWS_CSE":
        master_key(encryption, place)  # a key that is not base64 AES is refused here
        return {}
    if kind == "AWS_SSE_S3":
        return {"s3_additional_kwargs": {"ServerSideEncryption": "AES256"}}
    extra = {"ServerSideEncryption": "aws:kms"}
    if "kms_key_id" in encryption:
        extra["SSEKMSKeyId"] = encryption["kms_key_id"]
    return {"s3_additional_kwargs": extra}


def refuse_internal_encryption(encryption: Encryption | None, place: str) -> None:
    """Refuse an internal stage's ``SNOWFLAKE_SSE`` / ``SNOWFLAKE_FULL`` (``NONE`` is kept).

    Raises:
        StageProgrammingError: an encryption type other than NONE.
    """
    if encryption is None or encryption["type"] == "NONE":
        return
    raise StageProgrammingError(
        f"{place}: ENCRYPTION = (TYPE = '{encryption['type']}') is not applied by the DuckDB "
        "runtime: an internal stage is a folder of the engine's stage_root, and its files "
        "would be stored unencrypted; leave ENCRYPTION out (or TYPE = 'NONE') and encrypt "
        "the disk, or use an s3:// stage with AWS_SSE_S3 or AWS_SSE_KMS"
    )
