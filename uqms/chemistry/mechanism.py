"""Reaction mechanisms: gas species, site types, adsorbates and elementary steps.

A mechanism is written in TOML (or as the equivalent Python dict) and checked like a
workflow file: every problem raises one :class:`~uqms.errors.WorkflowError` naming the
file, the key path and what was expected. Example::

    [mechanism]
    name = "co_oxidation"
    products = ["CO2"]

    [gas.CO]
    mass = 28.010            # amu
    pressure = 0.1           # bar (default; a stage may read it from the batch)

    [sites.s]
    adsorbates = ["CO*", "O*"]
    site_area = 6.4          # Angstrom^2, needed by collision-theory steps

    [[steps]]
    equation = "CO + * <=> CO*"
    reaction_energy = -1.2   # eV
    barrier = 0.0            # eV
    sticking = 1.0           # collision theory for the adsorption

Tokens in equations: gas species (``CO2``; ``C4H8_cis`` labels an isomer), adsorbates (``CO*``; any name with a ``*``
listed under a site type), free sites (``*`` when there is one site type, ``*<site>``
otherwise), each with an optional integer coefficient (``2N*``, ``2 *``). Equations are
written ``<=>`` and must balance elements and the sites of each type; a step is reversible
unless it sets ``reversible = false`` (its reverse rate constant is then zero).

Energies (eV) are numbers, names of batch entries, or linear scaling relations
``{descriptor = "E_N", slope = 0.1, intercept = -0.44}`` whose slope and intercept may
be names too. A step's reaction energy is given directly (``reaction_energy``) or follows
from the energies of its species (``[adsorbates."N*"].energy``, ``[gas.NH3].energy``).
Its barrier comes from exactly one of ``barrier`` (absolute), ``bep`` (Bronsted-Evans-
Polanyi: Ea = slope dE + intercept) or ``transition_state`` (a scaling relation for the
transition-state energy relative to the step's initial state).

Instead of energies a step may give its rate constants directly: ``k`` (1/s), or
Arrhenius parameters ``A`` (1/s), ``Ea`` (eV, default 0) and ``b`` (default 0) for
``A T^b exp(-Ea / k_B T)`` (Cantera's form); with gas molecules on the left the unit
carries 1/bar per molecule. The reverse of such a reversible step is ``k_reverse`` or
``A_reverse``/``Ea_reverse``/``b_reverse``, or follows from equilibrium with the step's
``reaction_energy``. Every one of these may be a batch name.

Free-energy corrections G(T, 1 bar) - E (eV) of the species (:mod:`uqms.chemistry.thermochemistry`):
a gas takes NIST ``shomate`` coefficients with a ``zero_point_energy``, or an ``ideal_gas``
table (geometry, symmetry number, spin, frequencies, and its atoms from ``ase.build.molecule``
or given positions), plus any ``free_energy_correction``; an adsorbate may list its
``frequencies`` (harmonic limit), and a step its ``transition_state_frequencies`` (the real
modes of its transition state). Frequencies are in cm^-1 and each may be a batch name. A
species without them has no correction. Every standard reaction free energy adds the
corrections of the step's species to its electronic reaction energy. Example::

    [gas.CO]
    mass = 28.010
    energy = 0.0
    ideal_gas = { geometry = "linear", symmetry_number = 1, spin = 0, frequencies = [2143.0] }

    [adsorbates."CO*"]
    energy = -1.2
    frequencies = ["nu_CO", 350.0, 300.0, 200.0, 150.0, 90.0]   # the stretch an uncertain input

``[mechanism] transition_state`` names how a step's barrier becomes a free-energy barrier:
``"electronic"`` (the default, uqms's convention so far): the electronic barrier clipped to
``max(0, dE)``, plus the transition state's correction minus those of the species consumed
(gas molecules and adsorbates), kept at least ``max(0, dG)``; ``"free_energy"`` (CatMAP's):
the transition state's free energy above the initial state's (the unclipped electronic barrier
plus the same corrections), clipped to ``max(G initial, G final)``; a step with ``barrier = 0``
has no transition state there, so its free-energy barrier is ``max(0, dG)``.

Several site types (a step and a terrace site, say) each keep their own site balance and
need their density, ``density`` (mol/m^2) or ``site_area`` (Angstrom^2, one site per area)::

    [sites.step]
    adsorbates = ["N*step", "H*step"]
    density = 0.15e-5            # mol/m^2; may be a batch name (an uncertain step-site share)

    [sites.terrace]
    adsorbates = ["H*terrace"]
    density = 1.35e-5

    [[steps]]                    # spill-over: H moves from a step to a terrace site
    equation = "H*step + *terrace <=> *step + H*terrace"
    k = 1e6
    reaction_energy = 0.05       # the reverse from equilibrium
    per_site = "step"            # the default: the site type of the first surface species on the left

Free sites are written ``*step``, ``*terrace``; coverages count per site of their own type.
A step's rate constant (given or computed, collision theory with its site type's area)
counts per site of its ``per_site`` type. Rates and turnover frequencies reported count per
site of the whole surface (all types, weighted by their densities): a step's rate per site
of its type times that type's share of all sites. A single site type needs no density.

Coverage-dependent energies, the linear (first-order) interaction model of CatMAP: the
adsorption energy of adsorbate i is E_i(theta) = E_i(0) + sum_j eps_ij theta_j, with eps_ij
(eV per unit coverage of j, any number or batch name; taken as written, no symmetrisation)
in a table ``[interactions] "N*" = {"N*" = 0.3, "H*" = "eps_NH"}``. A step's reaction energy
shifts by dE(theta) = sum_i (products - reactants)_i (E_i(theta) - E_i(0)); its transition
state by the initial state's shift plus ``interaction_fraction`` (alpha) times dE(theta),
so the forward barrier moves by alpha dE(theta) and the reverse by (alpha - 1) dE(theta)
and the equilibrium constant by exp(-dE(theta) / k_B T). alpha defaults to the step's BEP
slope (``bep``), else 0.5 (the transition state half-way between initial and final state).
The shifts act on the rate constants at zero coverage as factors; barriers are clipped at
zero coverage only, so rates stay smooth in the coverages.

Cantera's coverage-dependent rate constants: ``coverage_dependencies = {"O*" = {a = 0.0,
m = 0.0, E = 0.2}}`` multiplies the forward rate constant by 10^(a theta) theta^m
exp(-E theta / k_B T) (``E`` in eV; ``a`` and ``E`` may be batch names, ``m`` is a number).
The reverse of a step from equilibrium carries the same factor; a step that gives its
reverse (``k_reverse``, ``A_reverse``) may give it its own ``coverage_dependencies_reverse``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeFloat,
    PositiveFloat,
    PositiveInt,
    ValidationError,
    model_validator,
)

from uqms.chemistry.thermochemistry import IdealGas, molecule_atoms
from uqms.chemistry.values import NAME_PATTERN, Value, names, resolve
from uqms.config import describe_error, found, key_path, read_toml
from uqms.errors import WorkflowError

_GAS = re.compile(r"^([A-Z][A-Za-z0-9]*)(_[A-Za-z0-9]+)?$")
_ADSORBATE = re.compile(r"^([A-Z][A-Za-z0-9]*)\*([A-Za-z0-9_]*)$")
_FREE_SITE = re.compile(r"^\*([A-Za-z0-9_]*)$")
_TERM = re.compile(r"^(\d+)?\s*(\S+)$")
_ELEMENT = re.compile(r"([A-Z][a-z]?)(\d*)")
AVOGADRO = 6.02214076e23  # 1/mol


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Linear(_Section):
    """A linear (scaling) relation: ``slope * batch[descriptor] + intercept`` (eV)."""

    descriptor: str = Field(pattern=NAME_PATTERN)
    slope: Value
    intercept: Value = 0.0


Energy = Value | Linear


class BEP(_Section):
    """Bronsted-Evans-Polanyi relation: barrier = ``slope * reaction_energy + intercept`` (eV)."""

    slope: Value
    intercept: Value


class Shomate(_Section):
    """NIST Shomate coefficients A..H (J, mol, K; t = T/1000) of one temperature range."""

    coefficients: list[float] = Field(min_length=8, max_length=8)
    temperature_range: tuple[PositiveFloat, PositiveFloat]
    enthalpy_298_minus_0: float = Field(description="H(298.15 K) - H(0 K), kJ/mol")

    @model_validator(mode="after")
    def _ordered(self):
        low, high = self.temperature_range
        if not low < high:
            raise ValueError(f"temperature_range must be increasing, got {[low, high]}")
        return self


Frequencies = Annotated[list[Value], Field(description="real vibrational frequencies, cm^-1")]


class IdealGasEntry(_Section):
    """Ideal-gas thermochemistry (as ``ase.thermochemistry.IdealGasThermo``): the molecule's
    geometry, symmetry number, total spin and its 3N-5 (linear) or 3N-6 (nonlinear) real
    frequencies (cm^-1, numbers or batch names). Its atoms come from ``positions``
    (Angstrom, with ``symbols``, default the gas formula) or ``ase.build.molecule(molecule)``
    (default the gas formula)."""

    geometry: Literal["monatomic", "linear", "nonlinear"]
    symmetry_number: PositiveInt
    spin: NonNegativeFloat = 0.0
    frequencies: Frequencies = []
    molecule: str | None = None
    symbols: str | None = None
    positions: list[tuple[float, float, float]] | None = None


class GasEntry(_Section):
    """A gas species: mass (amu), default partial pressure (bar), energy and free-energy terms (eV).

    Thermal terms come from ``shomate`` or ``ideal_gas`` (at most one); ``zero_point_energy``
    goes with Shomate or no thermal terms (an ideal gas has its own from its frequencies).
    """

    mass: PositiveFloat
    pressure: NonNegativeFloat = 0.0
    energy: Energy | None = None
    zero_point_energy: float = 0.0
    shomate: Shomate | None = None
    ideal_gas: IdealGasEntry | None = None
    free_energy_correction: Value = 0.0


class SiteEntry(_Section):
    """A site type: the adsorbates it holds, its area (Angstrom^2, for collision theory) and its
    density (mol/m^2; from ``site_area`` when not given)."""

    adsorbates: list[str] = Field(min_length=1)
    site_area: PositiveFloat | None = None
    density: Value | None = Field(default=None, description="sites per area, mol/m^2")


class CoverageDependency(_Section):
    """Cantera's coverage dependency of a rate constant on one surface species' coverage theta:
    a factor ``10^(a theta) theta^m exp(-E theta / k_B T)`` (``E`` in eV)."""

    a: Value = 0.0
    m: float = 0.0
    E: Value = 0.0


class AdsorbateEntry(_Section):
    """An adsorbate's electronic energy (eV) and its vibrational frequencies (cm^-1, harmonic limit)."""

    energy: Energy | None = None
    frequencies: Frequencies = []


