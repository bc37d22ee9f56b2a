"""Nested designs: epistemic inputs in an outer loop, aleatoric inputs in an inner loop.

Outer sample ``i`` draws the epistemic inputs from row ``i`` of the workflow's design;
its ``inner`` aleatoric draws are rows ``i*inner ... (i+1)*inner - 1`` of a second design
of the same method with a seed of its own, so every draw depends only on (seed, i, j).
Each outer sample thus carries a whole distribution over the aleatoric inputs.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from uqms.inputs import Correlation, InputSet, UncertainInput
from uqms.models.stage import Batch

INNER = "inner"


def inner_seed(seed: int) -> int:
    """The seed of the inner design, derived from (and independent of) the outer one."""
    return int(np.random.SeedSequence([seed, 7]).generate_state(1)[0])


class NestedDesign:
    """Splits the inputs by kind and samples them outer x inner.

    Args:
        inputs, correlations: the workflow's uncertain inputs and correlation blocks
            (a block may not mix epistemic and aleatoric inputs).
        design: the design object used for both loops.
        inner: aleatoric draws per outer sample.

    Raises:
        ValueError: no input of one kind, or a correlation across kinds.
    """

    def __init__(self, inputs: Sequence[UncertainInput], correlations: Sequence[Correlation], design, inner: int):
        self.design, self.inner = design, int(inner)
        parts = {}
        for kind in ("epistemic", "aleatoric"):
            members = [i for i in inputs if i.kind == kind]
            if not members:
                raise ValueError(f"a nested design needs at least one {kind} input")
            names = {i.name for i in members}
            blocks = [c for c in correlations if set(c.names) & names]
            for block in blocks:
                if not set(block.names) <= names:
                    raise ValueError(f"correlation {list(block.names)} mixes epistemic and aleatoric inputs")
            parts[kind] = InputSet(members, blocks)
        self.outer, self.aleatoric = parts["epistemic"], parts["aleatoric"]

    def sample(self, start: int, stop: int, n: int, seed: int) -> Batch:
        """Epistemic inputs of outer samples ``start:stop`` (shape rows) and their
        aleatoric draws (shape rows x inner)."""
        m, rows = self.inner, stop - start
        outer = self.outer.from_unit_cube(self.design.unit_cube(start, stop, n, len(self.outer), seed))
        u = self.design.unit_cube(start * m, stop * m, n * m, len(self.aleatoric), inner_seed(seed))
        draws = {k: v.reshape(rows, m) for k, v in self.aleatoric.from_unit_cube(u).items()}
        return {**outer, **draws}

    def flatten(self, batch: Batch) -> Batch:
        """Rows x inner -> one flat batch: epistemic values repeated over their inner draws."""
        m = self.inner
        return {k: np.repeat(v, m, axis=0) if k in self.outer.names else v.reshape(-1, *v.shape[2:])
                for k, v in batch.items()}

    def unflatten(self, result: Batch) -> Batch:
        """A flat batch of results -> rows x inner x ..."""
        return {k: v.reshape(-1, self.inner, *v.shape[1:]) for k, v in result.items()}
