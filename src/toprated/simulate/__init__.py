"""The synthetic marketplace: a realistic, deterministic event log for demos, tests and benchmarks.

    from toprated.simulate import generate
    summary = generate(10_000, seed=1, out_dir=Path("data"), fmt="parquet")

See `generate.py` for the file order and `settings.py` for the knobs to calibrate.
"""

from toprated.simulate.generate import SimulationSummary, generate
from toprated.simulate.settings import CATEGORY_MIX, SimulationSettings

__all__ = ["CATEGORY_MIX", "SimulationSettings", "SimulationSummary", "generate"]
