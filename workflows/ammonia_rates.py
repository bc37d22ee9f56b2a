"""Synthetic NH3 turnover rates to calibrate ``ammonia.toml`` against (writes ``ammonia_rates.csv``).

These are not measurements. They are the workflow's own TOF of NH3 at known inputs,
``E_N = -0.60 eV`` and ``n2_ts_intercept = 1.62 eV``, at 4 temperatures x 3 gas
compositions, each multiplied by 10**e with e ~ N(0, 0.1) (0.1 decade of noise, seed
2026); the standard deviation column gives that noise in 1/s (0.1 ln 10 x rate).
Calibrating the workflow to the table must recover the known inputs:

    python workflows/ammonia_rates.py
    uqms calibrate workflows/ammonia.toml workflows/ammonia_rates.csv --walkers 16 --steps 3000 --out runs/ammonia_calibration.nc
    uqms run workflows/ammonia.toml --posterior runs/ammonia_calibration.nc --n 1024 --out runs/ammonia_posterior.nc
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from uqms.workflow import Workflow

HERE = Path(__file__).resolve().parent
TRUE = {"E_N": -0.60, "n2_ts_intercept": 1.62}  # eV
TEMPERATURES = [600.0, 650.0, 700.0, 750.0]  # K
COMPOSITIONS = [(25.0, 75.0, 0.0), (5.0, 15.0, 0.0), (25.0, 75.0, 0.1)]  # p_N2, p_H2, p_NH3 in bar
NOISE_DECADES = 0.1
SEED = 2026


def synthetic_rates(workflow: Workflow) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Conditions, noisy TOF of NH3 (1/s) and its standard deviation (1/s)."""
    grid = [(T, *gas) for T in TEMPERATURES for gas in COMPOSITIONS]
    conditions = dict(zip(("T", "p_N2", "p_H2", "p_NH3"), np.array(grid).T))
    n = len(grid)
    batch = {name: np.full(n, float(c.value)) for name, c in workflow.constants.items()}
    batch.update({name: np.full(n, value) for name, value in TRUE.items()})
    batch.update(conditions)
    result = workflow.chain(batch)
    assert np.all(result["status"] == 0), "the chain failed at a condition of the table"
    tof = result["tof"][:, list(workflow.chain.output_coords["product"]).index("NH3")]
    noisy = tof * 10.0 ** (NOISE_DECADES * np.random.default_rng(SEED).standard_normal(n))
    return conditions, noisy, NOISE_DECADES * np.log(10.0) * noisy


def main(path: Path = HERE / "ammonia_rates.csv") -> Path:
    """Write the table to ``path``."""
    workflow = Workflow.from_file(HERE / "ammonia.toml")
    conditions, tof, sd = synthetic_rates(workflow)
    lines = [
        "# Synthetic NH3 rates (not measurements): written by ammonia_rates.py from ammonia.toml at",
        f"# E_N = {TRUE['E_N']} eV, n2_ts_intercept = {TRUE['n2_ts_intercept']} eV, {NOISE_DECADES} decade noise, seed {SEED}.",
        "experiment, T [K], p_N2 [bar], p_H2 [bar], p_NH3 [bar], tof[NH3] [1/s], tof[NH3]_sd [1/s]",
    ]
    for i in range(len(tof)):
        row = [conditions[k][i] for k in ("T", "p_N2", "p_H2", "p_NH3")]
        lines.append(f"e{i + 1:02d}, " + ", ".join(f"{v:g}" for v in row) + f", {tof[i]:.6e}, {sd[i]:.6e}")
    path.write_text("\n".join(lines) + "\n")
    return path


if __name__ == "__main__":
    print(main())
