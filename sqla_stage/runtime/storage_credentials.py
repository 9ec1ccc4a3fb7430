"""A stage's credentials as the options of its fsspec filesystem (s3fs's names)."""

from __future__ import annotations

from typing import Any

from sqla_stage.credentials import Credentials
from sqla_stage.errors import StageProgrammingError

#: MatrixOne's PROVIDER values that mean Amazon's own S3 (no endpoint needed).
AMAZON_PROVIDERS = frozenset({"amazon", "aws", "s3"})


def storage_options(credentials: Credentials | None) -> dict[str, Any]:
    """The fsspec options of a stage's credentials (s3fs names; others pass through).

    MatrixOne's ``provider`` names who serves the S3 API: any provider but Amazon is reached
    through its ``endpoint_url``, so a provider without one is refused rather than sent to
    Amazon.

    Raises:
        StageProgrammingError: a provider other than Amazon without an endpoint.
    """
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
        "endpoint_url": "endpoint_url",
        "azure_sas_token": "sas_token",
    }
    options: dict[str, Any] = {}
    for name, value in credentials.items():
        if name == "region":
            options.setdefault("client_kwargs", {})["region_name"] = value
        elif name in names:
            options[names[name]] = value
    return options
