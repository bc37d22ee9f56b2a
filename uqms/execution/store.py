"""Save runs to and open them from Zarr stores or NetCDF files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr
import zarr

from uqms.errors import UqmsError
from uqms.execution.run_store import (
    BATCH_SIZE,
    CHECKSUM,
    DONE,
    FINGERPRINT,
    KEPT_ROWS,
    SAMPLE_SECONDS,
    RunStore,
    batches_done,
    resize_interrupted,
)


class IncompleteRunError(UqmsError):
    """A run store whose run was interrupted before every batch was written."""


class DamagedRunError(UqmsError):
    """A run store with batches that no longer match their checksums."""


def is_netcdf(path: str | Path) -> bool:
    return Path(path).suffix == ".nc"


def save_run(run: xr.Dataset, path: str | Path) -> Path:
    """Write a run to ``path``: NetCDF for ``.nc``, a Zarr store otherwise (replaced if present)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if is_netcdf(path):
        run.to_netcdf(path, engine="h5netcdf")
    else:
        run.to_zarr(path, mode="w", consolidated=False)
    return path


def _existing(path: str | Path) -> Path:
    """``path`` as a Path, raising FileNotFoundError naming it if nothing is there."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such run store")
    return path


def open_run(path: str | Path, allow_incomplete: bool = False) -> xr.Dataset:
    """Open a run lazily (dask-backed for Zarr stores).

    Raises:
        FileNotFoundError: no such store.
        IncompleteRunError: a store written batch by batch whose run was interrupted
            (unless ``allow_incomplete``).
    """
    path = _existing(path)
    if is_netcdf(path):
        return xr.open_dataset(path, engine="h5netcdf")
    try:
        run = xr.open_zarr(path, consolidated=False)
    except ValueError:
        _refuse_interrupted_resize(path)
        raise
    if DONE in run:
        done = None if allow_incomplete else batches_done(path)  # a resume reads the mask itself
        if done is not None and not done.all():
            raise IncompleteRunError(
                f"{path}: the run is incomplete ({int(done.sum())} of {done.size} batches written); "
                "run the same command again to resume it"
            )
        run = run.drop_vars([DONE, CHECKSUM], errors="ignore")
        for key in (FINGERPRINT, BATCH_SIZE, SAMPLE_SECONDS, KEPT_ROWS):
            run.attrs.pop(key, None)
    return run


def _refuse_interrupted_resize(path: Path) -> None:
    """Raise :class:`IncompleteRunError` for a store left by an extension killed while resizing."""
    if resize_interrupted(path):
        raise IncompleteRunError(
            f"{path}: an extension of this run to more samples was interrupted while resizing its arrays; run "
            f"`uqms run` again with the larger n to finish it, or with n {zarr.open_group(path, mode='r').attrs['n_samples']} "
            "to roll it back"
        )


@dataclass(frozen=True)
class BatchCheck:
    """What :func:`verify_run` found in a run store."""

    written: int  # batches written, each matching its checksum
    batches: int  # batches of the whole run (0: a NetCDF file or a store saved whole, without checksums)
    missing_samples: int  # samples of the batches not written yet

    @property
    def complete(self) -> bool:
        return self.written == self.batches


def verify_run(path: str | Path) -> BatchCheck:
    """Check every written batch of a run store against its checksum, and count the batches
    not written yet (a run interrupted, to be resumed).

    Raises:
        FileNotFoundError: no such store.
        IncompleteRunError: an extension of the run was killed while resizing its arrays.
        DamagedRunError: naming the samples of the damaged batches.
    """
    path = _existing(path)
    if is_netcdf(path):
        return BatchCheck(0, 0, 0)
    attrs = zarr.open_group(path, mode="r").attrs
    if BATCH_SIZE not in attrs:
        return BatchCheck(0, 0, 0)
    size, n = int(attrs[BATCH_SIZE]), int(attrs["n_samples"])
    _refuse_interrupted_resize(path)
    try:
        done = batches_done(path)
    except Exception as error:  # noqa: BLE001 - whatever a codec raises on bytes it did not write
        raise DamagedRunError(f"{path}: its record of the batches written is unreadable ({error})") from None
    damaged = RunStore(path, size, n_samples=n).damaged(done)
    if damaged:
        samples = ", ".join(f"{i * size}:{min((i + 1) * size, n)}" for i in damaged[:10]) + (", ..." if len(damaged) > 10 else "")
        raise DamagedRunError(
            f"{path}: {len(damaged)} of {int(done.sum())} batches written are damaged (samples {samples}): "
            "run the same `uqms run` command again to compute them again"
        )
    lengths = np.minimum(size, n - size * np.arange(done.size))
    return BatchCheck(int(done.sum()), int(done.size), int(lengths[~done].sum()))


def load_run(path: str | Path) -> xr.Dataset:
    """Read a complete run fully into memory."""
    with open_run(path) as run:
        return run.load()
