"""CatMAP models as uqms mechanisms: an energy table (``energies.txt``) and reaction expressions.

CatMAP (SUNCAT-Center/catmap) keeps a model's energies in a tab-separated table with the
columns ``surface_name, site_name, species_name, formation_energy, frequencies, reference``
(others, such as ``bulk_structure``, are ignored; an optional ``coverage`` column picks the
lowest-coverage row of a species, as CatMAP's ``standard_coverage = 'min'``). Gas species
sit on surface ``None``, site ``gas``; frequencies are a list of cm^-1 in brackets. Its
reaction expressions (``rxn_expressions``) write ``CO_g`` for a gas, ``CO*_s`` or ``CO_s``
for an adsorbate on site ``s``, ``*_s`` for a free site (a surface term without a site,
``CO*`` or ``*``, is on CatMAP's default site ``s``), and join initial state, transition
state (optional) and final state with ``->`` or ``<->``::

    'CO_g + *_s -> CO*_s'
    'CO*_s + O*_s <-> O-CO*_s + *_s <-> CO2_g + 2*_s'

:func:`read_catmap` builds the mechanism of one surface: formation energies become species
energies, a transition state's energy above its initial state the step's barrier (steps
without one have none), adsorbate and transition-state frequencies harmonic corrections, gas
frequencies ideal-gas corrections, under CatMAP's ``free_energy`` transition-state convention.
Every step is reversible, as in CatMAP. :func:`read_rxn_expressions` takes the expressions
from a CatMAP model file (``.mkm``) or a text file of one expression per line. Files are read
as data only: frequency lists with
:func:`ast.literal_eval`, never ``eval``. Not read: electrochemical species, frequency
estimates from other surfaces (a species with no frequencies on the surface has no thermal
correction), interaction parameters. A transition state without frequencies exactly as high in
electronic energy as its initial state reads as a step without one (``barrier = 0``).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from uqms.chemistry.mechanism import Mechanism, _formula
from uqms.errors import WorkflowError

REQUIRED = ("surface_name", "site_name", "species_name", "formation_energy", "frequencies", "reference")

#: Rotational symmetry number, geometry and total spin of common molecules (the order of the
#: rotational subgroup of each point group: D-inf-h 2, C-inf-v 1, C2v 2, C3v 3, Td 12, D2h 4, Cs 1).
COMMON_MOLECULES: dict[str, tuple[int, str, float]] = {
    "H2": (2, "linear", 0.0), "N2": (2, "linear", 0.0), "O2": (2, "linear", 1.0), "CO": (1, "linear", 0.0),
    "NO": (1, "linear", 0.5), "CO2": (2, "linear", 0.0), "H2O": (2, "nonlinear", 0.0),
    "NH3": (3, "nonlinear", 0.0), "CH4": (12, "nonlinear", 0.0), "C2H4": (4, "nonlinear", 0.0),
    "CH3OH": (1, "nonlinear", 0.0),
}

_ARROW = re.compile(r"<->|->")
_TERM = re.compile(r"^(\d*)\s*(\S+)$")


def read_energy_table(path: str | Path) -> list[dict[str, Any]]:
    """Rows of a CatMAP energy table: every column as text, ``formation_energy`` (eV) and
    ``coverage`` as floats, ``frequencies`` (cm^-1) as a list of floats, ``line`` the line number.

    Raises:
        WorkflowError: naming the file, the line and column, and what was expected.
    """
    path = Path(path)
    lines = [(i + 1, line) for i, line in enumerate(path.read_text().splitlines()) if line.strip()]
    if not lines:
        raise WorkflowError(str(path), "", "empty file; expected a CatMAP energy table")
    headers = [h.strip() for h in lines[0][1].split("\t")]
    missing = [h for h in REQUIRED if h not in headers]
    if missing:
        raise WorkflowError(str(path), "line 1", f"missing columns {missing}; a CatMAP energy table has the "
                            f"tab-separated columns {list(REQUIRED)} (and optionally coverage)")
    rows = []
    for number, line in lines[1:]:
        cells = [c.strip() for c in line.split("\t")]
        if len(cells) != len(headers):
            raise WorkflowError(str(path), f"line {number}", f"{len(cells)} tab-separated fields, expected "
                                f"{len(headers)} ({', '.join(headers)})")
        row: dict[str, Any] = dict(zip(headers, cells))
        row["line"] = number
        for column in ("formation_energy", "coverage"):
            if column in row:
                try:
                    row[column] = float(row[column])
                except ValueError:
                    raise WorkflowError(str(path), f"line {number}, {column}",
                                        f"expected a number, got {row[column]!r}") from None
        row["frequencies"] = _frequencies(row["frequencies"], str(path), number)
        rows.append(row)
    return rows


def read_rxn_expressions(path: str | Path) -> list[str]:
    """CatMAP reaction expressions from a model file (``.mkm``, ``.py``) or a text file.

    A model file is Python: it is parsed, never run, and its one ``rxn_expressions = [...]``
    assignment must be a literal list of strings (:func:`ast.literal_eval`) that no other
    statement changes. Any other file holds one expression per line (blank lines and lines
    starting with ``#`` skipped).

    Raises:
        WorkflowError: naming the file, ``rxn_expressions`` and what was expected.
    """
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    if path.suffix not in (".mkm", ".py"):
        expressions = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]
        if not expressions:
            raise WorkflowError(str(path), "", "no reaction expressions; expected one CatMAP expression per line")
        return expressions
    key = "rxn_expressions"
    try:
        module = ast.parse(text, str(path))
    except SyntaxError as error:
        raise WorkflowError(str(path), f"line {error.lineno}", f"not Python: {error.msg}") from None
    uses = [node for node in ast.walk(module) if isinstance(node, ast.Name) and node.id == key]
    assigned = [node for node in module.body if isinstance(node, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == key for t in node.targets)]
    if not assigned:
        raise WorkflowError(str(path), key, "no assignment 'rxn_expressions = [...]' in the model file")
    if len(assigned) > 1 or len(uses) > 1 or len(assigned[0].targets) > 1:
        lines = sorted({node.lineno for node in uses})
        raise WorkflowError(str(path), key, f"used on lines {lines}; uqms reads the model file without running it, "
                            "so rxn_expressions must be assigned once, as a literal list, and not changed")
    try:
        value = ast.literal_eval(assigned[0].value)
    except (ValueError, TypeError):
        value = None
    if not isinstance(value, (list, tuple)) or not value or not all(isinstance(v, str) for v in value):
        raise WorkflowError(str(path), f"{key} (line {assigned[0].lineno})", "expected a literal list of strings "
                            "such as ['CO_g + *_s -> CO*_s']; uqms reads the model file without running it")
    return list(value)


def read_catmap(
    energies_file: str | Path,
    rxn_expressions: Sequence[str] | Path,
    surface: str,
    *,
    site_names: Mapping[str, str | Sequence[str]] | None = None,
    gas_thermo: Mapping[str, Mapping[str, Any]] | None = None,
    pressures: Mapping[str, float] | None = None,
    products: Sequence[str] | None = None,
    name: str = "catmap",
) -> Mechanism:
    """The uqms mechanism of a CatMAP model at one surface.

    Args:
        energies_file: the CatMAP energy table.
        rxn_expressions: CatMAP's reaction expressions, one elementary step each, or the file
            they are read from (:func:`read_rxn_expressions`).
        surface: the ``surface_name`` whose adsorbate and transition-state rows are used.
        site_names: ``{site symbol: site_name(s) in the table}`` (CatMAP's
            ``species_definitions[s]['site_names']``); by default the one site name the table
            has on that surface.
        gas_thermo: per gas, uqms gas fields that replace the default thermochemistry (e.g.
            ``{"shomate": {...}, "zero_point_energy": 0.13}`` or an ``ideal_gas`` table, whose
            missing ``frequencies`` are taken from the table). By default a gas of
            :data:`COMMON_MOLECULES` is an ideal gas with the table's frequencies and
            ``ase.build.molecule`` geometry.
        pressures: partial pressures (bar) of the gases, default 0.
        products: the gases whose turnover is reported; by default those only ever produced.
        name: the mechanism's name.

    Raises:
        WorkflowError: a species without energy on the surface, an expression that cannot be
            read, an unknown gas without ``gas_thermo``; each names the file or the expression.
    """
    source = str(energies_file)
    rows = read_energy_table(energies_file)
    where = ("rxn_expressions", "")  # (file, key prefix) an expression's errors name
    if isinstance(rxn_expressions, Path):
        where = (str(rxn_expressions), "rxn_expressions")
        rxn_expressions = read_rxn_expressions(rxn_expressions)
    parsed = [_parse_expression(text, i, where) for i, text in enumerate(rxn_expressions)]
    symbols = sorted({site for states in parsed for state in states for _, _, site in state if site != "g"})
    if not symbols:
        raise WorkflowError(where[0], where[1], "no surface species in the expressions")
    on_surface = [r for r in rows if r["surface_name"] == surface]
    if not on_surface:
        surfaces = sorted({r["surface_name"] for r in rows} - {"None"})
        raise WorkflowError(source, "surface_name", f"no rows for surface {surface!r}; the table has {surfaces}")
    sites = _site_names(site_names, symbols, on_surface, source)
    single = len(symbols) == 1

    def token(species: str, site: str) -> str:
        if site == "g":
            return species
        return ("*" if species == "*" else f"{species}*") + ("" if single else site)

    def row_of(species: str, site: str) -> dict[str, Any]:
        if site == "g":
            found = [r for r in rows if r["species_name"] == species and r["site_name"] == "gas"
                     and r["surface_name"] == "None"]
        else:
            found = [r for r in on_surface if r["species_name"] == species and r["site_name"] in sites[site]]
        if not found:
            where = "surface None, site gas" if site == "g" else f"surface {surface!r}, site {sites[site]}"
            raise WorkflowError(source, "species_name", f"no row for {species!r} ({where})")
        if "coverage" in found[0]:
            return min(found, key=lambda r: r["coverage"])
        if len(found) > 1:
            raise WorkflowError(source, f"line {found[1]['line']}", f"{species!r} appears on lines "
                                f"{[r['line'] for r in found]}; add a coverage column to pick the lowest")
        return found[0]

    def energy(state) -> float:
        return sum(c * row_of(s, site)["formation_energy"] for c, s, site in state if s != "*")

    gas: dict[str, dict[str, Any]] = {}
    adsorbates: dict[str, dict[str, Any]] = {}
    members: dict[str, list[str]] = {site: [] for site in symbols}
    steps = []
    for i, states in enumerate(parsed):
        for c, species, site in (*states[0], *states[-1]):
            if site == "g" and species not in gas:
                gas[species] = _gas_entry(species, row_of(species, "g"), (gas_thermo or {}).get(species),
                                          (pressures or {}).get(species, 0.0), source)
            elif site != "g" and species != "*" and token(species, site) not in adsorbates:
                row = row_of(species, site)
                adsorbates[token(species, site)] = {"energy": row["formation_energy"],
                                                    "frequencies": row["frequencies"]}
                members[site].append(token(species, site))
        equation = " <=> ".join(" + ".join(f"{c if c > 1 else ''}{token(s, site)}" for c, s, site in state)
                                for state in (states[0], states[-1]))
        step: dict[str, Any] = {"equation": equation, "barrier": 0.0}
        if len(states) == 3:
            bound = [(s, site) for _, s, site in states[1] if s != "*"]
            if len(bound) != 1 or bound[0][1] == "g":
                raise WorkflowError(where[0], f"{where[1]}[{i}]", f"{rxn_expressions[i]!r}: the transition state "
                                    f"must be one adsorbed species (plus free sites), got {bound}")
            step["barrier"] = energy(states[1]) - energy(states[0])
            step["transition_state_frequencies"] = row_of(*bound[0])["frequencies"]
        steps.append(step)
    produced = [g for g in gas if all(g not in {s for _, s, site in states[0] if site == "g"} for states in parsed)]
    data = {
        "mechanism": {"name": name, "products": list(products or produced), "transition_state": "free_energy",
                      "description": f"CatMAP model read from {Path(energies_file).name}, surface {surface}"},
        "gas": gas,
        "sites": {site: {"adsorbates": members[site]} for site in symbols},
        "adsorbates": adsorbates,
        "steps": steps,
    }
    return Mechanism.from_dict(data, source)


def _frequencies(text: str, source: str, line: int) -> list[float]:
    """A frequency cell (``[]``, ``[2170]``, ``[1333, 667]``) as floats, read as a literal only."""
    try:
        value = ast.literal_eval(text) if text not in ("", "None") else []
    except (ValueError, SyntaxError):
        value = None
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, (int, float)) for v in value):
        raise WorkflowError(source, f"line {line}, frequencies", f"expected a list of numbers (cm^-1) such as "
                            f"[2170, 350], got {text!r}")
    if any(v <= 0 for v in value):
        raise WorkflowError(source, f"line {line}, frequencies", f"expected real frequencies > 0 cm^-1 (leave out "
                            f"the imaginary mode of a transition state), got {text!r}")
    return [float(v) for v in value]


def _parse_expression(text: str, i: int, where: tuple[str, str]) -> list[list[tuple[int, str, str]]]:
    """States of one expression, each a list of (coefficient, species, site symbol ('g': gas));
    errors name ``where`` (file, key prefix) and ``[i]``."""
    states = [part.strip() for part in _ARROW.split(text)]
    if len(states) not in (2, 3) or not all(states):
        raise WorkflowError(where[0], f"{where[1]}[{i}]", f"{text!r}: expected 'initial -> final' or "
                            "'initial <-> transition state <-> final'")
    parsed = []
    for state in states:
        terms = []
        for term in state.split("+"):
            match = _TERM.match(term.strip())
            name = match.group(2) if match else ""
            default_site = "_" not in name and name.endswith("*")  # CatMAP: 'CO*' is 'CO*_s', '*' is '*_s'
            species, _, site = (name, "", "s") if default_site else name.rpartition("_")
            if not match or not species or not site:
                raise WorkflowError(where[0], f"{where[1]}[{i}]", f"{text!r}: cannot read {term.strip()!r}; expected "
                                    "species_site such as 'CO_g', 'CO*_s', '2*_s'")
            if site == "g" and "*" in species or site != "g" and species != "*" and "*" in species.rstrip("*"):
                raise WorkflowError(where[0], f"{where[1]}[{i}]", f"{text!r}: {term.strip()!r} is not a species")
            terms.append((int(match.group(1) or 1), species if species == "*" else species.rstrip("*"), site))
        parsed.append(terms)
    return parsed


def _site_names(given, symbols: list[str], rows: list[dict[str, Any]], source: str) -> dict[str, list[str]]:
    if given is not None:
        unknown = sorted(set(symbols) - set(given))
        if unknown:
            raise WorkflowError("site_names", "", f"no site names given for site symbols {unknown}")
        return {s: [given[s]] if isinstance(given[s], str) else list(given[s]) for s in symbols}
    names = sorted({r["site_name"] for r in rows})
    if len(symbols) > 1 or len(names) != 1:
        raise WorkflowError(source, "site_name", f"site symbols {symbols} and site names {names} on this surface: "
                            "give site_names={symbol: site_name} (on the command line --site SYMBOL=SITE_NAME)")
    return {symbols[0]: names}


def _gas_entry(species: str, row: dict[str, Any], given: Mapping[str, Any] | None, pressure: float,
               source: str) -> dict[str, Any]:
    from ase.data import atomic_masses, atomic_numbers

    formula = _formula(species.partition("_")[0])
    if formula is None or any(e not in atomic_numbers for e in formula):
        raise WorkflowError(source, f"line {row['line']}, species_name", f"{species!r} is not a gas formula")
    entry: dict[str, Any] = {"mass": float(sum(atomic_masses[atomic_numbers[e]] * n for e, n in formula.items())),
                             "pressure": pressure, "energy": row["formation_energy"]}
    if given is not None:
        entry.update(given)
        if "ideal_gas" in given and "frequencies" not in given["ideal_gas"]:
            entry["ideal_gas"] = {**given["ideal_gas"], "frequencies": row["frequencies"]}
        return entry
    if species not in COMMON_MOLECULES:
        raise WorkflowError("gas_thermo", species, f"no thermochemistry known for gas {species!r}: give "
                            f"gas_thermo={{{species!r}: {{'ideal_gas': {{'geometry': ..., 'symmetry_number': ...}}}}}} "
                            "or Shomate coefficients")
    symmetry, geometry, spin = COMMON_MOLECULES[species]
    entry["ideal_gas"] = {"geometry": geometry, "symmetry_number": symmetry, "spin": spin,
                          "frequencies": row["frequencies"]}
    return entry
