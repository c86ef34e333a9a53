"""The command runs itself under jemalloc where it is installed; `TOPRATED_ALLOCATOR=system` keeps
glibc's malloc; importing toprated as a library changes nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from toprated.launch import ALLOCATOR, AllocatorError, allocator_in_use, jemalloc_path, run_again_with

LIB = "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"


def test_the_command_runs_again_with_jemalloc_preloaded_once() -> None:
    env = run_again_with({"PATH": "/bin"}, LIB)
    assert env is not None and env["LD_PRELOAD"] == LIB and env["PATH"] == "/bin"
    assert run_again_with(env, LIB) is None  # the process run again goes on


def test_other_preloaded_libraries_stay() -> None:
    env = run_again_with({"LD_PRELOAD": "/opt/libfoo.so"}, LIB)
    assert env is not None and env["LD_PRELOAD"] == f"{LIB} /opt/libfoo.so"


@pytest.mark.parametrize(
    "environ, lib",
    [({ALLOCATOR: "system"}, LIB), ({}, None), ({"LD_PRELOAD": LIB}, LIB)],
    ids=["system chosen", "no jemalloc installed", "already preloaded"],
)
def test_the_command_goes_on_as_it_is(environ: dict[str, str], lib: str | None) -> None:
    assert run_again_with(environ, lib) is None


def test_an_unknown_allocator_is_an_error_naming_the_setting() -> None:
    with pytest.raises(AllocatorError, match="TOPRATED_ALLOCATOR='tcmalloc': expected one of jemalloc, system"):
        run_again_with({ALLOCATOR: "tcmalloc"}, LIB)


def _version(**env: str) -> subprocess.CompletedProcess[str]:
    command = Path(sys.executable).parent / "toprated"
    clean = {k: v for k, v in os.environ.items() if k not in (ALLOCATOR, "LD_PRELOAD", "TOPRATED_ALLOCATOR_CHOSEN")}
    return subprocess.run([str(command), "--version"], env={**clean, **env}, capture_output=True, text=True)


def test_the_command_says_which_allocator_it_runs_with() -> None:
    system = _version(**{ALLOCATOR: "system"})
    assert system.returncode == 0 and system.stdout.strip().endswith("(allocator: system)")
    default = _version()
    expected = "jemalloc" if jemalloc_path() else "system"
    assert default.returncode == 0 and default.stdout.strip().endswith(f"(allocator: {expected})"), default
    bad = _version(**{ALLOCATOR: "tcmalloc"})
    assert bad.returncode == 2 and "TOPRATED_ALLOCATOR='tcmalloc'" in bad.stderr


def test_importing_toprated_keeps_the_allocator_of_the_process() -> None:
    import toprated.cli  # noqa: F401

    assert allocator_in_use() == ("jemalloc" if "jemalloc" in os.environ.get("LD_PRELOAD", "") else "system")
