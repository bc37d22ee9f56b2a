"""Equilibrium extent of the overall reaction at a reactor's inlet, temperature and pressure."""

from __future__ import annotations

import numpy as np

from uqms.models.reactor.reaction import OverallReaction

BISECTIONS = 200  # halvings of the feasible extent interval: down to round-off for any K


def equilibrium_extent(reaction: OverallReaction, inlet: np.ndarray, pressure: np.ndarray,
                       log_k: np.ndarray) -> np.ndarray:
    """Extent (samples,), mol/s, at which the reaction quotient equals the equilibrium constant.

    ln Q is strictly increasing in the extent between the limits that keep all flows
    non-negative (the Gibbs energy of an ideal-gas mixture is convex), so a batched
    bisection on that interval finds the unique root for every sample.

    Args:
        inlet: molar flows (samples, gas), mol/s; pressure: total pressure (samples,), bar;
        log_k: ln K of the overall reaction (samples,), bar to the net moles of gas made.
    """
    low, high = reaction.extent_limits(inlet)
    for _ in range(BISECTIONS):
        middle = 0.5 * (low + high)
        past = reaction.log_quotient(reaction.flows(inlet, middle), pressure) > log_k
        high = np.where(past, middle, high)
        low = np.where(past, low, middle)
    return 0.5 * (low + high)
