"""The shared acceptance scenarios (../shared/scenarios), run through the installed `toprated` command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SCENARIOS = Path(__file__).resolve().parents[3] / "shared" / "scenarios"


def toprated_exe() -> str:
    exe = Path(sys.executable).parent / "toprated"
    if not exe.exists():
        pytest.fail(f"the toprated command is not installed beside {sys.executable}: pip install -e .")
    return str(exe)


@pytest.mark.skipif(not (SCENARIOS / "check.py").exists(), reason=f"no acceptance scenarios at {SCENARIOS}")
def test_every_shared_scenario_passes() -> None:
    p = subprocess.run(
        [sys.executable, str(SCENARIOS / "check.py"), str(SCENARIOS), toprated_exe()],
        capture_output=True,
        text=True,
        timeout=900,
    )
    last = p.stdout.strip().splitlines()[-1] if p.stdout.strip() else ""
    assert p.returncode == 0, p.stdout + p.stderr
    assert last.endswith(" 0 failed") and not last.startswith("0 passed"), last
