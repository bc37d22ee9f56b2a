"""Cantera YAML surface mechanisms read into uqms mechanisms, and uqms mechanisms written as Cantera YAML.

Cantera itself parses and writes the YAML (``ct.Interface``, its reaction objects and
``write_yaml``), so what uqms reads is what Cantera means; nothing in a file is executed.

Units. Cantera's surface rates are per area, with gas concentrations ``1e5 p / (R T)``
(kmol/m^3, ``p`` in bar) and adsorbate concentrations ``G theta`` (kmol/m^2, ``G`` the phase's
site density); uqms's rates are per site of the step's site type, with pressures (bar) and
coverages. Several uqms site types share one Cantera phase (see below), whose coverages are
fractions of all sites: ``theta_cantera = f theta_uqms`` with ``f = G_type / G`` the type's share.
A step with ``n_g`` gas molecules on its left, surface species ``i`` (coefficients ``nu_i``,
``n_s`` in all) and rate constant counted per site of type ``s`` has::

    k_uqms = k_cantera * (1e5 / (R T))**n_g * G**n_s * prod_i f_i**nu_i / G_s

so an Arrhenius ``A T^b exp(-Ea / RT)`` keeps its form, ``b`` lowered by ``n_g``. A sticking
reaction, coefficient ``gamma = A T^b exp(-Ea / RT)``, has Cantera's rate constant
``gamma / G**n_s * sqrt(R T / (2 pi W))`` (``W`` the sticking species' molar mass), which per site
and bar is ``gamma * 1e5 / sqrt(2 pi W R T) * prod_i f_i**nu_i / G_s``: Arrhenius with ``b - 1/2``.
Cantera applies the Motz-Wise correction ``gamma / (1 - gamma / 2)`` only where a file asks for it
(off by default); it is read for temperature-independent coefficients. A coverage dependency
``10^(a theta) theta^m exp(-E theta / RT)`` on a Cantera coverage is uqms's with ``a f``, ``E f``
(eV), the same ``m`` and ``f^m`` in ``A``.

Reading (:func:`read_cantera`): the surface phase, the gas species its reactions use (mass from
the composition, partial pressure from the gas phase's state; the gas phase's own reactions are
no part of a surface mechanism and are left out, as the description says) and each reaction of
the phase as a step with Arrhenius parameters and coverage dependencies; a surface species' reaction order
beyond its coefficient (Cantera's ``orders``) is a coverage dependency ``m`` on it, with the
order, not the coefficient, in the power of ``G``. An edge phase joining surface phases
(Cantera's way of writing several site types) is read with its surfaces, each a site type, and
the reactions of all; the edge's rates count per metre of edge, so they take the edge length per
area of surface (``edge_length``), and Cantera's coverages there are uqms's (``f = 1`` above).
A reversible reaction (``<=>``), whose reverse Cantera takes from species thermochemistry,
becomes a reversible step whose reverse follows from equilibrium with a ``reaction_energy``
equal to the standard reaction free energy Cantera implies at the temperature read (exact
there, and only there); its coverage dependencies act on both directions, as in Cantera. Species get uqms's formula names (``CO(S)`` -> ``CO*``,
the empty site ``PT(S)`` -> ``*``); the description lists the renaming. What uqms cannot express
(reaction orders of gas species other than their coefficients, bulk phases, adsorbates on
several sites, electrochemistry, other rate types, coverage-dependent thermochemistry) raises a
:class:`~uqms.errors.WorkflowError` naming the file, the reaction and the feature.

Writing (:func:`cantera_yaml_content`, :func:`write_cantera_yaml`): one sample of a mechanism.
Each step is a Cantera reaction with its forward rate constant and, if reversible, a second
reaction with its reverse (Cantera's way of giving a reverse rate explicitly, as ``ck2yaml``
writes Chemkin's ``REV``), marked ``uqms-reverse-of: <step>`` so that reading the file back
restores one reversible step. Steps that give Arrhenius parameters keep them (valid at any
temperature; a reverse from equilibrium has the forward's form with ``Ea - dG(T)``, exact at
the sample's temperature and at any other where dG does not depend on it, i.e. without gas
free-energy terms); steps whose rates come from energies are written with their rate
constants at the sample's temperature. Coverage dependencies are written as they are; linear lateral interactions
(``[interactions]``) become the coverage dependencies they imply: the forward barrier moves by
``alpha dE(theta)`` with ``dE(theta) = sum_ij (products - reactants)_i eps_ij theta_j``, so
``E_j = alpha sum_i nu_i eps_ij`` forward and ``(alpha - 1) sum_i nu_i eps_ij`` reverse.
Several site types are written as one Cantera surface phase holding every type's species
(rather than a phase per type joined by an edge, which needs an edge length and which Cantera's
coverage solvers cannot advance together), with the phase's site density the sum of the types'
and each type's free site starting at its share: the reactions conserve each type's sites, so
its coverages keep summing to its share.
The phase records ``uqms-site-densities`` (kmol/m^2), each species its ``uqms-site`` and each
reaction the site type its rate constant counts per (``uqms-per-site``), which the reader uses
to restore the site types.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import constants

from uqms.chemistry.mechanism import _ADSORBATE, _GAS, Mechanism, _formula
from uqms.chemistry.values import resolve
from uqms.errors import WorkflowError

BAR = 1e5  # Pa
GAS_CONSTANT = constants.R * 1e3  # J/(kmol K), Cantera's units
AVOGADRO = constants.N_A * 1e3  # 1/kmol
EV_PER_KMOL = constants.e * AVOGADRO  # J/kmol of 1 eV per molecule
BOLTZMANN = constants.k / constants.e  # eV/K
#: Site density written for a single site type that gives neither density nor area (kmol/m^2,
#: 2.72e-9 mol/cm^2, a close-packed metal surface): per-site rates do not depend on it.
NOMINAL_SITE_DENSITY = 2.72e-8
SURFACE_THERMO = ("ideal-surface", "surface")
REVERSE_OF = "uqms-reverse-of"
SITE = "uqms-site"
SITE_DENSITIES = "uqms-site-densities"
PER_SITE = "uqms-per-site"
_NO_THERMO = {"model": "constant-cp", "T0": 298.15, "h0": 0.0, "s0": 0.0, "cp0": 0.0}


def cantera():
    """The ``cantera`` module, or an ImportError saying how to install it (not a core dependency)."""
    try:
        import cantera as ct
    except ImportError:
        raise ImportError("reading or writing Cantera YAML needs Cantera: pip install 'cantera>=3.2' "
                          "(it comes with uqms's test extra, pip install 'uqms[test]')") from None
    return ct


class _Surface:
    """Site types: densities (kmol/m^2), the type of each surface species and how its Cantera
    coverage scales with uqms's (``f``, its type's share of all sites, where site types share one
    Cantera phase; 1 where each type is a phase of its own)."""

    def __init__(self, densities: Mapping[str, float], site_of: Mapping[str, str], scale: Mapping[str, float]):
        self.densities, self.site_of, self.scale = dict(densities), dict(site_of), dict(scale)
        self.total = sum(self.densities.values())

    def log_factor(self, reactants: Mapping[str, float], gas: set[str], per_site: str) -> tuple[float, float]:
        """``ln F`` and ``n_g`` of ``k_uqms = k_cantera * F * T**-n_g`` (see the module docstring) for
        the reactants (or reaction orders) given; a surface species is at ``density of its type *
        theta_uqms`` (kmol/m^2) in Cantera."""
        n_gas = sum(c for s, c in reactants.items() if s in gas)
        log = n_gas * math.log(BAR / GAS_CONSTANT) - math.log(self.densities[per_site])
        for species, count in reactants.items():
            if species not in gas:
                log += count * math.log(self.densities[self.site_of[species]])
        return log, n_gas


@dataclass(frozen=True)
class _Kinetics:
    """Reactions of one Cantera surface or edge phase: the Cantera object, the site density its
    sticking reactions use (kmol/m^2; None for an edge) and the length of edge per area of
    surface its rates are multiplied by (1 for a surface)."""

    phase: Any
    sticking_density: float | None
    per_area: float


# --- reading ------------------------------------------------------------------------------
def read_cantera(path: str | Path, phase: str | None = None, temperature: float | None = None,
                 products: list[str] | None = None, edge_length: float | None = None) -> dict[str, Any]:
    """The content of a uqms mechanism file (a dict for :meth:`Mechanism.from_dict`) from Cantera YAML.

    One surface phase is one site type (or the site types uqms wrote into it). An edge phase
    joining surface phases reads each surface as a site type of its own (named after the phase,
    adsorbates ``formula*phase``, free sites ``*phase``), with the surfaces' reactions and the
    edge's; the edge's rates count per metre of edge, so it needs ``edge_length``.

    Args:
        path: Cantera YAML file.
        phase: the surface or edge phase to read; default the file's only edge phase, else its
            only surface phase.
        temperature: K, where the reverse of reversible reactions is taken from Cantera's
            thermochemistry and the gas state is read; default the phase's temperature.
        products: gas species (uqms names) whose turnover frequency is reported; default every
            gas species the reactions make or consume.
        edge_length: m of edge per m^2 of surface, for an edge phase's reactions.

    Raises:
        WorkflowError: Cantera cannot load the file, or it uses a feature uqms cannot express.
    """
    return _Reader(Path(path), phase, temperature, edge_length).mechanism(products)


def load_cantera_mechanism(path: str | Path, phase: str | None = None, temperature: float | None = None,
                           products: list[str] | None = None, edge_length: float | None = None) -> Mechanism:
    """:func:`read_cantera` checked as a :class:`Mechanism`."""
    return Mechanism.from_dict(read_cantera(path, phase, temperature, products, edge_length), str(path))


class _Reader:
    """A Cantera surface phase, or an edge and its surfaces, loaded by Cantera, as uqms steps and species."""

    def __init__(self, path: Path, phase: str | None, temperature: float | None, edge_length: float | None):
        ct = cantera()
        self.source = str(path)
        name = phase or self._default_phase(path)
        self.where = f"phases.{name}"
        try:
            top = ct.Interface(str(path), name)
        except (ct.CanteraError, OSError) as error:
            raise WorkflowError(self.source, self.where, f"Cantera cannot load the phase: {_first_line(error)}"
                                ) from None
        self.name = _name(top.name)
        thermo = top.input_data.get("thermo")
        if thermo == "edge":
            surfaces = list(top.adjacent.values())
            self._check_surfaces(surfaces, f"{self.where}.adjacent-phases")
            if top.n_reactions and (edge_length is None or edge_length <= 0):
                raise WorkflowError(self.source, self.where, "an edge's rates count per metre of edge: give "
                                    "edge_length, the metres of edge per m^2 of surface (a positive number)")
            edge = [_Kinetics(top, None, edge_length)] if top.n_reactions else []
        else:
            surfaces, edge = [top], []
            self._check_surfaces(surfaces, f"{self.where}.thermo")
        self.surfaces = surfaces
        self.kinetics = [_Kinetics(surface, surface.site_density, 1.0) for surface in surfaces] + edge
        adjacent = {p.name: p for surface in surfaces for p in surface.adjacent.values()}
        gases = {name: p for name, p in adjacent.items() if p.phase_of_matter == "gas"}
        others = sorted(set(adjacent) - set(gases))
        if len(gases) != 1 or others:
            raise WorkflowError(self.source, f"phases.{surfaces[0].name}.adjacent-phases", "uqms reads surfaces next "
                                f"to one gas phase; found gas phases {sorted(gases)} and other (bulk) phases {others}, "
                                "which are not supported")
        self.gas = next(iter(gases.values()))
        self.gas_names = set(self.gas.species_names)
        self.temperature = float(temperature if temperature is not None else surfaces[0].T)
        for surface in surfaces:
            gas = surface.adjacent[self.gas.name]
            gas.TPX = self.temperature, self.gas.P, self.gas.X
            surface.TP = self.temperature, self.gas.P
        top.TP = self.temperature, self.gas.P
        self.reactions = [(kinetics, i, reaction) for kinetics in self.kinetics
                          for i, reaction in enumerate(kinetics.phase.reactions())]
        self.names, self.sites = self._species()

    def _check_surfaces(self, surfaces: list, where: str) -> None:
        for surface in surfaces:
            thermo = surface.input_data.get("thermo")
            if thermo not in SURFACE_THERMO:
                raise WorkflowError(self.source, where, f"phase {surface.name!r} has thermo model {thermo!r}, which "
                                    f"is not supported: uqms reads {list(SURFACE_THERMO)} phases, joined by an edge")

    def _default_phase(self, path: Path) -> str:
        """The file's only edge phase, else its only surface phase (read with a safe YAML loader)."""
        from ruamel.yaml import YAML  # Cantera's own YAML library, installed with it
        from ruamel.yaml.error import YAMLError

        try:
            content = YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))
        except OSError as error:
            raise WorkflowError(self.source, "", f"cannot read the file ({error.strerror})") from None
        except YAMLError as error:
            raise WorkflowError(self.source, "", f"not valid YAML: {_yaml_problem(error)}") from None
        phases = [p for p in content.get("phases", []) if isinstance(p, dict)] if isinstance(content, dict) else []
        for kinds in (("edge",), SURFACE_THERMO):
            found = [p.get("name") for p in phases if p.get("thermo") in kinds]
            if len(found) == 1:
                return found[0]
            if found:
                raise WorkflowError(self.source, "phases", f"several phases {found} could be read; name one")
        raise WorkflowError(self.source, "phases", f"expected a surface phase (thermo {list(SURFACE_THERMO)}) or an "
                            "edge phase, found none")

    # --- species -------------------------------------------------------------------------
    def _species(self) -> tuple[dict[str, str], _Surface]:
        """uqms name of every species the reactions use, and the site types. A file uqms wrote
        (``uqms-site`` on its species) keeps its names and types; otherwise each surface phase is a
        site type, gases named as formulas, adsorbates ``formula*`` (``formula*phase`` with several
        phases), the empty site ``*`` (``*phase``)."""
        used: set[str] = set()
        for *_, reaction in self.reactions:
            used |= set(reaction.reactants) | set(reaction.products) | set(reaction.orders)
        for surface in self.surfaces:
            for k in surface.species_names:
                if k in used and surface.species(k).size != 1:
                    raise WorkflowError(self.source, f"species.{k}", f"{k!r} covers {surface.species(k).size:g} "
                                        "sites; uqms adsorbates occupy one site")
        written = self.surfaces[0].input_data.get(SITE_DENSITIES)
        names: dict[str, str] = {}
        if written and len(self.surfaces) == 1:
            surface = self.surfaces[0]
            used_here = [k for k in surface.species_names if k in used]
            site_of = {k: surface.species(k).input_data.get(SITE) for k in used_here}
            unknown = [k for k, s in site_of.items() if s not in written]
            if unknown:
                raise WorkflowError(self.source, f"species.{unknown[0]}.{SITE}", f"expected one of the site types "
                                    f"{list(written)} of {self.where}.{SITE_DENSITIES}")
            names = {k: k for k in used_here}
            total = sum(written.values())
            sites = _Surface({s: float(d) for s, d in written.items()}, site_of,
                             {k: written[s] / total for k, s in site_of.items()})
        else:
            several = len(self.surfaces) > 1
            densities, site_of = {}, {}
            gas_elements = {e for k in self.gas.species_names for e in self.gas.species(k).composition}
            for surface in self.surfaces:
                site = _name(surface.name)
                densities[site] = surface.site_density
                label = site if several else ""
                empty = []
                for k in surface.species_names:
                    if k not in used:
                        continue
                    site_of[k] = site
                    composition = {e: n for e, n in surface.species(k).composition.items() if e in gas_elements}
                    if composition:
                        names[k] = self._unique(_uqms_name(k, composition, "*", label), k, names)
                    else:
                        empty.append(k)
                if len(empty) > 1:
                    raise WorkflowError(self.source, f"phases.{surface.name}.species", f"several empty-site species "
                                        f"{empty}; uqms has one free site per site type")
                names.update(dict.fromkeys(empty, f"*{label}"))
            sites = _Surface(densities, site_of, dict.fromkeys(site_of, 1.0))
        for k in self.gas.species_names:
            if k in used:
                names[k] = self._unique(_uqms_name(k, self.gas.species(k).composition, "_"), k, names)
        return names, sites

    def _unique(self, name: str, species: str, taken: Mapping[str, str]) -> str:
        if name in taken.values():
            label = re.sub(r"[^A-Za-z0-9_]", "", species)
            name = f"{name}{label}" if "*" in name else f"{name}_{label}"
        if name in taken.values():
            raise WorkflowError(self.source, f"species.{species}", f"cannot give {species!r} a uqms name of its own "
                                f"(tried {name!r})")
        return name

    # --- reactions -----------------------------------------------------------------------
    def mechanism(self, products: list[str] | None) -> dict[str, Any]:
        steps: list[dict[str, Any]] = []
        by_id: dict[str, tuple[dict[str, Any], str]] = {}
        reverses = []
        for kinetics, i, reaction in self.reactions:
            if REVERSE_OF in reaction.input_data:
                reverses.append((kinetics, i, reaction))
                continue
            step, per_site = self._step(kinetics, i, reaction, f"r{len(steps)}")
            by_id[reaction.ID] = step, per_site
            steps.append(step)
        for kinetics, i, reaction in reverses:
            self._merge_reverse(kinetics, i, reaction, by_id.get(reaction.input_data[REVERSE_OF]))
        gas_used = {self.names[k]: k for k in self.gas.species_names if k in self.names}
        fractions = dict(zip(self.gas.species_names, self.gas.X))
        gas = {g: {"mass": _rounded(self.gas.molecular_weights[self.gas.species_index(k)]),
                   "pressure": _rounded(fractions[k] * self.gas.P / BAR)} for g, k in gas_used.items()}
        sites = {site: {"adsorbates": [self.names[k] for k, s in self.sites.site_of.items()
                                       if s == site and not self.names[k].startswith("*")],
                        "density": density * 1e3}  # mol/m^2
                 for site, density in self.sites.densities.items()}
        renamed = [f"{k} -> {n}" for k, n in self.names.items() if k != n]
        unused = [k for surface in self.surfaces for k in surface.species_names if k not in self.names]
        densities = ", ".join(f"{s.name} {s.site_density:.6g}" for s in self.surfaces)
        description = (f"read from {Path(self.source).name}, phase {self.where.split('.', 1)[1]!r} (site densities "
                       f"{densities} kmol/m^2); reverse rates of reversible reactions from Cantera's thermochemistry "
                       f"at {self.temperature:g} K")
        if renamed:
            description += "; species renamed: " + ", ".join(renamed)
        if unused:
            description += "; surface species in no reaction, left out: " + ", ".join(unused)
        gas_reactions = getattr(self.gas, "n_reactions", 0)
        if gas_reactions:
            description += f"; the {gas_reactions} reactions of gas phase {self.gas.name!r} are not read"
        return {"mechanism": {"name": self.name, "description": description, "products": products or list(gas)},
                "gas": gas, "sites": sites, "steps": steps}

    def _where(self, kinetics: _Kinetics, i: int, reaction) -> str:
        return f"phases.{kinetics.phase.name}.reactions[{i}] ({reaction.equation})"

    def _side(self, where: str, side: Mapping[str, float]) -> dict[str, int]:
        """One side of an equation in uqms names, with integer coefficients."""
        named: dict[str, int] = {}
        for species, coefficient in side.items():
            if species not in self.names:
                raise WorkflowError(self.source, where, f"species {species!r} is in no surface phase nor in the gas "
                                    "phase; uqms reads gas-surface mechanisms only")
            if coefficient != int(coefficient):
                raise WorkflowError(self.source, where, f"stoichiometric coefficient {coefficient} of {species!r} is "
                                    "not an integer")
            named[self.names[species]] = int(coefficient)
        return named

    def _step(self, kinetics: _Kinetics, i: int, reaction, default_name: str) -> tuple[dict[str, Any], str]:
        where = self._where(kinetics, i, reaction)
        reactants, products = self._side(where, reaction.reactants), self._side(where, reaction.products)
        surface_reactants = [k for k in reaction.reactants if k not in self.gas_names]
        if not surface_reactants:
            raise WorkflowError(self.source, where, "no surface species on the left; a uqms step counts its rate per "
                                "site of a site type on its left")
        per_site = reaction.input_data.get(PER_SITE) or self.sites.site_of[surface_reactants[0]]
        if per_site not in self.sites.densities:
            raise WorkflowError(self.source, f"{where}.{PER_SITE}", f"expected one of the site types "
                                f"{list(self.sites.densities)}, got {per_site!r}")
        name = reaction.ID if re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", reaction.ID or "") else default_name
        step: dict[str, Any] = {"name": name, "equation": f"{_text(reactants)} <=> {_text(products)}"}
        if len(self.sites.densities) > 1:
            step["per_site"] = per_site
        step.update(self._rate(kinetics, where, reaction, per_site, ""))
        if not reaction.reversible:
            step["reversible"] = False
            return step, per_site
        # K_uqms = k_f,uqms / k_r,uqms; Cantera's ratio of rate constants is its equilibrium constant
        forward, n_forward = self.sites.log_factor(reaction.reactants, self.gas_names, per_site)
        backward, n_backward = self.sites.log_factor(reaction.products, self.gas_names, per_site)
        ratio = kinetics.phase.forward_rate_constants[i] / kinetics.phase.reverse_rate_constants[i]
        log_k = math.log(ratio) + forward - backward - (n_forward - n_backward) * math.log(self.temperature)
        step["reaction_energy"] = -BOLTZMANN * self.temperature * log_k
        return step, per_site

    def _rate(self, kinetics: _Kinetics, where: str, reaction, per_site: str, suffix: str) -> dict[str, Any]:
        """uqms Arrhenius keys (``A``, ``b``, ``Ea`` in eV, ``coverage_dependencies``; with ``suffix``)
        of one Cantera reaction, per site of ``per_site`` and bar of each gas reactant."""
        rate = reaction.rate
        orders = {**reaction.reactants, **reaction.orders}  # Cantera's rate law: prod_k C_k**order_k
        changed = {k: o - reaction.reactants.get(k, 0.0) for k, o in orders.items() if o != reaction.reactants.get(k)}
        if any(k in self.gas_names for k in changed):  # (Cantera allows orders in irreversible reactions only)
            raise WorkflowError(self.source, where, f"reaction orders {dict(reaction.orders)} differ from the "
                                "stoichiometry of a gas species; uqms steps follow mass action in the pressures")
        if rate.type not in ("interface-Arrhenius", "sticking-Arrhenius"):
            raise WorkflowError(self.source, where, f"rate type {rate.type!r} is not supported; uqms reads "
                                "'interface-Arrhenius' (rate-constant) and 'sticking-Arrhenius' (sticking-coefficient)")
        if rate.uses_electrochemistry:
            raise WorkflowError(self.source, where, "electrochemical reactions are not supported")
        a, b, ea = rate.pre_exponential_factor, rate.temperature_exponent, rate.activation_energy / EV_PER_KMOL
        log_factor, n_gas = self.sites.log_factor(orders, self.gas_names, per_site)
        log_factor += math.log(kinetics.per_area)
        if rate.type == "sticking-Arrhenius":
            n_surface = sum(c for k, c in orders.items() if k not in self.gas_names)
            if kinetics.sticking_density is None:
                raise WorkflowError(self.source, where, "a sticking reaction on an edge is not supported")
            if n_gas != 1 or rate.sticking_order != n_surface:
                raise WorkflowError(self.source, where, "a sticking reaction needs one gas molecule and the surface "
                                    f"reactants' order as sticking order; found {n_gas} and {rate.sticking_order}")
            if rate.motz_wise_correction:
                if b != 0 or ea != 0:
                    raise WorkflowError(self.source, where, "the Motz-Wise correction of a temperature-dependent "
                                        "sticking coefficient is not an Arrhenius form; uqms cannot express it")
                a = a / (1 - a / 2)
            # gamma / G**n_s * sqrt(R T / (2 pi W)): Arrhenius in T with b + 1/2 and A * sqrt(R / (2 pi W))
            a *= math.sqrt(GAS_CONSTANT / (2 * math.pi * rate.sticking_weight)) / kinetics.sticking_density ** n_surface
            b += 0.5
        # a surface species' order beyond its coefficient is a power of its coverage: Cantera's ``m``
        dependencies = {self.names[k]: {"a": 0.0, "m": m, "E": 0.0} for k, m in changed.items()}
        for species, dependency in rate.coverage_dependencies.items():
            if species not in self.sites.site_of:
                raise WorkflowError(self.source, where, f"coverage dependency on {species!r}, which is not a "
                                    "surface species of the reactions read")
            f = self.sites.scale[species]
            read = {"a": dependency["a"] * f, "m": dependency["m"], "E": dependency["E"] / EV_PER_KMOL * f}
            dependencies[self.names[species]] = _combined(dependencies, {self.names[species]: read})[
                self.names[species]]
            log_factor += dependency["m"] * math.log(f)
        keys = {"A": a * math.exp(log_factor), "b": b - n_gas, "Ea": ea}
        if dependencies:
            keys["coverage_dependencies"] = dependencies
        return {f"{key}{suffix}": value for key, value in keys.items()}

    def _merge_reverse(self, kinetics: _Kinetics, i: int, reaction, found: tuple[dict[str, Any], str] | None) -> None:
        where = self._where(kinetics, i, reaction)
        if found is None:
            raise WorkflowError(self.source, f"{where}.{REVERSE_OF}", "no reaction has the id "
                                f"{reaction.input_data[REVERSE_OF]!r}")
        step, per_site = found
        left, right = _text(self._side(where, reaction.reactants)), _text(self._side(where, reaction.products))
        if step["equation"] != f"{right} <=> {left}" or step.get("reversible") is not False:
            raise WorkflowError(self.source, f"{where}.{REVERSE_OF}", f"expected the reverse of the irreversible "
                                f"reaction {step['equation']!r}, written once")
        del step["reversible"]
        step.update(self._rate(kinetics, where, reaction, per_site, "_reverse"))


