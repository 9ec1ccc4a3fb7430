"""A Griffe extension for the API page: signatures leave out private parameters.

``Stage(..., _kind=None, _table=None)`` takes keyword arguments that only the package
passes (``Stage.user()``, ``Stage.table()``). Python has no private parameters, so the
API page hides every parameter whose name starts with one underscore. Only what mkdocstrings
shows changes: the code, and what a call accepts, stay as they are. mkdocs.yml loads this
file (``extensions:`` of the Python handler) and keeps it out of the built site.
"""

from __future__ import annotations

from typing import Any

import griffe


def is_private(name: str) -> bool:
    """Whether a parameter name is private: one leading underscore, not a dunder."""
    return name.startswith("_") and not name.startswith("__")


class HidePrivateParameters(griffe.Extension):
    """Remove private parameters from every function's signature."""

    def on_function_instance(self, *, func: griffe.Function, **kwargs: Any) -> None:
        """Drop the private parameters of ``func`` once Griffe has read it."""
        for name in [parameter.name for parameter in func.parameters if is_private(parameter.name)]:
            del func.parameters[name]