class StepEntry(_Section):
    """One elementary step: its equation, energy sources and rate-constant options."""

    name: str = Field(default="", pattern=r"^$|" + NAME_PATTERN)
    equation: str
    reaction_energy: Energy | None = None
    barrier: Value | None = None
    bep: BEP | None = None
    transition_state: Linear | None = None
    prefactor: Value | None = Field(default=None, description="1/s; default k_B T / h")
    sticking: Value | None = Field(default=None, description="sticking coefficient: collision theory")
    reversible: bool = True
    k: Value | None = Field(default=None, description="forward rate constant, 1/s")
    A: Value | None = Field(default=None, description="Arrhenius pre-exponential factor, 1/s")
    Ea: Value | None = Field(default=None, description="Arrhenius activation energy, eV")
    b: Value | None = Field(default=None, description="Arrhenius temperature exponent")
    k_reverse: Value | None = None
    A_reverse: Value | None = None
    Ea_reverse: Value | None = None
    b_reverse: Value | None = None
    transition_state_frequencies: Frequencies = []
    per_site: str | None = Field(default=None, description="site type the rate constant counts per")
    coverage_dependencies: dict[str, CoverageDependency] = {}
    coverage_dependencies_reverse: dict[str, CoverageDependency] = {}
    interaction_fraction: Value | None = Field(
        default=None, description="share of the coverage shift of the reaction energy taken by the forward barrier")


