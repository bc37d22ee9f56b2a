"""Write the demo functional ensemble of workflows/ammonia_sites_ensemble.toml.

What it stands in for: the BEEF-vdW ensemble of Medford et al., Science 345 (2014) 197,
i.e. the N binding energy E_N and the N2 dissociation transition-state energy E_TS of one
step site computed with every functional of the ensemble. The numbers are synthetic, not
DFT results: members are drawn from a bivariate normal around a catalyst near the top of
the ammonia volcano (E_N = -0.5 eV, E_TS on the step scaling line 1.57 E_N + 1.56 eV),
with spreads sigma(E_N) = 0.15 eV and sigma(E_TS) = 0.25 eV and correlation 0.9 (values
chosen for the demo: functional errors in E_N and E_TS share their origin, the N-metal
bond, and largely cancel in the barrier). Replace the file with per-member energies from
a BEEF-vdW code (`uqms.inputs.ensembles.Ensemble.from_ase_db`) for a real study.

Columns (eV): E_N, and n2_ts_intercept = E_TS - 1.57 E_N, the member's intercept of the
transition-state relation, which is what the mechanism reads.

Run: python workflows/data/make_ammonia_ensemble.py
"""

from pathlib import Path

import numpy as np

MEMBERS, SEED = 500, 2014
E_N, SIGMA_N, SIGMA_TS, RHO, TS_SLOPE, TS_INTERCEPT = -0.5, 0.15, 0.25, 0.9, 1.57, 1.56


def members(n: int = MEMBERS, seed: int = SEED) -> np.ndarray:
    """n x (E_N, n2_ts_intercept) in eV."""
    covariance = [[SIGMA_N**2, RHO * SIGMA_N * SIGMA_TS], [RHO * SIGMA_N * SIGMA_TS, SIGMA_TS**2]]
    mean = [E_N, TS_SLOPE * E_N + TS_INTERCEPT]
    e_n, e_ts = np.random.default_rng(seed).multivariate_normal(mean, covariance, n).T
    return np.column_stack([e_n, e_ts - TS_SLOPE * e_n])


if __name__ == "__main__":
    path = Path(__file__).with_name("ammonia_beef_ensemble.csv")
    header = "# synthetic stand-in for a BEEF-vdW ensemble, written by make_ammonia_ensemble.py (eV)\nE_N,n2_ts_intercept"
    np.savetxt(path, members(), fmt="%.6f", delimiter=",", header=header, comments="")
    print(f"wrote {path} ({MEMBERS} members)")
