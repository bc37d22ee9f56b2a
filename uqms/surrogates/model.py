"""A fitted surrogate and its self-describing file (NetCDF).

Both models work on the inputs scaled to the unit interval over the training range,
``u = (x - lower) / (upper - lower)``:

- polynomial chaos: ``y(u) = sum_k c_k Psi_k(u)``, ``Psi_k`` products of orthonormal
  Legendre polynomials on [0, 1] (:func:`uqms.analysis.pce.design_matrix` of ``U(0, 1)^d``);
- Gaussian process (posterior mean of scikit-learn's ``GaussianProcessRegressor`` with a
  scaled anisotropic RBF kernel and normalised outputs), evaluated here in numpy:
  ``y(u) = offset + scale * amplitude * sum_i w_i exp(-|(u - u_i) / l|^2 / 2)``.

An output may be fitted in ``log10`` (its ``transform``): both models then predict
``log10 y`` and :meth:`Surrogate.predict` returns ``10 ** prediction``; that output's errors
(``cv_rmse``) are in decades, so the surrogate's error is multiplicative, ``y * 10 ** (z * rmse)``.

Every entry of every output (an output with dims is flattened in C order) has one
model of each fitted kind and a chosen one, the kind with the lower cross-validated
RMSE. File layout (one Dataset; dims ``input``, ``entry``, ``term``, ``train``, ``method``):

==========================  ======================  ==========================================
variable                    dims                    meaning
==========================  ======================  ==========================================
``lower``, ``upper``        input                   training range (input units)
``multi_indices``           term, input             degree of each input in each PCE term
``pce_coefficients``        term, entry             PCE coefficients (output units)
``gp_inputs``               train, input            GP training inputs, scaled to [0, 1]
``gp_weights``              train, entry            ``K^-1 y`` of the normalised outputs
``gp_length_scale``         entry, input            RBF length scales (scaled input units)
``gp_amplitude``            entry                   kernel variance (normalised output)
``gp_offset``, ``gp_scale`` entry                   mean and std of the training outputs
``gp_noise``                entry                   white-noise variance (normalised output)
``cv_rmse``                 method, entry           leave-one-out RMSE (output units; log10: decades)
``cv_relative``             method, entry           LOO mean square / variance of the (transformed) entry
``chosen``                  entry                   index into ``method`` of the model used
==========================  ======================  ==========================================

Attrs: ``format`` (:data:`FORMAT`), ``inputs`` and ``input_units`` (JSON lists),
``outputs`` (JSON list of ``{name, units, dims, coords, shape, transform}``, ``transform``
``"none"`` or ``"log10"``; a file of format ``uqms.surrogate/1`` has no transform and reads as ``"none"``), ``training_run``,
``training_workflow``, ``training_fingerprint`` (SHA-256 of the workflow text, names and
training arrays), ``n_train``. A method that was not fitted has a zero-length ``term`` or
``train`` axis and NaN errors.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from math import prod
from pathlib import Path

import numpy as np
import xarray as xr

FORMAT = "uqms.surrogate/2"
READABLE = (FORMAT, "uqms.surrogate/1")
"""Formats :meth:`Surrogate.load` reads (/2 added the per-output ``transform``; a /1 reader would
take a log10 output's predictions for the values themselves, hence the new format)."""
TRANSFORMS = ("none", "log10")
METHODS = ("pce", "gp")
JITTER = 1e-10
"""Added to the GP kernel's diagonal on fitting: scikit-learn's default ``alpha``, part of ``K`` in ``K^-1 y``."""
GP_CHUNK = 4096
"""Rows of a GP prediction evaluated at a time (each holds a ``(rows, train)`` kernel block)."""


@dataclass(frozen=True)
class OutputSpec:
    """One output a surrogate predicts: name, unit, entry dims and their labels, and the
    transform it was fitted in (``"none"`` or ``"log10"``)."""

    name: str
    units: str = ""
    dims: tuple[str, ...] = ()
    coords: dict[str, list] = field(default_factory=dict)
    shape: tuple[int, ...] = ()
    transform: str = "none"

    @property
    def size(self) -> int:
        return prod(self.shape)


@dataclass(frozen=True)
class GaussianProcess:
    """A GP posterior mean per entry: ``inputs (n, d)`` scaled, ``weights (n, M)``,
    ``length_scale (M, d)``, ``amplitude``, ``offset``, ``scale``, ``noise`` ``(M,)`` (the fitted
    white-noise variance, normalised output: not needed by the mean, kept to describe the fit)."""

    inputs: np.ndarray
    weights: np.ndarray
    length_scale: np.ndarray
    amplitude: np.ndarray
    offset: np.ndarray
    scale: np.ndarray
    noise: np.ndarray

    def __call__(self, u: np.ndarray, columns: np.ndarray) -> np.ndarray:
        """Mean at scaled inputs ``u (n, d)`` of the entries ``columns``: ``(n, len(columns))``."""
        out = np.empty((len(u), len(columns)))
        for k, column in enumerate(columns):  # a loop over entries: each has its own kernel
            a, b = u / self.length_scale[column], self.inputs / self.length_scale[column]
            weights = self.amplitude[column] * self.scale[column] * self.weights[:, column]
            for start in range(0, len(u), GP_CHUNK):
                rows = a[start:start + GP_CHUNK]
                distance = (rows**2).sum(axis=1)[:, None] + (b**2).sum(axis=1)[None] - 2 * rows @ b.T
                out[start:start + GP_CHUNK, k] = np.exp(-0.5 * np.maximum(distance, 0.0)) @ weights
            out[:, k] += self.offset[column]
        return out

    def variance(self, u: np.ndarray, column: int, extra: np.ndarray | None = None) -> np.ndarray:
        """Posterior variance of the latent function of entry ``column`` at scaled inputs ``u (n, d)``,
        in normalised output units (divide out ``scale**2``): ``amplitude - k*^T K^-1 k*``.

        ``extra (m, d)``: further training inputs whose values are not known yet (the variance does not
        depend on them), for choosing several new samples in turn.
        """
        from scipy import linalg

        train = self.inputs if extra is None or not len(extra) else np.vstack([self.inputs, extra])
        length, amplitude = self.length_scale[column], self.amplitude[column]

        def kernel(a, b):
            a, b = a / length, b / length
            distance = (a**2).sum(axis=1)[:, None] + (b**2).sum(axis=1)[None] - 2 * a @ b.T
            return amplitude * np.exp(-0.5 * np.maximum(distance, 0.0))

        matrix = kernel(train, train) + (self.noise[column] + JITTER) * np.eye(len(train))
        factor = linalg.cho_factor(matrix, lower=True)
        cross = kernel(train, u)
        return np.maximum(amplitude - (cross * linalg.cho_solve(factor, cross)).sum(axis=0), 0.0)

    def loo_residuals(self, column: int) -> np.ndarray:
        """``(n,)`` leave-one-out residuals of entry ``column`` at the training inputs, normalised
        output units (Rasmussen and Williams 2006, eq. 5.12: ``[K^-1 y]_i / [K^-1]_ii``)."""
        from scipy import linalg

        length = self.length_scale[column]
        a = self.inputs / length
        distance = (a**2).sum(axis=1)[:, None] + (a**2).sum(axis=1)[None] - 2 * a @ a.T
        matrix = (self.amplitude[column] * np.exp(-0.5 * np.maximum(distance, 0.0))
                  + (self.noise[column] + JITTER) * np.eye(len(a)))
        inverse = linalg.cho_solve(linalg.cho_factor(matrix, lower=True), np.eye(len(a)))
        return self.weights[:, column] / inverse.diagonal()


@dataclass(frozen=True)
class Surrogate:
    """Outputs ``(n, M)`` of a trained chain as functions of ``d`` inputs.

    Attributes:
        inputs, input_units: names and units of the ``d`` inputs, in column order.
        lower, upper: ``(d,)`` training range; predictions outside it are refused.
        outputs: what is predicted; their entries, flattened, are the ``M`` columns.
        multi_indices, pce_coefficients: ``(P, d)`` and ``(P, M)`` PCE terms (``P = 0``: not fitted).
        gp: the GP models (``n = 0`` training rows: not fitted).
        cv_rmse, cv_relative: ``(len(METHODS), M)`` leave-one-out RMSE (output units) and
            mean square / variance of each method.
        chosen: ``(M,)`` index into :data:`METHODS` of the model used per entry.
        provenance: ``training_run``, ``training_workflow``, ``training_fingerprint``, ``n_train``.
    """

    inputs: tuple[str, ...]
    input_units: tuple[str, ...]
    lower: np.ndarray
    upper: np.ndarray
    outputs: tuple[OutputSpec, ...]
    multi_indices: np.ndarray
    pce_coefficients: np.ndarray
    gp: GaussianProcess
    cv_rmse: np.ndarray
    cv_relative: np.ndarray
    chosen: np.ndarray
    provenance: dict = field(default_factory=dict)

    @property
    def rmse(self) -> np.ndarray:
        """``(M,)`` cross-validated RMSE of the chosen model of each entry (output units)."""
        return self.cv_rmse[self.chosen, np.arange(len(self.chosen))]

    @property
    def relative_error(self) -> np.ndarray:
        """``(M,)`` LOO mean square / variance of the chosen model of each entry."""
        return self.cv_relative[self.chosen, np.arange(len(self.chosen))]

    def scale(self, x: np.ndarray) -> np.ndarray:
        """Inputs ``(n, d)`` scaled to the unit interval over the training range."""
        return (x - self.lower) / (self.upper - self.lower)

    def in_range(self, x: np.ndarray) -> np.ndarray:
        """``(n,)`` True where every input of ``x (n, d)`` lies in the training range."""
        return ((x >= self.lower) & (x <= self.upper)).all(axis=1)

    @property
    def log10_columns(self) -> np.ndarray:
        """``(M,)`` True for the entries of outputs fitted in log10."""
        return np.concatenate([np.full(spec.size, spec.transform == "log10") for spec in self.outputs])

    def predict(self, x: np.ndarray, transformed: bool = False) -> np.ndarray:
        """The chosen model of each entry at inputs ``x (n, d)``: ``(n, M)`` in output units
        (``transformed``: log10 entries left in log10, as fitted).

        Extrapolates where asked to: check :meth:`in_range` first (the stage does).
        """
        from uqms._chaospy import chaospy
        from uqms.analysis.pce import design_matrix

        u = self.scale(np.asarray(x, dtype=float))
        out = np.empty((len(u), len(self.chosen)))
        pce, gp = (np.flatnonzero(self.chosen == METHODS.index(m)) for m in METHODS)
        if pce.size:
            joint = chaospy.Iid(chaospy.Uniform(0, 1), len(self.inputs))
            out[:, pce] = design_matrix(joint, self.multi_indices, u.T) @ self.pce_coefficients[:, pce]
        if gp.size:
            out[:, gp] = self.gp(u, gp)
        if not transformed:
            logs = self.log10_columns
            out[:, logs] = 10.0 ** out[:, logs]
        return out

    def with_error(self, values: np.ndarray, z: np.ndarray) -> np.ndarray:
        """Predictions ``values (n, M)`` with the model discrepancy ``z (n,)`` standard deviations
        away: ``+ z * rmse``, or ``* 10 ** (z * rmse)`` for log10 entries (rmse in decades)."""
        shift = np.asarray(z, dtype=float)[:, None] * self.rmse
        logs = self.log10_columns
        return np.where(logs, values * 10.0 ** np.where(logs, shift, 0.0), values + shift)

    def split(self, values: np.ndarray) -> dict[str, np.ndarray]:
        """Columns ``(n, M)`` as ``{output: (n, *entry shape)}``."""
        bounds = np.cumsum([0, *(spec.size for spec in self.outputs)])
        return {spec.name: values[:, start:stop].reshape(len(values), *spec.shape)
                for spec, start, stop in zip(self.outputs, bounds[:-1], bounds[1:], strict=True)}

    def entry_labels(self) -> list[tuple[str, str]]:
        """``(output, entry label)`` of each column, the label joining the entry's coordinates."""
        labels = []
        for spec in self.outputs:
            coords = [spec.coords.get(d, list(range(n))) for d, n in zip(spec.dims, spec.shape, strict=True)]
            labels += [(spec.name, ", ".join(str(c[i]) for c, i in zip(coords, index, strict=True)))
                       for index in np.ndindex(*spec.shape)]
        return labels

    def to_dataset(self) -> xr.Dataset:
        """The file's Dataset (see the module docstring)."""
        gp = self.gp
        data = {
            "lower": ("input", self.lower), "upper": ("input", self.upper),
            "multi_indices": (("term", "input"), self.multi_indices.astype(np.int64)),
            "pce_coefficients": (("term", "entry"), self.pce_coefficients),
            "gp_inputs": (("train", "input"), gp.inputs), "gp_weights": (("train", "entry"), gp.weights),
            "gp_length_scale": (("entry", "input"), gp.length_scale), "gp_amplitude": ("entry", gp.amplitude),
            "gp_offset": ("entry", gp.offset), "gp_scale": ("entry", gp.scale), "gp_noise": ("entry", gp.noise),
            "cv_rmse": (("method", "entry"), self.cv_rmse), "cv_relative": (("method", "entry"), self.cv_relative),
            "chosen": ("entry", self.chosen.astype(np.int64)),
        }
        outputs = [{"name": s.name, "units": s.units, "dims": list(s.dims), "coords": s.coords, "shape": list(s.shape),
                    "transform": s.transform}
                   for s in self.outputs]
        attrs = {"format": FORMAT, "inputs": json.dumps(list(self.inputs)), "input_units": json.dumps(list(self.input_units)),
                 "outputs": json.dumps(outputs), **self.provenance}
        return xr.Dataset(data, coords={"input": list(self.inputs), "method": list(METHODS)}, attrs=attrs)

    def save(self, path: str | Path) -> Path:
        """Write the surrogate to a NetCDF file ``path`` (parent folders made)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.to_dataset().to_netcdf(path, engine="h5netcdf")
        return path

    @classmethod
    def load(cls, path: str | Path) -> Surrogate:
        """Read a surrogate file written by :meth:`save`.

        Raises:
            FileNotFoundError: no such file.
            ValueError: the file is not a surrogate of a format in :data:`READABLE`, naming the file and what it holds.
        """
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"{path}: no such surrogate file")
        with xr.open_dataset(path, engine="h5netcdf") as stored:
            data = stored.load()
        if data.attrs.get("format") not in READABLE:
            raise ValueError(f"{path}: attribute 'format' is {data.attrs.get('format')!r}, expected {FORMAT!r} "
                             f"(or {', '.join(map(repr, READABLE[1:]))}; a file written by `uqms surrogate fit`)")
        outputs = tuple(OutputSpec(o["name"], o["units"], tuple(o["dims"]), o["coords"], tuple(o["shape"]),
                                   o.get("transform", "none"))
                        for o in json.loads(data.attrs["outputs"]))
        gp = GaussianProcess(*(data[f"gp_{key}"].values for key in
                               ("inputs", "weights", "length_scale", "amplitude", "offset", "scale", "noise")))
        provenance = {k: v for k, v in data.attrs.items() if k not in ("format", "inputs", "input_units", "outputs")}
        return cls(tuple(json.loads(data.attrs["inputs"])), tuple(json.loads(data.attrs["input_units"])),
                   data["lower"].values, data["upper"].values, outputs, data["multi_indices"].values,
                   data["pce_coefficients"].values, gp, data["cv_rmse"].values, data["cv_relative"].values,
                   data["chosen"].values, provenance)
