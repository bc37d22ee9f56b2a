"""Prior of the calibrated inputs: the workflow's own input distributions.

Calibrated inputs must be continuous (emcee's moves are). A functional ensemble serves
as a prior in two ways:

- all its quantities at once: declare it with ``mode = "pca"`` in its ``[ensembles.NAME]``
  section; its principal-component scores ``NAME_pc1..`` are standard-normal inputs whose
  calibration updates the functional's error with the ensemble's covariance as prior (a
  member index, ``mode = "member"``, is discrete and cannot be calibrated);
- one energy: :func:`ensemble_correction_prior` turns the members' spread of that energy
  into a zero-mean normal correction input, added to the energy in the chain.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from uqms._chaospy import chaospy
from uqms.inputs import InputSet, UncertainInput

SIGMA = "sigma"


class Prior:
    """Joint prior of the calibrated inputs (and of an inferred noise ``sigma``).

    The calibrated inputs keep the distributions the workflow declares, with the
    correlation blocks among them (a block may not be split between calibrated and
    other inputs); ``sigma`` is independent of them.

    Args:
        inputs: the workflow's inputs.
        names: the calibrated inputs.
        sigma: prior of the noise standard deviation, or None.

    Raises:
        ValueError: an unknown name, or a correlation block only partly calibrated.
    """

    def __init__(self, inputs: InputSet, names: Sequence[str], sigma: chaospy.Distribution | None = None):
        unknown = [n for n in names if n not in inputs.names]
        if unknown:
            raise ValueError(f"{unknown} are not uncertain inputs; expected some of {list(inputs.names)}")
        chosen = set(names)
        blocks = []
        for block in inputs.correlations:
            inside = chosen & set(block.names)
            if inside and inside != set(block.names):
                raise ValueError(f"correlated inputs {list(block.names)} must be calibrated together or not at all")
            if inside:
                blocks.append(block)
        members = [inputs[n] for n in names]
        if sigma is not None:
            members.append(UncertainInput(SIGMA, sigma, "epistemic", "noise"))
        self.inputs = InputSet(members, blocks)
        self.names = self.inputs.names

    def __len__(self) -> int:
        return len(self.names)

    def logpdf(self, theta: np.ndarray) -> np.ndarray:
        """Log prior density of each row of ``theta`` (walkers x parameters); -inf off the support."""
        theta = np.asarray(theta, dtype=float)
        # chaospy has no logpdf: without correlations, summing the logs of the marginal
        # densities underflows later than the log of their product (and takes half the time).
        with np.errstate(divide="ignore"):
            if self.inputs.correlations:
                return np.log(np.atleast_1d(self.inputs.joint.pdf(theta.T)).reshape(len(theta)))
            return sum(np.log(i.distribution.pdf(theta[:, j])) for j, i in enumerate(self.inputs.inputs))

    def sample(self, n: int, seed: int) -> np.ndarray:
        """``n`` independent prior draws, ``(n, parameters)``, reproducible from ``seed``."""
        u = np.random.default_rng([seed, 7]).random((n, len(self)))
        values = self.inputs.from_unit_cube(u)
        return np.column_stack([values[name] for name in self.names])


def ensemble_correction_prior(members: np.ndarray, name: str, unit: str = "eV", group: str = "functional",
                              description: str = "") -> UncertainInput:
    """A zero-mean normal prior for an energy correction, its spread taken from an ensemble.

    Use: compute one energy (e.g. a reaction energy, eV) with every member of a
    functional ensemble (e.g. the 2000 BEEF-vdW members), declare the returned input
    in the workflow, add it in the chain to that energy, and calibrate it: the
    ensemble's standard deviation is the prior uncertainty of the functional's error.

    Args:
        members: the energy given by each ensemble member, shape ``(members,)``.
        name: name of the correction input.
    """
    members = np.asarray(members, dtype=float)
    if members.ndim != 1 or members.size < 2 or not np.all(np.isfinite(members)):
        raise ValueError(f"{name}: expected a finite 1-d array of at least 2 ensemble energies, got shape {members.shape}")
    spread = float(members.std(ddof=1))
    if spread <= 0:
        raise ValueError(f"{name}: the ensemble energies are all equal; no spread to use as a prior")
    return UncertainInput(name, chaospy.Normal(0.0, spread), "epistemic", group, unit,
                          description or f"correction, normal prior with the ensemble's sd {spread:.3g} {unit}")
