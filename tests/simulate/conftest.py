"""Fixtures for the simulator tests: a small generated marketplace, parsed once per session."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from simulate_checks import AS_OF, read_jsonl

from toprated.simulate import SimulationSettings, generate


@pytest.fixture(scope="session")
def small_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, Any]]]:
    """3,000 freelancers in 3 chunks (so the global merge runs), as JSON Lines."""
    out = tmp_path_factory.mktemp("sim")
    generate(3000, 7, out, as_of=AS_OF, settings=SimulationSettings(chunk_size=1000, workers=1))
    return out / "events.jsonl", read_jsonl(out / "events.jsonl")