RATE_KEYS = ("k", "A", "Ea", "b")
REVERSE_KEYS = tuple(f"{key}_reverse" for key in RATE_KEYS)
ENERGY_KEYS = ("barrier", "bep", "transition_state", "prefactor", "sticking")


class MechanismSection(_Section):
    name: str = Field(pattern=NAME_PATTERN)
    description: str = ""
    products: list[str] = Field(min_length=1)
    transition_state: Literal["electronic", "free_energy"] = "electronic"


class MechanismFile(_Section):
    """A whole mechanism file."""

    mechanism: MechanismSection
    gas: dict[str, GasEntry] = {}
    sites: dict[str, SiteEntry] = Field(min_length=1)
    adsorbates: dict[str, AdsorbateEntry] = {}
    interactions: dict[str, dict[str, Value]] = Field(
        default={}, description="eps_ij (eV per unit coverage): E_i(theta) = E_i(0) + sum_j eps_ij theta_j")
    steps: list[StepEntry] = Field(min_length=1)


@dataclass(frozen=True)
class Step:
    """One elementary step with its stoichiometry as ``{species: coefficient}`` per side."""

    name: str
    equation: str
    reactants: dict[str, int]
    products: dict[str, int]
    entry: StepEntry
    site: str = ""  # the site type its rate constants count per

    @property
    def uses_collision_theory(self) -> bool:
        return self.entry.sticking is not None

    @property
    def rates_given(self) -> bool:
        """True if the forward rate constant is given (``k`` or ``A``), not computed from energies."""
        return self.entry.k is not None or self.entry.A is not None

    @property
    def non_activated(self) -> bool:
        """True for ``barrier = 0`` written as a number and no transition-state frequencies: a step
        without a transition state."""
        entry = self.entry
        return not isinstance(entry.barrier, str) and entry.barrier == 0 and not entry.transition_state_frequencies

    @property
    def reverse_given(self) -> bool:
        return self.entry.k_reverse is not None or self.entry.A_reverse is not None