def _uqms_name(species: str, composition: Mapping[str, float], separator: str, label: str = "") -> str:
    """A uqms formula name for a Cantera species: its own name where that is its formula (``CO``,
    ``CO*``; ``OH(S)`` -> ``OH*``), else the formula of its composition with its name as label;
    an adsorbate ends with ``label`` (its site type where there are several)."""
    counts = {e: int(n) for e, n in composition.items()}
    pattern = _ADSORBATE if separator == "*" else _GAS
    match = pattern.match(species)
    if match and _formula(match.group(1)) == counts and (separator == "_" or match.group(2) == label):
        return species
    formula = "".join(f"{e}{n if n > 1 else ''}" for e, n in counts.items())
    if separator == "*":
        base = re.match(r"[A-Za-z0-9]*", species).group(0)
        return f"{base if _formula(base) == counts else formula}*{label}"
    if formula.upper() == species.upper():  # AR -> Ar
        return formula
    return f"{formula}_{re.sub(r'[^A-Za-z0-9]', '', species)}"


def _rounded(value: float) -> float:
    """``value`` to 15 significant digits: 0.5, not 0.5000000000000001 from Cantera's X * P."""
    return float(f"{value:.15g}")


def _name(text: str) -> str:
    name = re.sub(r"\W", "_", text)
    return name if re.match(r"^[A-Za-z_]", name) else f"m_{name}"


