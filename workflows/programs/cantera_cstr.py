"""An isothermal, isobaric CSTR with a catalytic surface, integrated by Cantera to steady state.

An example of a reactor code of one's own for the ``external.command`` stage
(workflows/ammonia_cantera_program.toml): it knows nothing of uqms. Run in a folder holding

- ``mechanism.yaml``: a Cantera YAML file with an ideal gas phase ``gas`` and a surface phase
  ``surface`` whose reactions carry this sample's rate constants;
- ``reactor.json``: ``temperature`` (K), ``pressure`` (bar), ``inlet`` (mol/s per gas species),
  ``sites`` (mol of active sites), ``product`` and ``reactant`` (gas species names);

it writes ``output.json``: the product's outlet mole fraction, the reactant's conversion, the
product's turnover frequency (1/s per site), the surface coverages and the residual of the
balance.
Exit code 0 on success; a reactor that does not reach steady state raises (non-zero exit).
"""

import json

import cantera as ct
import numpy as np

RESIDENCE_TIME = 1e6  # s
RESIDENCE_TIMES = 60  # integrated for: e^-60 of the start remains
BALANCE_TOLERANCE = 1e-5  # of the largest term of a species' balance, on the reactant and the product
RTOL, ATOL, MAX_STEPS = 1e-8, 1e-20, 100_000  # of the time integration


def simulate(mechanism: str, conditions: dict) -> dict:
    """Steady state of the CSTR: a gas reactor fed by a mass-flow controller and drained by a
    pressure controller, holding the surface, integrated in time to many residence times.

    Raises:
        RuntimeError: the gas balance (feed - outlet + surface production) is not closed at the end.
    """
    t, p = conditions["temperature"], conditions["pressure"] * 1e5  # K, Pa
    gas = ct.Solution(mechanism, "gas")
    surface = ct.Interface(mechanism, "surface", [gas])
    inlet = conditions["inlet"]  # mol/s
    feed_flows = sum(inlet.values())
    gas.TPX = t, p, {name: flow / feed_flows for name, flow in inlet.items()}
    feed_mass = sum(flow * gas.molecular_weights[gas.species_index(name)] for name, flow in inlet.items()) / 1e3  # kg/s
    surface.TP = t, p
    surface.advance_coverages(1e6)  # start the surface near its steady state at the feed composition
    feed, exhaust = ct.Reservoir(gas, clone=True), ct.Reservoir(gas, clone=True)
    # A gas residence time long against the surface's own relaxation: the transient then dies away
    # with the residence time, and the steady state does not depend on it.
    reactor = ct.IdealGasReactor(gas, energy="off", volume=RESIDENCE_TIME * feed_mass / gas.density, clone=True)
    area = conditions["sites"] / (1e3 * surface.site_density)  # m^2 holding that many moles of sites
    wall = ct.ReactorSurface(surface, reactor, A=area, clone=True)
    inflow = ct.MassFlowController(feed, reactor, mdot=feed_mass)
    ct.PressureController(reactor, exhaust, primary=inflow, K=1e-5)
    network = ct.ReactorNet([reactor])
    network.rtol, network.atol, network.max_steps = RTOL, ATOL, MAX_STEPS
    network.advance(RESIDENCE_TIMES * RESIDENCE_TIME)
    outlet, surface = reactor.phase, wall.phase
    flows = feed_mass * outlet.Y / outlet.molecular_weights * 1e3  # mol/s out
    made = surface.get_net_production_rates(outlet) * area * 1e3  # mol/s of each gas species from the surface
    fed = np.array([inlet.get(name, 0.0) for name in outlet.species_names])
    product, reactant = outlet.species_index(conditions["product"]), outlet.species_index(conditions["reactant"])
    # Checked on the reactant and the product: the net production of a species of a
    # quasi-equilibrated step (H2 here) is a small difference of large fluxes, resolved only to
    # the integrator's tolerance times those fluxes.
    terms = np.array([fed, flows, made])[:, [reactant, product]]
    imbalance = (np.abs(terms[0] - terms[1] + terms[2]) / np.abs(terms).max(axis=0)).max()
    if imbalance > BALANCE_TOLERANCE:
        raise RuntimeError(f"no steady state after {network.time:g} s: gas balance off by {imbalance:.2e} of its largest term")
    return {
        "mole_fraction": float(outlet.X[product]),
        # what the surface consumes, equal to feed - outlet at the steady state, but not their
        # difference, which at low conversion keeps only the digits the integration resolved
        "conversion": float(-made[reactant] / inlet[conditions["reactant"]]),
        "tof": float(made[product] / conditions["sites"]),  # 1/s per site
        "coverages": dict(zip(surface.species_names, surface.coverages.tolist())),
        "residual": float(imbalance),
    }


if __name__ == "__main__":
    with open("reactor.json") as file:
        result = simulate("mechanism.yaml", json.load(file))
    with open("output.json", "w") as file:
        json.dump(result, file)