class Mechanism:
    """A checked mechanism; build it with :func:`load_mechanism` or :meth:`Mechanism.from_dict`.

    Attributes:
        name, description: from the ``[mechanism]`` section.
        gas: gas species names; ``adsorbates``: adsorbate names; ``sites``: site-type names.
        free_sites: the token of each site type's free site (``"*"`` or ``"*<site>"``).
        surface_species: ``adsorbates + free_sites``, the columns of coverage arrays.
        steps: the :class:`Step` objects in file order; ``step_names`` their names.
        products: gas species whose turnover frequency is reported.
        transition_state: the transition-state convention, ``"electronic"`` or ``"free_energy"``.
        energy_steps: indices of the steps whose rate constants come from energies (the others give them).
        step_site: index of the site type each step's rate constants count per (steps,).
        ideal_gases: the :class:`~uqms.chemistry.thermochemistry.IdealGas` of each gas with an ``ideal_gas`` table.
        source: file the mechanism came from.
    """

    def __init__(self, config: MechanismFile, source: str = "<dict>"):
        self.config, self.source = config, source
        self.name, self.description = config.mechanism.name, config.mechanism.description
        self.gas = tuple(config.gas)
        self.sites = tuple(config.sites)
        single = len(self.sites) == 1
        self.free_sites = tuple("*" if single else f"*{s}" for s in self.sites)
        site_of: dict[str, int] = {}
        for s, (site, entry) in enumerate(config.sites.items()):
            for i, adsorbate in enumerate(entry.adsorbates):
                where = f"sites.{site}.adsorbates[{i}]"
                if not _ADSORBATE.match(adsorbate) or _formula(adsorbate.partition("*")[0]) is None:
                    raise WorkflowError(source, where, f"{adsorbate!r} is not an adsorbate name: expected a formula "
                                        "followed by '*' and an optional label, e.g. 'NH2*' or 'O*top'")
                if adsorbate in site_of:
                    raise WorkflowError(source, where, f"{adsorbate!r} is already listed on site "
                                        f"{self.sites[site_of[adsorbate]]!r}; an adsorbate sits on one site type")
                site_of[adsorbate] = s
        self.adsorbates = tuple(site_of)
        self.adsorbate_site = np.array([site_of[a] for a in self.adsorbates], dtype=int)
        for gas in self.gas:
            match = _GAS.match(gas)
            if not match or _formula(match.group(1)) is None:
                raise WorkflowError(source, f"gas.{gas}", f"{gas!r} is not a gas formula such as 'N2' or 'NH3' "
                                    "(an optional '_label' tells isomers apart: 'C4H8_cis')")
        for adsorbate, entry in config.adsorbates.items():
            if adsorbate not in site_of:
                raise WorkflowError(source, f"adsorbates.{adsorbate}", f"{adsorbate!r} is on no site: list it under "
                                    f"[sites.<name>].adsorbates (site types: {list(self.sites)})")
            self._check_frequencies(entry.frequencies, f"adsorbates.{adsorbate}.frequencies")
        self.ideal_gases = {gas: self._ideal_gas(gas, entry) for gas, entry in config.gas.items()
                            if entry.ideal_gas is not None}
        self.steps = tuple(self._parse_step(i, entry) for i, entry in enumerate(config.steps))
        self.step_names = tuple(step.name for step in self.steps)
        duplicated = sorted({n for n in self.step_names if self.step_names.count(n) > 1})
        if duplicated:
            raise WorkflowError(source, "steps", f"step names must be unique; {duplicated} appear twice")
        used = {species for step in self.steps for species in (*step.reactants, *step.products)}
        for adsorbate in self.adsorbates:
            if adsorbate not in used:
                s = self.sites[site_of[adsorbate]]
                raise WorkflowError(source, f"sites.{s}.adsorbates", f"{adsorbate!r} appears in no step")
        for i, product in enumerate(config.mechanism.products):
            if product not in self.gas:
                raise WorkflowError(source, f"mechanism.products[{i}]",
                                    f"{product!r} is not a gas species; expected one of {list(self.gas)}")
            if not any(step.products.get(product, 0) - step.reactants.get(product, 0) for step in self.steps):
                raise WorkflowError(source, f"mechanism.products[{i}]", f"no step produces or consumes {product!r}")
        self.products = tuple(config.mechanism.products)
        self.transition_state = config.mechanism.transition_state
        self.energy_steps = tuple(j for j, step in enumerate(self.steps) if not step.rates_given)
        self.step_site = np.array([self.sites.index(step.site) for step in self.steps], dtype=int)
        self._check_densities()
        self._check_interactions()

    # --- site types and coverage dependence ---------------------------------------------
    def site_density(self, site: str) -> Value | None:
        """Density of a site type (mol/m^2): its ``density``, else one site per ``site_area``, else None."""
        entry = self.config.sites[site]
        if entry.density is not None:
            return entry.density
        if entry.site_area is not None:
            return 1.0 / (AVOGADRO * entry.site_area * 1e-20)
        return None

    def site_fractions(self, batch: Mapping[str, np.ndarray], n: int) -> np.ndarray:
        """Share of each site type in all sites (samples, site types); ones for a single site type."""
        if len(self.sites) == 1:
            return np.ones((n, 1))
        densities = np.stack([resolve(self.site_density(site), batch, n) for site in self.sites], axis=1)
        return densities / densities.sum(axis=1, keepdims=True)

    @property
    def has_interactions(self) -> bool:
        """True if adsorption energies depend on coverages (an ``[interactions]`` table)."""
        return any(self.config.interactions.values())

    @property
    def has_coverage_dependence(self) -> bool:
        """True if any rate constant depends on the coverages (interactions or coverage dependencies)."""
        return self.has_interactions or any(
            step.entry.coverage_dependencies or step.entry.coverage_dependencies_reverse for step in self.steps)

    def interaction_matrix(self, batch: Mapping[str, np.ndarray], n: int) -> np.ndarray:
        """eps_ij (samples, adsorbates, adsorbates), eV per unit coverage of adsorbate j."""
        matrix = np.zeros((n, len(self.adsorbates), len(self.adsorbates)))
        for i, row in self.config.interactions.items():
            for j, value in row.items():
                matrix[:, self.adsorbates.index(i), self.adsorbates.index(j)] = resolve(value, batch, n)
        return matrix

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str = "<dict>") -> Mechanism:
        """Validate the content of a mechanism file given as a dict."""
        try:
            config = MechanismFile.model_validate(data)
        except ValidationError as error:
            raise WorkflowError(source, *_first_problem(error.errors())) from None
        return cls(config, source)

    # --- stoichiometry as arrays (steps x species) --------------------------------------
    @cached_property
    def surface_species(self) -> tuple[str, ...]:
        return self.adsorbates + self.free_sites

    def _matrix(self, side: str, species: tuple[str, ...]) -> np.ndarray:
        index = {name: k for k, name in enumerate(species)}
        matrix = np.zeros((len(self.steps), len(species)))
        for j, step in enumerate(self.steps):
            for name, coefficient in getattr(step, side).items():
                if name in index:
                    matrix[j, index[name]] = coefficient
        return matrix

    @cached_property
    def reactant_surface(self) -> np.ndarray:
        """Coefficients of surface species on the left of each step (steps x surface species)."""
        return self._matrix("reactants", self.surface_species)

    @cached_property
    def product_surface(self) -> np.ndarray:
        return self._matrix("products", self.surface_species)

    @cached_property
    def reactant_gas(self) -> np.ndarray:
        """Coefficients of gas species on the left of each step (steps x gas)."""
        return self._matrix("reactants", self.gas)

    @cached_property
    def product_gas(self) -> np.ndarray:
        return self._matrix("products", self.gas)

    @cached_property
    def site_membership(self) -> np.ndarray:
        """1 where a surface species occupies a site type (site types x surface species)."""
        member = np.zeros((len(self.sites), len(self.surface_species)))
        member[self.adsorbate_site, np.arange(len(self.adsorbates))] = 1.0
        member[np.arange(len(self.sites)), len(self.adsorbates) + np.arange(len(self.sites))] = 1.0
        return member

    def index(self, species: str) -> int:
        """Column of a gas species in gas arrays or of a surface species in coverage arrays."""
        if species in self.gas:
            return self.gas.index(species)
        return self.surface_species.index(species)

    def energy_parameter_names(self) -> list[str]:
        """Names of batch entries read by the energy relations (descriptors, slopes, intercepts)."""
        values: list[object] = []
        for entry in self.config.gas.values():
            values += _energy_values(entry.energy)
        for entry in self.config.adsorbates.values():
            values += _energy_values(entry.energy)
        for step in self.steps:
            if step.rates_given:
                continue
            entry = step.entry
            values += [*_energy_values(entry.reaction_energy), entry.barrier]
            values += [entry.bep.slope, entry.bep.intercept] if entry.bep else []
            values += _energy_values(entry.transition_state)
        return names(values)

    def rate_parameter_names(self) -> list[str]:
        """Names of batch entries read by the rate constants: prefactors, sticking, gas corrections,
        the rate constants, Arrhenius parameters and reaction energies of steps that give rates,
        site densities, interaction parameters and coverage dependencies."""
        values: list[object] = [entry.free_energy_correction for entry in self.config.gas.values()]
        values += self._frequency_values()
        for step in self.steps:
            entry = step.entry
            values += [entry.prefactor, entry.sticking, *(getattr(entry, k) for k in RATE_KEYS + REVERSE_KEYS)]
            if step.rates_given:
                values += _energy_values(entry.reaction_energy)
        return names(values + self._coverage_values())

    def _coverage_values(self) -> list[object]:
        """Values read by site densities, interactions and coverage dependencies."""
        values: list[object] = [self.site_density(site) for site in self.sites] if len(self.sites) > 1 else []
        values += [v for row in self.config.interactions.values() for v in row.values()]
        for step in self.steps:
            entry = step.entry
            values.append(entry.interaction_fraction)
            for dependency in (*entry.coverage_dependencies.values(), *entry.coverage_dependencies_reverse.values()):
                values += [dependency.a, dependency.E]
        return values

    def parameter_units(self) -> dict[str, str]:
        """``{batch name: unit}`` of the names the energy relations and rate options read, where
        the role fixes the unit: energies, intercepts, barriers, ``Ea`` and gas corrections in eV,
        slopes, sticking coefficients and ``b`` dimensionless, prefactors in 1/s. Rate constants
        ``k`` and ``A`` (whose unit depends on the step) and names read in two roles of different
        units are left out (passed as given)."""
        found: dict[str, set[str]] = {}

        def add(value: object, unit: str) -> None:
            if isinstance(value, str):
                found.setdefault(value, set()).add(unit)

        def energy(value: Energy | None) -> None:
            if isinstance(value, Linear):
                add(value.descriptor, "eV"), add(value.slope, "1"), add(value.intercept, "eV")
            else:
                add(value, "eV")

        for entry in [*self.config.gas.values(), *self.config.adsorbates.values()]:
            energy(entry.energy)
        for entry in self.config.gas.values():
            add(entry.free_energy_correction, "eV")
        for value in self._frequency_values():
            add(value, "1/cm")
        for step in self.steps:
            entry = step.entry
            energy(entry.reaction_energy)
            energy(entry.transition_state)
            add(entry.barrier, "eV")
            if entry.bep:
                add(entry.bep.slope, "1"), add(entry.bep.intercept, "eV")
            add(entry.prefactor, "1/s"), add(entry.sticking, "1")
            for key, unit in (("Ea", "eV"), ("b", "1")):
                add(getattr(entry, key), unit), add(getattr(entry, f"{key}_reverse"), unit)
            add(entry.interaction_fraction, "1")
            for dependency in (*entry.coverage_dependencies.values(), *entry.coverage_dependencies_reverse.values()):
                add(dependency.a, "1"), add(dependency.E, "eV")
        for site in self.sites:
            add(self.config.sites[site].density, "mol/m^2")
        for row in self.config.interactions.values():
            for value in row.values():
                add(value, "eV")
        return {name: units.pop() for name, units in found.items() if len(units) == 1}

    def _frequency_values(self) -> list[Value]:
        """Every frequency of the mechanism's thermochemistry: ideal gases, adsorbates, transition states."""
        values = [f for entry in self.config.gas.values() if entry.ideal_gas for f in entry.ideal_gas.frequencies]
        values += [f for entry in self.config.adsorbates.values() for f in entry.frequencies]
        return values + [f for step in self.steps for f in step.entry.transition_state_frequencies]

    def __repr__(self) -> str:
        return (f"Mechanism({self.name!r}: {len(self.gas)} gas, {len(self.adsorbates)} adsorbates on "
                f"{len(self.sites)} site type(s), {len(self.steps)} steps)")

    # --- checks ---------------------------------------------------------------------------
    def _parse_step(self, i: int, entry: StepEntry) -> Step:
        where = f"steps[{i}]"
        left, arrow, right = entry.equation.partition("<=>")
        if not arrow or not left.strip() or not right.strip():
            raise WorkflowError(self.source, f"{where}.equation",
                                f"{entry.equation!r} is not an equation 'reactants <=> products' "
                                "(an irreversible step too is written '<=>', with reversible = false)")
        reactants = self._parse_side(left, f"{where}.equation")
        products = self._parse_side(right, f"{where}.equation")
        surface = set(self.adsorbates) | set(self.free_sites)
        if not surface & (set(reactants) | set(products)):
            raise WorkflowError(self.source, f"{where}.equation", f"{entry.equation!r} involves no surface species")
        self._check_balance(entry.equation, reactants, products, f"{where}.equation")
        name = entry.name or f"step{i}"
        if entry.k is not None or entry.A is not None:
            self._check_rate_source(entry, where)
        else:
            self._check_energy_source(entry, reactants, products, where)
        if entry.transition_state_frequencies:
            if entry.k is not None or entry.A is not None or entry.sticking is not None:
                raise WorkflowError(self.source, f"{where}.transition_state_frequencies", "transition-state "
                                    "frequencies belong to transition-state-theory steps (not to steps that give k or "
                                    "A, nor to collision-theory steps with sticking)")
            self._check_frequencies(entry.transition_state_frequencies, f"{where}.transition_state_frequencies")
        if entry.sticking is not None:
            gas_in = {g: c for g, c in reactants.items() if g in self.gas}
            if len(gas_in) != 1 or next(iter(gas_in.values())) != 1:
                raise WorkflowError(self.source, f"{where}.sticking", "collision theory needs exactly one gas "
                                    f"molecule on the left of the step, found {gas_in or 'none'}")
            for site in self.sites_of(reactants):
                if self.config.sites[site].site_area is None:
                    raise WorkflowError(self.source, f"sites.{site}.site_area",
                                        f"step {name!r} uses collision theory and needs the site area (Angstrom^2)")
        touched = list(self.sites_of(reactants))
        site = touched[0] if entry.per_site is None else entry.per_site
        if site not in touched:
            raise WorkflowError(self.source, f"{where}.per_site", f"{entry.per_site!r} is not a site type on the left "
                                f"of {entry.equation!r}; expected one of {touched}")
        self._check_dependencies(entry, where)
        return Step(name, entry.equation, reactants, products, entry, site)

    def _check_dependencies(self, entry: StepEntry, where: str) -> None:
        surface = (*self.adsorbates, *self.free_sites)
        for key in ("coverage_dependencies", "coverage_dependencies_reverse"):
            for species in getattr(entry, key):
                if species not in surface:
                    raise WorkflowError(self.source, f"{where}.{key}.{species}", f"{species!r} is not a surface "
                                        f"species; expected one of {list(surface)}")
        if entry.coverage_dependencies_reverse and not (entry.k_reverse is not None or entry.A_reverse is not None):
            raise WorkflowError(self.source, f"{where}.coverage_dependencies_reverse", "only a step that gives its "
                                "reverse rate constant (k_reverse or A_reverse) has a reverse dependency of its own; "
                                "a reverse from equilibrium carries the forward's")
        fraction = entry.interaction_fraction
        if fraction is not None and not isinstance(fraction, str) and not 0.0 <= fraction <= 1.0:
            raise WorkflowError(self.source, f"{where}.interaction_fraction", f"expected a number from 0 to 1 "
                                f"(or a batch name), got {fraction}")

    def _check_densities(self) -> None:
        if len(self.sites) == 1:
            return
        for site in self.sites:
            density = self.site_density(site)
            if density is None:
                raise WorkflowError(self.source, f"sites.{site}.density", f"{len(self.sites)} site types need the "
                                    "density of each (mol/m^2, or site_area in Angstrom^2)")
            if not isinstance(density, str) and density <= 0:
                raise WorkflowError(self.source, f"sites.{site}.density", f"expected a positive number, got {density}")

    def _check_interactions(self) -> None:
        for i, row in self.config.interactions.items():
            for species in (i, *row):
                if species not in self.adsorbates:
                    where = "interactions" + (f".{i}" if species == i else f".{i}.{species}")
                    raise WorkflowError(self.source, where, f"{species!r} is not an adsorbate; expected one of "
                                        f"{list(self.adsorbates)}")

    def _parse_side(self, text: str, where: str) -> dict[str, int]:
        side: dict[str, int] = {}
        for term in text.split("+"):
            match = _TERM.match(term.strip())
            if not match:
                raise WorkflowError(self.source, where, f"cannot read the term {term.strip()!r}")
            coefficient, species = int(match.group(1) or 1), match.group(2)
            if coefficient < 1:
                raise WorkflowError(self.source, where, f"coefficient of {species!r} must be a positive integer")
            self._check_species(species, where)
            side[species] = side.get(species, 0) + coefficient
        return side

    def _check_species(self, species: str, where: str) -> None:
        if species in self.gas or species in self.adsorbates or species in self.free_sites:
            return
        if _FREE_SITE.match(species):
            expected = self.free_sites if len(self.sites) > 1 else ("*",)
            raise WorkflowError(self.source, where, f"unknown site {species!r}; expected one of {list(expected)}")
        if _ADSORBATE.match(species):
            raise WorkflowError(self.source, where, f"{species!r} is on no site: list it under "
                                f"[sites.<name>].adsorbates (site types: {list(self.sites)})")
        raise WorkflowError(self.source, where, f"unknown species {species!r}: not a gas species "
                            f"{list(self.gas)}, an adsorbate {list(self.adsorbates)} or a site")

    def sites_of(self, side: Mapping[str, int]) -> dict[str, int]:
        """Number of sites of each type a side of an equation occupies."""
        count: dict[str, int] = {}
        for species, coefficient in side.items():
            if species in self.free_sites:
                site = self.sites[self.free_sites.index(species)]
            elif species in self.adsorbates:
                site = self.sites[self.adsorbate_site[self.adsorbates.index(species)]]
            else:
                continue
            count[site] = count.get(site, 0) + coefficient
        return count

    def _check_balance(self, equation: str, reactants: dict[str, int], products: dict[str, int], where: str) -> None:
        def elements(side: dict[str, int]) -> dict[str, int]:
            total: dict[str, int] = {}
            for species, coefficient in side.items():
                for element, count in (_formula(re.split(r"[*_]", species)[0]) or {}).items():
                    total[element] = total.get(element, 0) + coefficient * count
            return total

        left, right = elements(reactants), elements(products)
        if left != right:
            raise WorkflowError(self.source, where, f"{equation!r} is not balanced: atoms {_show(left)} on the "
                                f"left, {_show(right)} on the right")
        left, right = self.sites_of(reactants), self.sites_of(products)
        if left != right:
            raise WorkflowError(self.source, where, f"{equation!r} does not conserve sites: {_show(left)} on the "
                                f"left, {_show(right)} on the right (count free sites '*' too)")

    def _check_energy_source(self, entry: StepEntry, reactants, products, where: str) -> None:
        if entry.reaction_energy is None:
            missing = [s for s in (*reactants, *products) if not self._has_energy(s)]
            if missing:
                raise WorkflowError(self.source, where, f"step {entry.equation!r} has no energy source: give "
                                    f"reaction_energy, or an energy for {missing}")
        given = [k for k in ("barrier", "bep", "transition_state") if getattr(entry, k) is not None]
        if not given:
            raise WorkflowError(self.source, where, f"step {entry.equation!r} has no barrier source: give one of "
                                "barrier (eV; 0 for a non-activated step), bep or transition_state")
        if len(given) > 1:
            raise WorkflowError(self.source, where, f"step {entry.equation!r} has several barrier sources {given}; "
                                "give exactly one")
        reverse = [key for key in REVERSE_KEYS if getattr(entry, key) is not None]
        if reverse or entry.Ea is not None or entry.b is not None:
            key = reverse[0] if reverse else ("Ea" if entry.Ea is not None else "b")
            raise WorkflowError(self.source, f"{where}.{key}", f"{key} belongs to a step that gives its rate constant "
                                "(k or A); this step's rates come from its energies (reverse from equilibrium)")

    def _check_rate_source(self, entry: StepEntry, where: str) -> None:
        """A step that gives its rate constants: one forward form, a reverse if reversible, no energy sources."""
        def check_form(keys: tuple[str, ...], direction: str) -> None:
            k, a, ea, b = (getattr(entry, key) for key in keys)
            if k is not None and a is not None:
                raise WorkflowError(self.source, f"{where}.{keys[0]}", f"the {direction} rate constant is given both "
                                    f"as {keys[0]} and as Arrhenius {keys[1]}; give one")
            if a is None and (ea is not None or b is not None):
                extra = keys[2] if ea is not None else keys[3]
                raise WorkflowError(self.source, f"{where}.{extra}", f"{extra} is an Arrhenius parameter and needs "
                                    f"{keys[1]} (1/s) beside it")

        check_form(RATE_KEYS, "forward")
        check_form(REVERSE_KEYS, "reverse")
        energy_keys = [key for key in ENERGY_KEYS if getattr(entry, key) is not None]
        if energy_keys:
            raise WorkflowError(self.source, f"{where}.{energy_keys[0]}", f"step {entry.equation!r} gives its rate "
                                f"constant (k or A); {energy_keys[0]} belongs to steps whose rates come from energies")
        reverse = [key for key in REVERSE_KEYS if getattr(entry, key) is not None]
        if not entry.reversible:
            if reverse or entry.reaction_energy is not None:
                key = reverse[0] if reverse else "reaction_energy"
                raise WorkflowError(self.source, f"{where}.{key}", f"step {entry.equation!r} is irreversible "
                                    "(reversible = false): it has no reverse rate constant")
        elif not reverse and entry.reaction_energy is None:
            raise WorkflowError(self.source, where, f"reversible step {entry.equation!r} gives its forward rate "
                                "constant: give the reverse too (k_reverse or A_reverse, 1/s), reaction_energy (eV, "
                                "reverse from equilibrium), or reversible = false")
        elif reverse and entry.reaction_energy is not None:
            raise WorkflowError(self.source, f"{where}.reaction_energy", f"step {entry.equation!r} gives its reverse "
                                "rate constant; reaction_energy would set it a second time (from equilibrium)")

    def _has_energy(self, species: str) -> bool:
        if species in self.free_sites:
            return True
        if species in self.gas:
            return self.config.gas[species].energy is not None
        entry = self.config.adsorbates.get(species)
        return entry is not None and entry.energy is not None

    def _check_frequencies(self, frequencies: list[Value], where: str) -> None:
        for i, value in enumerate(frequencies):
            if not isinstance(value, str) and not value > 0:
                raise WorkflowError(self.source, f"{where}[{i}]", f"expected a real frequency > 0 cm^-1 (leave out "
                                    f"the imaginary mode of a transition state), got {value}")

    def _ideal_gas(self, gas: str, entry: GasEntry) -> IdealGas:
        """The ideal-gas model of a gas entry, its molecule built and checked against the formula."""
        spec, where = entry.ideal_gas, f"gas.{gas}.ideal_gas"
        assert spec is not None
        if entry.shomate is not None or entry.zero_point_energy:
            key = "shomate" if entry.shomate is not None else "zero_point_energy"
            raise WorkflowError(self.source, f"gas.{gas}.{key}", f"{key} and ideal_gas both give the thermal terms of "
                                f"{gas!r}; give one (an ideal gas takes its zero-point energy from its frequencies)")
        formula = gas.partition("_")[0]
        try:
            atoms = molecule_atoms(formula, spec.molecule, spec.symbols, spec.positions)
        except ValueError as error:
            raise WorkflowError(self.source, where, str(error)) from None
        counts = _formula(atoms.get_chemical_formula(mode="hill")) or {}
        if counts != _formula(formula):
            raise WorkflowError(self.source, where, f"the molecule's atoms {_show(counts)} are not the formula "
                                f"{formula!r}; give `molecule` or `symbols` and `positions` of {gas!r}")
        model = IdealGas.from_atoms(atoms, spec.geometry, spec.symmetry_number, spec.spin)
        if len(spec.frequencies) != model.vibrations:
            raise WorkflowError(self.source, f"{where}.frequencies", f"a {spec.geometry} molecule of {len(atoms)} "
                                f"atoms has {model.vibrations} vibrations; got {len(spec.frequencies)} frequencies")
        self._check_frequencies(spec.frequencies, f"{where}.frequencies")
        return model


