"""The `yakuba` command line: one Typer app, errors as one line and exit code 2."""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from yakuba.cli._app import app
from yakuba.errors import YakubaError

__all__ = ["app", "main"]

EXIT_USER_ERROR = 2
"""Exit code for an error the user can act on (bad input, missing file, refused operation)."""


def main() -> None:
    """Console-script entry point."""
    try:
        app(standalone_mode=False)
    except YakubaError as exc:
        Console(stderr=True, highlight=False, soft_wrap=True).print(f"error [{exc.code}]: {exc.text_en}")
        sys.exit(EXIT_USER_ERROR)
    except (typer.Abort, KeyboardInterrupt):
        Console(stderr=True).print("aborted")
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except Exception as exc:  # click's usage errors arrive here in non-standalone mode
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(EXIT_USER_ERROR)
        raise
