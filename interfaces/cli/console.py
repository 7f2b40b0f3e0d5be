"""Where the CLI writes: results to stdout, messages and errors to stderr."""

from __future__ import annotations

from typing import NoReturn

import typer
from rich.console import Console
from rich.markup import escape

# Both resolve sys.stdout / sys.stderr when they write, so test runners capture them.
console = Console()
messages = Console(stderr=True)


def fail(message: str, code: int = 1) -> NoReturn:
    """Print `message` in red and leave with `code`."""
    messages.print(f"[red]{escape(message)}[/red]")
    raise typer.Exit(code)
