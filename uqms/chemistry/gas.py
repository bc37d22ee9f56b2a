"""Free-energy corrections of ideal gases: G(T, 1 bar) - E_electronic (eV).

G = E + ZPE + [H(T) - H(0)] - T S(T, 1 bar). The thermal terms come from NIST Shomate
coefficients (webbook.nist.gov), with H(298.15) - H(0) from the JANAF tables.
"""

from __future__ import annotations

import numpy as np
from scipy import constants

KJ_PER_MOL_IN_EV = 1e3 / (constants.e * constants.N_A)


def shomate_enthalpy(coefficients, temperature: np.ndarray) -> np.ndarray:
    """H(T) - H(298.15 K) in kJ/mol from Shomate coefficients A..H."""
    a, b, c, d, e, f, _, h = coefficients
    t = np.asarray(temperature, dtype=float) / 1000.0
    return a * t + b * t**2 / 2 + c * t**3 / 3 + d * t**4 / 4 - e / t + f - h


def shomate_entropy(coefficients, temperature: np.ndarray) -> np.ndarray:
    """Standard entropy S(T, 1 bar) in J/(mol K) from Shomate coefficients A..H."""
    a, b, c, d, e, _, g, _ = coefficients
    t = np.asarray(temperature, dtype=float) / 1000.0
    return a * np.log(t) + b * t + c * t**2 / 2 + d * t**3 / 3 - e / (2 * t**2) + g


def free_energy_correction(
    temperature: np.ndarray,
    zero_point_energy: float = 0.0,
    shomate=None,
    extra: np.ndarray | float = 0.0,
) -> np.ndarray:
    """G(T, 1 bar) - E_electronic of one gas species (eV).

    Args:
        temperature: K, one value per sample (or a single one, broadcast against ``extra``).
        zero_point_energy: eV.
        shomate: a :class:`~uqms.chemistry.mechanism.Shomate` entry (coefficients,
            temperature range, H(298.15) - H(0) in kJ/mol), or ``None`` for no thermal terms.
        extra: any further correction (eV), e.g. an uncertain offset.

    Raises:
        ValueError: a temperature outside the Shomate range.
    """
    temperature = np.asarray(temperature, dtype=float)
    correction = zero_point_energy + np.asarray(extra, dtype=float) + np.zeros_like(temperature)
    if shomate is None:
        return correction
    low, high = shomate.temperature_range
    if np.any((temperature < low) | (temperature > high)):
        raise ValueError(f"temperature outside the Shomate range {low}-{high} K")
    enthalpy = shomate_enthalpy(shomate.coefficients, temperature) + shomate.enthalpy_298_minus_0
    entropy = shomate_entropy(shomate.coefficients, temperature) * 1e-3  # kJ/(mol K)
    return correction + (enthalpy - temperature * entropy) * KJ_PER_MOL_IN_EV
