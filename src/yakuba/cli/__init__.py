"""The `yakuba` command line: one Typer app, errors as one line and exit code 2."""

from __future__ import annotations

import sys

from rich.console import Console

from yakuba.cli._app import app
from yakuba.errors import YakubaError

__all__ = ["EXIT_USER_ERROR", "app", "main"]

EXIT_USER_ERROR = 2
"""Exit code for an error the user can act on (bad input, missing file, refused operation); click uses it too."""


def main() -> None:
    """Console-script entry point: click handles usage errors itself (exit 2); ours become one line, exit 2."""
    try:
        app()
    except YakubaError as exc:
        Console(stderr=True, highlight=False, soft_wrap=True).print(f"error [{exc.code}]: {exc.text_en}", markup=False)
        sys.exit(EXIT_USER_ERROR)
