"""Azure Blob Storage locations: the spec's ``azure://`` URL on adlfs, checks and PRESIGN.

Spec 004 writes an Azure location ``azure://<account>.blob.core.windows.net/<container>/<path>``.
No fsspec package registers ``azure://``, so the runtime opens it itself (`open_azure`) on
adlfs (the ``[azure]`` extra), with the account and the container taken from the URL:

* The blob service is ``https://<host>`` of the URL, so a sovereign cloud's host
  (``<account>.blob.core.chinacloudapi.cn``) works as written. ``CREDENTIALS`` /
  ``CONNECTION``'s ``ENDPOINT_URL`` replaces it with the account's blob service URL, for an
  emulator (Azurite: ``http://127.0.0.1:10000/devstoreaccount1``, path style) or a private
  endpoint; its account (the first path segment of an IP or ``localhost`` endpoint, else the
  first label of its host) must be the URL's.
* ``az://<container>/<path>`` and ``abfs[s]://<container>/<path>`` are conveniences: their
  account is the endpoint's, else ``$AZURE_STORAGE_ACCOUNT_NAME``; ``abfs[s]://
  <container>@<account>.dfs.core.windows.net/<path>`` names it. All reach the Blob API.
* Credentials: ``AZURE_SAS_TOKEN`` (the spec's key); without one, the environment's, when
  it is of the URL's account: ``$AZURE_STORAGE_CONNECTION_STRING`` (its ``AccountName``,
  ``AccountKey``, ``SharedAccessSignature`` and ``BlobEndpoint``, which serves as the
  endpoint when ``ENDPOINT_URL`` is not given), else ``$AZURE_STORAGE_ACCOUNT_NAME`` /
  ``$AZURE_STORAGE_ACCOUNT_KEY`` (adlfs's variables). That is also how a ``stage_root`` on
  Azure is reached. Without any, access is anonymous (a public container). No other credential key
  applies to an Azure location, and one given (``AWS_KEY_ID``, ``REGION``, ...) is refused.
  The environment is read when a statement opens the storage, and what it gave is part of
  the filesystem's fsspec cache key, so a changed variable never reuses another stage's
  connection.
* Limits: the engine's `StorageLimits` (``stage_connect_timeout``, ``stage_read_timeout``,
  ``stage_attempts``; by default 10 seconds to connect, 60 seconds of silence while
  reading, three attempts per request) become azure-core's client settings
  (`client_settings`), with pauses of about one and two seconds between attempts
  (`RETRY_PAUSES`; the SDK's defaults are four attempts 15 to 45 seconds apart), so a
  stopped server fails a request in about 3 seconds and the statement stops at the first
  such failure. The limits are part of the storage's identity and of the filesystem's
  fsspec cache key: engines with other limits never share a filesystem.

A container is checked with one listing request the first time a statement touches it
(`storage_errors.check_location`): a missing container, a refused SAS or an unreachable
endpoint fail there, naming the stage, instead of LIST answering "no files".

PRESIGN signs a blob SAS locally with the account key (`presign`): ``r`` for a download,
``cw`` for an upload, whose ``PUT`` needs the header ``x-ms-blob-type: BlockBlob`` (the
``headers`` column says so). A SAS token cannot sign another one, and handing out the
stage's own token would share a secret wider and longer than asked, so a stage with only a
SAS token (or anonymous) is refused. ``AZURE_CSE`` is not implemented (refused by
`storage_credentials.encryption_options`).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import re
from types import MappingProxyType
from typing import Any, Final
from urllib.parse import quote, urlsplit

from fsspec.asyn import sync

from sqla_stage.credentials import Credentials
from sqla_stage.errors import StageOperationalError, StageProgrammingError
from sqla_stage.runtime.engine import log_redaction
from sqla_stage.runtime.storage.errors import register_check
from sqla_stage.runtime.storage.limits import StorageLimits

#: The protocols of Azure locations (``azure`` is the spec's; the others are adlfs's).
AZURE_PROTOCOLS = ("azure", "az", "abfs", "abfss")
#: The credential keys an Azure location takes.
AZURE_CREDENTIAL_KEYS = frozenset({"azure_sas_token", "endpoint_url"})
#: The storage retry policy's pauses between attempts (about one, then two seconds).
RETRY_PAUSES: Final = MappingProxyType(
    {"initial_backoff": 1, "increment_base": 1, "random_jitter_range": 0.5}
)
#: The header a PUT through a presigned upload URL must send.
UPLOAD_HEADERS = {"x-ms-blob-type": "BlockBlob"}

_ADLS_HOST = re.compile(r"(?P<account>[^.]+)\.(dfs|blob)\.core\.windows\.net", re.I)
_ACCOUNT = re.compile(r"[a-z0-9]{3,24}")


def is_azure(url: str) -> bool:
    """Whether ``url`` is an Azure location (one of `AZURE_PROTOCOLS`)."""
    return url.partition("://")[0].lower() in AZURE_PROTOCOLS and "://" in url


def _endpoint_account(endpoint: str, place: str) -> str:
    """The account of a blob service URL: path style on an IP or localhost, else host style."""
    parts = urlsplit(endpoint)
    host = parts.hostname or ""
    try:
        ipaddress.ip_address(host)
        path_style = True
    except ValueError:
        path_style = host == "localhost"
    account = parts.path.strip("/").split("/")[0] if path_style else host.split(".")[0]
    if parts.scheme not in ("http", "https") or not account:
        raise StageProgrammingError(
            f"{place}: ENDPOINT_URL of an Azure location is the account's blob service URL "
            "(https://<account>.blob.<cloud host>, or http://127.0.0.1:<port>/<account> for "
            "an emulator)"
        )
    return account


def _environment() -> dict[str, str]:
    """The Azure settings of the environment: a connection string's, else adlfs's variables."""
    text = os.environ.get("AZURE_STORAGE_CONNECTION_STRING")
    if text:
        parts = dict(part.split("=", 1) for part in text.split(";") if "=" in part)
        names = {
            "AccountName": "account",
            "AccountKey": "key",
            "BlobEndpoint": "endpoint",
            "SharedAccessSignature": "sas",
        }
        found = {names[name]: value for name, value in parts.items() if name in names}
    else:
        found = {
            "account": os.environ.get("AZURE_STORAGE_ACCOUNT_NAME", ""),
            "key": os.environ.get("AZURE_STORAGE_ACCOUNT_KEY", ""),
        }
    return {name: value for name, value in found.items() if value}


def _parse(
    url: str, endpoint: str | None, environment: dict[str, str], place: str
) -> tuple[str, str, str, bool]:
    """The account, blob service URL and ``<container>/<path>`` of an Azure URL.

    The fourth value says whether the account is the environment's (so its key applies).
    """
    protocol, _, rest = url.partition("://")
    protocol = protocol.lower()
    host, _, path = rest.partition("/")
    account: str | None = None
    service: str | None = None
    if protocol == "azure":
        if "." not in host or "@" in host:
            raise StageProgrammingError(
                f"{place}: an azure:// URL names the account's host: "
                "azure://<account>.blob.core.windows.net/<container>/<path>"
            )
        account, service = host.split(".")[0], f"https://{host}"
    elif "@" in host:  # abfs://<container>@<account>.dfs.core.windows.net/<path>
        container, _, account_host = host.partition("@")
        match = _ADLS_HOST.fullmatch(account_host)
        if match is None:
            raise StageProgrammingError(
                f"{place}: {protocol}://<container>@<host> takes an Azure host "
                "(<account>.dfs.core.windows.net)"
            )
        account = match["account"]
        service = f"https://{account}.blob.core.windows.net"
        path = f"{container}/{path}"
    else:
        path = f"{host}/{path}"
    if endpoint is None and "endpoint" in environment:
        named = _endpoint_account(environment["endpoint"], "AZURE_STORAGE_CONNECTION_STRING")
        if account is None or named.lower() == account.lower():
            endpoint = environment["endpoint"]
    if endpoint is not None:
        named = _endpoint_account(endpoint, place)
        if account is not None and named.lower() != account.lower():
            raise StageProgrammingError(
                f"{place}: the URL names the account {account!r} and ENDPOINT_URL the account "
                f"{named!r}; they must agree"
            )
        account, service = named, endpoint.rstrip("/")
    if account is None:
        account = environment.get("account")
        if not account:
            raise StageProgrammingError(
                f"{place}: {protocol}://<container>/<path> does not name the account: write "
                "azure://<account>.blob.core.windows.net/<container>/<path>, or give "
                "ENDPOINT_URL (or set AZURE_STORAGE_ACCOUNT_NAME)"
            )
        service = f"https://{account}.blob.core.windows.net"
    container = path.split("/")[0]
    if not container:
        raise StageProgrammingError(f"{place}: the Azure location names no container")
    assert service is not None
    ours = environment.get("account", account).lower() == account.lower()
    return account, service, path.rstrip("/"), ours


def client_settings(limits: StorageLimits) -> dict[str, Any]:
    """azure-core's client settings of ``limits``: timeouts, attempts and `RETRY_PAUSES`."""
    return {
        "connection_timeout": limits.connect_timeout,
        "read_timeout": limits.read_timeout,
        "retry_total": limits.attempts - 1,  # retries, after the first attempt
        **RETRY_PAUSES,
    }