def _text(side: Mapping[str, int]) -> str:
    return " + ".join(f"{c} {s}" if c > 1 else s for s, c in side.items())


def _first_line(error: Exception) -> str:
    """Cantera's message without the excerpt of the file it quotes: the file may be any file."""
    kept = []
    for line in (line.strip() for line in str(error).splitlines()):
        if line.startswith(("|", ">", "'''", "Existing keys")):
            break
        if line and not set(line) <= {"*"}:
            kept.append(line.split("Node begins with")[0].strip())
    return " ".join(kept[:4])[:500]


def _yaml_problem(error) -> str:
    """What ruamel's parser found and where, without the excerpt of the file it quotes."""
    mark = getattr(error, "problem_mark", None)
    where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
    return f"{getattr(error, 'problem', None) or type(error).__name__}{where}"


# --- writing ------------------------------------------------------------------------------
def cantera_yaml_content(mechanism: Mechanism, temperature: float, forward: np.ndarray, reverse: np.ndarray,
                         sample: Mapping[str, float] | None = None,
                         pressures: Mapping[str, float] | None = None) -> dict[str, Any]:
    """The content of a Cantera YAML file (phases, species, reactions) for one sample of a mechanism.

    Args:
        mechanism: the mechanism.
        temperature: K, the state written and where steps whose rates come from energies are evaluated.
        forward, reverse: rate constants of every step at ``temperature`` and zero coverage for this
            sample, per site of the whole surface (1/s, times 1/bar per gas reactant), as
            ``uqms.models.microkinetics.from_energies.rate_constants_at`` gives them.
        sample: values of the batch names the mechanism reads.
        pressures: bar, per gas species; default the mechanism's.

    Raises:
        WorkflowError: no gas pressure, or a batch name without a value in ``sample``.
    """
    m, t = mechanism, float(temperature)
    batch = {name: np.array([float(value)]) for name, value in (sample or {}).items()}

    def value(v) -> float:
        if isinstance(v, str) and v not in batch:
            raise WorkflowError(m.source, "", f"the batch name {v!r} needs a value in the sample")
        return float(resolve(v, batch, 1)[0])

    pressure = {g: m.config.gas[g].pressure for g in m.gas} | dict(pressures or {})
    total = sum(pressure.values())
    if total <= 0:
        raise WorkflowError(m.source, "gas", "Cantera's gas phase needs a positive total pressure; give the pressure "
                            "of at least one gas species")
    densities = {}
    for site in m.sites:
        density = m.site_density(site)
        densities[site] = NOMINAL_SITE_DENSITY if density is None else value(density) * 1e-3  # kmol/m^2
    site_of = {a: m.sites[s] for a, s in zip(m.adsorbates, m.adsorbate_site)} | dict(zip(m.free_sites, m.sites))
    all_sites = sum(densities.values())
    sites = _Surface(densities, site_of, {k: densities[s] / all_sites for k, s in site_of.items()})
    gas = set(m.gas)
    eps = m.interaction_matrix(batch, 1)[0] if m.has_interactions else None
    reactions = []
    for j, step in enumerate(m.steps):
        entry = step.entry
        given = step.rates_given
        share = sites.densities[step.site] / sites.total  # of all sites: k per site of the step's type is k / share
        ahead = _given(value, entry.k, entry.A, entry.b, entry.Ea) if given else (float(forward[j]) / share, 0.0, 0.0)
        note = "Arrhenius parameters as given" if given else f"rate constant at {t:g} K"
        dependencies = {s: {k: value(getattr(d, k)) for k in ("a", "m", "E")}
                        for s, d in entry.coverage_dependencies.items()}
        shift = _interaction_shift(m, step, eps, value) if eps is not None else {}
        reactions.append(_reaction(sites, gas, step.name, step.reactants, step.products, ahead, step.site,
                                   _combined(dependencies, shift[0]) if shift else dependencies, note))
        if not entry.reversible:
            continue
        if step.reverse_given:
            back = _given(value, entry.k_reverse, entry.A_reverse, entry.b_reverse, entry.Ea_reverse)
            note = "Arrhenius parameters as given"
            back_dependencies = {s: {k: value(getattr(d, k)) for k in ("a", "m", "E")}
                                 for s, d in entry.coverage_dependencies_reverse.items()}
        else:
            free = BOLTZMANN * t * math.log(float(reverse[j]) / float(forward[j]))  # dG(T), eV
            back = (ahead[0], ahead[1], ahead[2] - free) if given else (float(reverse[j]) / share, 0.0, 0.0)
            note = f"forward Arrhenius parameters over the equilibrium constant at {t:g} K" if given else \
                f"rate constant at {t:g} K"
            back_dependencies = dependencies
        reactions.append(_reaction(sites, gas, f"{step.name}_reverse", step.products, step.reactants, back, step.site,
                                   _combined(back_dependencies, shift[1]) if shift else back_dependencies, note,
                                   reverse_of=step.name))
    content = _content(m, t, pressure, total, sites, reactions)
    ct = cantera()
    try:
        cantera_interface(content)
    except ct.CanteraError as error:
        raise WorkflowError(m.source, "", f"Cantera rejects the mechanism written: {_first_line(error)}") from None
    return content