def load_mechanism(path: str | Path) -> Mechanism:
    """Read and check a mechanism file (TOML)."""
    path = Path(path)
    data, _ = read_toml(path)
    return Mechanism.from_dict(data, str(path))


def write_mechanism_toml(mechanism: Mechanism, path: str | Path) -> Path:
    """Write a mechanism as a uqms mechanism file (TOML) that :func:`load_mechanism` reads back the same;
    keys left at their defaults are not written."""
    import tomli_w

    path = Path(path)
    path.write_text(tomli_w.dumps(mechanism.config.model_dump(mode="json", exclude_defaults=True)), encoding="utf-8")
    return path


def mechanism_from_options(mechanism_file: str | None, mechanism: Mechanism | Mapping[str, Any] | None) -> Mechanism:
    """The mechanism a stage is built on: a file path, a :class:`Mechanism` or its dict."""
    if (mechanism_file is None) == (mechanism is None):
        raise TypeError("give exactly one of mechanism_file and mechanism")
    if mechanism_file is not None:
        return load_mechanism(mechanism_file)
    return mechanism if isinstance(mechanism, Mechanism) else Mechanism.from_dict(mechanism)


def _formula(text: str) -> dict[str, int] | None:
    """``'NH3'`` -> ``{'N': 1, 'H': 3}``; ``None`` if ``text`` is not a chemical formula."""
    if not text or "".join(m.group(0) for m in _ELEMENT.finditer(text)) != text:
        return None
    counts: dict[str, int] = {}
    for element, count in _ELEMENT.findall(text):
        counts[element] = counts.get(element, 0) + int(count or 1)
    return counts