def open_azure(
    url: str, credentials: Credentials | None, place: str, limits: StorageLimits
) -> tuple[Any, str, tuple[object, ...]]:
    """The adlfs filesystem, root (``<container>/<path>``) and identity of ``url``.

    The identity (what makes two storages one place, `storage.StageStorage`) is the
    blob service URL, the root, the credential used and the engine's ``limits``.

    Nothing is requested yet (the container is checked on first use,
    `storage_errors.check_location`).

    Raises:
        StageOperationalError: adlfs (the ``[azure]`` extra) is not installed.
        StageProgrammingError: the URL names no account or container, its account is not
            the endpoint's, or the credentials hold a key Azure does not take.
    """
    given = dict(credentials.items()) if credentials else {}
    foreign = sorted(set(given) - AZURE_CREDENTIAL_KEYS)
    if foreign:
        raise StageProgrammingError(
            f"{place}: an Azure location takes AZURE_SAS_TOKEN and ENDPOINT_URL credentials, "
            f"not {', '.join(name.upper() for name in foreign)}"
        )
    environment = _environment()
    account, service, root, ours = _parse(url, given.get("endpoint_url"), environment, place)
    sas, key = given.get("azure_sas_token"), None
    if sas is None and ours:
        sas, key = environment.get("sas"), environment.get("key")
    log_redaction.remember(sas, key)
    log_redaction.install()
    try:
        from sqla_stage.runtime.storage.adlfs import AzureStageFileSystem
    except ImportError:
        raise StageOperationalError(
            f'cannot open {place}: Azure locations need adlfs: pip install "sqla_stage[azure]"'
        ) from None
    fs = AzureStageFileSystem(
        account_name=account,
        account_url=service,
        stage_sas_token=sas.lstrip("?") if sas else None,
        stage_account_key=key,
        settings=client_settings(limits),
    )
    return fs, root, ("abfs", root, service, repr((sas, key)), limits)


