"""adlfs's filesystem with the blob service client the runtime builds (imports adlfs).

adlfs builds its client from its own arguments and environment variables, with the Azure
SDK's default retries (minutes against a stopped server). `AzureStageFileSystem` takes the
account's blob service URL and one credential from `storage_azure.open_azure` and builds
the client with the settings it is given (`storage_azure.client_settings`); adlfs's environment
variables are not used for it. Only `azure` imports this module, when a statement
opens an Azure location.
"""

from __future__ import annotations

from typing import Any

from adlfs import AzureBlobFileSystem
from azure.core.credentials import AzureNamedKeyCredential, AzureSasCredential
from azure.storage.blob.aio import BlobServiceClient


class AzureStageFileSystem(AzureBlobFileSystem):
    """adlfs on one account's blob service URL, with a SAS token, an account key or neither.

    Args:
        account_name: The storage account.
        account_url: Its blob service URL (``https://<account>.blob.core.windows.net``).
        stage_sas_token: A SAS token (without ``?``), or None.
        stage_account_key: The account key, or None (used only without a SAS token).
        settings: azure-core client settings (timeouts, retries).
    """

    def __init__(
        self,
        account_name: str,
        account_url: str,
        stage_sas_token: str | None,
        stage_account_key: str | None,
        settings: dict[str, Any],
    ) -> None:
        """Open the filesystem; nothing is requested."""
        self.account_url = account_url
        self.stage_sas_token = stage_sas_token
        self.stage_account_key = None if stage_sas_token else stage_account_key
        self.settings = settings
        # anon=True keeps adlfs from building a default (network-probing) credential.
        super().__init__(account_name=account_name, anon=True, use_listings_cache=False)

    def do_connect(self) -> None:
        """Build the blob service client (adlfs calls this while it is constructed)."""
        credential: Any = None
        if self.stage_sas_token:
            credential = AzureSasCredential(self.stage_sas_token)
        elif self.stage_account_key:
            credential = AzureNamedKeyCredential(self.account_name, self.stage_account_key)
        self.service_client = BlobServiceClient(
            self.account_url, credential=credential, **self.settings
        )
