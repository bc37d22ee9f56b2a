"""Micro-kinetic calibration: binding energies recovered from synthetic rates.

The chain is Langmuir-Hinshelwood CO oxidation in closed form (REFERENCES.md): quasi-
equilibrated CO and dissociative O2 adsorption, then CO* + O* -> CO2 rate-limiting:
theta_CO = K1 p_CO / D, theta_O = sqrt(K2 p_O2) / D, D = 1 + K1 p_CO + sqrt(K2 p_O2),
TOF = k3 theta_CO theta_O. The adsorption energies E_CO and E_O (eV) set K1, K2 and,
through a BEP relation, the barrier of k3. Rates are generated at known energies with
10% noise; the calibration must put the known energies inside the 94% HDI.
"""

import chaospy
import numpy as np
import pytest

from uqms import Constant, FunctionStage, UncertainInput, Workflow
from uqms.calibration import calibrate, summary
from uqms.calibration.data import Measurements, Observable

KB, H = 8.617333262e-5, 4.135667696e-15  # eV/K, eV s
TRUE = {"E_CO": -1.0, "E_O": -0.6}
WALKERS, STEPS = 16, 4000
ESS_FLOOR = 800
R_HAT_MAX = 1.01
RELATIVE_NOISE = 0.1


def equilibrium_and_rate_constants(E_CO, E_O, T):
    """K1 (1/bar), K2 (1/bar) and k3 (1/s) from the adsorption energies (eV) at T (K)."""
    kt = KB * T
    K1 = np.exp(-(E_CO + 1.5e-3 * T) / kt)  # gas entropy lost on adsorption: 1.5 meV/K
    K2 = np.exp(-(2 * E_O + 2.0e-3 * T) / kt)
    barrier = np.maximum(1.5 + 0.5 * (E_CO + E_O), 0.0)  # BEP: stronger binding, lower barrier
    return K1, K2, kt / H * np.exp(-barrier / kt)


def langmuir_hinshelwood(K1, K2, k3, p_CO, p_O2):
    """Coverages and TOF (1/s) of CO oxidation with quasi-equilibrated adsorption."""
    co, o = K1 * p_CO, np.sqrt(K2 * p_O2)
    free = 1.0 / (1.0 + co + o)
    return co * free, o * free, k3 * co * o * free**2


def _workflow():
    energetics = FunctionStage(equilibrium_and_rate_constants, ["E_CO", "E_O", "T"], ["K1", "K2", "k3"],
                               units={"K1": "1/bar", "K2": "1/bar", "k3": "1/s"})
    kinetics = FunctionStage(langmuir_hinshelwood, ["K1", "K2", "k3", "p_CO", "p_O2"], ["theta_CO", "theta_O", "tof"],
                             units={"theta_CO": "1", "theta_O": "1", "tof": "1/s"})
    inputs = [UncertainInput("E_CO", chaospy.Normal(-0.9, 0.2), unit="eV"),
              UncertainInput("E_O", chaospy.Normal(-0.5, 0.2), unit="eV")]
    constants = [Constant("T", 500.0, "K"), Constant("p_CO", 0.1, "bar"), Constant("p_O2", 0.2, "bar")]
    return Workflow([energetics, kinetics], inputs, constants)


def synthetic_rates(flow, seed=2026):
    """TOF at 3 temperatures x 3 CO pressures from the true energies, times lognormal-ish 10% noise."""
    T, p_CO = (a.ravel() for a in np.meshgrid([450.0, 500.0, 550.0], [0.01, 0.1, 1.0], indexing="ij"))
    n = T.size
    batch = {"E_CO": np.full(n, TRUE["E_CO"]), "E_O": np.full(n, TRUE["E_O"]), "T": T, "p_CO": p_CO,
             "p_O2": np.full(n, 0.2)}
    tof = flow.chain(batch)["tof"]
    observed = tof * (1 + RELATIVE_NOISE * np.random.default_rng(seed).standard_normal(n))
    return Measurements("<synthetic>", np.array([f"T{t:.0f}_pCO{p:g}" for t, p in zip(T, p_CO)]),
                        {"T": T, "p_CO": p_CO}, [Observable("tof", (), "tof")], observed[:, None],
                        RELATIVE_NOISE * observed[:, None], {"T": "K", "p_CO": "bar", "tof": "1/s"})


@pytest.fixture(scope="module")
def calibrated():
    flow = _workflow()
    return calibrate(flow, synthetic_rates(flow), walkers=WALKERS, steps=STEPS, seed=11)


def test_true_energies_lie_inside_the_94_percent_hdi(calibrated):
    table = summary(calibrated)
    for name, value in TRUE.items():
        assert table.loc[name, "hdi_3%"] < value < table.loc[name, "hdi_97%"], table
    # the data pin the energies far better than the 0.2 eV priors
    assert np.all(table.loc[list(TRUE), "sd"] < 0.05)


def test_chain_mixes(calibrated):
    table = summary(calibrated)
    assert np.all(table["r_hat"] < R_HAT_MAX), table
    assert np.all(table[["ess_bulk", "ess_tail"]] > ESS_FLOOR), table
    assert calibrated.posterior.attrs["converged"] == 1


def test_posterior_predictive_covers_the_rates(calibrated):
    replicated = calibrated.posterior_predictive["tof"].stack(s=("chain", "draw")).values
    low, high = np.quantile(replicated, [0.03, 0.97], axis=1)
    observed = calibrated.observed_data["tof"].values
    inside = (low < observed) & (observed < high)
    assert inside.mean() >= 7 / 9
    # the rates span decades across the conditions: the log10 likelihood sees them all
    assert np.log10(observed.max() / observed.min()) > 1
