"""Workflow stages of the micro-kinetic scale (registered for workflow files).

- ``energetics.scaling``: descriptors -> reaction energies and barriers
  (:class:`~uqms.models.energetics.stage.MechanismEnergies`);
- ``microkinetics.rate_constants``: energies, temperature -> forward and reverse rate constants;
- ``microkinetics.steady_state``: energies, temperature, pressures -> coverages, rates, TOF.
"""

from __future__ import annotations

from collections.abc import Mapping

from uqms.chemistry.mechanism import mechanism_from_options
from uqms.chemistry.values import Value, expected_units, names, resolve
from uqms.models.energetics.stage import MechanismEnergies
from uqms.models.microkinetics.from_energies import rate_constants_at
from uqms.models.microkinetics.sensitivity import (
    apparent_activation_energy,
    degree_of_rate_control,
    reaction_orders,
)
from uqms.models.microkinetics.steady_state import STATUS_MESSAGES, solve_steady_state
from uqms.models.outputs import DeclaredOutputs, DeclaresOutputs, Output
from uqms.models.stage import Batch

__all__ = ["MechanismEnergies", "RateConstantsStage", "SteadyStateStage"]


class RateConstantsStage(DeclaresOutputs):
    """Forward and reverse rate constants of every step of a mechanism, for every sample.

    What the steady-state and reactor stages compute internally, as outputs: the link to a
    kinetics code of the user's own (e.g. rendered into a Cantera YAML file by ``external.command``).

    Inputs: ``<prefix>reaction_energy`` and ``<prefix>barrier`` (eV, samples x steps whose
    rates come from energies, e.g. from ``energetics.scaling``), the temperature and the names
    the rate options read. Outputs (``<prefix>`` prepended): ``k_forward`` and ``k_reverse``
    (step) at the temperature and zero coverage, per site of the whole surface, 1/s: a step
    with gas on its reacting side has its rate constant per bar of each gas molecule there
    (:mod:`uqms.models.microkinetics.rate_constants`), given here at 1 bar of each, the same
    numbers. An irreversible step's reverse is 0.

    Args:
        mechanism_file: mechanism TOML file (or ``mechanism``: a Mechanism or its dict).
        temperature: batch name (default ``"T"``) or number, K.
        prefix: prepended to input, output and dimension names.
    """

    def __init__(self, mechanism_file: str | None = None, mechanism=None, temperature: Value = "T", prefix: str = ""):
        self.mechanism = m = mechanism_from_options(mechanism_file, mechanism)
        self.temperature, self.prefix = temperature, prefix
        self.name = f"microkinetics.rate_constants({m.name})"
        energies = (f"{prefix}reaction_energy", f"{prefix}barrier") if m.energy_steps else ()
        self.inputs = (*energies, *names([temperature, *m.rate_parameter_names()]))
        self.input_units = expected_units(self.inputs, {**m.parameter_units(), **dict.fromkeys(energies, "eV")},
                                          [(temperature, "K")])
        self.declared = DeclaredOutputs([Output("k_forward", ("step",), "1/s"), Output("k_reverse", ("step",), "1/s")],
                                        prefix, {"step": m.step_names})

    def __call__(self, batch: Batch) -> Batch:
        p = self.prefix
        n = len(batch[self.inputs[0]])
        k = rate_constants_at(self.mechanism, resolve(self.temperature, batch, n), batch,
                              batch.get(f"{p}reaction_energy"), batch.get(f"{p}barrier"))
        return self.declared.batch({"k_forward": k.forward, "k_reverse": k.reverse})


