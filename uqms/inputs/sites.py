"""Site distributions (aleatoric): the population of active sites of one catalyst.

Every site type k has a weight w_k (share of the sites, summing to 1) and a shift of the
binding energy, shift_k = scale x coordinate_k (eV). ``scale`` is a number or the name of a
batch input, so a site distribution can carry an uncertain parameter (a spread, a slope)
whose value changes from sample to sample.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

SITE = "site"  # dimension of per-site values


@dataclass(frozen=True)
class SiteDistribution:
    """Site types with weights and binding-energy shifts ``scale x coordinates`` (eV).

    Args:
        labels: one distinct label per site type.
        weights: share of each site type (positive, normalised to sum 1).
        coordinates: per-site-type factor of the shift.
        scale: number (eV per unit coordinate) or name of the batch input holding it.
        description: one line for reports.
    """

    labels: tuple[str, ...]
    weights: np.ndarray = field(repr=False)
    coordinates: np.ndarray = field(repr=False)
    scale: float | str = 1.0
    description: str = ""

    def __post_init__(self):
        weights = np.asarray(self.weights, dtype=float)
        coordinates = np.asarray(self.coordinates, dtype=float)
        labels = tuple(str(label) for label in self.labels)
        if not (weights.ndim == 1 and weights.shape == coordinates.shape == (len(labels),)) or not labels:
            raise ValueError(
                f"site distribution: labels ({len(labels)}), weights {weights.shape} and shifts "
                f"{coordinates.shape} must be 1-d of one length"
            )
        if len(set(labels)) != len(labels):
            raise ValueError("site distribution: labels must be distinct")
        if not (np.all(np.isfinite(weights)) and np.all(weights > 0)):
            raise ValueError(f"site distribution: weights must be positive and finite, got {weights.tolist()}")
        if not np.all(np.isfinite(coordinates)):
            raise ValueError("site distribution: shifts must be finite")
        object.__setattr__(self, "labels", labels)
        object.__setattr__(self, "weights", weights / weights.sum())
        object.__setattr__(self, "coordinates", coordinates)

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def inputs(self) -> tuple[str, ...]:
        """Batch names the shifts read (the scale, when it is uncertain)."""
        return (self.scale,) if isinstance(self.scale, str) else ()

    def shifts(self, batch: Mapping[str, np.ndarray], n: int) -> np.ndarray:
        """Binding-energy shifts in eV, shape (n samples, sites)."""
        scale = np.asarray(batch[self.scale], dtype=float) if isinstance(self.scale, str) else np.full(n, self.scale)
        return scale[:, None] * self.coordinates[None, :]

    @classmethod
    def discrete(cls, labels: Sequence[str], weights: Sequence[float], shifts: Sequence[float], description: str = ""):
        """Site types from a list: labels, weights and shifts (eV)."""
        return cls(tuple(labels), np.asarray(weights), np.asarray(shifts), 1.0, description)

    @classmethod
    def normal(cls, sigma: float | str, points: int = 20, method: str = "gauss-hermite", seed: int = 0):
        """Normally distributed shifts with standard deviation ``sigma`` (eV, or an input name).

        Args:
            points: quadrature nodes or random draws.
            method: ``"gauss-hermite"`` (exact for polynomials of degree < 2 x points) or
                ``"sampled"`` (``points`` equally weighted draws, seeded).
        """
        if not isinstance(sigma, str) and not sigma > 0:
            raise ValueError(f"site distribution: sigma must be positive, got {sigma}")
        if points < 1:
            raise ValueError(f"site distribution: points must be at least 1, got {points}")
        if method == "gauss-hermite":
            nodes, weights = np.polynomial.hermite_e.hermegauss(points)  # weight exp(-z^2 / 2)
        elif method == "sampled":
            nodes, weights = np.random.default_rng(seed).standard_normal(points), np.ones(points)
        else:
            raise ValueError(f"site distribution: unknown method {method!r}; expected 'gauss-hermite' or 'sampled'")
        labels = tuple(f"z{k}={z:+.4f}" for k, z in enumerate(nodes))
        return cls(labels, weights, nodes, sigma, f"normal shifts, sigma {sigma}, {points} points ({method})")

    @classmethod
    def from_gcn_table(cls, table, slope: float | str, gcn_ref: float = 7.5, description: str = ""):
        """Site types from a census table (columns ``cn``, ``gcn``, ``count``, see
        :func:`uqms.models.atomistic.surface_sites.surface_site_table`): shift = slope x (GCN - gcn_ref)."""
        labels = tuple(f"CN{c}_GCN{g:.3f}" for c, g in zip(table["cn"], table["gcn"]))
        return cls(labels, np.asarray(table["count"]), np.asarray(table["gcn"]) - gcn_ref, slope, description)

    @classmethod
    def nanoparticle(cls, element: str, shape: str, size: int, slope: float | str, gcn_ref: float = 7.5,
                     lattice_constant: float | None = None):
        """Atop sites of a nanoparticle built with ASE, classified by GCN (CN_max 12);
        shift = slope x (GCN - ``gcn_ref``), ``gcn_ref`` 7.5 being the fcc(111) terrace."""
        from uqms.models.atomistic.nanoparticle import build_nanoparticle
        from uqms.models.atomistic.surface_sites import surface_site_table

        atoms = build_nanoparticle(element, shape, size, lattice_constant)
        return cls.from_gcn_table(
            surface_site_table(atoms), slope, gcn_ref, f"{element}{len(atoms)} {shape}: atop sites by GCN"
        )


def site_distribution(spec: SiteDistribution | Mapping[str, Any]) -> SiteDistribution:
    """A site distribution from its workflow-file form: ``{kind = "discrete" | "normal" |
    "nanoparticle", ...}`` with the keyword arguments of the constructor of that name."""
    if isinstance(spec, SiteDistribution):
        return spec
    options = dict(spec)
    kind = options.pop("kind", None)
    makers = {"discrete": SiteDistribution.discrete, "normal": SiteDistribution.normal,
              "nanoparticle": SiteDistribution.nanoparticle}
    if kind not in makers:
        raise ValueError(f"sites.kind must be one of {list(makers)}, got {kind!r}")
    try:
        return makers[kind](**options)
    except TypeError as error:
        raise ValueError(f"sites ({kind}): {error}") from None
