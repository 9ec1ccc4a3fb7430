"""Statements about stages and their files.

DESC / SHOW STAGES, LIST, REMOVE, PRESIGN, PUT and GET.
"""

from __future__ import annotations

from sqla_stage.ddl import coerce_stage
from sqla_stage.errors import StageArgumentError
from sqla_stage.locations import coerce_location
from sqla_stage.namespaces import check_database, check_namespace
from sqla_stage.options import (
    GET_OPTIONS,
    PUT_OPTIONS,
    OptionValue,
    check_options,
    options_key,
    options_repr,
)
from sqla_stage.stage import Stage, StagePath, refuse_nul
from sqla_stage.statement import StageStatement


def _stage_location(owner: str, value: object) -> StagePath:
    location = coerce_location(owner, value)
    if not isinstance(location, StagePath):
        raise StageArgumentError(
            f"{owner}: expected a stage or stage path, not the URL {location!r}"
        )
    return location


def _optional_str(owner: str, label: str, value: object) -> str | None:
    if value is not None and (not isinstance(value, str) or not value):
        raise StageArgumentError(f"{owner}: {label} must be a non-empty string, not {value!r}")
    return value


class DescribeStage(StageStatement):
    """``DESC STAGE name``: the properties of one stage."""

    __visit_name__ = "sqla_stage_describe_stage"
    inherit_cache = True

    def __init__(self, stage: Stage | str) -> None:
        """Describe ``stage`` (a [Stage][sqla_stage.Stage] or a name)."""
        self.stage = coerce_stage("DescribeStage", stage)
        self._sql_key = (self.stage.kind.value, self.stage.schema, self.stage.name)

    def __repr__(self) -> str:
        return f"DescribeStage({self.stage.key!r})"


class ShowStages(StageStatement):
    """``SHOW STAGES [LIKE 'pattern'] [IN ACCOUNT | DATABASE [db] | SCHEMA [[db.]schema]]``.

    Without ``IN``, the stages of the current database (Snowflake's default when a
    database is in use).
    """

    __visit_name__ = "sqla_stage_show_stages"
    inherit_cache = True

    def __init__(
        self,
        like: str | None = None,
        *,
        in_account: bool = False,
        in_database: str | bool | None = None,
        in_schema: str | bool | None = None,
    ) -> None:
        """List stages, optionally those whose name matches the SQL LIKE pattern ``like``.

        Args:
            like: A SQL LIKE pattern on the stage's name.
            in_account: The stages of every database.
            in_database: The stages of this database, or of the current one (True).
            in_schema: The stages of this ``[database.]schema``, or of the current
                schema (True).

        Raises:
            StageArgumentError: more than one scope, or a malformed name.
        """
        owner = "ShowStages"
        self.like = _optional_str(owner, "like", like)
        scopes = [
            (word, value)
            for word, value in (
                ("ACCOUNT", in_account or None),
                ("DATABASE", in_database),
                ("SCHEMA", in_schema),
            )
            if value is not None and value is not False
        ]
        if len(scopes) > 1:
            raise StageArgumentError(
                f"{owner}: give one of in_account, in_database and in_schema, not "
                f"{' and '.join('in_' + word.lower() for word, _ in scopes)}"
            )
        #: ``(ACCOUNT | DATABASE | SCHEMA, name or None for the current one)``, or None.
        self.scope: tuple[str, str | None] | None = None
        if scopes:
            word, value = scopes[0]
            if value is True:
                self.scope = (word, None)
            elif word == "ACCOUNT":
                raise StageArgumentError(f"{owner}: in_account must be True or False")
            elif not isinstance(value, str) or not value:
                raise StageArgumentError(
                    f"{owner}: in_{word.lower()} must be a name or True, not {value!r}"
                )
            elif word == "DATABASE":
                self.scope = (word, check_database(owner, value))
            else:
                self.scope = (word, check_namespace(owner, value))
        self._sql_key = (self.like, self.scope)

    def __repr__(self) -> str:
        parts = [f"like={self.like!r}"] if self.like else []
        if self.scope is not None:
            word, name = self.scope
            label = "in_account" if word == "ACCOUNT" else f"in_{word.lower()}"
            parts.append(f"{label}={True if name is None else name!r}")
        return f"ShowStages({', '.join(parts)})"


class _PatternStatement(StageStatement):
    inherit_cache = True
    _verb = ""

    def __init__(self, location: object, *, pattern: str | None = None) -> None:
        owner = type(self).__name__
        self.location = _stage_location(owner, location)
        self.pattern = _optional_str(owner, "pattern", pattern)
        self._sql_key = (self.location.cache_key(), self.pattern)

    def __repr__(self) -> str:
        extra = f", pattern={self.pattern!r}" if self.pattern else ""
        return f"{type(self).__name__}({self.location!r}{extra})"