def _given(value, k, a, b, ea) -> tuple[float, float, float]:
    """``(A, b, Ea)`` of a rate constant given as ``k`` or Arrhenius parameters."""
    if k is not None:
        return value(k), 0.0, 0.0
    return value(a), value(b if b is not None else 0.0), value(ea if ea is not None else 0.0)


def _interaction_shift(m: Mechanism, step, eps: np.ndarray, value) -> tuple[dict, dict]:
    """Coverage dependencies (forward, reverse) equivalent to the linear lateral interactions."""
    entry = step.entry
    if entry.interaction_fraction is not None:
        alpha = value(entry.interaction_fraction)
    elif entry.bep is not None:
        alpha = value(entry.bep.slope)
    else:
        alpha = 0.5
    change = np.zeros(len(m.adsorbates))
    for side, sign in ((step.products, 1), (step.reactants, -1)):
        for species, count in side.items():
            if species in m.adsorbates:
                change[m.adsorbates.index(species)] += sign * count
    shift = change @ eps  # eV per unit coverage of each adsorbate
    forward = {a: {"a": 0.0, "m": 0.0, "E": alpha * s} for a, s in zip(m.adsorbates, shift) if s}
    backward = {a: {"a": 0.0, "m": 0.0, "E": (alpha - 1) * s} for a, s in zip(m.adsorbates, shift) if s}
    return forward, backward


