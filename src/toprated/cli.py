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


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        from toprated.launch import allocator_in_use

        typer.echo(f"toprated {version('toprated')} (allocator: {allocator_in_use()})")
        raise typer.Exit()


@app.callback()
def _options(
    version: bool = typer.Option(
        False, "--version", is_eager=True, callback=_version, help="The version, and the memory allocator in use."
    ),
) -> None:
    """Job Success Score and Top Rated badges for a freelance marketplace, explained."""


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
