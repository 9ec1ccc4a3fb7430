"""Rewrite docs/unload.md's ``<!-- matrix-figures -->`` table from the option matrix.

Run ``python tests/matrix_figures.py`` from the repository root after changing
``tests/option_matrix_cases.py``; ``tests/test_option_matrix.py`` checks the table against
its ``report()``.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from test_option_matrix import UNLOAD_MD, report


def main() -> None:
    """Replace the block's table with ``report()``."""
    text = UNLOAD_MD.read_text("utf-8")
    block = re.compile(r"(<!-- matrix-figures -->\n)(.*?)(\n<!-- /matrix-figures -->)", re.DOTALL)
    updated, found = block.subn(lambda match: match[1] + report() + match[3], text)
    if not found:
        raise SystemExit(f"{UNLOAD_MD}: no <!-- matrix-figures --> block")
    UNLOAD_MD.write_text(updated, "utf-8")
    print(report())


if __name__ == "__main__":
    main()