def _combined(first: Mapping[str, dict], second: Mapping[str, dict]) -> dict[str, dict]:
    """Product of two sets of coverage-dependency factors: exponents add."""
    out = {s: dict(d) for s, d in first.items()}
    for s, d in second.items():
        out[s] = {k: out.get(s, {}).get(k, 0.0) + d[k] for k in ("a", "m", "E")}
    return out


def _reaction(sites: _Surface, gas: set[str], name: str, reactants: Mapping[str, int], products: Mapping[str, int],
              arrhenius: tuple[float, float, float], per_site: str, dependencies: Mapping[str, dict], note: str,
              reverse_of: str | None = None) -> dict[str, Any]:
    """One irreversible Cantera reaction from a uqms rate constant (inverse of the reader's conversion)."""
    log_factor, n_gas = sites.log_factor(reactants, gas, per_site)
    a, b, ea = arrhenius
    cantera_dependencies = {}
    for species, d in dependencies.items():
        f = sites.scale[species]
        cantera_dependencies[species] = {"a": d["a"] / f, "m": d["m"], "E": d["E"] / f}
        log_factor += d["m"] * math.log(f)
    reaction = {"equation": f"{_text(reactants)} => {_text(products)}",
                "rate-constant": {"A": a * math.exp(-log_factor), "b": b + n_gas, "Ea": ea}, "id": name, "note": note}
    if cantera_dependencies:
        reaction["coverage-dependencies"] = cantera_dependencies
    if len(sites.densities) > 1:
        reaction[PER_SITE] = per_site
    if reverse_of is not None:
        reaction[REVERSE_OF] = reverse_of
    return reaction


