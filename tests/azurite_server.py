"""A real Azure Blob API for tests: Azurite (Microsoft's emulator) on 127.0.0.1, on a free port.

Azurite comes from the npm registry: :func:`azurite_binary` installs it (``npm install
azurite``) into a cache folder the suite owns, ``~/.cache/sqla_stage-test/azurite`` (or
``$SQLA_STAGE_AZURITE_DIR``), the first time a test needs it, so CI needs only Node.js and
npm. :meth:`Azurite.start` runs ``azurite-blob`` on 127.0.0.1 with its data in a temporary
folder and telemetry off (Azurite would otherwise report to Microsoft), in a child process
that :meth:`Azurite.stop` ends.

Azurite serves the well-known development account ``devstoreaccount1`` with its published
key (and `DOCS_ACCOUNT` with the same key), in path-style URLs
(``http://127.0.0.1:<port>/devstoreaccount1``). A stage reaches it through its
``ENDPOINT_URL`` (or ``AZURE_STORAGE_CONNECTION_STRING``); no name under
``blob.core.windows.net`` is ever resolved. SAS tokens are signed here with that key,
locally (`Azurite.sas`).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import uuid4

from moto_server import free_port, stop_process

#: Azurite's development account and its published key (not a secret: Microsoft's docs).
ACCOUNT = "devstoreaccount1"
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
#: A second account, with the same key: the one the warehouses' documentation names
#: (``azure://myaccount.blob.core.windows.net/...``, tests/docs_corpus).
DOCS_ACCOUNT = "myaccount"
#: The npm package installed (a pinned version: the tests know its behaviour).
PACKAGE = "azurite@3.35.0"
#: How ``azurite-blob`` is run: loopback only, no telemetry, no request log.
_OPTIONS = ["--skipApiVersionCheck", "--loose", "--disableTelemetry", "--silent"]


def azurite_binary() -> Path:
    """The ``azurite-blob`` script, installed from the npm registry into the cache if absent."""
    folder = Path(
        os.environ.get("SQLA_STAGE_AZURITE_DIR")
        or Path.home() / ".cache" / "sqla_stage-test" / "azurite"
    )
    binary = folder / "node_modules" / ".bin" / "azurite-blob"
    if binary.exists():
        return binary
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("the Azure tests need npm (Node.js) to install Azurite")
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", "--prefix", str(folder), PACKAGE],
        check=True,
        stdout=subprocess.DEVNULL,
        timeout=600,
    )
    return binary


@dataclass
class Azurite:
    """A running Azurite blob service: its endpoint, and helpers to look at its containers."""

    port: int
    process: subprocess.Popen[bytes]
    data: Path
    _clients: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def start(cls, timeout: float = 60.0) -> Azurite:
        """Start ``azurite-blob`` on a free port of 127.0.0.1, its data in a new temp folder."""
        binary = azurite_binary()
        port = free_port()
        data = Path(tempfile.mkdtemp(prefix="azurite-"))
        where = ["--blobHost", "127.0.0.1", "--blobPort", str(port), "--location", str(data)]
        accounts = f"{ACCOUNT}:{KEY};{DOCS_ACCOUNT}:{KEY}"
        process = subprocess.Popen(
            [str(binary), *where, *_OPTIONS],
            env={**os.environ, "AZURITE_ACCOUNTS": accounts},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        server = cls(port, process, data)
        deadline = time.monotonic() + timeout
        while True:
            try:
                urllib.request.urlopen(f"{server.endpoint_url}?comp=list", timeout=2).close()
                break
            except urllib.error.HTTPError:  # 403: it answers (the request is unsigned)
                break
            except (urllib.error.URLError, ConnectionError):
                if process.poll() is not None or time.monotonic() > deadline:
                    server.stop()
                    raise RuntimeError(f"Azurite did not start on port {port}") from None
                time.sleep(0.1)
        return server

    @property
    def endpoint_url(self) -> str:
        """The blob service URL of the development account (path style)."""
        return f"http://127.0.0.1:{self.port}/{ACCOUNT}"

    def stop(self) -> None:
        """Stop the server and delete its data."""
        stop_process(self.process)
        shutil.rmtree(self.data, ignore_errors=True)

    @property
    def service(self) -> Any:
        """A BlobServiceClient of the development account (its key)."""
        return self.service_of(ACCOUNT)

    def service_of(self, account: str) -> Any:
        """A BlobServiceClient of ``account`` (`ACCOUNT` or `DOCS_ACCOUNT`)."""
        from azure.storage.blob import BlobServiceClient

        if account not in self._clients:
            self._clients[account] = BlobServiceClient(
                f"http://127.0.0.1:{self.port}/{account}",
                credential={"account_name": account, "account_key": KEY},
            )
        return self._clients[account]

    def new_container(self) -> str:
        """A fresh, uniquely named container."""
        name = f"c{uuid4().hex[:16]}"
        self.service.create_container(name)
        return name

    def sas(self, container: str | None = None, *, write: bool = True) -> str:
        """A SAS token signed with the account key: of one container, or the account's."""
        from azure.storage.blob import (
            AccountSasPermissions,
            ContainerSasPermissions,
            ResourceTypes,
            generate_account_sas,
            generate_container_sas,
        )

        expiry = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
        if container is None:
            return generate_account_sas(
                ACCOUNT,
                KEY,
                ResourceTypes(service=True, container=True, object=True),
                AccountSasPermissions(read=True, write=write, delete=write, list=True),
                expiry,
            )
        permission = ContainerSasPermissions(
            read=True, write=write, delete=write, list=True, create=write
        )
        return generate_container_sas(ACCOUNT, container, KEY, permission=permission, expiry=expiry)

    def url(self, container: str, path: str = "") -> str:
        """The spec's URL of ``container/path``: ``azure://<account>.blob.core.windows.net/...``."""
        return f"azure://{ACCOUNT}.blob.core.windows.net/{container}/{path}"

    def credentials_sql(self, container: str | None = None, through: str | None = None) -> str:
        """A CREDENTIALS clause with a SAS token (of ``container``, else the account's).

        ``through`` (``http://127.0.0.1:<port>``, a proxy's) replaces the server's address.
        """
        endpoint = f"{through}/{ACCOUNT}" if through else self.endpoint_url
        return (
            f"CREDENTIALS = (AZURE_SAS_TOKEN = '{self.sas(container)}' ENDPOINT_URL = '{endpoint}')"
        )

    def connection_string(self, account: str = ACCOUNT) -> str:
        """An ``AZURE_STORAGE_CONNECTION_STRING`` of ``account`` on this server."""
        return (
            f"DefaultEndpointsProtocol=http;AccountName={account};AccountKey={KEY};"
            f"BlobEndpoint=http://127.0.0.1:{self.port}/{account};"
        )

    def keys(self, container: str) -> list[str]:
        """The blob names of a container, sorted."""
        client = self.service.get_container_client(container)
        return sorted(blob.name for blob in client.list_blobs())

    def read(self, container: str, name: str) -> bytes:
        """The bytes of a blob."""
        data: bytes = self.service.get_blob_client(container, name).download_blob().readall()
        return data

    def write(self, container: str, name: str, data: bytes) -> None:
        """Upload a blob (replacing it)."""
        self.service.get_blob_client(container, name).upload_blob(data, overwrite=True)
