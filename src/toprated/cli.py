"""The `toprated` command. Thin: each feature registers its commands from its own package."""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from toprated.errors import UserError

app = typer.Typer(
    name="toprated",
    help="Job Success Score and Top Rated badges for a freelance marketplace, explained.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True)


def _register() -> None:
    # Each feature package owns its commands (Netflix Dispatch style); import lazily so a broken
    # optional feature cannot stop the others from loading.
    import importlib

    features = ("store", "simulate", "evaluation", "runs")
    for module in (f"toprated.{feature}.commands" for feature in features):
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
            continue
        mod.register(app)


_register()


def main() -> None:
    """Entry point: usage errors are typer's; our `UserError`s print one clear message, no traceback."""
    try:
        app()
    except UserError as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
