"""A stage computing the potential energy (eV) of a structure whose parameters are inputs, with an ASE calculator.

The structure is a template of a text file ASE reads (extxyz, POSCAR, ...), rendered per sample
with jinja2 (a lattice constant, an adsorbate height, a strain as ``{{ name }}``). The calculator
is named as :func:`~uqms.models.atomistic.calculators.make_calculator` takes it: EMT by default,
any calculator ASE knows or any ``package.module:Class`` the user has installed. Where the
calculator provides BEEF-vdW non-self-consistent energies, ``ensemble_size`` adds the energy of
each ensemble functional (:mod:`uqms.models.atomistic.beef`). Single points only: relax the
template's structure beforehand. Results are cached per sample like those of
:class:`~uqms.models.external.command.CommandStage`.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import ase.io
import jinja2

from uqms.models.atomistic.beef import member_energies_from_calculator
from uqms.models.atomistic.calculators import (
    DEFAULT_CALCULATOR,
    calculator_class,
    make_calculator,
)
from uqms.models.external.cache import Outcome, ResultCache
from uqms.models.external.command import read_templates, template_environment
from uqms.models.external.per_sample import (
    batch_samples,
    evaluate_samples,
    outcomes_to_batch,
)

RAISED = 1
MEMBER = "member"


class AtomisticEnergy:
    """Potential energy (eV) of a templated structure, and optionally its BEEF ensemble energies.

    Args:
        structure_file: jinja2 template of a structure file, rendered with the sample's inputs.
        format: ASE's name of the file format (``"extxyz"``, ``"vasp"``, ...).
        inputs: names the template uses.
        calculator: ``"emt"``, another name ASE knows, or ``"package.module:Class"``.
        calculator_parameters: keyword arguments of the calculator.
        output: name of the energy output; the ensemble's is ``{output}_members``.
        ensemble_size: BEEF ensemble functionals (0: none); needs a calculator with
            ``get_nonselfconsistent_energies`` (GPAW with ``xc="BEEF-vdW"``).
        ensemble_seed: seed of the ensemble's functionals (the same for every sample).
        cache_path: SQLite file of per-sample results; None: nothing is cached.
        name: the stage's label in messages and in the cache.
    """

    def __init__(
        self,
        structure_file: str,
        format: str,
        inputs: Sequence[str],
        calculator: str = DEFAULT_CALCULATOR,
        calculator_parameters: Mapping[str, Any] | None = None,
        output: str = "energy",
        ensemble_size: int = 0,
        ensemble_seed: int = 0,
        cache_path: str | None = None,
        name: str = "atomistic.energy",
    ):
        self.inputs = tuple(inputs)
        self.status_messages = {RAISED: "the structure could not be read or the calculator raised"}
        self.template = read_templates([{"template_file": structure_file, "name": Path(structure_file).name}],
                                       self.inputs)[Path(structure_file).name]
        if format not in ase.io.formats.ioformats:
            raise ValueError(f"format: expected a format ASE reads, such as 'extxyz' or 'vasp', got {format!r}")
        try:
            factory = calculator_class(calculator)
        except (ImportError, AttributeError, ValueError) as error:
            raise ValueError(f"calculator: {calculator!r} cannot be found ({error})") from None
        if ensemble_size and not hasattr(factory, "get_nonselfconsistent_energies"):
            raise ValueError(f"ensemble_size: calculator {calculator!r} gives no BEEF non-self-consistent energies; "
                             "expected ensemble_size = 0")
        self.format, self.calculator = format, calculator
        self.calculator_parameters = dict(calculator_parameters or {})
        self.ensemble_size, self.ensemble_seed = int(ensemble_size), int(ensemble_seed)
        self.members = f"{output}_members"
        self.outputs = (output, self.members) if self.ensemble_size else (output,)
        self.units = {name_: "eV" for name_ in self.outputs}
        self.output_dims = {self.members: (MEMBER,)} if self.ensemble_size else {}
        self.output_coords = {MEMBER: list(range(self.ensemble_size))} if self.ensemble_size else {}
        self.cache_path, self.name = cache_path, name
        self.settings = {"structure": self.template, "format": format, "calculator": calculator,
                         "parameters": self.calculator_parameters, "ensemble": [self.ensemble_size, self.ensemble_seed]}

    def __call__(self, batch: Mapping) -> dict:
        cache = ResultCache(self.cache_path) if self.cache_path else None
        template = template_environment().from_string(self.template)
        outcomes = evaluate_samples(self.name, self.settings, batch_samples(batch, self.inputs),
                                    lambda sample: self.compute(template, sample), cache)
        shapes = {self.outputs[0]: ()} | ({self.members: (self.ensemble_size,)} if self.ensemble_size else {})
        return outcomes_to_batch(outcomes, shapes)

    def compute(self, template: jinja2.Template, sample: dict[str, float]) -> Outcome:
        """The outcome of one sample: its structure rendered, read and computed."""
        try:
            atoms = ase.io.read(io.StringIO(template.render(sample)), format=self.format)
            atoms.calc = make_calculator(self.calculator, self.calculator_parameters)
            values: dict[str, Any] = {self.outputs[0]: float(atoms.get_potential_energy())}
            if self.ensemble_size:
                values[self.members] = member_energies_from_calculator(
                    atoms.calc, self.ensemble_size, self.ensemble_seed).tolist()
        except Exception as error:  # noqa: BLE001 - any failure of a structure or calculator is a sample's
            return Outcome(RAISED, text=f"{type(error).__name__}: {error}")
        return Outcome(0, values)