class SteadyStateStage(DeclaresOutputs):
    """Steady state of a mechanism for every sample: coverages, rates, TOF, selectivity.

    Inputs: ``<prefix>reaction_energy`` and ``<prefix>barrier`` (eV, samples x steps whose
    rates come from energies, e.g. from ``energetics.scaling``; none if every step gives
    its rate constants), the temperature and any pressures given as names,
    and the names the rate options read (prefactors, sticking coefficients, gas corrections).

    Outputs (``<prefix>`` prepended): ``coverage`` (adsorbate; a fraction of its own site
    type's sites), ``free_sites`` (site), ``rate`` (net rate per step, 1/s), ``tof``
    (product, 1/s), ``selectivity`` (product); rates and TOF count per site of the whole
    surface; with several site types also ``site_tof`` (site x product, 1/s): the production
    by the steps counted per each type, per site of that type; on request ``drc`` (step x product),
    ``reaction_order`` (product x gas) and ``apparent_activation_energy`` (product, eV).
    Samples the solver cannot converge get a status code and NaN outputs.

    Args:
        mechanism_file: mechanism TOML file (or ``mechanism``: a Mechanism or its dict).
        temperature: batch name (default ``"T"``) or number, K.
        pressures: ``{gas: batch name or number}`` in bar; gases not given keep the file's pressure.
        degree_of_rate_control, reaction_orders, apparent_activation_energy: extra outputs.
        tolerance: largest accepted |net / gross| production of any adsorbate.
        prefix: prepended to input, output and dimension names.
    """

    def __init__(
        self,
        mechanism_file: str | None = None,
        mechanism=None,
        temperature: Value = "T",
        pressures: Mapping[str, Value] | None = None,
        degree_of_rate_control: bool = False,
        reaction_orders: bool = False,
        apparent_activation_energy: bool = False,
        tolerance: float = 1e-12,
        prefix: str = "",
    ):
        self.mechanism = m = mechanism_from_options(mechanism_file, mechanism)
        self.temperature, self.pressures = temperature, dict(pressures or {})
        unknown = sorted(set(self.pressures) - set(m.gas))
        if unknown:
            raise TypeError(f"pressures given for {unknown}, but the gas species of {m.name!r} are {list(m.gas)}")
        self.options = (degree_of_rate_control, reaction_orders, apparent_activation_energy)
        self.tolerance, self.prefix = tolerance, prefix
        self.name = f"microkinetics.steady_state({m.name})"
        energies = (f"{prefix}reaction_energy", f"{prefix}barrier") if m.energy_steps else ()
        self.inputs = (*energies, *names([temperature, *self.pressures.values(), *m.rate_parameter_names()]))
        self.input_units = expected_units(self.inputs, {**m.parameter_units(), **dict.fromkeys(energies, "eV")},
                                          [(temperature, "K"), *((v, "bar") for v in self.pressures.values())])
        extra = [Output("drc", ("step", "product")), Output("reaction_order", ("product", "gas")),
                 Output("apparent_activation_energy", ("product",), "eV")]
        self.declared = DeclaredOutputs(
            [Output("coverage", ("adsorbate",), bounds=(0.0, 1.0)), Output("free_sites", ("site",), bounds=(0.0, 1.0)),
             Output("rate", ("step",), "1/s"), Output("tof", ("product",), "1/s"), Output("selectivity", ("product",)),
             *([Output("site_tof", ("site", "product"), "1/s")] if len(m.sites) > 1 else []),
             *(spec for spec, wanted in zip(extra, self.options, strict=True) if wanted)],
            prefix, {"adsorbate": m.adsorbates, "site": m.sites, "step": m.step_names, "product": m.products,
                     "gas": m.gas},
        )
        self.status_messages = dict(STATUS_MESSAGES)

    def __call__(self, batch: Batch) -> Batch:
        m, p = self.mechanism, self.prefix
        reaction, barrier = batch.get(f"{p}reaction_energy"), batch.get(f"{p}barrier")
        n = len(batch[self.inputs[0]])
        temperature = resolve(self.temperature, batch, n)
        pressures = {gas: resolve(value, batch, n) for gas, value in self.pressures.items()}

        def solve(t, guess=None):
            k = rate_constants_at(m, t, batch, reaction, barrier)
            return solve_steady_state(m, k, pressures, guess, tolerance=self.tolerance)

        state = solve(temperature)
        tof = state.tof()
        out = {"coverage": state.coverages, "free_sites": state.free_sites, "rate": state.net_rates, "tof": tof,
               "selectivity": state.selectivity()}
        if len(m.sites) > 1:
            out["site_tof"] = state.site_tof(m.site_fractions(batch, n))
        drc, orders, barrier_wanted = self.options
        if drc:
            out["drc"] = degree_of_rate_control(state)
        if orders:
            out["reaction_order"] = reaction_orders(state)
        if barrier_wanted:
            out["apparent_activation_energy"] = apparent_activation_energy(lambda t: solve(t, state).tof(), temperature)
        return self.declared.batch(out, state.status)
