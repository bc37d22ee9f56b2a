"""The energetics stage: descriptors (and uncertain relation parameters) -> step energies."""

from __future__ import annotations

from uqms.chemistry.mechanism import mechanism_from_options
from uqms.models.energetics.mechanism_energies import step_energies
from uqms.models.outputs import DeclaredOutputs, DeclaresOutputs, Output
from uqms.models.stage import Batch


class MechanismEnergies(DeclaresOutputs):
    """Reaction energies and barriers of a mechanism's steps from its scaling and BEP relations.

    Inputs: every batch name the relations read (descriptors such as ``E_N``, named
    slopes and intercepts). A mechanism whose energies are all numbers reads none; the
    stage then reads ``samples_from`` only to count the samples of the batch (a chain
    hands a stage just the entries it names). Outputs (eV, shaped samples x steps):
    ``<prefix>reaction_energy`` and ``<prefix>barrier`` (clipped to >= max(0, dE) under the
    electronic transition-state convention), along ``<prefix>step``; if some steps give
    their rate constants instead, only the others, along ``<prefix>energy_step``.

    Args:
        mechanism_file: mechanism TOML file (or ``mechanism``: a Mechanism or its dict).
        prefix: prepended to output names and the step dimension, to run several mechanisms in one chain.
        samples_from: batch entry counted when the mechanism reads no other (default ``"T"``,
            the temperature the steady-state stage reads by default).
    """

    def __init__(self, mechanism_file: str | None = None, mechanism=None, prefix: str = "", samples_from: str = "T"):
        self.mechanism = mechanism_from_options(mechanism_file, mechanism)
        self.prefix = prefix
        self.name = f"energetics.scaling({self.mechanism.name})"
        self.inputs = tuple(self.mechanism.energy_parameter_names()) or (samples_from,)
        declared = self.mechanism.parameter_units()
        self.input_units = {name: declared[name] for name in self.inputs if name in declared}
        m = self.mechanism
        steps = [m.step_names[j] for j in m.energy_steps]
        dim = "step" if len(steps) == len(m.steps) else "energy_step"
        self.declared = DeclaredOutputs([Output("reaction_energy", (dim,), "eV"), Output("barrier", (dim,), "eV")],
                                        prefix, {dim: steps})

    def __call__(self, batch: Batch) -> Batch:
        n = len(batch[self.inputs[0]])
        reaction, barrier = step_energies(self.mechanism, batch, n)
        return self.declared.batch({"reaction_energy": reaction, "barrier": barrier})