def _content(m: Mechanism, t: float, pressure: Mapping[str, float], total: float, sites: _Surface,
             reactions: list[dict]) -> dict[str, Any]:
    composition = {s: _formula(re.split(r"[*_]", s)[0]) or {} for s in (*m.gas, *m.adsorbates)}
    composition.update({free: {} for free in m.free_sites})
    elements = sorted({e for c in composition.values() for e in c})
    surface_species = [*m.free_sites, *m.adsorbates]
    several = len(m.sites) > 1
    surface = {"name": m.name if several else m.sites[0], "thermo": "ideal-surface", "adjacent-phases": ["gas"],
               "elements": elements, "species": surface_species, "kinetics": "surface", "reactions": "all",
               "site-density": sites.total,
               "state": {"T": t, "P": total * BAR,
                         "coverages": {free: sites.densities[s] / sites.total for free, s in zip(m.free_sites, m.sites)}}}
    if several:
        surface[SITE_DENSITIES] = dict(sites.densities)
    species = [{"name": s, "composition": composition[s], "thermo": dict(_NO_THERMO)}
               | ({SITE: sites.site_of[s]} if several and s in sites.site_of else {})
               for s in (*m.gas, *surface_species)]
    return {
        "description": f"uqms mechanism {m.name!r} at T = {t:g} K" + (f": {m.description}" if m.description else ""),
        "units": {"length": "m", "quantity": "kmol", "activation-energy": "eV"},
        "phases": [{"name": "gas", "thermo": "ideal-gas", "elements": elements, "species": list(m.gas),
                    "state": {"T": t, "P": total * BAR, "X": {g: p / total for g, p in pressure.items() if p > 0}}},
                   surface],
        "species": species,
        "reactions": reactions,
    }


def cantera_interface(content: Mapping[str, Any]):
    """The ``ct.Interface`` of the surface phase of :func:`cantera_yaml_content`'s content."""
    ct = cantera()
    surface = next(p["name"] for p in content["phases"] if p["thermo"] in SURFACE_THERMO)
    return ct.Interface(yaml=json.dumps(content), name=surface)  # JSON is YAML; Cantera parses it


def write_cantera_yaml(content: Mapping[str, Any], path: str | Path) -> Path:
    """Write :func:`cantera_yaml_content`'s content as a Cantera YAML file through Cantera's writer."""
    path = Path(path)
    cantera_interface(content).write_yaml(str(path), units={"activation-energy": "eV"}, precision=16)
    return path