def _reason(error: BaseException) -> str:
    name = type(error).__name__
    if name == "ResourceNotFoundError" or isinstance(error, FileNotFoundError):
        return "does not exist"
    if name == "ClientAuthenticationError" or getattr(error, "status_code", None) == 403:
        return "access denied, check the credentials (AZURE_SAS_TOKEN or the account key)"
    return f"cannot be reached ({name}: {str(error).splitlines()[0] if str(error) else ''})"


def _check_container(fs: Any, container: str, prefix: str) -> None:
    """List at most one blob of the container and prefix (`storage_errors.check_location`).

    Raises:
        FileNotFoundError: the container does not exist.
        PermissionError: the credentials are refused.
    """

    async def probe() -> None:
        client = fs.service_client.get_container_client(container)
        pages = client.list_blobs(name_starts_with=f"{prefix}/" if prefix else None).by_page()
        async for _page in pages:
            break

    try:
        sync(fs.loop, probe)
    except Exception as error:  # the SDK's errors are not OSErrors
        reason = _reason(error)
        if reason == "does not exist":
            raise FileNotFoundError(container) from None
        if reason.startswith("access denied"):
            raise PermissionError(reason.partition("(")[2].rstrip(")")) from None
        raise


register_check(AZURE_PROTOCOLS, _check_container, "container")


def presign(fs: Any, path: str, expire: int, upload: bool, what: str) -> tuple[str, dict[str, str]]:
    """A URL of blob ``path`` (``<container>/<blob>``) signed for ``expire`` seconds.

    Returns:
        The URL and the headers a request through it must send.

    Raises:
        StageProgrammingError: the stage has no account key to sign with.
    """
    from azure.storage.blob import BlobSasPermissions, generate_blob_sas

    if fs.stage_account_key is None:
        raise StageProgrammingError(
            f"{what}: signing an Azure URL needs the account key (AZURE_STORAGE_ACCOUNT_KEY); "
            "this stage has only "
            + ("a SAS token, which cannot sign another" if fs.stage_sas_token else "none")
            + ", and the runtime does not hand out the stage's own token"
        )
    container, _, blob = path.strip("/").partition("/")
    permission = BlobSasPermissions(read=not upload, create=upload, write=upload)
    sas = generate_blob_sas(
        fs.account_name,
        container,
        blob,
        account_key=fs.stage_account_key,
        permission=permission,
        expiry=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=expire),
    )
    url = f"{fs.account_url}/{quote(container)}/{quote(blob)}?{sas}"
    return url, dict(UPLOAD_HEADERS) if upload else {}