class ListFiles(_PatternStatement):
    """``LIST @location [PATTERN = 'regex']``: the files in a stage.

    The result has the columns ``name, size, md5, last_modified``.
    """

    __visit_name__ = "sqla_stage_list_files"
    inherit_cache = True


class RemoveFiles(_PatternStatement):
    """``REMOVE @location [PATTERN = 'regex']``: delete files from a stage."""

    __visit_name__ = "sqla_stage_remove_files"
    inherit_cache = True


class Presign(StageStatement):
    """``PRESIGN [DOWNLOAD | UPLOAD] @stage/path [EXPIRE = seconds]``: a pre-signed URL.

    Args:
        location: The file, as a stage path.
        expire: Seconds the URL stays valid.
        method: ``"DOWNLOAD"`` (the default) or ``"UPLOAD"``.
    """

    __visit_name__ = "sqla_stage_presign"
    inherit_cache = True

    def __init__(
        self, location: object, *, expire: int | None = None, method: str | None = None
    ) -> None:
        """Pre-sign ``location``."""
        owner = "Presign"
        self.location = _stage_location(owner, location)
        if not self.location.path:
            raise StageArgumentError(
                f"{owner}: give the path of a file in the stage, not the stage"
            )
        if expire is not None and (
            isinstance(expire, bool) or not isinstance(expire, int) or expire < 1
        ):
            raise StageArgumentError(
                f"{owner}: expire must be a positive number of seconds, not {expire!r}"
            )
        if method is not None and (
            not isinstance(method, str) or method.upper() not in ("DOWNLOAD", "UPLOAD")
        ):
            raise StageArgumentError(
                f"{owner}: method must be 'DOWNLOAD' or 'UPLOAD', not {method!r}"
            )
        self.expire = expire
        self.method = method.upper() if method else None
        self._sql_key = (self.location.cache_key(), self.expire, self.method)

    def __repr__(self) -> str:
        extra = "".join(
            f", {name}={getattr(self, name)!r}"
            for name in ("expire", "method")
            if getattr(self, name)
        )
        return f"Presign({self.location!r}{extra})"


def _local_url(owner: str, path: object) -> str:
    if not isinstance(path, str) or not path:
        raise StageArgumentError(
            f"{owner}: the local path must be a non-empty string, not {path!r}"
        )
    refuse_nul(owner, "the local path", path)
    return path if path.startswith("file://") else "file://" + path


class Put(StageStatement):
    """``PUT 'file:///local/path' @stage/path``: upload local files into a stage.

    Args:
        local_path: A local file path or glob (``/tmp/data/*.csv`` or ``file://...``).
        location: The stage or stage path to upload into.
        **options: ``parallel``, ``auto_compress``, ``source_compression``, ``overwrite``.
    """

    __visit_name__ = "sqla_stage_put"
    inherit_cache = True

    def __init__(self, local_path: str, location: object, **options: object) -> None:
        """Upload ``local_path`` into ``location``."""
        self.local_url = _local_url("Put", local_path)
        self.location = _stage_location("Put", location)
        self.transfer_options: dict[str, OptionValue] = check_options("PUT", PUT_OPTIONS, options)
        self._sql_key = (
            self.local_url,
            self.location.cache_key(),
            options_key(self.transfer_options),
        )

    def __repr__(self) -> str:
        extra = f", {options_repr(self.transfer_options)}" if self.transfer_options else ""
        return f"Put({self.local_url!r}, {self.location!r}{extra})"


class Get(StageStatement):
    """``GET @stage/path 'file:///local/dir/'``: download staged files to a local folder.

    Args:
        location: The stage path to download from.
        local_path: The local folder.
        **options: ``parallel``, ``pattern``.
    """

    __visit_name__ = "sqla_stage_get"
    inherit_cache = True

    def __init__(self, location: object, local_path: str, **options: object) -> None:
        """Download ``location`` into ``local_path``."""
        self.location = _stage_location("Get", location)
        self.local_url = _local_url("Get", local_path)
        self.transfer_options: dict[str, OptionValue] = check_options("GET", GET_OPTIONS, options)
        self._sql_key = (
            self.location.cache_key(),
            self.local_url,
            options_key(self.transfer_options),
        )

    def __repr__(self) -> str:
        extra = f", {options_repr(self.transfer_options)}" if self.transfer_options else ""
        return f"Get({self.location!r}, {self.local_url!r}{extra})"
