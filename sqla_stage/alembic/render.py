"""How autogenerate writes the stage operations into a migration file.

Each operation is rendered as a call, ``op.create_stage("exports", url=..., ...)``, with
the imports it needs added to the file (``from sqla_stage import CSV``, ``import os``).

Secrets never appear in a migration file. Each secret credential (``aws_key_id``,
``aws_secret_key``, ``aws_token``, ``azure_sas_token``) and an encryption's
``master_key`` is rendered as a read of an environment variable named by
`secret_variable`: ``os.environ["SQLA_STAGE_EXPORTS_AWS_SECRET_KEY"]`` for stage
``exports``. The other keys (``endpoint_url``, ``region``, ``aws_role``, ``kms_key_id``)
are written as they are.

An ``alter_stage`` that autogenerate made carries the stage's whole definition before
the change as ``existing={...}``, credentials included (through the same variables): a
migration file does not know which engine it will run on, and Databend re-creates the
stage from it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from alembic.autogenerate import renderers
from alembic.autogenerate.api import AutogenContext

from sqla_stage.alembic.operations import (
    AlterStageOp,
    CreateStageOp,
    DropStageOp,
    stage_arguments,
)
from sqla_stage.credentials import SECRET_CREDENTIAL_KEYS, SECRET_ENCRYPTION_KEYS
from sqla_stage.formats import FileFormat, FormatSpec
from sqla_stage.options import options_repr

#: The prefix of the environment variables that hold secrets.
ENV_PREFIX = "SQLA_STAGE"


def secret_variable(stage_name: str, key: str, schema: str | None = None) -> str:
    """The environment variable a rendered migration reads a secret from.

    ``SQLA_STAGE_[<SCHEMA>_]<STAGE>_<KEY>``, upper case, with every run of characters
    other than letters and digits replaced by ``_``.

    Example:
        >>> secret_variable("exports", "aws_secret_key")
        'SQLA_STAGE_EXPORTS_AWS_SECRET_KEY'
    """
    parts = [ENV_PREFIX, *([schema] if schema else []), stage_name, key]
    return "_".join(re.sub(r"[^A-Za-z0-9]+", "_", part).strip("_").upper() for part in parts)


class _Writer:
    """Renders the values of one operation, collecting the imports they need."""

    def __init__(self, autogen_context: AutogenContext, stage_name: str, schema: str | None):
        self.context = autogen_context
        self.stage_name = stage_name
        self.schema = schema

    def secrets(self, values: Mapping[str, str], secret_keys: Iterable[str]) -> str:
        """A dict literal whose secret values are environment variable reads."""
        entries = []
        for key, value in values.items():
            if key in secret_keys:
                self.context.imports.add("import os")
                name = secret_variable(self.stage_name, key, self.schema)
                entries.append(f"{key!r}: os.environ[{name!r}],")
            else:
                entries.append(f"{key!r}: {value!r},")
        return "{\n" + "".join(f"    {entry}\n" for entry in entries) + "}"

    def value(self, name: str, value: Any) -> str:
        """One property's value as Python source."""
        if value is None:
            return "None"
        if name == "credentials":
            return self.secrets(value, SECRET_CREDENTIAL_KEYS)
        if name == "encryption":
            return self.secrets(value, SECRET_ENCRYPTION_KEYS)
        if isinstance(value, FormatSpec):
            cls = FileFormat if isinstance(value, FileFormat) else type(value)
            self.context.imports.add(f"from sqla_stage import {cls.__name__}")
            return repr(value)
        if name == "copy_options":
            return f"dict({options_repr(value)})"
        return repr(value)

    def definition(self, values: Mapping[str, Any]) -> str:
        """A dict literal of properties (``existing={...}``), each value rendered."""
        entries = [f"{name!r}: {self.value(name, value)}" for name, value in values.items()]
        line = "{" + ", ".join(entries) + "}"
        if "\n" not in line and len(line) <= 60:
            return line
        body = "".join("    " + entry.replace("\n", "\n    ") + ",\n" for entry in entries)
        return "{\n" + body + "}"

    def call(self, operation: str, arguments: list[tuple[str | None, str]]) -> str:
        """``op.<operation>(...)``: on one line when short, else one argument a line."""
        prefix = self.context.opts.get("alembic_module_prefix", "op.")
        texts = [f"{keyword}={source}" if keyword else source for keyword, source in arguments]
        line = f"{prefix}{operation}({', '.join(texts)})"
        if "\n" not in line and len(line) <= 88:
            return line
        body = "".join("    " + text.replace("\n", "\n    ") + ",\n" for text in texts)
        return f"{prefix}{operation}(\n{body})"

    def head(self, extra: Mapping[str, Any]) -> list[tuple[str | None, str]]:
        """The name, the schema, and flags that are set."""
        arguments: list[tuple[str | None, str]] = [(None, repr(self.stage_name))]
        if self.schema:
            arguments.append(("schema", repr(self.schema)))
        arguments += [(name, repr(value)) for name, value in extra.items() if value]
        return arguments


@renderers.dispatch_for(CreateStageOp)
def render_create_stage(autogen_context: AutogenContext, op: CreateStageOp) -> str:
    """``op.create_stage("name", url=..., ...)``, with ``unknown=(...)`` if it has unknowns."""
    stage = op.stage
    writer = _Writer(autogen_context, stage.name, stage.schema)
    arguments = writer.head({"if_not_exists": op.if_not_exists})
    for name, value in stage_arguments(stage).items():
        arguments.append((name, writer.value(name, value)))
    if op.unknown:
        arguments.append(("unknown", repr(op.unknown)))
    return writer.call("create_stage", arguments)


@renderers.dispatch_for(DropStageOp)
def render_drop_stage(autogen_context: AutogenContext, op: DropStageOp) -> str:
    """``op.drop_stage("name")``."""
    writer = _Writer(autogen_context, op.stage_name, op.schema)
    return writer.call("drop_stage", writer.head({"if_exists": op.if_exists}))


@renderers.dispatch_for(AlterStageOp)
def render_alter_stage(autogen_context: AutogenContext, op: AlterStageOp) -> str:
    """``op.alter_stage("name", <new values>, existing={...})``.

    A complete operation (autogenerate's) gives the whole definition before the change
    as ``existing={...}``, credentials included whatever the dialect (the migration may
    run on Databend, which re-creates the stage); another gives each property it knows as
    ``existing_<property>=``.
    """
    writer = _Writer(autogen_context, op.stage_name, op.schema)
    arguments = writer.head({"if_exists": op.if_exists})
    for name, value in op.changes.items():
        arguments.append((name, writer.value(name, value)))
    if op.complete:
        defined = {name: value for name, value in op.existing.items() if value not in (None, {})}
        arguments.append(("existing", writer.definition(defined)))
    else:
        for name, value in op.existing.items():
            arguments.append((f"existing_{name}", writer.value(name, value)))
    return writer.call("alter_stage", arguments)
