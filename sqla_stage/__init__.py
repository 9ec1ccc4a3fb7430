"""sqla_stage: data-warehouse stages for SQLAlchemy.

Stage operations are SQLAlchemy constructs that compile to the documented SQL of
Snowflake, Databend and MatrixOne (and a canonical form for DuckDB and the default
string form); [parse][sqla_stage.parse] reads that SQL back into the same constructs.
"""

# Imported for their effects: the work behind Stage.list(), .unload(), .read(), ... and
# the flush of a Session's pending objects before a stage statement.
from sqla_stage import orm_sessions as _orm_sessions  # noqa: F401
from sqla_stage import stage_calls as _stage_calls  # noqa: F401
from sqla_stage.connections import (
    CreateConnection,
    DescribeConnection,
    DropConnection,
    NamedConnection,
    ShowConnections,
)
from sqla_stage.copy import CopyInto
from sqla_stage.ddl import AlterStage, CreateFileFormat, CreateStage, DropFileFormat, DropStage
from sqla_stage.dialects import register_all
from sqla_stage.errors import (
    StageArgumentError,
    StageDataError,
    StageError,
    StageIntegrityError,
    StageOperationalError,
    StageParseError,
    StageProgrammingError,
    StageRuntimeError,
)
from sqla_stage.files import DescribeStage, Get, ListFiles, Presign, Put, RemoveFiles, ShowStages
from sqla_stage.formats import CSV, JSON, TSV, FileFormat, Parquet
from sqla_stage.load_data import LoadData
from sqla_stage.outfile import SelectIntoOutfile
from sqla_stage.parser import parse
from sqla_stage.stage import Stage, StageKind, StagePath
from sqla_stage.staged import staged, staged_entity

register_all()

__all__ = [
    "CSV",
    "JSON",
    "TSV",
    "AlterStage",
    "CopyInto",
    "CreateConnection",
    "CreateFileFormat",
    "CreateStage",
    "DescribeConnection",
    "DescribeStage",
    "DropConnection",
    "DropFileFormat",
    "DropStage",
    "FileFormat",
    "Get",
    "ListFiles",
    "LoadData",
    "NamedConnection",
    "Parquet",
    "Presign",
    "Put",
    "RemoveFiles",
    "SelectIntoOutfile",
    "ShowConnections",
    "ShowStages",
    "Stage",
    "StageArgumentError",
    "StageDataError",
    "StageError",
    "StageIntegrityError",
    "StageKind",
    "StageOperationalError",
    "StageParseError",
    "StagePath",
    "StageProgrammingError",
    "StageRuntimeError",
    "parse",
    "staged",
    "staged_entity",
]
