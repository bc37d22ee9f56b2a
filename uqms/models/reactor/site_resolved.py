"""Plug-flow reactor on a catalyst with a site distribution: the bed's rate is the site-averaged rate.

``reactor.pfr`` solves one micro-kinetic surface per sample at every bed point. Here each
sample's catalyst carries several site types (weights w_k, descriptor shifted by shift_k,
:mod:`uqms.inputs.sites`); at every bed point the surface is solved on every
(sample, site) pair in one batched call at the same gas composition, and the bed advances
with the observed rate r = sum_k w_k r_k(gas), not the rate of the mean site.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from uqms.chemistry.values import resolve
from uqms.inputs import sites as site_types
from uqms.inputs.sites import SiteDistribution
from uqms.models.microkinetics.from_energies import rate_constants_at
from uqms.models.microkinetics.rate_constants import RateConstants
from uqms.models.microkinetics.steady_state import solve_steady_state, uniform_guess
from uqms.models.reactor.conditions import ReactorConditions, surface_derivatives
from uqms.models.reactor.pfr import integrate_pfr
from uqms.models.reactor.stages import PFRStage
from uqms.models.stage import Batch


@dataclass
class SiteResolvedConditions(ReactorConditions):
    """Reactor conditions whose surface rate is the weighted mean over site types.

    Attributes (besides those of :class:`ReactorConditions`, whose ``rate_constants`` are
    those of the first site type and serve for the overall equilibrium only):
        site_rate_constants: (samples x sites, steps), sample-major.
        weights: share of each site type (sites,), summing to 1.
        theta: warm-start coverages of every site type, (samples, sites x surface species).
    """

    site_rate_constants: RateConstants | None = None  # required; defaulted only to follow the base fields
    weights: np.ndarray | None = None  # required
    _species: int = field(init=False)

    def __post_init__(self):
        if self.site_rate_constants is None or self.weights is None:
            raise TypeError("SiteResolvedConditions needs site_rate_constants and weights")
        super().__post_init__()
        m, n = len(self.weights), len(self.inlet)
        self._species = len(self.mechanism.surface_species)
        self.theta = uniform_guess(self.mechanism, n * m).reshape(n, m * self._species)

    def rates(self, rows: np.ndarray, extents: np.ndarray, guess: np.ndarray | None = None):
        """Site-averaged rate of each overall reaction per site (rows, reactions), 1/s, whether every
        site's surface converged, and the coverages of every site (rows, sites x surface species)."""
        m = len(self.weights)
        flat = (rows[:, None] * m + np.arange(m)).ravel()
        k = self.site_rate_constants[flat]
        pressures = np.repeat(self.partial_pressures(rows, extents), m, axis=0)
        start = self.theta[rows] if guess is None else guess
        state = solve_steady_state(self.mechanism, k, pressures, start.reshape(-1, self._species),
                                   tolerance=self.tolerance)
        ok = state.status == 0
        per_site = np.where(ok[:, None], self.steady_rates(state), 0.0).reshape(len(rows), m, -1)
        return (np.einsum("nsr,s->nr", per_site, self.weights), ok.reshape(-1, m).all(axis=1),
                state.theta.reshape(len(rows), -1))

    def surface_derivatives(self, rows: np.ndarray, extents: np.ndarray, theta: np.ndarray):
        """As :meth:`ReactorConditions.surface_derivatives`, for every site type: d ln(theta)/dx
        (rows, sites x surface species, reactions) and the site-averaged d rates/dx."""
        m = len(self.weights)
        flat = (rows[:, None] * m + np.arange(m)).ravel()
        pressures = np.repeat(self.partial_pressures(rows, extents), m, axis=0)
        slopes = np.repeat(self.pressure_slopes(rows, extents), m, axis=0)
        log_theta, rates = surface_derivatives(self.equations, self.reactions, self.site_rate_constants[flat], pressures,
                                               slopes, theta.reshape(-1, self._species))
        return (log_theta.reshape(len(rows), m * self._species, -1),
                np.einsum("nsab,s->nab", rates.reshape(len(rows), m, *rates.shape[1:]), self.weights))


class SiteResolvedPFRStage(PFRStage):
    """Isothermal, isobaric PFR whose catalyst has a site distribution (see module docstring).

    Unlike ``reactor.pfr`` it reads the descriptor and the mechanism's energy parameters
    (not precomputed step energies): each site type's energies follow from the descriptor
    shifted by that site's shift. Outputs as ``reactor.pfr``; ``sites`` stays the moles of
    active sites in the bed (all types together).

    Args:
        site_distribution: a :class:`SiteDistribution` or its workflow-file form.
        descriptor: the binding-energy input the sites shift (eV).
        **options: those of ``reactor.pfr`` except ``surrogate``.
    """

    kind = "pfr_sites"

    def __init__(self, site_distribution: SiteDistribution | Mapping[str, Any], descriptor: str, **options):
        if options.get("surrogate"):
            raise TypeError("reactor.pfr_sites has no surrogate option")
        super().__init__(**options)
        self.site_distribution = site_types.site_distribution(site_distribution)
        self.descriptor = descriptor
        energy = self.mechanism.energy_parameter_names()
        if descriptor not in energy:
            raise ValueError(f"descriptor {descriptor!r} is not read by the energy relations of "
                             f"{self.mechanism.name!r} ({energy})")
        p = self.prefix
        reactor = [name for name in self.inputs if name not in (f"{p}reaction_energy", f"{p}barrier")]
        self.inputs = tuple(dict.fromkeys([*energy, *reactor, *self.site_distribution.inputs]))
        declared = {**self.mechanism.parameter_units(), **self.input_units,
                    **dict.fromkeys(self.site_distribution.inputs, "eV")}  # the scale: eV per unit coordinate
        self.input_units = {name: declared[name] for name in self.inputs if name in declared}

    def conditions(self, batch: Batch) -> SiteResolvedConditions:
        """Conditions of a batch with rate constants of every (sample, site type)."""
        mech, sites = self.mechanism, self.site_distribution
        n, m = len(batch[self.descriptor]), len(sites)
        flat = {key: np.repeat(np.asarray(batch[key]), m, axis=0) for key in self.inputs if key != self.descriptor}
        flat[self.descriptor] = (np.asarray(batch[self.descriptor], dtype=float)[:, None] + sites.shifts(batch, n)).ravel()
        temperature = resolve(self.temperature, batch, n)
        k = rate_constants_at(mech, np.repeat(temperature, m), flat)
        first = k[::m]
        inlet = np.stack([resolve(self.inlet.get(g, 0.0), batch, n) for g in mech.gas], axis=1)
        amount = (resolve(self.sites, batch, n) if self.sites is not None
                  else resolve(self.catalyst_mass, batch, n) * resolve(self.site_density, batch, n))
        return SiteResolvedConditions(mech, first, inlet, resolve(self.pressure, batch, n), amount, self.tolerance,
                                      site_rate_constants=k, weights=sites.weights)

    def __call__(self, batch: Batch) -> Batch:
        return self.result(integrate_pfr(self.conditions(batch), None, self.rtol, self.atol, self.max_steps,
                                         self.method))

