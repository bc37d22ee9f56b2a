"""Mechanisms shipped with Cantera, read by uqms: uqms's batched steady state vs Cantera's, side by side.

For each mechanism (Ru-Ba/YSZ ammonia synthesis, 12 reactions; CH4 partial oxidation on Pt,
36 reactions; both irreversible, so their rate constants hold at any temperature once read),
the same n temperatures spread over a range: uqms solves all of them in one batch
(``solve_steady_state`` on ``rate_constants_at`` of the mechanism read by
``uqms.chemistry.cantera_yaml``), Cantera one after the other (its Newton solver,
``advance_coverages_to_steady_state``, after a tiny time step, as tests/test_chemistry_cantera_yaml.py
does). Prints solves per second of each (best and median of the repeats), their ratio, and
the largest relative difference of the coverages and turnover frequencies found.

    python benchmarks/cantera_mechanisms.py [n_samples]
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # one core each: Cantera's loop cannot use more
os.environ.setdefault("OMP_NUM_THREADS", "1")

import sys
from functools import partial
from pathlib import Path

import cantera as ct
import numpy as np
from timing import timed  # benchmarks/timing.py, beside this script

from uqms.chemistry.cantera_yaml import load_cantera_mechanism
from uqms.models.microkinetics.from_energies import rate_constants_at
from uqms.models.microkinetics.steady_state import solve_steady_state

DATA = Path(ct.__file__).parent / "data"
CASES = {  # file: surface phase, gas (bar; None: the file's state), products, temperatures (K)
    "example_data/ammonia-Ru-Ba-YSZ-CSM-2019.yaml": ("Ru_surface", {"H2": 0.6, "N2": 0.2, "NH3": 0.02}, ["NH3"],
                                                     (600.0, 800.0)),
    "methane_pox_on_pt.yaml": ("Pt_surf", None, ["CO", "H2", "CO2", "H2O"], (700.0, 1000.0)),
}
REPEATS = 3


def uqms_solve(m, temperatures, pressures):
    state = solve_steady_state(m, rate_constants_at(m, temperatures, {}), pressures)
    return state.theta, state.tof(), state.status


def cantera_solve(path, phase, temperatures, pressures, names, products):
    surface = ct.Interface(str(path), phase)
    gas = surface.adjacent["gas"]
    if pressures is not None:
        total = sum(pressures.values())
        gas.TPX = None, total * 1e5, {g: p / total for g, p in pressures.items()}
    theta = np.empty((len(temperatures), len(names)))
    tof = np.empty((len(temperatures), len(products)))
    columns = [surface.species_index(n) for n in names]
    for i, t in enumerate(temperatures):  # the per-sample loop being compared against
        gas.TP = t, gas.P
        surface.TP = t, gas.P
        surface.coverages = {names[-1]: 1.0}
        surface.advance_coverages(1e-9)
        surface.advance_coverages_to_steady_state()
        theta[i] = surface.coverages[columns]
        production = surface.get_net_production_rates(gas) / surface.site_density
        tof[i] = [production[gas.species_index(p)] for p in products]
    return theta, tof


def main(n: int = 200) -> None:
    for file, (phase, pressures, products, (low, high)) in CASES.items():
        path = DATA / file
        m = load_cantera_mechanism(path, products=products)
        renamed = dict(pair.split(" -> ") for pair in
                       m.description.split("species renamed: ")[1].split(";")[0].split(", "))
        cantera_name = {new: old for old, new in renamed.items()}
        names = [cantera_name.get(s, s) for s in m.surface_species]
        cantera_products = [cantera_name.get(p, p) for p in m.products]
        temperatures = np.linspace(low, high, n)
        (theta, tof, status), uqms_times = timed(partial(uqms_solve, m, temperatures, pressures), REPEATS)
        (theta_ct, tof_ct), cantera_times = timed(partial(cantera_solve, path, phase, temperatures, pressures, names,
                                                          cantera_products), REPEATS)
        ok = status == 0
        coverage_difference = np.max(np.abs(theta[ok] / theta_ct[ok] - 1))
        tof_difference = np.max(np.abs(tof[ok] / tof_ct[ok] - 1))
        uqms_rate, cantera_rate = n / np.array(uqms_times), n / np.array(cantera_times)
        print(f"{file} ({len(m.steps)} steps, {n} temperatures {low:g}-{high:g} K, {ok.sum()} converged)")
        print(f"  uqms batched    {np.max(uqms_rate):10.0f} solves/s best, {np.median(uqms_rate):10.0f} median")
        print(f"  Cantera loop    {np.max(cantera_rate):10.0f} solves/s best, {np.median(cantera_rate):10.0f} median")
        print(f"  ratio           {np.max(uqms_rate) / np.max(cantera_rate):10.1f} x best, "
              f"{np.median(uqms_rate) / np.median(cantera_rate):10.1f} x median")
        print(f"  largest relative difference: coverages {coverage_difference:.1e}, TOF {tof_difference:.1e}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
