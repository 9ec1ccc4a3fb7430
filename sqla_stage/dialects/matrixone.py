"""MatrixOne rendering (dialect names ``mysql``, ``mariadb`` and ``matrixone``).

MatrixOne has stages for exports only (spec 000): CREATE / ALTER / DROP / SHOW STAGES and
``SELECT ... INTO OUTFILE 'stage:/path'``. Every other construct raises
``CompileError`` rather than emit SQL MatrixOne would misread.
"""

from __future__ import annotations

from typing import Any, NoReturn

from sqla_stage.connections import NamedConnection
from sqla_stage.credentials import Credentials
from sqla_stage.ddl import AlterStage, CreateStage
from sqla_stage.dialects.base import Renderer
from sqla_stage.dialects.connections import NoConnections
from sqla_stage.files import ShowStages
from sqla_stage.stage import Stage

#: MatrixOne's spelling of the credential keys (spec 000).
_CREDENTIAL_NAMES = {
    "aws_key_id": "access_key_id",
    "aws_secret_key": "secret_access_key",
    "endpoint_url": "endpoint",
    "region": "region",
    "provider": "provider",
}


class MatrixOneRenderer(NoConnections, Renderer):
    """Renders for MatrixOne, which speaks the MySQL protocol."""

    shows_secrets = True
    engine = "MatrixOne"
    dialect_splits_schemas = False
    or_alter_supported = False
    alter_actions_supported = False
    connection_hint = "give the stage CREDENTIALS = {...}"

    def _no(self, what: str, hint: str = "") -> NoReturn:
        self.unsupported(what, hint)

    def create_stage(self, element: CreateStage) -> str:
        """``CREATE STAGE [IF NOT EXISTS] name URL = '...' [CREDENTIALS = {...}] [ENABLE]``."""
        stage = element.stage
        if not stage.url:
            self._no(
                "a stage without a URL",
                " (MatrixOne stages need URL = '...'; its internal stage is a folder of the "
                "MatrixOne server: Stage('s', url='/path'), as its page's URL='/tmp')",
            )
        for label, given in (
            ("OR REPLACE", element.or_replace),
            ("a temporary stage", stage.temporary),
            ("a stage file format", stage.file_format),
            ("stage copy options", stage.copy_options),
            ("stage encryption", stage.encryption),
            ("a storage integration", stage.storage_integration),
            ("directory settings besides ENABLE", stage.directory_options),
        ):
            if given:
                self._no(label)
        return super().create_stage(element)

    def alter_stage(self, element: AlterStage) -> str:
        """``ALTER STAGE name SET`` one parameter; MatrixOne alters one at a time.

        The parameter is the URL (with its credentials), the credentials, ENABLE or the
        comment.
        """
        self.alter_stage_action(element)  # RENAME TO and REFRESH: refused
        changes = set(element.changes)
        allowed = ({"url", "credentials"}, {"url"}, {"credentials"}, {"directory"}, {"comment"})
        if changes not in allowed:
            self._no(
                f"ALTER STAGE of {', '.join(element.changes)}",
                " (it alters one of URL, CREDENTIALS, ENABLE and COMMENT at a time)",
            )
        return super().alter_stage(element)

    def stage_name(self, stage: Stage) -> str:
        """MatrixOne stages belong to the account, not to a schema."""
        if stage.schema:
            self._no(f"the schema-qualified stage '{stage.key}'", " (stages are not in a schema)")
        return super().stage_name(stage)

    def table(self, table: Any) -> str:
        """``[database.]table``: MatrixOne has no schema level below the database."""
        if table.schema and len(self.namespace(table.schema)) > 1:
            self._no(
                f"the table name '{table.schema}.{table.name}'",
                " (its tables are database.table, with no schema level)",
            )
        return super().table(table)

    def show_scope(self, element: ShowStages) -> str | None:
        """No ``IN``: MatrixOne's stages belong to the account."""
        if element.scope is not None:
            self._no(f"SHOW STAGES IN {element.scope[0]}", " (stages are not in a schema)")
        return None

    def stage_params(self, stage: Stage) -> list[str | None]:
        """URL, CREDENTIALS and ENABLE."""
        assert stage.url is not None
        return [
            f"URL = {self.url(stage.url)}",
            self.credentials(stage.credentials),
            self.directory(stage.directory),
        ]

    def credentials(self, credentials: Credentials | None) -> str | None:
        """``CREDENTIALS = {"access_key_id"='...', "secret_access_key"='...'}`` (spec 000)."""
        if isinstance(credentials, NamedConnection):
            return self.connection_reference(credentials)  # raises: no connections
        if not credentials:
            return None
        entries = []
        for key, value in credentials.items():
            if key not in _CREDENTIAL_NAMES:
                self._no(f"the credential {key!r}")
            entries.append(f'"{_CREDENTIAL_NAMES[key]}"={self.literal(value)}')
        return "CREDENTIALS = {" + ", ".join(entries) + "}"

    def directory(self, enabled: bool | None) -> str | None:
        """``ENABLE = TRUE | FALSE``: whether the stage restricts INTO OUTFILE."""
        return None if enabled is None else f"ENABLE = {self.value(enabled)}"

    def describe_stage(self, element: Any) -> str:
        """MatrixOne has no DESC STAGE."""
        self._no("DESC STAGE", "; use SHOW STAGES LIKE 'name'")

    def create_file_format(self, element: Any) -> str:
        """MatrixOne has no named file formats."""
        self._no("CREATE FILE FORMAT")

    def drop_file_format(self, element: Any) -> str:
        """MatrixOne has no named file formats."""
        self._no("DROP FILE FORMAT")

    def copy_into(self, element: Any) -> str:
        """MatrixOne exports with INTO OUTFILE, not COPY."""
        self._no("COPY INTO", "; use SelectIntoOutfile(select(...), stage / 'file.csv')")

    def list_files(self, element: Any) -> str:
        """No LIST in MatrixOne."""
        self._no("LIST")

    def remove_files(self, element: Any) -> str:
        """No REMOVE in MatrixOne."""
        self._no("REMOVE")

    def presign(self, element: Any) -> str:
        """No PRESIGN in MatrixOne."""
        self._no("PRESIGN")

    def put(self, element: Any) -> str:
        """No PUT in MatrixOne."""
        self._no("PUT")

    def get(self, element: Any) -> str:
        """No GET in MatrixOne."""
        self._no("GET")

    def staged(self, element: Any) -> str:
        """MatrixOne cannot query staged files."""
        self._no("querying staged files")
