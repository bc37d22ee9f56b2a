"""Units: parsing unit strings with pint and converting values to the units a stage expects.

Inside the models uqms works in eV, K, bar, s and 1/s per site. A workflow may give an
input, a constant or a data column in another unit of the same quantity (``degC``,
``kJ/mol``, ``Pa``); it is converted at the edge, once, by an affine map
``model = scale * given + offset`` computed here with pint. A unit of another quantity
(a pressure given in ``K``) or a string pint does not know is refused.

pint is imported only when a unit is first parsed (:func:`registry`), so that importing
uqms and ``uqms --help`` stay fast; the conversions themselves are plain floats and need
no pint where samples are evaluated.

Energies per mole and per particle: pint's ``kJ/mol`` is an energy per amount of substance
and ``eV`` an energy, two different dimensions. The models' energies are per particle
(per adsorbate, per site), so an energy per mole is converted by dividing by the Avogadro
constant explicitly (``(96.485 kJ/mol) / N_A = 1 eV``), and an energy per particle to one
per mole by multiplying by it; no other quantity crosses between per mole and per particle.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pint

DIMENSIONLESS = ("", "1")


class UnitError(ValueError):
    """A unit string pint does not know, or a unit of another quantity than the one expected."""


@cache
def registry() -> pint.UnitRegistry:
    """The one pint unit registry of uqms (built, and pint imported, when first needed)."""
    import pint

    return pint.UnitRegistry()


def parse(unit: str) -> Any:
    """The pint unit of ``unit`` (``""`` and ``"1"`` are dimensionless).

    Raises:
        UnitError: a string pint cannot read as a unit.
    """
    text = str(unit).strip()
    ureg = registry()
    if text in DIMENSIONLESS:
        return ureg.dimensionless
    try:
        parsed = ureg.parse_units(text)
    except Exception as error:  # noqa: BLE001 - pint's parser raises many types (even AssertionError) on bad strings
        raise UnitError(f"{unit!r} is not a unit pint knows ({type(error).__name__}: {error})") from None
    return parsed


@dataclass(frozen=True)
class Conversion:
    """An affine conversion ``to = scale * value + offset`` from unit ``given`` to unit ``expected``."""

    given: str
    expected: str
    scale: float = 1.0
    offset: float = 0.0

    @property
    def identity(self) -> bool:
        return self.scale == 1.0 and self.offset == 0.0

    def __call__(self, values: Any) -> Any:
        """Values in ``given`` converted to ``expected`` (arrays or floats)."""
        if self.identity:
            return values
        return np.asarray(values, dtype=float) * self.scale + self.offset

    def spread(self, values: Any) -> Any:
        """A difference or standard deviation in ``given`` converted to ``expected`` (scale only, no offset)."""
        return values if self.scale == 1.0 else np.asarray(values, dtype=float) * self.scale


def conversion(given: str, expected: str) -> Conversion:
    """The conversion of values in unit ``given`` to unit ``expected``.

    Offset units (``degC``, ``degF``) are converted as temperatures (``400 degC`` is
    ``673.15 K``); an energy per mole to an energy per particle divides by the Avogadro
    constant (see the module's docstring).

    Raises:
        UnitError: either string is not a unit, or they measure different quantities; the
            message names both units and their dimensions.
    """
    if str(given).strip() == str(expected).strip():
        return Conversion(given, expected)
    source, target = parse(given), parse(expected)
    ureg = registry()
    if source == target:
        return Conversion(given, expected)

    def convert(value: float) -> float:
        quantity = ureg.Quantity(value, source)
        if quantity.dimensionality != target.dimensionality:
            ratio = (ureg.Quantity(1.0, source) / ureg.Quantity(1.0, target)).dimensionality
            per_mole = ureg.Quantity(1.0, "mol").dimensionality
            energy = ureg.Quantity(1.0, "eV").dimensionality
            avogadro = ureg.Quantity(1.0, "N_A")
            if ratio == 1 / per_mole and target.dimensionality == energy:
                quantity = quantity / avogadro
            elif ratio == per_mole and source.dimensionality == energy:
                quantity = quantity * avogadro
        return float(quantity.to(target).magnitude)

    try:
        offset = convert(0.0)
        scale = convert(1.0) - offset
    except _parse_errors() as error:  # DimensionalityError, OffsetUnitCalculusError
        if type(error).__name__ == "DimensionalityError":
            raise UnitError(
                f"unit {given!r} measures {_dimension(source)}, but {expected!r} ({_dimension(target)}) is expected"
            ) from None
        raise UnitError(f"cannot convert {given!r} to {expected!r}: {error}") from None
    return Conversion(given, expected, scale, offset)


def _parse_errors() -> tuple[type[BaseException], ...]:
    """What pint raises for a string that is no unit, or units that do not convert."""
    import tokenize

    import pint

    return (pint.errors.PintError, ValueError, TypeError, AttributeError, SyntaxError, tokenize.TokenError)


def _dimension(unit: Any) -> str:
    dimensionality = registry().Quantity(1.0, unit).dimensionality
    return "a pure number" if not dimensionality else str(dimensionality)