def _first_problem(errors: list[dict[str, Any]]) -> tuple[str, str]:
    """Key path and message of the first validation error, union branches folded into one."""
    first = errors[0]
    if "Linear" in first["loc"] or "float" in first["loc"]:  # a table given: report what the table lacks
        tables = [e for e in errors if "Linear" in e["loc"] and e["loc"][-1] != "Linear"]
        first = tables[0] if tables else first
    loc = _without_branches(first["loc"])
    branches = [e for e in errors if _without_branches(e["loc"]) == loc]
    if len(branches) > 1 and loc != first["loc"]:
        table = " or a table {descriptor, slope, intercept}" if any("Linear" in e["loc"] for e in branches) else ""
        message = f"expected a number or the name of a batch entry such as 'E_N'{table} (got {found(first['input'], echo=False)})"
    else:
        message = describe_error(first, echo=False)  # a mechanism_file may point at any file
    more = len(errors) - len(branches) if len(branches) > 1 else len(errors) - 1
    suffix = f" (and {more} more problem{'s' * (more > 1)})" if more else ""
    return key_path(loc), message + suffix


_UNION_BRANCHES = ("float", "str", "constrained-str", "Linear")


def _without_branches(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """A pydantic error location without the union-member tags pydantic inserts."""
    return tuple(part for part in loc if part not in _UNION_BRANCHES and "[" not in str(part))


def _show(counts: Mapping[str, int]) -> str:
    return "{" + ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())) + "}"


def _energy_values(energy: Energy | None) -> list[object]:
    if isinstance(energy, Linear):
        return [energy.descriptor, energy.slope, energy.intercept]
    return [energy]
