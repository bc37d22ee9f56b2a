"""Workflow stages of the reactor scale: ``reactor.cstr`` and ``reactor.pfr``."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from uqms.chemistry.mechanism import mechanism_from_options
from uqms.chemistry.values import Value, expected_units, names, resolve
from uqms.models.microkinetics.from_energies import rate_constants_at
from uqms.models.outputs import DeclaredOutputs, DeclaresOutputs, Output
from uqms.models.reactor.conditions import ReactorConditions
from uqms.models.reactor.cstr import solve_cstr
from uqms.models.reactor.outlet import STATUS_MESSAGES, ReactorOutlet
from uqms.models.reactor.pfr import METHODS, integrate_pfr
from uqms.models.reactor.reactions import OverallReactions
from uqms.models.reactor.surrogate import PathSurrogate
from uqms.models.stage import Batch


class _ReactorStage(DeclaresOutputs):
    """Options and outputs shared by both reactors.

    The mechanism may make several independent overall reactions (found from its
    stoichiometry, :class:`~uqms.models.reactor.reactions.OverallReactions`).

    Inputs: ``<prefix>reaction_energy`` and ``<prefix>barrier`` (eV, samples x steps, e.g.
    from ``energetics.scaling``), and every name given below or read by the mechanism's
    rate options. Outputs (``<prefix>`` prepended): ``conversion`` of the reactant and
    ``equilibrium_conversion`` (1, every reaction at equilibrium), ``reactant_conversion``
    of every reactant (reactant), ``yield`` and ``selectivity`` of each product per reactant
    fed and converted, counted in the reactant's atoms (product), ``mole_fraction`` and
    ``outlet_flow`` (gas; mol/s) at the outlet, ``approach_to_equilibrium`` Q/K of each
    overall reaction at the outlet (reaction), ``element_imbalance`` (1, relative).

    Args:
        mechanism_file: mechanism TOML file (or ``mechanism``: a Mechanism or its dict).
        inlet: ``{gas: batch name or number}``, molar flows in mol/s (gases not given: 0).
        temperature: K; pressure: total pressure, bar (batch names or numbers).
        sites: moles of active sites, or ``catalyst_mass`` (g) times ``site_density`` (mol/g).
        reactant: gas whose conversion is reported (default: the first one the reactions consume).
        tolerance: steady-state tolerance of the surface solves.
        prefix: prepended to input, output and dimension names.
    """

    kind = ""

    def __init__(self, mechanism_file: str | None = None, mechanism=None, inlet: Mapping[str, Value] | None = None,
                 temperature: Value = "T", pressure: Value = "p", sites: Value | None = None,
                 catalyst_mass: Value | None = None, site_density: Value | None = None,
                 reactant: str | None = None, tolerance: float = 1e-12, prefix: str = ""):
        self.mechanism = m = mechanism_from_options(mechanism_file, mechanism)
        self.reactions = OverallReactions.of(m)
        self.inlet = dict(inlet or {})
        unknown = sorted(set(self.inlet) - set(m.gas))
        if not self.inlet or unknown:
            raise TypeError(f"inlet must give molar flows of gas species of {m.name!r} {list(m.gas)}; "
                            f"got {sorted(self.inlet)}")
        if (sites is None) == (catalyst_mass is None or site_density is None):
            raise TypeError("give either sites (mol) or both catalyst_mass (g) and site_density (mol/g)")
        consumed = self.reactions.reactants
        self.reactant = reactant or consumed[0]
        if self.reactant not in consumed:
            raise TypeError(f"reactant {self.reactant!r} is not consumed by {' ; '.join(self.reactions.equations)!r}")
        self.temperature, self.pressure = temperature, pressure
        self.sites, self.catalyst_mass, self.site_density = sites, catalyst_mass, site_density
        self.tolerance, self.prefix = tolerance, prefix
        self.name = f"reactor.{self.kind}({m.name})"
        self.inputs = (f"{prefix}reaction_energy", f"{prefix}barrier",
                       *names([temperature, pressure, *self.inlet.values(), sites, catalyst_mass, site_density,
                               *m.rate_parameter_names()]))
        self.input_units = expected_units(
            self.inputs, {**m.parameter_units(), f"{prefix}reaction_energy": "eV", f"{prefix}barrier": "eV"},
            [(temperature, "K"), (pressure, "bar"), *((v, "mol/s") for v in self.inlet.values()), (sites, "mol"),
             (catalyst_mass, "g"), (site_density, "mol/g")])
        self.declared = DeclaredOutputs(
            [Output("conversion"), Output("equilibrium_conversion", bounds=(0.0, 1.0)),
             Output("reactant_conversion", ("reactant",)), Output("yield", ("product",)),
             Output("selectivity", ("product",)), Output("mole_fraction", ("gas",), bounds=(0.0, 1.0)),
             Output("outlet_flow", ("gas",), "mol/s"), Output("approach_to_equilibrium", ("reaction",)),
             Output("element_imbalance"), *self._extra_outputs()],
            prefix, {"product": m.products, "gas": m.gas, "reactant": consumed, "reaction": self.reactions.equations},
        )
        self.status_messages = dict(STATUS_MESSAGES)

    def _extra_outputs(self) -> list[Output]:
        return []

    def conditions(self, batch: Batch) -> ReactorConditions:
        """The reactor conditions of a batch, rate constants at the reactor temperature."""
        m, p = self.mechanism, self.prefix
        reaction, barrier = batch[f"{p}reaction_energy"], batch[f"{p}barrier"]
        n = len(reaction)
        temperature = resolve(self.temperature, batch, n)
        k = rate_constants_at(m, temperature, batch, reaction, barrier)
        inlet = np.stack([resolve(self.inlet.get(g, 0.0), batch, n) for g in m.gas], axis=1)
        sites = (resolve(self.sites, batch, n) if self.sites is not None
                 else resolve(self.catalyst_mass, batch, n) * resolve(self.site_density, batch, n))
        return ReactorConditions(m, k, inlet, resolve(self.pressure, batch, n), sites, self.tolerance)

    def result(self, outlet: ReactorOutlet, extra: Mapping[str, np.ndarray] | None = None) -> Batch:
        products, reactant = self.mechanism.products, self.reactant
        ok = outlet.status == 0
        out = {"conversion": outlet.conversion(reactant),
               "equilibrium_conversion": outlet.equilibrium_conversion(reactant),
               "reactant_conversion": np.stack([outlet.conversion(r) for r in self.reactions.reactants], axis=1),
               "yield": np.stack([outlet.yields(q, reactant) for q in products], axis=1),
               "selectivity": np.stack([outlet.selectivity(q, reactant) for q in products], axis=1),
               "mole_fraction": outlet.mole_fractions, "outlet_flow": outlet.flows,
               "approach_to_equilibrium": outlet.approach_to_equilibrium,
               "element_imbalance": np.where(ok, outlet.imbalance, np.nan), **(extra or {})}
        return self.declared.batch(out, outlet.status)


class CSTRStage(_ReactorStage):
    """Isothermal, isobaric CSTR with the micro-kinetic steady state at the outlet composition.

    Inputs, outputs and options: see :class:`_ReactorStage`.
    """

    kind = "cstr"

    def __call__(self, batch: Batch) -> Batch:
        return self.result(solve_cstr(self.conditions(batch)))


class PFRStage(_ReactorStage):
    """Isothermal, isobaric plug-flow reactor with the micro-kinetic steady state at every point.

    Inputs, outputs and shared options: see :class:`_ReactorStage`. Further options:
    ``rtol``, ``atol`` (per total inlet flow) and ``max_steps`` of the integration,
    ``method`` (``"auto"``, ``"explicit"`` or ``"stiff"``: :func:`~uqms.models.reactor.pfr.integrate_pfr`);
    ``surrogate``: integrate with a per-sample fitted surface rate
    (:class:`~uqms.models.reactor.surrogate.PathSurrogate` of ``surrogate_degree``), which
    adds the output ``surrogate_error``, its largest relative rate error on held-out points.
    """

    kind = "pfr"

    def __init__(self, *args, rtol: float = 1e-7, atol: float = 1e-20, max_steps: int = 2000, method: str = "auto",
                 surrogate: bool = False, surrogate_degree: int = 12, **kwargs):
        if method not in METHODS:
            raise TypeError(f"method must be one of {METHODS}, got {method!r}")
        self.rtol, self.atol, self.max_steps, self.method = rtol, atol, max_steps, method
        self.surrogate, self.surrogate_degree = surrogate, surrogate_degree
        super().__init__(*args, **kwargs)
        if surrogate and len(self.reactions) != 1:
            raise TypeError(f"surrogate needs a mechanism with one overall reaction; {self.mechanism.name!r} makes "
                            f"{len(self.reactions)}: {list(self.reactions.equations)}")

    def _extra_outputs(self) -> list[Output]:
        return [Output("surrogate_error")] if self.surrogate else []

    def __call__(self, batch: Batch) -> Batch:
        conditions = self.conditions(batch)
        if not self.surrogate:
            return self.result(integrate_pfr(conditions, None, self.rtol, self.atol, self.max_steps, self.method))
        surrogate = PathSurrogate.fit(conditions, self.surrogate_degree)
        outlet = integrate_pfr(conditions, surrogate.rate, self.rtol, self.atol, self.max_steps, self.method)
        return self.result(outlet, {"surrogate_error": np.where(outlet.status == 0, surrogate.error, np.nan)})
