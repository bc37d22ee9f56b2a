"""A stage computing the potential energy (eV) of a structure whose parameters are inputs, with an ASE calculator.

The structure comes from one of two places:

- a template of a text file ASE reads (extxyz, POSCAR, ...), rendered per sample with jinja2
  (a lattice constant, an adsorbate height, a strain as ``{{ name }}``);
- a row of an ASE database (``structure_db_file``, ``select`` = a row id or ``"key=value"``),
  such as the relaxed structures a DFT project keeps.

Either may be changed per sample by ``modify = "package.module:function"``, called as
``function(atoms, **inputs)`` (it changes ``atoms`` in place or returns new ones): a structure
from a database takes its inputs this way only. The calculator is named as
:func:`~uqms.models.atomistic.calculators.make_calculator` takes it: EMT by default, any
calculator ASE knows or any ``package.module:Class`` the user has installed. Where the
calculator provides BEEF-vdW non-self-consistent energies, ``ensemble_size`` adds the energy of
each ensemble functional (:mod:`uqms.models.atomistic.beef`), an output with a ``member`` axis.
Single points only: relax the structure beforehand. Results are cached per sample like those of
:class:`~uqms.models.external.command.CommandStage` (a BEEF sample as its energy and basis
contributions, so a cached sample serves any ensemble size and seed).
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import io
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import ase.db
import ase.io
import jinja2
import numpy as np
from ase import Atoms

from uqms.models.atomistic.beef import contributions_from_calculator, member_energies
from uqms.models.atomistic.calculators import (
    DEFAULT_CALCULATOR,
    cache_key,
    calculator_class,
    make_calculator,
)
from uqms.models.external.cache import Outcome, ResultCache
from uqms.models.external.command import read_templates, template_environment
from uqms.models.external.per_sample import (
    batch_samples,
    evaluate_samples,
    outcomes_to_batch,
    scheduling,
)
from uqms.models.outputs import DeclaredOutputs, DeclaresOutputs, Output

RAISED = 1
MEMBER = "member"
CONTRIBUTIONS, XC = "beef_contributions", "xc"  # what a BEEF sample keeps besides its energy


def structure_from_db(path: str, select: int | str) -> Atoms:
    """The structure of the one row of ASE database ``path`` selected by id or ``"key=value"``.

    Raises:
        ValueError: no such file, a bad selection, no row or more than one.
    """
    if not Path(path).is_file():
        raise ValueError(f"structure_db_file: no file {path}")
    if isinstance(select, bool) or not isinstance(select, int | str) or select == "":
        raise ValueError(f"select: expected a row id or 'key=value', got {select!r}")
    where = f"select: {select!r} in {path}"
    try:
        with ase.db.connect(path) as db:
            rows = list(db.select(id=select, limit=2) if isinstance(select, int) else db.select(select, limit=2))
    except (ValueError, KeyError, SyntaxError) as error:
        raise ValueError(f"{where}: not a selection ASE understands ({error})") from None
    if len(rows) != 1:
        raise ValueError(f"{where}: matches {'no row' if not rows else 'more than one row'}, expected exactly one")
    return rows[0].toatoms()


def modifier(reference: str) -> Callable[..., Atoms | None]:
    """The function ``package.module:function`` named by option ``modify``."""
    module, _, attribute = reference.partition(":")
    try:
        return getattr(importlib.import_module(module), attribute)
    except (ImportError, AttributeError, ValueError) as error:
        raise ValueError(f"modify: expected 'package.module:function', cannot find {reference!r} ({error})") from None


class AtomisticEnergy(DeclaresOutputs):
    """Potential energy (eV) of a structure per sample, and optionally its BEEF ensemble energies.

    Args:
        structure_file: jinja2 template of a structure file, rendered with the sample's inputs.
        format: ASE's name of that file's format (``"extxyz"``, ``"vasp"``, ...).
        inputs: names the template (or ``modify``) uses.
        structure_db_file: an ASE database instead of ``structure_file``; ``select`` picks its row.
        select: a row id (int) or a selection ``"key=value"`` matching one row.
        modify: ``"package.module:function"`` called as ``function(atoms, **inputs)`` per sample.
        calculator: ``"emt"``, another name ASE knows, or ``"package.module:Class"``.
        calculator_parameters: keyword arguments of the calculator.
        output: name of the energy output; the ensemble's is ``{output}_members`` (dims ``member``).
        ensemble_size: BEEF ensemble functionals (0: none); needs a calculator with
            ``get_xc_functional`` and ``get_nonselfconsistent_energies`` (GPAW or VASP with BEEF-vdW).
        ensemble_seed: seed of the ensemble's functionals (the same for every sample).
        cache_path: SQLite file of per-sample results; None: nothing is cached.
        resources, seconds_per_sample: as for :class:`~uqms.models.external.command.CommandStage`.
        name: the stage's label in messages and in the cache.
    """

    def __init__(
        self,
        structure_file: str | None = None,
        format: str | None = None,
        inputs: Sequence[str] = (),
        structure_db_file: str | None = None,
        select: int | str | None = None,
        modify: str | None = None,
        calculator: str = DEFAULT_CALCULATOR,
        calculator_parameters: Mapping[str, Any] | None = None,
        output: str = "energy",
        ensemble_size: int = 0,
        ensemble_seed: int = 0,
        cache_path: str | None = None,
        resources: Mapping[str, float] | None = None,
        seconds_per_sample: float | None = None,
        name: str = "atomistic.energy",
    ):
        self.inputs = tuple(inputs)
        self.status_messages = {RAISED: "the structure could not be made or the calculator raised"}
        if (structure_file is None) == (structure_db_file is None):
            raise ValueError("structure_file, structure_db_file: expected exactly one of them (a template, or an "
                             "ASE database with select)")
        self.modify = modify
        self.modify_function = modifier(modify) if modify else None
        self.template, self.base = None, None
        if structure_file is not None:
            if format not in ase.io.formats.ioformats:
                raise ValueError(f"format: expected a format ASE reads, such as 'extxyz' or 'vasp', got {format!r}")
            self.template = read_templates([{"template_file": structure_file, "name": Path(structure_file).name}],
                                           self.inputs)[Path(structure_file).name]
            structure = self.template
        else:
            if select is None:
                raise ValueError("select: a structure from structure_db_file needs a row id or 'key=value'")
            if self.inputs and not modify:
                raise ValueError(f"modify: a structure from structure_db_file takes its inputs {list(self.inputs)} "
                                 "through a function 'package.module:function', and none is given")
            self.base = structure_from_db(structure_db_file, select)
            structure = cache_key(self.base, "")
        try:
            factory = calculator_class(calculator)
        except (ImportError, AttributeError, ValueError) as error:
            raise ValueError(f"calculator: {calculator!r} cannot be found ({error})") from None
        if ensemble_size and not all(hasattr(factory, m) for m in ("get_xc_functional", "get_nonselfconsistent_energies")):
            raise ValueError(f"ensemble_size: calculator {calculator!r} gives no BEEF non-self-consistent energies; "
                             "expected ensemble_size = 0")
        self.format, self.calculator = format, calculator
        self.calculator_parameters = dict(calculator_parameters or {})
        self.ensemble_size, self.ensemble_seed = int(ensemble_size), int(ensemble_seed)
        self.energy, self.members = output, f"{output}_members"
        members = [Output(self.members, (MEMBER,), "eV")] if self.ensemble_size else []
        self.declared = DeclaredOutputs([Output(output, (), "eV"), *members],
                                        coords={MEMBER: list(range(self.ensemble_size))} if self.ensemble_size else {})
        self.cache_path, self.name = cache_path, name
        self.resources, self.seconds_per_sample = scheduling(resources, seconds_per_sample)
        source = inspect.getsource(self.modify_function) if self.modify_function else ""
        self.settings = {"structure": structure, "format": format, "calculator": calculator,
                         "modify": [modify, hashlib.sha256(source.encode()).hexdigest()],
                         "parameters": self.calculator_parameters, "ensemble": bool(self.ensemble_size)}

    def __call__(self, batch: Mapping) -> dict:
        cache = ResultCache(self.cache_path) if self.cache_path else None
        template = template_environment().from_string(self.template) if self.template is not None else None
        outcomes = evaluate_samples(self.name, self.settings, batch_samples(batch, self.inputs),
                                    lambda sample: self.compute(template, sample), cache)
        result = outcomes_to_batch(outcomes, {self.energy: ()})
        if self.ensemble_size:
            result[self.members] = np.full((len(outcomes), self.ensemble_size), np.nan)
            groups: dict[str, list[int]] = {}
            for i in np.flatnonzero(result["status"] == 0):  # gathering outcomes, as outcomes_to_batch does
                groups.setdefault(outcomes[i].values[XC], []).append(i)
            for xc, rows in groups.items():  # one functional, as a rule
                contributions = np.array([outcomes[i].values[CONTRIBUTIONS] for i in rows])
                result[self.members][rows] = member_energies(result[self.energy][rows], contributions, xc,
                                                             self.ensemble_size, self.ensemble_seed)
        return result

    def structure(self, template: jinja2.Template | None, sample: dict[str, float]) -> Atoms:
        """The sample's structure: the template rendered and read, or the database's row, then modified."""
        if template is not None:
            atoms = ase.io.read(io.StringIO(template.render(sample)), format=self.format)
        else:
            atoms = self.base.copy()
        if self.modify_function is not None:
            atoms = self.modify_function(atoms, **sample) or atoms
        return atoms

    def compute(self, template: jinja2.Template | None, sample: dict[str, float]) -> Outcome:
        """The outcome of one sample: its energy (and BEEF basis contributions)."""
        try:
            atoms = self.structure(template, sample)
            atoms.calc = make_calculator(self.calculator, self.calculator_parameters)
            values: dict[str, Any] = {self.energy: float(atoms.get_potential_energy())}
            if self.ensemble_size:
                xc, contributions = contributions_from_calculator(atoms.calc)
                values.update({XC: xc, CONTRIBUTIONS: contributions.tolist()})
        except Exception as error:  # noqa: BLE001 - any failure of a structure or calculator is a sample's
            return Outcome(RAISED, text=f"{type(error).__name__}: {error}")
        return Outcome(0, values)
