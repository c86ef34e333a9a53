"""The `toprated` command's entry point: it picks the memory allocator, then runs the CLI.

DuckDB's Python wheel allocates with glibc's malloc, which costs a long-running process: measured
on a 1M-freelancer store, an explanation took 265 ms after a weekly run against 216 ms before it,
and under jemalloc 175–192 ms either way; a 16-week backfill took 449 s against 495 s (README, "At
marketplace scale"). An allocator is chosen when a process starts, so where jemalloc is installed
(Debian: `libjemalloc2`) the command runs itself again with it preloaded. `TOPRATED_ALLOCATOR=system`
keeps glibc's malloc. Only the command does this: importing toprated as a library changes nothing.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Mapping
from pathlib import Path

ALLOCATOR = "TOPRATED_ALLOCATOR"
CHOICES = ("jemalloc", "system")
_CHOSEN = "TOPRATED_ALLOCATOR_CHOSEN"  # set in the run-again process: never a second time

JEMALLOC = (
    "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2",
    "/usr/lib/aarch64-linux-gnu/libjemalloc.so.2",
    "/usr/lib64/libjemalloc.so.2",
    "/usr/lib/libjemalloc.so.2",
)


class AllocatorError(ValueError):
    pass


def jemalloc_path() -> str | None:
    """Where jemalloc is installed, if it is."""
    return next((lib for lib in JEMALLOC if Path(lib).exists()), None)


def run_again_with(environ: Mapping[str, str], jemalloc: str | None) -> dict[str, str] | None:
    """The environment to run the command again with, jemalloc preloaded; None to go on as it is
    (`system` chosen, no jemalloc installed, already preloaded, or already run again)."""
    choice = environ.get(ALLOCATOR, "jemalloc")
    if choice not in CHOICES:
        raise AllocatorError(f"{ALLOCATOR}={choice!r}: expected one of {', '.join(CHOICES)}")
    preloaded = environ.get("LD_PRELOAD", "")
    if choice == "system" or jemalloc is None or "jemalloc" in preloaded or environ.get(_CHOSEN):
        return None
    return {**environ, "LD_PRELOAD": f"{jemalloc} {preloaded}".strip(), _CHOSEN: "1"}


def allocator_in_use() -> str:
    """`jemalloc` when this process has it loaded, else `system`."""
    try:
        maps = Path("/proc/self/maps").read_text()
    except OSError:
        return "system"
    return "jemalloc" if "libjemalloc" in maps else "system"


def run_again_if_chosen(environ: Mapping[str, str]) -> None:
    """Run this process's script again, with its arguments, under jemalloc when `environ` chooses
    it and it is installed (see `run_again_with`); return when it goes on as it is."""
    env = run_again_with(environ, jemalloc_path())
    if env is not None and Path(sys.argv[0]).is_file():
        # should it fail to run again, it goes on with the allocator it has
        with contextlib.suppress(OSError):
            os.execve(sys.executable, [sys.executable, *sys.argv], env)


def main() -> None:
    try:
        run_again_if_chosen(os.environ)
    except AllocatorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    from toprated.cli import main as cli_main

    cli_main()
