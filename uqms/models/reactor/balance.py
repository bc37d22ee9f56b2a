"""Element balance between a reactor's inlet and outlet flows."""

from __future__ import annotations

import numpy as np

from uqms.models.reactor.reactions import OverallReactions

BALANCE_TOLERANCE = 1e-10  # largest accepted relative imbalance of any element


def element_imbalance(reactions: OverallReactions, inlet: np.ndarray, outlet: np.ndarray) -> np.ndarray:
    """Largest |atoms out - atoms in| / (atoms in) over the elements, per sample (samples,).

    Flows are (samples, gas) in mol/s; an element absent from the inlet is measured
    against the total atom flow.
    """
    atoms_in = inlet @ reactions.composition.T  # samples x elements
    atoms_out = outlet @ reactions.composition.T
    scale = np.where(atoms_in > 0, atoms_in, atoms_in.sum(axis=1, keepdims=True))
    with np.errstate(invalid="ignore", divide="ignore"):
        return (np.abs(atoms_out - atoms_in) / scale).max(axis=1)
