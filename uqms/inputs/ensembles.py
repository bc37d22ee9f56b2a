"""Ensembles (epistemic): a finite set of members, each giving values of several quantities.

Typical use: adsorption and transition-state energies from every functional of a
BEEF-vdW ensemble (members x quantities, eV). An ensemble enters a workflow either by
member index (a whole-number input and :class:`MemberLookup`; Monte Carlo designs) or
through its principal components as independent standard normals
(:class:`PrincipalComponentStage`; polynomial chaos), see :func:`ensemble_inputs`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, PositiveInt

from uqms.inputs.distributions import DiscreteUniform, Normal
from uqms.inputs.parameters import UncertainInput

NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"  # a quantity name in a CSV header (as uqms.config's)

log = logging.getLogger("uqms")
MEMBER = "member"  # dimension of an ensemble's members
KEPT_VARIANCE = 0.999


@dataclass(frozen=True)
class PrincipalComponents:
    """An ensemble as mean + xi @ loadings, xi independent standard normals.

    Args:
        mean: ensemble mean per quantity.
        loadings: (components, quantities): sqrt(eigenvalue) x eigenvector of the covariance.
        explained: share of the total variance of each kept component.
    """

    mean: np.ndarray = field(repr=False)
    loadings: np.ndarray = field(repr=False)
    explained: np.ndarray

    @property
    def n_components(self) -> int:
        return len(self.loadings)

    def covariance(self) -> np.ndarray:
        """Covariance the kept components reproduce."""
        return self.loadings.T @ self.loadings

    def values(self, scores: np.ndarray) -> np.ndarray:
        """Quantities (samples x quantities) at standard-normal scores (samples x components)."""
        return self.mean + np.asarray(scores, dtype=float) @ self.loadings


class Ensemble:
    """Members x quantities.

    Args:
        values: array (members, quantities).
        quantities: a distinct name per column.
        unit: unit of the values.
        source: where the values came from (for messages).

    Raises:
        ValueError: wrong shape, fewer than 2 members, repeated names, non-finite values.
    """

    def __init__(self, values, quantities: Sequence[str], unit: str = "eV", source: str = "<array>"):
        values = np.asarray(values, dtype=float)
        quantities = tuple(str(q) for q in quantities)
        if values.ndim != 2 or values.shape[1] != len(quantities):
            raise ValueError(f"{source}: an ensemble is members x quantities ({len(quantities)}), got shape {values.shape}")
        if values.shape[0] < 2:
            raise ValueError(f"{source}: an ensemble needs at least 2 members, got {values.shape[0]}")
        if len(set(quantities)) != len(quantities):
            raise ValueError(f"{source}: quantity names must be distinct, got {list(quantities)}")
        bad = ~np.isfinite(values)
        if bad.any():
            member, column = np.argwhere(bad)[0]
            raise ValueError(f"{source}: {bad.sum()} non-finite values, first at member {member}, quantity {quantities[column]!r}")
        self.values, self.quantities, self.unit, self.source = values, quantities, unit, source

    @property
    def members(self) -> int:
        return len(self.values)

    def select(self, quantities: Sequence[str]) -> Ensemble:
        """The ensemble restricted to ``quantities`` (in that order)."""
        missing = [q for q in quantities if q not in self.quantities]
        if missing:
            raise ValueError(f"{self.source}: no quantities {missing}; it has {list(self.quantities)}")
        columns = [self.quantities.index(q) for q in quantities]
        return Ensemble(self.values[:, columns], quantities, self.unit, self.source)

    def covariance(self) -> np.ndarray:
        """Covariance of the quantities over the members (members weighted equally, ddof 1)."""
        return np.cov(self.values, rowvar=False).reshape(len(self.quantities), len(self.quantities))

    def principal_components(self, variance: float = KEPT_VARIANCE) -> PrincipalComponents:
        """The fewest principal components holding at least ``variance`` of the total variance."""
        if not 0 < variance <= 1:
            raise ValueError(f"kept variance must lie in (0, 1], got {variance}")
        eigenvalues, vectors = np.linalg.eigh(self.covariance())
        eigenvalues, vectors = np.clip(eigenvalues[::-1], 0.0, None), vectors[:, ::-1]
        explained = eigenvalues / eigenvalues.sum()
        # tolerance keeps variance=1 from asking for components of rounding-error size
        k = min(int(np.searchsorted(np.cumsum(explained), variance - 1e-12)) + 1, len(explained))
        loadings = np.sqrt(eigenvalues[:k])[:, None] * vectors[:, :k].T
        return PrincipalComponents(self.values.mean(axis=0), loadings, explained[:k])

    @classmethod
    def from_file(cls, path: str | Path, quantities: Sequence[str] = (), unit: str = "eV") -> Ensemble:
        """Read ``.npy`` (members x quantities; ``quantities`` names the columns), ``.csv``
        (a header row of names, ``#`` comments) or NetCDF ``.nc`` (one variable per
        quantity along ``member``, or one variable with dims ``member`` x ``quantity``).
        ``quantities`` selects columns of the last two (default: all)."""
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix == ".npy":
            if not quantities:
                raise ValueError(f"{path}: name the columns of a .npy file (quantities)")
            return cls(np.load(path), list(quantities), unit, str(path))
        if suffix == ".csv":

            table = _read_table(path)
            ensemble = cls(table.to_numpy(dtype=float), list(table.columns), unit, str(path))
        elif suffix == ".nc":
            import xarray as xr

            with xr.open_dataset(path) as data:
                variables = list(data.data_vars)
                if len(variables) == 1 and data[variables[0]].ndim == 2:
                    array = data[variables[0]].transpose(MEMBER, ...)
                    other = array.dims[1]
                    ensemble = cls(array.values, [str(q) for q in array[other].values], unit, str(path))
                else:
                    ensemble = cls(np.column_stack([data[v].values for v in variables]), variables, unit, str(path))
        else:
            raise ValueError(f"{path}: ensemble files are .npy, .csv, .nc or an ASE database .db")
        return ensemble.select(quantities) if quantities else ensemble

    @classmethod
    def from_ase_db(cls, path: str | Path, quantities: Sequence[str] | Mapping[str, Mapping[str, float]],
                    size: int = 2000, seed: int = 0) -> Ensemble:
        """Read an ASE database whose rows (identified by their ``name`` key) carry
        per-member energies, either as data ``member_energies`` or as BEEF-vdW basis
        contributions (data ``beef_contributions``, key ``xc``) turned into ``size`` member
        energies with ``ase.dft.bee`` (one ``seed`` for every row: the same functionals).

        Args:
            quantities: row names (each quantity is that row's energy), or
                ``{quantity: {row name: coefficient}}`` for reaction energies, e.g.
                ``{"E_N": {"N_slab": 1, "slab": -1, "N2": -0.5}}``.
        """
        import sqlite3

        import ase.db

        from uqms.models.atomistic.beef import member_energies

        terms = {q: {q: 1.0} for q in quantities} if not isinstance(quantities, Mapping) else dict(quantities)
        rows: dict[str, np.ndarray] = {}
        with ase.db.connect(path) as db:
            for name in dict.fromkeys(n for combination in terms.values() for n in combination):
                try:
                    found = list(db.select(name=name))
                except sqlite3.DatabaseError as error:
                    raise ValueError(f"{path}: not an ASE database ({error}): expected an SQLite file written by "
                                     "ase.db") from None
                if len(found) != 1:
                    raise ValueError(f"{path}: expected one row with name={name!r}, found {len(found)}")
                row = found[0]
                if "member_energies" in row.data:
                    rows[name] = np.asarray(row.data["member_energies"], dtype=float)
                elif "beef_contributions" in row.data:
                    rows[name] = member_energies(row.energy, row.data["beef_contributions"], row.get("xc", "BEEF-vdW"), size, seed)
                else:
                    raise ValueError(f"{path}: row {name!r} has neither data 'member_energies' nor 'beef_contributions'")
        lengths = {name: len(v) for name, v in rows.items()}
        if len(set(lengths.values())) != 1:
            raise ValueError(f"{path}: rows have different numbers of members: {lengths}")
        values = np.column_stack([sum(c * rows[n] for n, c in combination.items()) for combination in terms.values()])
        return cls(values, list(terms), "eV", str(path))


def _read_table(path: Path):
    """The numbers of a CSV ensemble file under its header of quantity names.

    Errors name the file and the position of the cell, never its content: an ensemble
    file is a ``file`` option, which may point at any file readable by the user.
    """
    import pandas as pd

    try:
        table = pd.read_csv(path, comment="#", skipinitialspace=True, dtype=str)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        reason = str(error) if isinstance(error, pd.errors.ParserError) else type(error).__name__
        raise ValueError(f"{path}: not a readable CSV table ({reason}); expected a header row of quantity names "
                         "and one row of numbers per member") from None
    for column, name in enumerate(table.columns, start=1):
        if not re.fullmatch(NAME_PATTERN, str(name)):
            raise ValueError(f"{path}: column {column} of the header row is not a quantity name; expected a header row "
                             "of names (letters, digits and _, not starting with a digit)")
    numbers = table.apply(pd.to_numeric, errors="coerce")
    bad = numbers.isna().to_numpy() & table.notna().to_numpy()
    if bad.any():
        row, column = np.argwhere(bad)[0]
        raise ValueError(f"{path}: row {row + 1} (after the header), column {table.columns[column]!r} is not a number; "
                         "expected one number per quantity and member")
    return numbers


def load_ensemble(path: str | Path, quantities=(), size: int = 2000, seed: int = 0, unit: str = "eV") -> Ensemble:
    """An ensemble from any supported file (``.db`` is read as an ASE database)."""
    if not Path(path).is_file():
        raise ValueError(f"{path}: no such ensemble file")
    if Path(path).suffix.lower() == ".db":
        if not quantities:
            raise ValueError(f"{path}: name the rows (quantities) to read from an ASE database")
        return Ensemble.from_ase_db(path, quantities, size, seed)
    if isinstance(quantities, Mapping):  # a ValueError: callers report bad workflow values as one
        raise ValueError(f"{path}: reaction-energy quantities (tables) need an ASE database")  # noqa: TRY004
    return Ensemble.from_file(path, quantities, unit)


class MemberLookup:
    """Stage: the quantities of the ensemble member whose index is in the batch.

    Inputs: ``index`` (whole numbers 0 .. members-1). Outputs: the quantities.
    """

    def __init__(self, ensemble: Ensemble, index: str, name: str = "ensemble"):
        self.ensemble, self.index = ensemble, index
        self.name = f"ensemble.member({name})"
        self.inputs, self.outputs = (index,), ensemble.quantities
        self.units = {q: ensemble.unit for q in ensemble.quantities}

    def __call__(self, batch):
        raw = np.asarray(batch[self.index], dtype=float)
        index = np.rint(raw).astype(int)
        if np.any(index != raw) or np.any((index < 0) | (index >= self.ensemble.members)):
            raise ValueError(f"{self.index} must hold whole member indices 0..{self.ensemble.members - 1}")
        rows = self.ensemble.values[index]
        return {q: rows[:, k] for k, q in enumerate(self.outputs)}


class PrincipalComponentStage:
    """Stage: quantities = ensemble mean + scores @ loadings.

    Inputs: one standard-normal score per kept component. Outputs: the quantities.
    """

    def __init__(self, components: PrincipalComponents, scores: Sequence[str], quantities: Sequence[str],
                 unit: str = "eV", name: str = "ensemble"):
        if len(scores) != components.n_components:
            raise ValueError(f"{len(scores)} score names for {components.n_components} components")
        self.components = components
        self.name = f"ensemble.pca({name})"
        self.inputs, self.outputs = tuple(scores), tuple(quantities)
        self.units = {q: unit for q in self.outputs}

    def __call__(self, batch):
        scores = np.column_stack([np.asarray(batch[s], dtype=float) for s in self.inputs])
        values = self.components.values(scores)
        return {q: values[:, k] for k, q in enumerate(self.outputs)}


class EnsembleEntry(BaseModel):
    """An ``[ensembles.NAME]`` section of a workflow file."""

    model_config = ConfigDict(extra="forbid")
    file: str = Field(min_length=1, description=".npy, .csv, .nc or ASE database .db, relative to the workflow file")
    quantities: list[str] | dict[str, dict[str, float]] = Field(
        default=[], description="columns to use (default all); for a .db: row names or {quantity: {row: coefficient}}"
    )
    mode: Literal["member", "pca"] = Field(default="member", description="member index (MC) or principal components (PCE)")
    kind: Literal["aleatoric", "epistemic"] = "epistemic"
    group: str = ""
    unit: str = "eV"
    description: str = ""
    variance: float = Field(default=KEPT_VARIANCE, gt=0, le=1, description="variance the kept components hold (pca)")
    size: PositiveInt = Field(default=2000, description="members built from BEEF contributions (.db)")
    seed: int = Field(default=0, ge=0, description="seed of the BEEF ensemble functionals (.db)")


def ensemble_inputs(name: str, entry: EnsembleEntry, path: str | Path):
    """The uncertain inputs and the stage an ``[ensembles.NAME]`` section expands into.

    ``member`` mode: input ``NAME_member`` (whole numbers, equally likely) and a
    :class:`MemberLookup`; ``pca`` mode: inputs ``NAME_pc1..NAME_pcK`` (standard normals)
    and a :class:`PrincipalComponentStage`, K the fewest components holding ``variance``.

    Returns:
        (inputs, stage, ensemble)
    """
    ensemble = load_ensemble(path, entry.quantities, entry.size, entry.seed, entry.unit)
    group, about = entry.group or name, entry.description or f"ensemble {name!r} ({ensemble.members} members)"
    if entry.mode == "member":
        index = f"{name}_member"
        spec = DiscreteUniform(lower=0, upper=ensemble.members - 1)
        inputs = [UncertainInput(index, spec.build(), entry.kind, group, "1", f"member index of {about}")]
        return inputs, MemberLookup(ensemble, index, name), ensemble
    components = ensemble.principal_components(entry.variance)
    k = components.n_components
    log.info("ensemble %r: %d of %d principal components hold %.4f of the variance",
             name, k, len(ensemble.quantities), components.explained.sum())
    scores = [f"{name}_pc{j + 1}" for j in range(k)]
    inputs = [
        UncertainInput(s, Normal(mean=0.0, std=1.0).build(), entry.kind, group, "1",
                       f"principal component {j + 1} of {k} ({components.explained[j]:.4f} of the variance) of {about}")
        for j, s in enumerate(scores)
    ]
    return inputs, PrincipalComponentStage(components, scores, ensemble.quantities, ensemble.unit, name), ensemble
