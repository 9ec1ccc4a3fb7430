"""Snowflake rendering: the canonical syntax, with Snowflake's own spellings.

Differences from the canonical form: an S3-compatible endpoint is written as an
``s3compat://`` URL with ``ENDPOINT = 'host'``; pre-signed URLs come from
``GET_PRESIGNED_URL``; staged files need a named file format.
"""

from __future__ import annotations

from typing import Any

from sqla_stage.connections import NamedConnection
from sqla_stage.copy import CopyInto
from sqla_stage.credentials import Credentials
from sqla_stage.ddl import AlterStage
from sqla_stage.dialects.base import Renderer
from sqla_stage.dialects.connections import NoConnections
from sqla_stage.files import DescribeStage, Get, Presign, Put
from sqla_stage.formats import FileFormat, FormatSpec
from sqla_stage.outfile import SelectIntoOutfile
from sqla_stage.stage import Stage, StageKind
from sqla_stage.staged import StagedFiles


def _host(endpoint_url: str) -> str:
    return endpoint_url.split("://", 1)[-1].rstrip("/")


class SnowflakeRenderer(NoConnections, Renderer):
    """Renders for ``snowflake-sqlalchemy``'s dialect."""

    shows_secrets = True
    engine = "Snowflake"
    connection_hint = (
        "use a storage integration (storage_integration=..., STORAGE_INTEGRATION) or "
        "CREDENTIALS = (...)"
    )

    def url(self, url: str) -> str:
        """Snowflake's external locations are cloud storage URLs; it has no local folders."""
        if "://" not in url or url.lower().startswith("file://"):
            self.unsupported(f"the local location {url!r}", " (it reads cloud storage URLs)")
        return super().url(url)

    def put(self, element: Put) -> str:
        """PUT uploads into internal stages only."""
        if element.location.stage.kind is StageKind.EXTERNAL:
            self.unsupported("PUT into an external stage", " (PUT uploads to internal stages)")
        return super().put(element)

    def get(self, element: Get) -> str:
        """GET downloads from internal stages only."""
        if element.location.stage.kind is StageKind.EXTERNAL:
            self.unsupported("GET from an external stage", " (GET downloads from internal stages)")
        return super().get(element)

    def credentials(self, credentials: Credentials | None) -> str | None:
        """Keys, a token, a role or a SAS token; the endpoint is not a credential here."""
        if isinstance(credentials, NamedConnection):
            return self.connection_reference(credentials)  # raises: no connections
        if credentials and "region" in credentials:
            self.unsupported(
                "the credential 'region'", " (Snowflake finds a bucket's region itself)"
            )
        if credentials and "gcs_service_account_key" in credentials:
            self.unsupported(
                "the credential 'gcs_service_account_key'",
                " (Snowflake reaches Google Cloud Storage through a storage integration)",
            )
        if credentials and "provider" in credentials:
            self.unsupported(
                "the credential 'provider'",
                " (MatrixOne's; Snowflake reads the cloud from the URL)",
            )
        rest = {k: v for k, v in (credentials or {}).items() if k != "endpoint_url"}
        return super().credentials(Credentials(rest) if rest else None)

    def stage_params(self, stage: Stage) -> list[str | None]:
        """S3-compatible storage is ``URL = 's3compat://...' ENDPOINT = 'host'`` in Snowflake."""
        params = super().stage_params(stage)
        endpoint = stage.credentials.get("endpoint_url") if stage.credentials else None
        if stage.url and endpoint:
            scheme, _, rest = stage.url.partition("://")
            if scheme.lower() not in ("s3", "s3compat"):
                self.unsupported(f"an endpoint_url for a {scheme}:// URL")
            params[0] = f"URL = {self.url('s3compat://' + rest)}"
            params.insert(1, f"ENDPOINT = {self.literal(_host(endpoint))}")
        return params

    def alter_stage(self, element: AlterStage) -> str:
        """ALTER STAGE; ``SET DIRECTORY = (...)`` is a statement of its own in Snowflake."""
        if "directory" in element.changes and len(element.changes) > 1:
            self.unsupported(
                "DIRECTORY with other properties in one ALTER STAGE", "; alter it on its own"
            )
        return super().alter_stage(element)

    def alter_clause(self, stage: Stage, name: str) -> str:
        """A new URL with an ``endpoint_url`` is ``URL = 's3compat://...' ENDPOINT = '...'``."""
        if name == "url":
            params = [p for p in self.stage_params(stage) if p]
            return " ".join(p for p in params if p.startswith(("URL =", "ENDPOINT =")))
        if name == "credentials" and stage.credentials and not self.credentials(stage.credentials):
            return ""  # only the endpoint, which Snowflake writes with the URL
        return super().alter_clause(stage, name)

    def copy_into(self, element: CopyInto) -> str:
        """COPY INTO; an S3-compatible endpoint needs a named stage in Snowflake."""
        if element.credentials and "endpoint_url" in element.credentials:
            self.unsupported(
                "an endpoint_url on an ad hoc COPY location",
                "; create an external stage with the endpoint and copy through it",
            )
        return super().copy_into(element)

    def describe_stage(self, element: DescribeStage) -> str:
        """DESC STAGE takes a named stage only."""
        stage = element.stage
        if stage.kind in (StageKind.USER, StageKind.TABLE):
            what = "@~" if stage.kind is StageKind.USER else f"@%{stage.name}"
            self.unsupported(f"DESC STAGE {what}", " (it describes named stages only)")
        return super().describe_stage(element)

    def presign(self, element: Presign) -> str:
        """``SELECT GET_PRESIGNED_URL(@stage, 'path'[, expire])``."""
        if element.method == "UPLOAD":
            self.unsupported("PRESIGN UPLOAD", " (GET_PRESIGNED_URL is for downloads)")
        stage = element.location.stage
        if stage.kind is not StageKind.INTERNAL and stage.kind is not StageKind.EXTERNAL:
            self.unsupported("GET_PRESIGNED_URL on a user or table stage")
        arguments = [f"@{self.stage_reference(stage)}", self.literal(element.location.path)]
        if element.expire:
            arguments.append(str(element.expire))
        return f"SELECT GET_PRESIGNED_URL({', '.join(arguments)})"

    def copy_load(self, element: CopyInto) -> str:
        """Databend's DISABLE_VARIANT_CHECK is not a Snowflake copy option."""
        if "disable_variant_check" in element.copy_options:
            self.unsupported("the load option DISABLE_VARIANT_CHECK", " (Databend's)")
        return super().copy_load(element)

    def select_into_outfile(self, element: SelectIntoOutfile) -> str:
        """Snowflake has no INTO OUTFILE."""
        self.unsupported(
            "SELECT ... INTO OUTFILE", "; use CopyInto(stage / 'file', query, single=True)"
        )

    def format_type(self, spec: FormatSpec) -> str:
        r"""Snowflake has no TSV type (it is CSV with ``FIELD_DELIMITER = '\t'``)."""
        if spec.type_name == "TSV":
            self.unsupported(
                "TYPE = TSV", " (Databend's; Snowflake reads tab-separated files as CSV)"
            )
        return super().format_type(spec)

    def format_options(self, spec: FormatSpec, *, unload: bool | None = None) -> list[str]:
        """Databend's OUTPUT_HEADER and MISSING_FIELD_AS are not Snowflake format options."""
        if "output_header" in spec.options:
            self.unsupported("the format option OUTPUT_HEADER", "; use the copy option HEADER")
        if "missing_field_as" in spec.options:
            self.unsupported("the format option MISSING_FIELD_AS", " (Databend's)")
        return super().format_options(spec, unload=unload)

    def staged_format(self, spec: FormatSpec | None) -> str | None:
        """Snowflake reads staged files only through a named file format."""
        if spec is not None and not isinstance(spec, FileFormat):
            self.unsupported(
                f"an inline {spec.type_name} format on staged files",
                "; create a named format and use FileFormat(name)",
            )
        return super().staged_format(spec)

    def staged(self, element: StagedFiles) -> str:
        """Staged files; Snowflake reads their columns by position, never by name."""
        text = super().staged(element)
        if len(element.columns):
            self.unsupported(
                "columns of staged files by name (staged(columns=...))",
                " (it reads them by position, $1, or element, $1:name); select "
                "literal_column('$1:name') or load the files with CopyInto",
            )
        return text

    def load_data(self, element: Any) -> str:
        """LOAD DATA is MatrixOne's statement; COPY INTO loads files here."""
        self.unsupported(
            "LOAD DATA", " (it is MatrixOne's statement); use CopyInto(table, stage / 'path')"
        )
